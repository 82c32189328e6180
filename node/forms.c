/* forms.c - review forms: the PDF of an application (rendered by form_pdf.c on a worker
 * thread), the official form's signed verification code and its check (forms.h). */
#include "forms.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "applications.h"
#include "canon.h"
#include "db.h"
#include "fed_error.h"
#include "fedcall.h"
#include "form_pdf.h"
#include "keys.h"
#include "logwriter.h"
#include "manifest.h"
#include "outbox.h"
#include "rfc3339.h"
#include "secret.h"
#include "trust.h"
#include "worker.h"

#define FORM_CODE_DIGITS 16 /* 80 bits of SHA-256(signature): "K7Q2-M9XD-4TPA-88ZT" */
#define FORM_CODE_SIZE (FORM_CODE_DIGITS + FORM_CODE_DIGITS / 4) /* with dashes and the NUL */

/* ---- numbers and codes ---- */

void forms_number(char zOut[FORM_NUMBER_SIZE], const char *zAppId, long long iYear) {
  char zHex[13] = "000000000000";
  size_t n = zAppId ? strlen(zAppId) : 0;
  for (size_t i = 0; i < 12 && i + 1 < n; i++) {
    char c = zAppId[i + 1]; /* after the kind letter 'p' */
    zHex[i] = c >= 'a' && c <= 'f' ? (char)(c - 'a' + 'A') : c;
  }
  snprintf(zOut, FORM_NUMBER_SIZE, "%04lld-%.4s-%.4s-%.4s", iYear, zHex, zHex + 4, zHex + 8);
}

int forms_status_official(const char *zStatus) {
  static const char *const aOfficial[] = {"formal_passed", "meeting", "passed", "failed",
                                          "publicized", "approved", "certified"};
  for (size_t i = 0; zStatus && i < sizeof aOfficial / sizeof aOfficial[0]; i++)
    if (strcmp(zStatus, aOfficial[i]) == 0) return 1;
  return 0;
}

/* Crockford's base32 (no I, L, O, U: nothing to misread on paper), in groups of four. */
static const char g_zCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static void code_from_signature(char zOut[FORM_CODE_SIZE], const unsigned char aSig[FED_SIG_SIZE]) {
  unsigned char aHash[SHA256_DIGEST_LENGTH];
  SHA256(aSig, FED_SIG_SIZE, aHash);
  char *z = zOut;
  for (int i = 0; i < FORM_CODE_DIGITS; i++) {
    int iBit = i * 5, v = ((aHash[iBit / 8] << 8) | aHash[iBit / 8 + 1]) >> (11 - iBit % 8) & 31;
    if (i > 0 && i % 4 == 0) *z++ = '-';
    *z++ = g_zCrockford[v];
  }
  *z = 0;
}

/* A code as a person typed it: case, spaces and dashes do not matter, O reads as 0 and
 * I or L as 1. 0 and the canonical form in zOut; -1 when it cannot be a code. */
static int code_normalise(char zOut[FORM_CODE_SIZE], const char *zIn) {
  int n = 0;
  for (const char *z = zIn; *z; z++) {
    char c = (char)(*z >= 'a' && *z <= 'z' ? *z - 'a' + 'A' : *z);
    if (c == '-' || c == ' ') continue;
    if (c == 'O') c = '0';
    if (c == 'I' || c == 'L') c = '1';
    if (!strchr(g_zCrockford, c) || c == 0 || n >= FORM_CODE_DIGITS) return -1;
    if (n > 0 && n % 4 == 0) *zOut++ = '-';
    *zOut++ = c;
    n++;
  }
  *zOut = 0;
  return n == FORM_CODE_DIGITS ? 0 : -1;
}

/* "张*明": what a public page shows of a name. */
static void name_masked(char *zOut, size_t nOut, const char *zName) {
  size_t n = 0, nChars = 0;
  const unsigned char *z = (const unsigned char *)(zName ? zName : "");
  for (size_t i = 0; z[i]; i++)
    if ((z[i] & 0xC0) != 0x80) nChars++;
  /* the first character, then '*', then the last when there are three or more */
  size_t nFirst = 1;
  while (z[0] && (z[nFirst] & 0xC0) == 0x80) nFirst++;
  if (!z[0]) nFirst = 0;
  n = snprintf(zOut, nOut, "%.*s*", (int)nFirst, (const char *)z);
  if (nChars >= 3 && n < nOut) {
    size_t iLast = strlen((const char *)z);
    while (iLast > 0 && (z[--iLast] & 0xC0) == 0x80) {
    }
    snprintf(zOut + n, nOut - n, "%s", (const char *)z + iLast);
  }
}

