/* node.c - a node's configuration (flags or a config file) and opening it: data
 * directory, database and migrations, keys, reference data. */
#include "node.h"
#include "messages.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "conditions.h"
#include "db.h"
#include "sender.h"
#include "fed_error.h"
#include "limiter.h"
#include "fed_file.h"
#include "manifest.h"
#include "trust.h"
#include "outbox.h"
#include "refdata.h"
#include "secret.h"
#include "sections.h"

static time_t clock_now(void) { return time(NULL); }

time_t node_now(const zc_node *p) { return p && p->xNow ? p->xNow() : time(NULL); }

void node_beijing_time(const zc_node *p, const char *zFmt, char *z, size_t n) {
  time_t t = node_now(p) + 8 * 3600;
  struct tm tm;
  gmtime_r(&t, &tm);
  if (strftime(z, n, zFmt, &tm) == 0 && n) z[0] = 0;
}

void node_config_defaults(zc_config *cfg, const char *zArgv0) {
  char zExe[PATH_MAX], zDir[PATH_MAX];
  struct stat st;
  memset(cfg, 0, sizeof(*cfg));
  snprintf(cfg->zNode, sizeof cfg->zNode, "%s", ZC_REGION_NODE);
  cfg->iPort = 8600;
  snprintf(cfg->zBind, sizeof cfg->zBind, "127.0.0.1");
  snprintf(cfg->zData, sizeof cfg->zData, "data");
  cfg->nMaxBody = 64 * 1024;
  cfg->iClaimCheckSecs = 60;
  cfg->iTransferRollbackSecs = 60;
  cfg->iWsPingSecs = 20;
  /* web/ and schemas/ live beside bin/ */
  ssize_t n = readlink("/proc/self/exe", zExe, sizeof zExe - 1);
  if (n <= 0) n = (ssize_t)snprintf(zExe, sizeof zExe, "%s", zArgv0 ? zArgv0 : ".");
  zExe[n] = 0;
  snprintf(zDir, sizeof zDir, "%s", dirname(zExe));
  /* the portal as make builds it (tools/build_web.py), else its sources as they are */
  snprintf(cfg->zWeb, sizeof cfg->zWeb, "%.480s/../build/web", zDir);
  if (stat(cfg->zWeb, &st) != 0 || !S_ISDIR(st.st_mode)) snprintf(cfg->zWeb, sizeof cfg->zWeb, "%.490s/../web", zDir);
  snprintf(cfg->zSchemas, sizeof cfg->zSchemas, "%.490s/../schemas", zDir);
}

/* One setting by name; 0 when known and valid. */
static int config_set(zc_config *cfg, const char *zName, const char *zVal) {
  static const struct { const char *zName; size_t off, n; } aPath[] = {
#define PATH_OPT(name, field) {name, offsetof(zc_config, field), sizeof(((zc_config *)0)->field)}
    PATH_OPT("node", zNode),         PATH_OPT("bind", zBind),
    PATH_OPT("data", zData),         PATH_OPT("manifest", zManifest),
    PATH_OPT("root-pem", zRootPem),  PATH_OPT("key", zKey),
    PATH_OPT("pepper", zPepper),     PATH_OPT("web", zWeb),
    PATH_OPT("schemas", zSchemas),   PATH_OPT("tls-cert", zTlsCert),
    PATH_OPT("tls-key", zTlsKey),    PATH_OPT("tls-ca", zTlsCa),
#undef PATH_OPT
  };
  for (size_t i = 0; i < sizeof aPath / sizeof aPath[0]; i++) {
    if (strcmp(zName, aPath[i].zName) == 0) {
      if (strlen(zVal) >= aPath[i].n) return -1;
      snprintf((char *)cfg + aPath[i].off, aPath[i].n, "%s", zVal);
      return 0;
    }
  }
  static const struct { const char *zName; size_t off; int iMin, iMax; } aInt[] = {
#define INT_OPT(name, field, lo, hi) {name, offsetof(zc_config, field), lo, hi}
    INT_OPT("port", iPort, 1, 65535),
    INT_OPT("fed-port", iFedPort, 1, 65535),
    INT_OPT("secure-cookies", bSecureCookies, 0, 1),
    INT_OPT("transfer-rollback-secs", iTransferRollbackSecs, 1, 86400 * 30),
    INT_OPT("claim-check-secs", iClaimCheckSecs, 1, 86400 * 30),
    INT_OPT("ws-ping-secs", iWsPingSecs, 1, 3600),
#undef INT_OPT
  };
  for (size_t i = 0; i < sizeof aInt / sizeof aInt[0]; i++) {
    if (strcmp(zName, aInt[i].zName) == 0) {
      char *zEnd;
      long v = strtol(zVal, &zEnd, 10);
      if (zEnd == zVal || *zEnd || v < aInt[i].iMin || v > aInt[i].iMax) return -1;
      *(int *)((char *)cfg + aInt[i].off) = (int)v;
      return 0;
    }
  }
  if (strcmp(zName, "max-body") == 0) {
    cfg->nMaxBody = atol(zVal);
    return cfg->nMaxBody >= 1024 ? 0 : -1;
  }
  return -1;
}

