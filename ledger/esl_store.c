/*
 * esl_store.c: the LMDB store: opening stripes, shards, tiles, the group
 * commit append and the read path.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "esl_store.h"

#define DEFAULT_STRIPES     4
#define DEFAULT_MAPSIZE     ((size_t) 64 << 30)
#define DEFAULT_READERS     1022
#define MAX_BATCH           (1u << 20)

/*
 * Tiles.  A tile at level L holds up to 256 consecutive complete subtree
 * hashes of height 8L (row 0) and, so proofs are (nearly) pure lookups,
 * rows above it inside the tile: row r has w >> r hashes of height 8L + r
 * for a tile of width w.  Row 1 is not stored (format esl-4): without it
 * a full tile is 382 hashes, 12,224 bytes, three 4 KiB overflow pages
 * instead of four, and a row-1 node is one node hash of two row-0
 * hashes.  Row 0 alone is the C2SP tlog-tiles tile, so it can be served
 * as is.  Full tiles never change; the right-edge tile of each level is
 * rewritten by each batch, which is what makes an append O(batch + log n)
 * writes.
 */

#define TILE_ROWS  0xfdu            /* bit r set: row r is stored */

/* Offset (in hashes) of stored row r in a tile of width w. */
size_t
esl__tile_row_off(unsigned w, unsigned r)
{
    size_t    off = 0;
    unsigned  q;

    for (q = 0; q < r; q++) {
        if (TILE_ROWS & (1u << q)) {
            off += w >> q;
        }
    }
    return off;
}


int
esl__tile_row_stored(unsigned r)
{
    return r < 8 && (TILE_ROWS & (1u << r)) != 0;
}


size_t
esl__tile_len(unsigned w)
{
    return esl__tile_row_off(w, 8) * ESL_H;
}


/* Inverse of esl__tile_len (strictly increasing in w); 0 if no width
 * gives this length. */
unsigned
esl__tile_width(size_t len)
{
    unsigned  lo = 1, hi = 256, mid;

    while (lo <= hi) {
        mid = (lo + hi) / 2;
        if (esl__tile_len(mid) == len) {
            return mid;
        }
        if (esl__tile_len(mid) < len) {
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return 0;
}


int
esl__mdb_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:        return ESL_OK;
    case MDB_NOTFOUND:       return ESL_ENOTFOUND;
    case MDB_MAP_FULL:       return ESL_EFULL;
    case MDB_READERS_FULL:   return ESL_EREADERS;
    case MDB_PANIC:          return ESL_EPANIC;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:  return ESL_ECORRUPT;
    case ENOMEM:             return ESL_ENOMEM;
    case EIO:
    case ENOSPC:
    case EACCES:
    case EROFS:              return ESL_EIO;
    }
    return ESL_ESTORE;
}


int
esl__txn_begin(esl__stripe *st, int write, MDB_txn **txn)
{
    int  rc, dead;

    rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, txn);
    if (rc == MDB_READERS_FULL) {
        /* Slots of SIGKILLed workers: reclaim them and try once more. */
        mdb_reader_check(st->env, &dead);
        rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, txn);
    }
    return esl__mdb_err(rc);
}


/* ------------------------------------------------------------------ */
/* read-only set                                                       */
/* ------------------------------------------------------------------ */

int
esl__ro_check(esl_ledger *l, unsigned si, uint32_t sid)
{
    size_t  i;
    int     ro = 0;

    pthread_mutex_lock(&l->ro_lock);
    for (i = 0; i < l->nro; i++) {
        if (l->ro[i].stripe == si && l->ro[i].sid == sid) {
            ro = 1;
            break;
        }
    }
    pthread_mutex_unlock(&l->ro_lock);
    return ro;
}


void
esl__ro_mark(esl_ledger *l, unsigned si, uint32_t sid)
{
    esl__ro  *n;

    if (esl__ro_check(l, si, sid)) {
        return;
    }
    pthread_mutex_lock(&l->ro_lock);
    if (l->nro == l->cro) {
        n = realloc(l->ro, (l->cro ? l->cro * 2 : 8) * sizeof(*n));
        if (n == NULL) {
            pthread_mutex_unlock(&l->ro_lock);
            return;
        }
        l->ro = n;
        l->cro = l->cro ? l->cro * 2 : 8;
    }
    l->ro[l->nro].stripe = si;
    l->ro[l->nro].sid = sid;
    l->nro++;
    pthread_mutex_unlock(&l->ro_lock);
}


/* ------------------------------------------------------------------ */
/* open / close                                                        */
/* ------------------------------------------------------------------ */

void
esl_options_init(esl_options *o)
{
    memset(o, 0, sizeof(*o));
    o->stripes = DEFAULT_STRIPES;
    o->map_size = DEFAULT_MAPSIZE;
    o->max_readers = DEFAULT_READERS;
    o->hash_alg = ESL_HASH_SM3;
    o->origin_prefix = "esign.local";
}


static int
meta_get_u32(MDB_txn *txn, MDB_dbi dbi, const char *name, uint32_t *v)
{
    MDB_val  k = { strlen(name), (void *) name }, d;
    int      rc = mdb_get(txn, dbi, &k, &d);

    if (rc != MDB_SUCCESS) {
        return rc;
    }
    if (d.mv_size != 4) {
        return MDB_CORRUPTED;
    }
    *v = esl__get32(d.mv_data);
    return MDB_SUCCESS;
}


static int
meta_put_u32(MDB_txn *txn, MDB_dbi dbi, const char *name, uint32_t v,
    unsigned flags)
{
    unsigned char  b[4];
    MDB_val        k = { strlen(name), (void *) name }, d = { 4, b };

    esl__put32(b, v);
    return mdb_put(txn, dbi, &k, &d, flags);
}


/* A stripe's SipHash key (16 random bytes), drawn when it is created;
 * NO_RANDOM (not an LMDB or errno code) if there is no randomness. */
#define NO_RANDOM  (-1)

static int
meta_key_new(MDB_txn *txn, MDB_dbi dbi, const char *name)
{
    unsigned char  b[16];
    uint64_t       key[2];
    MDB_val        k = { strlen(name), (void *) name }, d = { 16, b };

    if (esl__fp_key(key) != ESL_OK) {
        return NO_RANDOM;
    }
    esl__put64(b, key[0]);
    esl__put64(b + 8, key[1]);
    return mdb_put(txn, dbi, &k, &d, 0);
}


