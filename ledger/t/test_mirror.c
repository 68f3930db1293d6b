/*
 * test_mirror.c: the mirror side of replication: import, cosign,
 * idempotent re-import, and refusal of a forged signature, a rollback, a
 * same-size different-root checkpoint, entries that do not match the
 * root, a bad consistency proof, and an entry the validation function
 * refuses; misbehaviour is kept as evidence.
 * (R-LEDG-2, R-LEDG-3, R-LEDG-4, R-CONS-*: cosigning mirrors)
 */

#include "util.h"
#include "esl_int.h"

static char         *D;
static esl_ledger   *A, *B;            /* home site, mirror site */
static esl_signer   *SA, *SB, *SX;
static esl_verifier *VA, *VB;
static uint64_t      next_seq;

static esl_ledger *
open_l(const char *sub, const char *prefix)
{
    char         p[4200];
    esl_options  o;
    esl_ledger  *l = NULL;

    snprintf(p, sizeof(p), "%s/%s", D, sub);
    esl_options_init(&o);
    o.stripes = 2;
    o.map_size = 64 << 20;
    o.origin_prefix = prefix;
    if (esl_open(p, &o, &l) != ESL_OK) {
        printf("Bail out! open %s\n", p);
        exit(1);
    }
    return l;
}

/* Append k entries at the home site; returns its new note. */
static void
home_append(size_t k, esl_buf *note)
{
    esl_entry          e[16];
    char               ids[16][65];
    unsigned char      pays[16][40];
    esl_append_result  res[16];
    size_t             i;

    for (i = 0; i < k; i++) {
        sample_entry(&e[i], next_seq++, ids[i], pays[i], sizeof(pays[i]));
    }
    if (esl_append_batch(A, "t-1", e, k, SA, res, note) != ESL_OK) {
        printf("Bail out! home append\n");
        exit(1);
    }
}

typedef struct {
    esl_iov  iov[64];
    unsigned char *copy[64];
    size_t   n;
} pkg;

static int
collect(void *arg, uint64_t index, const unsigned char *b, size_t len)
{
    pkg *p = arg;
    (void) index;
    p->copy[p->n] = malloc(len);
    memcpy(p->copy[p->n], b, len);
    p->iov[p->n].data = p->copy[p->n];
    p->iov[p->n].len = len;
    p->n++;
    return 0;
}

static void
pkg_free(pkg *p)
{
    size_t i;
    for (i = 0; i < p->n; i++) {
        free(p->copy[i]);
    }
    p->n = 0;
}

/* What the home site sends: entries [from, to) and the proof from->to. */
static void
package(uint64_t from, uint64_t to, pkg *p, unsigned char (*proof)[32],
    size_t *np)
{
    p->n = 0;
    esl_entry_range(A, "t-1", from, to, collect, p);
    *np = 0;
    if (from > 0) {
        esl_consistency_proof(A, "t-1", from, to, proof, np);
    }
}

static int refuse_index = -1;

static int
validate(void *arg, const char *origin, uint64_t index, const esl_entry *e)
{
    (void) arg;
    (void) origin;
    if (e->tenant == NULL || memcmp(e->tenant, TENANT, 18) != 0) {
        return 1;
    }
    return (int64_t) index == refuse_index;
}

static uint64_t
mirror_size(void)
{
    uint64_t s = 0;
    esl_mirror_state(B, "ledger.test/siteA/t-1", &s, NULL);
    return s;
}

