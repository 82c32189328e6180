/* http.h - one API request and its answer, independent of libwebsockets: the server fills
 * a zc_req, the router and a handler fill its response, the server writes it. Every error
 * leaves through http_error(), so every error has the same envelope:
 *   {"error":{"code":"snake_case","message":"中文说明"}}                              */
#ifndef ZC_HTTP_H
#define ZC_HTTP_H

#include <stddef.h>
#include <string.h>
#include <jansson.h>
#include "node.h"

enum zc_method { HTTP_GET = 1, HTTP_POST = 2, HTTP_PUT = 4, HTTP_DELETE = 8 };

typedef struct zc_buf {
  char *z;
  size_t n, nAlloc;
} zc_buf;
void buf_grow(zc_buf *b, size_t n); /* room for n more bytes and a NUL */
/* Append n bytes (kept NUL-terminated); inline: an answer is made of hundreds of pieces. */
static inline void buf_append(zc_buf *b, const void *p, size_t n) {
  if (b->n + n + 1 > b->nAlloc) buf_grow(b, n);
  memcpy(b->z + b->n, p, n);
  b->n += n;
  b->z[b->n] = 0;
}
void buf_printf(zc_buf *b, const char *zFmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(zc_buf *b);
void buf_reserve(zc_buf *b, size_t n); /* room for n bytes in all, kept until freed */
void buf_json(zc_buf *b, const json_t *v); /* v as compact JSON text */
void buf_json_string(zc_buf *b, const char *z, size_t n); /* z[0..n) (UTF-8) as a JSON string */
void buf_json_int(zc_buf *b, json_int_t v);              /* v in decimal */

/* Who is calling: filled by the router from the session cookie (session.c). */
typedef struct zc_session {
  char zTokenHash[65];
  char zCsrf[65];
  char zAccount[40];
  char zUsername[24];
  unsigned role;          /* enum zc_role (router.h) */
  char zUnit[40];         /* unit admin: the unit's id */
  char zDept[40];         /* dept admin: the recommending unit's id */
  char zCommittee[40];    /* committee admin: the committee's id */
  int iLang;              /* the account's portal language (enum zc_lang), LANG_NONE: unset */
} zc_session;

#define HTTP_MAX_PARAMS 4
#define HTTP_QUERY_SEP '\x1f' 
/* What the HTTP layer's functions return besides 0 ("answered": r holds the answer, or
 * -1 for an internal error, answered 500). The values lie below FED_* (fed_error.h,
 * -1..-6) so that a federation code passed up by mistake never reads as one of these
 * (http.c asserts it at compile time). */
enum zc_http_rc {
  HTTP_ANSWERED = 0,
  HTTP_PENDING = -100, /* a handler's return: the answer comes later (worker.h) */
  HTTP_TOO_LONG = -101, /* http_query: the value does not fit */
  HTTP_BUSY = -102,     /* worker_defer: too many jobs wait (worker.h) */
};

typedef struct zc_req {
  zc_node *node;
  int method;               /* enum zc_method */
  char zPath[512];          /* below /api/v1, e.g. "/units/me" */
  char zQuery[1024];        /* decoded "name=value" arguments separated by HTTP_QUERY_SEP */
  char zPeer[64];           /* the client's address */
  char zCookie[512];        /* raw Cookie header */
  char zCsrf[128];          /* X-CSRF-Token header */
  char zContentType[128];
  char zOrigin[256];        /* Origin header, when a browser sent one */
  char zHost[256];          /* Host header */
  char zAgent[256];         /* User-Agent header (cut when longer) */
  int iLang;                /* the answer's language (enum zc_lang, messages.h): Accept-Language's,
                             * else the session account's, else (LANG_NONE) Chinese */
  char *aParam[HTTP_MAX_PARAMS]; /* path captures of {…} segments, into zParamBuf */
  int nParam;
  char zParamBuf[512];
  zc_buf body;              /* the request body, capped before it is buffered */
  json_t *pJson;            /* the body parsed, for routes that take JSON */
  zc_session *pSess;        /* the caller's session (&sess) or NULL */
  zc_session sess;
  const struct zc_route *pRoute;
  json_t *pEvents;          /* live events to send once the transaction commits (live.h) */

  /* the answer */
  int status;
  zc_buf out;               /* response body */
  const char *zOutType;     /* Content-Type of out */
  zc_buf outHeaders;        /* extra "Name: value\r\n" lines */
  char zFile[600];          /* when set, the server sends this file as the body */
  char zFileType[64];
} zc_req;

void http_req_reset(zc_req *r); /* free what a request holds, ready for reuse */

/* Answers. Each returns 0 so that a handler can `return http_json(r, 200, obj);`. */
int http_json(zc_req *r, int status, json_t *pBody);  /* steals pBody */
/* The answer is the JSON text the handler wrote into r->out itself. */
int http_json_text(zc_req *r, int status);
int http_error(zc_req *r, int status, const char *zCode, const char *zFmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An error about one field (the portal shows the message next to it). */
int http_field_error(zc_req *r, int status, const char *zCode, const char *zField, const char *zMsg);
/* An error whose envelope carries more members (pExtra, stolen), e.g. retry_after. */
int http_error_extra(zc_req *r, int status, const char *zCode, json_t *pExtra, const char *zFmt, ...)
    __attribute__((format(printf, 5, 6)));
int http_file(zc_req *r, const char *zPath, const char *zType);
/* Content-Disposition: attachment for a download, so that a browser saves it and never
 * shows it in the portal's origin: filename= zAscii with anything but letters, digits,
 * '-', '_', '.' made '_' (a fallback), filename*= zName (UTF-8, RFC 5987), each with the
 * extension of zType (a blob_sniff type). */
void http_download_name(zc_req *r, const char *zName, const char *zAscii, const char *zType);
void http_header(zc_req *r, const char *zName, const char *zFmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Query parameter zName (URL-decoded) into out; 0 when present, -1 when absent,
 * HTTP_TOO_LONG when it does not fit in out (nothing is ever cut). */
int http_query(const zc_req *r, const char *zName, char *out, size_t nOut);
/* Cookie zName into out; 0 when present. */
int http_cookie(const zc_req *r, const char *zName, char *out, size_t nOut);
/* The Chinese reason phrase-free status line text ("Not Found") for logs and headers. */
const char *http_status_text(int status);

/* The string member zKey of object o, or NULL: the one accessor every file uses. */
static inline const char *jstr(const json_t *o, const char *zKey) {
  return json_string_value(json_object_get(o, zKey));
}
/* Integer member zKey of o (seconds since 1970) rewritten as RFC 3339 text; in every
 * object of array a for the second. Other values are left alone. */
void json_set_time(json_t *o, const char *zKey);
void json_set_times(json_t *a, const char *zKey);

/* Reading a JSON body's fields with their types checked. A wrong type or a missing
 * required field answers 400 (`missing_field` / `invalid_field`, naming the field) and
 * returns NULL (or -1); the handler then just returns 0. zLabel is the field's Chinese
 * name for the message. */
const char *json_str_field(zc_req *r, const char *zKey, const char *zLabel, int bRequired);
/* The same for multi-line text (opinions, recommendations, rules): newline, tab and CRLF
 * are allowed there; json_str_field refuses every control character (one line). */
const char *json_text_field(zc_req *r, const char *zKey, const char *zLabel, int bRequired);
/* Either of them (bMultiline) with a cap of nMax characters (validate_text's rules); a
 * required member may not be empty. */
const char *json_text_capped(zc_req *r, const char *zKey, const char *zLabel, size_t nMax, int bMultiline,
                             int bRequired);
/* A calendar date "YYYY-MM-DD" (validate_date). */
const char *json_date_field(zc_req *r, const char *zKey, const char *zLabel, int bRequired);
/* Every string of the body (member names and values, at any depth) checked once when the
 * body is parsed: NUL, control characters other than newline/tab/CRLF, noncharacters and
 * invalid UTF-8 answer 400 invalid_field naming the top-level member; returns -1 then. */
int http_check_body_text(zc_req *r);

/* One element of an Accept-* header's list (RFC 9110 12.4.2): its token (z[0..n)) and its
 * weight q in thousandths (1000 without one; -1 when malformed, e.g. q=2 or q=abc). */
typedef struct http_pref {
  const char *z;
  size_t n;
  int q;
} http_pref;
/* The element at *pz, *pz moved past it; 0 when the list is over. */
int http_pref_next(const char **pz, http_pref *p);
int json_int_field(zc_req *r, const char *zKey, const char *zLabel, int bRequired, long long *out);

#endif
