-- Nexmark Query 0: Pass Through.
-- Every bid, unchanged: measures the cost of reading, deserializing and emitting rows.
-- Reads: bid. Output: append-only, one row per bid.
SELECT auction, bidder, price, `dateTime`, extra
FROM bid
