/*
 * test_store.c: the LMDB store: group-commit appends, tiles against the
 * reference tree for every size up to 300 (crossing the 256-wide tile
 * boundary), idempotency, reads, lookups by leaf hash, block chain,
 * reopen, and concurrent appends from several processes.
 * (R-LEDG-1, R-LEDG-6, R-EVID-3, R-EVID-4, R-XCH-3)
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <lmdb.h>

#include "util.h"

#define N 300

static char           *D;
static unsigned char   leaves[N + 10][32];
static unsigned char   payload[64];
static unsigned char   pays[32][64];    /* one payload per batch slot */

static esl_ledger *
open_ledger(const char *dir, int alg, const esl_verifier *v)
{
    esl_options  o;
    esl_ledger  *l = NULL;
    int          rc;

    esl_options_init(&o);
    o.stripes = 3;
    o.map_size = 64 << 20;
    o.hash_alg = alg;
    o.verifier = v;
    o.origin_prefix = "ledger.test/siteA";
    rc = esl_open(dir, &o, &l);
    if (rc != ESL_OK) {
        printf("Bail out! esl_open: %s\n", esl_strerror(rc));
        exit(1);
    }
    return l;
}

static int
count_fn(void *arg, uint64_t index, const unsigned char *b, size_t len)
{
    uint64_t *c = arg;
    (void) b;
    (void) len;
    if (index != *c) {
        return -100;
    }
    (*c)++;
    return 0;
}

typedef struct {
    int       n;
    uint64_t  total;
    int       saw_t1;
} list_acc;

static int
list_fn(void *arg, const esl_shard_info *i)
{
    list_acc *a = arg;
    a->n++;
    a->total += i->size;
    if (strcmp(i->name, "t1") == 0 && i->size == N + 1
        && strcmp(i->origin, "ledger.test/siteA/t1") == 0)
    {
        a->saw_t1 = 1;
    }
    return 0;
}

