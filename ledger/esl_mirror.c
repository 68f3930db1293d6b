/*
 * esl_mirror.c: the mirror (witness) half of replication: verify another
 * site's block against what we hold, store it durably, cosign it, and
 * keep signed proof of misbehaviour instead of accepting it.
 */

#include <stdio.h>
#include <stdlib.h>

#include "esl_store.h"


static int
mirror_key(esl_ledger *l, const char *origin, esl__shard *sh)
{
    char  name[ESL_ORIGIN_MAX + 2];

    if (origin == NULL || strlen(origin) == 0
        || strlen(origin) > ESL_ORIGIN_MAX)
    {
        return ESL_EINVAL;
    }
    name[0] = '=';
    strcpy(name + 1, origin);
    return esl__shard_key(l, name, sh);
}


/* Misbehaviour evidence, in its own committed transaction (the import
 * itself was refused and rolled back). */
static int
record_evidence(esl__shard *sh, const char *reason, const void *held,
    size_t held_len, const char *note, size_t note_len)
{
    MDB_txn        *txn;
    MDB_cursor     *cur;
    unsigned char   kb[12];
    MDB_val         k = { 12, kb }, d;
    uint64_t        seq = 0;
    char           *buf;
    size_t          n;
    int             rc;

    if ((rc = esl__txn_begin(sh->st, 1, &txn)) != ESL_OK) {
        return rc;
    }
    /* next sequence number: last key of this sid + 1 */
    esl__put32(kb, sh->sid + 1);
    esl__put64(kb + 4, 0);
    if (mdb_cursor_open(txn, sh->st->misb, &cur) == 0) {
        rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
        rc = mdb_cursor_get(cur, &k, &d, rc == 0 ? MDB_PREV : MDB_LAST);
        if (rc == 0 && k.mv_size == 12 && esl__get32(k.mv_data) == sh->sid) {
            seq = esl__get64((unsigned char *) k.mv_data + 4) + 1;
        }
        mdb_cursor_close(cur);
    }
    n = strlen(reason) + held_len + note_len + 64;
    buf = malloc(n);
    if (buf == NULL) {
        mdb_txn_abort(txn);
        return ESL_ENOMEM;
    }
    n = (size_t) snprintf(buf, n, "%s\n-- held\n%.*s-- received\n%.*s",
                          reason, (int) held_len, (const char *) held,
                          (int) note_len, note);
    esl__put32(kb, sh->sid);
    esl__put64(kb + 4, seq);
    k.mv_size = 12;
    k.mv_data = kb;
    d.mv_size = n;
    d.mv_data = buf;
    rc = mdb_put(txn, sh->st->misb, &k, &d, 0);
    free(buf);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return esl__mdb_err(rc);
    }
    return esl__mdb_err(mdb_txn_commit(txn));
}


