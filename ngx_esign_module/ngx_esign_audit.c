/*
 * Audit records in the state database (plain C).
 */


#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ngx_esign_db.h"
#include "ngx_esign_audit.h"
#include "ngx_esign_pki.h"

#include "esc_rand.h"


static json_t *
esign_audit_str(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}


int
esign_audit_append(MDB_txn *txn, MDB_dbi *dbis, const char *inst_id,
    const char *account_id, const char *action, const char *object_id,
    const char *detail, const char *client_ip, uint64_t now_ms)
{
    int       rc;
    char      key[160], at[32];
    json_t   *rec;
    uint8_t   rnd[4];

    if (inst_id == NULL || action == NULL || strlen(inst_id) > 100) {
        return EINVAL;
    }

    if (esc_rand_bytes(rnd, sizeof(rnd)) != ESC_CRYPTO_OK) {
        return EIO;
    }

    snprintf(key, sizeof(key), "%s/%016llx/%02x%02x%02x%02x", inst_id,
             (unsigned long long) now_ms, rnd[0], rnd[1], rnd[2], rnd[3]);

    esign_rfc3339(now_ms, at);

    rec = json_object();
    if (rec == NULL) {
        return ENOMEM;
    }

    json_object_set_new(rec, "at", json_string(at));
    json_object_set_new(rec, "institution_id", json_string(inst_id));
    json_object_set_new(rec, "account_id", esign_audit_str(account_id));
    json_object_set_new(rec, "action", json_string(action));
    json_object_set_new(rec, "object_id", esign_audit_str(object_id));
    json_object_set_new(rec, "detail", esign_audit_str(detail));
    json_object_set_new(rec, "client_ip", esign_audit_str(client_ip));

    rc = esign_db_put_json(txn, dbis[ESIGN_DB_AUDIT], key, strlen(key), rec,
                           MDB_NOOVERWRITE);
    json_decref(rec);

    return rc;
}
