-- 016_qr_login.sql - 扫码登录 (node/qrlogin.c): a desktop browser shows a QR code; a phone
-- logged in to this node approves it; the desktop then gets a session of its own. A code
-- lives two minutes, is used once, and only the browser that asked for it (the hash of a
-- secret in its cookie) may take the session. It never leaves the node.
CREATE TABLE qr_logins (
  id TEXT PRIMARY KEY,                   -- the code the QR code carries (random, 128 bits)
  browser_hash TEXT NOT NULL,            -- SHA-256 of the asking browser's zc_qr cookie
  agent TEXT NOT NULL,                   -- the asking browser's User-Agent, cut, for the phone to show
  address TEXT NOT NULL,                 -- the asking browser's address
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'refused', 'used')),
  account_id TEXT REFERENCES accounts(id) ON DELETE CASCADE, -- who approved (or refused)
  decided INTEGER,
  used INTEGER
);
CREATE INDEX qr_logins_address ON qr_logins(address, created);
