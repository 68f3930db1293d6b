/*
 * Notifications: in-site messages, outbox entries and link tokens written
 * by the signing and review workflows inside their own write
 * transactions (plain C, runs in pool threads).
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

#include "ngx_esign_db.h"
#include "ngx_esign_notify.h"
#include "ngx_esign_pki.h"
#include "esc_codec.h"
#include "esc_fieldenc.h"
#include "esc_kek.h"
#include "esc_linktoken.h"
#include "esc_mask.h"
#include "esc_rand.h"


#define ESIGN_KEY_MAX          256


esign_notify_conf_t  esign_notify_conf;

/* the KEK ring that unseals the identity field keys (contacts) */
static esc_kek_ring_t  *esign_notify_ring;


typedef struct {
    const char  *event;
    unsigned     initiator:1;       /* the initiator is told */
    unsigned     participants:1;    /* the participants are told */
    unsigned     outbox:1;          /* e-mail and SMS besides in-site */
    const char  *subject;
    const char  *text;
} esign_notify_event_t;


static const esign_notify_event_t  esign_contract_events[] = {
    { "initiated", 0, 1, 1, "Contract to sign",
      "Your institution is asked to sign the contract" },
    { "confirmed", 1, 0, 0, "Contract confirmed by a participant",
      "A participant confirmed the contract" },
    { "completed", 1, 1, 1, "Contract signed by every party",
      "Every party signed the contract" },
    { "rejected", 1, 1, 1, "Contract rejected",
      "A participant rejected the contract; the signing has ended:" },
    { "revoked", 1, 1, 1, "Contract revoked",
      "The initiator revoked the contract; the signing has ended:" },
    { "expired", 1, 1, 1, "Contract expired",
      "The signing expired before every party signed the contract" },
    { NULL, 0, 0, 0, NULL, NULL }
};


static const esign_notify_event_t  esign_institution_events[] = {
    { "approved", 0, 0, 1, "Registration approved",
      "Your institution's registration was approved; the administrator "
      "account is active." },
    { "rejected", 0, 0, 1, "Registration rejected",
      "Your institution's registration was rejected." },
    { "deregistration_requested", 0, 0, 0, "Deregistration requested",
      "Your institution's deregistration was requested and awaits "
      "review." },
    { "deregistration_approved", 0, 0, 1, "Deregistration approved",
      "Your institution is deregistered; its accounts can no longer log "
      "in." },
    { "deregistration_rejected", 0, 0, 1, "Deregistration rejected",
      "Your institution's deregistration was rejected; it stays active." },
    { NULL, 0, 0, 0, NULL, NULL }
};


static int esign_notify_contacts(MDB_txn *txn, MDB_dbi *dbis,
    const char *inst_id, const char *subject, const char *body,
    const char *sms, const char *event, const char *link, uint64_t now_ms);
static int esign_notify_institution_party(MDB_txn *txn, MDB_dbi *dbis,
    json_t *contract, const esign_notify_event_t *ev, const char *inst_id,
    uint64_t now_ms);


static void
esign_hmac_sm3(const uint8_t *key, size_t keylen, const char *label,
    uint8_t out[32])
{
    unsigned int  len;

    len = 32;

    if (HMAC(EVP_sm3(), key, (int) keylen, (const unsigned char *) label,
             strlen(label), out, &len) == NULL)
    {
        memset(out, 0, 32);
    }
}


