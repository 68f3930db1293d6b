/*
 * test_sm2ec.c: the dedicated SM2 arithmetic (esl_sm2ec.c) against
 * OpenSSL's generic EC code: curve constants, k * G and k * Q for edge and
 * random scalars, fixed-nonce signatures byte for byte against a BIGNUM
 * reference, the GM/T 0003.5 example, signatures in both directions with
 * OpenSSL's SM2, and the rejections.  (R-LEDG-5, R-SIGN-3)
 */

#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/core_names.h>
#include <openssl/err.h>

#include "util.h"
#include "esl_int.h"

#define KAT_D   "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
#define KAT_X   "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
#define KAT_Y   "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
#define KAT_K   "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21"
#define KAT_R   "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
#define KAT_S   "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
#define KAT_MSG "message digest"
#define ID      "1234567812345678"

static EC_GROUP  *grp;
static BN_CTX    *bctx;
static BIGNUM    *order;


/* OpenSSL's s G + t Q as 65 bytes (s NULL: t Q only; Q NULL: s G only);
 * -1 for the identity. */
static int
ref_mul2(const unsigned char *s, const unsigned char *q,
    const unsigned char *t, unsigned char out[65])
{
    EC_POINT  *r = EC_POINT_new(grp), *pq = NULL;
    BIGNUM    *bs = s ? BN_bin2bn(s, 32, NULL) : NULL;
    BIGNUM    *bt = q ? BN_bin2bn(t, 32, NULL) : NULL;
    int        rc = -1;

    if (q != NULL) {
        pq = EC_POINT_new(grp);
        if (!EC_POINT_oct2point(grp, pq, q, 65, bctx)) {
            goto done;
        }
    }
    if (!EC_POINT_mul(grp, r, bs, pq, bt, bctx)
        || EC_POINT_is_at_infinity(grp, r))
    {
        goto done;
    }
    rc = EC_POINT_point2oct(grp, r, POINT_CONVERSION_UNCOMPRESSED, out, 65,
                            bctx) == 65 ? 0 : -1;
done:
    EC_POINT_free(r);
    EC_POINT_free(pq);
    BN_free(bs);
    BN_free(bt);
    return rc;
}


/* OpenSSL's k * Q (Q NULL: G) as 65 bytes; -1 for the identity. */
static int
ref_mul(const unsigned char *q, const unsigned char k[32],
    unsigned char out[65])
{
    return q != NULL ? ref_mul2(NULL, q, k, out)
                     : ref_mul2(k, NULL, NULL, out);
}


/* The standard's signature with nonce k, in BIGNUMs. */
static void
ref_sign(const unsigned char d[32], const unsigned char e[32],
    const unsigned char k[32], unsigned char sig[64])
{
    unsigned char  kg[65];
    BIGNUM        *bd = BN_bin2bn(d, 32, NULL), *be = BN_bin2bn(e, 32, NULL);
    BIGNUM        *bk = BN_bin2bn(k, 32, NULL), *x1 = BN_new();
    BIGNUM        *r = BN_new(), *s = BN_new(), *t = BN_new();

    ref_mul(NULL, k, kg);
    BN_bin2bn(kg + 1, 32, x1);
    BN_mod_add(r, be, x1, order, bctx);
    BN_mod_mul(t, r, bd, order, bctx);
    BN_mod_sub(s, bk, t, order, bctx);
    BN_add_word(bd, 1);
    BN_mod_inverse(t, bd, order, bctx);
    BN_mod_mul(s, s, t, order, bctx);
    BN_bn2binpad(r, sig, 32);
    BN_bn2binpad(s, sig + 32, 32);
    BN_free(bd); BN_free(be); BN_free(bk); BN_free(x1);
    BN_free(r); BN_free(s); BN_free(t);
}


static void
rand_scalar(unsigned char k[32])
{
    BIGNUM  *b = BN_new();

    BN_rand_range(b, order);
    if (BN_is_zero(b)) {
        BN_one(b);
    }
    BN_bn2binpad(b, k, 32);
    BN_free(b);
}


static void
set_scalar(unsigned char k[32], const BIGNUM *b)
{
    BN_bn2binpad(b, k, 32);
}


