/*
 * Sessions: the cookie, the store interface (shared memory or Redis),
 * authentication of NGX_ESIGN_AUTH routes with the CSRF check, and the
 * kill switches for disabled accounts and deregistered institutions.
 */


#include "ngx_esign.h"
#include "ngx_esign_session.h"
#include "ngx_esign_auth.h"
#include "ngx_esign_pki.h"
#include "ngx_esign_db.h"
#include "ngx_esign_verify.h"

#include <openssl/crypto.h>

#include "esc_codec.h"
#include "esc_rand.h"


#define NGX_ESIGN_JCACHE_SIZE     256
#define NGX_ESIGN_JCACHE_KEY      (2 * NGX_ESIGN_REC_ID_MAX + 2)
#define NGX_ESIGN_JCACHE_VAL_MAX  65536


/* one worker's last parse of a record: its key, its bytes, the object */
typedef struct {
    ngx_uint_t                 db;
    size_t                     klen;
    u_char                     key[NGX_ESIGN_JCACHE_KEY];
    size_t                     vlen;
    u_char                    *val;
    json_t                    *json;
    char                      *doc;          /* account document, malloc */
    ngx_uint_t                 doc_op;
} ngx_esign_jcache_t;


typedef struct {
    ngx_esign_redis_conf_t     redis;
    u_char                     hash[32];
    uint64_t                   now;
    uint64_t                   idle;
    uint64_t                   absolute;
    int                        slide;
    ngx_esign_session_rec_t    rec;
    int                        rc;
} ngx_esign_session_task_t;


typedef struct {
    ngx_esign_redis_conf_t     redis;
    char                       id[NGX_ESIGN_REC_ID_MAX];
    ngx_uint_t                 by_institution;
    uint64_t                   now;
    uint64_t                   ttl;
} ngx_esign_kill_task_t;


static ngx_int_t ngx_esign_session_finish(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx, int rc, ngx_esign_session_rec_t *rec,
    ngx_uint_t async);
