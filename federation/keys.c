/* keys.c - Ed25519 keys through OpenSSL's EVP interface (see keys.h). */
#include "keys.h"
#include "fed_error.h"
#include "fed_file.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_FILE_MAX (64 * 1024)

struct fed_key {
  EVP_PKEY *pPkey;
  int bPrivate;
};

/* Record what failed together with OpenSSL's own reason, and clear OpenSSL's queue. */
static int ssl_error(int rc, const char *zWhat) {
  char zReason[256] = "";
  unsigned long e = ERR_peek_last_error();
  if (e) ERR_error_string_n(e, zReason, sizeof(zReason));
  ERR_clear_error();
  return fed_error_set(rc, "%s%s%s", zWhat, zReason[0] ? ": " : "", zReason);
}

/* Never prompt for a passphrase: encrypted key files are refused. */
static int no_passphrase(char *zBuf, int nBuf, int bWrite, void *pUser) {
  (void)zBuf, (void)nBuf, (void)bWrite, (void)pUser;
  return -1;
}

/* Take ownership of pPkey (freed on failure) and wrap it. */
static int key_wrap(fed_key **out, EVP_PKEY *pPkey, int bPrivate) {
  fed_key *p = NULL;
  if (EVP_PKEY_get_id(pPkey) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(pPkey);
    return fed_error_set(FED_EINVALID, "not an Ed25519 key");
  }
  p = calloc(1, sizeof(*p));
  if (p == NULL) {
    EVP_PKEY_free(pPkey);
    return fed_error_set(FED_ERROR, "out of memory");
  }
  p->pPkey = pPkey;
  p->bPrivate = bPrivate;
  *out = p;
  return FED_OK;
}

int fed_key_generate(fed_key **out) {
  EVP_PKEY *pPkey = NULL;
  *out = NULL;
  pPkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  if (pPkey == NULL) return ssl_error(FED_ERROR, "cannot generate an Ed25519 key");
  return key_wrap(out, pPkey, 1);
}

/* Parse PEM text as a private key (bPrivate) or a SubjectPublicKeyInfo. */
static int key_parse_pem(fed_key **out, const char *zPem, size_t nPem, int bPrivate, const char *zWhere) {
  int rc = FED_OK;
  BIO *pBio = NULL;
  EVP_PKEY *pPkey = NULL;
  char zWhat[600];
  *out = NULL;
  if (nPem > KEY_FILE_MAX) return fed_error_set(FED_EINVALID, "%s: too large for a key", zWhere);
  pBio = BIO_new_mem_buf(zPem, (int)nPem);
  if (pBio == NULL) {
    rc = ssl_error(FED_ERROR, "out of memory");
    goto done;
  }
  pPkey = bPrivate ? PEM_read_bio_PrivateKey(pBio, NULL, no_passphrase, NULL)
                   : PEM_read_bio_PUBKEY(pBio, NULL, no_passphrase, NULL);
  if (pPkey == NULL) {
    snprintf(zWhat, sizeof(zWhat), "%s: not a %s PEM", zWhere,
             bPrivate ? "PKCS#8 private key" : "SubjectPublicKeyInfo public key");
    rc = ssl_error(FED_EINVALID, zWhat);
    goto done;
  }
  rc = key_wrap(out, pPkey, bPrivate);
  if (rc != FED_OK) fed_error_set(rc, "%s: not an Ed25519 key", zWhere);
done:
  BIO_free(pBio);
  return rc;
}

static int key_load_file(fed_key **out, const char *zPath, int bPrivate) {
  int rc = FED_OK;
  char *zPem = NULL;
  size_t nPem = 0;
  *out = NULL;
  rc = fed_file_read(&zPem, &nPem, zPath, KEY_FILE_MAX);
  if (rc != FED_OK) goto done;
  rc = key_parse_pem(out, zPem, nPem, bPrivate, zPath);
done:
  if (zPem) OPENSSL_cleanse(zPem, nPem);
  free(zPem);
  return rc;
}

int fed_key_load_private(fed_key **out, const char *zPath) {
  return key_load_file(out, zPath, 1);
}

