/* sections.h - what an application (申请书) asks for: its sections (基本信息, 学历, …),
 * each a list of typed fields, and the checks on what an applicant saves. */
#ifndef ZC_SECTIONS_H
#define ZC_SECTIONS_H

#include <jansson.h>
#include <sqlite3.h>

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
#define MAX_SECTIONS 16 /* at least g_nSections (sections.c asserts it) */

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

/* Calls xEach for every section of an application, in g_sections order (i its index),
 * with its saved data as stored (JSON text, "{}" when never saved) and its first required
 * field absent or empty (NULL when all are filled), from one query: stored beside the data
 * (section_missing_store) or found by sqlite in the stored JSON; nothing is parsed here (this runs after every section save and
 * before every submit). xEach returns nonzero to stop, and may not use the database.
 * Returns what xEach stopped with, 0 after the last section, -1 when the query failed. */
/* Store what section zSection of application zApp lacks now (application_sections.missing),
 * after its data_json changed; section_saved_each then reads it instead of looking into the
 * JSON. 0 on success. */
int section_missing_store(sqlite3 *db, const char *zApp, const char *zSection);
/* At start: forget every stored "missing" when the field table (the rule they were found
 * by) is not the one they were stored under. 0 on success. */
int section_missing_sync(sqlite3 *db);

typedef int (*section_saved_fn)(int i, const char *zData, const section_field *pMissing, void *pArg);
int section_saved_each(sqlite3 *db, const char *zApp, section_saved_fn xEach, void *pArg);

#endif
