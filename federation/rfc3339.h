/* rfc3339.h - the federation's timestamps: RFC 3339 in UTC, "2024-05-01T08:30:00Z". */
#ifndef ZC_FED_RFC3339_H
#define ZC_FED_RFC3339_H

#include <time.h>

/* Characters needed for a formatted timestamp, NUL included. */
#define FED_RFC3339_SIZE 21

/* Write t as "YYYY-MM-DDTHH:MM:SSZ". 0, or FED_EINVALID when t is outside years 0-9999. */
int fed_rfc3339_format(char out[FED_RFC3339_SIZE], time_t t);

/* Parse "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (UTC only; the fraction is dropped; 't' and
 * 'z' accepted as RFC 3339 allows). 0 and *out, or FED_EINVALID. */
int fed_rfc3339_parse(time_t *out, const char *z);

#endif
