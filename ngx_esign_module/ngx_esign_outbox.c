/*
 * The notification outbox: directives, the delivery timer of worker 0
 * (SMTP and the SMS gateway are spoken in the thread pool, never on the
 * event loop), retries with exponential backoff, and GET /admin/outbox.
 */


#include "ngx_esign_outbox.h"
#include "ngx_esign_db.h"
#include "ngx_esign_notify.h"
#include "ngx_esign_smtp.h"
#include "ngx_esign_httpc.h"
#include "esc_fieldenc.h"


#define NGX_ESIGN_OUTBOX_BATCH     16
#define NGX_ESIGN_OUTBOX_MAX_DELAY (60 * 60 * 1000)


typedef struct {
    char                       id[ESIGN_MSG_ID_LEN + 1];
    char                       lease[96];
    char                       channel[8];
    char                       to[ESC_FIELD_MAX + 1];
    char                       masked[ESC_FIELD_MAX];
    char                      *subject;
    char                      *body;
    int                        attempts;
    int                        rc;
    char                       err[160];
} ngx_esign_outbox_job_t;


typedef struct {
    ngx_esign_notify_conf_t   *nc;
    MDB_env                   *env;
    MDB_dbi                   *dbis;
    ngx_uint_t                 claimed;
} ngx_esign_outbox_task_t;


static ngx_int_t ngx_esign_outbox_list(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static void ngx_esign_outbox_timer(ngx_event_t *ev);
static void ngx_esign_outbox_done(ngx_event_t *ev);
static void ngx_esign_outbox_run(void *data, ngx_log_t *log);


ngx_esign_route_t  ngx_esign_outbox_routes[] = {
    { NGX_HTTP_GET, "/admin/outbox", NGX_ESIGN_AUTH, ngx_esign_outbox_list },
    { 0, NULL, 0, NULL }
};


uint64_t
ngx_esign_notify_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}


static ngx_esign_notify_conf_t *
ngx_esign_notify_conf(ngx_conf_t *cf, ngx_esign_main_conf_t *emcf)
{
    ngx_esign_notify_conf_t  *nc;

    if (emcf->notify != NULL) {
        return emcf->notify;
    }

    nc = ngx_pcalloc(cf->pool, sizeof(ngx_esign_notify_conf_t));
    if (nc == NULL) {
        return NULL;
    }

    nc->interval = NGX_CONF_UNSET_MSEC;
    nc->retry_base = NGX_CONF_UNSET_MSEC;
    nc->timeout = NGX_CONF_UNSET_MSEC;
    nc->link_ttl = NGX_CONF_UNSET_MSEC;
    nc->max_attempts = NGX_CONF_UNSET_UINT;

    emcf->notify = nc;

    return nc;
}


static char *
ngx_esign_notify_cstr(ngx_conf_t *cf, ngx_str_t *s)
{
    char  *p;

    p = ngx_pnalloc(cf->pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s->data, s->len);
    p[s->len] = '\0';

    return p;
}