static ngx_int_t ngx_esign_session_sent(ngx_int_t rc, ngx_esign_ctx_t *ctx);
static ngx_uint_t ngx_esign_session_slides(ngx_http_request_t *r);
static void ngx_esign_session_touch_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_esign_session_touch_done(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static void ngx_esign_session_kill(ngx_http_request_t *r,
    ngx_uint_t by_institution, ngx_str_t *id);
static void ngx_esign_kill_run(void *data, ngx_log_t *log);
static void ngx_esign_kill_done(ngx_event_t *ev);
static ngx_int_t ngx_esign_session_load_actor(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx, ngx_esign_session_rec_t *rec);
static int ngx_esign_session_lookup(ngx_http_request_t *r, MDB_txn *txn,
    ngx_uint_t db, const char *key, json_t **out, ngx_esign_jcache_t **ep);
static ngx_int_t ngx_esign_session_copy(ngx_http_request_t *r, json_t *rec,
    const char *key, ngx_str_t *out);


static ngx_esign_jcache_t  ngx_esign_jcache[NGX_ESIGN_JCACHE_SIZE];


uint64_t
ngx_esign_wall_ms(void)
{
    ngx_time_t  *tp;

    ngx_time_update();
    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}


ngx_int_t
ngx_esign_session_init_zone(ngx_shm_zone_t *zone, void *data)
{
    return ngx_esign_shm_init(zone, data);
}


ngx_int_t
ngx_esign_session_redis_mode(ngx_http_request_t *r)
{
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    return emcf->redis != NULL;
}


void
ngx_esign_session_redis_conf(ngx_http_request_t *r,
    ngx_esign_redis_conf_t *rc)
{
    size_t                  n;
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    n = ngx_min(emcf->redis->host.len, sizeof(rc->host) - 1);
    ngx_memcpy(rc->host, emcf->redis->host.data, n);
    rc->host[n] = '\0';
    rc->port = emcf->redis->port ? emcf->redis->port : 6379;
    rc->timeout = 1000;
}


ngx_int_t
ngx_esign_session_unavailable(ngx_http_request_t *r)
{
    ngx_str_t  v;

    ngx_str_set(&v, "2");

    if (ngx_esign_add_header(r, "Retry-After", &v) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable",
                                "the session store is unavailable; retry");
}


/*
 * Fills a new record with a fresh session ID (sid: NGX_ESIGN_SID_LEN + 1
 * bytes, the cookie value) and CSRF token.
 */
ngx_int_t
ngx_esign_session_new(ngx_http_request_t *r, ngx_esign_session_rec_t *rec,
    u_char *sid)
{
    uint8_t  raw[NGX_ESIGN_SID_BYTES];

    if (esc_rand_bytes(raw, sizeof(raw)) != ESC_CRYPTO_OK
        || esc_b64_encode((char *) sid, NGX_ESIGN_SID_LEN + 1, raw,
                          sizeof(raw), ESC_B64_URL)
           != ESC_CRYPTO_OK
        || esign_sm3(sid, NGX_ESIGN_SID_LEN, rec->hash) != 0
        || esc_rand_bytes(raw, sizeof(raw)) != ESC_CRYPTO_OK
        || esc_b64_encode(rec->csrf, sizeof(rec->csrf), raw, sizeof(raw),
                          ESC_B64_URL)
           != ESC_CRYPTO_OK)
    {
        return NGX_ERROR;
    }

    ngx_explicit_memzero(raw, sizeof(raw));

    rec->created = ngx_esign_wall_ms();
    rec->last_seen = rec->created;

    return NGX_OK;
}


ngx_int_t
ngx_esign_session_set_cookie(ngx_http_request_t *r, u_char *sid,
    ngx_uint_t clear)
{
    u_char     *p;
    ngx_str_t   v;
    size_t      len;

    len = sizeof(NGX_ESIGN_SESSION_COOKIE "=; Path=/; Max-Age=0; Secure; "
                 "HttpOnly; SameSite=Strict") + NGX_ESIGN_SID_LEN;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v.data = p;

    if (clear) {
        p = ngx_sprintf(p, NGX_ESIGN_SESSION_COOKIE "=; Path=/; Max-Age=0; "
                        "Secure; HttpOnly; SameSite=Strict");

    } else {
        p = ngx_sprintf(p, NGX_ESIGN_SESSION_COOKIE "=%*s; Path=/; Secure; "
                        "HttpOnly; SameSite=Strict",
                        (size_t) NGX_ESIGN_SID_LEN, sid);
    }

    v.len = p - v.data;

    return ngx_esign_add_header(r, "Set-Cookie", &v);
}


/* SM3 of the session cookie; NGX_DECLINED without a well-formed one. */
ngx_int_t
ngx_esign_session_cookie_hash(ngx_http_request_t *r, u_char hash[32])
{
    size_t     i;
    ngx_str_t  name, value;

    ngx_str_set(&name, NGX_ESIGN_SESSION_COOKIE);

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name,
                                          &value)
        == NGX_DECLINED)
    {
        return NGX_DECLINED;
    }

    if (value.len != NGX_ESIGN_SID_LEN) {
        return NGX_DECLINED;
    }

    for (i = 0; i < value.len; i++) {
        u_char  c = value.data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return NGX_DECLINED;
        }
    }

    if (esign_sm3(value.data, value.len, hash) != 0) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_int_t
ngx_esign_session_store_shm(ngx_http_request_t *r,
    ngx_esign_session_rec_t *rec)
{
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    return ngx_esign_shm_put(emcf->session_zone, rec);
}


void
ngx_esign_session_delete_shm(ngx_http_request_t *r, u_char hash[32])
{
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    ngx_esign_shm_delete(emcf->session_zone, hash);
}


ngx_esign_session_rec_t *
ngx_esign_session_current(ngx_http_request_t *r)
{
    ngx_esign_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_esign_module);

    return ctx != NULL ? ctx->session : NULL;
}