static char *trim(char *z) {
  while (*z == ' ' || *z == '\t') z++;
  char *e = z + strlen(z);
  while (e > z && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) *--e = 0;
  return z;
}

/* A config file may spell names with '_' too (secure_cookies = 1). */
static char *dashed(char *z) {
  for (char *c = z; *c; c++)
    if (*c == '_') *c = '-';
  return z;
}

static int config_file(zc_config *cfg, const char *zPath) {
  char zLine[1024];
  int iLine = 0, rc = 0;
  FILE *f = fopen(zPath, "r");
  if (!f) {
    fprintf(stderr, "zc-node: cannot read %s: %s\n", zPath, strerror(errno));
    return -1;
  }
  while (rc == 0 && fgets(zLine, sizeof zLine, f)) {
    iLine++;
    char *z = trim(zLine), *zEq;
    if (*z == 0 || *z == '#') continue;
    if (!(zEq = strchr(z, '=')) || (*zEq = 0, config_set(cfg, dashed(trim(z)), trim(zEq + 1)))) {
      fprintf(stderr, "zc-node: %s:%d: bad setting\n", zPath, iLine);
      rc = -1;
    }
  }
  fclose(f);
  return rc;
}

/* Settings that are on or off: "--secure-cookies" alone means on. */
static int is_switch(const char *zName) { return strcmp(zName, "secure-cookies") == 0; }

int node_config_parse(zc_config *cfg, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *zArg = argv[i];
    if (strncmp(zArg, "--", 2) == 0 && is_switch(zArg + 2) && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)) {
      config_set(cfg, zArg + 2, "1"); /* a switch given alone: on */
      continue;
    }
    if (strncmp(zArg, "--", 2) != 0 || i + 1 >= argc) {
      fprintf(stderr, "zc-node: unexpected argument '%s'\n", zArg);
      return -1;
    }
    const char *zVal = argv[++i];
    if (strcmp(zArg + 2, "config") == 0) {
      if (config_file(cfg, zVal)) return -1;
    } else if (config_set(cfg, zArg + 2, zVal)) {
      fprintf(stderr, "zc-node: bad option %s %s\n", zArg, zVal);
      return -1;
    }
  }
  return 0;
}

static const char *region_field(const zc_node *p, const char *zId, const char *zKey) {
  size_t i;
  json_t *v;
  if (!zId) return NULL;
  json_array_foreach(p->pRegions, i, v) {
    if (strcmp(json_string_value(json_object_get(v, "id")), zId) == 0)
      return json_string_value(json_object_get(v, zKey));
  }
  return NULL;
}

const char *node_region_name(const zc_node *p, const char *zId) {
  return region_field(p, zId, "name");
}

const char *node_region_name_ug(const zc_node *p, const char *zId) {
  return region_field(p, zId, "name_ug");
}

void node_put_region_names(const zc_node *p, json_t *o, const char *zNodeKey, const char *zNameKey) {
  char zUg[64];
  const char *zId = json_string_value(json_object_get(o, zNodeKey));
  const char *zName = node_region_name(p, zId), *zNameUg = node_region_name_ug(p, zId);
  snprintf(zUg, sizeof zUg, "%s_ug", zNameKey);
  json_object_set_new(o, zNameKey, json_string(zName ? zName : ""));
  json_object_set_new(o, zUg, json_string(zNameUg ? zNameUg : ""));
}

static int load_regions(zc_node *p) {
  char zPath[1024];
  json_error_t err;
  snprintf(zPath, sizeof zPath, "%s/regions.json", p->cfg.zSchemas);
  json_t *pAll = json_load_file(zPath, 0, &err);
  if (!pAll || !json_is_array(json_object_get(pAll, "nodes"))) {
    fprintf(stderr, "zc-node: %s: %s\n", zPath, err.text);
    json_decref(pAll);
    return -1;
  }
  p->pRegions = json_incref(json_object_get(pAll, "nodes"));
  json_decref(pAll);
  const char *zName = node_region_name(p, p->cfg.zNode);
  if (!zName) {
    fprintf(stderr, "zc-node: unknown node id %s (see schemas/regions.json)\n", p->cfg.zNode);
    return -1;
  }
  snprintf(p->zName, sizeof p->zName, "%s", zName);
  return 0;
}

