/* test_secret.c - unit tests of node/secret.c: Argon2id hashes, random tokens, SHA-256
 * and HMAC against published vectors (FIPS 180-2, RFC 4231), AES-256-GCM round trips and
 * tampering, and the creation and checking of key files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <argon2.h>
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keys.h"
#include "secret.h"

static const unsigned char aKey[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                       12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                       23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static int is_lower_hex(const char *z)
{
  for (; *z; z++) {
    if (!((*z >= '0' && *z <= '9') || (*z >= 'a' && *z <= 'f'))) return 0;
  }
  return 1;
}

/* ---- Password hashes ------------------------------------------------------------------ */

static void test_hash_roundtrip(void **state)
{
  char zHash[SECRET_HASH_MAX];
  (void)state;
  assert_int_equal(secret_password_hash("correct horse 电池 staple", zHash), 0);
  assert_true(strncmp(zHash, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
  assert_true(strlen(zHash) < SECRET_HASH_MAX);
  assert_int_equal(secret_password_verify(zHash, "correct horse 电池 staple"), 1);
}

static void test_hash_wrong_password(void **state)
{
  char zHash[SECRET_HASH_MAX];
  (void)state;
  assert_int_equal(secret_password_hash("Secret123!", zHash), 0);
  assert_int_equal(secret_password_verify(zHash, "secret123!"), 0);
  assert_int_equal(secret_password_verify(zHash, "Secret123"), 0);
  assert_int_equal(secret_password_verify(zHash, "Secret123!!"), 0);
  assert_int_equal(secret_password_verify(zHash, ""), 0);
  assert_int_equal(secret_password_verify(zHash, NULL), 0);
}

static void test_hash_salted(void **state)
{
  char zA[SECRET_HASH_MAX], zB[SECRET_HASH_MAX];
  (void)state;
  assert_int_equal(secret_password_hash("same password", zA), 0);
  assert_int_equal(secret_password_hash("same password", zB), 0);
  assert_string_not_equal(zA, zB);
  assert_int_equal(secret_password_verify(zA, "same password"), 1);
  assert_int_equal(secret_password_verify(zB, "same password"), 1);
}

static void test_hash_empty_password(void **state)
{
  char zHash[SECRET_HASH_MAX];
  (void)state;
  assert_int_equal(secret_password_hash("", zHash), 0);
  assert_int_equal(secret_password_verify(zHash, ""), 1);
  assert_int_equal(secret_password_verify(zHash, " "), 0);
}

static void test_hash_malformed(void **state)
{
  char zHash[SECRET_HASH_MAX], zOther[SECRET_HASH_MAX], zCut[SECRET_HASH_MAX];
  unsigned char aSalt[16] = {0};
  (void)state;
  assert_int_equal(secret_password_verify(NULL, "x"), -1);
  assert_int_equal(secret_password_verify("", "x"), -1);
  assert_int_equal(secret_password_verify("garbage", "x"), -1);
  assert_int_equal(secret_password_verify("$argon2id$", "x"), -1);
  assert_int_equal(secret_password_verify("$argon2id$v=19$m=19456,t=2,p=1$", "x"), -1);
  assert_int_equal(secret_password_verify("$2y$10$abcdefghijklmnopqrstuv", "x"), -1);

  /* A well-formed hash of another Argon2 variant is not ours. */
  assert_int_equal(argon2i_hash_encoded(2, 1024, 1, "x", 1, aSalt, sizeof aSalt, 32, zOther,
                                        sizeof zOther),
                   ARGON2_OK);
  assert_int_equal(secret_password_verify(zOther, "x"), -1);

  /* Cut in the middle of the salt, or the parameters damaged. */
  assert_int_equal(secret_password_hash("x", zHash), 0);
  memcpy(zCut, zHash, 40);
  zCut[40] = '\0';
  assert_int_equal(secret_password_verify(zCut, "x"), -1);
  memcpy(zCut, zHash, sizeof zCut);
  zCut[17] = 'q'; /* inside "m=19456" */
  assert_int_equal(secret_password_verify(zCut, "x"), -1);
}

/* ---- Randomness ----------------------------------------------------------------------- */

static void test_random_bytes(void **state)
{
  unsigned char a[64], aZero[64] = {0};
  (void)state;
  assert_int_equal(secret_random(a, 0), 0);
  assert_int_equal(secret_random(a, sizeof a), 0);
  assert_memory_not_equal(a, aZero, sizeof a);
}

static void test_token_hex(void **state)
{
  static const size_t aLen[] = {0, 1, 16, 31, 32, 33, 100};
  char zA[201], zB[201];
  size_t i;
  (void)state;
  for (i = 0; i < sizeof aLen / sizeof aLen[0]; i++) {
    memset(zA, '#', sizeof zA);
    assert_int_equal(secret_token_hex(zA, aLen[i]), 0);
    assert_int_equal(strlen(zA), 2 * aLen[i]);
    assert_true(is_lower_hex(zA));
  }
  assert_int_equal(secret_token_hex(zA, 32), 0);
  assert_int_equal(secret_token_hex(zB, 32), 0);
  assert_string_not_equal(zA, zB);
}

/* ---- Digests -------------------------------------------------------------------------- */

static void test_sha256_vectors(void **state)
{
  static const char zLong[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  char z[65];
  (void)state;
  fed_sha256_hex(z, "abc", 3);
  assert_string_equal(z, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  fed_sha256_hex(z, "", 0);
  assert_string_equal(z, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  fed_sha256_hex(z, NULL, 0);
  assert_string_equal(z, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  fed_sha256_hex(z, zLong, strlen(zLong));
  assert_string_equal(z, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  fed_sha256_hex(z, "a\0b", 3); /* binary data: the length counts, not the NUL */
  assert_string_equal(z, "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138");
}

static void test_hmac_rfc4231(void **state)
{
  unsigned char aKey1[20], aKey6[131];
  char z[65];
  (void)state;
  /* Test case 2 */
  secret_hmac_hex((const unsigned char *)"Jefe", 4, "what do ya want for nothing?", z);
  assert_string_equal(z, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  /* Test case 1 */
  memset(aKey1, 0x0b, sizeof aKey1);
  secret_hmac_hex(aKey1, sizeof aKey1, "Hi There", z);
  assert_string_equal(z, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  /* Test case 6: a key longer than the block is hashed first */
  memset(aKey6, 0xaa, sizeof aKey6);
  secret_hmac_hex(aKey6, sizeof aKey6, "Test Using Larger Than Block-Size Key - Hash Key First",
                  z);
  assert_string_equal(z, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_hmac_empty_key(void **state)
{
  char z[65];
  (void)state;
  secret_hmac_hex((const unsigned char *)"", 0, "message", z);
  assert_string_equal(z, "eb08c1f56d5ddee07f7bdf80468083da06b64cf4fac64fe3a90883df5feacae4");
  secret_hmac_hex(NULL, 0, "message", z);
  assert_string_equal(z, "eb08c1f56d5ddee07f7bdf80468083da06b64cf4fac64fe3a90883df5feacae4");
}

/* ---- AES-256-GCM ---------------------------------------------------------------------- */

static void assert_roundtrip(const char *zPlain)
{
  size_t nSealed = 12 + strlen(zPlain) + 16;
  char *zB64 = secret_encrypt(aKey, zPlain), *zBack;
  assert_non_null(zB64);
  assert_int_equal(strlen(zB64), 4 * ((nSealed + 2) / 3));
  zBack = secret_decrypt(aKey, zB64);
  assert_non_null(zBack);
  assert_string_equal(zBack, zPlain);
  free(zB64);
  free(zBack);
}

static void test_encrypt_roundtrip(void **state)
{
  char *zLong = malloc(10001);
  (void)state;
  assert_non_null(zLong);
  assert_roundtrip("11010519491231002X");
  assert_roundtrip("");
  assert_roundtrip("a");  /* sealed length 29: two '=' of padding */
  assert_roundtrip("ab"); /* 30: none */
  assert_roundtrip("abc"); /* 31: one '=' */
  assert_roundtrip("新疆维吾尔自治区");
  memset(zLong, 'x', 10000);
  zLong[10000] = '\0';
  assert_roundtrip(zLong);
  free(zLong);
}

static void test_encrypt_nonce_is_random(void **state)
{
  char *zA = secret_encrypt(aKey, "same"), *zB = secret_encrypt(aKey, "same");
  (void)state;
  assert_non_null(zA);
  assert_non_null(zB);
  assert_string_not_equal(zA, zB);
  free(zA);
  free(zB);
}

/* Flip one bit of byte i of the decoded envelope and encode it again. */
static char *tamper(const char *zB64, size_t i)
{
  size_t nIn = strlen(zB64);
  unsigned char *a = malloc(nIn);
  char *zOut = malloc(nIn + 1);
  int n = EVP_DecodeBlock(a, (const unsigned char *)zB64, (int)nIn);
  size_t nPad = (zB64[nIn - 1] == '=') + (zB64[nIn - 2] == '=');
  assert_true(n > 0);
  assert_true(i < (size_t)n - nPad);
  a[i] ^= 0x01;
  EVP_EncodeBlock((unsigned char *)zOut, a, n - (int)nPad);
  free(a);
  return zOut;
}

static void test_decrypt_tampered(void **state)
{
  const char *zPlain = "11010519491231002X";
  char *zB64 = secret_encrypt(aKey, zPlain);
  size_t i, nSealed = 12 + strlen(zPlain) + 16;
  (void)state;
  assert_non_null(zB64);
  for (i = 0; i < nSealed; i++) { /* nonce, ciphertext and tag alike */
    char *zBad = tamper(zB64, i);
    char *zOut = secret_decrypt(aKey, zBad);
    if (zOut) fail_msg("tampered byte %zu accepted", i);
    free(zBad);
  }
  free(zB64);
}

static void test_decrypt_wrong_key(void **state)
{
  unsigned char aOther[32];
  char *zB64 = secret_encrypt(aKey, "secret");
  (void)state;
  memcpy(aOther, aKey, 32);
  aOther[31] ^= 0x80;
  assert_non_null(zB64);
  assert_null(secret_decrypt(aOther, zB64));
  free(zB64);
}

static void test_decrypt_malformed(void **state)
{
  char *zB64 = secret_encrypt(aKey, "secret"), zBuf[200];
  size_t n;
  (void)state;
  assert_non_null(zB64);
  n = strlen(zB64);
  assert_null(secret_decrypt(aKey, NULL));
  assert_null(secret_decrypt(aKey, ""));
  assert_null(secret_decrypt(aKey, "abc"));
  assert_null(secret_decrypt(aKey, "!!!!"));
  assert_null(secret_decrypt(aKey, "===="));
  assert_null(secret_decrypt(aKey, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")); /* 27 bytes */
  assert_null(secret_decrypt(NULL, zB64));
  /* truncated by one group */
  memcpy(zBuf, zB64, n - 4);
  zBuf[n - 4] = '\0';
  assert_null(secret_decrypt(aKey, zBuf));
  /* surrounded by whitespace, or with a newline inside */
  snprintf(zBuf, sizeof zBuf, " %s", zB64);
  assert_null(secret_decrypt(aKey, zBuf));
  snprintf(zBuf, sizeof zBuf, "%s\n", zB64);
  assert_null(secret_decrypt(aKey, zBuf));
  snprintf(zBuf, sizeof zBuf, "%.8s\n%s", zB64, zB64 + 8);
  assert_null(secret_decrypt(aKey, zBuf));
  /* padding in the middle */
  snprintf(zBuf, sizeof zBuf, "%s", zB64);
  zBuf[4] = '=';
  assert_null(secret_decrypt(aKey, zBuf));
  free(zB64);
}

/* ---- Key files ------------------------------------------------------------------------ */

typedef struct tmp_dir {
  char zDir[64];
  char zPath[128];
} tmp_dir;

static int setup_dir(void **state)
{
  tmp_dir *p = calloc(1, sizeof *p);
  if (p == NULL) return -1;
  strcpy(p->zDir, "/tmp/zc-test-secret-XXXXXX");
  if (mkdtemp(p->zDir) == NULL) {
    free(p);
    return -1;
  }
  snprintf(p->zPath, sizeof p->zPath, "%s/secret.key", p->zDir);
  *state = p;
  return 0;
}

static int count_entries(const char *zDir)
{
  DIR *d = opendir(zDir);
  struct dirent *e;
  int n = 0;
  if (d == NULL) return -1;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  }
  closedir(d);
  return n;
}

static int teardown_dir(void **state)
{
  tmp_dir *p = *state;
  DIR *d = opendir(p->zDir);
  struct dirent *e;
  char zPath[400];
  while (d && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(zPath, sizeof zPath, "%s/%s", p->zDir, e->d_name);
    if (unlink(zPath) != 0) rmdir(zPath);
  }
  if (d) closedir(d);
  rmdir(p->zDir);
  free(p);
  return 0;
}

static void write_file(const char *zPath, const char *zContent, size_t n)
{
  FILE *f = fopen(zPath, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(zContent, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static size_t read_file(const char *zPath, char *zBuf, size_t nBuf)
{
  FILE *f = fopen(zPath, "rb");
  size_t n;
  assert_non_null(f);
  n = fread(zBuf, 1, nBuf - 1, f);
  zBuf[n] = '\0';
  fclose(f);
  return n;
}

static void test_key_absent(void **state)
{
  tmp_dir *p = *state;
  unsigned char a[32];
  assert_int_equal(secret_load_key(p->zPath, a, 0), -1);
  assert_int_equal(access(p->zPath, F_OK), -1);
  assert_int_equal(count_entries(p->zDir), 0);
}

static void test_key_create_and_reload(void **state)
{
  tmp_dir *p = *state;
  unsigned char a[32], b[32], aZero[32] = {0};
  char zHex[65], zFile[100];
  struct stat st;
  mode_t old = umask(0); /* the key must be private whatever the umask */
  int i;

  assert_int_equal(secret_load_key(p->zPath, a, 1), 0);
  umask(old);
  assert_memory_not_equal(a, aZero, 32);
  assert_int_equal(stat(p->zPath, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(read_file(p->zPath, zFile, sizeof zFile), 65);
  for (i = 0; i < 32; i++) snprintf(zHex + 2 * i, 3, "%02x", a[i]);
  assert_memory_equal(zFile, zHex, 64);
  assert_int_equal(zFile[64], '\n');
  assert_int_equal(count_entries(p->zDir), 1); /* no temp file left behind */

  assert_int_equal(secret_load_key(p->zPath, b, 0), 0);
  assert_memory_equal(a, b, 32);
  assert_int_equal(secret_load_key(p->zPath, b, 1), 0); /* never replaced */
  assert_memory_equal(a, b, 32);
}

static void test_key_formats_accepted(void **state)
{
  tmp_dir *p = *state;
  const char *zHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
  unsigned char a[32], aWant[32];
  int i;
  for (i = 0; i < 32; i++) aWant[i] = (unsigned char)i;

  write_file(p->zPath, zHex, 64);
  assert_int_equal(secret_load_key(p->zPath, a, 0), 0);
  assert_memory_equal(a, aWant, 32);
  write_file(p->zPath, "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F\n", 65);
  memset(a, 0, sizeof a);
  assert_int_equal(secret_load_key(p->zPath, a, 0), 0);
  assert_memory_equal(a, aWant, 32);
}

static void test_key_formats_refused(void **state)
{
  static const char *aBad[] = {
      "",
      "\n",
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",   /* 63 */
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0", /* 65 */
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\n",
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\r\n",
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",
      " 00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f extra text",
  };
  tmp_dir *p = *state;
  unsigned char a[32], aSentinel[32];
  char zAfter[200];
  size_t i;
  memset(aSentinel, 0x5A, sizeof aSentinel);
  for (i = 0; i < sizeof aBad / sizeof aBad[0]; i++) {
    write_file(p->zPath, aBad[i], strlen(aBad[i]));
    memcpy(a, aSentinel, sizeof a);
    if (secret_load_key(p->zPath, a, 1) != -1) fail_msg("bad key file %zu accepted", i);
    assert_memory_equal(a, aSentinel, 32); /* out untouched */
    read_file(p->zPath, zAfter, sizeof zAfter); /* and a bad file is never replaced */
    assert_string_equal(zAfter, aBad[i]);
  }
}

static void test_key_not_a_file(void **state)
{
  tmp_dir *p = *state;
  unsigned char a[32];
  char zMissing[200];
  assert_int_equal(mkdir(p->zPath, 0700), 0);
  assert_int_equal(secret_load_key(p->zPath, a, 1), -1);
  snprintf(zMissing, sizeof zMissing, "%s/no/such/dir/secret.key", p->zDir);
  assert_int_equal(secret_load_key(zMissing, a, 1), -1);
}

/* Several processes creating the same key at once all end up with the one on disk. */
static void test_key_create_race(void **state)
{
  enum { N = 8 };
  tmp_dir *p = *state;
  unsigned char aDisk[32], aGot[N][32];
  int aPipe[N][2], i, status;
  pid_t aPid[N];

  for (i = 0; i < N; i++) {
    assert_int_equal(pipe(aPipe[i]), 0);
    aPid[i] = fork();
    assert_true(aPid[i] >= 0);
    if (aPid[i] == 0) {
      unsigned char a[32];
      int ok = secret_load_key(p->zPath, a, 1) == 0 && write(aPipe[i][1], a, 32) == 32;
      _exit(ok ? 0 : 1);
    }
    close(aPipe[i][1]);
  }
  for (i = 0; i < N; i++) {
    assert_int_equal(read(aPipe[i][0], aGot[i], 32), 32);
    close(aPipe[i][0]);
    assert_int_equal(waitpid(aPid[i], &status, 0), aPid[i]);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  assert_int_equal(secret_load_key(p->zPath, aDisk, 0), 0);
  for (i = 0; i < N; i++) assert_memory_equal(aGot[i], aDisk, 32);
  assert_int_equal(count_entries(p->zDir), 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash_roundtrip),
      cmocka_unit_test(test_hash_wrong_password),
      cmocka_unit_test(test_hash_salted),
      cmocka_unit_test(test_hash_empty_password),
      cmocka_unit_test(test_hash_malformed),
      cmocka_unit_test(test_random_bytes),
      cmocka_unit_test(test_token_hex),
      cmocka_unit_test(test_sha256_vectors),
      cmocka_unit_test(test_hmac_rfc4231),
      cmocka_unit_test(test_hmac_empty_key),
      cmocka_unit_test(test_encrypt_roundtrip),
      cmocka_unit_test(test_encrypt_nonce_is_random),
      cmocka_unit_test(test_decrypt_tampered),
      cmocka_unit_test(test_decrypt_wrong_key),
      cmocka_unit_test(test_decrypt_malformed),
      cmocka_unit_test_setup_teardown(test_key_absent, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_key_create_and_reload, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_key_formats_accepted, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_key_formats_refused, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_key_not_a_file, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_key_create_race, setup_dir, teardown_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