int
esl_mirror_import(esl_ledger *l, const esl_verifier *origin_key,
    const char *note, size_t note_len,
    const unsigned char (*proof)[ESL_HASH_LEN], size_t nproof,
    const esl_iov *entries, size_t nentries,
    esl_validate_fn validate, void *arg,
    const esl_signer *cosigner, esl_buf *cosig)
{
    esl_hasher        h;
    esl__shard        sh;
    esl__tctx         t;
    esl_checkpoint    cp, held;
    esl_buf           line = { NULL, 0 };
    MDB_txn          *txn = NULL;
    MDB_val           hv;
    unsigned char     root[ESL_H], prevh[ESL_H], (*leaves)[ESL_H] = NULL, *q;
    void             *ix = NULL;
    uint64_t         *ih, *found, *nidx;
    const unsigned char **ids, **ebytes;
    size_t           *idl, *dupof, *elen;
    const char       *reason = NULL;
    size_t            i;
    uint64_t          m;
    int               rc, evidence = 0, have_held = 0;
    char             *heldcopy = NULL;
    size_t            heldlen = 0;

    if (l == NULL || origin_key == NULL || note == NULL || cosigner == NULL
        || (nentries && entries == NULL) || (nproof && proof == NULL))
    {
        return ESL_EINVAL;
    }
    if (l->flags & ESL_OPEN_RDONLY) {
        return ESL_EREADONLY;
    }
    /* Forged or foreign notes are refused before anything else: they
     * are not evidence of anything. */
    if ((rc = esl_checkpoint_verify(origin_key, note, note_len, &cp))
        != ESL_OK)
    {
        return rc;
    }
    memset(&held, 0, sizeof(held));
    if ((rc = mirror_key(l, cp.origin, &sh)) != ESL_OK) {
        return rc;
    }
    if ((rc = esl__hasher_init(&h, l->md)) != ESL_OK) {
        return rc;
    }
    if ((rc = esl__txn_begin(sh.st, 1, &txn)) != ESL_OK) {
        goto fail;
    }
    rc = esl__shard_load(txn, &sh);
    if (rc == ESL_ENOTFOUND) {
        rc = esl__shard_create(l, txn, &sh, cp.origin, SHARD_MIRROR);
    }
    if (rc != ESL_OK) {
        goto fail;
    }
    if (esl__ro_check(l, sh.si, sh.sid)) {
        rc = ESL_EREADONLY;
        goto fail;
    }
    t.txn = txn;
    t.st = sh.st;
    t.sid = sh.sid;
    t.h = &h;
    m = sh.size;
    if (m > ESL_IDX_MAX + 1 || nentries > ESL_IDX_MAX + 1 - m) {
        rc = ESL_EFULL;             /* indexes hold 48-bit positions */
        goto fail;
    }

    if (sh.height > 0) {
        if (esl__block_get(txn, &sh, sh.height, &hv) != ESL_OK
            || esl_checkpoint_parse(hv.mv_data, hv.mv_size, &held) != ESL_OK)
        {
            rc = ESL_ECORRUPT;
            goto fail;
        }
        have_held = 1;
        heldcopy = malloc(hv.mv_size);
        if (heldcopy == NULL) {
            rc = ESL_ENOMEM;
            goto fail;
        }
        memcpy(heldcopy, hv.mv_data, hv.mv_size);
        heldlen = hv.mv_size;
        esl_hash(&h, hv.mv_data, held.body_len, prevh);
    }

    if (cp.size < m) {
        /* Older tree.  A different root for a size we hold is a fork; a
         * newer block for a smaller tree is a rollback; else a replay. */
        if ((rc = esl__root(&h, esl__tile_node, &t, cp.size, root))
            != ESL_OK)
        {
            goto fail;
        }
        if (memcmp(root, cp.root, ESL_H) != 0) {
            reason = "equivocation: two roots for one tree size";
            evidence = 1;
            rc = ESL_EEQUIVOCATION;
        } else if (cp.height > held.height) {
            reason = "rollback: a newer block for a smaller tree";
            evidence = 1;
            rc = ESL_EROLLBACK;
        } else {
            rc = ESL_EROLLBACK;
        }
        goto fail;
    }
    if (have_held && cp.size == m) {
        if (memcmp(cp.root, held.root, ESL_H) != 0) {
            reason = "equivocation: two roots for one tree size";
            evidence = 1;
            rc = ESL_EEQUIVOCATION;
            goto fail;
        }
        if (cp.height == held.height && cp.body_len == held.body_len
            && memcmp(note, heldcopy, cp.body_len) == 0)
        {
            goto cosign;        /* same block again: cosign again */
        }
    }
    if (have_held) {
        if (cp.height <= held.height || cp.time_ms < held.time_ms
            || (cp.height == held.height + 1
                && memcmp(cp.prev, prevh, ESL_H) != 0))
        {
            reason = "chain: block height, time or link does not follow "
                     "the held block";
            evidence = 1;
            rc = ESL_ECHAIN;
            goto fail;
        }
    }
    if (nentries != cp.size - m) {
        rc = ESL_EINVAL;
        goto fail;
    }
    if (m > 0) {
        rc = esl_verify_consistency(&h, m, cp.size, held.root, cp.root,
                                    proof, nproof);
        if (rc != ESL_OK) {
            /* The proof is not signed: a bad one proves nothing against
             * the origin (it may be damaged in transit), so no evidence;
             * a fork shows up as a root mismatch below or at equal size. */
            rc = ESL_EPROOF;
            goto fail;
        }
    } else if (nproof != 0) {
        rc = ESL_EPROOF;
        goto fail;
    }

    leaves = malloc((nentries + 1) * ESL_H);
    ix = malloc((nentries + 1) * (3 * sizeof(uint64_t) + 2 * sizeof(void *)
                                  + 3 * sizeof(size_t) + ESL_IREC));
    if (leaves == NULL || ix == NULL) {
        rc = ESL_ENOMEM;
        goto fail;
    }
    ih = ix;
    found = ih + nentries + 1;
    nidx = found + nentries + 1;
    ids = (const unsigned char **) (nidx + nentries + 1);
    idl = (size_t *) (ids + nentries + 1);
    dupof = idl + nentries + 1;
    elen = dupof + nentries + 1;
    ebytes = (const unsigned char **) (elen + nentries + 1);
    q = (unsigned char *) (ebytes + nentries + 1);
    for (i = 0; i < nentries; i++) {
        esl_entry e;
        if (esl_entry_decode(entries[i].data, entries[i].len, &e) != ESL_OK) {
            rc = ESL_EFORMAT;
            goto fail;
        }
        if (validate != NULL && validate(arg, cp.origin, m + i, &e) != 0) {
            rc = ESL_EREJECTED;
            goto fail;
        }
        esl_leaf_hash(&h, entries[i].data, entries[i].len, leaves[i]);
        ids[i] = e.entry_id;
        idl[i] = e.entry_id_len;
        ih[i] = esl__idem_hash(sh.st, e.entry_id, e.entry_id_len);
        nidx[i] = m + i;
        ebytes[i] = entries[i].data;
        elen[i] = entries[i].len;
    }
    if (nentries > 0) {
        rc = esl__chunks_put(txn, &sh, m, ebytes, elen, nentries);
        if (rc != ESL_OK) {
            goto fail;
        }
    }
    /* an id this shard already holds, or one repeated in the block */
    rc = esl__idem_find(txn, sh.st, sh.sid, nentries, ih, ids, idl, found,
                        dupof, q);
    if (rc != ESL_OK) {
        goto fail;
    }
    for (i = 0; i < nentries; i++) {
        if (found[i] != ESL_NOIDX || dupof[i] != ESL_NOPOS) {
            /* the origin logged one entry_id twice: not a valid log */
            rc = ESL_EREJECTED;
            goto fail;
        }
    }
    rc = esl__idem_add(txn, sh.st, nentries, q, nidx);
    if (rc != ESL_OK) {
        goto fail;
    }
    if (nentries > 0) {
        rc = esl__lidx_add(txn, sh.st, sh.sid, m,
                           (const unsigned char (*)[ESL_H]) leaves, nentries);
        if (rc != ESL_OK) {
            goto fail;
        }
        rc = esl__tiles_append(&h, &t, m,
                               (const unsigned char (*)[ESL_H]) leaves,
                               nentries);
        if (rc != ESL_OK) {
            goto fail;
        }
    }
    if ((rc = esl__root(&h, esl__tile_node, &t, cp.size, root)) != ESL_OK) {
        goto fail;
    }
    if (memcmp(root, cp.root, ESL_H) != 0) {
        rc = ESL_EPROOF;        /* entries do not hash to the signed root */
        goto fail;
    }
    {
        esl_buf nb = { (unsigned char *) note, note_len };
        if ((rc = esl__block_put(txn, &sh, cp.height, &nb)) != ESL_OK) {
            goto fail;
        }
    }
    sh.size = cp.size;
    sh.height = cp.height;
    sh.time_ms = cp.time_ms;
    if ((rc = esl__shard_save(txn, &sh)) != ESL_OK) {
        goto fail;
    }

cosign:
    /* The cosignature is stored with the note in the same transaction:
     * the "last cosigned" state and the data it vouches for move
     * together. */
    if ((rc = esl_cosign(cosigner, note, note_len, esl__now_ms(), &line))
        != ESL_OK)
    {
        goto fail;
    }
    {
        unsigned char  sk[4];
        char          *both = malloc(note_len + line.len);
        MDB_val        ck = { 4, sk }, cd = { note_len + line.len, both };
        if (both == NULL) {
            rc = ESL_ENOMEM;
            goto fail;
        }
        memcpy(both, note, note_len);
        memcpy(both + note_len, line.data, line.len);
        esl__put32(sk, sh.sid);
        rc = esl__mdb_err(mdb_put(txn, sh.st->cosig, &ck, &cd, 0));
        free(both);
        if (rc != ESL_OK) {
            goto fail;
        }
    }
    rc = esl__mdb_err(mdb_txn_commit(txn));
    txn = NULL;
    if (rc != ESL_OK) {
        goto fail;
    }
    free(leaves);
    free(ix);
    free(heldcopy);
    esl__hasher_fini(&h);
    if (cosig != NULL) {
        *cosig = line;
    } else {
        esl_buf_free(&line);
    }
    return ESL_OK;

fail:
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    if (evidence && have_held) {
        record_evidence(&sh, reason, heldcopy, heldlen, note, note_len);
    }
    esl_buf_free(&line);
    free(leaves);
    free(ix);
    free(heldcopy);
    esl__hasher_fini(&h);
    return rc;
}


