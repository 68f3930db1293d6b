/*
 * esl_sm3.c: SM3 (GB/T 32905-2016) for the ledger's leaf and node hashes.
 *
 * OpenSSL's EVP costs about 0.3 us per digest on top of the compression
 * (init, two or three updates, final and the provider dispatch), which
 * is as much as the compression of a 241-byte entry itself.  Leaf and
 * node hashes are short and there are two of them per entry, so the
 * ledger hashes with this plain implementation instead; SM2 signatures
 * still use OpenSSL.  t/test_crypto.c checks it against the GB/T 32905
 * examples and against OpenSSL's SM3 for every length 0..1100 and for
 * split updates.
 */

#include "esl_int.h"

#define ROTL(x, n)  (((x) << ((n) & 31)) | ((x) >> ((32 - ((n) & 31)) & 31)))
#define P0(x)       ((x) ^ ROTL((x), 9) ^ ROTL((x), 17))
#define P1(x)       ((x) ^ ROTL((x), 15) ^ ROTL((x), 23))

const uint32_t  esl__sm3_iv[8] = {
    0x7380166fu, 0x4914b2b9u, 0x172442d7u, 0xda8a0600u,
    0xa96f30bcu, 0x163138aau, 0xe38dee4du, 0xb0fb0e4eu
};


/* T_j rotated left by j, as the rounds use it. */
const uint32_t  esl__sm3_k[64] = {
    0x79cc4519u, 0xf3988a32u, 0xe7311465u, 0xce6228cbu,
    0x9cc45197u, 0x3988a32fu, 0x7311465eu, 0xe6228cbcu,
    0xcc451979u, 0x988a32f3u, 0x311465e7u, 0x6228cbceu,
    0xc451979cu, 0x88a32f39u, 0x11465e73u, 0x228cbce6u,
    0x9d8a7a87u, 0x3b14f50fu, 0x7629ea1eu, 0xec53d43cu,
    0xd8a7a879u, 0xb14f50f3u, 0x629ea1e7u, 0xc53d43ceu,
    0x8a7a879du, 0x14f50f3bu, 0x29ea1e76u, 0x53d43cecu,
    0xa7a879d8u, 0x4f50f3b1u, 0x9ea1e762u, 0x3d43cec5u,
    0x7a879d8au, 0xf50f3b14u, 0xea1e7629u, 0xd43cec53u,
    0xa879d8a7u, 0x50f3b14fu, 0xa1e7629eu, 0x43cec53du,
    0x879d8a7au, 0x0f3b14f5u, 0x1e7629eau, 0x3cec53d4u,
    0x79d8a7a8u, 0xf3b14f50u, 0xe7629ea1u, 0xcec53d43u,
    0x9d8a7a87u, 0x3b14f50fu, 0x7629ea1eu, 0xec53d43cu,
    0xd8a7a879u, 0xb14f50f3u, 0x629ea1e7u, 0xc53d43ceu,
    0x8a7a879du, 0x14f50f3bu, 0x29ea1e76u, 0x53d43cecu,
    0xa7a879d8u, 0x4f50f3b1u, 0x9ea1e762u, 0x3d43cec5u,
};

#define FF0(x, y, z)  ((x) ^ (y) ^ (z))
#define FF1(x, y, z)  (((x) & (y)) | ((x) & (z)) | ((y) & (z)))
#define GG0(x, y, z)  ((x) ^ (y) ^ (z))
#define GG1(x, y, z)  ((((y) ^ (z)) & (x)) ^ (z))

/* Message word j + 16, from the 16-word window (GB/T 32905 5.3.2). */
#define EXP(j)                                                          \
    (P1(w[(j) & 15] ^ w[((j) + 7) & 15] ^ ROTL(w[((j) + 13) & 15], 15))   \
     ^ ROTL(w[((j) + 3) & 15], 7) ^ w[((j) + 10) & 15])

/* One round; the caller rotates the roles of the eight words instead of
 * moving them (A..H -> D A B C H E F G).  After round j the window slot
 * of W[j] takes W[j + 16]: W[j + 4], which round j reads, is in place
 * because the slot was refilled four rounds earlier. */