/* ---- issuing the official form ---- */

#define FORM_APP_SQL                                                                               \
  "SELECT a.id, a.year, a.round, a.qualification, a.specialty, a.unit_id, a.applicant_id,"         \
  " a.committee_id, q.name AS qualification_name, c.name AS committee_name, ac.name AS applicant_name," \
  " u.name AS unit_name FROM applications a JOIN qualifications q ON q.code = a.qualification"    \
  " JOIN committees c ON c.id = a.committee_id JOIN accounts ac ON ac.id = a.applicant_id"         \
  " JOIN units u ON u.id = a.unit_id WHERE a.id = ?"

/* SHA-256 hex of the canonical JSON of what the form prints: who, what for, and every
 * section's data as saved. A changed byte of any of it is a different digest. */
static int content_digest(zc_node *p, const json_t *a, char zOut[FED_SHA256_HEX_SIZE]) {
  json_t *pSections = json_object();
  sqlite3_stmt *pStmt = db_prepare(p->db, "SELECT section, data_json FROM application_sections"
                                   " WHERE application_id = ? ORDER BY section", "t", jstr(a, "id"));
  while (pStmt && sqlite3_step(pStmt) == SQLITE_ROW) {
    const char *zData = (const char *)sqlite3_column_text(pStmt, 1);
    json_object_set_new(pSections, (const char *)sqlite3_column_text(pStmt, 0),
                        zData ? json_loads(zData, JSON_DECODE_ANY, NULL) : json_null());
  }
  if (pStmt) sqlite3_reset(pStmt);
  json_t *pContent = json_pack("{s:s?, s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:o}", "application", jstr(a, "id"),
                               "round", json_integer_value(json_object_get(a, "round")), "qualification",
                               jstr(a, "qualification"), "specialty", jstr(a, "specialty"), "unit", jstr(a, "unit_id"),
                               "unit_name", jstr(a, "unit_name"), "applicant", jstr(a, "applicant_id"),
                               "applicant_name", jstr(a, "applicant_name"), "sections", pSections);
  size_t n = 0;
  char *z = pContent ? fed_canon(pContent, &n) : NULL;
  json_decref(pContent);
  if (!z) return -1;
  fed_sha256_hex(zOut, z, n);
  free(z);
  return 0;
}

/* The payload of application row a's official form: canonical JSON (malloc'd). */
static char *form_payload(zc_node *p, const json_t *a, const char *zKey, time_t now, size_t *pn) {
  char zNumber[FORM_NUMBER_SIZE], zDigest[FED_SHA256_HEX_SIZE], zIssued[FED_RFC3339_SIZE], zName[64];
  forms_number(zNumber, jstr(a, "id"), json_integer_value(json_object_get(a, "year")));
  if (content_digest(p, a, zDigest) || fed_rfc3339_format(zIssued, now)) return NULL;
  name_masked(zName, sizeof zName, jstr(a, "applicant_name"));
  json_t *o = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s}", "kind", "form",
                        "application", jstr(a, "id"), "number", zNumber, "digest", zDigest, "issued", zIssued,
                        "node", p->cfg.zNode, "key", zKey, "applicant", zName, "qualification",
                        jstr(a, "qualification"), "qualification_name", jstr(a, "qualification_name"),
                        "committee", jstr(a, "committee_id"), "committee_name", jstr(a, "committee_name"),
                        "v", "1");
  char *z = o ? fed_canon(o, pn) : NULL;
  json_decref(o);
  return z;
}

