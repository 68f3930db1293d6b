/*
 * Institution signatures over contract documents (see ngx_esign_sign.h).
 */


#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

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


static int
esign_sign_load_key(json_t *inst, const char *kek, size_t kek_len,
    EVP_PKEY **key)
{
    int              rc;
    size_t           blen, len;
    uint8_t         *bin;
    const char      *id, *b64;
    esc_kek_ring_t  *ring;

    id = json_string_value(json_object_get(inst, "id"));
    b64 = json_string_value(json_object_get(inst, "key_wrapped_b64"));

    if (id == NULL || b64 == NULL) {
        return ESIGN_SIGN_NOKEY;
    }

    if (esc_kek_parse(kek, kek_len, &ring) != ESC_CRYPTO_OK) {
        return ESIGN_SIGN_ERROR;
    }

    rc = ESIGN_SIGN_ERROR;
    blen = esc_b64_decoded_max(strlen(b64)) + 1;
    bin = malloc(blen);

    /* the associated data binds the sealed key to its institution */

    if (bin != NULL
        && esc_b64_decode(bin, blen, &len, b64, strlen(b64), ESC_B64_STD)
           == ESC_CRYPTO_OK
        && esc_key_unseal(ring, id, bin, len, key) == ESC_CRYPTO_OK)
    {
        rc = ESIGN_SIGN_OK;
    }

    free(bin);
    esc_kek_free(ring);

    return rc;
}


int
esign_sign_document(json_t *inst, const char *kek, size_t kek_len,
    int suite, const uint8_t *doc, size_t len, uint64_t now_ms,
    esign_signature_t *out)
{
    int          rc;
    X509        *cert;
    size_t       derlen, pemlen;
    uint8_t     *der;
    EVP_PKEY    *key;
    const char  *cpem;

    memset(out, 0, sizeof(*out));

    cpem = json_string_value(json_object_get(inst, "certificate_pem"));
    if (cpem == NULL) {
        return ESIGN_SIGN_NOKEY;
    }

    cert = NULL;
    key = NULL;
    der = NULL;

    if (esc_cert_from_pem(cpem, strlen(cpem), &cert) != ESC_CRYPTO_OK) {
        return ESIGN_SIGN_ERROR;
    }

    rc = esign_sign_load_key(inst, kek, kek_len, &key);
    if (rc != ESIGN_SIGN_OK) {
        goto done;
    }

    if (esc_key_suite(key) != suite) {
        rc = ESIGN_SIGN_SUITE;
        goto done;
    }

    rc = ESIGN_SIGN_ERROR;

    out->suite = suite;
    out->signed_at_ms = now_ms;

    if (esc_cms_digest((esc_suite_t) suite, doc, len, out->digest)
        != ESC_CRYPTO_OK
        || esc_cms_sign_digest(cert, key, out->digest, sizeof(out->digest),
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


void
esign_signature_free(esign_signature_t *s)
{
    free(s->cms_pem);
    free(s->cert_pem);
    s->cms_pem = NULL;
    s->cert_pem = NULL;
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

    if (esc_cert_from_pem(cert_pem, strlen(cert_pem), &cert)
        == ESC_CRYPTO_OK
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
