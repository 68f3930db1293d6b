/*
 * Blocking work off the event loop: posts a function to the module's
 * thread pool and resumes the request when it is done.  The request is
 * pinned (blocked, count) while the thread runs, and a client that goes
 * away meanwhile is finalized by nginx's own finalizer, never by us.
 */


#include "ngx_esign.h"


typedef struct {
    ngx_http_request_t   *request;
    void                (*run)(void *data, ngx_log_t *log);
    void                 *data;
} ngx_esign_task_ctx_t;


static void ngx_esign_task_run(void *data, ngx_log_t *log);
static void ngx_esign_task_event(ngx_event_t *ev);
static void ngx_esign_task_resume(ngx_http_request_t *r);


/*
 * Runs run(data) in a pool thread, then done(r, ctx) in the event loop.
 * "run" must touch nothing of nginx: only "data" (which the caller keeps
 * alive, e.g. in r->pool) and thread-safe libraries.  The caller returns
 * NGX_DONE after NGX_OK; done() returns what the handler would have
 * returned (a response code, or NGX_DONE again after posting another task).
 */
ngx_int_t
ngx_esign_task_post(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    void (*run)(void *data, ngx_log_t *log), void *data,
    ngx_int_t (*done)(ngx_http_request_t *r, ngx_esign_ctx_t *ctx))
{
    ngx_thread_task_t      *task;
    ngx_esign_task_ctx_t   *tctx;
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_esign_task_ctx_t));
    if (task == NULL) {
        return NGX_ERROR;
    }

    tctx = task->ctx;
    tctx->request = r;
    tctx->run = run;
    tctx->data = data;

    task->handler = ngx_esign_task_run;
    task->event.handler = ngx_esign_task_event;
    task->event.data = tctx;

    ctx->task_data = data;
    ctx->task_done = done;
    ctx->task_finished = 0;

    if (ngx_thread_task_post(emcf->thread_pool, task) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->task_active = 1;

    r->main->blocked++;
    r->aio = 1;
    r->main->count++;
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_esign_task_resume;

    return NGX_OK;
}


static void
ngx_esign_task_run(void *data, ngx_log_t *log)
{
    ngx_esign_task_ctx_t  *tctx = data;

    tctx->run(tctx->data, log);
}


static void
ngx_esign_task_event(ngx_event_t *ev)
{
    ngx_esign_ctx_t       *ctx;
    ngx_connection_t      *c;
    ngx_http_request_t    *r;
    ngx_esign_task_ctx_t  *tctx;

    tctx = ev->data;
    r = tctx->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ctx = ngx_http_get_module_ctx(r, ngx_http_esign_module);

    r->main->blocked--;
    r->aio = 0;
    ctx->task_active = 0;
    ctx->task_finished = 1;

    /* ours, or nginx's finalizer when the client has gone */
    r->write_event_handler(r);

    ngx_http_run_posted_requests(c);
}


static void
ngx_esign_task_resume(ngx_http_request_t *r)
{
    ngx_int_t         rc;
    ngx_esign_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_esign_module);

    /* spurious write events reach here too */

    if (ctx == NULL || r->aio || !ctx->task_finished) {
        return;
    }

    ctx->task_finished = 0;
    r->write_event_handler = ngx_http_request_empty_handler;

    rc = ctx->task_done(r, ctx);

    ngx_http_finalize_request(r, rc);
}
