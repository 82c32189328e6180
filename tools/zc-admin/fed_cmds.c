/* fed_cmds.c - zc-admin subcommands for node keys and the signed federation manifest:
 * keygen, manifest, verify-manifest (declared in cmds.h). */
#include "cmds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fed_error.h"
#include "keys.h"
#include "manifest.h"
#include "tls.h"
#include "rfc3339.h"

#define DAY_SECONDS 86400
#define MAX_NODES 64

/* Match option zName at argv[*pi] and take its value: 1 taken, 0 not this option,
 * -1 the value is missing (reported). */
static int opt_take(int argc, char **argv, int *pi, const char *zName, const char **pzValue) {
  if (strcmp(argv[*pi], zName) != 0) return 0;
  if (*pi + 1 >= argc) {
    fprintf(stderr, "zc-admin %s: %s needs a value\n", argv[0], zName);
    return -1;
  }
  *pzValue = argv[++*pi];
  return 1;
}

static int usage_error(const char *zCmd, const char *zUsage, const char *zWhy) {
  if (zWhy) fprintf(stderr, "zc-admin %s: %s\n", zCmd, zWhy);
  fprintf(stderr, "usage: zc-admin %s %s\n", zCmd, zUsage);
  return 2;
}

#define NOT_BEFORE_FORMAT "--not-before must be an RFC 3339 UTC time, e.g. 2024-01-01T00:00:00Z"

/* A whole number 1..nMax from z; 0, or -1 when it is not one. */
static int parse_count(long *out, const char *z, long nMax) {
  char *zEnd = NULL;
  long n = strtol(z, &zEnd, 10);
  if (zEnd == z || *zEnd || n < 1 || n > nMax) return -1;
  *out = n;
  return 0;
}

/* ---- keygen ------------------------------------------------------------------------- */

#define KEYGEN_USAGE "--out DIR --id ID [--force]"

int cmd_keygen(int argc, char **argv) {
  int rc = 1;
  const char *zDir = NULL, *zId = NULL;
  int bForce = 0;
  char *zKeyPath = NULL, *zPemPath = NULL;
  fed_key *pKey = NULL;
  char zFingerprint[FED_FINGERPRINT_SIZE];
  struct stat st;
  for (int i = 1; i < argc; i++) {
    int k;
    if ((k = opt_take(argc, argv, &i, "--out", &zDir)) || (k = opt_take(argc, argv, &i, "--id", &zId))) {
      if (k < 0) return 2;
    } else if (strcmp(argv[i], "--force") == 0) {
      bForce = 1;
    } else {
      fprintf(stderr, "zc-admin keygen: unknown option %s\n", argv[i]);
      return usage_error("keygen", KEYGEN_USAGE, NULL);
    }
  }
  if (zDir == NULL || zId == NULL) return usage_error("keygen", KEYGEN_USAGE, "--out and --id are required");
  if (!fed_manifest_id_valid(zId)) {
    return usage_error("keygen", KEYGEN_USAGE, "ID must be 1-15 of A-Z a-z 0-9 _ - (a node id, or \"root\")");
  }
  if (mkdir(zDir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "zc-admin keygen: cannot create %s: %s\n", zDir, strerror(errno));
    goto done;
  }
  if (asprintf(&zKeyPath, "%s/%s.key", zDir, zId) < 0 || asprintf(&zPemPath, "%s/%s.pem", zDir, zId) < 0) {
    zKeyPath = zPemPath = NULL; /* asprintf leaves them undefined on failure */
    fprintf(stderr, "zc-admin keygen: out of memory\n");
    goto done;
  }
  if (!bForce && lstat(zKeyPath, &st) == 0) {
    fprintf(stderr, "zc-admin keygen: %s already exists; not replaced (use --force to replace the key, "
                    "after which everything it signed stops verifying)\n", zKeyPath);
    goto done;
  }
  if (fed_key_generate(&pKey) || fed_key_write_private(pKey, zKeyPath) || fed_key_write_public(pKey, zPemPath) ||
      fed_key_fingerprint(zFingerprint, pKey)) {
    fprintf(stderr, "zc-admin keygen: %s\n", fed_last_error());
    goto done;
  }
  printf("%s %s\n", zId, zFingerprint);
  rc = 0;
done:
  fed_key_free(pKey);
  free(zKeyPath);
  free(zPemPath);
  return rc;
}

