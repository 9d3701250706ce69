-- Nexmark Query 21: Add Channel Id (not in the original suite; from nexmark-flink).
-- Bids with a channel_id: '0'..'3' for the four well-known channels, otherwise the channel_id
-- parameter extracted from the url with REGEXP_EXTRACT; bids with neither are dropped.
-- Reads: bid. Output: append-only.
SELECT
    auction, bidder, price, channel,
    CASE
        WHEN LOWER(channel) = 'apple' THEN '0'
        WHEN LOWER(channel) = 'google' THEN '1'
        WHEN LOWER(channel) = 'facebook' THEN '2'
        WHEN LOWER(channel) = 'baidu' THEN '3'
        ELSE REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2)
    END AS channel_id
FROM bid
WHERE REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2) IS NOT NULL
   OR LOWER(channel) IN ('apple', 'google', 'facebook', 'baidu')