void fed_keys_free(fed_key **a, size_t n) {
  for (size_t i = 0; a && i < n; i++) fed_key_free(a[i]);
  free(a);
}

/* Every private key of PEM text, in order: at least one, at most FED_KEYS_MAX. */
static int keys_parse_pem(fed_key ***pa, size_t *pn, const char *zPem, size_t nPem, const char *zWhere) {
  fed_key **a = calloc(FED_KEYS_MAX, sizeof *a);
  size_t n = 0;
  int rc = FED_OK;
  BIO *pBio = BIO_new_mem_buf(zPem, (int)nPem);
  if (!a || !pBio) {
    rc = fed_error_set(FED_ERROR, "out of memory");
    goto done;
  }
  for (;;) {
    EVP_PKEY *pPkey = PEM_read_bio_PrivateKey(pBio, NULL, no_passphrase, NULL);
    if (pPkey == NULL) break;
    if (n == FED_KEYS_MAX) {
      EVP_PKEY_free(pPkey);
      rc = fed_error_set(FED_EINVALID, "%s: more than %d keys", zWhere, FED_KEYS_MAX);
      goto done;
    }
    rc = key_wrap(&a[n], pPkey, 1);
    if (rc != FED_OK) {
      fed_error_set(rc, "%s: key %zu is not an Ed25519 key", zWhere, n + 1);
      goto done;
    }
    n++;
  }
  ERR_clear_error(); /* the end of the text reads as an error */
  if (n == 0) rc = fed_error_set(FED_EINVALID, "%s: not a PKCS#8 private key PEM", zWhere);
done:
  BIO_free(pBio);
  if (rc != FED_OK) {
    fed_keys_free(a, n);
    a = NULL, n = 0;
  }
  *pa = a;
  *pn = n;
  return rc;
}

int fed_keys_load_private(fed_key ***pa, size_t *pn, const char *zPath) {
  char *zPem = NULL;
  size_t nPem = 0;
  *pa = NULL;
  *pn = 0;
  int rc = fed_file_read(&zPem, &nPem, zPath, KEY_FILE_MAX);
  if (rc == FED_OK) rc = keys_parse_pem(pa, pn, zPem, nPem, zPath);
  if (zPem) OPENSSL_cleanse(zPem, nPem);
  free(zPem);
  return rc;
}

int fed_key_load_public(fed_key **out, const char *zPath) {
  return key_load_file(out, zPath, 0);
}

int fed_key_from_pem(fed_key **out, const char *zPem, size_t nPem) {
  return key_parse_pem(out, zPem, nPem, 0, "public key");
}

/* Serialise the key as PEM into a malloc'd NUL-terminated buffer. */
static int key_to_pem(char **out, size_t *pn, const fed_key *pKey, int bPrivate) {
  int rc = FED_OK;
  BIO *pBio = NULL;
  char *zData = NULL;
  long nData;
  *out = NULL;
  /* secure memory for a private key: cleansed when the BIO is freed */
  pBio = BIO_new(bPrivate ? BIO_s_secmem() : BIO_s_mem());
  if (pBio == NULL) {
    rc = ssl_error(FED_ERROR, "out of memory");
    goto done;
  }
  if (!(bPrivate ? PEM_write_bio_PrivateKey(pBio, pKey->pPkey, NULL, NULL, 0, NULL, NULL)
                 : PEM_write_bio_PUBKEY(pBio, pKey->pPkey))) {
    rc = ssl_error(FED_ERROR, "cannot write the key as PEM");
    goto done;
  }
  nData = BIO_get_mem_data(pBio, &zData);
  *out = malloc((size_t)nData + 1);
  if (*out == NULL) {
    rc = fed_error_set(FED_ERROR, "out of memory");
    goto done;
  }
  memcpy(*out, zData, (size_t)nData);
  (*out)[nData] = 0;
  if (pn) *pn = (size_t)nData;
done:
  BIO_free_all(pBio);
  return rc;
}

int fed_key_public_pem(char **out, size_t *pn, const fed_key *pKey) {
  return key_to_pem(out, pn, pKey, 0);
}

