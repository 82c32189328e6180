/* static.c - which file of the web root answers a request, and how long a browser may keep
 * it. tools/build_web.py names every file but the pages by the hash of its content, so a
 * hashed name never changes its bytes: a year, immutable (a repeat visit asks for none of
 * them). The pages (index.html) name the hashed files and change with them: no-cache, so
 * that each visit revalidates them by ETag (a 304 when nothing changed). The .gz beside a
 * file is its gzip -9, sent to clients that accept gzip. The lws file mount could do
 * neither (one cache policy per mount, no Content-Encoding), hence this. */
#include "static.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "http.h"

#define CACHE_IMMUTABLE "public, max-age=31536000, immutable"
#define CACHE_PAGE "no-cache"

static const struct {
  const char *zExt, *zType;
} g_aType[] = {
  {".html", "text/html; charset=utf-8"},
  {".js", "text/javascript; charset=utf-8"},
  {".mjs", "text/javascript; charset=utf-8"},
  {".css", "text/css; charset=utf-8"},
  {".json", "application/json"},
  {".svg", "image/svg+xml"},
  {".png", "image/png"},
  {".jpg", "image/jpeg"},
  {".ico", "image/x-icon"},
  {".webmanifest", "application/manifest+json"},
  {".woff2", "font/woff2"},
  {".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *zPath) {
  const char *zSlash = strrchr(zPath, '/');
  const char *zDot = strrchr(zSlash ? zSlash : zPath, '.');
  if (!zDot) return NULL;
  for (size_t i = 0; i < sizeof g_aType / sizeof g_aType[0]; i++)
    if (strcasecmp(zDot, g_aType[i].zExt) == 0) return g_aType[i].zType;
  return NULL;
}

int static_is_hashed(const char *zPath) {
  const char *zName = strrchr(zPath, '/');
  zName = zName ? zName + 1 : zPath;
  const char *zExt = strrchr(zName, '.');
  if (!zExt || zExt - zName < 10 || zExt[-9] != '.') return 0;
  for (const char *z = zExt - 8; z < zExt; z++)
    if (!isdigit((unsigned char)*z) && !(*z >= 'a' && *z <= 'f')) return 0;
  return 1;
}

int static_accepts_gzip(const char *zAccept) {
  int bStar = 0;
  http_pref e;
  for (const char *z = zAccept ? zAccept : ""; http_pref_next(&z, &e);) {
    if ((e.n == 4 && strncasecmp(e.z, "gzip", 4) == 0) || (e.n == 6 && strncasecmp(e.z, "x-gzip", 6) == 0))
      return e.q > 0;
    if (e.n == 1 && *e.z == '*') bStar = e.q > 0;
  }
  return bStar;
}

/* Only names the build makes: letters, digits, "-_./", no segment starting with '.'. */
static int path_ok(const char *zPath) {
  if (zPath[0] != '/') return 0;
  for (const char *z = zPath; *z; z++) {
    if (*z == '/' && z[1] == '.') return 0;
    if (!isalnum((unsigned char)*z) && !strchr("-_./", *z)) return 0;
  }
  return 1;
}

static int etag_matches(const char *zIfNoneMatch, const char *zEtag) {
  if (!zIfNoneMatch[0]) return 0;
  if (strcmp(zIfNoneMatch, "*") == 0) return 1;
  return strstr(zIfNoneMatch, zEtag) != NULL;
}

void static_lookup(const char *zRoot, const char *zPath, const char *zAcceptEncoding,
                   const char *zIfNoneMatch, static_answer *out) {
  struct stat st;
  char zEtag[64];
  int n, bGzip = 0;
  memset(out, 0, sizeof *out);
  out->status = 404;
  if (!path_ok(zPath)) return;
  const char *zIndex = zPath[strlen(zPath) - 1] == '/' ? "index.html" : "";
  n = snprintf(out->zFile, sizeof out->zFile, "%s%s%s", zRoot, zPath, zIndex);
  if (n < 0 || (size_t)n + 3 >= sizeof out->zFile) return;
  out->zType = type_of(out->zFile);
  if (!out->zType || stat(out->zFile, &st) != 0 || !S_ISREG(st.st_mode)) return;
  if (static_accepts_gzip(zAcceptEncoding)) {
    struct stat stGz;
    memcpy(out->zFile + n, ".gz", 4);
    if (stat(out->zFile, &stGz) == 0 && S_ISREG(stGz.st_mode)) {
      st = stGz;
      bGzip = 1;
    } else {
      out->zFile[n] = 0;
    }
  }
  snprintf(zEtag, sizeof zEtag, "\"%llx-%llx%s\"", (unsigned long long)st.st_size,
           (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL + (unsigned long long)st.st_mtim.tv_nsec,
           bGzip ? "-gz" : "");
  snprintf(out->zHeaders, sizeof out->zHeaders,
           "cache-control: %s\r\nvary: Accept-Encoding\r\netag: %s\r\n%s",
           static_is_hashed(zPath) ? CACHE_IMMUTABLE : CACHE_PAGE, zEtag,
           bGzip ? "content-encoding: gzip\r\n" : "");
  out->status = etag_matches(zIfNoneMatch, zEtag) ? 304 : 200;
}
