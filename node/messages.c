/* messages.c - the error message catalogues (messages.h). */
#include "messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "node.h"
#include "refdata.h"

static const char *const g_azTag[ZC_LANGS] = {"zh-CN", "ug"};

const char *message_lang_tag(int iLang) { return g_azTag[iLang >= 0 && iLang < ZC_LANGS ? iLang : LANG_ZH]; }

int messages_load(zc_node *p) {
  for (int i = 0; i < ZC_LANGS; i++) {
    char zFile[64];
    const char *zKey;
    json_t *v;
    snprintf(zFile, sizeof zFile, "messages/%s.json", g_azTag[i]);
    json_decref(p->apMessages[i]);
    p->apMessages[i] = refdata_file(p, zFile);
    if (!json_is_object(p->apMessages[i])) return -1;
    json_object_foreach(p->apMessages[i], zKey, v) if (!json_is_string(v)) {
      fprintf(stderr, "zc-node: schemas/%s: %s is not a string\n", zFile, zKey);
      return -1;
    }
  }
  return 0;
}

void messages_free(zc_node *p) {
  for (int i = 0; i < ZC_LANGS; i++) {
    json_decref(p->apMessages[i]);
    p->apMessages[i] = NULL;
  }
}

const char *message_for(const zc_node *p, int iLang, const char *zCode) {
  if (!p || iLang < 0 || iLang >= ZC_LANGS || !zCode) return NULL;
  return json_string_value(json_object_get(p->apMessages[iLang], zCode));
}

/* The language of one language-range ("ug-CN"), or -1. */
static int lang_of(const char *z, size_t n) {
  for (int i = 0; i < ZC_LANGS; i++) {
    size_t k = strcspn(g_azTag[i], "-"); /* the primary subtag: "zh", "ug" */
    if (n >= k && strncasecmp(z, g_azTag[i], k) == 0 && (n == k || z[k] == '-')) return i;
  }
  return -1;
}

/* The q of ";q=0.8" parameters in z[0..n), 1000 times (RFC 9110 12.4.2: at most three
 * decimals); 1000 without one, -1 when malformed. */
static int weight_of(const char *z, size_t n) {
  const char *zQ = NULL;
  for (size_t i = 0; i + 1 < n; i++)
    if ((z[i] == 'q' || z[i] == 'Q') && z[i + 1] == '=') zQ = z + i + 2;
  if (!zQ) return 1000;
  const char *zEnd = z + n;
  if (zQ >= zEnd || (*zQ != '0' && *zQ != '1')) return -1;
  int w = (*zQ - '0') * 1000, scale = 100;
  if (++zQ < zEnd && *zQ == '.')
    for (zQ++; zQ < zEnd && *zQ >= '0' && *zQ <= '9' && scale; zQ++, scale /= 10) w += (*zQ - '0') * scale;
  return w > 1000 ? -1 : w;
}

int messages_pick(const char *zAccept) {
  int iBest = LANG_ZH, wBest = 0;
  for (const char *z = zAccept ? zAccept : ""; *z;) {
    size_t n = strcspn(z, ",");
    const char *zTag = z;
    while (zTag < z + n && (*zTag == ' ' || *zTag == '\t')) zTag++;
    size_t nTag = strcspn(zTag, ";, \t");
    if (zTag + nTag > z + n) nTag = (size_t)(z + n - zTag);
    int i = lang_of(zTag, nTag), w = weight_of(zTag + nTag, (size_t)(z + n - zTag - nTag));
    if (i >= 0 && w > wBest) iBest = i, wBest = w;
    z += n;
    if (*z == ',') z++;
  }
  return iBest;
}
