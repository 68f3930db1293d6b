/*
 * Keys of the identity layer: field keys, the platform CA in the state
 * database, institution certificates (plain C, thread-safe).
 */


#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "ngx_esign_db.h"
#include "ngx_esign_pki.h"

#include "esc_ca.h"
#include "esc_codec.h"
#include "esc_docenc.h"
#include "esc_rand.h"


#define ESIGN_PKI_CERT_YEARS  3


static int esign_pki_unseal_b64(const esc_kek_ring_t *ring, const char *aad,
    const char *b64, uint8_t **pt, size_t *ptlen);
static char *esign_pki_seal_b64(const esc_kek_ring_t *ring, const char *aad,
    const uint8_t *pt, size_t ptlen);


int
esign_sm3(const void *data, size_t len, unsigned char out[32])
{
    unsigned int  n;

    return EVP_Digest(data, len, out, &n, EVP_sm3(), NULL) == 1 ? 0 : -1;
}


int
esign_sm3_hex(const void *data, size_t len, char out[65])
{
    unsigned char  h[32];

    if (esign_sm3(data, len, h) != 0) {
        return -1;
    }

    return esc_hex_encode(out, 65, h, 32) == ESC_CRYPTO_OK ? 0 : -1;
}


void
esign_rfc3339(uint64_t ms, char out[32])
{
    time_t     t;
    struct tm  tm;

    t = (time_t) (ms / 1000);
    gmtime_r(&t, &tm);

    if (strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        out[0] = '\0';
        return;
    }

    snprintf(out + 19, 32 - 19, ".%03uZ", (unsigned) (ms % 1000));
}


static char *
esign_pki_seal_b64(const esc_kek_ring_t *ring, const char *aad,
    const uint8_t *pt, size_t ptlen)
{
    char     *b64;
    size_t    len, blen;
    uint8_t  *sealed;

    if (esc_seal(ring, (const uint8_t *) aad, strlen(aad), pt, ptlen,
                 &sealed, &len)
        != ESC_CRYPTO_OK)
    {
        return NULL;
    }

    blen = esc_b64_encoded_len(len, ESC_B64_STD);
    b64 = malloc(blen + 1);

    if (b64 != NULL
        && esc_b64_encode(b64, blen + 1, sealed, len, ESC_B64_STD)
           != ESC_CRYPTO_OK)
    {
        free(b64);
        b64 = NULL;
    }

    free(sealed);

    return b64;
}


static int
esign_pki_unseal_b64(const esc_kek_ring_t *ring, const char *aad,
    const char *b64, uint8_t **pt, size_t *ptlen)
{
    int       rc;
    size_t    max, len;
    uint8_t  *bin;

    max = esc_b64_decoded_max(strlen(b64));
    bin = malloc(max + 1);
    if (bin == NULL) {
        return -1;
    }

    rc = esc_b64_decode(bin, max + 1, &len, b64, strlen(b64), ESC_B64_STD);
    if (rc == ESC_CRYPTO_OK) {
        rc = esc_unseal(ring, (const uint8_t *) aad, strlen(aad), bin, len,
                        pt, ptlen);
    }

    free(bin);

    return rc == ESC_CRYPTO_OK ? 0 : -1;
}


