/* refdata.h - reference data every node serves: health, the federation's nodes, the title
 * catalogue (系列/专业/资格) and the recommending units (推荐单位), loaded from schemas/. */
#ifndef ZC_REFDATA_H
#define ZC_REFDATA_H

#include "http.h"

/* Load schemas/catalog.json and depts.json into the database (existing rows are kept)
 * and serialise the catalogue once. */
int refdata_load(zc_node *p);

/* schemas/zFile parsed (NULL, with a message on stderr, when missing or malformed). */
json_t *refdata_file(const zc_node *p, const char *zFile);

/* Set the Uyghur name x.name_ug of row zKey (zKeyColumn) of reference table zTable while
 * its Chinese name is still the file's x.name (a renamed row keeps what it has); with
 * bKeepSet, a name_ug set already (by an admin) is kept. 0 on success. */
int refdata_name_ug(zc_node *p, const char *zTable, const char *zKeyColumn, const char *zKey, const json_t *x,
                    int bKeepSet);

int refdata_health(zc_req *r);      /* GET /health */
int refdata_federation(zc_req *r);  /* GET /federation */
int refdata_catalog(zc_req *r);     /* GET /catalog */
int refdata_depts(zc_req *r);       /* GET /depts?node= */

/* The qualification's level and series, or 0 when the code is unknown. */
int refdata_qualification(zc_node *p, const char *zCode, char zSeries[16]);
/* 1 when zId is a recommending unit (at any node). */
int refdata_dept_exists(zc_node *p, const char *zId);

#endif
