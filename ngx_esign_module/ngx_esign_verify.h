/*
 * Step-up identity verification (R-AUTH-2, R-AUTH-3): POST
 * /session/verify with a pluggable verifier ("password", "totp",
 * "external" when esign_verifier_url is set), TOTP enrolment by the
 * account holder.  The result is a single-use token bound to the session
 * (ngx_esign_verify_db.h).
 */

#ifndef _NGX_ESIGN_VERIFY_H_INCLUDED_
#define _NGX_ESIGN_VERIFY_H_INCLUDED_


#include "ngx_esign.h"
#include "ngx_esign_verify_db.h"


/*
 * A verifier runs in a pool thread: it gets the account record and the
 * request's JSON body (both thread-owned copies) and answers 1 (passed),
 * 0 (failed) or -1 (the verifier is unavailable).  It may update the
 * account record (e.g. the last TOTP step); *changed says so.
 */
typedef int (*ngx_esign_verifier_pt)(json_t *account, json_t *body,
    const void *conf, int *changed);

typedef struct {
    const char               *name;
    ngx_esign_verifier_pt     verify;
} ngx_esign_verifier_t;


ngx_int_t ngx_esign_api_verify(ngx_http_request_t *r, ngx_esign_ctx_t *ctx);
ngx_int_t ngx_esign_api_totp_enrol(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
ngx_int_t ngx_esign_api_totp_confirm(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);

/* RFC 6238 (HMAC-SHA1, 30 s, 6 digits) code of a secret at step t. */
unsigned ngx_esign_totp_code(const u_char *key, size_t len, uint64_t step);

/* the API account document (ngx_esign_api_session.c) */
json_t *ngx_esign_account_doc(json_t *acct, ngx_uint_t operator);


#endif /* _NGX_ESIGN_VERIFY_H_INCLUDED_ */
