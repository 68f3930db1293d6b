/*
 * JSON on jansson: parsing request bodies into pool-owned values, sending
 * JSON documents and the API's stable error document.
 */


#include "ngx_esign.h"
#include "ngx_esign_session.h"


static void ngx_esign_json_cleanup(void *data);


/* Ties a jansson value to a pool: it is released with the pool. */
json_t *
ngx_esign_json_pool(ngx_pool_t *pool, json_t *json)
{
    ngx_pool_cleanup_t  *cln;

    if (json == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        json_decref(json);
        return NULL;
    }

    cln->handler = ngx_esign_json_cleanup;
    cln->data = json;

    return json;
}


static void
ngx_esign_json_cleanup(void *data)
{
    json_decref(data);
}


/*
 * Parses a request body that must be one JSON object into ctx->json.  On
 * failure ctx->json stays NULL, the error document has been sent and the
 * result of sending it is returned (which may well be NGX_OK).
 */
ngx_int_t
ngx_esign_json_parse(ngx_http_request_t *r, ngx_esign_ctx_t *ctx, u_char *p,
    size_t len)
{
    json_t        *json;
    json_error_t   err;

    if (len == 0) {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                    "a JSON object body is required");
    }

    json = json_loadb((const char *) p, len,
                      JSON_REJECT_DUPLICATES,
                      &err);
    if (json == NULL) {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                    "the body is not valid JSON");
    }

    if (ngx_esign_json_pool(r->pool, json) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!json_is_object(json)) {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                    "the body must be a JSON object");
    }

    ctx->json = json;

    return NGX_OK;
}


/*
 * Returns the string member "key" when it is a string of min..max bytes,
 * else NULL.  The pointer lives as long as the object.
 */
const char *
ngx_esign_json_str(json_t *obj, const char *key, size_t min, size_t max,
    size_t *len)
{
    size_t       n;
    json_t      *v;
    const char  *s;

    v = json_object_get(obj, key);
    if (v == NULL || !json_is_string(v)) {
        return NULL;
    }

    s = json_string_value(v);
    n = json_string_length(v);

    if (n < min || n > max || ngx_strlen(s) != n) {
        /* embedded NUL bytes are refused along with bad lengths */
        return NULL;
    }

    if (len != NULL) {
        *len = n;
    }

    return s;
}


ngx_int_t
ngx_esign_add_header(ngx_http_request_t *r, char *name, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;

    return NGX_OK;
}


static ngx_int_t
ngx_esign_common_headers(ngx_http_request_t *r)
{
    ngx_str_t  v;

    ngx_str_set(&v, "no-store");
    if (ngx_esign_add_header(r, "Cache-Control", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_str_set(&v, "nosniff");
    if (ngx_esign_add_header(r, "X-Content-Type-Options", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* Sends "json" (not consumed) with "status"; returns the finalize code. */
ngx_int_t
ngx_esign_send_json(ngx_http_request_t *r, ngx_uint_t status, json_t *json)
{
    char       *s;
    ngx_int_t   rc;

    s = json_dumps(json, JSON_COMPACT);
    if (s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_esign_send_json_raw(r, status, (u_char *) s, ngx_strlen(s));
    free(s);

    return rc;
}


/* Sends an already serialized JSON document (copied, "\n" appended). */
ngx_int_t
ngx_esign_send_json_raw(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, data, len);
    *b->last++ = '\n';

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "application/json; charset=utf-8");
    r->headers_out.content_type_len = sizeof("application/json") - 1;

    if (ngx_esign_common_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_esign_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message)
{
    json_t     *doc;
    ngx_int_t   rc;

    doc = json_pack("{s:{s:s,s:s}}", "error", "code", code,
                    "message", message);
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_esign_send_json(r, status, doc);
    json_decref(doc);

    return rc;
}


ngx_int_t
ngx_esign_send_empty(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_int_t  rc;

    r->headers_out.status = status;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    if (ngx_esign_common_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    return ngx_http_send_special(r, NGX_HTTP_LAST);
}
