/* test_messages.c - unit tests of node/messages.c's choice of language from an
 * Accept-Language header: q-values, subtags, case, ties, and malformed or foreign
 * headers naming neither language (the account's setting, else Chinese, decides). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "messages.h"

static void test_plain_tags(void **state) {
  (void)state;
  assert_int_equal(messages_pick("ug"), LANG_UG);
  assert_int_equal(messages_pick("UG-cn"), LANG_UG);
  assert_int_equal(messages_pick("ug-Arab-CN"), LANG_UG);
  assert_int_equal(messages_pick("zh-CN"), LANG_ZH);
  assert_int_equal(messages_pick("zh"), LANG_ZH);
}

static void test_weights_decide(void **state) {
  (void)state;
  assert_int_equal(messages_pick("zh-CN,ug;q=0.5"), LANG_ZH);
  assert_int_equal(messages_pick("zh-CN;q=0.4, ug;q=0.9"), LANG_UG);
  assert_int_equal(messages_pick("en-US,en;q=0.9,ug;q=0.8,zh;q=0.7"), LANG_UG);
  assert_int_equal(messages_pick("ug;q=0.5, zh;q=0.5"), LANG_UG); /* a tie: the first listed */
  assert_int_equal(messages_pick("zh;q=0.5, ug;q=0.5"), LANG_ZH);
  assert_int_equal(messages_pick("ug;q=0"), LANG_NONE);           /* q=0: not acceptable */
  assert_int_equal(messages_pick("ug ; q=1.000"), LANG_UG);
}

static void test_anything_else_names_neither(void **state) {
  (void)state;
  assert_int_equal(messages_pick(NULL), LANG_NONE);
  assert_int_equal(messages_pick(""), LANG_NONE);
  assert_int_equal(messages_pick("en-US,en;q=0.9"), LANG_NONE);
  assert_int_equal(messages_pick("ugx"), LANG_NONE);      /* another language, not a subtag */
  assert_int_equal(messages_pick("ug;q=2"), LANG_NONE);   /* malformed weight */
  assert_int_equal(messages_pick("ug;q=abc"), LANG_NONE);
  assert_int_equal(messages_pick(",,,;;;"), LANG_NONE);
  assert_string_equal(message_lang_tag(LANG_UG), "ug");
  assert_string_equal(message_lang_tag(LANG_ZH), "zh-CN");
  assert_string_equal(message_lang_tag(99), "zh-CN");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_plain_tags),
    cmocka_unit_test(test_weights_decide),
    cmocka_unit_test(test_anything_else_names_neither),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
