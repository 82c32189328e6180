-- 005_section_missing.sql - what each saved section lacks, kept beside its data.
--
-- missing: the name of the section's first required field that is absent or empty ('' when
-- all are filled), written by the node in the transaction that saves the section, so that
-- the application's answer after every save and every submit's check read it instead of
-- looking into every section's JSON. NULL means not known: rows written before this version
-- or by other statements, and all rows once the node's field table changes (the rule the
-- values were found by is kept in section_missing_rule); the node then finds it in data_json
-- when reading. Any change of data_json makes it unknown again (the trigger).
ALTER TABLE application_sections ADD COLUMN missing TEXT;

CREATE TRIGGER application_section_changed AFTER UPDATE OF data_json ON application_sections
BEGIN
  UPDATE application_sections SET missing = NULL
   WHERE application_id = new.application_id AND section = new.section;
END;

CREATE TABLE section_missing_rule (
  rule TEXT NOT NULL
);
