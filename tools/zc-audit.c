/* zc-audit.c - bin/zc-audit: audit a federation's signed logs against its manifest.
 *
 *   zc-audit DIR                          a zc-fed directory: DIR/federation.json,
 *                                         DIR/keys/root.pem, DIR/<node id>/fedlog.git
 *   zc-audit --data NODEDIR --manifest FILE [--root-pem P]
 *   --schemas DIR                         committees.json and catalog.json, by which
 *                                         routings are judged (default: ../schemas beside
 *                                         the binary's directory; none there: not judged)
 *   --in-flight-secs N                    a claim or a registration younger than N
 *                                         seconds (default 300) may still wait for its
 *                                         other half (audit_rules.h): not yet a finding
 *
 * Prints one line per finding on stdout, "CODE ORIGIN SEQ detail" (API.md, "Tools";
 * fed_audit_finding_format), nothing else there; a summary on stderr. Exits 0 only when
 * there are no findings, 1 when there are (or the audit could not run), 2 on a usage
 * error. Every node's log is checked at once, on every core. The checks live in
 * federation/audit.c; this is only the command line. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit.h"
#include "fed_error.h"
#include "manifest.h"

#define USAGE                                                  \
  "usage: zc-audit [--in-flight-secs N] [--schemas DIR] DIR\n"  \
  "       zc-audit [--in-flight-secs N] [--schemas DIR] --data NODEDIR --manifest FILE [--root-pem P]\n"

typedef struct audit_args {
  const char *zDir;       /* zc-fed directory mode */
  const char *zData;      /* one node's data directory */
  const char *zManifest;
  const char *zRootPem;
  const char *zInFlight;  /* seconds a claim or registration waits for its other half */
  const char *zSchemas;   /* committees.json and catalog.json, for wrong_jurisdiction */
} audit_args;

static void print_finding(const fed_audit_finding *f, void *payload) {
  char zLine[2048];
  (void)payload;
  fed_audit_finding_format(zLine, sizeof(zLine), f);
  printf("%s\n", zLine);
}

static int args_parse(audit_args *p, int argc, char **argv) {
  memset(p, 0, sizeof(*p));
  for (int i = 1; i < argc; i++) {
    const char **pz = NULL;
    if (strcmp(argv[i], "--data") == 0) pz = &p->zData;
    else if (strcmp(argv[i], "--manifest") == 0) pz = &p->zManifest;
    else if (strcmp(argv[i], "--root-pem") == 0) pz = &p->zRootPem;
    else if (strcmp(argv[i], "--in-flight-secs") == 0) pz = &p->zInFlight;
    else if (strcmp(argv[i], "--schemas") == 0) pz = &p->zSchemas;
    else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return -1;
    if (pz) {
      if (i + 1 >= argc) return -1;
      *pz = argv[++i];
    } else if (argv[i][0] == '-' || p->zDir) {
      fprintf(stderr, "zc-audit: unexpected argument %s\n", argv[i]);
      return -1;
    } else {
      p->zDir = argv[i];
    }
  }
  if (p->zInFlight && strspn(p->zInFlight, "0123456789") != strlen(p->zInFlight)) return -1;
  if (p->zDir && (p->zData || p->zManifest)) return -1;
  if (p->zDir == NULL && (p->zData == NULL || p->zManifest == NULL)) return -1;
  return 0;
}