static int
meta_get_key(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t key[2])
{
    MDB_val  k = { strlen(name), (void *) name }, d;
    int      rc = mdb_get(txn, dbi, &k, &d);

    if (rc != MDB_SUCCESS) {
        return rc;
    }
    if (d.mv_size != 16) {
        return MDB_CORRUPTED;
    }
    key[0] = esl__get64(d.mv_data);
    key[1] = esl__get64((unsigned char *) d.mv_data + 8);
    return MDB_SUCCESS;
}


/*
 * Open one stripe.  The first opener writes the format record; every
 * later opener (any process) checks it and never "repairs" a mismatch:
 * a ledger fails closed instead of being recreated.
 */
static int
stripe_open(esl_ledger *l, unsigned si, const esl_options *o,
    unsigned *nstripes)
{
    esl__stripe  *st = &l->st[si];
    char          path[4096];
    MDB_txn      *txn;
    uint32_t      v;
    int           rc, dead, rdonly = (o->flags & ESL_OPEN_RDONLY) != 0;
    MDB_val       k = { 6, "format" }, d;

    snprintf(path, sizeof(path), "%s/stripe-%02u", l->dir, si);
    if (!rdonly && mkdir(path, 0700) != 0 && errno != EEXIST) {
        return ESL_EIO;
    }
    if ((rc = mdb_env_create(&st->env)) != 0) {
        return esl__mdb_err(rc);
    }
    mdb_env_set_maxdbs(st->env, 16);
    mdb_env_set_mapsize(st->env, o->map_size);
    mdb_env_set_maxreaders(st->env, o->max_readers);
    /* MDB_NOTLS: read txns are not tied to threads (nginx thread pools);
     * no NOSYNC/NOMETASYNC/WRITEMAP: an ack must mean durable. */
    rc = mdb_env_open(st->env, path, MDB_NOTLS | (rdonly ? MDB_RDONLY : 0),
                      0600);
    if (rc != 0) {
        return rc == ENOENT ? ESL_ENOTFOUND : esl__mdb_err(rc);
    }
    mdb_reader_check(st->env, &dead);

    rc = mdb_txn_begin(st->env, NULL, rdonly ? MDB_RDONLY : 0, &txn);
    if (rc != 0) {
        return esl__mdb_err(rc);
    }
#define OPEN_DB(field, name)                                              \
    if (rc == 0) {                                                        \
        rc = mdb_dbi_open(txn, name, rdonly ? 0 : MDB_CREATE, &st->field); \
    }
    rc = 0;
    OPEN_DB(meta, "meta");
    OPEN_DB(shards, "shards");
    OPEN_DB(sids, "sids");
    OPEN_DB(entries, "entries");
    OPEN_DB(lruns, "lruns");
    OPEN_DB(iruns, "iruns");
    OPEN_DB(tiles, "tiles");
    OPEN_DB(blocks, "blocks");
    OPEN_DB(cosig, "cosig");
    OPEN_DB(misb, "misb");
#undef OPEN_DB
    if (rc != 0) {
        mdb_txn_abort(txn);
        return esl__mdb_err(rc);
    }

    rc = mdb_get(txn, st->meta, &k, &d);
    if (rc == MDB_NOTFOUND && !rdonly) {
        d.mv_size = sizeof(ESL_FORMAT) - 1;
        d.mv_data = ESL_FORMAT;
        rc = mdb_put(txn, st->meta, &k, &d, 0);
        if (rc == 0) {
            rc = meta_put_u32(txn, st->meta, "stripes", *nstripes, 0);
        }
        if (rc == 0) {
            rc = meta_put_u32(txn, st->meta, "stripe", si, 0);
        }
        if (rc == 0) {
            rc = meta_put_u32(txn, st->meta, "hash", (uint32_t) o->hash_alg,
                              0);
        }
        if (rc == 0) {
            rc = meta_put_u32(txn, st->meta, "nextsid", 1, 0);
        }
        if (rc == 0) {
            rc = meta_key_new(txn, st->meta, "idkey");
        }
        if (rc == 0) {
            rc = meta_key_new(txn, st->meta, "lkey");
        }
        if (rc == NO_RANDOM) {
            mdb_txn_abort(txn);
            return ESL_ECRYPTO;
        }
    } else if (rc == 0) {
        if (d.mv_size != sizeof(ESL_FORMAT) - 1
            || memcmp(d.mv_data, ESL_FORMAT, d.mv_size) != 0)
        {
            mdb_txn_abort(txn);
            return ESL_ECORRUPT;
        }
    }
    if (rc == 0 && (rc = meta_get_u32(txn, st->meta, "stripes", &v)) == 0) {
        if (si == 0) {
            *nstripes = v;      /* an existing ledger keeps its count */
        } else if (v != *nstripes) {
            rc = MDB_CORRUPTED;
        }
    }
    if (rc == 0) {
        rc = meta_get_key(txn, st->meta, "idkey", st->idkey);
    }
    if (rc == 0) {
        rc = meta_get_key(txn, st->meta, "lkey", st->lkey);
    }
    if (rc == 0 && (rc = meta_get_u32(txn, st->meta, "stripe", &v)) == 0
        && v != si)
    {
        rc = MDB_CORRUPTED;
    }
    if (rc == 0 && (rc = meta_get_u32(txn, st->meta, "hash", &v)) == 0) {
        if (si == 0) {
            l->hash_alg = (int) v;
        } else if ((int) v != l->hash_alg) {
            rc = MDB_CORRUPTED;
        }
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return esl__mdb_err(rc);
    }
    /* commit even read-only: aborting would close the new DBI handles */
    rc = mdb_txn_commit(txn);
    return esl__mdb_err(rc);
}


