/*
 * esl_lidx.c: the leaf-hash index as sorted runs (format esl-2, merge
 * policy of esl-3, records of esl-4), and the run code both indexes
 * share.
 *
 * The index maps a leaf (transaction) hash to the shard and index of the
 * entry.  Format esl-1 kept it as a B-tree keyed by the hash: random
 * 32-byte keys, so each batch of 1024 puts dirtied most of the tree's
 * pages (2.6 MB copied and written per commit at 61k entries, about one
 * 4 KiB page per entry at larger sizes).
 *
 * Here each append adds one run: a single LMDB value holding the batch's
 * records sorted.  Since esl-4 a record is h 48 bits || sid u32 || index
 * 48 bits (16 bytes, esl__xrec; the whole 32-byte hash made 44), h the
 * top 48 bits of SipHash-2-4 of the leaf hash under the stripe's key
 * lkey.  h is only a filter: a candidate
 * counts only if row 0 of its shard's level-0 tile holds exactly the leaf
 * hash at its index, so a colliding or tampered record costs one tile
 * read and never names a wrong place.
 *
 * The stripe-wide `lruns` DB maps a run id (u64, big-endian, growing with
 * age) to a run.  Runs merge tiered (esl__runs_add): when the newest F-1
 * stored runs are of the new run's size class (log_F of the record
 * count) or smaller, the F are merged (older records first among equal
 * keys) and replace them, so a stripe has about (F-1) log_F n runs and
 * every record is rewritten about log_F n times, each time as part of one
 * sequential value.  F is 8 here, 4 for the idempotency index, which is
 * searched on every append.  Runs stop merging at RUN_CAP records to
 * bound the work of a single commit.  The same run code serves the
 * idempotency index (esl_idem.c).
 *
 * A lookup bisects every run of every stripe, oldest first, so the first
 * writer of a hash still wins (the same bytes can be logged in two
 * shards; either location proves the same transaction hash).
 *
 * esl_verify checks a shard against the index as a multiset: the keyed
 * sum (SipHash-2-4 with a random key per check) of the shard's records
 * in every run must equal the sum over its entries of (h(leaf), sid, i),
 * and the counts must match; every run must be a whole number of
 * records, sorted by h.
 */

#include <stdlib.h>
#include <openssl/rand.h>

#include "esl_store.h"

#define REC          ESL_LREC
#define RUN_CAP      ((size_t) 1 << 20)
#define RUNS_MAX     64         /* stored runs one add may absorb */
#define LIDX_FANOUT  8


/* ------------------------------------------------------------------ */
/* sorted runs, shared by the leaf-hash and the idempotency index      */
/* ------------------------------------------------------------------ */

/* The first 8 bytes of a record, as a number: the keys are hashes, so
 * this decides almost every comparison without a memcmp. */
static inline uint64_t
pfx(const unsigned char *p)
{
    return esl__get64(p);
}


/* The key (the first `key` <= 8 bytes) of record a sorts before b's. */
static inline int
key_lt(const unsigned char *a, const unsigned char *b, size_t key)
{
    unsigned  sh = 64 - 8 * (unsigned) key;

    return pfx(a) >> sh < pfx(b) >> sh;
}


/*
 * Sort n records of `rec` bytes in place: an LSD radix sort of
 * (prefix, position) pairs on the (at most four) most significant bytes
 * of the 8-byte prefix that differ between records, then an insertion
 * pass that orders records sharing those bytes by their whole bytes.  The
 * prefixes are keyed hashes, so with n records about n^2 / 2^33 pairs
 * share four bytes and the fix-up is nearly free; with fewer distinct
 * bytes (a test hook's 4-bit h) fewer passes are needed.
 */
