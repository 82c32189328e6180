/* secret.c - the node's cryptography: Argon2id password hashes (libargon2), random bytes
 * and tokens, SHA-256 and HMAC-SHA256 digests, AES-256-GCM encryption of ID numbers at
 * rest, and the loading (or first-time creation) of the keys kept in files. Everything
 * goes through OpenSSL 3's EVP interfaces; nothing here keeps global state. */
#include "secret.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Argon2id parameters: OWASP's second recommended set (19 MiB, 2 passes, 1 lane). */
#define PW_T_COST 2
#define PW_M_COST_KIB 19456
#define PW_PARALLELISM 1
#define PW_SALT_LEN 16
#define PW_HASH_LEN 32

#define GCM_NONCE_LEN 12
#define GCM_TAG_LEN 16
#define GCM_PLAIN_MAX (1u << 20) /* values encrypted are ID numbers; keeps int casts safe */

#define KEY_LEN 32
#define KEY_HEX_LEN (2 * KEY_LEN)

/* ---------------------------------------------------------------------------------------
 * Hex
 * ------------------------------------------------------------------------------------- */

static void hex_encode(const unsigned char *a, size_t n, char *out)
{
  static const char zHex[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    out[2 * i] = zHex[a[i] >> 4];
    out[2 * i + 1] = zHex[a[i] & 0x0F];
  }
  out[2 * n] = '\0';
}

static int hex_value(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decode exactly 2*n hex characters at z into out. 0 on success, -1 on a non-hex one. */
static int hex_decode(const char *z, unsigned char *out, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    int hi = hex_value(z[2 * i]), lo = hex_value(z[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i] = (unsigned char)(hi << 4 | lo);
  }
  return 0;
}

/* ---------------------------------------------------------------------------------------
 * Passwords
 * ------------------------------------------------------------------------------------- */

int secret_password_hash(const char *zPassword, char out[SECRET_HASH_MAX])
{
  unsigned char aSalt[PW_SALT_LEN];
  int rc = -1;

  if (zPassword == NULL || out == NULL) return -1;
  if (secret_random(aSalt, sizeof aSalt) == 0 &&
      argon2id_hash_encoded(PW_T_COST, PW_M_COST_KIB, PW_PARALLELISM, zPassword,
                            strlen(zPassword), aSalt, sizeof aSalt, PW_HASH_LEN, out,
                            SECRET_HASH_MAX) == ARGON2_OK) {
    rc = 0;
  } else {
    out[0] = '\0';
  }
  OPENSSL_cleanse(aSalt, sizeof aSalt);
  return rc;
}

int secret_password_verify(const char *zEncoded, const char *zPassword)
{
  int rc;

  if (zEncoded == NULL || strncmp(zEncoded, "$argon2id$", 10) != 0 ||
      strlen(zEncoded) >= SECRET_HASH_MAX) {
    return -1;
  }
  if (zPassword == NULL) return 0;
  rc = argon2id_verify(zEncoded, zPassword, strlen(zPassword));
  if (rc == ARGON2_OK) return 1;
  if (rc == ARGON2_VERIFY_MISMATCH) return 0;
  return -1;
}

/* ---------------------------------------------------------------------------------------
 * Randomness
 * ------------------------------------------------------------------------------------- */

int secret_random(unsigned char *out, size_t n)
{
  while (n > 0) {
    int nChunk = n > INT_MAX ? INT_MAX : (int)n;
    if (RAND_bytes(out, nChunk) != 1) return -1;
    out += nChunk;
    n -= (size_t)nChunk;
  }
  return 0;
}

int secret_token_hex(char *out, size_t nBytes)
{
  unsigned char aBuf[32];
  size_t i = 0;
  int rc = 0;

  if (out == NULL) return -1;
  out[0] = '\0';
  while (rc == 0 && i < nBytes) {
    size_t n = nBytes - i < sizeof aBuf ? nBytes - i : sizeof aBuf;
    rc = secret_random(aBuf, n);
    if (rc == 0) hex_encode(aBuf, n, out + 2 * i);
    i += n;
  }
  OPENSSL_cleanse(aBuf, sizeof aBuf);
  if (rc != 0) out[0] = '\0';
  return rc;
}

/* ---------------------------------------------------------------------------------------
 * Digests
 * ------------------------------------------------------------------------------------- */

int secret_equal_hex(const char *zA, const char *zB)
{
  return zA && zB && strlen(zA) == 64 && strlen(zB) == 64 && CRYPTO_memcmp(zA, zB, 64) == 0;
}

void secret_hmac_hex(const unsigned char *key, size_t nKey, const char *zMsg, char out[65])
{
  unsigned char aMac[EVP_MAX_MD_SIZE];
  static const unsigned char aNoKey[1] = {0};
  size_t nMac = 0;

  if (zMsg == NULL) zMsg = "";
  /* OpenSSL 3 has treated an empty key inconsistently (refused, or with a NULL pointer
   * silently left unset: openssl#15632, #17811, #31068). HMAC zero-pads keys to the
   * block size, so one zero byte is the same key and takes the ordinary path. */
  if (key == NULL || nKey == 0) {
    key = aNoKey;
    nKey = 1;
  }
  if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, nKey, (const unsigned char *)zMsg,
                strlen(zMsg), aMac, sizeof aMac, &nMac) != NULL &&
      nMac == 32) {
    hex_encode(aMac, 32, out);
  } else {
    out[0] = '\0';
  }
}