int
esl_open(const char *dir, const esl_options *opts, esl_ledger **out)
{
    esl_options  o;
    esl_ledger  *l;
    unsigned     i, n;
    int          rc;

    if (dir == NULL || out == NULL) {
        return ESL_EINVAL;
    }
    esl_options_init(&o);
    if (opts != NULL) {
        o = *opts;
        if (o.stripes == 0) o.stripes = DEFAULT_STRIPES;
        if (o.map_size == 0) o.map_size = DEFAULT_MAPSIZE;
        if (o.max_readers == 0) o.max_readers = DEFAULT_READERS;
        if (o.origin_prefix == NULL) o.origin_prefix = "esign.local";
    }
    if (o.stripes > ESL_MAX_STRIPES
        || (o.hash_alg != ESL_HASH_SM3 && o.hash_alg != ESL_HASH_SHA256)
        || strlen(o.origin_prefix) + 2 + ESL_SHARD_MAX > ESL_ORIGIN_MAX)
    {
        return ESL_EINVAL;
    }
    if (!(o.flags & ESL_OPEN_RDONLY) && mkdir(dir, 0700) != 0
        && errno != EEXIST)
    {
        return ESL_EIO;
    }

    l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return ESL_ENOMEM;
    }
    l->dir = strdup(dir);
    pthread_mutex_init(&l->ro_lock, NULL);
    l->hash_alg = o.hash_alg;
    l->verifier = o.verifier;
    l->flags = o.flags;
    strcpy(l->prefix, o.origin_prefix);

    n = o.stripes;
    rc = l->dir ? ESL_OK : ESL_ENOMEM;
    /* Stripe 0 decides the stripe count of an existing ledger. */
    for (i = 0; rc == ESL_OK && i < n; i++) {
        rc = stripe_open(l, i, &o, &n);
        if (rc == ESL_OK && n > ESL_MAX_STRIPES) {
            rc = ESL_ECORRUPT;
        }
        l->nstripes = i + 1;
    }
    if (rc == ESL_OK) {
        l->nstripes = n;
        l->md = esl__md_fetch(l->hash_alg);
        if (l->md == NULL) {
            rc = ESL_ECRYPTO;
        }
    }
    if (rc == ESL_OK && !(o.flags & ESL_OPEN_NOSELFCHECK)) {
        rc = esl_selfcheck(l, NULL, NULL, NULL);
        rc = rc >= 0 ? ESL_OK : rc;
    }
    if (rc != ESL_OK) {
        esl_close(l);
        return rc;
    }
    *out = l;
    return ESL_OK;
}


void
esl_close(esl_ledger *l)
{
    unsigned  i;

    if (l == NULL) {
        return;
    }
    for (i = 0; i < l->nstripes; i++) {
        if (l->st[i].env != NULL) {
            mdb_env_close(l->st[i].env);
        }
    }
    EVP_MD_free(l->md);
    pthread_mutex_destroy(&l->ro_lock);
    free(l->ro);
    free(l->dir);
    free(l);
}


int
esl_reader_check(esl_ledger *l, int *dead)
{
    unsigned  i;
    int       d, total = 0, rc;

    if (l == NULL) {
        return ESL_EINVAL;
    }
    for (i = 0; i < l->nstripes; i++) {
        d = 0;
        rc = mdb_reader_check(l->st[i].env, &d);
        if (rc != 0) {
            return esl__mdb_err(rc);
        }
        total += d;
    }
    if (dead != NULL) {
        *dead = total;
    }
    return ESL_OK;
}


/* ------------------------------------------------------------------ */
/* shards                                                              */
/* ------------------------------------------------------------------ */

/* FNV-1a: stable across versions and platforms, which the shard-to-
 * stripe map must be (it is a file-format property). */
static uint32_t
fnv1a(const unsigned char *p, size_t n)
{
    uint32_t  h = 2166136261u;

    while (n--) {
        h ^= *p++;
        h *= 16777619u;
    }
    return h;
}


static int
shard_name_ok(const char *s)
{
    size_t  i, n = strlen(s);

    if (n == 0 || n > ESL_SHARD_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_'
              || c == '-'))
        {
            return 0;
        }
    }
    return 1;
}


int
esl__shard_key(esl_ledger *l, const char *name, esl__shard *sh)
{
    size_t  n;

    if (name == NULL) {
        return ESL_EINVAL;
    }
    memset(sh, 0, sizeof(*sh));
    if (name[0] == '=') {
        n = strlen(name + 1);
        if (n == 0 || n > ESL_ORIGIN_MAX) {
            return ESL_EINVAL;
        }
        sh->key[0] = 'M';
        memcpy(sh->key + 1, name + 1, n);
    } else {
        if (!shard_name_ok(name)) {
            return ESL_EINVAL;
        }
        n = strlen(name);
        sh->key[0] = 'L';
        memcpy(sh->key + 1, name, n);
    }
    sh->keylen = n + 1;
    sh->si = fnv1a(sh->key, sh->keylen) % l->nstripes;
    sh->st = &l->st[sh->si];
    return ESL_OK;
}


int
esl_shard_stripe(esl_ledger *l, const char *shard)
{
    esl__shard  sh;

    if (l == NULL || esl__shard_key(l, shard, &sh) != ESL_OK) {
        return -1;
    }
    return (int) sh.si;
}


unsigned
esl_stripes(const esl_ledger *l)
{
    return l != NULL ? l->nstripes : 0;
}


void
esl__shard_name(const esl__shard *sh, char *out)
{
    size_t  n = sh->keylen - 1;

    if (sh->key[0] == 'M') {
        out[0] = '=';
        memcpy(out + 1, sh->key + 1, n);
        out[n + 1] = '\0';
    } else {
        memcpy(out, sh->key + 1, n);
        out[n] = '\0';
    }
}


/* Shard record: sid u32, flags u32, size u64, height u64, time u64,
 * origin bytes. */
#define SHREC_FIXED  (4 + 4 + 8 + 8 + 8)

static int
shard_decode(esl__shard *sh, const MDB_val *d)
{
    const unsigned char  *p = d->mv_data;
    size_t                on;

    if (d->mv_size <= SHREC_FIXED || d->mv_size > SHREC_FIXED + ESL_ORIGIN_MAX)
    {
        return ESL_ECORRUPT;
    }
    sh->sid = esl__get32(p);
    sh->flags = esl__get32(p + 4);
    sh->size = esl__get64(p + 8);
    sh->height = esl__get64(p + 16);
    sh->time_ms = esl__get64(p + 24);
    on = d->mv_size - SHREC_FIXED;
    memcpy(sh->origin, p + SHREC_FIXED, on);
    sh->origin[on] = '\0';
    return ESL_OK;
}


int
esl__shard_load(MDB_txn *txn, esl__shard *sh)
{
    MDB_val  k = { sh->keylen, sh->key }, d;
    int      rc = mdb_get(txn, sh->st->shards, &k, &d);

    if (rc != 0) {
        return esl__mdb_err(rc);
    }
    return shard_decode(sh, &d);
}


int
esl__shard_save(MDB_txn *txn, esl__shard *sh)
{
    unsigned char  b[SHREC_FIXED + ESL_ORIGIN_MAX];
    size_t         on = strlen(sh->origin);
    MDB_val        k = { sh->keylen, sh->key }, d = { SHREC_FIXED + on, b };

    esl__put32(b, sh->sid);
    esl__put32(b + 4, sh->flags);
    esl__put64(b + 8, sh->size);
    esl__put64(b + 16, sh->height);
    esl__put64(b + 24, sh->time_ms);
    memcpy(b + SHREC_FIXED, sh->origin, on);
    return esl__mdb_err(mdb_put(txn, sh->st->shards, &k, &d, 0));
}


