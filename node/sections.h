/* sections.h - what an application (申请书) asks for: its sections (基本信息, 学历, …),
 * each a list of typed fields, and the checks on what an applicant saves. */
#ifndef ZC_SECTIONS_H
#define ZC_SECTIONS_H

#include <jansson.h>

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

/* The first required field empty in pData, or NULL when all are filled. */
const section_field *section_missing(const section_def *s, json_t *pData);

#endif
