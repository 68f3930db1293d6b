/*
 * Shared primitives of libescrypto: HMAC-SM3, an HKDF-Expand style key
 * derivation, SM4-CTR, byte order helpers and the error strings.
 */

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "esc_int.h"


/* EVP update calls take an int length; larger inputs are chunked. */
#define ESC_CHUNK  (1 << 30)


const char *
esc_crypto_strerror(int rc)
{
    switch (rc) {
    case ESC_CRYPTO_OK:
        return "ok";
    case ESC_CRYPTO_EINVAL:
        return "invalid argument or malformed input";
    case ESC_CRYPTO_ENOMEM:
        return "out of memory";
    case ESC_CRYPTO_ECRYPTO:
        return "cryptographic primitive failed";
    case ESC_CRYPTO_EAUTH:
        return "authentication failed";
    case ESC_CRYPTO_EIO:
        return "i/o error";
    case ESC_CRYPTO_ENOKEY:
        return "unknown key version";
    case ESC_CRYPTO_ESPACE:
        return "output buffer too small";
    case ESC_CRYPTO_EPERM:
        return "key file permissions too open";
    case ESC_CRYPTO_EEXIST:
        return "file exists";
    }

    return "unknown error";
}


void
esc_free_secret(void *p, size_t len)
{
    if (p != NULL) {
        OPENSSL_cleanse(p, len);
        free(p);
    }
}


int
esc_hmac_sm3(const uint8_t *key, size_t keylen, const esc_iov_t *iov,
    size_t n, uint8_t out[ESC_SM3_LEN])
{
    int           rc;
    size_t        i, outl, off, len;
    EVP_MAC      *mac;
    OSSL_PARAM    params[2];
    EVP_MAC_CTX  *ctx;

    rc = ESC_CRYPTO_ECRYPTO;
    ctx = NULL;

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) {
        return rc;
    }

    ctx = EVP_MAC_CTX_new(mac);
    if (ctx == NULL) {
        goto done;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SM3", 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(ctx, key, keylen, params) != 1) {
        goto done;
    }

    for (i = 0; i < n; i++) {
        for (off = 0; off < iov[i].len; off += len) {
            len = iov[i].len - off;
            if (len > ESC_CHUNK) {
                len = ESC_CHUNK;
            }

            if (EVP_MAC_update(ctx, iov[i].p + off, len) != 1) {
                goto done;
            }
        }
    }

    if (EVP_MAC_final(ctx, out, &outl, ESC_SM3_LEN) != 1
        || outl != ESC_SM3_LEN)
    {
        goto done;
    }

    rc = ESC_CRYPTO_OK;

done:

    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);

    return rc;
}


int
esc_kdf_sm3(const uint8_t *key, size_t keylen, const char *label,
    uint8_t *out, size_t outlen)
{
    int        rc;
    uint8_t    one, t[ESC_SM3_LEN];
    esc_iov_t  iov[2];

    if (outlen > ESC_SM3_LEN || label == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    /* T(1) = HMAC(PRK, info || 0x01); the key is already uniform. */
    one = 1;
    iov[0].p = (const uint8_t *) label;
    iov[0].len = strlen(label);
    iov[1].p = &one;
    iov[1].len = 1;

    rc = esc_hmac_sm3(key, keylen, iov, 2, t);
    if (rc == ESC_CRYPTO_OK) {
        memcpy(out, t, outlen);
    }

    OPENSSL_cleanse(t, sizeof(t));

    return rc;
}


int
esc_sm4_ctr(const uint8_t key[ESC_SM4_KEYLEN],
    const uint8_t iv[ESC_SM4_IVLEN], const uint8_t *in, size_t len,
    uint8_t *out)
{
    int              rc, outl;
    size_t           off, n;
    EVP_CIPHER      *cipher;
    EVP_CIPHER_CTX  *ctx;

    rc = ESC_CRYPTO_ECRYPTO;
    ctx = NULL;

    cipher = EVP_CIPHER_fetch(NULL, "SM4-CTR", NULL);
    if (cipher == NULL) {
        return rc;
    }

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL
        || EVP_EncryptInit_ex2(ctx, cipher, key, iv, NULL) != 1)
    {
        goto done;
    }

    for (off = 0; off < len; off += n) {
        n = len - off;
        if (n > ESC_CHUNK) {
            n = ESC_CHUNK;
        }

        if (EVP_EncryptUpdate(ctx, out + off, &outl, in + off, (int) n) != 1
            || (size_t) outl != n)
        {
            goto done;
        }
    }

    rc = ESC_CRYPTO_OK;

done:

    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(cipher);

    return rc;
}


void
esc_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}


uint32_t
esc_get_be32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}


void
esc_put_be64(uint8_t *p, uint64_t v)
{
    esc_put_be32(p, (uint32_t) (v >> 32));
    esc_put_be32(p + 4, (uint32_t) v);
}


uint64_t
esc_get_be64(const uint8_t *p)
{
    return ((uint64_t) esc_get_be32(p) << 32) | esc_get_be32(p + 4);
}
