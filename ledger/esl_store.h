/*
 * esl_store.h: LMDB layout shared by the store, the checker and the
 * mirror (internal).
 *
 * Each stripe is one LMDB environment (dir/stripe-NN/) with these named
 * databases; integers in keys are big-endian so keys sort numerically:
 *
 *   meta    "format", "stripes", "stripe", "hash", "nextsid" -> values
 *   shards  'L' name | 'M' origin -> shard record (see shard_t)
 *   sids    sid u32 -> shards key
 *   entries sid u32, index u64 -> chunk of encoded entries from that
 *           index on (see esl_chunk.c)
 *   lruns   run id u64 -> sorted run of (SipHash(lkey, leaf hash) u64,
 *           sid u32, index u64) records (the leaf-hash index, see
 *           esl_lidx.c)
 *   iruns   run id u64 -> sorted run of (SipHash(idkey, entry_id) u64,
 *           sid u32, index u64) records (the idempotency index, see
 *           esl_idem.c)
 *   tiles   sid u32, level u8, tile u64 -> tile (rows 0, 2..7, see
 *           store.c)
 *   blocks  sid u32, height u64 -> signed checkpoint note
 *   cosig   sid u32 -> last cosigned note || cosignature line (mirrors)
 *   misb    sid u32, seq u64 -> misbehaviour evidence (mirrors)
 */

#ifndef ESL_STORE_H
#define ESL_STORE_H

#include <pthread.h>
#include <lmdb.h>

#include "esl_int.h"

#define ESL_MAX_STRIPES   64
#define ESL_FORMAT        "esl-4"      /* esl-2: leaf index as runs;
                                          esl-3: idempotency index too;
                                          esl-4: keyed leaf records */
#define SHARD_KEY_MAX     (1 + ESL_ORIGIN_MAX)
#define SHARD_MIRROR      0x1u

typedef struct {
    MDB_env  *env;
    MDB_dbi   meta, shards, sids, entries, lruns, iruns, tiles, blocks,
              cosig, misb;
    uint64_t  idkey[2];         /* SipHash key of the idempotency index */
    uint64_t  lkey[2];          /* SipHash key of the leaf-hash index */
} esl__stripe;

typedef struct {
    unsigned   stripe;
    uint32_t   sid;
} esl__ro;

struct esl_ledger {
    char               *dir;
    unsigned            nstripes;
    esl__stripe         st[ESL_MAX_STRIPES];
    int                 hash_alg;
    EVP_MD             *md;
    const esl_verifier *verifier;
    char                prefix[ESL_ORIGIN_MAX + 1];
    unsigned            flags;
    pthread_mutex_t     ro_lock;        /* guards the read-only set */
    esl__ro            *ro;
    size_t              nro, cro;
};

/* A shard as loaded inside a transaction. */
typedef struct {
    unsigned       si;                 /* stripe index */
    esl__stripe   *st;
    uint32_t       sid;
    uint32_t       flags;
    uint64_t       size;
    uint64_t       height;
    uint64_t       time_ms;            /* time of the last block */
    char           origin[ESL_ORIGIN_MAX + 1];
    unsigned char  key[SHARD_KEY_MAX];
    size_t         keylen;
} esl__shard;

/* Node source over tiles: arg is an esl__tctx.  h hashes the row-1
 * nodes, which tiles do not store; NULL is enough for row-0 reads. */
typedef struct {
    MDB_txn      *txn;
    esl__stripe  *st;
    uint32_t      sid;
    esl_hasher   *h;
} esl__tctx;

int  esl__mdb_err(int rc);
int  esl__txn_begin(esl__stripe *st, int write, MDB_txn **txn);
/* Shard name -> shards key and stripe. */
int  esl__shard_key(esl_ledger *l, const char *name, esl__shard *sh);
int  esl__shard_load(MDB_txn *txn, esl__shard *sh);
int  esl__shard_create(esl_ledger *l, MDB_txn *txn, esl__shard *sh,
    const char *origin, uint32_t flags);
int  esl__shard_save(MDB_txn *txn, esl__shard *sh);
void esl__shard_name(const esl__shard *sh, char *out);
int  esl__tile_node(void *arg, unsigned h, uint64_t k,
    unsigned char out[ESL_H]);
int  esl__tiles_append(esl_hasher *h, esl__tctx *t, uint64_t old_size,
    const unsigned char (*leaves)[ESL_H], size_t n);
int  esl__block_get(MDB_txn *txn, esl__shard *sh, uint64_t height,
    MDB_val *v);
int  esl__block_put(MDB_txn *txn, esl__shard *sh, uint64_t height,
    const esl_buf *note);
size_t esl__tile_len(unsigned w);
unsigned esl__tile_width(size_t len);
size_t esl__tile_row_off(unsigned w, unsigned r);
int  esl__tile_row_stored(unsigned r);

/* Entries in chunks (esl_chunk.c). */
#define ESL_CHUNK_MAX    1024           /* entries per chunk */
#define ESL_CHUNK_BYTES  (65536 - 16)   /* a chunk's value, header
                                           included, unless it is a single
                                           entry: 16 pages of 4 KiB */
typedef struct {
    MDB_cursor  *cur;
    uint32_t     sid;
    uint64_t     first;     /* index of the chunk's first entry */
    MDB_val      chunk;
    uint32_t     count, pos;
    int          done;
} esl__eiter;

