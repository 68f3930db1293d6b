/*
 * cli/bench.c: `esign-ledger bench [dir]`: the figures DESIGN.md quotes,
 * all measured in one run on the same machine and the same directory.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <lmdb.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "cli.h"
#include "esl_int.h"

#define PAYLOAD   200        /* a typical evidence TLV */

static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


/* Entry ids: near-sequential ("bench-<n>"), or shaped like the module's
 * ("<26-char random base32 contract id>/<serial>", ngx_esign_evidence.c),
 * random across contracts. */
static int  random_ids;

static void
mk_id(uint64_t i, char *id)
{
    static const char  b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    unsigned char      r[26];
    int                j;

    if (!random_ids) {
        snprintf(id, 65, "bench-%llu", (unsigned long long) i);
        return;
    }
    RAND_bytes(r, sizeof(r));
    for (j = 0; j < 26; j++) {
        id[j] = b32[r[j] & 31];
    }
    snprintf(id + 26, 65 - 26, "/%u", (unsigned) (r[0] >> 5) + 1);
}


static void
mk_entry(uint64_t i, esl_entry *e, char *id, unsigned char *pay)
{
    size_t  j;

    mk_id(i, id);
    for (j = 0; j < PAYLOAD; j++) {
        pay[j] = (unsigned char) (i + j);
    }
    e->kind = ESL_KIND_PROCESS_EVIDENCE;
    e->time_ms = 1763900000000ULL + i;
    e->entry_id = (unsigned char *) id;
    e->entry_id_len = strlen(id);
    e->tenant = "91350100M000100Y43";
    e->payload = pay;
    e->payload_len = PAYLOAD;
}


/* Raw LMDB: the same record size, same key shape, durable commits of
 * `batch` puts: the ceiling for the ledger's storage path.  *next is the
 * first key serial (a later round continues the same database). */
static double
raw_lmdb_from(const char *dir, size_t reclen, int batch, int nbatches,
    uint64_t *next)
{
    MDB_env        *env;
    MDB_txn        *txn;
    MDB_dbi         dbi;
    unsigned char   key[12], *val = calloc(1, reclen);
    MDB_val         k = { 12, key }, v = { reclen, val };
    uint64_t        i = *next, first = *next;
    double          t0;
    int             b, j, rc = 0;

    mkdir(dir, 0700);
    mdb_env_create(&env);
    mdb_env_set_mapsize(env, (size_t) 4 << 30);
    mdb_env_open(env, dir, MDB_NOTLS, 0600);
    mdb_txn_begin(env, NULL, 0, &txn);
    mdb_dbi_open(txn, NULL, 0, &dbi);
    mdb_txn_commit(txn);
    t0 = now();
    for (b = 0; b < nbatches && rc == 0; b++) {
        rc = mdb_txn_begin(env, NULL, 0, &txn);
        for (j = 0; j < batch && rc == 0; j++, i++) {
            esl__put32(key, 1);
            esl__put64(key + 4, i);
            val[0] = (unsigned char) i;
            rc = mdb_put(txn, dbi, &k, &v, 0);
        }
        rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
    }
    t0 = now() - t0;
    mdb_env_close(env);
    free(val);
    *next = i;
    if (rc != 0) {
        /* a failed put must not pass for a fast one */
        fprintf(stderr, "bench: raw LMDB: %s\n", mdb_strerror(rc));
        return 0;
    }
    return (double) (i - first) / t0;
}


static double
raw_lmdb(const char *dir, size_t reclen, int batch, int nbatches)
{
    uint64_t  next = 0;

    return raw_lmdb_from(dir, reclen, batch, nbatches, &next);
}


static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}


static esl_signer *
bench_key(const char *dir)
{
    char         path[4200];
    EVP_PKEY    *k = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
    FILE        *f;
    esl_signer  *s = NULL;

    snprintf(path, sizeof(path), "%s/bench-key.pem", dir);
    f = fopen(path, "w");
    if (k == NULL || f == NULL) {
        return NULL;
    }
    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    EVP_PKEY_free(k);
    esl_signer_load_pem(path, "bench", &s);
    return s;
}


