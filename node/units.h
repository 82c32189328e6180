/* units.h - basic units (基层单位): registration with the unit's admin account, the
 * unit's information (完善单位信息), renaming (变更单位名称) and its recommending units
 * (推荐单位). */
#ifndef ZC_UNITS_H
#define ZC_UNITS_H

#include "http.h"

int units_register(zc_req *r);        /* POST /units */
int units_me(zc_req *r);              /* GET /units/me */
int units_update_me(zc_req *r);       /* PUT /units/me */
int units_rename(zc_req *r);          /* POST /units/me/rename */
int units_recommenders(zc_req *r);    /* PUT /units/me/recommenders */
int units_search(zc_req *r);          /* GET /units?q= (credit code or name) */

/* The unit as GET /units/me shows it, with `complete` and `missing`. NULL if unknown. */
json_t *unit_json(zc_node *p, const char *zId);
/* The Chinese label of a unit information field ("address" -> "单位地址"), or zName. */
const char *unit_field_label(const char *zName);

/* 1 when every field review needs is filled in; *ppMissing (if given) gets their names. */
int unit_is_complete(zc_node *p, const char *zId, json_t **ppMissing);
/* Record the entry zType ("unit.registered", "unit.updated", "unit.renamed",
 * "unit.recommenders") for unit zUnit as the database holds it now. 0 on success. */
int unit_announce(zc_node *p, const char *zUnit, const char *zType);

#endif
