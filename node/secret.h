/* secret.h - the node's small cryptographic needs, all through OpenSSL and libargon2:
 * password hashing (Argon2id), random tokens, SHA-256, the keyed ID-number digest the
 * federation shares (HMAC-SHA256 under the pepper) and the encryption of ID numbers at
 * rest (AES-256-GCM under the node's data key). */
#ifndef ZC_SECRET_H
#define ZC_SECRET_H

#include <stddef.h>

#define SECRET_HASH_MAX 128 /* room for an encoded Argon2id hash */

/* Argon2id, encoded ("$argon2id$v=19$m=...") into out[SECRET_HASH_MAX]. 0 on success.
 * Slow by design (tens of ms): call it from a worker thread, never the event loop. */
int secret_password_hash(const char *zPassword, char out[SECRET_HASH_MAX]);
/* 1 if zPassword matches zEncoded, 0 if not, -1 on a malformed hash. */
int secret_password_verify(const char *zEncoded, const char *zPassword);

/* n random bytes from the OS CSPRNG (OpenSSL RAND_bytes). 0 on success. */
int secret_random(unsigned char *out, size_t n);
/* A random token: nBytes random bytes as lower-case hex into out[2*nBytes+1]. */
int secret_token_hex(char *out, size_t nBytes);

/* SHA-256 hex: fed_sha256_hex (federation/keys.h). */
/* HMAC-SHA256(key, msg) as hex. */
/* Two hex SHA-256 digests equal, compared in constant time (1), else 0 (NULL too). */
int secret_equal_hex(const char *zA, const char *zB);
void secret_hmac_hex(const unsigned char *key, size_t nKey, const char *zMsg, char out[65]);

/* Base64 (RFC 4648, with padding) of a[0..n), malloc'd, or NULL. */
char *secret_base64_encode(const unsigned char *a, size_t n);
/* Strict base64: a multiple of 4 characters, '=' only as the last one or two, at most
 * nMax bytes decoded. A malloc'd buffer and its length in *pN, or NULL. */
unsigned char *secret_base64_decode(const char *z, size_t nMax, size_t *pN);

/* AES-256-GCM with a random 12-byte nonce; out is base64(nonce || ciphertext || tag),
 * malloc'd, or NULL on failure. */
char *secret_encrypt(const unsigned char key[32], const char *zPlain);
/* Inverse of secret_encrypt; malloc'd plaintext, or NULL when tampered or malformed. */
char *secret_decrypt(const unsigned char key[32], const char *zB64);

/* Read a 32-byte key stored as 64 hex characters (plus optional newline) in zPath;
 * when the file is absent and bCreate, make a fresh random one (mode 0600). 0 on success. */
int secret_load_key(const char *zPath, unsigned char out[32], int bCreate);

#endif
