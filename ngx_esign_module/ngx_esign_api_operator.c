/*
 * Platform operators' review of registrations (R-REG-2, R-REG-3): list,
 * read, approve (the platform CA issues the institution's certificate in
 * the same transaction) and reject with a reason.
 */


#include "ngx_esign.h"
#include "ngx_esign_auth.h"
#include "ngx_esign_audit.h"
#include "ngx_esign_notify.h"
#include "ngx_esign_db.h"
#include "ngx_esign_pki.h"
#include "ngx_esign_api_identity.h"

#include "esc_rand.h"
#include "esc_validate.h"


#define NGX_ESIGN_OP_APPROVE  1
#define NGX_ESIGN_OP_REJECT   2


typedef struct {
    MDB_env                   *env;
    MDB_dbi                   *dbis;
    const esc_kek_ring_t      *ring;
    char                      *site;
    char                      *data_dir;
    char                       inst_id[ESC_RAND_ID_LEN + 1];
    char                      *operator_id;
    char                      *reason;
    char                      *client_ip;
    uint64_t                   now;
    ngx_uint_t                 op;
    int                        rc;          /* 0, 404, 409, -1 */
    json_t                    *inst;        /* result */
} ngx_esign_review_t;


static ngx_int_t ngx_esign_api_inst_list(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_inst_read(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_inst_approve(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_inst_reject(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static void ngx_esign_review_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_esign_review_done(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);


ngx_esign_route_t  ngx_esign_operator_routes[] = {
    { NGX_HTTP_GET, "/admin/institutions", NGX_ESIGN_AUTH,
      ngx_esign_api_inst_list },
    { NGX_HTTP_GET, "/admin/institutions/{}", NGX_ESIGN_AUTH,
      ngx_esign_api_inst_read },
    { NGX_HTTP_POST, "/admin/institutions/{}/approve", NGX_ESIGN_AUTH,
      ngx_esign_api_inst_approve },
    { NGX_HTTP_POST, "/admin/institutions/{}/reject",
      NGX_ESIGN_AUTH|NGX_ESIGN_BODY_JSON, ngx_esign_api_inst_reject },
    { 0, NULL, 0, NULL }
};


/* limit (1..500, default 50) and an opaque cursor (the next key) */
ngx_int_t
ngx_esign_list_args(ngx_http_request_t *r, ngx_uint_t *limit,
    ngx_str_t *cursor)
{
    ngx_int_t  n;
    ngx_str_t  v;

    *limit = 50;
    cursor->len = 0;
    cursor->data = NULL;

    if (ngx_http_arg(r, (u_char *) "limit", 5, &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        if (n < 1 || n > 500) {
            return NGX_ERROR;
        }

        *limit = n;
    }

    if (ngx_http_arg(r, (u_char *) "cursor", 6, &v) == NGX_OK) {
        if (v.len == 0 || v.len > 200) {
            return NGX_ERROR;
        }

        *cursor = v;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_esign_api_inst_list(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int           rc;
    json_t       *items, *rec, *doc, *item;
    MDB_val       k, v;
    MDB_txn      *txn;
    ngx_str_t     status, cursor;
    MDB_cursor   *cur;
    ngx_int_t     res;
    ngx_uint_t    limit, n;
    const char   *st;

    if (ngx_esign_authorize(r, ctx, ESC_ACT_OP_INSTITUTIONS_LIST, NULL, NULL)
        != NGX_OK)
    {
        return ctx->auth_rc;
    }

    if (ngx_esign_list_args(r, &limit, &cursor) != NGX_OK) {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "limit is 1-500; cursor as returned");
    }

    status.len = 0;

    if (ngx_http_arg(r, (u_char *) "status", 6, &status) == NGX_OK
        && status.len > 16)
    {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request", "bad status");
    }

    items = json_array();
    if (items == NULL || ngx_esign_json_pool(r->pool, items) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    txn = ngx_esign_store_read(r);
    if (txn == NULL) {
        return ngx_esign_session_unavailable(r);
    }

    if (mdb_cursor_open(txn, ngx_esign_store_dbi(r, ESIGN_DB_INSTITUTIONS),
                        &cur)
        != 0)
    {
        mdb_txn_abort(txn);
        return ngx_esign_session_unavailable(r);
    }

    k.mv_data = cursor.data;
    k.mv_size = cursor.len;

    rc = mdb_cursor_get(cur, &k, &v, cursor.len ? MDB_SET_RANGE : MDB_FIRST);
    n = 0;
    doc = NULL;

    while (rc == 0) {
        if (n == limit) {
            doc = json_stringn(k.mv_data, k.mv_size);
            break;
        }

        rec = json_loadb(v.mv_data, v.mv_size, 0, NULL);

        if (rec != NULL) {
            st = json_string_value(json_object_get(rec, "status"));

            if (status.len == 0
                || (st != NULL && ngx_strlen(st) == status.len
                    && ngx_strncmp(st, status.data, status.len) == 0))
            {
                item = json_pack("{s:O,s:O,s:O,s:O,s:O}",
                                 "id", json_object_get(rec, "id"),
                                 "name", json_object_get(rec, "name"),
                                 "uscc", json_object_get(rec, "uscc"),
                                 "status", json_object_get(rec, "status"),
                                 "created_at",
                                 json_object_get(rec, "created_at"));
                if (item != NULL) {
                    json_array_append_new(items, item);
                    n++;
                }
            }

            json_decref(rec);
        }

        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    doc = json_pack("{s:O,s:o}", "items", items,
                    "next_cursor", doc ? doc : json_null());
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    res = ngx_esign_send_json(r, NGX_HTTP_OK, doc);
    json_decref(doc);

    return res;
}


static ngx_int_t
ngx_esign_api_inst_read(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int         rc;
    json_t     *inst, *doc;
    MDB_txn    *txn;
    ngx_int_t   res;

    if (ngx_esign_authorize(r, ctx, ESC_ACT_OP_INSTITUTION_READ, NULL, NULL)
        != NGX_OK)
    {
        return ctx->auth_rc;
    }

    txn = ngx_esign_store_read(r);
    if (txn == NULL) {
        return ngx_esign_session_unavailable(r);
    }

    rc = esign_db_get_json(txn,
                           ngx_esign_store_dbi(r, ESIGN_DB_INSTITUTIONS),
                           ctx->params[0].data, ctx->params[0].len, &inst);
    mdb_txn_abort(txn);

    if (rc != 0) {
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such institution");
    }

    doc = ngx_esign_institution_doc(inst);
    json_decref(inst);

    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    res = ngx_esign_send_json(r, NGX_HTTP_OK, doc);
    json_decref(doc);

    return res;
}


static ngx_int_t
ngx_esign_review_post(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    ngx_uint_t op, const char *reason)
{
    ngx_esign_review_t     *rv;
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    if (!esc_rand_id_valid((char *) ctx->params[0].data, ctx->params[0].len))
    {
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such institution");
    }

    rv = ngx_pcalloc(r->pool, sizeof(ngx_esign_review_t));
    if (rv == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rv->env = emcf->env;
    rv->dbis = emcf->dbis;
    rv->ring = ngx_esign_kek_ring(r);
    rv->site = ngx_esign_pstrdup(r->pool, (char *) emcf->site.data,
                                 emcf->site.len);
    rv->data_dir = ngx_esign_pstrdup(r->pool, (char *) emcf->data.data,
                                     emcf->data.len);
    ngx_memcpy(rv->inst_id, ctx->params[0].data, ESC_RAND_ID_LEN);
    rv->operator_id = ngx_esign_pstrdup(r->pool,
                                        (char *) ctx->actor->account_id.data,
                                        ctx->actor->account_id.len);
    rv->reason = (char *) reason;
    rv->client_ip = ngx_esign_client_ip(r);
    rv->now = ngx_esign_wall_ms();
    rv->op = op;

    if (rv->ring == NULL || rv->site == NULL || rv->data_dir == NULL
        || rv->operator_id == NULL || rv->client_ip == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_esign_task_post(r, ctx, ngx_esign_review_run, rv,
                            ngx_esign_review_done)
        != NGX_OK)
    {
        return ngx_esign_session_unavailable(r);
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_esign_api_inst_approve(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    if (ngx_esign_authorize(r, ctx, ESC_ACT_OP_INSTITUTION_APPROVE, NULL,
                            NULL)
        != NGX_OK)
    {
        return ctx->auth_rc;
    }

    return ngx_esign_review_post(r, ctx, NGX_ESIGN_OP_APPROVE, NULL);
}


static ngx_int_t
ngx_esign_api_inst_reject(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    size_t       len;
    const char  *reason;

    if (ngx_esign_authorize(r, ctx, ESC_ACT_OP_INSTITUTION_REJECT, NULL,
                            NULL)
        != NGX_OK)
    {
        return ctx->auth_rc;
    }

    reason = ngx_esign_json_str(ctx->json, "reason", 1, 4096, &len);

    if (reason == NULL || esc_reason_validate((u_char *) reason, len)
                          != ESC_OK)
    {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "a reason of 1-500 characters is "
                                    "required");
    }

    return ngx_esign_review_post(r, ctx, NGX_ESIGN_OP_REJECT,
                                 ngx_esign_pstrdup(r->pool, reason, len));
}


static void
ngx_esign_review_run(void *data, ngx_log_t *log)
{
    ngx_esign_review_t  *rv = data;

    int          rc;
    char        *pem, *ipem;
    json_t      *inst;
    MDB_txn     *txn;
    const char  *status;

    rv->rc = -1;

    if (mdb_txn_begin(rv->env, NULL, 0, &txn) != 0) {
        return;
    }

    rc = esign_db_get_json(txn, rv->dbis[ESIGN_DB_INSTITUTIONS], rv->inst_id,
                           ESC_RAND_ID_LEN, &inst);
    if (rc != 0) {
        rv->rc = (rc == MDB_NOTFOUND) ? 404 : -1;
        mdb_txn_abort(txn);
        return;
    }

    status = json_string_value(json_object_get(inst, "status"));

    if (status == NULL || ngx_strcmp(status, "pending") != 0) {
        rv->rc = 409;
        goto failed;
    }

    if (rv->op == NGX_ESIGN_OP_APPROVE) {
        /*
         * Both suites' certificates and keys (SM2 and P-256) in this one
         * transaction: esign_signature_suite may switch later without a
         * new approval.
         */
        if (esign_pki_issue_institution_suites(txn, rv->dbis, rv->ring,
                                               rv->site,
                                               ESIGN_PKI_SUITES_ALL, inst)
            != ESIGN_PKI_OK)
        {
            goto failed;
        }

        json_object_set_new(inst, "status", json_string("active"));

    } else {
        json_object_set_new(inst, "status", json_string("rejected"));
        json_object_set_new(inst, "reject_reason", json_string(rv->reason));
    }

    json_object_set_new(inst, "reviewed_by", json_string(rv->operator_id));

    if (esign_db_put_json(txn, rv->dbis[ESIGN_DB_INSTITUTIONS], rv->inst_id,
                          ESC_RAND_ID_LEN, inst, 0)
        != 0
        || esign_audit_append(txn, rv->dbis, rv->inst_id, rv->operator_id,
                              rv->op == NGX_ESIGN_OP_APPROVE
                                  ? "institution_approve"
                                  : "institution_reject",
                              rv->inst_id, rv->reason, rv->client_ip,
                              rv->now)
           != 0
        || esign_audit_append(txn, rv->dbis, ESIGN_AUDIT_PLATFORM,
                              rv->operator_id,
                              rv->op == NGX_ESIGN_OP_APPROVE
                                  ? "institution_approve"
                                  : "institution_reject",
                              rv->inst_id, NULL, rv->client_ip, rv->now)
           != 0
        /* R-REG-2: both outcomes are notified (in-site, email, SMS) */
        || esign_notify_institution_event(txn, rv->dbis, rv->inst_id,
                                          rv->op == NGX_ESIGN_OP_APPROVE
                                              ? "approved" : "rejected",
                                          rv->reason, rv->now)
           != 0)
    {
        goto failed;
    }

    pem = (rv->op == NGX_ESIGN_OP_APPROVE) ? esign_pki_ca_pem(txn, rv->dbis)
                                           : NULL;
    ipem = (rv->op == NGX_ESIGN_OP_APPROVE)
           ? esign_pki_ca_pem_suite(txn, rv->dbis, ESC_SUITE_INTL) : NULL;

    if (mdb_txn_commit(txn) != 0) {
        free(pem);
        free(ipem);
        txn = NULL;
        goto failed;
    }

    txn = NULL;

    /* <data>/ca/ca.crt and ca-intl.crt for openssl and relying parties */

    if (pem != NULL) {
        (void) esign_pki_write_ca_file(rv->data_dir, pem);
        free(pem);
    }

    if (ipem != NULL) {
        (void) esign_pki_write_ca_file_suite(rv->data_dir, ESC_SUITE_INTL,
                                             ipem);
        free(ipem);
    }

    rv->rc = 0;
    rv->inst = inst;
    inst = NULL;

failed:

    if (txn != NULL) {
        mdb_txn_abort(txn);
    }

    if (inst != NULL) {
        json_decref(inst);
    }
}


static ngx_int_t
ngx_esign_review_done(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    ngx_esign_review_t  *rv = ctx->task_data;

    json_t     *doc;
    ngx_int_t   rc;

    if (rv->inst != NULL) {
        ngx_esign_json_pool(r->pool, rv->inst);
    }

    switch (rv->rc) {
    case 0:
        break;
    case 404:
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such institution");
    case 409:
        return ngx_esign_send_error(r, NGX_HTTP_CONFLICT, "conflict",
                                    "the registration is not pending");
    default:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "esign: the review could not be stored");
        return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    "the review could not be stored");
    }

    doc = ngx_esign_institution_doc(rv->inst);
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_esign_send_json(r, NGX_HTTP_OK, doc);
    json_decref(doc);

    return rc;
}
