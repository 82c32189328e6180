/* smtp.c - one e-mail over SMTP with libcurl (smtp.h). The message is plain UTF-8 text:
 * the subject as an RFC 2047 encoded word and the body in base64, so that no header or
 * line of it can be shaped by what a user typed. */
#include "smtp.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "secret.h"

static int copy_member(json_t *o, const char *zKey, char *zOut, size_t nOut, int bRequired) {
  const char *z = json_string_value(json_object_get(o, zKey));
  if (!z) return bRequired ? -1 : 0;
  if (strlen(z) >= nOut || strpbrk(z, "\r\n")) return -1;
  snprintf(zOut, nOut, "%s", z);
  return 0;
}

int smtp_config_load(const char *zDataDir, smtp_config *c) {
  char zPath[700];
  json_error_t err;
  memset(c, 0, sizeof(*c));
  snprintf(zPath, sizeof zPath, "%s/smtp.json", zDataDir);
  FILE *f = fopen(zPath, "r");
  if (!f) return 1;
  json_t *o = json_loadf(f, 0, &err);
  fclose(f);
  int rc = o && json_is_object(o) ? 0 : -1;
  if (rc == 0)
    rc = copy_member(o, "url", c->zUrl, sizeof c->zUrl, 1) | copy_member(o, "from", c->zFrom, sizeof c->zFrom, 1) |
         copy_member(o, "username", c->zUser, sizeof c->zUser, 0) |
         copy_member(o, "password", c->zPassword, sizeof c->zPassword, 0) |
         copy_member(o, "cafile", c->zCaFile, sizeof c->zCaFile, 0);
  if (rc == 0 && strncmp(c->zUrl, "smtp://", 7) != 0 && strncmp(c->zUrl, "smtps://", 8) != 0) rc = -1;
  c->bStartTls = json_is_true(json_object_get(o, "starttls"));
  json_decref(o);
  if (rc) fprintf(stderr, "zc-node: %s: needs \"url\" (smtp:// or smtps://) and \"from\", one line each\n", zPath);
  return rc;
}

int smtp_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1; }

/* z as base64 (malloc'd), lines of 76 characters ending in CRLF when bWrap. */
static char *base64(const char *z, int bWrap) {
  size_t n = strlen(z), nOut = 4 * ((n + 2) / 3);
  char *zFlat = malloc(nOut + 1), *zOut = malloc(nOut + 2 * (nOut / 76 + 1) + 1);
  if (!zFlat || !zOut) {
    free(zFlat);
    free(zOut);
    return NULL;
  }
  EVP_EncodeBlock((unsigned char *)zFlat, (const unsigned char *)z, (int)n);
  size_t j = 0;
  for (size_t i = 0; i < nOut; i += 76) {
    size_t nLine = nOut - i < 76 ? nOut - i : 76;
    memcpy(zOut + j, zFlat + i, nLine);
    j += nLine;
    if (bWrap) zOut[j++] = '\r', zOut[j++] = '\n';
  }
  zOut[j] = 0;
  free(zFlat);
  return zOut;
}

typedef struct payload {
  const char *z;
  size_t n, off;
} payload;

static size_t read_payload(char *pBuf, size_t size, size_t nitems, void *pArg) {
  payload *p = pArg;
  size_t nRoom = size * nitems, nLeft = p->n - p->off, n = nLeft < nRoom ? nLeft : nRoom;
  memcpy(pBuf, p->z + p->off, n);
  p->off += n;
  return n;
}

/* The subject as RFC 2047 encoded words of whole UTF-8 characters, each short enough for a
 * 78-character line, folded with CRLF SP (malloc'd). */
static char *subject_words(const char *zSubject) {
  size_t n = strlen(zSubject), off = 0, nOut = 0;
  char *zOut = malloc(2 * n + 64 * (n / 45 + 1) + 1);
  if (!zOut) return NULL;
  zOut[0] = 0;
  while (off < n) {
    size_t k = n - off < 45 ? n - off : 45;
    while (k < n - off && ((unsigned char)zSubject[off + k] & 0xC0) == 0x80) k--; /* not inside a character */
    char zChunk[46];
    memcpy(zChunk, zSubject + off, k);
    zChunk[k] = 0;
    char *z64 = base64(zChunk, 0);
    if (!z64) {
      free(zOut);
      return NULL;
    }
    nOut += (size_t)sprintf(zOut + nOut, "%s=?UTF-8?B?%s?=", off ? "\r\n " : "", z64);
    free(z64);
    off += k;
  }
  return zOut;
}

static char *message_text(const smtp_config *c, const char *zTo, const char *zSubject, const char *zBody) {
  char zDate[64], zId[33];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(zDate, sizeof zDate, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  if (secret_token_hex(zId, 16)) return NULL;
  char *zSubj64 = subject_words(zSubject), *zBody64 = base64(zBody, 1), *zOut = NULL;
  const char *zDomain = strchr(c->zFrom, '@');
  if (zSubj64 && zBody64 &&
      asprintf(&zOut,
               "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s%s>\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n"
               "\r\n%s",
               zDate, c->zFrom, zTo, zSubj64, zId, zDomain ? zDomain : "@zhicheng", zBody64) < 0)
    zOut = NULL;
  free(zSubj64);
  free(zBody64);
  return zOut;
}

int smtp_send(const smtp_config *c, const char *zTo, const char *zSubject, const char *zBody, char *zErr,
              size_t nErr) {
  char zRcpt[300];
  if (strpbrk(zTo, "\r\n<>,") || snprintf(zRcpt, sizeof zRcpt, "<%s>", zTo) >= (int)sizeof zRcpt) {
    snprintf(zErr, nErr, "bad recipient");
    return -1;
  }
  char *zText = message_text(c, zTo, zSubject, zBody);
  CURL *h = zText ? curl_easy_init() : NULL;
  if (!h) {
    free(zText);
    snprintf(zErr, nErr, "out of memory");
    return -1;
  }
  char zFrom[140], zCurlErr[CURL_ERROR_SIZE] = "";
  snprintf(zFrom, sizeof zFrom, "<%s>", c->zFrom);
  struct curl_slist *pRcpt = curl_slist_append(NULL, zRcpt);
  payload pl = {zText, strlen(zText), 0};
  curl_easy_setopt(h, CURLOPT_URL, c->zUrl);
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, zFrom);
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, pRcpt);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, read_payload);
  curl_easy_setopt(h, CURLOPT_READDATA, &pl);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)SMTP_TIMEOUT);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* a worker thread: no SIGALRM */
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, zCurlErr);
  if (c->bStartTls) curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
  if (c->zCaFile[0]) curl_easy_setopt(h, CURLOPT_CAINFO, c->zCaFile);
  if (c->zUser[0]) {
    curl_easy_setopt(h, CURLOPT_USERNAME, c->zUser);
    curl_easy_setopt(h, CURLOPT_PASSWORD, c->zPassword);
  }
  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) snprintf(zErr, nErr, "%s", zCurlErr[0] ? zCurlErr : curl_easy_strerror(rc));
  curl_slist_free_all(pRcpt);
  curl_easy_cleanup(h);
  free(zText);
  return rc == CURLE_OK ? 0 : -1;
}
