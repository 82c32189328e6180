-- 001_init.sql - accounts, sessions, units, reference data and the federation outbox.
-- Released migrations are never edited: add a new numbered file instead.

-- Reference data, loaded from schemas/*.json at start (INSERT OR IGNORE).
CREATE TABLE series (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  position INTEGER NOT NULL
);
CREATE TABLE specialties (
  code TEXT PRIMARY KEY,
  series TEXT NOT NULL REFERENCES series(code),
  name TEXT NOT NULL,
  position INTEGER NOT NULL
);
CREATE TABLE qualifications (
  code TEXT PRIMARY KEY,
  series TEXT NOT NULL REFERENCES series(code),
  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
  name TEXT NOT NULL
);

-- Recommending units (推荐单位) of every node.
CREATE TABLE depts (
  id TEXT PRIMARY KEY,
  node TEXT NOT NULL,
  name TEXT NOT NULL,
  address TEXT,
  contact TEXT,
  phone TEXT
);
CREATE INDEX depts_node ON depts(node);

-- Basic units (基层单位).
CREATE TABLE units (
  id TEXT PRIMARY KEY,
  credit_code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL UNIQUE,
  short_name TEXT NOT NULL UNIQUE,
  node TEXT NOT NULL,
  address TEXT,
  legal_person TEXT,
  contact TEXT,
  phone TEXT,
  industry TEXT,
  email TEXT,
  postcode TEXT,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL
);
-- Every name a unit has had, newest last (变更单位名称).
CREATE TABLE unit_names (
  unit_id TEXT NOT NULL REFERENCES units(id),
  name TEXT NOT NULL,
  short_name TEXT NOT NULL,
  changed_at INTEGER NOT NULL,
  changed_by TEXT
);
CREATE INDEX unit_names_unit ON unit_names(unit_id);
-- Up to two recommending units per unit, in the order chosen.
CREATE TABLE unit_recommenders (
  unit_id TEXT NOT NULL REFERENCES units(id),
  position INTEGER NOT NULL CHECK (position IN (1, 2)),
  dept_id TEXT NOT NULL REFERENCES depts(id),
  PRIMARY KEY (unit_id, position),
  UNIQUE (unit_id, dept_id)
);

-- Accounts: one role each. The id is region-independent; `home` is the node holding
-- the credentials. ID numbers: a keyed digest (shared with the federation), the number
-- encrypted under the node's data key, and its masked form for lists.
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('applicant', 'unit_admin', 'dept_admin',
                                     'committee_admin', 'node_admin', 'auditor')),
  name TEXT NOT NULL,
  phone TEXT,
  email TEXT,
  id_digest TEXT UNIQUE,
  id_enc TEXT,
  id_masked TEXT,
  password_hash TEXT,
  home TEXT NOT NULL,
  unit_id TEXT REFERENCES units(id),
  dept_id TEXT REFERENCES depts(id),
  committee_id TEXT,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX accounts_phone ON accounts(phone);
-- A mobile number logs in one applicant: unique among applicants.
CREATE UNIQUE INDEX accounts_applicant_phone ON accounts(phone) WHERE role = 'applicant';
CREATE INDEX accounts_unit ON accounts(unit_id);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  csrf TEXT NOT NULL,
  peer TEXT,
  created INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  expires INTEGER NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);

-- ID-card scans (front and back), kept at the account's home node only.
CREATE TABLE idcards (
  account_id TEXT NOT NULL REFERENCES accounts(id),
  side TEXT NOT NULL CHECK (side IN ('front', 'back')),
  sha256 TEXT NOT NULL,
  type TEXT NOT NULL,
  size INTEGER NOT NULL,
  uploaded INTEGER NOT NULL,
  PRIMARY KEY (account_id, side)
);

-- The transactional outbox: every change other nodes must learn of is recorded here in
-- the same transaction as the change; the log writer moves entries into the signed log.
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  body_json TEXT NOT NULL,
  created INTEGER NOT NULL,
  logged INTEGER NOT NULL DEFAULT 0
);
