/* validate.h - checks of what people type: ID-card numbers, credit codes, names, phones,
 * passwords, dates. Pure functions, no I/O; each returns 0 when the input is acceptable
 * and otherwise a static Chinese message saying what is wrong. */
#ifndef ZC_VALIDATE_H
#define ZC_VALIDATE_H

#include <stddef.h>
#include <time.h>

/* Resident ID-card number (GB 11643-1999). On success writes the normalised form
 * (upper-case X) into out[19]. `today` is the current time (injected for tests). */
const char *validate_id_number(const char *zIn, char out[19], time_t today);

/* Unified social credit code (GB 32100-2015); on success writes the normalised
 * (upper-case) code into out[19]. */
const char *validate_credit_code(const char *zIn, char out[19]);

/* A person's name: 2..30 characters of CJK ideographs, the middle dots used in
 * transliterated names (U+00B7, U+2022, U+30FB) or ASCII letters and single spaces. */
const char *validate_person_name(const char *zName);

/* An organisation's full (bJustShort=0, 4..60 chars) or short name (bJustShort=1, 2..20). */
const char *validate_org_name(const char *zName, int bJustShort);

/* The form in which an organisation's name is compared and stored: Unicode NFKC,
 * invisible characters (format characters such as ZWSP, ZWJ, U+2060, BOM, soft hyphen, tag
 * characters; variation selectors and other default-ignorables) removed, white space
 * (NBSP, U+3000, ...) collapsed to single spaces and trimmed. Refused with a message to
 * follow the field's name (e.g. "不能含有文字方向控制字符"): bidi controls (RLO,
 * ...), combining marks on nothing or on Han, digits or punctuation, control characters,
 * invalid UTF-8, more than nOut-1 bytes. out holds the result ("" on refusal). */
const char *normalize_org_name(const char *zIn, char *out, size_t nOut);

/* Mainland mobile number: 11 digits starting 1[3-9]. */
const char *validate_mobile(const char *zPhone);

/* Mobile, or a landline: 0 + 2-3 digit area code, optional '-', 7-8 digits. */
const char *validate_phone(const char *zPhone);

/* A plausible e-mail address (one '@', a dot in the domain, no spaces, <= 100 bytes). */
const char *validate_email(const char *zEmail);

/* Password strength rule (stated in the message): 8..64 characters, at least three of
 * upper-case, lower-case, digits, symbols; must not contain zLogin when that is given
 * (a username, ID number or phone). */
const char *validate_password(const char *zPassword, const char *zLogin);

/* A calendar date "YYYY-MM-DD" that exists; on success *out is days since 1970-01-01. */
const char *validate_date(const char *zDate, long *out);

/* Free text of at most nMaxChars UTF-8 characters, valid UTF-8, no control characters
 * (except newline, tab and CRLF when bMultiline) and no noncharacters. Empty is allowed
 * (callers check required). */
const char *validate_text(const char *zText, size_t nMaxChars, int bMultiline);

/* Count of UTF-8 characters, or -1 if zText is not valid UTF-8. */
long utf8_length(const char *zText);

/* Masking for lists: ID number keeps the first 4 and last 4 characters, phone the first
 * 3 and last 4; everything else becomes '*'. out must hold strlen(zIn)+1 bytes. */
void mask_id_number(const char *zIn, char *out);
void mask_phone(const char *zIn, char *out);

#endif
