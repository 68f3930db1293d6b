/*
 * test_tamper.c: bit flips in stored entries, tiles and block notes are
 * detected by the fsck; a flip in the last block turns the shard
 * read-only at start-up without modifying anything; the append path
 * refuses to sign over a tree that does not match the last signed
 * checkpoint.  (R-LEDG-1: tampering is detectable; DigiCert Yeti lesson)
 */

#define _GNU_SOURCE
#include <string.h>
#include <sys/stat.h>

#include "util.h"
#include "esl_store.h"      /* the idempotency record layout */

#define TOTAL  600
#define BATCH  50

static char          *D;
static esl_signer    *S;
static esl_verifier  *V;
static unsigned char  leaf[TOTAL][32];

static esl_ledger *
open_l(const char *dir, unsigned flags)
{
    esl_options  o;
    esl_ledger  *l = NULL;

    esl_options_init(&o);
    o.stripes = 1;
    o.map_size = 64 << 20;
    o.verifier = V;
    o.flags = flags;
    return esl_open(dir, &o, &l) == ESL_OK ? l : NULL;
}

static void
mk_entry(uint64_t i, esl_entry *e, char *id, unsigned char *pay)
{
    snprintf(id, 65, "tamper-%llu", (unsigned long long) i);
    memset(pay, 'x', 64);
    snprintf((char *) pay, 64, "MARK%06llu", (unsigned long long) i);
    e->kind = ESL_KIND_RESULT_EVIDENCE;
    e->time_ms = 1763900000000ULL + i;
    e->entry_id = (unsigned char *) id;
    e->entry_id_len = strlen(id);
    e->tenant = TENANT;
    e->payload = pay;
    e->payload_len = 64;
}

/* Copy the pristine ledger, flip one bit at every place where `needle`
 * occurs (+ off): copy-on-write leaves stale copies of pages in the file,
 * and the live one must be among those hit.  Returns the copy's path. */
