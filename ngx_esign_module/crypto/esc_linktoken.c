/*
 * Encrypted, authenticated link tokens (see esc_linktoken.h).
 */

#include <string.h>

#include <openssl/crypto.h>

#include "esc_codec.h"
#include "esc_int.h"
#include "esc_linktoken.h"
#include "esc_rand.h"


#define ESC_LINK_VERSION   1
#define ESC_LINK_HDR_LEN   (1 + ESC_SM4_IVLEN)
#define ESC_LINK_FIXED     10       /* kind + expiry + id length */


static int
esc_link_keys(const uint8_t *key, uint8_t *enc, uint8_t *mac)
{
    int  rc;

    rc = esc_kdf_sm3(key, ESC_LINK_KEY_LEN, "esign/link/v1/sm4-ctr", enc,
                     ESC_SM4_KEYLEN);
    if (rc == ESC_CRYPTO_OK) {
        rc = esc_kdf_sm3(key, ESC_LINK_KEY_LEN, "esign/link/v1/hmac-sm3",
                         mac, ESC_SM3_LEN);
    }

    return rc;
}


int
esc_linktoken_issue(const uint8_t *key, uint8_t kind, const char *id,
    size_t idlen, int64_t expires, char *out, size_t outsz, size_t *outlen)
{
    int        rc;
    size_t     n;
    uint8_t    raw[ESC_LINK_RAW_MAX], pt[ESC_LINK_FIXED + ESC_LINK_ID_MAX];
    uint8_t    enc[ESC_SM4_KEYLEN], mac[ESC_SM3_LEN], tag[ESC_SM3_LEN];
    esc_iov_t  iov;

    if (key == NULL || id == NULL || out == NULL || outlen == NULL
        || idlen == 0 || idlen > ESC_LINK_ID_MAX
        || memchr(id, '\0', idlen) != NULL)
    {
        return ESC_CRYPTO_EINVAL;
    }

    n = ESC_LINK_HDR_LEN + ESC_LINK_FIXED + idlen + ESC_LINK_TAG_LEN;
    if (outsz < esc_b64_encoded_len(n, ESC_B64_URL) + 1) {
        return ESC_CRYPTO_ESPACE;
    }

    pt[0] = kind;
    esc_put_be64(pt + 1, (uint64_t) expires);
    pt[9] = (uint8_t) idlen;
    memcpy(pt + ESC_LINK_FIXED, id, idlen);

    raw[0] = ESC_LINK_VERSION;

    rc = esc_rand_bytes(raw + 1, ESC_SM4_IVLEN);
    if (rc == ESC_CRYPTO_OK) {
        rc = esc_link_keys(key, enc, mac);
    }

    if (rc == ESC_CRYPTO_OK) {
        rc = esc_sm4_ctr(enc, raw + 1, pt, ESC_LINK_FIXED + idlen,
                         raw + ESC_LINK_HDR_LEN);
    }

    if (rc == ESC_CRYPTO_OK) {
        iov.p = raw;
        iov.len = ESC_LINK_HDR_LEN + ESC_LINK_FIXED + idlen;
        rc = esc_hmac_sm3(mac, sizeof(mac), &iov, 1, tag);
    }

    if (rc == ESC_CRYPTO_OK) {
        memcpy(raw + iov.len, tag, ESC_LINK_TAG_LEN);
        rc = esc_b64_encode(out, outsz, raw, n, ESC_B64_URL);
    }

    if (rc == ESC_CRYPTO_OK) {
        *outlen = esc_b64_encoded_len(n, ESC_B64_URL);
    }

    OPENSSL_cleanse(enc, sizeof(enc));
    OPENSSL_cleanse(mac, sizeof(mac));
    OPENSSL_cleanse(pt, sizeof(pt));

    return rc;
}


esc_link_status_t
esc_linktoken_verify(const uint8_t *key, const char *tok, size_t len,
    int64_t now, esc_linktoken_t *obj)
{
    size_t             n, ctlen, idlen;
    uint8_t            raw[ESC_LINK_RAW_MAX];
    uint8_t            pt[ESC_LINK_FIXED + ESC_LINK_ID_MAX];
    uint8_t            enc[ESC_SM4_KEYLEN], mac[ESC_SM3_LEN];
    uint8_t            tag[ESC_SM3_LEN];
    int64_t            expires;
    esc_iov_t          iov;
    esc_link_status_t  st;

    if (obj != NULL) {
        memset(obj, 0, sizeof(esc_linktoken_t));
    }

    if (key == NULL || tok == NULL || len > ESC_LINK_TOKEN_MAX
        || esc_b64_decode(raw, sizeof(raw), &n, tok, len, ESC_B64_URL)
           != ESC_CRYPTO_OK
        || n < ESC_LINK_HDR_LEN + ESC_LINK_FIXED + 1 + ESC_LINK_TAG_LEN
        || raw[0] != ESC_LINK_VERSION)
    {
        return ESC_LINK_INVALID;
    }

    st = ESC_LINK_INVALID;
    ctlen = n - ESC_LINK_HDR_LEN - ESC_LINK_TAG_LEN;

    if (esc_link_keys(key, enc, mac) != ESC_CRYPTO_OK) {
        goto done;
    }

    iov.p = raw;
    iov.len = ESC_LINK_HDR_LEN + ctlen;

    if (esc_hmac_sm3(mac, sizeof(mac), &iov, 1, tag) != ESC_CRYPTO_OK
        || CRYPTO_memcmp(tag, raw + iov.len, ESC_LINK_TAG_LEN) != 0)
    {
        goto done;
    }

    if (esc_sm4_ctr(enc, raw + 1, raw + ESC_LINK_HDR_LEN, ctlen, pt)
        != ESC_CRYPTO_OK)
    {
        goto done;
    }

    idlen = pt[9];
    if (idlen == 0 || idlen != ctlen - ESC_LINK_FIXED
        || memchr(pt + ESC_LINK_FIXED, '\0', idlen) != NULL)
    {
        goto done;                  /* authentic but not ours: refuse */
    }

    expires = (int64_t) esc_get_be64(pt + 1);
    st = (now >= expires) ? ESC_LINK_EXPIRED : ESC_LINK_VALID;

    if (obj != NULL) {
        obj->kind = pt[0];
        obj->expires = expires;
        obj->idlen = idlen;
        memcpy(obj->id, pt + ESC_LINK_FIXED, idlen);
        obj->id[idlen] = '\0';
    }

done:

    OPENSSL_cleanse(enc, sizeof(enc));
    OPENSSL_cleanse(mac, sizeof(mac));
    OPENSSL_cleanse(pt, sizeof(pt));

    return st;
}
