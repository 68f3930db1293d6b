/*
 * Institution signatures over contract documents (see ngx_esign_sign.h).
 */


#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ngx_esign_pki.h"
#include "ngx_esign_sign.h"

#include "esc_ca.h"
#include "esc_cms.h"
#include "esc_codec.h"
#include "esc_kek.h"


static int
esign_sign_sm3(const uint8_t *p, size_t len, uint8_t out[32])
{
    unsigned int  n;

    n = 32;

    return EVP_Digest(p, len, out, &n, EVP_sm3(), NULL) == 1 && n == 32
           ? 0 : -1;
}


/*
 * The key cache.  One entry per (institution, suite): the unsealed key
 * and the parsed certificate, each holding one reference of its own;
 * signers take references under the mutex and sign outside it (OpenSSL
 * 3 keys and certificates may be used from several threads at once; each
 * signature has its own CMS, EVP_MD_CTX and EVP_PKEY_CTX).
 */

#define ESIGN_SIGN_ID_MAX  64

typedef struct {
    int         used;
    int         suite;
    char        id[ESIGN_SIGN_ID_MAX];
    uint8_t     fp[32];
    EVP_PKEY   *key;
    X509       *cert;
    uint64_t    tick;
} esign_sign_entry_t;


static pthread_mutex_t     esign_sign_mutex = PTHREAD_MUTEX_INITIALIZER;
static esign_sign_entry_t  esign_sign_cache[ESIGN_SIGN_CACHE_MAX];
static size_t              esign_sign_cache_max = ESIGN_SIGN_CACHE_MAX;
static uint64_t            esign_sign_tick;
static uint64_t            esign_sign_hits;
static uint64_t            esign_sign_misses;
static uint64_t            esign_sign_evictions;


static void
esign_sign_entry_free(esign_sign_entry_t *e)
{
    EVP_PKEY_free(e->key);
    X509_free(e->cert);
    memset(e, 0, sizeof(*e));
}


/* Length-prefixed parts, so no two inputs share a fingerprint. */
static int
esign_sign_fp_part(EVP_MD_CTX *md, const void *p, size_t len)
{
    uint8_t  n[8];
    int      i;

    for (i = 0; i < 8; i++) {
        n[i] = (uint8_t) ((uint64_t) len >> (56 - 8 * i));
    }

    return EVP_DigestUpdate(md, n, sizeof(n)) == 1
           && EVP_DigestUpdate(md, p, len) == 1 ? 0 : -1;
}


static int
esign_sign_fingerprint(const char *kek, size_t kek_len, const char *b64,
    const char *cpem, uint8_t fp[32])
{
    int           rc;
    unsigned int  n;
    EVP_MD_CTX   *md;

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return -1;
    }

    rc = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1
         && esign_sign_fp_part(md, kek, kek_len) == 0
         && esign_sign_fp_part(md, b64, strlen(b64)) == 0
         && esign_sign_fp_part(md, cpem, strlen(cpem)) == 0
         && EVP_DigestFinal_ex(md, fp, &n) == 1 && n == 32 ? 0 : -1;

    EVP_MD_CTX_free(md);

    return rc;
}


/* Under the mutex: the entry of (id, suite) or NULL. */
static esign_sign_entry_t *
esign_sign_cache_find(const char *id, int suite)
{
    size_t  i;

    for (i = 0; i < ESIGN_SIGN_CACHE_MAX; i++) {
        if (esign_sign_cache[i].used && esign_sign_cache[i].suite == suite
            && strcmp(esign_sign_cache[i].id, id) == 0)
        {
            return &esign_sign_cache[i];
        }
    }

    return NULL;
}


/* New references to the cached key and certificate, or -1 (a miss). */
static int
esign_sign_cache_get(const char *id, int suite, const uint8_t fp[32],
    EVP_PKEY **key, X509 **cert)
{
    int                  rc;
    esign_sign_entry_t  *e;

    rc = -1;

    pthread_mutex_lock(&esign_sign_mutex);

    e = esign_sign_cache_find(id, suite);

    if (e != NULL && CRYPTO_memcmp(e->fp, fp, 32) == 0
        && EVP_PKEY_up_ref(e->key) == 1)
    {
        if (X509_up_ref(e->cert) == 1) {
            *key = e->key;
            *cert = e->cert;
            e->tick = ++esign_sign_tick;
            esign_sign_hits++;
            rc = 0;

        } else {
            EVP_PKEY_free(e->key);
        }
    }

    if (rc != 0) {
        esign_sign_misses++;
    }

    pthread_mutex_unlock(&esign_sign_mutex);

    return rc;
}


