/*
 * esl_sm2ec.c: SM2 signatures (GB/T 32918.2, GM/T 0003) on the curve of
 * GB/T 32918.5 without OpenSSL's generic EC layer.
 *
 * OpenSSL 3.0 has no dedicated SM2 code on x86-64: a signature costs about
 * 330 us and a verification 240 us in `openssl speed sm2`, and every
 * confirmation of a contract signs once and verifies once.  This file
 * signs in about a tenth of that time and verifies in about a third:
 *
 *   - field and scalar elements are four 64-bit limbs in Montgomery form
 *     (R = 2^256), multiplied with 128-bit products; mod p the product,
 *     the square and the inversion have dedicated code (-p^-1 = 1 mod
 *     2^64, a fixed addition chain for p - 2);
 *   - signing's points are homogeneous projective (X : Y : Z) and use the
 *     complete formulas for a = -3 of Renes, Costello and Batina
 *     ("Complete addition formulas for prime order elliptic curves", 2016,
 *     algorithms 4, 5 and 6): no exceptional case, so no branch on the
 *     operands;
 *   - k * G uses a table of j * 16^i * G (i < 64, j < 16, affine, built
 *     once per process): 64 mixed additions and no doubling;
 *   - verification computes s G + t Q in one chain of doublings in
 *     Jacobian coordinates with signed windows (t Q width 5, s G width 8
 *     from a second table built once) and tests x1 without inverting Z.
 *
 * Signing is constant-time in the private key and the nonce: no branch and
 * no memory index depends on them (table entries are selected by masking
 * all 15 candidates, inversions are exponentiations with a public
 * exponent).  Only the rare retry conditions of the standard (r = 0,
 * r + k = n, s = 0) branch.  Verification handles public data only and
 * may take variable time.
 *
 * Cross-checked in t/test_sm2ec.c (field operations against BIGNUM; k G,
 * k Q and s G + t Q against OpenSSL, with the exceptional cases of the
 * additions; signatures in both directions, fixed-nonce signatures against
 * a BIGNUM reference, a verification with x1 >= n) and differentially
 * fuzzed (fuzz_sm2).
 */

#include <pthread.h>
#include <stdlib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "esl_int.h"

typedef unsigned __int128  u128;
typedef uint64_t           fe[4];          /* little-endian limbs */

typedef struct {
    fe  x, y;
} ap;                                       /* affine, Montgomery form */

typedef struct {
    fe  X, Y, Z;
} jp;                                       /* projective, Montgomery form */

/* Jacobian (verification only): (X / Z^2, Y / Z^3), Z = 0 the identity */
typedef struct {
    fe  X, Y, Z;
} jac;

typedef struct {
    jac  p;
    fe   zz, zzz, ny;                       /* Z^2, Z^3, -Y */
} jtab;                                     /* a multiple of Q, Jacobian */

typedef struct {
    fe  x, y, ny;                           /* y and -y */
} aptab;                                    /* a multiple of G, affine */

/* NAF widths of verification's s G (table of 2^(GW-2) odd multiples of G
 * built once) and t Q (2^(QW-2) per call); 6..8 and 4..6 measured within
 * a few percent of each other */
#define GW  8
#define QW  5

typedef struct {
    uint64_t  m[4];
    uint64_t  m0;                           /* -m^-1 mod 2^64 */
    fe        r2;                           /* R^2 mod m */
    fe        one;                          /* R mod m */
    fe        e2;                           /* m - 2, for inversion */
} modulus;

struct esl_sm2_key {
    fe             d;                       /* plain (not Montgomery) */
    fe             dinv;                    /* (1 + d)^-1, Montgomery mod n */
    unsigned char  pub[65];
};

/* GB/T 32918.5 curve, big-endian. */
static const unsigned char  sm2_p_be[32] = {
    0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF
};
static const unsigned char  sm2_b_be[32] = {
    0x28, 0xE9, 0xFA, 0x9E, 0x9D, 0x9F, 0x5E, 0x34,
    0x4D, 0x5A, 0x9E, 0x4B, 0xCF, 0x65, 0x09, 0xA7,
    0xF3, 0x97, 0x89, 0xF5, 0x15, 0xAB, 0x8F, 0x92,
    0xDD, 0xBC, 0xBD, 0x41, 0x4D, 0x94, 0x0E, 0x93
};
static const unsigned char  sm2_n_be[32] = {
    0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0x72, 0x03, 0xDF, 0x6B, 0x21, 0xC6, 0x05, 0x2B,
    0x53, 0xBB, 0xF4, 0x09, 0x39, 0xD5, 0x41, 0x23
};
static const unsigned char  sm2_gx_be[32] = {
    0x32, 0xC4, 0xAE, 0x2C, 0x1F, 0x19, 0x81, 0x19,
    0x5F, 0x99, 0x04, 0x46, 0x6A, 0x39, 0xC9, 0x94,
    0x8F, 0xE3, 0x0B, 0xBF, 0xF2, 0x66, 0x0B, 0xE1,
    0x71, 0x5A, 0x45, 0x89, 0x33, 0x4C, 0x74, 0xC7
};
static const unsigned char  sm2_gy_be[32] = {
    0xBC, 0x37, 0x36, 0xA2, 0xF4, 0xF6, 0x77, 0x9C,
    0x59, 0xBD, 0xCE, 0xE3, 0x6B, 0x69, 0x21, 0x53,
    0xD0, 0xA9, 0x87, 0x7C, 0xC6, 0x2A, 0x47, 0x40,
    0x02, 0xDF, 0x32, 0xE5, 0x21, 0x39, 0xF0, 0xA0
};

static modulus    P, N;
static fe         B_m;                      /* b, Montgomery mod p */
static ap         G_m;
static ap         gtab[64][15];             /* (j+1) * 16^i * G */
#define NGODD  (1 << (GW - 2))
#define NPRE   (64 * 15 + NGODD)
static aptab      godd[NGODD];              /* (2j+1) * G */
static pthread_once_t  sm2_once = PTHREAD_ONCE_INIT;


/* ---------------------------------------------------------------- */
/* Limbs                                                             */
/* ---------------------------------------------------------------- */

static void
fe_from_be(fe r, const unsigned char b[32])
{
    int  i, j;

    for (i = 0; i < 4; i++) {
        r[i] = 0;
        for (j = 0; j < 8; j++) {
            r[i] = (r[i] << 8) | b[(3 - i) * 8 + j];
        }
    }
}


static void
fe_to_be(unsigned char b[32], const fe a)
{
    int  i, j;

    for (i = 0; i < 4; i++) {
        for (j = 0; j < 8; j++) {
            b[(3 - i) * 8 + j] = (unsigned char) (a[i] >> (56 - 8 * j));
        }
    }
}


/* a < m, in constant time: the borrow of a - m. */
static uint64_t
fe_lt(const fe a, const uint64_t m[4])
{
    u128      d;
    uint64_t  borrow = 0;
    int       i;

    for (i = 0; i < 4; i++) {
        d = (u128) a[i] - m[i] - borrow;
        borrow = (uint64_t) (d >> 64) & 1;
    }
    return borrow;
}


static uint64_t
fe_is_zero(const fe a)
{
    uint64_t  x = a[0] | a[1] | a[2] | a[3];

    return 1 ^ ((x | (0 - x)) >> 63);
}


/* r = mask ? a : r (mask all ones or zero) */
static inline void
fe_cmov(fe r, const fe a, uint64_t mask)
{
    int  i;

    for (i = 0; i < 4; i++) {
        r[i] = (r[i] & ~mask) | (a[i] & mask);
    }
}


/*
 * The limb loops below are written out: gcc -O2 does not unroll them, and
 * the loop form of mont_mul cost twice as much as the straight-line one.
 * Everything here is constant time (the masks replace the branches).
 */

/* u = t - m, borrow out; t, u, m four limbs. */
#define SUB4(u, t, m, borrow)                                               \
    c = (u128) t##0 - (m)[0];                                               \
    u##0 = (uint64_t) c;                                                    \
    c = (u128) t##1 - (m)[1] - ((uint64_t) (c >> 64) & 1);                  \
    u##1 = (uint64_t) c;                                                    \
    c = (u128) t##2 - (m)[2] - ((uint64_t) (c >> 64) & 1);                  \
    u##2 = (uint64_t) c;                                                    \
    c = (u128) t##3 - (m)[3] - ((uint64_t) (c >> 64) & 1);                  \
    u##3 = (uint64_t) c;                                                    \
    borrow = (uint64_t) (c >> 64) & 1