static void
test_tree_300(esl_signer *s, esl_verifier *v)
{
    esl_ledger        *l;
    esl_hasher        *h;
    esl_entry          e[32];
    char               ids[32][65];
    esl_append_result  res[32];
    esl_checkpoint     cp;
    esl_buf            note, eb;
    unsigned char      root[32], proof[ESL_MAX_PROOF][32];
    static unsigned char roots[N + 1][32];
    size_t             n, np;
    uint64_t           done = 0, sz, m, bad = 0, cnt = 0, blocks = 0;
    int                rc, chain_ok = 1;

    esl_hasher_new(ESL_HASH_SHA256, &h);
    l = open_ledger(D, ESL_HASH_SHA256, v);

    /* batches of 1, 2, 3, ... 23, 1, 2, ... so block edges land
     * everywhere, including across the tile boundary at 256 */
    for (n = 1; done < N; n = n % 23 + 1) {
        size_t i, k = (N - done < n) ? N - done : n;
        for (i = 0; i < k; i++) {
            sample_entry(&e[i], done + i, ids[i], pays[i], sizeof(pays[i]));
        }
        rc = esl_append_batch(l, "t1", e, k, s, res, &note);
        if (rc != ESL_OK) {
            is_int(rc, ESL_OK, "append_batch");
            break;
        }
        for (i = 0; i < k; i++) {
            if (res[i].status != ESL_APPENDED || res[i].index != done + i) {
                chain_ok = 0;
            }
            memcpy(leaves[done + i], res[i].leaf_hash, 32);
        }
        done += k;
        blocks++;
        if (esl_checkpoint_verify(v, (char *) note.data, note.len, &cp)
            != ESL_OK || cp.size != done || cp.height != blocks)
        {
            chain_ok = 0;
        }
        esl_buf_free(&note);
    }
    ok(chain_ok, "%llu batches: indexes dense, each returns a signed "
       "checkpoint of the new size and height",
       (unsigned long long) blocks);

    for (sz = 0; sz <= N; sz++) {
        esl_merkle_root(h, (const unsigned char (*)[32]) leaves, sz,
                        roots[sz]);
        if (esl_root(l, "t1", sz, root) != ESL_OK
            || memcmp(root, roots[sz], 32) != 0)
        {
            bad++;
        }
    }
    is_int(bad, 0, "root from tiles equals the reference root for every "
           "size 0..%d", N);

    bad = 0;
    for (sz = 1; sz <= N; sz++) {
        for (m = 0; m < sz; m++) {
            cnt++;
            if (esl_inclusion_proof(l, "t1", m, sz, proof, &np) != ESL_OK
                || esl_verify_inclusion(h, leaves[m], m, sz,
                       (const unsigned char (*)[32]) proof, np, roots[sz])
                   != ESL_OK)
            {
                bad++;
            }
        }
    }
    is_int(bad, 0, "all %llu inclusion proofs from the store verify",
           (unsigned long long) cnt);
    bad = cnt = 0;
    for (sz = 1; sz <= N; sz++) {
        for (m = 1; m <= sz; m++) {
            cnt++;
            if (esl_consistency_proof(l, "t1", m, sz, proof, &np) != ESL_OK
                || esl_verify_consistency(h, m, sz, roots[m], roots[sz],
                       (const unsigned char (*)[32]) proof, np) != ESL_OK)
            {
                bad++;
            }
        }
    }
    is_int(bad, 0, "all %llu consistency proofs from the store verify",
           (unsigned long long) cnt);
    is_int(esl_inclusion_proof(l, "t1", N, N, proof, &np), ESL_EINVAL,
           "inclusion proof for index == size refused");
    is_int(esl_inclusion_proof(l, "t1", 0, N + 1, proof, &np), ESL_EINVAL,
           "proof for a size beyond the log refused");
    is_int(esl_consistency_proof(l, "t1", 5, 4, proof, &np), ESL_EINVAL,
           "consistency from > to refused");

    /* reads */
    {
        unsigned char want[512];
        size_t wl;
        sample_entry(&e[0], 123, ids[0], pays[0], sizeof(pays[0]));
        esl_entry_encode(&e[0], want, sizeof(want), &wl);
        is_int(esl_entry_get(l, "t1", 123, &eb), ESL_OK, "entry_get");
        ok(eb.len == wl && memcmp(eb.data, want, wl) == 0,
           "stored bytes are the encoded entry");
        esl_buf_free(&eb);
        is_int(esl_entry_get(l, "t1", N, &eb), ESL_ENOTFOUND,
               "entry_get past the end");
        is_int(esl_entry_get(l, "nosuch", 0, &eb), ESL_ENOTFOUND,
               "entry_get unknown shard");
    }
    {
        uint64_t c = 10;
        is_int(esl_entry_range(l, "t1", 10, 290, count_fn, &c), ESL_OK,
               "entry_range");
        is_int(c, 290, "in order, all of them");
    }
    {
        char sh[ESL_SHARD_MAX + ESL_ORIGIN_MAX + 2];
        uint64_t idx = 0;
        is_int(esl_lookup_leaf(l, leaves[277], sh, &idx), ESL_OK,
               "lookup by leaf (transaction) hash");
        ok(strcmp(sh, "t1") == 0 && idx == 277, "gives shard and index");
        memset(root, 0x5a, 32);
        is_int(esl_lookup_leaf(l, root, sh, &idx), ESL_ENOTFOUND,
               "unknown hash not found");
    }
    {
        esl_buf b1, b2;
        esl_checkpoint c1, c2;
        unsigned char hh[32];
        uint64_t k;
        int links = 1;
        for (k = 2; k <= blocks; k++) {
            esl_block_get(l, "t1", k - 1, &b1);
            esl_block_get(l, "t1", k, &b2);
            esl_checkpoint_parse((char *) b1.data, b1.len, &c1);
            esl_checkpoint_parse((char *) b2.data, b2.len, &c2);
            esl_checkpoint_hash(h, (char *) b1.data, b1.len, hh);
            if (memcmp(hh, c2.prev, 32) || c2.time_ms < c1.time_ms
                || c2.size <= c1.size)
            {
                links = 0;
            }
            esl_buf_free(&b1);
            esl_buf_free(&b2);
        }
        ok(links, "every block links to the previous block hash, time and "
           "size grow");
    }
    is_int(esl_verify(l, NULL, v, NULL, NULL, NULL), 0,
           "esl_verify finds no fault");
    esl_close(l);
    esl_hasher_free(h);
}