/*
 * Stores the caller's key and certificate (the cache takes references of
 * its own).  An entry of the same institution and suite is replaced (a
 * re-issued key or another KEK: the old key is freed at once); otherwise
 * a free slot or the least recently used one.
 */
static void
esign_sign_cache_put(const char *id, int suite, const uint8_t fp[32],
    EVP_PKEY *key, X509 *cert)
{
    size_t               i, live;
    esign_sign_entry_t  *e, *lru;

    if (strlen(id) >= ESIGN_SIGN_ID_MAX) {
        return;
    }

    pthread_mutex_lock(&esign_sign_mutex);

    e = esign_sign_cache_find(id, suite);

    if (e != NULL) {
        esign_sign_entry_free(e);

    } else {
        lru = NULL;
        live = 0;

        for (i = 0; i < ESIGN_SIGN_CACHE_MAX; i++) {
            if (!esign_sign_cache[i].used) {
                if (e == NULL) {
                    e = &esign_sign_cache[i];
                }
                continue;
            }

            live++;

            if (lru == NULL || esign_sign_cache[i].tick < lru->tick) {
                lru = &esign_sign_cache[i];
            }
        }

        if (live >= esign_sign_cache_max || e == NULL) {
            e = lru;
            esign_sign_entry_free(e);
            esign_sign_evictions++;
        }
    }

    if (EVP_PKEY_up_ref(key) == 1) {
        if (X509_up_ref(cert) == 1) {
            e->used = 1;
            e->suite = suite;
            strcpy(e->id, id);
            memcpy(e->fp, fp, 32);
            e->key = key;
            e->cert = cert;
            e->tick = ++esign_sign_tick;

        } else {
            EVP_PKEY_free(key);
        }
    }

    pthread_mutex_unlock(&esign_sign_mutex);
}


void
esign_sign_cache_stats(esign_sign_cache_stats_t *st)
{
    size_t  i;

    pthread_mutex_lock(&esign_sign_mutex);

    st->entries = 0;

    for (i = 0; i < ESIGN_SIGN_CACHE_MAX; i++) {
        st->entries += esign_sign_cache[i].used != 0;
    }

    st->hits = esign_sign_hits;
    st->misses = esign_sign_misses;
    st->evictions = esign_sign_evictions;

    pthread_mutex_unlock(&esign_sign_mutex);
}


void
esign_sign_cache_clear(void)
{
    size_t  i;

    pthread_mutex_lock(&esign_sign_mutex);

    for (i = 0; i < ESIGN_SIGN_CACHE_MAX; i++) {
        if (esign_sign_cache[i].used) {
            esign_sign_entry_free(&esign_sign_cache[i]);
        }
    }

    pthread_mutex_unlock(&esign_sign_mutex);
}


void
esign_sign_cache_limit(size_t max)
{
    size_t  i, live;

    if (max < 1) {
        max = 1;
    }

    if (max > ESIGN_SIGN_CACHE_MAX) {
        max = ESIGN_SIGN_CACHE_MAX;
    }

    pthread_mutex_lock(&esign_sign_mutex);

    esign_sign_cache_max = max;

    /* drop entries beyond the new limit (highest slots first) */
    live = 0;

    for (i = 0; i < ESIGN_SIGN_CACHE_MAX; i++) {
        if (esign_sign_cache[i].used && ++live > max) {
            esign_sign_entry_free(&esign_sign_cache[i]);
            esign_sign_evictions++;
        }
    }

    pthread_mutex_unlock(&esign_sign_mutex);
}