int
main(void)
{
    esl_buf         n1, n2, n3, n4, cos, st, ev;
    pkg             p;
    unsigned char   proof[ESL_MAX_PROOF][32];
    size_t          np;
    esl_checkpoint  cp;
    const char     *origin = "ledger.test/siteA/t-1";

    D = tmpdir();
    make_key(D, "a");
    make_key(D, "b");
    make_key(D, "x");
    SA = load_signer(D, "a", "siteA");
    SB = load_signer(D, "b", "siteB");
    SX = load_signer(D, "x", "siteA");     /* impostor with A's name */
    esl_verifier_from_signer(SA, &VA);
    esl_verifier_from_signer(SB, &VB);
    A = open_l("a", "ledger.test/siteA");
    B = open_l("b", "ledger.test/siteB");

    home_append(10, &n1);
    package(0, 10, &p, proof, &np);
    is_int(esl_mirror_import(B, VA, (char *) n1.data, n1.len, NULL, 0,
                             p.iov, p.n, validate, NULL, SB, &cos), ESL_OK,
           "mirror imports the first block");
    is_int(esl_cosignature_verify(VB, (char *) n1.data, n1.len,
                                  (char *) cos.data, cos.len, NULL), ESL_OK,
           "and returns a valid SM2 cosignature");
    esl_buf_free(&cos);
    pkg_free(&p);

    home_append(10, &n2);
    package(10, 20, &p, proof, &np);
    is_int(esl_mirror_import(B, VA, (char *) n2.data, n2.len,
                             (const unsigned char (*)[32]) proof, np,
                             p.iov, p.n, validate, NULL, SB, &cos), ESL_OK,
           "second block with a consistency proof");
    esl_buf_free(&cos);
    is_int(mirror_size(), 20, "mirror holds 20 entries");
    is_int(esl_mirror_import(B, VA, (char *) n2.data, n2.len, NULL, 0, NULL,
                             0, validate, NULL, SB, &cos), ESL_OK,
           "the same block again is cosigned again (idempotent)");
    esl_buf_free(&cos);
    is_int(esl_mirror_state(B, origin, NULL, &st), ESL_OK,
           "last cosigned checkpoint is stored");
    ok(esl_checkpoint_verify(VA, (char *) st.data, st.len, &cp) == ESL_OK
       && cp.size == 20 && strstr((char *) st.data, "\xe2\x80\x94 siteB ")
       != NULL, "it is the origin's note with our cosignature line");
    esl_buf_free(&st);
    pkg_free(&p);

    /* forged: the right name, another key */
    home_append(10, &n3);
    package(20, 30, &p, proof, &np);
    {
        esl_checkpoint_parse((char *) n3.data, n3.len, &cp);
        esl_buf forged;
        esl__checkpoint_sign(SX, &cp, &forged);
        is_int(esl_mirror_import(B, VA, (char *) forged.data, forged.len,
                                 (const unsigned char (*)[32]) proof, np,
                                 p.iov, p.n, validate, NULL, SB, &cos),
               ESL_ESIG, "forged signature rejected");
        esl_buf_free(&forged);
    }
    /* entries that do not match the root */
    {
        unsigned char *c = p.copy[3];
        size_t len = p.iov[3].len;
        c[len - 1] ^= 1;      /* still a canonical entry, other bytes */
        is_int(esl_mirror_import(B, VA, (char *) n3.data, n3.len,
                                 (const unsigned char (*)[32]) proof, np,
                                 p.iov, p.n, validate, NULL, SB, &cos),
               ESL_EPROOF, "entries that do not hash to the root rejected");
        c[len - 1] ^= 1;
    }
    is_int(mirror_size(), 20, "nothing was stored");
    /* bad consistency proof */
    if (np > 0) {
        proof[0][0] ^= 1;
        is_int(esl_mirror_import(B, VA, (char *) n3.data, n3.len,
                                 (const unsigned char (*)[32]) proof, np,
                                 p.iov, p.n, validate, NULL, SB, &cos),
               ESL_EPROOF, "bad consistency proof rejected");
        proof[0][0] ^= 1;
    }
    /* validation function */
    refuse_index = 25;
    is_int(esl_mirror_import(B, VA, (char *) n3.data, n3.len,
                             (const unsigned char (*)[32]) proof, np,
                             p.iov, p.n, validate, NULL, SB, &cos),
           ESL_EREJECTED, "an entry the validation function refuses "
           "rejects the block");
    is_int(mirror_size(), 20, "nothing was stored");
    refuse_index = -1;
    is_int(esl_mirror_import(B, VA, (char *) n3.data, n3.len,
                             (const unsigned char (*)[32]) proof, np,
                             p.iov, p.n, validate, NULL, SB, &cos), ESL_OK,
           "the valid block is then accepted");
    esl_buf_free(&cos);
    is_int(mirror_size(), 30, "mirror holds 30 entries");
    pkg_free(&p);

    /* same size, different root (validly signed by the home key) */
    {
        esl_buf bad;
        esl_checkpoint_parse((char *) n3.data, n3.len, &cp);
        cp.root[0] ^= 1;
        cp.height += 1;
        esl__checkpoint_sign(SA, &cp, &bad);
        is_int(esl_mirror_import(B, VA, (char *) bad.data, bad.len, NULL, 0,
                                 NULL, 0, validate, NULL, SB, &cos),
               ESL_EEQUIVOCATION, "same size, different root: equivocation");
        esl_buf_free(&bad);
        is_int(esl_mirror_evidence(B, origin, 0, &ev), ESL_OK,
               "evidence recorded");
        ok(strstr((char *) ev.data, "two roots") != NULL
           && strstr((char *) ev.data, "-- held\n") != NULL
           && strstr((char *) ev.data, "-- received\n") != NULL,
           "evidence holds both signed notes");
        esl_buf_free(&ev);
    }
    /* rollback: a newer block claiming a smaller tree */
    {
        esl_buf bad;
        unsigned char r10[32];
        esl_root(A, "t-1", 10, r10);
        esl_checkpoint_parse((char *) n3.data, n3.len, &cp);
        cp.size = 10;
        memcpy(cp.root, r10, 32);
        cp.height += 5;
        esl__checkpoint_sign(SA, &cp, &bad);
        is_int(esl_mirror_import(B, VA, (char *) bad.data, bad.len, NULL, 0,
                                 NULL, 0, validate, NULL, SB, &cos),
               ESL_EROLLBACK, "rollback rejected");
        esl_buf_free(&bad);
        is_int(esl_mirror_evidence(B, origin, 1, &ev), ESL_OK,
               "rollback evidence recorded");
        esl_buf_free(&ev);
        is_int(esl_mirror_import(B, VA, (char *) n1.data, n1.len, NULL, 0,
                                 NULL, 0, validate, NULL, SB, &cos),
               ESL_EROLLBACK, "a stale replay of block 1 is refused");
        is_int(esl_mirror_evidence(B, origin, 2, &ev), ESL_ENOTFOUND,
               "but is not misbehaviour");
    }
    is_int(mirror_size(), 30, "mirror state unchanged by all refusals");

    /* a later block after gaps: mirror skips a block it never saw */
    home_append(5, &n4);
    esl_buf_free(&n4);
    home_append(5, &n4);
    package(30, 40, &p, proof, &np);
    is_int(esl_mirror_import(B, VA, (char *) n4.data, n4.len,
                           (const unsigned char (*)[32]) proof, np,
                           p.iov, p.n, validate, NULL, SB, &cos), ESL_OK,
           "two blocks at once (height jumps by two)");
    esl_buf_free(&cos);
    pkg_free(&p);
    {
        char sh[ESL_SHARD_MAX + ESL_ORIGIN_MAX + 2];
        uint64_t idx;
        esl_buf eb;
        unsigned char lh[32];
        esl_hasher *h;
        esl_entry_get(A, "t-1", 33, &eb);
        esl_hasher_new(ESL_HASH_SM3, &h);
        esl_leaf_hash(h, eb.data, eb.len, lh);
        esl_hasher_free(h);
        esl_buf_free(&eb);
        is_int(esl_lookup_leaf(B, lh, sh, &idx), ESL_OK,
               "mirror finds a mirrored entry by transaction hash");
        ok(strcmp(sh, "=ledger.test/siteA/t-1") == 0 && idx == 33,
           "as =origin, index 33");
    }
    is_int(esl_verify(B, NULL, NULL, NULL, NULL, NULL), 0,
           "mirror's copy passes the fsck");
    {
        esl_close(B);
        B = open_l("b", "ledger.test/siteB");
        esl_shard_info i;
        esl_shard_info_get(B, "=ledger.test/siteA/t-1", &i);
        ok(i.mirror && !i.readonly && i.size == 40,
           "after reopen: self-check passes on the mirror shard");
    }

    esl_buf_free(&n1);
    esl_buf_free(&n2);
    esl_buf_free(&n3);
    esl_buf_free(&n4);
    esl_close(A);
    esl_close(B);
    esl_signer_free(SA);
    esl_signer_free(SB);
    esl_signer_free(SX);
    esl_verifier_free(VA);
    esl_verifier_free(VB);
    rm_rf(D);
    free(D);
    return tap_done();
}