int
esl__runs_sort(unsigned char *recs, size_t n, size_t rec)
{
    typedef struct { uint64_t k; size_t i; } kv;
    kv             *a, *b, *t;
    unsigned char  *out, tmp[64];
    uint64_t        all = 0, any = 0, hi;
    size_t          i, j, cnt[256], sum;
    unsigned        d, pass, npass, byte, sh[4];

    if (n < 2) {
        return ESL_OK;
    }
    a = malloc(n * (2 * sizeof(*a) + rec));
    if (a == NULL) {
        return ESL_ENOMEM;
    }
    b = a + n;
    out = (unsigned char *) (b + n);
    all = ~all;
    for (i = 0; i < n; i++) {
        a[i].k = pfx(recs + i * rec);
        a[i].i = i;
        all &= a[i].k;
        any |= a[i].k;
    }
    /* the four most significant bytes that vary, least significant
     * first (LSD order) */
    npass = 0;
    for (d = 8; d-- > 0 && npass < 4; ) {
        if (((all ^ any) >> (8 * d)) & 0xff) {
            sh[npass++] = 8 * d;
        }
    }
    for (pass = npass; pass-- > 0; ) {
        memset(cnt, 0, sizeof(cnt));
        for (i = 0; i < n; i++) {
            cnt[(a[i].k >> sh[pass]) & 0xff]++;
        }
        for (sum = 0, byte = 0; byte < 256; byte++) {
            size_t c = cnt[byte];
            cnt[byte] = sum;
            sum += c;
        }
        for (i = 0; i < n; i++) {
            b[cnt[(a[i].k >> sh[pass]) & 0xff]++] = a[i];
        }
        t = a;
        a = b;
        b = t;
    }
    /* the sorted bytes: everything from the least significant sorted
     * byte up */
    hi = npass ? ~0ULL << sh[npass - 1] : 0;
    for (i = 0; i < n; i++) {
        memcpy(out + i * rec, recs + a[i].i * rec, rec);
    }
    /* records equal in the sorted bytes: insertion sort by the whole
     * record (big-endian, so memcmp order is numeric order) */
    for (i = 1; i < n; i++) {
        for (j = i; j > 0 && ((a[j].k ^ a[j - 1].k) & hi) == 0
             && memcmp(out + (j - 1) * rec, out + j * rec, rec) > 0; j--)
        {
            kv  x = a[j];

            a[j] = a[j - 1];
            a[j - 1] = x;
            memcpy(tmp, out + j * rec, rec);
            memcpy(out + j * rec, out + (j - 1) * rec, rec);
            memcpy(out + (j - 1) * rec, tmp, rec);
        }
    }
    memcpy(recs, out, n * rec);
    free(a < b ? a : b);
    return ESL_OK;
}


/*
 * Merge k sorted runs, oldest first in src[], into out; among equal keys
 * (the first `key` bytes) the older run's record comes first, so the
 * first writer of a key stays first.  k is small (the fan-out, more in a
 * cascade, which is rare): each step picks the smallest head prefix,
 * kept as a number, by a linear scan.  Inlined with a constant record
 * size for the indexes' 20-byte records.
 */
static inline __attribute__((always_inline)) void
merge_k(const unsigned char **src, const size_t *cnt, unsigned k,
    unsigned char *out, size_t rec, size_t key)
{
    const unsigned char  *p[RUNS_MAX + 1], *e[RUNS_MAX + 1];
    uint64_t              hk[RUNS_MAX + 1];
    unsigned              i, m = 0, best, sh = 64 - 8 * (unsigned) key;

    for (i = 0; i < k; i++) {
        if (cnt[i] > 0) {
            p[m] = src[i];
            e[m] = src[i] + cnt[i] * rec;
            hk[m++] = pfx(src[i]) >> sh;
        }
    }
    while (m > 1) {
        best = 0;
        for (i = 1; i < m; i++) {
            if (hk[i] < hk[best]) {
                best = i;       /* strict: ties keep the older run */
            }
        }
        memcpy(out, p[best], rec);
        out += rec;
        p[best] += rec;
        if (p[best] < e[best]) {
            hk[best] = pfx(p[best]) >> sh;
            continue;
        }
        for (i = best; i + 1 < m; i++) {    /* keep the age order */
            p[i] = p[i + 1];
            e[i] = e[i + 1];
            hk[i] = hk[i + 1];
        }
        m--;
    }
    if (m == 1) {
        memcpy(out, p[0], (size_t) (e[0] - p[0]));
    }
}


