/*
 * test_chunk.c: entries stored in chunks (esl_chunk.c, format esl-4).
 * Two shards of one stripe append in turns, so most chunks are not the
 * last keys of the stripe (the MDB_APPEND fallback); batches of 1, 3,
 * 1024, 1025 and 2500 entries split by count, big entries split by
 * bytes.  Every entry reads back by index and through ranges that start
 * and end inside and at the edges of chunks; a retry finds its entry in
 * the middle of a chunk; verify is clean; a chunk whose header is
 * damaged is reported by the fsck and its entries read as corrupt, not
 * as other bytes.  (R-LEDG-6, R-EVID-4)
 */

#include <lmdb.h>

#include "util.h"
#include "esl_store.h"      /* the chunk limits */

#define BIGPAY  60000

static const char  *D;

typedef struct {
    uint64_t   num;          /* sample_entry number */
    size_t     paylen;
} rec_t;

static rec_t   ra[8000], rb[8000];
static size_t  na, nb;
static int     ca, cb;      /* chunks expected, by the rule below */


/* The chunks a batch of n entries of len bytes each makes: as many as
 * fit in ESL_CHUNK_BYTES with the header (4 + 4 per entry), at most
 * ESL_CHUNK_MAX, at least one entry. */
static int
chunks_of(size_t n, size_t len)
{
    size_t  per = (ESL_CHUNK_BYTES - 4) / (4 + len);

    per = per < 1 ? 1 : per > ESL_CHUNK_MAX ? ESL_CHUNK_MAX : per;
    return (int) ((n + per - 1) / per);
}


static void
encode_rec(const rec_t *r, unsigned char *out, size_t *len)
{
    static unsigned char  pay[BIGPAY];
    esl_entry             e;
    char                  id[65];

    sample_entry(&e, r->num, id, pay, r->paylen);
    esl_entry_encode(&e, out, ESL_ENTRY_MAX, len);     /* ids: 5 digits */
}


/* Append n entries numbered from num with payloads of paylen bytes. */
static int
append(esl_ledger *l, esl_signer *s, const char *shard, rec_t *log,
    size_t *nlog, uint64_t num, size_t n, size_t paylen)
{
    esl_entry          *e = calloc(n, sizeof(*e));
    esl_append_result  *r = calloc(n, sizeof(*r));
    char              (*id)[65] = calloc(n, 65);
    unsigned char      *pay = calloc(n, paylen);
    size_t              i;
    int                 rc;

    for (i = 0; i < n; i++) {
        sample_entry(&e[i], num + i, id[i], pay + i * paylen, paylen);
    }
    rc = esl_append_batch(l, shard, e, n, s, r, NULL);
    if (rc == ESL_OK) {
        size_t el = esl_entry_encoded_len(&e[0]);
        *(log == ra ? &ca : &cb) += chunks_of(n, el);
    }
    for (i = 0; rc == ESL_OK && i < n; i++) {
        if (r[i].status != ESL_APPENDED || r[i].index != *nlog) {
            rc = -1000;
        }
        log[*nlog].num = num + i;
        log[(*nlog)++].paylen = paylen;
    }
    free(e);
    free(r);
    free(id);
    free(pay);
    return rc;
}


static int
get_all(esl_ledger *l, const char *shard, const rec_t *log, size_t n)
{
    static unsigned char  want[ESL_ENTRY_MAX];
    esl_buf               b = { NULL, 0 };
    size_t                i, wl;
    int                   bad = 0;

    for (i = 0; i < n; i++) {
        encode_rec(&log[i], want, &wl);
        if (esl_entry_get(l, shard, i, &b) != ESL_OK || b.len != wl
            || memcmp(b.data, want, wl) != 0)
        {
            bad++;
        }
        esl_buf_free(&b);
    }
    return bad;
}


typedef struct {
    const rec_t  *log;
    uint64_t      next;
    int           bad;
} range_acc;

static int
range_fn(void *arg, uint64_t index, const unsigned char *bytes, size_t len)
{
    static unsigned char  want[ESL_ENTRY_MAX];
    range_acc            *a = arg;
    size_t                wl;

    encode_rec(&a->log[index], want, &wl);
    if (index != a->next || len != wl || memcmp(bytes, want, wl) != 0) {
        a->bad++;
    }
    a->next++;
    return 0;
}


