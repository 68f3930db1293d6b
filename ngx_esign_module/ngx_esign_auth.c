/*
 * Authorization glue: loads the actor of a session from the state
 * database on every request and asks esc_authz() for every action.
 */


#include "ngx_esign.h"
#include "ngx_esign_auth.h"
#include "ngx_esign_db.h"

#include "esc_kek.h"


static esc_kek_ring_t  *ngx_esign_ring;


static const char  *ngx_esign_tier_names[] = {
    NULL, "top_admin", "business_admin", "business_operator"
};

static const char  *ngx_esign_perm_names[] = {
    "initiate", "view", "confirm", "download", "evidence"
};


ngx_int_t
ngx_esign_tier_parse(const char *s, ngx_uint_t *tier)
{
    ngx_uint_t  i;

    for (i = 1; i < 4; i++) {
        if (s != NULL && ngx_strcmp(s, ngx_esign_tier_names[i]) == 0) {
            *tier = i;
            return NGX_OK;
        }
    }

    return NGX_ERROR;
}


const char *
ngx_esign_tier_name(ngx_uint_t tier)
{
    return (tier >= 1 && tier <= 3) ? ngx_esign_tier_names[tier]
                                    : "top_admin";
}


ngx_int_t
ngx_esign_perms_parse(json_t *arr, ngx_uint_t *perms)
{
    size_t       i;
    json_t      *v;
    ngx_uint_t   j, bits;
    const char  *s;

    if (!json_is_array(arr) || json_array_size(arr) > 5) {
        return NGX_ERROR;
    }

    bits = 0;

    json_array_foreach(arr, i, v) {
        s = json_string_value(v);
        if (s == NULL) {
            return NGX_ERROR;
        }

        for (j = 0; j < 5; j++) {
            if (ngx_strcmp(s, ngx_esign_perm_names[j]) == 0) {
                break;
            }
        }

        if (j == 5 || (bits & (1u << j))) {
            return NGX_ERROR;
        }

        bits |= 1u << j;
    }

    *perms = bits;

    return NGX_OK;
}


json_t *
ngx_esign_perms_json(ngx_uint_t perms)
{
    json_t      *arr;
    ngx_uint_t   j;

    arr = json_array();
    if (arr == NULL) {
        return NULL;
    }

    for (j = 0; j < 5; j++) {
        if (perms & (1u << j)) {
            json_array_append_new(arr, json_string(ngx_esign_perm_names[j]));
        }
    }

    return arr;
}


char *
ngx_esign_pstrdup(ngx_pool_t *pool, const char *s, size_t len)
{
    char  *p;

    if (s == NULL) {
        return NULL;
    }

    p = ngx_pnalloc(pool, len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


char *
ngx_esign_client_ip(ngx_http_request_t *r)
{
    return ngx_esign_pstrdup(r->pool,
                             (char *) r->connection->addr_text.data,
                             r->connection->addr_text.len);
}


esc_kek_ring_t *
ngx_esign_kek_ring(ngx_http_request_t *r)
{
    ngx_esign_main_conf_t  *emcf;

    if (ngx_esign_ring != NULL) {
        return ngx_esign_ring;
    }

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    if (esc_kek_parse((char *) emcf->kek.data, emcf->kek.len,
                      &ngx_esign_ring)
        != ESC_CRYPTO_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "esign: the KEK file does not parse");
        ngx_esign_ring = NULL;
    }

    return ngx_esign_ring;
}


u_char *
ngx_esign_mask_name(u_char *buf, size_t size, const char *s)
{
    size_t  n;

    /* one character (UTF-8 aware) and a fixed mask: length not revealed */

    n = 0;

    if (s != NULL && s[0] != '\0') {
        n = 1;
        while (s[n] != '\0' && ((u_char) s[n] & 0xc0) == 0x80) {
            n++;
        }
    }

    if (n + 4 > size) {
        n = 0;
    }

    ngx_memcpy(buf, s, n);
    ngx_memcpy(buf + n, "***", 4);

    return buf;
}


void
ngx_esign_auth_actor(ngx_esign_actor_t *a, esc_actor_t *out)
{
    ngx_memzero(out, sizeof(esc_actor_t));

    out->role = (esc_role_e) a->role;
    out->account_id.len = a->account_id.len;
    out->account_id.data = a->account_id.data;
    out->institution_id.len = a->institution_id.len;
    out->institution_id.data = a->institution_id.data;
    out->tier = (esc_tier_e) a->tier;
    out->department.len = a->department.len;
    out->department.data = a->department.data;
    out->perms = (unsigned) a->permissions;
    out->disabled = 0;
}


ngx_int_t
ngx_esign_authorize(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    ngx_uint_t action, const esc_authz_object_t *obj, ngx_uint_t *masked)
{
    esc_actor_t    actor;
    esc_object_t   own;
    esc_authz_t    d;

    if (masked != NULL) {
        *masked = 0;
    }

    if (ctx->actor == NULL) {
        ctx->auth_rc = ngx_esign_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                            "unauthenticated",
                                            "a session is required");
        return NGX_DECLINED;
    }

    ngx_esign_auth_actor(ctx->actor, &actor);

    if (obj == NULL) {
        ngx_memzero(&own, sizeof(own));
        own.institution_id = actor.institution_id;
        obj = &own;
    }

    d = esc_authz(&actor, (esc_action_e) action, obj);

    if (d.result == ESC_AUTHZ_ALLOW) {
        if (masked != NULL) {
            *masked = d.masked;
        }

        return NGX_OK;
    }

    if (d.result == ESC_AUTHZ_NOT_FOUND) {
        ctx->auth_rc = ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND,
                                            "not_found", "no such resource");

    } else {
        ctx->auth_rc = ngx_esign_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "forbidden",
                                            "the account may not do this");
    }

    return NGX_DECLINED;
}
