-- Nexmark Query 4: Average Price for a Category.
-- For each category, the average of the winning (maximum) bid prices of its auctions, a bid
-- counting for an auction when its dateTime is within [auction.dateTime, auction.expires].
-- A regular join, a GROUP BY over it (updating), and a GROUP BY over that (updating).
-- AVG of a BIGINT is a BIGINT in Flink (integer division, truncated).
-- Reads: auction, bid. Output: updating (final result: one row per category that has a winning bid).
SELECT
    Q.category,
    AVG(Q.final) AS avg_final
FROM (
    SELECT MAX(B.price) AS final, A.category
    FROM auction A, bid B
    WHERE A.id = B.auction AND B.`dateTime` BETWEEN A.`dateTime` AND A.expires
    GROUP BY A.id, A.category
) Q
GROUP BY Q.category
