/*
 * Encrypted document storage: format checks, digest, per-file keys, KEK
 * rotation and expiry (see ngx_esign_docstore.h).  Plain C.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ngx_esign_db.h"
#include "ngx_esign_docstore.h"

#include "esc_codec.h"
#include "esc_docenc.h"
#include "esc_kek.h"


#define ESIGN_DOC_EOF_WINDOW  1024


static const uint8_t *
esign_doc_memmem(const uint8_t *p, size_t len, const char *needle,
    size_t nlen)
{
    size_t  i;

    if (len < nlen) {
        return NULL;
    }

    for (i = 0; i + nlen <= len; i++) {
        if (p[i] == (uint8_t) needle[0] && memcmp(p + i, needle, nlen) == 0) {
            return p + i;
        }
    }

    return NULL;
}


int
esign_doc_sniff(const uint8_t *p, size_t len, int declared)
{
    size_t  off;

    if (declared == ESIGN_DOC_PDF) {
        if (len < 16 || memcmp(p, "%PDF-", 5) != 0) {
            return 0;
        }

        off = len > ESIGN_DOC_EOF_WINDOW ? len - ESIGN_DOC_EOF_WINDOW : 0;

        return esign_doc_memmem(p + off, len - off, "%%EOF", 5) != NULL
               ? ESIGN_DOC_PDF : 0;
    }

    if (declared == ESIGN_DOC_OFD) {
        /* a local file header or central directory entry names OFD.xml */
        if (len < 30 || memcmp(p, "PK\x03\x04", 4) != 0) {
            return 0;
        }

        return esign_doc_memmem(p, len, "OFD.xml", 7) != NULL
               ? ESIGN_DOC_OFD : 0;
    }

    return 0;
}


int
esign_doc_sm3_hex(const uint8_t *p, size_t len, char out[65])
{
    unsigned int   mdlen;
    unsigned char  md[EVP_MAX_MD_SIZE];

    if (EVP_Digest(p, len, md, &mdlen, EVP_sm3(), NULL) != 1 || mdlen != 32) {
        return -1;
    }

    return esc_hex_encode(out, 65, md, 32) == 0 ? 0 : -1;
}


int
esign_doc_sha256_hex(const uint8_t *p, size_t len, char out[65])
{
    unsigned int   mdlen;
    unsigned char  md[EVP_MAX_MD_SIZE];

    if (EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL) != 1
        || mdlen != 32)
    {
        return -1;
    }

    return esc_hex_encode(out, 65, md, 32) == 0 ? 0 : -1;
}


static int
esign_doc_key(char *key, size_t *klen, const char *inst_id,
    const char *doc_id)
{
    int  n;

    n = snprintf(key, ESIGN_DOC_KEY_MAX, "%s/%s", inst_id, doc_id);
    if (n <= 0 || n >= ESIGN_DOC_KEY_MAX) {
        return -1;
    }

    *klen = (size_t) n;

    return 0;
}


int
esign_doc_prepare(const char *kek, size_t kek_len, const char *inst_id,
    const char *doc_id, const char *account_id, int type, const uint8_t *p,
    size_t len, uint64_t now_ms, esign_doc_prepared_t *out)
{
    int              rc;
    char             sm3[65], sha256[65], wb64[ESC_KEK_WRAP_MAX * 2];
    size_t           wlen, blen;
    uint8_t          dk[ESC_DOCENC_KEY_LEN], wrapped[ESC_KEK_WRAP_MAX];
    esc_kek_ring_t  *ring;

    memset(out, 0, sizeof(*out));
    ring = NULL;
    rc = -1;

    if (esign_doc_key(out->key, &out->key_len, inst_id, doc_id) != 0
        || esign_doc_sm3_hex(p, len, sm3) != 0
        || esign_doc_sha256_hex(p, len, sha256) != 0
        || esc_kek_parse(kek, kek_len, &ring) != 0)
    {
        goto done;
    }

    if (esc_docenc_keygen(dk) != 0
        || esc_kek_wrap(ring, 0, dk, sizeof(dk), wrapped, sizeof(wrapped),
                        &wlen) != 0
        || esc_b64_encode(wb64, sizeof(wb64), wrapped, wlen, ESC_B64_STD)
           != 0)
    {
        goto done;
    }

    blen = esc_docenc_blob_len(ESC_SUITE_NATIONAL, len);

    out->blob = malloc(blen ? blen : 1);
    if (out->blob == NULL) {
        goto done;
    }

    if (esc_docenc_encrypt(ESC_SUITE_NATIONAL, dk, (uint8_t *) out->key,
                           out->key_len, p, len, out->blob, blen,
                           &out->blob_len)
        != 0)
    {
        goto done;
    }

    out->meta = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:s, s:I,"
                          " s:s}",
                          "id", doc_id,
                          "institution_id", inst_id,
                          "type", type == ESIGN_DOC_OFD ? "ofd" : "pdf",
                          "size", (json_int_t) len,
                          "sm3", sm3,
                          "sha256", sha256,
                          "created_at", (json_int_t) now_ms,
                          "created_by", account_id ? account_id : "",
                          "kek_version",
                          (json_int_t) esc_kek_current(ring),
                          "wrapped_key", wb64);
    if (out->meta != NULL) {
        rc = 0;
    }