/* ---- manifest ----------------------------------------------------------------------- */

#define MANIFEST_USAGE                                                                      \
  "--root DIR/root.key --out DIR/federation.json --node ID,NAME,URL,PEMFILE [--node ...]\n" \
  "       [--fed ID,WSSURL,CERTFILE ...]  (the node's federation port and the TLS certificate it pins)\n" \
  "       [--valid-days N (default 3650)] [--not-before RFC3339 (default: each key file's time)]"

/* One --node ID,NAME,URL,PEMFILE, split in place: the id is up to the first comma, the
 * key file after the last, the URL between the last two; the name is the rest (it may
 * hold commas). */
typedef struct node_spec {
  char *zId;
  char *zName;
  char *zUrl;
  char *zPemFile;
} node_spec;

static int node_spec_parse(node_spec *p, char *zSpec) {
  char *zFirst = strchr(zSpec, ',');
  char *zLast = strrchr(zSpec, ',');
  char *zUrlComma;
  if (zFirst == NULL || zLast == zFirst) return -1;
  *zLast = 0;
  zUrlComma = strrchr(zSpec, ',');
  if (zUrlComma == zFirst) return -1;
  *zFirst = 0;
  *zUrlComma = 0;
  p->zId = zSpec;
  p->zName = zFirst + 1;
  p->zUrl = zUrlComma + 1;
  p->zPemFile = zLast + 1;
  return p->zName[0] && p->zUrl[0] && p->zPemFile[0] ? 0 : -1;
}

/* Add node p with key "<id>#1" from its PEM file, valid from tNotBefore (or the file's
 * modification time, when the key was made: stable, so that signing the manifest again
 * never invalidates entries already signed) for nDays. */
static int manifest_add_spec(fed_manifest *m, const node_spec *p, time_t tNotBefore, long nDays) {
  int rc = FED_OK;
  fed_key *pKey = NULL;
  char *zPem = NULL;
  char zKeyId[FED_NODE_ID_MAX + 3];
  struct stat st;
  rc = fed_manifest_add_node(m, p->zId, p->zName, p->zUrl);
  if (rc != FED_OK) goto done;
  rc = fed_key_load_public(&pKey, p->zPemFile);
  if (rc != FED_OK) goto done;
  rc = fed_key_public_pem(&zPem, NULL, pKey);
  if (rc != FED_OK) goto done;
  if (tNotBefore == 0) {
    if (stat(p->zPemFile, &st) != 0) {
      rc = fed_error_set(FED_ERROR, "%s: %s", p->zPemFile, strerror(errno));
      goto done;
    }
    tNotBefore = st.st_mtime;
  }
  snprintf(zKeyId, sizeof(zKeyId), "%s#1", p->zId);
  rc = fed_manifest_add_key(m, p->zId, zKeyId, zPem, tNotBefore, tNotBefore + (time_t)nDays * DAY_SECONDS);
done:
  free(zPem);
  fed_key_free(pKey);
  return rc;
}

/* One --fed ID,WSSURL,CERTFILE: the node's federation URL and the pin of its certificate. */
static int manifest_add_fed(fed_manifest *m, char *zSpec) {
  char *zFirst = strchr(zSpec, ','), *zLast = strrchr(zSpec, ',');
  char zPin[FED_SHA256_HEX_SIZE];
  if (!zFirst || zFirst == zLast) return fed_error_set(FED_EINVALID, "not ID,WSSURL,CERTFILE");
  *zFirst = *zLast = 0;
  int rc = fed_tls_cert_pin(zPin, zLast + 1);
  return rc ? rc : fed_manifest_set_node_fed(m, zSpec, zFirst + 1, zPin);
}

