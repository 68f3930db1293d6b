/*
 * Unit test of the encrypted document store (R-ARCH-4): format checks,
 * no plaintext at rest, MAC before release, KEK rotation without
 * touching file bodies, expiry of unused documents.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "ngx_esign_db.h"
#include "ngx_esign_docstore.h"
#include "esc_kek.h"
#include "esc_docenc.h"

#define K1 "kek v1 " \
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
#define K2 "kek v2 " \
    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n"

static const char  pdf[] = "%PDF-1.7\n1 0 obj << >> endobj\n"
                           "MARKER-h7-PLAINTEXT-0001\ntrailer\n%%EOF\n";

int
main(void)
{
    int              rc;
    char             dir[] = "/tmp/esign-docstore-XXXXXX", sm3[65];
    MDB_env         *env;
    MDB_txn         *txn;
    MDB_dbi          dbis[ESIGN_DB_COUNT];
    MDB_val          k, v, bv1, bv2;
    size_t           n, len;
    uint8_t         *pt;
    json_t          *meta;
    esc_kek_ring_t  *r2;
    esign_doc_prepared_t  d;
    uint8_t          ofd[64];

    ok(esign_doc_sniff((const uint8_t *) pdf, sizeof(pdf) - 1,
                       ESIGN_DOC_PDF) == ESIGN_DOC_PDF, "PDF accepted");
    ok(esign_doc_sniff((const uint8_t *) "%PDF-1.7 no end marker here....",
                       31, ESIGN_DOC_PDF) == 0, "PDF without %%%%EOF refused");
    ok(esign_doc_sniff((const uint8_t *) pdf, sizeof(pdf) - 1,
                       ESIGN_DOC_OFD) == 0, "PDF declared as OFD refused");
    memset(ofd, 'x', sizeof(ofd));
    memcpy(ofd, "PK\x03\x04", 4);
    memcpy(ofd + 30, "OFD.xml", 7);
    ok(esign_doc_sniff(ofd, sizeof(ofd), ESIGN_DOC_OFD) == ESIGN_DOC_OFD,
       "OFD (zip naming OFD.xml) accepted");
    memcpy(ofd + 30, "XYZ.xml", 7);
    ok(esign_doc_sniff(ofd, sizeof(ofd), ESIGN_DOC_OFD) == 0,
       "zip without OFD.xml refused");

    if (mkdtemp(dir) == NULL) {
        return 1;
    }

    mdb_env_create(&env);
    mdb_env_set_maxdbs(env, ESIGN_DB_MAX_DBS);
    mdb_env_set_mapsize(env, 64 << 20);
    rc = mdb_env_open(env, dir, 0, 0600);
    ok(rc == 0, "env open");

    mdb_txn_begin(env, NULL, 0, &txn);
    esign_db_open_all(txn, dbis, 1);

    rc = esign_doc_prepare(K1, strlen(K1), "inst1", "doc1", "acc1",
                           ESIGN_DOC_PDF, (const uint8_t *) pdf,
                           sizeof(pdf) - 1, 1000, &d);
    ok(rc == 0, "prepare");
    ok(memmem(d.blob, d.blob_len, "MARKER-h7", 9) == NULL,
       "R-ARCH-4 encrypted body holds no plaintext");
    esign_doc_sm3_hex((const uint8_t *) pdf, sizeof(pdf) - 1, sm3);
    is_str(json_string_value(json_object_get(d.meta, "sm3")), sm3,
           "SM3 of the original recorded");
    ok(esign_doc_store(txn, dbis, &d) == 0, "stored");
    esign_doc_prepared_free(&d);

    rc = esign_doc_read(txn, dbis, K1, strlen(K1), "inst1", "doc1", &pt,
                        &len);
    ok(rc == 0 && len == sizeof(pdf) - 1 && memcmp(pt, pdf, len) == 0,
       "decrypts to the original");
    free(pt);

    rc = esign_doc_read(txn, dbis, K1, strlen(K1), "inst2", "doc1", &pt,
                        &len);
    ok(rc == MDB_NOTFOUND, "R-ACC-4 another institution's key finds nothing");

    /* rotation: only the wrapped key changes, the body stays byte-equal */
    k.mv_data = "inst1/doc1";
    k.mv_size = 10;
    mdb_get(txn, dbis[ESIGN_DB_DOC_BLOBS], &k, &bv1);
    bv1.mv_data = memcpy(malloc(bv1.mv_size), bv1.mv_data, bv1.mv_size);

    esc_kek_parse(K1 K2, strlen(K1 K2), &r2);
    rc = esign_kek_rotate_state(txn, dbis, NULL, r2, &n);
    ok(rc == 0 && n == 1, "R-ARCH-4 rotation re-wraps one file key");
    esign_doc_meta(txn, dbis, "inst1", "doc1", &meta);
    is_int(json_integer_value(json_object_get(meta, "kek_version")), 2,
           "file key now under KEK v2");
    json_decref(meta);
    mdb_get(txn, dbis[ESIGN_DB_DOC_BLOBS], &k, &bv2);
    ok(bv1.mv_size == bv2.mv_size
       && memcmp(bv1.mv_data, bv2.mv_data, bv1.mv_size) == 0,
       "R-ARCH-4 rotation leaves the file body untouched");
    free(bv1.mv_data);

    rc = esign_doc_read(txn, dbis, K1 K2, strlen(K1 K2), "inst1", "doc1",
                        &pt, &len);
    ok(rc == 0 && len == sizeof(pdf) - 1 && memcmp(pt, pdf, len) == 0,
       "R-ARCH-4 old file readable after rotation");
    free(pt);
    rc = esign_doc_read(txn, dbis, K1, strlen(K1), "inst1", "doc1", &pt,
                        &len);
    ok(rc == -1 && pt == NULL, "old ring alone no longer unwraps it");
    rc = esign_kek_rotate_state(txn, dbis, NULL, r2, &n);
    ok(rc == 0 && n == 0, "second rotation is a no-op");
    esc_kek_free(r2);

    /* tampering: the MAC is checked before any byte is released */
    mdb_get(txn, dbis[ESIGN_DB_DOC_BLOBS], &k, &v);
    {
        uint8_t *copy = malloc(v.mv_size);
        memcpy(copy, v.mv_data, v.mv_size);
        copy[40] ^= 1;
        v.mv_data = copy;
        mdb_put(txn, dbis[ESIGN_DB_DOC_BLOBS], &k, &v, 0);
        free(copy);
    }
    rc = esign_doc_read(txn, dbis, K1 K2, strlen(K1 K2), "inst1", "doc1",
                        &pt, &len);
    ok(rc == -1 && pt == NULL, "R-ARCH-4 tampered body released nothing");

    /* expiry: unused documents older than the TTL go, used ones stay */
    esign_doc_prepare(K1, strlen(K1), "inst1", "doc2", "acc1",
                      ESIGN_DOC_PDF, (const uint8_t *) pdf, sizeof(pdf) - 1,
                      1000, &d);
    esign_doc_store(txn, dbis, &d);
    esign_doc_prepared_free(&d);
    esign_doc_attach(txn, dbis, "inst1", "doc2", "contract1");
    rc = esign_doc_expire(txn, dbis, 100000, 50000, 100, &n);
    ok(rc == 0 && n == 1, "one unused document expired");
    ok(esign_doc_meta(txn, dbis, "inst1", "doc1", &meta) == MDB_NOTFOUND,
       "unused document gone");
    ok(esign_doc_meta(txn, dbis, "inst1", "doc2", &meta) == 0,
       "document used by a contract kept");
    json_decref(meta);
    ok(mdb_get(txn, dbis[ESIGN_DB_DOC_BLOBS], &k, &v) == MDB_NOTFOUND,
       "expired body deleted too");

    mdb_txn_commit(txn);
    mdb_env_close(env);

    {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void) system(cmd);
    }

    return tap_done();
}
