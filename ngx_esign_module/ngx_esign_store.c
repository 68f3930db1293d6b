/*
 * The LMDB state environment inside nginx: created by the master, opened
 * by every worker in init_process (never across fork), short read
 * transactions on the event loop, every write one transaction in the
 * thread pool (fsync never blocks the event loop).
 */


#include <pthread.h>

#include "ngx_esign.h"
#include "ngx_esign_db.h"
#include "ngx_esign_ledger.h"


typedef struct ngx_esign_store_task_s  ngx_esign_store_task_t;

struct ngx_esign_store_task_s {
    ngx_esign_store_write_pt   fn;
    void                      *data;
    MDB_env                   *env;
    MDB_dbi                   *dbis;
    int                        rc;

    /* evidence to append to the ledger once the state is durable */
    ngx_esign_store_evidence_pt  evidence;
    int                         *ledger_rc;
    ngx_esign_ledger_req_t       ledger;     /* submitted by the leader */
    unsigned                     queued;

    /* group commit: the queue of waiting writers of this process */
    ngx_esign_store_task_t    *next;
    int                        done;
};


/*
 * Group commit.  Pool threads that want to write queue up; one of them
 * (the leader) takes the whole queue, runs every writer's function in its
 * own nested transaction of one write transaction (a writer that fails
 * aborts only its nested transaction) and commits once: one fsync for the
 * batch instead of one per request.  Everyone waits for the commit of
 * their batch, so "done" still means durable.  Then the evidence: the
 * leader queues the entries of all its writers in the ledger at once,
 * and each writer waits for its own (or writes a stripe's queue) while
 * the next batch already commits.  The ledger groups the queued entries
 * per stripe (one signed block per shard and ledger batch) and writes
 * different stripes in parallel threads.
 */
#define NGX_ESIGN_STORE_BATCH_MAX  256

static pthread_mutex_t          ngx_esign_store_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t           ngx_esign_store_cv = PTHREAD_COND_INITIALIZER;
static ngx_esign_store_task_t  *ngx_esign_store_queue;
static ngx_esign_store_task_t **ngx_esign_store_tail = &ngx_esign_store_queue;
static int                      ngx_esign_store_busy;

/*
 * Evidence outbox rows whose entries the ledger holds durably: the next
 * batch deletes them in its own transaction, so the outbox stays small
 * under load without a write transaction of its own.  Rows left over (a
 * crash, a full list) are the outbox sweep's, which re-appends them
 * idempotently.  Only the leader touches the list.
 */
#define NGX_ESIGN_STORE_GC_MAX  4096

static char                     ngx_esign_store_gc[NGX_ESIGN_STORE_GC_MAX]
                                    [ESL_ENTRY_ID_MAX + 1];
static size_t                   ngx_esign_store_ngc;
static pthread_mutex_t          ngx_esign_store_gc_mu =
    PTHREAD_MUTEX_INITIALIZER;


static ngx_int_t ngx_esign_store_path(ngx_pool_t *pool,
    ngx_esign_main_conf_t *emcf, const char *sub, ngx_str_t *path);
static void ngx_esign_store_reader_check(ngx_event_t *ev);
static void ngx_esign_store_write_run(void *data, ngx_log_t *log);
static void ngx_esign_store_queue_evidence(ngx_esign_store_task_t *batch);
static void ngx_esign_store_await_evidence(ngx_esign_store_task_t *st);


