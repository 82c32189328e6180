/* canon.h - canonical JSON, the byte form of every signed federation document.
 *
 * The form (DESIGN.md, "The signed log"): UTF-8; object keys sorted by their bytes; no
 * insignificant whitespace; integers only; strings escaped as RFC 8785 does (\" \\ \b \f
 * \n \r \t, other control characters as \u00xx in lower-case hex, everything else raw
 * UTF-8, U+2028 and U+2029 included). Signatures are made over these exact bytes. */
#ifndef ZC_FED_CANON_H
#define ZC_FED_CANON_H

#include <jansson.h>
#include <stddef.h>

/* Serialise v canonically. Returns a malloc'd, NUL-terminated buffer (free() it) and its
 * length in *pn (pn may be NULL), or NULL when v cannot be canonical: a real number,
 * invalid UTF-8, or nesting deeper than FED_CANON_MAX_DEPTH (see fed_last_error()). */
#define FED_CANON_MAX_DEPTH 256
char *fed_canon(const json_t *v, size_t *pn);

/* Parse z[0..n) and check that it is exactly the canonical form of what it encodes.
 * 0 and *out (a new reference) on success; FED_EINVALID when it is not JSON or not
 * canonical. out may be NULL to check only. */
int fed_canon_parse(json_t **out, const char *z, size_t n);

#endif
