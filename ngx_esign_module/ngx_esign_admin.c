/*
 * Serves the embedded admin page at /admin/ with a strict content security
 * policy: no inline script, no foreign origin, no framing.
 */


#include "ngx_esign.h"
#include "ngx_esign_admin.h"


static ngx_str_t  ngx_esign_admin_csp = ngx_string(
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");


static ngx_int_t
ngx_esign_admin_headers(ngx_http_request_t *r, const ngx_esign_asset_t *a,
    ngx_uint_t immutable)
{
    ngx_str_t  v;

    if (ngx_esign_add_header(r, "Content-Security-Policy",
                             &ngx_esign_admin_csp)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&v, "DENY");
    if (ngx_esign_add_header(r, "X-Frame-Options", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_str_set(&v, "no-referrer");
    if (ngx_esign_add_header(r, "Referrer-Policy", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_str_set(&v, "nosniff");
    if (ngx_esign_add_header(r, "X-Content-Type-Options", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * A request that names the content hash (?v=<etag>) may be cached for
     * a year; everything else is revalidated with the ETag.
     */
    if (immutable) {
        ngx_str_set(&v, "public, max-age=31536000, immutable");

    } else {
        ngx_str_set(&v, "no-cache");
    }

    if (ngx_esign_add_header(r, "Cache-Control", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    v.data = (u_char *) a->etag;
    v.len = ngx_strlen(a->etag);

    if (ngx_esign_add_header(r, "ETag", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* path: the URI after the location prefix, starting with "/admin" */
ngx_int_t
ngx_esign_admin_serve(ngx_http_request_t *r, ngx_str_t *path)
{
    size_t                    len, elen;
    ngx_buf_t                *b;
    ngx_int_t                 rc;
    ngx_str_t                 file, arg;
    ngx_uint_t                immutable;
    ngx_chain_t               out;
    ngx_table_elt_t          *inm;
    const ngx_esign_asset_t  *a;

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    file.data = path->data + sizeof("/admin") - 1;
    file.len = path->len - (sizeof("/admin") - 1);

    if (file.len == 0) {
        /* "/admin" -> "/admin/" so relative asset URLs resolve */
        ngx_http_clear_location(r);

        r->headers_out.location = ngx_list_push(&r->headers_out.headers);
        if (r->headers_out.location == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.location->hash = 1;
        ngx_str_set(&r->headers_out.location->key, "Location");

        len = r->uri.len + 1;
        r->headers_out.location->value.data = ngx_pnalloc(r->pool, len);
        if (r->headers_out.location->value.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(r->headers_out.location->value.data, r->uri.data,
                   r->uri.len);
        r->headers_out.location->value.data[r->uri.len] = '/';
        r->headers_out.location->value.len = len;

        return NGX_HTTP_MOVED_PERMANENTLY;
    }

    if (file.len == 1) {
        ngx_str_set(&file, "/index.html");
    }

    for (a = ngx_esign_admin_assets; a->path != NULL; a++) {
        if (ngx_strlen(a->path) == file.len
            && ngx_strncmp(a->path, file.data, file.len) == 0)
        {
            break;
        }
    }

    if (a->path == NULL) {
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such resource");
    }

    elen = ngx_strlen(a->etag);

    immutable = 0;

    if (ngx_http_arg(r, (u_char *) "v", 1, &arg) == NGX_OK
        && arg.len == elen - 2
        && ngx_strncmp(arg.data, a->etag + 1, arg.len) == 0)
    {
        immutable = 1;
    }

    if (ngx_esign_admin_headers(r, a, immutable) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    inm = r->headers_in.if_none_match;

    if (inm != NULL && inm->value.len == elen
        && ngx_strncmp(inm->value.data, a->etag, elen) == 0)
    {
        r->headers_out.status = NGX_HTTP_NOT_MODIFIED;
        r->header_only = 1;
        return ngx_http_send_header(r);
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = a->size;
    r->headers_out.content_type.data = (u_char *) a->content_type;
    r->headers_out.content_type.len = ngx_strlen(a->content_type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = (u_char *) a->data;
    b->last = (u_char *) a->data + a->size;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
