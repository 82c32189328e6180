/* test_validate.c - unit tests of node/validate.c: ID-card numbers, credit codes, names,
 * phones, e-mail, passwords, dates, UTF-8 text and masking. Check characters are
 * computed here independently of the code under test, beside published examples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

/* Printable form of a possibly NULL input, for failure messages. */
#define SHOW(z) ((z) ? (z) : "(null)")

#define PASSWORD_RULE "密码至少8位，且须包含大写字母、小写字母、数字、特殊符号中的至少三类"

/* 2024-06-15 at noon local time: the same calendar day in every time zone's view. */
static time_t fixed_today(void)
{
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 5;
  tm.tm_mday = 15;
  tm.tm_hour = 12;
  tm.tm_isdst = -1;
  return mktime(&tm);
}

/* ---- ID-card numbers ------------------------------------------------------------------ */

static char id_check(const char *z17)
{
  static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int i, s = 0;
  for (i = 0; i < 17; i++) s += (z17[i] - '0') * w[i];
  return "10X98765432"[s % 11];
}

/* An ID number "<division><birth><seq><check>" with a correct check character. */
static void make_id(char out[19], const char *zDivision, const char *zBirth, int iSeq)
{
  snprintf(out, 19, "%s%s%03d", zDivision, zBirth, iSeq);
  out[17] = id_check(out);
  out[18] = '\0';
}

/* Same, but searching sequence numbers until the check character is cWant. */
static void make_id_with_check(char out[19], const char *zBirth, char cWant)
{
  int i;
  for (i = 0; i < 1000; i++) {
    make_id(out, "110105", zBirth, i);
    if (out[17] == cWant) return;
  }
  fail_msg("no sequence gives check %c", cWant);
}

static void assert_id_ok(const char *zIn, const char *zWant)
{
  char out[19] = "unchanged";
  const char *zErr = validate_id_number(zIn, out, fixed_today());
  if (zErr) fail_msg("%s refused: %s", SHOW(zIn), zErr);
  assert_string_equal(out, zWant);
}

static void assert_id_err(const char *zIn, const char *zWant)
{
  char out[19] = "unchanged";
  const char *zErr = validate_id_number(zIn, out, fixed_today());
  if (zErr == NULL) fail_msg("%s accepted", SHOW(zIn));
  assert_string_equal(zErr, zWant);
  assert_string_equal(out, "unchanged");
}

static void test_id_published_example(void **state)
{
  (void)state;
  assert_id_ok("11010519491231002X", "11010519491231002X");
  assert_id_ok("11010519491231002x", "11010519491231002X");
}

static void test_id_check_x_computed(void **state)
{
  char z[19], zLower[19];
  (void)state;
  make_id_with_check(z, "19900307", 'X');
  assert_id_ok(z, z);
  memcpy(zLower, z, sizeof z);
  zLower[17] = 'x';
  assert_id_ok(zLower, z);
}

static void test_id_every_check_value(void **state)
{
  const char *zChecks = "10X98765432";
  char z[19];
  (void)state;
  for (; *zChecks; zChecks++) {
    make_id_with_check(z, "19851120", *zChecks);
    assert_id_ok(z, z);
  }
}

static void test_id_wrong_check(void **state)
{
  char z[19];
  (void)state;
  make_id(z, "110105", "19900307", 123);
  z[17] = z[17] == '0' ? '1' : '0';
  assert_id_err(z, "身份证号校验位不正确");
  make_id_with_check(z, "19900307", '5');
  z[17] = 'X';
  assert_id_err(z, "身份证号校验位不正确");
  /* Two digits swapped: a typical typo. */
  make_id(z, "110105", "19900307", 123);
  z[14] = '3';
  z[15] = '2';
  assert_id_err(z, "身份证号校验位不正确");
}

static void test_id_lengths(void **state)
{
  char z[19], zLong[21];
  (void)state;
  make_id(z, "110105", "19900307", 123);
  assert_id_err("", "请填写身份证号");
  assert_id_err(NULL, "请填写身份证号");
  snprintf(zLong, sizeof zLong, "%s1", z);
  assert_id_err(zLong, "身份证号应为18位");
  z[17] = '\0';
  assert_id_err(z, "身份证号应为18位");
  assert_id_err("110105199003071", "身份证号应为18位"); /* old 15-digit form */
}

static void test_id_bad_characters(void **state)
{
  char z[19];
  (void)state;
  make_id(z, "110105", "19900307", 123);
  z[9] = 'A';
  assert_id_err(z, "身份证号前17位应为数字，最后一位为数字或X");
  make_id(z, "110105", "19900307", 123);
  z[5] = 'X';
  assert_id_err(z, "身份证号前17位应为数字，最后一位为数字或X");
  make_id(z, "110105", "19900307", 123);
  z[17] = 'Y';
  assert_id_err(z, "身份证号前17位应为数字，最后一位为数字或X");
  make_id(z, "110105", "19900307", 123);
  z[3] = ' ';
  assert_id_err(z, "身份证号前17位应为数字，最后一位为数字或X");
  /* 18 bytes but made of multi-byte characters */
  assert_id_err("一二三四五六", "身份证号前17位应为数字，最后一位为数字或X");
}

