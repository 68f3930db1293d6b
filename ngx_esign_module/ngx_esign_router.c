/*
 * The API router: maps method and path under /api/v1 to a handler, and
 * answers unknown routes (404), wrong methods (405 with Allow), wrong
 * content types (415) and oversized bodies (413) before any body is read.
 */


#include "ngx_esign.h"
#include "ngx_esign_auth.h"
#include "ngx_esign_outbox.h"
#include "ngx_esign_contract.h"
#include "ngx_esign_ledger.h"


#define NGX_ESIGN_API_PREFIX      "/api/v1"
#define NGX_ESIGN_MAX_SEGMENT     128


static ngx_esign_route_t  ngx_esign_base_routes[] = {
    { NGX_HTTP_GET, "/health", NGX_ESIGN_BODY_NONE, ngx_esign_api_health },
    { 0, NULL, 0, NULL }
};


/*
 * Every API file contributes one table; a new resource adds one line here.
 */
static ngx_esign_route_t  *ngx_esign_route_tables[] = {
    ngx_esign_base_routes,
    ngx_esign_session_routes,
    ngx_esign_institution_routes,
    ngx_esign_operator_routes,
    ngx_esign_account_routes,
    ngx_esign_messages_routes,
    ngx_esign_links_routes,
    ngx_esign_outbox_routes,
    ngx_esign_deregistration_routes,
    ngx_esign_document_routes,
    ngx_esign_contract_routes,
    ngx_esign_ledger_routes,
    NULL
};


static ngx_uint_t ngx_esign_match(ngx_esign_route_t *route, ngx_str_t *path,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_check_body(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_method_not_allowed(ngx_http_request_t *r,
    ngx_uint_t methods);


static ngx_uint_t
ngx_esign_match(ngx_esign_route_t *route, ngx_str_t *path,
    ngx_esign_ctx_t *ctx)
{
    u_char      *p, *last, *start;
    const char  *pat;
    ngx_uint_t   n;

    p = path->data;
    last = path->data + path->len;
    pat = route->pattern;
    n = 0;

    while (*pat != '\0') {

        if (pat[0] == '{' && pat[1] == '}') {
            start = p;

            while (p < last && *p != '/') {
                if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z')
                    && !(*p >= '0' && *p <= '9') && *p != '-' && *p != '_'
                    && *p != '.')
                {
                    return 0;
                }

                p++;
            }

            if (p == start || p - start > NGX_ESIGN_MAX_SEGMENT
                || n == NGX_ESIGN_MAX_PARAMS)
            {
                return 0;
            }

            if (ctx != NULL) {
                ctx->params[n].data = start;
                ctx->params[n].len = p - start;
            }

            n++;
            pat += 2;
            continue;
        }

        if (p == last || *p != (u_char) *pat) {
            return 0;
        }

        p++;
        pat++;
    }

    if (p != last) {
        return 0;
    }

    if (ctx != NULL) {
        ctx->nparams = n;
    }

    return 1;
}


/*
 * Finds the route of the request and sets ctx->route.  When ctx->route
 * stays NULL a response (404, 405, 413, 415, or an admin page file) was
 * sent, and the result is what the content handler returns.
 */
ngx_int_t
ngx_esign_route(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    size_t                     skip;
    ngx_int_t                  rc;
    ngx_str_t                  path;
    ngx_uint_t                 methods;
    ngx_esign_route_t         *route, **table;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    /* paths are relative to the location that says "esign on" */

    skip = 0;

    if (clcf->name.len > 0 && !clcf->regex
        && r->uri.len >= clcf->name.len
        && ngx_strncmp(r->uri.data, clcf->name.data, clcf->name.len) == 0)
    {
        skip = clcf->name.len;

        if (clcf->name.data[clcf->name.len - 1] == '/') {
            skip--;
        }
    }

    path.data = r->uri.data + skip;
    path.len = r->uri.len - skip;

    if (path.len >= sizeof("/admin") - 1
        && ngx_strncmp(path.data, "/admin", sizeof("/admin") - 1) == 0
        && (path.len == sizeof("/admin") - 1
            || path.data[sizeof("/admin") - 1] == '/'))
    {
        return ngx_esign_admin_serve(r, &path);
    }

    if (path.len < sizeof(NGX_ESIGN_API_PREFIX) - 1
        || ngx_strncmp(path.data, NGX_ESIGN_API_PREFIX,
                       sizeof(NGX_ESIGN_API_PREFIX) - 1) != 0)
    {
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such resource");
    }

    path.data += sizeof(NGX_ESIGN_API_PREFIX) - 1;
    path.len -= sizeof(NGX_ESIGN_API_PREFIX) - 1;

    ctx->path = path;

    methods = 0;

    for (table = ngx_esign_route_tables; *table != NULL; table++) {
        for (route = *table; route->pattern != NULL; route++) {

            if (!ngx_esign_match(route, &path, NULL)) {
                continue;
            }

            if (route->method != r->method
                && !(route->method == NGX_HTTP_GET
                     && r->method == NGX_HTTP_HEAD))
            {
                methods |= route->method;
                continue;
            }

            (void) ngx_esign_match(route, &path, ctx);
            ctx->route = route;

            rc = ngx_esign_check_body(r, ctx);

            if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
                ctx->route = NULL;
                return ngx_esign_send_error(r, rc, "payload_too_large",
                                            "the request body is too large");
            }

            if (rc == NGX_HTTP_UNSUPPORTED_MEDIA_TYPE) {
                ctx->route = NULL;
                return ngx_esign_send_error(r, rc, "unsupported_media_type",
                           (route->flags & NGX_ESIGN_BODY_DOCUMENT)
                           ? "documents must be application/pdf or "
                             "application/ofd"
                           : "the body must be application/json");
            }

            return NGX_OK;
        }
    }

    if (methods != 0) {
        return ngx_esign_method_not_allowed(r, methods);
    }

    return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                "no such resource");
}


