/*
 * POST /documents: a contract's PDF or OFD original is checked, digested,
 * encrypted under a fresh per-file key and stored (R-SIGN-1, R-ARCH-4).
 * The body never touches the disk in plaintext: the router keeps document
 * bodies in memory, and the crypto runs in the thread pool.
 */


#include "ngx_esign.h"
#include "ngx_esign_db.h"
#include "ngx_esign_docstore.h"
#include "ngx_esign_contract.h"

#include "esc_rand.h"


typedef struct {
    /* in */
    u_char                 *body;
    size_t                  len;
    int                     declared;
    ngx_str_t               kek;
    char                    inst_id[64];
    char                    account_id[64];
    char                    doc_id[ESC_RAND_ID_LEN + 1];
    uint64_t                now_ms;
    /* out */
    int                     type;
    int                     rc;
    esign_doc_prepared_t    prep;
} ngx_esign_doc_upload_t;


static ngx_int_t ngx_esign_api_document_upload(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static void ngx_esign_doc_prepare_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_esign_doc_prepared(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static int ngx_esign_doc_store_txn(MDB_txn *txn, MDB_dbi *dbis, void *data);
static ngx_int_t ngx_esign_doc_stored(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static void ngx_esign_doc_cleanup(void *data);


ngx_esign_route_t  ngx_esign_document_routes[] = {
    { NGX_HTTP_POST, "/documents", NGX_ESIGN_BODY_DOCUMENT|NGX_ESIGN_AUTH,
      ngx_esign_api_document_upload },
    { 0, NULL, 0, NULL }
};


static ngx_int_t
ngx_esign_api_document_upload(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    ngx_str_t               *ct;
    ngx_pool_cleanup_t      *cln;
    ngx_esign_doc_upload_t  *up;
    ngx_esign_main_conf_t   *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    if (ngx_esign_contract_authorize(ctx->actor, NGX_ESIGN_CT_INITIATE, NULL)
        != NGX_OK)
    {
        return ngx_esign_send_error(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                    "uploading needs the initiate "
                                    "permission");
    }

    if (ctx->body.len == 0) {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_document",
                                    "the document is empty");
    }

    up = ngx_pcalloc(r->pool, sizeof(ngx_esign_doc_upload_t));
    if (up == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ct = &r->headers_in.content_type->value;

    up->declared = (ct->len >= sizeof("application/ofd") - 1
                    && ngx_strncasecmp(ct->data, (u_char *) "application/ofd",
                                       sizeof("application/ofd") - 1) == 0)
                   ? ESIGN_DOC_OFD : ESIGN_DOC_PDF;

    up->body = ctx->body.data;
    up->len = ctx->body.len;
    up->kek = emcf->kek;
    up->now_ms = ngx_esign_now_ms();

    if (ngx_esign_cstr(up->inst_id, sizeof(up->inst_id),
                       &ctx->actor->institution_id) != NGX_OK
        || ngx_esign_cstr(up->account_id, sizeof(up->account_id),
                          &ctx->actor->account_id) != NGX_OK
        || esc_rand_id(up->doc_id) != 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_esign_doc_cleanup;
    cln->data = up;

    if (ngx_esign_task_post(r, ctx, ngx_esign_doc_prepare_run, up,
                            ngx_esign_doc_prepared)
        != NGX_OK)
    {
        return ngx_esign_send_unavailable(r);
    }

    return NGX_DONE;
}


static void
ngx_esign_doc_prepare_run(void *data, ngx_log_t *log)
{
    ngx_esign_doc_upload_t  *up = data;

    up->type = esign_doc_sniff(up->body, up->len, up->declared);
    if (up->type == 0) {
        return;
    }

    up->rc = esign_doc_prepare((char *) up->kek.data, up->kek.len,
                               up->inst_id, up->doc_id, up->account_id,
                               up->type, up->body, up->len, up->now_ms,
                               &up->prep);
}


static ngx_int_t
ngx_esign_doc_prepared(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    ngx_esign_doc_upload_t  *up = ctx->task_data;

    if (up->type == 0) {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_document",
                                    up->declared == ESIGN_DOC_OFD
                                    ? "the body is not an OFD document"
                                    : "the body is not a PDF document");
    }

    if (up->rc != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "esign: document encryption failed");
        return ngx_esign_send_unavailable(r);
    }

    if (ngx_esign_store_write(r, ctx, ngx_esign_doc_store_txn, up,
                              ngx_esign_doc_stored)
        != NGX_OK)
    {
        return ngx_esign_send_unavailable(r);
    }

    return NGX_DONE;
}


static int
ngx_esign_doc_store_txn(MDB_txn *txn, MDB_dbi *dbis, void *data)
{
    ngx_esign_doc_upload_t  *up = data;

    return esign_doc_store(txn, dbis, &up->prep);
}


static ngx_int_t
ngx_esign_doc_stored(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int                      rc;
    json_t                  *res;
    ngx_int_t                n;
    ngx_esign_doc_upload_t  *up;

    up = ngx_esign_store_data(ctx);
    rc = ngx_esign_store_rc(ctx);

    if (rc != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "esign: storing a document failed: %s",
                      mdb_strerror(rc));
        return ngx_esign_send_unavailable(r);
    }

    res = json_pack("{s:s, s:O, s:O, s:O, s:O, s:s}",
                    "id", up->doc_id,
                    "sm3", json_object_get(up->prep.meta, "sm3"),
                    "sha256", json_object_get(up->prep.meta, "sha256"),
                    "size", json_object_get(up->prep.meta, "size"),
                    "type", json_object_get(up->prep.meta, "type"),
                    "status", "unused");
    if (res == NULL || ngx_esign_json_pool(r->pool, res) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = ngx_esign_send_json(r, NGX_HTTP_CREATED, res);

    return n;
}


static void
ngx_esign_doc_cleanup(void *data)
{
    ngx_esign_doc_upload_t  *up = data;

    esign_doc_prepared_free(&up->prep);
}
