-- Nexmark Query 7: Highest Bid.
-- The bid(s) with the highest price in each 10-second tumbling window: a TUMBLE window aggregation
-- (MAX(price) per window) joined back to bid (regular join on price, filtered to bids whose
-- dateTime lies within [window_end - 10 s, window_end]).
-- Reads: bid. Output: append-only.
SELECT B.auction, B.price, B.bidder, B.`dateTime`, B.extra
FROM bid B
JOIN (
    SELECT MAX(price) AS maxprice, window_end AS `dateTime`
    FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
    GROUP BY window_start, window_end
) B1
ON B.price = B1.maxprice
WHERE B.`dateTime` BETWEEN B1.`dateTime` - INTERVAL '10' SECOND AND B1.`dateTime`