int cmd_manifest(int argc, char **argv) {
  int rc = 1;
  const char *zRoot = NULL, *zOut = NULL, *zDays = NULL, *zNotBefore = NULL;
  node_spec aNode[MAX_NODES];
  char *azFed[MAX_NODES];
  int nNode = 0, nFed = 0;
  long nDays = 3650;
  time_t tNotBefore = 0;
  fed_key *pRoot = NULL;
  fed_manifest *m = NULL;
  for (int i = 1; i < argc; i++) {
    const char *zNode = NULL;
    int k;
    if ((k = opt_take(argc, argv, &i, "--root", &zRoot)) || (k = opt_take(argc, argv, &i, "--out", &zOut)) ||
        (k = opt_take(argc, argv, &i, "--valid-days", &zDays)) ||
        (k = opt_take(argc, argv, &i, "--not-before", &zNotBefore))) {
      if (k < 0) return 2;
    } else if ((k = opt_take(argc, argv, &i, "--node", &zNode)) != 0) {
      if (k < 0) return 2;
      if (nNode == MAX_NODES) return usage_error("manifest", MANIFEST_USAGE, "too many --node");
      if (node_spec_parse(&aNode[nNode], argv[i]) != 0) {
        fprintf(stderr, "zc-admin manifest: --node %s is not ID,NAME,URL,PEMFILE\n", zNode);
        return 2;
      }
      nNode++;
    } else if ((k = opt_take(argc, argv, &i, "--fed", &zNode)) != 0) {
      if (k < 0) return 2;
      if (nFed == MAX_NODES) return usage_error("manifest", MANIFEST_USAGE, "too many --fed");
      azFed[nFed++] = argv[i];
    } else {
      fprintf(stderr, "zc-admin manifest: unknown option %s\n", argv[i]);
      return usage_error("manifest", MANIFEST_USAGE, NULL);
    }
  }
  if (zRoot == NULL || zOut == NULL || nNode == 0) {
    return usage_error("manifest", MANIFEST_USAGE, "--root, --out and at least one --node are required");
  }
  if (zDays && parse_count(&nDays, zDays, 36500)) {
    return usage_error("manifest", MANIFEST_USAGE, "--valid-days must be a whole number of days, 1 to 36500");
  }
  if (zNotBefore && fed_rfc3339_parse(&tNotBefore, zNotBefore) != FED_OK) {
    return usage_error("manifest", MANIFEST_USAGE, NOT_BEFORE_FORMAT);
  }
  if (fed_key_load_private(&pRoot, zRoot) || fed_manifest_new(&m, pRoot, time(NULL))) {
    fprintf(stderr, "zc-admin manifest: root key: %s\n", fed_last_error());
    goto done;
  }
  for (int i = 0; i < nNode; i++) {
    if (manifest_add_spec(m, &aNode[i], tNotBefore, nDays) != FED_OK) {
      fprintf(stderr, "zc-admin manifest: node %s: %s\n", aNode[i].zId, fed_last_error());
      goto done;
    }
  }
  for (int i = 0; i < nFed; i++) {
    if (manifest_add_fed(m, azFed[i]) != FED_OK) {
      fprintf(stderr, "zc-admin manifest: --fed %s: %s\n", azFed[i], fed_last_error());
      goto done;
    }
  }
  if (fed_manifest_write(m, zOut, pRoot) != FED_OK) {
    fprintf(stderr, "zc-admin manifest: %s\n", fed_last_error());
    goto done;
  }
  printf("signed %s: %d node%s\n", zOut, nNode, nNode == 1 ? "" : "s");
  rc = 0;
done:
  fed_manifest_free(m);
  fed_key_free(pRoot);
  return rc;
}

/* ---- TLS certificates ------------------------------------------------------------------ */

#define TLS_ROOT_USAGE "--root DIR/root.key --out DIR/root.crt"
#define TLS_CERT_USAGE "--root DIR/root.key --root-cert DIR/root.crt --node ID --key-out F --cert-out F"