/* "host:port" (or "http://host:port/path" when path != NULL) */
static char *
ngx_esign_notify_addr(ngx_conf_t *cf, ngx_str_t *value, in_port_t dport,
    char **host, unsigned *port, char **path)
{
    ngx_url_t  u;

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *value;
    u.default_port = dport;
    u.no_resolve = 1;
    u.uri_part = path != NULL;

    if (path != NULL) {
        if (value->len <= 7
            || ngx_strncasecmp(value->data, (u_char *) "http://", 7) != 0)
        {
            return "must be an http:// URL (https is not supported; "
                   "put a local relay in front of a TLS gateway)";
        }

        u.url.data += 7;
        u.url.len -= 7;
    }

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.host.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid address \"%V\": %s",
                           value, u.err ? u.err : "no host");
        return NGX_CONF_ERROR;
    }

    *host = ngx_esign_notify_cstr(cf, &u.host);
    *port = u.port ? u.port : dport;

    if (path != NULL) {
        if (u.uri.len == 0) {
            ngx_str_set(&u.uri, "/");
        }

        *path = ngx_esign_notify_cstr(cf, &u.uri);
    }

    if (*host == NULL || (path != NULL && *path == NULL)) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_esign_notify_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_esign_main_conf_t *emcf = conf;

    ngx_int_t                 n;
    ngx_str_t                *value, *name;
    ngx_esign_notify_conf_t  *nc;

    nc = ngx_esign_notify_conf(cf, emcf);
    if (nc == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    name = &cmd->name;

#define ngx_esign_is(s)                                                      \
    (name->len == sizeof(s) - 1 && ngx_strncmp(name->data, s, name->len) == 0)

    if (ngx_esign_is("esign_smtp")) {
        if (nc->smtp_host != NULL) {
            return "is duplicate";
        }

        return ngx_esign_notify_addr(cf, &value[1], 25, &nc->smtp_host,
                                     &nc->smtp_port, NULL);
    }

    if (ngx_esign_is("esign_smtp_from")) {
        if (nc->smtp_from != NULL) {
            return "is duplicate";
        }

        if (value[1].len == 0 || value[1].len > 254
            || ngx_strlchr(value[1].data, value[1].data + value[1].len, '@')
               == NULL)
        {
            return "must be an e-mail address";
        }

        nc->smtp_from = ngx_esign_notify_cstr(cf, &value[1]);

        return nc->smtp_from ? NGX_CONF_OK : NGX_CONF_ERROR;
    }

    if (ngx_esign_is("esign_sms_gateway")) {
        if (nc->sms_host != NULL) {
            return "is duplicate";
        }

        return ngx_esign_notify_addr(cf, &value[1], 80, &nc->sms_host,
                                     &nc->sms_port, &nc->sms_path);
    }

    if (ngx_esign_is("esign_public_url")) {
        if (nc->public_url.len != 0) {
            return "is duplicate";
        }

        if (value[1].len < sizeof("http://x") - 1 || value[1].len > 200
            || (ngx_strncmp(value[1].data, "https://", 8) != 0
                && ngx_strncmp(value[1].data, "http://", 7) != 0))
        {
            return "must be an https:// URL";
        }

        nc->public_url = value[1];

        return NGX_CONF_OK;
    }

    if (ngx_esign_is("esign_outbox_max_attempts")) {
        n = ngx_atoi(value[1].data, value[1].len);
        if (n < 1 || n > 100) {
            return "must be 1..100";
        }

        nc->max_attempts = n;

        return NGX_CONF_OK;
    }

    n = ngx_parse_time(&value[1], 0);
    if (n == NGX_ERROR) {
        return "invalid time";
    }

    if (ngx_esign_is("esign_outbox_interval")) {
        nc->interval = n < 10 ? 10 : n;

    } else if (ngx_esign_is("esign_outbox_retry_base")) {
        nc->retry_base = n;

    } else if (ngx_esign_is("esign_notify_timeout")) {
        nc->timeout = n < 100 ? 100 : n;

    } else if (ngx_esign_is("esign_link_ttl")) {
        if (n < 1000) {
            return "must be at least 1s";
        }

        nc->link_ttl = n;

    } else {
        return "is unknown";
    }

#undef ngx_esign_is

    return NGX_CONF_OK;
}


