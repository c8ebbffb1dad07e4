-- Light application load during the delete: read a trade, then update it.
\set id random(1, :rows)
SELECT price FROM trades WHERE id = :id;
UPDATE trades SET price = price + 1 WHERE id = :id;
