/* keys.h - Ed25519 node and root keys (OpenSSL EVP): generate, store as PEM, sign, verify.
 *
 * Private keys are PKCS#8 PEM files of mode 0600; public keys are SubjectPublicKeyInfo PEM,
 * the form `openssl pkeyutl -verify -pubin -inkey X.pem -rawin` reads. A signature is the
 * raw 64-byte Ed25519 signature of the exact bytes given. A key may sign and verify on
 * several threads at once. */
#ifndef ZC_FED_KEYS_H
#define ZC_FED_KEYS_H

#include <stddef.h>

#define FED_SIG_SIZE 64          /* raw Ed25519 signature */
#define FED_FINGERPRINT_SIZE 65  /* 64 hex digits and a NUL */
#define FED_SHA256_HEX_SIZE 65

typedef struct fed_key fed_key;

/* A fresh private key. */
int fed_key_generate(fed_key **out);

/* Load a private key (PKCS#8 PEM, unencrypted) or a public key (SubjectPublicKeyInfo PEM)
 * from a file. Anything but Ed25519 is refused (FED_EINVALID). */
int fed_key_load_private(fed_key **out, const char *zPath);
int fed_key_load_public(fed_key **out, const char *zPath);

/* A key file may hold several private keys, one PEM block after another: a node's old and
 * new keys across a rotation. Loads them all, in order (at least one, at most
 * FED_KEYS_MAX); free the array with fed_keys_free. */
#define FED_KEYS_MAX 16
int fed_keys_load_private(fed_key ***pa, size_t *pn, const char *zPath);
void fed_keys_free(fed_key **a, size_t n);

/* A public key from PEM text, e.g. a key listed in the manifest. */
int fed_key_from_pem(fed_key **out, const char *zPem, size_t nPem);

/* The public half as PEM text: malloc'd, NUL-terminated (free() it); length in *pn. */
int fed_key_public_pem(char **out, size_t *pn, const fed_key *pKey);

/* Write the private key (mode 0600) or the public key (mode 0644) atomically, replacing
 * any file at zPath. Writing the private half of a public-only key is FED_EINVALID. */
int fed_key_write_private(const fed_key *pKey, const char *zPath);
int fed_key_write_public(const fed_key *pKey, const char *zPath);
/* Several private keys in one file (mode 0600, atomically), in the order given. */
int fed_keys_write_private(fed_key *const *a, size_t n, const char *zPath);

/* Sign a[0..n) with a private key. */
int fed_key_sign(unsigned char out[FED_SIG_SIZE], const fed_key *pKey, const void *a, size_t n);

/* 0 when aSig[0..nSig) is pKey's signature of a[0..n); FED_EBADSIG when it is not. */
int fed_key_verify(const fed_key *pKey, const void *a, size_t n, const unsigned char *aSig, size_t nSig);

/* One thread's prepared Ed25519 checks, one per key met: OpenSSL's set-up of a check
 * (about a third of a verification) is paid once per key, not once per signature. For a
 * thread that verifies many signatures (a catch-up, an audit); never shared between
 * threads; it must not outlive the keys it met. */
typedef struct fed_verifier_set fed_verifier_set;
fed_verifier_set *fed_verifier_set_new(void); /* NULL when out of memory */
void fed_verifier_set_free(fed_verifier_set *p);
/* fed_key_verify through p's prepared check of pKey; p NULL: fed_key_verify itself. */
int fed_key_verify_in(fed_verifier_set *p, const fed_key *pKey, const void *a, size_t n, const unsigned char *aSig,
                      size_t nSig);

/* Lower-case hex SHA-256 of the DER SubjectPublicKeyInfo: the key's stable name. */
int fed_key_fingerprint(char out[FED_FINGERPRINT_SIZE], const fed_key *pKey);

/* 1 when the key holds its private half. */
int fed_key_has_private(const fed_key *pKey);

void fed_key_free(fed_key *pKey);

/* The OpenSSL key inside (borrowed; for X.509 certificates, tls.c). */
struct evp_pkey_st;
struct evp_pkey_st *fed_key_evp(const fed_key *pKey);

/* Lower-case hex SHA-256 of a[0..n) (how entries name their predecessor, `prev`). */
void fed_sha256_hex(char out[FED_SHA256_HEX_SIZE], const void *a, size_t n);

#endif