/* Unseals the key of a record field (uncached path). */
static int
esign_sign_unseal(const char *kek, size_t kek_len, const char *aad,
    const char *b64, EVP_PKEY **key)
{
    int              rc;
    size_t           blen, len;
    uint8_t         *bin;
    esc_kek_ring_t  *ring;

    if (esc_kek_parse(kek, kek_len, &ring) != ESC_CRYPTO_OK) {
        return ESIGN_SIGN_ERROR;
    }

    rc = ESIGN_SIGN_ERROR;
    blen = esc_b64_decoded_max(strlen(b64)) + 1;
    bin = malloc(blen);

    /* the associated data binds the sealed key to institution and suite */

    if (bin != NULL
        && esc_b64_decode(bin, blen, &len, b64, strlen(b64), ESC_B64_STD)
           == ESC_CRYPTO_OK
        && esc_key_unseal(ring, aad, bin, len, key) == ESC_CRYPTO_OK)
    {
        rc = ESIGN_SIGN_OK;
    }

    free(bin);
    esc_kek_free(ring);

    return rc;
}


/*
 * The key and certificate of the institution's suite: new references,
 * from the cache or unsealed and parsed (and then cached).
 */
static int
esign_sign_load(json_t *inst, const char *kek, size_t kek_len, int suite,
    const char **cpem_out, EVP_PKEY **key, X509 **cert)
{
    int                        rc, other;
    char                       aad[128];
    uint8_t                    fp[32];
    const char                *id, *cpem, *b64;
    const esign_pki_fields_t  *f, *of;

    *key = NULL;
    *cert = NULL;

    f = esign_pki_fields(suite);
    if (f == NULL) {
        return ESIGN_SIGN_ERROR;
    }

    id = json_string_value(json_object_get(inst, "id"));
    cpem = json_string_value(json_object_get(inst, f->cert));
    b64 = json_string_value(json_object_get(inst, f->key));

    if (id == NULL) {
        return ESIGN_SIGN_NOKEY;
    }

    if (cpem == NULL || b64 == NULL) {
        /* a key of the other suite only: the suite does not match */
        other = suite == ESC_SUITE_NATIONAL ? ESC_SUITE_INTL
                                            : ESC_SUITE_NATIONAL;
        of = esign_pki_fields(other);

        return json_string_value(json_object_get(inst, of->key)) != NULL
               ? ESIGN_SIGN_SUITE : ESIGN_SIGN_NOKEY;
    }

    *cpem_out = cpem;

    if (esign_pki_key_aad(id, suite, aad, sizeof(aad)) != 0
        || esign_sign_fingerprint(kek, kek_len, b64, cpem, fp) != 0)
    {
        return ESIGN_SIGN_ERROR;
    }

    if (esign_sign_cache_get(id, suite, fp, key, cert) == 0) {
        return ESIGN_SIGN_OK;
    }

    if (esc_cert_from_pem(cpem, strlen(cpem), cert) != ESC_CRYPTO_OK) {
        return ESIGN_SIGN_ERROR;
    }

    rc = esign_sign_unseal(kek, kek_len, aad, b64, key);

    if (rc == ESIGN_SIGN_OK
        && (esc_key_suite(*key) != suite
            || esc_key_suite(X509_get0_pubkey(*cert)) != suite))
    {
        rc = ESIGN_SIGN_SUITE;
    }

    if (rc == ESIGN_SIGN_OK && X509_check_private_key(*cert, *key) != 1) {
        rc = ESIGN_SIGN_ERROR;
    }

    if (rc != ESIGN_SIGN_OK) {
        EVP_PKEY_free(*key);
        X509_free(*cert);
        *key = NULL;
        *cert = NULL;
        return rc;
    }

    esign_sign_cache_put(id, suite, fp, *key, *cert);

    return ESIGN_SIGN_OK;
}


