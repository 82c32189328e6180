/* tls.c - the federation's root and node certificates (tls.h), with OpenSSL's X.509. */
#include "tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "fed_error.h"
#include "fed_file.h"

static int set_name(X509_NAME *pName, const char *zCn) {
  return X509_NAME_add_entry_by_txt(pName, "O", MBSTRING_ASC, (const unsigned char *)"zhicheng", -1, -1, 0) &&
         X509_NAME_add_entry_by_txt(pName, "CN", MBSTRING_ASC, (const unsigned char *)zCn, -1, -1, 0);
}

static int add_ext(X509 *x, X509 *pIssuer, int nid, const char *zValue) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, pIssuer, x, NULL, NULL, 0);
  X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, zValue);
  int ok = e && X509_add_ext(x, e, -1);
  X509_EXTENSION_free(e);
  return ok;
}

/* A certificate for pSubject's public key, valid from an hour ago for nDays. */
static X509 *cert_new(EVP_PKEY *pSubject, const char *zCn, time_t tNow, long nDays) {
  X509 *x = X509_new();
  unsigned char aSerial[16];
  BIGNUM *bn = NULL;
  if (!x || RAND_bytes(aSerial, sizeof aSerial) != 1) goto fail;
  aSerial[0] &= 0x7f; /* positive */
  bn = BN_bin2bn(aSerial, sizeof aSerial, NULL);
  if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
      !X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &tNow) ||
      !X509_time_adj_ex(X509_getm_notAfter(x), (int)nDays, 0, &tNow) || !X509_set_pubkey(x, pSubject) ||
      !set_name(X509_get_subject_name(x), zCn))
    goto fail;
  BN_free(bn);
  return x;
fail:
  BN_free(bn);
  X509_free(x);
  return NULL;
}

static int cert_write(X509 *x, const char *zPath) {
  BIO *b = BIO_new(BIO_s_mem());
  char *p = NULL;
  int rc = FED_ERROR;
  if (b && PEM_write_bio_X509(b, x)) {
    long n = BIO_get_mem_data(b, &p);
    rc = fed_file_write_atomic(zPath, p, (size_t)n, 0644);
  }
  BIO_free(b);
  return rc == FED_OK ? FED_OK : fed_error_wrap(FED_ERROR, "%s", zPath);
}

static X509 *cert_read(const char *zPath) {
  FILE *f = fopen(zPath, "r");
  X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
  if (f) fclose(f);
  return x;
}

int fed_tls_root_cert(const fed_key *pRoot, const char *zCertPath, time_t tNow) {
  EVP_PKEY *k = fed_key_evp(pRoot);
  X509 *x = fed_key_has_private(pRoot) ? cert_new(k, "zhicheng federation root", tNow, FED_TLS_ROOT_DAYS) : NULL;
  int rc = FED_ERROR;
  if (x && X509_set_issuer_name(x, X509_get_subject_name(x)) && add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") &&
      add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") &&
      add_ext(x, x, NID_subject_key_identifier, "hash") && X509_sign(x, k, NULL) > 0)
    rc = cert_write(x, zCertPath);
  else
    fed_error_set(FED_ERROR, "cannot make the root certificate");
  X509_free(x);
  return rc;
}

int fed_tls_node_cert(const fed_key *pRoot, const char *zRootCertPath, const char *zNode, const char *zKeyPath,
                      const char *zCertPath, time_t tNow) {
  fed_key *pTls = NULL;
  X509 *pCa = cert_read(zRootCertPath), *x = NULL;
  int rc = FED_ERROR;
  if (!pCa) return fed_error_set(FED_ENOTFOUND, "%s: no certificate", zRootCertPath);
  if (X509_check_private_key(pCa, fed_key_evp(pRoot)) != 1) {
    X509_free(pCa);
    return fed_error_set(FED_EINVALID, "%s is not the certificate of this root key", zRootCertPath);
  }
  if ((rc = fed_key_generate(&pTls)) == FED_OK && (x = cert_new(fed_key_evp(pTls), zNode, tNow, FED_TLS_NODE_DAYS)) &&
      X509_set_issuer_name(x, X509_get_subject_name(pCa)) && add_ext(x, pCa, NID_basic_constraints, "critical,CA:FALSE") &&
      add_ext(x, pCa, NID_key_usage, "critical,digitalSignature") &&
      add_ext(x, pCa, NID_ext_key_usage, "serverAuth,clientAuth") &&
      add_ext(x, pCa, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") &&
      add_ext(x, pCa, NID_authority_key_identifier, "keyid:always") && X509_sign(x, fed_key_evp(pRoot), NULL) > 0) {
    rc = fed_key_write_private(pTls, zKeyPath);
    if (rc == FED_OK) rc = cert_write(x, zCertPath);
  } else if (rc == FED_OK) {
    rc = fed_error_set(FED_ERROR, "cannot make the certificate of %s", zNode);
  }
  X509_free(x);
  X509_free(pCa);
  fed_key_free(pTls);
  return rc;
}

int fed_tls_cert_pin(char out[FED_SHA256_HEX_SIZE], const char *zCertPath) {
  X509 *x = cert_read(zCertPath);
  unsigned char *pDer = NULL;
  int n = x ? i2d_X509(x, &pDer) : -1;
  X509_free(x);
  if (n <= 0) return fed_error_set(FED_EINVALID, "%s: not a PEM certificate", zCertPath);
  fed_sha256_hex(out, pDer, (size_t)n);
  OPENSSL_free(pDer);
  return FED_OK;
}