char *
ngx_esign_notify_init_main_conf(ngx_conf_t *cf, ngx_esign_main_conf_t *emcf)
{
    ngx_esign_notify_conf_t  *nc;

    nc = ngx_esign_notify_conf(cf, emcf);
    if (nc == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_msec_value(nc->interval, 2000);
    ngx_conf_init_msec_value(nc->retry_base, 30000);
    ngx_conf_init_msec_value(nc->timeout, 10000);
    ngx_conf_init_msec_value(nc->link_ttl, 72 * 60 * 60 * 1000);
    ngx_conf_init_uint_value(nc->max_attempts, 5);

    if (nc->smtp_from == NULL) {
        nc->smtp_from = "esign@localhost";
    }

    if (nc->public_url.len == 0) {
        if (nc->smtp_host != NULL || nc->sms_host != NULL) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "\"esign_public_url\" is not set: links in "
                               "e-mail and SMS point to https://localhost");
        }

        ngx_str_set(&nc->public_url, "https://localhost");
    }

    nc->emcf = emcf;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_esign_notify_init_process(ngx_cycle_t *cycle, ngx_esign_main_conf_t *emcf)
{
    ngx_esign_notify_conf_t  *nc;
    ngx_esign_outbox_task_t  *ot;

    nc = emcf->notify;

    /* every worker writes messages and queues entries: keys everywhere */

    if (esign_notify_configure((char *) nc->public_url.data,
                               nc->public_url.len, (char *) emcf->kek.data,
                               emcf->kek.len, nc->link_ttl,
                               nc->smtp_host != NULL, nc->sms_host != NULL)
        != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "esign notifications: no \"kek v<N> <hex>\" line in "
                      "the esign_kek file");
        return NGX_ERROR;
    }

    /* one deliverer per instance: worker 0 */

    if (ngx_worker != 0
        || (nc->smtp_host == NULL && nc->sms_host == NULL))
    {
        return NGX_OK;
    }

    nc->task = ngx_thread_task_alloc(cycle->pool,
                                     sizeof(ngx_esign_outbox_task_t));
    if (nc->task == NULL) {
        return NGX_ERROR;
    }

    ot = nc->task->ctx;
    ot->nc = nc;
    ot->env = emcf->env;
    ot->dbis = emcf->dbis;

    nc->task->handler = ngx_esign_outbox_run;
    nc->task->event.handler = ngx_esign_outbox_done;
    nc->task->event.data = nc;

    nc->ev.handler = ngx_esign_outbox_timer;
    nc->ev.data = nc;
    nc->ev.log = cycle->log;
    nc->ev.cancelable = 1;

    ngx_add_timer(&nc->ev, nc->interval);

    return NGX_OK;
}


void
ngx_esign_notify_exit_process(ngx_esign_main_conf_t *emcf)
{
    ngx_esign_notify_conf_t  *nc;

    nc = emcf->notify;

    if (nc != NULL && nc->ev.timer_set) {
        ngx_del_timer(&nc->ev);
    }
}


static void
ngx_esign_outbox_timer(ngx_event_t *ev)
{
    ngx_esign_notify_conf_t  *nc;

    nc = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (nc->busy) {
        ngx_add_timer(ev, nc->interval);
        return;
    }

    if (ngx_thread_task_post(nc->emcf->thread_pool, nc->task) != NGX_OK) {
        ngx_add_timer(ev, nc->interval);
        return;
    }

    nc->busy = 1;
}


static void
ngx_esign_outbox_done(ngx_event_t *ev)
{
    ngx_esign_notify_conf_t  *nc;
    ngx_esign_outbox_task_t  *ot;

    nc = ev->data;
    ot = nc->task->ctx;

    nc->busy = 0;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    /* a full batch means more may be due: go on at once */

    ngx_add_timer(&nc->ev,
                  ot->claimed == NGX_ESIGN_OUTBOX_BATCH ? 1 : nc->interval);
}


static int
ngx_esign_outbox_qkey(char *buf, size_t size, uint64_t due, const char *id)
{
    return snprintf(buf, size, "q/%016llx/%s", (unsigned long long) due, id);
}


static char *
ngx_esign_outbox_strdup(json_t *e, const char *key)
{
    const char  *s;

    s = json_string_value(json_object_get(e, key));

    return strdup(s != NULL ? s : "");
}


/*
 * In the write transaction: takes up to a batch of due entries, moves
 * their queue keys to a lease (so a worker that dies mid-delivery leaves
 * them due again later, and an old worker finishing during a reload does
 * not hand them out twice) and copies what delivery needs.
 */
