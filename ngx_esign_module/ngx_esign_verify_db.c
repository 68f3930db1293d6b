/*
 * Step-up verification tokens: create and consume (plain C).
 */


#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ngx_esign_db.h"
#include "ngx_esign_pki.h"
#include "ngx_esign_verify_db.h"

#include "esc_codec.h"
#include "esc_rand.h"


static int
esign_verification_key(const char *token, size_t len, char key[80])
{
    char  hex[65];

    if (esign_sm3_hex(token, len, hex) != 0) {
        return -1;
    }

    snprintf(key, 80, "verify/%s", hex);

    return 0;
}


int
esign_verification_create(MDB_txn *txn, MDB_dbi *dbis,
    const unsigned char session_hash[32], const char *account_id,
    const char *institution_id, const char *method, uint64_t now_ms,
    uint64_t ttl_ms, char *token_out)
{
    int       rc;
    char      key[80], sh[65], at[32];
    json_t   *rec;
    uint8_t   raw[32];

    if (ttl_ms > ESIGN_VERIFY_TTL_MS) {
        ttl_ms = ESIGN_VERIFY_TTL_MS;
    }

    if (esc_rand_bytes(raw, sizeof(raw)) != ESC_CRYPTO_OK
        || esc_b64_encode(token_out, ESIGN_VERIFY_TOKEN_LEN + 1, raw,
                          sizeof(raw), ESC_B64_URL)
           != ESC_CRYPTO_OK
        || esc_hex_encode(sh, sizeof(sh), session_hash, 32) != ESC_CRYPTO_OK
        || esign_verification_key(token_out, ESIGN_VERIFY_TOKEN_LEN, key)
           != 0)
    {
        return ESIGN_VERIFY_EDB;
    }

    esign_rfc3339(now_ms, at);

    rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}",
                    "type", "verification",
                    "session_hash", sh,
                    "account_id", account_id,
                    "institution_id", institution_id ? institution_id : "",
                    "method", method,
                    "verified_at", at,
                    "result", "passed",
                    "expires_ms", (json_int_t) (now_ms + ttl_ms));
    if (rec == NULL) {
        return ESIGN_VERIFY_EDB;
    }

    rc = esign_db_put_json(txn, dbis[ESIGN_DB_TOKENS], key, strlen(key), rec,
                           MDB_NOOVERWRITE);
    json_decref(rec);

    return rc == 0 ? 0 : ESIGN_VERIFY_EDB;
}


int
esign_verification_consume(MDB_txn *txn, MDB_dbi *dbis, const char *token,
    size_t len, const unsigned char session_hash[32], uint64_t now_ms,
    json_t **record)
{
    int          rc;
    char         key[80], sh[65];
    json_t      *rec;
    MDB_val      k;
    const char  *s;
    json_int_t   exp;

    if (token == NULL || len != ESIGN_VERIFY_TOKEN_LEN
        || esign_verification_key(token, len, key) != 0
        || esc_hex_encode(sh, sizeof(sh), session_hash, 32) != ESC_CRYPTO_OK)
    {
        return ESIGN_VERIFY_EINVAL;
    }

    rc = esign_db_get_json(txn, dbis[ESIGN_DB_TOKENS], key, strlen(key),
                           &rec);
    if (rc == MDB_NOTFOUND) {
        return ESIGN_VERIFY_EINVAL;
    }

    if (rc != 0) {
        return ESIGN_VERIFY_EDB;
    }

    s = json_string_value(json_object_get(rec, "session_hash"));
    if (s == NULL || strlen(s) != 64) {
        json_decref(rec);
        return ESIGN_VERIFY_EINVAL;
    }

    if (CRYPTO_memcmp(s, sh, 64) != 0) {
        json_decref(rec);
        return ESIGN_VERIFY_EOTHER_SESSION;
    }

    k.mv_data = key;
    k.mv_size = strlen(key);

    if (mdb_del(txn, dbis[ESIGN_DB_TOKENS], &k, NULL) != 0) {
        json_decref(rec);
        return ESIGN_VERIFY_EDB;
    }

    exp = json_integer_value(json_object_get(rec, "expires_ms"));

    if ((uint64_t) exp <= now_ms) {
        json_decref(rec);
        return ESIGN_VERIFY_EEXPIRED;
    }

    json_object_del(rec, "session_hash");
    json_object_del(rec, "expires_ms");
    json_object_del(rec, "type");

    *record = rec;

    return 0;
}
