-- Nexmark Query 3: Local Item Suggestion.
-- Auctions in category 10 whose seller lives in Oregon, Idaho or California: the seller's name, city
-- and state with the auction id. A regular (unwindowed) inner join of auction and person on
-- seller = id, so state is kept for both sides for ever.
-- Reads: auction, person. Output: append-only.
SELECT P.name, P.city, P.state, A.id
FROM auction AS A
INNER JOIN person AS P ON A.seller = P.id
WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')
