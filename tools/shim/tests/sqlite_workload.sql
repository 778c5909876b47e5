-- The SQL the shim's sqlite3 test runs on an in-memory database: a table of
-- 50 000 orders made by a recursive CTE, a second table to join with, an
-- index, aggregates and sorted output. sqlite3 allocates its pages, parse
-- trees and sort buffers with malloc, so the whole run is on the shim.
-- Every query has a total ORDER BY: the output is the same on any malloc.
CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
INSERT INTO customers
SELECT i, 'customer-' || i, CASE i % 5 WHEN 0 THEN 'lyon' WHEN 1 THEN 'paris'
                                      WHEN 2 THEN 'nantes' WHEN 3 THEN 'lille' ELSE 'brest' END
FROM n;

CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER NOT NULL, amount INTEGER NOT NULL,
                    note TEXT NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
INSERT INTO orders
SELECT i, 1 + (i * 7919) % 500, (i * 104729) % 10007, printf('order %d: %.*c', i, i % 40, 'x')
FROM n;

CREATE INDEX orders_by_customer ON orders(customer, amount);

SELECT count(*), sum(amount), min(amount), max(amount) FROM orders;
SELECT customer, count(*), sum(amount) FROM orders GROUP BY customer
ORDER BY sum(amount) DESC, customer LIMIT 5;
SELECT c.city, count(*), sum(o.amount), round(avg(o.amount), 3)
FROM orders o JOIN customers c ON c.id = o.customer
GROUP BY c.city ORDER BY c.city;
SELECT o.id, c.name, o.amount, length(o.note) FROM orders o JOIN customers c ON c.id = o.customer
WHERE o.amount > 10000 ORDER BY o.amount DESC, o.id LIMIT 5;
UPDATE orders SET note = note || ' (paid)' WHERE amount % 3 = 0;
DELETE FROM orders WHERE amount % 7 = 0;
SELECT count(*), sum(length(note)) FROM orders;
SELECT group_concat(name, ',') FROM (SELECT name FROM customers ORDER BY name DESC LIMIT 4);
