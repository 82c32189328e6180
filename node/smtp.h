/* smtp.h - e-mail over SMTP with libcurl (STARTTLS when configured), for the sender
 * (sender.h). Configured per node by DATA/smtp.json:
 *   {"url": "smtp://mail.example.cn:587", "from": "zhicheng@example.cn",
 *    "starttls": true, "cafile": "/path/ca.pem"?, "username"?: "...", "password"?: "..."}
 * smtp_send blocks (up to SMTP_TIMEOUT seconds): call it on a worker thread only. */
#ifndef ZC_SMTP_H
#define ZC_SMTP_H

#include <stddef.h>

#define SMTP_TIMEOUT 20

typedef struct smtp_config {
  char zUrl[256];
  char zFrom[128];
  char zUser[128];
  char zPassword[128];
  char zCaFile[512];
  int bStartTls; /* refuse to send unless the server upgrades the connection */
} smtp_config;

/* DATA/smtp.json into *c: 0 loaded, 1 when there is none (no SMTP: the outbox only),
 * -1 (with a message on stderr) when it is malformed. */
int smtp_config_load(const char *zDataDir, smtp_config *c);

/* Once per process, before any thread sends (curl_global_init is not thread-safe). */
int smtp_global_init(void);

/* Send one UTF-8 text message; 0 on success, else -1 with the reason in zErr. */
int smtp_send(const smtp_config *c, const char *zTo, const char *zSubject, const char *zBody, char *zErr,
              size_t nErr);

#endif
