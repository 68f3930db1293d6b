/*
 * esl_sm3x.c: multi-buffer SM3: up to 16 independent messages hashed at
 * once, one message per SIMD lane (AVX-512: 16 lanes, AVX2: 8 lanes),
 * chosen at run time; plain esl_sm3.c elsewhere.
 *
 * SM3's rounds are a serial chain inside one message, so a single digest
 * cannot use the vector units; many digests side by side can.  The
 * ledger has many: the leaf hashes of a batch, the node hashes of a tile
 * row, the leaves esl_verify streams.  Every message is prefix || msg
 * (0x00 for leaves, 0x01 for nodes).  Lanes of different lengths run
 * until the longest one is done; a finished lane's state is kept by a
 * mask.  t/test_crypto.c checks every level against the scalar SM3.
 */

#include <stdlib.h>

#include "esl_int.h"

/* the SM3 IV and the rotated round constants are esl_sm3.c's */
#define iv  esl__sm3_iv
#define kt  esl__sm3_k


/* Block b (64 bytes) of the padded message prefix || m. */
static inline void
fetch_block(unsigned char buf[64], unsigned char prefix,
    const unsigned char *m, size_t len, size_t b, size_t nb)
{
    size_t  total = len + 1, off = b * 64, lo, hi;

    if (off >= 1 && off + 64 <= total) {
        memcpy(buf, m + off - 1, 64);
        return;
    }
    memset(buf, 0, 64);
    if (off == 0) {
        buf[0] = prefix;
    }
    lo = off > 1 ? off : 1;
    hi = off + 64 < total ? off + 64 : total;
    if (hi > lo) {
        memcpy(buf + (lo - off), m + lo - 1, hi - lo);
    }
    if (total >= off && total < off + 64) {
        buf[total - off] = 0x80;
    }
    if (b + 1 == nb) {
        esl__put64(buf + 56, (uint64_t) total * 8);
    }
}


#define VROTL(x, n)  (((x) << (n)) | ((x) >> (32 - (n))))
#define VP0(x)       ((x) ^ VROTL((x), 9) ^ VROTL((x), 17))
#define VP1(x)       ((x) ^ VROTL((x), 15) ^ VROTL((x), 23))
#define VFF0(x, y, z)  ((x) ^ (y) ^ (z))
#define VFF1(x, y, z)  (((x) & (y)) | ((x) & (z)) | ((y) & (z)))
#define VGG1(x, y, z)  ((((y) ^ (z)) & (x)) ^ (z))
#define VEXP(j)                                                          \
    (VP1(w[(j) & 15] ^ w[((j) + 7) & 15] ^ VROTL(w[((j) + 13) & 15], 15))\
     ^ VROTL(w[((j) + 3) & 15], 7) ^ w[((j) + 10) & 15])
#define VRND(a, b, c, d, e, f, g, h, j, FF, GG)                            \
    do {                                                                 \
        __typeof__(a) a12 = VROTL(a, 12);                                \
        __typeof__(a) ss1 = VROTL(a12 + e + kt[j], 7);                   \
        __typeof__(a) ss2 = ss1 ^ a12;                                   \
        __typeof__(a) tt1 = FF(a, b, c) + d + ss2                        \
                            + (w[(j) & 15] ^ w[((j) + 4) & 15]);         \
        __typeof__(a) tt2 = GG(e, f, g) + h + ss1 + w[(j) & 15];         \
        b = VROTL(b, 9);                                                 \
        d = tt1;                                                         \
        f = VROTL(f, 19);                                                \
        h = VP0(tt2);                                                    \
        if ((j) < 52) {                                                  \
            w[(j) & 15] = VEXP(j);                                       \
        }                                                                \
    } while (0)
#define VR8(j, FF, GG)                                                   \
    VRND(a, b, c, d, e, f, g, h, (j), FF, GG);                           \
    VRND(d, a, b, c, h, e, f, g, (j) + 1, FF, GG);                       \
    VRND(c, d, a, b, g, h, e, f, (j) + 2, FF, GG);                       \
    VRND(b, c, d, a, f, g, h, e, (j) + 3, FF, GG);                       \
    VRND(a, b, c, d, e, f, g, h, (j) + 4, FF, GG);                       \
    VRND(d, a, b, c, h, e, f, g, (j) + 5, FF, GG);                       \
    VRND(c, d, a, b, g, h, e, f, (j) + 6, FF, GG);                       \
    VRND(b, c, d, a, f, g, h, e, (j) + 7, FF, GG)