static void
test_curve(void)
{
    BIGNUM         *p = BN_new(), *a = BN_new(), *b = BN_new();
    unsigned char   one[32] = { 0 }, g[65], want[65];

    EC_GROUP_get_curve(grp, p, a, b, bctx);
    one[31] = 1;
    is_int(esl__sm2_mul(NULL, one, g), ESL_OK, "1 * G");
    ok(EC_POINT_point2oct(grp, EC_GROUP_get0_generator(grp),
                          POINT_CONVERSION_UNCOMPRESSED, want, 65, bctx) == 65
       && memcmp(g, want, 65) == 0, "generator equals OpenSSL's");
    is_int(esl_sm2_pub_check(g), ESL_OK, "G is on the curve");
    /* a = p - 3 and b are inside Z_A: compare with OpenSSL's constants by
     * checking Z_A through a KAT below; here the modulus and order */
    {
        unsigned char  pb[32], nb[32], ab[32];
        BIGNUM        *pm3 = BN_dup(p);

        BN_sub_word(pm3, 3);
        BN_bn2binpad(p, pb, 32);
        BN_bn2binpad(order, nb, 32);
        BN_bn2binpad(a, ab, 32);
        ok(BN_cmp(a, pm3) == 0, "OpenSSL's a is p - 3 (the formulas use it)");
        /* n * G is the identity and (n - 1) * G = -G */
        is_int(esl__sm2_mul(NULL, nb, g), ESL_ECRYPTO, "n * G = identity");
        BN_free(pm3);
        (void) pb; (void) ab;
    }
    BN_free(p); BN_free(a); BN_free(b);
}


static void
test_mul(void)
{
    unsigned char  k[32], got[65], want[65], q[65];
    BIGNUM        *bk = BN_new();
    int            i, bad_g = 0, bad_q = 0, nk = 0;
    static const unsigned long small[] = {
        1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 255, 256, 257, 4095, 65535, 65536
    };

    /* small, powers of two, nibble patterns, near the order */
    for (i = 0; i < (int) (sizeof(small) / sizeof(small[0])); i++) {
        BN_set_word(bk, small[i]);
        set_scalar(k, bk);
        ref_mul(NULL, k, want);
        bad_g += esl__sm2_mul(NULL, k, got) != ESL_OK
                 || memcmp(got, want, 65) != 0;
        nk++;
    }
    for (i = 0; i < 256; i++) {
        BN_zero(bk);
        BN_set_bit(bk, i);
        set_scalar(k, bk);
        if (ref_mul(NULL, k, want) != 0) {
            continue;
        }
        bad_g += esl__sm2_mul(NULL, k, got) != ESL_OK
                 || memcmp(got, want, 65) != 0;
        nk++;
    }
    for (i = 1; i <= 16; i++) {
        BN_copy(bk, order);
        BN_sub_word(bk, (unsigned long) i);
        set_scalar(k, bk);
        ref_mul(NULL, k, want);
        bad_g += esl__sm2_mul(NULL, k, got) != ESL_OK
                 || memcmp(got, want, 65) != 0;
        nk++;
    }
    for (i = 0; i < 16; i++) {
        memset(k, (i << 4) | i, 32);        /* every nibble = i */
        k[0] &= 0x7f;
        if (i == 0 || ref_mul(NULL, k, want) != 0) {
            continue;
        }
        bad_g += esl__sm2_mul(NULL, k, got) != ESL_OK
                 || memcmp(got, want, 65) != 0;
        nk++;
    }
    for (i = 0; i < 300; i++) {
        rand_scalar(k);
        ref_mul(NULL, k, want);
        bad_g += esl__sm2_mul(NULL, k, got) != ESL_OK
                 || memcmp(got, want, 65) != 0;
        nk++;
    }
    is_int(bad_g, 0, "k * G equals OpenSSL for %d scalars (edges, powers of "
           "two, nibble patterns, n-16..n-1, random)", nk);

    for (i = 0; i < 120; i++) {
        rand_scalar(k);
        ref_mul(NULL, k, q);
        if (i < 16) {
            memset(k, 0, 32);
            k[31] = (unsigned char) (i + 1);
        } else {
            rand_scalar(k);
        }
        ref_mul(q, k, want);
        bad_q += esl__sm2_mul(q, k, got) != ESL_OK
                 || memcmp(got, want, 65) != 0;
    }
    is_int(bad_q, 0, "k * Q equals OpenSSL for 120 random points");
    BN_free(bk);
}


