/* apply.c - the table of entry handlers the node registers (apply.h). */
#include "apply.h"

#include <string.h>

#include "fed_error.h"

static struct {
  const char *zType;
  int v;
  fed_apply_fn xApply;
  void *pCtx;
} g_aApply[FED_APPLY_MAX];
static int g_nApply;

int fed_apply_register(const char *zType, int v, fed_apply_fn xApply, void *pCtx) {
  for (int i = 0; i < g_nApply; i++) {
    if (g_aApply[i].v == v && strcmp(g_aApply[i].zType, zType) == 0) {
      g_aApply[i].xApply = xApply;
      g_aApply[i].pCtx = pCtx;
      return FED_OK;
    }
  }
  if (g_nApply == FED_APPLY_MAX) return fed_error_set(FED_EINVALID, "too many entry handlers");
  g_aApply[g_nApply].zType = zType;
  g_aApply[g_nApply].v = v;
  g_aApply[g_nApply].xApply = xApply;
  g_aApply[g_nApply].pCtx = pCtx;
  g_nApply++;
  return FED_OK;
}

fed_apply_fn fed_apply_find(const char *zType, int v, void **ppCtx) {
  for (int i = 0; zType && i < g_nApply; i++) {
    if (g_aApply[i].v == v && strcmp(g_aApply[i].zType, zType) == 0) {
      if (ppCtx) *ppCtx = g_aApply[i].pCtx;
      return g_aApply[i].xApply;
    }
  }
  return NULL;
}

int fed_entry_view_parse(fed_entry_view *out, json_t **ppDoc, const char *zJson, size_t nJson) {
  json_error_t err;
  json_t *d = json_loadb(zJson, nJson, JSON_REJECT_DUPLICATES, &err);
  memset(out, 0, sizeof *out);
  *ppDoc = NULL;
  if (!json_is_object(d)) {
    json_decref(d);
    return fed_error_set(FED_EINVALID, "the entry is not a JSON object");
  }
  out->zOrigin = json_string_value(json_object_get(d, "origin"));
  out->iSeq = json_integer_value(json_object_get(d, "seq"));
  out->zType = json_string_value(json_object_get(d, "type"));
  out->v = (int)json_integer_value(json_object_get(d, "v"));
  out->zTs = json_string_value(json_object_get(d, "ts"));
  out->pBody = json_object_get(d, "body");
  if (!out->zOrigin || out->iSeq < 1 || !out->zType || !out->zTs || !json_is_object(out->pBody)) {
    json_decref(d);
    memset(out, 0, sizeof *out);
    return fed_error_set(FED_EINVALID, "the entry lacks origin, seq, type, ts or body");
  }
  *ppDoc = d;
  return FED_OK;
}

int fed_apply(const fed_entry_view *e) {
  void *pCtx = NULL;
  fed_apply_fn x = fed_apply_find(e->zType, e->v, &pCtx);
  if (!x) return FED_ENOTFOUND;
  return x(pCtx, e);
}

char *fed_apply_types_json(void) {
  json_t *a = json_array();
  for (int i = 0; i < g_nApply; i++) json_array_append_new(a, json_string(g_aApply[i].zType));
  char *z = json_dumps(a, JSON_COMPACT);
  json_decref(a);
  return z;
}

void fed_apply_reset(void) { g_nApply = 0; }
