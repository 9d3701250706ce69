-- Nexmark Query 22: Get URL Directories (not in the original suite; from nexmark-flink).
-- Every bid with the 4th, 5th and 6th '/'-separated parts of its url (SPLIT_INDEX 3, 4, 5; 0-based),
-- i.e. the three directory names of "https://www.nexmark.com/<dir1>/<dir2>/<dir3>/item.htm?...".
-- Reads: bid. Output: append-only, one row per bid.
SELECT
    auction, bidder, price, channel,
    SPLIT_INDEX(url, '/', 3) AS dir1,
    SPLIT_INDEX(url, '/', 4) AS dir2,
    SPLIT_INDEX(url, '/', 5) AS dir3
FROM bid