ngx_int_t
ngx_esign_session_authenticate(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int                        rc;
    u_char                     hash[32];
    ngx_esign_main_conf_t     *emcf;
    ngx_esign_session_rec_t    rec;
    ngx_esign_session_task_t  *st;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    ctx->actor = NULL;

    if (ngx_esign_session_cookie_hash(r, hash) != NGX_OK) {
        return ngx_esign_session_sent(
                   ngx_esign_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                        "unauthenticated",
                                        "a session is required"), ctx);
    }

    if (emcf->redis != NULL) {
        st = ngx_pcalloc(r->pool, sizeof(ngx_esign_session_task_t));
        if (st == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_esign_session_redis_conf(r, &st->redis);
        ngx_memcpy(st->hash, hash, 32);
        st->now = ngx_esign_wall_ms();
        st->idle = emcf->idle_timeout;
        st->absolute = emcf->absolute_timeout;
        st->slide = ngx_esign_session_slides(r);

        if (ngx_esign_task_post(r, ctx, ngx_esign_session_touch_run, st,
                                ngx_esign_session_touch_done)
            != NGX_OK)
        {
            return ngx_esign_session_sent(ngx_esign_session_unavailable(r),
                                          ctx);
        }

        return NGX_DONE;
    }

    ngx_memzero(&rec, sizeof(rec));

    rc = ngx_esign_shm_touch(emcf->session_zone, hash, ngx_esign_wall_ms(),
                             emcf->idle_timeout, emcf->absolute_timeout,
                             ngx_esign_session_slides(r), &rec);

    return ngx_esign_session_sent(ngx_esign_session_finish(r, ctx, rc, &rec,
                                                           0),
                                  ctx);
}


/*
 * The router goes on to the handler when authentication returns NGX_OK,
 * but sending an error document also returns NGX_OK: such a result is
 * turned into NGX_AGAIN, which finalizes the request exactly like NGX_OK.
 */
static ngx_int_t
ngx_esign_session_sent(ngx_int_t rc, ngx_esign_ctx_t *ctx)
{
    if (ctx->actor == NULL && rc == NGX_OK) {
        return NGX_AGAIN;
    }

    return rc;
}


/*
 * R-AUTH-1: the admin page's background polls (message count) say
 * "X-Esign-Background: 1" and must not keep an idle session alive; every
 * other authenticated request slides the idle limit.
 */
static ngx_uint_t
ngx_esign_session_slides(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("X-Esign-Background") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "X-Esign-Background",
                               h[i].key.len) == 0
            && h[i].value.len == 1 && h[i].value.data[0] == '1')
        {
            return 0;
        }
    }

    return 1;
}


static void
ngx_esign_session_touch_run(void *data, ngx_log_t *log)
{
    ngx_esign_session_task_t  *st = data;

    st->rc = ngx_esign_redis_touch(&st->redis, st->hash, st->now, st->idle,
                                   st->absolute, st->slide, &st->rec);
}


static ngx_int_t
ngx_esign_session_touch_done(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    ngx_esign_session_task_t  *st = ctx->task_data;

    if (st->rc == NGX_ESIGN_SESS_UNAVAILABLE) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "esign: redis session store unreachable");
    }

    return ngx_esign_session_finish(r, ctx, st->rc, &st->rec, 1);
}


static ngx_int_t
ngx_esign_session_finish(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    int rc, ngx_esign_session_rec_t *rec, ngx_uint_t async)
{
    ngx_str_t                 token;
    ngx_esign_session_rec_t  *copy;

    switch (rc) {

    case NGX_ESIGN_SESS_OK:
        break;

    case NGX_ESIGN_SESS_EXPIRED:
        return ngx_esign_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                    "session_expired",
                                    "the session has expired; log in again");

    case NGX_ESIGN_SESS_UNAVAILABLE:
        return ngx_esign_session_unavailable(r);

    default:
        return ngx_esign_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                    "unauthenticated",
                                    "a session is required");
    }

    copy = ngx_palloc(r->pool, sizeof(ngx_esign_session_rec_t));
    if (copy == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *copy = *rec;
    ctx->session = copy;

    /*
     * The account and institution are read again on every request: a
     * disabled account or an institution that is no longer active ends
     * the session here whatever the store says.
     */

    rc = ngx_esign_session_load_actor(r, ctx, copy);

    if (rc == NGX_ERROR) {
        return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    "the state store is unavailable");
    }

    if (rc != NGX_OK) {
        if (!ngx_esign_session_redis_mode(r)) {
            ngx_esign_session_delete_shm(r, copy->hash);
        }

        ctx->actor = NULL;

        return ngx_esign_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                    "session_expired",
                                    "the session has ended; log in again");
    }

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        if (ngx_esign_header(r, "X-CSRF-Token", &token) != NGX_OK
            || token.len != NGX_ESIGN_CSRF_LEN
            || CRYPTO_memcmp(token.data, copy->csrf, NGX_ESIGN_CSRF_LEN) != 0)
        {
            ctx->actor = NULL;

            return ngx_esign_send_error(r, NGX_HTTP_FORBIDDEN, "csrf",
                                        "a valid X-CSRF-Token header is "
                                        "required");
        }
    }

    if (!async) {
        return NGX_OK;
    }

    return ctx->route->handler(r, ctx);
}


