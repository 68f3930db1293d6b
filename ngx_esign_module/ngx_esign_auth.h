/*
 * Authorization glue: the actor from the session and the state database,
 * and the single decision every handler asks (esc_authz of the core).
 */

#ifndef _NGX_ESIGN_AUTH_H_INCLUDED_
#define _NGX_ESIGN_AUTH_H_INCLUDED_


#include "ngx_esign.h"
#include "ngx_esign_session.h"

#include "esc_authz.h"


typedef esc_object_t  esc_authz_object_t;


/* route tables of the identity layer (ngx_esign_router.c lists them) */
extern ngx_esign_route_t  ngx_esign_session_routes[];
extern ngx_esign_route_t  ngx_esign_institution_routes[];
extern ngx_esign_route_t  ngx_esign_operator_routes[];
extern ngx_esign_route_t  ngx_esign_account_routes[];


/*
 * Decides whether ctx->actor may perform "action" (esc_action_e) on obj
 * (NULL for actions without an object; the actor's own institution is
 * used for institution-scoped actions then).
 *
 * Returns NGX_OK when allowed; *masked (may be NULL) is set to 1 when
 * the actor's tier sees key fields masked (business_operator).
 *
 * Otherwise it has SENT the error response (404 not_found for objects
 * that must look absent, 403 forbidden) and returns NGX_DECLINED; the
 * response's result is in ctx->auth_rc: the handler returns it:
 *
 *     if (ngx_esign_authorize(r, ctx, ESC_ACT_CONTRACT_READ, &obj, &m)
 *         != NGX_OK)
 *     {
 *         return ctx->auth_rc;
 *     }
 */
ngx_int_t ngx_esign_authorize(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    ngx_uint_t action, const esc_authz_object_t *obj, ngx_uint_t *masked);

/* Fills an esc_actor_t from ctx->actor (strings borrowed). */
void ngx_esign_auth_actor(ngx_esign_actor_t *a, esc_actor_t *out);

/* Names <-> bits of tiers and permissions. */
ngx_int_t ngx_esign_tier_parse(const char *s, ngx_uint_t *tier);
const char *ngx_esign_tier_name(ngx_uint_t tier);
ngx_int_t ngx_esign_perms_parse(json_t *arr, ngx_uint_t *perms);
json_t *ngx_esign_perms_json(ngx_uint_t perms);

/* The client address as a NUL-terminated pool string. */
char *ngx_esign_client_ip(ngx_http_request_t *r);

/* Copies a JSON string into a NUL-terminated pool string, or NULL. */
char *ngx_esign_pstrdup(ngx_pool_t *pool, const char *s, size_t len);

/* The KEK ring of this process (parsed once); NULL on a bad key file. */
struct esc_kek_ring_s *ngx_esign_kek_ring(ngx_http_request_t *r);

/* Masks a login name or person name for logs: first char + "***". */
u_char *ngx_esign_mask_name(u_char *buf, size_t size, const char *s);


#endif /* _NGX_ESIGN_AUTH_H_INCLUDED_ */
