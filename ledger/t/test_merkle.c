/*
 * test_merkle.c: RFC 6962 / RFC 9162 tree, proofs and verifiers, with the
 * published SHA-256 vectors, an independent reference recursion for every
 * proof up to size 300, and the negative cases.  (R-LEDG-1, R-EVID-4,
 * R-FOR-2: the offline verifier's maths.)
 */

#include "util.h"

#define N 300

static esl_hasher     *H;
static unsigned char   leaves[N][ESL_HASH_LEN];

/* --- independent reference: RFC 6962 section 2.1 taken literally --- */

static void
ref_mth(uint64_t lo, uint64_t hi, unsigned char out[32])
{
    unsigned char  l[32], r[32];
    uint64_t       k = 1;

    if (hi - lo == 0) {
        esl_hash(H, "", 0, out);
        return;
    }
    if (hi - lo == 1) {
        memcpy(out, leaves[lo], 32);
        return;
    }
    while (k * 2 < hi - lo) {
        k *= 2;
    }
    ref_mth(lo, lo + k, l);
    ref_mth(lo + k, hi, r);
    esl_node_hash(H, l, r, out);
}

static void
ref_path(uint64_t m, uint64_t lo, uint64_t hi, unsigned char (*p)[32],
    size_t *n)
{
    uint64_t  k = 1;

    if (hi - lo <= 1) {
        return;
    }
    while (k * 2 < hi - lo) {
        k *= 2;
    }
    if (m < k) {
        ref_path(m, lo, lo + k, p, n);
        ref_mth(lo + k, hi, p[(*n)++]);
    } else {
        ref_path(m - k, lo + k, hi, p, n);
        ref_mth(lo, lo + k, p[(*n)++]);
    }
}

static void
ref_sub(uint64_t m, uint64_t lo, uint64_t hi, int b, unsigned char (*p)[32],
    size_t *n)
{
    uint64_t  k = 1;

    if (m == hi - lo) {
        if (!b) {
            ref_mth(lo, hi, p[(*n)++]);
        }
        return;
    }
    while (k * 2 < hi - lo) {
        k *= 2;
    }
    if (m <= k) {
        ref_sub(m, lo, lo + k, b, p, n);
        ref_mth(lo + k, hi, p[(*n)++]);
    } else {
        ref_sub(m - k, lo + k, hi, 0, p, n);
        ref_mth(lo, lo + k, p[(*n)++]);
    }
}

static const char *ct_leaves[8] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f"
};

