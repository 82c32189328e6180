-- 015_recovery.sql - account recovery and appeals (node/recovery.c) and what the node
-- sends to people (node/sender.c). All of it stays at the node: codes, scans and
-- addresses are personal data, and only the account's home can change its password
-- (which then emits account.credentials like any password change).

-- Every message the node sends (a code, a decision, a notification): the outbox the node
-- admin reads ('kept': no gateway for the channel, the demo's default) or the queue of the
-- SMTP sender ('queued' → 'sending' → 'sent' | 'failed').
CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  account_id TEXT,                       -- whom it concerns, when an account
  channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
  to_addr TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('kept', 'queued', 'sending', 'sent', 'failed')),
  detail TEXT,                           -- why it failed
  created INTEGER NOT NULL,
  sent INTEGER
);                                       -- a rowid table: the rowid orders them as they were made
CREATE INDEX messages_state ON messages(state, created);

-- Recovery codes (找回密码验证码): only a keyed hash is kept; single-use; expire.
CREATE TABLE recovery_codes (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
  code_hash TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  used INTEGER
) WITHOUT ROWID;
CREATE INDEX recovery_codes_account ON recovery_codes(account_id, created);

-- How often a login (its keyed digest, whether an account has it or not) and an address
-- asked for codes or appealed: the rate limits. Rows older than a day are pruned.
CREATE TABLE recovery_requests (
  key TEXT NOT NULL,                     -- "login:<digest>" or "addr:<address>"
  at INTEGER NOT NULL
);
CREATE INDEX recovery_requests_key ON recovery_requests(key, at);

-- Appeals (账号申诉): a person by ID number with an ID-card scan, a unit by credit code
-- with its business licence or legal-person certificate; the node admin decides.
CREATE TABLE appeals (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('person', 'unit')),
  account_id TEXT REFERENCES accounts(id) ON DELETE SET NULL,  -- the account it names, if any
  name TEXT NOT NULL,                    -- the person's or unit's name as given
  identifier_masked TEXT NOT NULL,       -- the ID number or credit code as given, masked
  contact TEXT NOT NULL,                 -- a mobile number or e-mail address to answer to
  reason TEXT NOT NULL,
  scan_sha TEXT NOT NULL,
  scan_type TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
  decision TEXT,                         -- the admin's reason
  decided_by TEXT,
  decided INTEGER,
  reset_hash TEXT,                       -- approved: the one-time token's keyed hash
  reset_expires INTEGER,
  reset_used INTEGER,
  created INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX appeals_state ON appeals(state, created);

CREATE TRIGGER appeal_scan_released AFTER DELETE ON appeals
BEGIN
  INSERT OR IGNORE INTO released_blobs VALUES (old.scan_sha);
END;

-- Notifications (opt-in on 我的主页): an application's status change waits here for the
-- sender, whatever made it (a local move or another node's entry).
ALTER TABLE accounts ADD COLUMN notify INTEGER NOT NULL DEFAULT 0;
CREATE TABLE status_changes (
  application_id TEXT NOT NULL,
  status TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TRIGGER application_status_changed AFTER UPDATE OF status ON applications
  WHEN old.status <> new.status
BEGIN
  INSERT INTO status_changes VALUES (new.id, new.status, unixepoch());
END;