static double
ledger_appends(esl_ledger *l, esl_signer *s, const char *shard, int batch,
    int nbatches, uint64_t *seq)
{
    esl_entry          *e = calloc((size_t) batch, sizeof(*e));
    esl_append_result  *r = calloc((size_t) batch, sizeof(*r));
    char              (*ids)[65] = calloc((size_t) batch, 65);
    unsigned char     (*pay)[PAYLOAD] = calloc((size_t) batch, PAYLOAD);
    double              t0, t = 0;
    int                 b, j, rc = ESL_OK;

    /* Only esl_append_batch is timed: making up the caller's entries
     * (snprintf and friends) is not ledger work; the raw LMDB loop times
     * only its puts and commits too. */
    for (b = 0; b < nbatches && rc == ESL_OK; b++) {
        for (j = 0; j < batch; j++) {
            mk_entry((*seq)++, &e[j], ids[j], pay[j]);
        }
        t0 = now();
        rc = esl_append_batch(l, shard, e, (size_t) batch, s, r, NULL);
        t += now() - t0;
    }
    t0 = t;
    free(e);
    free(r);
    free(ids);
    free(pay);
    if (rc != ESL_OK) {
        fprintf(stderr, "bench: append: %s\n", esl_strerror(rc));
        return 0;
    }
    return (double) batch * nbatches / t0;
}