static void
test_points(void)
{
    unsigned char  one[32] = { 0 }, g[65], bad[65];

    one[31] = 1;
    esl__sm2_mul(NULL, one, g);

    memcpy(bad, g, 65);
    bad[0] = 0x02;
    is_int(esl_sm2_pub_check(bad), ESL_ECRYPTO, "compressed prefix refused");
    memcpy(bad, g, 65);
    bad[64] ^= 1;
    is_int(esl_sm2_pub_check(bad), ESL_ECRYPTO, "point off the curve refused");
    memset(bad, 0, 65);
    bad[0] = 0x04;
    is_int(esl_sm2_pub_check(bad), ESL_ECRYPTO, "(0, 0) refused");
    memcpy(bad, g, 65);
    unhex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF",
          bad + 1);
    is_int(esl_sm2_pub_check(bad), ESL_ECRYPTO, "x = p refused");
    memcpy(bad, g, 65);
    unhex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF",
          bad + 33);
    is_int(esl_sm2_pub_check(bad), ESL_ECRYPTO, "y = p refused");
}


static void
test_keys(void)
{
    unsigned char  d[32], pub[65], want[65];
    esl_sm2_key   *k = NULL;
    BIGNUM        *b = BN_new();

    memset(d, 0, 32);
    is_int(esl_sm2_key_new(d, &k), ESL_ECRYPTO, "d = 0 refused");
    BN_copy(b, order);
    BN_sub_word(b, 1);
    set_scalar(d, b);
    is_int(esl_sm2_key_new(d, &k), ESL_ECRYPTO, "d = n - 1 refused");
    BN_copy(b, order);
    set_scalar(d, b);
    is_int(esl_sm2_key_new(d, &k), ESL_ECRYPTO, "d = n refused");
    memset(d, 0xff, 32);
    is_int(esl_sm2_key_new(d, &k), ESL_ECRYPTO, "d = 2^256 - 1 refused");

    BN_copy(b, order);
    BN_sub_word(b, 2);
    set_scalar(d, b);
    is_int(esl_sm2_key_new(d, &k), ESL_OK, "d = n - 2 accepted");
    esl_sm2_key_pub(k, pub);
    ref_mul(NULL, d, want);
    ok(memcmp(pub, want, 65) == 0, "its public point is (n-2) * G");
    esl_sm2_key_free(k);

    memset(d, 0, 32);
    d[31] = 1;
    is_int(esl_sm2_key_new(d, &k), ESL_OK, "d = 1 accepted");
    esl_sm2_key_pub(k, pub);
    ref_mul(NULL, d, want);
    ok(memcmp(pub, want, 65) == 0, "its public point is G");
    esl_sm2_key_free(k);
    BN_free(b);
}


static void
test_kat(void)
{
    unsigned char  d[32], k[32], pub[65], e[32], sig[64], want[64];
    esl_sm2_key   *key = NULL;

    unhex(KAT_D, d);
    unhex(KAT_K, k);
    unhex(KAT_R, want);
    unhex(KAT_S, want + 32);
    is_int(esl_sm2_key_new(d, &key), ESL_OK, "GM/T 0003.5 example key");
    esl_sm2_key_pub(key, pub);
    {
        unsigned char  x[32], y[32];

        unhex(KAT_X, x);
        unhex(KAT_Y, y);
        ok(pub[0] == 4 && memcmp(pub + 1, x, 32) == 0
           && memcmp(pub + 33, y, 32) == 0, "example public point");
    }
    is_int(esl_sm2_digest(pub, ID, 16, KAT_MSG, strlen(KAT_MSG), e), ESL_OK,
           "e = SM3(Z_A || M)");
    is_int(esl__sm2_sign_k(key, e, k, sig), ESL_OK, "sign with the "
           "example's k");
    ok(memcmp(sig, want, 64) == 0, "r, s equal the GM/T 0003.5 example");
    is_int(esl_sm2_verify_e(pub, e, want), ESL_OK, "example verifies");
    is_int(esl_sm2_digest(pub, "", 0, KAT_MSG, 3, e), ESL_EINVAL,
           "empty distinguishing ID refused");
    esl_sm2_key_free(key);
}


