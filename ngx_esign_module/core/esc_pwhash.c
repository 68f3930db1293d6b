/*
 * scrypt password hashing through OpenSSL 3 EVP_KDF (see esc_pwhash.h).
 */

#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "esc_pwhash.h"


#define ESC_PWHASH_PREFIX      "$scrypt$ln="
#define ESC_PWHASH_PREFIX_LEN  (sizeof(ESC_PWHASH_PREFIX) - 1)


static const char  esc_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* fixed salt for esc_pwhash_dummy(): any value, only the cost matters */
static const u_char  esc_dummy_salt[ESC_PWHASH_SALT_LEN] = {
    0x5e, 0x5c, 0xd0, 0x11, 0x3a, 0x2b, 0x90, 0x7f,
    0x44, 0xe1, 0x08, 0xc6, 0x6d, 0x93, 0x27, 0xba
};


static size_t esc_b64_encode(const u_char *in, size_t len, char *out);
static int esc_b64_decode(const char *in, size_t len, u_char *out,
    size_t max, size_t *outlen);
static int esc_parse_uint(const char **pp, const char *end, unsigned max,
    unsigned *out);
static int esc_scrypt(const u_char *pw, size_t len, const u_char *salt,
    size_t salt_len, const esc_scrypt_params_t *params, u_char *out,
    size_t outlen);


int
esc_pwhash_params_check(const esc_scrypt_params_t *params)
{
    uint64_t  mem;

    if (params == NULL
        || params->log2_n < 1 || params->log2_n > 24
        || params->r < 1 || params->r > 32
        || params->p < 1 || params->p > 16)
    {
        return ESC_INVALID;
    }

    mem = (uint64_t) 128 * params->r << params->log2_n;

    return mem <= ESC_SCRYPT_MAXMEM ? ESC_OK : ESC_INVALID;
}


/* Unpadded standard base64; out needs 4 * ceil(len / 3) bytes. */

static size_t
esc_b64_encode(const u_char *in, size_t len, char *out)
{
    size_t    i, n;
    uint32_t  v;

    n = 0;

    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
        out[n++] = esc_b64[v >> 18];
        out[n++] = esc_b64[(v >> 12) & 0x3f];
        out[n++] = esc_b64[(v >> 6) & 0x3f];
        out[n++] = esc_b64[v & 0x3f];
    }

    if (len - i == 1) {
        v = (uint32_t) in[i] << 16;
        out[n++] = esc_b64[v >> 18];
        out[n++] = esc_b64[(v >> 12) & 0x3f];

    } else if (len - i == 2) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8;
        out[n++] = esc_b64[v >> 18];
        out[n++] = esc_b64[(v >> 12) & 0x3f];
        out[n++] = esc_b64[(v >> 6) & 0x3f];
    }

    return n;
}


/*
 * Strict unpadded base64: no '=', no white space, a length that is not
 * 1 mod 4, and zero unused bits (one canonical string per value).
 */
