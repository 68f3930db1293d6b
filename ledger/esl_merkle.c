/*
 * esl_merkle.c: RFC 6962 / RFC 9162 tree hashing, proof construction over
 * any source of complete-subtree hashes (tiles in LMDB, or an array), and
 * the proof verifiers.
 */

#include "esl_int.h"


/* Largest power of two strictly smaller than n (n >= 2). */
static uint64_t
split_point(uint64_t n)
{
    uint64_t  k = 1;

    while (k << 1 < n) {
        k <<= 1;
    }
    return k;
}


/*
 * MTH(D[lo:hi]) where lo is a multiple of the subtree size that RFC 6962's
 * recursion gives it, so every piece is a complete subtree the source can
 * answer directly; only the ragged right edge is hashed here.
 */
int
esl__range_hash(esl_hasher *h, esl__node_fn fn, void *arg, uint64_t lo,
    uint64_t hi, unsigned char out[ESL_H])
{
    unsigned char  l[ESL_H], r[ESL_H];
    uint64_t       n = hi - lo, k;
    unsigned       ht;
    int            rc;

    if (n == 0) {
        return esl_hash(h, "", 0, out);
    }
    if ((n & (n - 1)) == 0 && lo % n == 0) {
        ht = (unsigned) __builtin_ctzll(n);
        return fn(arg, ht, lo >> ht, out);
    }
    k = split_point(n);
    if ((rc = esl__range_hash(h, fn, arg, lo, lo + k, l)) != ESL_OK
        || (rc = esl__range_hash(h, fn, arg, lo + k, hi, r)) != ESL_OK)
    {
        return rc;
    }
    return esl_node_hash(h, l, r, out);
}


int
esl__root(esl_hasher *h, esl__node_fn fn, void *arg, uint64_t size,
    unsigned char out[ESL_H])
{
    return esl__range_hash(h, fn, arg, 0, size, out);
}


/* RFC 6962 2.1.1 PATH(m, D[lo:hi]); appends deepest first. */
static int
path(esl_hasher *h, esl__node_fn fn, void *arg, uint64_t m, uint64_t lo,
    uint64_t hi, unsigned char (*proof)[ESL_H], size_t *n)
{
    uint64_t  k;
    int       rc;

    if (hi - lo <= 1) {
        return ESL_OK;
    }
    k = split_point(hi - lo);
    if (m < k) {
        rc = path(h, fn, arg, m, lo, lo + k, proof, n);
        if (rc == ESL_OK) {
            rc = esl__range_hash(h, fn, arg, lo + k, hi, proof[(*n)++]);
        }
    } else {
        rc = path(h, fn, arg, m - k, lo + k, hi, proof, n);
        if (rc == ESL_OK) {
            rc = esl__range_hash(h, fn, arg, lo, lo + k, proof[(*n)++]);
        }
    }
    return rc;
}


int
esl__inclusion(esl_hasher *h, esl__node_fn fn, void *arg, uint64_t index,
    uint64_t size, unsigned char (*proof)[ESL_H], size_t *n)
{
    if (index >= size || proof == NULL || n == NULL) {
        return ESL_EINVAL;
    }
    *n = 0;
    return path(h, fn, arg, index, 0, size, proof, n);
}


/* RFC 6962 2.1.2 SUBPROOF(m, D[lo:hi], b). */
static int
subproof(esl_hasher *h, esl__node_fn fn, void *arg, uint64_t m, uint64_t lo,
    uint64_t hi, int b, unsigned char (*proof)[ESL_H], size_t *n)
{
    uint64_t  k;
    int       rc;

    if (m == hi - lo) {
        if (b) {
            return ESL_OK;
        }
        return esl__range_hash(h, fn, arg, lo, hi, proof[(*n)++]);
    }
    k = split_point(hi - lo);
    if (m <= k) {
        rc = subproof(h, fn, arg, m, lo, lo + k, b, proof, n);
        if (rc == ESL_OK) {
            rc = esl__range_hash(h, fn, arg, lo + k, hi, proof[(*n)++]);
        }
    } else {
        rc = subproof(h, fn, arg, m - k, lo + k, hi, 0, proof, n);
        if (rc == ESL_OK) {
            rc = esl__range_hash(h, fn, arg, lo, lo + k, proof[(*n)++]);
        }
    }
    return rc;
}


int
esl__consistency(esl_hasher *h, esl__node_fn fn, void *arg, uint64_t m,
    uint64_t size, unsigned char (*proof)[ESL_H], size_t *n)
{
    if (m > size || proof == NULL || n == NULL) {
        return ESL_EINVAL;
    }
    *n = 0;
    if (m == 0 || m == size) {
        return ESL_OK;
    }
    return subproof(h, fn, arg, m, 0, size, 1, proof, n);
}


/* Array source: complete subtrees are hashed from the leaves. */
typedef struct {
    esl_hasher                  *h;
    const unsigned char        (*leaves)[ESL_H];
} array_src;