static ngx_int_t
ngx_esign_check_body(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    off_t                  limit;
    ngx_str_t             *ct;
    ngx_uint_t             has_body;
    ngx_esign_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_esign_module);

    has_body = r->headers_in.content_length_n > 0 || r->headers_in.chunked;

    if (!has_body) {
        return NGX_OK;
    }

    if ((ctx->route->flags
         & (NGX_ESIGN_BODY_JSON|NGX_ESIGN_BODY_DOCUMENT)) == 0)
    {
        /* a body where none is expected is discarded, like nginx does */
        return NGX_OK;
    }

    limit = (ctx->route->flags & NGX_ESIGN_BODY_DOCUMENT)
            ? (off_t) elcf->document_max : (off_t) elcf->json_max;

    if (r->headers_in.content_length_n > limit) {
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    ct = r->headers_in.content_type ? &r->headers_in.content_type->value
                                    : NULL;

    if (ctx->route->flags & NGX_ESIGN_BODY_JSON) {
        if (ct == NULL
            || ct->len < sizeof("application/json") - 1
            || ngx_strncasecmp(ct->data, (u_char *) "application/json",
                               sizeof("application/json") - 1) != 0
            || (ct->len > sizeof("application/json") - 1
                && ct->data[sizeof("application/json") - 1] != ';'
                && ct->data[sizeof("application/json") - 1] != ' '))
        {
            return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
        }

    } else {
        if (ct == NULL
            || !((ct->len == sizeof("application/pdf") - 1
                  && ngx_strncasecmp(ct->data, (u_char *) "application/pdf",
                                     ct->len) == 0)
                 || (ct->len == sizeof("application/ofd") - 1
                     && ngx_strncasecmp(ct->data,
                                        (u_char *) "application/ofd",
                                        ct->len) == 0)))
        {
            return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_esign_method_not_allowed(ngx_http_request_t *r, ngx_uint_t methods)
{
    u_char      *p;
    ngx_str_t    allow;
    ngx_uint_t   i;

    static struct {
        ngx_uint_t   method;
        const char  *name;
    } names[] = {
        { NGX_HTTP_GET, "GET, HEAD" },
        { NGX_HTTP_POST, "POST" },
        { NGX_HTTP_PUT, "PUT" },
        { NGX_HTTP_PATCH, "PATCH" },
        { NGX_HTTP_DELETE, "DELETE" },
    };

    p = ngx_pnalloc(r->pool, 64);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    allow.data = p;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (methods & names[i].method) {
            if (p != allow.data) {
                *p++ = ',';
                *p++ = ' ';
            }

            p = ngx_cpymem(p, names[i].name, ngx_strlen(names[i].name));
        }
    }

    allow.len = p - allow.data;

    if (ngx_esign_add_header(r, "Allow", &allow) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_esign_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                "method_not_allowed",
                                "the method is not allowed on this resource");
}


/*
 * Authenticates when the route asks for it, then runs the route's handler;
 * returns what the content handler returns.
 */
ngx_int_t
ngx_esign_dispatch(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    ngx_int_t  rc;

    if ((ctx->route->flags & NGX_ESIGN_AUTH) && ctx->actor == NULL) {
        rc = ngx_esign_session_authenticate(r, ctx);

        /*
         * An error document may have been sent with NGX_OK as the send
         * result: only a set actor lets the handler run.
         */
        if (rc != NGX_OK || ctx->actor == NULL) {
            return rc;
        }
    }

    return ctx->route->handler(r, ctx);
}
