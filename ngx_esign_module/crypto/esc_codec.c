/*
 * Strict hex, base64, base64url and base32 codecs (see esc_codec.h).
 */

#include <string.h>

#include "esc_codec.h"


static const char  esc_hex_digits[] = "0123456789abcdef";
static const char  esc_b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char  esc_b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char  esc_b32_alpha[] = "abcdefghijklmnopqrstuvwxyz234567";


static int esc_hex_val(int c);
static int esc_b64_val(int c, esc_b64_variant_t v);
static int esc_b32_val(int c);


int
esc_hex_encode(char *dst, size_t dstsz, const uint8_t *src, size_t len)
{
    size_t  i;

    if (dst == NULL || (src == NULL && len != 0)) {
        return ESC_CRYPTO_EINVAL;
    }

    if (len > (SIZE_MAX - 1) / 2 || dstsz < 2 * len + 1) {
        return ESC_CRYPTO_ESPACE;
    }

    for (i = 0; i < len; i++) {
        dst[2 * i] = esc_hex_digits[src[i] >> 4];
        dst[2 * i + 1] = esc_hex_digits[src[i] & 0x0f];
    }

    dst[2 * len] = '\0';

    return ESC_CRYPTO_OK;
}


static int
esc_hex_val(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


int
esc_hex_decode(uint8_t *dst, size_t dstsz, size_t *outlen, const char *src,
    size_t srclen)
{
    int     hi, lo;
    size_t  i;

    if ((dst == NULL && srclen != 0) || (src == NULL && srclen != 0)
        || outlen == NULL || srclen % 2 != 0)
    {
        return ESC_CRYPTO_EINVAL;
    }

    if (dstsz < srclen / 2) {
        return ESC_CRYPTO_ESPACE;
    }

    for (i = 0; i < srclen; i += 2) {
        hi = esc_hex_val((unsigned char) src[i]);
        lo = esc_hex_val((unsigned char) src[i + 1]);

        if (hi < 0 || lo < 0) {
            return ESC_CRYPTO_EINVAL;
        }

        dst[i / 2] = (uint8_t) (hi << 4 | lo);
    }

    *outlen = srclen / 2;

    return ESC_CRYPTO_OK;
}


size_t
esc_b64_encoded_len(size_t len, esc_b64_variant_t v)
{
    if (v == ESC_B64_STD) {
        return (len + 2) / 3 * 4;
    }

    return len / 3 * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
}


size_t
esc_b64_decoded_max(size_t srclen)
{
    return srclen / 4 * 3 + 3;
}


int
esc_b64_encode(char *dst, size_t dstsz, const uint8_t *src, size_t len,
    esc_b64_variant_t v)
{
    char          *d;
    size_t         i, need;
    uint32_t       w;
    const char    *alpha;

    if (dst == NULL || (src == NULL && len != 0)
        || (v != ESC_B64_STD && v != ESC_B64_URL))
    {
        return ESC_CRYPTO_EINVAL;
    }

    if (len > SIZE_MAX / 2) {
        return ESC_CRYPTO_ESPACE;
    }

    need = esc_b64_encoded_len(len, v) + 1;
    if (dstsz < need) {
        return ESC_CRYPTO_ESPACE;
    }

    alpha = (v == ESC_B64_STD) ? esc_b64_std : esc_b64_url;
    d = dst;

    for (i = 0; i + 2 < len; i += 3) {
        w = (uint32_t) src[i] << 16 | (uint32_t) src[i + 1] << 8 | src[i + 2];
        *d++ = alpha[(w >> 18) & 63];
        *d++ = alpha[(w >> 12) & 63];
        *d++ = alpha[(w >> 6) & 63];
        *d++ = alpha[w & 63];
    }

    if (len - i == 1) {
        w = (uint32_t) src[i] << 16;
        *d++ = alpha[(w >> 18) & 63];
        *d++ = alpha[(w >> 12) & 63];
        if (v == ESC_B64_STD) {
            *d++ = '=';
            *d++ = '=';
        }

    } else if (len - i == 2) {
        w = (uint32_t) src[i] << 16 | (uint32_t) src[i + 1] << 8;
        *d++ = alpha[(w >> 18) & 63];
        *d++ = alpha[(w >> 12) & 63];
        *d++ = alpha[(w >> 6) & 63];
        if (v == ESC_B64_STD) {
            *d++ = '=';
        }
    }

    *d = '\0';

    return ESC_CRYPTO_OK;
}


static int
esc_b64_val(int c, esc_b64_variant_t v)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (v == ESC_B64_STD) {
        return c == '+' ? 62 : (c == '/' ? 63 : -1);
    }

    return c == '-' ? 62 : (c == '_' ? 63 : -1);
}