static int
ngx_esign_outbox_claim(ngx_esign_outbox_task_t *ot, MDB_txn *txn,
    ngx_esign_outbox_job_t *jobs, uint64_t now, ngx_uint_t *njobs)
{
    int                      rc;
    char                     ekey[64], qkeys[NGX_ESIGN_OUTBOX_BATCH][96];
    json_t                  *e;
    uint64_t                 due, lease;
    MDB_val                  k, v;
    ngx_uint_t               i, n, nq;
    MDB_cursor              *cur;
    const char              *status, *channel, *masked;
    ngx_esign_outbox_job_t  *job;

    *njobs = 0;
    lease = now + ngx_max(60000, 4 * ot->nc->timeout);

    /* first the due queue keys, then the changes (no edits mid-scan) */

    rc = mdb_cursor_open(txn, ot->dbis[ESIGN_DB_OUTBOX], &cur);
    if (rc != 0) {
        return rc;
    }

    nq = 0;

    k.mv_data = "q/";
    k.mv_size = 2;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0 && nq < NGX_ESIGN_OUTBOX_BATCH;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size < 2 || ngx_strncmp(k.mv_data, "q/", 2) != 0
            || k.mv_size >= sizeof(qkeys[0]))
        {
            break;
        }

        due = (k.mv_size > 19) ? (uint64_t) ngx_hextoi((u_char *) k.mv_data
                                                       + 2, 16)
                               : 0;
        if (due > now) {
            break;
        }

        ngx_memcpy(qkeys[nq], k.mv_data, k.mv_size);
        qkeys[nq][k.mv_size] = '\0';
        nq++;
    }

    mdb_cursor_close(cur);

    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }

    n = 0;

    for (i = 0; i < nq; i++) {
        k.mv_data = qkeys[i];
        k.mv_size = ngx_strlen(qkeys[i]);

        rc = mdb_del(txn, ot->dbis[ESIGN_DB_OUTBOX], &k, NULL);
        if (rc != 0) {
            goto failed;
        }

        if (k.mv_size != 19 + ESIGN_MSG_ID_LEN) {
            continue;
        }

        job = &jobs[n];
        ngx_memzero(job, sizeof(ngx_esign_outbox_job_t));
        ngx_memcpy(job->id, qkeys[i] + 19, ESIGN_MSG_ID_LEN);

        (void) snprintf(ekey, sizeof(ekey), "e/%s", job->id);

        e = NULL;
        rc = esign_db_get_json(txn, ot->dbis[ESIGN_DB_OUTBOX], ekey,
                               strlen(ekey), &e);
        if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED) {
            continue;
        }

        if (rc != 0) {
            goto failed;
        }

        status = json_string_value(json_object_get(e, "status"));
        channel = json_string_value(json_object_get(e, "channel"));
        masked = json_string_value(json_object_get(e, "to_masked"));

        if (status == NULL || ngx_strcmp(status, "pending") != 0
            || channel == NULL || ngx_strlen(channel) >= sizeof(job->channel))
        {
            json_decref(e);
            continue;
        }

        ngx_cpystrn((u_char *) job->channel, (u_char *) channel,
                    sizeof(job->channel));
        ngx_cpystrn((u_char *) job->masked,
                    (u_char *) (masked ? masked : "***"),
                    sizeof(job->masked));

        if (esign_outbox_recipient(e, job->to, sizeof(job->to)) != 0) {
            job->to[0] = '\0';
        }

        job->subject = ngx_esign_outbox_strdup(e, "subject");
        job->body = ngx_esign_outbox_strdup(e, "body");
        job->attempts = json_integer_value(json_object_get(e, "attempts"))
                        + 1;

        (void) json_object_set_new(e, "attempts",
                                   json_integer(job->attempts));
        (void) json_object_set_new(e, "next_attempt_at",
                                   json_integer((json_int_t) lease));

        rc = esign_db_put_json(txn, ot->dbis[ESIGN_DB_OUTBOX], ekey,
                               strlen(ekey), e, 0);
        json_decref(e);

        n++;

        if (rc != 0 || job->subject == NULL || job->body == NULL) {
            rc = rc ? rc : ENOMEM;
            goto failed;
        }

        (void) ngx_esign_outbox_qkey(job->lease, sizeof(job->lease), lease,
                                     job->id);

        k.mv_data = job->lease;
        k.mv_size = ngx_strlen(job->lease);
        v.mv_data = "";
        v.mv_size = 0;

        rc = mdb_put(txn, ot->dbis[ESIGN_DB_OUTBOX], &k, &v, 0);
        if (rc != 0) {
            goto failed;
        }
    }

    *njobs = n;

    return 0;

failed:

    for (i = 0; i < n; i++) {
        free(jobs[i].subject);
        free(jobs[i].body);
    }

    return rc;
}