#define RND(a, b, c, d, e, f, g, h, j, FF, GG)                            \
    do {                                                                \
        uint32_t a12 = ROTL(a, 12);                                     \
        uint32_t ss1 = ROTL(a12 + e + esl__sm3_k[j], 7);                     \
        uint32_t ss2 = ss1 ^ a12;                                       \
        uint32_t tt1 = FF(a, b, c) + d + ss2                            \
                       + (w[(j) & 15] ^ w[((j) + 4) & 15]);             \
        uint32_t tt2 = GG(e, f, g) + h + ss1 + w[(j) & 15];             \
        b = ROTL(b, 9);                                                 \
        d = tt1;                                                        \
        f = ROTL(f, 19);                                                \
        h = P0(tt2);                                                    \
        if ((j) < 52) {                                                 \
            w[(j) & 15] = EXP(j);                                       \
        }                                                               \
    } while (0)

#define R8(j, FF, GG)                                                   \
    RND(a, b, c, d, e, f, g, h, (j), FF, GG);                           \
    RND(d, a, b, c, h, e, f, g, (j) + 1, FF, GG);                       \
    RND(c, d, a, b, g, h, e, f, (j) + 2, FF, GG);                       \
    RND(b, c, d, a, f, g, h, e, (j) + 3, FF, GG);                       \
    RND(a, b, c, d, e, f, g, h, (j) + 4, FF, GG);                       \
    RND(d, a, b, c, h, e, f, g, (j) + 5, FF, GG);                       \
    RND(c, d, a, b, g, h, e, f, (j) + 6, FF, GG);                       \
    RND(b, c, d, a, f, g, h, e, (j) + 7, FF, GG)

static void
sm3_blocks(uint32_t v[8], const unsigned char *p, size_t nblocks)
{
    uint32_t  w[16], a, b, c, d, e, f, g, h;
    unsigned  j;

    while (nblocks--) {
        for (j = 0; j < 16; j++) {
            w[j] = esl__get32(p + 4 * j);
        }
        a = v[0]; b = v[1]; c = v[2]; d = v[3];
        e = v[4]; f = v[5]; g = v[6]; h = v[7];
        R8(0, FF0, GG0);
        R8(8, FF0, GG0);
        R8(16, FF1, GG1);
        R8(24, FF1, GG1);
        R8(32, FF1, GG1);
        R8(40, FF1, GG1);
        R8(48, FF1, GG1);
        R8(56, FF1, GG1);
        v[0] ^= a; v[1] ^= b; v[2] ^= c; v[3] ^= d;
        v[4] ^= e; v[5] ^= f; v[6] ^= g; v[7] ^= h;
        p += 64;
    }
}


void
esl__sm3_init(esl__sm3 *s)
{
    memcpy(s->v, esl__sm3_iv, sizeof(esl__sm3_iv));
    s->len = 0;
    s->num = 0;
}


void
esl__sm3_update(esl__sm3 *s, const void *data, size_t len)
{
    const unsigned char  *p = data;
    size_t                take;

    s->len += len;
    if (s->num) {
        take = 64 - s->num;
        if (take > len) {
            take = len;
        }
        memcpy(s->buf + s->num, p, take);
        s->num += (unsigned) take;
        p += take;
        len -= take;
        if (s->num < 64) {
            return;
        }
        sm3_blocks(s->v, s->buf, 1);
        s->num = 0;
    }
    if (len >= 64) {
        sm3_blocks(s->v, p, len / 64);
        p += len & ~(size_t) 63;
        len &= 63;
    }
    if (len) {
        memcpy(s->buf, p, len);
        s->num = (unsigned) len;
    }
}


void
esl__sm3_final(esl__sm3 *s, unsigned char out[ESL_H])
{
    uint64_t  bits = s->len * 8;
    unsigned  j;

    s->buf[s->num++] = 0x80;
    if (s->num > 56) {
        memset(s->buf + s->num, 0, 64 - s->num);
        sm3_blocks(s->v, s->buf, 1);
        s->num = 0;
    }
    memset(s->buf + s->num, 0, 56 - s->num);
    esl__put64(s->buf + 56, bits);
    sm3_blocks(s->v, s->buf, 1);
    for (j = 0; j < 8; j++) {
        esl__put32(out + 4 * j, s->v[j]);
    }
}


void
esl_sm3_init(esl_sm3_ctx *c)
{
    esl__sm3_init(c);
}


void
esl_sm3_update(esl_sm3_ctx *c, const void *data, size_t len)
{
    esl__sm3_update(c, data, len);
}


void
esl_sm3_final(esl_sm3_ctx *c, unsigned char out[32])
{
    esl__sm3_final(c, out);
}