int
esign_notify_configure(const char *public_url, size_t url_len,
    const char *kek_text, size_t kek_len, uint64_t link_ttl_ms, int email,
    int sms)
{
    size_t        hexlen;
    uint8_t       kek[32];
    const char   *p, *last, *eol, *hex;
    esign_notify_conf_t  *c;

    c = &esign_notify_conf;

    memset(c, 0, sizeof(esign_notify_conf_t));

    while (url_len > 0 && public_url[url_len - 1] == '/') {
        url_len--;
    }

    if (url_len == 0 || url_len >= sizeof(c->public_url)) {
        return -1;
    }

    memcpy(c->public_url, public_url, url_len);
    c->public_url[url_len] = '\0';

    /* the first "kek v<N> <64 hex>" line */

    hex = NULL;
    hexlen = 0;
    last = kek_text + kek_len;

    for (p = kek_text; p < last; p = eol + 1) {
        eol = memchr(p, '\n', last - p);
        if (eol == NULL) {
            eol = last;
        }

        if (eol - p > 6 && memcmp(p, "kek v", 5) == 0) {
            hex = memchr(p + 5, ' ', eol - p - 5);
            if (hex != NULL) {
                hex++;
                hexlen = eol - hex;

                while (hexlen > 0 && (hex[hexlen - 1] == '\r'
                                      || hex[hexlen - 1] == ' '))
                {
                    hexlen--;
                }
            }

            break;
        }
    }

    if (hex == NULL
        || esc_hex_decode(kek, sizeof(kek), &hexlen, hex, hexlen) != 0
        || hexlen != sizeof(kek))
    {
        return -1;
    }

    esign_hmac_sm3(kek, sizeof(kek), "esign link token v1", c->link_key);
    esign_hmac_sm3(kek, sizeof(kek), "esign outbox recipient v1",
                   c->field_key);
    OPENSSL_cleanse(kek, sizeof(kek));

    if (esign_notify_ring != NULL) {
        esc_kek_free(esign_notify_ring);
        esign_notify_ring = NULL;
    }

    if (esc_kek_parse(kek_text, kek_len, &esign_notify_ring) != 0) {
        esign_notify_ring = NULL;
    }

    c->link_ttl_ms = link_ttl_ms;
    c->email = email ? 1 : 0;
    c->sms = sms ? 1 : 0;
    c->ready = 1;

    return 0;
}


void
esign_notify_time(uint64_t ms, char *out)
{
    time_t     t;
    struct tm  tm;

    t = (time_t) (ms / 1000);
    (void) gmtime_r(&t, &tm);

    if (strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
        strcpy(out, "1970-01-01T00:00:00.000Z");
        return;
    }

    (void) snprintf(out + 19, 13, ".%03uZ", (unsigned) (ms % 1000));
}


int
esign_msg_id_valid(const char *p, size_t len)
{
    size_t  i;

    if (len != ESIGN_MSG_ID_LEN) {
        return 0;
    }

    for (i = 0; i < 16; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
            return 0;
        }
    }

    return esc_rand_id_valid(p + 16, ESC_RAND_ID_LEN);
}


/* "<16 hex ms><random id>" */
static int
esign_time_id(uint64_t now_ms, char out[ESIGN_MSG_ID_LEN + 1])
{
    (void) snprintf(out, 17, "%016llx", (unsigned long long) now_ms);

    return esc_rand_id(out + 16) == 0 ? 0 : EIO;
}


/* Links ---------------------------------------------------------------- */


/*
 * Links: esc_linktoken (crypto/esc_linktoken.h) under the link key; the
 * expiry travels in seconds, rounded up.
 */
int
esign_link_make(char kind, const char *id, uint64_t expires_ms, char *out,
    size_t outsz)
{
    size_t  idlen, olen;

    idlen = strlen(id);

    if (idlen == 0 || idlen > ESC_LINK_ID_MAX) {
        return -1;
    }

    if (esc_linktoken_issue(esign_notify_conf.link_key, (uint8_t) kind, id,
                            idlen, (int64_t) ((expires_ms + 999) / 1000),
                            out, outsz, &olen)
        != 0 || olen > ESIGN_LINK_TOKEN_MAX)
    {
        return -1;
    }

    return 0;
}


int
esign_link_open(const char *token, size_t len, uint64_t now_ms, char *kind,
    char *id, size_t idsz)
{
    esc_linktoken_t    obj;
    esc_link_status_t  st;

    if (len == 0 || len > ESIGN_LINK_TOKEN_MAX) {
        return ESIGN_LINK_INVALID;
    }

    st = esc_linktoken_verify(esign_notify_conf.link_key, token, len,
                              (int64_t) (now_ms / 1000), &obj);

    if (st == ESC_LINK_INVALID || obj.idlen + 1 > idsz) {
        return ESIGN_LINK_INVALID;
    }

    memcpy(id, obj.id, obj.idlen);
    id[obj.idlen] = '\0';
    *kind = (char) obj.kind;

    return st == ESC_LINK_EXPIRED ? ESIGN_LINK_EXPIRED : ESIGN_LINK_OK;
}


/* Messages ------------------------------------------------------------- */


