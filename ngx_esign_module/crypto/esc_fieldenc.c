/*
 * SM4 field encryption and HMAC-SM3 blind indexes (see esc_fieldenc.h).
 */

#include <string.h>

#include <openssl/crypto.h>

#include "esc_codec.h"
#include "esc_fieldenc.h"
#include "esc_int.h"
#include "esc_rand.h"


#define ESC_FIELD_VERSION  1
#define ESC_FIELD_RAW_MAX  (ESC_FIELD_MAX + ESC_FIELD_OVERHEAD)


static int esc_fieldenc_keys(const uint8_t *key, uint8_t *enc,
    uint8_t *mac);
static int esc_fieldenc_tag(const uint8_t *mac, const uint8_t *raw,
    size_t ctlen, const uint8_t *aad, size_t aadlen, uint8_t *tag);


size_t
esc_fieldenc_len(size_t ptlen)
{
    return esc_b64_encoded_len(ptlen + ESC_FIELD_OVERHEAD, ESC_B64_URL);
}


static int
esc_fieldenc_keys(const uint8_t *key, uint8_t *enc, uint8_t *mac)
{
    int  rc;

    rc = esc_kdf_sm3(key, ESC_FIELD_KEY_LEN, "esign/fieldenc/v1/sm4-ctr",
                     enc, ESC_SM4_KEYLEN);
    if (rc == ESC_CRYPTO_OK) {
        rc = esc_kdf_sm3(key, ESC_FIELD_KEY_LEN,
                         "esign/fieldenc/v1/hmac-sm3", mac, ESC_SM3_LEN);
    }

    return rc;
}


/* raw = version | nonce | ciphertext */
static int
esc_fieldenc_tag(const uint8_t *mac, const uint8_t *raw, size_t ctlen,
    const uint8_t *aad, size_t aadlen, uint8_t *tag)
{
    uint8_t    alen[8];
    esc_iov_t  iov[4];

    esc_put_be64(alen, (uint64_t) aadlen);

    iov[0].p = raw;
    iov[0].len = 1 + ESC_SM4_IVLEN;
    iov[1].p = alen;
    iov[1].len = sizeof(alen);
    iov[2].p = aad;
    iov[2].len = aadlen;
    iov[3].p = raw + 1 + ESC_SM4_IVLEN;
    iov[3].len = ctlen;

    return esc_hmac_sm3(mac, ESC_SM3_LEN, iov, 4, tag);
}


int
esc_fieldenc_encrypt(const uint8_t *key, const uint8_t *aad, size_t aadlen,
    const uint8_t *pt, size_t ptlen, char *out, size_t outsz,
    size_t *outlen)
{
    int      rc;
    uint8_t  raw[ESC_FIELD_RAW_MAX], enc[ESC_SM4_KEYLEN];
    uint8_t  mac[ESC_SM3_LEN];

    if (key == NULL || out == NULL || outlen == NULL
        || (pt == NULL && ptlen != 0) || (aad == NULL && aadlen != 0)
        || ptlen > ESC_FIELD_MAX)
    {
        return ESC_CRYPTO_EINVAL;
    }

    if (outsz < esc_fieldenc_len(ptlen) + 1) {
        return ESC_CRYPTO_ESPACE;
    }

    raw[0] = ESC_FIELD_VERSION;

    rc = esc_rand_bytes(raw + 1, ESC_SM4_IVLEN);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    rc = esc_fieldenc_keys(key, enc, mac);
    if (rc == ESC_CRYPTO_OK) {
        rc = esc_sm4_ctr(enc, raw + 1, pt, ptlen, raw + 1 + ESC_SM4_IVLEN);
    }

    if (rc == ESC_CRYPTO_OK) {
        rc = esc_fieldenc_tag(mac, raw, ptlen, aad, aadlen,
                              raw + 1 + ESC_SM4_IVLEN + ptlen);
    }

    if (rc == ESC_CRYPTO_OK) {
        rc = esc_b64_encode(out, outsz, raw, ptlen + ESC_FIELD_OVERHEAD,
                            ESC_B64_URL);
    }

    if (rc == ESC_CRYPTO_OK) {
        *outlen = esc_fieldenc_len(ptlen);
    }

    OPENSSL_cleanse(enc, sizeof(enc));
    OPENSSL_cleanse(mac, sizeof(mac));

    return rc;
}