int cmd_tls_root(int argc, char **argv) {
  const char *zRoot = NULL, *zOut = NULL;
  fed_key *pRoot = NULL;
  for (int i = 1; i < argc; i++) {
    int k;
    if ((k = opt_take(argc, argv, &i, "--root", &zRoot)) || (k = opt_take(argc, argv, &i, "--out", &zOut))) {
      if (k < 0) return 2;
    } else {
      return usage_error("tls-root", TLS_ROOT_USAGE, "unknown option");
    }
  }
  if (!zRoot || !zOut) return usage_error("tls-root", TLS_ROOT_USAGE, "--root and --out are required");
  int rc = fed_key_load_private(&pRoot, zRoot);
  if (rc == FED_OK) rc = fed_tls_root_cert(pRoot, zOut, time(NULL));
  fed_key_free(pRoot);
  if (rc) fprintf(stderr, "zc-admin tls-root: %s\n", fed_last_error());
  return rc ? 1 : 0;
}

int cmd_tls_cert(int argc, char **argv) {
  const char *zRoot = NULL, *zRootCert = NULL, *zNode = NULL, *zKeyOut = NULL, *zCertOut = NULL;
  fed_key *pRoot = NULL;
  for (int i = 1; i < argc; i++) {
    int k;
    if ((k = opt_take(argc, argv, &i, "--root", &zRoot)) || (k = opt_take(argc, argv, &i, "--root-cert", &zRootCert)) ||
        (k = opt_take(argc, argv, &i, "--node", &zNode)) || (k = opt_take(argc, argv, &i, "--key-out", &zKeyOut)) ||
        (k = opt_take(argc, argv, &i, "--cert-out", &zCertOut))) {
      if (k < 0) return 2;
    } else {
      return usage_error("tls-cert", TLS_CERT_USAGE, "unknown option");
    }
  }
  if (!zRoot || !zRootCert || !zNode || !zKeyOut || !zCertOut)
    return usage_error("tls-cert", TLS_CERT_USAGE, "every option is required");
  if (!fed_manifest_id_valid(zNode)) return usage_error("tls-cert", TLS_CERT_USAGE, "--node is not a node id");
  int rc = fed_key_load_private(&pRoot, zRoot);
  if (rc == FED_OK) rc = fed_tls_node_cert(pRoot, zRootCert, zNode, zKeyOut, zCertOut, time(NULL));
  fed_key_free(pRoot);
  if (rc) fprintf(stderr, "zc-admin tls-cert: %s\n", fed_last_error());
  return rc ? 1 : 0;
}

/* ---- verify-manifest ---------------------------------------------------------------- */

#define VERIFY_USAGE "--manifest FILE --root-pem ROOT.pem"

static void print_node(const fed_manifest *m, size_t iNode, time_t tNow) {
  printf("%s\t%s\t%s\n", fed_manifest_node_id(m, iNode), fed_manifest_node_name(m, iNode),
         fed_manifest_node_url(m, iNode));
  for (size_t j = 0; j < fed_manifest_key_count(m, iNode); j++) {
    const fed_manifest_key *k = fed_manifest_key_get(m, iNode, j);
    char zFrom[FED_RFC3339_SIZE], zTo[FED_RFC3339_SIZE];
    const char *zState = tNow < k->tNotBefore ? "not yet valid" : tNow > k->tNotAfter ? "retired" : "valid";
    fed_rfc3339_format(zFrom, k->tNotBefore);
    fed_rfc3339_format(zTo, k->tNotAfter);
    printf("  key %s %s %s..%s %s\n", k->zId, k->zFingerprint, zFrom, zTo, zState);
  }
}

