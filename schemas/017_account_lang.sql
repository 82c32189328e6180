-- 017_account_lang.sql - the portal language an account chose (zh-CN or ug), kept at the
-- node where it was chosen (PUT /me/language); NULL: the browser's own choice.
ALTER TABLE accounts ADD COLUMN lang TEXT CHECK (lang IN ('zh-CN', 'ug'));
