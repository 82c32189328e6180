-- 013_results.sql - after the meeting review (node/results.c): the publicity lists (公示)
-- a committee publishes, the approval documents (批文) its node's HR admin issues, and the
-- certificates that follow. Written where they are issued and, from their entries
-- (publicity.published, approval.issued, certificate.issued), at every other node, so that
-- the applicant's home shows them and any node verifies a certificate. What a list names
-- of a person (name, unit, title) is what the paper 公示 and 批文 print: public by design.
CREATE TABLE publicities (
  id TEXT PRIMARY KEY,
  committee_id TEXT NOT NULL,
  node TEXT NOT NULL,
  title TEXT NOT NULL,
  starts TEXT NOT NULL,                  -- YYYY-MM-DD, Beijing time, inclusive
  ends TEXT NOT NULL,
  created INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE approvals (
  id TEXT PRIMARY KEY,
  node TEXT NOT NULL,
  doc_number TEXT NOT NULL,              -- 文号, e.g. 新人社职字〔2026〕12号
  doc_date TEXT NOT NULL,                -- YYYY-MM-DD
  title TEXT NOT NULL,
  created INTEGER NOT NULL,
  UNIQUE (node, doc_number)
) WITHOUT ROWID;

-- One row per application on a list: kind 'publicity' or 'approval', list its id.
CREATE TABLE result_items (
  kind TEXT NOT NULL CHECK (kind IN ('publicity', 'approval')),
  list_id TEXT NOT NULL,
  application_id TEXT NOT NULL,
  number TEXT NOT NULL,                  -- the application's number (forms.h)
  name TEXT NOT NULL,
  unit TEXT NOT NULL,
  qualification TEXT NOT NULL,           -- its name, e.g. 高级工程师
  directed INTEGER NOT NULL DEFAULT 0,   -- 定向使用
  PRIMARY KEY (kind, list_id, application_id)
) WITHOUT ROWID;
CREATE INDEX result_items_application ON result_items(application_id, kind);

CREATE TABLE certificates (
  number TEXT PRIMARY KEY,               -- <node>-<year>-<six digits>
  application_id TEXT NOT NULL UNIQUE,
  approval_id TEXT NOT NULL,
  node TEXT NOT NULL,
  name TEXT NOT NULL,
  unit TEXT NOT NULL,
  qualification TEXT NOT NULL,
  directed INTEGER NOT NULL DEFAULT 0,
  issued INTEGER NOT NULL
) WITHOUT ROWID;