static int
array_node(void *arg, unsigned ht, uint64_t k, unsigned char out[ESL_H])
{
    array_src      *a = arg;
    unsigned char   l[ESL_H], r[ESL_H];
    int             rc;

    if (ht == 0) {
        memcpy(out, a->leaves[k], ESL_H);
        return ESL_OK;
    }
    if ((rc = array_node(a, ht - 1, 2 * k, l)) != ESL_OK
        || (rc = array_node(a, ht - 1, 2 * k + 1, r)) != ESL_OK)
    {
        return rc;
    }
    return esl_node_hash(a->h, l, r, out);
}


int
esl_merkle_root(esl_hasher *h, const unsigned char (*leaves)[ESL_H],
    uint64_t n, unsigned char root[ESL_H])
{
    array_src  a = { h, leaves };

    if (h == NULL || root == NULL || (n && leaves == NULL)) {
        return ESL_EINVAL;
    }
    return esl__root(h, array_node, &a, n, root);
}


int
esl_merkle_inclusion_proof(esl_hasher *h, const unsigned char (*leaves)[ESL_H],
    uint64_t index, uint64_t size, unsigned char (*proof)[ESL_H], size_t *n)
{
    array_src  a = { h, leaves };

    if (h == NULL || leaves == NULL) {
        return ESL_EINVAL;
    }
    return esl__inclusion(h, array_node, &a, index, size, proof, n);
}


int
esl_merkle_consistency_proof(esl_hasher *h,
    const unsigned char (*leaves)[ESL_H], uint64_t m, uint64_t size,
    unsigned char (*proof)[ESL_H], size_t *n)
{
    array_src  a = { h, leaves };

    if (h == NULL || (size && leaves == NULL)) {
        return ESL_EINVAL;
    }
    return esl__consistency(h, array_node, &a, m, size, proof, n);
}


int
esl_verify_inclusion(esl_hasher *h, const unsigned char leaf[ESL_H],
    uint64_t index, uint64_t size, const unsigned char (*proof)[ESL_H],
    size_t n, const unsigned char root[ESL_H])
{
    unsigned char  r[ESL_H];
    uint64_t       fn, sn;
    size_t         i;

    if (h == NULL || leaf == NULL || root == NULL || (n && proof == NULL)) {
        return ESL_EINVAL;
    }
    if (index >= size || n > ESL_MAX_PROOF) {
        return ESL_EPROOF;
    }
    fn = index;
    sn = size - 1;
    memcpy(r, leaf, ESL_H);
    for (i = 0; i < n; i++) {
        if (sn == 0) {
            return ESL_EPROOF;          /* proof too long */
        }
        if ((fn & 1) || fn == sn) {
            if (esl_node_hash(h, proof[i], r, r) != ESL_OK) {
                return ESL_ECRYPTO;
            }
            if (!(fn & 1)) {
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            if (esl_node_hash(h, r, proof[i], r) != ESL_OK) {
                return ESL_ECRYPTO;
            }
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || memcmp(r, root, ESL_H) != 0) {
        return ESL_EPROOF;
    }
    return ESL_OK;
}


int
esl_verify_consistency(esl_hasher *h, uint64_t m, uint64_t n,
    const unsigned char root1[ESL_H], const unsigned char root2[ESL_H],
    const unsigned char (*proof)[ESL_H], size_t count)
{
    unsigned char         fr[ESL_H], sr[ESL_H];
    const unsigned char  *c;
    uint64_t              fn, sn;
    size_t                i, start;

    if (h == NULL || root1 == NULL || root2 == NULL
        || (count && proof == NULL))
    {
        return ESL_EINVAL;
    }
    if (m > n || count > ESL_MAX_PROOF) {
        return ESL_EPROOF;
    }
    if (m == n) {
        return (count == 0 && memcmp(root1, root2, ESL_H) == 0)
               ? ESL_OK : ESL_EPROOF;
    }
    if (m == 0) {
        /* Every tree extends the empty tree; a proof would be garbage. */
        return count == 0 ? ESL_OK : ESL_EPROOF;
    }
    if (count == 0) {
        return ESL_EPROOF;
    }

    /* If m is a power of two the proof omits root1 (it is the left
     * subtree itself); start from it. */
    if ((m & (m - 1)) == 0) {
        memcpy(fr, root1, ESL_H);
        start = 0;
    } else {
        memcpy(fr, proof[0], ESL_H);
        start = 1;
    }
    memcpy(sr, fr, ESL_H);
    fn = m - 1;
    sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (i = start; i < count; i++) {
        c = proof[i];
        if (sn == 0) {
            return ESL_EPROOF;
        }
        if ((fn & 1) || fn == sn) {
            if (esl_node_hash(h, c, fr, fr) != ESL_OK
                || esl_node_hash(h, c, sr, sr) != ESL_OK)
            {
                return ESL_ECRYPTO;
            }
            if (!(fn & 1)) {
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            if (esl_node_hash(h, sr, c, sr) != ESL_OK) {
                return ESL_ECRYPTO;
            }
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || memcmp(fr, root1, ESL_H) != 0
        || memcmp(sr, root2, ESL_H) != 0)
    {
        return ESL_EPROOF;
    }
    return ESL_OK;
}