static void
ngx_esign_outbox_deliver(ngx_esign_notify_conf_t *nc,
    ngx_esign_outbox_job_t *job)
{
    int                   status;
    json_t               *doc;
    char                 *s;
    esign_smtp_server_t   srv;
    esign_httpc_target_t  t;

    if (job->to[0] == '\0') {
        job->rc = ESIGN_SMTP_EPERM;
        ngx_cpystrn((u_char *) job->err,
                    (u_char *) "the recipient cannot be decrypted",
                    sizeof(job->err));
        return;
    }

    if (ngx_strcmp(job->channel, "email") == 0) {

        if (nc->smtp_host == NULL) {
            job->rc = ESIGN_SMTP_ETEMP;
            ngx_cpystrn((u_char *) job->err,
                        (u_char *) "no esign_smtp relay configured",
                        sizeof(job->err));
            return;
        }

        srv.host = nc->smtp_host;
        srv.port = nc->smtp_port;
        srv.timeout_ms = (int) nc->timeout;
        srv.helo = "esign";

        job->rc = esign_smtp_send(&srv, nc->smtp_from, job->to, job->subject,
                                  job->body, job->err, sizeof(job->err));
        return;
    }

    if (nc->sms_host == NULL) {
        job->rc = ESIGN_HTTPC_ETEMP;
        ngx_cpystrn((u_char *) job->err,
                    (u_char *) "no esign_sms_gateway configured",
                    sizeof(job->err));
        return;
    }

    doc = json_pack("{s:s,s:s,s:s}", "id", job->id, "to", job->to,
                    "text", job->body);
    s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);

    if (s == NULL) {
        job->rc = ESIGN_HTTPC_ETEMP;
        ngx_cpystrn((u_char *) job->err, (u_char *) "out of memory",
                    sizeof(job->err));
        return;
    }

    t.host = nc->sms_host;
    t.port = nc->sms_port;
    t.path = nc->sms_path;
    t.timeout_ms = (int) nc->timeout;

    job->rc = esign_httpc_post_json(&t, s, ngx_strlen(s), &status, job->err,
                                    sizeof(job->err));
    free(s);
}


/* In the write transaction: records each outcome, schedules retries. */
static int
ngx_esign_outbox_finish(ngx_esign_outbox_task_t *ot, MDB_txn *txn,
    ngx_esign_outbox_job_t *jobs, ngx_uint_t n, uint64_t now,
    ngx_log_t *log)
{
    int                      rc;
    char                     ekey[64], qkey[96], at[32];
    json_t                  *e;
    uint64_t                 delay, next;
    MDB_val                  k, v;
    ngx_uint_t               i;
    ngx_esign_outbox_job_t  *job;

    for (i = 0; i < n; i++) {
        job = &jobs[i];

        k.mv_data = job->lease;
        k.mv_size = ngx_strlen(job->lease);

        rc = mdb_del(txn, ot->dbis[ESIGN_DB_OUTBOX], &k, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND) {
            return rc;
        }

        (void) snprintf(ekey, sizeof(ekey), "e/%s", job->id);

        rc = esign_db_get_json(txn, ot->dbis[ESIGN_DB_OUTBOX], ekey,
                               strlen(ekey), &e);
        if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED) {
            continue;
        }

        if (rc != 0) {
            return rc;
        }

        if (job->rc == 0) {
            esign_notify_time(now, at);

            (void) json_object_set_new(e, "status", json_string("sent"));
            (void) json_object_set_new(e, "sent_at", json_string(at));
            (void) json_object_set_new(e, "last_error", json_null());
            (void) json_object_set_new(e, "next_attempt_at", json_null());

            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "esign outbox: %s %s to %s sent (attempt %d)",
                          job->channel, job->id, job->masked, job->attempts);

        } else if (job->rc == ESIGN_SMTP_EPERM
                   || (ngx_uint_t) job->attempts >= ot->nc->max_attempts)
        {
            (void) json_object_set_new(e, "status", json_string("failed"));
            (void) json_object_set_new(e, "last_error",
                                       json_string(job->err));
            (void) json_object_set_new(e, "next_attempt_at", json_null());

            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "esign outbox: %s %s to %s failed for good after "
                          "%d attempts: %s", job->channel, job->id,
                          job->masked, job->attempts, job->err);

        } else {
            /* base, 2 x base, 4 x base ... capped at an hour */
            delay = (uint64_t) ot->nc->retry_base << (job->attempts - 1);
            if (delay > NGX_ESIGN_OUTBOX_MAX_DELAY || job->attempts > 30) {
                delay = NGX_ESIGN_OUTBOX_MAX_DELAY;
            }

            next = now + delay;

            (void) json_object_set_new(e, "last_error",
                                       json_string(job->err));
            (void) json_object_set_new(e, "next_attempt_at",
                                       json_integer((json_int_t) next));

            (void) ngx_esign_outbox_qkey(qkey, sizeof(qkey), next, job->id);

            k.mv_data = qkey;
            k.mv_size = ngx_strlen(qkey);
            v.mv_data = "";
            v.mv_size = 0;

            rc = mdb_put(txn, ot->dbis[ESIGN_DB_OUTBOX], &k, &v, 0);
            if (rc != 0) {
                json_decref(e);
                return rc;
            }

            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "esign outbox: %s %s to %s attempt %d failed, "
                          "retry in %uLms: %s", job->channel, job->id,
                          job->masked, job->attempts, delay, job->err);
        }

        rc = esign_db_put_json(txn, ot->dbis[ESIGN_DB_OUTBOX], ekey,
                               strlen(ekey), e, 0);
        json_decref(e);

        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


