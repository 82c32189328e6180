-- 014_notices.sql - notices (通知公告, node/notices.c) and the committee directory's paper
-- rules. A notice is written as a draft at its node (by the node admin, or a committee's
-- admin for that committee), attachments added, then published: notice.published carries
-- its text and the attachments' names, types, sizes and hashes to every node, which lists
-- it; the attachments' bytes stay at the publishing node, which serves them to anyone.
-- A withdrawn notice (notice.withdrawn) disappears from every list.
CREATE TABLE notices (
  id TEXT PRIMARY KEY,
  node TEXT NOT NULL,                    -- the publishing node
  committee_id TEXT,                     -- NULL: a notice of the node itself
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('draft', 'published', 'withdrawn')),
  created INTEGER NOT NULL,
  published INTEGER                      -- when it was published (the entry's ts elsewhere)
) WITHOUT ROWID;
CREATE INDEX notices_published ON notices(state, published);

CREATE TABLE notice_attachments (
  notice_id TEXT NOT NULL REFERENCES notices(id) ON DELETE CASCADE,
  n INTEGER NOT NULL,                    -- 1, 2, ... in the order they were added
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,                  -- the bytes: under DATA/blobs/ at the publishing node only
  PRIMARY KEY (notice_id, n)
) WITHOUT ROWID;

CREATE TRIGGER notice_attachment_released AFTER DELETE ON notice_attachments
BEGIN
  INSERT OR IGNORE INTO released_blobs VALUES (old.sha256);
END;

-- 报送日期 and 装订方式 of a committee's paper materials, beside paper_rules (报送内容).
ALTER TABLE committees ADD COLUMN paper_from TEXT;     -- YYYY-MM-DD, Beijing time, inclusive
ALTER TABLE committees ADD COLUMN paper_until TEXT;
ALTER TABLE committees ADD COLUMN paper_binding TEXT;