static void
test_fixed_nonce(void)
{
    unsigned char  d[32], k[32], e[32], sig[64], want[64], pub[65];
    esl_sm2_key   *key;
    int            i, bad = 0, badv = 0, n = 0;

    for (i = 0; i < 200; i++) {
        rand_scalar(d);
        if (esl_sm2_key_new(d, &key) != ESL_OK) {
            continue;                       /* d = n - 1: not a key */
        }
        rand_scalar(k);
        switch (i % 5) {
        case 0: memset(e, 0, 32); break;    /* e = 0 */
        case 1: memset(e, 0xff, 32); break; /* e > n */
        case 2: set_scalar(e, order); break;
        default: RAND_bytes(e, 32);
        }
        ref_sign(d, e, k, want);
        bad += esl__sm2_sign_k(key, e, k, sig) != ESL_OK
               || memcmp(sig, want, 64) != 0;
        esl_sm2_key_pub(key, pub);
        badv += esl_sm2_verify_e(pub, e, sig) != ESL_OK;
        esl_sm2_key_free(key);
        n++;
    }
    is_int(bad, 0, "%d fixed-nonce signatures equal the BIGNUM reference "
           "(e = 0, e = n, e = 2^256-1, random)", n);
    is_int(badv, 0, "and verify");
}


/* Our signatures verify with OpenSSL's SM2 and OpenSSL's with ours. */
static void
test_interop(void)
{
    unsigned char   d[32], pub[65], e[32], sig[64], der[80], msg[100];
    const unsigned char *p;
    EVP_PKEY       *pk;
    EVP_MD_CTX     *m;
    EVP_PKEY_CTX   *pc;
    BIGNUM         *bd = NULL;
    esl_sm2_key    *key;
    esl_buf         db = { NULL, 0 };
    size_t          len, derlen;
    int             i, j, bad1 = 0, bad2 = 0, bad3 = 0;

    for (i = 0; i < 40; i++) {
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
        EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &bd);
        BN_bn2binpad(bd, d, 32);
        BN_clear_free(bd);
        bd = NULL;
        EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                        pub, 65, &len);
        if (esl_sm2_key_new(d, &key) != ESL_OK) {
            bad1++;
            EVP_PKEY_free(pk);
            continue;
        }
        {
            unsigned char  mine[65];

            esl_sm2_key_pub(key, mine);
            bad1 += memcmp(mine, pub, 65) != 0;
        }
        RAND_bytes(msg, sizeof(msg));
        len = (size_t) i * 2;               /* 0..78 bytes */

        /* ours -> OpenSSL */
        esl_sm2_digest(pub, ID, 16, msg, len, e);
        esl_sm2_sign_e(key, e, sig);
        esl_sm2_sig_to_der(sig, &db);
        m = EVP_MD_CTX_new();
        pc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
        EVP_PKEY_CTX_set1_id(pc, ID, 16);
        EVP_MD_CTX_set_pkey_ctx(m, pc);
        bad1 += EVP_DigestVerifyInit(m, NULL, EVP_sm3(), NULL, pk) != 1
                || EVP_DigestVerify(m, db.data, db.len, msg, len) != 1;
        EVP_MD_CTX_free(m);
        EVP_PKEY_CTX_free(pc);
        esl_buf_free(&db);

        /* OpenSSL -> ours */
        m = EVP_MD_CTX_new();
        pc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
        EVP_PKEY_CTX_set1_id(pc, ID, 16);
        EVP_MD_CTX_set_pkey_ctx(m, pc);
        derlen = sizeof(der);
        p = der;
        bad2 += EVP_DigestSignInit(m, NULL, EVP_sm3(), NULL, pk) != 1
                || EVP_DigestSign(m, der, &derlen, msg, len) != 1
                || esl_sm2_sig_from_der(p, derlen, sig) != ESL_OK;

        /* the first verification by the signed-window chain, the next
         * ones by the key's table, built on the second; both refuse a
         * changed digest */
        for (j = 0; j < 3; j++) {
            bad2 += esl_sm2_verify_e(pub, e, sig) != ESL_OK;
            e[j] ^= 0x40;
            bad3 += esl_sm2_verify_e(pub, e, sig) != ESL_ESIG;
            e[j] ^= 0x40;
        }
        EVP_MD_CTX_free(m);
        EVP_PKEY_CTX_free(pc);
        esl_sm2_key_free(key);
        EVP_PKEY_free(pk);
    }
    is_int(bad1, 0, "40 keys from OpenSSL: same public point, our "
           "signatures verify with OpenSSL's SM2");
    is_int(bad2, 0, "OpenSSL's signatures verify here, 3 times each (the "
           "later ones by the key's table; 40 keys, so the 16-key cache "
           "evicts)");
    is_int(bad3, 0, "a changed digest fails on both paths");
}