/* Value of a request header (first occurrence). */
ngx_int_t
ngx_esign_header(ngx_http_request_t *r, const char *name, ngx_str_t *value)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            *value = h[i].value;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


void
ngx_esign_session_kill_institution(ngx_http_request_t *r, ngx_str_t *inst_id)
{
    ngx_esign_session_kill(r, 1, inst_id);
}


void
ngx_esign_session_kill_account(ngx_http_request_t *r, ngx_str_t *account_id)
{
    ngx_esign_session_kill(r, 0, account_id);
}


/*
 * shm: the sessions go at once.  Redis: a "killed at" marker is written
 * from a pool thread, best effort; the marker only adds to the guarantee
 * of ngx_esign_session_load_actor(), which refuses disabled accounts and
 * inactive institutions on every request whatever the store holds.
 */
static void
ngx_esign_session_kill(ngx_http_request_t *r, ngx_uint_t by_institution,
    ngx_str_t *id)
{
    ngx_thread_task_t      *task;
    ngx_esign_main_conf_t  *emcf;
    ngx_esign_kill_task_t  *kt;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    if (id->len == 0 || id->len >= NGX_ESIGN_REC_ID_MAX) {
        return;
    }

    if (emcf->session_zone != NULL && emcf->session_zone->data != NULL) {
        ngx_esign_shm_kill(emcf->session_zone, by_institution, id);
    }

    if (emcf->redis == NULL) {
        return;
    }

    /* the task outlives the request: it lives in its own pool */

    task = ngx_thread_task_alloc(ngx_cycle->pool, 0);
    if (task == NULL) {
        return;
    }

    kt = ngx_alloc(sizeof(ngx_esign_kill_task_t), r->connection->log);
    if (kt == NULL) {
        return;
    }

    ngx_memzero(kt, sizeof(ngx_esign_kill_task_t));
    ngx_esign_session_redis_conf(r, &kt->redis);
    ngx_memcpy(kt->id, id->data, id->len);
    kt->by_institution = by_institution;
    kt->now = ngx_esign_wall_ms();
    kt->ttl = emcf->absolute_timeout + 60000;

    task->ctx = kt;
    task->handler = ngx_esign_kill_run;
    task->event.handler = ngx_esign_kill_done;
    task->event.data = kt;
    task->event.log = ngx_cycle->log;

    if (ngx_thread_task_post(emcf->thread_pool, task) != NGX_OK) {
        ngx_free(kt);
    }
}


static void
ngx_esign_kill_run(void *data, ngx_log_t *log)
{
    ngx_esign_kill_task_t  *kt = data;

    if (ngx_esign_redis_kill(&kt->redis, kt->by_institution, kt->id, kt->now,
                             kt->ttl)
        != NGX_ESIGN_SESS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "esign: could not write a session kill marker");
    }
}


static void
ngx_esign_kill_done(ngx_event_t *ev)
{
    ngx_free(ev->data);
}


int
ngx_esign_session_get_json(ngx_http_request_t *r, MDB_txn *txn,
    ngx_uint_t db, const char *key, json_t **out)
{
    ngx_esign_jcache_t  *e;

    return ngx_esign_session_lookup(r, txn, db, key, out, &e);
}