int
esl__shard_create(esl_ledger *l, MDB_txn *txn, esl__shard *sh,
    const char *origin, uint32_t flags)
{
    unsigned char  kb[4];
    uint32_t       sid;
    MDB_val        k, d;
    int            rc;

    (void) l;
    rc = meta_get_u32(txn, sh->st->meta, "nextsid", &sid);
    if (rc == 0) {
        rc = meta_put_u32(txn, sh->st->meta, "nextsid", sid + 1, 0);
    }
    if (rc != 0) {
        return esl__mdb_err(rc);
    }
    sh->sid = sid;
    sh->flags = flags;
    sh->size = sh->height = sh->time_ms = 0;
    snprintf(sh->origin, sizeof(sh->origin), "%s", origin);
    esl__put32(kb, sid);
    k.mv_size = 4;
    k.mv_data = kb;
    d.mv_size = sh->keylen;
    d.mv_data = sh->key;
    rc = mdb_put(txn, sh->st->sids, &k, &d, MDB_NOOVERWRITE);
    if (rc != 0) {
        return esl__mdb_err(rc);
    }
    return esl__shard_save(txn, sh);
}


/* ------------------------------------------------------------------ */
/* tiles                                                               */
/* ------------------------------------------------------------------ */

static void
tile_key(unsigned char k[13], uint32_t sid, unsigned level, uint64_t n)
{
    esl__put32(k, sid);
    k[4] = (unsigned char) level;
    esl__put64(k + 5, n);
}


int
esl__tile_node(void *arg, unsigned h, uint64_t k, unsigned char out[ESL_H])
{
    esl__tctx            *t = arg;
    unsigned              L = h / 8, r = h % 8, w;
    uint64_t              N, j;
    unsigned char         kb[13];
    const unsigned char  *p;
    MDB_val               key = { 13, kb }, d;
    int                   rc;

    if (h >= 64 || (r && k >> (64 - r)) || (r == 1 && t->h == NULL)) {
        return ESL_EINVAL;
    }
    N = (k << r) >> 8;
    j = k - (N << (8 - r));
    tile_key(kb, t->sid, L, N);
    rc = mdb_get(t->txn, t->st->tiles, &key, &d);
    if (rc != 0) {
        return rc == MDB_NOTFOUND ? ESL_ECORRUPT : esl__mdb_err(rc);
    }
    w = esl__tile_width(d.mv_size);
    if (w == 0 || j >= (w >> r)) {
        return ESL_ECORRUPT;
    }
    p = d.mv_data;
    if (!esl__tile_row_stored(r)) {
        /* row 1: the node over row 0's hashes 2j and 2j + 1 */
        return esl_node_hash(t->h, p + 2 * j * ESL_H, p + (2 * j + 1) * ESL_H,
                             out);
    }
    memcpy(out, p + (esl__tile_row_off(w, r) + j) * ESL_H, ESL_H);
    return ESL_OK;
}


/* Offsets of the in-memory working tile: every row, full width. */
static size_t
row256(unsigned r)
{
    size_t    off = 0;
    unsigned  q;

    for (q = 0; q < r; q++) {
        off += 256u >> q;
    }
    return off;
}


/*
 * Append n hashes of height 8L at position start of level L; the roots of
 * tiles this fills are written to up[] (*nup of them) for level L+1.
 */
static int
tiles_level(esl_hasher *h, esl__tctx *t, unsigned L, uint64_t start,
    const unsigned char (*in)[ESL_H], size_t n, unsigned char (*up)[ESL_H],
    size_t *nup, unsigned char *work)
{
    unsigned char  kb[13];
    MDB_val        key = { 13, kb }, d;
    uint64_t       pos = start;
    size_t         i = 0, take;
    unsigned       off, w, r, j, have;
    int            rc;

    *nup = 0;
    while (i < n) {
        off = (unsigned) (pos & 255);
        tile_key(kb, t->sid, L, pos >> 8);
        if (off > 0) {
            rc = mdb_get(t->txn, t->st->tiles, &key, &d);
            if (rc != 0) {
                return rc == MDB_NOTFOUND ? ESL_ECORRUPT : esl__mdb_err(rc);
            }
            have = esl__tile_width(d.mv_size);
            if (have != off) {
                return ESL_ECORRUPT;
            }
            for (r = 0; r < 8; r++) {
                if (esl__tile_row_stored(r)) {
                    memcpy(work + row256(r) * ESL_H,
                           (unsigned char *) d.mv_data
                           + esl__tile_row_off(off, r) * ESL_H,
                           (size_t) (off >> r) * ESL_H);
                }
            }
        }
        take = 256 - off;
        if (take > n - i) {
            take = n - i;
        }
        memcpy(work + (size_t) off * ESL_H, in[i], take * ESL_H);
        w = off + (unsigned) take;
        for (r = 1; r < 8; r++) {
            unsigned char *lo = work + row256(r - 1) * ESL_H;
            unsigned char *row = work + row256(r) * ESL_H;
            /* a row that is not stored is recomputed from where the
             * row above needs it */
            j = esl__tile_row_stored(r) ? off >> r : (off >> (r + 1)) << 1;
            rc = esl__node_row(h, lo + (2 * j) * ESL_H, (w >> r) - j,
                               (unsigned char (*)[ESL_H]) (row + j * ESL_H));
            if (rc != ESL_OK) {
                return rc;
            }
        }

        /* Reserve the value in the page and fill it in place: one copy. */
        d.mv_size = esl__tile_len(w);
        rc = mdb_put(t->txn, t->st->tiles, &key, &d, MDB_RESERVE);
        if (rc != 0) {
            return esl__mdb_err(rc);
        }
        for (r = 0; r < 8; r++) {
            if (esl__tile_row_stored(r)) {
                memcpy((unsigned char *) d.mv_data
                       + esl__tile_row_off(w, r) * ESL_H,
                       work + row256(r) * ESL_H, (size_t) (w >> r) * ESL_H);
            }
        }
        if (w == 256) {
            unsigned char *top = work + row256(7) * ESL_H;
            rc = esl_node_hash(h, top, top + ESL_H, up[(*nup)++]);
            if (rc != ESL_OK) {
                return rc;
            }
        }
        pos += take;
        i += take;
    }
    return ESL_OK;
}