static void
test_reject(void)
{
    unsigned char  d[32], pub[65], pub2[65], e[32], sig[64], bad[64];
    esl_sm2_key   *key, *key2;
    BIGNUM        *r, *t;
    int            i, wrong = 0;

    rand_scalar(d);
    esl_sm2_key_new(d, &key);
    esl_sm2_key_pub(key, pub);
    rand_scalar(d);
    esl_sm2_key_new(d, &key2);
    esl_sm2_key_pub(key2, pub2);
    RAND_bytes(e, 32);
    is_int(esl_sm2_sign_e(key, e, sig), ESL_OK, "sign");
    is_int(esl_sm2_verify_e(pub, e, sig), ESL_OK, "verify");
    for (i = 0; i < 512; i += 7) {
        memcpy(bad, sig, 64);
        bad[i / 8] ^= (unsigned char) (1 << (i % 8));
        wrong += esl_sm2_verify_e(pub, e, bad) == ESL_OK;
    }
    for (i = 0; i < 256; i += 5) {
        unsigned char  e2[32];

        memcpy(e2, e, 32);
        e2[i / 8] ^= (unsigned char) (1 << (i % 8));
        wrong += esl_sm2_verify_e(pub, e2, sig) == ESL_OK;
    }
    is_int(wrong, 0, "no flipped bit of r, s or e verifies");
    is_int(esl_sm2_verify_e(pub2, e, sig), ESL_ESIG, "another key: ESIG");

    memcpy(bad, sig, 64);
    memset(bad, 0, 32);
    is_int(esl_sm2_verify_e(pub, e, bad), ESL_ESIG, "r = 0 refused");
    memcpy(bad, sig, 64);
    memset(bad + 32, 0, 32);
    is_int(esl_sm2_verify_e(pub, e, bad), ESL_ESIG, "s = 0 refused");
    memcpy(bad, sig, 64);
    set_scalar(bad, order);
    is_int(esl_sm2_verify_e(pub, e, bad), ESL_ESIG, "r = n refused");
    memcpy(bad, sig, 64);
    set_scalar(bad + 32, order);
    is_int(esl_sm2_verify_e(pub, e, bad), ESL_ESIG, "s = n refused");

    /* r + s = n: t = 0 must be refused, not treated as a point */
    r = BN_bin2bn(sig, 32, NULL);
    t = BN_new();
    BN_sub(t, order, r);
    memcpy(bad, sig, 32);
    set_scalar(bad + 32, t);
    is_int(esl_sm2_verify_e(pub, e, bad), ESL_ESIG, "r + s = n refused");
    BN_free(r);
    BN_free(t);

    memcpy(pub2, pub, 65);
    pub2[40] ^= 4;
    is_int(esl_sm2_verify_e(pub2, e, sig), ESL_ECRYPTO, "bad point: "
           "ECRYPTO");
    esl_sm2_key_free(key);
    esl_sm2_key_free(key2);
}


/* BIGNUM reference of esl__sm2_fp's operations; rinv = 2^-256, r2 =
 * 2^512 mod m. */
