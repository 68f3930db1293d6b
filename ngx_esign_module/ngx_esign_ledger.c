/*
 * The evidence ledger inside a worker (see ngx_esign_ledger.h): opened in
 * init_process, appended to from pool threads with group commit, read on
 * the event loop for receipts and the public ledger routes.
 */


#include <pthread.h>

#include "ngx_esign.h"
#include "ngx_esign_db.h"
#include "ngx_esign_ledger.h"
#include "ngx_esign_contract.h"

#include "esc_codec.h"


/* One caller's items of one stripe, queued for that stripe's writer. */
struct ngx_esign_ledger_wait_s {
    ngx_esign_ledger_item_t  **items;
    size_t                     n;
    unsigned                   stripe;
    int                        done;
    ngx_esign_ledger_wait_t   *next;
};


/*
 * Group commit per stripe: a stripe has its own queue and its own writer
 * at a time, so appends to shards of different stripes (different LMDB
 * writer locks) commit in parallel threads.  Stripes beyond the table
 * share queues (stripe modulo the table size).
 */
#define NGX_ESIGN_LEDGER_QUEUES  16

typedef struct {
    ngx_esign_ledger_wait_t   *head;
    ngx_esign_ledger_wait_t  **tail;
    int                        busy;
} ngx_esign_ledger_queue_t;


/* per worker process */
static esl_ledger               *ngx_esign_ledger_handle;
static esl_signer               *ngx_esign_ledger_signer;
static pthread_mutex_t           ngx_esign_ledger_mu =
    PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t            ngx_esign_ledger_cv =
    PTHREAD_COND_INITIALIZER;
static ngx_esign_ledger_queue_t  ngx_esign_ledger_q[NGX_ESIGN_LEDGER_QUEUES];
static ngx_event_t               ngx_esign_ledger_ev;
static ngx_thread_task_t        *ngx_esign_ledger_task;
static ngx_esign_main_conf_t    *ngx_esign_ledger_emcf;
static ngx_uint_t                ngx_esign_ledger_task_busy;


static void ngx_esign_ledger_timer(ngx_event_t *ev);
static void ngx_esign_ledger_task_run(void *data, ngx_log_t *log);
static void ngx_esign_ledger_task_done(ngx_event_t *ev);


#define NGX_ESIGN_LEDGER_BATCH_MAX  256


ngx_int_t
ngx_esign_ledger_init_process(ngx_cycle_t *cycle, ngx_esign_main_conf_t *emcf)
{
    int          rc;
    char         name[ESL_KEYNAME_MAX + 1];
    u_char       path[NGX_MAX_PATH];
    esl_options  opts;

    ngx_snprintf(path, sizeof(path), "%V/ledger%Z", &emcf->data);

    esl_options_init(&opts);
    opts.max_readers = 1022;

    rc = esl_open((char *) path, &opts, &ngx_esign_ledger_handle);
    if (rc != ESL_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "cannot open the esign ledger \"%s\": %s", path,
                      esl_strerror(rc));
        return NGX_ERROR;
    }

    ngx_snprintf((u_char *) name, sizeof(name), "%V%Z", &emcf->site);

    /*
     * The master read the key at configuration time; a worker running as
     * an unprivileged user could not read the key file again.
     */

    rc = esl_signer_from_pkey(emcf->site_key,
                              name[0] != '\0' ? name : "esign",
                              &ngx_esign_ledger_signer);
    if (rc != ESL_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "cannot use the ledger signing key \"%V\": %s",
                      &emcf->site_key_file, esl_strerror(rc));
        esl_close(ngx_esign_ledger_handle);
        ngx_esign_ledger_handle = NULL;
        return NGX_ERROR;
    }

    /* the outbox sweep: at start-up (crash recovery) and then periodically */

    ngx_esign_ledger_task = ngx_thread_task_alloc(cycle->pool, 0);
    if (ngx_esign_ledger_task == NULL) {
        return NGX_ERROR;
    }

    ngx_esign_ledger_emcf = emcf;
    ngx_esign_ledger_task->handler = ngx_esign_ledger_task_run;
    ngx_esign_ledger_task->event.handler = ngx_esign_ledger_task_done;
    ngx_esign_ledger_task->event.data = emcf;

    ngx_esign_ledger_ev.handler = ngx_esign_ledger_timer;
    ngx_esign_ledger_ev.data = emcf;
    ngx_esign_ledger_ev.log = cycle->log;
    ngx_esign_ledger_ev.cancelable = 1;

    ngx_add_timer(&ngx_esign_ledger_ev, 100);

    /* contracts past their deadline expire on a timer as well */

    return ngx_esign_contract_sweep_init(cycle, emcf);
}


