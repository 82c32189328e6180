/* conditions.h - qualification conditions (任职资格条件, schemas/conditions.json): what a
 * level asks of education, years, continuing education, assessments, results and
 * practice, and an application checked against what it can be (the rest listed for the
 * reviewers). The portal warns before submit; the committee decides. */
#ifndef ZC_CONDITIONS_H
#define ZC_CONDITIONS_H

#include "http.h"

int conditions_load(zc_node *p);          /* schemas/conditions.json into p->pConditions */
int conditions_get(zc_req *r);            /* GET /conditions?qualification= */
int conditions_of_application(zc_req *r); /* GET /applications/{id}/conditions */

#endif