int cmd_verify_manifest(int argc, char **argv) {
  const char *zManifest = NULL, *zRootPem = NULL;
  fed_manifest *m = NULL;
  char zIssued[FED_RFC3339_SIZE];
  time_t tNow = time(NULL);
  for (int i = 1; i < argc; i++) {
    int k;
    if ((k = opt_take(argc, argv, &i, "--manifest", &zManifest)) ||
        (k = opt_take(argc, argv, &i, "--root-pem", &zRootPem))) {
      if (k < 0) return 2;
    } else {
      fprintf(stderr, "zc-admin verify-manifest: unknown option %s\n", argv[i]);
      return usage_error("verify-manifest", VERIFY_USAGE, NULL);
    }
  }
  if (zManifest == NULL || zRootPem == NULL) {
    return usage_error("verify-manifest", VERIFY_USAGE, "--manifest and --root-pem are required");
  }
  if (fed_manifest_load(&m, zManifest, zRootPem) != FED_OK) {
    fprintf(stderr, "zc-admin verify-manifest: INVALID: %s\n", fed_last_error());
    return 1;
  }
  fed_rfc3339_format(zIssued, fed_manifest_issued(m));
  printf("%s: signature valid (root %s), issued %s, %zu node%s\n", zManifest, zRootPem, zIssued,
         fed_manifest_node_count(m), fed_manifest_node_count(m) == 1 ? "" : "s");
  for (size_t i = 0; i < fed_manifest_node_count(m); i++) print_node(m, i, tNow);
  fed_manifest_free(m);
  return 0;
}

/* ---- rotate-key --------------------------------------------------------------------- */

#define ROTATE_USAGE                                                                         \
  "--manifest DIR/federation.json --root DIR/root.key --node ID --key DIR/ID.key\n"          \
  "       [--not-before RFC3339 (default: now)] [--overlap-hours N (default 24)] [--valid-days N (default 3650)]"

/* A free key id of node zNode: "<zNode>#<n>" with n past every listed one. */
static void next_key_id(char *zOut, size_t nOut, const fed_manifest *m, int iNode, const char *zNode) {
  long nMax = 0;
  for (size_t j = 0; j < fed_manifest_key_count(m, (size_t)iNode); j++) {
    const char *zSuffix = strchr(fed_manifest_key_get(m, (size_t)iNode, j)->zId, '#');
    long n = zSuffix ? strtol(zSuffix + 1, NULL, 10) : 0;
    if (n > nMax) nMax = n;
  }
  snprintf(zOut, nOut, "%s#%ld", zNode, nMax + 1);
}

/* Retire node iNode's keys by tRetire (each keeps its listing: what it signed before
 * still verifies), list pNew from tNotBefore, date the edition after the old one. */
static int manifest_rotate(fed_manifest *m, int iNode, const char *zNewId, const fed_key *pNew, time_t tNotBefore,
                           time_t tRetire, long nDays) {
  char *zPem = NULL;
  int rc = FED_OK;
  for (size_t j = 0; j < fed_manifest_key_count(m, (size_t)iNode) && rc == FED_OK; j++) {
    const fed_manifest_key *k = fed_manifest_key_get(m, (size_t)iNode, j);
    if (k->tNotAfter > tRetire) rc = fed_manifest_set_key_not_after(m, k->zId, tRetire < k->tNotBefore ? k->tNotBefore : tRetire);
  }
  if (rc == FED_OK) rc = fed_key_public_pem(&zPem, NULL, pNew);
  if (rc == FED_OK)
    rc = fed_manifest_add_key(m, fed_manifest_node_id(m, (size_t)iNode), zNewId, zPem, tNotBefore,
                              tNotBefore + (time_t)nDays * DAY_SECONDS);
  time_t tNow = time(NULL), tLast = fed_manifest_issued(m);
  fed_manifest_set_issued(m, tNow > tLast ? tNow : tLast + 1);
  free(zPem);
  return rc;
}

/* The node's key file with the new private key after its old ones. */
static int keyfile_append(const char *zKeyFile, fed_key *pNew) {
  fed_key **a = NULL, *aAll[FED_KEYS_MAX];
  size_t n = 0;
  int rc = fed_keys_load_private(&a, &n, zKeyFile);
  if (rc == FED_OK && n == FED_KEYS_MAX) rc = fed_error_set(FED_EINVALID, "%s holds %d keys already", zKeyFile, FED_KEYS_MAX);
  if (rc == FED_OK) {
    for (size_t i = 0; i < n; i++) aAll[i] = a[i];
    aAll[n] = pNew;
    rc = fed_keys_write_private(aAll, n + 1, zKeyFile);
  }
  fed_keys_free(a, n);
  return rc;
}

