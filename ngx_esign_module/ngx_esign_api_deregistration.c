/*
 * Deregistration of an institution (R-REG-5): the administrator asks
 * (POST /institution/deregistration), an operator approves (refused with
 * 409 while a signing of the institution is in progress) or rejects.
 * Each step is one write transaction with its audit record and
 * notifications; on approval the institution's sessions die at once and
 * nothing is deleted: its contracts stay readable by the other parties.
 */


#include "ngx_esign.h"
#include "ngx_esign_db.h"
#include "ngx_esign_audit.h"
#include "ngx_esign_notify.h"
#include "ngx_esign_outbox.h"
#include "ngx_esign_session.h"
#include "esc_validate.h"


#define NGX_ESIGN_DEREG_NOT_FOUND   1001
#define NGX_ESIGN_DEREG_CONFLICT    1002
#define NGX_ESIGN_DEREG_SIGNING     1003

#define NGX_ESIGN_DEREG_REQUEST     1
#define NGX_ESIGN_DEREG_APPROVE     2
#define NGX_ESIGN_DEREG_REJECT      3


typedef struct {
    ngx_uint_t                 action;
    char                      *inst_id;
    char                      *actor_id;
    char                      *reason;         /* NULL for approve */
    char                      *client_ip;
    uint64_t                   now;
    char                       blocking[64];   /* a contract in signing */
} ngx_esign_dereg_t;