static void test_id_division_code(void **state)
{
  char z[19];
  (void)state;
  make_id(z, "010105", "19900307", 123);
  assert_id_err(z, "身份证号的地区码不正确");
  make_id(z, "910105", "19900307", 123);
  assert_id_err(z, "身份证号的地区码不正确");
  make_id(z, "810000", "19900307", 123); /* Hong Kong residents' numbers start with 8 */
  assert_id_ok(z, z);
}

static void test_id_leap_days(void **state)
{
  char z[19];
  (void)state;
  make_id(z, "110105", "20000229", 12);
  assert_id_ok(z, z);
  make_id(z, "110105", "19960229", 12);
  assert_id_ok(z, z);
  make_id(z, "110105", "19000229", 12);
  assert_id_err(z, "出生日期不是有效日期");
  make_id(z, "110105", "20230229", 12);
  assert_id_err(z, "出生日期不是有效日期");
}

static void test_id_impossible_dates(void **state)
{
  static const char *aBad[] = {"19901301", "19900001", "19900100", "19900431",
                               "19900632", "19901231" /* ok */};
  char z[19];
  size_t i;
  (void)state;
  for (i = 0; i < 5; i++) {
    make_id(z, "110105", aBad[i], 12);
    assert_id_err(z, "出生日期不是有效日期");
  }
  make_id(z, "110105", aBad[5], 12);
  assert_id_ok(z, z);
}

static void test_id_future_and_old(void **state)
{
  char z[19];
  (void)state;
  make_id(z, "110105", "20240615", 12); /* born today */
  assert_id_ok(z, z);
  make_id(z, "110105", "20240616", 12);
  assert_id_err(z, "出生日期不能晚于今天");
  make_id(z, "110105", "20250101", 12);
  assert_id_err(z, "出生日期不能晚于今天");
  make_id(z, "110105", "19000101", 12);
  assert_id_ok(z, z);
  make_id(z, "110105", "18991231", 12);
  assert_id_err(z, "出生日期不能早于1900年");
  /* The standard's own example, born 1880, has a correct check digit. */
  assert_id_err("440524188001010014", "出生日期不能早于1900年");
}

static void test_id_out_may_be_null(void **state)
{
  (void)state;
  assert_null(validate_id_number("11010519491231002X", NULL, fixed_today()));
}

/* ---- Unified social credit codes ------------------------------------------------------ */

static const char zAlphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static char credit_check(const char *z17)
{
  static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
  int i, s = 0, c;
  for (i = 0; i < 17; i++) s += (int)(strchr(zAlphabet, z17[i]) - zAlphabet) * w[i];
  c = 31 - s % 31;
  return zAlphabet[c == 31 ? 0 : c];
}

static void make_credit(char out[19], const char *z17)
{
  memcpy(out, z17, 17);
  out[17] = credit_check(z17);
  out[18] = '\0';
}

static void assert_credit_ok(const char *zIn, const char *zWant)
{
  char out[19] = "unchanged";
  const char *zErr = validate_credit_code(zIn, out);
  if (zErr) fail_msg("%s refused: %s", SHOW(zIn), zErr);
  assert_string_equal(out, zWant);
}

static void assert_credit_err(const char *zIn, const char *zWant)
{
  char out[19] = "unchanged";
  const char *zErr = validate_credit_code(zIn, out);
  if (zErr == NULL) fail_msg("%s accepted", SHOW(zIn));
  assert_string_equal(zErr, zWant);
  assert_string_equal(out, "unchanged");
}

static void test_credit_published(void **state)
{
  (void)state;
  assert_credit_ok("91350100M000100Y43", "91350100M000100Y43");
  assert_credit_ok("91110000600037341L", "91110000600037341L");
}

static void test_credit_lower_case(void **state)
{
  (void)state;
  assert_credit_ok("91350100m000100y43", "91350100M000100Y43");
  assert_credit_ok("91110000600037341l", "91110000600037341L");
}

static void test_credit_computed_letters(void **state)
{
  char z[19];
  (void)state;
  make_credit(z, "12100000MB0A1C2D3");
  assert_credit_ok(z, z);
  make_credit(z, "Y1440300HJKLMNPQR");
  assert_credit_ok(z, z);
}

static void test_credit_check_31_is_zero(void **state)
{
  char z17[18] = "9111000010000000?", z[19];
  const char *p;
  (void)state;
  /* Find a last body character that makes the weighted sum a multiple of 31. */
  for (p = zAlphabet; *p; p++) {
    z17[16] = *p;
    make_credit(z, z17);
    if (z[17] == '0') break;
  }
  assert_non_null(*p);
  assert_string_equal(z, "911100001000000020");
  assert_credit_ok(z, z);
  z[17] = 'Y'; /* 31 must not wrap to the last letter */
  assert_credit_err(z, "统一社会信用代码校验位不正确");
}

static void test_credit_forbidden_letters(void **state)
{
  const char *p;
  char z[19];
  (void)state;
  for (p = "IOZSVioszv"; *p; p++) {
    memcpy(z, "91350100M000100Y43", sizeof z);
    z[9] = *p;
    assert_credit_err(z, "统一社会信用代码含有不允许的字母（I、O、Z、S、V）");
  }
  assert_credit_err("91350100M000100Y4O", "统一社会信用代码含有不允许的字母（I、O、Z、S、V）");
}

