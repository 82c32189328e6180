/* committees.h - review committees (评审委员会): what each reviews, its submission windows
 * per specialty, limits and fee; and jurisdiction (属地化): which committee reviews a
 * qualification for a unit — the unit's node first, else the region's. */
#ifndef ZC_COMMITTEES_H
#define ZC_COMMITTEES_H

#include "http.h"

int committees_list(zc_req *r);    /* GET /committees?node= */
int committees_get(zc_req *r);     /* GET /committees/{id} */
int committees_update(zc_req *r);  /* PUT /committees/{id} (node admin, the committee's admin) */
int committees_route(zc_req *r);   /* GET /jurisdiction?unit=&qualification=&specialty= */

/* Load schemas/committees.json (committees and scopes; existing rows are kept). */
int committees_load(zc_node *p);

/* The committee for (unit's node, qualification, specialty), as JSON {id, node, name,
 * directed, submit_limit, ...}; NULL when none covers it, and then *pzWhy (malloc'd) says
 * in Chinese what that unit can apply for in that series. */
json_t *committee_for(zc_node *p, const char *zUnitNode, const char *zQualification,
                      const char *zSpecialty, char **pzWhy);

/* The committee zId as the API shows it (no scope or windows), or NULL. */
json_t *committee_json(zc_node *p, const char *zId);
/* 1 when the caller manages committee zId: its committee admin, or the admin of its node. */
int committee_managed_by(zc_req *r, const char *zId);

/* Today's date "YYYY-MM-DD" in China Standard Time (windows are calendar dates there). */
void committee_today(zc_node *p, char out[11]);

/* The window of a committee for a specialty as {opens, closes, open}, or NULL. */
json_t *committee_window(zc_node *p, const char *zCommittee, const char *zSpecialty);

/* Committee zId's Uyghur name as a change of it leaves it: zNameUg when given, else none
 * ('') when zName renames it (the old Uyghur name named the old name), else as it is. Runs
 * before the change's own UPDATE of name. 0 on success. */
int committee_set_name_ug(zc_node *p, const char *zId, const char *zName, const char *zNameUg);

/* Record committee.updated for committee zId as the database holds it now (entries.c). */
int committee_announce(zc_node *p, const char *zId);

#endif