static ngx_int_t
ngx_esign_store_path(ngx_pool_t *pool, ngx_esign_main_conf_t *emcf,
    const char *sub, ngx_str_t *path)
{
    u_char  *p;

    path->len = emcf->data.len + 1 + ngx_strlen(sub);
    path->data = ngx_pnalloc(pool, path->len + 1);
    if (path->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(path->data, emcf->data.data, emcf->data.len);
    *p++ = '/';
    p = ngx_cpymem(p, sub, ngx_strlen(sub));
    *p = '\0';

    return NGX_OK;
}


static ngx_int_t
ngx_esign_store_env_open(ngx_log_t *log, ngx_esign_main_conf_t *emcf,
    const char *path, unsigned flags, MDB_env **envp)
{
    int       rc;
    MDB_env  *env;

    rc = mdb_env_create(&env);
    if (rc != 0) {
        ngx_log_error(NGX_LOG_EMERG, log, 0, "mdb_env_create() failed: %s",
                      mdb_strerror(rc));
        return NGX_ERROR;
    }

    /*
     * Readers: every worker reads on its event loop and in its pool
     * threads, and tools (esignctl, mdb_copy) may read at the same time.
     */
    (void) mdb_env_set_maxreaders(env, 1024);
    (void) mdb_env_set_maxdbs(env, ESIGN_DB_MAX_DBS);

    rc = mdb_env_set_mapsize(env, emcf->map_size);
    if (rc == 0) {
        rc = mdb_env_open(env, path, flags, ESIGN_DB_MODE);
    }

    if (rc != 0) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "cannot open the esign state \"%s\": %s",
                      path, mdb_strerror(rc));
        mdb_env_close(env);
        return NGX_ERROR;
    }

    *envp = env;

    return NGX_OK;
}


/* Master: creates the directory and the databases, hands them to workers. */
ngx_int_t
ngx_esign_store_init_module(ngx_cycle_t *cycle, ngx_esign_main_conf_t *emcf)
{
    int               rc;
    MDB_env          *env;
    MDB_txn          *txn;
    ngx_str_t         path;
    ngx_uint_t        i;
    ngx_core_conf_t  *ccf;
    MDB_dbi           dbis[ESIGN_DB_COUNT];

    static const char  *subdirs[] = { "state", "ledger", NULL };

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    for (i = 0; subdirs[i] != NULL; i++) {
        if (ngx_esign_store_path(cycle->pool, emcf, subdirs[i], &path)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_create_dir(path.data, 0700) == NGX_FILE_ERROR
            && ngx_errno != NGX_EEXIST)
        {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          ngx_create_dir_n " \"%V\" failed", &path);
            return NGX_ERROR;
        }

        if (geteuid() == 0
            && chown((char *) path.data, ccf->user, (gid_t) -1) == -1)
        {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "chown(\"%V\") failed", &path);
            return NGX_ERROR;
        }
    }

    if (ngx_esign_store_path(cycle->pool, emcf, "state", &path) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_esign_store_env_open(cycle->log, emcf, (char *) path.data, 0,
                                 &env)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (rc == 0) {
        rc = esign_db_open_all(txn, dbis, 1);
        if (rc == 0) {
            rc = mdb_txn_commit(txn);

        } else {
            mdb_txn_abort(txn);
        }
    }

    mdb_env_close(env);

    if (rc != 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "cannot create the esign state databases: %s",
                      mdb_strerror(rc));
        return NGX_ERROR;
    }

    if (geteuid() == 0) {
        for (i = 0; i < 2; i++) {
            u_char  file[NGX_MAX_PATH];

            ngx_snprintf(file, sizeof(file), "%V/%s%Z", &path,
                         i == 0 ? "data.mdb" : "lock.mdb");

            if (chown((char *) file, ccf->user, (gid_t) -1) == -1) {
                ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                              "chown(\"%s\") failed", file);
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_esign_store_init_process(ngx_cycle_t *cycle, ngx_esign_main_conf_t *emcf)
{
    int         rc, dead;
    MDB_txn    *txn;
    ngx_str_t   path;

    if (ngx_esign_store_path(cycle->pool, emcf, "state", &path) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * MDB_NOTLS: read slots belong to transactions, not threads, so the
     * event loop and the pool threads may each hold read transactions.
     */
    if (ngx_esign_store_env_open(cycle->log, emcf, (char *) path.data,
                                 MDB_NOTLS, &emcf->env)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    dead = 0;
    (void) mdb_reader_check(emcf->env, &dead);

    if (dead > 0) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "esign state: cleared %d stale reader slots", dead);
    }

    emcf->dbis = ngx_pcalloc(cycle->pool, ESIGN_DB_COUNT * sizeof(MDB_dbi));
    if (emcf->dbis == NULL) {
        return NGX_ERROR;
    }

    rc = mdb_txn_begin(emcf->env, NULL, MDB_RDONLY, &txn);
    if (rc == 0) {
        rc = esign_db_open_all(txn, emcf->dbis, 0);
        if (rc == 0) {
            rc = mdb_txn_commit(txn);

        } else {
            mdb_txn_abort(txn);
        }
    }

    if (rc != 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "cannot open the esign state databases: %s",
                      mdb_strerror(rc));
        return NGX_ERROR;
    }

    /* a crashed worker leaves its read slots behind: sweep them */

    emcf->reader_check_ev.handler = ngx_esign_store_reader_check;
    emcf->reader_check_ev.data = emcf;
    emcf->reader_check_ev.log = cycle->log;
    emcf->reader_check_ev.cancelable = 1;

    ngx_add_timer(&emcf->reader_check_ev, emcf->reader_check_interval);

    return NGX_OK;
}


static void
ngx_esign_store_reader_check(ngx_event_t *ev)
{
    int                     dead;
    ngx_esign_main_conf_t  *emcf;

    emcf = ev->data;
    dead = 0;

    (void) mdb_reader_check(emcf->env, &dead);

    if (dead > 0) {
        ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                      "esign state: cleared %d stale reader slots", dead);
    }

    if (!ngx_exiting) {
        ngx_add_timer(ev, emcf->reader_check_interval);
    }
}


