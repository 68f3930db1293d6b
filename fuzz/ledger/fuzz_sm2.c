/*
 * fuzz_sm2.c: libFuzzer differential target for the dedicated SM2
 * arithmetic (esl_sm2ec.c) against OpenSSL's generic EC code and a BIGNUM
 * reference of GB/T 32918.2.  Bit 2 of the first byte set picks mode 4,
 * else its low two bits pick the mode; the bytes after it are the
 * operands (big-endian, extra bytes are ignored, shorter inputs are
 * skipped):
 *
 *   0  k * G                      k[32]
 *   1  k * Q, Q = q * G           q[32] k[32]
 *   2  signature with nonce k     d[32] k[32] e[32]
 *   3  verification               pub[65] e[32] sig[64]
 *   4  s * G + t * Q by the       which[1] s[32] t[32]
 *      signed-window chain and
 *      by the per-key tables,
 *      Q one of G, 2G, -G and a
 *      fixed other point (so each
 *      table is built once)
 *
 * Property: both sides agree (the same point or both the identity; the
 * same key refusals; the same signature byte for byte, and it verifies;
 * the same verdict and error code for arbitrary (pub, e, sig)); abort()
 * otherwise.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "esl_int.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* the reference context, created once */
static EC_GROUP      *grp;
static BN_CTX        *bctx;
static const BIGNUM  *order;            /* n, owned by grp */
static BIGNUM        *prime, *ca, *cb;  /* p, a, b */


static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_sm2: %s\n", what);
    abort();
}


static void
ref_init(void)
{
    if (grp != NULL) {
        return;
    }
    grp = EC_GROUP_new_by_curve_name(NID_sm2);
    bctx = BN_CTX_new();
    prime = BN_new();
    ca = BN_new();
    cb = BN_new();
    if (grp == NULL || bctx == NULL || prime == NULL || ca == NULL
        || cb == NULL || !EC_GROUP_get_curve(grp, prime, ca, cb, bctx))
    {
        fail("OpenSSL: no SM2 group");
    }
    order = EC_GROUP_get0_order(grp);
}


/* OpenSSL's k * Q (q NULL: G) as 65 bytes; 1 for the identity, -1 for a
 * q that is not a point. */
static int
ref_mul(const unsigned char *q, const unsigned char k[32],
    unsigned char out[65])
{
    EC_POINT  *r, *pq = NULL;
    BIGNUM    *bk;
    int        rc = -1;

    r = EC_POINT_new(grp);
    bk = BN_bin2bn(k, 32, NULL);
    if (r == NULL || bk == NULL) {
        fail("OpenSSL: out of memory");
    }
    if (q != NULL) {
        pq = EC_POINT_new(grp);
        if (pq == NULL) {
            fail("OpenSSL: out of memory");
        }
        if (!EC_POINT_oct2point(grp, pq, q, 65, bctx)) {
            goto done;
        }
    }
    if (!EC_POINT_mul(grp, r, q ? NULL : bk, pq, q ? bk : NULL, bctx)) {
        fail("OpenSSL: EC_POINT_mul failed");
    }
    if (EC_POINT_is_at_infinity(grp, r)) {
        rc = 1;
        goto done;
    }
    if (EC_POINT_point2oct(grp, r, POINT_CONVERSION_UNCOMPRESSED, out, 65,
                           bctx) != 65)
    {
        fail("OpenSSL: EC_POINT_point2oct failed");
    }
    rc = 0;
done:
    EC_POINT_free(r);
    EC_POINT_free(pq);
    BN_free(bk);
    return rc;
}


/* The standard's signature with nonce k (1 <= k < n) in BIGNUMs: r = (e +
 * x1) mod n, s = (1 + d)^-1 (k - r d) mod n.  1 if the standard asks for
 * another nonce (r = 0, r + k = n or s = 0). */
