/* test_canon.c - canonical JSON: the byte form every federation signature covers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "fed_error.h"

/* Canonicalise v (consumed) and compare with zWant. */
static void assert_canon(json_t *v, const char *zWant) {
  size_t n = 0;
  char *z = fed_canon(v, &n);
  assert_non_null(z);
  assert_string_equal(z, zWant);
  assert_int_equal(n, strlen(zWant));
  free(z);
  json_decref(v);
}

static void test_scalars(void **state) {
  (void)state;
  assert_canon(json_integer(0), "0");
  assert_canon(json_integer(-42), "-42");
  assert_canon(json_integer(INT64_MAX), "9223372036854775807");
  assert_canon(json_true(), "true");
  assert_canon(json_false(), "false");
  assert_canon(json_null(), "null");
  assert_canon(json_string(""), "\"\"");
  assert_canon(json_array(), "[]");
  assert_canon(json_object(), "{}");
}

static void test_escapes(void **state) {
  (void)state;
  assert_canon(json_string("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
  assert_canon(json_string("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
  assert_canon(json_string("\x01\x1f\x0b"), "\"\\u0001\\u001f\\u000b\"");
  assert_canon(json_stringn("a\0b", 3), "\"a\\u0000b\"");
  /* DEL and everything above the controls stays raw */
  assert_canon(json_string("\x7f"), "\"\x7f\"");
}

static void test_unicode_raw(void **state) {
  (void)state;
  /* U+2028 and U+2029 stay raw (RFC 8785), as do CJK and astral characters */
  assert_canon(json_string("\xe2\x80\xa8\xe2\x80\xa9"), "\"\xe2\x80\xa8\xe2\x80\xa9\"");
  assert_canon(json_string("自治区"), "\"自治区\"");
  assert_canon(json_string("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");
  /* a parsed \u escape comes out raw */
  json_t *v = json_loads("\"\\u2028\\u00e9\\u0041\"", JSON_DECODE_ANY, NULL);
  assert_canon(v, "\"\xe2\x80\xa8\xc3\xa9" "A\"");
}

static void test_nested_sort(void **state) {
  (void)state;
  json_t *v = json_loads("{ \"seq\": 3, \"body\": {\"z\": [1, {\"b\": 2, \"a\": 1}], \"a\": null},"
                         "  \"a\": true, \"B\": \"x\", \"aa\": 0, \"\": 1 }",
                         0, NULL);
  assert_non_null(v);
  assert_canon(v, "{\"\":1,\"B\":\"x\",\"a\":true,\"aa\":0,\"body\":{\"a\":null,\"z\":[1,{\"a\":1,\"b\":2}]},\"seq\":3}");
}

static void test_unicode_keys_by_bytes(void **state) {
  (void)state;
  /* Sorted by UTF-8 bytes: z (7a) < é (c3) < 中 (e4) < Ａ U+FF21 (ef) < 😀 (f0). RFC 8785's
   * UTF-16 order would put 😀 (d83d) before Ａ (ff21): the design asks for bytes. */
  json_t *v = json_object();
  json_object_set_new(v, "\xf0\x9f\x98\x80", json_integer(4));
  json_object_set_new(v, "Ａ", json_integer(5));
  json_object_set_new(v, "中", json_integer(3));
  json_object_set_new(v, "\xc3\xa9", json_integer(2));
  json_object_set_new(v, "z", json_integer(1));
  assert_canon(v, "{\"z\":1,\"\xc3\xa9\":2,\"中\":3,\"Ａ\":5,\"\xf0\x9f\x98\x80\":4}");
}

static void test_prefix_key_order(void **state) {
  (void)state;
  json_t *v = json_object();
  json_object_set_new(v, "ab", json_integer(2));
  json_object_set_new(v, "a", json_integer(1));
  json_object_set_new(v, "a\x01", json_integer(3));
  assert_canon(v, "{\"a\":1,\"a\\u0001\":3,\"ab\":2}");
}

static void test_refuses_reals(void **state) {
  (void)state;
  json_t *v = json_pack("{s:[i,f]}", "x", 1, 1.5);
  assert_null(fed_canon(v, NULL));
  assert_non_null(strstr(fed_last_error(), "real"));
  json_decref(v);
  v = json_real(2.0);
  assert_null(fed_canon(v, NULL));
  json_decref(v);
}

static void test_refuses_bad_utf8(void **state) {
  (void)state;
  static const char *az[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe4\xb8", "\x80", "\xff"};
  for (size_t i = 0; i < sizeof(az) / sizeof(az[0]); i++) {
    json_t *v = json_stringn_nocheck(az[i], strlen(az[i]));
    assert_null(fed_canon(v, NULL));
    json_decref(v);
  }
}

static void test_refuses_deep_nesting(void **state) {
  (void)state;
  json_t *v = json_array();
  for (int i = 0; i < FED_CANON_MAX_DEPTH + 5; i++) {
    json_t *pOuter = json_array();
    json_array_append_new(pOuter, v);
    v = pOuter;
  }
  assert_null(fed_canon(v, NULL));
  json_decref(v);
}

static void test_parse_canonical(void **state) {
  (void)state;
  json_t *v = NULL;
  const char *z = "{\"a\":[1,\"\\u001f\xe2\x80\xa8\"],\"b\":{}}";
  assert_int_equal(fed_canon_parse(&v, z, strlen(z)), 0);
  assert_true(json_is_object(v));
  json_decref(v);
  static const char *azBad[] = {
      "{\"b\":1,\"a\":2}",     /* unsorted */
      "{\"a\": 1}",            /* whitespace */
      "{\"a\":1.0}",           /* real */
      "{\"a\":\"\\u00e9\"}",   /* needless escape */
      "{\"a\":\"\\u001F\"}",   /* upper-case hex */
      "{\"a\":\"\\/\"}",       /* escaped solidus */
      "{\"a\":1,\"a\":1}",     /* duplicate key */
      "{\"a\":-0}",            /* minus zero */
      "{\"a\":1}\n",           /* trailing newline */
      "{\"a\":",               /* not JSON */
  };
  for (size_t i = 0; i < sizeof(azBad) / sizeof(azBad[0]); i++) {
    assert_int_equal(fed_canon_parse(NULL, azBad[i], strlen(azBad[i])), FED_EINVALID);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scalars),         cmocka_unit_test(test_escapes),
      cmocka_unit_test(test_unicode_raw),     cmocka_unit_test(test_nested_sort),
      cmocka_unit_test(test_unicode_keys_by_bytes), cmocka_unit_test(test_prefix_key_order),
      cmocka_unit_test(test_refuses_reals),   cmocka_unit_test(test_refuses_bad_utf8),
      cmocka_unit_test(test_refuses_deep_nesting), cmocka_unit_test(test_parse_canonical),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
