/*
 * Notifications (R-NOTE-1..4, R-SIGN-2/4/5, R-REG-2/5): in-site messages,
 * the e-mail and SMS outbox, and the link tokens the outbox sends.  Plain C
 * (LMDB, jansson, OpenSSL; no nginx types): the hooks below run inside
 * other files' write transactions in pool threads.
 *
 * Messages (ESIGN_DB_MESSAGES), addressed to an institution, read state
 * per account:
 *
 *     "<inst_id>/m/<msg_id>"               -> message record
 *     "<inst_id>/r/<account_id>/<msg_id>"  -> {"at"} read mark
 *
 * msg_id is 16 hex digits of the creation time in ms followed by a random
 * ID (42 characters), so one institution's messages are one key range in
 * time order and a message is found from its ID alone.
 *
 * Outbox (ESIGN_DB_OUTBOX), a platform-level queue:
 *
 *     "e/<entry_id>"                        -> entry record
 *     "q/<due ms, 16 hex>/<entry_id>"       -> "" while the entry is due
 *
 * The "to" of an entry is stored SM4-encrypted (esc_fieldenc, aad
 * "outbox:<entry_id>") beside a masked copy for logs and operators.
 */

#ifndef _NGX_ESIGN_NOTIFY_H_INCLUDED_
#define _NGX_ESIGN_NOTIFY_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <lmdb.h>
#include <jansson.h>


#define ESIGN_MSG_ID_LEN         42
#define ESIGN_LINK_TOKEN_MAX     128

#define ESIGN_LINK_OK            0
#define ESIGN_LINK_EXPIRED       1
#define ESIGN_LINK_INVALID      -1


/*
 * Process-wide settings, written once in init_process before any task
 * runs and only read afterwards (so threads may read them freely).
 */
typedef struct {
    char          public_url[256];   /* "https://host", no trailing '/' */
    uint8_t       link_key[32];      /* link tokens */
    uint8_t       field_key[32];     /* outbox recipients */
    uint64_t      link_ttl_ms;
    unsigned      email:1;           /* an SMTP relay is configured */
    unsigned      sms:1;             /* an SMS gateway is configured */
    unsigned      ready:1;
} esign_notify_conf_t;


extern esign_notify_conf_t  esign_notify_conf;


/*
 * Derives the keys from the KEK file text (its first "kek v<N> <hex>"
 * line, so a rotation that appends versions keeps links and queued
 * entries valid) and sets the rest.  0 or -1.
 */
int esign_notify_configure(const char *public_url, size_t url_len,
    const char *kek_text, size_t kek_len, uint64_t link_ttl_ms,
    int email, int sms);


/*
 * The hook of the signing workflow.  contract is the contract record
 * ({"id","title","number","initiator":{"institution_id","name"},
 * "participants":[{"institution_id","name","status"}],"status"}); event is
 * "initiated", "confirmed", "completed", "rejected", "revoked" or
 * "expired".  Writes in-site messages for the institutions concerned and
 * queues e-mail and SMS to their administrators, inside txn.  Returns 0,
 * EINVAL for an unknown event or a malformed record, or an MDB_ error
 * (the caller aborts its transaction then).
 */
int esign_notify_contract_event(MDB_txn *txn, MDB_dbi *dbis,
    json_t *contract, const char *event, uint64_t now_ms);

/*
 * The hook of institution reviews: event is "approved", "rejected",
 * "deregistration_requested", "deregistration_approved" or
 * "deregistration_rejected"; reason may be NULL.  Same returns.
 */
int esign_notify_institution_event(MDB_txn *txn, MDB_dbi *dbis,
    const char *inst_id, const char *event, const char *reason,
    uint64_t now_ms);


/*
 * Adds one in-site message for every account of inst_id (admins_only: for
 * its administrator only).  object_type/object_id may be NULL.
 */
int esign_message_add(MDB_txn *txn, MDB_dbi *dbis, const char *inst_id,
    int admins_only, const char *event, const char *object_type,
    const char *object_id, const char *title, const char *body,
    uint64_t now_ms);

/* One in-site message for one account of inst_id only. */
int esign_message_add_account(MDB_txn *txn, MDB_dbi *dbis,
    const char *inst_id, const char *account_id, const char *event,
    const char *title, const char *body, uint64_t now_ms);

/*
 * Queues one e-mail or SMS ("email" / "sms") to a clear-text recipient,
 * which is encrypted before it is stored.  Returns 0 or an error.
 */
int esign_outbox_enqueue(MDB_txn *txn, MDB_dbi *dbis, const char *channel,
    const char *to, const char *subject, const char *body,
    const char *inst_id, const char *event, const char *link,
    uint64_t now_ms);

/* Decrypts the recipient of an outbox entry into out; 0 or -1. */
int esign_outbox_recipient(json_t *entry, char *out, size_t outsz);


/*
 * Link tokens (esc_linktoken.h: SM4-CTR + HMAC-SM3, random nonce,
 * base64url) under the link key, at most ESIGN_LINK_TOKEN_MAX characters
 * (the router's path segment limit).  Object kind 'c' contract, 'i'
 * institution; expiry in whole seconds.
 */
int esign_link_make(char kind, const char *id, uint64_t expires_ms,
    char *out, size_t outsz);

/*
 * ESIGN_LINK_OK (kind and id filled), ESIGN_LINK_EXPIRED (authentic but
 * past its expiry; kind and id filled), ESIGN_LINK_INVALID.
 */
int esign_link_open(const char *token, size_t len, uint64_t now_ms,
    char *kind, char *id, size_t idsz);


/* RFC 3339 UTC with milliseconds; out needs 32 bytes. */
void esign_notify_time(uint64_t ms, char *out);

/* 1 if (p, len) has the shape of a message ID. */
int esign_msg_id_valid(const char *p, size_t len);


#endif /* _NGX_ESIGN_NOTIFY_H_INCLUDED_ */