int
esign_pki_field_keys(MDB_txn *txn, MDB_dbi *dbis, const esc_kek_ring_t *ring,
    int create, esign_field_keys_t *keys)
{
    int          rc;
    char        *enc, *idx;
    json_t      *rec;
    size_t       len;
    uint8_t     *pt;
    const char  *s;

    static const char  key[] = "fieldkeys";

    rc = esign_db_get_json(txn, dbis[ESIGN_DB_META], key, sizeof(key) - 1,
                           &rec);

    if (rc == 0) {
        rc = ESIGN_PKI_ERROR;

        s = json_string_value(json_object_get(rec, "enc"));
        if (s != NULL
            && esign_pki_unseal_b64(ring, "fieldkeys/enc", s, &pt, &len) == 0)
        {
            if (len == ESC_FIELD_KEY_LEN) {
                memcpy(keys->enc, pt, len);
                rc = ESIGN_PKI_OK;
            }

            esc_free_secret(pt, len);
        }

        s = json_string_value(json_object_get(rec, "idx"));
        if (rc == ESIGN_PKI_OK && s != NULL
            && esign_pki_unseal_b64(ring, "fieldkeys/idx", s, &pt, &len) == 0)
        {
            if (len == ESC_FIELD_KEY_LEN) {
                memcpy(keys->idx, pt, len);

            } else {
                rc = ESIGN_PKI_ERROR;
            }

            esc_free_secret(pt, len);

        } else {
            rc = ESIGN_PKI_ERROR;
        }

        json_decref(rec);
        return rc;
    }

    if (rc != MDB_NOTFOUND) {
        return ESIGN_PKI_ERROR;
    }

    if (!create) {
        return ESIGN_PKI_NOTFOUND;
    }

    if (esc_rand_bytes(keys->enc, sizeof(keys->enc)) != ESC_CRYPTO_OK
        || esc_rand_bytes(keys->idx, sizeof(keys->idx)) != ESC_CRYPTO_OK)
    {
        return ESIGN_PKI_ERROR;
    }

    enc = esign_pki_seal_b64(ring, "fieldkeys/enc", keys->enc,
                             sizeof(keys->enc));
    idx = esign_pki_seal_b64(ring, "fieldkeys/idx", keys->idx,
                             sizeof(keys->idx));

    rc = ESIGN_PKI_ERROR;

    if (enc != NULL && idx != NULL) {
        rec = json_pack("{s:s,s:s}", "enc", enc, "idx", idx);
        if (rec != NULL) {
            if (esign_db_put_json(txn, dbis[ESIGN_DB_META], key,
                                  sizeof(key) - 1, rec, 0)
                == 0)
            {
                rc = ESIGN_PKI_OK;
            }

            json_decref(rec);
        }
    }

    free(enc);
    free(idx);

    return rc;
}


json_t *
esign_pki_field_encrypt(const esign_field_keys_t *keys, const char *aad,
    const char *value, size_t len)
{
    char     out[2 * ESC_FIELD_MAX + 128];
    size_t   olen;

    if (len > ESC_FIELD_MAX || esc_fieldenc_len(len) + 1 > sizeof(out)) {
        return NULL;
    }

    if (esc_fieldenc_encrypt(keys->enc, (const uint8_t *) aad, strlen(aad),
                             (const uint8_t *) value, len, out, sizeof(out),
                             &olen)
        != ESC_CRYPTO_OK)
    {
        return NULL;
    }

    return json_stringn(out, olen);
}


int
esign_pki_field_decrypt(const esign_field_keys_t *keys, const char *aad,
    const char *enc, char *out, size_t outsz)
{
    size_t  len;

    if (outsz < ESC_FIELD_MAX + 1) {
        return -1;
    }

    if (esc_fieldenc_decrypt(keys->enc, (const uint8_t *) aad, strlen(aad),
                             enc, strlen(enc), (uint8_t *) out, outsz - 1,
                             &len)
        != ESC_CRYPTO_OK)
    {
        return -1;
    }

    out[len] = '\0';

    return 0;
}


int
esign_pki_blind_index(const esign_field_keys_t *keys, const char *value,
    size_t len, char out[65])
{
    return esc_blind_index_hex(keys->idx, ESC_BLIND_LOOKUP,
                               (const uint8_t *) value, len, out)
           == ESC_CRYPTO_OK ? 0 : -1;
}


/* META record name and sealing AAD of the CA of a suite. */
static const char *
esign_pki_ca_name(int suite)
{
    return suite == ESC_SUITE_INTL ? "ca_intl" : "ca";
}


static const char *
esign_pki_ca_aad(int suite)
{
    return suite == ESC_SUITE_INTL ? "platform-ca/intl" : "platform-ca";
}


int
esign_pki_ca(MDB_txn *txn, MDB_dbi *dbis, const esc_kek_ring_t *ring,
    const char *site, int create, EVP_PKEY **key, X509 **cert)
{
    return esign_pki_ca_suite(txn, dbis, ring, site, ESC_SUITE_NATIONAL,
                              create, key, cert);
}