static int
esc_b64_decode(const char *in, size_t len, u_char *out, size_t max,
    size_t *outlen)
{
    size_t       i, n, bits;
    uint32_t     acc;
    const char  *s;
    int          v;

    if (len % 4 == 1 || len * 3 / 4 > max) {
        return ESC_INVALID;
    }

    acc = 0;
    bits = 0;
    n = 0;

    for (i = 0; i < len; i++) {
        if (in[i] == '\0') {
            return ESC_INVALID;
        }

        s = strchr(esc_b64, in[i]);
        if (s == NULL) {
            return ESC_INVALID;
        }

        v = (int) (s - esc_b64);
        acc = (acc << 6) | (uint32_t) v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            out[n++] = (u_char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    if (acc != 0) {
        return ESC_INVALID;
    }

    *outlen = n;

    return ESC_OK;
}


/* Decimal without leading zeros, at most max. */

static int
esc_parse_uint(const char **pp, const char *end, unsigned max,
    unsigned *out)
{
    const char  *p;
    unsigned     v;

    p = *pp;

    if (p >= end || *p < '0' || *p > '9' || (*p == '0')) {
        return ESC_INVALID;
    }

    v = 0;

    while (p < end && *p >= '0' && *p <= '9') {
        v = v * 10 + (unsigned) (*p - '0');
        if (v > max) {
            return ESC_INVALID;
        }
        p++;
    }

    *pp = p;
    *out = v;

    return ESC_OK;
}


int
esc_pwhash_parse(const char *enc, size_t elen, esc_pwhash_t *out)
{
    const char  *p, *end, *dollar;

    if (enc == NULL || elen < ESC_PWHASH_PREFIX_LEN
        || memcmp(enc, ESC_PWHASH_PREFIX, ESC_PWHASH_PREFIX_LEN) != 0)
    {
        return ESC_INVALID;
    }

    p = enc + ESC_PWHASH_PREFIX_LEN;
    end = enc + elen;

    if (esc_parse_uint(&p, end, 99, &out->params.log2_n) != ESC_OK) {
        return ESC_INVALID;
    }

    if (end - p < 3 || memcmp(p, ",r=", 3) != 0) {
        return ESC_INVALID;
    }

    p += 3;

    if (esc_parse_uint(&p, end, 999, &out->params.r) != ESC_OK) {
        return ESC_INVALID;
    }

    if (end - p < 3 || memcmp(p, ",p=", 3) != 0) {
        return ESC_INVALID;
    }

    p += 3;

    if (esc_parse_uint(&p, end, 999, &out->params.p) != ESC_OK) {
        return ESC_INVALID;
    }

    if (esc_pwhash_params_check(&out->params) != ESC_OK) {
        return ESC_INVALID;
    }

    if (p >= end || *p++ != '$') {
        return ESC_INVALID;
    }

    dollar = memchr(p, '$', (size_t) (end - p));
    if (dollar == NULL) {
        return ESC_INVALID;
    }

    if (esc_b64_decode(p, (size_t) (dollar - p), out->salt,
                       sizeof(out->salt), &out->salt_len)
        != ESC_OK)
    {
        return ESC_INVALID;
    }

    p = dollar + 1;

    if (esc_b64_decode(p, (size_t) (end - p), out->hash, sizeof(out->hash),
                       &out->hash_len)
        != ESC_OK)
    {
        return ESC_INVALID;
    }

    if (out->salt_len < 4 || out->hash_len < 16) {
        return ESC_INVALID;
    }

    return ESC_OK;
}


static int
esc_scrypt(const u_char *pw, size_t len, const u_char *salt,
    size_t salt_len, const esc_scrypt_params_t *params, u_char *out,
    size_t outlen)
{
    int            rc;
    uint64_t       n, maxmem;
    uint32_t       r, p;
    EVP_KDF       *kdf;
    EVP_KDF_CTX   *ctx;
    OSSL_PARAM     ps[7], *q;
    static const u_char  empty[1];

    if (esc_pwhash_params_check(params) != ESC_OK) {
        return ESC_INVALID;
    }

    n = (uint64_t) 1 << params->log2_n;
    r = params->r;
    p = params->p;

    /* headroom over 128 * r * N for OpenSSL's own p * 128 * r block */
    maxmem = (uint64_t) ESC_SCRYPT_MAXMEM + 128 * 32 * 16 + 65536;

    kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    if (kdf == NULL) {
        return ESC_ERROR;
    }

    ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);

    if (ctx == NULL) {
        return ESC_ERROR;
    }

    q = ps;
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
               (void *) (len ? pw : empty), len);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
               (void *) salt, salt_len);
    *q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
    *q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
    *q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
    *q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM,
                                       &maxmem);
    *q = OSSL_PARAM_construct_end();

    rc = EVP_KDF_derive(ctx, out, outlen, ps) == 1 ? ESC_OK : ESC_ERROR;

    EVP_KDF_CTX_free(ctx);

    return rc;
}


