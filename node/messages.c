/* messages.c - the error message catalogues (messages.h). */
#include "messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
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

int messages_pick(const char *zAccept) {
  int iBest = LANG_NONE, wBest = 0;
  http_pref e;
  for (const char *z = zAccept ? zAccept : ""; http_pref_next(&z, &e);) {
    int i = lang_of(e.z, e.n);
    if (i >= 0 && e.q > wBest) iBest = i, wBest = e.q;
  }
  return iBest;
}
