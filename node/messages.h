/* messages.h - error messages in the languages the portal speaks: zh-CN (the default) and
 * ug (Uyghur, Arabic script). One catalogue per language, schemas/messages/<lang>.json,
 * each message keyed by its error code. The language of an answer is the caller's
 * Accept-Language (the portal sends the one its switch shows); the Chinese answer keeps
 * the call site's own message (it names the field or the limit), another language takes
 * its catalogue's message for the code. */
#ifndef ZC_MESSAGES_H
#define ZC_MESSAGES_H

#include <jansson.h>

enum zc_lang { LANG_NONE = -1, LANG_ZH = 0, LANG_UG = 1, ZC_LANGS };

struct zc_node;
/* Load every language's catalogue (each must be a JSON object of strings); 0 on success. */
int messages_load(struct zc_node *p);
void messages_free(struct zc_node *p);
/* The catalogue's message for zCode in language iLang, or NULL. */
const char *message_for(const struct zc_node *p, int iLang, const char *zCode);
/* The language an Accept-Language header asks for: the highest q among the tags of zh and
 * ug (and their subtags, e.g. ug-CN, ug-Arab-CN), the first listed on a tie; LANG_NONE when
 * it names neither (anything else, an empty or a malformed header): then the account's
 * own setting decides, else Chinese (session.c, http.c). */
int messages_pick(const char *zAccept);
/* "zh-CN" or "ug", as Content-Language says it. */
const char *message_lang_tag(int iLang);

#endif
