/*
 * Sessions: placeholder until the session stores land; every request that
 * needs a session is refused.
 */


#include "ngx_esign.h"


ngx_int_t
ngx_esign_session_authenticate(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    return ngx_esign_send_error(r, NGX_HTTP_UNAUTHORIZED, "unauthenticated",
                                "a session is required");
}
