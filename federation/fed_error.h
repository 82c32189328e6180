/* fed_error.h - the federation library's error codes and its one "last error" message.
 *
 * Every fed_* function that can fail returns 0 on success or one of the negative codes
 * below, and leaves a human-readable English message for fed_last_error(). The message
 * is per thread, so a worker thread's failure never overwrites the event loop's. */
#ifndef ZC_FED_ERROR_H
#define ZC_FED_ERROR_H

enum {
  FED_OK = 0,
  FED_ERROR = -1,      /* I/O, OpenSSL, libgit2 or memory failure */
  FED_EINVALID = -2,   /* malformed or refused input */
  FED_ENOTFOUND = -3,  /* no such file, node or key */
  FED_EEXISTS = -4,    /* something is already there */
  FED_EBADSIG = -5,    /* a signature does not verify */
  FED_EEXPIRED = -6,   /* a key exists but is not valid at the time asked */
  FED_EEQUIVOCATION = -7, /* two different validly signed entries for one (origin, seq) */
  FED_ECONFLICT = -8   /* a log's ref moved under us (compare-and-swap lost) */
};

/* The message of the last failure on this thread ("" if none). Never NULL. */
const char *fed_last_error(void);

/* Record a message (printf-style) and return rc, so that callers can write
 * `return fed_error_set(FED_EINVALID, "bad %s", zWhat);`. */
int fed_error_set(int rc, const char *zFmt, ...) __attribute__((format(printf, 2, 3)));

/* Put a printf-style context before the last message ("<context>: <message>") and
 * return rc: `return fed_error_wrap(rc, "%s", zPath);`. */
int fed_error_wrap(int rc, const char *zFmt, ...) __attribute__((format(printf, 2, 3)));

/* Forget the last message. */
void fed_error_clear(void);

#endif