static int
ref_sign(const unsigned char d[32], const unsigned char e[32],
    const unsigned char k[32], unsigned char sig[64])
{
    unsigned char  kg[65];
    BIGNUM        *bd, *be, *bk, *x1, *r, *s, *t;
    int            retry;

    if (ref_mul(NULL, k, kg) != 0) {
        fail("reference: k * G is the identity for k in [1, n-1]");
    }
    BN_CTX_start(bctx);
    bd = BN_CTX_get(bctx);
    be = BN_CTX_get(bctx);
    bk = BN_CTX_get(bctx);
    x1 = BN_CTX_get(bctx);
    r = BN_CTX_get(bctx);
    s = BN_CTX_get(bctx);
    t = BN_CTX_get(bctx);
    if (t == NULL
        || !BN_bin2bn(d, 32, bd) || !BN_bin2bn(e, 32, be)
        || !BN_bin2bn(k, 32, bk) || !BN_bin2bn(kg + 1, 32, x1)
        || !BN_mod_add(r, be, x1, order, bctx))
    {
        fail("OpenSSL: BIGNUM failure");
    }
    retry = BN_is_zero(r);
    if (!BN_mod_add(t, r, bk, order, bctx)) {
        fail("OpenSSL: BIGNUM failure");
    }
    retry |= BN_is_zero(t);
    if (!BN_mod_mul(t, r, bd, order, bctx)
        || !BN_mod_sub(s, bk, t, order, bctx)
        || !BN_add_word(bd, 1)
        || !BN_mod_inverse(t, bd, order, bctx)
        || !BN_mod_mul(s, s, t, order, bctx))
    {
        fail("OpenSSL: BIGNUM failure");
    }
    retry |= BN_is_zero(s);
    if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32)
    {
        fail("OpenSSL: BIGNUM failure");
    }
    BN_CTX_end(bctx);
    return retry;
}


/* The standard's verification in BIGNUMs and OpenSSL's EC_POINT: ESL_OK,
 * ESL_ESIG or ESL_ECRYPTO (pub not 04 || x || y with x, y < p on the
 * curve). */
static int
ref_verify(const unsigned char pub[65], const unsigned char e[32],
    const unsigned char sig[64])
{
    EC_POINT  *q = NULL, *pt = NULL;
    BIGNUM    *x, *y, *l, *w, *r, *s, *t, *be, *x1;
    int        rc;

    BN_CTX_start(bctx);
    x = BN_CTX_get(bctx);
    y = BN_CTX_get(bctx);
    l = BN_CTX_get(bctx);
    w = BN_CTX_get(bctx);
    r = BN_CTX_get(bctx);
    s = BN_CTX_get(bctx);
    t = BN_CTX_get(bctx);
    be = BN_CTX_get(bctx);
    x1 = BN_CTX_get(bctx);
    if (x1 == NULL) {
        fail("OpenSSL: out of memory");
    }

    /* the point: uncompressed, coordinates reduced, y^2 = x^3 + ax + b */
    rc = ESL_ECRYPTO;
    if (pub[0] != 0x04) {
        goto done;
    }
    if (!BN_bin2bn(pub + 1, 32, x) || !BN_bin2bn(pub + 33, 32, y)) {
        fail("OpenSSL: BIGNUM failure");
    }
    if (BN_cmp(x, prime) >= 0 || BN_cmp(y, prime) >= 0) {
        goto done;
    }
    if (!BN_mod_sqr(l, y, prime, bctx)
        || !BN_mod_sqr(w, x, prime, bctx)
        || !BN_mod_add(w, w, ca, prime, bctx)
        || !BN_mod_mul(w, w, x, prime, bctx)
        || !BN_mod_add(w, w, cb, prime, bctx))
    {
        fail("OpenSSL: BIGNUM failure");
    }
    if (BN_cmp(l, w) != 0) {
        goto done;
    }
    q = EC_POINT_new(grp);
    pt = EC_POINT_new(grp);
    if (q == NULL || pt == NULL
        || !EC_POINT_set_affine_coordinates(grp, q, x, y, bctx))
    {
        fail("OpenSSL: a point on the curve refused");
    }

    /* r, s in [1, n-1], t = (r + s) mod n != 0 */
    rc = ESL_ESIG;
    if (!BN_bin2bn(sig, 32, r) || !BN_bin2bn(sig + 32, 32, s)
        || !BN_bin2bn(e, 32, be))
    {
        fail("OpenSSL: BIGNUM failure");
    }
    if (BN_is_zero(r) || BN_cmp(r, order) >= 0
        || BN_is_zero(s) || BN_cmp(s, order) >= 0)
    {
        goto done;
    }
    if (!BN_mod_add(t, r, s, order, bctx)) {
        fail("OpenSSL: BIGNUM failure");
    }
    if (BN_is_zero(t)) {
        goto done;
    }

    /* (x1, y1) = s G + t Q, not the identity; (e + x1) mod n == r */
    if (!EC_POINT_mul(grp, pt, s, q, t, bctx)) {
        fail("OpenSSL: EC_POINT_mul failed");
    }
    if (EC_POINT_is_at_infinity(grp, pt)) {
        goto done;
    }
    if (!EC_POINT_get_affine_coordinates(grp, pt, x1, NULL, bctx)
        || !BN_mod_add(w, be, x1, order, bctx))
    {
        fail("OpenSSL: BIGNUM failure");
    }
    rc = BN_cmp(w, r) == 0 ? ESL_OK : ESL_ESIG;

done:
    EC_POINT_free(q);
    EC_POINT_free(pt);
    BN_CTX_end(bctx);
    return rc;
}


