/* rfc3339.c - formatting and strict parsing of UTC timestamps (see rfc3339.h). */
#include "rfc3339.h"
#include "fed_error.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int fed_rfc3339_format(char out[FED_RFC3339_SIZE], time_t t) {
  struct tm tm;
  if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
    out[0] = 0;
    return fed_error_set(FED_EINVALID, "time %lld cannot be written as RFC 3339", (long long)t);
  }
  strftime(out, FED_RFC3339_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return FED_OK;
}

/* Read exactly n decimal digits at z into *out. */
static int read_digits(int *out, const char *z, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)z[i])) return -1;
    v = v * 10 + (z[i] - '0');
  }
  *out = v;
  return 0;
}

static int days_in_month(int iYear, int iMonth) {
  static const int aDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int bLeap = (iYear % 4 == 0 && iYear % 100 != 0) || iYear % 400 == 0;
  return iMonth == 2 && bLeap ? 29 : aDays[iMonth - 1];
}

int fed_rfc3339_parse(time_t *out, const char *z) {
  int y, mo, d, h, mi, s;
  struct tm tm;
  const char *zEnd;
  if (z == NULL || strlen(z) < 20) goto bad;
  if (read_digits(&y, z, 4) || z[4] != '-' || read_digits(&mo, z + 5, 2) || z[7] != '-' ||
      read_digits(&d, z + 8, 2) || (z[10] != 'T' && z[10] != 't') || read_digits(&h, z + 11, 2) ||
      z[13] != ':' || read_digits(&mi, z + 14, 2) || z[16] != ':' || read_digits(&s, z + 17, 2)) {
    goto bad;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60) goto bad;
  zEnd = z + 19;
  if (*zEnd == '.') {
    zEnd++;
    if (!isdigit((unsigned char)*zEnd)) goto bad;
    while (isdigit((unsigned char)*zEnd)) zEnd++;
  }
  if ((zEnd[0] != 'Z' && zEnd[0] != 'z') || zEnd[1] != 0) goto bad;
  memset(&tm, 0, sizeof(tm));
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s == 60 ? 59 : s; /* a leap second counts as the second before it */
  *out = timegm(&tm);
  return FED_OK;
bad:
  return fed_error_set(FED_EINVALID, "not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ): \"%.40s\"", z ? z : "(null)");
}