/* One multi-buffer function per vector width; n <= L messages. */
#define SM3X_DEFINE(NAME, VT, L, TARGET)                                   \
static __attribute__((target(TARGET))) void                               \
NAME(unsigned char prefix, const unsigned char *const *msg,               \
    const size_t *len, unsigned n, unsigned char (*out)[ESL_H])           \
{                                                                         \
    VT             v[8], a, b, c, d, e, f, g, h, w[16], m;                \
    uint32_t       t[16][L] __attribute__((aligned(64)));                  \
    uint32_t       live[L] __attribute__((aligned(64)));                   \
    unsigned char  buf[64];                                               \
    size_t         nb[L], maxnb = 0, blk;                                 \
    unsigned       i, j;                                                  \
                                                                          \
    for (i = 0; i < L; i++) {                                             \
        nb[i] = i < n ? (len[i] + 1 + 9 + 63) / 64 : 0;                   \
        maxnb = nb[i] > maxnb ? nb[i] : maxnb;                            \
    }                                                                     \
    for (j = 0; j < 8; j++) {                                             \
        v[j] = (VT) {} + iv[j];                                           \
    }                                                                     \
    for (blk = 0; blk < maxnb; blk++) {                                   \
        for (i = 0; i < L; i++) {                                         \
            live[i] = blk < nb[i] ? 0xffffffffu : 0;                      \
            if (blk < nb[i]) {                                            \
                fetch_block(buf, prefix, msg[i], len[i], blk, nb[i]);     \
                for (j = 0; j < 16; j++) {                                \
                    t[j][i] = esl__get32(buf + 4 * j);                    \
                }                                                         \
            } else {                                                      \
                for (j = 0; j < 16; j++) {                                \
                    t[j][i] = 0;                                          \
                }                                                         \
            }                                                             \
        }                                                                 \
        for (j = 0; j < 16; j++) {                                        \
            memcpy(&w[j], t[j], sizeof(VT));                              \
        }                                                                 \
        memcpy(&m, live, sizeof(VT));                                     \
        a = v[0]; b = v[1]; c = v[2]; d = v[3];                           \
        e = v[4]; f = v[5]; g = v[6]; h = v[7];                           \
        VR8(0, VFF0, VFF0);                                               \
        VR8(8, VFF0, VFF0);                                               \
        VR8(16, VFF1, VGG1);                                              \
        VR8(24, VFF1, VGG1);                                              \
        VR8(32, VFF1, VGG1);                                              \
        VR8(40, VFF1, VGG1);                                              \
        VR8(48, VFF1, VGG1);                                              \
        VR8(56, VFF1, VGG1);                                              \
        v[0] ^= a & m; v[1] ^= b & m; v[2] ^= c & m; v[3] ^= d & m;       \
        v[4] ^= e & m; v[5] ^= f & m; v[6] ^= g & m; v[7] ^= h & m;       \
    }                                                                     \
    for (j = 0; j < 8; j++) {                                             \
        memcpy(t[j], &v[j], sizeof(VT));                                  \
    }                                                                     \
    for (i = 0; i < n; i++) {                                             \
        for (j = 0; j < 8; j++) {                                         \
            esl__put32(out[i] + 4 * j, t[j][i]);                          \
        }                                                                 \
    }                                                                     \
}

#if defined(__x86_64__) && defined(__GNUC__)
typedef uint32_t v8u32 __attribute__((vector_size(32)));
typedef uint32_t v16u32 __attribute__((vector_size(64)));
SM3X_DEFINE(sm3x_avx2, v8u32, 8, "avx2")
SM3X_DEFINE(sm3x_avx512, v16u32, 16, "avx512f")
#define HAVE_SM3X 1
#endif


static void
sm3x_scalar(unsigned char prefix, const unsigned char *const *msg,
    const size_t *len, unsigned n, unsigned char (*out)[ESL_H])
{
    esl__sm3  s;
    unsigned  i;

    for (i = 0; i < n; i++) {
        esl__sm3_init(&s);
        esl__sm3_update(&s, &prefix, 1);
        esl__sm3_update(&s, msg[i], len[i]);
        esl__sm3_final(&s, out[i]);
    }
}


int
esl__sm3x_level(void)
{
#ifdef HAVE_SM3X
    static int  level = -1;
    const char *env;

    if (level < 0) {
        int l = 0;
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f")) {
            l = 2;
        } else if (__builtin_cpu_supports("avx2")) {
            l = 1;
        }
        /* ESL_SM3X=0|1|2 caps the level (tests, comparisons) */
        env = getenv("ESL_SM3X");
        if (env != NULL && env[0] >= '0' && env[0] <= '2'
            && env[0] - '0' < l)
        {
            l = env[0] - '0';
        }
        level = l;              /* idempotent: a race writes the same */
    }
    return level;
#else
    return 0;
#endif
}


unsigned
esl__sm3x_lanes(void)
{
    static const unsigned lanes[3] = { 1, 8, 16 };

    return lanes[esl__sm3x_level()];
}


void
esl__sm3x_at(int level, unsigned char prefix,
    const unsigned char *const *msg, const size_t *len, size_t n,
    unsigned char (*out)[ESL_H])
{
    size_t    lanes = level == 2 ? 16 : level == 1 ? 8 : n, k;

    while (n > 0) {
        k = n < lanes ? n : lanes;
#ifdef HAVE_SM3X
        if (level == 2) {
            sm3x_avx512(prefix, msg, len, (unsigned) k, out);
        } else if (level == 1) {
            sm3x_avx2(prefix, msg, len, (unsigned) k, out);
        } else
#endif
        {
            sm3x_scalar(prefix, msg, len, (unsigned) k, out);
        }
        msg += k;
        len += k;
        out += k;
        n -= k;
    }
}


void
esl__sm3x(unsigned char prefix, const unsigned char *const *msg,
    const size_t *len, size_t n, unsigned char (*out)[ESL_H])
{
    esl__sm3x_at(esl__sm3x_level(), prefix, msg, len, n, out);
}