static void
fp_ref(int op, const BIGNUM *a, const BIGNUM *b, const BIGNUM *m,
    const BIGNUM *rinv, const BIGNUM *r2, BIGNUM *r)
{
    switch (op) {
    case 's':
        BN_mod_mul(r, a, a, m, bctx);
        BN_mod_mul(r, r, rinv, m, bctx);
        break;
    case 'a':
        BN_mod_add(r, a, b, m, bctx);
        break;
    case 'd':
        BN_mod_sub(r, a, b, m, bctx);
        break;
    case 'i':
        if (BN_is_zero(a)) {
            BN_zero(r);
        } else {
            BN_mod_inverse(r, a, m, bctx);
            BN_mod_mul(r, r, r2, m, bctx);
        }
        break;
    default:                                /* 'm', 'g', 'n' */
        BN_mod_mul(r, a, b, m, bctx);
        BN_mod_mul(r, r, rinv, m, bctx);
    }
}


/* The limb arithmetic (dedicated product, square and reduction mod p, the
 * generic Montgomery product mod p and n, sums, differences, inversion)
 * against BIGNUM, on edge values in pairs and on random pairs. */
static void
test_field(void)
{
    static const char  ops[] = "mgsadin";
    BIGNUM            *p = BN_new(), *R = BN_new(), *rinv[2], *r2[2];
    BIGNUM            *v[64], *a = BN_new(), *b = BN_new(), *want = BN_new();
    BIGNUM            *got = BN_new(), *m;
    unsigned char      ab[32], bb[32], out[32];
    int                nv = 0, i, j, k, o, bad[sizeof(ops)], n[sizeof(ops)];

    EC_GROUP_get_curve(grp, p, NULL, NULL, bctx);
    BN_zero(R);
    BN_set_bit(R, 256);
    for (i = 0; i < 2; i++) {
        m = i ? order : p;
        rinv[i] = BN_mod_inverse(NULL, R, m, bctx);
        r2[i] = BN_new();
        BN_mod_mul(r2[i], R, R, m, bctx);
    }

    /* 0..3, m - 3..m - 1 (p and n), powers of two and 2^k - 1 at the limb
     * borders, R mod p, every combination of all-ones limbs below p */
    for (i = 0; i < 4; i++) {
        v[nv] = BN_new();
        BN_set_word(v[nv++], (unsigned long) i);
    }
    for (i = 1; i <= 3; i++) {
        v[nv] = BN_dup(p);
        BN_sub_word(v[nv++], (unsigned long) i);
        v[nv] = BN_dup(order);
        BN_sub_word(v[nv++], (unsigned long) i);
    }
    for (i = 0; i < 7; i++) {
        v[nv] = BN_new();
        BN_set_bit(v[nv], i < 6 ? 64 + 32 * i : 255);
        v[nv + 1] = BN_dup(v[nv]);
        BN_sub_word(v[nv + 1], 1);
        nv += 2;
    }
    v[nv] = BN_new();
    BN_mod(v[nv++], R, p, bctx);
    v[nv++] = BN_dup(order);
    v[nv] = BN_new();
    BN_mod(v[nv++], r2[0], p, bctx);
    for (k = 1; k < 16; k++) {
        BN_zero(a);
        for (j = 0; j < 4; j++) {
            if (k & (1 << j)) {
                BN_lshift(b, BN_value_one(), 64);
                BN_sub_word(b, 1);
                BN_lshift(b, b, 64 * j);
                BN_add(a, a, b);
            }
        }
        if (BN_cmp(a, p) < 0) {
            v[nv++] = BN_dup(a);
        }
    }

    for (o = 0; ops[o]; o++) {
        bad[o] = 0;
        n[o] = 0;
        m = ops[o] == 'n' ? order : p;
        for (i = 0; i < nv + 3000; i++) {
            for (j = 0; j < (i < nv ? nv : 1); j++) {
                if (i < nv) {
                    BN_nnmod(a, v[i], m, bctx);
                    BN_nnmod(b, v[j], m, bctx);
                } else {
                    BN_rand_range(a, m);
                    BN_rand_range(b, m);
                }
                BN_bn2binpad(a, ab, 32);
                BN_bn2binpad(b, bb, 32);
                fp_ref(ops[o], a, b, m, rinv[ops[o] == 'n'],
                       r2[ops[o] == 'n'], want);
                if (esl__sm2_fp(ops[o], ab, bb, out) != ESL_OK
                    || BN_bin2bn(out, 32, got) == NULL
                    || BN_cmp(got, want) != 0)
                {
                    bad[o]++;
                }
                n[o]++;
            }
        }
    }
    is_int(bad[0], 0, "a b / R mod p equals BIGNUM (%d pairs: %d edge "
           "values, random)", n[0], nv);
    is_int(bad[1], 0, "the generic Montgomery product mod p too (%d)", n[1]);
    is_int(bad[2], 0, "a^2 / R mod p (%d)", n[2]);
    is_int(bad[3], 0, "a + b mod p (%d)", n[3]);
    is_int(bad[4], 0, "a - b mod p (%d)", n[4]);
    is_int(bad[5], 0, "Montgomery inverse mod p, 0 for 0 (%d)", n[5]);
    is_int(bad[6], 0, "a b / R mod n (%d)", n[6]);
    {
        unsigned char  pb[32];

        BN_bn2binpad(p, pb, 32);
        is_int(esl__sm2_fp('m', pb, pb, out), ESL_EINVAL,
               "operands not below p refused");
    }

    for (i = 0; i < nv; i++) {
        BN_free(v[i]);
    }
    for (i = 0; i < 2; i++) {
        BN_free(rinv[i]);
        BN_free(r2[i]);
    }
    BN_free(p); BN_free(R); BN_free(a); BN_free(b); BN_free(want);
    BN_free(got);
}


