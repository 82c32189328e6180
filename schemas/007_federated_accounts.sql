-- 007_federated_accounts.sql - one account federation-wide (node/claims.c, accounts.c).
--
-- Accounts replicate everywhere (account.registered): a row whose `home` is another node
-- is that node's account as the log announced it, without secrets (no password hash, no
-- ID number, no phone: their keyed digests only). `phone_digest` finds an applicant by
-- phone at any node; `cred_epoch` counts the account's password changes at its home
-- (account.credentials carries it), so that a session is only opened elsewhere on a
-- credential check made after the newest change this node knows of.
ALTER TABLE accounts ADD COLUMN phone_digest TEXT;
CREATE INDEX accounts_phone_digest ON accounts(phone_digest) WHERE phone_digest IS NOT NULL;
ALTER TABLE accounts ADD COLUMN cred_epoch INTEGER NOT NULL DEFAULT 0;

-- At the registrar (the region node): who holds the claim of each ID-number digest and
-- applicant-phone digest. A claim is `matched` once its account's account.registered
-- arrived; an unmatched one is checked with its node after a while and released
-- (id.released) when the node says it never committed the account.
CREATE TABLE id_claims (
  kind TEXT NOT NULL CHECK (kind IN ('id', 'phone')),
  digest TEXT NOT NULL,
  account TEXT NOT NULL,
  node TEXT NOT NULL,
  claimed INTEGER NOT NULL,
  matched INTEGER,
  PRIMARY KEY (kind, digest)
) WITHOUT ROWID;
CREATE INDEX id_claims_account ON id_claims(account);
CREATE INDEX id_claims_unmatched ON id_claims(claimed) WHERE matched IS NULL;

-- At a registering node: accounts whose claim the registrar asked about before the
-- account was committed here; answered "never registered", they must never be.
CREATE TABLE claims_revoked (
  account TEXT PRIMARY KEY,
  revoked INTEGER NOT NULL
) WITHOUT ROWID;