int
esl__tiles_append(esl_hasher *h, esl__tctx *t, uint64_t old_size,
    const unsigned char (*leaves)[ESL_H], size_t n)
{
    unsigned char  (*a)[ESL_H], (*b)[ESL_H], (*tmp)[ESL_H];
    unsigned char   *work;
    const unsigned char (*in)[ESL_H] = leaves;
    size_t           nin = n, nout;
    unsigned         L;
    int              rc = ESL_OK;

    a = malloc((n / 256 + 2) * ESL_H);
    b = malloc((n / 256 + 2) * ESL_H);
    work = malloc(row256(8) * ESL_H);
    if (a == NULL || b == NULL || work == NULL) {
        rc = ESL_ENOMEM;
        goto done;
    }
    for (L = 0; nin > 0 && L < 8; L++) {
        rc = tiles_level(h, t, L, old_size >> (8 * L), in, nin, a, &nout,
                         work);
        if (rc != ESL_OK) {
            break;
        }
        in = (const unsigned char (*)[ESL_H]) a;
        nin = nout;
        tmp = a;
        a = b;
        b = tmp;
    }
done:
    free(a);
    free(b);
    free(work);
    return rc;
}


/* ------------------------------------------------------------------ */
/* entries and blocks                                                  */
/* ------------------------------------------------------------------ */

static void
ekey(unsigned char k[12], uint32_t sid, uint64_t idx)
{
    esl__put32(k, sid);
    esl__put64(k + 4, idx);
}


int
esl__block_get(MDB_txn *txn, esl__shard *sh, uint64_t height, MDB_val *v)
{
    unsigned char  kb[12];
    MDB_val        k = { 12, kb };

    ekey(kb, sh->sid, height);
    return esl__mdb_err(mdb_get(txn, sh->st->blocks, &k, v));
}


int
esl__block_put(MDB_txn *txn, esl__shard *sh, uint64_t height,
    const esl_buf *note)
{
    unsigned char  kb[12];
    MDB_val        k = { 12, kb }, d = { note->len, note->data };

    ekey(kb, sh->sid, height);
    return esl__mdb_err(mdb_put(txn, sh->st->blocks, &k, &d,
                                MDB_NOOVERWRITE));
}


/* Put n new entries at the end of the shard (chunks, esl_chunk.c) and
 * index their leaves as one sorted run (esl_lidx.c). */
static int
entries_put(MDB_txn *txn, esl__shard *sh, uint64_t first,
    const unsigned char *const *bytes, const size_t *len,
    const unsigned char (*leaves)[ESL_H], size_t n)
{
    int  rc;

    if (n == 0) {
        return ESL_OK;
    }
    if ((rc = esl__chunks_put(txn, sh, first, bytes, len, n)) != ESL_OK) {
        return rc;
    }
    return esl__lidx_add(txn, sh->st, sh->sid, first, leaves, n);
}


/* ------------------------------------------------------------------ */
/* append                                                              */
/* ------------------------------------------------------------------ */

typedef struct {
    unsigned char  *buf;         /* all encoded entries back to back */
    size_t         *off, *len;
} encoded;


static int
verify_last_block(esl_hasher *h, MDB_txn *txn, esl__shard *sh,
    esl_checkpoint *cp, unsigned char prev[ESL_H])
{
    esl__tctx      t = { txn, sh->st, sh->sid, h };
    unsigned char  root[ESL_H];
    MDB_val        v;
    int            rc;

    if (sh->height == 0) {
        memset(prev, 0, ESL_H);
        memset(cp, 0, sizeof(*cp));
        return sh->size == 0 ? ESL_OK : ESL_ECORRUPT;
    }
    if ((rc = esl__block_get(txn, sh, sh->height, &v)) != ESL_OK) {
        return rc == ESL_ENOTFOUND ? ESL_ECORRUPT : rc;
    }
    if (esl_checkpoint_parse(v.mv_data, v.mv_size, cp) != ESL_OK
        || cp->size != sh->size || cp->height != sh->height
        || strcmp(cp->origin, sh->origin) != 0)
    {
        return ESL_ECORRUPT;
    }
    if ((rc = esl_hash(h, v.mv_data, cp->body_len, prev)) != ESL_OK) {
        return rc;
    }
    /* The stored tree must still be the one we signed. */
    if ((rc = esl__root(h, esl__tile_node, &t, sh->size, root)) != ESL_OK) {
        return rc == ESL_ECORRUPT ? rc : rc;
    }
    return memcmp(root, cp->root, ESL_H) == 0 ? ESL_OK : ESL_ECORRUPT;
}


static int
readback(MDB_txn *txn, esl__shard *sh, uint64_t first,
    const unsigned char *const *bytes, const size_t *len, size_t n)
{
    esl__eiter  it;
    MDB_val     d;
    uint64_t    at;
    size_t      i;
    int         rc;

    if ((rc = esl__eiter_open(txn, sh->st, sh->sid, first, &it)) != ESL_OK) {
        esl__eiter_close(&it);
        return rc;
    }
    for (i = 0; i < n; i++) {
        rc = esl__eiter_next(&it, &at, &d);
        if (rc != ESL_OK || at != first + i || d.mv_size != len[i]
            || memcmp(d.mv_data, bytes[i], len[i]) != 0)
        {
            esl__eiter_close(&it);
            return ESL_ECORRUPT;
        }
    }
    esl__eiter_close(&it);
    return ESL_OK;
}


