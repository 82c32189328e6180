/* zc-audit.c - bin/zc-audit: audit a federation's signed logs against its manifest.
 *
 *   zc-audit DIR                          a zc-fed directory: DIR/federation.json,
 *                                         DIR/keys/root.pem, DIR/<node id>/fedlog.git
 *   zc-audit --data NODEDIR --manifest FILE [--root-pem P]
 *
 * Prints one line per finding and a summary; exits 0 only when there are none, 1 when
 * there are (or the audit could not run), 2 on a usage error. The checks live in
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
  "usage: zc-audit DIR\n"                                      \
  "       zc-audit --data NODEDIR --manifest FILE [--root-pem P]\n"

typedef struct audit_args {
  const char *zDir;       /* zc-fed directory mode */
  const char *zData;      /* one node's data directory */
  const char *zManifest;
  const char *zRootPem;
} audit_args;

/* One line per finding (API.md): CODE ORIGIN SEQ detail, "-" where none applies; the
 * detail names the copy (the node whose log it is) and the commit. */
static void print_finding(const fed_audit_finding *f, void *payload) {
  (void)payload;
  printf("%s %s ", f->zCode, f->zOrigin[0] ? f->zOrigin : "-");
  if (f->iSeq > 0) printf("%lld", f->iSeq);
  else printf("-");
  printf(" in the log of %s", f->zLog);
  if (f->zCommit[0]) printf(" (commit %.12s)", f->zCommit);
  printf(": %s\n", f->zMessage);
}

static int args_parse(audit_args *p, int argc, char **argv) {
  memset(p, 0, sizeof(*p));
  for (int i = 1; i < argc; i++) {
    const char **pz = NULL;
    if (strcmp(argv[i], "--data") == 0) pz = &p->zData;
    else if (strcmp(argv[i], "--manifest") == 0) pz = &p->zManifest;
    else if (strcmp(argv[i], "--root-pem") == 0) pz = &p->zRootPem;
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
  if (rc != FED_OK) printf("unreadable - - the manifest %s: %s\n", zManifest, fed_last_error());
  return m;
}

/* Audit one log if it exists; *pnLogs counts those that did. -1 on an internal error. */
static int audit_one(fed_audit *a, const char *zLog, const char *zNodeDir, int *pnLogs) {
  char zGitDir[4096];
  snprintf(zGitDir, sizeof(zGitDir), "%s/fedlog.git", zNodeDir);
  if (!is_dir(zGitDir)) return 0; /* no log written yet: nothing to check, not a finding */
  (*pnLogs)++;
  if (fed_audit_log(a, zLog, zGitDir) < 0) {
    fprintf(stderr, "zc-audit: %s: %s\n", zLog, fed_last_error());
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  int rc = 1;
  audit_args args;
  fed_manifest *m = NULL;
  fed_audit *a = NULL;
  char zDefaultRoot[4096] = "";
  int nLogs = 0, nPlaces = 0;
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
  if (args.zDir) {
    for (size_t i = 0; i < fed_manifest_node_count(m); i++) {
      char zNodeDir[4096];
      snprintf(zNodeDir, sizeof(zNodeDir), "%s/%s", args.zDir, fed_manifest_node_id(m, i));
      nPlaces++;
      if (audit_one(a, fed_manifest_node_id(m, i), zNodeDir, &nLogs) != 0) goto done;
    }
  } else {
    char *zCopy = strdup(args.zData);
    const char *zLabel = zCopy ? basename(zCopy) : args.zData;
    nPlaces = 1;
    int bFailed = audit_one(a, zLabel, args.zData, &nLogs) != 0;
    free(zCopy);
    if (bFailed) goto done;
  }
  fprintf(stderr, "zc-audit: %d of %d node log%s present, %zu entr%s checked, %zu finding%s\n", nLogs, nPlaces,
         nPlaces == 1 ? "" : "s", fed_audit_entries(a), fed_audit_entries(a) == 1 ? "y" : "ies",
         fed_audit_findings(a), fed_audit_findings(a) == 1 ? "" : "s");
  rc = fed_audit_findings(a) == 0 ? 0 : 1;
done:
  fed_audit_free(a);
  fed_manifest_free(m);
  return rc;
}