int
cmd_bench(int argc, char **argv)
{
    char               dir[4096], sub[4200];
    esl_options        o;
    esl_ledger        *l;
    esl_signer        *s;
    esl_verifier      *v;
    esl_hasher        *h;
    esl_verify_stats   st;
    esl_entry          e;
    char               id[65];
    unsigned char      pay[PAYLOAD], enc[1024], leaf[ESL_HASH_LEN];
    unsigned char      proof[ESL_MAX_PROOF][ESL_HASH_LEN], root[ESL_HASH_LEN];
    size_t             elen, np;
    uint64_t           seq = 0, size, i, n;
    double             t0, raw, a1, a64, a1024, gen, ver, fsck, sm3, sm3n;
    double             sign, sm3mb, sm3one, a1024r;

    snprintf(dir, sizeof(dir), "%s", argc > 1 ? argv[1] : "/tmp");
    mk_entry(0, &e, id, pay);
    esl_entry_encode(&e, enc, sizeof(enc), &elen);
    printf("esign-ledger bench: entry %zu bytes (payload %d), dir %s\n",
           elen, PAYLOAD, dir);

    snprintf(sub, sizeof(sub), "%s/raw", dir);
    raw = raw_lmdb(sub, elen, 1024, 60);
    printf("raw LMDB durable puts, batch 1024 : %10.0f records/s\n", raw);

    if ((s = bench_key(dir)) == NULL) {
        fprintf(stderr, "bench: cannot make an SM2 key\n");
        return 1;
    }
    esl_verifier_from_signer(s, &v);
    esl_options_init(&o);
    o.map_size = (size_t) 4 << 30;
    snprintf(sub, sizeof(sub), "%s/ledger", dir);
    if (esl_open(sub, &o, &l) != ESL_OK) {
        fprintf(stderr, "bench: cannot open %s\n", sub);
        return 1;
    }
    a1 = ledger_appends(l, s, "b1", 1, 300, &seq);
    printf("ledger durable appends, batch 1    : %10.0f entries/s\n", a1);
    a64 = ledger_appends(l, s, "b64", 64, 100, &seq);
    printf("ledger durable appends, batch 64   : %10.0f entries/s\n", a64);
    a1024 = ledger_appends(l, s, "b1024", 1024, 60, &seq);
    printf("ledger durable appends, batch 1024 : %10.0f entries/s  "
           "(%.0f%% of raw LMDB; target >= 50%%)\n", a1024,
           100.0 * a1024 / raw);


    /* proofs over the 61,440-entry shard */
    esl_hasher_new(ESL_HASH_SM3, &h);
    size = 1024 * 60;
    esl_root(l, "b1024", size, root);
    n = 20000;
    t0 = now();
    for (i = 0; i < n; i++) {
        esl_inclusion_proof(l, "b1024", (i * 7919) % size, size, proof, &np);
    }
    gen = (double) n / (now() - t0);
    printf("inclusion proof generation         : %10.0f proofs/s "
           "(size %llu, %zu hashes)\n", gen, (unsigned long long) size, np);
    {
        esl_buf eb;
        uint64_t idx = 12345;
        esl_entry_get(l, "b1024", idx, &eb);
        esl_leaf_hash(h, eb.data, eb.len, leaf);
        esl_buf_free(&eb);
        esl_inclusion_proof(l, "b1024", idx, size, proof, &np);
        n = 200000;
        t0 = now();
        for (i = 0; i < n; i++) {
            if (esl_verify_inclusion(h, leaf, idx, size,
                    (const unsigned char (*)[ESL_HASH_LEN]) proof, np, root)
                != ESL_OK)
            {
                fprintf(stderr, "bench: proof does not verify!\n");
                return 1;
            }
        }
        ver = (double) n / (now() - t0);
        printf("inclusion proof verification (SM3) : %10.0f proofs/s "
               "(target > 100k/s)\n", ver);
    }

    /* raw SM3 over the same records, and the full fsck of the shard */
    n = 200000;
    t0 = now();
    for (i = 0; i < n; i++) {
        enc[20] = (unsigned char) i;
        esl_leaf_hash(h, enc, elen, leaf);
    }
    t0 = now() - t0;
    sm3n = (double) n / t0;
    printf("SM3 leaf hash, libesl (esl_sm3.c)  : %10.1f MB/s\n",
           (double) n * (double) elen / t0 / 1e6);
    {
        /* The same 0x00 || entry through OpenSSL's one-shot EVP_Digest:
         * the baseline is whichever SM3 is faster here, so a fast
         * ledger hash cannot make its own baseline look slow. */
        EVP_MD        *md = EVP_MD_fetch(NULL, "SM3", NULL);
        unsigned char  pre[1025];
        unsigned int   ol;
        double         t1;

        pre[0] = 0x00;
        memcpy(pre + 1, enc, elen);
        t1 = now();
        for (i = 0; i < n; i++) {
            pre[21] = (unsigned char) i;
            EVP_Digest(pre, elen + 1, leaf, &ol, md, NULL);
        }
        t1 = now() - t1;
        EVP_MD_free(md);
        printf("SM3 via OpenSSL EVP_Digest         : %10.1f MB/s\n",
               (double) n * (double) elen / t1 / 1e6);
        if ((double) n / t1 > sm3n) {
            sm3n = (double) n / t1;
        }
    }
    {
        /* The multi-buffer SM3 the ledger now hashes batches with (leaf
         * hashes of a batch, tile rows, verify): 64 different records
         * per call, one core.  It counts for the baseline too. */
        static unsigned char  recs[64][1024];
        const unsigned char  *mp[64];
        size_t                ml[64];
        unsigned char         mo[64][ESL_HASH_LEN];
        unsigned              q;
        double                t1;

        for (q = 0; q < 64; q++) {
            memcpy(recs[q], enc, elen);
            recs[q][20] = (unsigned char) q;
            mp[q] = recs[q];
            ml[q] = elen;
        }
        t1 = now();
        for (i = 0; i < n; i += 64) {
            recs[0][21] = (unsigned char) i;
            esl__sm3x(0x00, mp, ml, 64, mo);
        }
        t1 = now() - t1;
        sm3mb = (double) n / t1;
        printf("SM3 leaf hash, libesl multi-buffer : %10.1f MB/s (%u lanes)"
               "\n", (double) n * (double) elen / t1 / 1e6,
               esl__sm3x_lanes());
    }
    sm3one = sm3n * (double) elen / 1e6;     /* faster single-message SM3 */
    if (sm3mb > sm3n) {
        sm3n = sm3mb;
    }
    sm3 = sm3n * (double) elen / 1e6;
    t0 = now();
    esl_verify(l, "b1024", v, NULL, NULL, &st);
    t0 = now() - t0;
    fsck = (double) st.entry_bytes / t0 / 1e6;
    printf("SM3 leaf hashing, baseline (fastest): %10.1f MB/s (%.0f "
           "entries/s)\n", sm3, sm3n);
    printf("full-shard verify (fsck)           : %10.1f MB/s (%.0f "
           "entries/s, %llu blocks with signatures; %.0f%% of the fastest "
           "SM3, %.0f%% of single-message SM3; target >= 50%%)\n", fsck,
           (double) st.entries / t0, (unsigned long long) st.blocks,
           100.0 * fsck / sm3, 100.0 * fsck / sm3one);

    n = 300;
    t0 = now();
    for (i = 0; i < n; i++) {
        unsigned char sig[64];
        esl_sm2_sign(s, NULL, 0, enc, elen, sig);
    }
    sign = (double) n / (now() - t0);
    printf("SM2 sign (one per block)           : %10.0f signatures/s\n",
           sign);

    /* Last, so it does not change what the proofs and verify see: batch
     * 1024 again with ids shaped like the module's (random contract id /
     * serial; the entry is 258 bytes, not 241), in a shard of its own,
     * so the idempotency index sees random keys. */
    random_ids = 1;
    a1024r = ledger_appends(l, s, "b1024r", 1024, 60, &seq);
    random_ids = 0;
    printf("ledger appends, batch 1024, random module-style ids: %10.0f "
           "entries/s (%.0f%% of raw LMDB)\n", a1024r, 100.0 * a1024r / raw);

    /*
     * The same comparison in 7 alternating rounds of 12 batches each
     * (raw LMDB continuing its database, the ledger a shard of its own;
     * last, so the proofs and verify above are unchanged), so both
     * sides meet the same moments of this noisy machine; the median of
     * the per-round ratios.
     */
    {
        int       k;
        double    rr[7], lr[7], ratio[7];
        uint64_t  rnext = (uint64_t) 1024 * 60;

        snprintf(sub, sizeof(sub), "%s/raw", dir);

        for (k = 0; k < 7; k++) {
            rr[k] = raw_lmdb_from(sub, elen, 1024, 12, &rnext);
            lr[k] = ledger_appends(l, s, "b1024i", 1024, 12, &seq);
            ratio[k] = rr[k] > 0 ? lr[k] / rr[k] : 0;
        }

        qsort(rr, 7, sizeof(double), cmp_double);
        qsort(lr, 7, sizeof(double), cmp_double);
        qsort(ratio, 7, sizeof(double), cmp_double);
        printf("interleaved, 7 rounds of 12 x 1024 : raw median %.0f, "
               "ledger median %.0f; ratio median %.0f%% (min %.0f%%, "
               "max %.0f%%)\n", rr[3], lr[3], 100 * ratio[3],
               100 * ratio[0], 100 * ratio[6]);
    }

    /*
     * Paired, batch by batch: one raw LMDB batch of 1024 durable puts
     * (its environment open throughout, a database of its own), then
     * one ledger append of 1024 (shard "b1024-p", whose stripe holds
     * only the 6,400 entries of "b64", as "b1024r" shares its stripe
     * with "b1"), 84 times; the median of the 84 per-pair ratios.  A pair spans a few ms, so a
     * burst of load elsewhere on the machine meets both sides of the
     * pairs it touches; the rounds above span tens of ms each.
     */
    {
        enum { PAIRS = 84 };
        MDB_env            *env;
        MDB_txn            *txn;
        MDB_dbi             dbi;
        unsigned char       key[12], *val = calloc(1, elen);
        MDB_val             k = { 12, key }, v = { elen, val };
        esl_entry          *pe = calloc(1024, sizeof(*pe));
        esl_append_result  *pr = calloc(1024, sizeof(*pr));
        char              (*pid)[65] = calloc(1024, 65);
        unsigned char     (*pp)[PAYLOAD] = calloc(1024, PAYLOAD);
        double              rr[PAIRS], lr[PAIRS], ratio[PAIRS], t1;
        uint64_t            ri = 0;
        int                 b, j, rc = 0;

        snprintf(sub, sizeof(sub), "%s/rawp", dir);
        mkdir(sub, 0700);
        if (val == NULL || pe == NULL || pr == NULL || pid == NULL
            || pp == NULL || mdb_env_create(&env) != 0)
        {
            fprintf(stderr, "bench: paired: out of memory\n");
            return 1;
        }
        mdb_env_set_mapsize(env, (size_t) 4 << 30);
        rc = mdb_env_open(env, sub, MDB_NOTLS, 0600);
        if (rc == 0 && (rc = mdb_txn_begin(env, NULL, 0, &txn)) == 0) {
            rc = mdb_dbi_open(txn, NULL, 0, &dbi);
            rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
        }
        for (b = 0; b < PAIRS && rc == 0; b++) {
            t1 = now();
            rc = mdb_txn_begin(env, NULL, 0, &txn);
            for (j = 0; j < 1024 && rc == 0; j++, ri++) {
                esl__put32(key, 1);
                esl__put64(key + 4, ri);
                val[0] = (unsigned char) ri;
                rc = mdb_put(txn, dbi, &k, &v, 0);
            }
            rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
            rr[b] = 1024 / (now() - t1);
            if (rc != 0) {
                fprintf(stderr, "bench: raw LMDB: %s\n", mdb_strerror(rc));
                break;
            }
            for (j = 0; j < 1024; j++) {
                mk_entry(seq++, &pe[j], pid[j], pp[j]);
            }
            t1 = now();
            rc = esl_append_batch(l, "b1024-p", pe, 1024, s, pr, NULL);
            lr[b] = 1024 / (now() - t1);
            if (rc != ESL_OK) {
                fprintf(stderr, "bench: append: %s\n", esl_strerror(rc));
                break;
            }
            ratio[b] = lr[b] / rr[b];
        }
        mdb_env_close(env);
        free(val);
        free(pe);
        free(pr);
        free(pid);
        free(pp);
        if (rc != 0) {
            return 1;
        }
        qsort(rr, PAIRS, sizeof(double), cmp_double);
        qsort(lr, PAIRS, sizeof(double), cmp_double);
        qsort(ratio, PAIRS, sizeof(double), cmp_double);
        printf("paired, 84 x (raw 1024, ledger 1024): raw median %.0f, "
               "ledger median %.0f; ratio median %.0f%% (quartiles %.0f%%, "
               "%.0f%%)\n", rr[PAIRS / 2], lr[PAIRS / 2],
               100 * ratio[PAIRS / 2], 100 * ratio[PAIRS / 4],
               100 * ratio[3 * PAIRS / 4]);
    }

    esl_hasher_free(h);
    esl_close(l);
    esl_verifier_free(v);
    esl_signer_free(s);
    return 0;
}
