/*
 * esl_util.c: error strings, buffers, strict base64 and hex.
 */

#include <stdlib.h>
#include <time.h>

#include "esl_int.h"


const char *
esl_strerror(int err)
{
    switch (err) {
    case ESL_OK:              return "ok";
    case ESL_EINVAL:          return "invalid argument";
    case ESL_ENOMEM:          return "out of memory";
    case ESL_ENOTFOUND:       return "not found";
    case ESL_EFORMAT:         return "malformed or non-canonical input";
    case ESL_EPROOF:          return "proof or root does not verify";
    case ESL_ESIG:            return "signature does not verify";
    case ESL_ECRYPTO:         return "crypto library failure";
    case ESL_ESTORE:          return "storage (LMDB) failure";
    case ESL_EFULL:           return "storage map full";
    case ESL_EREADERS:        return "storage reader slots exhausted";
    case ESL_EPANIC:          return "storage environment fatal error";
    case ESL_EIO:             return "I/O error";
    case ESL_EREADONLY:       return "shard is read-only after a failed "
                                     "self-check";
    case ESL_ECORRUPT:        return "stored data is inconsistent";
    case ESL_ECONFLICT:       return "entry_id reused with different content";
    case ESL_EROLLBACK:       return "checkpoint is older than the one held";
    case ESL_EEQUIVOCATION:   return "equivocation: conflicting signed "
                                     "checkpoints (evidence recorded)";
    case ESL_EREJECTED:       return "entry refused by validation";
    case ESL_ECHAIN:          return "block chain rule broken";
    case ESL_ETOOBIG:         return "too big";
    }
    return "unknown error";
}


void
esl_buf_free(esl_buf *b)
{
    if (b != NULL) {
        free(b->data);
        b->data = NULL;
        b->len = 0;
    }
}


int
esl__buf_set(esl_buf *b, const void *data, size_t len)
{
    unsigned char  *p;

    if (b == NULL) {
        return ESL_OK;
    }
    p = malloc(len + 1);
    if (p == NULL) {
        return ESL_ENOMEM;
    }
    if (len) {
        memcpy(p, data, len);
    }
    p[len] = 0;
    b->data = p;
    b->len = len;
    return ESL_OK;
}


uint64_t
esl__now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}


/* C2SP key names: printable ASCII without space and '+'. */
int
esl__keyname_ok(const char *name)
{
    size_t  i, n;

    if (name == NULL) {
        return 0;
    }
    n = strlen(name);
    if (n == 0 || n > ESL_KEYNAME_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char) name[i];
        if (c <= 0x20 || c >= 0x7f || c == '+') {
            return 0;
        }
    }
    return 1;
}


static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


size_t
esl__b64_enc(const unsigned char *in, size_t len, char *out)
{
    size_t    i, o = 0;
    uint32_t  v;

    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (len - i == 1) {
        v = (uint32_t) in[i] << 16;
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8;
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}


static int
b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}


/*
 * Only the canonical encoding is accepted: a signature or root has one
 * textual form, so two notes with equal meaning are byte-equal.
 */
int
esl__b64_dec(const char *in, size_t len, unsigned char *out, size_t cap,
    size_t *outlen)
{
    size_t    i, o = 0, pad = 0;
    int       a, b, c, d;

    if (len == 0 || len % 4 != 0) {
        return ESL_EFORMAT;
    }
    if (in[len - 1] == '=') {
        pad = (in[len - 2] == '=') ? 2 : 1;
    }
    if ((len / 4) * 3 - pad > cap) {
        return ESL_EFORMAT;
    }
    for (i = 0; i < len; i += 4) {
        int last = (i + 4 == len);
        a = b64_val((unsigned char) in[i]);
        b = b64_val((unsigned char) in[i + 1]);
        c = (last && pad == 2) ? 0 : b64_val((unsigned char) in[i + 2]);
        d = (last && pad >= 1) ? 0 : b64_val((unsigned char) in[i + 3]);
        if (a < 0 || b < 0 || c < 0 || d < 0) {
            return ESL_EFORMAT;
        }
        out[o++] = (unsigned char) (a << 2 | b >> 4);
        if (last && pad == 2) {
            if (b & 15) {
                return ESL_EFORMAT;
            }
            break;
        }
        out[o++] = (unsigned char) ((b & 15) << 4 | c >> 2);
        if (last && pad == 1) {
            if (c & 3) {
                return ESL_EFORMAT;
            }
            break;
        }
        out[o++] = (unsigned char) ((c & 3) << 6 | d);
    }
    *outlen = o;
    return ESL_OK;
}


void
esl__hex(const unsigned char *in, size_t len, char *out)
{
    static const char  x[] = "0123456789abcdef";
    size_t             i;

    for (i = 0; i < len; i++) {
        out[2 * i] = x[in[i] >> 4];
        out[2 * i + 1] = x[in[i] & 15];
    }
    out[2 * len] = '\0';
}


static int
hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}


int
esl__unhex(const char *in, size_t len, unsigned char *out)
{
    size_t  i;
    int     a, b;

    if (len % 2) {
        return ESL_EFORMAT;
    }
    for (i = 0; i < len / 2; i++) {
        a = hexval(in[2 * i]);
        b = hexval(in[2 * i + 1]);
        if (a < 0 || b < 0) {
            return ESL_EFORMAT;
        }
        out[i] = (unsigned char) (a << 4 | b);
    }
    return ESL_OK;
}
