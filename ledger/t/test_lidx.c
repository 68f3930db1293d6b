/*
 * test_lidx.c: the leaf-hash index as sorted runs (esl_lidx.c, format
 * esl-4: keyed 8-byte h of the leaf, exact check against the tile).
 * Every entry is found by its leaf hash after the runs merged in all the
 * shapes ragged batches produce; the same bytes logged in two shards keep
 * the first writer's location through merges; the index survives a
 * reopen; esl_verify is clean.  All twice: with the real h, and with h
 * cut to 4 bits (a test hook), where every lookup meets dozens of
 * colliding records and only the exact leaf check finds the right one.
 * (R-XCH-3: receipts by transaction hash)
 */

#include "util.h"
#include "esl_store.h"      /* esl__lidx_mask: the collision hook */

#define NB   700

static unsigned char  leafb[NB][32];
static uint64_t       idxb[NB];

static esl_ledger *
open_l(const char *dir)
{
    esl_options  o;
    esl_ledger  *l = NULL;

    esl_options_init(&o);
    o.stripes = 1;              /* both shards share one stripe's runs */
    o.map_size = 64 << 20;
    if (esl_open(dir, &o, &l) != ESL_OK) {
        printf("Bail out! esl_open\n");
        exit(1);
    }
    return l;
}

static int
lookups(esl_ledger *l, const unsigned char (*a)[32], int *bad_a)
{
    char      sh[ESL_SHARD_MAX + ESL_ORIGIN_MAX + 2];
    uint64_t  idx;
    int       i, bad = 0;

    for (i = 0; i < NB; i++) {
        if (esl_lookup_leaf(l, leafb[i], sh, &idx) != ESL_OK) {
            bad++;
            continue;
        }
        if (i < 3) {
            /* logged in shard a first, then in b: a keeps it */
            if (strcmp(sh, "a") != 0 || idx != (uint64_t) i) {
                (*bad_a)++;
            }
        } else if (strcmp(sh, "b") != 0 || idx != idxb[i]) {
            bad++;
        }
    }
    for (i = 0; i < 3; i++) {
        if (esl_lookup_leaf(l, a[i], sh, &idx) != ESL_OK
            || strcmp(sh, "a") != 0 || idx != (uint64_t) i)
        {
            (*bad_a)++;
        }
    }
    return bad;
}

static void
scenario(const char *D, esl_signer *s, const char *tag)
{
    char               dir[4200];
    esl_ledger        *l;
    esl_entry          e[64];
    esl_append_result  r[64];
    char               ids[64][65];
    unsigned char      pays[64][40], a[3][32], miss[32];
    char               sh[ESL_SHARD_MAX + ESL_ORIGIN_MAX + 2];
    uint64_t           idx;
    int                i, j, n, done = 0, bad, bad_a = 0, rc = ESL_OK;

    snprintf(dir, sizeof(dir), "%s/%s", D, tag);
    l = open_l(dir);

    /* shard a: entries 0..2 */
    for (i = 0; i < 3; i++) {
        sample_entry(&e[i], (uint64_t) i, ids[i], pays[i], sizeof(pays[i]));
    }
    is_int(esl_append_batch(l, "a", e, 3, s, r, NULL), ESL_OK,
           "%s: shard a: 3 entries", tag);
    for (i = 0; i < 3; i++) {
        memcpy(a[i], r[i].leaf_hash, 32);
    }

    /* shard b: ragged batches 1, 2, 3, ... 37, 1, 2, ...; the batch that
     * starts at b's entry 40 also carries the bytes of a's 0..2 */
    for (n = 1; done < NB && rc == ESL_OK; n = n % 37 + 1) {
        int k = 0, first = done;
        if (n > NB - done) {
            n = NB - done;
        }
        for (j = 0; j < n; j++) {
            int gi = done + j;
            /* b's global entries 40, 41, 42 are the same bytes as a's */
            uint64_t num = (gi >= 40 && gi < 43) ? (uint64_t) (gi - 40)
                                                 : 1000 + (uint64_t) gi;
            sample_entry(&e[k], num, ids[k], pays[k], sizeof(pays[k]));
            k++;
        }
        rc = esl_append_batch(l, "b", e, (size_t) k, s, r, NULL);
        for (j = 0; j < k; j++) {
            /* slots 0..2 hold the shared bytes, so swap them with b's
             * own first three */
            int gi = first + j, slot = (gi >= 40 && gi < 43) ? gi - 40
                                     : gi < 3 ? gi + 40 : gi;
            memcpy(leafb[slot], r[j].leaf_hash, 32);
            idxb[slot] = r[j].index;
        }
        done += k;
    }
    is_int(rc, ESL_OK, "%s: shard b: %d entries in ragged batches", tag, NB);
    ok(memcmp(leafb[0], a[0], 32) == 0 && memcmp(leafb[2], a[2], 32) == 0,
       "%s: the same bytes in two shards have the same leaf hash", tag);

    bad = lookups(l, (const unsigned char (*)[32]) a, &bad_a);
    is_int(bad, 0, "%s: every entry of b is found at its index after the "
           "runs merged", tag);
    is_int(bad_a, 0, "%s: bytes logged in a first and b later: a wins, "
           "through merges", tag);
    memset(miss, 0xa5, 32);
    is_int(esl_lookup_leaf(l, miss, sh, &idx), ESL_ENOTFOUND,
           "%s: an unknown hash is not found", tag);
    is_int(esl_verify(l, NULL, NULL, NULL, NULL, NULL), 0,
           "%s: esl_verify: both shards match the index", tag);
    esl_close(l);

    l = open_l(dir);
    bad_a = 0;
    bad = lookups(l, (const unsigned char (*)[32]) a, &bad_a);
    ok(bad == 0 && bad_a == 0, "%s: the same after a reopen", tag);

    /* one big batch next to many small runs */
    {
        esl_entry          *be = calloc(2000, sizeof(*be));
        esl_append_result  *br = calloc(2000, sizeof(*br));
        char              (*bid)[65] = calloc(2000, 65);
        unsigned char     (*bp)[40] = calloc(2000, 40);
        int                 miss_n = 0;

        for (i = 0; i < 2000; i++) {
            sample_entry(&be[i], 50000 + (uint64_t) i, bid[i], bp[i], 40);
        }
        is_int(esl_append_batch(l, "a", be, 2000, s, br, NULL), ESL_OK,
               "%s: a batch of 2000", tag);
        for (i = 0; i < 2000; i++) {
            if (esl_lookup_leaf(l, br[i].leaf_hash, sh, &idx) != ESL_OK
                || strcmp(sh, "a") != 0 || idx != 3 + (uint64_t) i)
            {
                miss_n++;
            }
        }
        is_int(miss_n, 0, "%s: all of it found", tag);
        bad_a = 0;
        is_int(lookups(l, (const unsigned char (*)[32]) a, &bad_a), 0,
               "%s: older entries still found", tag);
        is_int(bad_a, 0, "%s: first writer still wins", tag);
        free(be);
        free(br);
        free(bid);
        free(bp);
    }
    is_int(esl_verify(l, NULL, NULL, NULL, NULL, NULL), 0,
           "%s: esl_verify clean", tag);
    esl_close(l);
}