/* Sign FORM_SIG_PREFIX + payload. */
static int form_sign(unsigned char aSig[FED_SIG_SIZE], const fed_key *pKey, const char *zPayload, size_t n) {
  size_t nPrefix = sizeof FORM_SIG_PREFIX - 1;
  char *zMsg = malloc(nPrefix + n);
  if (!zMsg) return -1;
  memcpy(zMsg, FORM_SIG_PREFIX, nPrefix);
  memcpy(zMsg + nPrefix, zPayload, n);
  int rc = fed_key_sign(aSig, pKey, zMsg, nPrefix + n);
  free(zMsg);
  return rc;
}

/* Store a form, ours or another node's. */
static int form_store(zc_node *p, const char *zCode, const char *zApp, const char *zNumber, const char *zPayload,
                      const char *zSig, const char *zIssuer, sqlite3_int64 tIssued) {
  return db_exec(p->db, "INSERT OR IGNORE INTO forms(code, application_id, number, payload, sig, issuer, issued)"
                 " VALUES(?,?,?,?,?,?,?)", "ttttttI", zCode, zApp, zNumber, zPayload, zSig, zIssuer, tIssued);
}

int forms_issue(zc_req *r, const char *zAppId) {
  zc_node *p = r->node;
  time_t now = node_now(p);
  const fed_manifest_key *pListed = NULL;
  const fed_key *pKey = trust_key_at(p->pTrust, p->cfg.zNode, now, &pListed);
  json_t *a = db_row(p->db, FORM_APP_SQL, "t", zAppId);
  size_t nPayload = 0;
  char *zPayload = a && pKey ? form_payload(p, a, pListed->zId, now, &nPayload) : NULL;
  unsigned char aSig[FED_SIG_SIZE];
  char zCode[FORM_CODE_SIZE], zNumber[FORM_NUMBER_SIZE], *zSig = NULL;
  int rc = -1;
  if (!zPayload || form_sign(aSig, pKey, zPayload, nPayload) || !(zSig = secret_base64_encode(aSig, FED_SIG_SIZE)))
    goto done;
  code_from_signature(zCode, aSig);
  forms_number(zNumber, zAppId, json_integer_value(json_object_get(a, "year")));
  if (form_store(p, zCode, zAppId, zNumber, zPayload, zSig, p->cfg.zNode, (sqlite3_int64)now)) goto done;
  rc = outbox_record(p, "form.issued",
                     json_pack("{s:s, s:s, s:s, s:s, s:s}", "application", zAppId, "number", zNumber, "code", zCode,
                               "payload", zPayload, "sig", zSig), NULL);
done:
  if (rc) fprintf(stderr, "forms: cannot issue the form of %s\n", zAppId);
  free(zSig);
  free(zPayload);
  json_decref(a);
  return rc;
}

char *forms_current_code(zc_node *p, const char *zAppId) {
  return db_text(p->db, "SELECT code FROM forms WHERE application_id = ? ORDER BY issued DESC LIMIT 1", "t",
                 zAppId);
}

/* ---- checking a form ---- */

/* Does zSig (base64) sign FORM_SIG_PREFIX + zPayload with the key the payload names,
 * listed for the issuer zIssuer and valid when it was issued? The payload parsed into
 * *ppPayload on success. */
static int form_verify(const fed_manifest *m, const char *zIssuer, const char *zPayload, const char *zSig,
                       json_t **ppPayload) {
  size_t nSig = 0;
  unsigned char *aSig = zSig ? secret_base64_decode(zSig, 4 * FED_SIG_SIZE, &nSig) : NULL;
  json_t *o = zPayload ? json_loads(zPayload, 0, NULL) : NULL;
  const fed_manifest_key *pKey = NULL;
  time_t tIssued = 0;
  int rc = -1;
  size_t nPrefix = sizeof FORM_SIG_PREFIX - 1, nPayload = zPayload ? strlen(zPayload) : 0;
  char *zMsg = malloc(nPrefix + nPayload + 1);
  if (m && o && aSig && zMsg && nSig == FED_SIG_SIZE && jstr(o, "node") && strcmp(jstr(o, "node"), zIssuer) == 0 &&
      jstr(o, "issued") && fed_rfc3339_parse(&tIssued, jstr(o, "issued")) == FED_OK &&
      fed_manifest_key_at(&pKey, m, jstr(o, "key"), zIssuer, tIssued) == FED_OK) {
    memcpy(zMsg, FORM_SIG_PREFIX, nPrefix);
    memcpy(zMsg + nPrefix, zPayload, nPayload);
    rc = fed_key_verify(pKey->pKey, zMsg, nPrefix + nPayload, aSig, nSig) == FED_OK ? 0 : -1;
  }
  free(zMsg);
  free(aSig);
  if (rc == 0) *ppPayload = o;
  else json_decref(o);
  return rc;
}