static void
ngx_esign_ledger_timer(ngx_event_t *ev)
{
    ngx_esign_main_conf_t  *emcf = ev->data;

    if (ngx_exiting || ngx_esign_ledger_task_busy) {
        return;
    }

    if (ngx_thread_task_post(emcf->thread_pool, ngx_esign_ledger_task)
        != NGX_OK)
    {
        ngx_add_timer(ev, 1000);
        return;
    }

    ngx_esign_ledger_task_busy = 1;
}


static void
ngx_esign_ledger_task_run(void *data, ngx_log_t *log)
{
    ngx_esign_ledger_flush_outbox(ngx_esign_ledger_emcf->env,
                                  ngx_esign_ledger_emcf->dbis);
}


static void
ngx_esign_ledger_task_done(ngx_event_t *ev)
{
    int  dead;

    ngx_esign_ledger_task_busy = 0;

    (void) esl_reader_check(ngx_esign_ledger_handle, &dead);

    if (!ngx_exiting) {
        ngx_add_timer(&ngx_esign_ledger_ev, 1000);
    }
}


void
ngx_esign_ledger_exit_process(ngx_esign_main_conf_t *emcf)
{
    if (ngx_esign_ledger_ev.timer_set) {
        ngx_del_timer(&ngx_esign_ledger_ev);
    }

    ngx_esign_contract_sweep_exit();

    esl_close(ngx_esign_ledger_handle);
    ngx_esign_ledger_handle = NULL;

    esl_signer_free(ngx_esign_ledger_signer);
    ngx_esign_ledger_signer = NULL;
}


esl_ledger *
ngx_esign_ledger(void)
{
    return ngx_esign_ledger_handle;
}


/* Writes one batch of waiters: one esl_append_batch per shard. */
static void
ngx_esign_ledger_write(ngx_esign_ledger_wait_t *batch)
{
    int                       rc;
    size_t                    i, n, k;
    const char               *shard;
    esl_entry                *entries;
    esl_append_result        *results;
    ngx_esign_ledger_wait_t  *w, *v;
    ngx_esign_ledger_item_t  *it, **refs;

    n = 0;

    for (w = batch; w != NULL; w = w->next) {
        n += w->n;
    }

    entries = malloc(n * sizeof(esl_entry));
    results = malloc(n * sizeof(esl_append_result));
    refs = malloc(n * sizeof(ngx_esign_ledger_item_t *));

    if (entries == NULL || results == NULL || refs == NULL) {
        for (w = batch; w != NULL; w = w->next) {
            for (i = 0; i < w->n; i++) {
                w->items[i]->rc = ESL_ENOMEM;
            }
        }

        goto done;
    }

    /* shard by shard: pick the first unwritten item's shard each round */

    for ( ;; ) {
        shard = NULL;
        k = 0;

        for (v = batch; v != NULL; v = v->next) {
            for (i = 0; i < v->n; i++) {
                it = v->items[i];

                if (it->rc != 1) {
                    continue;
                }

                if (shard == NULL) {
                    shard = it->shard;
                }

                if (strcmp(shard, it->shard) != 0) {
                    continue;
                }

                if (esl_entry_decode(it->bytes, it->len, &entries[k])
                    != ESL_OK)
                {
                    it->rc = ESL_EFORMAT;
                    continue;
                }

                refs[k++] = it;
            }
        }

        if (shard == NULL) {
            break;
        }

        if (k == 0) {
            continue;
        }

        rc = esl_append_batch(ngx_esign_ledger_handle, refs[0]->shard,
                              entries, k, ngx_esign_ledger_signer, results,
                              NULL);

        for (i = 0; i < k; i++) {
            refs[i]->rc = rc;

            if (rc == ESL_OK) {
                refs[i]->result = results[i];

                if (results[i].status != ESL_APPENDED
                    && results[i].status != ESL_DUPLICATE)
                {
                    refs[i]->rc = results[i].status;
                }
            }
        }
    }

done:

    free(entries);
    free(results);
    free(refs);
}