int
esign_sign_digest(json_t *inst, const char *kek, size_t kek_len,
    int suite, const uint8_t digest[32], uint64_t now_ms,
    esign_signature_t *out)
{
    int          rc;
    X509        *cert;
    size_t       derlen, pemlen;
    uint8_t     *der;
    EVP_PKEY    *key;
    const char  *cpem;

    memset(out, 0, sizeof(*out));

    cpem = NULL;
    der = NULL;

    rc = esign_sign_load(inst, kek, kek_len, suite, &cpem, &key, &cert);
    if (rc != ESIGN_SIGN_OK) {
        return rc;
    }

    rc = ESIGN_SIGN_ERROR;

    out->suite = suite;
    out->signed_at_ms = now_ms;
    memcpy(out->digest, digest, sizeof(out->digest));

    if (esc_cms_sign_digest(cert, key, out->digest, sizeof(out->digest),
                            (time_t) (now_ms / 1000), &der, &derlen)
        != ESC_CRYPTO_OK
        || esc_cms_der_to_pem(der, derlen, &out->cms_pem, &pemlen)
           != ESC_CRYPTO_OK
        || esign_sign_sm3(der, derlen, out->sig_sm3) != 0)
    {
        goto done;
    }

    out->cert_pem = strdup(cpem);
    if (out->cert_pem == NULL) {
        goto done;
    }

    rc = ESIGN_SIGN_OK;

done:

    if (rc != ESIGN_SIGN_OK) {
        esign_signature_free(out);
    }

    free(der);
    EVP_PKEY_free(key);
    X509_free(cert);

    return rc;
}


int
esign_sign_document(json_t *inst, const char *kek, size_t kek_len,
    int suite, const uint8_t *doc, size_t len, uint64_t now_ms,
    esign_signature_t *out)
{
    uint8_t  digest[32];

    memset(out, 0, sizeof(*out));

    if (suite != ESC_SUITE_NATIONAL && suite != ESC_SUITE_INTL) {
        return ESIGN_SIGN_ERROR;
    }

    if (esc_cms_digest((esc_suite_t) suite, doc, len, digest)
        != ESC_CRYPTO_OK)
    {
        return ESIGN_SIGN_ERROR;
    }

    return esign_sign_digest(inst, kek, kek_len, suite, digest, now_ms, out);
}


const char *
esign_sign_strerror(int rc)
{
    switch (rc) {
    case ESIGN_SIGN_OK:
        return "signed";
    case ESIGN_SIGN_NOKEY:
        return "the institution has no certificate or sealed key";
    case ESIGN_SIGN_SUITE:
        return "the institution has no key of the suite set by "
               "esign_signature_suite (approved before the intl suite "
               "existed: issue one with `esignctl institution issue-intl`)";
    default:
        return "signing failed (OpenSSL, memory or a corrupt institution "
               "record)";
    }
}


void
esign_signature_free(esign_signature_t *s)
{
    free(s->cms_pem);
    free(s->cert_pem);
    s->cms_pem = NULL;
    s->cert_pem = NULL;
}


/*
 * The certificate cache of verification.  The archive check of every
 * completed contract verifies each signature with the certificate stored
 * beside it, and the same few institution certificates come back again
 * and again; parsing their PEM (base64, then OpenSSL's template decoder)
 * cost as much as half a signature verification, and the USCC lookup
 * parsed it once more.  So the parsed certificate and its USCC are kept
 * per process, keyed by the SHA-256 of the PEM text: the same text is the
 * same certificate.  Only the parse is cached, never a verification.
 */

#define ESIGN_CERT_CACHE_MAX  64

typedef struct {
    int         used;
    uint8_t     h[32];
    X509       *cert;
    char        uscc[ESC_USCC_LEN + 1];
    uint64_t    tick;
} esign_cert_entry_t;


static pthread_mutex_t     esign_cert_mutex = PTHREAD_MUTEX_INITIALIZER;
static esign_cert_entry_t  esign_cert_cache[ESIGN_CERT_CACHE_MAX];
static uint64_t            esign_cert_tick;
static uint64_t            esign_cert_hits;
static uint64_t            esign_cert_misses;