/*
 * Stores one in-site message of inst_id for an audience: "institution"
 * (every account), "admins" (the administrator) or "account" (account_id
 * alone).
 */
static int
esign_message_put(MDB_txn *txn, MDB_dbi *dbis, const char *inst_id,
    const char *audience, const char *account_id, const char *event,
    const char *object_type, const char *object_id, const char *title,
    const char *body, uint64_t now_ms)
{
    int      rc;
    char     id[ESIGN_MSG_ID_LEN + 1], key[ESIGN_KEY_MAX], at[32];
    json_t  *msg;

    if (esign_time_id(now_ms, id) != 0) {
        return EIO;
    }

    if ((size_t) snprintf(key, sizeof(key), "%s/m/%s", inst_id, id)
        >= sizeof(key))
    {
        return EINVAL;
    }

    esign_notify_time(now_ms, at);

    msg = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s?,s:s?,s:s?,s:s?}",
                    "id", id, "institution_id", inst_id,
                    "audience", audience, "event", event, "title", title,
                    "created_at", at, "body", body,
                    "object_type", object_type, "object_id", object_id,
                    "account_id", account_id);
    if (msg == NULL) {
        return ENOMEM;
    }

    rc = esign_db_put_json(txn, dbis[ESIGN_DB_MESSAGES], key, strlen(key),
                           msg, MDB_NOOVERWRITE);
    json_decref(msg);

    return rc;
}


int
esign_message_add(MDB_txn *txn, MDB_dbi *dbis, const char *inst_id,
    int admins_only, const char *event, const char *object_type,
    const char *object_id, const char *title, const char *body,
    uint64_t now_ms)
{
    return esign_message_put(txn, dbis, inst_id,
                             admins_only ? "admins" : "institution", NULL,
                             event, object_type, object_id, title, body,
                             now_ms);
}


/* A message for one account only (e.g. the welcome of a new account). */
int
esign_message_add_account(MDB_txn *txn, MDB_dbi *dbis, const char *inst_id,
    const char *account_id, const char *event, const char *title,
    const char *body, uint64_t now_ms)
{
    return esign_message_put(txn, dbis, inst_id, "account", account_id,
                             event, NULL, NULL, title, body, now_ms);
}


/* Outbox --------------------------------------------------------------- */


int
esign_outbox_enqueue(MDB_txn *txn, MDB_dbi *dbis, const char *channel,
    const char *to, const char *subject, const char *body,
    const char *inst_id, const char *event, const char *link,
    uint64_t now_ms)
{
    int       rc;
    char      id[ESIGN_MSG_ID_LEN + 1], key[ESIGN_KEY_MAX], at[32],
              aad[64], enc[ESC_FIELD_MAX * 2], masked[ESC_FIELD_MAX];
    size_t    tolen, enclen;
    ssize_t   n;
    json_t   *e;
    MDB_val   k, v;

    tolen = strlen(to);

    if (tolen == 0 || tolen > 200) {
        return EINVAL;
    }

    if (esign_time_id(now_ms, id) != 0) {
        return EIO;
    }

    (void) snprintf(aad, sizeof(aad), "outbox:%s", id);

    if (esc_fieldenc_encrypt(esign_notify_conf.field_key,
                             (const uint8_t *) aad, strlen(aad),
                             (const uint8_t *) to, tolen, enc, sizeof(enc),
                             &enclen)
        != 0)
    {
        return EIO;
    }

    if (strcmp(channel, "email") == 0) {
        n = esc_mask_email((const u_char *) to, tolen, (u_char *) masked,
                           sizeof(masked));
    } else {
        n = esc_mask_mobile((const u_char *) to, tolen, (u_char *) masked,
                            sizeof(masked));
    }

    if (n < 0) {
        strcpy(masked, "***");
    }

    esign_notify_time(now_ms, at);

    e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:I,s:n,s:s,"
                  "s:s?,s:s?,s:s?}",
                  "id", id, "channel", channel, "to", enc,
                  "to_masked", masked, "subject", subject, "body", body,
                  "status", "pending", "attempts", 0,
                  "created_at", at, "next_attempt_at", (json_int_t) now_ms,
                  "last_error", "event", event,
                  "institution_id", inst_id, "link", link, "sent_at",
                  (const char *) NULL);
    if (e == NULL) {
        return ENOMEM;
    }

    (void) snprintf(key, sizeof(key), "e/%s", id);

    rc = esign_db_put_json(txn, dbis[ESIGN_DB_OUTBOX], key, strlen(key), e,
                           MDB_NOOVERWRITE);
    json_decref(e);

    if (rc != 0) {
        return rc;
    }

    (void) snprintf(key, sizeof(key), "q/%016llx/%s",
                    (unsigned long long) now_ms, id);

    k.mv_data = key;
    k.mv_size = strlen(key);
    v.mv_data = "";
    v.mv_size = 0;

    return mdb_put(txn, dbis[ESIGN_DB_OUTBOX], &k, &v, 0);
}