static char *
flipped_copy(const char *tag, const void *needle, size_t nlen, size_t off)
{
    char           *dst = malloc(4200), cmd[9000], path[4300];
    unsigned char  *buf, *hit;
    FILE           *f;
    long            sz;

    snprintf(dst, 4200, "%s/%s", D, tag);
    snprintf(cmd, sizeof(cmd), "cp -a '%s/pristine' '%s'", D, dst);
    if (run(cmd) != 0) {
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/stripe-00/data.mdb", dst);
    f = fopen(path, "r+b");
    fseek(f, 0, SEEK_END);
    sz = ftell(f);
    buf = malloc((size_t) sz);
    fseek(f, 0, SEEK_SET);
    if (fread(buf, 1, (size_t) sz, f) != (size_t) sz) {
        return NULL;
    }
    hit = memmem(buf, (size_t) sz, needle, nlen);
    if (hit == NULL) {
        fclose(f);
        free(buf);
        return NULL;
    }
    while (hit != NULL) {
        fseek(f, (hit - buf) + (long) off, SEEK_SET);
        fputc(hit[off] ^ 0x04, f);
        hit = memmem(hit + 1, (size_t) (buf + sz - hit - 1), needle, nlen);
    }
    fclose(f);
    free(buf);
    return dst;
}

static int
cli_verify(const char *dir)
{
    char         cmd[9000];
    const char  *cli = getenv("ESL_CLI");

    if (cli == NULL) {
        return -1;
    }
    snprintf(cmd, sizeof(cmd), "'%s' verify '%s' >/dev/null", cli, dir);
    return run(cmd);
}

static esl_shard_info
info_of(esl_ledger *l)
{
    esl_shard_info  i;

    memset(&i, 0, sizeof(i));
    esl_shard_info_get(l, "tt", &i);
    return i;
}

int
main(void)
{
    esl_ledger        *l;
    esl_entry          e[BATCH];
    char               ids[BATCH][65], pristine[4200], *d, mark[16];
    unsigned char      pays[BATCH][64], two[64];
    esl_append_result  res[BATCH];
    uint64_t           i, b;

    D = tmpdir();
    make_key(D, "site");
    S = load_signer(D, "site", "siteA");
    esl_verifier_from_signer(S, &V);
    snprintf(pristine, sizeof(pristine), "%s/pristine", D);
    l = open_l(pristine, 0);
    for (b = 0; b < TOTAL / BATCH; b++) {
        for (i = 0; i < BATCH; i++) {
            mk_entry(b * BATCH + i, &e[i], ids[i], pays[i]);
        }
        if (esl_append_batch(l, "tt", e, BATCH, S, res, NULL) != ESL_OK) {
            printf("Bail out! append failed\n");
            return 1;
        }
        for (i = 0; i < BATCH; i++) {
            memcpy(leaf[b * BATCH + i], res[i].leaf_hash, 32);
        }
    }
    is_int(esl_verify(l, NULL, NULL, NULL, NULL, NULL), 0,
           "pristine ledger verifies");
    esl_close(l);
    is_int(cli_verify(pristine), 0, "esign-ledger verify: pristine OK");

    /* 1. entry in an old block */
    d = flipped_copy("entry-old", "MARK000100", 10, 5);
    ok(d != NULL, "flipped a bit in entry 100's payload");
    l = open_l(d, 0);
    ok(l != NULL && !info_of(l).readonly,
       "an old block is not covered by the quick start-up check");
    ok(esl_verify(l, NULL, NULL, NULL, NULL, NULL) > 0,
       "fsck detects the flipped entry");
    esl_close(l);
    is_int(cli_verify(d), 1, "esign-ledger verify exits 1");
    free(d);

    /* 2. entry in the last block: start-up self-check */
    d = flipped_copy("entry-last", "MARK000590", 10, 5);
    ok(d != NULL, "flipped a bit in entry 590 (last block)");
    {
        struct stat st1, st2;
        char p[4400];
        snprintf(p, sizeof(p), "%s/stripe-00/data.mdb", d);
        stat(p, &st1);
        l = open_l(d, 0);
        ok(l != NULL, "the ledger still opens");
        ok(info_of(l).readonly, "the shard is read-only after the "
           "self-check");
        mk_entry(9999, &e[0], ids[0], pays[0]);
        is_int(esl_append_batch(l, "tt", e, 1, S, res, NULL), ESL_EREADONLY,
               "appends are refused with ESL_EREADONLY");
        {
            esl_buf eb;
            is_int(esl_entry_get(l, "tt", 3, &eb), ESL_OK,
                   "reads still work");
            esl_buf_free(&eb);
        }
        esl_close(l);
        stat(p, &st2);
        ok(st1.st_size == st2.st_size && st1.st_mtime == st2.st_mtime,
           "nothing was wiped or rewritten");
    }
    free(d);

    /* 3. a tile hash (leaf 10 in row 0 of tile 0/0, found as the pair
     * leaf10||leaf11, which only a tile holds) */
    memcpy(two, leaf[10], 32);
    memcpy(two + 32, leaf[11], 32);
    d = flipped_copy("tile", two, 64, 7);
    ok(d != NULL, "flipped a bit in a stored tile hash");
    l = open_l(d, 0);
    ok(esl_verify(l, NULL, NULL, NULL, NULL, NULL) > 0,
       "fsck detects the flipped tile");
    esl_close(l);
    is_int(cli_verify(d), 1, "esign-ledger verify exits 1");
    free(d);

    /* 4. the right-edge tile: the tree no longer gives the signed root;
     * with the start-up check disabled the append path itself refuses to
     * sign */
    {
        /* 600 = 512 + 64 + 16 + 8: the subtree [576, 592) is one of the
         * hashes the root is made of, stored in row 4 of tile 0/2 */
        esl_hasher *h;
        esl_hasher_new(ESL_HASH_SM3, &h);
        esl_merkle_root(h, (const unsigned char (*)[32]) leaf[576], 16, two);
        esl_hasher_free(h);
    }
    d = flipped_copy("edge", two, 32, 3);
    ok(d != NULL, "flipped a bit in the right-edge tile (a root input)");
    l = open_l(d, ESL_OPEN_NOSELFCHECK);
    mk_entry(9999, &e[0], ids[0], pays[0]);
    is_int(esl_append_batch(l, "tt", e, 1, S, res, NULL), ESL_ECORRUPT,
           "append refuses to sign over a tree that is not the signed one");
    ok(info_of(l).readonly, "and the shard turned read-only");
    esl_close(l);
    l = open_l(d, 0);
    ok(info_of(l).readonly, "start-up self-check catches it too");
    esl_close(l);
    free(d);

    /* 5. a block note */
    snprintf(mark, sizeof(mark), "\nb 3 ");
    d = flipped_copy("note", mark, strlen(mark), 1);
    ok(d != NULL, "changed the height in block 3's stored note");
    l = open_l(d, 0);
    ok(esl_verify(l, NULL, V, NULL, NULL, NULL) > 0,
       "fsck detects the altered block");
    esl_close(l);
    free(d);

    /* 6. the leaf-hash index: one run record (h of the leaf under the
     * stripe's key || sid 1 || index), which only the index holds; flip
     * its index, then its h */
    {
        unsigned char  rec[ESL_LREC];
        esl_ledger    *pl = open_l(pristine, ESL_OPEN_RDONLY);

        ok(pl != NULL, "pristine reopened read-only");
        esl__lidx_rec(rec, esl__lidx_hash(&pl->st[0], leaf[200]), 1, 200);
        esl_close(pl);
        d = flipped_copy("lidx-index", rec, ESL_LREC, ESL_LREC - 1);
        ok(d != NULL, "flipped the index in a leaf-hash index record");
        l = open_l(d, 0);
        ok(esl_verify(l, NULL, NULL, NULL, NULL, NULL) > 0,
           "fsck detects the wrong leaf-index record");
        {
            char sh[ESL_SHARD_MAX + ESL_ORIGIN_MAX + 2];
            uint64_t ix;
            /* the record now names leaf 201's place: the exact check
             * against the tile refuses it instead of answering 201 */
            is_int(esl_lookup_leaf(l, leaf[200], sh, &ix), ESL_ENOTFOUND,
                   "a lookup never answers the wrong place");
        }
        esl_close(l);
        is_int(cli_verify(d), 1, "esign-ledger verify exits 1");
        free(d);

        d = flipped_copy("lidx-hash", rec, ESL_LREC, ESL_XKEY - 1);
        ok(d != NULL, "flipped the hash in a leaf-hash index record");
        l = open_l(d, 0);
        ok(esl_verify(l, NULL, NULL, NULL, NULL, NULL) > 0,
           "fsck detects it (run out of order, record changed)");
        {
            char sh[ESL_SHARD_MAX + ESL_ORIGIN_MAX + 2];
            uint64_t ix;
            /* 201 was not touched: still found */
            ok(esl_lookup_leaf(l, leaf[201], sh, &ix) == ESL_OK && ix == 201,
               "other lookups keep working");
        }
        esl_close(l);
        free(d);

        /* 7. the idempotency index: the run record of "tamper-300"
         * (h under the stripe's key || sid 1 || index 300); flip its
         * index, then its h */
        {
            unsigned char  irec[ESL_IREC];
            esl_ledger    *pl = open_l(pristine, ESL_OPEN_RDONLY);

            ok(pl != NULL, "pristine reopened read-only");
            esl__idem_rec(irec, esl__idem_hash(&pl->st[0],
                              (const unsigned char *) "tamper-300", 10),
                          1, 300);
            esl_close(pl);
            d = flipped_copy("idem", irec, ESL_IREC, ESL_IREC - 1);
            ok(d != NULL, "flipped the index in an idempotency record");
            l = open_l(d, 0);
            ok(esl_verify(l, NULL, NULL, NULL, NULL, NULL) > 0,
               "fsck detects the wrong idempotency record");
            esl_close(l);
            is_int(cli_verify(d), 1, "esign-ledger verify exits 1");
            free(d);

            d = flipped_copy("idem-h", irec, ESL_IREC, ESL_XKEY - 1);
            ok(d != NULL, "flipped the h of an idempotency record");
            l = open_l(d, 0);
            ok(esl_verify(l, NULL, NULL, NULL, NULL, NULL) > 0,
               "fsck detects it (run out of order or record changed)");
            esl_close(l);
            is_int(cli_verify(d), 1, "esign-ledger verify exits 1");
            free(d);
        }
    }

    esl_verifier_free(V);
    esl_signer_free(S);
    rm_rf(D);
    free(D);
    return tap_done();
}