static int load_keys(zc_node *p) {
  char zPath[1100];
  snprintf(zPath, sizeof zPath, "%s/secret.key", p->cfg.zData);
  if (secret_load_key(zPath, p->aDataKey, 1)) {
    fprintf(stderr, "zc-node: cannot read or create %s\n", zPath);
    return -1;
  }
  /* the key shared with the payment gateway: the sandbox's own here (payments.h) */
  snprintf(zPath, sizeof zPath, "%s/gateway.key", p->cfg.zData);
  if (secret_load_key(zPath, p->aGatewayKey, 1)) {
    fprintf(stderr, "zc-node: cannot read or create %s\n", zPath);
    return -1;
  }
  /* Without a federation pepper (a node run on its own) the node keeps its own. */
  if (!p->cfg.zPepper[0]) snprintf(p->cfg.zPepper, sizeof p->cfg.zPepper, "%.490s/pepper", p->cfg.zData);
  if (secret_load_key(p->cfg.zPepper, p->aPepper, !p->cfg.zManifest[0])) {
    fprintf(stderr, "zc-node: cannot read the pepper %s\n", p->cfg.zPepper);
    return -1;
  }
  return 0;
}

/* The federation manifest, verified against the region's root key, and this node's keys.
 * A node started without a manifest serves alone (tests of a single node). */
static int load_manifest(zc_node *p) {
  if (!p->cfg.zManifest[0]) return 0;
  if (!p->cfg.zRootPem[0] || !p->cfg.zKey[0]) {
    fprintf(stderr, "zc-node: --manifest needs --root-pem to verify it and --key (this node's private key)\n");
    return -1;
  }
  if (fed_key_load_public(&p->pRoot, p->cfg.zRootPem) || trust_load(&p->pTrust, p)) {
    fprintf(stderr, "zc-node: %s\n", fed_last_error());
    return -1;
  }
  /* A key the manifest lists for this node now: a node never signs with a key the others
   * would not accept. */
  if (!trust_key_at(p->pTrust, p->cfg.zNode, node_now(p), NULL)) {
    fprintf(stderr, "zc-node: key %s: the manifest lists none of its keys for node %s as valid now\n", p->cfg.zKey,
            p->cfg.zNode);
    return -1;
  }
  return 0;
}

int node_open(zc_node *p, const zc_config *cfg) {
  char zPath[1100];
  memset(p, 0, sizeof(*p));
  p->cfg = *cfg;
  p->xNow = clock_now;
  if (fed_file_mkdir_p(p->cfg.zData, 0700)) {
    fprintf(stderr, "zc-node: cannot create %s: %s\n", p->cfg.zData, strerror(errno));
    return -1;
  }
  snprintf(zPath, sizeof zPath, "%s/node.db", p->cfg.zData);
  if (load_regions(p) || load_manifest(p) || load_keys(p) || db_open(&p->db, zPath) ||
      db_migrate(p->db, p->cfg.zSchemas) || section_missing_sync(p->db) || outbox_build_legacy(p) ||
      refdata_load(p) || conditions_load(p) || messages_load(p) || sender_open(p)) {
    node_close(p);
    return -1;
  }
  snprintf(zPath, sizeof zPath, "%s/limits.db", p->cfg.zData);
  if (limiter_open(&p->pLimiter, zPath, p->cfg.zSchemas)) {
    fprintf(stderr, "zc-node: cannot open the login limits %s\n", zPath);
    node_close(p);
    return -1;
  }
  /* Files nothing refers to any more (personal data among them) do not stay on disk; an
   * hour's grace covers uploads whose request is still in flight elsewhere. */
  int nSwept = blob_release(p) + blob_sweep(p->cfg.zData, node_now(p) - 3600, blob_in_use, p);
  if (nSwept) fprintf(stderr, "zc-node: removed %d unused uploaded files\n", nSwept);
  return 0;
}

void node_close(zc_node *p) {
  db_close(p->db);
  p->db = NULL;
  limiter_close(p->pLimiter);
  p->pLimiter = NULL;
  json_decref(p->pRegions);
  json_decref(p->pConditions);
  messages_free(p);
  p->pConditions = NULL;
  free(p->pSmtp);
  p->pSmtp = NULL;
  trust_free(p->pTrust);
  fed_key_free(p->pRoot);
  p->pTrust = NULL;
  p->pRoot = NULL;
  free(p->zCatalogJson);
  p->pRegions = NULL;
  p->zCatalogJson = NULL;
}

int node_failpoint_named(const char *zWhere) {
  const char *z = getenv("ZC_FAILPOINT");
  return z && strcmp(z, zWhere) == 0;
}

static void failpoint_kill(const char *zWhere) {
  fprintf(stderr, "zc-node: failpoint %s: killed\n", zWhere);
  raise(SIGKILL);
}

void node_failpoint(const char *zWhere) {
  if (node_failpoint_named(zWhere)) failpoint_kill(zWhere);
}

/* SQLite calls a connection's WAL hook once a commit is in the WAL and its lock released:
 * the change is durable, nothing after it has run. */
static int failpoint_committed(void *pArg, sqlite3 *db, const char *zDb, int nPages) {
  (void)db, (void)zDb, (void)nPages;
  failpoint_kill(pArg);
  return SQLITE_OK;
}

void node_failpoint_at_commit(sqlite3 *db, const char *zWhere) {
  if (node_failpoint_named(zWhere)) sqlite3_wal_hook(db, failpoint_committed, (void *)zWhere);
}
