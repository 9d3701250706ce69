-- Nexmark Query 2: Selection.
-- The bids on a set of auctions (those whose id is a multiple of 123), with their price.
-- Reads: bid. Output: append-only.
SELECT auction, price
FROM bid
WHERE MOD(auction, 123) = 0
