/* fedwire.c - zc-fed.1's mutual authentication (fedwire.h). */
#include "fedwire.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fed_error.h"

void fedwire_hex(char *out, const unsigned char *a, size_t n) {
  static const char aDigit[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = aDigit[a[i] >> 4];
    out[2 * i + 1] = aDigit[a[i] & 15];
  }
  out[2 * n] = 0;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int fedwire_unhex(unsigned char *out, size_t n, const char *zHex) {
  if (!zHex || strlen(zHex) != 2 * n) return fed_error_set(FED_EINVALID, "expected %zu hex digits", 2 * n);
  for (size_t i = 0; i < n; i++) {
    int hi = hex_digit(zHex[2 * i]), lo = hex_digit(zHex[2 * i + 1]);
    if (hi < 0 || lo < 0) return fed_error_set(FED_EINVALID, "not lower-case hex");
    out[i] = (unsigned char)(hi << 4 | lo);
  }
  return FED_OK;
}

char *fedwire_auth_payload(size_t *pn, int bServer, const char *zSigner, const char *zPeer,
                           const char *zNonceServer, const char *zNonceClient, const char *zBindingHex) {
  char *z = NULL;
  int n = asprintf(&z, FEDWIRE_AUTH_PREFIX "role: %s\nsigner: %s\npeer: %s\nserver-nonce: %s\nclient-nonce: %s\n"
                   "binding: %s\n", bServer ? "server" : "client", zSigner, zPeer, zNonceServer, zNonceClient,
                   zBindingHex);
  if (n < 0) return NULL;
  *pn = (size_t)n;
  return z;
}

int fedwire_nonce(char out[FEDWIRE_NONCE_HEX]) {
  unsigned char a[32];
  if (RAND_bytes(a, sizeof a) != 1) return fed_error_set(FED_ERROR, "no randomness");
  fedwire_hex(out, a, sizeof a);
  return FED_OK;
}

int fedwire_auth_sign(char out[FEDWIRE_SIG_HEX], const fed_key *pKey, int bServer, const char *zSigner,
                      const char *zPeer, const char *zNonceServer, const char *zNonceClient,
                      const char *zBindingHex) {
  unsigned char aSig[FED_SIG_SIZE];
  size_t n;
  char *z = fedwire_auth_payload(&n, bServer, zSigner, zPeer, zNonceServer, zNonceClient, zBindingHex);
  if (!z) return fed_error_set(FED_ERROR, "out of memory");
  int rc = fed_key_sign(aSig, pKey, z, n);
  free(z);
  if (rc == FED_OK) fedwire_hex(out, aSig, sizeof aSig);
  return rc;
}

int fedwire_auth_verify(const fed_manifest *m, time_t t, const char *zKeyId, const char *zSigHex, int bServer,
                        const char *zSigner, const char *zPeer, const char *zNonceServer,
                        const char *zNonceClient, const char *zBindingHex) {
  const fed_manifest_key *pKey = NULL;
  unsigned char aSig[FED_SIG_SIZE];
  size_t n;
  if (!zSigner || fed_manifest_find_node(m, zSigner) < 0)
    return fed_error_set(FED_ENOTFOUND, "node %s is not in the manifest", zSigner ? zSigner : "(none)");
  int rc = fed_manifest_key_at(&pKey, m, zKeyId ? zKeyId : "", zSigner, t);
  if (rc) return rc;
  if (fedwire_unhex(aSig, sizeof aSig, zSigHex)) return fed_error_set(FED_EINVALID, "the signature is not hex");
  char *z = fedwire_auth_payload(&n, bServer, zSigner, zPeer, zNonceServer, zNonceClient, zBindingHex);
  if (!z) return fed_error_set(FED_ERROR, "out of memory");
  rc = fed_key_verify(pKey->pKey, z, n, aSig, sizeof aSig);
  free(z);
  return rc ? fed_error_set(FED_EBADSIG, "the signature of %s does not verify", zSigner) : FED_OK;
}
