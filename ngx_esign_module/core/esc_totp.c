/*
 * TOTP, base32 and otpauth URIs (see esc_totp.h).
 */

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "esc_totp.h"


static const char  esc_b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static const uint32_t  esc_pow10[9] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000
};


static int esc_b32_value(char c);
static int esc_put_pct(char *out, size_t size, size_t *n,
    const u_char *p, size_t len);


ssize_t
esc_base32_encode(const u_char *p, size_t len, int pad, char *out,
    size_t size)
{
    size_t    i, n, need, bits;
    uint32_t  acc;

    need = (len * 8 + 4) / 5;
    if (pad) {
        need = (need + 7) / 8 * 8;
    }

    if (out == NULL || size < need + 1) {
        if (out != NULL && size > 0) {
            out[0] = '\0';
        }

        return ESC_NOSPACE;
    }

    n = 0;
    acc = 0;
    bits = 0;

    for (i = 0; i < len; i++) {
        acc = (acc << 8) | p[i];
        bits += 8;

        while (bits >= 5) {
            bits -= 5;
            out[n++] = esc_b32[(acc >> bits) & 0x1f];
        }

        acc &= (1u << bits) - 1;
    }

    if (bits > 0) {
        out[n++] = esc_b32[(acc << (5 - bits)) & 0x1f];
    }

    while (n < need) {
        out[n++] = '=';
    }

    out[n] = '\0';

    return (ssize_t) n;
}


static int
esc_b32_value(char c)
{
    if (c >= 'a' && c <= 'z') {
        c = (char) (c - 32);
    }

    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= '2' && c <= '7') {
        return c - '2' + 26;
    }

    return -1;
}