static ngx_int_t ngx_esign_api_dereg_request(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_dereg_approve(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_dereg_reject(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_dereg_done(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);


ngx_esign_route_t  ngx_esign_deregistration_routes[] = {
    { NGX_HTTP_POST, "/institution/deregistration",
      NGX_ESIGN_AUTH|NGX_ESIGN_BODY_JSON, ngx_esign_api_dereg_request },
    { NGX_HTTP_POST, "/admin/institutions/{}/deregistration/approve",
      NGX_ESIGN_AUTH, ngx_esign_api_dereg_approve },
    { NGX_HTTP_POST, "/admin/institutions/{}/deregistration/reject",
      NGX_ESIGN_AUTH|NGX_ESIGN_BODY_JSON, ngx_esign_api_dereg_reject },
    { 0, NULL, 0, NULL }
};


static char *
ngx_esign_dereg_cstr(ngx_pool_t *pool, u_char *p, size_t len)
{
    char  *s;

    s = ngx_pnalloc(pool, len + 1);
    if (s == NULL) {
        return NULL;
    }

    ngx_memcpy(s, p, len);
    s[len] = '\0';

    return s;
}


/*
 * Is a signing of inst_id still in progress?  Walks the institution's
 * contract index (every contract it initiated or takes part in) and
 * looks for one in "signing" that has not passed its expiry.
 */
static int
ngx_esign_dereg_signing(MDB_txn *txn, MDB_dbi *dbis, ngx_esign_dereg_t *d)
{
    int           rc;
    char          prefix[128];
    size_t        plen, idlen;
    json_t       *c, *exp;
    MDB_val       k, v;
    MDB_cursor   *cur;
    const char   *id, *status;

    plen = snprintf(prefix, sizeof(prefix), "%s/", d->inst_id);

    rc = mdb_cursor_open(txn, dbis[ESIGN_DB_CONTRACT_IDX], &cur);
    if (rc != 0) {
        return rc;
    }

    k.mv_data = prefix;
    k.mv_size = plen;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size <= plen || ngx_memcmp(k.mv_data, prefix, plen) != 0) {
            break;
        }

        /* "<inst_id>/<16 hex>/<contract_id>" */

        id = (const char *) ngx_strlchr((u_char *) k.mv_data + plen,
                                        (u_char *) k.mv_data + k.mv_size,
                                        '/');
        if (id == NULL) {
            continue;
        }

        id++;
        idlen = (const char *) k.mv_data + k.mv_size - id;

        if (idlen == 0 || idlen >= sizeof(d->blocking)) {
            continue;
        }

        c = NULL;
        rc = esign_db_get_json(txn, dbis[ESIGN_DB_CONTRACTS], id, idlen, &c);
        if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED) {
            continue;
        }

        if (rc != 0) {
            break;
        }

        status = json_string_value(json_object_get(c, "status"));
        exp = json_object_get(c, "expires_at");

        if (status != NULL && ngx_strcmp(status, "signing") == 0
            && !(json_is_integer(exp)
                 && (uint64_t) json_integer_value(exp) <= d->now))
        {
            ngx_memcpy(d->blocking, id, idlen);
            d->blocking[idlen] = '\0';
            json_decref(c);
            rc = NGX_ESIGN_DEREG_SIGNING;
            break;
        }

        json_decref(c);
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


static int
ngx_esign_dereg_txn(MDB_txn *txn, MDB_dbi *dbis, void *data)
{
    ngx_esign_dereg_t *d = data;

    int          rc;
    char         at[32];
    json_t      *inst, *dr;
    const char  *status, *want, *next, *action, *event;

    rc = esign_db_get_json(txn, dbis[ESIGN_DB_INSTITUTIONS], d->inst_id,
                           ngx_strlen(d->inst_id), &inst);
    if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED) {
        return NGX_ESIGN_DEREG_NOT_FOUND;
    }

    if (rc != 0) {
        return rc;
    }

    switch (d->action) {

    case NGX_ESIGN_DEREG_REQUEST:
        want = "active";
        next = "deregistering";
        action = "institution.deregistration.request";
        event = "deregistration_requested";
        break;

    case NGX_ESIGN_DEREG_APPROVE:
        want = "deregistering";
        next = "deregistered";
        action = "institution.deregistration.approve";
        event = "deregistration_approved";
        break;

    default: /* NGX_ESIGN_DEREG_REJECT */
        want = "deregistering";
        next = "active";
        action = "institution.deregistration.reject";
        event = "deregistration_rejected";
        break;
    }

    status = json_string_value(json_object_get(inst, "status"));

    if (status == NULL || ngx_strcmp(status, want) != 0) {
        json_decref(inst);
        return NGX_ESIGN_DEREG_CONFLICT;
    }

    if (d->action == NGX_ESIGN_DEREG_APPROVE) {
        rc = ngx_esign_dereg_signing(txn, dbis, d);
        if (rc != 0) {
            json_decref(inst);
            return rc;
        }
    }

    esign_notify_time(d->now, at);

    dr = json_object_get(inst, "deregistration");
    if (!json_is_object(dr) || d->action == NGX_ESIGN_DEREG_REQUEST) {
        dr = json_object();
        if (dr == NULL || json_object_set_new(inst, "deregistration", dr)) {
            json_decref(inst);
            return ENOMEM;
        }
    }

    switch (d->action) {

    case NGX_ESIGN_DEREG_REQUEST:
        rc = json_object_set_new(dr, "reason", json_string(d->reason))
             | json_object_set_new(dr, "requested_at", json_string(at))
             | json_object_set_new(dr, "requested_by",
                                   json_string(d->actor_id));
        break;

    case NGX_ESIGN_DEREG_APPROVE:
        rc = json_object_set_new(dr, "approved_at", json_string(at))
             | json_object_set_new(dr, "approved_by",
                                   json_string(d->actor_id));
        break;

    default:
        rc = json_object_set_new(dr, "rejected_at", json_string(at))
             | json_object_set_new(dr, "rejected_by",
                                   json_string(d->actor_id))
             | json_object_set_new(dr, "rejection_reason",
                                   json_string(d->reason));
        break;
    }

    rc |= json_object_set_new(inst, "status", json_string(next));

    if (rc != 0) {
        json_decref(inst);
        return ENOMEM;
    }

    rc = esign_db_put_json(txn, dbis[ESIGN_DB_INSTITUTIONS], d->inst_id,
                           ngx_strlen(d->inst_id), inst, 0);
    json_decref(inst);

    if (rc != 0) {
        return rc;
    }

    /* R-AUD-1: in the institution's own trail, the actor named */

    rc = esign_audit_append(txn, dbis, d->inst_id, d->actor_id, action,
                            d->inst_id, NULL, d->client_ip, d->now);
    if (rc != 0) {
        return rc;
    }

    return esign_notify_institution_event(txn, dbis, d->inst_id, event,
                                          d->reason, d->now);
}


static ngx_int_t
ngx_esign_dereg_start(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    ngx_uint_t action, ngx_str_t *inst_id)
{
    size_t              len;
    const char         *reason;
    ngx_esign_dereg_t  *d;

    d = ngx_pcalloc(r->pool, sizeof(ngx_esign_dereg_t));
    if (d == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    d->action = action;

    if (action != NGX_ESIGN_DEREG_APPROVE) {
        reason = ctx->json ? ngx_esign_json_str(ctx->json, "reason", 1, 1000,
                                                &len)
                           : NULL;

        if (reason == NULL
            || esc_reason_validate((const u_char *) reason, len) != 0)
        {
            return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_request",
                                        "a reason (text, 1..500 characters)"
                                        " is required");
        }

        d->reason = ngx_esign_dereg_cstr(r->pool, (u_char *) reason, len);
    }

    d->inst_id = ngx_esign_dereg_cstr(r->pool, inst_id->data, inst_id->len);
    d->actor_id = ngx_esign_dereg_cstr(r->pool, ctx->actor->account_id.data,
                                       ctx->actor->account_id.len);
    d->client_ip = ngx_esign_dereg_cstr(r->pool,
                                        r->connection->addr_text.data,
                                        r->connection->addr_text.len);
    d->now = ngx_esign_notify_now();

    if (d->inst_id == NULL || d->actor_id == NULL || d->client_ip == NULL
        || (action != NGX_ESIGN_DEREG_APPROVE && d->reason == NULL))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_esign_store_write(r, ctx, ngx_esign_dereg_txn, d,
                              ngx_esign_dereg_done)
        != NGX_OK)
    {
        return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "try again later");
    }

    return NGX_DONE;
}