int
esc_pwhash_create(const u_char *pw, size_t len,
    const esc_scrypt_params_t *params, char *out, size_t size)
{
    int                  rc, n;
    size_t               k;
    u_char               salt[ESC_PWHASH_SALT_LEN];
    u_char               hash[ESC_PWHASH_HASH_LEN];
    esc_scrypt_params_t  def = ESC_SCRYPT_DEFAULT;

    if (out != NULL && size > 0) {
        out[0] = '\0';
    }

    if (params == NULL) {
        params = &def;
    }

    if (esc_pwhash_params_check(params) != ESC_OK) {
        return ESC_INVALID;
    }

    if (out == NULL || size < ESC_PWHASH_SIZE) {
        return ESC_NOSPACE;
    }

    if (RAND_bytes(salt, sizeof(salt)) != 1) {
        return ESC_ERROR;
    }

    rc = esc_scrypt(pw, len, salt, sizeof(salt), params, hash,
                    sizeof(hash));
    if (rc != ESC_OK) {
        OPENSSL_cleanse(hash, sizeof(hash));
        return rc;
    }

    n = snprintf(out, size, "$scrypt$ln=%u,r=%u,p=%u$", params->log2_n,
                 params->r, params->p);
    if (n < 0) {
        out[0] = '\0';
        return ESC_ERROR;
    }

    /* 29 + 22 + 1 + 43 + 1 < ESC_PWHASH_SIZE: fits by construction */
    k = (size_t) n;
    k += esc_b64_encode(salt, sizeof(salt), out + k);
    out[k++] = '$';
    k += esc_b64_encode(hash, sizeof(hash), out + k);
    out[k] = '\0';

    OPENSSL_cleanse(hash, sizeof(hash));

    return ESC_OK;
}


int
esc_pwhash_verify(const u_char *pw, size_t len, const char *enc,
    size_t elen)
{
    int           rc;
    u_char        calc[64];
    esc_pwhash_t  h;

    if (esc_pwhash_parse(enc, elen, &h) != ESC_OK) {
        return ESC_ERROR;
    }

    rc = esc_scrypt(pw, len, h.salt, h.salt_len, &h.params, calc,
                    h.hash_len);
    if (rc != ESC_OK) {
        OPENSSL_cleanse(calc, sizeof(calc));
        return ESC_ERROR;
    }

    rc = CRYPTO_memcmp(calc, h.hash, h.hash_len) == 0 ? ESC_OK
                                                       : ESC_INVALID;

    OPENSSL_cleanse(calc, sizeof(calc));

    return rc;
}


int
esc_pwhash_dummy(const u_char *pw, size_t len,
    const esc_scrypt_params_t *params)
{
    int                  rc;
    u_char               calc[ESC_PWHASH_HASH_LEN];
    esc_scrypt_params_t  def = ESC_SCRYPT_DEFAULT;

    if (params == NULL) {
        params = &def;
    }

    rc = esc_scrypt(pw, len, esc_dummy_salt, sizeof(esc_dummy_salt), params,
                    calc, sizeof(calc));

    OPENSSL_cleanse(calc, sizeof(calc));

    return rc == ESC_ERROR ? ESC_ERROR : ESC_INVALID;
}


int
esc_pwhash_needs_rehash(const char *enc, size_t elen,
    const esc_scrypt_params_t *params)
{
    esc_pwhash_t         h;
    esc_scrypt_params_t  def = ESC_SCRYPT_DEFAULT;

    if (params == NULL) {
        params = &def;
    }

    if (esc_pwhash_parse(enc, elen, &h) != ESC_OK) {
        return 1;
    }

    return h.params.log2_n != params->log2_n || h.params.r != params->r
           || h.params.p != params->p || h.salt_len != ESC_PWHASH_SALT_LEN
           || h.hash_len != ESC_PWHASH_HASH_LEN;
}


/* RFC 7914 section 12, second vector: "password", "NaCl", 1024, 8, 16. */

int
esc_pwhash_selftest(void)
{
    static const char  kat[] =
        "$scrypt$ln=10,r=8,p=16$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw"
        "53N2Y0s3MWIurzDZLiKjiG/xCSedmDDaxyevuUqD7m2DYMvfoswGQA";

    if (esc_pwhash_verify((const u_char *) "password", 8, kat,
                          sizeof(kat) - 1)
        != ESC_OK)
    {
        return ESC_ERROR;
    }

    if (esc_pwhash_verify((const u_char *) "passwore", 8, kat,
                          sizeof(kat) - 1)
        != ESC_INVALID)
    {
        return ESC_ERROR;
    }

    return ESC_OK;
}
