-- 002_applications.sql - review committees, applications and their workflow.

-- Review committees (评审委员会) of every node; a node edits only its own.
CREATE TABLE committees (
  id TEXT PRIMARY KEY,
  node TEXT NOT NULL,
  name TEXT NOT NULL,
  directed INTEGER NOT NULL DEFAULT 0,   -- 定向评审: titles for directed use there
  submit_limit INTEGER NOT NULL DEFAULT 3 CHECK (submit_limit BETWEEN 1 AND 9),
  fee INTEGER NOT NULL DEFAULT 0,        -- yuan
  paper_rules TEXT,                      -- 纸质材料要求
  address TEXT,
  contact TEXT,
  phone TEXT,
  updated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX committees_node ON committees(node);
-- What a committee reviews: a series at a level, all its specialties or one.
CREATE TABLE committee_scopes (
  committee_id TEXT NOT NULL REFERENCES committees(id),
  series TEXT NOT NULL,
  level INTEGER NOT NULL,
  specialty TEXT,                        -- NULL: every specialty of the series
  UNIQUE (committee_id, series, level, specialty)
);
CREATE INDEX committee_scopes_lookup ON committee_scopes(series, level);
-- Submission windows per specialty, inclusive calendar dates (YYYY-MM-DD, Beijing time).
CREATE TABLE committee_windows (
  committee_id TEXT NOT NULL REFERENCES committees(id),
  specialty TEXT NOT NULL,
  opens TEXT NOT NULL,
  closes TEXT NOT NULL,
  PRIMARY KEY (committee_id, specialty)
);

-- Applications (申请书). The stage's actor is explicit: unit_id at the unit stage,
-- dept_id at the dept stage, committee_id at the committee; each with its node, so that
-- the federation can hand an application to the node of its next reviewer.
CREATE TABLE applications (
  id TEXT PRIMARY KEY,
  applicant_id TEXT NOT NULL REFERENCES accounts(id),
  year INTEGER NOT NULL,
  series TEXT NOT NULL,
  specialty TEXT NOT NULL,
  qualification TEXT NOT NULL,
  level INTEGER NOT NULL,
  unit_id TEXT NOT NULL REFERENCES units(id),
  unit_node TEXT NOT NULL,
  dept_id TEXT,
  dept_node TEXT,
  committee_id TEXT NOT NULL REFERENCES committees(id),
  committee_node TEXT NOT NULL,
  directed INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL CHECK (status IN ('draft', 'unit_review', 'dept_review', 'committee_review',
    'returned', 'formal_passed', 'meeting', 'passed', 'failed', 'publicized', 'approved', 'certified')),
  returned_by TEXT CHECK (returned_by IN ('unit', 'dept', 'committee')),
  round INTEGER NOT NULL DEFAULT 0,      -- submissions so far; opinions belong to a round
  submit_count INTEGER NOT NULL DEFAULT 0,
  unit_acted INTEGER NOT NULL DEFAULT 0, -- the unit wrote anything this round: no withdrawal
  recommendation TEXT,                   -- 单位推荐意见 of the latest forward
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  submitted INTEGER
);
-- At most one application per applicant and year that has not failed.
CREATE UNIQUE INDEX applications_one_per_year ON applications(applicant_id, year) WHERE status <> 'failed';
CREATE INDEX applications_unit ON applications(unit_id, status);
CREATE INDEX applications_dept ON applications(dept_id, status);
CREATE INDEX applications_committee ON applications(committee_id, status);

CREATE TABLE application_sections (
  application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  section TEXT NOT NULL,
  data_json TEXT NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY (application_id, section)
);

CREATE TABLE application_attachments (
  id TEXT PRIMARY KEY,
  application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  section TEXT NOT NULL,
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  type TEXT NOT NULL,
  size INTEGER NOT NULL,
  uploaded INTEGER NOT NULL
);
CREATE INDEX application_attachments_app ON application_attachments(application_id, section);

-- Who may read an application besides its applicant: every unit, dept and committee it
-- has reached keeps read access (申请书查询), even after it moved on.
CREATE TABLE application_access (
  application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('unit', 'dept', 'committee')),
  ref TEXT NOT NULL,
  PRIMARY KEY (application_id, kind, ref)
);
CREATE INDEX application_access_ref ON application_access(kind, ref);

-- Reviewers' opinions per section (审核意见), per round and stage.
CREATE TABLE application_opinions (
  application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  round INTEGER NOT NULL,
  stage TEXT NOT NULL CHECK (stage IN ('unit', 'dept', 'committee')),
  section TEXT NOT NULL,
  text TEXT NOT NULL,
  author_id TEXT NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY (application_id, round, stage, section)
);

-- Everything that happened to an application, with who and when.
CREATE TABLE application_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  actor_id TEXT NOT NULL,
  actor_name TEXT NOT NULL,
  actor_role TEXT NOT NULL,
  action TEXT NOT NULL,
  from_status TEXT,
  to_status TEXT NOT NULL,
  detail_json TEXT
);
CREATE INDEX application_history_app ON application_history(application_id);
