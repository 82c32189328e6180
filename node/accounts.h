/* accounts.h - accounts and sessions: applicant registration, login and logout, the
 * profile (个人资料), password changes, ID-card scans; and the pieces other features use
 * to create accounts and to hash passwords off the event loop. */
#ifndef ZC_ACCOUNTS_H
#define ZC_ACCOUNTS_H

#include "http.h"
#include "secret.h"

int accounts_register(zc_req *r);     /* POST /accounts */
int accounts_login(zc_req *r);        /* POST /session */
int accounts_logout(zc_req *r);       /* DELETE /session */
int accounts_me(zc_req *r);           /* GET /me */
int accounts_update_me(zc_req *r);    /* PUT /me */
int accounts_language(zc_req *r);     /* PUT /me/language {"lang": "zh-CN" | "ug"} */
int accounts_password(zc_req *r);     /* POST /me/password */
int accounts_idcard_put(zc_req *r);   /* POST /me/idcard?side= */
int accounts_idcard_get(zc_req *r);   /* GET /me/idcard?side= */
int accounts_list(zc_req *r);         /* GET /accounts?q= (node admin) */
int accounts_idcard_admin(zc_req *r); /* GET /accounts/{id}/idcard?side= (node admin) */

/* A new account row (and its outbox entry). zIdNumber (normalised) only for applicants.
 * Writes the new id and username into zIdOut[40] / zUserOut[24]. Returns 0, or
 * DB_CONSTRAINT when the ID number is taken, -1 on failure. */
typedef struct account_new {
  const char *zRole, *zName, *zPhone, *zEmail, *zIdNumber, *zPasswordHash;
  const char *zUnit, *zDept, *zCommittee;
  const char *zId; /* the id to use (one the registrar's claim names), or NULL for a new one */
} account_new;
int account_insert(zc_node *p, const account_new *a, char zIdOut[40], char zUserOut[24]);

/* Is the caller's account at home here? Otherwise 409 `not_home` (its personal data and
 * credentials are only changed at its home node) and 0. */
int account_at_home(zc_req *r);

/* 200/201 with {"account":…, "csrf":…} for the caller's (new) session. */
int account_answer_with_session(zc_req *r, int status, const char *zAccount);

/* Are the credentials a check was made against (zHash) still the account's? A password
 * change (or a disabled account) committed while the check ran must win over it. */
int account_credentials_current(zc_node *p, const char *zAccount, const char *zHash);

/* The answer to a login the limiter refused (limiter_begin's code): 429 or 503. */
int accounts_login_refused(zc_req *r, int rcLimit, long nWait);
/* A login at the new home of zAccount's transfer while the old home's done is on its way
 * here (remote_login.c): the password checked against the hash this node took in when it
 * accepted, as for an account at home. */
int accounts_login_moved_here(zc_req *r, const char *zAccount, const char *zPassword);

/* The account's full ID number (malloc'd), when this node is its home and holds it; else NULL. */
char *account_home_id_number(zc_node *p, const char *zAccount);

/* The account as GET /me shows it (NULL when unknown). */
json_t *account_json(zc_node *p, const char *zId);

/* 64 characters of at most 4 bytes each (validate_password's limit): never cut. */
#define PASSWORD_MAX_BYTES 256

/* Password work off the event loop: verify zCheck against zCheckHash (with no hash, it
 * costs the same and never matches), then hash zNew (when given, and only if the check
 * passed or there was none); xThen continues on the loop with the result in the job. */
typedef struct pw_job {
  char zCheck[PASSWORD_MAX_BYTES + 1], zCheckHash[SECRET_HASH_MAX];
  char zNew[PASSWORD_MAX_BYTES + 1], zNewHash[SECRET_HASH_MAX];
  int bChecked;   /* zCheck matched */
  int bHashed;    /* zNewHash holds a hash */
  json_t *pData;  /* what the continuation needs; freed with the job */
  int (*xThen)(zc_req *r, struct pw_job *j);
} pw_job;
int password_then(zc_req *r, const char *zCheck, const char *zCheckHash, const char *zNew,
                  json_t *pData, int (*xThen)(zc_req *r, pw_job *j));

/* The account a login names (ID number, mobile number or username) as {id,
 * password_hash, home}: ours or, replicated, another node's; NULL when none. */
json_t *account_find_login(zc_node *p, const char *zLogin);

/* After an account's password hash changed (in the caller's transaction): its sessions
 * end (but zKeepSession's, a token hash, or none when NULL), its credential epoch moves
 * and account.credentials tells every node to end theirs. */
int account_credentials_changed(zc_node *p, const char *zAccount, const char *zKeepSession);

/* Why zPassword is too weak for account zAccount (the strength rule, and not containing
 * its username, phone or ID number), or NULL. */
const char *account_weak_password(zc_node *p, const char *zPassword, const char *zAccount);

/* Random region-independent id ("a" + 24 hex) and a numeric username not yet taken. */
int account_new_id(char zOut[40], char cKind);


#endif