int
esign_sign_cert(const char *pem, X509 **cert, char uscc[ESC_USCC_LEN + 1])
{
    size_t               i;
    uint8_t              h[32];
    unsigned int         n;
    esign_cert_entry_t  *e, *lru;

    *cert = NULL;

    if (uscc != NULL) {
        uscc[0] = '\0';
    }

    n = 32;

    if (pem == NULL
        || EVP_Digest(pem, strlen(pem), h, &n, EVP_sha256(), NULL) != 1)
    {
        return -1;
    }

    pthread_mutex_lock(&esign_cert_mutex);

    for (i = 0; i < ESIGN_CERT_CACHE_MAX; i++) {
        e = &esign_cert_cache[i];

        if (e->used && memcmp(e->h, h, 32) == 0
            && X509_up_ref(e->cert) == 1)
        {
            *cert = e->cert;
            e->tick = ++esign_cert_tick;
            esign_cert_hits++;

            if (uscc != NULL) {
                memcpy(uscc, e->uscc, ESC_USCC_LEN + 1);
            }

            pthread_mutex_unlock(&esign_cert_mutex);
            return 0;
        }
    }

    esign_cert_misses++;

    pthread_mutex_unlock(&esign_cert_mutex);

    /* a miss: parse outside the lock, then keep it (least recently used) */

    if (esc_cert_from_pem(pem, strlen(pem), cert) != ESC_CRYPTO_OK) {
        return -1;
    }

    pthread_mutex_lock(&esign_cert_mutex);

    lru = &esign_cert_cache[0];

    for (i = 0; i < ESIGN_CERT_CACHE_MAX; i++) {
        e = &esign_cert_cache[i];

        if (!e->used) {
            lru = e;
            break;
        }

        if (e->tick < lru->tick) {
            lru = e;
        }
    }

    if (X509_up_ref(*cert) == 1) {
        if (lru->used) {
            X509_free(lru->cert);
        }

        lru->used = 1;
        memcpy(lru->h, h, 32);
        lru->cert = *cert;
        lru->tick = ++esign_cert_tick;

        if (esc_cert_uscc(*cert, lru->uscc) != ESC_CRYPTO_OK) {
            lru->uscc[0] = '\0';
        }

        if (uscc != NULL) {
            memcpy(uscc, lru->uscc, ESC_USCC_LEN + 1);
        }

    } else if (uscc != NULL && esc_cert_uscc(*cert, uscc) != ESC_CRYPTO_OK) {
        uscc[0] = '\0';
    }

    pthread_mutex_unlock(&esign_cert_mutex);

    return 0;
}


void
esign_sign_cert_stats(uint64_t *hits, uint64_t *misses, size_t *entries)
{
    size_t  i;

    pthread_mutex_lock(&esign_cert_mutex);

    *hits = esign_cert_hits;
    *misses = esign_cert_misses;
    *entries = 0;

    for (i = 0; i < ESIGN_CERT_CACHE_MAX; i++) {
        *entries += esign_cert_cache[i].used ? 1 : 0;
    }

    pthread_mutex_unlock(&esign_cert_mutex);
}


void
esign_sign_cert_clear(void)
{
    size_t  i;

    pthread_mutex_lock(&esign_cert_mutex);

    for (i = 0; i < ESIGN_CERT_CACHE_MAX; i++) {
        if (esign_cert_cache[i].used) {
            X509_free(esign_cert_cache[i].cert);
        }

        memset(&esign_cert_cache[i], 0, sizeof(esign_cert_entry_t));
    }

    esign_cert_hits = 0;
    esign_cert_misses = 0;

    pthread_mutex_unlock(&esign_cert_mutex);
}


int
esign_sign_verify(const char *cms_pem, const char *cert_pem,
    const uint8_t *digest, size_t dlen, time_t *signing_time)
{
    int              rc;
    X509            *cert;
    size_t           derlen;
    uint8_t         *der;
    esc_cms_info_t   info;

    if (cms_pem == NULL || cert_pem == NULL) {
        return -1;
    }

    cert = NULL;
    der = NULL;
    rc = -1;

    if (esign_sign_cert(cert_pem, &cert, NULL) == 0
        && esc_cms_pem_to_der(cms_pem, strlen(cms_pem), &der, &derlen)
           == ESC_CRYPTO_OK
        && esc_cms_verify_digest(der, derlen, digest, dlen, cert, &info)
           == ESC_CRYPTO_OK)
    {
        if (signing_time != NULL) {
            *signing_time = info.signing_time;
        }

        rc = 0;
    }

    free(der);
    X509_free(cert);

    return rc;
}


int
esign_sign_pem_sm3(const char *cms_pem, uint8_t out[32])
{
    int       rc;
    size_t    derlen;
    uint8_t  *der;

    if (esc_cms_pem_to_der(cms_pem, strlen(cms_pem), &der, &derlen)
        != ESC_CRYPTO_OK)
    {
        return -1;
    }

    rc = esign_sign_sm3(der, derlen, out);

    free(der);

    return rc;
}