/*
 * Leads stripe q's queue: takes its waiters (bounded, in arrival order),
 * writes them, wakes everyone.  Called and returns with the mutex held.
 */
static void
ngx_esign_ledger_lead(ngx_esign_ledger_queue_t *q)
{
    size_t                    count;
    ngx_esign_ledger_wait_t  *batch, *w, **pw;

    q->busy = 1;

    batch = q->head;
    count = 0;

    for (pw = &batch; *pw != NULL; pw = &(*pw)->next) {
        count += (*pw)->n;

        if (count >= NGX_ESIGN_LEDGER_BATCH_MAX) {
            pw = &(*pw)->next;
            break;
        }
    }

    q->head = *pw;
    *pw = NULL;

    if (q->head == NULL) {
        q->tail = &q->head;
    }

    pthread_mutex_unlock(&ngx_esign_ledger_mu);

    ngx_esign_ledger_write(batch);

    pthread_mutex_lock(&ngx_esign_ledger_mu);

    for (w = batch; w != NULL; w = w->next) {
        w->done = 1;
    }

    q->busy = 0;
    pthread_cond_broadcast(&ngx_esign_ledger_cv);
}


void
ngx_esign_ledger_prepare(ngx_esign_ledger_req_t *rq,
    ngx_esign_ledger_item_t *items, size_t n)
{
    int                       *stripe;
    size_t                     i, j, k, nw, nstripes;
    ngx_esign_ledger_wait_t   *ws, *w;
    ngx_esign_ledger_item_t  **refs;

    rq->items = items;
    rq->n = n;
    rq->ws = NULL;
    rq->refs = NULL;
    rq->nw = 0;

    if (n == 0) {
        return;
    }

    if (ngx_esign_ledger_handle == NULL) {
        for (i = 0; i < n; i++) {
            items[i].rc = ESL_EINVAL;
        }

        return;
    }

    ws = malloc(n * sizeof(ngx_esign_ledger_wait_t));
    refs = malloc(n * sizeof(ngx_esign_ledger_item_t *));
    stripe = malloc(n * sizeof(int));

    if (ws == NULL || refs == NULL || stripe == NULL) {
        for (i = 0; i < n; i++) {
            items[i].rc = ESL_ENOMEM;
        }

        free(ws);
        free(refs);
        free(stripe);
        return;
    }

    /* one waiter per stripe with items; a name no shard has fails here */

    for (i = 0; i < n; i++) {
        stripe[i] = esl_shard_stripe(ngx_esign_ledger_handle, items[i].shard);
        items[i].rc = stripe[i] < 0 ? ESL_EINVAL : 1;   /* 1: not written */
    }

    nstripes = esl_stripes(ngx_esign_ledger_handle);
    nw = 0;
    k = 0;

    for (j = 0; j < nstripes && k < n; j++) {
        w = &ws[nw];                     /* nw <= k < n */
        w->items = &refs[k];
        w->n = 0;

        for (i = 0; i < n; i++) {
            if (stripe[i] == (int) j) {
                w->items[w->n++] = &items[i];
            }
        }

        if (w->n == 0) {
            continue;
        }

        k += w->n;
        w->stripe = j % NGX_ESIGN_LEDGER_QUEUES;
        w->done = 0;
        w->next = NULL;
        nw++;
    }

    free(stripe);

    rq->ws = ws;
    rq->refs = refs;
    rq->nw = nw;
}


