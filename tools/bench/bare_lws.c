/* bare_lws.c - the ceiling the node's JSON answers are measured against in the
 * "catalog_vs_static" bench scenario (tools/bench/run.sh): a minimal libwebsockets server
 * that answers every HTTP request with the same JSON body (the bytes of BODY_FILE, e.g. the
 * node's own catalogue) and its headers in one buffer, in one lws_write. Nothing else:
 * no routing, sessions, database or log line. Keep-alive as the node does it.
 *
 * usage: bare_lws PORT BODY_FILE   (loopback only; stops on SIGTERM/SIGINT)
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *g_aBody;
static size_t g_nBody;
static volatile sig_atomic_t g_bStop;
static struct lws_context *g_ctx;

static void on_signal(int sig) {
  (void)sig;
  g_bStop = 1;
  if (g_ctx) lws_cancel_service(g_ctx);
}

static int answer(struct lws *wsi) {
  size_t nHead = 512;
  unsigned char *aBuf = malloc(LWS_PRE + nHead + g_nBody);
  if (!aBuf) return -1;
  unsigned char *start = aBuf + LWS_PRE, *p = start, *end = start + nHead;
  int rc = -1;
  if (lws_add_http_header_status(wsi, HTTP_STATUS_OK, &p, end) ||
      lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                   (const unsigned char *)"application/json; charset=utf-8", 31, &p, end) ||
      lws_add_http_header_content_length(wsi, g_nBody, &p, end) || lws_finalize_http_header(wsi, &p, end))
    goto done;
  memcpy(p, g_aBody, g_nBody);
  p += g_nBody;
  if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL) != (int)(p - start)) goto done;
  rc = lws_http_transaction_completed(wsi) ? -1 : 0;
done:
  free(aBuf);
  return rc;
}

static int callback_bare(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  if (reason == LWS_CALLBACK_HTTP) return answer(wsi);
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols g_protocols[] = {
  {"bare", callback_bare, 0, 0, 0, NULL, 0},
  {NULL, NULL, 0, 0, 0, NULL, 0},
};

static int read_body(const char *zPath) {
  FILE *f = fopen(zPath, "rb");
  long n;
  if (!f) return -1;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (g_aBody = malloc((size_t)n)) != NULL && fread(g_aBody, 1, (size_t)n, f) == (size_t)n)
    g_nBody = (size_t)n;
  fclose(f);
  return g_nBody ? 0 : -1;
}

int main(int argc, char **argv) {
  struct lws_context_creation_info info;
  if (argc != 3 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
    fprintf(stderr, "usage: bare_lws PORT BODY_FILE\n");
    return 2;
  }
  if (read_body(argv[2])) {
    fprintf(stderr, "bare_lws: cannot read %s\n", argv[2]);
    return 1;
  }
  memset(&info, 0, sizeof info);
  info.port = atoi(argv[1]);
  info.iface = "127.0.0.1";
  info.protocols = g_protocols;
  info.keepalive_timeout = 30;
  info.timeout_secs = 30;
  lws_set_log_level(LLL_ERR, NULL);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  g_ctx = lws_create_context(&info);
  if (!g_ctx) {
    fprintf(stderr, "bare_lws: cannot listen on 127.0.0.1:%d\n", info.port);
    return 1;
  }
  while (!g_bStop)
    if (lws_service(g_ctx, 0) < 0) break;
  lws_context_destroy(g_ctx);
  free(g_aBody);
  return 0;
}
