/*
 * Unit test of the intl suite pieces that need no nginx: both suites'
 * platform CAs and institution keys (ngx_esign_pki.c), esign_sign_digest
 * and its key cache (ngx_esign_sign.c: hits, invalidation by re-issue
 * and by KEK text, eviction, concurrent signers), the document digests
 * of both suites (esign_doc_digest, with the fallback for records
 * without "sha256") and the archive check of intl signatures
 * (esign_archive_check_txn).
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "tap.h"
#include "ngx_esign_archive.h"
#include "ngx_esign_db.h"
#include "ngx_esign_docstore.h"
#include "ngx_esign_pki.h"
#include "ngx_esign_sign.h"
#include "esc_ca.h"
#include "esc_cms.h"
#include "esc_codec.h"
#include "esc_kek.h"

#define K1 "kek v1 " \
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
#define K12 K1 "kek v2 " \
    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n"

static const char  pdf[] = "%PDF-1.7\n1 0 obj << >> endobj\n"
                           "intl suite unit test\ntrailer\n%%EOF\n";

#define NINST     3
#define NTHREADS  4
#define NSIGS     25

static json_t   *insts[NINST];
static uint8_t   sha[32];
static int       thread_bad;


static json_t *
new_inst(const char *id, const char *uscc)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "id", id, "name", "Example Co",
                     "uscc", uscc, "status", "active");
}


static int
verify(const esign_signature_t *s, const uint8_t *digest)
{
    return esign_sign_verify(s->cms_pem, s->cert_pem, digest, 32, NULL);
}


static void *
signer(void *arg)
{
    int                i, k;
    esign_signature_t  s;

    k = (int) (size_t) arg;

    for (i = 0; i < NSIGS; i++) {
        if (esign_sign_digest(insts[(i + k) % NINST], K1, strlen(K1),
                              ESC_SUITE_INTL, sha, 1700000000000ULL, &s)
            != ESIGN_SIGN_OK
            || verify(&s, sha) != 0)
        {
            __sync_fetch_and_add(&thread_bad, 1);
        }

        esign_signature_free(&s);
    }

    return NULL;
}


int
main(void)
{
    int                        rc, i;
    char                       dir[] = "/tmp/esign-sign-XXXXXX", aad[128];
    char                       hex[65], cmd[64];
    json_t                    *a, *copy, *meta, *c;
    size_t                     len;
    uint8_t                    sm3[32], dg[32], *bin;
    MDB_env                   *env;
    MDB_txn                   *txn;
    MDB_dbi                    dbis[ESIGN_DB_COUNT];
    EVP_PKEY                  *key, *cak;
    X509                      *cac;
    pthread_t                  th[NTHREADS];
    const char                *b64;
    esc_kek_ring_t            *ring;
    esign_signature_t          s, s2;
    esign_doc_prepared_t       d;
    esign_sign_cache_stats_t   st, st0;

    if (mkdtemp(dir) == NULL) {
        return 1;
    }

    mdb_env_create(&env);
    mdb_env_set_maxdbs(env, ESIGN_DB_MAX_DBS);
    mdb_env_set_mapsize(env, 64 << 20);
    ok(mdb_env_open(env, dir, 0, 0600) == 0, "env open");
    mdb_txn_begin(env, NULL, 0, &txn);
    esign_db_open_all(txn, dbis, 1);
    esc_kek_parse(K1, strlen(K1), &ring);

    /* ---- two CAs, two certificates per institution ------------------ */

    ok(esign_pki_ca_suite(txn, dbis, ring, "unit", ESC_SUITE_INTL, 0, &cak,
                          &cac) == ESIGN_PKI_NOTFOUND,
       "no intl CA before first use");

    insts[0] = new_inst("aaaaaaaaaaaaaaaaaaaaaaaaaa", "91350100M000100Y55");
    insts[1] = new_inst("bbbbbbbbbbbbbbbbbbbbbbbbbb", "91350100M000100Y66");
    insts[2] = new_inst("cccccccccccccccccccccccccc", "91350100M000100Y77");

    for (i = 0; i < NINST; i++) {
        ok(esign_pki_issue_institution_suites(txn, dbis, ring, "unit",
                                              ESIGN_PKI_SUITES_ALL, insts[i])
           == ESIGN_PKI_OK, "institution %d: both suites issued", i);
    }

    a = insts[0];
    ok(json_string_value(json_object_get(a, "certificate_pem")) != NULL
       && json_string_value(json_object_get(a, "intl_certificate_pem"))
          != NULL
       && json_string_value(json_object_get(a, "intl_key_wrapped_b64"))
          != NULL
       && json_string_value(json_object_get(a, "intl_cert_serial")) != NULL,
       "record holds the intl certificate, sealed key and serial");

    ok(esign_pki_ca_suite(txn, dbis, ring, "unit", ESC_SUITE_INTL, 0, &cak,
                          &cac) == ESIGN_PKI_OK
       && esc_key_suite(cak) == ESC_SUITE_INTL,
       "intl CA (P-256) stored in META ca_intl");
    {
        X509  *ic;
        const char  *pem;

        pem = json_string_value(json_object_get(a, "intl_certificate_pem"));
        ok(esc_cert_from_pem(pem, strlen(pem), &ic) == 0
           && esc_ca_verify_cert(cac, ic, 0, NULL) == 0,
           "intl certificate chains to the intl CA");
        X509_free(ic);
    }
    EVP_PKEY_free(cak);
    X509_free(cac);

    ok(esign_pki_ca_suite(txn, dbis, ring, "unit", ESC_SUITE_NATIONAL, 0,
                          &cak, &cac) == ESIGN_PKI_OK
       && esc_key_suite(cak) == ESC_SUITE_NATIONAL,
       "national CA still SM2 in META ca");
    EVP_PKEY_free(cak);
    X509_free(cac);

    /* sealed key AAD: "<id>/intl" opens it, "<id>" does not */
    b64 = json_string_value(json_object_get(a, "intl_key_wrapped_b64"));
    bin = malloc(strlen(b64));
    esc_b64_decode(bin, strlen(b64), &len, b64, strlen(b64), ESC_B64_STD);
    esign_pki_key_aad("aaaaaaaaaaaaaaaaaaaaaaaaaa", ESC_SUITE_INTL, aad,
                      sizeof(aad));
    is_str(aad, "aaaaaaaaaaaaaaaaaaaaaaaaaa/intl", "intl AAD");
    ok(esc_key_unseal(ring, aad, bin, len, &key) == 0
       && esc_key_suite(key) == ESC_SUITE_INTL,
       "intl key unseals with <id>/intl");
    EVP_PKEY_free(key);
    key = NULL;
    ok(esc_key_unseal(ring, "aaaaaaaaaaaaaaaaaaaaaaaaaa", bin, len, &key)
       != 0, "... not with the national AAD <id>");
    free(bin);

    /* ---- document digests ------------------------------------------- */

    ok(esign_doc_prepare(K1, strlen(K1), "aaaaaaaaaaaaaaaaaaaaaaaaaa",
                         "dddddddddddddddddddddddddd", "acc", ESIGN_DOC_PDF,
                         (const uint8_t *) pdf, sizeof(pdf) - 1, 1000, &d)
       == 0 && esign_doc_store(txn, dbis, &d) == 0, "document stored");
    esign_doc_sha256_hex((const uint8_t *) pdf, sizeof(pdf) - 1, hex);
    is_str(json_string_value(json_object_get(d.meta, "sha256")), hex,
           "meta records the SHA-256");
    esign_doc_prepared_free(&d);

    esc_cms_digest(ESC_SUITE_INTL, (const uint8_t *) pdf, sizeof(pdf) - 1,
                   sha);
    esc_cms_digest(ESC_SUITE_NATIONAL, (const uint8_t *) pdf,
                   sizeof(pdf) - 1, sm3);

    ok(esign_doc_digest(txn, dbis, K1, strlen(K1),
                        "aaaaaaaaaaaaaaaaaaaaaaaaaa",
                        "dddddddddddddddddddddddddd", ESC_SUITE_INTL, dg)
       == 0 && memcmp(dg, sha, 32) == 0, "esign_doc_digest intl = SHA-256");
    ok(esign_doc_digest(txn, dbis, K1, strlen(K1),
                        "aaaaaaaaaaaaaaaaaaaaaaaaaa",
                        "dddddddddddddddddddddddddd", ESC_SUITE_NATIONAL, dg)
       == 0 && memcmp(dg, sm3, 32) == 0, "esign_doc_digest national = SM3");
    ok(esign_doc_digest(txn, dbis, K1, strlen(K1),
                        "aaaaaaaaaaaaaaaaaaaaaaaaaa",
                        "eeeeeeeeeeeeeeeeeeeeeeeeee", ESC_SUITE_INTL, dg)
       == MDB_NOTFOUND, "unknown document: MDB_NOTFOUND");

    /* a record from before "sha256": decrypt and hash */
    esign_doc_meta(txn, dbis, "aaaaaaaaaaaaaaaaaaaaaaaaaa",
                   "dddddddddddddddddddddddddd", &meta);
    json_object_del(meta, "sha256");
    esign_db_put_json(txn, dbis[ESIGN_DB_DOCUMENTS],
                      "aaaaaaaaaaaaaaaaaaaaaaaaaa/dddddddddddddddddddddddddd",
                      53, meta, 0);
    json_decref(meta);
    memset(dg, 0, sizeof(dg));
    ok(esign_doc_digest(txn, dbis, K1, strlen(K1),
                        "aaaaaaaaaaaaaaaaaaaaaaaaaa",
                        "dddddddddddddddddddddddddd", ESC_SUITE_INTL, dg)
       == 0 && memcmp(dg, sha, 32) == 0,
       "old record without sha256: decrypted and hashed");
    ok(esign_doc_digest(txn, dbis, "kek v1 00\n", 10,
                        "aaaaaaaaaaaaaaaaaaaaaaaaaa",
                        "dddddddddddddddddddddddddd", ESC_SUITE_INTL, dg)
       == -1, "... which needs the KEK");

    /* ---- signing from the digest, both suites ----------------------- */

    ok(esign_sign_digest(a, K1, strlen(K1), ESC_SUITE_INTL, sha,
                         1700000000123ULL, &s) == ESIGN_SIGN_OK
       && s.suite == ESC_SUITE_INTL && memcmp(s.digest, sha, 32) == 0
       && s.signed_at_ms == 1700000000123ULL,
       "esign_sign_digest intl");
    ok(verify(&s, sha) == 0, "... verifies over the SHA-256");
    is_str(s.cert_pem,
           json_string_value(json_object_get(a, "intl_certificate_pem")),
           "... with the intl certificate");
    ok(verify(&s, sm3) != 0, "... not over another digest");

    ok(esign_sign_digest(a, K1, strlen(K1), ESC_SUITE_NATIONAL, sm3,
                         1700000000123ULL, &s2) == ESIGN_SIGN_OK
       && verify(&s2, sm3) == 0
       && strcmp(s2.cert_pem, json_string_value(json_object_get(
                                  a, "certificate_pem"))) == 0,
       "esign_sign_digest national, SM2 certificate");
    esign_signature_free(&s2);

    ok(esign_sign_document(a, K1, strlen(K1), ESC_SUITE_INTL,
                           (const uint8_t *) pdf, sizeof(pdf) - 1,
                           1700000000123ULL, &s2) == ESIGN_SIGN_OK
       && memcmp(s2.digest, sha, 32) == 0 && verify(&s2, sha) == 0,
       "esign_sign_document (through esign_sign_digest)");
    esign_signature_free(&s2);
    esign_signature_free(&s);

    /* ---- the key cache ----------------------------------------------- */

    esign_sign_cache_clear();
    esign_sign_cache_stats(&st0);
    is_int((int) st0.entries, 0, "cache empty after clear");

    esign_sign_digest(a, K1, strlen(K1), ESC_SUITE_INTL, sha, 1000, &s);
    esign_signature_free(&s);
    esign_sign_digest(a, K1, strlen(K1), ESC_SUITE_INTL, sha, 1000, &s);
    esign_signature_free(&s);
    esign_sign_cache_stats(&st);
    ok(st.misses == st0.misses + 1 && st.hits == st0.hits + 1
       && st.entries == 1, "second signature by one institution is a hit");

    ok(esign_sign_digest(a, K12, strlen(K12), ESC_SUITE_INTL, sha, 1000, &s)
       == ESIGN_SIGN_OK, "another KEK text");
    esign_signature_free(&s);
    esign_sign_cache_stats(&st0);
    ok(st0.misses == st.misses + 1 && st0.entries == 1,
       "... is a miss that replaces the entry");

    copy = json_deep_copy(a);
    ok(esign_pki_issue_institution_suites(txn, dbis, ring, "unit",
                                          ESIGN_PKI_SUITE_BIT(ESC_SUITE_INTL),
                                          copy) == ESIGN_PKI_OK,
       "intl certificate re-issued");
    ok(esign_sign_digest(copy, K1, strlen(K1), ESC_SUITE_INTL, sha, 1000, &s)
       == ESIGN_SIGN_OK && verify(&s, sha) == 0
       && strcmp(s.cert_pem, json_string_value(json_object_get(
                     copy, "intl_certificate_pem"))) == 0,
       "... signs with the new key and certificate");
    esign_signature_free(&s);
    esign_sign_cache_stats(&st);
    ok(st.misses == st0.misses + 1 && st.entries == 1,
       "... after a cache miss (the old key is dropped)");
    json_decref(copy);

    /* ---- the certificate cache of verification ---------------------- */

    {
        char         u[ESC_USCC_LEN + 1], *bad;
        X509        *c1, *c2;
        size_t       ents;
        uint64_t     h0, m0, h1, m1;
        const char  *pa, *pb;

        esign_sign_cert_clear();
        pa = json_string_value(json_object_get(insts[1], "certificate_pem"));
        pb = json_string_value(json_object_get(insts[2], "certificate_pem"));

        ok(esign_sign_cert(pa, &c1, u) == 0, "certificate parsed");
        is_str(u, "91350100M000100Y66", "... its USCC");
        ok(esign_sign_cert(pa, &c2, NULL) == 0 && c2 == c1,
           "same text: the cached certificate");
        X509_free(c2);
        esign_sign_cert_stats(&h0, &m0, &ents);
        ok(h0 == 1 && m0 == 1 && ents == 1, "... one miss, one hit");

        ok(esign_sign_cert(pb, &c2, u) == 0 && c2 != c1, "another text");
        is_str(u, "91350100M000100Y77", "... its own USCC");
        X509_free(c2);

        /* a changed text is another key: parsed again, never the cached */
        bad = strdup(pa);
        bad[strlen(bad) / 2] = bad[strlen(bad) / 2] == 'A' ? 'B' : 'A';
        c2 = NULL;
        (void) esign_sign_cert(bad, &c2, NULL);
        ok(c2 != c1, "a modified certificate text is not the cached one");
        X509_free(c2);
        esign_sign_cert_stats(&h1, &m1, &ents);
        ok(h1 == h0 && m1 == m0 + 2, "... it is a miss");
        ok(esign_sign_cert("-----BEGIN CERTIFICATE-----\nAAAA\n"
                           "-----END CERTIFICATE-----\n", &c2, u) != 0
           && c2 == NULL && u[0] == '\0', "a text that is no certificate is "
           "refused");
        esign_sign_cert_stats(&h1, &m1, &ents);
        ok(ents <= 3, "... and not cached");
        free(bad);
        X509_free(c1);

        /* more texts than slots: the least recently used go, freed */
        {
            int        j, all;
            char      *pems[70];
            size_t     pl;
            X509      *ca, *ic, *got;
            EVP_PKEY  *cakey, *ik;

            esign_sign_cert_clear();
            all = esc_ca_create(ESC_SUITE_INTL, "Eviction CA", NULL, 1,
                                &cakey, &ca) == 0;

            for (j = 0; all && j < 70; j++) {
                all = esc_ca_issue(cakey, ca, "Inst", "91350100M000100Y55",
                                   1, &ik, &ic) == 0
                      && esc_cert_to_pem(ic, &pems[j], &pl) == 0
                      && esign_sign_cert(pems[j], &got, NULL) == 0;
                X509_free(got);
                X509_free(ic);
                EVP_PKEY_free(ik);
            }

            esign_sign_cert_stats(&h0, &m0, &ents);
            ok(all && m0 == 70 && h0 == 0 && ents == 64,
               "70 certificate texts: 70 misses, 64 kept");
            ok(esign_sign_cert(pems[69], &got, NULL) == 0, "newest again");
            X509_free(got);
            ok(esign_sign_cert(pems[0], &got, NULL) == 0, "oldest again");
            X509_free(got);
            esign_sign_cert_stats(&h1, &m1, &ents);
            ok(h1 == 1 && m1 == 71 && ents == 64,
               "... the newest was a hit, the evicted oldest a miss");

            for (j = 0; all && j < 70; j++) {
                free(pems[j]);
            }

            EVP_PKEY_free(cakey);
            X509_free(ca);
            esign_sign_cert_clear();
        }

        /* the cache never turns a wrong verification into a right one */
        ok(esign_sign_digest(a, K1, strlen(K1), ESC_SUITE_NATIONAL, sm3,
                             1000, &s) == ESIGN_SIGN_OK
           && verify(&s, sm3) == 0 && verify(&s, sm3) == 0,
           "a signature verifies twice through the cache");
        ok(esign_sign_verify(s.cms_pem, pa, sm3, 32, NULL) != 0,
           "... not with another institution's cached certificate");
        ok(verify(&s, sha) != 0, "... nor over another digest");
        esign_signature_free(&s);
    }

    /* ---- shared read-only records (esign_db_get_json_shared) --------- */

    {
        json_t    *r1, *r2, *r3;
        uint64_t   hits;

        esign_db_shared_clear();
        esign_db_put_json(txn, dbis[ESIGN_DB_INSTITUTIONS], "i1", 2,
                          insts[1], 0);
        hits = esign_db_shared_stats();
        ok(esign_db_get_json_shared(txn, dbis[ESIGN_DB_INSTITUTIONS], "i1",
                                    2, &r1) == 0
           && esign_db_get_json_shared(txn, dbis[ESIGN_DB_INSTITUTIONS],
                                       "i1", 2, &r2) == 0
           && r1 == r2 && esign_db_shared_stats() == hits + 1,
           "unchanged record: the same parsed object, a hit");
        ok(json_equal(r1, insts[1]), "... equal to the stored record");

        copy = json_deep_copy(insts[1]);
        json_object_set_new(copy, "name", json_string("Renamed Co"));
        esign_db_put_json(txn, dbis[ESIGN_DB_INSTITUTIONS], "i1", 2, copy, 0);
        ok(esign_db_get_json_shared(txn, dbis[ESIGN_DB_INSTITUTIONS], "i1",
                                    2, &r3) == 0 && r3 != r1
           && strcmp(json_string_value(json_object_get(r3, "name")),
                     "Renamed Co") == 0,
           "changed bytes: parsed again, the new content at once");
        is_str(json_string_value(json_object_get(r1, "name")), "Example Co",
               "... a reference taken before keeps the old object intact");
        ok(esign_db_get_json_shared(txn, dbis[ESIGN_DB_INSTITUTIONS], "i2",
                                    2, &r2) == MDB_NOTFOUND,
           "missing record: MDB_NOTFOUND");
        json_decref(copy);
        json_decref(r1);
        json_decref(r1);
        json_decref(r3);

        /* more records than slots: the least recently used are replaced */
        {
            int     j, all;
            char    key[16];
            json_t  *r;

            esign_db_shared_clear();
            all = 1;

            for (j = 0; all && j < 70; j++) {
                snprintf(key, sizeof(key), "e%02d", j);
                all = esign_db_put_json(txn, dbis[ESIGN_DB_INSTITUTIONS], key,
                                        3, insts[j % 3], 0) == 0
                      && esign_db_get_json_shared(txn,
                                                  dbis[ESIGN_DB_INSTITUTIONS],
                                                  key, 3, &r) == 0;
                json_decref(r);
            }

            hits = esign_db_shared_stats();
            ok(all && esign_db_get_json_shared(txn,
                                              dbis[ESIGN_DB_INSTITUTIONS],
                                              "e69", 3, &r) == 0
               && esign_db_shared_stats() == hits + 1
               && json_equal(r, insts[69 % 3]),
               "70 records: the newest is still shared");
            json_decref(r);
            ok(esign_db_get_json_shared(txn, dbis[ESIGN_DB_INSTITUTIONS],
                                        "e00", 3, &r) == 0
               && esign_db_shared_stats() == hits + 1
               && json_equal(r, insts[0]),
               "... the oldest was replaced: parsed again, same content");
            json_decref(r);
        }

        esign_db_shared_clear();
    }

    /* a sealed key moved to another institution's record does not open */
    copy = json_deep_copy(insts[1]);
    json_object_set(copy, "intl_key_wrapped_b64",
                    json_object_get(a, "intl_key_wrapped_b64"));
    json_object_set(copy, "intl_certificate_pem",
                    json_object_get(a, "intl_certificate_pem"));
    ok(esign_sign_digest(copy, K1, strlen(K1), ESC_SUITE_INTL, sha, 1000, &s)
       == ESIGN_SIGN_ERROR, "sealed key under another institution's ID "
       "refused");
    json_decref(copy);

    /* the national key in the intl field: wrong AAD and wrong suite */
    copy = json_deep_copy(a);
    json_object_set(copy, "intl_key_wrapped_b64",
                    json_object_get(a, "key_wrapped_b64"));
    ok(esign_sign_digest(copy, K1, strlen(K1), ESC_SUITE_INTL, sha, 1000, &s)
       != ESIGN_SIGN_OK, "national sealed key in the intl field refused");
    json_decref(copy);

    /* an institution approved before the intl suite */
    copy = json_deep_copy(a);
    json_object_del(copy, "intl_certificate_pem");
    json_object_del(copy, "intl_key_wrapped_b64");
    json_object_del(copy, "intl_cert_serial");
    is_int(esign_sign_digest(copy, K1, strlen(K1), ESC_SUITE_INTL, sha, 1000,
                             &s), ESIGN_SIGN_SUITE,
           "record without an intl key: ESIGN_SIGN_SUITE");
    ok(s.cms_pem == NULL && s.cert_pem == NULL, "... nothing returned");
    ok(strstr(esign_sign_strerror(ESIGN_SIGN_SUITE), "issue-intl") != NULL,
       "... whose message names the remedy");
    is_int(esign_sign_digest(copy, K1, strlen(K1), ESC_SUITE_NATIONAL, sm3,
                             1000, &s), ESIGN_SIGN_OK,
           "... it still signs in the national suite");
    esign_signature_free(&s);
    json_object_del(copy, "certificate_pem");
    json_object_del(copy, "key_wrapped_b64");
    is_int(esign_sign_digest(copy, K1, strlen(K1), ESC_SUITE_INTL, sha, 1000,
                             &s), ESIGN_SIGN_NOKEY,
           "record without any key: ESIGN_SIGN_NOKEY");
    json_decref(copy);

    /* eviction */
    esign_sign_cache_clear();
    esign_sign_cache_limit(2);
    esign_sign_cache_stats(&st0);
    for (i = 0; i < NINST; i++) {
        esign_sign_digest(insts[i], K1, strlen(K1), ESC_SUITE_INTL, sha,
                          1000, &s);
        esign_signature_free(&s);
    }
    esign_sign_cache_stats(&st);
    ok(st.entries == 2 && st.evictions == st0.evictions + 1,
       "limit 2: the least recently used key is evicted (%zu entries)",
       st.entries);
    esign_sign_digest(insts[0], K1, strlen(K1), ESC_SUITE_INTL, sha, 1000,
                      &s);
    esign_signature_free(&s);
    esign_sign_cache_stats(&st0);
    ok(st0.misses == st.misses + 1, "... the evicted one is a miss again");
    esign_sign_cache_limit(ESIGN_SIGN_CACHE_MAX);

    /* concurrent signers share the cached keys */
    esign_sign_cache_clear();
    for (i = 0; i < NTHREADS; i++) {
        pthread_create(&th[i], NULL, signer, (void *) (size_t) i);
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
    }
    is_int(thread_bad, 0, "%d threads x %d signatures, all verify",
           NTHREADS, NSIGS);
    esign_sign_cache_stats(&st);
    ok(st.entries == NINST, "... one cache entry per institution");

    /* ---- archive: intl signatures over the document's SHA-256 ------- */

    esign_sign_digest(insts[1], K1, strlen(K1), ESC_SUITE_INTL, sha,
                      1700000001000ULL, &s);
    esc_hex_encode(hex, sizeof(hex), sha, 32);
    {
        char  sm3hex[65];

        esc_hex_encode(sm3hex, sizeof(sm3hex), sm3, 32);
        c = json_pack("{s:s, s:s, s:s, s:I,"
                      " s:{s:s, s:s, s:s, s:s, s:I},"
                      " s:[{s:s, s:s, s:s, s:I}],"
                      " s:[{s:s, s:I, s:s, s:s, s:s, s:s}]}",
                      "id", "contract", "document_id",
                      "dddddddddddddddddddddddddd", "document_sm3", sm3hex,
                      "created_at", (json_int_t) 1700000000000LL,
                      "initiator", "institution_id",
                      "aaaaaaaaaaaaaaaaaaaaaaaaaa", "uscc",
                      "91350100M000100Y55", "name", "A", "account_id", "acc",
                      "at", (json_int_t) 1700000000000LL,
                      "participants", "institution_id",
                      "bbbbbbbbbbbbbbbbbbbbbbbbbb", "uscc",
                      "91350100M000100Y66", "status", "confirmed", "at",
                      (json_int_t) 1700000001000LL,
                      "signatures", "institution_id",
                      "bbbbbbbbbbbbbbbbbbbbbbbbbb", "signed_at",
                      (json_int_t) 1700000001000LL, "cms_pem", s.cms_pem,
                      "certificate_pem", s.cert_pem, "digest", hex,
                      "suite", "intl");
    }
    esign_signature_free(&s);
    ok(c != NULL, "completed contract with an intl signature");
    is_int(esign_archive_check_txn(txn, dbis, K1, strlen(K1), c,
                                   1700000002000ULL), 1,
           "archive: intl signature over the document SHA-256 passes");

    /* results verified ahead (outside the transaction) for these bytes */
    {
        json_t               *sg;
        esign_archive_pre_t   pre, other;

        sg = json_array_get(json_object_get(c, "signatures"), 0);
        esign_archive_preverify(
            json_string_value(json_object_get(sg, "cms_pem")),
            json_string_value(json_object_get(sg, "certificate_pem")),
            json_string_value(json_object_get(sg, "digest")), &pre);
        ok(pre.ok && pre.signing_time == 1700000001,
           "preverify: the signature verifies, signing time read");
        is_int(esign_archive_check_txn_pre(txn, dbis, K1, strlen(K1), c,
                                           1700000002000ULL, &pre, 1), 1,
               "archive with the result verified ahead passes");
        {
            json_t  *pt;

            pt = json_array_get(json_object_get(c, "participants"), 0);
            json_object_set_new(pt, "uscc",
                                json_string("91350100M000100Y77"));
            is_int(esign_archive_check_txn_pre(txn, dbis, K1, strlen(K1), c,
                                               1700000002000ULL, &pre, 1),
                   0, "... fails when the certificate names another USCC");
            is_int(esign_archive_check_txn(txn, dbis, K1, strlen(K1), c,
                                           1700000002000ULL), 0,
                   "... also when verified inside the transaction");
            json_object_set_new(pt, "uscc",
                                json_string("91350100M000100Y66"));
        }
        pre.ok = 0;
        is_int(esign_archive_check_txn_pre(txn, dbis, K1, strlen(K1), c,
                                           1700000002000ULL, &pre, 1), 0,
               "... and it is that result the archive uses");
        esign_archive_preverify(
            json_string_value(json_object_get(sg, "cms_pem")),
            json_string_value(json_object_get(sg, "certificate_pem")),
            "00000000000000000000000000000000"
            "00000000000000000000000000000000", &other);
        ok(!other.ok, "preverify: another digest does not verify");
        is_int(esign_archive_check_txn_pre(txn, dbis, K1, strlen(K1), c,
                                           1700000002000ULL, &other, 1), 1,
               "a result for other bytes is ignored (verified again)");
    }

    /* the PEMs in their own record (ESIGN_DB_SIGNATURES), not inline */
    {
        json_t      *sg, *row;
        const char  *cms, *cert;

        sg = json_array_get(json_object_get(c, "signatures"), 0);
        ok(esign_db_sig_put(txn, dbis, "contract",
                            "bbbbbbbbbbbbbbbbbbbbbbbbbb",
                            json_string_value(json_object_get(sg, "cms_pem")),
                            json_string_value(json_object_get(
                                sg, "certificate_pem"))) == 0,
           "signature PEMs stored in their own record");
        json_object_set(sg, "saved_cms", json_object_get(sg, "cms_pem"));
        json_object_set(sg, "saved_cert",
                        json_object_get(sg, "certificate_pem"));
        json_object_del(sg, "cms_pem");
        json_object_del(sg, "certificate_pem");

        ok(esign_db_sig_pems(txn, dbis, "contract", sg, &row, &cms, &cert)
           == 0 && strcmp(cms, json_string_value(json_object_get(
                                   sg, "saved_cms"))) == 0
           && strcmp(cert, json_string_value(json_object_get(
                               sg, "saved_cert"))) == 0,
           "... found again from the summary");
        json_decref(row);
        is_int(esign_archive_check_txn(txn, dbis, K1, strlen(K1), c,
                                       1700000002000ULL), 1,
               "archive: a summary-only signature verifies from its record");
        is_int(esign_archive_check(c, 1700000002000ULL), 0,
               "... which a check without the store cannot find (fails)");
        ok(esign_db_sig_pems(txn, dbis, "other", sg, &row, &cms, &cert)
           == MDB_NOTFOUND && row == NULL && cms == NULL,
           "another contract's record is not this one's");

        /* damaged records: refused, never read past their end */
        {
            MDB_val      k, v;
            size_t       j;
            const char  *bad[] = { "", "only-one-text", "x\0", "\0y\0",
                                   "x\0y", "x\0y\0z\0" };
            size_t       badlen[] = { 0, 13, 2, 3, 3, 6 };

            k.mv_data = "contract/bbbbbbbbbbbbbbbbbbbbbbbbbb";
            k.mv_size = strlen(k.mv_data);

            for (j = 0; j < sizeof(badlen) / sizeof(badlen[0]); j++) {
                v.mv_data = (void *) bad[j];
                v.mv_size = badlen[j];
                mdb_put(txn, dbis[ESIGN_DB_SIGNATURES], &k, &v, 0);
                ok(esign_db_sig_pems(txn, dbis, "contract", sg, &row, &cms,
                                     &cert) == MDB_CORRUPTED
                   && cms == NULL && cert == NULL,
                   "damaged signature record %zu: MDB_CORRUPTED", j);
            }

            is_int(esign_archive_check_txn(txn, dbis, K1, strlen(K1), c,
                                           1700000002000ULL), 0,
                   "archive: a damaged signature record fails");
        }

        /* a record with the wrong certificate: the archive fails */
        esign_db_sig_put(txn, dbis, "contract", "bbbbbbbbbbbbbbbbbbbbbbbbbb",
                         json_string_value(json_object_get(sg, "saved_cms")),
                         json_string_value(json_object_get(
                             insts[2], "intl_certificate_pem")));
        is_int(esign_archive_check_txn(txn, dbis, K1, strlen(K1), c,
                                       1700000002000ULL), 0,
               "archive: a record with another certificate fails");

        json_object_set(sg, "cms_pem", json_object_get(sg, "saved_cms"));
        json_object_set(sg, "certificate_pem",
                        json_object_get(sg, "saved_cert"));
        json_object_del(sg, "saved_cms");
        json_object_del(sg, "saved_cert");
        is_int(esign_archive_check_txn(txn, dbis, K1, strlen(K1), c,
                                       1700000002000ULL), 1,
               "inline PEMs (records before the split) still win");
    }

    /* the same signature against another document's SHA-256 */
    esign_doc_meta(txn, dbis, "aaaaaaaaaaaaaaaaaaaaaaaaaa",
                   "dddddddddddddddddddddddddd", &meta);
    json_object_set_new(meta, "sha256", json_string(
        "00000000000000000000000000000000"
        "00000000000000000000000000000000"));
    esign_db_put_json(txn, dbis[ESIGN_DB_DOCUMENTS],
                      "aaaaaaaaaaaaaaaaaaaaaaaaaa/dddddddddddddddddddddddddd",
                      53, meta, 0);
    json_decref(meta);
    is_int(esign_archive_check_txn(txn, dbis, K1, strlen(K1), c,
                                   1700000002000ULL), 0,
           "archive: intl signature not over the document's SHA-256 fails");
    is_int(esign_archive_check(c, 1700000002000ULL), 1,
           "... which esign_archive_check alone cannot see");
    json_object_set_new(c, "document_sha256", json_string(
        "00000000000000000000000000000000"
        "00000000000000000000000000000000"));
    is_int(esign_archive_check(c, 1700000002000ULL), 0,
           "... unless the contract records document_sha256");
    json_object_set_new(c, "document_id", json_string("nosuchdoc"));
    is_int(esign_archive_check_txn(txn, dbis, K1, strlen(K1), c,
                                   1700000002000ULL), 0,
           "archive: unknown document digest fails intl signatures");
    json_decref(c);

    esign_sign_cache_clear();
    mdb_txn_abort(txn);
    mdb_env_close(env);
    esc_kek_free(ring);

    for (i = 0; i < NINST; i++) {
        json_decref(insts[i]);
    }

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    rc = system(cmd);
    (void) rc;

    return tap_done();
}
