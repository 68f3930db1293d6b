/*
 * Per-file document encryption (SM4-CTR + HMAC-SM3 or AES-256-GCM) and
 * the sealed envelope for small secrets (see esc_docenc.h).
 */

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "esc_docenc.h"
#include "esc_int.h"
#include "esc_rand.h"


#define ESC_DOCENC_MAGIC     "ESDC"
#define ESC_DOCENC_VERSION   1
#define ESC_GCM_NONCE_LEN    12
#define ESC_GCM_TAG_LEN      16
#define ESC_SEAL_MAGIC       "ESE1"
#define ESC_SEAL_HDR_LEN     6
#define ESC_CHUNK            (1 << 30)


static int esc_docenc_nat_keys(const uint8_t *dk, uint8_t *enc,
    uint8_t *mac);
static int esc_docenc_nat_tag(const uint8_t *mac, const uint8_t *blob,
    size_t ctlen, const uint8_t *aad, size_t aadlen, uint8_t *tag);
static int esc_docenc_gcm(int enc, const uint8_t *dk, const uint8_t *blob,
    const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len,
    uint8_t *out, uint8_t *tag);


int
esc_docenc_keygen(uint8_t dk[ESC_DOCENC_KEY_LEN])
{
    return esc_rand_bytes(dk, ESC_DOCENC_KEY_LEN);
}


static size_t
esc_docenc_nonce_len(esc_suite_t suite)
{
    return suite == ESC_SUITE_NATIONAL ? ESC_SM4_IVLEN : ESC_GCM_NONCE_LEN;
}


static size_t
esc_docenc_tag_len(esc_suite_t suite)
{
    return suite == ESC_SUITE_NATIONAL ? ESC_SM3_LEN : ESC_GCM_TAG_LEN;
}


size_t
esc_docenc_blob_len(esc_suite_t suite, size_t ptlen)
{
    if ((suite != ESC_SUITE_NATIONAL && suite != ESC_SUITE_INTL)
        || ptlen > ESC_DOCENC_MAX)
    {
        return 0;
    }

    return ESC_DOCENC_HDR_LEN + esc_docenc_nonce_len(suite) + ptlen
           + esc_docenc_tag_len(suite);
}


static int
esc_docenc_nat_keys(const uint8_t *dk, uint8_t *enc, uint8_t *mac)
{
    int  rc;

    rc = esc_kdf_sm3(dk, ESC_DOCENC_KEY_LEN, "esign/docenc/v1/sm4-ctr", enc,
                     ESC_SM4_KEYLEN);
    if (rc == ESC_CRYPTO_OK) {
        rc = esc_kdf_sm3(dk, ESC_DOCENC_KEY_LEN, "esign/docenc/v1/hmac-sm3",
                         mac, ESC_SM3_LEN);
    }

    return rc;
}


/* blob points at the header; the ciphertext follows header and IV. */
static int
esc_docenc_nat_tag(const uint8_t *mac, const uint8_t *blob, size_t ctlen,
    const uint8_t *aad, size_t aadlen, uint8_t *tag)
{
    uint8_t    alen[8];
    esc_iov_t  iov[4];

    esc_put_be64(alen, (uint64_t) aadlen);

    iov[0].p = blob;
    iov[0].len = ESC_DOCENC_HDR_LEN + ESC_SM4_IVLEN;
    iov[1].p = alen;
    iov[1].len = sizeof(alen);
    iov[2].p = aad;
    iov[2].len = aadlen;
    iov[3].p = blob + ESC_DOCENC_HDR_LEN + ESC_SM4_IVLEN;
    iov[3].len = ctlen;

    return esc_hmac_sm3(mac, ESC_SM3_LEN, iov, 4, tag);
}


/*
 * AES-256-GCM over in -> out; blob gives header + nonce (the AAD prefix).
 * On decryption tag is the expected tag and failure is ESC_CRYPTO_EAUTH.
 */