int
esl_append_batch(esl_ledger *l, const char *shard, const esl_entry *entries,
    size_t n, const esl_signer *signer, esl_append_result *res,
    esl_buf *checkpoint)
{
    esl_hasher        h;
    esl__shard        sh;
    esl__tctx         t;
    esl_checkpoint    last, cp;
    encoded           enc = { NULL, NULL, NULL };
    unsigned char   (*leaves)[ESL_H] = NULL, (*proof)[ESL_H] = NULL;
    unsigned char     prev[ESL_H], *q;
    const unsigned char **nbytes = NULL, **ids;
    size_t           *nlen = NULL, *idl, *dupof;
    uint64_t         *ih, *found, *nidx;
    void             *arena = NULL;
    MDB_txn          *txn = NULL;
    esl_buf           note = { NULL, 0 };
    size_t            i, total = 0, nnew = 0, np;
    uint64_t          old_size, now;
    int               rc;

    if (l == NULL || entries == NULL || n == 0 || n > MAX_BATCH
        || signer == NULL || res == NULL)
    {
        return ESL_EINVAL;
    }
    if (l->flags & ESL_OPEN_RDONLY) {
        return ESL_EREADONLY;
    }
    if (shard == NULL || shard[0] == '=') {
        return ESL_EINVAL;          /* mirrors only change by import */
    }
    if ((rc = esl__shard_key(l, shard, &sh)) != ESL_OK) {
        return rc;
    }
    if ((rc = esl__hasher_init(&h, l->md)) != ESL_OK) {
        return rc;
    }

    /* Encode and hash before taking the writer lock: the lock is shared
     * by every worker writing to this stripe. */
    /* every per-entry array in one allocation */
    arena = malloc(n * (ESL_H + 3 * sizeof(uint64_t) + 2 * sizeof(void *)
                        + 5 * sizeof(size_t) + ESL_IREC)
                   + ESL_MAX_PROOF * ESL_H);
    if (arena == NULL) {
        rc = ESL_ENOMEM;
        goto fail;
    }
    leaves = arena;
    proof = (unsigned char (*)[ESL_H]) (leaves + n);
    ih = (uint64_t *) (proof + ESL_MAX_PROOF);
    found = ih + n;
    nidx = found + n;
    nbytes = (const unsigned char **) (nidx + n);
    ids = nbytes + n;
    enc.off = (size_t *) (ids + n);
    enc.len = enc.off + n;
    nlen = enc.len + n;
    idl = nlen + n;
    dupof = idl + n;
    q = (unsigned char *) (dupof + n);
    for (i = 0; i < n; i++) {
        enc.len[i] = esl_entry_encoded_len(&entries[i]);
        if (enc.len[i] == 0) {
            rc = ESL_EINVAL;
            goto fail;
        }
        enc.off[i] = total;
        total += enc.len[i];
    }
    enc.buf = malloc(total);
    if (enc.buf == NULL) {
        rc = ESL_ENOMEM;
        goto fail;
    }
    for (i = 0; i < n; i++) {
        esl__entry_write(&entries[i], enc.buf + enc.off[i]);   /* checked */
        nbytes[i] = enc.buf + enc.off[i];
        ids[i] = entries[i].entry_id;
        idl[i] = entries[i].entry_id_len;
    }
    /* all leaf hashes in one multi-buffer pass, then into the results */
    rc = esl__leaf_hashes(&h, nbytes, enc.len, n, leaves);
    if (rc != ESL_OK) {
        goto fail;
    }
    for (i = 0; i < n; i++) {
        memcpy(res[i].leaf_hash, leaves[i], ESL_H);
        ih[i] = esl__idem_hash(sh.st, ids[i], idl[i]);
    }

    if ((rc = esl__txn_begin(sh.st, 1, &txn)) != ESL_OK) {
        goto fail;
    }
    rc = esl__shard_load(txn, &sh);
    if (rc == ESL_ENOTFOUND) {
        /* lengths were bounded at open and by the shard name check */
        char    origin[ESL_ORIGIN_MAX + 1];
        size_t  pl = strlen(l->prefix), nl = strlen(shard);
        memcpy(origin, l->prefix, pl);
        origin[pl] = '/';
        memcpy(origin + pl + 1, shard, nl + 1);
        rc = esl__shard_create(l, txn, &sh, origin, 0);
    }
    if (rc != ESL_OK) {
        goto fail;
    }
    if (esl__ro_check(l, sh.si, sh.sid)) {
        rc = ESL_EREADONLY;
        goto fail;
    }
    if (sh.size > ESL_IDX_MAX + 1 - n) {
        rc = ESL_EFULL;             /* indexes hold 48-bit positions */
        goto fail;
    }
    /* Read the last block inside the write txn: another worker may have
     * appended since any read we did. */
    rc = verify_last_block(&h, txn, &sh, &last, prev);
    if (rc == ESL_ECORRUPT) {
        esl__ro_mark(l, sh.si, sh.sid);
    }
    if (rc != ESL_OK) {
        goto fail;
    }

    old_size = sh.size;
    /* Idempotency: which ids this shard holds already (exact, see
     * esl_idem.c) and which repeat an earlier one of this batch. */
    rc = esl__idem_find(txn, sh.st, sh.sid, n, ih, (const unsigned char
                        *const *) ids, idl, found, dupof, q);
    if (rc != ESL_OK) {
        goto fail;
    }
    for (i = 0; i < n; i++) {
        MDB_val  ed;

        nidx[i] = ESL_NOIDX;
        if (found[i] != ESL_NOIDX || dupof[i] != ESL_NOPOS) {
            /* Retry of an entry we already hold (maybe from this very
             * batch): answer with the original index. */
            if (found[i] != ESL_NOIDX) {
                res[i].index = found[i];
                if (esl__entry_at(txn, sh.st, sh.sid, res[i].index, &ed)
                    != ESL_OK)
                {
                    rc = ESL_ECORRUPT;
                    goto fail;
                }
            } else {
                /* earlier in this batch: not stored yet */
                res[i].index = res[dupof[i]].index;
                ed.mv_data = enc.buf + enc.off[dupof[i]];
                ed.mv_size = enc.len[dupof[i]];
            }
            res[i].status = (ed.mv_size == enc.len[i]
                             && memcmp(ed.mv_data, enc.buf + enc.off[i],
                                       enc.len[i]) == 0)
                            ? ESL_DUPLICATE : ESL_ECONFLICT;
            continue;
        }
        res[i].index = sh.size;
        res[i].status = ESL_APPENDED;
        nidx[i] = sh.size;
        nbytes[nnew] = enc.buf + enc.off[i];
        nlen[nnew] = enc.len[i];
        memcpy(leaves[nnew++], res[i].leaf_hash, ESL_H);
        sh.size++;
    }
    rc = esl__idem_add(txn, sh.st, n, q, nidx);
    if (rc != ESL_OK) {
        goto fail;
    }
    rc = entries_put(txn, &sh, old_size, nbytes, nlen,
                     (const unsigned char (*)[ESL_H]) leaves, nnew);
    if (rc != ESL_OK) {
        goto fail;
    }

    if (nnew == 0) {
        /* All retries: nothing to sign; hand back the current head. */
        mdb_txn_abort(txn);
        txn = NULL;
        esl__hasher_fini(&h);
        goto out_latest;
    }

    t.txn = txn;
    t.st = sh.st;
    t.sid = sh.sid;
    t.h = &h;
    rc = esl__tiles_append(&h, &t, old_size, (const unsigned char (*)[ESL_H])
                           leaves, nnew);
    if (rc != ESL_OK) {
        goto fail;
    }

    /* Read-back: the bytes as stored must be the bytes whose leaf hashes
     * went into the tree (a flipped bit between hashing and storing would
     * otherwise be signed forever; CT's Yeti 2022 incident).  One cursor
     * pass and a memcmp: the leaf hashes were computed from exactly these
     * buffers, so equal bytes mean equal hashes.  The hashes themselves
     * are checked again from the stored bytes by the self-check at open
     * (the last block) and by esl_verify (everything). */
    rc = readback(txn, &sh, old_size, nbytes, nlen, nnew);
    if (rc != ESL_OK) {
        goto fail;
    }

    memset(&cp, 0, sizeof(cp));
    strcpy(cp.origin, sh.origin);
    cp.size = sh.size;
    cp.height = sh.height + 1;
    memcpy(cp.prev, prev, ESL_H);
    now = esl__now_ms();
    cp.time_ms = now > sh.time_ms ? now : sh.time_ms;   /* monotonic */
    if ((rc = esl__root(&h, esl__tile_node, &t, sh.size, cp.root)) != ESL_OK) {
        goto fail;
    }
    /* Never sign a head that does not extend the last signed one. */
    if (old_size > 0) {
        rc = esl__consistency(&h, esl__tile_node, &t, old_size, sh.size,
                              proof, &np);
        if (rc == ESL_OK) {
            rc = esl_verify_consistency(&h, old_size, sh.size, last.root,
                                        cp.root,
                                        (const unsigned char (*)[ESL_H])
                                        proof, np);
        }
        if (rc != ESL_OK) {
            rc = ESL_ECORRUPT;
            goto fail;
        }
    }
    if ((rc = esl__checkpoint_sign(signer, &cp, &note)) != ESL_OK) {
        goto fail;
    }
    if ((rc = esl__block_put(txn, &sh, cp.height, &note)) != ESL_OK) {
        goto fail;
    }
    sh.height = cp.height;
    sh.time_ms = cp.time_ms;
    if ((rc = esl__shard_save(txn, &sh)) != ESL_OK) {
        goto fail;
    }
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc != 0) {
        rc = esl__mdb_err(rc);
        goto fail;
    }
    esl__hasher_fini(&h);
    free(enc.buf);
    free(arena);
    if (checkpoint != NULL) {
        *checkpoint = note;
    } else {
        esl_buf_free(&note);
    }
    return ESL_OK;