static void test_credit_bad_characters(void **state)
{
  (void)state;
  assert_credit_err("91350100M000100Y4-", "统一社会信用代码只能包含数字和大写字母");
  assert_credit_err("91350100M00 100Y43", "统一社会信用代码只能包含数字和大写字母");
  assert_credit_err("统一社会信用", "统一社会信用代码只能包含数字和大写字母");
}

static void test_credit_wrong_check_and_length(void **state)
{
  (void)state;
  assert_credit_err("91350100M000100Y44", "统一社会信用代码校验位不正确");
  assert_credit_err("91350100M000100Y4", "统一社会信用代码应为18位");
  assert_credit_err("91350100M000100Y433", "统一社会信用代码应为18位");
  assert_credit_err("", "请填写统一社会信用代码");
  assert_credit_err(NULL, "请填写统一社会信用代码");
}

/* ---- Names ---------------------------------------------------------------------------- */

static void assert_name_ok(const char *z)
{
  const char *zErr = validate_person_name(z);
  if (zErr) fail_msg("name \"%s\" refused: %s", SHOW(z), zErr);
}

static void assert_name_err(const char *z, const char *zWant)
{
  const char *zErr = validate_person_name(z);
  if (zErr == NULL) fail_msg("name \"%s\" accepted", SHOW(z));
  assert_string_equal(zErr, zWant);
}

static void test_name_chinese(void **state)
{
  (void)state;
  assert_name_ok("张三");
  assert_name_ok("欧阳娜娜");
  assert_name_ok("\xE3\x90\x80\xE4\xB8\x80");     /* U+3400 (Extension A), 一 */
  assert_name_ok("\xE4\xB8\x80\xE9\xBF\xBF");     /* 一, U+9FFF */
  assert_name_ok("\xE4\xB8\x80\xE4\xB6\xBF");     /* 一, U+4DBF */
  assert_name_err("\xE4\xB8\x80\xEA\x80\x80", "姓名只能包含汉字、间隔号（·）或英文字母和空格");
  assert_name_err("张三\xF0\xA0\x80\x80", "姓名只能包含汉字、间隔号（·）或英文字母和空格");
}

static void test_name_dots(void **state)
{
  (void)state;
  assert_name_ok("阿卜杜拉·买买提");            /* U+00B7 */
  assert_name_ok("阿卜杜拉\xE2\x80\xA2买买提"); /* U+2022 */
  assert_name_ok("阿卜杜拉\xE3\x83\xBB买买提"); /* U+30FB */
  assert_name_ok("阿·买·提");
  assert_name_err("·张三", "间隔号不能出现在姓名开头或结尾");
  assert_name_err("张三·", "间隔号不能出现在姓名开头或结尾");
  assert_name_err("张··三", "间隔号不能连用");
  assert_name_err("张·\xE2\x80\xA2三", "间隔号不能连用");
  assert_name_err("张.三", "姓名只能包含汉字、间隔号（·）或英文字母和空格");
}

static void test_name_latin(void **state)
{
  (void)state;
  assert_name_ok("John Smith");
  assert_name_ok("Jo");
  assert_name_ok("Maria de la Cruz");
  assert_name_err("John  Smith", "姓名中的空格不能在开头、结尾或连用");
  assert_name_err(" John", "姓名中的空格不能在开头、结尾或连用");
  assert_name_err("John ", "姓名中的空格不能在开头、结尾或连用");
  assert_name_err("John·Smith", "姓名不能混用汉字和英文字母");
  assert_name_err("John张", "姓名不能混用汉字和英文字母");
  assert_name_err("张John", "姓名不能混用汉字和英文字母");
  assert_name_err("张 三", "中文姓名中不能有空格");
  assert_name_err("O'Brien", "姓名只能包含汉字、间隔号（·）或英文字母和空格");
  assert_name_err("Jos\xC3\xA9", "姓名只能包含汉字、间隔号（·）或英文字母和空格");
}

static void test_name_digits_and_junk(void **state)
{
  (void)state;
  assert_name_err("张三1", "姓名只能包含汉字、间隔号（·）或英文字母和空格");
  assert_name_err("1张三", "姓名只能包含汉字、间隔号（·）或英文字母和空格");
  assert_name_err("John2", "姓名只能包含汉字、间隔号（·）或英文字母和空格");
  assert_name_err("张\t三", "姓名只能包含汉字、间隔号（·）或英文字母和空格");
  assert_name_err("张\xE4\xB8", "姓名含有无效字符");
  assert_name_err("\xFF\xFE", "姓名含有无效字符");
  assert_name_err("", "请填写姓名");
  assert_name_err(NULL, "请填写姓名");
}

static void test_name_lengths(void **state)
{
  char z[31 * 3 + 1] = "", zLatin[32];
  int i;
  (void)state;
  assert_name_err("张", "姓名应为2至30个字");
  assert_name_err("J", "姓名应为2至30个字");
  for (i = 0; i < 30; i++) strcat(z, "张");
  assert_name_ok(z);
  strcat(z, "张");
  assert_name_err(z, "姓名应为2至30个字");
  memset(zLatin, 'a', 30);
  zLatin[30] = '\0';
  assert_name_ok(zLatin);
  zLatin[30] = 'a';
  zLatin[31] = '\0';
  assert_name_err(zLatin, "姓名应为2至30个字");
}