int
esign_outbox_recipient(json_t *entry, char *out, size_t outsz)
{
    char         aad[64];
    size_t       len;
    const char  *id, *enc;

    id = json_string_value(json_object_get(entry, "id"));
    enc = json_string_value(json_object_get(entry, "to"));

    if (id == NULL || enc == NULL || outsz < ESC_FIELD_MAX + 1) {
        return -1;
    }

    (void) snprintf(aad, sizeof(aad), "outbox:%s", id);

    if (esc_fieldenc_decrypt(esign_notify_conf.field_key,
                             (const uint8_t *) aad, strlen(aad), enc,
                             strlen(enc), (uint8_t *) out, outsz - 1, &len)
        != 0)
    {
        return -1;
    }

    out[len] = '\0';

    return 0;
}


/*
 * Is this account record the institution's administrator?  The identity
 * records name the role "institution_admin"; older spellings accepted.
 */
static int
esign_notify_is_admin(json_t *acct)
{
    const char  *role;

    role = json_string_value(json_object_get(acct, "role"));

    return role != NULL && (strcmp(role, "institution_admin") == 0
                            || strcmp(role, "inst_admin") == 0
                            || strcmp(role, "admin") == 0);
}


/*
 * A contact of an account record: "<name>_enc" (SM4 under the identity
 * field keys, aad "account:<inst>/<account>", see ngx_esign_pki.h) or a
 * clear "<name>" field.  The field keys are loaded once per call
 * (*state: 0 not yet, 1 loaded, -1 unavailable).  NULL when absent.
 */
static const char *
esign_notify_contact(MDB_txn *txn, MDB_dbi *dbis, json_t *acct,
    const char *inst_id, const char *name, esign_field_keys_t *keys,
    int *state, char *buf, size_t size)
{
    char         field[32], aad[160];
    const char  *enc, *id;

    (void) snprintf(field, sizeof(field), "%s_enc", name);

    enc = json_string_value(json_object_get(acct, field));
    id = json_string_value(json_object_get(acct, "id"));

    if (enc == NULL || id == NULL) {
        return json_string_value(json_object_get(acct, name));
    }

    if (*state == 0) {
        *state = (esign_notify_ring != NULL
                  && esign_pki_field_keys(txn, dbis, esign_notify_ring, 0,
                                          keys)
                     == ESIGN_PKI_OK) ? 1 : -1;
    }

    if (*state != 1) {
        return NULL;
    }

    (void) snprintf(aad, sizeof(aad), "account:%s/%s", inst_id, id);

    if (esign_pki_field_decrypt(keys, aad, enc, buf, size) != 0) {
        return NULL;
    }

    return buf;
}