/* mode 0 and 1: k * G, k * Q */
static void
fuzz_mul(const unsigned char *q, const unsigned char k[32])
{
    unsigned char  got[65], want[65];
    int            rc, ref;

    rc = esl__sm2_mul(q, k, got);
    ref = ref_mul(q, k, want);
    if (ref < 0) {
        fail("reference: Q is not a point");
    }
    if (ref == 1) {
        if (rc != ESL_ECRYPTO) {
            fail("k * P: OpenSSL gives the identity, esl__sm2_mul not "
                 "ESL_ECRYPTO");
        }
        return;
    }
    if (rc != ESL_OK) {
        fail("k * P: esl__sm2_mul refused a non-identity result");
    }
    if (memcmp(got, want, 65) != 0) {
        fail("k * P: points differ");
    }
}


/* mode 2: key refusals, public point, fixed-nonce signature */
static void
fuzz_sign(const unsigned char d[32], const unsigned char k[32],
    const unsigned char e[32])
{
    unsigned char   pub[65], want_pub[65], sig[64], want[64];
    esl_sm2_key    *key = NULL;
    BIGNUM         *bd, *bk, *nm1;
    int             rc, key_ok, k_ok, retry;

    BN_CTX_start(bctx);
    bd = BN_CTX_get(bctx);
    bk = BN_CTX_get(bctx);
    nm1 = BN_CTX_get(bctx);
    if (nm1 == NULL || !BN_bin2bn(d, 32, bd) || !BN_bin2bn(k, 32, bk)
        || !BN_copy(nm1, order) || !BN_sub_word(nm1, 1))
    {
        fail("OpenSSL: BIGNUM failure");
    }
    key_ok = !BN_is_zero(bd) && BN_cmp(bd, nm1) < 0;
    k_ok = !BN_is_zero(bk) && BN_cmp(bk, order) < 0;
    BN_CTX_end(bctx);

    rc = esl_sm2_key_new(d, &key);
    if (!key_ok) {
        if (rc != ESL_ECRYPTO) {
            fail("key_new: d = 0 or d >= n-1 not refused with ESL_ECRYPTO");
        }
        return;
    }
    if (rc != ESL_OK) {
        fail("key_new: d in [1, n-2] refused");
    }

    esl_sm2_key_pub(key, pub);
    if (ref_mul(NULL, d, want_pub) != 0 || memcmp(pub, want_pub, 65) != 0) {
        fail("key_new: public point differs from d * G");
    }

    rc = esl__sm2_sign_k(key, e, k, sig);
    if (!k_ok) {
        if (rc != ESL_EINVAL) {
            fail("sign_k: k = 0 or k >= n not refused with ESL_EINVAL");
        }
        goto done;
    }

    retry = ref_sign(d, e, k, want);
    if (retry) {
        /* r = 0, r + k = n or s = 0: the standard draws another nonce */
        if (rc != ESL_ECRYPTO) {
            fail("sign_k: a nonce the standard rejects was accepted");
        }
        goto done;
    }
    if (rc != ESL_OK) {
        fail("sign_k: refused a valid nonce");
    }
    if (memcmp(sig, want, 64) != 0) {
        fail("sign_k: signature differs from the BIGNUM reference");
    }
    if (esl_sm2_verify_e(pub, e, sig) != ESL_OK) {
        fail("verify_e: own signature refused");
    }
    if (ref_verify(pub, e, sig) != ESL_OK) {
        fail("reference: signature refused by the reference verifier");
    }

done:
    esl_sm2_key_free(key);
}