static void test_org_name(void **state)
{
  char z[61 * 3 + 1] = "";
  int i;
  (void)state;
  assert_null(validate_org_name("新疆维吾尔自治区人力资源和社会保障厅", 0));
  assert_null(validate_org_name("乌鲁木齐市第一中学（高中部）", 0));
  assert_null(validate_org_name("人社厅", 1));
  assert_null(validate_org_name("一中", 1));
  assert_string_equal(validate_org_name("一中", 0), "单位名称应为4至60个字");
  assert_string_equal(validate_org_name("中", 1), "单位简称应为2至20个字");
  assert_string_equal(validate_org_name("", 0), "请填写单位名称");
  assert_string_equal(validate_org_name(NULL, 1), "请填写单位简称");
  assert_string_equal(validate_org_name(" 第一中学", 0), "单位名称首尾不能有空格");
  assert_string_equal(validate_org_name("第一中学\xE3\x80\x80", 0), "单位名称首尾不能有空格");
  assert_string_equal(validate_org_name("第一\n中学", 0), "单位名称含有无效字符");
  assert_string_equal(validate_org_name("第一\xC0\xAF中学", 0), "单位名称含有无效字符");
  for (i = 0; i < 60; i++) strcat(z, "中");
  assert_null(validate_org_name(z, 0));
  strcat(z, "中");
  assert_string_equal(validate_org_name(z, 0), "单位名称应为4至60个字");
}

/* ---- Phones and e-mail ---------------------------------------------------------------- */

static void test_mobile(void **state)
{
  (void)state;
  assert_null(validate_mobile("13800138000"));
  assert_null(validate_mobile("19912345678"));
  assert_string_equal(validate_mobile("12800138000"), "手机号应以13至19开头");
  assert_string_equal(validate_mobile("23800138000"), "手机号应以13至19开头");
  assert_string_equal(validate_mobile("1380013800"), "手机号应为11位数字");
  assert_string_equal(validate_mobile("138001380001"), "手机号应为11位数字");
  assert_string_equal(validate_mobile("1380013800a"), "手机号应为11位数字");
  assert_string_equal(validate_mobile("138 0013 8000"), "手机号应为11位数字");
  assert_string_equal(validate_mobile("+8613800138000"), "手机号应为11位数字");
  assert_string_equal(validate_mobile(""), "请填写手机号");
  assert_string_equal(validate_mobile(NULL), "请填写手机号");
}

static void test_phone(void **state)
{
  static const char *aOk[] = {"13800138000", "010-12345678", "01012345678", "0991-1234567",
                              "09911234567", "0755-12345678", "075512345678", "021-1234567"};
  static const char *aBad[] = {"010-123456",  "010-123456789", "10-12345678",
                               "0-12345678",  "00-12345678",   "000-12345678",
                               "010--12345678", "01012-345678", "010-1234-5678",
                               "0101234567890", "010123456",    "010 12345678",
                               "01234-1234567", "-12345678"};
  size_t i;
  (void)state;
  for (i = 0; i < sizeof aOk / sizeof aOk[0]; i++) {
    if (validate_phone(aOk[i])) fail_msg("%s refused", aOk[i]);
  }
  for (i = 0; i < sizeof aBad / sizeof aBad[0]; i++) {
    if (validate_phone(aBad[i]) == NULL) fail_msg("%s accepted", aBad[i]);
  }
  assert_string_equal(validate_phone("12800138000"), "手机号应以13至19开头");
  assert_string_equal(validate_phone(""), "请填写电话号码");
}

static void test_email(void **state)
{
  char zLong[102];
  (void)state;
  assert_null(validate_email("zhang.san@example.com"));
  assert_null(validate_email("a+b@mail.example.cn"));
  assert_null(validate_email("张三@例子.中国"));
  assert_string_equal(validate_email(""), "请填写电子邮箱");
  assert_string_equal(validate_email(NULL), "请填写电子邮箱");
  assert_string_equal(validate_email("zhangsan.example.com"), "电子邮箱格式不正确");
  assert_string_equal(validate_email("a@b@example.com"), "电子邮箱格式不正确");
  assert_string_equal(validate_email("@example.com"), "电子邮箱格式不正确");
  assert_string_equal(validate_email("zhangsan@localhost"), "电子邮箱格式不正确");
  assert_string_equal(validate_email("zhangsan@.com"), "电子邮箱格式不正确");
  assert_string_equal(validate_email("zhangsan@example."), "电子邮箱格式不正确");
  assert_string_equal(validate_email("zhangsan@example..com"), "电子邮箱格式不正确");
  assert_string_equal(validate_email("zhang san@example.com"), "电子邮箱格式不正确");
  assert_string_equal(validate_email("a@example.com\r\nBcc: x@y.z"), "电子邮箱格式不正确");
  assert_string_equal(validate_email("<a@example.com>"), "电子邮箱格式不正确");
  assert_string_equal(validate_email("a@exam\xC0\xAFple.com"), "电子邮箱格式不正确");
  memset(zLong, 'a', 88); /* 88 + 12 = 100 bytes: the longest allowed */
  memcpy(zLong + 88, "@example.com", 13);
  assert_null(validate_email(zLong));
  memset(zLong, 'a', 89);
  memcpy(zLong + 89, "@example.com", 13);
  assert_string_equal(validate_email(zLong), "电子邮箱不能超过100个字符");
}