int fed_keys_write_private(fed_key *const *a, size_t n, const char *zPath) {
  int rc = FED_OK;
  char *zAll = NULL;
  size_t nAll = 0;
  for (size_t i = 0; i < n && rc == FED_OK; i++) {
    char *zPem = NULL, *zNew;
    size_t nPem = 0;
    if (!a[i]->bPrivate) {
      rc = fed_error_set(FED_EINVALID, "%s: key %zu has no private half", zPath, i + 1);
    } else if ((rc = key_to_pem(&zPem, &nPem, a[i], 1)) == FED_OK) {
      zNew = OPENSSL_secure_malloc(nAll + nPem + 1);
      if (!zNew) {
        rc = fed_error_set(FED_ERROR, "out of memory");
      } else {
        if (nAll) memcpy(zNew, zAll, nAll);
        memcpy(zNew + nAll, zPem, nPem);
        OPENSSL_secure_clear_free(zAll, nAll);
        zAll = zNew;
        nAll += nPem;
      }
    }
    if (zPem) OPENSSL_cleanse(zPem, nPem);
    free(zPem);
  }
  if (rc == FED_OK && n == 0) rc = fed_error_set(FED_EINVALID, "%s: no key to write", zPath);
  if (rc == FED_OK) rc = fed_file_write_atomic(zPath, zAll, nAll, 0600);
  OPENSSL_secure_clear_free(zAll, nAll);
  return rc;
}

int fed_key_write_private(const fed_key *pKey, const char *zPath) {
  fed_key *a[1] = {(fed_key *)pKey};
  return fed_keys_write_private(a, 1, zPath);
}

int fed_key_write_public(const fed_key *pKey, const char *zPath) {
  int rc = FED_OK;
  char *zPem = NULL;
  size_t nPem = 0;
  rc = key_to_pem(&zPem, &nPem, pKey, 0);
  if (rc != FED_OK) goto done;
  rc = fed_file_write_atomic(zPath, zPem, nPem, 0644);
done:
  free(zPem);
  return rc;
}

int fed_key_sign(unsigned char out[FED_SIG_SIZE], const fed_key *pKey, const void *a, size_t n) {
  int rc = FED_OK;
  EVP_MD_CTX *pCtx = NULL;
  size_t nSig = FED_SIG_SIZE;
  if (!pKey->bPrivate) return fed_error_set(FED_EINVALID, "cannot sign with a public key");
  pCtx = EVP_MD_CTX_new();
  if (pCtx == NULL) {
    rc = ssl_error(FED_ERROR, "out of memory");
    goto done;
  }
  if (EVP_DigestSignInit(pCtx, NULL, NULL, NULL, pKey->pPkey) != 1 ||
      EVP_DigestSign(pCtx, out, &nSig, a, n) != 1 || nSig != FED_SIG_SIZE) {
    rc = ssl_error(FED_ERROR, "Ed25519 signing failed");
    goto done;
  }
done:
  EVP_MD_CTX_free(pCtx);
  return rc;
}

int fed_key_verify(const fed_key *pKey, const void *a, size_t n, const unsigned char *aSig, size_t nSig) {
  int rc = FED_OK;
  EVP_MD_CTX *pCtx = NULL;
  if (nSig != FED_SIG_SIZE) {
    return fed_error_set(FED_EBADSIG, "a signature is %d bytes, not %zu", FED_SIG_SIZE, nSig);
  }
  pCtx = EVP_MD_CTX_new();
  if (pCtx == NULL) {
    rc = ssl_error(FED_ERROR, "out of memory");
    goto done;
  }
  if (EVP_DigestVerifyInit(pCtx, NULL, NULL, NULL, pKey->pPkey) != 1) {
    rc = ssl_error(FED_ERROR, "Ed25519 verification could not start");
    goto done;
  }
  if (EVP_DigestVerify(pCtx, aSig, nSig, a, n) != 1) {
    ERR_clear_error();
    rc = fed_error_set(FED_EBADSIG, "the Ed25519 signature does not verify");
    goto done;
  }
done:
  EVP_MD_CTX_free(pCtx);
  return rc;
}

