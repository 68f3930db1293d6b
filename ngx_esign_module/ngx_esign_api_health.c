/*
 * GET /api/v1/health: liveness of the platform and the state store.
 */


#include "ngx_esign.h"


ngx_int_t
ngx_esign_api_health(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    json_t                 *doc;
    MDB_txn                *txn;
    ngx_int_t               rc;
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    /* a state store that cannot begin a read is not healthy */

    txn = ngx_esign_store_read(r);
    if (txn == NULL) {
        return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    "the state store is unavailable");
    }

    mdb_txn_abort(txn);

    doc = json_pack("{s:s,s:s,s:s%}", "status", "ok",
                    "version", NGX_ESIGN_VERSION,
                    "site", emcf->site.data, emcf->site.len);
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_esign_send_json(r, NGX_HTTP_OK, doc);
    json_decref(doc);

    return rc;
}
