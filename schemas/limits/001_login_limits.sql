-- limits/001_login_limits.sql - the failed-login limiter's counters (node/limiter.c), in
-- DIR/limits.db: a database of their own, so that a failure is kept even when the
-- login's transaction in node.db is rolled back, and so that a restart keeps them.
-- Released migrations are never edited: add a new numbered file in this directory.

-- One row per limited key ("pair:ACCOUNT|ADDRESS", "address:ADDRESS", "account:ACCOUNT",
-- "device:ID"); ACCOUNT is the account id, or "name:" and the login as typed when it names
-- nobody.
CREATE TABLE login_limits (
  key TEXT PRIMARY KEY,
  window_start INTEGER NOT NULL,   -- the first failure (or check) of the window
  expires INTEGER NOT NULL,        -- window_start + the rule's window: pruned after
  failures INTEGER NOT NULL DEFAULT 0,
  busy INTEGER NOT NULL DEFAULT 0  -- password checks in flight (zeroed when the node starts)
) WITHOUT ROWID;
CREATE INDEX login_limits_expires ON login_limits(expires);