int forms_apply_issued(void *pCtx, const fed_entry_view *e) {
  zc_node *p = pCtx;
  const json_t *b = e->pBody;
  json_t *pPayload = NULL;
  char zCode[FORM_CODE_SIZE];
  const char *zApp = jstr(b, "application"), *zPayload = jstr(b, "payload"), *zSig = jstr(b, "sig");
  if (!zApp || !jstr(b, "number") || !jstr(b, "code") || !zPayload || !zSig)
    return fed_error_set(FED_EINVALID, "form.issued without application, number, code, payload or sig");
  if (form_verify(node_manifest(p), e->zOrigin, zPayload, zSig, &pPayload)) {
    char zMsg[160];
    snprintf(zMsg, sizeof zMsg, "form.issued/%lld: the form's signature does not verify", e->iSeq);
    logwriter_alert("bad_form", e->zOrigin, e->iSeq, zMsg);
    return FED_OK; /* kept in the log as evidence, never answered as genuine */
  }
  size_t nSig = 0;
  unsigned char *aSig = secret_base64_decode(zSig, 4 * FED_SIG_SIZE, &nSig);
  code_from_signature(zCode, aSig);
  free(aSig);
  time_t tIssued = 0;
  fed_rfc3339_parse(&tIssued, jstr(pPayload, "issued"));
  int rc = strcmp(zCode, jstr(b, "code")) != 0 || strcmp(jstr(pPayload, "application"), zApp) != 0
               ? fed_error_set(FED_EINVALID, "form.issued whose code or application is not its payload's")
           : form_store(p, zCode, zApp, jstr(b, "number"), zPayload, zSig, e->zOrigin, (sqlite3_int64)tIssued)
               ? FED_ERROR
               : FED_OK;
  json_decref(pPayload);
  return rc;
}

int forms_verify_get(zc_req *r) {
  char zCode[FORM_CODE_SIZE];
  json_t *pPayload = NULL, *f = NULL;
  if (code_normalise(zCode, r->aParam[0]) ||
      !(f = db_row(r->node->db, "SELECT payload, sig, issuer FROM forms WHERE code = ?", "t", zCode))) {
    return http_error(r, 404, "not_found", "没有找到这个验证码：请核对评审表上的验证码（16位，字母不分大小写）");
  }
  if (form_verify(node_manifest(r->node), jstr(f, "issuer"), jstr(f, "payload"), jstr(f, "sig"), &pPayload)) {
    json_decref(f);
    return http_error(r, 404, "not_found", "该验证码的签名无法核验，不能证明评审表为真");
  }
  json_object_set_new(pPayload, "code", json_string(zCode));
  json_object_set_new(pPayload, "genuine", json_true());
  json_object_set_new(pPayload, "node_name", json_string(node_region_name(r->node, jstr(f, "issuer"))));
  json_object_set(pPayload, "payload", json_object_get(f, "payload"));
  json_object_set(pPayload, "sig", json_object_get(f, "sig"));
  json_object_set_new(pPayload, "sig_prefix", json_string(FORM_SIG_PREFIX));
  json_decref(f);
  return http_json(r, 200, json_pack("{s:o}", "verify", pPayload));
}

/* ---- the PDF ---- */

typedef struct pdf_job {
  zc_node *p;
  fedcall_from from;   /* rendered for another node (form.render): who to answer */
  int bForPeer;
  json_t *pApp;        /* the application as GET shows it */
  char *zIdNumber;     /* the full ID number when this node holds it (its home), else NULL */
  char zNumber[FORM_NUMBER_SIZE];
  char *zCode;         /* official: the verification code */
  char zUrl[512];
  char zNodeName[64];
  char zIssued[32];
  int bOfficial;
  unsigned char *aPdf; /* the result */
  size_t nPdf;
  char zErr[200];
} pdf_job;