static int
esc_docenc_gcm(int enc, const uint8_t *dk, const uint8_t *blob,
    const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len,
    uint8_t *out, uint8_t *tag)
{
    int              rc, outl;
    size_t           off, n;
    EVP_CIPHER      *cipher;
    EVP_CIPHER_CTX  *ctx;

    rc = ESC_CRYPTO_ECRYPTO;
    ctx = NULL;

    cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (cipher == NULL) {
        return rc;
    }

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL
        || EVP_CipherInit_ex2(ctx, cipher, dk, blob + ESC_DOCENC_HDR_LEN,
                              enc, NULL) != 1
        || EVP_CipherUpdate(ctx, NULL, &outl, blob,
                            ESC_DOCENC_HDR_LEN + ESC_GCM_NONCE_LEN) != 1)
    {
        goto done;
    }

    for (off = 0; off < aadlen; off += n) {
        n = aadlen - off > ESC_CHUNK ? ESC_CHUNK : aadlen - off;
        if (EVP_CipherUpdate(ctx, NULL, &outl, aad + off, (int) n) != 1) {
            goto done;
        }
    }

    for (off = 0; off < len; off += n) {
        n = len - off > ESC_CHUNK ? ESC_CHUNK : len - off;
        if (EVP_CipherUpdate(ctx, out + off, &outl, in + off, (int) n) != 1
            || (size_t) outl != n)
        {
            goto done;
        }
    }

    if (enc) {
        if (EVP_CipherFinal_ex(ctx, out + len, &outl) != 1
            || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
                                   ESC_GCM_TAG_LEN, tag) != 1)
        {
            goto done;
        }

    } else {
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, ESC_GCM_TAG_LEN,
                                tag) != 1)
        {
            goto done;
        }

        if (EVP_CipherFinal_ex(ctx, out + len, &outl) != 1) {
            rc = ESC_CRYPTO_EAUTH;
            goto done;
        }
    }

    rc = ESC_CRYPTO_OK;

done:

    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(cipher);

    return rc;
}


int
esc_docenc_encrypt(esc_suite_t suite, const uint8_t *dk, const uint8_t *aad,
    size_t aadlen, const uint8_t *pt, size_t ptlen, uint8_t *out,
    size_t outsz, size_t *outlen)
{
    int      rc;
    size_t   need, nlen;
    uint8_t  enc[ESC_SM4_KEYLEN], mac[ESC_SM3_LEN];

    if (dk == NULL || out == NULL || outlen == NULL
        || (pt == NULL && ptlen != 0) || (aad == NULL && aadlen != 0))
    {
        return ESC_CRYPTO_EINVAL;
    }

    need = esc_docenc_blob_len(suite, ptlen);
    if (need == 0) {
        return ESC_CRYPTO_EINVAL;
    }

    if (outsz < need) {
        return ESC_CRYPTO_ESPACE;
    }

    nlen = esc_docenc_nonce_len(suite);

    memcpy(out, ESC_DOCENC_MAGIC, 4);
    out[4] = ESC_DOCENC_VERSION;
    out[5] = (uint8_t) suite;
    out[6] = 0;
    out[7] = 0;

    rc = esc_rand_bytes(out + ESC_DOCENC_HDR_LEN, nlen);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    if (suite == ESC_SUITE_INTL) {
        rc = esc_docenc_gcm(1, dk, out, aad, aadlen, pt, ptlen,
                            out + ESC_DOCENC_HDR_LEN + nlen,
                            out + ESC_DOCENC_HDR_LEN + nlen + ptlen);

    } else {
        rc = esc_docenc_nat_keys(dk, enc, mac);
        if (rc == ESC_CRYPTO_OK) {
            rc = esc_sm4_ctr(enc, out + ESC_DOCENC_HDR_LEN, pt, ptlen,
                             out + ESC_DOCENC_HDR_LEN + nlen);
        }

        if (rc == ESC_CRYPTO_OK) {
            rc = esc_docenc_nat_tag(mac, out, ptlen, aad, aadlen,
                                    out + ESC_DOCENC_HDR_LEN + nlen + ptlen);
        }

        OPENSSL_cleanse(enc, sizeof(enc));
        OPENSSL_cleanse(mac, sizeof(mac));
    }

    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    *outlen = need;

    return ESC_CRYPTO_OK;
}


int
esc_docenc_parse(const uint8_t *blob, size_t len, esc_docenc_info_t *info)
{
    esc_suite_t  suite;

    if (blob == NULL || info == NULL || len < ESC_DOCENC_HDR_LEN
        || memcmp(blob, ESC_DOCENC_MAGIC, 4) != 0
        || blob[4] != ESC_DOCENC_VERSION
        || (blob[5] != ESC_SUITE_NATIONAL && blob[5] != ESC_SUITE_INTL)
        || blob[6] != 0 || blob[7] != 0)
    {
        return ESC_CRYPTO_EINVAL;
    }

    suite = (esc_suite_t) blob[5];

    info->version = blob[4];
    info->suite = suite;
    info->nonce_off = ESC_DOCENC_HDR_LEN;
    info->nonce_len = esc_docenc_nonce_len(suite);
    info->tag_len = esc_docenc_tag_len(suite);
    info->ct_off = info->nonce_off + info->nonce_len;

    if (len < info->ct_off + info->tag_len) {
        return ESC_CRYPTO_EINVAL;
    }

    info->ct_len = len - info->ct_off - info->tag_len;
    info->tag_off = info->ct_off + info->ct_len;

    if (info->ct_len > ESC_DOCENC_MAX) {
        return ESC_CRYPTO_EINVAL;
    }

    return ESC_CRYPTO_OK;
}