done:

    OPENSSL_cleanse(dk, sizeof(dk));
    esc_kek_free(ring);

    if (rc != 0) {
        esign_doc_prepared_free(out);
    }

    return rc;
}


void
esign_doc_prepared_free(esign_doc_prepared_t *d)
{
    free(d->blob);
    d->blob = NULL;

    if (d->meta != NULL) {
        json_decref(d->meta);
        d->meta = NULL;
    }
}


int
esign_doc_store(MDB_txn *txn, MDB_dbi *dbis, esign_doc_prepared_t *d)
{
    int      rc;
    MDB_val  k, v;

    rc = esign_db_put_json(txn, dbis[ESIGN_DB_DOCUMENTS], d->key, d->key_len,
                           d->meta, MDB_NOOVERWRITE);
    if (rc != 0) {
        return rc;
    }

    k.mv_data = d->key;
    k.mv_size = d->key_len;
    v.mv_data = d->blob;
    v.mv_size = d->blob_len;

    return mdb_put(txn, dbis[ESIGN_DB_DOC_BLOBS], &k, &v, MDB_NOOVERWRITE);
}


int
esign_doc_meta(MDB_txn *txn, MDB_dbi *dbis, const char *inst_id,
    const char *doc_id, json_t **meta)
{
    char    key[ESIGN_DOC_KEY_MAX];
    size_t  klen;

    if (esign_doc_key(key, &klen, inst_id, doc_id) != 0) {
        return MDB_NOTFOUND;
    }

    return esign_db_get_json(txn, dbis[ESIGN_DB_DOCUMENTS], key, klen, meta);
}


static int
esign_doc_unwrap(const esc_kek_ring_t *ring, json_t *meta, uint8_t *dk)
{
    size_t       wlen, dklen, blen;
    uint8_t      wrapped[ESC_KEK_WRAP_MAX];
    const char  *b64;

    b64 = json_string_value(json_object_get(meta, "wrapped_key"));
    if (b64 == NULL) {
        return -1;
    }

    blen = strlen(b64);

    if (esc_b64_decoded_max(blen) > sizeof(wrapped)
        || esc_b64_decode(wrapped, sizeof(wrapped), &wlen, b64, blen,
                          ESC_B64_STD) != 0)
    {
        return -1;
    }

    if (esc_kek_unwrap(ring, wrapped, wlen, dk, ESC_DOCENC_KEY_LEN, &dklen,
                       NULL) != 0
        || dklen != ESC_DOCENC_KEY_LEN)
    {
        OPENSSL_cleanse(dk, ESC_DOCENC_KEY_LEN);
        return -1;
    }

    return 0;
}


