/* main.c - bin/zc-admin: the operator's tool. Subcommands are a table; each lives in
 * fed_cmds.c (keys, the manifest) or node_cmds.c (a node's data). */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "node_cmds.h"

static const struct {
  const char *zName;
  int (*xRun)(int, char **);
  const char *zUsage;
} g_cmds[] = {
  {"keygen", cmd_keygen, "keygen --out DIR --id ID [--force]        make DIR/ID.key and DIR/ID.pem"},
  {"manifest", cmd_manifest, "manifest --root KEY --out FILE --node ID,NAME,URL,PEM ...  write and sign"},
  {"verify-manifest", cmd_verify_manifest, "verify-manifest --manifest F --root-pem P"},
  {"rotate-key", cmd_rotate_key, "rotate-key --manifest F --root KEY --node ID --key KEYFILE [--not-before T]\n"
                                 "        [--overlap-hours N]  a new key for a node; old ones retire after N hours"},
  {"tls-root", cmd_tls_root, "tls-root --root KEY --out root.crt         the federation's CA certificate"},
  {"tls-cert", cmd_tls_cert, "tls-cert --root KEY --root-cert root.crt --node ID --key-out F --cert-out F\n"
                             "        a node's TLS key and certificate under the root"},
  {"pepper", cmd_pepper, "pepper --out FILE                          the federation's ID-digest key"},
  {"regions", cmd_regions, "regions [--schemas DIR]                   node ids and names, in order"},
  {"init", cmd_init, "init --data DIR --node ID [--pepper F]    create or migrate a node's database\n"
                     "        (init, account, seed: [--manifest F --root-pem P --key K] as zc-node takes them,\n"
                     "        so that the entries they record name the node's key)"},
  {"account", cmd_account, "account --data DIR --node ID --role ROLE --name NAME --password PW\n"
                           "        [--phone P] [--unit CREDIT_CODE] [--dept ID]\n"
                           "        [--committee ID] [--pepper F]      add an account of any role"},
  {"routes", cmd_routes, "routes                                     the route table: entries each change emits (JSON)"},
  {"seed", cmd_seed, "seed --demo --data DIR --node ID --out FILE [--pepper F]  demo data and accounts"},
};

static void usage(void) {
  fprintf(stderr, "usage: zc-admin COMMAND [options]\n");
  for (size_t i = 0; i < sizeof g_cmds / sizeof g_cmds[0]; i++) fprintf(stderr, "  %s\n", g_cmds[i].zUsage);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage();
    return 2;
  }
  for (size_t i = 0; i < sizeof g_cmds / sizeof g_cmds[0]; i++)
    if (strcmp(argv[1], g_cmds[i].zName) == 0) return g_cmds[i].xRun(argc - 1, argv + 1);
  usage();
  return 2;
}
