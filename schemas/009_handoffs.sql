-- 009_handoffs.sql - applications follow their reviewer from node to node (node/handoff.c).
--
-- handoffs_out: what this node handed over and is not yet accepted, as it was at that
-- moment: the snapshot's exact text, which the receiving node fetches over the encrypted
-- channel and checks against the SHA-256 that the logged application.handoff carries (no
-- personal data in the log); deleted once accepted, with this node's copy of the
-- application too when it keeps none (leave: the applicant's home moved away).
-- handoffs_in: hand-offs to this node not yet fetched; retried until done.
CREATE TABLE handoffs_out (
  application TEXT NOT NULL,
  revision INTEGER NOT NULL,
  to_node TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  created INTEGER NOT NULL,
  leave INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (application, revision)
) WITHOUT ROWID;

CREATE TABLE handoffs_in (
  application TEXT PRIMARY KEY,
  from_node TEXT NOT NULL,
  revision INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  attachments_json TEXT NOT NULL,  -- [sha256, ...] of the attachments to fetch
  received INTEGER NOT NULL,
  tries INTEGER NOT NULL DEFAULT 0,
  next_try INTEGER NOT NULL DEFAULT 0,
  copy INTEGER NOT NULL DEFAULT 0  -- a read-only copy for the applicant's new home, still held by its sender
) WITHOUT ROWID;