/* ---- Passwords ------------------------------------------------------------------------ */

static void test_password_classes(void **state)
{
  (void)state;
  assert_null(validate_password("Abcdefg1", NULL));  /* upper, lower, digit */
  assert_null(validate_password("abcdef1!", NULL));  /* lower, digit, symbol */
  assert_null(validate_password("ABCDEF1!", NULL));  /* upper, digit, symbol */
  assert_null(validate_password("Abcdefg!", NULL));  /* upper, lower, symbol */
  assert_null(validate_password("Ab1!Ab1!", NULL));  /* all four */
  assert_null(validate_password("abc def 12", NULL)); /* a space is a symbol */
  assert_null(validate_password("密码abcd1234", NULL)); /* so is a non-ASCII letter */
  assert_string_equal(validate_password("abcdefg1", NULL), PASSWORD_RULE);
  assert_string_equal(validate_password("ABCDEFGH", NULL), PASSWORD_RULE);
  assert_string_equal(validate_password("Abcdefgh", NULL), PASSWORD_RULE);
  assert_string_equal(validate_password("12345678", NULL), PASSWORD_RULE);
  assert_string_equal(validate_password("!@#$%^&*", NULL), PASSWORD_RULE);
  assert_string_equal(validate_password("1234567!", NULL), PASSWORD_RULE);
}

static void test_password_lengths(void **state)
{
  char z[66];
  (void)state;
  assert_string_equal(validate_password("Ab1!Ab1", NULL), PASSWORD_RULE);
  assert_string_equal(validate_password("", NULL), "请填写密码");
  assert_string_equal(validate_password(NULL, NULL), "请填写密码");
  memset(z, 'a', 64);
  memcpy(z, "A1", 2);
  z[64] = '\0';
  assert_null(validate_password(z, NULL));
  z[64] = 'a';
  z[65] = '\0';
  assert_string_equal(validate_password(z, NULL), "密码不能超过64位");
  /* Characters, not bytes: "密码Aa1!x" is 11 bytes but only 7 characters. */
  assert_string_equal(validate_password("密码Aa1!x", NULL), PASSWORD_RULE);
  assert_null(validate_password("密码Aa1!xy", NULL));
}

static void test_password_login(void **state)
{
  (void)state;
  assert_string_equal(validate_password("Zhangsan2024!", "zhangsan"),
                      "密码不能包含用户名、身份证号或手机号");
  assert_string_equal(validate_password("Ab!13800138000", "13800138000"),
                      "密码不能包含用户名、身份证号或手机号");
  assert_string_equal(validate_password("Pw11010519491231002x", "11010519491231002X"),
                      "密码不能包含用户名、身份证号或手机号");
  assert_null(validate_password("Zhangsan2024!", "lisi"));
  assert_null(validate_password("Zhangsan2024!", ""));
  assert_null(validate_password("Zhangsan2024!", "an")); /* too short to mean anything */
}

static void test_password_bad_bytes(void **state)
{
  (void)state;
  assert_string_equal(validate_password("Abcdefg1\n", NULL), "密码含有无效字符");
  assert_string_equal(validate_password("Abcdefg1\x7F", NULL), "密码含有无效字符");
  assert_string_equal(validate_password("Abcdefg1\xC0\x80", NULL), "密码含有无效字符");
}

/* ---- Dates ---------------------------------------------------------------------------- */

static void assert_date_days(const char *z, long nWant)
{
  long n = 12345678;
  const char *zErr = validate_date(z, &n);
  if (zErr) fail_msg("%s refused: %s", z, zErr);
  assert_int_equal(n, nWant);
}

static void test_date_valid(void **state)
{
  (void)state;
  assert_date_days("1970-01-01", 0);
  assert_date_days("1970-01-02", 1);
  assert_date_days("1969-12-31", -1);
  assert_date_days("2000-01-01", 10957);
  assert_date_days("2000-02-29", 11016);
  assert_date_days("2000-03-01", 11017);
  assert_date_days("2024-02-29", 19782);
  assert_date_days("1900-01-01", -25567);
  assert_date_days("2100-12-31", 47846);
  assert_null(validate_date("2024-06-15", NULL));
}

static void test_date_invalid(void **state)
{
  static const char *aNotReal[] = {"1900-02-29", "2023-02-29", "2100-02-29", "2024-13-01",
                                   "2024-00-10", "2024-04-31", "2024-01-00", "2024-01-32"};
  static const char *aBadForm[] = {"2024-4-1",   "2024/04/01", "20240401",  "2024-04-01x",
                                   " 2024-04-01", "2024-O4-01", "2024-04-0a", "24-04-01"};
  long n = 7;
  size_t i;
  (void)state;
  for (i = 0; i < sizeof aNotReal / sizeof aNotReal[0]; i++) {
    const char *zErr = validate_date(aNotReal[i], &n);
    if (zErr == NULL) fail_msg("%s accepted", aNotReal[i]);
    assert_string_equal(zErr, "日期不是有效日期");
  }
  for (i = 0; i < sizeof aBadForm / sizeof aBadForm[0]; i++) {
    const char *zErr = validate_date(aBadForm[i], &n);
    if (zErr == NULL) fail_msg("%s accepted", aBadForm[i]);
    assert_string_equal(zErr, "日期格式应为YYYY-MM-DD");
  }
  assert_string_equal(validate_date("1899-12-31", &n), "日期年份应在1900至2100年之间");
  assert_string_equal(validate_date("2101-01-01", &n), "日期年份应在1900至2100年之间");
  assert_string_equal(validate_date("", &n), "请填写日期");
  assert_string_equal(validate_date(NULL, &n), "请填写日期");
  assert_int_equal(n, 7);
}

