/*
 * Random bytes and opaque random identifiers (see esc_rand.h).
 */

#include <limits.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "esc_codec.h"
#include "esc_rand.h"


int
esc_rand_bytes(uint8_t *buf, size_t len)
{
    size_t  n;

    if (buf == NULL && len != 0) {
        return ESC_CRYPTO_EINVAL;
    }

    while (len > 0) {
        n = len > INT_MAX ? INT_MAX : len;

        if (RAND_bytes(buf, (int) n) != 1) {
            return ESC_CRYPTO_ECRYPTO;
        }

        buf += n;
        len -= n;
    }

    return ESC_CRYPTO_OK;
}


int
esc_rand_id(char out[ESC_RAND_ID_LEN + 1])
{
    int      rc;
    uint8_t  raw[ESC_RAND_ID_BYTES];

    rc = esc_rand_bytes(raw, sizeof(raw));
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    rc = esc_b32_encode(out, ESC_RAND_ID_LEN + 1, raw, sizeof(raw));
    OPENSSL_cleanse(raw, sizeof(raw));

    return rc;
}


int
esc_rand_id_valid(const char *s, size_t len)
{
    size_t   n;
    uint8_t  raw[ESC_RAND_ID_BYTES];

    if (s == NULL || len != ESC_RAND_ID_LEN) {
        return 0;
    }

    return esc_b32_decode(raw, sizeof(raw), &n, s, len) == ESC_CRYPTO_OK
           && n == ESC_RAND_ID_BYTES;
}