/* Queues e-mail and SMS to the administrators of inst_id. */
static int
esign_notify_contacts(MDB_txn *txn, MDB_dbi *dbis, const char *inst_id,
    const char *subject, const char *body, const char *sms,
    const char *event, const char *link, uint64_t now_ms)
{
    int          rc, rc2;
    char         prefix[ESIGN_KEY_MAX];
    size_t       plen;
    json_t      *acct;
    MDB_val      k, v;
    MDB_cursor  *cur;
    json_error_t err;
    const char  *email, *mobile;
    int          keys_state;
    char         ebuf[ESC_FIELD_MAX + 1], mbuf[ESC_FIELD_MAX + 1];
    esign_field_keys_t  keys;

    keys_state = 0;

    if (!esign_notify_conf.email && !esign_notify_conf.sms) {
        return 0;
    }

    plen = (size_t) snprintf(prefix, sizeof(prefix), "%s/", inst_id);
    if (plen >= sizeof(prefix)) {
        return EINVAL;
    }

    rc = mdb_cursor_open(txn, dbis[ESIGN_DB_ACCOUNTS], &cur);
    if (rc != 0) {
        return rc;
    }

    k.mv_data = prefix;
    k.mv_size = plen;

    rc2 = 0;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0) {
            break;
        }

        acct = json_loadb(v.mv_data, v.mv_size, 0, &err);
        if (acct == NULL) {
            continue;
        }

        if (esign_notify_is_admin(acct)) {
            email = esign_notify_contact(txn, dbis, acct, inst_id, "email",
                                         &keys, &keys_state, ebuf,
                                         sizeof(ebuf));
            mobile = esign_notify_contact(txn, dbis, acct, inst_id,
                                          "mobile", &keys, &keys_state, mbuf,
                                          sizeof(mbuf));

            if (esign_notify_conf.email && email != NULL && *email) {
                rc2 = esign_outbox_enqueue(txn, dbis, "email", email,
                                           subject, body, inst_id, event,
                                           link, now_ms);
            }

            if (rc2 == 0 && esign_notify_conf.sms && mobile != NULL
                && *mobile)
            {
                rc2 = esign_outbox_enqueue(txn, dbis, "sms", mobile,
                                           subject, sms, inst_id, event,
                                           link, now_ms);
            }
        }

        json_decref(acct);

        if (rc2 != 0) {
            break;
        }
    }

    mdb_cursor_close(cur);

    OPENSSL_cleanse(&keys, sizeof(keys));
    OPENSSL_cleanse(ebuf, sizeof(ebuf));
    OPENSSL_cleanse(mbuf, sizeof(mbuf));

    if (rc2 != 0) {
        return rc2;
    }

    return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : rc;
}


/* One party institution of a contract event: message, e-mail, SMS. */
static int
esign_notify_institution_party(MDB_txn *txn, MDB_dbi *dbis,
    json_t *contract, const esign_notify_event_t *ev, const char *inst_id,
    uint64_t now_ms)
{
    int          rc;
    char        *body, *mail, *sms, token[ESIGN_LINK_TOKEN_MAX + 1],
                 url[512], exp[32];
    size_t       size;
    const char  *id, *title, *number, *reason;

    id = json_string_value(json_object_get(contract, "id"));
    title = json_string_value(json_object_get(contract, "title"));
    number = json_string_value(json_object_get(contract, "number"));
    reason = json_string_value(json_object_get(contract, "reason"));

    if (title == NULL) {
        title = "";
    }

    if (number == NULL) {
        number = "";
    }

    size = 1024 + 3 * strlen(title) + 3 * strlen(number)
           + (reason ? strlen(reason) : 0);

    /* separate blocks: the mail text is formatted from the body */

    body = malloc(size);
    mail = malloc(2 * size);

    if (body == NULL || mail == NULL) {
        free(body);
        free(mail);
        return ENOMEM;
    }

    sms = mail + size;

    if (reason != NULL && (strcmp(ev->event, "rejected") == 0
                           || strcmp(ev->event, "revoked") == 0))
    {
        (void) snprintf(body, size, "%s \"%s\" (No. %s). Reason: %s",
                        ev->text, title, number, reason);
    } else {
        (void) snprintf(body, size, "%s \"%s\" (No. %s).", ev->text, title,
                        number);
    }

    rc = esign_message_add(txn, dbis, inst_id, 0, ev->event, "contract", id,
                           ev->subject, body, now_ms);

    if (rc != 0 || !ev->outbox || !esign_notify_conf.ready) {
        free(body);
        free(mail);
        return rc;
    }

    /* R-NOTE-3: the link is opaque, expiring and carries nothing else */

    if (esign_link_make('c', id, now_ms + esign_notify_conf.link_ttl_ms,
                        token, sizeof(token))
        != 0)
    {
        free(body);
        free(mail);
        return EINVAL;
    }

    (void) snprintf(url, sizeof(url), "%s/api/v1/links/%s",
                    esign_notify_conf.public_url, token);

    esign_notify_time(now_ms + esign_notify_conf.link_ttl_ms, exp);

    (void) snprintf(mail, size,
                    "%s\n\nOpen it on the platform:\n%s\n\n"
                    "The link expires at %s. It only shows where the "
                    "contract is; you log in as usual to read or sign it."
                    "\n\n-- esign (automatic message, do not reply)\n",
                    body, url, exp);

    (void) snprintf(sms, size, "[esign] %s: No. %s %s", ev->subject, number,
                    url);

    rc = esign_notify_contacts(txn, dbis, inst_id, ev->subject, mail, sms,
                               ev->event, token, now_ms);

    free(body);
    free(mail);

    return rc;
}


