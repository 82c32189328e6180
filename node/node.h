/* node.h - the one context a node runs with: its configuration, its database and the
 * reference data it serves. Created by main.c (or zc-admin), passed to every handler. */
#ifndef ZC_NODE_H
#define ZC_NODE_H

#include <sqlite3.h>
#include <jansson.h>
#include <time.h>

/* The region (自治区) node: the registrar, and where jurisdiction falls back to when a
 * prefecture has no committee for a title (DESIGN.md). */
#define ZC_REGION_NODE "650000"

typedef struct zc_config {
  char zNode[16];       /* node id, e.g. "650000" */
  int  iPort;           /* HTTP port on 127.0.0.1 (or zBind) */
  char zBind[64];       /* address to listen on; default 127.0.0.1 */
  char zData[512];      /* data directory: node.db, blobs/, secret.key, fedlog.git */
  char zManifest[512];  /* federation.json (signed manifest) */
  char zRootPem[512];   /* the region's root public key that signs the manifest */
  char zKey[512];       /* this node's Ed25519 private key (PEM) */
  char zPepper[512];    /* the federation's pepper for ID-number digests */
  int  iFedPort;        /* the federation's TLS WebSocket (wss://, zc-fed.1); 0: none */
  char zTlsCert[512];   /* this node's TLS certificate (PEM), issued under the federation's root */
  char zTlsKey[512];    /* its private key (PEM) */
  char zTlsCa[512];     /* the federation's root certificate: peers' certificates chain to it */
  char zWeb[512];       /* web/ directory served as static files */
  char zSchemas[512];   /* schemas/ directory: migrations and reference data */
  long nMaxBody;        /* largest JSON body accepted, bytes */
  int bSecureCookies;   /* cookies carry Secure: the node is reached over HTTPS (a TLS proxy) */
  int iClaimCheckSecs;  /* registrar: an identity claim still unmatched after this long is
                           checked with its node, and released if never used (claims.h) */
  int iTransferRollbackSecs; /* old home: a region transfer not accepted in this long is
                                rolled back (transfer.h) */
  int iWsPingSecs;      /* the portal's WebSockets (zc-live, zc-qr): pinged after this long
                           with nothing heard, closed after twice as long (server.c) */
} zc_config;

typedef struct zc_node {
  zc_config cfg;
  sqlite3 *db;
  char zName[64];              /* this node's name, e.g. "自治区" */
  unsigned char aDataKey[32];  /* encrypts ID numbers at rest */
  unsigned char aGatewayKey[32]; /* signs the payment gateway's notifications (payments.h) */
  unsigned char aPepper[32];   /* keyed digest of ID numbers, shared by the federation */
  json_t *pRegions;            /* schemas/regions.json "nodes" */
  json_t *pConditions;         /* schemas/conditions.json (conditions.h) */
  json_t *apMessages[2];       /* schemas/messages/<lang>.json, by enum zc_lang (messages.h) */
  struct smtp_config *pSmtp;   /* DATA/smtp.json, or NULL: e-mail stays in the outbox (sender.h) */
  struct zc_trust *pTrust;        /* the manifest and the keys this node holds (trust.h) */
  struct fed_key *pRoot;          /* the region's root public key, which signs manifests */
  char *zCatalogJson;          /* GET /catalog, serialised once */
  size_t nCatalogJson;
  time_t (*xNow)(void);        /* the clock; tests may replace it */
  struct zc_limiter *pLimiter; /* failed-login counters, DIR/limits.db (limiter.h) */
  int bRecovering;             /* its own log not yet checked against its peers' copies
                                  (fedlink.c): changes that emit entries wait (503) */
} zc_node;

/* Fill cfg with defaults (paths relative to the executable's ../web, ../schemas). */
void node_config_defaults(zc_config *cfg, const char *zArgv0);
/* Parse "--name value" flags and, with --config FILE, "name = value" lines. 0 on success;
 * otherwise prints a message to stderr and returns -1. */
int node_config_parse(zc_config *cfg, int argc, char **argv);

/* Open the data directory and database, run migrations, load reference data and keys.
 * 0 on success; -1 with a message on stderr. */
int node_open(zc_node *p, const zc_config *cfg);
void node_close(zc_node *p);

/* Name of a region/node id from schemas/regions.json, or NULL when unknown. */
const char *node_region_name(const zc_node *p, const char *zId);
/* Its Uyghur name (name_ug in regions.json), or NULL. */
const char *node_region_name_ug(const zc_node *p, const char *zId);
/* Put the names of the node o[zNodeKey] into o: zNameKey (e.g. "node_name") and
 * zNameKey + "_ug", "" for an unknown node. */
void node_put_region_names(const zc_node *p, json_t *o, const char *zNodeKey, const char *zNameKey);

time_t node_now(const zc_node *p);
/* Now in China Standard Time (UTC+8, no daylight saving), where the region's people and
 * its calendar dates live, formatted by strftime's zFmt into z (size n). */
void node_beijing_time(const zc_node *p, const char *zFmt, char *z, size_t n);

/* Tests of crashes at a precise moment: when the environment's ZC_FAILPOINT names zWhere,
 * the process kills itself there with SIGKILL (as `kill -9` would). Documented per use. */
void node_failpoint(const char *zWhere);
/* The same, once the transaction under way on db has committed (before anything that
 * follows the commit, such as the answer or the log writer, has run; a rollback leaves it
 * armed for the next commit). The event loop's connection only: the hook replaces the
 * one that wakes db_checkpoint_in_background, which no longer matters once it is armed. */
void node_failpoint_at_commit(sqlite3 *db, const char *zWhere);
/* Does the environment's ZC_FAILPOINT name zWhere (a failpoint that does not kill, e.g.
 * the log writer's slow_log)? */
int node_failpoint_named(const char *zWhere);
/* RFC 3339 UTC times: fed_rfc3339_format (federation/rfc3339.h). */

#endif
