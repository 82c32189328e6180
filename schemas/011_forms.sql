-- 011_forms.sql - official review forms (评审表) and their verification codes (node/forms.c).
--
-- A row per official form issued, by this node or by another (form.issued entries): the
-- signed payload (canonical JSON: application, number, digest of the printed content,
-- issuer, key, issued, what it certifies) and its Ed25519 signature (base64) over
-- "zc-form.1 verify\n" + payload. code: 16 Crockford base32 digits of SHA-256(signature),
-- printed under the form's QR code. An application passes the formal review once (the
-- workflow has no way back from formal_passed), so it has at most one.
CREATE TABLE forms (
  code TEXT PRIMARY KEY,
  application_id TEXT NOT NULL,
  number TEXT NOT NULL,
  payload TEXT NOT NULL,
  sig TEXT NOT NULL,
  issuer TEXT NOT NULL,
  issued INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX forms_application ON forms(application_id, issued);
