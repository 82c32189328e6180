-- 004_federation.sql - what the federation needs of a node's database.
--
-- The outbox becomes the origin's log as built: each row holds the entry's exact
-- canonical bytes (entry.json, built once by outbox_record in the transaction of the
-- change), their SHA-256 (the next entry's `prev`) and a state: 'built' (waiting for the
-- log writer to sign it), 'logged' (in DATA/fedlog.git). `seq` stays the origin's
-- sequence number: rows are never deleted, so it has no gaps.
-- Rows written before this migration carry no bytes: they are marked 'legacy' and stand
-- outside the chain (the first built entry's prev is the empty string).
ALTER TABLE outbox ADD COLUMN entry BLOB;
ALTER TABLE outbox ADD COLUMN hash TEXT;
ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'built'
  CHECK (state IN ('legacy', 'built', 'logged'));
UPDATE outbox SET state = 'legacy' WHERE entry IS NULL;
CREATE INDEX outbox_state ON outbox(state, seq);

-- Entries received from other origins, verified before they are stored, applied once.
CREATE TABLE fed_entries (
  origin TEXT NOT NULL,
  seq INTEGER NOT NULL CHECK (seq >= 1),
  type TEXT NOT NULL,
  entry BLOB NOT NULL,            -- entry.json's exact bytes
  sig BLOB NOT NULL,              -- entry.sig
  hash TEXT NOT NULL,             -- sha256 hex of entry
  received INTEGER NOT NULL,
  applied INTEGER,                -- when it was applied to this database (NULL: not yet)
  PRIMARY KEY (origin, seq)
) WITHOUT ROWID;
CREATE INDEX fed_entries_pending ON fed_entries(applied) WHERE applied IS NULL;

-- The newest entry held per origin (this node's own included): what heads exchanges
-- compare, and what a received entry's prev must match.
CREATE TABLE fed_heads (
  origin TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  updated INTEGER NOT NULL
) WITHOUT ROWID;

-- Applications handed from node to node: `holder` is the one node that may change the
-- application now, `revision` grows with every write and every write checks it, so two
-- copies can never both act. Before the federation every application lived at its
-- applicant's home node.
ALTER TABLE applications ADD COLUMN holder TEXT;
ALTER TABLE applications ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
UPDATE applications SET holder = (SELECT home FROM accounts WHERE accounts.id = applications.applicant_id);

-- History that merges across nodes: a row is the entry that announced it, (origin, seq).
-- Rows written before this migration keep origin NULL and their local id.
ALTER TABLE application_history ADD COLUMN origin TEXT;
ALTER TABLE application_history ADD COLUMN seq INTEGER;
CREATE UNIQUE INDEX application_history_entry ON application_history(origin, seq) WHERE origin IS NOT NULL;