static void
merge(const unsigned char **src, const size_t *cnt, unsigned k,
    unsigned char *out, size_t rec, size_t key)
{
    if (rec == ESL_XREC && key == ESL_XKEY) {
        merge_k(src, cnt, k, out, ESL_XREC, ESL_XKEY);
    } else {
        merge_k(src, cnt, k, out, rec, key);
    }
}


/* Size class of a run of c records: floor(log_fan(c)). */
static unsigned
size_class(size_t c, unsigned fan)
{
    unsigned  r = 0;

    while (c >= fan) {
        c /= fan;
        r++;
    }
    return r;
}


/*
 * Add one sorted run of n records (the caller's buffer) to the runs in
 * dbi.  Tiered merging with fan-out F: when the newest F-1 stored runs
 * are of the new run's size class or smaller, the F runs are merged into
 * one (which may cascade); runs of a smaller class than the new one are
 * absorbed too.  Each record is rewritten about log_F(n) times, a stripe
 * holds about (F-1) log_F(n) runs.
 *
 * The merge is planned first (which stored runs, cascades included), then
 * the result is reserved under the next run id and merged straight into
 * the map's page: no intermediate buffers, one pass over the records.
 * The absorbed runs are deleted after the merge has read them.
 */
int
esl__runs_add(MDB_txn *txn, MDB_dbi dbi, size_t rec, size_t key,
    unsigned fan, const unsigned char *run, size_t n)
{
    MDB_cursor           *cur = NULL;
    unsigned char         kb[8];
    const unsigned char  *src[RUNS_MAX + 1];
    size_t                sz[RUNS_MAX + 1], cnt[RUNS_MAX], total = n, t;
    uint64_t              id[RUNS_MAX];
    MDB_val               k, v;
    unsigned              nr = 0, used = 0, j, i, c;
    int                   rc = 0, eof = 0;

    if (n == 0) {
        return ESL_OK;
    }
    if (fan < 2 || fan > 16 || key == 0 || key > 8 || rec < 8) {
        return ESL_EINVAL;
    }
    if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
        return esl__mdb_err(rc);
    }
    /* plan: id[] and cnt[] are the stored runs, newest first, read as
     * far back as the merges reach; the newest `used` are absorbed */
    for (;;) {
        c = size_class(total, fan);
        t = total;
        for (j = 0; j < fan - 1; j++) {
            if (used + j == nr) {
                if (eof || nr == RUNS_MAX) {
                    break;
                }
                rc = mdb_cursor_get(cur, &k, &v, nr ? MDB_PREV : MDB_LAST);
                if (rc == MDB_NOTFOUND) {
                    rc = 0;
                    eof = 1;
                    break;
                }
                if (rc != 0) {
                    goto done;
                }
                if (k.mv_size != 8 || v.mv_size == 0
                    || v.mv_size % rec != 0)
                {
                    rc = MDB_CORRUPTED;
                    goto done;
                }
                id[nr] = esl__get64(k.mv_data);
                cnt[nr++] = v.mv_size / rec;
            }
            if (size_class(cnt[used + j], fan) > c
                || t + cnt[used + j] > RUN_CAP)
            {
                break;
            }
            t += cnt[used + j];
        }
        if (j == 0 || (j < fan - 1 && size_class(cnt[used], fan) == c)) {
            break;      /* nothing to absorb, or siblings still missing */
        }
        used += j;
        total = t;
    }

    esl__put64(kb, nr ? id[0] + 1 : 1);
    k.mv_size = 8;
    k.mv_data = kb;
    v.mv_size = total * rec;
    rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND | MDB_RESERVE);
    if (rc != 0) {
        goto done;
    }
    if (used == 0) {
        memcpy(v.mv_data, run, n * rec);
        goto done;
    }
    /* The sources, oldest first.  No write happens between the reserve
     * and the end of the merge, so every pointer stays valid, and the
     * reserved value cannot overlap a run that is still stored. */
    for (i = 0; i < used; i++) {
        MDB_val  sk, sv;

        esl__put64(kb, id[used - 1 - i]);
        sk.mv_size = 8;
        sk.mv_data = kb;
        if ((rc = mdb_get(txn, dbi, &sk, &sv)) != 0) {
            goto done;
        }
        if (sv.mv_size != cnt[used - 1 - i] * rec) {
            rc = MDB_CORRUPTED;
            goto done;
        }
        src[i] = sv.mv_data;
        sz[i] = cnt[used - 1 - i];
    }
    src[used] = run;
    sz[used] = n;
    merge(src, sz, used + 1, v.mv_data, rec, key);
    for (i = 0; i < used; i++) {
        MDB_val  sk = { 8, kb };

        esl__put64(kb, id[i]);
        if ((rc = mdb_del(txn, dbi, &sk, NULL)) != 0) {
            goto done;
        }
    }

