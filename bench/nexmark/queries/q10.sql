-- Nexmark Query 10: Log to File System (not in the original suite; from nexmark-flink).
-- Every bid with its day ('yyyy-MM-dd') and hour:minute ('HH:mm') formatted from dateTime
-- (nexmark-flink writes these into a partitioned file sink; here only the SELECT).
-- Reads: bid. Output: append-only, one row per bid.
SELECT auction, bidder, price, `dateTime`, extra,
    DATE_FORMAT(`dateTime`, 'yyyy-MM-dd') AS dt,
    DATE_FORMAT(`dateTime`, 'HH:mm') AS hm
FROM bid
