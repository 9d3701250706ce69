-- Nexmark Query 1: Currency Conversion.
-- Every bid with its price converted from dollars to euros (price * 0.908, a DECIMAL).
-- Reads: bid. Output: append-only, one row per bid.
SELECT auction, bidder, 0.908 * price AS price, `dateTime`, extra
FROM bid
