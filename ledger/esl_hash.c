/*
 * esl_hash.c: the hash profile (SM3 or SHA-256) and RFC 6962 leaf/node
 * hashing.
 */

#include <stdlib.h>

#include "esl_int.h"


EVP_MD *
esl__md_fetch(int alg)
{
    switch (alg) {
    case ESL_HASH_SM3:
        return EVP_MD_fetch(NULL, "SM3", NULL);
    case ESL_HASH_SHA256:
        return EVP_MD_fetch(NULL, "SHA256", NULL);
    }
    return NULL;
}


int
esl__hasher_init(esl_hasher *h, EVP_MD *md)
{
    h->md = md;
    h->own_md = 0;
    h->sm3 = md != NULL && EVP_MD_is_a(md, "SM3");
    h->ctx = EVP_MD_CTX_new();
    return h->ctx ? ESL_OK : ESL_ENOMEM;
}


void
esl__hasher_fini(esl_hasher *h)
{
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
    if (h->own_md) {
        EVP_MD_free(h->md);
    }
}


int
esl_hasher_new(int alg, esl_hasher **out)
{
    esl_hasher  *h;

    if (out == NULL) {
        return ESL_EINVAL;
    }
    h = calloc(1, sizeof(*h));
    if (h == NULL) {
        return ESL_ENOMEM;
    }
    h->md = esl__md_fetch(alg);
    h->ctx = EVP_MD_CTX_new();
    if (h->md == NULL || h->ctx == NULL) {
        EVP_MD_free(h->md);
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return alg == ESL_HASH_SM3 || alg == ESL_HASH_SHA256
               ? ESL_ECRYPTO : ESL_EINVAL;
    }
    h->own_md = 1;
    h->sm3 = alg == ESL_HASH_SM3;
    *out = h;
    return ESL_OK;
}


void
esl_hasher_free(esl_hasher *h)
{
    if (h != NULL) {
        esl__hasher_fini(h);
        free(h);
    }
}


static int
hash3(esl_hasher *h, const void *a, size_t alen, const void *b, size_t blen,
    const void *c, size_t clen, unsigned char out[ESL_H])
{
    unsigned int  olen;

    if (h->sm3) {
        esl__sm3  s;

        esl__sm3_init(&s);
        esl__sm3_update(&s, a, alen);
        esl__sm3_update(&s, b, blen);
        esl__sm3_update(&s, c, clen);
        esl__sm3_final(&s, out);
        return ESL_OK;
    }
    if (!EVP_DigestInit_ex2(h->ctx, h->md, NULL)
        || (alen && !EVP_DigestUpdate(h->ctx, a, alen))
        || (blen && !EVP_DigestUpdate(h->ctx, b, blen))
        || (clen && !EVP_DigestUpdate(h->ctx, c, clen))
        || !EVP_DigestFinal_ex(h->ctx, out, &olen)
        || olen != ESL_H)
    {
        return ESL_ECRYPTO;
    }
    return ESL_OK;
}


int
esl_hash(esl_hasher *h, const void *data, size_t len, unsigned char out[ESL_H])
{
    if (h == NULL || out == NULL || (data == NULL && len)) {
        return ESL_EINVAL;
    }
    return hash3(h, data, len, NULL, 0, NULL, 0, out);
}


int
esl_leaf_hash(esl_hasher *h, const void *data, size_t len,
    unsigned char out[ESL_H])
{
    static const unsigned char  zero = 0x00;

    if (h == NULL || out == NULL || (data == NULL && len)) {
        return ESL_EINVAL;
    }
    return hash3(h, &zero, 1, data, len, NULL, 0, out);
}


int
esl_node_hash(esl_hasher *h, const unsigned char l[ESL_H],
    const unsigned char r[ESL_H], unsigned char out[ESL_H])
{
    unsigned char  b[1 + 2 * ESL_H];

    b[0] = 0x01;
    memcpy(b + 1, l, ESL_H);
    memcpy(b + 1 + ESL_H, r, ESL_H);
    return hash3(h, b, sizeof(b), NULL, 0, NULL, 0, out);
}


/* Many leaf hashes at once (multi-buffer SM3 where the profile is SM3). */
int
esl__leaf_hashes(esl_hasher *h, const unsigned char *const *msg,
    const size_t *len, size_t n, unsigned char (*out)[ESL_H])
{
    size_t  i;
    int     rc;

    if (h->sm3) {
        esl__sm3x(0x00, msg, len, n, out);
        return ESL_OK;
    }
    for (i = 0; i < n; i++) {
        if ((rc = esl_leaf_hash(h, msg[i], len[i], out[i])) != ESL_OK) {
            return rc;
        }
    }
    return ESL_OK;
}


/* out[j] = node(pairs[2j], pairs[2j + 1]) for j < n: one row of a tree
 * from the row below it, stored contiguously. */
int
esl__node_row(esl_hasher *h, const unsigned char *pairs, size_t n,
    unsigned char (*out)[ESL_H])
{
    const unsigned char  *mp[64];
    size_t                ml[64], i, k;
    int                   rc;

    if (!h->sm3) {
        for (i = 0; i < n; i++) {
            rc = esl_node_hash(h, pairs + 2 * i * ESL_H,
                               pairs + (2 * i + 1) * ESL_H, out[i]);
            if (rc != ESL_OK) {
                return rc;
            }
        }
        return ESL_OK;
    }
    while (n > 0) {
        k = n < 64 ? n : 64;
        for (i = 0; i < k; i++) {
            mp[i] = pairs + 2 * i * ESL_H;
            ml[i] = 2 * ESL_H;
        }
        esl__sm3x(0x01, mp, ml, k, out);
        pairs += 2 * k * ESL_H;
        out += k;
        n -= k;
    }
    return ESL_OK;
}
