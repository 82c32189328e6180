-- 006_fed_entries_browse.sql - what the auditor's log browser (GET /fed/entries,
-- node/fedview.c) filters fed_entries by, indexed so that a page is a short index range
-- per origin however many entries a node holds.
--
-- The type is a column. An entry's application and account are what its body carries
-- (node/entries.c): `application` in every application.* entry; the account in
-- `account` (account.*), `applicant` (application.deleted), `author`
-- (application.opinion) or `actor` (the other application.* entries), each type naming
-- one of them. The expressions here and in fedview.c must stay the same text, or sqlite
-- does not use the indexes.
CREATE INDEX fed_entries_type ON fed_entries(type, origin, seq);

CREATE INDEX fed_entries_application ON fed_entries(
  json_extract(CAST(entry AS TEXT), '$.body.application'), origin, seq);

CREATE INDEX fed_entries_account ON fed_entries(
  coalesce(json_extract(CAST(entry AS TEXT), '$.body.account'), json_extract(CAST(entry AS TEXT), '$.body.applicant'),
           json_extract(CAST(entry AS TEXT), '$.body.author'), json_extract(CAST(entry AS TEXT), '$.body.actor')),
  origin, seq);