int
esign_pki_ca_suite(MDB_txn *txn, MDB_dbi *dbis, const esc_kek_ring_t *ring,
    const char *site, int suite, int create, EVP_PKEY **key, X509 **cert)
{
    int          rc;
    char        *pem, *b64, cn[128];
    json_t      *rec;
    size_t       len;
    uint8_t     *sealed, *bin;
    const char  *s, *k, *name, *aad;

    if (suite != ESC_SUITE_NATIONAL && suite != ESC_SUITE_INTL) {
        return ESIGN_PKI_ERROR;
    }

    name = esign_pki_ca_name(suite);
    aad = esign_pki_ca_aad(suite);
    *key = NULL;
    *cert = NULL;

    rc = esign_db_get_json(txn, dbis[ESIGN_DB_META], name, strlen(name),
                           &rec);

    if (rc == 0) {
        rc = ESIGN_PKI_ERROR;
        s = json_string_value(json_object_get(rec, "cert_pem"));
        k = json_string_value(json_object_get(rec, "key_sealed_b64"));

        if (s != NULL && k != NULL
            && esc_cert_from_pem(s, strlen(s), cert) == ESC_CRYPTO_OK)
        {
            bin = malloc(esc_b64_decoded_max(strlen(k)) + 1);

            if (bin != NULL
                && esc_b64_decode(bin, esc_b64_decoded_max(strlen(k)) + 1,
                                  &len, k, strlen(k), ESC_B64_STD)
                   == ESC_CRYPTO_OK
                && esc_key_unseal(ring, aad, bin, len, key)
                   == ESC_CRYPTO_OK
                && esc_key_suite(*key) == suite)
            {
                rc = ESIGN_PKI_OK;

            } else {
                EVP_PKEY_free(*key);
                X509_free(*cert);
                *key = NULL;
                *cert = NULL;
            }

            free(bin);
        }

        json_decref(rec);
        return rc;
    }

    if (rc != MDB_NOTFOUND) {
        return ESIGN_PKI_ERROR;
    }

    if (!create) {
        return ESIGN_PKI_NOTFOUND;
    }

    snprintf(cn, sizeof(cn), "%.64s esign platform CA%s", site,
             suite == ESC_SUITE_INTL ? " (intl)" : "");

    if (esc_ca_create((esc_suite_t) suite, cn, "esign", ESC_CA_YEARS, key,
                      cert)
        != ESC_CRYPTO_OK)
    {
        return ESIGN_PKI_ERROR;
    }

    rc = ESIGN_PKI_ERROR;
    pem = NULL;
    sealed = NULL;
    b64 = NULL;

    if (esc_cert_to_pem(*cert, &pem, &len) != ESC_CRYPTO_OK
        || esc_key_seal(ring, aad, *key, &sealed, &len)
           != ESC_CRYPTO_OK)
    {
        goto done;
    }

    b64 = malloc(esc_b64_encoded_len(len, ESC_B64_STD) + 1);
    if (b64 == NULL
        || esc_b64_encode(b64, esc_b64_encoded_len(len, ESC_B64_STD) + 1,
                          sealed, len, ESC_B64_STD)
           != ESC_CRYPTO_OK)
    {
        goto done;
    }

    rec = json_pack("{s:s,s:s}", "cert_pem", pem, "key_sealed_b64", b64);
    if (rec != NULL) {
        if (esign_db_put_json(txn, dbis[ESIGN_DB_META], name,
                              strlen(name), rec, 0)
            == 0)
        {
            rc = ESIGN_PKI_OK;
        }

        json_decref(rec);
    }

done:

    free(pem);
    free(sealed);
    free(b64);

    if (rc != ESIGN_PKI_OK) {
        EVP_PKEY_free(*key);
        X509_free(*cert);
        *key = NULL;
        *cert = NULL;
    }

    return rc;
}


char *
esign_pki_ca_pem(MDB_txn *txn, MDB_dbi *dbis)
{
    return esign_pki_ca_pem_suite(txn, dbis, ESC_SUITE_NATIONAL);
}


