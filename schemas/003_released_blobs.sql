-- 003_released_blobs.sql - which stored files may have lost their last reference.
--
-- Uploaded files (DATA/blobs/) are stored once by SHA-256 and shared by every row with the
-- same content. A row that stops referring to one (a replaced ID-card scan, a deleted
-- attachment, a deleted draft's attachments) names it here in the same transaction;
-- after the commit the node removes the file if no row refers to it any more
-- (blob_release). A rolled-back change rolls back its entry too, so a file a row still
-- needs is never removed.
CREATE TABLE released_blobs (
  sha256 TEXT PRIMARY KEY
) WITHOUT ROWID;

CREATE TRIGGER attachment_released AFTER DELETE ON application_attachments
BEGIN
  INSERT OR IGNORE INTO released_blobs VALUES (old.sha256);
END;

CREATE TRIGGER idcard_deleted AFTER DELETE ON idcards
BEGIN
  INSERT OR IGNORE INTO released_blobs VALUES (old.sha256);
END;

CREATE TRIGGER idcard_replaced AFTER UPDATE OF sha256 ON idcards WHEN old.sha256 <> new.sha256
BEGIN
  INSERT OR IGNORE INTO released_blobs VALUES (old.sha256);
END;
