/* main.c - bin/zc-node: read the configuration, open the node, serve until told to stop.
 * Wiring only; everything else lives in the node/ and federation/ libraries. */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "limiter.h"
#include "node.h"
#include "server.h"

static void on_signal(int sig) {
  (void)sig;
  server_stop();
}

static void on_hangup(int sig) {
  (void)sig;
  server_reload();
}

static void usage(void) {
  fprintf(stderr,
          "usage: zc-node --node ID --port P --data DIR [--manifest F --root-pem P --key F]\n"
          "               [--pepper F] [--bind ADDR] [--web DIR] [--schemas DIR] [--max-body N]\n"
          "               [--secure-cookies]   (behind a TLS proxy: cookies only over HTTPS)\n"
          "               [--fed-port P --tls-cert F --tls-key F --tls-ca F]   (the federation's wss://)\n"
          "               [--claim-check-secs N]   (registrar: when an unused identity claim is checked)\n"
          "               [--transfer-rollback-secs N]  (a region transfer not accepted in N s is rolled back)\n"
          "               [--ws-ping-secs N]   (the portal's WebSockets: ping after N s quiet, close after 2N)\n"
          "               [--config FILE]   (FILE: one 'name = value' per line, same names)\n");
}

int main(int argc, char **argv) {
  zc_config cfg;
  zc_node node;
  struct sigaction sa;
  if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
    usage();
    return 0;
  }
  /* Argon2 takes 19 MiB per hash on a worker thread; mapped for each hash and returned
   * at once, it never stays in the heap (glibc's adaptive threshold would keep it). */
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  node_config_defaults(&cfg, argv[0]);
  if (node_config_parse(&cfg, argc, argv)) {
    usage();
    return 2;
  }
  if (node_open(&node, &cfg)) return 1;
  /* checks a stopped process had in flight never end: they must not block anyone */
  if (limiter_reset_in_flight(node.pLimiter)) {
    node_close(&node);
    return 1;
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sa.sa_handler = on_hangup; /* after zc-admin rotate-key: the new manifest and key */
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  char zDb[600];
  snprintf(zDb, sizeof zDb, "%.590s/node.db", node.cfg.zData);
  if (db_checkpoint_in_background(node.db, zDb)) fprintf(stderr, "zc-node: checkpoints stay on the event loop\n");
  int rc = server_run(&node);
  db_checkpoint_stop();
  node_close(&node);
  return rc ? 1 : 0;
}