int
ngx_esign_session_account_doc(ngx_http_request_t *r, MDB_txn *txn,
    ngx_uint_t db, const char *key, ngx_uint_t operator, ngx_str_t *doc)
{
    int                  rc;
    char                *s;
    json_t              *json, *d;
    ngx_esign_jcache_t  *e;

    rc = ngx_esign_session_lookup(r, txn, db, key, &json, &e);
    if (rc != 0) {
        return rc;
    }

    if (e != NULL && e->doc != NULL && e->doc_op == operator) {
        s = e->doc;

    } else {
        d = ngx_esign_account_doc(json, operator);
        s = d ? json_dumps(d, JSON_COMPACT) : NULL;

        if (d != NULL) {
            json_decref(d);
        }

        if (s == NULL) {
            json_decref(json);
            return MDB_PANIC;
        }

        if (e != NULL) {
            if (e->doc != NULL) {
                free(e->doc);
            }

            e->doc = s;
            e->doc_op = operator;
        }
    }

    doc->len = ngx_strlen(s);
    doc->data = ngx_pnalloc(r->pool, doc->len);

    if (doc->data != NULL) {
        ngx_memcpy(doc->data, s, doc->len);
    }

    if (e == NULL) {
        free(s);
    }

    json_decref(json);

    return doc->data != NULL ? 0 : MDB_PANIC;
}


/* *ep: the cache entry now holding the record, NULL when not cached */
static int
ngx_esign_session_lookup(ngx_http_request_t *r, MDB_txn *txn,
    ngx_uint_t db, const char *key, json_t **out, ngx_esign_jcache_t **ep)
{
    int                  rc;
    size_t               klen;
    u_char              *val;
    MDB_val              k, v;
    json_t              *json;
    json_error_t         err;
    ngx_esign_jcache_t  *e;

    *ep = NULL;
    klen = ngx_strlen(key);
    k.mv_data = (void *) key;
    k.mv_size = klen;

    rc = mdb_get(txn, ngx_esign_store_dbi(r, db), &k, &v);
    if (rc != 0) {
        return rc;
    }

    e = NULL;

    if (klen <= NGX_ESIGN_JCACHE_KEY) {
        e = &ngx_esign_jcache[(ngx_crc32_short((u_char *) key, klen) ^ db)
                              % NGX_ESIGN_JCACHE_SIZE];

        /* the record's current bytes, compared in full with the last parse */

        if (e->json != NULL && e->db == db && e->klen == klen
            && ngx_memcmp(e->key, key, klen) == 0
            && e->vlen == v.mv_size
            && ngx_memcmp(e->val, v.mv_data, v.mv_size) == 0)
        {
            *out = json_incref(e->json);
            *ep = e;
            return 0;
        }
    }

    json = json_loadb(v.mv_data, v.mv_size, 0, &err);
    if (json == NULL) {
        return MDB_CORRUPTED;
    }

    if (e != NULL && v.mv_size <= NGX_ESIGN_JCACHE_VAL_MAX) {
        val = ngx_alloc(v.mv_size ? v.mv_size : 1, r->connection->log);

        if (val != NULL) {
            if (e->json != NULL) {
                json_decref(e->json);
                ngx_free(e->val);
            }

            if (e->doc != NULL) {
                free(e->doc);
                e->doc = NULL;
            }

            ngx_memcpy(val, v.mv_data, v.mv_size);
            ngx_memcpy(e->key, key, klen);
            e->db = db;
            e->klen = klen;
            e->val = val;
            e->vlen = v.mv_size;
            e->json = json_incref(json);
            *ep = e;
        }
    }

    *out = json;

    return 0;
}


static ngx_int_t
ngx_esign_session_copy(ngx_http_request_t *r, json_t *rec, const char *key,
    ngx_str_t *out)
{
    json_t  *v;

    v = json_object_get(rec, key);

    if (v == NULL || !json_is_string(v)) {
        out->len = 0;
        out->data = (u_char *) "";
        return NGX_OK;
    }

    out->len = json_string_length(v);
    out->data = (u_char *) ngx_esign_pstrdup(r->pool, json_string_value(v),
                                             out->len);

    return out->data != NULL ? NGX_OK : NGX_ERROR;
}