static void pdf_work(void *pCtx) {
  pdf_job *j = pCtx;
  form_pdf_in in = {j->pApp, j->zIdNumber, j->zNumber, j->bOfficial, j->zCode, j->zUrl, j->zNodeName, j->zIssued};
  if (form_pdf_render(&in, &j->aPdf, &j->nPdf, j->zErr, sizeof j->zErr)) j->aPdf = NULL;
}

/* form.render served: the PDF goes back over the link it was asked on. */
static int pdf_done_for_peer(pdf_job *j) {
  char *zB64 = j->aPdf ? secret_base64_encode(j->aPdf, j->nPdf) : NULL;
  if (zB64) fedcall_answer(&j->from, json_pack("{s:s}", "pdf", zB64), NULL);
  else fedcall_answer(&j->from, NULL, "pdf_failed");
  free(zB64);
  return 0;
}

/* The answer: the PDF as a download named by its number. */
static int pdf_answer(zc_req *r, pdf_job *j) {
  char zName[64], zAscii[64];
  r->out.n = 0;
  buf_append(&r->out, j->aPdf, j->nPdf);
  r->status = 200;
  r->zOutType = "application/pdf";
  snprintf(zName, sizeof zName, "%s-%s", j->bOfficial ? "评审表" : "评审表（测试表）", j->zNumber);
  snprintf(zAscii, sizeof zAscii, "form-%s%s", j->zNumber, j->bOfficial ? "" : "-test");
  http_download_name(r, zName, zAscii, "application/pdf");
  return 0;
}

static int pdf_done(zc_req *r, void *pCtx) {
  pdf_job *j = pCtx;
  if (j->bForPeer) return pdf_done_for_peer(j);
  if (!j->aPdf) {
    fprintf(stderr, "forms: the PDF of %s failed: %s\n", j->zNumber, j->zErr);
    return http_error(r, 500, "pdf_failed", "评审表生成失败，请稍后再试");
  }
  return pdf_answer(r, j);
}

/* The applicant's home rendered it (it alone holds the full ID number). */
static int pdf_from_home(zc_req *r, const fedcall_result *res, void *pCtx) {
  pdf_job *j = pCtx;
  const char *zB64 = res->rc == FEDCALL_OK ? jstr(res->pResult, "pdf") : NULL;
  if (!zB64)
    return http_error(r, 503, "home_unavailable", "评审表须由申请人所属地区的网站生成（含身份证号），该网站暂时无法连接，请稍后再试");
  j->aPdf = secret_base64_decode(zB64, 4 * FORM_PDF_MAX, &j->nPdf);
  if (!j->aPdf) return http_error(r, 502, "pdf_failed", "申请人所属地区的网站返回的评审表无法读取");
  return pdf_answer(r, j);
}

static void pdf_free(void *pCtx) {
  pdf_job *j = pCtx;
  json_decref(j->pApp);
  if (j->zIdNumber) OPENSSL_cleanse(j->zIdNumber, strlen(j->zIdNumber));
  free(j->zIdNumber);
  free(j->zCode);
  free(j->aPdf);
  free(j);
}

/* Where the QR code sends a reader: the issuing node's verification page. */
static void verify_url(zc_node *p, const char *zIssuer, const char *zCode, char *zOut, size_t nOut) {
  snprintf(zOut, nOut, "%s/#/verify?code=%s", node_url(p, zIssuer), zCode);
}

/* What the applicant's home needs to render the form for us (form.render). */
static json_t *render_args(const pdf_job *j) {
  return json_pack("{s:O, s:s, s:b, s:s?, s:s, s:s}", "app", j->pApp, "number", j->zNumber, "official", j->bOfficial,
                   "code", j->zCode, "url", j->zUrl, "issued", j->zIssued);
}