out_latest:
    free(enc.buf);
    free(arena);
    if (checkpoint != NULL) {
        return esl_checkpoint_latest(l, shard, checkpoint);
    }
    return ESL_OK;

fail:
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    esl__hasher_fini(&h);
    esl_buf_free(&note);
    free(enc.buf);
    free(arena);
    return rc;
}


/* ------------------------------------------------------------------ */
/* reads                                                               */
/* ------------------------------------------------------------------ */

/* Begin a read txn and load the shard. */
static int
read_shard(esl_ledger *l, const char *name, esl__shard *sh, MDB_txn **txn)
{
    int  rc;

    if (l == NULL) {
        return ESL_EINVAL;
    }
    if ((rc = esl__shard_key(l, name, sh)) != ESL_OK) {
        return rc;
    }
    if ((rc = esl__txn_begin(sh->st, 0, txn)) != ESL_OK) {
        return rc;
    }
    if ((rc = esl__shard_load(*txn, sh)) != ESL_OK) {
        mdb_txn_abort(*txn);
    }
    return rc;
}


int
esl_block_get(esl_ledger *l, const char *shard, uint64_t height,
    esl_buf *note)
{
    esl__shard  sh;
    MDB_txn    *txn;
    MDB_val     v;
    int         rc;

    if (note == NULL) {
        return ESL_EINVAL;
    }
    if ((rc = read_shard(l, shard, &sh, &txn)) != ESL_OK) {
        return rc;
    }
    if (height == 0 || height > sh.height) {
        rc = ESL_ENOTFOUND;
    } else if ((rc = esl__block_get(txn, &sh, height, &v)) == ESL_OK) {
        rc = esl__buf_set(note, v.mv_data, v.mv_size);
    }
    mdb_txn_abort(txn);
    return rc;
}


int
esl_checkpoint_latest(esl_ledger *l, const char *shard, esl_buf *note)
{
    esl__shard  sh;
    MDB_txn    *txn;
    MDB_val     v;
    int         rc;

    if (note == NULL) {
        return ESL_EINVAL;
    }
    if ((rc = read_shard(l, shard, &sh, &txn)) != ESL_OK) {
        return rc;
    }
    if (sh.height == 0) {
        rc = ESL_ENOTFOUND;
    } else if ((rc = esl__block_get(txn, &sh, sh.height, &v)) == ESL_OK) {
        rc = esl__buf_set(note, v.mv_data, v.mv_size);
    }
    mdb_txn_abort(txn);
    return rc;
}


int
esl_entry_get(esl_ledger *l, const char *shard, uint64_t index,
    esl_buf *entry)
{
    esl__shard     sh;
    MDB_txn       *txn;
    MDB_val        v;
    int            rc;

    if (entry == NULL) {
        return ESL_EINVAL;
    }
    if ((rc = read_shard(l, shard, &sh, &txn)) != ESL_OK) {
        return rc;
    }
    if (index >= sh.size) {
        rc = ESL_ENOTFOUND;
    } else if ((rc = esl__entry_at(txn, sh.st, sh.sid, index, &v))
               == ESL_OK)
    {
        rc = esl__buf_set(entry, v.mv_data, v.mv_size);
    } else if (rc == ESL_ENOTFOUND) {
        rc = ESL_ECORRUPT;
    }
    mdb_txn_abort(txn);
    return rc;
}


int
esl_entry_range(esl_ledger *l, const char *shard, uint64_t start,
    uint64_t end, esl_entry_fn fn, void *arg)
{
    esl__shard     sh;
    esl__eiter     it;
    MDB_txn       *txn;
    MDB_val        v;
    uint64_t       i, at;
    int            rc;

    if (fn == NULL || end < start) {
        return ESL_EINVAL;
    }
    if ((rc = read_shard(l, shard, &sh, &txn)) != ESL_OK) {
        return rc;
    }
    if (end > sh.size) {
        end = sh.size;
    }
    if (start >= end) {
        mdb_txn_abort(txn);
        return ESL_OK;
    }
    if ((rc = esl__eiter_open(txn, sh.st, sh.sid, start, &it)) != ESL_OK) {
        esl__eiter_close(&it);
        mdb_txn_abort(txn);
        return rc;
    }
    for (i = start; i < end; i++) {
        rc = esl__eiter_next(&it, &at, &v);
        if (rc != ESL_OK || at != i) {
            rc = rc == ESL_OK || rc == ESL_ENOTFOUND ? ESL_ECORRUPT : rc;
            break;
        }
        if ((rc = fn(arg, i, v.mv_data, v.mv_size)) != 0) {
            break;
        }
    }
    esl__eiter_close(&it);
    mdb_txn_abort(txn);
    return rc;
}