int
esc_docenc_decrypt(const uint8_t *dk, const uint8_t *aad, size_t aadlen,
    const uint8_t *blob, size_t bloblen, uint8_t *out, size_t outsz,
    size_t *outlen)
{
    int                rc;
    uint8_t            enc[ESC_SM4_KEYLEN], mac[ESC_SM3_LEN];
    uint8_t            tag[ESC_SM3_LEN];
    esc_docenc_info_t  info;

    if (dk == NULL || outlen == NULL || (aad == NULL && aadlen != 0)) {
        return ESC_CRYPTO_EINVAL;
    }

    rc = esc_docenc_parse(blob, bloblen, &info);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    if (outsz < info.ct_len || (out == NULL && info.ct_len != 0)) {
        return ESC_CRYPTO_ESPACE;
    }

    if (info.suite == ESC_SUITE_INTL) {
        memcpy(tag, blob + info.tag_off, ESC_GCM_TAG_LEN);
        rc = esc_docenc_gcm(0, dk, blob, aad, aadlen, blob + info.ct_off,
                            info.ct_len, out, tag);
        if (rc != ESC_CRYPTO_OK) {
            OPENSSL_cleanse(out, info.ct_len);
            return rc;
        }

        *outlen = info.ct_len;
        return ESC_CRYPTO_OK;
    }

    rc = esc_docenc_nat_keys(dk, enc, mac);
    if (rc != ESC_CRYPTO_OK) {
        goto done;
    }

    rc = esc_docenc_nat_tag(mac, blob, info.ct_len, aad, aadlen, tag);
    if (rc != ESC_CRYPTO_OK) {
        goto done;
    }

    if (CRYPTO_memcmp(tag, blob + info.tag_off, ESC_SM3_LEN) != 0) {
        rc = ESC_CRYPTO_EAUTH;
        goto done;
    }

    rc = esc_sm4_ctr(enc, blob + info.nonce_off, blob + info.ct_off,
                     info.ct_len, out);
    if (rc != ESC_CRYPTO_OK) {
        OPENSSL_cleanse(out, info.ct_len);
        goto done;
    }

    *outlen = info.ct_len;

done:

    OPENSSL_cleanse(enc, sizeof(enc));
    OPENSSL_cleanse(mac, sizeof(mac));

    return rc;
}