void
ngx_esign_store_exit_process(ngx_esign_main_conf_t *emcf)
{
    if (emcf->reader_check_ev.timer_set) {
        ngx_del_timer(&emcf->reader_check_ev);
    }

    if (emcf->env != NULL) {
        mdb_env_close(emcf->env);
        emcf->env = NULL;
    }
}


/*
 * A read transaction for the event loop; the caller aborts it before it
 * returns to the loop.  NULL (logged) when LMDB refuses.
 */
MDB_txn *
ngx_esign_store_read(ngx_http_request_t *r)
{
    int                     rc;
    MDB_txn                *txn;
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    rc = mdb_txn_begin(emcf->env, NULL, MDB_RDONLY, &txn);

    if (rc == MDB_MAP_RESIZED) {
        /* another process grew the map: adopt its size and retry */
        (void) mdb_env_set_mapsize(emcf->env, 0);
        rc = mdb_txn_begin(emcf->env, NULL, MDB_RDONLY, &txn);
    }

    if (rc != 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "esign state read failed: %s", mdb_strerror(rc));
        return NULL;
    }

    return txn;
}


MDB_dbi
ngx_esign_store_dbi(ngx_http_request_t *r, ngx_uint_t db)
{
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    return emcf->dbis[db];
}


/*
 * Runs fn(txn, dbis, data) inside one write transaction in the thread
 * pool; commits when it returns 0, aborts otherwise.  done() then sees the
 * outcome through ngx_esign_store_rc(ctx).  Returns NGX_OK (caller returns
 * NGX_DONE) or NGX_ERROR (the pool is full: answer 503).
 */
ngx_int_t
ngx_esign_store_write(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    ngx_esign_store_write_pt fn, void *data,
    ngx_int_t (*done)(ngx_http_request_t *r, ngx_esign_ctx_t *ctx))
{
    ngx_esign_main_conf_t   *emcf;
    ngx_esign_store_task_t  *st;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    st = ngx_pcalloc(r->pool, sizeof(ngx_esign_store_task_t));
    if (st == NULL) {
        return NGX_ERROR;
    }

    st->fn = fn;
    st->data = data;
    st->env = emcf->env;
    st->dbis = emcf->dbis;

    return ngx_esign_task_post(r, ctx, ngx_esign_store_write_run, st, done);
}


static int
ngx_esign_store_begin(MDB_env *env, MDB_txn **txn)
{
    int  rc;

    rc = mdb_txn_begin(env, NULL, 0, txn);

    if (rc == MDB_MAP_RESIZED) {
        (void) mdb_env_set_mapsize(env, 0);
        rc = mdb_txn_begin(env, NULL, 0, txn);
    }

    return rc;
}


/*
 * Deletes the outbox rows of the GC list in txn; returns how many keys
 * were taken from the list (they go back if the transaction fails).
 */
