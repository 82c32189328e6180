-- 008_unit_claims.sql - units are unique federation-wide too (node/claims.c, units.c).
--
-- The registrar's claims now also hold each unit's credit code and names (kind
-- 'credit_code', 'unit_name': the clear value, as public as the unit.registered entry
-- that carries it) for the unit that registered them; a unit keeps its former names.
-- The claimant (`account`) is an account or a unit id. SQLite cannot widen a CHECK, so
-- the table is made again.
CREATE TABLE id_claims_new (
  kind TEXT NOT NULL CHECK (kind IN ('id', 'phone', 'credit_code', 'unit_name')),
  digest TEXT NOT NULL,
  account TEXT NOT NULL,
  node TEXT NOT NULL,
  claimed INTEGER NOT NULL,
  matched INTEGER,
  PRIMARY KEY (kind, digest)
) WITHOUT ROWID;
INSERT INTO id_claims_new SELECT kind, digest, account, node, claimed, matched FROM id_claims;
DROP TABLE id_claims;
ALTER TABLE id_claims_new RENAME TO id_claims;
CREATE INDEX id_claims_account ON id_claims(account);
CREATE INDEX id_claims_unmatched ON id_claims(claimed) WHERE matched IS NULL;