char *
esign_pki_ca_pem_suite(MDB_txn *txn, MDB_dbi *dbis, int suite)
{
    char        *pem;
    json_t      *rec;
    const char  *s, *name;

    name = esign_pki_ca_name(suite);

    if (esign_db_get_json(txn, dbis[ESIGN_DB_META], name, strlen(name), &rec)
        != 0)
    {
        return NULL;
    }

    s = json_string_value(json_object_get(rec, "cert_pem"));
    pem = s != NULL ? strdup(s) : NULL;
    json_decref(rec);

    return pem;
}


int
esign_pki_write_ca_file(const char *data_dir, const char *pem)
{
    return esign_pki_write_ca_file_suite(data_dir, ESC_SUITE_NATIONAL, pem);
}


int
esign_pki_write_ca_file_suite(const char *data_dir, int suite,
    const char *pem)
{
    int          fd;
    char         dir[4096], path[4200], tmp[4200];
    size_t       len;
    const char  *file;

    if (strlen(data_dir) > 4000) {
        return -1;
    }

    file = suite == ESC_SUITE_INTL ? "ca-intl.crt" : "ca.crt";

    snprintf(dir, sizeof(dir), "%s/ca", data_dir);
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    snprintf(tmp, sizeof(tmp), "%s/%s.%ld", dir, file, (long) getpid());

    if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
        return -1;
    }

    fd = open(tmp, O_WRONLY|O_CREAT|O_TRUNC, 0644);
    if (fd == -1) {
        return -1;
    }

    len = strlen(pem);

    if (write(fd, pem, len) != (ssize_t) len || fsync(fd) == -1) {
        close(fd);
        unlink(tmp);
        return -1;
    }

    close(fd);

    if (rename(tmp, path) == -1) {
        unlink(tmp);
        return -1;
    }

    return 0;
}


static const esign_pki_fields_t  esign_pki_fields_national = {
    "certificate_pem", "key_wrapped_b64", "cert_serial"
};

static const esign_pki_fields_t  esign_pki_fields_intl = {
    "intl_certificate_pem", "intl_key_wrapped_b64", "intl_cert_serial"
};


const esign_pki_fields_t *
esign_pki_fields(int suite)
{
    return suite == ESC_SUITE_NATIONAL ? &esign_pki_fields_national
           : suite == ESC_SUITE_INTL ? &esign_pki_fields_intl : NULL;
}


int
esign_pki_key_aad(const char *inst_id, int suite, char *out, size_t size)
{
    int  n;

    if (suite == ESC_SUITE_NATIONAL) {
        n = snprintf(out, size, "%s", inst_id);

    } else if (suite == ESC_SUITE_INTL) {
        n = snprintf(out, size, "%s/intl", inst_id);

    } else {
        return ESIGN_PKI_ERROR;
    }

    return (n > 0 && (size_t) n < size) ? ESIGN_PKI_OK : ESIGN_PKI_ERROR;
}