/* ---- UTF-8 and free text -------------------------------------------------------------- */

static void test_utf8_length_valid(void **state)
{
  (void)state;
  assert_int_equal(utf8_length(""), 0);
  assert_int_equal(utf8_length("abc"), 3);
  assert_int_equal(utf8_length("中文abc"), 5);
  assert_int_equal(utf8_length("\xC2\x80"), 1);             /* U+0080, smallest 2-byte */
  assert_int_equal(utf8_length("\xDF\xBF"), 1);             /* U+07FF */
  assert_int_equal(utf8_length("\xE0\xA0\x80"), 1);         /* U+0800, smallest 3-byte */
  assert_int_equal(utf8_length("\xED\x9F\xBF"), 1);         /* U+D7FF, below surrogates */
  assert_int_equal(utf8_length("\xEE\x80\x80"), 1);         /* U+E000, above surrogates */
  assert_int_equal(utf8_length("\xEF\xBF\xBF"), 1);         /* U+FFFF */
  assert_int_equal(utf8_length("\xF0\x90\x80\x80"), 1);     /* U+10000 */
  assert_int_equal(utf8_length("\xF4\x8F\xBF\xBF"), 1);     /* U+10FFFF */
  assert_int_equal(utf8_length("\xF0\x9F\x98\x80!"), 2);    /* emoji */
}

static void test_utf8_length_invalid(void **state)
{
  static const char *aBad[] = {
      "\x80",             /* lone continuation */
      "a\xBF",            /* continuation after ASCII */
      "\xC0\xAF",         /* overlong '/' */
      "\xC1\xBF",         /* overlong */
      "\xE0\x80\xAF",     /* overlong 3-byte */
      "\xE0\x9F\xBF",     /* overlong U+07FF */
      "\xF0\x80\x80\xAF", /* overlong 4-byte */
      "\xF0\x8F\xBF\xBF", /* overlong U+FFFF */
      "\xED\xA0\x80",     /* U+D800 surrogate */
      "\xED\xBF\xBF",     /* U+DFFF surrogate */
      "\xF4\x90\x80\x80", /* U+110000 */
      "\xF5\x80\x80\x80", /* lead byte beyond the range */
      "\xFF",
      "\xFE",
      "\xE4\xB8",         /* truncated at the end */
      "\xE4\xB8" "a",     /* truncated in the middle */
      "\xF0\x9F\x98",     /* truncated 4-byte */
      "\xC3",
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof aBad / sizeof aBad[0]; i++) {
    if (utf8_length(aBad[i]) != -1) fail_msg("case %zu accepted", i);
    assert_string_equal(validate_text(aBad[i], 100, 1), "内容含有无效字符（不是有效的UTF-8编码）");
  }
}

static void test_text_controls(void **state)
{
  const char *zCtl = "内容含有不允许的控制字符";
  (void)state;
  assert_null(validate_text("", 0, 0));
  assert_null(validate_text(NULL, 0, 0));
  assert_null(validate_text("普通的一行 text.", 100, 0));
  assert_null(validate_text("line one\nline two\tcol", 100, 1));
  assert_null(validate_text("windows\r\nline", 100, 1));
  assert_string_equal(validate_text("line one\nline two", 100, 0), zCtl);
  assert_string_equal(validate_text("tab\there", 100, 0), zCtl);
  assert_string_equal(validate_text("old mac\rline", 100, 1), zCtl);
  assert_string_equal(validate_text("trailing cr\r", 100, 1), zCtl);
  assert_string_equal(validate_text("bell\a", 100, 1), zCtl);
  assert_string_equal(validate_text("esc\x1B[31m", 100, 1), zCtl);
  assert_string_equal(validate_text("del\x7F", 100, 1), zCtl);
  assert_string_equal(validate_text("c1 \xC2\x85", 100, 1), zCtl);
  assert_string_equal(validate_text("c1 \xC2\x9F", 100, 1), zCtl);
  assert_null(validate_text("nbsp \xC2\xA0", 100, 0));
}

static void test_text_lengths(void **state)
{
  (void)state;
  assert_null(validate_text("一二三", 3, 0));
  assert_string_equal(validate_text("一二三四", 3, 0), "内容超出长度限制");
  assert_null(validate_text("abc", 3, 0));
  assert_string_equal(validate_text("abcd", 3, 0), "内容超出长度限制");
  assert_string_equal(validate_text("a", 0, 0), "内容超出长度限制");
  assert_null(validate_text("a\r\nb", 4, 1)); /* CR and LF count as two characters */
}