int
esl_mirror_state(esl_ledger *l, const char *origin, uint64_t *size,
    esl_buf *note)
{
    esl__shard     sh;
    MDB_txn       *txn;
    unsigned char  sk[4];
    MDB_val        k = { 4, sk }, d;
    int            rc;

    if (l == NULL) {
        return ESL_EINVAL;
    }
    if ((rc = mirror_key(l, origin, &sh)) != ESL_OK) {
        return rc;
    }
    if ((rc = esl__txn_begin(sh.st, 0, &txn)) != ESL_OK) {
        return rc;
    }
    if ((rc = esl__shard_load(txn, &sh)) == ESL_OK) {
        if (size != NULL) {
            *size = sh.size;
        }
        esl__put32(sk, sh.sid);
        rc = esl__mdb_err(mdb_get(txn, sh.st->cosig, &k, &d));
        if (rc == ESL_OK && note != NULL) {
            rc = esl__buf_set(note, d.mv_data, d.mv_size);
        }
    }
    mdb_txn_abort(txn);
    return rc;
}


int
esl_mirror_evidence(esl_ledger *l, const char *origin, uint64_t i,
    esl_buf *evidence)
{
    esl__shard     sh;
    MDB_txn       *txn;
    unsigned char  kb[12];
    MDB_val        k = { 12, kb }, d;
    int            rc;

    if (l == NULL || evidence == NULL) {
        return ESL_EINVAL;
    }
    if ((rc = mirror_key(l, origin, &sh)) != ESL_OK) {
        return rc;
    }
    if ((rc = esl__txn_begin(sh.st, 0, &txn)) != ESL_OK) {
        return rc;
    }
    if ((rc = esl__shard_load(txn, &sh)) == ESL_OK) {
        esl__put32(kb, sh.sid);
        esl__put64(kb + 4, i);
        rc = esl__mdb_err(mdb_get(txn, sh.st->misb, &k, &d));
        if (rc == ESL_OK) {
            rc = esl__buf_set(evidence, d.mv_data, d.mv_size);
        }
    }
    mdb_txn_abort(txn);
    return rc;
}