static int
ngx_esign_outbox_txn(MDB_env *env, MDB_txn **txn)
{
    int  rc;

    rc = mdb_txn_begin(env, NULL, 0, txn);

    if (rc == MDB_MAP_RESIZED) {
        (void) mdb_env_set_mapsize(env, 0);
        rc = mdb_txn_begin(env, NULL, 0, txn);
    }

    return rc;
}


/* The pool thread: claim, deliver (blocking sockets), record. */
static void
ngx_esign_outbox_run(void *data, ngx_log_t *log)
{
    ngx_esign_outbox_task_t *ot = data;

    int                      rc;
    MDB_txn                 *txn;
    ngx_uint_t               i, n;
    ngx_esign_outbox_job_t  *jobs;

    ot->claimed = 0;

    jobs = calloc(NGX_ESIGN_OUTBOX_BATCH, sizeof(ngx_esign_outbox_job_t));
    if (jobs == NULL) {
        return;
    }

    n = 0;

    rc = ngx_esign_outbox_txn(ot->env, &txn);
    if (rc == 0) {
        rc = ngx_esign_outbox_claim(ot, txn, jobs, ngx_esign_notify_now(),
                                    &n);
        if (rc == 0) {
            rc = mdb_txn_commit(txn);

        } else {
            mdb_txn_abort(txn);
        }
    }

    if (rc != 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "esign outbox: cannot claim entries: %s",
                      mdb_strerror(rc));

        for (i = 0; i < n; i++) {
            free(jobs[i].subject);
            free(jobs[i].body);
        }

        free(jobs);
        return;
    }

    ot->claimed = n;

    for (i = 0; i < n; i++) {
        ngx_esign_outbox_deliver(ot->nc, &jobs[i]);
    }

    if (n > 0) {
        rc = ngx_esign_outbox_txn(ot->env, &txn);
        if (rc == 0) {
            rc = ngx_esign_outbox_finish(ot, txn, jobs, n,
                                         ngx_esign_notify_now(), log);
            if (rc == 0) {
                rc = mdb_txn_commit(txn);

            } else {
                mdb_txn_abort(txn);
            }
        }

        if (rc != 0) {
            /* the leases expire and the entries are tried again */
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "esign outbox: cannot record outcomes: %s",
                          mdb_strerror(rc));
        }
    }

    for (i = 0; i < n; i++) {
        ngx_explicit_memzero(jobs[i].to, sizeof(jobs[i].to));
        free(jobs[i].subject);
        free(jobs[i].body);
    }

    free(jobs);
}


