/*
 * GET /links/{token}: the landing of links sent by e-mail and SMS
 * (R-NOTE-3).  A link identifies an object and never authenticates: a
 * valid token redirects to the object's page of the admin page, where the
 * usual login applies.
 */


#include "ngx_esign.h"
#include "ngx_esign_notify.h"
#include "ngx_esign_outbox.h"


static ngx_int_t ngx_esign_api_link(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);


ngx_esign_route_t  ngx_esign_links_routes[] = {
    { NGX_HTTP_GET, "/links/{}", NGX_ESIGN_BODY_NONE, ngx_esign_api_link },
    { 0, NULL, 0, NULL }
};


static ngx_int_t
ngx_esign_api_link(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int         rc;
    char        kind, id[64];
    u_char     *p;
    size_t      skip;
    ngx_str_t  *token, loc, base;

    token = &ctx->params[0];

    rc = esign_link_open((char *) token->data, token->len,
                         ngx_esign_notify_now(), &kind, id, sizeof(id));

    if (rc == ESIGN_LINK_EXPIRED) {
        return ngx_esign_send_error(r, 410, "link_expired",
                                    "the link has expired; log in to find "
                                    "the item");
    }

    for (p = (u_char *) id; rc == ESIGN_LINK_OK && *p != '\0'; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
        {
            rc = ESIGN_LINK_INVALID;
        }
    }

    if (rc != ESIGN_LINK_OK || (kind != 'c' && kind != 'i')) {
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such link");
    }

    /* the admin page of the same location: the URI before "/api/v1" */

    skip = sizeof("/api/v1") - 1;
    base.data = r->uri.data;
    base.len = (ctx->path.data >= r->uri.data + skip)
               ? (size_t) (ctx->path.data - r->uri.data) - skip : 0;

    loc.data = ngx_pnalloc(r->pool, base.len + 64 + sizeof(id));
    if (loc.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (kind == 'c') {
        p = ngx_sprintf(loc.data, "%V/admin/#/contracts/%s", &base, id);

    } else {
        p = ngx_sprintf(loc.data, "%V/admin/#/institution", &base);
    }

    loc.len = p - loc.data;

    if (ngx_esign_add_header(r, "Location", &loc) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_esign_send_empty(r, NGX_HTTP_MOVED_TEMPORARILY);
}
