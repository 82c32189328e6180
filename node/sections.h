/* sections.h - what an application (申请书) asks for: its sections (基本信息, 学历, …),
 * each a list of typed fields, and the checks on what an applicant saves. */
#ifndef ZC_SECTIONS_H
#define ZC_SECTIONS_H

#include <jansson.h>
#include <sqlite3.h>

#include "http.h"

#define MAX_SECTIONS 16 /* at most this many sections (checked in sections.c) */

typedef struct section_field {
  const char *zName, *zLabel;
  const char *zType;        /* text, textarea, date, number, select */
  int bRequired;
  const char *const *azOptions; /* for select: NULL-terminated */
} section_field;

typedef struct section_def {
  const char *zName, *zTitle;
  int bAttachmentsRequired;  /* submit needs at least one attachment here */
  const section_field *aField;
  int nField;
} section_def;

extern const section_def g_sections[];
extern const int g_nSections;

const section_def *section_find(const char *zName);

/* The section's definition as the API shows it ({name,title,fields,attachments_required}). */
json_t *section_json(const section_def *s);

/* The section's definition as JSON text without its closing brace, made once: the
 * application's answer (after every section save) splices it in rather than building and
 * serialising the same field lists each time. */
const char *section_head_text(const section_def *s, size_t *pn);

/* Check pData (an object) against the section; on success *ppClean is the data to store
 * (known fields, numbers as integers). On failure returns a Chinese message and sets
 * *pzField to the offending field name. */
const char *section_check(const section_def *s, json_t *pData, json_t **ppClean, const char **pzField);

/* An application's saved sections, read in one query: each one's data (JSON text as
 * stored) and its first required field absent or empty. sqlite looks into the stored JSON,
 * so nothing is parsed here: this runs after every section save and before every submit. */
typedef struct section_saved {
  zc_buf text;                                      /* data and missing names, NUL-separated */
  long aData[MAX_SECTIONS], aMissing[MAX_SECTIONS]; /* offsets into text by section; -1: never saved */
} section_saved;
/* 0, or -1 when the query failed (logged); *out is to be freed either way. */
int section_saved_load(sqlite3 *db, const char *zApp, section_saved *out);
/* Section i's (of g_sections) saved data, "{}" when never saved. */
const char *section_saved_data(const section_saved *ss, int i);
/* Section i's first required field not filled, or NULL when all are. */
const section_field *section_saved_missing(const section_saved *ss, int i);
void section_saved_free(section_saved *ss);

#endif