done:
    mdb_cursor_close(cur);
    return rc == 0 ? ESL_OK : rc == MDB_KEYEXIST || rc == MDB_CORRUPTED
                              ? ESL_ECORRUPT : esl__mdb_err(rc);
}


/* Tests narrow this to force collisions (the exact leaf check must still
 * give the right answers); always all ones otherwise. */
uint64_t  esl__lidx_mask = ~0ULL;


uint64_t
esl__lidx_hash(const esl__stripe *st, const unsigned char h[ESL_H])
{
    return (esl__siphash(st->lkey, h, ESL_H) >> 16) & esl__lidx_mask;
}


void
esl__lidx_rec(unsigned char rec[ESL_LREC], uint64_t h, uint32_t sid,
    uint64_t idx)
{
    esl__xrec(rec, h, sid, idx);
}


int
esl__lidx_add(MDB_txn *txn, esl__stripe *st, uint32_t sid, uint64_t first,
    const unsigned char (*leaves)[ESL_H], size_t n)
{
    unsigned char  *run;
    size_t          i;
    int             rc;

    if (n == 0) {
        return ESL_OK;
    }
    run = malloc(n * REC);
    if (run == NULL) {
        return ESL_ENOMEM;
    }
    for (i = 0; i < n; i++) {
        esl__lidx_rec(run + i * REC, esl__lidx_hash(st, leaves[i]), sid,
                      first + i);
    }
    rc = esl__runs_sort(run, n, REC);
    if (rc == ESL_OK) {
        rc = esl__runs_add(txn, st->lruns, REC, ESL_XKEY, LIDX_FANOUT, run,
                           n);
    }
    free(run);
    return rc;
}


/*
 * The first location of a leaf hash: every run, oldest first, each
 * bisected to its records with the leaf's keyed h.  h is only a filter:
 * a candidate (sid, index) counts only if row 0 of the shard's level-0
 * tile holds exactly this leaf hash there.  Within a run the candidates
 * come in (sid, index) order, and older runs' records come first, so the
 * first writer of a hash is found first, as with whole hashes.
 */
