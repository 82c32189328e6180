/* sender.c - the outbox and its ways out (sender.h). */
#include "sender.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "applications.h"
#include "db.h"
#include "smtp.h"

#define MESSAGES_SHOWN 200

const char *sender_channel_of(const char *zContact) { return strchr(zContact, '@') ? "email" : "sms"; }

/* Where a text message would go out: no provider is plugged in, so it stays in the
 * outbox. A provider's API call goes here (and its state becomes 'queued'). */
static int sms_gateway_configured(const zc_node *p) {
  (void)p;
  return 0;
}

int sender_queue(zc_node *p, const char *zAccount, const char *zChannel, const char *zTo, const char *zSubject,
                 const char *zBody) {
  char zId[40];
  int bOut = strcmp(zChannel, "email") == 0 ? p->pSmtp != NULL : sms_gateway_configured(p);
  if (account_new_id(zId, 'm')) return -1;
  return db_exec(p->db, "INSERT INTO messages(id, account_id, channel, to_addr, subject, body, state, created)"
                 " VALUES(?,?,?,?,?,?,?,?)", "tttttttI", zId, zAccount, zChannel, zTo, zSubject, zBody,
                 bOut ? "queued" : "kept", (sqlite3_int64)node_now(p));
}

/* ---- notifications (opt-in): an application's status changes ---- */

/* The statuses an applicant hears of: not their own submits and withdrawals. */
static const char *status_news(const char *zStatus) {
  static const struct { const char *zStatus, *zNews; } a[] = {
    {"dept_review", "已通过基层单位审核，报送推荐单位"},
    {"committee_review", "已报送评审委员会"},
    {"returned", "已被退回，请登录查看审核意见，修改后重新提交"},
    {"formal_passed", "已通过评审委员会形式审查"},
    {"meeting", "已提交评审会议"},
    {"passed", "评审通过"},
    {"failed", "评审未通过"},
    {"publicized", "已进入评审结果公示"},
    {"approved", "已印发批文"},
    {"certified", "证书已颁发"},
  };
  for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
    if (strcmp(a[i].zStatus, zStatus) == 0) return a[i].zNews;
  return NULL;
}

/* The applicant of zApp when they live here and asked for notifications, with where. */
#define NOTIFY_SQL                                                                                         \
  "SELECT ac.id AS account, ac.email, ac.phone, q.name AS qualification,"                                   \
  " (SELECT amount FROM payment_orders o WHERE o.application_id = a.id AND o.status = 'unpaid') AS fee"     \
  " FROM applications a JOIN accounts ac ON ac.id = a.applicant_id JOIN qualifications q ON q.code = a.qualification" \
  " WHERE a.id = ? AND ac.notify = 1 AND ac.home = ? AND ac.password_hash IS NOT NULL"

static int notify_one(zc_node *p, const char *zApp, const char *zStatus) {
  const char *zNews = status_news(zStatus);
  json_t *o = zNews ? db_row(p->db, NOTIFY_SQL, "tt", zApp, p->cfg.zNode) : NULL;
  if (!o) return 0;
  const char *zEmail = jstr(o, "email"), *zPhone = jstr(o, "phone");
  const char *zTo = zEmail && *zEmail ? zEmail : zPhone;
  char zBody[800], zFee[120] = "";
  if (json_is_integer(json_object_get(o, "fee")))
    snprintf(zFee, sizeof zFee, "请登录后缴纳评审费%.2f元。", (double)json_integer_value(json_object_get(o, "fee")) / 100);
  snprintf(zBody, sizeof zBody, "您申报的%s（申请书 %s）%s。%s\n\n此邮件由职称申报评审系统发出；如不需要提醒，可在“我的主页”关闭。",
           jstr(o, "qualification"), zApp, zNews, zFee);
  int rc = zTo && *zTo ? sender_queue(p, jstr(o, "account"), sender_channel_of(zTo), zTo, "职称申报进度提醒", zBody) : 0;
  json_decref(o);
  return rc;
}

static int drain_status_changes(zc_node *p) {
  json_t *a = db_rows(p->db, "DELETE FROM status_changes RETURNING application_id, status", NULL), *v;
  size_t i;
  int rc = a ? 0 : -1;
  json_array_foreach(a, i, v) rc |= notify_one(p, jstr(v, "application_id"), jstr(v, "status"));
  json_decref(a);
  return rc;
}

