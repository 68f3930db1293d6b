/*
 * Leaky-bucket rate limits for login, registration and verification, and
 * their directives.
 */


#include "ngx_esign.h"
#include "ngx_esign_ratelimit.h"
#include "ngx_esign_pki.h"


void
ngx_esign_rate_key(ngx_http_request_t *r, ngx_uint_t kind, const char *what,
    const char *value, size_t len, ngx_esign_rate_key_t *out)
{
    char                    hex[65];
    u_char                 *p;
    ngx_esign_main_conf_t  *emcf;

    static const char  *kinds[] = { "login", "register", "verify" };

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    switch (kind) {
    case NGX_ESIGN_RATE_REGISTER:
        out->rate = emcf->register_rate;
        out->burst = emcf->register_burst;
        break;
    case NGX_ESIGN_RATE_VERIFY:
        out->rate = emcf->verify_rate;
        out->burst = emcf->verify_burst;
        break;
    default:
        out->rate = emcf->login_rate;
        out->burst = emcf->login_burst;
    }

    if (ngx_strcmp(what, "ip") == 0) {
        p = ngx_snprintf((u_char *) out->key, sizeof(out->key) - 1,
                         "%s:%s:%*s", kinds[kind], what, len, value);

    } else {
        if (esign_sm3_hex(value, len, hex) != 0) {
            hex[0] = '\0';
        }

        p = ngx_snprintf((u_char *) out->key, sizeof(out->key) - 1,
                         "%s:%s:%s", kinds[kind], what, hex);
    }

    *p = '\0';
}


ngx_int_t
ngx_esign_rate_check_shm(ngx_http_request_t *r, ngx_esign_rate_key_t *key,
    uint64_t *retry_ms)
{
    ngx_str_t               k;
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    if (key->rate == 0) {
        return NGX_OK;
    }

    k.data = (u_char *) key->key;
    k.len = ngx_strlen(key->key);

    return ngx_esign_shm_bucket(emcf->session_zone, &k, key->rate,
                                key->burst, ngx_esign_wall_ms(), retry_ms);
}


ngx_int_t
ngx_esign_rate_check_redis(ngx_esign_redis_conf_t *rc,
    ngx_esign_rate_key_t *key, uint64_t now, uint64_t *retry_ms)
{
    if (key->rate == 0) {
        return NGX_OK;
    }

    return ngx_esign_redis_bucket(rc, key->key, key->rate, key->burst, now,
                                  retry_ms);
}


ngx_int_t
ngx_esign_send_rate_limited(ngx_http_request_t *r, uint64_t retry_ms,
    const char *code, const char *message)
{
    u_char     *p;
    ngx_str_t   v;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    v.data = p;
    v.len = ngx_sprintf(p, "%uL", (uint64_t) (retry_ms + 999) / 1000
                                  + (retry_ms == 0)) - p;

    if (ngx_esign_add_header(r, "Retry-After", &v) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_esign_send_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                code ? code : "rate_limited",
                                message ? message
                                        : "too many requests; slow down");
}


char *
ngx_esign_rate_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char      *p;
    size_t       len;
    ngx_int_t    rate, scale, burst;
    ngx_str_t   *value;
    ngx_uint_t  *fields;

    value = cf->args->elts;
    fields = (ngx_uint_t *) ((u_char *) conf + cmd->offset);

    if (fields[0] != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    burst = 5;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        fields[0] = 0;
        fields[1] = 0;
        return NGX_CONF_OK;
    }

    len = value[1].len;
    p = value[1].data + len - 3;
    scale = 1;

    if (len > 3 && ngx_strncmp(p, "r/s", 3) == 0) {
        len -= 3;

    } else if (len > 3 && ngx_strncmp(p, "r/m", 3) == 0) {
        scale = 60;
        len -= 3;

    } else {
        return "has an invalid rate: use Nr/s or Nr/m";
    }

    rate = ngx_atoi(value[1].data, len);
    if (rate <= 0) {
        return "has an invalid rate";
    }

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "burst=", 6) != 0) {
            return "has an invalid parameter: use burst=N";
        }

        burst = ngx_atoi(value[2].data + 6, value[2].len - 6);
        if (burst <= 0) {
            return "has an invalid burst";
        }
    }

    fields[0] = rate * 1000 / scale;
    fields[1] = burst;

    return NGX_CONF_OK;
}


char *
ngx_esign_lockout_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_esign_main_conf_t *emcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;
    ngx_msec_t  t;

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);
    if (n <= 0 || n > 1000) {
        return "has an invalid number of failures";
    }

    t = ngx_parse_time(&value[2], 0);
    if (t == (ngx_msec_t) NGX_ERROR || t < 1000) {
        return "has an invalid lock time";
    }

    emcf->lockout_failures = n;
    emcf->lockout_time = t;

    return NGX_CONF_OK;
}


/* "esign_scrypt log2N r p": cost of new password hashes. */
char *
ngx_esign_scrypt_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_esign_main_conf_t *emcf = conf;

    ngx_int_t   v[3];
    ngx_str_t  *value;
    ngx_uint_t  i;

    value = cf->args->elts;

    for (i = 0; i < 3; i++) {
        v[i] = ngx_atoi(value[i + 1].data, value[i + 1].len);
        if (v[i] <= 0) {
            return "has an invalid number";
        }
    }

    if (v[0] < 10 || v[0] > 20 || v[1] > 32 || v[2] > 16) {
        return "is out of range: log2N 10..20, r 1..32, p 1..16";
    }

    emcf->scrypt_log2n = v[0];
    emcf->scrypt_r = v[1];
    emcf->scrypt_p = v[2];

    return NGX_CONF_OK;
}
