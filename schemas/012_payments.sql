-- 012_payments.sql - review fees (缴费, node/payments.c).
--
-- A payment order per application whose formal review passed at a committee that charges
-- a fee. The committee's node is the merchant: it opens the order, receives the gateway's
-- notifications and records each change as an entry (payment.ordered / .paid / .refunded),
-- so that every node, the applicant's home among them, holds the same row. Amounts in fen.
CREATE TABLE payment_orders (
  id TEXT PRIMARY KEY,
  application_id TEXT NOT NULL UNIQUE,
  committee_id TEXT NOT NULL,
  merchant TEXT NOT NULL,                -- the node whose gateway account is paid
  amount INTEGER NOT NULL CHECK (amount > 0),
  status TEXT NOT NULL CHECK (status IN ('unpaid', 'paid', 'refunded')),
  txn TEXT,                              -- the gateway's transaction number, once paid
  created INTEGER NOT NULL,
  paid INTEGER,
  refunded INTEGER
) WITHOUT ROWID;
CREATE INDEX payment_orders_committee ON payment_orders(committee_id, status);

-- Every notification the merchant received, genuine or not, and what was made of it:
-- applied, repeated, late, forged, amount_mismatch, unknown_order, malformed. Only
-- "applied" changed an order; the rest are kept as evidence.
CREATE TABLE payment_notices (
  id INTEGER PRIMARY KEY,
  received INTEGER NOT NULL,
  peer TEXT NOT NULL,
  order_id TEXT,
  event TEXT,
  txn TEXT,
  amount INTEGER,
  verdict TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX payment_notices_order ON payment_notices(order_id);