int  esl__chunks_put(MDB_txn *txn, esl__shard *sh, uint64_t first,
    const unsigned char *const *bytes, const size_t *len, size_t n);
int  esl__entry_at(MDB_txn *txn, esl__stripe *st, uint32_t sid,
    uint64_t idx, MDB_val *e);
int  esl__eiter_open(MDB_txn *txn, esl__stripe *st, uint32_t sid,
    uint64_t start, esl__eiter *it);
int  esl__eiter_next(esl__eiter *it, uint64_t *idx, MDB_val *e);
void esl__eiter_close(esl__eiter *it);

/*
 * Index records, both indexes (esl-4): h 48 bits || sid u32 || index
 * 48 bits, big-endian, 16 bytes, sorted by the whole record.  h is a
 * keyed hash (a filter, every candidate is checked exactly); an index
 * never reaches 2^48 (appends past it are refused with ESL_EFULL).
 */
#define ESL_XREC     16
#define ESL_XKEY     6                      /* bytes of h */
#define ESL_IDX_MAX  (((uint64_t) 1 << 48) - 1)

static inline void
esl__xrec(unsigned char rec[ESL_XREC], uint64_t h, uint32_t sid,
    uint64_t idx)
{
    esl__put32(rec, (uint32_t) (h >> 16));
    esl__put16(rec + 4, (unsigned) h & 0xffff);
    esl__put32(rec + 6, sid);
    esl__put16(rec + 10, (unsigned) (idx >> 32) & 0xffff);
    esl__put32(rec + 12, (uint32_t) idx);
}

static inline uint64_t
esl__xrec_h(const unsigned char *rec)
{
    return esl__get64(rec) >> 16;
}

static inline uint32_t
esl__xrec_sid(const unsigned char *rec)
{
    return esl__get32(rec + 6);
}

static inline uint64_t
esl__xrec_idx(const unsigned char *rec)
{
    return ((uint64_t) rec[10] << 40) | ((uint64_t) rec[11] << 32)
           | esl__get32(rec + 12);
}

/* Leaf-hash index runs (esl_lidx.c). */
#define ESL_LREC  ESL_XREC

typedef struct {
    uint64_t  sum;          /* keyed multiset sum */
    uint64_t  n;
} esl__fp;

int  esl__lidx_add(MDB_txn *txn, esl__stripe *st, uint32_t sid,
    uint64_t first, const unsigned char (*leaves)[ESL_H], size_t n);
int  esl__lidx_find(MDB_txn *txn, esl__stripe *st,
    const unsigned char h[ESL_H], uint32_t *sid, uint64_t *idx);
int  esl__lidx_fp(MDB_txn *txn, esl__stripe *st, uint32_t sid,
    const uint64_t key[2], esl__fp *fp, uint64_t *badrun);
extern uint64_t esl__lidx_mask;
uint64_t esl__lidx_hash(const esl__stripe *st, const unsigned char h[ESL_H]);
void esl__lidx_rec(unsigned char rec[ESL_LREC], uint64_t h, uint32_t sid,
    uint64_t idx);
/* Generic sorted runs of fixed-size records (esl_lidx.c): sorted by the
 * whole record, merged by the first `key` bytes (1..8), older first,
 * fan-out `fan` (2..16). */
int  esl__runs_sort(unsigned char *recs, size_t n, size_t rec);
int  esl__runs_add(MDB_txn *txn, MDB_dbi dbi, size_t rec, size_t key,
    unsigned fan, const unsigned char *run, size_t n);
int  esl__runs_fp(MDB_txn *txn, MDB_dbi dbi, size_t rec, size_t key_len,
    size_t sidoff, uint32_t sid, const uint64_t key[2], esl__fp *fp,
    uint64_t *badrun);

/* Idempotency index runs (esl_idem.c). */
#define ESL_IREC   ESL_XREC
#define ESL_NOIDX  (~(uint64_t) 0)
#define ESL_NOPOS  (~(size_t) 0)

extern uint64_t esl__idem_mask;
uint64_t esl__idem_hash(const esl__stripe *st, const unsigned char *id,
    size_t len);
void esl__idem_rec(unsigned char rec[ESL_IREC], uint64_t h, uint32_t sid,
    uint64_t idx);
/* q: n * ESL_IREC bytes, the batch's keys sorted; handed to idem_add */
int  esl__idem_find(MDB_txn *txn, esl__stripe *st, uint32_t sid, size_t n,
    const uint64_t *h, const unsigned char *const *ids, const size_t *idlen,
    uint64_t *found, size_t *dupof, unsigned char *q);
int  esl__idem_add(MDB_txn *txn, esl__stripe *st, size_t n,
    const unsigned char *q, const uint64_t *newidx);
int  esl__idem_fp(MDB_txn *txn, esl__stripe *st, uint32_t sid,
    const uint64_t key[2], esl__fp *fp, uint64_t *badrun);
uint64_t esl__siphash(const uint64_t key[2], const void *data, size_t len);
int  esl__fp_key(uint64_t key[2]);

int  esl__ro_check(esl_ledger *l, unsigned si, uint32_t sid);
void esl__ro_mark(esl_ledger *l, unsigned si, uint32_t sid);

#endif /* ESL_STORE_H */
