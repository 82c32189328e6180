/* sender.h - what the node sends to people: recovery codes, appeal decisions and the
 * applicant's opt-in notifications (an application returned, past a stage, with a result
 * or a fee due). One interface, two ways out:
 *  - the outbox: every message is a row of `messages`; with no gateway for its channel it
 *    stays there ('kept') and the node admin reads it (GET /messages): the demo's default;
 *  - e-mail over SMTP (smtp.h), when DATA/smtp.json configures it: queued in the change's
 *    transaction, sent by a thread of its own after the commit, marked sent or failed.
 * SMS stays an interface: sms_send() in sender.c is where a provider's API is plugged in;
 * until then text messages are kept in the outbox. */
#ifndef ZC_SENDER_H
#define ZC_SENDER_H

#include "http.h"

/* In the caller's transaction: a message to zTo by zChannel ("email" or "sms") about
 * account zAccount (may be NULL). 0 on success. */
int sender_queue(zc_node *p, const char *zAccount, const char *zChannel, const char *zTo, const char *zSubject,
                 const char *zBody);

/* The channel of a contact given by a person: "email" when it has an @, else "sms". */
const char *sender_channel_of(const char *zContact);

/* On the event loop, every turn (cheap when nothing was written): turn status changes
 * into notifications for the applicants who asked for them, hand queued e-mails to the
 * mail thread and record what it sent. */
void sender_flush(zc_node *p);

/* The mail thread, when SMTP is configured; it wakes the loop with xWake(pWakeArg). */
int sender_start(zc_node *p, void (*xWake)(void *), void *pWakeArg);
void sender_stop(void);

/* At start: DATA/smtp.json (none: the outbox only); messages left 'sending' by a crash go
 * back to the queue. -1 when the file is malformed. */
int sender_open(zc_node *p);

int sender_messages(zc_req *r);      /* GET /messages: the outbox, for the node admin */
int sender_notify_setting(zc_req *r); /* PUT /me/notifications {"enabled": bool} */

#endif