int
esl_root(esl_ledger *l, const char *shard, uint64_t size,
    unsigned char root[ESL_H])
{
    esl__shard  sh;
    esl__tctx   t;
    esl_hasher  h;
    MDB_txn    *txn;
    int         rc;

    if (root == NULL) {
        return ESL_EINVAL;
    }
    if ((rc = read_shard(l, shard, &sh, &txn)) != ESL_OK) {
        return rc;
    }
    t.txn = txn;
    t.st = sh.st;
    t.sid = sh.sid;
    t.h = &h;
    if (size > sh.size) {
        rc = ESL_EINVAL;
    } else if ((rc = esl__hasher_init(&h, l->md)) == ESL_OK) {
        rc = esl__root(&h, esl__tile_node, &t, size, root);
        esl__hasher_fini(&h);
    }
    mdb_txn_abort(txn);
    return rc;
}


static int
proof_common(esl_ledger *l, const char *shard, int incl, uint64_t a,
    uint64_t b, unsigned char (*proof)[ESL_H], size_t *n)
{
    esl__shard  sh;
    esl__tctx   t;
    esl_hasher  h;
    MDB_txn    *txn;
    int         rc;

    if (proof == NULL || n == NULL) {
        return ESL_EINVAL;
    }
    if ((rc = read_shard(l, shard, &sh, &txn)) != ESL_OK) {
        return rc;
    }
    t.txn = txn;
    t.st = sh.st;
    t.sid = sh.sid;
    t.h = &h;
    if (b > sh.size || (incl ? a >= b : a > b)) {
        rc = ESL_EINVAL;
    } else if ((rc = esl__hasher_init(&h, l->md)) == ESL_OK) {
        rc = incl ? esl__inclusion(&h, esl__tile_node, &t, a, b, proof, n)
                  : esl__consistency(&h, esl__tile_node, &t, a, b, proof, n);
        esl__hasher_fini(&h);
    }
    mdb_txn_abort(txn);
    return rc;
}


int
esl_inclusion_proof(esl_ledger *l, const char *shard, uint64_t index,
    uint64_t size, unsigned char (*proof)[ESL_H], size_t *n)
{
    return proof_common(l, shard, 1, index, size, proof, n);
}


int
esl_consistency_proof(esl_ledger *l, const char *shard, uint64_t from,
    uint64_t to, unsigned char (*proof)[ESL_H], size_t *n)
{
    return proof_common(l, shard, 0, from, to, proof, n);
}


static int
fill_info(esl_ledger *l, esl__shard *sh, esl_shard_info *i)
{
    memset(i, 0, sizeof(*i));
    esl__shard_name(sh, i->name);
    strcpy(i->origin, sh->origin);
    i->stripe = sh->si;
    i->mirror = (sh->flags & SHARD_MIRROR) != 0;
    i->readonly = esl__ro_check(l, sh->si, sh->sid);
    i->hash_alg = l->hash_alg;
    i->size = sh->size;
    i->height = sh->height;
    return ESL_OK;
}


int
esl_shard_info_get(esl_ledger *l, const char *shard, esl_shard_info *info)
{
    esl__shard  sh;
    MDB_txn    *txn;
    int         rc;

    if (info == NULL) {
        return ESL_EINVAL;
    }
    if ((rc = read_shard(l, shard, &sh, &txn)) != ESL_OK) {
        return rc;
    }
    mdb_txn_abort(txn);
    return fill_info(l, &sh, info);
}


int
esl_shards_list(esl_ledger *l, esl_shard_fn fn, void *arg)
{
    esl_shard_info  info;
    esl__shard      sh;
    MDB_txn        *txn;
    MDB_cursor     *cur;
    MDB_val         k, v;
    unsigned        si;
    int             rc = ESL_OK, mrc;

    if (l == NULL || fn == NULL) {
        return ESL_EINVAL;
    }
    for (si = 0; si < l->nstripes && rc == ESL_OK; si++) {
        if ((rc = esl__txn_begin(&l->st[si], 0, &txn)) != ESL_OK) {
            break;
        }
        if ((mrc = mdb_cursor_open(txn, l->st[si].shards, &cur)) != 0) {
            mdb_txn_abort(txn);
            return esl__mdb_err(mrc);
        }
        while ((mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
            memset(&sh, 0, sizeof(sh));
            if (k.mv_size < 2 || k.mv_size > SHARD_KEY_MAX
                || shard_decode(&sh, &v) != ESL_OK)
            {
                rc = ESL_ECORRUPT;
                break;
            }
            memcpy(sh.key, k.mv_data, k.mv_size);
            sh.keylen = k.mv_size;
            sh.si = si;
            sh.st = &l->st[si];
            fill_info(l, &sh, &info);
            if ((rc = fn(arg, &info)) != 0) {
                break;
            }
        }
        mdb_cursor_close(cur);
        mdb_txn_abort(txn);
    }
    return rc;
}


int
esl_lookup_leaf(esl_ledger *l, const unsigned char leaf[ESL_H],
    char shard[ESL_SHARD_MAX + ESL_ORIGIN_MAX + 2], uint64_t *index)
{
    esl__shard     sh;
    MDB_txn       *txn;
    unsigned char  kb[4];
    MDB_val        k = { 4, kb }, sk;
    uint32_t       sid;
    unsigned       si;
    int            rc;

    if (l == NULL || leaf == NULL || shard == NULL || index == NULL) {
        return ESL_EINVAL;
    }
    for (si = 0; si < l->nstripes; si++) {
        if ((rc = esl__txn_begin(&l->st[si], 0, &txn)) != ESL_OK) {
            return rc;
        }
        rc = esl__lidx_find(txn, &l->st[si], leaf, &sid, index);
        if (rc == ESL_ENOTFOUND) {
            mdb_txn_abort(txn);
            continue;
        }
        if (rc == ESL_OK) {
            esl__put32(kb, sid);
            rc = mdb_get(txn, l->st[si].sids, &k, &sk);
            if (rc == 0 && sk.mv_size >= 2 && sk.mv_size <= SHARD_KEY_MAX) {
                memcpy(sh.key, sk.mv_data, sk.mv_size);
                sh.keylen = sk.mv_size;
                esl__shard_name(&sh, shard);
                mdb_txn_abort(txn);
                return ESL_OK;
            }
            rc = ESL_ECORRUPT;
        }
        mdb_txn_abort(txn);
        return rc;
    }
    return ESL_ENOTFOUND;
}