int
esc_b64_decode(uint8_t *dst, size_t dstsz, size_t *outlen, const char *src,
    size_t srclen, esc_b64_variant_t v)
{
    int       c[4];
    size_t    i, n, full, rem, out;

    if (outlen == NULL || (src == NULL && srclen != 0)
        || (v != ESC_B64_STD && v != ESC_B64_URL))
    {
        return ESC_CRYPTO_EINVAL;
    }

    if (v == ESC_B64_STD) {
        if (srclen % 4 != 0) {
            return ESC_CRYPTO_EINVAL;
        }

        /* Strip at most two '=' of the last quantum; they become rem. */
        n = srclen;
        if (n > 0 && src[n - 1] == '=') {
            n--;
            if (src[n - 1] == '=') {
                n--;
            }
        }

    } else {
        n = srclen;
    }

    full = n / 4;
    rem = n % 4;

    if (rem == 1) {
        return ESC_CRYPTO_EINVAL;
    }

    out = full * 3 + (rem == 0 ? 0 : rem - 1);
    if (dstsz < out || (dst == NULL && out != 0)) {
        return ESC_CRYPTO_ESPACE;
    }

    for (i = 0; i < full; i++) {
        c[0] = esc_b64_val((unsigned char) src[4 * i], v);
        c[1] = esc_b64_val((unsigned char) src[4 * i + 1], v);
        c[2] = esc_b64_val((unsigned char) src[4 * i + 2], v);
        c[3] = esc_b64_val((unsigned char) src[4 * i + 3], v);

        if ((c[0] | c[1] | c[2] | c[3]) < 0) {
            return ESC_CRYPTO_EINVAL;
        }

        dst[3 * i] = (uint8_t) (c[0] << 2 | c[1] >> 4);
        dst[3 * i + 1] = (uint8_t) (c[1] << 4 | c[2] >> 2);
        dst[3 * i + 2] = (uint8_t) (c[2] << 6 | c[3]);
    }

    if (rem != 0) {
        c[0] = esc_b64_val((unsigned char) src[4 * i], v);
        c[1] = esc_b64_val((unsigned char) src[4 * i + 1], v);
        c[2] = (rem == 3) ? esc_b64_val((unsigned char) src[4 * i + 2], v)
                          : 0;

        if ((c[0] | c[1] | c[2]) < 0) {
            return ESC_CRYPTO_EINVAL;
        }

        /* Canonical form: the unused low bits must be zero. */
        if ((rem == 2 && (c[1] & 0x0f) != 0)
            || (rem == 3 && (c[2] & 0x03) != 0))
        {
            return ESC_CRYPTO_EINVAL;
        }

        dst[3 * i] = (uint8_t) (c[0] << 2 | c[1] >> 4);
        if (rem == 3) {
            dst[3 * i + 1] = (uint8_t) (c[1] << 4 | c[2] >> 2);
        }
    }

    *outlen = out;

    return ESC_CRYPTO_OK;
}


size_t
esc_b32_encoded_len(size_t len)
{
    return (len * 8 + 4) / 5;
}


int
esc_b32_encode(char *dst, size_t dstsz, const uint8_t *src, size_t len)
{
    int       bits;
    size_t    i, o;
    uint32_t  acc;

    if (dst == NULL || (src == NULL && len != 0)) {
        return ESC_CRYPTO_EINVAL;
    }

    if (len > SIZE_MAX / 16 || dstsz < esc_b32_encoded_len(len) + 1) {
        return ESC_CRYPTO_ESPACE;
    }

    acc = 0;
    bits = 0;
    o = 0;

    for (i = 0; i < len; i++) {
        acc = (acc << 8) | src[i];
        bits += 8;

        while (bits >= 5) {
            dst[o++] = esc_b32_alpha[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }

    if (bits > 0) {
        dst[o++] = esc_b32_alpha[(acc << (5 - bits)) & 31];
    }

    dst[o] = '\0';

    return ESC_CRYPTO_OK;
}


static int
esc_b32_val(int c)
{
    if (c >= 'a' && c <= 'z') {
        return c - 'a';
    }

    if (c >= '2' && c <= '7') {
        return c - '2' + 26;
    }

    return -1;
}


int
esc_b32_decode(uint8_t *dst, size_t dstsz, size_t *outlen, const char *src,
    size_t srclen)
{
    int       bits, val;
    size_t    i, o, out;
    uint32_t  acc;

    if (outlen == NULL || (src == NULL && srclen != 0)) {
        return ESC_CRYPTO_EINVAL;
    }

    /* Lengths 1, 3 and 6 mod 8 cannot come from whole bytes. */
    switch (srclen % 8) {
    case 1:
    case 3:
    case 6:
        return ESC_CRYPTO_EINVAL;
    }

    out = srclen * 5 / 8;
    if (dstsz < out || (dst == NULL && out != 0)) {
        return ESC_CRYPTO_ESPACE;
    }

    acc = 0;
    bits = 0;
    o = 0;

    for (i = 0; i < srclen; i++) {
        val = esc_b32_val((unsigned char) src[i]);
        if (val < 0) {
            return ESC_CRYPTO_EINVAL;
        }

        acc = (acc << 5) | (uint32_t) val;
        bits += 5;

        if (bits >= 8) {
            dst[o++] = (uint8_t) (acc >> (bits - 8));
            bits -= 8;
        }
    }

    if ((acc & ((1u << bits) - 1)) != 0) {
        return ESC_CRYPTO_EINVAL;
    }

    *outlen = o;

    return ESC_CRYPTO_OK;
}
