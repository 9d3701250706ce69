-- Nexmark Query 20: Expand bid with auction (not in the original suite; from nexmark-flink).
-- Every bid on an auction of category 10, with that auction's columns. A regular inner join of bid
-- and auction on auction = id (the bid's own dateTime and extra renamed bid_dateTime, bid_extra).
-- Reads: bid, auction. Output: append-only.
SELECT
    B.auction, B.bidder, B.price, B.channel, B.url, B.`dateTime` AS bid_dateTime, B.extra AS bid_extra,
    A.itemName, A.description, A.initialBid, A.reserve, A.`dateTime`, A.expires, A.seller, A.category,
    A.extra
FROM bid AS B
INNER JOIN auction AS A ON B.auction = A.id
WHERE A.category = 10