static size_t
ngx_esign_store_gc_run(MDB_txn *txn, MDB_dbi *dbis)
{
    size_t   i, n;
    MDB_val  k;

    pthread_mutex_lock(&ngx_esign_store_gc_mu);
    n = ngx_esign_store_ngc;
    pthread_mutex_unlock(&ngx_esign_store_gc_mu);

    for (i = 0; i < n; i++) {
        k.mv_data = ngx_esign_store_gc[i];
        k.mv_size = strlen(ngx_esign_store_gc[i]);

        if (mdb_del(txn, dbis[ESIGN_DB_EVIDENCE_OUTBOX], &k, NULL) != 0) {
            /* gone already (the sweep) or an error: the sweep's then */
            continue;
        }
    }

    return n;
}


/* After the commit of a batch that deleted the first n GC keys. */
static void
ngx_esign_store_gc_done(size_t n)
{
    pthread_mutex_lock(&ngx_esign_store_gc_mu);

    memmove(ngx_esign_store_gc, ngx_esign_store_gc[n],
            (ngx_esign_store_ngc - n) * sizeof(ngx_esign_store_gc[0]));
    ngx_esign_store_ngc -= n;

    pthread_mutex_unlock(&ngx_esign_store_gc_mu);
}


/* One write transaction for a batch of writers (see above). */
static void
ngx_esign_store_batch(ngx_esign_store_task_t *batch)
{
    int                      rc;
    size_t                   gc;
    MDB_txn                 *txn, *child;
    ngx_esign_store_task_t  *st;

    rc = ngx_esign_store_begin(batch->env, &txn);

    if (rc != 0) {
        for (st = batch; st != NULL; st = st->next) {
            st->rc = rc;
        }

        return;
    }

    gc = ngx_esign_store_gc_run(txn, batch->dbis);

    if (batch->next == NULL) {
        /* alone: no nested transaction needed */

        batch->rc = batch->fn(txn, batch->dbis, batch->data);

        if (batch->rc != 0) {
            mdb_txn_abort(txn);
            return;
        }

        batch->rc = mdb_txn_commit(txn);

        if (batch->rc == 0) {
            ngx_esign_store_gc_done(gc);
        }

        return;
    }

    for (st = batch; st != NULL; st = st->next) {
        st->rc = mdb_txn_begin(st->env, txn, 0, &child);

        if (st->rc != 0) {
            continue;
        }

        st->rc = st->fn(child, st->dbis, st->data);

        if (st->rc != 0) {
            mdb_txn_abort(child);
            continue;
        }

        st->rc = mdb_txn_commit(child);
    }

    rc = mdb_txn_commit(txn);

    if (rc == 0) {
        ngx_esign_store_gc_done(gc);

    } else {
        /* nothing of the batch is stored: every writer fails */

        for (st = batch; st != NULL; st = st->next) {
            if (st->rc == 0) {
                st->rc = rc;
            }
        }
    }
}


/*
 * Leader, after the state commit: the evidence of every committed writer
 * of the batch joins the ledger's queues at once, so the first writer of
 * a stripe finds all of the batch's entries for it.
 */
static void
ngx_esign_store_queue_evidence(ngx_esign_store_task_t *batch)
{
    size_t                     n, k;
    ngx_esign_store_task_t    *st;
    ngx_esign_ledger_item_t   *items;
    ngx_esign_ledger_req_t    *rqs[NGX_ESIGN_STORE_BATCH_MAX];

    n = 0;

    for (st = batch; st != NULL; st = st->next) {
        st->queued = 0;

        if (st->evidence == NULL || st->rc != 0) {
            continue;
        }

        k = st->evidence(st->data, &items);
        ngx_esign_ledger_prepare(&st->ledger, items, k);
        st->queued = 1;
        rqs[n++] = &st->ledger;
    }

    ngx_esign_ledger_submit(rqs, n);
}


/*
 * Each writer: waits until its evidence is durable in the ledger; its
 * ledger_rc tells whether all of its items are.
 */
