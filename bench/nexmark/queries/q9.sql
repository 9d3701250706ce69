-- Nexmark Query 9: Winning Bids (not in the original suite; from nexmark-flink).
-- For each auction, the auction with its winning bid: the highest-priced bid whose dateTime lies in
-- [auction.dateTime, auction.expires], the earliest one on equal prices. A regular join followed by
-- a Top-1 (ROW_NUMBER() ... WHERE rownum <= 1), which retracts and replaces rows as bids arrive.
-- If two bids of an auction tie on both price and dateTime the winner depends on arrival order.
-- Reads: auction, bid. Output: updating (final result: one row per auction that has a valid bid).
SELECT
    id, itemName, description, initialBid, reserve, `dateTime`, expires, seller, category, extra,
    auction, bidder, price, bid_dateTime, bid_extra
FROM (
    SELECT A.*, B.auction, B.bidder, B.price, B.`dateTime` AS bid_dateTime, B.extra AS bid_extra,
        ROW_NUMBER() OVER (PARTITION BY A.id ORDER BY B.price DESC, B.`dateTime` ASC) AS rownum
    FROM auction A, bid B
    WHERE A.id = B.auction AND B.`dateTime` BETWEEN A.`dateTime` AND A.expires
)
WHERE rownum <= 1