/* ---------------------------------------------------------------------------------------
 * AES-256-GCM and its base64 envelope
 * ------------------------------------------------------------------------------------- */

char *secret_base64_encode(const unsigned char *a, size_t n)
{
  char *z = malloc(4 * ((n + 2) / 3) + 1);
  if (z) EVP_EncodeBlock((unsigned char *)z, a, (int)n);
  return z;
}

static int is_base64_char(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '+' || c == '/';
}

/* EVP_DecodeBlock counts padding as zero bytes: the padding is subtracted here. */
unsigned char *secret_base64_decode(const char *z, size_t nMax, size_t *pN)
{
  size_t nIn = strlen(z), nPad = 0, i;
  unsigned char *a;
  int nOut;

  if (nIn == 0 || nIn % 4 != 0 || nIn / 4 * 3 > nMax + 2) return NULL;
  if (z[nIn - 1] == '=') nPad = z[nIn - 2] == '=' ? 2 : 1;
  for (i = 0; i < nIn - nPad; i++) {
    if (!is_base64_char(z[i])) return NULL;
  }
  a = malloc(nIn / 4 * 3);
  if (a == NULL) return NULL;
  nOut = EVP_DecodeBlock(a, (const unsigned char *)z, (int)nIn);
  if (nOut < 0 || (size_t)nOut != nIn / 4 * 3) {
    free(a);
    return NULL;
  }
  *pN = (size_t)nOut - nPad;
  return a;
}

/* aOut receives nonce || ciphertext || tag; it holds nPlain + 28 bytes. */
static int gcm_seal(const unsigned char *key, const unsigned char *aPlain, size_t nPlain,
                    unsigned char *aOut)
{
  EVP_CIPHER_CTX *pCtx = NULL;
  unsigned char *aCipher = aOut + GCM_NONCE_LEN;
  int n = 0, nFinal = 0, rc = -1;

  if (secret_random(aOut, GCM_NONCE_LEN) != 0) goto done;
  pCtx = EVP_CIPHER_CTX_new();
  if (pCtx == NULL ||
      EVP_EncryptInit_ex2(pCtx, EVP_aes_256_gcm(), key, aOut, NULL) != 1 ||
      EVP_EncryptUpdate(pCtx, aCipher, &n, aPlain, (int)nPlain) != 1 ||
      EVP_EncryptFinal_ex(pCtx, aCipher + n, &nFinal) != 1 ||
      (size_t)(n + nFinal) != nPlain ||
      EVP_CIPHER_CTX_ctrl(pCtx, EVP_CTRL_AEAD_GET_TAG, GCM_TAG_LEN, aCipher + nPlain) != 1) {
    goto done;
  }
  rc = 0;
done:
  EVP_CIPHER_CTX_free(pCtx);
  return rc;
}