static int
cmp_rec(const void *a, const void *b)
{
    return memcmp(a, b, ESL_LREC);
}


/* esl__runs_sort against qsort by whole records, for prefixes with every
 * byte varying, with only some bytes varying (the radix sort skips the
 * constant ones), and all equal (only the fix-up pass orders them). */
static void
sort_check(void)
{
    static const uint64_t  masks[] = { ~0ULL, 0xf, 0, 0xff00ff000000ULL,
                                       0x0000ffff0000ULL, 0x3 };
    static const size_t    sizes[] = { 0, 1, 2, 3, 100, 5000 };
    unsigned char         *a, *b;
    uint64_t               x = 88172645463325252ULL;
    size_t                 mi, si, i, j;
    int                    bad = 0;

    a = malloc(5000 * ESL_LREC);
    b = malloc(5000 * ESL_LREC);
    for (mi = 0; mi < sizeof(masks) / sizeof(masks[0]); mi++) {
        for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
            for (i = 0; i < sizes[si]; i++) {
                for (j = 0; j < ESL_LREC; j++) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    a[i * ESL_LREC + j] = (unsigned char) x;
                }
                esl__lidx_rec(a + i * ESL_LREC,
                              esl__get64(a + i * ESL_LREC) & masks[mi]
                              & ESL_IDX_MAX, (uint32_t) (x >> 40) & 3, x % 7);
            }
            memcpy(b, a, sizes[si] * ESL_LREC);
            qsort(b, sizes[si], ESL_LREC, cmp_rec);
            if (esl__runs_sort(a, sizes[si], ESL_LREC) != ESL_OK
                || memcmp(a, b, sizes[si] * ESL_LREC) != 0)
            {
                bad++;
            }
        }
    }
    is_int(bad, 0, "run sort = qsort by whole records, for 6 prefix shapes "
           "and 6 sizes");
    {
        unsigned char  r[ESL_XREC];

        esl__xrec(r, 0xfedcba987654ULL, 0x89abcdefu, 0xba9876543210ULL);
        ok(esl__xrec_h(r) == 0xfedcba987654ULL
           && esl__xrec_sid(r) == 0x89abcdefu
           && esl__xrec_idx(r) == 0xba9876543210ULL && r[0] == 0xfe
           && r[15] == 0x10, "index record: 48-bit h, sid, 48-bit index, "
           "big-endian, 16 bytes");
    }
    free(a);
    free(b);
}


int
main(void)
{
    char        *D = tmpdir();
    esl_signer  *s;

    sort_check();

    make_key(D, "k");
    s = load_signer(D, "k", "siteA");

    scenario(D, s, "full-h");
    esl__lidx_mask = 0xf;       /* 16 values of h: collisions everywhere */
    scenario(D, s, "4-bit-h");
    esl__lidx_mask = ~0ULL;

    esl_signer_free(s);
    rm_rf(D);
    free(D);
    return tap_done();
}