void
ngx_esign_ledger_submit(ngx_esign_ledger_req_t **rqs, size_t n)
{
    size_t                     i, j;
    ngx_esign_ledger_queue_t  *q;

    pthread_mutex_lock(&ngx_esign_ledger_mu);

    for (j = 0; j < n; j++) {
        for (i = 0; i < rqs[j]->nw; i++) {
            q = &ngx_esign_ledger_q[rqs[j]->ws[i].stripe];

            if (q->tail == NULL) {
                q->tail = &q->head;
            }

            *q->tail = &rqs[j]->ws[i];
            q->tail = &rqs[j]->ws[i].next;
        }
    }

    pthread_mutex_unlock(&ngx_esign_ledger_mu);
}


int
ngx_esign_ledger_finish(ngx_esign_ledger_req_t *rq)
{
    int                        pending;
    size_t                     i;
    ngx_esign_ledger_wait_t   *ws;
    ngx_esign_ledger_queue_t  *q;

    ws = rq->ws;

    pthread_mutex_lock(&ngx_esign_ledger_mu);

    for ( ;; ) {
        pending = 0;
        q = NULL;

        for (i = 0; i < rq->nw; i++) {
            if (ws[i].done) {
                continue;
            }

            pending = 1;

            /* not busy: nobody took ours yet, it is still queued */

            if (q == NULL && !ngx_esign_ledger_q[ws[i].stripe].busy) {
                q = &ngx_esign_ledger_q[ws[i].stripe];
            }
        }

        if (!pending) {
            break;
        }

        if (q != NULL) {
            ngx_esign_ledger_lead(q);
            continue;
        }

        pthread_cond_wait(&ngx_esign_ledger_cv, &ngx_esign_ledger_mu);
    }

    pthread_mutex_unlock(&ngx_esign_ledger_mu);

    free(rq->ws);
    free(rq->refs);
    rq->ws = NULL;
    rq->refs = NULL;
    rq->nw = 0;

    for (i = 0; i < rq->n; i++) {
        if (rq->items[i].rc != ESL_OK) {
            return -1;
        }
    }

    return 0;
}


int
ngx_esign_ledger_append(ngx_esign_ledger_item_t *items, size_t n)
{
    ngx_esign_ledger_req_t   rq, *p;

    ngx_esign_ledger_prepare(&rq, items, n);
    p = &rq;
    ngx_esign_ledger_submit(&p, 1);

    return ngx_esign_ledger_finish(&rq);
}


static json_t *
ngx_esign_hex_json(const u_char *p, size_t len)
{
    char  buf[2 * 64 + 1];

    if (len > 64 || esc_hex_encode(buf, sizeof(buf), p, len) != 0) {
        return json_null();
    }

    return json_string(buf);
}