/* aIn is nonce || ciphertext || tag (nIn >= 28); aPlain receives nIn - 28 bytes. */
static int gcm_open(const unsigned char *key, unsigned char *aIn, size_t nIn,
                    unsigned char *aPlain)
{
  EVP_CIPHER_CTX *pCtx = NULL;
  size_t nCipher = nIn - GCM_NONCE_LEN - GCM_TAG_LEN;
  unsigned char *aTag = aIn + GCM_NONCE_LEN + nCipher;
  int n = 0, nFinal = 0, rc = -1;

  pCtx = EVP_CIPHER_CTX_new();
  if (pCtx == NULL ||
      EVP_DecryptInit_ex2(pCtx, EVP_aes_256_gcm(), key, aIn, NULL) != 1 ||
      EVP_DecryptUpdate(pCtx, aPlain, &n, aIn + GCM_NONCE_LEN, (int)nCipher) != 1 ||
      EVP_CIPHER_CTX_ctrl(pCtx, EVP_CTRL_AEAD_SET_TAG, GCM_TAG_LEN, aTag) != 1 ||
      EVP_DecryptFinal_ex(pCtx, aPlain + n, &nFinal) != 1 ||
      (size_t)(n + nFinal) != nCipher) {
    goto done;
  }
  rc = 0;
done:
  EVP_CIPHER_CTX_free(pCtx);
  return rc;
}

char *secret_encrypt(const unsigned char key[32], const char *zPlain)
{
  unsigned char *aSealed = NULL;
  size_t nPlain, nSealed;
  char *zOut = NULL;

  if (key == NULL || zPlain == NULL) return NULL;
  nPlain = strlen(zPlain);
  if (nPlain > GCM_PLAIN_MAX) return NULL;
  nSealed = GCM_NONCE_LEN + nPlain + GCM_TAG_LEN;
  aSealed = malloc(nSealed);
  if (aSealed && gcm_seal(key, (const unsigned char *)zPlain, nPlain, aSealed) == 0) {
    zOut = secret_base64_encode(aSealed, nSealed);
  }
  free(aSealed);
  return zOut;
}

char *secret_decrypt(const unsigned char key[32], const char *zB64)
{
  unsigned char *aSealed = NULL;
  size_t nSealed = 0, nPlain = 0;
  char *zPlain = NULL;

  if (key == NULL || zB64 == NULL) return NULL;
  aSealed = secret_base64_decode(zB64, 2 * GCM_PLAIN_MAX, &nSealed);
  if (aSealed == NULL || nSealed < GCM_NONCE_LEN + GCM_TAG_LEN) goto done;
  nPlain = nSealed - GCM_NONCE_LEN - GCM_TAG_LEN;
  zPlain = malloc(nPlain + 1);
  if (zPlain == NULL) goto done;
  if (gcm_open(key, aSealed, nSealed, (unsigned char *)zPlain) != 0) {
    OPENSSL_cleanse(zPlain, nPlain + 1); /* unauthenticated bytes must not linger */
    free(zPlain);
    zPlain = NULL;
    goto done;
  }
  zPlain[nPlain] = '\0';
done:
  free(aSealed);
  return zPlain;
}

/* ---------------------------------------------------------------------------------------
 * Key files
 * ------------------------------------------------------------------------------------- */

#define KEY_ABSENT 1

