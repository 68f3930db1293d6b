/*
 * $esign_account and $esign_institution: the account and institution of
 * the request's session, for stock limit_req, map and log_format.  Empty
 * before authentication (and for operators' institution).
 */


#include "ngx_esign.h"


static ngx_int_t ngx_esign_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_esign_vars[] = {

    { ngx_string("esign_account"), NULL, ngx_esign_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("esign_institution"), NULL, ngx_esign_variable, 1,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_esign_variables_add(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_esign_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_esign_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t        *s;
    ngx_esign_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_esign_module);

    if (ctx == NULL || ctx->actor == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = data ? &ctx->actor->institution_id : &ctx->actor->account_id;

    if (s->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = s->len;
    v->data = s->data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}