int
esc_fieldenc_decrypt(const uint8_t *key, const uint8_t *aad, size_t aadlen,
    const char *in, size_t inlen, uint8_t *out, size_t outsz,
    size_t *outlen)
{
    int      rc;
    size_t   n, ctlen;
    uint8_t  raw[ESC_FIELD_RAW_MAX], enc[ESC_SM4_KEYLEN];
    uint8_t  mac[ESC_SM3_LEN], tag[ESC_SM3_LEN];

    if (key == NULL || in == NULL || outlen == NULL
        || (aad == NULL && aadlen != 0)
        || inlen > esc_fieldenc_len(ESC_FIELD_MAX))
    {
        return ESC_CRYPTO_EINVAL;
    }

    if (esc_b64_decode(raw, sizeof(raw), &n, in, inlen, ESC_B64_URL)
        != ESC_CRYPTO_OK
        || n < ESC_FIELD_OVERHEAD || raw[0] != ESC_FIELD_VERSION)
    {
        return ESC_CRYPTO_EINVAL;
    }

    ctlen = n - ESC_FIELD_OVERHEAD;
    if (outsz < ctlen || (out == NULL && ctlen != 0)) {
        return ESC_CRYPTO_ESPACE;
    }

    rc = esc_fieldenc_keys(key, enc, mac);
    if (rc == ESC_CRYPTO_OK) {
        rc = esc_fieldenc_tag(mac, raw, ctlen, aad, aadlen, tag);
    }

    if (rc == ESC_CRYPTO_OK
        && CRYPTO_memcmp(tag, raw + 1 + ESC_SM4_IVLEN + ctlen, ESC_SM3_LEN)
           != 0)
    {
        rc = ESC_CRYPTO_EAUTH;
    }

    if (rc == ESC_CRYPTO_OK) {
        rc = esc_sm4_ctr(enc, raw + 1, raw + 1 + ESC_SM4_IVLEN, ctlen, out);
    }

    if (rc == ESC_CRYPTO_OK) {
        *outlen = ctlen;
    }

    OPENSSL_cleanse(enc, sizeof(enc));
    OPENSSL_cleanse(mac, sizeof(mac));

    return rc;
}


int
esc_blind_index(const uint8_t *key, const char *domain, const uint8_t *val,
    size_t len, uint8_t out[ESC_BLIND_LEN])
{
    uint8_t    zero;
    esc_iov_t  iov[3];

    if (key == NULL || domain == NULL || out == NULL
        || (val == NULL && len != 0))
    {
        return ESC_CRYPTO_EINVAL;
    }

    zero = 0;
    iov[0].p = (const uint8_t *) domain;
    iov[0].len = strlen(domain);
    iov[1].p = &zero;
    iov[1].len = 1;
    iov[2].p = val;
    iov[2].len = len;

    return esc_hmac_sm3(key, ESC_FIELD_KEY_LEN, iov, 3, out);
}


int
esc_blind_index_hex(const uint8_t *key, const char *domain,
    const uint8_t *val, size_t len, char out[2 * ESC_BLIND_LEN + 1])
{
    int      rc;
    uint8_t  raw[ESC_BLIND_LEN];

    rc = esc_blind_index(key, domain, val, len, raw);
    if (rc == ESC_CRYPTO_OK) {
        rc = esc_hex_encode(out, 2 * ESC_BLIND_LEN + 1, raw, sizeof(raw));
    }

    return rc;
}
