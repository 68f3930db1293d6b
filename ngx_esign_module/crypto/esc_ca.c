/*
 * Platform CA, institution certificates, key PEM helpers and sealed
 * private keys (see esc_ca.h).
 */

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "esc_ca.h"
#include "esc_docenc.h"
#include "esc_rand.h"


#define ESC_USCC_PREFIX      "NTRCN-"
#define ESC_NAME_MAX         256


static int esc_x509_sign(X509 *x, EVP_PKEY *key);
static int esc_x509_add_ext(X509 *issuer, X509 *subject, int nid,
    const char *value);
static int esc_x509_validity(X509 *x, int years);
static int esc_x509_serial(X509 *x);
static int esc_bio_to_str(BIO *bio, char **out, size_t *len, int secret);


int
esc_key_generate(esc_suite_t suite, EVP_PKEY **key)
{
    EVP_PKEY  *k;

    if (key == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    if (suite == ESC_SUITE_NATIONAL) {
        k = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");

    } else if (suite == ESC_SUITE_INTL) {
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

    } else {
        return ESC_CRYPTO_EINVAL;
    }

    if (k == NULL) {
        return ESC_CRYPTO_ECRYPTO;
    }

    *key = k;

    return ESC_CRYPTO_OK;
}


int
esc_key_suite(const EVP_PKEY *key)
{
    char  group[64];

    if (key == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    if (EVP_PKEY_is_a(key, "SM2")) {
        return ESC_SUITE_NATIONAL;
    }

    if (EVP_PKEY_is_a(key, "EC")
        && EVP_PKEY_get_utf8_string_param(key, "group", group,
                                          sizeof(group), NULL) == 1)
    {
        if (strcmp(group, "prime256v1") == 0
            || strcmp(group, "P-256") == 0)
        {
            return ESC_SUITE_INTL;
        }

        if (strcmp(group, "SM2") == 0) {
            return ESC_SUITE_NATIONAL;
        }
    }

    return ESC_CRYPTO_EINVAL;
}


/* Signs with SM2-with-SM3 + distinguishing ID, or ecdsa-with-SHA256. */
static int
esc_x509_sign(X509 *x, EVP_PKEY *key)
{
    int            rc, suite;
    EVP_MD_CTX    *mctx;
    EVP_PKEY_CTX  *pctx;

    suite = esc_key_suite(key);
    if (suite < 0) {
        return ESC_CRYPTO_EINVAL;
    }

    mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    rc = ESC_CRYPTO_ECRYPTO;
    pctx = NULL;

    if (EVP_DigestSignInit_ex(mctx, &pctx,
                              suite == ESC_SUITE_NATIONAL ? "SM3" : "SHA256",
                              NULL, NULL, key, NULL) != 1)
    {
        goto done;
    }

    if (suite == ESC_SUITE_NATIONAL
        && EVP_PKEY_CTX_set1_id(pctx, ESC_SM2_ID, ESC_SM2_ID_LEN) != 1)
    {
        goto done;
    }

    if (X509_sign_ctx(x, mctx) <= 0) {
        goto done;
    }

    rc = ESC_CRYPTO_OK;

done:

    EVP_MD_CTX_free(mctx);

    return rc;
}


static int
esc_x509_add_ext(X509 *issuer, X509 *subject, int nid, const char *value)
{
    int              ok;
    X509V3_CTX       ctx;
    X509_EXTENSION  *ext;

    X509V3_set_ctx(&ctx, issuer, subject, NULL, NULL, 0);

    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL) {
        return ESC_CRYPTO_ECRYPTO;
    }

    ok = X509_add_ext(subject, ext, -1);
    X509_EXTENSION_free(ext);

    return ok ? ESC_CRYPTO_OK : ESC_CRYPTO_ECRYPTO;
}


static int
esc_x509_validity(X509 *x, int years)
{
    long    days;
    time_t  now;

    now = time(NULL);
    days = (long) years * 365 + (years + 3) / 4;    /* leap days */

    if (ASN1_TIME_set(X509_getm_notBefore(x), now) == NULL
        || ASN1_TIME_adj(X509_getm_notAfter(x), now, (int) days, 0) == NULL)
    {
        return ESC_CRYPTO_ECRYPTO;
    }

    return ESC_CRYPTO_OK;
}


/* 128 random bits as a positive INTEGER (DER keeps it positive). */
static int
esc_x509_serial(X509 *x)
{
    int            rc;
    BIGNUM        *bn;
    uint8_t        raw[16];
    ASN1_INTEGER  *ai;

    do {
        rc = esc_rand_bytes(raw, sizeof(raw));
        if (rc != ESC_CRYPTO_OK) {
            return rc;
        }

        bn = BN_bin2bn(raw, sizeof(raw), NULL);
        if (bn == NULL) {
            return ESC_CRYPTO_ENOMEM;
        }

        if (!BN_is_zero(bn)) {
            break;
        }

        BN_free(bn);
    } while (1);

    ai = BN_to_ASN1_INTEGER(bn, NULL);
    BN_free(bn);

    if (ai == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    rc = X509_set_serialNumber(x, ai) ? ESC_CRYPTO_OK : ESC_CRYPTO_ECRYPTO;
    ASN1_INTEGER_free(ai);

    return rc;
}


int
esc_ca_create(esc_suite_t suite, const char *cn, const char *o, int years,
    EVP_PKEY **key, X509 **cert)
{
    int         rc;
    X509       *x;
    EVP_PKEY   *k;
    X509_NAME  *name;

    if (cn == NULL || *cn == '\0' || strlen(cn) > ESC_NAME_MAX
        || (o != NULL && strlen(o) > ESC_NAME_MAX)
        || years < 1 || years > 30 || key == NULL || cert == NULL)
    {
        return ESC_CRYPTO_EINVAL;
    }

    rc = esc_key_generate(suite, &k);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    rc = ESC_CRYPTO_ECRYPTO;

    x = X509_new();
    if (x == NULL) {
        EVP_PKEY_free(k);
        return ESC_CRYPTO_ENOMEM;
    }

    name = X509_get_subject_name(x);

    if (!X509_set_version(x, X509_VERSION_3)
        || (o != NULL && *o != '\0'
            && !X509_NAME_add_entry_by_NID(name, NID_organizationName,
                                           MBSTRING_UTF8,
                                           (const unsigned char *) o, -1,
                                           -1, 0))
        || !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                       (const unsigned char *) cn, -1, -1,
                                       0)
        || !X509_set_issuer_name(x, name)
        || !X509_set_pubkey(x, k))
    {
        goto failed;
    }

    if ((rc = esc_x509_serial(x)) != ESC_CRYPTO_OK
        || (rc = esc_x509_validity(x, years)) != ESC_CRYPTO_OK
        || (rc = esc_x509_add_ext(x, x, NID_basic_constraints,
                                  "critical,CA:TRUE")) != ESC_CRYPTO_OK
        || (rc = esc_x509_add_ext(x, x, NID_key_usage,
                                  "critical,keyCertSign,cRLSign"))
           != ESC_CRYPTO_OK
        || (rc = esc_x509_add_ext(x, x, NID_subject_key_identifier, "hash"))
           != ESC_CRYPTO_OK
        || (rc = esc_x509_add_ext(x, x, NID_authority_key_identifier,
                                  "keyid:always")) != ESC_CRYPTO_OK
        || (rc = esc_x509_sign(x, k)) != ESC_CRYPTO_OK)
    {
        goto failed;
    }

    *key = k;
    *cert = x;

    return ESC_CRYPTO_OK;

failed:

    X509_free(x);
    EVP_PKEY_free(k);

    return rc;
}


int
esc_ca_issue_for_key(EVP_PKEY *ca_key, X509 *ca_cert, EVP_PKEY *pub,
    const char *name, const char *uscc, int years, X509 **cert)
{
    int         rc, i;
    char        oid[sizeof(ESC_USCC_PREFIX) + ESC_USCC_LEN];
    size_t      nlen;
    X509       *x;
    X509_NAME  *subj;

    if (ca_key == NULL || ca_cert == NULL || pub == NULL || name == NULL
        || uscc == NULL || cert == NULL || years < 1 || years > 3)
    {
        return ESC_CRYPTO_EINVAL;
    }

    nlen = strlen(name);
    if (nlen == 0 || nlen > ESC_NAME_MAX || strlen(uscc) != ESC_USCC_LEN) {
        return ESC_CRYPTO_EINVAL;
    }

    for (i = 0; i < ESC_USCC_LEN; i++) {
        if (!((uscc[i] >= '0' && uscc[i] <= '9')
              || (uscc[i] >= 'A' && uscc[i] <= 'Z')))
        {
            return ESC_CRYPTO_EINVAL;
        }
    }

    /* The subject key must be of the CA's suite. */
    if (esc_key_suite(ca_key) < 0 || esc_key_suite(pub) != esc_key_suite(ca_key)
        || X509_check_private_key(ca_cert, ca_key) != 1)
    {
        return ESC_CRYPTO_EINVAL;
    }

    memcpy(oid, ESC_USCC_PREFIX, sizeof(ESC_USCC_PREFIX) - 1);
    memcpy(oid + sizeof(ESC_USCC_PREFIX) - 1, uscc, ESC_USCC_LEN + 1);

    x = X509_new();
    if (x == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    rc = ESC_CRYPTO_ECRYPTO;
    subj = X509_get_subject_name(x);

    if (!X509_set_version(x, X509_VERSION_3)
        || !X509_NAME_add_entry_by_NID(subj, NID_organizationName,
                                       MBSTRING_UTF8,
                                       (const unsigned char *) name, -1, -1,
                                       0)
        || !X509_NAME_add_entry_by_NID(subj, NID_organizationIdentifier,
                                       MBSTRING_UTF8,
                                       (const unsigned char *) oid, -1, -1,
                                       0)
        || !X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_UTF8,
                                       (const unsigned char *) name, -1, -1,
                                       0)
        || !X509_set_issuer_name(x, X509_get_subject_name(ca_cert))
        || !X509_set_pubkey(x, pub))
    {
        goto failed;
    }

    if ((rc = esc_x509_serial(x)) != ESC_CRYPTO_OK
        || (rc = esc_x509_validity(x, years)) != ESC_CRYPTO_OK
        || (rc = esc_x509_add_ext(ca_cert, x, NID_basic_constraints,
                                  "critical,CA:FALSE")) != ESC_CRYPTO_OK
        || (rc = esc_x509_add_ext(ca_cert, x, NID_key_usage,
                                  "critical,digitalSignature,"
                                  "nonRepudiation")) != ESC_CRYPTO_OK
        || (rc = esc_x509_add_ext(ca_cert, x, NID_subject_key_identifier,
                                  "hash")) != ESC_CRYPTO_OK
        || (rc = esc_x509_add_ext(ca_cert, x, NID_authority_key_identifier,
                                  "keyid:always")) != ESC_CRYPTO_OK
        || (rc = esc_x509_sign(x, ca_key)) != ESC_CRYPTO_OK)
    {
        goto failed;
    }

    *cert = x;

    return ESC_CRYPTO_OK;

failed:

    X509_free(x);

    return rc;
}


int
esc_ca_issue(EVP_PKEY *ca_key, X509 *ca_cert, const char *name,
    const char *uscc, int years, EVP_PKEY **key, X509 **cert)
{
    int        rc, suite;
    EVP_PKEY  *k;

    if (key == NULL || cert == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    suite = esc_key_suite(ca_key);
    if (suite < 0) {
        return ESC_CRYPTO_EINVAL;
    }

    rc = esc_key_generate((esc_suite_t) suite, &k);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    rc = esc_ca_issue_for_key(ca_key, ca_cert, k, name, uscc, years, cert);
    if (rc != ESC_CRYPTO_OK) {
        EVP_PKEY_free(k);
        return rc;
    }

    *key = k;

    return ESC_CRYPTO_OK;
}


int
esc_ca_verify_cert(X509 *ca, X509 *cert, time_t at, int *reason)
{
    int                 rc, err;
    X509               *leaf;
    X509_STORE         *store;
    X509_STORE_CTX     *ctx;
    ASN1_OCTET_STRING  *id;

    if (ca == NULL || cert == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    rc = ESC_CRYPTO_ENOMEM;
    store = NULL;
    ctx = NULL;
    id = NULL;
    err = X509_V_OK;

    /* A private copy carries the distinguishing ID: cert stays const. */
    leaf = X509_dup(cert);
    if (leaf == NULL) {
        return rc;
    }

    if (esc_key_suite(X509_get0_pubkey(ca)) == ESC_SUITE_NATIONAL) {
        id = ASN1_OCTET_STRING_new();
        if (id == NULL
            || !ASN1_OCTET_STRING_set(id, (const unsigned char *) ESC_SM2_ID,
                                      ESC_SM2_ID_LEN))
        {
            ASN1_OCTET_STRING_free(id);
            goto done;
        }

        X509_set0_distinguishing_id(leaf, id);
    }

    store = X509_STORE_new();
    ctx = X509_STORE_CTX_new();
    if (store == NULL || ctx == NULL || !X509_STORE_add_cert(store, ca)
        || !X509_STORE_CTX_init(ctx, store, leaf, NULL))
    {
        goto done;
    }

    if (at != 0) {
        X509_STORE_CTX_set_time(ctx, 0, at);
    }

    if (X509_verify_cert(ctx) == 1) {
        rc = ESC_CRYPTO_OK;

    } else {
        err = X509_STORE_CTX_get_error(ctx);
        rc = ESC_CRYPTO_EAUTH;
    }

done:

    if (reason != NULL) {
        *reason = err;
    }

    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(leaf);

    return rc;
}


int
esc_cert_uscc(X509 *cert, char out[ESC_USCC_LEN + 1])
{
    int                         i, len;
    X509_NAME                  *name;
    ASN1_STRING                *s;
    const unsigned char        *p;

    if (cert == NULL || out == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    name = X509_get_subject_name(cert);
    i = X509_NAME_get_index_by_NID(name, NID_organizationIdentifier, -1);
    if (i < 0) {
        return ESC_CRYPTO_EINVAL;
    }

    s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    p = ASN1_STRING_get0_data(s);
    len = ASN1_STRING_length(s);

    if (len != (int) (sizeof(ESC_USCC_PREFIX) - 1 + ESC_USCC_LEN)
        || memcmp(p, ESC_USCC_PREFIX, sizeof(ESC_USCC_PREFIX) - 1) != 0)
    {
        return ESC_CRYPTO_EINVAL;
    }

    memcpy(out, p + sizeof(ESC_USCC_PREFIX) - 1, ESC_USCC_LEN);
    out[ESC_USCC_LEN] = '\0';

    return ESC_CRYPTO_OK;
}


int
esc_cert_serial_hex(X509 *cert, char *out, size_t outsz)
{
    int      rc;
    char    *hex;
    BIGNUM  *bn;

    if (cert == NULL || out == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    if (bn == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    hex = BN_bn2hex(bn);
    BN_free(bn);
    if (hex == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    rc = ESC_CRYPTO_ESPACE;
    if (strlen(hex) < outsz) {
        strcpy(out, hex);
        rc = ESC_CRYPTO_OK;
    }

    OPENSSL_free(hex);

    return rc;
}


/* Copies a memory BIO into a malloc'ed NUL-terminated string. */
static int
esc_bio_to_str(BIO *bio, char **out, size_t *len, int secret)
{
    char  *data, *s;
    long   n;

    n = BIO_get_mem_data(bio, &data);
    if (n <= 0) {
        return ESC_CRYPTO_ECRYPTO;
    }

    s = malloc((size_t) n + 1);
    if (s == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    memcpy(s, data, (size_t) n);
    s[n] = '\0';

    if (secret) {
        OPENSSL_cleanse(data, (size_t) n);
    }

    *out = s;
    if (len != NULL) {
        *len = (size_t) n;
    }

    return ESC_CRYPTO_OK;
}


int
esc_cert_to_pem(X509 *cert, char **pem, size_t *len)
{
    int   rc;
    BIO  *bio;

    if (cert == NULL || pem == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    rc = PEM_write_bio_X509(bio, cert) ? esc_bio_to_str(bio, pem, len, 0)
                                       : ESC_CRYPTO_ECRYPTO;
    BIO_free(bio);

    return rc;
}


int
esc_cert_from_pem(const char *pem, size_t len, X509 **cert)
{
    BIO   *bio;
    X509  *x;

    if (pem == NULL || cert == NULL || len > INT_MAX) {
        return ESC_CRYPTO_EINVAL;
    }

    bio = BIO_new_mem_buf(pem, (int) len);
    if (bio == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (x == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    *cert = x;

    return ESC_CRYPTO_OK;
}


int
esc_key_to_pem(EVP_PKEY *key, char **pem, size_t *len)
{
    int   rc;
    BIO  *bio;

    if (key == NULL || pem == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    bio = BIO_new(BIO_s_secmem());
    if (bio == NULL) {
        bio = BIO_new(BIO_s_mem());
    }

    if (bio == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    rc = PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
         ? esc_bio_to_str(bio, pem, len, 1) : ESC_CRYPTO_ECRYPTO;
    BIO_free(bio);

    return rc;
}


int
esc_key_from_pem(const char *pem, size_t len, EVP_PKEY **key)
{
    BIO       *bio;
    EVP_PKEY  *k;

    if (pem == NULL || key == NULL || len > INT_MAX) {
        return ESC_CRYPTO_EINVAL;
    }

    bio = BIO_new_mem_buf(pem, (int) len);
    if (bio == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    /* A NULL passphrase callback with "" refuses encrypted PEM quietly. */
    k = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *) "");
    BIO_free(bio);

    if (k == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    if (esc_key_suite(k) < 0) {
        EVP_PKEY_free(k);
        return ESC_CRYPTO_EINVAL;
    }

    *key = k;

    return ESC_CRYPTO_OK;
}


int
esc_pubkey_to_pem(EVP_PKEY *key, char **pem, size_t *len)
{
    int   rc;
    BIO  *bio;

    if (key == NULL || pem == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    rc = PEM_write_bio_PUBKEY(bio, key) ? esc_bio_to_str(bio, pem, len, 0)
                                        : ESC_CRYPTO_ECRYPTO;
    BIO_free(bio);

    return rc;
}


int
esc_key_seal(const esc_kek_ring_t *ring, const char *aad, EVP_PKEY *key,
    uint8_t **out, size_t *outlen)
{
    int      rc;
    char    *pem;
    size_t   len;

    if (ring == NULL || aad == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    rc = esc_key_to_pem(key, &pem, &len);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    rc = esc_seal(ring, (const uint8_t *) aad, strlen(aad),
                  (const uint8_t *) pem, len, out, outlen);
    esc_free_secret(pem, len);

    return rc;
}


int
esc_key_unseal(const esc_kek_ring_t *ring, const char *aad,
    const uint8_t *in, size_t inlen, EVP_PKEY **key)
{
    int       rc;
    size_t    len;
    uint8_t  *pem;

    if (ring == NULL || aad == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    rc = esc_unseal(ring, (const uint8_t *) aad, strlen(aad), in, inlen,
                    &pem, &len);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    rc = esc_key_from_pem((const char *) pem, len, key);
    esc_free_secret(pem, len + 1);

    return rc;
}