static void
test_idempotency(esl_signer *s, esl_verifier *v)
{
    esl_ledger        *l;
    esl_entry          e[4];
    char               ids[4][65];
    unsigned char      p2[64];
    esl_append_result  res[4];
    esl_shard_info     info;
    esl_buf            note, latest;
    list_acc           acc = { 0, 0, 0 };

    l = open_ledger(D, ESL_HASH_SHA256, v);
    ok(l != NULL, "reopen: self-check passes");
    sample_entry(&e[0], 5, ids[0], pays[0], sizeof(pays[0]));
    sample_entry(&e[1], 1000, ids[1], pays[1], sizeof(pays[1]));
    sample_entry(&e[2], 1000, ids[2], pays[2], sizeof(pays[2]));
    is_int(esl_append_batch(l, "t1", e, 3, s, res, &note), ESL_OK,
           "batch with a retry of index 5 and a duplicate inside the batch");
    ok(res[0].status == ESL_DUPLICATE && res[0].index == 5,
       "retried entry_id returns its original index");
    ok(res[1].status == ESL_APPENDED && res[1].index == N,
       "new entry appended at the end");
    ok(res[2].status == ESL_DUPLICATE && res[2].index == N,
       "same entry twice in one batch: stored once");
    esl_buf_free(&note);

    sample_entry(&e[0], 7, ids[0], p2, sizeof(p2));
    p2[0] ^= 1;
    is_int(esl_append_batch(l, "t1", e, 1, s, res, &note), ESL_OK,
           "entry_id reused with different bytes");
    ok(res[0].status == ESL_ECONFLICT && res[0].index == 7,
       "reports ECONFLICT and the original index");
    esl_checkpoint_latest(l, "t1", &latest);
    ok(note.len == latest.len && !memcmp(note.data, latest.data, note.len),
       "no new block when nothing was appended");
    esl_buf_free(&note);
    esl_buf_free(&latest);
    esl_shard_info_get(l, "t1", &info);
    ok(info.size == N + 1 && !info.readonly, "shard info: size %llu",
       (unsigned long long) info.size);

    /* other shards go to other stripes, independent logs */
    sample_entry(&e[0], 1, ids[0], pays[0], sizeof(pays[0]));
    is_int(esl_append_batch(l, "t2", e, 1, s, res, NULL), ESL_OK, "shard t2");
    is_int(res[0].index, 0, "same entry_id in another shard is new there");
    is_int(esl_append_batch(l, "t3", e, 1, s, res, NULL), ESL_OK, "shard t3");
    is_int(esl_append_batch(l, "bad/name", e, 1, s, res, NULL), ESL_EINVAL,
           "shard names are restricted");
    esl_shards_list(l, list_fn, &acc);
    ok(acc.n == 3 && acc.saw_t1 && acc.total == N + 3,
       "list shards: 3 shards with their sizes");
    is_int(esl_verify(l, NULL, v, NULL, NULL, NULL), 0, "verify clean");
    esl_close(l);
}

static long
file_size(const char *dir, int stripe)
{
    char         path[4200];
    struct stat  sb;

    snprintf(path, sizeof(path), "%s/stripe-%02d/data.mdb", dir, stripe);
    return stat(path, &sb) == 0 ? (long) sb.st_size : -1;
}