/* GET /admin/outbox?status=pending|sent|failed&limit&cursor (operators) */
static ngx_int_t
ngx_esign_outbox_list(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int          rc;
    char         ekey[64];
    json_t      *doc, *items, *e, *item;
    MDB_txn     *txn;
    MDB_val      k, v;
    ngx_int_t    limit, ret;
    ngx_str_t    status, cursor, lim;
    ngx_uint_t   n;
    MDB_cursor  *cur;
    json_error_t err;
    const char  *st;

    if (ctx->actor == NULL || ctx->actor->role != NGX_ESIGN_ROLE_OPERATOR) {
        return ngx_esign_send_error(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                    "operators only");
    }

    ngx_str_null(&status);
    ngx_str_null(&cursor);

    if (ngx_http_arg(r, (u_char *) "status", 6, &status) == NGX_OK
        && !(status.len == 7 && ngx_strncmp(status.data, "pending", 7) == 0)
        && !(status.len == 4 && ngx_strncmp(status.data, "sent", 4) == 0)
        && !(status.len == 6 && ngx_strncmp(status.data, "failed", 6) == 0))
    {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "status must be pending, sent or failed");
    }

    limit = 50;

    if (ngx_http_arg(r, (u_char *) "limit", 5, &lim) == NGX_OK) {
        limit = ngx_atoi(lim.data, lim.len);
        if (limit < 1 || limit > 500) {
            return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_request",
                                        "limit must be 1..500");
        }
    }

    if (ngx_http_arg(r, (u_char *) "cursor", 6, &cursor) == NGX_OK
        && !esign_msg_id_valid((char *) cursor.data, cursor.len))
    {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request", "invalid cursor");
    }

    doc = json_pack("{s:[],s:n}", "items", "next_cursor");
    if (doc == NULL || ngx_esign_json_pool(r->pool, doc) == NULL) {
        json_decref(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    items = json_object_get(doc, "items");

    txn = ngx_esign_store_read(r);
    if (txn == NULL) {
        return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "the store is unavailable");
    }

    rc = mdb_cursor_open(txn, ngx_esign_store_dbi(r, ESIGN_DB_OUTBOX), &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* newest first: from the cursor (exclusive) or the end of "e/" */

    if (cursor.len) {
        ngx_snprintf((u_char *) ekey, sizeof(ekey), "e/%V%Z", &cursor);
    } else {
        ngx_cpystrn((u_char *) ekey, (u_char *) "e0", sizeof(ekey));
    }

    k.mv_data = ekey;
    k.mv_size = ngx_strlen(ekey);

    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    rc = (rc == 0) ? mdb_cursor_get(cur, &k, &v, MDB_PREV)
                   : mdb_cursor_get(cur, &k, &v, MDB_LAST);

    n = 0;

    for ( /* void */ ; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {

        if (k.mv_size < 2 || ngx_strncmp(k.mv_data, "e/", 2) != 0) {
            if (k.mv_size >= 1 && *(u_char *) k.mv_data > 'e') {
                continue;
            }

            break;
        }

        if ((ngx_int_t) n == limit) {
            (void) json_object_set_new(doc, "next_cursor",
                json_stringn((char *) json_string_value(json_object_get(
                    json_array_get(items, n - 1), "id")), ESIGN_MSG_ID_LEN));
            break;
        }

        e = json_loadb(v.mv_data, v.mv_size, 0, &err);
        if (e == NULL) {
            continue;
        }

        st = json_string_value(json_object_get(e, "status"));

        if (status.len && (st == NULL || ngx_strlen(st) != status.len
                           || ngx_strncmp(st, status.data, status.len) != 0))
        {
            json_decref(e);
            continue;
        }

        /* masked recipient only; the encrypted one never leaves */

        item = json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,"
                         "s:O?}",
                         "id", json_object_get(e, "id"),
                         "channel", json_object_get(e, "channel"),
                         "to", json_object_get(e, "to_masked"),
                         "subject", json_object_get(e, "subject"),
                         "status", json_object_get(e, "status"),
                         "attempts", json_object_get(e, "attempts"),
                         "created_at", json_object_get(e, "created_at"),
                         "sent_at", json_object_get(e, "sent_at"),
                         "last_error", json_object_get(e, "last_error"),
                         "institution_id",
                         json_object_get(e, "institution_id"),
                         "event", json_object_get(e, "event"));
        json_decref(e);

        if (item == NULL || json_array_append_new(items, item) != 0) {
            break;
        }

        n++;
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    ret = ngx_esign_send_json(r, NGX_HTTP_OK, doc);

    return ret;
}