/* r = mask ? u : t */
#define SEL4(r, u, t, mask)                                                 \
    r[0] = (u##0 & mask) | (t##0 & ~mask);                                  \
    r[1] = (u##1 & mask) | (t##1 & ~mask);                                  \
    r[2] = (u##2 & mask) | (t##2 & ~mask);                                  \
    r[3] = (u##3 & mask) | (t##3 & ~mask)


static void
mod_add(fe r, const fe a, const fe b, const modulus *M)
{
    u128      c;
    uint64_t  t0, t1, t2, t3, u0, u1, u2, u3, carry, borrow, mask;

    c = (u128) a[0] + b[0];
    t0 = (uint64_t) c;
    c = (u128) a[1] + b[1] + (uint64_t) (c >> 64);
    t1 = (uint64_t) c;
    c = (u128) a[2] + b[2] + (uint64_t) (c >> 64);
    t2 = (uint64_t) c;
    c = (u128) a[3] + b[3] + (uint64_t) (c >> 64);
    t3 = (uint64_t) c;
    carry = (uint64_t) (c >> 64);
    SUB4(u, t, M->m, borrow);
    mask = 0 - ((carry | (borrow ^ 1)) & 1);
    SEL4(r, u, t, mask);
}


static void
mod_sub(fe r, const fe a, const fe b, const modulus *M)
{
    u128      c;
    uint64_t  t0, t1, t2, t3, mask;

    c = (u128) a[0] - b[0];
    t0 = (uint64_t) c;
    c = (u128) a[1] - b[1] - ((uint64_t) (c >> 64) & 1);
    t1 = (uint64_t) c;
    c = (u128) a[2] - b[2] - ((uint64_t) (c >> 64) & 1);
    t2 = (uint64_t) c;
    c = (u128) a[3] - b[3] - ((uint64_t) (c >> 64) & 1);
    t3 = (uint64_t) c;
    mask = 0 - ((uint64_t) (c >> 64) & 1);
    c = (u128) t0 + (M->m[0] & mask);
    r[0] = (uint64_t) c;
    c = (u128) t1 + (M->m[1] & mask) + (uint64_t) (c >> 64);
    r[1] = (uint64_t) c;
    c = (u128) t2 + (M->m[2] & mask) + (uint64_t) (c >> 64);
    r[2] = (uint64_t) c;
    c = (u128) t3 + (M->m[3] & mask) + (uint64_t) (c >> 64);
    r[3] = (uint64_t) c;
}


/* (t0..t5) += a * bi, t5 the carry out (t5 was zero) */
#define MUL_ROW(bi)                                                         \
    c = (u128) a0 * (bi) + t0;                                              \
    t0 = (uint64_t) c;                                                      \
    c = (u128) a1 * (bi) + t1 + (uint64_t) (c >> 64);                       \
    t1 = (uint64_t) c;                                                      \
    c = (u128) a2 * (bi) + t2 + (uint64_t) (c >> 64);                       \
    t2 = (uint64_t) c;                                                      \
    c = (u128) a3 * (bi) + t3 + (uint64_t) (c >> 64);                       \
    t3 = (uint64_t) c;                                                      \
    c = (u128) t4 + (uint64_t) (c >> 64);                                   \
    t4 = (uint64_t) c;                                                      \
    t5 = (uint64_t) (c >> 64)

/* t = (t + q m) / 2^64 with q = t0 m0, which zeroes t0 */
#define MONT_ROW(m, m0)                                                     \
    q = t0 * (m0);                                                          \
    c = (u128) q * (m)[0] + t0;                                             \
    c = (u128) q * (m)[1] + t1 + (uint64_t) (c >> 64);                      \
    t0 = (uint64_t) c;                                                      \
    c = (u128) q * (m)[2] + t2 + (uint64_t) (c >> 64);                      \
    t1 = (uint64_t) c;                                                      \
    c = (u128) q * (m)[3] + t3 + (uint64_t) (c >> 64);                      \
    t2 = (uint64_t) c;                                                      \
    c = (u128) t4 + (uint64_t) (c >> 64);                                   \
    t3 = (uint64_t) c;                                                      \
    t4 = t5 + (uint64_t) (c >> 64)


/* r = a * b * R^-1 mod m (CIOS); a, b < m.  Used for n (and by the test
 * hook for p, against fp_mul). */
static void
mont_mul(fe r, const fe a, const fe b, const modulus *M)
{
    u128      c;
    uint64_t  a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    uint64_t  t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5, q;
    uint64_t  u0, u1, u2, u3, borrow, mask;

    MUL_ROW(b[0]);
    MONT_ROW(M->m, M->m0);
    MUL_ROW(b[1]);
    MONT_ROW(M->m, M->m0);
    MUL_ROW(b[2]);
    MONT_ROW(M->m, M->m0);
    MUL_ROW(b[3]);
    MONT_ROW(M->m, M->m0);

    /* t < 2m: subtract m unless that borrows out of t4 */
    SUB4(u, t, M->m, borrow);
    mask = 0 - ((t4 | (borrow ^ 1)) & 1);       /* 1: use u */
    SEL4(r, u, t, mask);
}


/* ---------------------------------------------------------------- */
/* Arithmetic mod p                                                  */
/* ---------------------------------------------------------------- */

/* p = 2^256 - 2^224 - 2^96 + 2^64 - 1 */
#define P0  0xFFFFFFFFFFFFFFFFULL
#define P1  0xFFFFFFFF00000000ULL
#define P2  0xFFFFFFFFFFFFFFFFULL
#define P3  0xFFFFFFFEFFFFFFFFULL

static const uint64_t  sm2_p[4] = { P0, P1, P2, P3 };

/* mod_add and mod_sub with p's limbs as constants, inlined: as calls to
 * mod_add and mod_sub they took a third of verification's time. */
static inline void
fp_add(fe r, const fe a, const fe b)
{
    u128      c;
    uint64_t  t0, t1, t2, t3, u0, u1, u2, u3, carry, borrow, mask;

    c = (u128) a[0] + b[0];
    t0 = (uint64_t) c;
    c = (u128) a[1] + b[1] + (uint64_t) (c >> 64);
    t1 = (uint64_t) c;
    c = (u128) a[2] + b[2] + (uint64_t) (c >> 64);
    t2 = (uint64_t) c;
    c = (u128) a[3] + b[3] + (uint64_t) (c >> 64);
    t3 = (uint64_t) c;
    carry = (uint64_t) (c >> 64);
    SUB4(u, t, sm2_p, borrow);
    mask = 0 - ((carry | (borrow ^ 1)) & 1);
    SEL4(r, u, t, mask);
}


static inline void
fp_sub(fe r, const fe a, const fe b)
{
    u128      c;
    uint64_t  t0, t1, t2, t3, mask;

    c = (u128) a[0] - b[0];
    t0 = (uint64_t) c;
    c = (u128) a[1] - b[1] - ((uint64_t) (c >> 64) & 1);
    t1 = (uint64_t) c;
    c = (u128) a[2] - b[2] - ((uint64_t) (c >> 64) & 1);
    t2 = (uint64_t) c;
    c = (u128) a[3] - b[3] - ((uint64_t) (c >> 64) & 1);
    t3 = (uint64_t) c;
    mask = 0 - ((uint64_t) (c >> 64) & 1);
    c = (u128) t0 + (P0 & mask);
    r[0] = (uint64_t) c;
    c = (u128) t1 + (P1 & mask) + (uint64_t) (c >> 64);
    r[1] = (uint64_t) c;
    c = (u128) t2 + (P2 & mask) + (uint64_t) (c >> 64);
    r[2] = (uint64_t) c;
    c = (u128) t3 + (P3 & mask) + (uint64_t) (c >> 64);
    r[3] = (uint64_t) c;
}


static void
fp_neg(fe r, const fe a)
{
    static const fe  zero;

    fp_sub(r, zero, a);
}


/*
 * Montgomery multiplication mod p.  Since p = -1 mod 2^64, -p^-1 mod 2^64
 * = 1: the quotient of a row is its low limb q itself (no multiplication),
 * and t0 + q p[0] = q 2^64 exactly, so that product is skipped and its
 * carry is q; the limbs of p are constants.  About 5% faster than
 * mont_mul.  Shifts and subtractions in place of the three remaining
 * products (p[1], p[3] = 2^64 - 2^32 (- 1), p[2] = 2^64 - 1) were measured
 * slower with gcc 12: the multiplier is not the bottleneck, the carry
 * chains are.
 */

/* (t0..t4) = (t0..t5 + q p) / 2^64 with q = t0 */
#define FP_MONT_ROW()                                                       \
    q = t0;                                                                 \
    c = (u128) q * P1 + t1 + q;                                             \
    t0 = (uint64_t) c;                                                      \
    c = (u128) q * P2 + t2 + (uint64_t) (c >> 64);                          \
    t1 = (uint64_t) c;                                                      \
    c = (u128) q * P3 + t3 + (uint64_t) (c >> 64);                          \
    t2 = (uint64_t) c;                                                      \
    c = (u128) t4 + (uint64_t) (c >> 64);                                   \
    t3 = (uint64_t) c;                                                      \
    t4 = t5 + (uint64_t) (c >> 64)


/* r = a * b * R^-1 mod p; a, b < p. */
static void
fp_mul(fe r, const fe a, const fe b)
{
    u128      c;
    uint64_t  a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    uint64_t  t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5, q;
    uint64_t  u0, u1, u2, u3, borrow, mask;

    MUL_ROW(b[0]);
    FP_MONT_ROW();
    MUL_ROW(b[1]);
    FP_MONT_ROW();
    MUL_ROW(b[2]);
    FP_MONT_ROW();
    MUL_ROW(b[3]);
    FP_MONT_ROW();

    SUB4(u, t, sm2_p, borrow);
    mask = 0 - ((t4 | (borrow ^ 1)) & 1);
    SEL4(r, u, t, mask);
}


/* x1..x4 += q p / 2^64 when x0 = q (t0 + q p[0] = q 2^64: carry q);
 * carry in and out of x4 in cy */
#define FP_REDC_ROW(q, x1, x2, x3, x4)                                      \
    c = (u128) (q) * P1 + x1 + (q);                                         \
    x1 = (uint64_t) c;                                                      \
    c = (u128) (q) * P2 + x2 + (uint64_t) (c >> 64);                        \
    x2 = (uint64_t) c;                                                      \
    c = (u128) (q) * P3 + x3 + (uint64_t) (c >> 64);                        \
    x3 = (uint64_t) c;                                                      \
    c = (u128) x4 + cy + (uint64_t) (c >> 64);                              \
    x4 = (uint64_t) c;                                                      \
    cy = (uint64_t) (c >> 64)


/* r = a^2 R^-1 mod p; a < p.  The six cross products once, doubled by a
 * shift, then the four squares: 10 products instead of 16, and the
 * reduction of the 512-bit square afterwards (about 10% faster than
 * fp_mul (a, a)). */
static void
fp_sqr(fe r, const fe a)
{
    u128      c;
    uint64_t  a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    uint64_t  t0, t1, t2, t3, t4, t5, t6, t7, cy, u0, u1, u2, u3;
    uint64_t  borrow, mask;

    c = (u128) a0 * a1;
    t1 = (uint64_t) c;
    c = (u128) a0 * a2 + (uint64_t) (c >> 64);
    t2 = (uint64_t) c;
    c = (u128) a0 * a3 + (uint64_t) (c >> 64);
    t3 = (uint64_t) c;
    t4 = (uint64_t) (c >> 64);
    c = (u128) a1 * a2 + t3;
    t3 = (uint64_t) c;
    c = (u128) a1 * a3 + t4 + (uint64_t) (c >> 64);
    t4 = (uint64_t) c;
    t5 = (uint64_t) (c >> 64);
    c = (u128) a2 * a3 + t5;
    t5 = (uint64_t) c;
    t6 = (uint64_t) (c >> 64);

    t7 = t6 >> 63;
    t6 = (t6 << 1) | (t5 >> 63);
    t5 = (t5 << 1) | (t4 >> 63);
    t4 = (t4 << 1) | (t3 >> 63);
    t3 = (t3 << 1) | (t2 >> 63);
    t2 = (t2 << 1) | (t1 >> 63);
    t1 = t1 << 1;

    c = (u128) a0 * a0;
    t0 = (uint64_t) c;
    c = (u128) t1 + (uint64_t) (c >> 64);
    t1 = (uint64_t) c;
    c = (u128) a1 * a1 + t2 + (uint64_t) (c >> 64);
    t2 = (uint64_t) c;
    c = (u128) t3 + (uint64_t) (c >> 64);
    t3 = (uint64_t) c;
    c = (u128) a2 * a2 + t4 + (uint64_t) (c >> 64);
    t4 = (uint64_t) c;
    c = (u128) t5 + (uint64_t) (c >> 64);
    t5 = (uint64_t) c;
    c = (u128) a3 * a3 + t6 + (uint64_t) (c >> 64);
    t6 = (uint64_t) c;
    t7 += (uint64_t) (c >> 64);

    cy = 0;
    FP_REDC_ROW(t0, t1, t2, t3, t4);
    FP_REDC_ROW(t1, t2, t3, t4, t5);
    FP_REDC_ROW(t2, t3, t4, t5, t6);
    FP_REDC_ROW(t3, t4, t5, t6, t7);

    /* (cy t7..t4) < 2p: subtract p unless that borrows out of cy */
    t0 = t4;
    t1 = t5;
    t2 = t6;
    t3 = t7;
    SUB4(u, t, sm2_p, borrow);
    mask = 0 - ((cy | (borrow ^ 1)) & 1);
    SEL4(r, u, t, mask);
}


/* r = a^(2^k) */
static void
fp_sqr_n(fe r, const fe a, int k)
{
    fp_sqr(r, a);
    while (--k > 0) {
        fp_sqr(r, r);
    }
}


/*
 * r = a^(p-2) = a^-1 mod p (0 for a = 0) by a fixed chain: p - 2 is, from
 * the top bit, 31 ones, a zero, 128 ones, 32 zeros, 62 ones, 0 and 1, so
 * a^(2^31 - 1) and a^(2^32 - 1) build it in 256 squarings and 15 products
 * (mont_inv's 4-bit window needs 78 products).  The sequence is the same
 * for every a.
 */
static void
fp_inv(fe r, const fe a)
{
    fe  x[8], acc;                          /* a^(2^k - 1) */

    fp_sqr(x[0], a);
    fp_mul(x[0], x[0], a);                  /* k = 2 */
    fp_sqr(x[1], x[0]);
    fp_mul(x[1], x[1], a);                  /* 3 */
    fp_sqr_n(x[2], x[1], 3);
    fp_mul(x[2], x[2], x[1]);               /* 6 */
    fp_sqr_n(x[3], x[2], 6);
    fp_mul(x[3], x[3], x[2]);               /* 12 */
    fp_sqr_n(x[4], x[3], 3);
    fp_mul(x[4], x[4], x[1]);               /* 15 */
    fp_sqr_n(x[5], x[4], 15);
    fp_mul(x[5], x[5], x[4]);               /* 30 */
    fp_sqr(x[6], x[5]);
    fp_mul(x[6], x[6], a);                  /* 31 */
    fp_sqr(x[7], x[6]);
    fp_mul(x[7], x[7], a);                  /* 32 */

    fp_sqr(acc, x[6]);                      /* 31 ones, 0 */
    fp_sqr_n(acc, acc, 32);
    fp_mul(acc, acc, x[7]);
    fp_sqr_n(acc, acc, 32);
    fp_mul(acc, acc, x[7]);
    fp_sqr_n(acc, acc, 32);
    fp_mul(acc, acc, x[7]);
    fp_sqr_n(acc, acc, 32);
    fp_mul(acc, acc, x[7]);                 /* 128 ones */
    fp_sqr_n(acc, acc, 32);                 /* 32 zeros */
    fp_sqr_n(acc, acc, 31);
    fp_mul(acc, acc, x[6]);
    fp_sqr_n(acc, acc, 31);
    fp_mul(acc, acc, x[6]);                 /* 62 ones */
    fp_sqr_n(acc, acc, 2);
    fp_mul(r, acc, a);                      /* 0, 1 */
    OPENSSL_cleanse(x, sizeof(x));
    OPENSSL_cleanse(acc, sizeof(acc));
}


/* ---------------------------------------------------------------- */
/* Montgomery form                                                   */
/* ---------------------------------------------------------------- */

/* Montgomery product and square mod M, with the dedicated code for p (the
 * test on M is on which modulus, never on data). */
static inline void
mod_mul(fe r, const fe a, const fe b, const modulus *M)
{
    if (M == &P) {
        fp_mul(r, a, b);
    } else {
        mont_mul(r, a, b, M);
    }
}


static inline void
mod_sqr(fe r, const fe a, const modulus *M)
{
    if (M == &P) {
        fp_sqr(r, a);
    } else {
        mont_mul(r, a, a, M);
    }
}


static inline void
to_mont(fe r, const fe a, const modulus *M)
{
    mod_mul(r, a, M->r2, M);
}


static inline void
from_mont(fe r, const fe a, const modulus *M)
{
    static const fe  one = { 1, 0, 0, 0 };

    mod_mul(r, a, one, M);
}


/* r = a^(m-2) = a^-1 (0 for a = 0); the exponent is public, so the
 * sequence of operations is the same for every a.  For n; fp_inv is the
 * shorter chain for p. */
static void
mont_inv(fe r, const fe a, const modulus *M)
{
    fe        tab[16], acc;
    unsigned  d;
    int       i, j;

    memcpy(tab[0], M->one, sizeof(fe));
    memcpy(tab[1], a, sizeof(fe));
    for (j = 2; j < 16; j++) {
        mod_mul(tab[j], tab[j - 1], a, M);
    }
    memcpy(acc, M->one, sizeof(fe));
    for (i = 63; i >= 0; i--) {
        for (j = 0; j < 4; j++) {
            mod_sqr(acc, acc, M);
        }
        d = (unsigned) (M->e2[i / 16] >> (4 * (i % 16))) & 15;
        mod_mul(acc, acc, tab[d], M);
    }
    memcpy(r, acc, sizeof(fe));
    OPENSSL_cleanse(tab, sizeof(tab));
}





static void
modulus_init(modulus *M, const unsigned char be[32])
{
    static const fe  one = { 1, 0, 0, 0 }, two = { 2, 0, 0, 0 };
    uint64_t         inv;
    fe               r;
    int              i;

    fe_from_be(M->m, be);
    inv = M->m[0];
    for (i = 0; i < 5; i++) {
        inv *= 2 - M->m[0] * inv;           /* Newton: bits double */
    }
    M->m0 = 0 - inv;

    memcpy(r, one, sizeof(fe));
    for (i = 0; i < 512; i++) {
        mod_add(r, r, r, M);
    }
    memcpy(M->r2, r, sizeof(fe));
    to_mont(M->one, one, M);
    mod_sub(M->e2, M->m, two, M);           /* m - 2 < m: no wrap */
}


/* ---------------------------------------------------------------- */
/* Points: signing (RCB, constant time)                              */
/* ---------------------------------------------------------------- */

/*
 * The second half of RCB algorithms 4 and 5, which is the same in both:
 * from t0 = X1 X2, t1 = Y1 Y2, z = Z1 Z2 (Z1 for the mixed addition),
 * t3, t4 and Y3 = (X1 + Z1)(X2 + Z2) - t0 - z, to the sum in r.
 */
static void
rcb_add_tail(jp *r, fe t0, fe t1, const fe z, const fe t3, const fe t4,
    fe Y3)
{
    fe  t2, X3, Z3;

    fp_mul(Z3, B_m, z);
    fp_sub(X3, Y3, Z3);
    fp_add(Z3, X3, X3);
    fp_add(X3, X3, Z3);
    fp_sub(Z3, t1, X3);
    fp_add(X3, t1, X3);
    fp_mul(Y3, B_m, Y3);
    fp_add(t1, z, z);
    fp_add(t2, t1, z);
    fp_sub(Y3, Y3, t2);
    fp_sub(Y3, Y3, t0);
    fp_add(t1, Y3, Y3);
    fp_add(Y3, t1, Y3);
    fp_add(t1, t0, t0);
    fp_add(t0, t1, t0);
    fp_sub(t0, t0, t2);
    fp_mul(t1, t4, Y3);
    fp_mul(t2, t0, Y3);
    fp_mul(Y3, X3, Z3);
    fp_add(Y3, Y3, t2);
    fp_mul(X3, t3, X3);
    fp_sub(X3, X3, t1);
    fp_mul(Z3, t4, Z3);
    fp_mul(t1, t3, t0);
    fp_add(Z3, Z3, t1);
    memcpy(r->X, X3, sizeof(fe));
    memcpy(r->Y, Y3, sizeof(fe));
    memcpy(r->Z, Z3, sizeof(fe));
}


/* RCB algorithm 4: r = a + b, complete (a = -3). */
static void
pt_add(jp *r, const jp *p, const jp *q)
{
    fe  t0, t1, t2, t3, t4, X3, Y3;

    fp_mul(t0, p->X, q->X);
    fp_mul(t1, p->Y, q->Y);
    fp_mul(t2, p->Z, q->Z);
    fp_add(t3, p->X, p->Y);
    fp_add(t4, q->X, q->Y);
    fp_mul(t3, t3, t4);
    fp_add(t4, t0, t1);
    fp_sub(t3, t3, t4);
    fp_add(t4, p->Y, p->Z);
    fp_add(X3, q->Y, q->Z);
    fp_mul(t4, t4, X3);
    fp_add(X3, t1, t2);
    fp_sub(t4, t4, X3);
    fp_add(X3, p->X, p->Z);
    fp_add(Y3, q->X, q->Z);
    fp_mul(X3, X3, Y3);
    fp_add(Y3, t0, t2);
    fp_sub(Y3, X3, Y3);
    rcb_add_tail(r, t0, t1, t2, t3, t4, Y3);
}


/* RCB algorithm 5: r = p + q with q affine (never the identity).  Not
 * inlined into mul_g, its only caller: with the inlined fp_add and fp_sub
 * the result spilled so much that signing took 15% longer. */
static __attribute__((noinline)) void
pt_madd(jp *r, const jp *p, const ap *q)
{
    fe  t0, t1, t3, t4, Y3;

    fp_mul(t0, p->X, q->x);
    fp_mul(t1, p->Y, q->y);
    fp_add(t3, q->x, q->y);
    fp_add(t4, p->X, p->Y);
    fp_mul(t3, t3, t4);
    fp_add(t4, t0, t1);
    fp_sub(t3, t3, t4);
    fp_mul(t4, q->y, p->Z);
    fp_add(t4, t4, p->Y);
    fp_mul(Y3, q->x, p->Z);
    fp_add(Y3, Y3, p->X);
    rcb_add_tail(r, t0, t1, p->Z, t3, t4, Y3);
}


/* RCB algorithm 6: r = 2p. */
static void
pt_dbl(jp *r, const jp *p)
{
    fe  t0, t1, t2, t3, X3, Y3, Z3;

    fp_mul(t0, p->X, p->X);
    fp_mul(t1, p->Y, p->Y);
    fp_mul(t2, p->Z, p->Z);
    fp_mul(t3, p->X, p->Y);
    fp_add(t3, t3, t3);
    fp_mul(Z3, p->X, p->Z);
    fp_add(Z3, Z3, Z3);
    fp_mul(Y3, B_m, t2);
    fp_sub(Y3, Y3, Z3);
    fp_add(X3, Y3, Y3);
    fp_add(Y3, X3, Y3);
    fp_sub(X3, t1, Y3);
    fp_add(Y3, t1, Y3);
    fp_mul(Y3, X3, Y3);
    fp_mul(X3, X3, t3);
    fp_add(t3, t2, t2);
    fp_add(t2, t2, t3);
    fp_mul(Z3, B_m, Z3);
    fp_sub(Z3, Z3, t2);
    fp_sub(Z3, Z3, t0);
    fp_add(t3, Z3, Z3);
    fp_add(Z3, Z3, t3);
    fp_add(t3, t0, t0);
    fp_add(t0, t3, t0);
    fp_sub(t0, t0, t2);
    fp_mul(t0, t0, Z3);
    fp_add(Y3, Y3, t0);
    fp_mul(t0, p->Y, p->Z);
    fp_add(t0, t0, t0);
    fp_mul(Z3, t0, Z3);
    fp_sub(X3, X3, Z3);
    fp_mul(Z3, t0, t1);
    fp_add(Z3, Z3, Z3);
    fp_add(Z3, Z3, Z3);
    memcpy(r->X, X3, sizeof(fe));
    memcpy(r->Y, Y3, sizeof(fe));
    memcpy(r->Z, Z3, sizeof(fe));
}


static void
pt_identity(jp *r)
{
    memset(r, 0, sizeof(*r));
    memcpy(r->Y, P.one, sizeof(fe));
}


static void
pt_from_affine(jp *r, const ap *a)
{
    memcpy(r->X, a->x, sizeof(fe));
    memcpy(r->Y, a->y, sizeof(fe));
    memcpy(r->Z, P.one, sizeof(fe));
}


/* Affine x and y (plain, not Montgomery); 0 for the identity. */
static int
pt_to_affine(fe x, fe y, const jp *p)
{
    fe  zi;

    if (fe_is_zero(p->Z)) {
        return -1;
    }
    fp_inv(zi, p->Z);
    fp_mul(x, p->X, zi);
    from_mont(x, x, &P);
    if (y != NULL) {
        fp_mul(y, p->Y, zi);
        from_mont(y, y, &P);
    }
    return 0;
}


static void
sm2_init(void)
{
    static jp  tmp[NPRE];
    static fe  acc[NPRE];
    jp         base, *row, g2;
    fe         gx, gy, b, inv, zi, x, y;
    int        i, j, k;

    modulus_init(&P, sm2_p_be);
    modulus_init(&N, sm2_n_be);

    fe_from_be(b, sm2_b_be);
    to_mont(B_m, b, &P);
    fe_from_be(gx, sm2_gx_be);
    fe_from_be(gy, sm2_gy_be);
    to_mont(G_m.x, gx, &P);
    to_mont(G_m.y, gy, &P);

    /* tmp[15 i + j] = (j + 1) * 16^i * G, projective */
    pt_from_affine(&base, &G_m);
    for (i = 0; i < 64; i++) {
        row = &tmp[15 * i];
        row[0] = base;
        for (j = 1; j < 15; j++) {
            pt_add(&row[j], &row[j - 1], &base);
        }
        pt_add(&base, &row[14], &base);     /* 16 * base */
    }

    /* then tmp[64 * 15 + j] = (2j + 1) * G */
    row = &tmp[64 * 15];
    pt_from_affine(&row[0], &G_m);
    pt_dbl(&g2, &row[0]);
    for (j = 1; j < NGODD; j++) {
        pt_add(&row[j], &row[j - 1], &g2);
    }

    /* one inversion for all (Montgomery's trick); no Z is zero since
     * every multiple is below n */
    memcpy(acc[0], tmp[0].Z, sizeof(fe));
    for (k = 1; k < NPRE; k++) {
        fp_mul(acc[k], acc[k - 1], tmp[k].Z);
    }
    fp_inv(inv, acc[NPRE - 1]);
    for (k = NPRE - 1; k >= 0; k--) {
        if (k > 0) {
            fp_mul(zi, inv, acc[k - 1]);
            fp_mul(inv, inv, tmp[k].Z);
        } else {
            memcpy(zi, inv, sizeof(fe));
        }
        fp_mul(x, tmp[k].X, zi);
        fp_mul(y, tmp[k].Y, zi);
        if (k < 64 * 15) {
            memcpy(gtab[k / 15][k % 15].x, x, sizeof(fe));
            memcpy(gtab[k / 15][k % 15].y, y, sizeof(fe));
        } else {
            memcpy(godd[k - 64 * 15].x, x, sizeof(fe));
            memcpy(godd[k - 64 * 15].y, y, sizeof(fe));
            fp_neg(godd[k - 64 * 15].ny, y);
        }
    }
}


static void
sm2_ready(void)
{
    (void) pthread_once(&sm2_once, sm2_init);
}


/* k * G for k < 2^256, constant time in k. */
static void
mul_g(jp *r, const fe k)
{
    jp        t;
    ap        sel;
    unsigned  d;
    uint64_t  mask, x;
    int       i, j, l;

    pt_identity(r);
    for (i = 0; i < 64; i++) {
        d = (unsigned) (k[i / 16] >> (4 * (i % 16))) & 15;
        memset(&sel, 0, sizeof(sel));
        for (j = 0; j < 15; j++) {
            x = (uint64_t) ((unsigned) j + 1) ^ d;
            mask = ((x | (0 - x)) >> 63) - 1;
            for (l = 0; l < 4; l++) {
                sel.x[l] |= gtab[i][j].x[l] & mask;
                sel.y[l] |= gtab[i][j].y[l] & mask;
            }
        }
        pt_madd(&t, r, &sel);
        x = d;
        mask = 0 - ((x | (0 - x)) >> 63);   /* d != 0 */
        fe_cmov(r->X, t.X, mask);
        fe_cmov(r->Y, t.Y, mask);
        fe_cmov(r->Z, t.Z, mask);
    }
    OPENSSL_cleanse(&sel, sizeof(sel));
    OPENSSL_cleanse(&t, sizeof(t));
}


/* ---------------------------------------------------------------- */
/* Verification: Jacobian coordinates, signed windows                */
/* ---------------------------------------------------------------- */

/*
 * Verification handles public data only, so it may branch: it uses
 * Jacobian coordinates (x = X / Z^2, y = Y / Z^3, Z = 0 the identity),
 * whose doubling for a = -3 costs 4M + 4S against 11M + 2 products by b
 * for RCB's, with the exceptional cases of the addition (an operand is
 * the identity, P = Q, P = -Q) tested explicitly.  s G + t Q is one
 * chain of 256 doublings (Shamir's trick) adding signed odd multiples:
 * t in width-QW NAF against a table of Q, 3Q, ..., 15Q built per call,
 * s in width-GW NAF against a table of odd multiples of G built once
 * (about 43 + 28 additions).
 */

/* r = 2p (dbl-2001-b, a = -3); r may be p.  The identity stays Z = 0. */
static void
jac_dbl(jac *r, const jac *p)
{
    fe  delta, gamma, beta, alpha, t0, t1;

    fp_sqr(delta, p->Z);
    fp_sqr(gamma, p->Y);
    fp_mul(beta, p->X, gamma);
    fp_sub(t0, p->X, delta);
    fp_add(t1, p->X, delta);
    fp_mul(alpha, t0, t1);
    fp_add(t0, alpha, alpha);
    fp_add(alpha, t0, alpha);               /* 3 (X - Z^2)(X + Z^2) */
    fp_mul(t0, p->Y, p->Z);
    fp_add(r->Z, t0, t0);                   /* Z3 = 2 Y Z */
    fp_add(beta, beta, beta);
    fp_add(beta, beta, beta);               /* 4 X Y^2 */
    fp_sqr(t0, alpha);
    fp_sub(t0, t0, beta);
    fp_sub(r->X, t0, beta);                 /* X3 = alpha^2 - 8 X Y^2 */
    fp_sub(t0, beta, r->X);
    fp_mul(t0, alpha, t0);
    fp_sqr(t1, gamma);
    fp_add(t1, t1, t1);
    fp_add(t1, t1, t1);
    fp_add(t1, t1, t1);
    fp_sub(r->Y, t0, t1);                   /* alpha (4 X Y^2 - X3) - 8 Y^4 */
}


/* The end of an addition (add-1998-cmo-2 once U1, S1 = the first operand's
 * x, y scaled to the common Z and H = U2 - U1, R = S2 - S1 are known):
 * X3 = R^2 - H^3 - 2 U1 H^2, Y3 = R (U1 H^2 - X3) - S1 H^3; Z3 is the
 * caller's.  u1 and s1 may be r->X and r->Y: each is read before that
 * coordinate is written. */
static void
jac_add_tail(jac *r, const fe u1, const fe s1, const fe h, const fe rr)
{
    fe  hh, hhh, v, t;

    fp_sqr(hh, h);
    fp_mul(hhh, h, hh);
    fp_mul(v, u1, hh);
    fp_sqr(t, rr);
    fp_sub(t, t, hhh);
    fp_sub(t, t, v);
    fp_sub(r->X, t, v);
    fp_sub(t, v, r->X);
    fp_mul(t, rr, t);
    fp_mul(v, s1, hhh);
    fp_sub(r->Y, t, v);
}


/* r = p + q (or p - q); q is never the identity.  r may be p. */
static void
jac_add(jac *r, const jac *p, const jtab *q, int neg)
{
    const uint64_t  *qy = neg ? q->ny : q->p.Y;
    fe               z1z1, u1, u2, s1, s2, h, rr, z3;

    if (fe_is_zero(p->Z)) {
        memcpy(r->X, q->p.X, sizeof(fe));
        memcpy(r->Y, qy, sizeof(fe));
        memcpy(r->Z, q->p.Z, sizeof(fe));
        return;
    }
    fp_sqr(z1z1, p->Z);
    fp_mul(u1, p->X, q->zz);
    fp_mul(u2, q->p.X, z1z1);
    fp_mul(s1, p->Y, q->zzz);
    fp_mul(s2, qy, p->Z);
    fp_mul(s2, s2, z1z1);
    fp_sub(h, u2, u1);
    fp_sub(rr, s2, s1);
    if (fe_is_zero(h)) {
        if (fe_is_zero(rr)) {
            jac_dbl(r, p);                  /* p = q */
        } else {
            memset(r, 0, sizeof(*r));       /* p = -q */
        }
        return;
    }
    fp_mul(z3, p->Z, q->p.Z);
    fp_mul(r->Z, z3, h);
    jac_add_tail(r, u1, s1, h, rr);
}


/* r = p + (qx, qy), an affine point (madd-2004-hmv).  r may be p. */
static void
jac_madd(jac *r, const jac *p, const fe qx, const fe qy)
{
    fe  z1z1, u2, s2, h, rr;

    if (fe_is_zero(p->Z)) {
        memcpy(r->X, qx, sizeof(fe));
        memcpy(r->Y, qy, sizeof(fe));
        memcpy(r->Z, P.one, sizeof(fe));
        return;
    }
    fp_sqr(z1z1, p->Z);
    fp_mul(u2, qx, z1z1);
    fp_mul(s2, qy, p->Z);
    fp_mul(s2, s2, z1z1);
    fp_sub(h, u2, p->X);
    fp_sub(rr, s2, p->Y);
    if (fe_is_zero(h)) {
        if (fe_is_zero(rr)) {
            jac_dbl(r, p);
        } else {
            memset(r, 0, sizeof(*r));
        }
        return;
    }
    fp_mul(r->Z, p->Z, h);
    jac_add_tail(r, p->X, p->Y, h, rr);     /* U1 = X1, S1 = Y1 */
}


/* count (<= 8) bits of k from bit on, zeros past bit 255 */
static unsigned
fe_bits(const fe k, int bit, int count)
{
    uint64_t  v;
    int       i = bit / 64, o = bit % 64;

    if (i >= 4) {
        return 0;
    }
    v = k[i] >> o;
    if (o + count > 64 && i < 3) {
        v |= k[i + 1] << (64 - o);
    }
    return (unsigned) v & ((1u << count) - 1);
}


/* Width-w NAF of k < 2^256 (w <= 8, so digits fit a signed char): k =
 * sum naf[i] 2^i with every nonzero digit odd, |digit| < 2^(w-1), and
 * w - 1 zeros at least above it.  Returns the number of digits, at most
 * 257 (a carry can reach bit 256). */
static int
wnaf(signed char naf[257], const fe k, int w)
{
    int  bit, carry, len, now, word;

    memset(naf, 0, 257);
    carry = 0;
    len = 0;
    bit = 0;
    while (bit < 257) {
        if ((int) fe_bits(k, bit, 1) == carry) {
            bit++;
            continue;
        }
        now = 257 - bit < w ? 257 - bit : w;
        word = (int) fe_bits(k, bit, now) + carry;
        carry = (word >> (w - 1)) & 1;
        word -= carry << w;                 /* odd, in (-2^(w-1), 2^(w-1)) */
        naf[bit] = (signed char) word;
        len = bit + 1;
        bit += now;
    }
    return len;
}


/* r = s G + t Q, either part absent when s or q is NULL; public scalars
 * below 2^256, variable time. */
static void
mul_dual(jac *r, const fe s, const ap *q, const fe t)
{
    signed char  ns[257], nt[257];
    jtab         tab[1 << (QW - 2)], q2;
    int          i, j, d, ls = 0, lt = 0;

    if (s != NULL) {
        ls = wnaf(ns, s, GW);
    }
    if (q != NULL) {
        lt = wnaf(nt, t, QW);

        /* tab[j] = (2j + 1) Q = tab[j - 1] + 2Q */
        memcpy(tab[0].p.X, q->x, sizeof(fe));
        memcpy(tab[0].p.Y, q->y, sizeof(fe));
        memcpy(tab[0].p.Z, P.one, sizeof(fe));
        jac_dbl(&q2.p, &tab[0].p);
        fp_sqr(q2.zz, q2.p.Z);
        fp_mul(q2.zzz, q2.zz, q2.p.Z);
        for (j = 0; j < 1 << (QW - 2); j++) {
            if (j > 0) {
                jac_add(&tab[j].p, &tab[j - 1].p, &q2, 0);
            }
            fp_sqr(tab[j].zz, tab[j].p.Z);
            fp_mul(tab[j].zzz, tab[j].zz, tab[j].p.Z);
            fp_neg(tab[j].ny, tab[j].p.Y);
        }
    }

    memset(r, 0, sizeof(*r));
    for (i = (ls > lt ? ls : lt) - 1; i >= 0; i--) {
        if (!fe_is_zero(r->Z)) {
            jac_dbl(r, r);
        }
        d = i < lt ? nt[i] : 0;
        if (d != 0) {
            jac_add(r, r, &tab[(d < 0 ? -d : d) >> 1], d < 0);
        }
        d = i < ls ? ns[i] : 0;
        if (d != 0) {
            j = (d < 0 ? -d : d) >> 1;
            jac_madd(r, r, godd[j].x, d < 0 ? godd[j].ny : godd[j].y);
        }
    }
}


/* k * Q for public k and Q (variable time). */
static void
mul_var(jac *r, const ap *q, const fe k)
{
    mul_dual(r, NULL, q, k);
}


/* ---------------------------------------------------------------- */
/* Per-key comb tables for verification                              */
/* ---------------------------------------------------------------- */

/*
 * A key that verifies again and again (an institution's certificate in
 * the archive check, a member site's cosigning key) gets a table like
 * G's: (j + 1) 16^i Q for i < 64, j < 15, affine.  Then s G + t Q is at
 * most 2 x 64 mixed additions and no doubling, against 256 doublings
 * and about 71 additions.  A table costs about seven verifications to
 * build and 61,440 bytes; it is built on the second verification with
 * the key and kept for the QC_N keys of the process used last.
 */
typedef struct {
    ap  t[64][15];
} qcomb;

#define QC_N  16

typedef struct {
    unsigned char  pub[65];
    unsigned       uses;                    /* 0: free slot; counts to 2 */
    unsigned       refs;                    /* verifications using tab */
    unsigned       building;
    uint64_t       last;
    qcomb         *tab;
} qc_ent;

static qc_ent           qc[QC_N];
static uint64_t         qc_clock;
static pthread_mutex_t  qc_mu = PTHREAD_MUTEX_INITIALIZER;


static int
qcomb_build(qcomb *c, const ap *q)
{
    int    i, j, k;
    fe    *acc, inv, zi, zi2;
    jac   *tmp, *row;
    jtab   base;

    tmp = malloc(64 * 15 * sizeof(jac));
    acc = malloc(64 * 15 * sizeof(fe));
    if (tmp == NULL || acc == NULL) {
        free(tmp);
        free(acc);
        return -1;
    }

    /* row i: base, 2 base, ..., 15 base for base = 16^i Q */
    memcpy(base.p.X, q->x, sizeof(fe));
    memcpy(base.p.Y, q->y, sizeof(fe));
    memcpy(base.p.Z, P.one, sizeof(fe));
    for (i = 0; i < 64; i++) {
        fp_sqr(base.zz, base.p.Z);
        fp_mul(base.zzz, base.zz, base.p.Z);
        row = &tmp[15 * i];
        row[0] = base.p;
        jac_dbl(&row[1], &row[0]);
        for (j = 2; j < 15; j++) {
            jac_add(&row[j], &row[j - 1], &base, 0);
        }
        jac_dbl(&base.p, &row[7]);          /* 16 base = 2 (8 base) */
    }

    /* to affine with one inversion; no Z is zero: every multiple is
     * (j + 1) 16^i < n times Q, whose order is n */
    memcpy(acc[0], tmp[0].Z, sizeof(fe));
    for (k = 1; k < 64 * 15; k++) {
        fp_mul(acc[k], acc[k - 1], tmp[k].Z);
    }
    fp_inv(inv, acc[64 * 15 - 1]);
    for (k = 64 * 15 - 1; k >= 0; k--) {
        if (k > 0) {
            fp_mul(zi, inv, acc[k - 1]);
            fp_mul(inv, inv, tmp[k].Z);
        } else {
            memcpy(zi, inv, sizeof(fe));
        }
        fp_sqr(zi2, zi);
        fp_mul(c->t[k / 15][k % 15].x, tmp[k].X, zi2);
        fp_mul(zi2, zi2, zi);
        fp_mul(c->t[k / 15][k % 15].y, tmp[k].Y, zi2);
    }

    free(tmp);
    free(acc);
    return 0;
}


/* r = s G + t Q with Q's table (c NULL: s G alone); public scalars below
 * 2^256, variable time. */
static void
mul_comb(jac *r, const fe s, const qcomb *c, const fe t)
{
    int       i;
    unsigned  d;

    memset(r, 0, sizeof(*r));
    for (i = 0; i < 64; i++) {
        d = fe_bits(s, 4 * i, 4);
        if (d != 0) {
            jac_madd(r, r, gtab[i][d - 1].x, gtab[i][d - 1].y);
        }
        d = c != NULL ? fe_bits(t, 4 * i, 4) : 0;
        if (d != 0) {
            jac_madd(r, r, c->t[i][d - 1].x, c->t[i][d - 1].y);
        }
    }
}


/*
 * The cache entry holding pub's table, referenced (release it with
 * qc_put), or NULL: no table yet (first use, being built by another
 * thread, no memory, every slot in use).  force: build it on first use.
 */
static qc_ent *
qc_get(const unsigned char pub[65], const ap *q, int force)
{
    int      i;
    qc_ent  *e, *v;
    qcomb   *c;

    pthread_mutex_lock(&qc_mu);
    e = NULL;
    v = NULL;
    for (i = 0; i < QC_N; i++) {
        if (qc[i].uses > 0 && memcmp(qc[i].pub, pub, 65) == 0) {
            e = &qc[i];
            break;
        }
        if (qc[i].refs == 0 && !qc[i].building
            && (v == NULL || qc[i].last < v->last))
        {
            v = &qc[i];                     /* least recently used */
        }
    }
    if (e == NULL) {
        if (v == NULL) {
            pthread_mutex_unlock(&qc_mu);
            return NULL;
        }
        free(v->tab);
        memset(v, 0, sizeof(*v));
        memcpy(v->pub, pub, 65);
        e = v;
    }
    e->uses += e->uses < 2;
    e->last = ++qc_clock;
    if (e->tab != NULL) {
        e->refs++;
        pthread_mutex_unlock(&qc_mu);
        return e;
    }
    if (e->building || (e->uses < 2 && !force)) {
        pthread_mutex_unlock(&qc_mu);
        return NULL;
    }
    e->building = 1;                        /* not evicted meanwhile */
    pthread_mutex_unlock(&qc_mu);

    c = malloc(sizeof(qcomb));
    if (c != NULL && qcomb_build(c, q) != 0) {
        free(c);
        c = NULL;
    }

    pthread_mutex_lock(&qc_mu);
    e->building = 0;
    e->tab = c;
    e->refs += c != NULL;
    pthread_mutex_unlock(&qc_mu);
    return c != NULL ? e : NULL;
}


static void
qc_put(qc_ent *e)
{
    pthread_mutex_lock(&qc_mu);
    e->refs--;
    pthread_mutex_unlock(&qc_mu);
}


/* Affine x and y (plain) of a Jacobian point; -1 for the identity. */
static int
jac_to_affine(fe x, fe y, const jac *p)
{
    fe  zi, zi2;

    if (fe_is_zero(p->Z)) {
        return -1;
    }
    fp_inv(zi, p->Z);
    fp_sqr(zi2, zi);
    fp_mul(x, p->X, zi2);
    from_mont(x, x, &P);
    fp_mul(zi2, zi2, zi);
    fp_mul(y, p->Y, zi2);
    from_mont(y, y, &P);
    return 0;
}


/* 04 || x || y with x, y < p and y^2 = x^3 - 3x + b. */
static int
pub_decode(ap *q, const unsigned char pub[65])
{
    fe  x, y, l, r, t;

    if (pub[0] != 0x04) {
        return -1;
    }
    fe_from_be(x, pub + 1);
    fe_from_be(y, pub + 33);
    if (!fe_lt(x, P.m) || !fe_lt(y, P.m)) {
        return -1;
    }
    to_mont(q->x, x, &P);
    to_mont(q->y, y, &P);
    fp_mul(l, q->y, q->y);
    fp_mul(r, q->x, q->x);
    fp_mul(r, r, q->x);
    fp_add(t, q->x, q->x);
    fp_add(t, t, q->x);
    fp_sub(r, r, t);
    fp_add(r, r, B_m);
    return memcmp(l, r, sizeof(fe)) == 0 ? 0 : -1;
}


static void
pub_encode(unsigned char pub[65], const fe x, const fe y)
{
    pub[0] = 0x04;
    fe_to_be(pub + 1, x);
    fe_to_be(pub + 33, y);
}


/* a mod n for a < 2^256 (< 2n): one conditional subtraction. */
static void
mod_n_reduce(fe r, const fe a)
{
    static const fe  zero;

    /* mod_add's final step does exactly "subtract n unless it borrows" */
    mod_add(r, a, zero, &N);
}


/* ---------------------------------------------------------------- */
/* Keys, signing, verification                                       */
/* ---------------------------------------------------------------- */

int
esl_sm2_key_new(const unsigned char d[32], esl_sm2_key **out)
{
    static const fe  one = { 1, 0, 0, 0 };
    esl_sm2_key     *k;
    fe               nm1, t, x, y;
    jp               q;
    uint64_t         bad;

    if (d == NULL || out == NULL) {
        return ESL_EINVAL;
    }
    sm2_ready();

    k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return ESL_ENOMEM;
    }
    fe_from_be(k->d, d);

    /* 1 <= d <= n - 2 (GB/T 32918.1 6.1: d in [1, n-2]) */
    mod_sub(nm1, N.m, one, &N);
    bad = fe_is_zero(k->d) | (fe_lt(k->d, nm1) ^ 1);
    if (bad) {
        esl_sm2_key_free(k);
        return ESL_ECRYPTO;
    }

    mod_add(t, k->d, one, &N);
    to_mont(t, t, &N);
    mont_inv(k->dinv, t, &N);

    mul_g(&q, k->d);
    if (pt_to_affine(x, y, &q) != 0) {
        esl_sm2_key_free(k);
        return ESL_ECRYPTO;
    }
    pub_encode(k->pub, x, y);
    OPENSSL_cleanse(t, sizeof(t));
    OPENSSL_cleanse(&q, sizeof(q));
    *out = k;
    return ESL_OK;
}


void
esl_sm2_key_free(esl_sm2_key *k)
{
    if (k != NULL) {
        OPENSSL_cleanse(k, sizeof(*k));
        free(k);
    }
}


void
esl_sm2_key_pub(const esl_sm2_key *k, unsigned char pub[65])
{
    memcpy(pub, k->pub, 65);
}


int
esl_sm2_pub_check(const unsigned char pub[65])
{
    ap  q;

    if (pub == NULL) {
        return ESL_EINVAL;
    }
    sm2_ready();
    return pub_decode(&q, pub) == 0 ? ESL_OK : ESL_ECRYPTO;
}


int
esl_sm2_digest(const unsigned char pub[65], const void *id, size_t idlen,
    const void *msg, size_t len, unsigned char e[32])
{
    unsigned char  entl[2], z[32];
    esl__sm3       h;

    if (pub == NULL || e == NULL || (msg == NULL && len) || id == NULL
        || idlen == 0 || idlen > 8191)
    {
        return ESL_EINVAL;
    }
    entl[0] = (unsigned char) ((idlen * 8) >> 8);
    entl[1] = (unsigned char) (idlen * 8);
    esl__sm3_init(&h);
    esl__sm3_update(&h, entl, 2);
    esl__sm3_update(&h, id, idlen);
    esl__sm3_update(&h, sm2_p_be, 28);      /* a = p - 3 */
    esl__sm3_update(&h, "\xff\xff\xff\xfc", 4);
    esl__sm3_update(&h, sm2_b_be, 32);
    esl__sm3_update(&h, sm2_gx_be, 32);
    esl__sm3_update(&h, sm2_gy_be, 32);
    esl__sm3_update(&h, pub + 1, 64);
    esl__sm3_final(&h, z);

    esl__sm3_init(&h);
    esl__sm3_update(&h, z, 32);
    if (len) {
        esl__sm3_update(&h, msg, len);
    }
    esl__sm3_final(&h, e);
    return ESL_OK;
}


/* One signing attempt with nonce k (plain, 1 <= k < n).  1 if the
 * standard asks for another nonce (r = 0, r + k = n or s = 0). */
static int
sign_k(const esl_sm2_key *key, const unsigned char e[32], const fe k,
    unsigned char sig[64])
{
    jp        q;
    fe        x1, ev, r, t, rm, s;
    uint64_t  retry;

    mul_g(&q, k);
    if (pt_to_affine(x1, NULL, &q) != 0) {
        return -1;                          /* k = 0 mod n: not a nonce */
    }
    fe_from_be(ev, e);
    mod_n_reduce(ev, ev);
    mod_n_reduce(x1, x1);                   /* x1 < p < 2n */
    mod_add(r, ev, x1, &N);

    mod_add(t, r, k, &N);
    retry = fe_is_zero(r) | fe_is_zero(t);

    /* s = (1 + d)^-1 (k - r d) mod n */
    to_mont(rm, r, &N);
    mont_mul(t, rm, key->d, &N);            /* r d */
    mod_sub(t, k, t, &N);
    mont_mul(s, key->dinv, t, &N);          /* R^-1 dinv R (k - rd) */
    retry |= fe_is_zero(s);

    fe_to_be(sig, r);
    fe_to_be(sig + 32, s);
    OPENSSL_cleanse(&q, sizeof(q));
    OPENSSL_cleanse(t, sizeof(t));
    OPENSSL_cleanse(rm, sizeof(rm));
    OPENSSL_cleanse(x1, sizeof(x1));
    return retry ? 1 : 0;
}


int
esl__sm2_sign_k(const esl_sm2_key *key, const unsigned char e[32],
    const unsigned char kb[32], unsigned char sig[64])
{
    fe  k;
    int rc;

    sm2_ready();
    fe_from_be(k, kb);
    if (fe_is_zero(k) || !fe_lt(k, N.m)) {
        return ESL_EINVAL;
    }
    rc = sign_k(key, e, k, sig);
    OPENSSL_cleanse(k, sizeof(k));
    return rc == 0 ? ESL_OK : ESL_ECRYPTO;
}


int
esl_sm2_sign_e(const esl_sm2_key *key, const unsigned char e[32],
    unsigned char sig[64])
{
    unsigned char  kb[32];
    fe             k;
    int            rc, tries;

    if (key == NULL || e == NULL || sig == NULL) {
        return ESL_EINVAL;
    }
    sm2_ready();
    for (tries = 0; tries < 64; tries++) {
        /* k uniform in [1, n-1] by rejection (n > 2^255: fails with
         * probability about 2^-32 per draw) */
        if (RAND_priv_bytes(kb, sizeof(kb)) != 1) {
            return ESL_ECRYPTO;
        }
        fe_from_be(k, kb);
        if (fe_is_zero(k) || !fe_lt(k, N.m)) {
            continue;
        }
        rc = sign_k(key, e, k, sig);
        if (rc == 0) {
            OPENSSL_cleanse(kb, sizeof(kb));
            OPENSSL_cleanse(k, sizeof(k));
            return ESL_OK;
        }
        if (rc < 0) {
            break;
        }
    }
    OPENSSL_cleanse(kb, sizeof(kb));
    OPENSSL_cleanse(k, sizeof(k));
    return ESL_ECRYPTO;
}


int
esl_sm2_verify_e(const unsigned char pub[65], const unsigned char e[32],
    const unsigned char sig[64])
{
    ap       q;
    jac      a;
    fe       r, s, t, ev, c, zz, cz;
    qc_ent  *qe;

    if (pub == NULL || e == NULL || sig == NULL) {
        return ESL_EINVAL;
    }
    sm2_ready();
    if (pub_decode(&q, pub) != 0) {
        return ESL_ECRYPTO;
    }
    fe_from_be(r, sig);
    fe_from_be(s, sig + 32);
    if (fe_is_zero(r) || !fe_lt(r, N.m) || fe_is_zero(s)
        || !fe_lt(s, N.m))
    {
        return ESL_ESIG;
    }
    mod_add(t, r, s, &N);
    if (fe_is_zero(t)) {
        return ESL_ESIG;
    }
    qe = qc_get(pub, &q, 0);
    if (qe != NULL) {
        mul_comb(&a, s, qe->tab, t);
        qc_put(qe);
    } else {
        mul_dual(&a, s, &q, t);
    }
    if (fe_is_zero(a.Z)) {
        return ESL_ESIG;
    }

    /*
     * (e + x1) mod n = r with x1 = X / Z^2 < p, without the inversion:
     * x1 = c mod n for c = (r - e) mod n, and as n < p < 2n, x1 is c or,
     * when c + n < p, c + n.  Each candidate is tested as X = c Z^2.
     */
    fe_from_be(ev, e);
    mod_n_reduce(ev, ev);
    mod_sub(c, r, ev, &N);
    fp_sqr(zz, a.Z);
    to_mont(cz, c, &P);
    fp_mul(cz, cz, zz);
    if (memcmp(cz, a.X, sizeof(fe)) == 0) {
        return ESL_OK;
    }
    mod_sub(t, P.m, N.m, &P);               /* p - n: no borrow, no reduction */
    if (!fe_lt(c, t)) {
        return ESL_ESIG;
    }
    mod_add(c, c, N.m, &P);                 /* c + n < p: no reduction */
    to_mont(cz, c, &P);
    fp_mul(cz, cz, zz);
    return memcmp(cz, a.X, sizeof(fe)) == 0 ? ESL_OK : ESL_ESIG;
}


/* Test hooks: k * G and k * Q as 65-byte points (ESL_ECRYPTO for the
 * identity or a bad Q). */
int
esl__sm2_mul(const unsigned char *pub, const unsigned char kb[32],
    unsigned char out[65])
{
    ap   q;
    jp   r;
    jac  rj;
    fe   k, x, y;

    sm2_ready();
    fe_from_be(k, kb);
    if (pub == NULL) {
        mul_g(&r, k);
        if (pt_to_affine(x, y, &r) != 0) {
            return ESL_ECRYPTO;
        }
    } else {
        if (pub_decode(&q, pub) != 0) {
            return ESL_ECRYPTO;
        }
        mul_var(&rj, &q, k);
        if (jac_to_affine(x, y, &rj) != 0) {
            return ESL_ECRYPTO;
        }
    }
    pub_encode(out, x, y);
    return ESL_OK;
}


/* s G + t Q as verification computes it (Q NULL: s G alone): by the
 * signed-window chain, or (comb) by the tables, Q's from the cache. */
int
esl__sm2_mul2(const unsigned char sb[32], const unsigned char *pub,
    const unsigned char tb[32], int comb, unsigned char out[65])
{
    ap       q;
    jac      r;
    fe       s, t, x, y;
    qc_ent  *qe;

    sm2_ready();
    fe_from_be(s, sb);
    fe_from_be(t, tb);
    if (pub != NULL && pub_decode(&q, pub) != 0) {
        return ESL_ECRYPTO;
    }
    if (comb) {
        qe = pub != NULL ? qc_get(pub, &q, 1) : NULL;
        if (pub != NULL && qe == NULL) {
            return ESL_ENOMEM;
        }
        mul_comb(&r, s, qe != NULL ? qe->tab : NULL, t);
        if (qe != NULL) {
            qc_put(qe);
        }
    } else {
        mul_dual(&r, s, pub != NULL ? &q : NULL, t);
    }
    if (jac_to_affine(x, y, &r) != 0) {
        return ESL_ECRYPTO;
    }
    pub_encode(out, x, y);
    return ESL_OK;
}


/* One field operation on raw limbs (big-endian, each below p; n for 'n'):
 * 'm' a b R^-1 mod p, 's' a^2 R^-1 mod p, 'g' a b R^-1 mod p by the
 * generic mont_mul, 'n' a b R^-1 mod n, 'a' a + b and 'd' a - b mod p,
 * 'i' a^-1 R^2 mod p (Montgomery inverse). */
int
esl__sm2_fp(int op, const unsigned char ab[32], const unsigned char bb[32],
    unsigned char out[32])
{
    const modulus  *M;
    fe              a, b, r;

    sm2_ready();
    M = op == 'n' ? &N : &P;
    fe_from_be(a, ab);
    fe_from_be(b, bb);
    if (!fe_lt(a, M->m) || !fe_lt(b, M->m)) {
        return ESL_EINVAL;
    }
    switch (op) {
    case 'm':
        fp_mul(r, a, b);
        break;
    case 's':
        fp_sqr(r, a);
        break;
    case 'g':
    case 'n':
        mont_mul(r, a, b, M);
        break;
    case 'a':
        fp_add(r, a, b);
        break;
    case 'd':
        fp_sub(r, a, b);
        break;
    case 'i':
        fp_inv(r, a);
        break;
    default:
        return ESL_EINVAL;
    }
    fe_to_be(out, r);
    return ESL_OK;
}