ssize_t
esc_base32_decode(const char *p, size_t len, u_char *out, size_t size)
{
    int       v;
    size_t    i, n, data, bits;
    uint32_t  acc;

    /* padding: absent, or completing a multiple of 8 */

    data = len;

    while (data > 0 && p[data - 1] == '=') {
        data--;
    }

    if (data < len && len % 8 != 0) {
        return ESC_INVALID;
    }

    if (len - data > 6) {
        return ESC_INVALID;
    }

    /* valid data lengths mod 8: 0, 2, 4, 5, 7 */

    switch (data % 8) {
    case 1:
    case 3:
    case 6:
        return ESC_INVALID;
    }

    if (data * 5 / 8 > size) {
        return ESC_NOSPACE;
    }

    n = 0;
    acc = 0;
    bits = 0;

    for (i = 0; i < data; i++) {
        v = esc_b32_value(p[i]);
        if (v < 0) {
            return ESC_INVALID;
        }

        acc = (acc << 5) | (uint32_t) v;
        bits += 5;

        if (bits >= 8) {
            bits -= 8;
            out[n++] = (u_char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    if (acc != 0) {
        return ESC_INVALID;
    }

    return (ssize_t) n;
}


int
esc_hotp(const u_char *key, size_t klen, uint64_t counter, unsigned digits,
    uint32_t *code)
{
    u_char        msg[8], mac[EVP_MAX_MD_SIZE];
    size_t        i, off;
    uint32_t      bin;
    unsigned int  maclen;

    if (key == NULL || klen == 0 || klen > 1024 || digits < 6
        || digits > 8)
    {
        return ESC_INVALID;
    }

    for (i = 0; i < 8; i++) {
        msg[7 - i] = (u_char) (counter >> (8 * i));
    }

    if (HMAC(EVP_sha1(), key, (int) klen, msg, sizeof(msg), mac, &maclen)
        == NULL || maclen != 20)
    {
        return ESC_ERROR;
    }

    /* dynamic truncation, RFC 4226 section 5.3 */

    off = mac[19] & 0x0f;
    bin = ((uint32_t) (mac[off] & 0x7f) << 24)
          | ((uint32_t) mac[off + 1] << 16)
          | ((uint32_t) mac[off + 2] << 8)
          | mac[off + 3];

    *code = bin % esc_pow10[digits];

    OPENSSL_cleanse(mac, sizeof(mac));

    return ESC_OK;
}


int
esc_totp(const u_char *key, size_t klen, uint64_t t, unsigned step,
    unsigned digits, uint32_t *code)
{
    if (step == 0) {
        step = ESC_TOTP_STEP;
    }

    return esc_hotp(key, klen, t / step, digits, code);
}


int
esc_totp_verify(const u_char *key, size_t klen, const char *code,
    size_t clen, uint64_t now, uint64_t last_step, uint64_t *step)
{
    int       k, found;
    char      want[16];
    size_t    i;
    uint32_t  c;
    uint64_t  s, cur, matched;

    if (code == NULL || clen != ESC_TOTP_DIGITS) {
        return ESC_INVALID;
    }

    for (i = 0; i < clen; i++) {
        if (code[i] < '0' || code[i] > '9') {
            return ESC_INVALID;
        }
    }

    cur = now / ESC_TOTP_STEP;
    found = 0;
    matched = 0;

    /* every candidate is computed: the time does not tell which matched */

    for (k = -ESC_TOTP_WINDOW; k <= ESC_TOTP_WINDOW; k++) {
        if (k < 0 && cur < (uint64_t) -k) {
            continue;
        }

        s = cur + (uint64_t) (int64_t) k;

        if (esc_hotp(key, klen, s, ESC_TOTP_DIGITS, &c) != ESC_OK) {
            return ESC_ERROR;
        }

        snprintf(want, sizeof(want), "%06u", (unsigned) c);

        if (CRYPTO_memcmp(want, code, ESC_TOTP_DIGITS) == 0
            && (last_step == 0 || s > last_step))
        {
            found = 1;
            matched = s;
        }
    }

    OPENSSL_cleanse(want, sizeof(want));

    if (!found) {
        return ESC_INVALID;
    }

    if (step != NULL) {
        *step = matched;
    }

    return ESC_OK;
}


int
esc_totp_secret_new(u_char out[ESC_TOTP_SECRET_LEN])
{
    return RAND_bytes(out, ESC_TOTP_SECRET_LEN) == 1 ? ESC_OK : ESC_ERROR;
}


/* Percent-encodes all but RFC 3986 unreserved characters. */

static int
esc_put_pct(char *out, size_t size, size_t *n, const u_char *p, size_t len)
{
    size_t  i;

    static const char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < len; i++) {
        if ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z')
            || (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '.'
            || p[i] == '_' || p[i] == '~')
        {
            if (*n + 1 >= size) {
                return ESC_NOSPACE;
            }

            out[(*n)++] = (char) p[i];
            continue;
        }

        if (*n + 3 >= size) {
            return ESC_NOSPACE;
        }

        out[(*n)++] = '%';
        out[(*n)++] = hex[p[i] >> 4];
        out[(*n)++] = hex[p[i] & 0x0f];
    }

    return ESC_OK;
}


ssize_t
esc_totp_uri(const u_char *issuer, size_t ilen, const u_char *account,
    size_t alen, const u_char *secret, size_t slen, char *out, size_t size)
{
    char     b32[(1024 * 8 + 4) / 5 + 1];
    size_t   n;
    ssize_t  blen;

    static const char  tail[] = "&algorithm=SHA1&digits=6&period=30";

    if (out != NULL && size > 0) {
        out[0] = '\0';
    }

    if (issuer == NULL || ilen == 0 || account == NULL || alen == 0
        || secret == NULL || slen == 0 || slen > 1024
        || memchr(issuer, ':', ilen) != NULL)
    {
        return ESC_INVALID;
    }

    if (out == NULL) {
        return ESC_NOSPACE;
    }

    blen = esc_base32_encode(secret, slen, 0, b32, sizeof(b32));
    if (blen < 0) {
        return ESC_INVALID;
    }

    n = 0;

#define esc_lit(s)                                                           \
    if (n + sizeof(s) - 1 >= size) {                                         \
        goto nospace;                                                        \
    }                                                                        \
    memcpy(out + n, s, sizeof(s) - 1);                                       \
    n += sizeof(s) - 1

    esc_lit("otpauth://totp/");

    if (esc_put_pct(out, size, &n, issuer, ilen) != ESC_OK) {
        goto nospace;
    }

    esc_lit(":");

    if (esc_put_pct(out, size, &n, account, alen) != ESC_OK) {
        goto nospace;
    }

    esc_lit("?secret=");

    if (esc_put_pct(out, size, &n, (u_char *) b32, (size_t) blen)
        != ESC_OK)
    {
        goto nospace;
    }

    esc_lit("&issuer=");

    if (esc_put_pct(out, size, &n, issuer, ilen) != ESC_OK) {
        goto nospace;
    }

    esc_lit(tail);

#undef esc_lit

    out[n] = '\0';
    OPENSSL_cleanse(b32, sizeof(b32));

    return (ssize_t) n;

nospace:

    out[0] = '\0';
    OPENSSL_cleanse(b32, sizeof(b32));

    return ESC_NOSPACE;
}