/* Noncharacters (U+FDD0..U+FDEF, U+xxFFFE/U+xxFFFF) are never meant for interchange. */
static void test_text_noncharacters(void **state)
{
  const char *zNon = "内容含有不允许的字符（非字符码位）";
  (void)state;
  assert_string_equal(validate_text("a\xEF\xB7\x90", 100, 1), zNon);     /* U+FDD0 */
  assert_string_equal(validate_text("a\xEF\xB7\xAF", 100, 1), zNon);     /* U+FDEF */
  assert_string_equal(validate_text("a\xEF\xBF\xBE", 100, 1), zNon);     /* U+FFFE */
  assert_string_equal(validate_text("a\xEF\xBF\xBF", 100, 0), zNon);     /* U+FFFF */
  assert_string_equal(validate_text("a\xF4\x8F\xBF\xBF", 100, 0), zNon); /* U+10FFFF */
  assert_string_equal(validate_text("a\xF0\x9F\xBF\xBE", 100, 0), zNon); /* U+1FFFE */
  assert_null(validate_text("a\xEF\xB7\xB0", 100, 0));                  /* U+FDF0 is fine */
  assert_null(validate_text("a\xEF\xBF\xBD", 100, 0));                  /* U+FFFD too */
}

/* ---- Organisation names: the normal form ------------------------------------------- */

static void assert_normal(const char *zIn, const char *zWant)
{
  char z[256];
  const char *zErr = normalize_org_name(zIn, z, sizeof z);
  if (zErr) fail_msg("\"%s\" refused: %s", zIn, zErr);
  if (strcmp(z, zWant) != 0) fail_msg("\"%s\" -> \"%s\", want \"%s\"", zIn, z, zWant);
}

static void assert_refused(const char *zIn, const char *zWant)
{
  char z[256] = "x";
  const char *zErr = normalize_org_name(zIn, z, sizeof z);
  if (!zErr) fail_msg("\"%s\" accepted as \"%s\"", zIn, z);
  assert_string_equal(zErr, zWant);
  assert_string_equal(z, "");
}

static void test_org_name_invisible_removed(void **state)
{
  (void)state;
  assert_normal("新疆建工集团", "新疆建工集团");
  assert_normal("新疆\xE2\x80\x8B建工集团", "新疆建工集团");         /* ZWSP U+200B */
  assert_normal("新疆\xE2\x80\x8D建工集团", "新疆建工集团");         /* ZWJ U+200D */
  assert_normal("新疆\xE2\x80\x8C建工集团", "新疆建工集团");         /* ZWNJ U+200C */
  assert_normal("新疆\xE2\x81\xA0建工集团", "新疆建工集团");         /* WORD JOINER U+2060 */
  assert_normal("\xEF\xBB\xBF新疆建工集团", "新疆建工集团");         /* BOM U+FEFF */
  assert_normal("新疆\xC2\xAD建工集团", "新疆建工集团");              /* SOFT HYPHEN U+00AD */
  assert_normal("新疆建工集团\xF3\xA0\x80\x81\xF3\xA0\x81\xBF", "新疆建工集团"); /* TAG chars */
  assert_normal("新疆\xEF\xB8\x8F建工集团", "新疆建工集团");         /* VS16 U+FE0F */
  assert_normal("新疆\xF3\xA0\x84\x80建工集团", "新疆建工集团");     /* VS17 U+E0100 */
  assert_normal("新疆\xE1\x85\x9F建工集团", "新疆建工集团");         /* HANGUL FILLER U+115F */
}

static void test_org_name_spaces_and_compatibility(void **state)
{
  (void)state;
  assert_normal("新疆建工集团\xC2\xA0", "新疆建工集团");                 /* trailing NBSP */
  assert_normal("\xE3\x80\x80新疆建工集团", "新疆建工集团");             /* leading U+3000 */
  assert_normal("Xinjiang  \xC2\xA0 Construction", "Xinjiang Construction");
  assert_normal("Xinjiang\xE2\x80\x83" "Construction", "Xinjiang Construction"); /* EM SPACE */
  assert_normal("\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3公司", "ABC公司");   /* fullwidth */
  assert_normal("\xE2\xBC\x80公司", "一公司");                       /* KANGXI RADICAL ONE */
  assert_normal("e\xCC\x81" "cole", "\xC3\xA9" "cole");                     /* composed to U+00E9 */
  assert_normal("\xEF\xAC\x81rm", "firm");                           /* ligature fi */
  assert_normal("", "");
}

static void test_org_name_refused(void **state)
{
  char zLong[1100];
  const char *zBidi = "不能含有文字方向控制字符（如U+202E）";
  (void)state;
  assert_refused("新疆\xE2\x80\xAE团集工建", zBidi);  /* RLO U+202E */
  assert_refused("新疆\xE2\x80\xAA建工集团", zBidi);  /* LRE U+202A */
  assert_refused("新疆\xE2\x81\xA6建工集团", zBidi);  /* LRI U+2066 */
  assert_refused("新疆\xE2\x80\x8F建工集团", zBidi);  /* RLM U+200F */
  assert_refused("新疆\xD8\x9C建工集团", zBidi);      /* ALM U+061C */
  assert_refused("新疆\xCC\x81建工集团", "含有单独的组合附加符号");   /* acute on a Han character */
  assert_refused("\xCC\x81新疆建工集团", "含有单独的组合附加符号");   /* at the start */
  assert_refused("新疆 \xCC\x81建工集团", "含有单独的组合附加符号");  /* after a space */
  assert_refused("新疆\x01建工集团", "含有无效字符或控制字符");
  assert_refused("新疆\xFF建工集团", "含有无效字符或控制字符");
  memset(zLong, 'a', sizeof zLong - 1);
  zLong[sizeof zLong - 1] = '\0';
  assert_refused(zLong, "过长");
  /* a result longer than the caller's buffer is refused, never cut */
  {
    char zSmall[8];
    assert_string_equal(normalize_org_name("新疆建工集团", zSmall, sizeof zSmall), "过长");
    assert_string_equal(zSmall, "");
  }
}

