/*
 * esl_int.h: internals shared by the library's files (not installed).
 */

#ifndef ESL_INT_H
#define ESL_INT_H

#include <string.h>
#include <openssl/evp.h>

#include "ledger.h"

#define ESL_H   ESL_HASH_LEN

/* SM3 (esl_sm3.c): the hash of the sm3-rfc6962 profile without EVP's
 * per-digest overhead. */
typedef esl_sm3_ctx  esl__sm3;

void esl__sm3_init(esl__sm3 *s);
void esl__sm3_update(esl__sm3 *s, const void *data, size_t len);
void esl__sm3_final(esl__sm3 *s, unsigned char out[ESL_HASH_LEN]);
extern const uint32_t  esl__sm3_iv[8];      /* GB/T 32905 IV */
extern const uint32_t  esl__sm3_k[64];      /* T_j rotated left by j */

/* Multi-buffer SM3 (esl_sm3x.c): out[i] = SM3(prefix || msg[i]) for n
 * messages, 16 or 8 per SIMD pass where the CPU has AVX-512 or AVX2. */
void esl__sm3x(unsigned char prefix, const unsigned char *const *msg,
    const size_t *len, size_t n, unsigned char (*out)[ESL_HASH_LEN]);
void esl__sm3x_at(int level, unsigned char prefix,
    const unsigned char *const *msg, const size_t *len, size_t n,
    unsigned char (*out)[ESL_HASH_LEN]);
int  esl__sm3x_level(void);         /* 0 scalar, 1 AVX2, 2 AVX-512 */
unsigned esl__sm3x_lanes(void);

struct esl_hasher {
    EVP_MD      *md;        /* fetched once: implicit fetch halves speed */
    EVP_MD_CTX  *ctx;
    int          own_md;
    int          sm3;       /* md is SM3: hash with esl__sm3, not EVP */
};

int  esl__leaf_hashes(esl_hasher *h, const unsigned char *const *msg,
    const size_t *len, size_t n, unsigned char (*out)[ESL_H]);
int  esl__node_row(esl_hasher *h, const unsigned char *pairs, size_t n,
    unsigned char (*out)[ESL_H]);

/* A hasher on the stack around a borrowed md (ledger-internal use). */
int  esl__hasher_init(esl_hasher *h, EVP_MD *md);
void esl__hasher_fini(esl_hasher *h);
EVP_MD *esl__md_fetch(int alg);

/* Source of complete-subtree hashes: node at height h, index k (covering
 * leaves [k * 2^h, (k+1) * 2^h)). */
typedef int (*esl__node_fn)(void *arg, unsigned h, uint64_t k,
    unsigned char out[ESL_H]);

int esl__range_hash(esl_hasher *h, esl__node_fn fn, void *arg, uint64_t lo,
    uint64_t hi, unsigned char out[ESL_H]);
int esl__root(esl_hasher *h, esl__node_fn fn, void *arg, uint64_t size,
    unsigned char out[ESL_H]);
int esl__inclusion(esl_hasher *h, esl__node_fn fn, void *arg, uint64_t index,
    uint64_t size, unsigned char (*proof)[ESL_H], size_t *n);
int esl__consistency(esl_hasher *h, esl__node_fn fn, void *arg, uint64_t m,
    uint64_t size, unsigned char (*proof)[ESL_H], size_t *n);

/* Big-endian helpers. */
static inline void
esl__put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char) (v >> 8);
    p[1] = (unsigned char) v;
}

static inline void
esl__put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}

static inline void
esl__put64(unsigned char *p, uint64_t v)
{
    esl__put32(p, (uint32_t) (v >> 32));
    esl__put32(p + 4, (uint32_t) v);
}

static inline uint32_t
esl__get32(const unsigned char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}

static inline uint64_t
esl__get64(const unsigned char *p)
{
    return ((uint64_t) esl__get32(p) << 32) | esl__get32(p + 4);
}

/* Strict standard base64 (padding required, unused bits zero). */
size_t esl__b64_enc(const unsigned char *in, size_t len, char *out);
int    esl__b64_dec(const char *in, size_t len, unsigned char *out,
    size_t cap, size_t *outlen);
void   esl__hex(const unsigned char *in, size_t len, char *out);
int    esl__unhex(const char *in, size_t len, unsigned char *out);

int  esl__buf_set(esl_buf *b, const void *data, size_t len);
int  esl__keyname_ok(const char *name);

/* Signing internals. */
/* Test hooks of esl_sm2ec.c: a signature with a given nonce, and k * G
 * (pub NULL) or k * pub. */
int esl__sm2_sign_k(const esl_sm2_key *key, const unsigned char e[32],
    const unsigned char k[32], unsigned char sig[64]);
int esl__sm2_mul(const unsigned char *pub, const unsigned char k[32],
    unsigned char out[65]);
/* s G + t pub by verification's code (pub NULL: s G): the signed-window
 * chain, or (comb 1) the per-key tables; and one raw field operation
 * (see esl_sm2ec.c) to check the arithmetic against BIGNUM. */
int esl__sm2_mul2(const unsigned char s[32], const unsigned char *pub,
    const unsigned char t[32], int comb, unsigned char out[65]);
int esl__sm2_fp(int op, const unsigned char a[32], const unsigned char b[32],
    unsigned char out[32]);

struct esl_signer {
    EVP_PKEY       *pkey;
    esl_sm2_key    *fast;       /* the same key for esl_sm2ec.c */
    char            name[ESL_KEYNAME_MAX + 1];
    unsigned char   pub[65];
    unsigned char   keyid[4];
    unsigned char   cosig_keyid[4];
};

struct esl_verifier {
    EVP_PKEY       *pkey;
    char            name[ESL_KEYNAME_MAX + 1];
    unsigned char   pub[65];
    unsigned char   keyid[4];
    unsigned char   cosig_keyid[4];
};

/* Build and sign a checkpoint note; cp->body_len/nsigs are ignored. */
int esl__checkpoint_sign(const esl_signer *s, const esl_checkpoint *cp,
    esl_buf *note);
size_t esl__checkpoint_body(const esl_checkpoint *cp, char *out, size_t cap);

uint64_t esl__now_ms(void);

/* The encoding of an entry esl_entry_encoded_len accepted (its length). */
void esl__entry_write(const esl_entry *e, unsigned char *out);

#endif /* ESL_INT_H */