int
esign_pki_issue_institution(MDB_txn *txn, MDB_dbi *dbis,
    const esc_kek_ring_t *ring, EVP_PKEY *ca_key, X509 *ca_cert,
    json_t *inst)
{
    int                         rc, tries, suite;
    X509                       *cert;
    char                       *pem, *b64, serial[64], aad[128];
    size_t                      len;
    MDB_val                     k, v;
    uint8_t                    *sealed;
    EVP_PKEY                   *key;
    const char                 *id, *name, *uscc;
    const esign_pki_fields_t   *f;

    id = json_string_value(json_object_get(inst, "id"));
    name = json_string_value(json_object_get(inst, "name"));
    uscc = json_string_value(json_object_get(inst, "uscc"));

    if (id == NULL || name == NULL || uscc == NULL) {
        return ESIGN_PKI_ERROR;
    }

    suite = esc_key_suite(ca_key);
    f = esign_pki_fields(suite);

    if (f == NULL
        || esign_pki_key_aad(id, suite, aad, sizeof(aad)) != ESIGN_PKI_OK)
    {
        return ESIGN_PKI_ERROR;
    }

    /* 128 random bits collide practically never; the index makes sure */

    for (tries = 0; tries < 4; tries++) {
        if (esc_ca_issue(ca_key, ca_cert, name, uscc, ESIGN_PKI_CERT_YEARS,
                         &key, &cert)
            != ESC_CRYPTO_OK)
        {
            return ESIGN_PKI_ERROR;
        }

        if (esc_cert_serial_hex(cert, serial, sizeof(serial))
            != ESC_CRYPTO_OK)
        {
            EVP_PKEY_free(key);
            X509_free(cert);
            return ESIGN_PKI_ERROR;
        }

        k.mv_data = serial;
        k.mv_size = strlen(serial);
        v.mv_data = (void *) id;
        v.mv_size = strlen(id);

        rc = mdb_put(txn, dbis[ESIGN_DB_CERTS], &k, &v, MDB_NOOVERWRITE);
        if (rc == 0) {
            break;
        }

        EVP_PKEY_free(key);
        X509_free(cert);

        if (rc != MDB_KEYEXIST) {
            return ESIGN_PKI_ERROR;
        }
    }

    if (tries == 4) {
        return ESIGN_PKI_ERROR;
    }

    rc = ESIGN_PKI_ERROR;
    pem = NULL;
    sealed = NULL;
    b64 = NULL;

    if (esc_cert_to_pem(cert, &pem, &len) != ESC_CRYPTO_OK
        || esc_key_seal(ring, aad, key, &sealed, &len) != ESC_CRYPTO_OK)
    {
        goto done;
    }

    b64 = malloc(esc_b64_encoded_len(len, ESC_B64_STD) + 1);
    if (b64 == NULL
        || esc_b64_encode(b64, esc_b64_encoded_len(len, ESC_B64_STD) + 1,
                          sealed, len, ESC_B64_STD)
           != ESC_CRYPTO_OK)
    {
        goto done;
    }

    if (json_object_set_new(inst, f->cert, json_string(pem)) == 0
        && json_object_set_new(inst, f->key, json_string(b64)) == 0
        && json_object_set_new(inst, f->serial, json_string(serial)) == 0)
    {
        rc = ESIGN_PKI_OK;
    }

done:

    free(pem);
    free(sealed);
    free(b64);
    EVP_PKEY_free(key);
    X509_free(cert);

    return rc;
}


int
esign_institution_load_key(json_t *inst, const char *kek_text,
    size_t kek_len, EVP_PKEY **key)
{
    int              rc;
    size_t           len;
    uint8_t         *bin;
    const char      *id, *b64;
    esc_kek_ring_t  *ring;

    id = json_string_value(json_object_get(inst, "id"));
    b64 = json_string_value(json_object_get(inst, "key_wrapped_b64"));

    if (id == NULL || b64 == NULL) {
        return -1;
    }

    if (esc_kek_parse(kek_text, kek_len, &ring) != ESC_CRYPTO_OK) {
        return -1;
    }

    rc = -1;
    bin = malloc(esc_b64_decoded_max(strlen(b64)) + 1);

    if (bin != NULL
        && esc_b64_decode(bin, esc_b64_decoded_max(strlen(b64)) + 1, &len,
                          b64, strlen(b64), ESC_B64_STD)
           == ESC_CRYPTO_OK
        && esc_key_unseal(ring, id, bin, len, key) == ESC_CRYPTO_OK)
    {
        rc = 0;
    }

    free(bin);
    esc_kek_free(ring);

    return rc;
}


int
esign_pki_issue_institution_suites(MDB_txn *txn, MDB_dbi *dbis,
    const esc_kek_ring_t *ring, const char *site, int which, json_t *inst)
{
    int        rc, suite;
    X509      *ca_cert;
    EVP_PKEY  *ca_key;

    for (suite = ESC_SUITE_NATIONAL; suite <= ESC_SUITE_INTL; suite++) {
        if (!(which & (1 << suite))) {
            continue;
        }

        rc = esign_pki_ca_suite(txn, dbis, ring, site, suite, 1, &ca_key,
                                &ca_cert);
        if (rc != ESIGN_PKI_OK) {
            return rc;
        }

        rc = esign_pki_issue_institution(txn, dbis, ring, ca_key, ca_cert,
                                         inst);

        EVP_PKEY_free(ca_key);
        X509_free(ca_cert);

        if (rc != ESIGN_PKI_OK) {
            return rc;
        }
    }

    return ESIGN_PKI_OK;
}
