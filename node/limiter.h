/* limiter.h - limits on password checks for logins (the rules: limiter.c's table, and
 * README's Security notes). A login attempt asks limiter_begin() before its password is
 * checked and reports the outcome with limiter_end(). Checks in flight count against
 * every limit the attempt falls under, so parallel guesses cannot outrun a count.
 *
 * Budgets: a trusted device (a browser holding a device cookie of the account, issued by
 * a successful login) has its own; everyone else counts per (account, address), per
 * address over all accounts, and per account over all untrusted clients with a slower
 * limit. No key's count is ever evicted by other keys: counters live in a database of
 * their own (kept across restarts), rows expire with their window and are pruned. Kept
 * small and free of HTTP so that the federation can later share the counts. */
#ifndef ZC_LIMITER_H
#define ZC_LIMITER_H

#include <time.h>

typedef struct zc_limiter zc_limiter;

/* The rules (README: Security notes). Each window starts with its first check. */
#define LIMIT_DEVICE_MAX 5        /* a trusted device of the account, per 15 minutes */
#define LIMIT_PAIR_MAX 5          /* an untrusted client: (account, address), per 15 minutes */
#define LIMIT_ADDRESS_MAX 20      /* an untrusted address over every account, per 15 minutes */
#define LIMIT_ACCOUNT_MAX 30      /* an account over every untrusted client, per hour */
#define LIMIT_SHORT_WINDOW (15 * 60)
#define LIMIT_LONG_WINDOW (60 * 60)

/* Open (and migrate from zSchemasDir/limits/) the counters in zPath. 0 or -1. */
int limiter_open(zc_limiter **out, const char *zPath, const char *zSchemasDir);
void limiter_close(zc_limiter *p);
/* Nothing is in flight when the server starts: forget checks a stopped process began. */
int limiter_reset_in_flight(zc_limiter *p);

/* One login attempt. zAccount: the account id, or "name:" and the login as typed when it
 * names nobody; zDevice: the trusted device's id when the request carries a valid device
 * cookie of that account, else "". */
typedef struct limiter_attempt {
  char zAccount[80];
  char zAddress[64];
  char zDevice[40];
  int bTrusted; /* set by limiter_begin: the device's own budget is used */
} limiter_attempt;

/* limiter_begin's answers besides 0 (a check may start now; it is counted in flight). */
#define LIMITER_BLOCKED (-10)   /* too many failures: *pnWait seconds until allowed */
#define LIMITER_IN_FLIGHT (-11) /* this client's previous check of the account still runs */
/* -1 when the counters cannot be read or written (or p is NULL): the caller answers 503. */
int limiter_begin(zc_limiter *p, limiter_attempt *a, time_t now, long *pnWait);

/* How a begun check ended. */
enum limiter_outcome {
  LIMITER_OK,     /* right password: the client's own count starts again */
  LIMITER_FAILED, /* wrong password (or nobody): one more failure everywhere */
  LIMITER_VOID    /* never decided (busy, stale credentials): nothing counted */
};
void limiter_end(zc_limiter *p, const limiter_attempt *a, int outcome, time_t now);

/* Rows kept now (tests: storage stays bounded). */
long limiter_rows(zc_limiter *p);

#endif