static const char *ct_roots[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

typedef struct {
    uint64_t     a, b;
    const char  *p[3];
    size_t       n;
} vec;

/* Published proofs (transparency-dev/merkle testonly), 0-based index. */
static const vec ct_incl[] = {
    { 0, 8, { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" }, 3 },
    { 5, 8, { "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
              "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" }, 3 },
    { 2, 3, { "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" }, 1 },
    { 1, 5, { "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" }, 3 },
    { 0, 1, { NULL }, 0 },
};

static const vec ct_cons[] = {
    { 1, 1, { NULL }, 0 },
    { 1, 8, { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" }, 3 },
    { 6, 8, { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
              "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" }, 3 },
    { 2, 5, { "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" }, 2 },
};

static int
proofs_equal(unsigned char (*a)[32], size_t na, unsigned char (*b)[32],
    size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na * 32) == 0);
}

static void
test_vectors(void)
{
    unsigned char  buf[16], root[32], want[32], proof[ESL_MAX_PROOF][32];
    unsigned char  vp[3][32], r1[32], r2[32];
    size_t         i, j, n, len;
    uint64_t       sz, m;
    int            all = 1;

    for (i = 0; i < 8; i++) {
        len = strlen(ct_leaves[i]) / 2;
        unhex(ct_leaves[i], buf);
        esl_leaf_hash(H, buf, len, leaves[i]);
    }
    for (sz = 0; sz <= 8; sz++) {
        unhex(ct_roots[sz], want);
        esl_merkle_root(H, (const unsigned char (*)[32]) leaves, sz, root);
        ok(memcmp(root, want, 32) == 0, "RFC 6962 SHA-256 root, size %llu",
           (unsigned long long) sz);
    }
    for (i = 0; i < sizeof(ct_incl) / sizeof(ct_incl[0]); i++) {
        const vec *v = &ct_incl[i];
        for (j = 0; j < v->n; j++) {
            unhex(v->p[j], vp[j]);
        }
        esl_merkle_inclusion_proof(H, (const unsigned char (*)[32]) leaves,
                                   v->a, v->b, proof, &n);
        ok(proofs_equal(proof, n, vp, v->n),
           "published inclusion proof index %llu size %llu",
           (unsigned long long) v->a, (unsigned long long) v->b);
        unhex(ct_roots[v->b], root);
        is_int(esl_verify_inclusion(H, leaves[v->a], v->a, v->b,
                                    (const unsigned char (*)[32]) vp, v->n,
                                    root), ESL_OK,
               "published inclusion proof verifies");
    }
    for (i = 0; i < sizeof(ct_cons) / sizeof(ct_cons[0]); i++) {
        const vec *v = &ct_cons[i];
        for (j = 0; j < v->n; j++) {
            unhex(v->p[j], vp[j]);
        }
        esl_merkle_consistency_proof(H, (const unsigned char (*)[32]) leaves,
                                     v->a, v->b, proof, &n);
        ok(proofs_equal(proof, n, vp, v->n),
           "published consistency proof %llu -> %llu",
           (unsigned long long) v->a, (unsigned long long) v->b);
        unhex(ct_roots[v->a], r1);
        unhex(ct_roots[v->b], r2);
        is_int(esl_verify_consistency(H, v->a, v->b, r1, r2,
                                      (const unsigned char (*)[32]) vp, v->n),
               ESL_OK, "published consistency proof verifies");
    }

    /* every inclusion and consistency proof for sizes 0..8 */
    for (sz = 1; sz <= 8; sz++) {
        unhex(ct_roots[sz], r2);
        for (m = 0; m < sz; m++) {
            unsigned char rp[ESL_MAX_PROOF][32];
            size_t rn = 0;
            ref_path(m, 0, sz, rp, &rn);
            if (esl_merkle_inclusion_proof(H,
                    (const unsigned char (*)[32]) leaves, m, sz, proof, &n)
                || !proofs_equal(proof, n, rp, rn)
                || esl_verify_inclusion(H, leaves[m], m, sz,
                       (const unsigned char (*)[32]) proof, n, r2))
            {
                all = 0;
            }
        }
        for (m = 1; m <= sz; m++) {
            unsigned char rp[ESL_MAX_PROOF][32];
            size_t rn = 0;
            if (m < sz) {
                ref_sub(m, 0, sz, 1, rp, &rn);
            }
            unhex(ct_roots[m], r1);
            if (esl_merkle_consistency_proof(H,
                    (const unsigned char (*)[32]) leaves, m, sz, proof, &n)
                || !proofs_equal(proof, n, rp, rn)
                || esl_verify_consistency(H, m, sz, r1, r2,
                       (const unsigned char (*)[32]) proof, n))
            {
                all = 0;
            }
        }
    }
    ok(all, "every inclusion and consistency proof of the RFC tree (sizes "
            "1..8) equals the reference and verifies against the published "
            "roots");
}

static void
test_exhaustive(void)
{
    static unsigned char  roots[N + 1][32];
    unsigned char         proof[ESL_MAX_PROOF][32], rp[ESL_MAX_PROOF][32];
    size_t                n, rn;
    uint64_t              sz, m;
    unsigned long         bad_i = 0, bad_c = 0, cnt_i = 0, cnt_c = 0;
    unsigned long         lib_bad = 0;
    unsigned char         b[4];

    for (m = 0; m < N; m++) {
        b[0] = (unsigned char) m;
        b[1] = (unsigned char) (m >> 8);
        b[2] = 0xab;
        esl_leaf_hash(H, b, 3, leaves[m]);
    }
    for (sz = 0; sz <= N; sz++) {
        ref_mth(0, sz, roots[sz]);
    }
    for (sz = 1; sz <= N; sz++) {
        for (m = 0; m < sz; m++) {
            rn = 0;
            ref_path(m, 0, sz, rp, &rn);
            cnt_i++;
            if (esl_verify_inclusion(H, leaves[m], m, sz,
                    (const unsigned char (*)[32]) rp, rn, roots[sz]))
            {
                bad_i++;
            }
            /* and a wrong index must not verify with the same path */
            if (sz > 1 && esl_verify_inclusion(H, leaves[m], (m + 1) % sz,
                    sz, (const unsigned char (*)[32]) rp, rn, roots[sz])
                   == ESL_OK && leaves[m][0] != leaves[(m + 1) % sz][0])
            {
                bad_i++;
            }
        }
        for (m = 1; m <= sz; m++) {
            rn = 0;
            if (m < sz) {
                ref_sub(m, 0, sz, 1, rp, &rn);
            }
            cnt_c++;
            if (esl_verify_consistency(H, m, sz, roots[m], roots[sz],
                    (const unsigned char (*)[32]) rp, rn))
            {
                bad_c++;
            }
            if (m < sz && esl_verify_consistency(H, m, sz, roots[m - 1],
                    roots[sz], (const unsigned char (*)[32]) rp, rn) == ESL_OK)
            {
                bad_c++;
            }
        }
        /* the library's own array prover, for the smaller sizes */
        if (sz <= 70) {
            for (m = 0; m < sz; m++) {
                rn = 0;
                ref_path(m, 0, sz, rp, &rn);
                if (esl_merkle_inclusion_proof(H,
                        (const unsigned char (*)[32]) leaves, m, sz, proof,
                        &n) || !proofs_equal(proof, n, rp, rn))
                {
                    lib_bad++;
                }
                rn = 0;
                if (m > 0) {
                    ref_sub(m, 0, sz, 1, rp, &rn);
                }
                if (esl_merkle_consistency_proof(H,
                        (const unsigned char (*)[32]) leaves, m, sz, proof,
                        &n) || !proofs_equal(proof, n, rp, rn))
                {
                    lib_bad++;
                }
            }
        }
    }
    is_int(bad_i, 0, "all %lu inclusion proofs for sizes 1..%d verify, "
           "shifted indexes fail", cnt_i, N);
    is_int(bad_c, 0, "all %lu consistency proofs for sizes 1..%d verify, "
           "wrong old roots fail", cnt_c, N);
    is_int(lib_bad, 0, "array prover equals the reference up to size 70");
}

static void
test_negative(void)
{
    unsigned char  proof[ESL_MAX_PROOF + 2][32], root[32], r1[32], tmp[32];
    size_t         n;
    uint64_t       sz = 13, idx = 6, m = 5;

    esl_merkle_root(H, (const unsigned char (*)[32]) leaves, sz, root);
    esl_merkle_inclusion_proof(H, (const unsigned char (*)[32]) leaves, idx,
                               sz, proof, &n);
    is_int(esl_verify_inclusion(H, leaves[idx], idx, sz,
               (const unsigned char (*)[32]) proof, n, root), ESL_OK,
           "baseline inclusion verifies");
    is_int(esl_verify_inclusion(H, leaves[idx], idx, sz,
               (const unsigned char (*)[32]) proof, n - 1, root), ESL_EPROOF,
           "truncated inclusion proof (one hash short) fails");
    memcpy(proof[n], proof[0], 32);
    is_int(esl_verify_inclusion(H, leaves[idx], idx, sz,
               (const unsigned char (*)[32]) proof, n + 1, root), ESL_EPROOF,
           "over-long inclusion proof (one hash extra) fails");
    is_int(esl_verify_inclusion(H, leaves[idx], sz, sz,
               (const unsigned char (*)[32]) proof, n, root), ESL_EPROOF,
           "index == size fails");
    is_int(esl_verify_inclusion(H, leaves[idx], sz + 5, sz,
               (const unsigned char (*)[32]) proof, n, root), ESL_EPROOF,
           "index > size fails");
    /* (sizes whose path has the same shape, e.g. 12 and 13 for index 6,
     * cannot be told apart by the proof alone: the signed checkpoint binds
     * size and root together) */
    is_int(esl_verify_inclusion(H, leaves[idx], idx, 8,
               (const unsigned char (*)[32]) proof, n, root), ESL_EPROOF,
           "proof of the wrong length for the claimed size fails");
    memcpy(tmp, proof[0], 32);
    memcpy(proof[0], proof[1], 32);
    memcpy(proof[1], tmp, 32);
    is_int(esl_verify_inclusion(H, leaves[idx], idx, sz,
               (const unsigned char (*)[32]) proof, n, root), ESL_EPROOF,
           "swapped siblings fail");
    is_int(esl_verify_inclusion(H, leaves[idx], idx, sz,
               (const unsigned char (*)[32]) proof, ESL_MAX_PROOF + 1, root),
           ESL_EPROOF, "65 proof hashes are refused");
    is_int(esl_verify_inclusion(H, leaves[idx + 1], idx, sz,
               (const unsigned char (*)[32]) proof, n, root), ESL_EPROOF,
           "another leaf fails");

    esl_merkle_root(H, (const unsigned char (*)[32]) leaves, m, r1);
    esl_merkle_consistency_proof(H, (const unsigned char (*)[32]) leaves, m,
                                 sz, proof, &n);
    is_int(esl_verify_consistency(H, m, sz, r1, root,
               (const unsigned char (*)[32]) proof, n), ESL_OK,
           "baseline consistency verifies");
    is_int(esl_verify_consistency(H, m, sz, r1, root,
               (const unsigned char (*)[32]) proof, n - 1), ESL_EPROOF,
           "truncated consistency proof fails");
    memcpy(proof[n], proof[0], 32);
    is_int(esl_verify_consistency(H, m, sz, r1, root,
               (const unsigned char (*)[32]) proof, n + 1), ESL_EPROOF,
           "over-long consistency proof fails");
    is_int(esl_verify_consistency(H, sz, m, root, r1,
               (const unsigned char (*)[32]) proof, n), ESL_EPROOF,
           "m > n fails");
    is_int(esl_verify_consistency(H, 0, sz, r1, root,
               (const unsigned char (*)[32]) proof, 1), ESL_EPROOF,
           "m == 0 with a non-empty proof fails");
    is_int(esl_verify_consistency(H, 0, sz, r1, root, NULL, 0), ESL_OK,
           "m == 0 with an empty proof is trivially consistent");
    is_int(esl_verify_consistency(H, sz, sz, root, r1, NULL, 0), ESL_EPROOF,
           "m == n with a different root fails");
    is_int(esl_verify_consistency(H, sz, sz, root, root, NULL, 0), ESL_OK,
           "m == n with the same root and no proof verifies");
    is_int(esl_verify_consistency(H, m, sz, r1, root, NULL, 0), ESL_EPROOF,
           "empty proof for m < n fails");
    memcpy(tmp, proof[0], 32);
    memcpy(proof[0], proof[1], 32);
    memcpy(proof[1], tmp, 32);
    is_int(esl_verify_consistency(H, m, sz, r1, root,
               (const unsigned char (*)[32]) proof, n), ESL_EPROOF,
           "swapped consistency hashes fail");

    {
        unsigned char e[32], want[32];
        esl_merkle_root(H, NULL, 0, e);
        unhex(ct_roots[0], want);
        ok(memcmp(e, want, 32) == 0, "empty-tree root is H(\"\")");
    }
}

int
main(void)
{
    if (esl_hasher_new(ESL_HASH_SHA256, &H) != ESL_OK) {
        printf("Bail out! no SHA-256\n");
        return 1;
    }
    test_vectors();
    test_exhaustive();
    test_negative();
    esl_hasher_free(H);
    return tap_done();
}