int
esl__lidx_find(MDB_txn *txn, esl__stripe *st, const unsigned char h[ESL_H],
    uint32_t *sid, uint64_t *idx)
{
    MDB_cursor           *cur;
    MDB_val               k, v;
    esl__tctx             t;
    const unsigned char  *p;
    unsigned char         leaf[ESL_H];
    uint64_t              hv = esl__lidx_hash(st, h);
    size_t                lo, hi, mid, m;
    int                   rc, op = MDB_FIRST;

    if ((rc = mdb_cursor_open(txn, st->lruns, &cur)) != 0) {
        return esl__mdb_err(rc);
    }
    t.txn = txn;
    t.st = st;
    t.h = NULL;                 /* row 0 only */
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        op = MDB_NEXT;
        if (v.mv_size % REC != 0) {
            rc = MDB_CORRUPTED;
            break;
        }
        p = v.mv_data;
        m = v.mv_size / REC;
        lo = 0;
        hi = m;
        while (lo < hi) {               /* first record with h >= hv */
            mid = lo + (hi - lo) / 2;
            if (esl__xrec_h(p + mid * REC) < hv) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        for (; lo < m && esl__xrec_h(p + lo * REC) == hv; lo++) {
            t.sid = esl__xrec_sid(p + lo * REC);
            rc = esl__tile_node(&t, 0, esl__xrec_idx(p + lo * REC), leaf);
            if (rc != ESL_OK) {
                /* the index names a leaf the tree does not have */
                mdb_cursor_close(cur);
                return rc == ESL_EINVAL ? ESL_ECORRUPT : rc;
            }
            if (memcmp(leaf, h, ESL_H) == 0) {
                *sid = t.sid;
                *idx = esl__xrec_idx(p + lo * REC);
                mdb_cursor_close(cur);
                return ESL_OK;
            }
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? ESL_ENOTFOUND
           : rc == MDB_CORRUPTED ? ESL_ECORRUPT : esl__mdb_err(rc);
}


/* ------------------------------------------------------------------ */
/* multiset fingerprints for esl_verify                                */
/* ------------------------------------------------------------------ */

#define ROTL(x, b)  (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                         \
    do {                                                                 \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);        \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                           \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                           \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);        \
    } while (0)

static uint64_t
le64(const unsigned char *p)
{
    uint64_t  v;

    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}


/* SipHash-2-4 (Aumasson, Bernstein). */
uint64_t
esl__siphash(const uint64_t key[2], const void *data, size_t len)
{
    const unsigned char  *p = data;
    uint64_t  v0 = 0x736f6d6570736575ULL ^ key[0];
    uint64_t  v1 = 0x646f72616e646f6dULL ^ key[1];
    uint64_t  v2 = 0x6c7967656e657261ULL ^ key[0];
    uint64_t  v3 = 0x7465646279746573ULL ^ key[1];
    uint64_t  m, b = (uint64_t) len << 56;
    size_t    i, left = len & 7;

    for (i = 0; i + 8 <= len; i += 8) {
        m = le64(p + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    while (left--) {
        b |= (uint64_t) p[i + left] << (8 * left);
    }
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}


int
esl__fp_key(uint64_t key[2])
{
    return RAND_bytes((unsigned char *) key, 16) == 1 ? ESL_OK
                                                       : ESL_ECRYPTO;
}


int
esl__runs_fp(MDB_txn *txn, MDB_dbi dbi, size_t rec, size_t key_len,
    size_t sidoff, uint32_t sid, const uint64_t key[2], esl__fp *fp, uint64_t *badrun)
{
    MDB_cursor           *cur;
    MDB_val               k, v;
    const unsigned char  *p;
    size_t                i, n;
    int                   rc, op = MDB_FIRST;
    unsigned char         sb[4];

    esl__put32(sb, sid);
    memset(fp, 0, sizeof(*fp));
    *badrun = 0;
    if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
        return esl__mdb_err(rc);
    }
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        op = MDB_NEXT;
        p = v.mv_data;
        if (k.mv_size != 8 || v.mv_size == 0 || v.mv_size % rec != 0) {
            if (*badrun == 0) {
                *badrun = k.mv_size == 8 ? esl__get64(k.mv_data) : ~0ULL;
            }
            continue;
        }
        n = v.mv_size / rec;
        for (i = 0; i < n; i++, p += rec) {
            if (i > 0 && key_lt(p, p - rec, key_len) && *badrun == 0) {
                *badrun = esl__get64(k.mv_data);
            }
            if (memcmp(p + sidoff, sb, 4) == 0) {
                fp->sum += esl__siphash(key, p, rec);
                fp->n++;
            }
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? ESL_OK : esl__mdb_err(rc);
}


int
esl__lidx_fp(MDB_txn *txn, esl__stripe *st, uint32_t sid,
    const uint64_t key[2], esl__fp *fp, uint64_t *badrun)
{
    return esl__runs_fp(txn, st->lruns, REC, ESL_XKEY, ESL_XKEY, sid, key, fp,
                        badrun);
}
