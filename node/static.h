/* static.h - the portal's files from the web root (build/web, made by tools/build_web.py):
 * which file answers a GET, with which headers. No libwebsockets here (server.c sends it). */
#ifndef ZC_STATIC_H
#define ZC_STATIC_H

#include <stddef.h>

typedef struct static_answer {
  int status;          /* 200, 304 (the client's copy is current) or 404 */
  char zFile[700];     /* 200: the file to send (NAME or NAME.gz) */
  const char *zType;   /* 200: its Content-Type (of NAME, whichever is sent) */
  char zHeaders[320];  /* 200 and 304: "name: value\r\n" lines: cache-control, vary, etag,
                        * content-encoding */
} static_answer;

/* The answer to GET zPath (decoded, without its query) from the web root zRoot, given the
 * request's Accept-Encoding and If-None-Match headers ("" when absent). A name hashed by
 * the build (name.<8 hex>.ext) is cached for a year as immutable, any other (index.html)
 * is no-cache: revalidated by its ETag every time. NAME.gz is sent instead of NAME, with
 * Content-Encoding: gzip, when it exists and the client accepts gzip. Paths with a segment
 * that starts with '.', or characters other than letters, digits and "-_./", are 404. */
void static_lookup(const char *zRoot, const char *zPath, const char *zAcceptEncoding,
                   const char *zIfNoneMatch, static_answer *out);

/* Is the last segment of zPath a name the build hashed (name.<8 lowercase hex>.ext)? */
int static_is_hashed(const char *zPath);
/* Does an Accept-Encoding header accept gzip (a gzip or * token without q=0)? */
int static_accepts_gzip(const char *zAcceptEncoding);

#endif