int cmd_rotate_key(int argc, char **argv) {
  const char *zManifest = NULL, *zRoot = NULL, *zNode = NULL, *zKeyFile = NULL, *zNotBefore = NULL;
  const char *zOverlap = NULL, *zDays = NULL;
  long nOverlap = 24, nDays = 3650;
  time_t tNotBefore = time(NULL);
  fed_key *pRoot = NULL, *pNew = NULL;
  fed_manifest *m = NULL;
  char *zJson = NULL, *aSig = NULL, zNewId[FED_NODE_ID_MAX + 24], zFp[FED_FINGERPRINT_SIZE], zFrom[FED_RFC3339_SIZE];
  size_t nJson = 0, nSig = 0;
  int rc = 1, iNode;
  for (int i = 1; i < argc; i++) {
    int k;
    if ((k = opt_take(argc, argv, &i, "--manifest", &zManifest)) || (k = opt_take(argc, argv, &i, "--root", &zRoot)) ||
        (k = opt_take(argc, argv, &i, "--node", &zNode)) || (k = opt_take(argc, argv, &i, "--key", &zKeyFile)) ||
        (k = opt_take(argc, argv, &i, "--not-before", &zNotBefore)) ||
        (k = opt_take(argc, argv, &i, "--overlap-hours", &zOverlap)) ||
        (k = opt_take(argc, argv, &i, "--valid-days", &zDays))) {
      if (k < 0) return 2;
    } else {
      fprintf(stderr, "zc-admin rotate-key: unknown option %s\n", argv[i]);
      return usage_error("rotate-key", ROTATE_USAGE, NULL);
    }
  }
  if (!zManifest || !zRoot || !zNode || !zKeyFile)
    return usage_error("rotate-key", ROTATE_USAGE, "--manifest, --root, --node and --key are required");
  if (zNotBefore && fed_rfc3339_parse(&tNotBefore, zNotBefore) != FED_OK)
    return usage_error("rotate-key", ROTATE_USAGE, NOT_BEFORE_FORMAT);
  /* An entry already signed with the old key at a time past its new end would stop verifying. */
  if (tNotBefore < time(NULL) - 60) return usage_error("rotate-key", ROTATE_USAGE, "--not-before lies in the past");
  if ((zOverlap && parse_count(&nOverlap, zOverlap, 24 * 365)) || (zDays && parse_count(&nDays, zDays, 36500)))
    return usage_error("rotate-key", ROTATE_USAGE, "--overlap-hours and --valid-days take whole numbers from 1");
  if (fed_key_load_private(&pRoot, zRoot) || fed_manifest_read_files(&zJson, &nJson, &aSig, &nSig, zManifest) ||
      fed_manifest_load_buffer(&m, zJson, nJson, (const unsigned char *)aSig, nSig, pRoot)) {
    fprintf(stderr, "zc-admin rotate-key: %s\n", fed_last_error());
    goto done;
  }
  if ((iNode = fed_manifest_find_node(m, zNode)) < 0) {
    fprintf(stderr, "zc-admin rotate-key: the manifest lists no node %s\n", zNode);
    goto done;
  }
  next_key_id(zNewId, sizeof zNewId, m, iNode, zNode);
  /* The key file first: a new key nobody lists yet is harmless; a listed key the node
   * does not hold would leave it unable to sign once the old one retires. */
  if (fed_key_generate(&pNew) || fed_key_fingerprint(zFp, pNew) ||
      manifest_rotate(m, iNode, zNewId, pNew, tNotBefore, tNotBefore + nOverlap * 3600, nDays) ||
      keyfile_append(zKeyFile, pNew) || fed_manifest_write(m, zManifest, pRoot)) {
    fprintf(stderr, "zc-admin rotate-key: %s\n", fed_last_error());
    goto done;
  }
  fed_rfc3339_format(zFrom, tNotBefore);
  printf("%s %s from %s; the node takes it on SIGHUP, its peers over the federation\n", zNewId, zFp, zFrom);
  rc = 0;
done:
  fed_manifest_free(m);
  fed_key_free(pRoot);
  fed_key_free(pNew);
  free(zJson);
  free(aSig);
  return rc;
}