/* Read a key file: 64 hex characters, optionally one '\n'. 0, -1 or KEY_ABSENT. */
static int key_read(const char *zPath, unsigned char out[KEY_LEN])
{
  char zBuf[KEY_HEX_LEN + 2];
  struct stat st;
  ssize_t n;
  int fd, rc = -1;

  fd = open(zPath, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? KEY_ABSENT : -1;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) goto done;
  n = read(fd, zBuf, sizeof zBuf); /* one byte more than allowed, to notice excess */
  if (n == KEY_HEX_LEN + 1 && zBuf[KEY_HEX_LEN] != '\n') goto done;
  if (n != KEY_HEX_LEN && n != KEY_HEX_LEN + 1) goto done;
  rc = hex_decode(zBuf, out, KEY_LEN);
done:
  OPENSSL_cleanse(zBuf, sizeof zBuf);
  close(fd);
  return rc;
}

static int write_all(int fd, const char *z, size_t n)
{
  while (n > 0) {
    ssize_t nDone = write(fd, z, n);
    if (nDone < 0 && errno == EINTR) continue;
    if (nDone <= 0) return -1;
    z += nDone;
    n -= (size_t)nDone;
  }
  return 0;
}

/* fsync the directory holding zPath, so a new name in it survives a crash. */
static int fsync_parent_dir(const char *zPath)
{
  char zDir[PATH_MAX];
  const char *zSlash = strrchr(zPath, '/');
  int fd, rc;

  if (zSlash == NULL) {
    strcpy(zDir, ".");
  } else if ((size_t)(zSlash - zPath) + 1 >= sizeof zDir) {
    return -1;
  } else {
    memcpy(zDir, zPath, (size_t)(zSlash - zPath) + 1); /* keeps "/" for a root file */
    zDir[zSlash == zPath ? 1 : zSlash - zPath] = '\0';
  }
  fd = open(zDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  rc = fsync(fd);
  close(fd);
  return rc;
}

/* Write a fresh key as "<hex>\n" to a 0600 temp file beside zPath, then give it its
 * name with link(), which unlike rename() never replaces a key another process made in
 * the meantime: losing that race means reading the winner's key, not orphaning data
 * already encrypted under it. Filesystems without hard links fall back to rename(). */
static int key_create(const char *zPath, unsigned char out[KEY_LEN])
{
  char zTmp[PATH_MAX], zHex[KEY_HEX_LEN + 2];
  unsigned char aKey[KEY_LEN];
  int fd = -1, rc = -1;

  if (snprintf(zTmp, sizeof zTmp, "%s.tmp-XXXXXX", zPath) >= (int)sizeof zTmp) return -1;
  if (secret_random(aKey, KEY_LEN) != 0) goto done;
  hex_encode(aKey, KEY_LEN, zHex);
  zHex[KEY_HEX_LEN] = '\n';
  fd = mkostemp(zTmp, O_CLOEXEC);
  if (fd < 0) goto done;
  if (fchmod(fd, 0600) != 0 || write_all(fd, zHex, KEY_HEX_LEN + 1) != 0 || fsync(fd) != 0) {
    goto done;
  }
  if (link(zTmp, zPath) != 0) {
    if (errno == EEXIST) {
      rc = key_read(zPath, out);
      goto done;
    }
    if (rename(zTmp, zPath) != 0) goto done;
  }
  if (fsync_parent_dir(zPath) != 0) goto done;
  memcpy(out, aKey, KEY_LEN);
  rc = 0;
done:
  if (fd >= 0) {
    close(fd);
    unlink(zTmp);
  }
  OPENSSL_cleanse(aKey, sizeof aKey);
  OPENSSL_cleanse(zHex, sizeof zHex);
  return rc;
}

int secret_load_key(const char *zPath, unsigned char out[32], int bCreate)
{
  unsigned char aKey[KEY_LEN];
  int rc;

  if (zPath == NULL || out == NULL) return -1;
  rc = key_read(zPath, aKey);
  if (rc == KEY_ABSENT && bCreate) rc = key_create(zPath, aKey);
  if (rc == 0) memcpy(out, aKey, KEY_LEN);
  OPENSSL_cleanse(aKey, sizeof aKey);
  return rc == 0 ? 0 : -1;
}