/* esl_shard_stripe: the stripe an append to the shard writes. */
static void
test_stripes(esl_signer *s, esl_verifier *v)
{
    int                i, k, seen[3] = { 0, 0, 0 }, bad;
    char              *d, name[16], id[65];
    long               before[3], after[3];
    esl_entry          e;
    esl_ledger        *l;
    esl_append_result  res;

    d = tmpdir();
    l = open_ledger(d, ESL_HASH_SM3, v);
    is_int((int) esl_stripes(l), 3, "esl_stripes: the count it was made with");
    bad = 0;
    for (i = 0; i < 60; i++) {
        snprintf(name, sizeof(name), "inst-%d", i);
        k = esl_shard_stripe(l, name);
        if (k < 0 || k > 2 || esl_shard_stripe(l, name) != k) {
            bad++;
            continue;
        }
        seen[k]++;
    }
    ok(bad == 0 && seen[0] > 0 && seen[1] > 0 && seen[2] > 0,
       "60 shard names map to stripes 0..2, all used, stable");
    is_int(esl_shard_stripe(l, "bad/name"), -1, "not a shard name: -1");
    is_int(esl_shard_stripe(l, ""), -1, "empty name: -1");
    is_int(esl_shard_stripe(NULL, "t1"), -1, "no ledger: -1");
    is_int((int) esl_stripes(NULL), 0, "no ledger: 0 stripes");

    /* the shard's pages land in that stripe's file and no other */
    for (k = 0; k < 3; k++) {
        before[k] = file_size(d, k);
    }
    k = esl_shard_stripe(l, "inst-7");
    sample_entry(&e, 1, id, pays[0], sizeof(pays[0]));
    is_int(esl_append_batch(l, "inst-7", &e, 1, s, &res, NULL), ESL_OK,
           "append to inst-7");
    for (i = 0; i < 3; i++) {
        after[i] = file_size(d, i);
    }
    ok(after[k] > before[k] && after[(k + 1) % 3] == before[(k + 1) % 3]
       && after[(k + 2) % 3] == before[(k + 2) % 3],
       "only stripe %d (esl_shard_stripe) grew: %ld -> %ld", k, before[k],
       after[k]);
    esl_close(l);
    rm_rf(d);
    free(d);
}

/* Several processes append to the same shards at once: LMDB's writer
 * lock serialises them and each reads the last block inside its txn. */
static void
test_multiprocess(esl_signer *s, esl_verifier *v)
{
    char            *d = tmpdir();
    esl_ledger      *l;
    esl_shard_info   info;
    pid_t            pid[4];
    int              p, st, all_ok = 1;

    for (p = 0; p < 4; p++) {
        pid[p] = fork();
        if (pid[p] == 0) {
            esl_entry e[5];
            char ids[5][65];
            esl_append_result res[5];
            int b, i;
            l = open_ledger(d, ESL_HASH_SM3, v);
            for (b = 0; b < 15; b++) {
                for (i = 0; i < 5; i++) {
                    sample_entry(&e[i], (uint64_t) (p * 1000 + b * 5 + i),
                                 ids[i], pays[i], sizeof(pays[i]));
                }
                if (esl_append_batch(l, (p & 1) ? "odd" : "even", e, 5, s,
                                     res, NULL) != ESL_OK
                    || esl_append_batch(l, "shared", e, 5, s, res, NULL)
                       != ESL_OK)
                {
                    _exit(1);
                }
            }
            esl_close(l);
            _exit(0);
        }
    }
    for (p = 0; p < 4; p++) {
        if (waitpid(pid[p], &st, 0) != pid[p] || !WIFEXITED(st)
            || WEXITSTATUS(st) != 0)
        {
            all_ok = 0;
        }
    }
    ok(all_ok, "4 processes appended 60 batches each, concurrently");
    l = open_ledger(d, ESL_HASH_SM3, v);
    esl_shard_info_get(l, "shared", &info);
    ok(info.size == 300 && info.height == 60,
       "shared shard: 300 entries in 60 blocks (got %llu/%llu)",
       (unsigned long long) info.size, (unsigned long long) info.height);
    is_int(esl_verify(l, NULL, v, NULL, NULL, NULL), 0,
           "verify: no fork, every block links, every signature verifies");
    esl_close(l);
    rm_rf(d);
    free(d);
}

/* Set the format record of every stripe of the ledger in dir. */
static int
set_format(const char *dir, unsigned stripes, const char *fmt)
{
    char      path[4300];
    MDB_env  *env;
    MDB_txn  *txn;
    MDB_dbi   dbi;
    MDB_val   k = { 6, "format" }, d = { strlen(fmt), (void *) fmt };
    unsigned  i;
    int       rc = 0;

    for (i = 0; rc == 0 && i < stripes; i++) {
        snprintf(path, sizeof(path), "%s/stripe-%02u", dir, i);
        rc = mdb_env_create(&env);
        if (rc == 0) {
            mdb_env_set_maxdbs(env, 16);
            rc = mdb_env_open(env, path, 0, 0600);
        }
        if (rc == 0 && (rc = mdb_txn_begin(env, NULL, 0, &txn)) == 0) {
            rc = mdb_dbi_open(txn, "meta", 0, &dbi);
            if (rc == 0) {
                rc = mdb_put(txn, dbi, &k, &d, 0);
            }
            rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
        }
        mdb_env_close(env);
    }
    return rc;
}


