-- 018_names_ug.sql - the Uyghur name (name_ug, Arabic script) beside the Chinese one of
-- the reference data the portal shows: series, specialties, qualifications, recommending
-- units and committees (regions are read from regions.json). Filled from schemas/*.json at
-- start where the Chinese name is still the file's; '' until then (the portal falls back to
-- the Chinese name).
ALTER TABLE series ADD COLUMN name_ug TEXT NOT NULL DEFAULT '';
ALTER TABLE specialties ADD COLUMN name_ug TEXT NOT NULL DEFAULT '';
ALTER TABLE qualifications ADD COLUMN name_ug TEXT NOT NULL DEFAULT '';
ALTER TABLE depts ADD COLUMN name_ug TEXT NOT NULL DEFAULT '';
ALTER TABLE committees ADD COLUMN name_ug TEXT NOT NULL DEFAULT '';