/* Verification's s G + t Q (Jacobian, signed windows, the exceptional
 * cases of the addition) against OpenSSL, with Q among G, -G, 2G, 3G and
 * random points and scalars small, near n and random: small ones make the
 * chain add a point to itself or to its negation. */
static void
test_dual(void)
{
    unsigned char  k[32], q[6][65], sc[40][32], got[65], want[65];
    BIGNUM        *b = BN_new();
    int            i, j, l, nq = 0, ns = 0, bad = 0, badc = 0, n = 0, rg,
                   rw;

    memset(k, 0, 32);
    for (i = 1; i <= 3; i++) {
        k[31] = (unsigned char) i;
        ref_mul(NULL, k, q[nq++]);          /* G, 2G, 3G */
    }
    BN_copy(b, order);
    BN_sub_word(b, 1);
    set_scalar(k, b);
    ref_mul(NULL, k, q[nq++]);              /* -G */
    for (i = 0; i < 2; i++) {
        rand_scalar(k);
        ref_mul(NULL, k, q[nq++]);
    }

    for (i = 0; i <= 17; i++) {             /* 0..16, 31 */
        BN_set_word(b, (unsigned long) (i == 17 ? 31 : i));
        set_scalar(sc[ns++], b);
    }
    for (i = 1; i <= 17; i++) {             /* n - 1..n - 16, n - 31 */
        BN_copy(b, order);
        BN_sub_word(b, (unsigned long) (i == 17 ? 31 : i));
        set_scalar(sc[ns++], b);
    }
    BN_zero(b);
    BN_set_bit(b, 255);
    set_scalar(sc[ns++], b);                /* 2^255 */
    while (ns < 40) {
        rand_scalar(sc[ns++]);
    }

    for (l = -1; l < nq; l++) {
        for (i = 0; i < ns; i++) {
            for (j = 0; j < ns; j++) {
                if (l < 0 && j > 0) {
                    break;                  /* s G alone */
                }
                rw = ref_mul2(sc[i], l < 0 ? NULL : q[l], sc[j], want);
                rg = esl__sm2_mul2(sc[i], l < 0 ? NULL : q[l], sc[j], 0,
                                   got);
                bad += rw == 0 ? rg != ESL_OK || memcmp(got, want, 65) != 0
                               : rg != ESL_ECRYPTO;
                rg = esl__sm2_mul2(sc[i], l < 0 ? NULL : q[l], sc[j], 1,
                                   got);
                badc += rw == 0 ? rg != ESL_OK || memcmp(got, want, 65) != 0
                                : rg != ESL_ECRYPTO;
                n++;
            }
        }
    }
    is_int(bad, 0, "s G + t Q equals OpenSSL for %d (s, Q, t): Q = G, 2G, "
           "3G, -G, random; s, t in 0..16, 31, n-16..n-1, n-31, 2^255, "
           "random; identity results included", n);
    is_int(badc, 0, "the same %d by the per-key tables (Q's built once, "
           "then from the cache)", n);
    BN_free(b);
}


