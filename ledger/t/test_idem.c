/*
 * test_idem.c: the idempotency index as sorted runs (esl_idem.c, format
 * esl-3).  Retries keep their index and conflicts are refused, within a
 * batch and across batches, through the merges of ragged batches, in two
 * shards of one stripe, and after a reopen; esl_verify is clean.  All of
 * it twice: with the real 64-bit h, and with h cut to 4 bits, so that
 * nearly every lookup meets colliding records and only the exact
 * entry_id check can give the right answer.  (R-LEDG-6, R-EVID-4)
 */

#include "util.h"
#include "esl_store.h"      /* esl__idem_mask: the collision hook */

#define NE   600            /* new entries in shard a */
#define NB   100            /* of them also logged in shard b */

static uint64_t  idx_a[NE], idx_b[NB];

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

/* Retry entries [0, n) of a shard in batches of 64: all must come back
 * as duplicates at their index.  Returns the number of wrong answers. */
static int
retry_all(esl_ledger *l, esl_signer *s, const char *shard,
    const uint64_t *idx, int n)
{
    esl_entry          e[64];
    esl_append_result  r[64];
    char               ids[64][65];
    unsigned char      pays[64][40];
    int                i, j, k, bad = 0;

    for (i = 0; i < n; i += 64) {
        k = n - i < 64 ? n - i : 64;
        for (j = 0; j < k; j++) {
            sample_entry(&e[j], (uint64_t) (i + j), ids[j], pays[j], 40);
        }
        if (esl_append_batch(l, shard, e, (size_t) k, s, r, NULL)
            != ESL_OK)
        {
            return n;
        }
        for (j = 0; j < k; j++) {
            if (r[j].status != ESL_DUPLICATE || r[j].index != idx[i + j]) {
                bad++;
            }
        }
    }
    return bad;
}

static void
scenario(const char *D, esl_signer *s, const char *tag)
{
    char               dir[4200];
    esl_ledger        *l;
    esl_entry          e[48];
    esl_append_result  r[48];
    char               ids[48][65];
    unsigned char      pays[48][41];
    int                done = 0, n, j, k, rc = ESL_OK, bad_new = 0;
    int                bad_retry = 0, bad_conf = 0, bad_in = 0, bad_b = 0;
    uint64_t           size = 0, want;

    snprintf(dir, sizeof(dir), "%s/%s", D, tag);
    l = open_l(dir);

    /* Shard a: ragged batches of n new entries (1, 2, ... 29, 1, ...),
     * each followed by: a retry of an older entry, a conflicting one
     * (older id, other bytes), the batch's first entry again (retry in
     * the batch) and its second with other bytes (conflict in the
     * batch). */
    for (n = 1; done < NE && rc == ESL_OK; n = n % 29 + 1) {
        int first = done, old = done > 0 ? (done * 7) % done : -1;

        if (n > NE - done) {
            n = NE - done;
        }
        for (k = 0; k < n; k++) {
            sample_entry(&e[k], (uint64_t) (done + k), ids[k], pays[k], 40);
        }
        if (old >= 0) {
            sample_entry(&e[k], (uint64_t) old, ids[k], pays[k], 40);
            k++;
            sample_entry(&e[k], (uint64_t) old, ids[k], pays[k], 41);
            k++;
        }
        sample_entry(&e[k], (uint64_t) first, ids[k], pays[k], 40);
        k++;
        if (n > 1) {
            sample_entry(&e[k], (uint64_t) first + 1, ids[k], pays[k], 41);
            k++;
        }
        rc = esl_append_batch(l, "a", e, (size_t) k, s, r, NULL);
        for (j = 0; j < n; j++) {
            if (r[j].status != ESL_APPENDED || r[j].index != size) {
                bad_new++;
            }
            idx_a[done + j] = size++;
        }
        j = n;
        if (old >= 0) {
            if (r[j].status != ESL_DUPLICATE || r[j].index != idx_a[old]) {
                bad_retry++;
            }
            if (r[j + 1].status != ESL_ECONFLICT
                || r[j + 1].index != idx_a[old])
            {
                bad_conf++;
            }
            j += 2;
        }
        if (r[j].status != ESL_DUPLICATE || r[j].index != idx_a[first]) {
            bad_in++;
        }
        if (n > 1 && (r[j + 1].status != ESL_ECONFLICT
                      || r[j + 1].index != idx_a[first + 1]))
        {
            bad_in++;
        }
        done += n;
    }
    is_int(rc, ESL_OK, "%s: shard a, %d entries in ragged batches", tag, NE);
    is_int(bad_new, 0, "%s: new entries get consecutive indexes", tag);
    is_int(bad_retry, 0, "%s: a retry of an older entry keeps its index",
           tag);
    is_int(bad_conf, 0, "%s: other bytes under an older id: conflict", tag);
    is_int(bad_in, 0, "%s: a retry and a conflict inside one batch", tag);

    /* Shard b (same stripe): the ids of a's first NB entries are new
     * there, then retried in b */
    for (j = 0; j < NB; j += 40) {
        k = NB - j < 40 ? NB - j : 40;
        for (n = 0; n < k; n++) {
            sample_entry(&e[n], (uint64_t) (j + n), ids[n], pays[n], 40);
        }
        rc = esl_append_batch(l, "b", e, (size_t) k, s, r, NULL);
        for (n = 0; n < k; n++) {
            want = (uint64_t) (j + n);
            if (rc != ESL_OK || r[n].status != ESL_APPENDED
                || r[n].index != want)
            {
                bad_b++;
            }
            idx_b[j + n] = want;
        }
    }
    is_int(bad_b, 0, "%s: the same ids in another shard are new there",
           tag);
    is_int(retry_all(l, s, "a", idx_a, NE), 0,
           "%s: every entry of a retried: duplicate at its index", tag);
    is_int(retry_all(l, s, "b", idx_b, NB), 0,
           "%s: every entry of b retried: duplicate at its index", tag);
    is_int(esl_verify(l, NULL, NULL, NULL, NULL, NULL), 0,
           "%s: esl_verify: both shards match the index", tag);
    esl_close(l);

    l = open_l(dir);
    is_int(retry_all(l, s, "a", idx_a, NE) + retry_all(l, s, "b", idx_b, NB),
           0, "%s: the same after a reopen", tag);
    {
        esl_shard_info  info;
        ok(esl_shard_info_get(l, "a", &info) == ESL_OK && info.size == NE,
           "%s: retries and conflicts appended nothing", tag);
    }
    is_int(esl_verify(l, NULL, NULL, NULL, NULL, NULL), 0,
           "%s: esl_verify clean", tag);
    esl_close(l);
}

int
main(void)
{
    char        *D = tmpdir();
    esl_signer  *s;

    make_key(D, "k");
    s = load_signer(D, "k", "siteA");

    scenario(D, s, "full-h");
    esl__idem_mask = 0xf;       /* 16 values of h: collisions everywhere */
    scenario(D, s, "4-bit-h");
    esl__idem_mask = ~0ULL;

    esl_signer_free(s);
    rm_rf(D);
    free(D);
    return tap_done();
}
