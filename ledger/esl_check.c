/*
 * esl_check.c: the start-up self-check and the full fsck (esl_verify).
 * Both only read; a failing shard is marked read-only in the handle, and
 * nothing is ever rewritten or wiped.
 */

#include <stdio.h>
#include <stdlib.h>

#include "esl_store.h"


typedef struct {
    esl_ledger     *l;
    esl_report_fn   fn;
    void           *arg;
    char            name[ESL_SHARD_MAX + ESL_ORIGIN_MAX + 2];
    int             faults;
} report;


static void
fault(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include <stdarg.h>

static void
fault(report *r, const char *fmt, ...)
{
    char     msg[512];
    va_list  ap;

    r->faults++;
    if (r->fn != NULL) {
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        r->fn(r->arg, 1, r->name, msg);
    }
}


static void
note(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(report *r, const char *fmt, ...)
{
    char     msg[512];
    va_list  ap;

    if (r->fn != NULL) {
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        r->fn(r->arg, 0, r->name, msg);
    }
}


typedef int (*shard_check_fn)(esl_ledger *l, MDB_txn *txn, esl__shard *sh,
    const esl_verifier *v, report *r, esl_verify_stats *stats);


/* Run check on one shard or on all of them, one read txn per shard so
 * that a long fsck does not pin one snapshot of a busy stripe. */
static int
for_shards(esl_ledger *l, const char *shard, shard_check_fn check,
    const esl_verifier *v, report *r, esl_verify_stats *stats, int mark)
{
    esl__shard     sh;
    MDB_txn       *txn;
    MDB_cursor    *cur;
    MDB_val        k, d;
    unsigned       si;
    unsigned char  (*keys)[SHARD_KEY_MAX + 1] = NULL, (*nk)[SHARD_KEY_MAX + 1];
    size_t         nkeys = 0, cap = 0, i;
    int            rc, bad = 0, before;

    if (shard != NULL) {
        if ((rc = esl__shard_key(l, shard, &sh)) != ESL_OK) {
            return rc;
        }
        cap = nkeys = 1;
        keys = malloc(sizeof(*keys));
        if (keys == NULL) {
            return ESL_ENOMEM;
        }
        keys[0][0] = (unsigned char) sh.keylen;
        memcpy(keys[0] + 1, sh.key, sh.keylen);
    } else {
        for (si = 0; si < l->nstripes; si++) {
            if ((rc = esl__txn_begin(&l->st[si], 0, &txn)) != ESL_OK) {
                free(keys);
                return rc;
            }
            if (mdb_cursor_open(txn, l->st[si].shards, &cur) != 0) {
                mdb_txn_abort(txn);
                free(keys);
                return ESL_ESTORE;
            }
            while (mdb_cursor_get(cur, &k, &d, MDB_NEXT) == 0) {
                if (k.mv_size < 2 || k.mv_size > SHARD_KEY_MAX) {
                    continue;
                }
                if (nkeys == cap) {
                    cap = cap ? cap * 2 : 16;
                    nk = realloc(keys, cap * sizeof(*keys));
                    if (nk == NULL) {
                        mdb_cursor_close(cur);
                        mdb_txn_abort(txn);
                        free(keys);
                        return ESL_ENOMEM;
                    }
                    keys = nk;
                }
                keys[nkeys][0] = (unsigned char) k.mv_size;
                memcpy(keys[nkeys] + 1, k.mv_data, k.mv_size);
                nkeys++;
            }
            mdb_cursor_close(cur);
            mdb_txn_abort(txn);
        }
    }

    for (i = 0; i < nkeys; i++) {
        char name[ESL_SHARD_MAX + ESL_ORIGIN_MAX + 2];
        memset(&sh, 0, sizeof(sh));
        sh.keylen = keys[i][0];
        memcpy(sh.key, keys[i] + 1, sh.keylen);
        esl__shard_name(&sh, name);
        if ((rc = esl__shard_key(l, name, &sh)) != ESL_OK) {
            continue;
        }
        strcpy(r->name, name);
        if ((rc = esl__txn_begin(sh.st, 0, &txn)) != ESL_OK) {
            free(keys);
            return rc;
        }
        rc = esl__shard_load(txn, &sh);
        if (rc != ESL_OK) {
            mdb_txn_abort(txn);
            if (shard != NULL) {
                free(keys);
                return rc;
            }
            fault(r, "shard record unreadable: %s", esl_strerror(rc));
            bad++;
            continue;
        }
        before = r->faults;
        rc = check(l, txn, &sh, v, r, stats);
        mdb_txn_abort(txn);
        if (rc < 0 && rc != ESL_ECORRUPT) {
            free(keys);
            return rc;
        }
        if (r->faults > before) {
            bad++;
            if (mark) {
                esl__ro_mark(l, sh.si, sh.sid);
                note(r, "shard is now read-only: appends refused until "
                        "repaired; data left untouched");
            }
        }
        if (stats != NULL) {
            stats->shards++;
        }
    }
    free(keys);
    return bad;
}


static int
leaf_at(MDB_txn *txn, esl__shard *sh, uint64_t i, esl_hasher *h,
    unsigned char out[ESL_H], MDB_val *v)
{
    int  rc;

    if ((rc = esl__entry_at(txn, sh->st, sh->sid, i, v)) != ESL_OK) {
        return rc;
    }
    return esl_leaf_hash(h, v->mv_data, v->mv_size, out);
}


/*
 * Self-check: the last block's note parses (and verifies, if we know the
 * key), its size is the shard's, the tiles give its root, and the
 * entries of the last block still hash to the stored leaves.
 */
static int
selfcheck_one(esl_ledger *l, MDB_txn *txn, esl__shard *sh,
    const esl_verifier *v, report *r, esl_verify_stats *stats)
{
    esl_hasher      h;
    esl__tctx       t = { txn, sh->st, sh->sid, &h };
    esl_checkpoint  cp, pcp;
    unsigned char   root[ESL_H], a[ESL_H], b[ESL_H];
    MDB_val         nv, ev;
    uint64_t        from = 0, i;
    int             rc;

    (void) stats;
    if (sh->height == 0) {
        if (sh->size != 0) {
            fault(r, "size %llu without any block",
                  (unsigned long long) sh->size);
        }
        return ESL_OK;
    }
    if (esl__hasher_init(&h, l->md) != ESL_OK) {
        return ESL_ENOMEM;
    }
    if (esl__block_get(txn, sh, sh->height, &nv) != ESL_OK
        || esl_checkpoint_parse(nv.mv_data, nv.mv_size, &cp) != ESL_OK)
    {
        fault(r, "last block %llu missing or unparsable",
              (unsigned long long) sh->height);
        goto done;
    }
    if (v != NULL && !(sh->flags & SHARD_MIRROR)
        && esl_checkpoint_verify(v, nv.mv_data, nv.mv_size, NULL) != ESL_OK)
    {
        fault(r, "last block %llu: signature does not verify",
              (unsigned long long) sh->height);
    }
    if (cp.size != sh->size || cp.height != sh->height) {
        fault(r, "last block says size %llu height %llu, shard record "
                 "%llu/%llu", (unsigned long long) cp.size,
              (unsigned long long) cp.height,
              (unsigned long long) sh->size,
              (unsigned long long) sh->height);
        goto done;
    }
    rc = esl__root(&h, esl__tile_node, &t, cp.size, root);
    if (rc != ESL_OK || memcmp(root, cp.root, ESL_H) != 0) {
        fault(r, "tree at size %llu does not give the signed root%s",
              (unsigned long long) cp.size,
              rc == ESL_OK ? "" : " (tiles unreadable)");
    }
    if (sh->height > 1 && esl__block_get(txn, sh, sh->height - 1, &nv)
                          == ESL_OK
        && esl_checkpoint_parse(nv.mv_data, nv.mv_size, &pcp) == ESL_OK)
    {
        from = pcp.size;
    }
    for (i = from; i < cp.size; i++) {
        if (leaf_at(txn, sh, i, &h, a, &ev) != ESL_OK
            || esl__tile_node(&t, 0, i, b) != ESL_OK
            || memcmp(a, b, ESL_H) != 0)
        {
            fault(r, "entry %llu of the last block does not match its leaf",
                  (unsigned long long) i);
            break;
        }
    }
done:
    esl__hasher_fini(&h);
    return ESL_OK;
}


int
esl_selfcheck(esl_ledger *l, const char *shard, esl_report_fn fn, void *arg)
{
    report  r;

    if (l == NULL) {
        return ESL_EINVAL;
    }
    memset(&r, 0, sizeof(r));
    r.l = l;
    r.fn = fn;
    r.arg = arg;
    return for_shards(l, shard, selfcheck_one, l->verifier, &r, NULL, 1);
}


/* ------------------------------------------------------------------ */
/* fsck                                                                */
/* ------------------------------------------------------------------ */

/* One partial tile per level while streaming the leaves. */
typedef struct {
    esl_hasher     *h;
    esl__tctx      *t;
    report         *r;
    unsigned char   row[8][256][ESL_H];  /* row[L] = level L's row 0 */
    unsigned        w[8];
    uint64_t        n[8];               /* tile index being filled */
    unsigned char  *exp;                /* expected tile bytes */
    unsigned char  *all;                /* every row, rows back to back */
    int             bad_tiles;
} tilewalk;


static int
tile_check(tilewalk *tw, unsigned L)
{
    unsigned char  kb[13], *rows = tw->all, *lo, *hi;
    MDB_val        k = { 13, kb }, d;
    unsigned       w = tw->w[L], r;
    size_t         off;

    /* Expected rows, computed from row 0 only (every row, the unstored
     * row 1 too), then the stored ones laid out as a tile. */
    memcpy(rows, tw->row[L], (size_t) w * ESL_H);
    lo = rows;
    for (r = 1; r < 8; r++) {
        hi = lo + (size_t) (w >> (r - 1)) * ESL_H;
        if (esl__node_row(tw->h, lo, w >> r, (unsigned char (*)[ESL_H]) hi)
            != ESL_OK)
        {
            return ESL_ECRYPTO;
        }
        lo = hi;
    }
    for (r = 0, lo = rows; r < 8; lo += (size_t) (w >> r) * ESL_H, r++) {
        if (esl__tile_row_stored(r)) {
            memcpy(tw->exp + esl__tile_row_off(w, r) * ESL_H, lo,
                   (size_t) (w >> r) * ESL_H);
        }
    }
    esl__put32(kb, tw->t->sid);
    kb[4] = (unsigned char) L;
    esl__put64(kb + 5, tw->n[L]);
    off = esl__tile_len(w);
    if (mdb_get(tw->t->txn, tw->t->st->tiles, &k, &d) != 0) {
        fault(tw->r, "tile %u/%llu missing", L,
              (unsigned long long) tw->n[L]);
        tw->bad_tiles++;
    } else if (d.mv_size != off || memcmp(d.mv_data, tw->exp, off) != 0) {
        fault(tw->r, "tile %u/%llu (width %u) differs from the hashes "
                     "recomputed from the entries", L,
              (unsigned long long) tw->n[L], w);
        tw->bad_tiles++;
    }
    return ESL_OK;
}


static int
tile_push(tilewalk *tw, unsigned L, const unsigned char hash[ESL_H])
{
    unsigned char  top[ESL_H];
    unsigned char *r7;
    int            rc;

    memcpy(tw->row[L][tw->w[L]++], hash, ESL_H);
    if (tw->w[L] < 256) {
        return ESL_OK;
    }
    if ((rc = tile_check(tw, L)) != ESL_OK) {
        return rc;
    }
    r7 = tw->exp + esl__tile_row_off(256, 7) * ESL_H;
    if ((rc = esl_node_hash(tw->h, r7, r7 + ESL_H, top)) != ESL_OK) {
        return rc;
    }
    tw->w[L] = 0;
    tw->n[L]++;
    return L + 1 < 8 ? tile_push(tw, L + 1, top) : ESL_OK;
}


/*
 * Index back-checks as multiset fingerprints: the shard's records in the
 * leaf-hash index runs must be exactly {(leaf_i, sid, i)}, and its
 * records in the idempotency runs exactly {(h(entry_id_i), sid, i)}.  Both sides are summed
 * with SipHash-2-4 under a key drawn for this check (a tamperer cannot
 * aim for a collision without the key), plus counts.  This reads each
 * index once in key order instead of looking every entry up: the leaf
 * runs are sequential values.
 */
static int
index_check(MDB_txn *txn, esl__shard *sh, const uint64_t key[2],
    const esl__fp *leaf_e, const esl__fp *idem_e, report *r)
{
    esl__fp   fp;
    uint64_t  bad;
    int       rc;

    if ((rc = esl__lidx_fp(txn, sh->st, sh->sid, key, &fp, &bad))
        != ESL_OK)
    {
        return rc;
    }
    if (bad != 0) {
        fault(r, "leaf-hash index run %llu is malformed or not sorted",
              (unsigned long long) bad);
    }
    if (fp.n != leaf_e->n || fp.sum != leaf_e->sum) {
        fault(r, "leaf-hash index does not match the entries (%llu "
                 "records for %llu entries%s)", (unsigned long long) fp.n,
              (unsigned long long) leaf_e->n,
              fp.n == leaf_e->n ? ", contents differ" : "");
    }
    if ((rc = esl__idem_fp(txn, sh->st, sh->sid, key, &fp, &bad))
        != ESL_OK)
    {
        return rc;
    }
    if (bad != 0) {
        fault(r, "idempotency index run %llu is malformed or not sorted",
              (unsigned long long) bad);
    }
    if (fp.n != idem_e->n || fp.sum != idem_e->sum) {
        fault(r, "idempotency index does not match the entries (%llu "
                 "records for %llu decodable entries%s)",
              (unsigned long long) fp.n, (unsigned long long) idem_e->n,
              fp.n == idem_e->n ? ", contents differ" : "");
    }
    return ESL_OK;
}


#define VCHUNK  64

static int
verify_one(esl_ledger *l, MDB_txn *txn, esl__shard *sh,
    const esl_verifier *v, report *r, esl_verify_stats *stats)
{
    esl_hasher      h;
    esl__tctx       t = { txn, sh->st, sh->sid, &h };
    tilewalk       *tw;
    esl_checkpoint  cp;
    esl__fp         lfp = { 0, 0 }, ifp = { 0, 0 };
    uint64_t        fkey[2];
    unsigned char   rec[ESL_ENTRY_ID_MAX + 8];
    esl_entry       e;
    esl__eiter      it;
    unsigned char   prev[ESL_H];
    const unsigned char *vp[VCHUNK];
    size_t          vl[VCHUNK];
    unsigned char   vh[VCHUNK][ESL_H];
    unsigned char   root[ESL_H];
    MDB_val         d;
    uint64_t        i, at = 0, hgt, ptime = 0, psize = 0;
    unsigned        L;
    int             rc, mrc, efaults = 0, have_prev = 1;

    memset(&it, 0, sizeof(it));
    if ((rc = esl__hasher_init(&h, l->md)) != ESL_OK) {
        return rc;
    }
    if ((rc = esl__fp_key(fkey)) != ESL_OK) {
        esl__hasher_fini(&h);
        return rc;
    }
    tw = calloc(1, sizeof(*tw));
    if (tw == NULL || (tw->exp = malloc(esl__tile_len(256))) == NULL
        || (tw->all = malloc(511 * ESL_H)) == NULL)
    {
        if (tw != NULL) {
            free(tw->exp);
        }
        free(tw);
        esl__hasher_fini(&h);
        return ESL_ENOMEM;
    }
    tw->h = &h;
    tw->t = &t;
    tw->r = r;

    /* 1. entries: contiguous, canonical, indexed, hashed into tiles */
    mrc = esl__eiter_open(txn, sh->st, sh->sid, 0, &it);
    if (mrc != ESL_OK && mrc != ESL_ECORRUPT) {
        rc = mrc;
        goto done;
    }
    /* VCHUNK entries at a time: their leaf hashes in one multi-buffer
     * pass (the pointers stay valid for the read txn), then decode,
     * fingerprints and tiles one by one */
    for (i = 0; i < sh->size; ) {
        size_t  cn = 0, q;
        int     gap = 0;

        while (cn < VCHUNK && i + cn < sh->size) {
            if (mrc == ESL_OK) {
                mrc = esl__eiter_next(&it, &at, &d);
            }
            if (mrc != ESL_OK || at != i + cn) {
                gap = 1;
                break;
            }
            vp[cn] = d.mv_data;
            vl[cn++] = d.mv_size;
            if (stats != NULL) {
                stats->entries++;
                stats->entry_bytes += d.mv_size;
            }
        }
        if (cn > 0 && (rc = esl__leaf_hashes(&h, vp, vl, cn, vh)) != ESL_OK)
        {
            goto done;
        }
        for (q = 0; q < cn; q++, i++) {
            if (esl_entry_decode(vp[q], vl[q], &e) != ESL_OK) {
                if (efaults++ < 20) {
                    fault(r, "entry %llu is not a canonical entry",
                          (unsigned long long) i);
                }
            } else {
                esl__idem_rec(rec, esl__idem_hash(sh->st, e.entry_id,
                                                  e.entry_id_len),
                              sh->sid, i);
                ifp.sum += esl__siphash(fkey, rec, ESL_IREC);
                ifp.n++;
            }
            esl__lidx_rec(rec, esl__lidx_hash(sh->st, vh[q]), sh->sid, i);
            lfp.sum += esl__siphash(fkey, rec, ESL_LREC);
            lfp.n++;
            if ((rc = tile_push(tw, 0, vh[q])) != ESL_OK) {
                goto done;
            }
            if (tw->bad_tiles > 20) {
                fault(r, "too many bad tiles, giving up on the tree");
                goto blocks;
            }
        }
        if (gap) {
            fault(r, mrc == ESL_ECORRUPT ? "entry %llu missing (malformed "
                     "chunk)" : "entry %llu missing", (unsigned long long) i);
            rc = ESL_OK;
            goto blocks;        /* the tree cannot be rebuilt past a gap */
        }
    }
    if ((rc = index_check(txn, sh, fkey, &lfp, &ifp, r)) != ESL_OK) {
        goto done;
    }
    /* partial right-edge tiles */
    for (L = 0; L < 8; L++) {
        if (tw->w[L] > 0 && (rc = tile_check(tw, L)) != ESL_OK) {
            goto done;
        }
    }

blocks:
    /* 2. blocks: chain, monotonic, roots, signatures */
    memset(prev, 0, ESL_H);
    for (hgt = 1; hgt <= sh->height; hgt++) {
        rc = esl__block_get(txn, sh, hgt, &d);
        if (rc == ESL_ENOTFOUND && (sh->flags & SHARD_MIRROR)) {
            /* a mirror holds the blocks it was sent, not every one */
            have_prev = 0;
            continue;
        }
        if (rc != ESL_OK
            || esl_checkpoint_parse(d.mv_data, d.mv_size, &cp) != ESL_OK)
        {
            fault(r, "block %llu missing or unparsable",
                  (unsigned long long) hgt);
            memset(prev, 0xff, ESL_H);
            continue;
        }
        if (stats != NULL) {
            stats->blocks++;
        }
        if (cp.height != hgt) {
            fault(r, "block %llu says height %llu", (unsigned long long) hgt,
                  (unsigned long long) cp.height);
        }
        if (strcmp(cp.origin, sh->origin) != 0) {
            fault(r, "block %llu has origin %s", (unsigned long long) hgt,
                  cp.origin);
        }
        if (have_prev && memcmp(cp.prev, prev, ESL_H) != 0) {
            fault(r, "block %llu does not link to block %llu",
                  (unsigned long long) hgt, (unsigned long long) hgt - 1);
        }
        if (cp.time_ms < ptime) {
            fault(r, "block %llu time goes backwards",
                  (unsigned long long) hgt);
        }
        if (cp.size < psize || cp.size > sh->size) {
            fault(r, "block %llu size %llu out of order",
                  (unsigned long long) hgt, (unsigned long long) cp.size);
        } else if (esl__root(&h, esl__tile_node, &t, cp.size, root) != ESL_OK
                   || memcmp(root, cp.root, ESL_H) != 0)
        {
            fault(r, "block %llu root does not match the tree at size %llu",
                  (unsigned long long) hgt, (unsigned long long) cp.size);
        }
        if (v != NULL && !(sh->flags & SHARD_MIRROR)
            && esl_checkpoint_verify(v, d.mv_data, d.mv_size, NULL)
               != ESL_OK)
        {
            fault(r, "block %llu signature does not verify",
                  (unsigned long long) hgt);
        }
        esl_hash(&h, d.mv_data, cp.body_len, prev);
        have_prev = 1;
        ptime = cp.time_ms;
        psize = cp.size;
    }
    if (sh->height > 0 && psize != sh->size) {
        fault(r, "last block covers %llu entries, shard holds %llu",
              (unsigned long long) psize, (unsigned long long) sh->size);
    }
    note(r, "%llu entries, %llu blocks checked",
         (unsigned long long) sh->size, (unsigned long long) sh->height);
    rc = ESL_OK;

done:
    esl__eiter_close(&it);
    free(tw->exp);
    free(tw->all);
    free(tw);
    esl__hasher_fini(&h);
    return rc;
}


int
esl_verify(esl_ledger *l, const char *shard, const esl_verifier *v,
    esl_report_fn fn, void *arg, esl_verify_stats *stats)
{
    report  r;
    int     rc;

    if (l == NULL) {
        return ESL_EINVAL;
    }
    if (stats != NULL) {
        memset(stats, 0, sizeof(*stats));
    }
    memset(&r, 0, sizeof(r));
    r.l = l;
    r.fn = fn;
    r.arg = arg;
    rc = for_shards(l, shard, verify_one, v ? v : l->verifier, &r, stats, 0);
    return rc < 0 ? rc : r.faults;
}
