/*
 * esl_idem.c: the idempotency index as sorted runs (format esl-3).
 *
 * The index maps (shard, entry_id) to the entry's index.  Format esl-2
 * kept a B-tree keyed by sid || entry_id: one get and one put per entry,
 * and with real entry ids ("<random contract id>/<serial>", random across
 * contracts) each batch of 1024 dirtied about one page per entry, as the
 * leaf-hash index did before it became runs.
 *
 * Now it is built like the leaf-hash index (esl_lidx.c, same run code):
 * each append adds one run of 16-byte records (esl-4; 20 in esl-3)
 *
 *     h 48 bits || sid u32 || index 48 bits,
 *     h = the top 48 bits of SipHash-2-4(stripe key, entry_id)
 *
 * sorted, in the stripe-wide `iruns` DB, merged tiered (esl_lidx.c).
 * The stripe key is 16 random bytes drawn when the stripe is created
 * (meta "idkey"), so nobody can aim ids at one h without reading the
 * store.
 *
 * h is only a filter: a record whose h and sid match names a candidate
 * index, and the candidate counts only if the entry stored there carries
 * exactly the same entry_id bytes.  Colliding ids therefore just cost an
 * extra entry read, and idempotency stays exact.  A shard never holds
 * two entries with one entry_id (a second one is a retry or a conflict,
 * never appended), so the first writer is the only writer.
 *
 * Lookups for a batch are sorted by h, and each run is searched with a
 * lower bound that only moves forward.
 */

#include <stdlib.h>

#include "esl_store.h"

#define IREC         ESL_IREC
#define IDEM_FANOUT  4

/* Tests narrow this to force collisions (the exact id check must still
 * give the right answers); always all ones otherwise. */
uint64_t  esl__idem_mask = ~0ULL;


uint64_t
esl__idem_hash(const esl__stripe *st, const unsigned char *id, size_t len)
{
    return (esl__siphash(st->idkey, id, len) >> 16) & esl__idem_mask;
}


void
esl__idem_rec(unsigned char rec[ESL_IREC], uint64_t h, uint32_t sid,
    uint64_t idx)
{
    esl__xrec(rec, h, sid, idx);
}


/* The entry_id inside stored entry bytes (the encoding's fixed prefix:
 * version u8, kind u16, time u64, id length u8, id). */
static int
stored_id_is(const MDB_val *d, const unsigned char *id, size_t len)
{
    const unsigned char  *p = d->mv_data;

    return d->mv_size >= 12 + len && p[11] == len
           && memcmp(p + 12, id, len) == 0;
}


/*
 * Which of the batch's ids this shard holds already (found[i], the index)
 * and which repeat an earlier position of the batch (dupof[i]).  q
 * (n * IREC bytes) receives the batch's keys (h, sid, position), sorted;
 * esl__idem_add turns them into the batch's run without sorting again.
 */
int
esl__idem_find(MDB_txn *txn, esl__stripe *st, uint32_t sid, size_t n,
    const uint64_t *h, const unsigned char *const *ids, const size_t *idlen,
    uint64_t *found, size_t *dupof, unsigned char *q)
{
    MDB_cursor           *cur = NULL;
    MDB_val               k, v, ed;
    const unsigned char  *p, *r;
    size_t                i, j, a, m, lo, hi, mid, pos, pb, step;
    uint64_t              hv, idx;
    int                   rc, op = MDB_FIRST, linear;

    for (i = 0; i < n; i++) {
        found[i] = ESL_NOIDX;
        dupof[i] = ESL_NOPOS;
    }
    if (n == 0) {
        return ESL_OK;
    }
    /* the batch's keys in h order; the position stands in for the index */
    for (i = 0; i < n; i++) {
        esl__idem_rec(q + i * IREC, h[i], sid, i);
    }
    if ((rc = esl__runs_sort(q, n, IREC)) != ESL_OK) {
        return rc;
    }

    /* ids repeated inside the batch: each refers to its first position */
    for (a = 1; a < n; a++) {
        hv = esl__xrec_h(q + a * IREC);
        pos = (size_t) esl__xrec_idx(q + a * IREC);
        for (j = a; j > 0 && esl__xrec_h(q + (j - 1) * IREC) == hv; j--) {
            pb = (size_t) esl__xrec_idx(q + (j - 1) * IREC);
            if (idlen[pb] == idlen[pos]
                && memcmp(ids[pb], ids[pos], idlen[pos]) == 0)
            {
                /* positions ascend within equal h: pb's own first
                 * position is already known */
                dupof[pos] = dupof[pb] != ESL_NOPOS ? dupof[pb] : pb;
            }
        }
    }

    /* ids stored before: every run, each searched forward in h order */
    if ((rc = mdb_cursor_open(txn, st->iruns, &cur)) != 0) {
        return esl__mdb_err(rc);
    }
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        op = MDB_NEXT;
        if (v.mv_size % IREC != 0) {
            rc = MDB_CORRUPTED;
            break;
        }
        p = v.mv_data;
        m = v.mv_size / IREC;
        lo = 0;
        linear = m <= 32 * n;
        for (a = 0; a < n && lo < m; a++) {
            hv = esl__xrec_h(q + a * IREC);
            pos = (size_t) esl__xrec_idx(q + a * IREC);
            /* lo never moves past records equal to an earlier key, so
             * keys with the same h all see them */
            /* the first record with h >= hv: a run up to 32 records per
             * key is walked (sequential, prefetched), a longer one
             * searched by galloping from lo, then bisecting */
            if (linear) {
                while (lo < m && esl__xrec_h(p + lo * IREC) < hv) {
                    lo++;
                }
            }
            for (step = 1; !linear && lo + step < m
                 && esl__xrec_h(p + (lo + step) * IREC) < hv; step *= 2)
            {
                lo += step;
            }
            hi = lo + step < m ? lo + step : m;
            while (lo < hi) {
                mid = lo + (hi - lo) / 2;
                if (esl__xrec_h(p + mid * IREC) < hv) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            for (r = p + lo * IREC; r < p + m * IREC && esl__xrec_h(r) == hv;
                 r += IREC)
            {
                if (found[pos] != ESL_NOIDX || esl__xrec_sid(r) != sid) {
                    continue;
                }
                idx = esl__xrec_idx(r);
                rc = esl__entry_at(txn, st, sid, idx, &ed);
                if (rc != ESL_OK) {
                    /* the index names an entry that is not there */
                    rc = rc == ESL_ENOTFOUND ? ESL_ECORRUPT : rc;
                    goto out;
                }
                if (stored_id_is(&ed, ids[pos], idlen[pos])) {
                    found[pos] = idx;
                }
            }
        }
    }
    if (rc == MDB_NOTFOUND) {
        rc = 0;
    }
    rc = rc == 0 ? ESL_OK : rc == MDB_CORRUPTED ? ESL_ECORRUPT
                                                : esl__mdb_err(rc);
out:
    mdb_cursor_close(cur);
    return rc;
}


/*
 * The batch's run: the sorted keys q of esl__idem_find with each position
 * replaced by its new index, positions that were not appended
 * (newidx[pos] == ESL_NOIDX) left out.  New indexes grow with the
 * position, so records of equal h stay in (sid, index) order: q is
 * already the sorted run.
 */
int
esl__idem_add(MDB_txn *txn, esl__stripe *st, size_t n,
    const unsigned char *q, const uint64_t *newidx)
{
    unsigned char  *run;
    size_t          i, m = 0;
    uint64_t        idx;
    int             rc;

    if (n == 0) {
        return ESL_OK;
    }
    if ((run = malloc(n * IREC)) == NULL) {
        return ESL_ENOMEM;
    }
    for (i = 0; i < n; i++, q += IREC) {
        idx = newidx[esl__xrec_idx(q)];
        if (idx != ESL_NOIDX) {
            esl__xrec(run + m * IREC, esl__xrec_h(q), esl__xrec_sid(q), idx);
            m++;
        }
    }
    rc = esl__runs_add(txn, st->iruns, IREC, ESL_XKEY, IDEM_FANOUT, run, m);
    free(run);
    return rc;
}


int
esl__idem_fp(MDB_txn *txn, esl__stripe *st, uint32_t sid,
    const uint64_t key[2], esl__fp *fp, uint64_t *badrun)
{
    return esl__runs_fp(txn, st->iruns, IREC, ESL_XKEY, ESL_XKEY, sid, key, fp,
                        badrun);
}