int
esign_doc_read(MDB_txn *txn, MDB_dbi *dbis, const char *kek, size_t kek_len,
    const char *inst_id, const char *doc_id, uint8_t **pt, size_t *len)
{
    int                 rc;
    char                key[ESIGN_DOC_KEY_MAX];
    size_t              klen;
    json_t             *meta;
    uint8_t             dk[ESC_DOCENC_KEY_LEN], *out;
    MDB_val             k, v;
    esc_kek_ring_t     *ring;
    esc_docenc_info_t   info;

    *pt = NULL;
    *len = 0;

    if (esign_doc_key(key, &klen, inst_id, doc_id) != 0) {
        return MDB_NOTFOUND;
    }

    rc = esign_db_get_json(txn, dbis[ESIGN_DB_DOCUMENTS], key, klen, &meta);
    if (rc != 0) {
        return rc;
    }

    k.mv_data = key;
    k.mv_size = klen;

    rc = mdb_get(txn, dbis[ESIGN_DB_DOC_BLOBS], &k, &v);
    if (rc != 0) {
        json_decref(meta);
        return rc;
    }

    if (esc_kek_parse(kek, kek_len, &ring) != 0) {
        json_decref(meta);
        return -1;
    }

    rc = esign_doc_unwrap(ring, meta, dk);

    esc_kek_free(ring);
    json_decref(meta);

    if (rc != 0) {
        return -1;
    }

    out = NULL;

    if (esc_docenc_parse(v.mv_data, v.mv_size, &info) != 0) {
        rc = -1;
        goto done;
    }

    out = malloc(info.ct_len ? info.ct_len : 1);
    if (out == NULL) {
        rc = -1;
        goto done;
    }

    /* the MAC is checked before a single byte is decrypted */
    if (esc_docenc_decrypt(dk, (uint8_t *) key, klen, v.mv_data, v.mv_size,
                           out, info.ct_len ? info.ct_len : 1, len)
        != 0)
    {
        free(out);
        out = NULL;
        rc = -1;
        goto done;
    }

    *pt = out;
    rc = 0;

done:

    OPENSSL_cleanse(dk, sizeof(dk));

    return rc;
}


int
esign_doc_attach(MDB_txn *txn, MDB_dbi *dbis, const char *inst_id,
    const char *doc_id, const char *contract_id)
{
    int      rc;
    char     key[ESIGN_DOC_KEY_MAX];
    size_t   klen;
    json_t  *meta;

    if (esign_doc_key(key, &klen, inst_id, doc_id) != 0) {
        return MDB_NOTFOUND;
    }

    rc = esign_db_get_json(txn, dbis[ESIGN_DB_DOCUMENTS], key, klen, &meta);
    if (rc != 0) {
        return rc;
    }

    json_object_set_new(meta, "contract_id", json_string(contract_id));

    rc = esign_db_put_json(txn, dbis[ESIGN_DB_DOCUMENTS], key, klen, meta, 0);

    json_decref(meta);

    return rc;
}


int
esign_kek_rotate_state(MDB_txn *txn, MDB_dbi *dbis,
    const esc_kek_ring_t *old_ring, const esc_kek_ring_t *new_ring,
    size_t *count)
{
    int          rc, op;
    char         wb64[ESC_KEK_WRAP_MAX * 2];
    size_t       n, wlen, slen;
    json_t      *meta;
    uint8_t      dk[ESC_DOCENC_KEY_LEN], wrapped[ESC_KEK_WRAP_MAX];
    uint8_t     *sealed;
    uint32_t     current, ver;
    MDB_val      k, v;
    MDB_cursor  *cur;
    json_error_t err;

    if (old_ring == NULL) {
        old_ring = new_ring;
    }

    current = esc_kek_current(new_ring);
    n = 0;

    rc = mdb_cursor_open(txn, dbis[ESIGN_DB_DOCUMENTS], &cur);
    if (rc != 0) {
        return rc;
    }

    for (op = MDB_FIRST; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
         op = MDB_NEXT)
    {
        if (v.mv_size >= 4 && memcmp(v.mv_data, "ESE1", 4) == 0) {

            /*
             * A sealed envelope (a registration's licence): its data key
             * is re-wrapped, the sealed body stays byte for byte.
             */

            if (esc_sealed_version(v.mv_data, v.mv_size, &ver) != 0) {
                rc = -1;
                break;
            }

            if (ver == current) {
                continue;
            }

            if (esc_reseal(new_ring, v.mv_data, v.mv_size, &sealed, &slen)
                != 0)
            {
                rc = -1;
                break;
            }

            v.mv_data = sealed;
            v.mv_size = slen;

            rc = mdb_put(txn, dbis[ESIGN_DB_DOCUMENTS], &k, &v, 0);
            free(sealed);

            if (rc != 0) {
                break;
            }

            n++;
            continue;
        }

        meta = json_loadb(v.mv_data, v.mv_size, 0, &err);
        if (meta == NULL) {
            rc = MDB_CORRUPTED;
            break;
        }

        if (json_integer_value(json_object_get(meta, "kek_version"))
            == (json_int_t) current)
        {
            json_decref(meta);
            continue;
        }

        if (esign_doc_unwrap(old_ring, meta, dk) != 0
            && esign_doc_unwrap(new_ring, meta, dk) != 0)
        {
            json_decref(meta);
            rc = -1;
            break;
        }

        rc = esc_kek_wrap(new_ring, 0, dk, sizeof(dk), wrapped,
                          sizeof(wrapped), &wlen);
        OPENSSL_cleanse(dk, sizeof(dk));

        if (rc != 0
            || esc_b64_encode(wb64, sizeof(wb64), wrapped, wlen, ESC_B64_STD)
               != 0)
        {
            json_decref(meta);
            rc = -1;
            break;
        }

        json_object_set_new(meta, "wrapped_key", json_string(wb64));
        json_object_set_new(meta, "kek_version", json_integer(current));

        /* the cursor stays valid: same key, value replaced */
        rc = esign_db_put_json(txn, dbis[ESIGN_DB_DOCUMENTS], k.mv_data,
                               k.mv_size, meta, 0);
        json_decref(meta);

        if (rc != 0) {
            break;
        }

        n++;
    }

    mdb_cursor_close(cur);

    if (rc == MDB_NOTFOUND) {
        rc = 0;
    }

    if (count != NULL) {
        *count = n;
    }

    return rc;
}