/* ---- Masking -------------------------------------------------------------------------- */

/* Mask a heap copy of exactly strlen+1 bytes into a buffer of exactly that size, so the
 * address sanitizer catches any read or write past either. */
static void assert_masked(void (*xMask)(const char *, char *), const char *zIn,
                          const char *zWant)
{
  size_t n = strlen(zIn) + 1;
  char *zCopy = malloc(n), *zOut = malloc(n);
  assert_non_null(zCopy);
  assert_non_null(zOut);
  memcpy(zCopy, zIn, n);
  xMask(zCopy, zOut);
  assert_string_equal(zOut, zWant);
  xMask(zCopy, zCopy); /* in place */
  assert_string_equal(zCopy, zWant);
  free(zCopy);
  free(zOut);
}

static void test_mask_id(void **state)
{
  (void)state;
  assert_masked(mask_id_number, "11010519491231002X", "1101**********002X");
  assert_masked(mask_id_number, "123456789", "1234*6789");
  assert_masked(mask_id_number, "12345678", "********");
  assert_masked(mask_id_number, "1234567", "*******");
  assert_masked(mask_id_number, "1", "*");
  assert_masked(mask_id_number, "", "");
}

static void test_mask_phone(void **state)
{
  (void)state;
  assert_masked(mask_phone, "13800138000", "138****8000");
  assert_masked(mask_phone, "010-12345678", "010*****5678");
  assert_masked(mask_phone, "12345678", "123*5678");
  assert_masked(mask_phone, "1234567", "*******");
  assert_masked(mask_phone, "12", "**");
  assert_masked(mask_phone, "", "");
}

static void test_mask_utf8(void **state)
{
  (void)state;
  /* Multi-byte characters are kept whole or replaced by one '*', never cut. */
  assert_masked(mask_id_number, "一二三四五六七八九十", "一二三四**七八九十");
  assert_masked(mask_phone, "电话一二三四五六七八", "电话一***五六七八");
  assert_masked(mask_id_number, "一二三", "***");
  /* Invalid bytes count as one character each and are never followed past the NUL. */
  assert_masked(mask_id_number, "ab\xE4", "***");
  assert_masked(mask_id_number, "1234\xE4\xB8" "56789", "1234***6789");
}

static void test_mask_null(void **state)
{
  char z[4] = "abc";
  (void)state;
  mask_id_number(NULL, z);
  assert_string_equal(z, "");
  mask_phone("abc", NULL); /* must not crash */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_id_published_example),
      cmocka_unit_test(test_id_check_x_computed),
      cmocka_unit_test(test_id_every_check_value),
      cmocka_unit_test(test_id_wrong_check),
      cmocka_unit_test(test_id_lengths),
      cmocka_unit_test(test_id_bad_characters),
      cmocka_unit_test(test_id_division_code),
      cmocka_unit_test(test_id_leap_days),
      cmocka_unit_test(test_id_impossible_dates),
      cmocka_unit_test(test_id_future_and_old),
      cmocka_unit_test(test_id_out_may_be_null),
      cmocka_unit_test(test_credit_published),
      cmocka_unit_test(test_credit_lower_case),
      cmocka_unit_test(test_credit_computed_letters),
      cmocka_unit_test(test_credit_check_31_is_zero),
      cmocka_unit_test(test_credit_forbidden_letters),
      cmocka_unit_test(test_credit_bad_characters),
      cmocka_unit_test(test_credit_wrong_check_and_length),
      cmocka_unit_test(test_name_chinese),
      cmocka_unit_test(test_name_dots),
      cmocka_unit_test(test_name_latin),
      cmocka_unit_test(test_name_digits_and_junk),
      cmocka_unit_test(test_name_lengths),
      cmocka_unit_test(test_org_name),
      cmocka_unit_test(test_mobile),
      cmocka_unit_test(test_phone),
      cmocka_unit_test(test_email),
      cmocka_unit_test(test_password_classes),
      cmocka_unit_test(test_password_lengths),
      cmocka_unit_test(test_password_login),
      cmocka_unit_test(test_password_bad_bytes),
      cmocka_unit_test(test_date_valid),
      cmocka_unit_test(test_date_invalid),
      cmocka_unit_test(test_utf8_length_valid),
      cmocka_unit_test(test_utf8_length_invalid),
      cmocka_unit_test(test_text_controls),
      cmocka_unit_test(test_text_lengths),
      cmocka_unit_test(test_text_noncharacters),
      cmocka_unit_test(test_org_name_invisible_removed),
      cmocka_unit_test(test_org_name_spaces_and_compatibility),
      cmocka_unit_test(test_org_name_refused),
      cmocka_unit_test(test_mask_id),
      cmocka_unit_test(test_mask_phone),
      cmocka_unit_test(test_mask_utf8),
      cmocka_unit_test(test_mask_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
