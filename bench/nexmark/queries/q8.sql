-- Nexmark Query 8: Monitor New Users.
-- People who created an auction in the same 10-second tumbling window in which they registered:
-- person id, name and the window start. Two TUMBLE window aggregations (distinct people per window,
-- distinct sellers per window) joined on id = seller and equal window bounds.
-- Reads: person, auction. Output: append-only.
SELECT P.id, P.name, P.starttime
FROM (
    SELECT id, name, window_start AS starttime, window_end AS endtime
    FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
    GROUP BY id, name, window_start, window_end
) P
JOIN (
    SELECT seller, window_start AS starttime, window_end AS endtime
    FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
    GROUP BY seller, window_start, window_end
) A
ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime
