/*
 * esl_chunk.c: entries stored in chunks (format esl-4).
 *
 * Up to esl-3 every entry was one LMDB record keyed (sid, index): per
 * entry a 12-byte key, an 8-byte node header and a 2-byte slot, and leaf
 * pages that hold a whole number of entries (15 of 241 bytes in 4 KiB),
 * about 273 bytes written per 241-byte entry, and a cursor put each.
 *
 * Now the entries of one append (or one mirror import) are one record,
 * a chunk, keyed (sid u32, index of its first entry u64):
 *
 *     count u32 (1..ESL_CHUNK_MAX) || end u32 [count] || entry bytes
 *
 * end[i] is the offset just past entry i in the byte area, so entry i is
 * [end[i-1], end[i]) (end[-1] = 0); every entry is at least one byte
 * and the byte area ends exactly at the value's end.  A chunk holds at
 * most ESL_CHUNK_MAX entries and, unless it is a single entry, is at most
 * ESL_CHUNK_BYTES long: with LMDB's 16-byte page header that is 16
 * overflow pages, filled up to less than one entry.  (One chunk per
 * batch was tried: LMDB mallocs a dirty overflow value whole, and a
 * fresh 250 KB buffer per commit cost more in page faults than the
 * fewer puts saved.)  Chunks never change once written and tile
 * [0, size) of their shard without gaps or overlap.  Entry i is found
 * with one MDB_SET_RANGE (and one MDB_PREV when i is not a chunk's
 * first).
 */

#include <stdlib.h>

#include "esl_store.h"

#define CHUNK_HDR(c)  (4 + 4 * (size_t) (c))


static void
ckey(unsigned char k[12], uint32_t sid, uint64_t first)
{
    esl__put32(k, sid);
    esl__put64(k + 4, first);
}


/* The chunk's shape is sound: returns its entry count, 0 if it is not. */
static uint32_t
chunk_count(const MDB_val *v)
{
    const unsigned char  *p = v->mv_data;
    uint32_t              c, i, prev = 0, end;

    if (v->mv_size < CHUNK_HDR(1) + 1) {
        return 0;
    }
    c = esl__get32(p);
    if (c == 0 || c > ESL_CHUNK_MAX || v->mv_size < CHUNK_HDR(c) + c) {
        return 0;
    }
    for (i = 0; i < c; i++) {
        end = esl__get32(p + 4 + 4 * (size_t) i);
        if (end <= prev) {
            return 0;
        }
        prev = end;
    }
    return prev == v->mv_size - CHUNK_HDR(c) ? c : 0;
}


/* Entry i of a sound chunk of c entries. */
static void
chunk_entry(const MDB_val *v, uint32_t c, uint32_t i, MDB_val *e)
{
    const unsigned char  *p = v->mv_data;
    uint32_t              lo = i ? esl__get32(p + 4 * (size_t) i) : 0;

    e->mv_data = (unsigned char *) p + CHUNK_HDR(c) + lo;
    e->mv_size = esl__get32(p + 4 + 4 * (size_t) i) - lo;
}


/*
 * Store n entries (n >= 1) as chunks of the shard from index first on.
 * MDB_APPEND while the shard's keys are the last of the stripe (LMDB
 * refuses an out-of-order MDB_APPEND with MDB_KEYEXIST and changes
 * nothing; we then fall back to a plain put).  Each chunk is reserved in
 * the map and filled there: one copy of the bytes.
 */
int
esl__chunks_put(MDB_txn *txn, esl__shard *sh, uint64_t first,
    const unsigned char *const *bytes, const size_t *len, size_t n)
{
    MDB_cursor     *cur;
    unsigned char   kb[12], *p;
    MDB_val         k = { 12, kb }, d;
    size_t          i = 0, c, j, sum, off;
    int             rc = 0, append = 1;

    for (j = 0; j < n; j++) {
        if (len[j] == 0 || len[j] > ESL_ENTRY_MAX) {
            return ESL_EINVAL;
        }
    }
    if ((rc = mdb_cursor_open(txn, sh->st->entries, &cur)) != 0) {
        return esl__mdb_err(rc);
    }
    while (i < n && rc == 0) {
        /* as many entries as fit, at least one */
        sum = len[i];
        for (c = 1; i + c < n && c < ESL_CHUNK_MAX
                    && CHUNK_HDR(c + 1) + sum + len[i + c] <= ESL_CHUNK_BYTES;
             c++)
        {
            sum += len[i + c];
        }
        ckey(kb, sh->sid, first + i);
        d.mv_size = CHUNK_HDR(c) + sum;
        rc = MDB_KEYEXIST;
        if (append) {
            rc = mdb_cursor_put(cur, &k, &d, MDB_APPEND | MDB_RESERVE);
            if (rc == MDB_KEYEXIST) {
                append = 0;     /* a later shard of this stripe has keys */
                d.mv_size = CHUNK_HDR(c) + sum;
            }
        }
        if (rc == MDB_KEYEXIST) {
            rc = mdb_cursor_put(cur, &k, &d, MDB_NOOVERWRITE | MDB_RESERVE);
        }
        if (rc != 0) {
            break;
        }
        p = d.mv_data;
        esl__put32(p, (uint32_t) c);
        for (j = 0, off = 0; j < c; j++) {
            memcpy(p + CHUNK_HDR(c) + off, bytes[i + j], len[i + j]);
            off += len[i + j];
            esl__put32(p + 4 + 4 * j, (uint32_t) off);
        }
        i += c;
    }
    mdb_cursor_close(cur);
    if (rc != 0) {
        return rc == MDB_KEYEXIST ? ESL_ECORRUPT : esl__mdb_err(rc);
    }
    return ESL_OK;
}