int forms_serve_render(zc_node *p, const fedcall_from *pFrom, json_t *pArgs) {
  json_t *pApp = json_object_get(pArgs, "app");
  const char *zApplicant = jstr(json_object_get(pApp, "applicant"), "id");
  pdf_job *j = NULL;
  char *zId = zApplicant ? account_home_id_number(p, zApplicant) : NULL;
  if (!zId || !jstr(pArgs, "number") || !jstr(pArgs, "url") || !jstr(pArgs, "issued") ||
      !(j = calloc(1, sizeof *j))) {
    fedcall_answer(pFrom, NULL, zId ? "bad_arguments" : "not_home");
    free(zId);
    return 0;
  }
  j->p = p;
  j->from = *pFrom;
  j->bForPeer = 1;
  j->pApp = json_incref(pApp);
  j->zIdNumber = zId;
  snprintf(j->zNumber, sizeof j->zNumber, "%s", jstr(pArgs, "number"));
  j->bOfficial = json_is_true(json_object_get(pArgs, "official")) && jstr(pArgs, "code");
  j->zCode = j->bOfficial ? strdup(jstr(pArgs, "code")) : NULL;
  snprintf(j->zUrl, sizeof j->zUrl, "%s", jstr(pArgs, "url"));
  snprintf(j->zIssued, sizeof j->zIssued, "%s", jstr(pArgs, "issued"));
  const char *zOrganiser = jstr(json_object_get(pApp, "committee"), "node_name");
  snprintf(j->zNodeName, sizeof j->zNodeName, "%s", zOrganiser ? zOrganiser : node_region_name(p, pFrom->zNode));
  int rc = worker_defer(NULL, pdf_work, pdf_done, j, pdf_free);
  if (rc == HTTP_BUSY) fedcall_answer(pFrom, NULL, "busy"); /* worker_defer freed j */
  return rc == HTTP_PENDING || rc == HTTP_BUSY ? 0 : rc;
}

int forms_pdf_get(zc_req *r) {
  app_access acc;
  json_t *a = app_load(r, r->aParam[0], &acc);
  if (!a) return 0;
  pdf_job *j = calloc(1, sizeof *j);
  if (!j) {
    json_decref(a);
    return -1;
  }
  forms_number(j->zNumber, jstr(a, "id"), json_integer_value(json_object_get(a, "year")));
  j->bOfficial = forms_status_official(jstr(a, "status")) && (j->zCode = forms_current_code(r->node, jstr(a, "id")));
  if (j->bOfficial) {
    char *zIssuer = db_text(r->node->db, "SELECT issuer FROM forms WHERE code = ?", "t", j->zCode);
    verify_url(r->node, zIssuer ? zIssuer : r->node->cfg.zNode, j->zCode, j->zUrl, sizeof j->zUrl);
    free(zIssuer);
  }
  j->p = r->node;
  j->zIdNumber = account_home_id_number(r->node, jstr(a, "applicant_id"));
  char *zHome = j->zIdNumber ? NULL : db_text(r->node->db, "SELECT home FROM accounts WHERE id = ?", "t",
                                                jstr(a, "applicant_id"));
  node_beijing_time(r->node, "%Y-%m-%d %H:%M", j->zIssued, sizeof j->zIssued); /* as the portal shows times */
  json_decref(a);
  /* the application as GET shows it to this caller: what the form prints */
  if (app_answer(r, r->aParam[0]) || r->status != 200 ||
      !(j->pApp = json_loadb(r->out.z, r->out.n, 0, NULL))) {
    pdf_free(j);
    return r->status ? 0 : -1;
  }
  r->out.n = 0;
  r->status = 0;
  /* the node whose committee reviews it is the one named on the form */
  const char *zOrganiser = jstr(json_object_get(j->pApp, "committee"), "node_name");
  snprintf(j->zNodeName, sizeof j->zNodeName, "%s", zOrganiser ? zOrganiser : r->node->zName);
  if (zHome && strcmp(zHome, r->node->cfg.zNode) != 0) { /* rendered where the ID number is */
    int rc = fedcall_request(r, zHome, "form.render", render_args(j), pdf_from_home, j, pdf_free);
    free(zHome);
    return rc;
  }
  free(zHome);
  int rc = worker_defer(r, pdf_work, pdf_done, j, pdf_free);
  if (rc == HTTP_BUSY) return http_error(r, 503, "busy", "系统繁忙，请稍后再试");
  return rc;
}