#define VERIFIERS_MAX 32 /* keys one set keeps a prepared check for */

struct fed_verifier_set {
  const fed_key *apKey[VERIFIERS_MAX];
  EVP_MD_CTX *apCtx[VERIFIERS_MAX];
  size_t n;
};

fed_verifier_set *fed_verifier_set_new(void) { return calloc(1, sizeof(fed_verifier_set)); }

void fed_verifier_set_free(fed_verifier_set *p) {
  for (size_t i = 0; p && i < p->n; i++) EVP_MD_CTX_free(p->apCtx[i]);
  free(p);
}

/* The slot of pKey's prepared check, set up on first use; -1 when the set is full or
 * OpenSSL cannot (the caller then verifies the ordinary way). */
static int verifier_slot(fed_verifier_set *p, const fed_key *pKey) {
  for (size_t i = 0; i < p->n; i++)
    if (p->apKey[i] == pKey) return (int)i;
  if (p->n == VERIFIERS_MAX) return -1;
  EVP_MD_CTX *pCtx = EVP_MD_CTX_new();
  if (pCtx == NULL || EVP_DigestVerifyInit(pCtx, NULL, NULL, NULL, pKey->pPkey) != 1) {
    EVP_MD_CTX_free(pCtx);
    ERR_clear_error();
    return -1;
  }
  p->apKey[p->n] = pKey;
  p->apCtx[p->n] = pCtx;
  return (int)p->n++;
}

int fed_key_verify_in(fed_verifier_set *p, const fed_key *pKey, const void *a, size_t n, const unsigned char *aSig,
                      size_t nSig) {
  int i = p && nSig == FED_SIG_SIZE ? verifier_slot(p, pKey) : -1;
  if (i < 0) return fed_key_verify(pKey, a, n, aSig, nSig);
  if (EVP_DigestVerify(p->apCtx[i], aSig, nSig, a, n) == 1) return FED_OK;
  /* a failed check may leave the context unusable: the next one is set up afresh */
  ERR_clear_error();
  EVP_MD_CTX_free(p->apCtx[i]);
  p->n--;
  p->apKey[i] = p->apKey[p->n];
  p->apCtx[i] = p->apCtx[p->n];
  return fed_error_set(FED_EBADSIG, "the Ed25519 signature does not verify");
}

static void hex_encode(char *out, const unsigned char *a, size_t n) {
  static const char aHex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = aHex[a[i] >> 4];
    out[2 * i + 1] = aHex[a[i] & 0xF];
  }
  out[2 * n] = 0;
}

void fed_sha256_hex(char out[FED_SHA256_HEX_SIZE], const void *a, size_t n) {
  unsigned char aDigest[32];
  unsigned int nDigest = 0;
  /* EVP_Digest with SHA-256 cannot fail short of memory exhaustion inside OpenSSL */
  if (EVP_Digest(a, n, aDigest, &nDigest, EVP_sha256(), NULL) != 1 || nDigest != 32) {
    memset(aDigest, 0, sizeof(aDigest));
    ERR_clear_error();
  }
  hex_encode(out, aDigest, 32);
}

int fed_key_fingerprint(char out[FED_FINGERPRINT_SIZE], const fed_key *pKey) {
  unsigned char *aDer = NULL;
  int nDer = i2d_PUBKEY(pKey->pPkey, &aDer);
  if (nDer <= 0) {
    out[0] = 0;
    return ssl_error(FED_ERROR, "cannot encode the public key");
  }
  fed_sha256_hex(out, aDer, (size_t)nDer);
  OPENSSL_free(aDer);
  return FED_OK;
}

int fed_key_has_private(const fed_key *pKey) {
  return pKey && pKey->bPrivate;
}

void fed_key_free(fed_key *pKey) {
  if (pKey == NULL) return;
  EVP_PKEY_free(pKey->pPkey);
  free(pKey);
}

EVP_PKEY *fed_key_evp(const fed_key *pKey) { return pKey ? pKey->pPkey : NULL; }
