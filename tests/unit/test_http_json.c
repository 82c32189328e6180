/* test_http_json.c - unit tests of the node's JSON writer (buf_json in node/http.c): for
 * every kind of value it writes the text jansson's json_dumps(v, JSON_COMPACT) writes, the
 * reference every answer had before (escapes, Chinese text, member order, numbers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "http.h"

/* buf_json(v) and json_dumps(v) are the same text; v is stolen. */
static void assert_same_as_jansson(json_t *v) {
  zc_buf b = {0};
  char *zWant = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  assert_non_null(zWant);
  buf_json(&b, v);
  assert_non_null(b.z);
  assert_string_equal(b.z, zWant);
  free(zWant);
  buf_free(&b);
  json_decref(v);
}

static void test_strings_escaped_as_jansson(void **state) {
  (void)state;
  assert_same_as_jansson(json_string("plain"));
  assert_same_as_jansson(json_string(""));
  assert_same_as_jansson(json_string("引号\"和\\反斜杠/斜杠"));
  assert_same_as_jansson(json_string("行一\n行二\r\n\t制表\b\f"));
  assert_same_as_jansson(json_string("\x01\x1f\x7f end"));
  assert_same_as_jansson(json_string("\"\\"));
  assert_same_as_jansson(json_string("𠀀 emoji 😀 and U+2028 \xe2\x80\xa8"));
  assert_same_as_jansson(json_stringn("nul\0inside", 10));
}

/* Strings long enough for the writer's eight-bytes-at-a-time scan, with each character
 * that needs an escape (and the bytes just beside them) at every offset. */
static void test_long_strings_escaped_at_every_offset(void **state) {
  static const char aSpecial[] = {'"', '\\', '\n', '\t', 0x01, 0x1f, 0x00, ' ', 0x7f, '/', (char)0xe4};
  (void)state;
  for (size_t k = 0; k < sizeof aSpecial; k++) {
    size_t nChar = (unsigned char)aSpecial[k] == 0xe4 ? 3 : 1; /* 0xe4: the lead byte of 中 */
    for (size_t at = 0; at + nChar <= 41; at++) {
      char z[41];
      memset(z, 'a', sizeof z);
      z[at] = aSpecial[k];
      if (nChar == 3) z[at + 1] = (char)0xb8, z[at + 2] = (char)0xad;
      assert_same_as_jansson(json_stringn(z, sizeof z));
      assert_same_as_jansson(json_stringn(z, at + nChar)); /* ending right after it */
    }
  }
  char zMany[64];
  for (size_t i = 0; i < sizeof zMany; i++) zMany[i] = i % 3 ? '"' : (char)(i % 32);
  assert_same_as_jansson(json_stringn(zMany, sizeof zMany));
}

static void test_numbers_as_jansson(void **state) {
  (void)state;
  json_int_t a[] = {0, 1, -1, 9, 10, 1234567890123LL, INT64_MAX, INT64_MIN};
  for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) assert_same_as_jansson(json_integer(a[i]));
  double d[] = {0.0, 1.0, -2.5, 0.1, 1e300, 1.5e-10, 123456789.0};
  for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) assert_same_as_jansson(json_real(d[i]));
}

static void test_containers_in_insertion_order(void **state) {
  (void)state;
  assert_same_as_jansson(json_object());
  assert_same_as_jansson(json_array());
  assert_same_as_jansson(json_pack("[b,b,n]", 1, 0));
  json_t *o = json_object();
  const char *azKey[] = {"zeta", "alpha", "名称", "m\"k", "b", "a"};
  for (size_t i = 0; i < sizeof azKey / sizeof azKey[0]; i++) json_object_set_new(o, azKey[i], json_integer((int)i));
  json_object_set_new(o, "nested", json_pack("{s:[i,s,{s:o}],s:{}}", "x", 1, "二", "y", json_null(), "empty"));
  json_object_del(o, "alpha");
  json_object_set_new(o, "alpha", json_string("re-added last"));
  assert_same_as_jansson(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_strings_escaped_as_jansson),
      cmocka_unit_test(test_long_strings_escaped_at_every_offset),
      cmocka_unit_test(test_numbers_as_jansson),
      cmocka_unit_test(test_containers_in_insertion_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