int
esign_notify_contract_event(MDB_txn *txn, MDB_dbi *dbis, json_t *contract,
    const char *event, uint64_t now_ms)
{
    int                          rc;
    size_t                       i, j, n;
    json_t                      *parts, *p;
    const char                  *id, *inst, *seen[64];
    const esign_notify_event_t  *ev;

    for (ev = esign_contract_events; ev->event != NULL; ev++) {
        if (strcmp(ev->event, event) == 0) {
            break;
        }
    }

    id = json_string_value(json_object_get(contract, "id"));
    parts = json_object_get(contract, "participants");

    if (ev->event == NULL || id == NULL || !json_is_array(parts)) {
        return EINVAL;
    }

    n = 0;

    if (ev->initiator) {
        inst = json_string_value(json_object_get(
                   json_object_get(contract, "initiator"), "institution_id"));
        if (inst == NULL) {
            return EINVAL;
        }

        seen[n++] = inst;
    }

    if (ev->participants) {
        json_array_foreach(parts, i, p) {
            inst = json_string_value(json_object_get(p, "institution_id"));
            if (inst == NULL) {
                return EINVAL;
            }

            for (j = 0; j < n; j++) {
                if (strcmp(seen[j], inst) == 0) {
                    break;
                }
            }

            if (j == n && n < sizeof(seen) / sizeof(seen[0])) {
                seen[n++] = inst;
            }
        }
    }

    for (i = 0; i < n; i++) {
        rc = esign_notify_institution_party(txn, dbis, contract, ev, seen[i],
                                            now_ms);
        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


int
esign_notify_institution_event(MDB_txn *txn, MDB_dbi *dbis,
    const char *inst_id, const char *event, const char *reason,
    uint64_t now_ms)
{
    int                          rc;
    char                        *body, *mail, *sms,
                                 token[ESIGN_LINK_TOKEN_MAX + 1], url[512];
    size_t                       size;
    const esign_notify_event_t  *ev;

    for (ev = esign_institution_events; ev->event != NULL; ev++) {
        if (strcmp(ev->event, event) == 0) {
            break;
        }
    }

    if (ev->event == NULL || inst_id == NULL) {
        return EINVAL;
    }

    size = 1024 + (reason ? strlen(reason) : 0);

    /* separate blocks: the mail text is formatted from the body */

    body = malloc(size);
    mail = malloc(2 * size);

    if (body == NULL || mail == NULL) {
        free(body);
        free(mail);
        return ENOMEM;
    }

    sms = mail + size;

    if (reason != NULL && *reason) {
        (void) snprintf(body, size, "%s Reason: %s", ev->text, reason);
    } else {
        (void) snprintf(body, size, "%s", ev->text);
    }

    rc = esign_message_add(txn, dbis, inst_id, 1, ev->event, "institution",
                           inst_id, ev->subject, body, now_ms);

    if (rc != 0 || !ev->outbox || !esign_notify_conf.ready) {
        free(body);
        return rc;
    }

    if (esign_link_make('i', inst_id, now_ms + esign_notify_conf.link_ttl_ms,
                        token, sizeof(token))
        != 0)
    {
        free(body);
        return EINVAL;
    }

    (void) snprintf(url, sizeof(url), "%s/api/v1/links/%s",
                    esign_notify_conf.public_url, token);

    (void) snprintf(mail, size,
                    "%s\n\nPlatform:\n%s\n\n"
                    "-- esign (automatic message, do not reply)\n",
                    body, url);
    (void) snprintf(sms, size, "[esign] %s %s", ev->subject, url);

    rc = esign_notify_contacts(txn, dbis, inst_id, ev->subject, mail, sms,
                               ev->event, token, now_ms);

    free(body);

    return rc;
}
