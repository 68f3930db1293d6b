/*
 * Rate limits of login, registration and verification (R-AUTH-4,
 * R-SEC-5): leaky buckets per client address and per account, in the
 * shared-memory zone or in Redis when "esign_redis" is set.
 */

#ifndef _NGX_ESIGN_RATELIMIT_H_INCLUDED_
#define _NGX_ESIGN_RATELIMIT_H_INCLUDED_


#include "ngx_esign.h"
#include "ngx_esign_session.h"


#define NGX_ESIGN_RATE_LOGIN     0
#define NGX_ESIGN_RATE_REGISTER  1
#define NGX_ESIGN_RATE_VERIFY    2


/* A bucket to check, prepared on the event loop for a thread. */
typedef struct {
    char          key[96];      /* "login:ip:<addr>", "login:a:<sm3>" */
    ngx_uint_t    rate;
    ngx_uint_t    burst;
} ngx_esign_rate_key_t;


/*
 * Prepares the bucket key "<kind>:<what>:<value>" (values other than
 * addresses are replaced by their SM3, no personal data in the store).
 */
void ngx_esign_rate_key(ngx_http_request_t *r, ngx_uint_t kind,
    const char *what, const char *value, size_t len,
    ngx_esign_rate_key_t *out);

/*
 * Shared-memory check, on the event loop: NGX_OK or NGX_BUSY (*retry_ms).
 * In Redis mode use ngx_esign_rate_check_redis() from a thread instead.
 */
ngx_int_t ngx_esign_rate_check_shm(ngx_http_request_t *r,
    ngx_esign_rate_key_t *key, uint64_t *retry_ms);

/* Thread side: NGX_OK, NGX_BUSY (*retry_ms) or NGX_ERROR (Redis down). */
ngx_int_t ngx_esign_rate_check_redis(ngx_esign_redis_conf_t *rc,
    ngx_esign_rate_key_t *key, uint64_t now, uint64_t *retry_ms);

/* 429 rate_limited (or code) with Retry-After in whole seconds. */
ngx_int_t ngx_esign_send_rate_limited(ngx_http_request_t *r,
    uint64_t retry_ms, const char *code, const char *message);

/* "esign_login_rate 30r/m [burst=10]" and friends. */
char *ngx_esign_rate_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* "esign_lockout 5 15m" */
char *ngx_esign_scrypt_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_esign_lockout_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_ESIGN_RATELIMIT_H_INCLUDED_ */