int
esign_doc_expire(MDB_txn *txn, MDB_dbi *dbis, uint64_t now_ms,
    uint64_t ttl_ms, size_t max, size_t *count)
{
    int           rc, op;
    size_t        n;
    json_t       *meta, *created;
    MDB_val       k, v;
    MDB_cursor   *cur;
    json_error_t  err;

    n = 0;

    rc = mdb_cursor_open(txn, dbis[ESIGN_DB_DOCUMENTS], &cur);
    if (rc != 0) {
        return rc;
    }

    op = MDB_FIRST;

    while (n < max && (rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        op = MDB_NEXT;

        meta = json_loadb(v.mv_data, v.mv_size, 0, &err);
        if (meta == NULL) {
            continue;
        }

        created = json_object_get(meta, "created_at");

        if (json_object_get(meta, "contract_id") == NULL
            && json_is_integer(created)
            && (uint64_t) json_integer_value(created) + ttl_ms < now_ms)
        {
            (void) mdb_del(txn, dbis[ESIGN_DB_DOC_BLOBS], &k, NULL);

            rc = mdb_cursor_del(cur, 0);
            if (rc != 0) {
                json_decref(meta);
                break;
            }

            /* LMDB: MDB_NEXT after a cursor delete yields the successor */
            n++;
        }

        json_decref(meta);
    }

    mdb_cursor_close(cur);

    if (rc == MDB_NOTFOUND) {
        rc = 0;
    }

    if (count != NULL) {
        *count = n;
    }

    return rc;
}


/* 64 hex digits of a meta field into out; -1 when absent or malformed. */
static int
esign_doc_hex32(json_t *meta, const char *field, uint8_t out[32])
{
    size_t       n;
    const char  *hex;

    hex = json_string_value(json_object_get(meta, field));

    if (hex == NULL || strlen(hex) != 64
        || esc_hex_decode(out, 32, &n, hex, 64) != 0 || n != 32)
    {
        return -1;
    }

    return 0;
}


int
esign_doc_digest(MDB_txn *txn, MDB_dbi *dbis, const char *kek,
    size_t kek_len, const char *owner_inst, const char *doc_id, int suite,
    uint8_t out[32])
{
    int          rc;
    json_t      *meta;
    size_t       len;
    uint8_t     *pt;
    unsigned     n;
    const char  *field;

    if (suite != ESC_SUITE_NATIONAL && suite != ESC_SUITE_INTL) {
        return -1;
    }

    rc = esign_doc_meta(txn, dbis, owner_inst, doc_id, &meta);
    if (rc != 0) {
        return rc == MDB_NOTFOUND ? MDB_NOTFOUND : -1;
    }

    field = suite == ESC_SUITE_NATIONAL ? "sm3" : "sha256";
    rc = json_object_get(meta, field) != NULL
         ? esign_doc_hex32(meta, field, out) : 1;
    json_decref(meta);

    if (rc <= 0) {
        return rc;
    }

    /* a record from before "sha256" existed: decrypt (MAC first), hash */

    rc = esign_doc_read(txn, dbis, kek, kek_len, owner_inst, doc_id, &pt,
                        &len);
    if (rc != 0) {
        return rc == MDB_NOTFOUND ? MDB_NOTFOUND : -1;
    }

    rc = EVP_Digest(pt, len, out, &n,
                    suite == ESC_SUITE_NATIONAL ? EVP_sm3() : EVP_sha256(),
                    NULL) == 1 && n == 32 ? 0 : -1;

    esc_free_secret(pt, len);

    return rc;
}