/*
 * Loads ctx->actor for a session, with the records fetched through
 * ngx_esign_session_get_json(): the account and institution are still
 * read from LMDB on every request and the same checks decide (disabled
 * account, institution not active or deregistering: NGX_DECLINED); only
 * the JSON parse of unchanged bytes is skipped.
 */
static ngx_int_t
ngx_esign_session_load_actor(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    ngx_esign_session_rec_t *rec)
{
    int                 rc;
    char                key[2 * NGX_ESIGN_REC_ID_MAX + 2];
    json_t             *acct, *inst;
    MDB_txn            *txn;
    ngx_int_t           res;
    ngx_uint_t          tier, perms;
    const char         *status, *role;
    ngx_esign_actor_t  *a;

    txn = ngx_esign_store_read(r);
    if (txn == NULL) {
        return NGX_ERROR;
    }

    acct = NULL;
    inst = NULL;
    res = NGX_DECLINED;

    if (rec->role == NGX_ESIGN_ROLE_OPERATOR) {
        rc = ngx_esign_session_get_json(r, txn, ESIGN_DB_OPERATORS,
                                        rec->account_id, &acct);

    } else {
        ngx_snprintf((u_char *) key, sizeof(key), "%s/%s%Z",
                     rec->institution_id, rec->account_id);

        rc = ngx_esign_session_get_json(r, txn, ESIGN_DB_ACCOUNTS, key,
                                        &acct);

        if (rc == 0) {
            rc = ngx_esign_session_get_json(r, txn, ESIGN_DB_INSTITUTIONS,
                                            rec->institution_id, &inst);
        }
    }

    mdb_txn_abort(txn);

    if (rc != 0) {
        res = (rc == MDB_NOTFOUND) ? NGX_DECLINED : NGX_ERROR;
        goto done;
    }

    if (json_is_true(json_object_get(acct, "disabled"))) {
        goto done;
    }

    if (inst != NULL) {
        status = json_string_value(json_object_get(inst, "status"));

        if (status == NULL
            || (ngx_strcmp(status, "active") != 0
                && ngx_strcmp(status, "deregistering") != 0))
        {
            goto done;
        }
    }

    a = ngx_pcalloc(r->pool, sizeof(ngx_esign_actor_t));
    if (a == NULL) {
        res = NGX_ERROR;
        goto done;
    }

    a->role = rec->role;

    if (rec->role != NGX_ESIGN_ROLE_OPERATOR) {
        role = json_string_value(json_object_get(acct, "role"));
        a->role = (role != NULL && ngx_strcmp(role, "institution_admin") == 0)
                  ? NGX_ESIGN_ROLE_INST_ADMIN : NGX_ESIGN_ROLE_ACCOUNT;
    }

    if (ngx_esign_session_copy(r, acct, "id", &a->account_id) != NGX_OK
        || ngx_esign_session_copy(r, acct, "username", &a->username)
           != NGX_OK
        || ngx_esign_session_copy(r, acct, "department", &a->department)
           != NGX_OK)
    {
        res = NGX_ERROR;
        goto done;
    }

    if (inst != NULL
        && ngx_esign_session_copy(r, inst, "id", &a->institution_id)
           != NGX_OK)
    {
        res = NGX_ERROR;
        goto done;
    }

    tier = ESC_TIER_TOP_ADMIN;
    (void) ngx_esign_tier_parse(json_string_value(json_object_get(acct,
                                                                  "tier")),
                                &tier);
    perms = 0;
    (void) ngx_esign_perms_parse(json_object_get(acct, "permissions"),
                                 &perms);

    if (a->role == NGX_ESIGN_ROLE_INST_ADMIN) {
        tier = ESC_TIER_TOP_ADMIN;
        perms = ESC_PERM_ALL;
    }

    a->tier = tier;
    a->permissions = perms;
    ngx_memcpy(a->session_hash, rec->hash, 32);

    ctx->actor = a;
    res = NGX_OK;

done:

    if (acct != NULL) {
        json_decref(acct);
    }

    if (inst != NULL) {
        json_decref(inst);
    }

    return res;
}
