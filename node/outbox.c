/* outbox.c - recording federation entries beside the changes they announce (outbox.h). */
#include "outbox.h"

#include <stdlib.h>

#include "db.h"

int outbox_record(zc_node *p, const char *zType, json_t *pBody) {
  char *z = json_dumps(pBody, JSON_COMPACT | JSON_SORT_KEYS);
  int rc = z ? db_exec(p->db, "INSERT INTO outbox(type, body_json, created) VALUES(?,?,?)", "ttI",
                       zType, z, (sqlite3_int64)node_now(p))
             : -1;
  free(z);
  json_decref(pBody);
  return rc;
}