/* mode 4: s G + t Q, both ways, against OpenSSL */
static void
fuzz_dual(unsigned which, const unsigned char s[32], const unsigned char t[32])
{
    static const unsigned char  ks[4] = { 1, 2, 0, 0x5a };
    unsigned char               k[32], q[65], got[65], want[65];
    EC_POINT                   *r, *pq;
    BIGNUM                     *bs, *bt, *bk;
    int                         ref, comb;

    /* Q = k G for k = 1, 2, n - 1 and a fixed 256-bit pattern */
    bk = BN_new();
    if (bk == NULL) {
        fail("OpenSSL: out of memory");
    }
    if (which == 2) {
        if (!BN_copy(bk, order) || !BN_sub_word(bk, 1)) {
            fail("OpenSSL: BIGNUM failure");
        }
    } else if (!BN_set_word(bk, ks[which])
               || (which == 3 && !BN_lshift(bk, bk, 249)))
    {
        fail("OpenSSL: BIGNUM failure");
    }
    if (BN_bn2binpad(bk, k, 32) != 32 || ref_mul(NULL, k, q) != 0) {
        fail("reference: fixed Q");
    }
    BN_free(bk);

    r = EC_POINT_new(grp);
    pq = EC_POINT_new(grp);
    bs = BN_bin2bn(s, 32, NULL);
    bt = BN_bin2bn(t, 32, NULL);
    if (r == NULL || pq == NULL || bs == NULL || bt == NULL
        || !EC_POINT_oct2point(grp, pq, q, 65, bctx)
        || !EC_POINT_mul(grp, r, bs, pq, bt, bctx))
    {
        fail("OpenSSL: EC_POINT_mul failed");
    }
    ref = EC_POINT_is_at_infinity(grp, r) ? 1 : 0;
    if (ref == 0
        && EC_POINT_point2oct(grp, r, POINT_CONVERSION_UNCOMPRESSED, want,
                              65, bctx) != 65)
    {
        fail("OpenSSL: EC_POINT_point2oct failed");
    }

    for (comb = 0; comb < 2; comb++) {
        if (esl__sm2_mul2(s, q, t, comb, got) != (ref ? ESL_ECRYPTO : ESL_OK)
            || (ref == 0 && memcmp(got, want, 65) != 0))
        {
            fail(comb ? "s G + t Q: the per-key tables differ from OpenSSL"
                      : "s G + t Q: the chain differs from OpenSSL");
        }
    }

    EC_POINT_free(r);
    EC_POINT_free(pq);
    BN_free(bs);
    BN_free(bt);
}


/* mode 3: verification of arbitrary bytes */
static void
fuzz_verify(const unsigned char pub[65], const unsigned char e[32],
    const unsigned char sig[64])
{
    int  rc, ref;

    rc = esl_sm2_verify_e(pub, e, sig);
    ref = ref_verify(pub, e, sig);
    if (rc != ref) {
        fprintf(stderr, "fuzz_sm2: verify_e %d, reference %d\n", rc, ref);
        fail("verify_e: verdict differs from the reference");
    }
}


int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    unsigned char         q[65];
    const unsigned char  *p;
    size_t                len;

    if (size < 1) {
        return 0;
    }
    p = data + 1;
    len = size - 1;
    ref_init();

    if (data[0] & 4) {
        if (len >= 65) {
            fuzz_dual(p[0] & 3, p + 1, p + 33);
        }
        return 0;
    }

    switch (data[0] & 3) {
    case 0:
        if (len >= 32) {
            fuzz_mul(NULL, p);
        }
        break;

    case 1:
        if (len >= 64) {
            /* Q = q * G by OpenSSL; q = 0 mod n is not a point */
            if (ref_mul(NULL, p, q) == 0) {
                fuzz_mul(q, p + 32);
            }
        }
        break;

    case 2:
        if (len >= 96) {
            fuzz_sign(p, p + 32, p + 64);
        }
        break;

    default:
        if (len >= 161) {
            fuzz_verify(p, p + 65, p + 97);
        }
        break;
    }
    return 0;
}
