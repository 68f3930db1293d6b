/*
 * Shared primitives of libescrypto: HMAC-SM3, an HKDF-Expand style key
 * derivation, SM4-CTR, byte order helpers and the error strings.
 */

#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "esc_int.h"
#include "ledger.h"             /* esl_sm3_*: SM3 without EVP */


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


/*
 * HMAC-SM3 (RFC 2104 with SM3's 64-byte block) over the ledger's SM3:
 * through EVP_MAC each call fetched the algorithm and built a context,
 * several microseconds for a few hundred bytes, and every field
 * decryption, tag and key derivation is one or more of these.
 * t/test_hmac.c checks it against OpenSSL's HMAC.
 */
int
esc_hmac_sm3(const uint8_t *key, size_t keylen, const esc_iov_t *iov,
    size_t n, uint8_t out[ESC_SM3_LEN])
{
    size_t       i;
    uint8_t      k0[64], pad[64], inner[ESC_SM3_LEN];
    esl_sm3_ctx  c;

    if ((key == NULL && keylen != 0) || (iov == NULL && n != 0)
        || out == NULL)
    {
        return ESC_CRYPTO_EINVAL;
    }

    memset(k0, 0, sizeof(k0));

    if (keylen > sizeof(k0)) {
        esl_sm3_init(&c);
        esl_sm3_update(&c, key, keylen);
        esl_sm3_final(&c, k0);

    } else if (keylen != 0) {
        memcpy(k0, key, keylen);
    }

    for (i = 0; i < sizeof(pad); i++) {
        pad[i] = k0[i] ^ 0x36;
    }

    esl_sm3_init(&c);
    esl_sm3_update(&c, pad, sizeof(pad));

    for (i = 0; i < n; i++) {
        if (iov[i].len != 0) {
            if (iov[i].p == NULL) {
                OPENSSL_cleanse(k0, sizeof(k0));
                OPENSSL_cleanse(pad, sizeof(pad));
                OPENSSL_cleanse(&c, sizeof(c));
                return ESC_CRYPTO_EINVAL;
            }

            esl_sm3_update(&c, iov[i].p, iov[i].len);
        }
    }

    esl_sm3_final(&c, inner);

    for (i = 0; i < sizeof(pad); i++) {
        pad[i] = k0[i] ^ 0x5c;
    }

    esl_sm3_init(&c);
    esl_sm3_update(&c, pad, sizeof(pad));
    esl_sm3_update(&c, inner, sizeof(inner));
    esl_sm3_final(&c, out);

    OPENSSL_cleanse(k0, sizeof(k0));
    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(inner, sizeof(inner));
    OPENSSL_cleanse(&c, sizeof(c));

    return ESC_CRYPTO_OK;
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


/* SM4-CTR is fetched once per process (an explicit fetch per call cost
 * more than encrypting a field); EVP_CIPHER objects are shared
 * read-only between threads. */
static EVP_CIPHER      *esc_sm4_ctr_cipher;
static pthread_once_t   esc_sm4_ctr_once = PTHREAD_ONCE_INIT;


static void
esc_sm4_ctr_fetch(void)
{
    esc_sm4_ctr_cipher = EVP_CIPHER_fetch(NULL, "SM4-CTR", NULL);
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

    if (pthread_once(&esc_sm4_ctr_once, esc_sm4_ctr_fetch) != 0
        || esc_sm4_ctr_cipher == NULL)
    {
        return rc;
    }

    cipher = esc_sm4_ctr_cipher;

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