/* ---- e-mail over SMTP, on a thread of its own ----
 * Not on the request workers: a slow or unreachable mail server must never hold up a
 * login's password check. The thread takes jobs from g_mail.pTodo and puts them, sent
 * or failed, on g_mail.pDone; the event loop (sender_flush) records the outcome. */

typedef struct mail_job {
  struct mail_job *pNext;
  char zId[40];
  char *zTo, *zSubject, *zBody;
  int rc;
  char zErr[256];
} mail_job;

static struct {
  pthread_t thread;
  int bRunning, bStop;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  mail_job *pTodo, *pDone;
  smtp_config cfg;
  void (*xWake)(void *);
  void *pWakeArg;
  sqlite3_int64 nSeenChanges; /* the database's total changes when last flushed */
} g_mail = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void mail_free(mail_job *j) {
  free(j->zTo);
  free(j->zSubject);
  free(j->zBody);
  memset(j, 0, sizeof(*j)); /* the code does not linger in freed memory */
  free(j);
}

static void *mail_main(void *pArg) {
  (void)pArg;
  pthread_mutex_lock(&g_mail.mu);
  for (;;) {
    while (!g_mail.pTodo && !g_mail.bStop) pthread_cond_wait(&g_mail.cv, &g_mail.mu);
    if (g_mail.bStop) break;
    mail_job *j = g_mail.pTodo;
    g_mail.pTodo = j->pNext;
    pthread_mutex_unlock(&g_mail.mu);
    j->rc = smtp_send(&g_mail.cfg, j->zTo, j->zSubject, j->zBody, j->zErr, sizeof j->zErr);
    pthread_mutex_lock(&g_mail.mu);
    j->pNext = g_mail.pDone;
    g_mail.pDone = j;
    if (g_mail.xWake) g_mail.xWake(g_mail.pWakeArg);
  }
  pthread_mutex_unlock(&g_mail.mu);
  return NULL;
}

/* Queued e-mails to the thread, marked 'sending'. */
static void send_queued(zc_node *p) {
  json_t *a = db_rows(p->db, "UPDATE messages SET state = 'sending' WHERE state = 'queued' AND channel = 'email'"
                      " RETURNING id, to_addr, subject, body", NULL), *v;
  size_t i;
  json_array_foreach(a, i, v) {
    mail_job *j = calloc(1, sizeof(*j));
    if (j && (j->zTo = strdup(jstr(v, "to_addr"))) && (j->zSubject = strdup(jstr(v, "subject"))) &&
        (j->zBody = strdup(jstr(v, "body")))) {
      snprintf(j->zId, sizeof j->zId, "%s", jstr(v, "id"));
      pthread_mutex_lock(&g_mail.mu);
      j->pNext = g_mail.pTodo;
      g_mail.pTodo = j;
      pthread_cond_signal(&g_mail.cv);
      pthread_mutex_unlock(&g_mail.mu);
    } else { /* back to the queue for the next flush */
      if (j) mail_free(j);
      db_exec(p->db, "UPDATE messages SET state = 'queued' WHERE id = ?", "t", jstr(v, "id"));
    }
  }
  json_decref(a);
}

/* What the thread sent or failed to send, recorded. */
static int record_sent(zc_node *p, mail_job *pDone) {
  int rc = 0;
  while (pDone) {
    mail_job *j = pDone;
    pDone = j->pNext;
    rc |= db_exec(p->db, "UPDATE messages SET state = ?, detail = ?, sent = ? WHERE id = ?", "ttIt",
                  j->rc ? "failed" : "sent", j->rc ? j->zErr : NULL, (sqlite3_int64)node_now(p), j->zId);
    mail_free(j);
  }
  return rc;
}

void sender_flush(zc_node *p) {
  pthread_mutex_lock(&g_mail.mu);
  mail_job *pDone = g_mail.pDone;
  g_mail.pDone = NULL;
  pthread_mutex_unlock(&g_mail.mu);
  sqlite3_int64 n = sqlite3_total_changes64(p->db);
  if (!pDone && n == g_mail.nSeenChanges) return; /* nothing written since: most turns */
  int bChanges = db_int(p->db, 0, "SELECT EXISTS (SELECT 1 FROM status_changes)", NULL) != 0;
  int bQueued = g_mail.bRunning && db_int(p->db, 0, "SELECT EXISTS (SELECT 1 FROM messages WHERE state = 'queued')", NULL);
  if ((!bChanges && !bQueued && !pDone) || db_begin(p->db)) {
    g_mail.nSeenChanges = n;
    if (pDone) record_sent(p, pDone); /* (db_begin failed) as autocommits */
    return;
  }
  int rc = record_sent(p, pDone);
  if (bChanges) rc |= drain_status_changes(p);
  if (g_mail.bRunning) send_queued(p);
  if (rc || db_commit(p->db)) db_rollback(p->db);
  g_mail.nSeenChanges = sqlite3_total_changes64(p->db);
}

