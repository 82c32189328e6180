-- 010_transfers.sql - an applicant moves the review region (修改评审区域; node/transfer.c).
--
-- Every node keeps each transfer it learns of from the log (account.transfer): the old
-- home offers it, the new home accepts it once it holds the account's data, the old home
-- decides (done or rolled_back). tries / next_try: the new home's fetches of the data.
CREATE TABLE transfers (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  from_node TEXT NOT NULL,
  to_node TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('offered', 'accepted', 'done', 'rolled_back')),
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  tries INTEGER NOT NULL DEFAULT 0,
  next_try INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX transfers_account ON transfers(account);
CREATE INDEX transfers_open ON transfers(status) WHERE status IN ('offered', 'accepted');