/*
 * Verification finds x1 = X / Z^2 without inverting Z by testing the two
 * candidates x1 = (r - e) mod n and that plus n (when below p).  A
 * signature whose x1 is at least n (probability 2^-128 otherwise) is
 * built here: pick R with x in [n, p), s and r, then Q = (R - s G) / (r + s)
 * and e = (r - x) mod n.  Likewise with x1 < p - n.
 */
static void
test_verify_x(void)
{
    EC_POINT       *R = EC_POINT_new(grp), *Q = EC_POINT_new(grp);
    BIGNUM         *p = BN_new(), *x = BN_new(), *s = BN_new();
    BIGNUM         *r = BN_new(), *t = BN_new(), *u = BN_new();
    BIGNUM         *v = BN_new(), *e = BN_new();
    unsigned char   pub[65], sig[64], eb[32];
    int             i, big, found, good = 0, badok = 0;

    EC_GROUP_get_curve(grp, p, NULL, NULL, bctx);
    for (big = 0; big < 2; big++) {
        for (i = 0; i < 8; i++) {
            /* the first x on the curve from n (or from 0) on */
            if (big) {
                BN_copy(x, order);
            } else {
                BN_zero(x);
            }
            BN_add_word(x, (unsigned long) (1000 * i));
            found = 0;
            while (!found) {
                found = EC_POINT_set_compressed_coordinates(grp, R, x, i & 1,
                                                            bctx);
                if (!found) {
                    BN_add_word(x, 1);
                }
            }
            ERR_clear_error();

            BN_rand_range(s, order);
            BN_rand_range(r, order);
            if (BN_is_zero(s) || BN_is_zero(r)) {
                BN_one(s);
                BN_one(r);
            }
            BN_mod_add(t, r, s, order, bctx);
            BN_mod_inverse(u, t, order, bctx);      /* 1 / (r + s) */
            BN_mod_mul(v, s, u, order, bctx);
            BN_sub(v, order, v);                    /* -s / (r + s) */
            EC_POINT_mul(grp, Q, v, R, u, bctx);
            EC_POINT_point2oct(grp, Q, POINT_CONVERSION_UNCOMPRESSED, pub,
                               65, bctx);
            BN_mod_sub(e, r, x, order, bctx);
            BN_bn2binpad(r, sig, 32);
            BN_bn2binpad(s, sig + 32, 32);
            BN_bn2binpad(e, eb, 32);
            good += esl_sm2_verify_e(pub, eb, sig) == ESL_OK;
            BN_add_word(e, 1);
            BN_bn2binpad(e, eb, 32);
            badok += esl_sm2_verify_e(pub, eb, sig) == ESL_OK;
        }
    }
    is_int(good, 16, "signatures with x1 in [n, p) and x1 < p - n verify");
    is_int(badok, 0, "and not with e + 1");
    EC_POINT_free(R); EC_POINT_free(Q);
    BN_free(p); BN_free(x); BN_free(s); BN_free(r); BN_free(t);
    BN_free(u); BN_free(v); BN_free(e);
}


int
main(void)
{
    grp = EC_GROUP_new_by_curve_name(NID_sm2);
    bctx = BN_CTX_new();
    order = BN_dup(EC_GROUP_get0_order(grp));

    test_curve();
    test_field();
    test_mul();
    test_dual();
    test_points();
    test_keys();
    test_kat();
    test_fixed_nonce();
    test_interop();
    test_reject();
    test_verify_x();

    BN_free(order);
    BN_CTX_free(bctx);
    EC_GROUP_free(grp);
    return tap_done();
}
