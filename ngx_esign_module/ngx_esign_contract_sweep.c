/*
 * The contract expiry sweep (R-SIGN-5): a cancelable timer per worker
 * posts a pool task that expires contracts past their deadline, with
 * their evidence, as the actions do when they meet one.
 */


#include "ngx_esign_contracts.h"


/* ---- the expiry sweep -------------------------------------------------- */


typedef struct {
    ngx_esign_main_conf_t     *emcf;
    ngx_thread_task_t         *task;
    ngx_event_t                ev;
    unsigned                   busy:1;
} ngx_esign_ct_sweep_t;


static ngx_esign_ct_sweep_t  ngx_esign_ct_sweep;


static void
ngx_esign_ct_sweep_run(void *data, ngx_log_t *log)
{
    ngx_esign_ct_sweep_t  *sw = data;

    int                       rc;
    char                      id[ESC_RAND_ID_LEN + 1];
    size_t                    n, i;
    json_t                   *c;
    MDB_txn                  *txn;
    MDB_val                   k, v;
    uint64_t                  now, due;
    MDB_cursor               *cur;
    esign_evidence_entry_t    ev[NGX_ESIGN_SWEEP_MAX];
    ngx_esign_ledger_item_t   items[NGX_ESIGN_SWEEP_MAX];

    now = (uint64_t) time(NULL) * 1000;
    n = 0;

    if (mdb_txn_begin(sw->emcf->env, NULL, 0, &txn) != 0) {
        return;
    }

    if (mdb_cursor_open(txn, sw->emcf->dbis[ESIGN_DB_CONTRACT_DUE], &cur)
        != 0)
    {
        mdb_txn_abort(txn);
        return;
    }

    rc = 0;

    while (n < NGX_ESIGN_SWEEP_MAX
           && mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0)
    {
        if (k.mv_size != 17 + ESC_RAND_ID_LEN) {
            (void) mdb_cursor_del(cur, 0);
            continue;
        }

        due = strtoull(k.mv_data, NULL, 16);
        if (due > now) {
            break;
        }

        ngx_memcpy(id, (u_char *) k.mv_data + 17, ESC_RAND_ID_LEN);
        id[ESC_RAND_ID_LEN] = '\0';

        (void) mdb_cursor_del(cur, 0);

        if (esign_contract_get(txn, sw->emcf->dbis, id, &c) != 0) {
            continue;
        }

        if (esign_contract_expire_if_due(c, now)) {
            rc = ngx_esign_ct_expire(txn, sw->emcf->dbis, c, now, &ev[n]);
            if (rc != 0) {
                json_decref(c);
                break;
            }

            n++;
        }

        json_decref(c);
    }

    mdb_cursor_close(cur);

    if (rc != 0 || mdb_txn_commit(txn) != 0) {
        if (rc != 0) {
            mdb_txn_abort(txn);
        }

        n = 0;
    }

    for (i = 0; i < n; i++) {
        ngx_memcpy(items[i].shard, ev[i].shard, sizeof(items[i].shard));
        items[i].bytes = ev[i].bytes;
        items[i].len = ev[i].len;
    }

    /* best effort: the evidence outbox sweep retries what fails here */
    if (n > 0) {
        (void) ngx_esign_ledger_append(items, n);
    }

    for (i = 0; i < NGX_ESIGN_SWEEP_MAX && i < n; i++) {
        free(ev[i].bytes);
    }
}


static void
ngx_esign_ct_sweep_done(ngx_event_t *ev)
{
    ngx_esign_ct_sweep.busy = 0;

    if (!ngx_exiting) {
        ngx_add_timer(&ngx_esign_ct_sweep.ev,
                      ngx_esign_ct_sweep.emcf->expiry_sweep);
    }
}


static void
ngx_esign_ct_sweep_timer(ngx_event_t *ev)
{
    if (ngx_exiting || ngx_esign_ct_sweep.busy) {
        return;
    }

    if (ngx_thread_task_post(ngx_esign_ct_sweep.emcf->thread_pool,
                             ngx_esign_ct_sweep.task)
        != NGX_OK)
    {
        ngx_add_timer(ev, ngx_esign_ct_sweep.emcf->expiry_sweep);
        return;
    }

    ngx_esign_ct_sweep.busy = 1;
}


ngx_int_t
ngx_esign_contract_sweep_init(ngx_cycle_t *cycle, ngx_esign_main_conf_t *emcf)
{
    ngx_esign_ct_sweep_t  *sw;

    sw = &ngx_esign_ct_sweep;

    sw->emcf = emcf;
    sw->busy = 0;

    sw->task = ngx_thread_task_alloc(cycle->pool, 0);
    if (sw->task == NULL) {
        return NGX_ERROR;
    }

    sw->task->ctx = sw;
    sw->task->handler = ngx_esign_ct_sweep_run;
    sw->task->event.handler = ngx_esign_ct_sweep_done;
    sw->task->event.data = sw;

    ngx_memzero(&sw->ev, sizeof(ngx_event_t));
    sw->ev.handler = ngx_esign_ct_sweep_timer;
    sw->ev.data = sw;
    sw->ev.log = cycle->log;
    sw->ev.cancelable = 1;

    ngx_add_timer(&sw->ev, emcf->expiry_sweep);

    return NGX_OK;
}


void
ngx_esign_contract_sweep_exit(void)
{
    if (ngx_esign_ct_sweep.ev.timer_set) {
        ngx_del_timer(&ngx_esign_ct_sweep.ev);
    }
}