static int
range_check(esl_ledger *l, const char *shard, const rec_t *log,
    uint64_t from, uint64_t to)
{
    range_acc  a = { log, from, 0 };

    if (esl_entry_range(l, shard, from, to, range_fn, &a) != ESL_OK) {
        return 1;
    }
    return a.bad != 0 || a.next != to;
}


/* Chunks (records of the entries DB) of shard sid. */
static int
count_chunks(const char *dir, uint32_t sid)
{
    char         path[4300];
    MDB_env     *env;
    MDB_txn     *txn;
    MDB_cursor  *cur;
    MDB_dbi      dbi;
    MDB_val      key, v;
    int          n = 0;

    snprintf(path, sizeof(path), "%s/stripe-00", dir);
    if (mdb_env_create(&env) != 0) {
        return -1;
    }
    mdb_env_set_maxdbs(env, 16);
    if (mdb_env_open(env, path, MDB_RDONLY, 0600) != 0
        || mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
    {
        mdb_env_close(env);
        return -1;
    }
    if (mdb_dbi_open(txn, "entries", 0, &dbi) == 0
        && mdb_cursor_open(txn, dbi, &cur) == 0)
    {
        while (mdb_cursor_get(cur, &key, &v, MDB_NEXT) == 0) {
            unsigned char *p = key.mv_data;
            n += ((uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3])
                 == sid;
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return n;
}


/* Add one to the entry count of shard sid's chunk number k (0-based). */
static int
damage_chunk(const char *dir, uint32_t sid, int k)
{
    char           path[4300];
    MDB_env       *env;
    MDB_txn       *txn;
    MDB_cursor    *cur;
    MDB_dbi        dbi;
    MDB_val        key, v, nv;
    unsigned char  kb[12], *copy = NULL;
    int            rc, seen = 0;

    snprintf(path, sizeof(path), "%s/stripe-00", dir);
    if ((rc = mdb_env_create(&env)) != 0) {
        return rc;
    }
    mdb_env_set_maxdbs(env, 16);
    mdb_env_set_mapsize(env, 256 << 20);
    if ((rc = mdb_env_open(env, path, 0, 0600)) != 0
        || (rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
    {
        mdb_env_close(env);
        return rc;
    }
    rc = mdb_dbi_open(txn, "entries", 0, &dbi);
    if (rc == 0) {
        rc = mdb_cursor_open(txn, dbi, &cur);
    }
    while (rc == 0 && (rc = mdb_cursor_get(cur, &key, &v, MDB_NEXT)) == 0) {
        unsigned char *p = key.mv_data;
        if (((uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]) == sid
            && seen++ == k)
        {
            memcpy(kb, key.mv_data, 12);
            copy = malloc(v.mv_size);
            memcpy(copy, v.mv_data, v.mv_size);
            copy[3]++;
            nv.mv_size = v.mv_size;
            nv.mv_data = copy;
            break;
        }
    }
    if (rc == 0) {
        mdb_cursor_close(cur);
        key.mv_size = 12;
        key.mv_data = kb;
        rc = mdb_put(txn, dbi, &key, &nv, 0);
    }
    rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
    mdb_env_close(env);
    free(copy);
    return rc;
}


int
main(void)
{
    char                dir[4200], *tmp = tmpdir();
    esl_signer         *s;
    esl_ledger         *l;
    esl_options         o;
    esl_entry           e;
    esl_append_result   r;
    char                id[65];
    unsigned char       pay[40];
    esl_buf             b = { NULL, 0 };
    uint64_t            num = 10000, from[] = { 0, 1, 3, 4, 747, 748, 1028,
                                            1029, 1773, 3260, 3261, 3528,
                                            3529, 4553, 6528 };
    size_t              i, j;
    int                 bad;

    D = tmp;
    make_key(D, "k");
    s = load_signer(D, "k", "siteA");
    snprintf(dir, sizeof(dir), "%s/l", D);
    esl_options_init(&o);
    o.stripes = 1;              /* a and b share the entries DB */
    o.map_size = 256 << 20;
    if (esl_open(dir, &o, &l) != ESL_OK) {
        printf("Bail out! esl_open\n");
        return 1;
    }

    is_int(append(l, s, "a", ra, &na, num, 1, 40), ESL_OK, "a: 1");
    num += 1;
    is_int(append(l, s, "b", rb, &nb, num, 3, 40), ESL_OK, "b: 3");
    num += 3;
    is_int(append(l, s, "a", ra, &na, num, 3, 40), ESL_OK, "a: 3");
    num += 3;
    is_int(append(l, s, "b", rb, &nb, num, 1024, 40), ESL_OK, "b: 1024");
    num += 1024;
    is_int(append(l, s, "a", ra, &na, num, 1025, 40), ESL_OK, "a: 1025");
    num += 1025;
    is_int(append(l, s, "b", rb, &nb, num, 40, BIGPAY), ESL_OK,
           "b: 40 entries of 60 kB (a chunk each)");
    num += 40;
    is_int(append(l, s, "a", ra, &na, num, 2500, 40), ESL_OK, "a: 2500");
    is_int(append(l, s, "a", ra, &na, num + 2500, 3000, 1), ESL_OK,
           "a: 3000 small entries (chunks split by count)");
    num += 2500 + 3000;
    is_int(append(l, s, "b", rb, &nb, num, 7, 40), ESL_OK, "b: 7");
    num += 7;

    is_int(get_all(l, "a", ra, na), 0, "a: every entry reads back by index");
    is_int(get_all(l, "b", rb, nb), 0, "b: every entry reads back by index");
    is_int(esl_entry_get(l, "a", na, &b), ESL_ENOTFOUND,
           "a: one past the end is not found");

    bad = 0;
    for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
        for (j = i; j < sizeof(from) / sizeof(from[0]); j++) {
            bad += range_check(l, "a", ra, from[i], from[j] + 1);
        }
        bad += range_check(l, "a", ra, from[i], na);
    }
    is_int(bad, 0, "a: ranges starting and ending inside and at the edges "
           "of chunks");
    bad = range_check(l, "b", rb, 0, nb) + range_check(l, "b", rb, 1, 1030)
          + range_check(l, "b", rb, 1027, 1067)
          + range_check(l, "b", rb, 1040, nb);
    is_int(bad, 0, "b: ranges across the big entries' chunks");

    /* chunks of a (84-byte entries, 744 a chunk): [0], [1, 3], [4, 747],
     * [748, 1028], [1029, 1772] ... [3261, 3528], then 45-byte entries
     * 1024 a chunk from 3529 */

    /* a retry of a's entry 1500, inside a chunk (1029..1772): the
     * original index, nothing appended */
    sample_entry(&e, ra[1500].num, id, pay, 40);
    is_int(esl_append_batch(l, "a", &e, 1, s, &r, NULL), ESL_OK,
           "retry of a[1500]");
    ok(r.status == ESL_DUPLICATE && r.index == 1500,
       "the retry is a duplicate at 1500");
    is_int(esl_verify(l, NULL, NULL, NULL, NULL, NULL), 0, "verify clean");
    esl_close(l);

    /* a is sid 1, b sid 2 */
    ok(chunks_of(3000, 36) == 3 && chunks_of(1024, 88) == 2
       && chunks_of(40, BIGPAY + 94) == 40, "the rule splits by count, by "
       "bytes, and keeps a big entry alone");
    is_int(count_chunks(dir, 1), ca, "a: %d chunks, as the rule says", ca);
    is_int(count_chunks(dir, 2), cb, "b: %d chunks, as the rule says", cb);

    /* damage the count of a's second chunk */
    is_int(damage_chunk(dir, 1, 1), 0, "a's second chunk damaged");
    o.flags = ESL_OPEN_NOSELFCHECK;
    if (esl_open(dir, &o, &l) != ESL_OK) {
        printf("Bail out! esl_open\n");
        return 1;
    }
    ok(esl_verify(l, NULL, NULL, NULL, NULL, NULL) > 0,
       "fsck reports the damaged chunk");
    is_int(esl_entry_get(l, "a", 2, &b), ESL_ECORRUPT,
           "an entry of the damaged chunk reads as corrupt");
    is_int(esl_entry_get(l, "a", 0, &b), ESL_OK,
           "an entry of another chunk still reads");
    esl_buf_free(&b);
    esl_close(l);

    esl_signer_free(s);
    rm_rf(D);
    free(tmp);
    return tap_done();
}