/* Entry idx of shard sid: ESL_ENOTFOUND if no chunk holds it,
 * ESL_ECORRUPT if the chunk that should is malformed. */
int
esl__entry_at(MDB_txn *txn, esl__stripe *st, uint32_t sid, uint64_t idx,
    MDB_val *e)
{
    esl__eiter  it;
    uint64_t    at;
    int         rc;

    if ((rc = esl__eiter_open(txn, st, sid, idx, &it)) != ESL_OK) {
        return rc;
    }
    rc = esl__eiter_next(&it, &at, e);
    esl__eiter_close(&it);
    return rc == ESL_OK && at != idx ? ESL_ENOTFOUND : rc;
}


/*
 * Iterate a shard's entries in index order from start on: the chunk
 * holding start (or the first one after it), then the following chunks
 * of the shard.  next() hands out each stored entry with its index; a
 * caller that needs contiguity compares the index with the one it
 * expects.  Pointers stay valid while the txn lives.
 */
static int
eiter_seek(MDB_txn *txn, esl__stripe *st, uint32_t sid, uint64_t start,
    esl__eiter *it)
{
    unsigned char  kb[12];
    MDB_val        k = { 12, kb }, v;
    uint64_t       f;
    int            rc, had;

    memset(it, 0, sizeof(*it));
    it->sid = sid;
    if ((rc = mdb_cursor_open(txn, st->entries, &it->cur)) != 0) {
        it->cur = NULL;
        return esl__mdb_err(rc);
    }
    ckey(kb, sid, start);
    rc = mdb_cursor_get(it->cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && k.mv_size == 12 && esl__get32(k.mv_data) == sid
        && esl__get64((unsigned char *) k.mv_data + 4) == start)
    {
        goto have;              /* a chunk starts at start */
    }
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return esl__mdb_err(rc);
    }
    /* the chunk before holds start, if it is this shard's */
    had = rc == 0;
    rc = mdb_cursor_get(it->cur, &k, &v, had ? MDB_PREV : MDB_LAST);
    if (rc == 0 && k.mv_size == 12 && esl__get32(k.mv_data) == sid) {
        goto have;
    }
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return esl__mdb_err(rc);
    }
    if (!had) {
        it->done = 1;
        return ESL_OK;
    }
    /* if not, the first chunk after start, if it is this shard's */
    ckey(kb, sid, start);
    k.mv_size = 12;
    k.mv_data = kb;
    if ((rc = mdb_cursor_get(it->cur, &k, &v, MDB_SET_RANGE)) != 0) {
        return esl__mdb_err(rc);
    }
have:
    if (k.mv_size != 12 || esl__get32(k.mv_data) != sid) {
        it->done = 1;
        return ESL_OK;
    }
    if ((it->count = chunk_count(&v)) == 0) {
        return ESL_ECORRUPT;
    }
    it->chunk = v;
    f = esl__get64((unsigned char *) k.mv_data + 4);
    it->first = f;
    it->pos = start > f && start - f < it->count ? (uint32_t) (start - f)
              : start > f ? it->count : 0;
    return ESL_OK;
}


/* On failure nothing is left open. */
int
esl__eiter_open(MDB_txn *txn, esl__stripe *st, uint32_t sid, uint64_t start,
    esl__eiter *it)
{
    int  rc = eiter_seek(txn, st, sid, start, it);

    if (rc != ESL_OK) {
        esl__eiter_close(it);
    }
    return rc;
}


int
esl__eiter_next(esl__eiter *it, uint64_t *idx, MDB_val *e)
{
    MDB_val  k, v;
    int      rc;

    if (it->done) {
        return ESL_ENOTFOUND;
    }
    while (it->pos == it->count) {
        rc = mdb_cursor_get(it->cur, &k, &v, MDB_NEXT);
        if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size != 12
                                   || esl__get32(k.mv_data) != it->sid)))
        {
            it->done = 1;
            return ESL_ENOTFOUND;
        }
        if (rc != 0) {
            return esl__mdb_err(rc);
        }
        if ((it->count = chunk_count(&v)) == 0) {
            return ESL_ECORRUPT;
        }
        it->chunk = v;
        it->first = esl__get64((unsigned char *) k.mv_data + 4);
        it->pos = 0;
    }
    chunk_entry(&it->chunk, it->count, it->pos, e);
    *idx = it->first + it->pos++;
    return ESL_OK;
}


void
esl__eiter_close(esl__eiter *it)
{
    if (it->cur != NULL) {
        mdb_cursor_close(it->cur);
        it->cur = NULL;
    }
}