static void
ngx_esign_store_await_evidence(ngx_esign_store_task_t *st)
{
    size_t                    i;
    ngx_esign_ledger_item_t  *items;

    if (!st->queued) {
        return;
    }

    *st->ledger_rc = ngx_esign_ledger_finish(&st->ledger);
    items = st->ledger.items;

    /* durable in the ledger: their outbox rows go with the next batch */

    pthread_mutex_lock(&ngx_esign_store_gc_mu);

    for (i = 0;
         i < st->ledger.n && ngx_esign_store_ngc < NGX_ESIGN_STORE_GC_MAX;
         i++)
    {
        if (items[i].rc == ESL_OK && items[i].outbox_key != NULL
            && strlen(items[i].outbox_key) <= ESL_ENTRY_ID_MAX)
        {
            strcpy(ngx_esign_store_gc[ngx_esign_store_ngc++],
                   items[i].outbox_key);
        }
    }

    pthread_mutex_unlock(&ngx_esign_store_gc_mu);
}


static void
ngx_esign_store_write_run(void *data, ngx_log_t *log)
{
    ngx_esign_store_task_t  *self = data;

    size_t                   n;
    ngx_esign_store_task_t  *batch, **pw;

    self->next = NULL;
    self->done = 0;

    pthread_mutex_lock(&ngx_esign_store_mu);

    *ngx_esign_store_tail = self;
    ngx_esign_store_tail = &self->next;

    while (!self->done) {

        if (ngx_esign_store_busy || ngx_esign_store_queue == NULL) {
            /* a batch is committing (perhaps ours), or none is queued */
            pthread_cond_wait(&ngx_esign_store_cv, &ngx_esign_store_mu);
            continue;
        }

        /* lead: take the queue in arrival order (bounded), commit it */

        ngx_esign_store_busy = 1;

        batch = ngx_esign_store_queue;
        n = 0;

        for (pw = &batch; *pw != NULL && n < NGX_ESIGN_STORE_BATCH_MAX;
             pw = &(*pw)->next)
        {
            n++;
        }

        ngx_esign_store_queue = *pw;
        *pw = NULL;

        if (ngx_esign_store_queue == NULL) {
            ngx_esign_store_tail = &ngx_esign_store_queue;
        }

        pthread_mutex_unlock(&ngx_esign_store_mu);

        ngx_esign_store_batch(batch);
        ngx_esign_store_queue_evidence(batch);

        /* durable: the next batch may commit */

        pthread_mutex_lock(&ngx_esign_store_mu);

        ngx_esign_store_busy = 0;

        for ( /* void */ ; batch != NULL; batch = batch->next) {
            batch->done = 1;
        }

        pthread_cond_broadcast(&ngx_esign_store_cv);
    }

    pthread_mutex_unlock(&ngx_esign_store_mu);

    ngx_esign_store_await_evidence(self);
}


int
ngx_esign_store_commit(MDB_env *env, MDB_dbi *dbis,
    ngx_esign_store_write_pt fn, void *data)
{
    return ngx_esign_store_commit_evidence(env, dbis, fn, data, NULL, NULL);
}


int
ngx_esign_store_commit_evidence(MDB_env *env, MDB_dbi *dbis,
    ngx_esign_store_write_pt fn, void *data,
    ngx_esign_store_evidence_pt evidence, int *ledger_rc)
{
    ngx_esign_store_task_t  st;

    ngx_memzero(&st, sizeof(st));

    st.fn = fn;
    st.data = data;
    st.env = env;
    st.dbis = dbis;
    st.evidence = evidence;
    st.ledger_rc = ledger_rc;

    if (ledger_rc != NULL) {
        *ledger_rc = 0;
    }

    ngx_esign_store_write_run(&st, NULL);

    return st.rc;
}


/* The outcome of the last ngx_esign_store_write() of the request. */
int
ngx_esign_store_rc(ngx_esign_ctx_t *ctx)
{
    ngx_esign_store_task_t  *st = ctx->task_data;

    return st->rc;
}


void *
ngx_esign_store_data(ngx_esign_ctx_t *ctx)
{
    ngx_esign_store_task_t  *st = ctx->task_data;

    return st->data;
}
