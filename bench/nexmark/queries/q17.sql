-- Nexmark Query 17: Auction Statistics Report (not in the original suite; from nexmark-flink).
-- Per auction and day: the number of bids (overall and per price range) and the min, max, average
-- (BIGINT, truncated) and sum of their prices. An unbounded GROUP BY.
-- Reads: bid. Output: updating (final result: one row per auction and day).
SELECT
    auction,
    DATE_FORMAT(`dateTime`, 'yyyy-MM-dd') AS `day`,
    COUNT(*) AS total_bids,
    COUNT(*) FILTER (WHERE price < 10000) AS rank1_bids,
    COUNT(*) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bids,
    COUNT(*) FILTER (WHERE price >= 1000000) AS rank3_bids,
    MIN(price) AS min_price,
    MAX(price) AS max_price,
    AVG(price) AS avg_price,
    SUM(price) AS sum_price
FROM bid
GROUP BY auction, DATE_FORMAT(`dateTime`, 'yyyy-MM-dd')