static int is_dir(const char *zPath) {
  struct stat st;
  return stat(zPath, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *zPath) {
  struct stat st;
  return stat(zPath, &st) == 0 && S_ISREG(st.st_mode);
}

/* Load the manifest: against the given root, else keys/root.pem beside it, else (with a
 * warning) against the root it names. NULL after printing why. */
static fed_manifest *manifest_open(const audit_args *p, char *zDefaultRoot, size_t nDefaultRoot) {
  fed_manifest *m = NULL;
  const char *zManifest = p->zManifest;
  const char *zRoot = p->zRootPem;
  char zManifestBuf[4096];
  int rc;
  if (p->zDir) {
    snprintf(zManifestBuf, sizeof(zManifestBuf), "%s/federation.json", p->zDir);
    zManifest = zManifestBuf;
    snprintf(zDefaultRoot, nDefaultRoot, "%s/keys/root.pem", p->zDir);
    zRoot = zDefaultRoot;
  } else if (zRoot == NULL) {
    char *zCopy = strdup(zManifest);
    if (zCopy) snprintf(zDefaultRoot, nDefaultRoot, "%s/keys/root.pem", dirname(zCopy));
    free(zCopy);
    if (is_file(zDefaultRoot)) zRoot = zDefaultRoot;
  }
  if (zRoot) {
    rc = fed_manifest_load(&m, zManifest, zRoot);
  } else {
    fprintf(stderr, "zc-audit: warning: no root key given (--root-pem): the manifest's signature is checked "
                    "only against the root it names itself\n");
    rc = fed_manifest_load_unpinned(&m, zManifest);
  }
  if (rc != FED_OK) {
    printf("%s - - manifest %s: %s\n", rc == FED_EBADSIG ? "bad_signature" : "unreadable", zManifest,
           fed_last_error());
  }
  return m;
}

/* The logs to audit: labels and git directories (malloc'd strings) of those present. */
typedef struct log_list {
  char *azLabel[FED_AUDIT_LOGS_MAX];
  char *azGitDir[FED_AUDIT_LOGS_MAX];
  size_t n;
} log_list;

/* Add zNodeDir/fedlog.git if it exists (no log written yet is nothing to check, not a
 * finding). -1 when out of memory or past the limit. */
static int log_list_add(log_list *p, const char *zLabel, const char *zNodeDir) {
  char zGitDir[4096];
  snprintf(zGitDir, sizeof(zGitDir), "%s/fedlog.git", zNodeDir);
  if (!is_dir(zGitDir)) return 0;
  if (p->n == FED_AUDIT_LOGS_MAX) {
    fprintf(stderr, "zc-audit: more than %d logs\n", FED_AUDIT_LOGS_MAX);
    return -1;
  }
  p->azLabel[p->n] = strdup(zLabel);
  p->azGitDir[p->n] = strdup(zGitDir);
  p->n++;
  return p->azLabel[p->n - 1] && p->azGitDir[p->n - 1] ? 0 : -1;
}

static void log_list_free(log_list *p) {
  for (size_t i = 0; i < p->n; i++) {
    free(p->azLabel[i]);
    free(p->azGitDir[i]);
  }
}

/* The logs of the directory (every manifest node's) or of the one data directory. */
static int log_list_fill(log_list *p, const audit_args *args, const fed_manifest *m, int *pnPlaces) {
  if (args->zDir) {
    for (size_t i = 0; i < fed_manifest_node_count(m); i++) {
      char zNodeDir[4096];
      snprintf(zNodeDir, sizeof(zNodeDir), "%s/%s", args->zDir, fed_manifest_node_id(m, i));
      (*pnPlaces)++;
      if (log_list_add(p, fed_manifest_node_id(m, i), zNodeDir) != 0) return -1;
    }
    return 0;
  }
  char *zCopy = strdup(args->zData);
  int rc = zCopy ? log_list_add(p, basename(zCopy), args->zData) : -1;
  *pnPlaces = 1;
  free(zCopy);
  return rc;
}

/* The committees and the catalogue, from zSchemas or ../schemas beside the binary. */
static void jurisdiction_load(fed_audit *a, const char *zSchemas, const char *zArgv0) {
  char zDir[4096], zPath[4200], zBin[4096];
  if (zSchemas) {
    snprintf(zDir, sizeof zDir, "%s", zSchemas);
  } else {
    snprintf(zBin, sizeof zBin, "%s", zArgv0);
    snprintf(zDir, sizeof zDir, "%s/../schemas", dirname(zBin));
  }
  snprintf(zPath, sizeof zPath, "%s/committees.json", zDir);
  json_t *c = json_load_file(zPath, 0, NULL);
  snprintf(zPath, sizeof zPath, "%s/catalog.json", zDir);
  json_t *s = json_load_file(zPath, 0, NULL);
  if (fed_audit_set_jurisdiction(a, json_object_get(c, "committees"), json_object_get(s, "series")) != FED_OK)
    fprintf(stderr, "zc-audit: no committees.json and catalog.json in %s: routings not judged\n", zDir);
  json_decref(c);
  json_decref(s);
}

int main(int argc, char **argv) {
  int rc = 1;
  audit_args args;
  fed_manifest *m = NULL;
  fed_audit *a = NULL;
  log_list logs = {0};
  char zDefaultRoot[4096] = "";
  int nPlaces = 0;
  if (args_parse(&args, argc, argv) != 0) {
    fputs(USAGE, stderr);
    return 2;
  }
  m = manifest_open(&args, zDefaultRoot, sizeof(zDefaultRoot));
  if (m == NULL) {
    fprintf(stderr, "zc-audit: 1 finding (the manifest); no log checked\n");
    goto done;
  }
  if (fed_audit_new(&a, m, print_finding, NULL) != FED_OK) {
    fprintf(stderr, "zc-audit: %s\n", fed_last_error());
    goto done;
  }
  if (args.zInFlight) fed_audit_set_in_flight(a, atol(args.zInFlight));
  jurisdiction_load(a, args.zSchemas, argv[0]);
  if (log_list_fill(&logs, &args, m, &nPlaces) != 0) goto done;
  if (fed_audit_logs(a, (const char *const *)logs.azLabel, (const char *const *)logs.azGitDir, logs.n) < 0) {
    fprintf(stderr, "zc-audit: %s\n", fed_last_error());
    goto done;
  }
  if (fed_audit_finish(a) < 0) {
    fprintf(stderr, "zc-audit: %s\n", fed_last_error());
    goto done;
  }
  fprintf(stderr, "zc-audit: %zu of %d node log%s present, %zu entr%s checked, %zu finding%s\n", logs.n, nPlaces,
          nPlaces == 1 ? "" : "s", fed_audit_entries(a), fed_audit_entries(a) == 1 ? "y" : "ies",
          fed_audit_findings(a), fed_audit_findings(a) == 1 ? "" : "s");
  rc = fed_audit_findings(a) == 0 ? 0 : 1;
done:
  fflush(stdout);
  log_list_free(&logs);
  fed_audit_free(a);
  fed_manifest_free(m);
  return rc;
}