/* A ledger of an older format (esl-3 had 44-byte leaf-index records and
 * no leaf key) is refused at open, never read or "repaired". */
static void
test_old_format(esl_signer *s)
{
    char               d[4200];
    esl_options        o;
    esl_ledger        *l = NULL;
    esl_entry          e;
    esl_append_result  r;
    char               id[65];
    unsigned char      pay[16];

    snprintf(d, sizeof(d), "%s/oldfmt", D);
    esl_options_init(&o);
    o.stripes = 2;
    o.map_size = 16 << 20;
    is_int(esl_open(d, &o, &l), ESL_OK, "format: a new ledger opens");
    sample_entry(&e, 1, id, pay, sizeof(pay));
    is_int(esl_append_batch(l, "t1", &e, 1, s, &r, NULL), ESL_OK,
           "format: one entry appended");
    esl_close(l);
    l = NULL;
    is_int(set_format(d, 2, "esl-3"), 0, "format: record set to esl-3");
    is_int(esl_open(d, &o, &l), ESL_ECORRUPT, "format: esl-3 is refused");
    ok(l == NULL, "format: no handle for an esl-3 ledger");
    is_int(set_format(d, 2, "esl-4"), 0, "format: record set back");
    is_int(esl_open(d, &o, &l), ESL_OK, "format: esl-4 opens again");
    esl_close(l);

    /* the indexes hold 48-bit positions: a shard whose record says it
     * holds 2^48 - 1 entries takes no two more */
    {
        char           path[4300];
        MDB_env       *env;
        MDB_txn       *txn;
        MDB_dbi        dbi;
        MDB_val        k = { 3, "Lt1" }, v, nv;
        unsigned char  rec[256];
        unsigned       si;
        int            rc = -1;

        for (si = 0; si < 2 && rc != 0; si++) {
            snprintf(path, sizeof(path), "%s/stripe-%02u", d, si);
            mdb_env_create(&env);
            mdb_env_set_maxdbs(env, 16);
            if (mdb_env_open(env, path, 0, 0600) == 0
                && mdb_txn_begin(env, NULL, 0, &txn) == 0)
            {
                if (mdb_dbi_open(txn, "shards", 0, &dbi) == 0
                    && mdb_get(txn, dbi, &k, &v) == 0 && v.mv_size <= 256)
                {
                    memcpy(rec, v.mv_data, v.mv_size);
                    memset(rec + 8, 0, 8);          /* size u64 */
                    rec[10] = 0xff;
                    memset(rec + 11, 0xff, 5);
                    nv.mv_size = v.mv_size;
                    nv.mv_data = rec;
                    rc = mdb_put(txn, dbi, &k, &nv, 0);
                }
                rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), -1);
            }
            mdb_env_close(env);
        }
        is_int(rc, 0, "format: shard record set to 2^48 - 1 entries");
        o.flags = ESL_OPEN_NOSELFCHECK;
        is_int(esl_open(d, &o, &l), ESL_OK, "format: reopened");
        {
            esl_entry          e2[2];
            esl_append_result  r2[2];
            char               id2[2][65];

            sample_entry(&e2[0], 2, id2[0], pay, sizeof(pay));
            sample_entry(&e2[1], 3, id2[1], pay, sizeof(pay));
            is_int(esl_append_batch(l, "t1", e2, 2, s, r2, NULL), ESL_EFULL,
                   "format: no entry index at or past 2^48");
        }
        esl_close(l);
    }
}


int
main(void)
{
    esl_signer    *s;
    esl_verifier  *v;
    size_t         i;

    for (i = 0; i < sizeof(payload); i++) {
        payload[i] = (unsigned char) i;
    }
    D = tmpdir();
    make_key(D, "site");
    s = load_signer(D, "site", "siteA");
    esl_verifier_from_signer(s, &v);
    test_tree_300(s, v);
    test_idempotency(s, v);
    test_stripes(s, v);
    test_multiprocess(s, v);
    test_old_format(s);
    esl_verifier_free(v);
    esl_signer_free(s);
    rm_rf(D);
    free(D);
    return tap_done();
}