/* POST /institution/deregistration {"reason"}: the administrator asks. */
static ngx_int_t
ngx_esign_api_dereg_request(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    if (ctx->actor->role != NGX_ESIGN_ROLE_INST_ADMIN
        || ctx->actor->institution_id.len == 0)
    {
        return ngx_esign_send_error(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                    "only the institution administrator "
                                    "may request deregistration");
    }

    return ngx_esign_dereg_start(r, ctx, NGX_ESIGN_DEREG_REQUEST,
                                 &ctx->actor->institution_id);
}


static ngx_int_t
ngx_esign_api_dereg_approve(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    if (ctx->actor->role != NGX_ESIGN_ROLE_OPERATOR) {
        return ngx_esign_send_error(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                    "operators only");
    }

    return ngx_esign_dereg_start(r, ctx, NGX_ESIGN_DEREG_APPROVE,
                                 &ctx->params[0]);
}


static ngx_int_t
ngx_esign_api_dereg_reject(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    if (ctx->actor->role != NGX_ESIGN_ROLE_OPERATOR) {
        return ngx_esign_send_error(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                    "operators only");
    }

    return ngx_esign_dereg_start(r, ctx, NGX_ESIGN_DEREG_REJECT,
                                 &ctx->params[0]);
}


static ngx_int_t
ngx_esign_dereg_done(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int                 rc;
    json_t             *doc;
    ngx_int_t           ret;
    ngx_str_t           id;
    const char         *status;
    ngx_esign_dereg_t  *d;

    d = ngx_esign_store_data(ctx);
    rc = ngx_esign_store_rc(ctx);

    switch (rc) {

    case 0:
        break;

    case NGX_ESIGN_DEREG_NOT_FOUND:
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such institution");

    case NGX_ESIGN_DEREG_CONFLICT:
        return ngx_esign_send_error(r, NGX_HTTP_CONFLICT, "conflict",
                                    d->action == NGX_ESIGN_DEREG_REQUEST
                                    ? "the institution is not active"
                                    : "no deregistration is pending");

    case NGX_ESIGN_DEREG_SIGNING:
        return ngx_esign_send_error(r, NGX_HTTP_CONFLICT, "conflict",
                                    "a signing of the institution is still "
                                    "in progress");

    default:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "esign deregistration of \"%s\" failed: %s",
                      d->inst_id, rc > 0 ? "internal" : mdb_strerror(rc));
        return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "try again later");
    }

    if (d->action == NGX_ESIGN_DEREG_APPROVE) {
        /* R-REG-5: every session of the institution ends now */
        id.data = (u_char *) d->inst_id;
        id.len = ngx_strlen(d->inst_id);
        ngx_esign_session_kill_institution(r, &id);
        status = "deregistered";

    } else {
        status = (d->action == NGX_ESIGN_DEREG_REQUEST) ? "deregistering"
                                                        : "active";
    }

    doc = json_pack("{s:s,s:s}", "id", d->inst_id, "status", status);
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ret = ngx_esign_send_json(r, d->action == NGX_ESIGN_DEREG_REQUEST
                                 ? NGX_HTTP_ACCEPTED : NGX_HTTP_OK, doc);
    json_decref(doc);

    return ret;
}