json_t *
ngx_esign_ledger_receipt(const u_char leaf[ESL_HASH_LEN])
{
    int              rc;
    char            *b64, shard[ESL_SHARD_MAX + ESL_ORIGIN_MAX + 2];
    size_t           i, n, blen;
    json_t          *res, *proof;
    esl_buf          note, entry;
    uint64_t         index;
    esl_checkpoint   cp;
    unsigned char    path[ESL_MAX_PROOF][ESL_HASH_LEN];

    if (ngx_esign_ledger_handle == NULL) {
        return NULL;
    }

    rc = esl_lookup_leaf(ngx_esign_ledger_handle, leaf, shard, &index);
    if (rc != ESL_OK) {
        return NULL;
    }

    note.data = NULL;
    entry.data = NULL;
    res = NULL;
    b64 = NULL;

    if (esl_checkpoint_latest(ngx_esign_ledger_handle, shard, &note)
        != ESL_OK
        || esl_checkpoint_parse((char *) note.data, note.len, &cp) != ESL_OK
        || esl_inclusion_proof(ngx_esign_ledger_handle, shard, index,
                               cp.size, path, &n)
           != ESL_OK
        || esl_entry_get(ngx_esign_ledger_handle, shard, index, &entry)
           != ESL_OK)
    {
        goto done;
    }

    blen = esc_b64_encoded_len(entry.len, ESC_B64_STD) + 1;
    b64 = malloc(blen);
    if (b64 == NULL
        || esc_b64_encode(b64, blen, entry.data, entry.len, ESC_B64_STD)
           != 0)
    {
        goto done;
    }

    proof = json_array();

    for (i = 0; i < n; i++) {
        json_array_append_new(proof, ngx_esign_hex_json(path[i],
                                                        ESL_HASH_LEN));
    }

    /* "entry" is the name esign-ledger verify-receipt reads */
    res = json_pack("{s:s, s:I, s:o, s:I, s:s%, s:o, s:s, s:s}",
                    "shard", shard,
                    "index", (json_int_t) index,
                    "leaf_hash", ngx_esign_hex_json(leaf, ESL_HASH_LEN),
                    "tree_size", (json_int_t) cp.size,
                    "checkpoint", (char *) note.data, note.len,
                    "inclusion_proof", proof,
                    "entry_b64", b64,
                    "entry", b64);

done:

    free(b64);
    esl_buf_free(&note);
    esl_buf_free(&entry);

    return res;
}


void
ngx_esign_ledger_flush_outbox(MDB_env *env, MDB_dbi *dbis)
{
    int                       rc;
    size_t                    n, i, sl;
    MDB_txn                  *txn;
    MDB_val                   k, v;
    MDB_cursor               *cur;
    ngx_esign_ledger_item_t  *items;
    char                    (*keys)[ESL_ENTRY_ID_MAX + 1];

    items = calloc(NGX_ESIGN_LEDGER_BATCH_MAX,
                   sizeof(ngx_esign_ledger_item_t));
    keys = calloc(NGX_ESIGN_LEDGER_BATCH_MAX, ESL_ENTRY_ID_MAX + 1);

    if (items == NULL || keys == NULL) {
        goto done;
    }

    if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0) {
        goto done;
    }

    n = 0;

    if (mdb_cursor_open(txn, dbis[ESIGN_DB_EVIDENCE_OUTBOX], &cur) == 0) {
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
             rc == 0 && n < NGX_ESIGN_LEDGER_BATCH_MAX;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        {
            /* value: u8 shard length, shard, encoded entry */
            sl = v.mv_size > 0 ? ((u_char *) v.mv_data)[0] : 0;

            if (sl == 0 || sl > ESL_SHARD_MAX || v.mv_size < 1 + sl + 1
                || k.mv_size > ESL_ENTRY_ID_MAX)
            {
                continue;
            }

            memcpy(items[n].shard, (u_char *) v.mv_data + 1, sl);
            items[n].shard[sl] = '\0';
            items[n].len = v.mv_size - 1 - sl;
            items[n].bytes = malloc(items[n].len);

            if (items[n].bytes == NULL) {
                break;
            }

            memcpy(items[n].bytes, (u_char *) v.mv_data + 1 + sl,
                   items[n].len);
            memcpy(keys[n], k.mv_data, k.mv_size);
            keys[n][k.mv_size] = '\0';
            n++;
        }

        mdb_cursor_close(cur);
    }

    mdb_txn_abort(txn);

    if (n == 0 || ngx_esign_ledger_append(items, n) != 0) {
        goto done;
    }

    if (mdb_txn_begin(env, NULL, 0, &txn) != 0) {
        goto done;
    }

    for (i = 0; i < n; i++) {
        k.mv_data = keys[i];
        k.mv_size = strlen(keys[i]);
        (void) mdb_del(txn, dbis[ESIGN_DB_EVIDENCE_OUTBOX], &k, NULL);
    }

    (void) mdb_txn_commit(txn);

done:

    if (items != NULL) {
        for (i = 0; i < NGX_ESIGN_LEDGER_BATCH_MAX; i++) {
            free(items[i].bytes);
        }
    }

    free(items);
    free(keys);
}