int
esc_seal(const esc_kek_ring_t *ring, const uint8_t *aad, size_t aadlen,
    const uint8_t *pt, size_t ptlen, uint8_t **out, size_t *outlen)
{
    int       rc;
    size_t    wlen, blen, total, n;
    uint8_t  *buf, dk[ESC_DOCENC_KEY_LEN];

    if (ring == NULL || out == NULL || outlen == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    blen = esc_docenc_blob_len(ESC_SUITE_NATIONAL, ptlen);
    if (blen == 0) {
        return ESC_CRYPTO_EINVAL;
    }

    total = ESC_SEAL_HDR_LEN + ESC_KEK_WRAP_OVERHEAD + sizeof(dk) + blen;
    buf = malloc(total);
    if (buf == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    rc = esc_docenc_keygen(dk);
    if (rc != ESC_CRYPTO_OK) {
        goto failed;
    }

    rc = esc_kek_wrap(ring, 0, dk, sizeof(dk), buf + ESC_SEAL_HDR_LEN,
                      total - ESC_SEAL_HDR_LEN, &wlen);
    if (rc != ESC_CRYPTO_OK) {
        goto failed;
    }

    memcpy(buf, ESC_SEAL_MAGIC, 4);
    buf[4] = (uint8_t) (wlen >> 8);
    buf[5] = (uint8_t) wlen;

    rc = esc_docenc_encrypt(ESC_SUITE_NATIONAL, dk, aad, aadlen, pt, ptlen,
                            buf + ESC_SEAL_HDR_LEN + wlen,
                            total - ESC_SEAL_HDR_LEN - wlen, &n);
    if (rc != ESC_CRYPTO_OK) {
        goto failed;
    }

    OPENSSL_cleanse(dk, sizeof(dk));
    *out = buf;
    *outlen = ESC_SEAL_HDR_LEN + wlen + n;

    return ESC_CRYPTO_OK;

failed:

    OPENSSL_cleanse(dk, sizeof(dk));
    free(buf);

    return rc;
}


/* Splits an envelope into its wrapped key and blob. */
static int
esc_seal_split(const uint8_t *in, size_t inlen, size_t *wlen)
{
    if (in == NULL || inlen < ESC_SEAL_HDR_LEN
        || memcmp(in, ESC_SEAL_MAGIC, 4) != 0)
    {
        return ESC_CRYPTO_EINVAL;
    }

    *wlen = (size_t) in[4] << 8 | in[5];

    if (*wlen > ESC_KEK_WRAP_MAX || inlen - ESC_SEAL_HDR_LEN < *wlen) {
        return ESC_CRYPTO_EINVAL;
    }

    return ESC_CRYPTO_OK;
}


int
esc_sealed_version(const uint8_t *in, size_t inlen, uint32_t *version)
{
    int     rc;
    size_t  wlen;

    rc = esc_seal_split(in, inlen, &wlen);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    return esc_kek_wrapped_version(in + ESC_SEAL_HDR_LEN, wlen, version);
}


int
esc_unseal(const esc_kek_ring_t *ring, const uint8_t *aad, size_t aadlen,
    const uint8_t *in, size_t inlen, uint8_t **pt, size_t *ptlen)
{
    int       rc;
    size_t    wlen, dklen, blen, n;
    uint8_t  *buf, dk[ESC_KEK_DK_MAX];

    if (ring == NULL || pt == NULL || ptlen == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    rc = esc_seal_split(in, inlen, &wlen);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    rc = esc_kek_unwrap(ring, in + ESC_SEAL_HDR_LEN, wlen, dk, sizeof(dk),
                        &dklen, NULL);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    if (dklen != ESC_DOCENC_KEY_LEN) {
        OPENSSL_cleanse(dk, sizeof(dk));
        return ESC_CRYPTO_EINVAL;
    }

    blen = inlen - ESC_SEAL_HDR_LEN - wlen;
    buf = malloc(blen + 1);     /* plaintext is shorter than its blob */
    if (buf == NULL) {
        OPENSSL_cleanse(dk, sizeof(dk));
        return ESC_CRYPTO_ENOMEM;
    }

    rc = esc_docenc_decrypt(dk, aad, aadlen, in + ESC_SEAL_HDR_LEN + wlen,
                            blen, buf, blen, &n);
    OPENSSL_cleanse(dk, sizeof(dk));

    if (rc != ESC_CRYPTO_OK) {
        esc_free_secret(buf, blen + 1);
        return rc;
    }

    buf[n] = '\0';              /* convenience for PEM text */
    *pt = buf;
    *ptlen = n;

    return ESC_CRYPTO_OK;
}


int
esc_reseal(const esc_kek_ring_t *ring, const uint8_t *in, size_t inlen,
    uint8_t **out, size_t *outlen)
{
    int       rc;
    size_t    wlen, nwlen, blen;
    uint8_t  *buf, wrapped[ESC_KEK_WRAP_MAX];

    if (ring == NULL || out == NULL || outlen == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    rc = esc_seal_split(in, inlen, &wlen);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    rc = esc_kek_rewrap(ring, in + ESC_SEAL_HDR_LEN, wlen, wrapped,
                        sizeof(wrapped), &nwlen);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    blen = inlen - ESC_SEAL_HDR_LEN - wlen;
    buf = malloc(ESC_SEAL_HDR_LEN + nwlen + blen);
    if (buf == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    memcpy(buf, ESC_SEAL_MAGIC, 4);
    buf[4] = (uint8_t) (nwlen >> 8);
    buf[5] = (uint8_t) nwlen;
    memcpy(buf + ESC_SEAL_HDR_LEN, wrapped, nwlen);
    memcpy(buf + ESC_SEAL_HDR_LEN + nwlen, in + ESC_SEAL_HDR_LEN + wlen,
           blen);

    *out = buf;
    *outlen = ESC_SEAL_HDR_LEN + nwlen + blen;

    return ESC_CRYPTO_OK;
}
