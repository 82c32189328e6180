/* validate.c - checks of what people type into forms (ID-card numbers, unified social
 * credit codes, names, phones, e-mail, passwords, dates, free text) and the masking of
 * identifiers in lists, and the normal form of organisation names (libunistring's NFKC and
 * character properties). Pure functions: no I/O, no global state; nothing allocated
 * survives a call. */
#include "validate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unictype.h>
#include <uninorm.h>

#define ID_LEN 18 /* both the ID-card number and the credit code */

/* ---------------------------------------------------------------------------------------
 * UTF-8
 * ------------------------------------------------------------------------------------- */

/* Decode one character at z into *pCp. Returns its length in bytes (1-4), or 0 when the
 * bytes at z are not valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF). Never reads past a NUL: a NUL is not a continuation byte. */
static int utf8_decode(const char *z, uint32_t *pCp)
{
  static const uint32_t aMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  const unsigned char *p = (const unsigned char *)z;
  uint32_t c = p[0];
  int nByte, i;

  if (c < 0x80) {
    nByte = 1;
  } else if (c >= 0xC2 && c <= 0xDF) {
    nByte = 2;
    c &= 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    nByte = 3;
    c &= 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    nByte = 4;
    c &= 0x07;
  } else {
    return 0; /* continuation byte, C0/C1 (always overlong) or F5..FF */
  }
  for (i = 1; i < nByte; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    c = (c << 6) | (p[i] & 0x3F);
  }
  if (c < aMin[nByte] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *pCp = c;
  return nByte;
}

/* Bytes to step over at z: one character, or a single byte when z is not valid UTF-8. */
static int utf8_step(const char *z)
{
  uint32_t c;
  int n = utf8_decode(z, &c);
  return n > 0 ? n : 1;
}

long utf8_length(const char *zText)
{
  long nChar = 0;
  uint32_t c;

  if (zText == NULL) return 0;
  while (*zText) {
    int n = utf8_decode(zText, &c);
    if (n == 0) return -1;
    zText += n;
    nChar++;
  }
  return nChar;
}

/* C0 controls, DEL and the C1 controls (U+0080..U+009F). */
static int is_control(uint32_t c)
{
  return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

/* The 66 noncharacters (U+FDD0..U+FDEF and the last two code points of every plane):
 * never meant for interchange. */
static int is_noncharacter(uint32_t c)
{
  return (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE;
}

/* ---------------------------------------------------------------------------------------
 * Small character and calendar helpers
 * ------------------------------------------------------------------------------------- */

static int is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static int is_ascii_letter(uint32_t c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int all_digits(const char *z, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    if (!is_digit(z[i])) return 0;
  }
  return 1;
}

/* Value of the n decimal digits at z (already checked to be digits). */
static int digits_value(const char *z, size_t n)
{
  int v = 0;
  size_t i;
  for (i = 0; i < n; i++) v = v * 10 + (z[i] - '0');
  return v;
}

static int is_leap_year(int y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int is_real_date(int y, int m, int d)
{
  static const int aDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int nDays;

  if (m < 1 || m > 12 || d < 1) return 0;
  nDays = aDays[m - 1] + (m == 2 && is_leap_year(y));
  return d <= nDays;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long days_from_civil(int y, int m, int d)
{
  long era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153L * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* ---------------------------------------------------------------------------------------
 * Resident ID-card number (GB 11643-1999)
 * ------------------------------------------------------------------------------------- */

static char id_check_char(const char *zDigits17)
{
  static const int aWeight[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int i, sum = 0;
  for (i = 0; i < 17; i++) sum += (zDigits17[i] - '0') * aWeight[i];
  return "10X98765432"[sum % 11];
}

/* The birth date at positions 7..14 must exist, be 1900 or later and not after the
 * local calendar day of `today` (the people typing are in China, so local time). */
static const char *id_birth_date_error(const char *zDate8, time_t today)
{
  int y = digits_value(zDate8, 4);
  int m = digits_value(zDate8 + 4, 2);
  int d = digits_value(zDate8 + 6, 2);
  struct tm tmNow;

  if (!is_real_date(y, m, d)) return "出生日期不是有效日期";
  if (y < 1900) return "出生日期不能早于1900年";
  if (localtime_r(&today, &tmNow) == NULL) return "无法确定今天的日期";
  if (days_from_civil(y, m, d) >
      days_from_civil(tmNow.tm_year + 1900, tmNow.tm_mon + 1, tmNow.tm_mday)) {
    return "出生日期不能晚于今天";
  }
  return NULL;
}

const char *validate_id_number(const char *zIn, char out[19], time_t today)
{
  char zId[ID_LEN + 1];
  const char *zErr;

  if (zIn == NULL || zIn[0] == '\0') return "请填写身份证号";
  if (strlen(zIn) != ID_LEN) return "身份证号应为18位";
  memcpy(zId, zIn, sizeof zId);
  if (zId[17] == 'x') zId[17] = 'X';
  if (!all_digits(zId, 17) || !(is_digit(zId[17]) || zId[17] == 'X')) {
    return "身份证号前17位应为数字，最后一位为数字或X";
  }
  if (zId[0] < '1' || zId[0] > '8') return "身份证号的地区码不正确";
  zErr = id_birth_date_error(zId + 6, today);
  if (zErr) return zErr;
  if (id_check_char(zId) != zId[17]) return "身份证号校验位不正确";
  if (out) memcpy(out, zId, sizeof zId);
  return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Unified social credit code (GB 32100-2015)
 * ------------------------------------------------------------------------------------- */

static const char zCreditAlphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* Index of c in the 31-character alphabet, or -1. */
static int credit_value(char c)
{
  const char *p = c ? strchr(zCreditAlphabet, c) : NULL;
  return p ? (int)(p - zCreditAlphabet) : -1;
}

static char credit_check_char(const char *zCode17)
{
  static const int aWeight[17] = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                  29, 25, 13, 8,  24, 10, 30, 28};
  int i, sum = 0, c;
  for (i = 0; i < 17; i++) sum += credit_value(zCode17[i]) * aWeight[i];
  c = 31 - sum % 31;
  return zCreditAlphabet[c == 31 ? 0 : c];
}

static const char *credit_chars_error(const char *zCode)
{
  int i;
  for (i = 0; i < ID_LEN; i++) {
    if (strchr("IOZSV", zCode[i])) return "统一社会信用代码含有不允许的字母（I、O、Z、S、V）";
    if (credit_value(zCode[i]) < 0) return "统一社会信用代码只能包含数字和大写字母";
  }
  return NULL;
}

const char *validate_credit_code(const char *zIn, char out[19])
{
  char zCode[ID_LEN + 1];
  const char *zErr;
  int i;

  if (zIn == NULL || zIn[0] == '\0') return "请填写统一社会信用代码";
  if (strlen(zIn) != ID_LEN) return "统一社会信用代码应为18位";
  for (i = 0; i <= ID_LEN; i++) {
    zCode[i] = (zIn[i] >= 'a' && zIn[i] <= 'z') ? (char)(zIn[i] - 'a' + 'A') : zIn[i];
  }
  zErr = credit_chars_error(zCode);
  if (zErr) return zErr;
  if (credit_check_char(zCode) != zCode[17]) return "统一社会信用代码校验位不正确";
  if (out) memcpy(out, zCode, sizeof zCode);
  return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------------------- */

static int is_cjk_ideograph(uint32_t c)
{
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF);
}

/* The separators in transliterated names such as 阿卜杜拉·买买提. */
static int is_name_dot(uint32_t c)
{
  return c == 0x00B7 || c == 0x2022 || c == 0x30FB;
}

/* A Latin name: ASCII letters with single spaces between words. */
static const char *latin_name_char_error(uint32_t c, uint32_t cPrev, int bFirst)
{
  if (is_ascii_letter(c)) return NULL;
  if (c == ' ') {
    return bFirst || cPrev == ' ' ? "姓名中的空格不能在开头、结尾或连用" : NULL;
  }
  if (is_cjk_ideograph(c) || is_name_dot(c)) return "姓名不能混用汉字和英文字母";
  return "姓名只能包含汉字、间隔号（·）或英文字母和空格";
}

/* A Chinese name: ideographs, with single dots between the parts of a transliteration. */
static const char *chinese_name_char_error(uint32_t c, uint32_t cPrev, int bFirst)
{
  if (is_cjk_ideograph(c)) return NULL;
  if (is_name_dot(c)) {
    if (bFirst) return "间隔号不能出现在姓名开头或结尾";
    return is_name_dot(cPrev) ? "间隔号不能连用" : NULL;
  }
  if (c == ' ') return "中文姓名中不能有空格";
  if (is_ascii_letter(c)) return "姓名不能混用汉字和英文字母";
  return "姓名只能包含汉字、间隔号（·）或英文字母和空格";
}

const char *validate_person_name(const char *zName)
{
  const char *z = zName;
  uint32_t c = 0, cPrev = 0;
  long nChar = 0;
  int bLatin;

  if (zName == NULL || zName[0] == '\0') return "请填写姓名";
  /* The first character decides the script; a leading space is a Latin-name error. */
  bLatin = is_ascii_letter((unsigned char)zName[0]) || zName[0] == ' ';
  while (*z) {
    const char *zErr;
    int n = utf8_decode(z, &c);
    if (n == 0) return "姓名含有无效字符";
    zErr = bLatin ? latin_name_char_error(c, cPrev, nChar == 0)
                  : chinese_name_char_error(c, cPrev, nChar == 0);
    if (zErr) return zErr;
    cPrev = c;
    z += n;
    nChar++;
  }
  if (c == ' ') return "姓名中的空格不能在开头、结尾或连用";
  if (is_name_dot(c)) return "间隔号不能出现在姓名开头或结尾";
  if (nChar < 2 || nChar > 30) return "姓名应为2至30个字";
  return NULL;
}

/* Ordinary or ideographic (U+3000) space. */
static int is_space_at(const char *z)
{
  return *z == ' ' || strncmp(z, "\xE3\x80\x80", 3) == 0;
}

static int ends_with_space(const char *z)
{
  size_t n = strlen(z);
  return (n >= 1 && z[n - 1] == ' ') || (n >= 3 && is_space_at(z + n - 3));
}

const char *validate_org_name(const char *zName, int bJustShort)
{
  long nMin = bJustShort ? 2 : 4, nMax = bJustShort ? 20 : 60;
  long nChar;

  if (zName == NULL || zName[0] == '\0') {
    return bJustShort ? "请填写单位简称" : "请填写单位名称";
  }
  if (validate_text(zName, SIZE_MAX, 0) != NULL) {
    return bJustShort ? "单位简称含有无效字符" : "单位名称含有无效字符";
  }
  if (is_space_at(zName) || ends_with_space(zName)) {
    return bJustShort ? "单位简称首尾不能有空格" : "单位名称首尾不能有空格";
  }
  nChar = utf8_length(zName);
  if (nChar < nMin || nChar > nMax) {
    return bJustShort ? "单位简称应为2至20个字" : "单位名称应为4至60个字";
  }
  return NULL;
}

/* ---- the normal form of an organisation's name ---- */

#define ORG_NAME_MAX_BYTES 1024 /* far above 60 characters: longer is refused at once */

/* Characters nobody sees: format characters (ZWSP, ZWJ, word joiner, BOM, soft hyphen,
 * tag characters) and every other default-ignorable one (variation selectors, fillers). */
static int is_invisible(uint32_t c)
{
  return uc_is_general_category(c, UC_CATEGORY_Cf) || uc_is_property_default_ignorable_code_point(c);
}

/* A combining mark where no script puts one: at the start, after a space, or on a Han
 * ideograph, digit or punctuation mark (NFKC has already composed the Latin ones). */
static int is_stray_mark(uint32_t c, uint32_t cBase)
{
  const uc_script_t *pScript;
  if (!uc_is_general_category(c, UC_CATEGORY_M)) return 0;
  if (cBase == 0 || cBase == ' ') return 1;
  pScript = uc_script(cBase);
  return pScript == NULL || strcmp(pScript->name, "Han") == 0 || strcmp(pScript->name, "Common") == 0;
}

/* Pass 1: z without invisible characters into out (never longer); bidi controls refused. */
static const char *drop_invisible(const char *z, char *out)
{
  uint32_t c;
  while (*z) {
    int n = utf8_decode(z, &c);
    if (uc_is_property_bidi_control(c)) return "不能含有文字方向控制字符（如U+202E）";
    if (!is_invisible(c)) {
      memcpy(out, z, (size_t)n);
      out += n;
    }
    z += n;
  }
  *out = '\0';
  return NULL;
}

/* Pass 2: white space collapsed to single ASCII spaces, trimmed, stray marks refused. */
static const char *collapse_spaces(const char *z, size_t n, char *out, size_t nOut)
{
  const char *zEnd = z + n;
  size_t k = 0;
  uint32_t c, cPrev = 0;
  int bSpace = 0;
  while (z < zEnd) {
    int m = utf8_decode(z, &c);
    if (m == 0) return "含有无效字符";
    z += m;
    if (is_invisible(c)) continue;
    if (uc_is_property_white_space(c)) {
      bSpace = k > 0;
      continue;
    }
    if (is_stray_mark(c, bSpace ? ' ' : cPrev)) return "含有单独的组合附加符号";
    if (k + (size_t)bSpace + (size_t)m + 1 > nOut) return "过长";
    if (bSpace) out[k++] = ' ';
    memcpy(out + k, z - m, (size_t)m);
    k += (size_t)m;
    bSpace = 0;
    cPrev = c;
  }
  out[k] = '\0';
  return NULL;
}

const char *normalize_org_name(const char *zIn, char *out, size_t nOut)
{
  char aVisible[ORG_NAME_MAX_BYTES + 1];
  uint8_t aNfkc[4 * ORG_NAME_MAX_BYTES];
  size_t nNfkc = sizeof aNfkc;
  const char *zErr;
  uint8_t *pNfkc;

  if (out == NULL || nOut == 0) return "过长";
  out[0] = '\0';
  if (zIn == NULL) return NULL;
  if (strlen(zIn) > ORG_NAME_MAX_BYTES) return "过长";
  if (validate_text(zIn, SIZE_MAX, 0) != NULL) return "含有无效字符或控制字符";
  if ((zErr = drop_invisible(zIn, aVisible))) return zErr;
  pNfkc = u8_normalize(UNINORM_NFKC, (const uint8_t *)aVisible, strlen(aVisible), aNfkc, &nNfkc);
  if (pNfkc == NULL) return "过长";
  zErr = collapse_spaces((const char *)pNfkc, nNfkc, out, nOut);
  if (pNfkc != aNfkc) free(pNfkc);
  if (zErr) out[0] = '\0';
  return zErr;
}

/* ---------------------------------------------------------------------------------------
 * Phones and e-mail
 * ------------------------------------------------------------------------------------- */

const char *validate_mobile(const char *zPhone)
{
  if (zPhone == NULL || zPhone[0] == '\0') return "请填写手机号";
  if (strlen(zPhone) != 11 || !all_digits(zPhone, 11)) return "手机号应为11位数字";
  if (zPhone[0] != '1' || zPhone[1] < '3') return "手机号应以13至19开头";
  return NULL;
}

/* 0 + area code of 2-3 digits (never starting with 0: "00" dials abroad), an optional
 * '-', then a 7-8 digit local number. Without the '-' only the total length is known. */
static int is_landline(const char *z)
{
  size_t n = strlen(z), nArea, nLocal;
  const char *zDash = strchr(z, '-');

  if (z[0] != '0' || z[1] < '1' || z[1] > '9') return 0;
  if (zDash == NULL) return n >= 10 && n <= 12 && all_digits(z, n);
  nArea = (size_t)(zDash - z); /* including the leading 0 */
  nLocal = n - nArea - 1;
  return nArea >= 3 && nArea <= 4 && all_digits(z, nArea) && nLocal >= 7 && nLocal <= 8 &&
         all_digits(zDash + 1, nLocal);
}

const char *validate_phone(const char *zPhone)
{
  if (zPhone == NULL || zPhone[0] == '\0') return "请填写电话号码";
  if (zPhone[0] == '1') return validate_mobile(zPhone);
  if (!is_landline(zPhone)) return "电话号码应为手机号或固定电话（如010-12345678）";
  return NULL;
}

/* Characters never found in an ordinary address and dangerous in mail headers. */
static int is_email_forbidden(uint32_t c)
{
  return c <= ' ' || is_control(c) || (c < 0x80 && strchr("<>()[]\\,;:\"", (int)c));
}

static int is_email_domain(const char *zDomain)
{
  size_t n = strlen(zDomain);
  return n >= 3 && strchr(zDomain, '.') != NULL && zDomain[0] != '.' &&
         zDomain[n - 1] != '.' && strstr(zDomain, "..") == NULL;
}

const char *validate_email(const char *zEmail)
{
  const char *zAt, *z;
  uint32_t c;

  if (zEmail == NULL || zEmail[0] == '\0') return "请填写电子邮箱";
  if (strlen(zEmail) > 100) return "电子邮箱不能超过100个字符";
  for (z = zEmail; *z; z += utf8_step(z)) {
    if (utf8_decode(z, &c) == 0 || is_email_forbidden(c)) return "电子邮箱格式不正确";
  }
  zAt = strchr(zEmail, '@');
  if (zAt == NULL || zAt == zEmail || strchr(zAt + 1, '@') != NULL ||
      !is_email_domain(zAt + 1)) {
    return "电子邮箱格式不正确";
  }
  return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Passwords
 * ------------------------------------------------------------------------------------- */

#define PASSWORD_RULE "密码至少8位，且须包含大写字母、小写字母、数字、特殊符号中的至少三类"

/* Bit set of the classes present: 1 upper, 2 lower, 4 digit, 8 anything else. */
static int password_class(uint32_t c)
{
  if (c >= 'A' && c <= 'Z') return 1;
  if (c >= 'a' && c <= 'z') return 2;
  if (c >= '0' && c <= '9') return 4;
  return 8;
}

static int count_bits(int m)
{
  int n = 0;
  for (; m; m >>= 1) n += m & 1;
  return n;
}

const char *validate_password(const char *zPassword, const char *zLogin)
{
  const char *z;
  long nChar = 0;
  int mClass = 0;
  uint32_t c;

  if (zPassword == NULL || zPassword[0] == '\0') return "请填写密码";
  for (z = zPassword; *z; nChar++) {
    int n = utf8_decode(z, &c);
    if (n == 0 || is_control(c)) return "密码含有无效字符";
    mClass |= password_class(c);
    z += n;
  }
  if (nChar > 64) return "密码不能超过64位";
  if (nChar < 8 || count_bits(mClass) < 3) return PASSWORD_RULE;
  /* A login of one or two characters would forbid half the alphabet. */
  if (zLogin && strlen(zLogin) >= 3 && strcasestr(zPassword, zLogin) != NULL) {
    return "密码不能包含用户名、身份证号或手机号";
  }
  return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Dates and free text
 * ------------------------------------------------------------------------------------- */

const char *validate_date(const char *zDate, long *out)
{
  int y, m, d;

  if (zDate == NULL || zDate[0] == '\0') return "请填写日期";
  if (strlen(zDate) != 10 || zDate[4] != '-' || zDate[7] != '-' || !all_digits(zDate, 4) ||
      !all_digits(zDate + 5, 2) || !all_digits(zDate + 8, 2)) {
    return "日期格式应为YYYY-MM-DD";
  }
  y = digits_value(zDate, 4);
  m = digits_value(zDate + 5, 2);
  d = digits_value(zDate + 8, 2);
  if (!is_real_date(y, m, d)) return "日期不是有效日期";
  if (y < 1900 || y > 2100) return "日期年份应在1900至2100年之间";
  if (out) *out = days_from_civil(y, m, d);
  return NULL;
}

/* Newline and tab in multi-line text; a CR only as part of a CRLF pair, since text
 * pasted from Windows arrives that way. */
static int is_allowed_control(const char *z, int bMultiline)
{
  if (!bMultiline) return 0;
  return z[0] == '\n' || z[0] == '\t' || (z[0] == '\r' && z[1] == '\n');
}

const char *validate_text(const char *zText, size_t nMaxChars, int bMultiline)
{
  const char *z;
  size_t nChar = 0;
  uint32_t c;

  if (zText == NULL) return NULL;
  for (z = zText; *z; nChar++) {
    int n = utf8_decode(z, &c);
    if (n == 0) return "内容含有无效字符（不是有效的UTF-8编码）";
    if (is_control(c) && !is_allowed_control(z, bMultiline)) return "内容含有不允许的控制字符";
    if (is_noncharacter(c)) return "内容含有不允许的字符（非字符码位）";
    z += n;
  }
  if (nChar > nMaxChars) return "内容超出长度限制";
  return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Masking
 * ------------------------------------------------------------------------------------- */

/* Keep the first nHead and last nTail characters, one '*' for each character between.
 * When that would keep everything, everything is hidden instead: a short, probably
 * mistyped identifier is still an identifier. Works per UTF-8 character (an invalid
 * byte counts as one), so the output is never longer than the input and may alias it. */
static void mask_keep_ends(const char *zIn, char *out, long nHead, long nTail)
{
  const char *p;
  char *q = out;
  long nChar = 0, i = 0;

  if (out == NULL) return;
  if (zIn == NULL) {
    out[0] = '\0';
    return;
  }
  for (p = zIn; *p; p += utf8_step(p)) nChar++;
  if (nChar <= nHead + nTail) nHead = nTail = 0;
  for (p = zIn; *p; i++) {
    int n = utf8_step(p);
    if (i < nHead || i >= nChar - nTail) {
      memmove(q, p, (size_t)n);
      q += n;
    } else {
      *q++ = '*';
    }
    p += n;
  }
  *q = '\0';
}

void mask_id_number(const char *zIn, char *out)
{
  mask_keep_ends(zIn, out, 4, 4);
}

void mask_phone(const char *zIn, char *out)
{
  mask_keep_ends(zIn, out, 3, 4);
}