int sender_start(zc_node *p, void (*xWake)(void *), void *pWakeArg) {
  if (!p->pSmtp) return 0;
  g_mail.cfg = *p->pSmtp;
  g_mail.xWake = xWake;
  g_mail.pWakeArg = pWakeArg;
  g_mail.bStop = 0;
  if (pthread_create(&g_mail.thread, NULL, mail_main, NULL)) return -1;
  g_mail.bRunning = 1;
  return 0;
}

void sender_stop(void) {
  if (!g_mail.bRunning) return;
  pthread_mutex_lock(&g_mail.mu);
  g_mail.bStop = 1;
  pthread_cond_broadcast(&g_mail.cv);
  pthread_mutex_unlock(&g_mail.mu);
  pthread_join(g_mail.thread, NULL);
  g_mail.bRunning = 0;
  /* what was not sent goes again at the next start ('sending' → 'queued') */
  for (mail_job *j = g_mail.pTodo, *pNext; j; j = pNext) pNext = j->pNext, mail_free(j);
  for (mail_job *j = g_mail.pDone, *pNext; j; j = pNext) pNext = j->pNext, mail_free(j);
  g_mail.pTodo = g_mail.pDone = NULL;
  memset(&g_mail.cfg, 0, sizeof g_mail.cfg);
}

int sender_open(zc_node *p) {
  smtp_config c;
  int rc = smtp_config_load(p->cfg.zData, &c);
  free(p->pSmtp);
  p->pSmtp = NULL;
  if (rc < 0) return -1;
  if (rc == 0) {
    if (smtp_global_init() || !(p->pSmtp = malloc(sizeof c))) return -1;
    *p->pSmtp = c;
  }
  if (!db_int(p->db, 0, "SELECT 1 FROM sqlite_master WHERE name = 'messages'", NULL)) return 0; /* zc-admin, older schemas */
  return db_exec(p->db, "UPDATE messages SET state = 'queued' WHERE state = 'sending'", NULL);
}

/* ---- the routes ---- */

int sender_messages(zc_req *r) {
  /* what went out by a gateway is not shown again: only what waits in the outbox */
  json_t *a = db_rows(r->node->db, "SELECT m.id, m.channel, m.to_addr AS \"to\", m.subject,"
                      " iif(m.state = 'kept', m.body, NULL) AS body, m.state, m.detail, m.created, m.sent,"
                      " ac.username, ac.name FROM messages m LEFT JOIN accounts ac ON ac.id = m.account_id"
                      " ORDER BY m.rowid DESC LIMIT ?", "i", MESSAGES_SHOWN);
  if (!a) return -1;
  json_set_times(a, "created");
  json_set_times(a, "sent");
  return http_json(r, 200, json_pack("{s:o}", "items", a));
}

int sender_notify_setting(zc_req *r) {
  if (!account_at_home(r)) return 0;
  json_t *v = json_object_get(r->pJson, "enabled");
  if (!json_is_boolean(v)) return http_field_error(r, 400, "invalid_field", "enabled", "请选择是否接收进度提醒");
  char *zEmail = db_text(r->node->db, "SELECT coalesce(nullif(email, ''), phone, '') FROM accounts WHERE id = ?", "t",
                         r->pSess->zAccount);
  int bNone = !zEmail || !*zEmail;
  free(zEmail);
  if (json_is_true(v) && bNone)
    return http_field_error(r, 409, "no_contact", "enabled", "请先在个人信息中填写电子邮箱或手机号");
  if (db_exec(r->node->db, "UPDATE accounts SET notify = ?, updated = ? WHERE id = ?", "iIt", json_is_true(v),
              (sqlite3_int64)node_now(r->node), r->pSess->zAccount))
    return -1;
  return http_json(r, 200, json_pack("{s:b}", "notify", json_is_true(v)));
}
