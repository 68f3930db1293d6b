/*
 * The esign module: directives, configuration checks, process hooks and the
 * content handler that turns a location into the platform's API.
 */


#include "ngx_esign.h"
#include "ngx_esign_ledger.h"

#include <openssl/pem.h>

#include "ngx_esign_ratelimit.h"

#include "ngx_esign_outbox.h"
#include "ngx_esign_db.h"
#include "ngx_esign_sign.h"


static ngx_int_t ngx_esign_handler(ngx_http_request_t *r);
static ngx_int_t ngx_esign_preconfiguration(ngx_conf_t *cf);
static void ngx_esign_body_handler(ngx_http_request_t *r);
static void *ngx_esign_create_main_conf(ngx_conf_t *cf);
static char *ngx_esign_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_esign_create_loc_conf(ngx_conf_t *cf);
static char *ngx_esign_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_esign(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_esign_data(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_esign_site_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_esign_kek(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_esign_session_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_esign_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_esign_check_idle(ngx_conf_t *cf, void *post, void *data);
static ngx_int_t ngx_esign_session_zone_init(ngx_shm_zone_t *zone,
    void *data);
static void ngx_esign_free_pkey(void *data);
static ngx_int_t ngx_esign_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_esign_init_process(ngx_cycle_t *cycle);
static void ngx_esign_exit_process(ngx_cycle_t *cycle);


static ngx_conf_post_handler_pt  ngx_esign_check_idle_p =
    ngx_esign_check_idle;


/* esign_signature_suite: values are ESC_SUITE_NATIONAL, ESC_SUITE_INTL */
static ngx_conf_enum_t  ngx_esign_suites[] = {
    { ngx_string("national"), 1 },
    { ngx_string("intl"), 2 },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_esign_commands[] = {

    { ngx_string("esign"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_esign,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_esign_loc_conf_t, enable),
      NULL },

    { ngx_string("esign_data"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_esign_data,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_esign_main_conf_t, data),
      NULL },

    { ngx_string("esign_site"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_esign_main_conf_t, site),
      NULL },

    { ngx_string("esign_site_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_esign_site_key,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_esign_main_conf_t, site_key_file),
      NULL },

    { ngx_string("esign_kek"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_esign_kek,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_esign_main_conf_t, kek_file),
      NULL },

    { ngx_string("esign_session_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_esign_session_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("esign_session_idle_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_esign_main_conf_t, idle_timeout),
      &ngx_esign_check_idle_p },

    { ngx_string("esign_session_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_esign_main_conf_t, absolute_timeout),
      NULL },

    { ngx_string("esign_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_esign_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("esign_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_esign_main_conf_t, thread_pool_name),
      NULL },

    { ngx_string("esign_map_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_esign_main_conf_t, map_size),
      NULL },

    { ngx_string("esign_signature_suite"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_esign_main_conf_t, signature_suite),
      &ngx_esign_suites },

    { ngx_string("esign_contract_sweep"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_esign_main_conf_t, expiry_sweep),
      NULL },

    { ngx_string("esign_reader_check_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_esign_main_conf_t, reader_check_interval),
      NULL },

    { ngx_string("esign_max_json_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_esign_loc_conf_t, json_max),
      NULL },

    { ngx_string("esign_max_document_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_esign_loc_conf_t, document_max),
      NULL },

    /* notifications (ngx_esign_outbox.c) */

    { ngx_string("esign_smtp"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_esign_notify_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("esign_smtp_from"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_esign_notify_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("esign_sms_gateway"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_esign_notify_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("esign_public_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_esign_notify_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("esign_outbox_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_esign_notify_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("esign_outbox_retry_base"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_esign_notify_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("esign_outbox_max_attempts"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_esign_notify_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("esign_notify_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_esign_notify_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("esign_link_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_esign_notify_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("esign_login_rate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_esign_rate_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_esign_main_conf_t, login_rate),
      NULL },

    { ngx_string("esign_register_rate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_esign_rate_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_esign_main_conf_t, register_rate),
      NULL },

    { ngx_string("esign_verify_rate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_esign_rate_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_esign_main_conf_t, verify_rate),
      NULL },

    { ngx_string("esign_lockout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_esign_lockout_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("esign_scrypt"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE3,
      ngx_esign_scrypt_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("esign_verifier_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_esign_main_conf_t, verifier_url),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_esign_module_ctx = {
    ngx_esign_preconfiguration,           /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_esign_create_main_conf,            /* create main configuration */
    ngx_esign_init_main_conf,              /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_esign_create_loc_conf,             /* create location configuration */
    ngx_esign_merge_loc_conf               /* merge location configuration */
};


ngx_module_t  ngx_http_esign_module = {
    NGX_MODULE_V1,
    &ngx_esign_module_ctx,                 /* module context */
    ngx_esign_commands,                    /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_esign_init_module,                 /* init module */
    ngx_esign_init_process,                /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_esign_exit_process,                /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_esign_preconfiguration(ngx_conf_t *cf)
{
    /* $esign_account, $esign_institution (ngx_esign_variables.c) */
    return ngx_esign_variables_add(cf);
}


static ngx_int_t
ngx_esign_handler(ngx_http_request_t *r)
{
    ngx_int_t         rc;
    ngx_esign_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_esign_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ngx_http_set_ctx(r, ctx, ngx_http_esign_module);

    rc = ngx_esign_route(r, ctx);

    if (ctx->route == NULL) {
        /* the router already answered: 404, 405, 413, 415, admin page */
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return rc;
    }

    if (ctx->route->flags & NGX_ESIGN_BODY_DOCUMENT) {
        /*
         * Uploaded documents never touch the disk in plaintext: the merge
         * of the location made the body buffer as large as the document
         * limit, and a single buffer is asked for here.
         */
        r->request_body_in_single_buf = 1;
        r->request_body_in_persistent_file = 0;

    } else if (ctx->route->flags & NGX_ESIGN_BODY_JSON) {
        r->request_body_in_single_buf = 1;
    }

    if ((ctx->route->flags
         & (NGX_ESIGN_BODY_JSON|NGX_ESIGN_BODY_DOCUMENT)) == 0)
    {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_esign_dispatch(r, ctx);
    }

    rc = ngx_http_read_client_request_body(r, ngx_esign_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_esign_body_handler(ngx_http_request_t *r)
{
    size_t            len;
    u_char           *p;
    ngx_buf_t        *b;
    ngx_int_t         rc;
    ngx_chain_t      *cl;
    ngx_esign_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_esign_module);

    if (r->request_body == NULL || r->request_body->temp_file != NULL) {
        /* a body in a temp file is larger than the route allows */
        ngx_http_finalize_request(r,
            ngx_esign_send_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                 "payload_too_large",
                                 "the request body is too large"));
        return;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl != NULL; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    p = NULL;

    if (len > 0) {
        if (r->request_body->bufs->next == NULL) {
            p = r->request_body->bufs->buf->pos;

        } else {
            p = ngx_pnalloc(r->pool, len);
            if (p == NULL) {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            len = 0;

            for (cl = r->request_body->bufs; cl != NULL; cl = cl->next) {
                b = cl->buf;
                ngx_memcpy(p + len, b->pos, b->last - b->pos);
                len += b->last - b->pos;
            }
        }
    }

    ctx->body.data = p;
    ctx->body.len = len;

    if (ctx->route->flags & NGX_ESIGN_BODY_JSON) {
        rc = ngx_esign_json_parse(r, ctx, p, len);

        if (ctx->json == NULL) {
            /* the error document was sent; rc is its result */
            ngx_http_finalize_request(r, rc);
            return;
        }
    }

    ngx_http_finalize_request(r, ngx_esign_dispatch(r, ctx));
}


static void *
ngx_esign_create_main_conf(ngx_conf_t *cf)
{
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_pcalloc(cf->pool, sizeof(ngx_esign_main_conf_t));
    if (emcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     emcf->data = { 0, NULL };
     *     emcf->site = { 0, NULL };
     *     emcf->session_zone = NULL;
     *     emcf->redis = NULL;
     */

    emcf->idle_timeout = NGX_CONF_UNSET_MSEC;
    emcf->absolute_timeout = NGX_CONF_UNSET_MSEC;
    emcf->map_size = NGX_CONF_UNSET_SIZE;
    emcf->reader_check_interval = NGX_CONF_UNSET_MSEC;
    emcf->signature_suite = NGX_CONF_UNSET_UINT;
    emcf->expiry_sweep = NGX_CONF_UNSET_MSEC;
    emcf->login_rate = NGX_CONF_UNSET_UINT;
    emcf->register_rate = NGX_CONF_UNSET_UINT;
    emcf->verify_rate = NGX_CONF_UNSET_UINT;
    emcf->lockout_failures = NGX_CONF_UNSET_UINT;
    emcf->scrypt_log2n = NGX_CONF_UNSET_UINT;

    return emcf;
}


static char *
ngx_esign_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_esign_main_conf_t *emcf = conf;

    ngx_conf_init_msec_value(emcf->idle_timeout, NGX_ESIGN_MAX_IDLE_TIMEOUT);
    ngx_conf_init_msec_value(emcf->absolute_timeout, 12 * 60 * 60 * 1000);
    ngx_conf_init_size_value(emcf->map_size, (size_t) 8 << 30);
    ngx_conf_init_msec_value(emcf->reader_check_interval, 60 * 1000);
    ngx_conf_init_uint_value(emcf->signature_suite, 1);  /* national */
    ngx_conf_init_msec_value(emcf->expiry_sweep, 60 * 1000);

    if (emcf->login_rate == NGX_CONF_UNSET_UINT) {
        emcf->login_rate = 30 * 1000 / 60;         /* 30r/m burst=10 */
        emcf->login_burst = 10;
    }

    if (emcf->register_rate == NGX_CONF_UNSET_UINT) {
        emcf->register_rate = 10 * 1000 / 60;      /* 10r/m burst=5 */
        emcf->register_burst = 5;
    }

    if (emcf->verify_rate == NGX_CONF_UNSET_UINT) {
        emcf->verify_rate = 30 * 1000 / 60;        /* 30r/m burst=10 */
        emcf->verify_burst = 10;
    }

    if (emcf->lockout_failures == NGX_CONF_UNSET_UINT) {
        emcf->lockout_failures = 5;                /* 5 failures: 15m */
        emcf->lockout_time = 15 * 60 * 1000;
    }

    if (emcf->scrypt_log2n == NGX_CONF_UNSET_UINT) {
        emcf->scrypt_log2n = 15;                   /* ESC_SCRYPT_DEFAULT */
        emcf->scrypt_r = 8;
        emcf->scrypt_p = 3;
    }

    if (emcf->site.len == 0) {
        ngx_str_set(&emcf->site, "local");
    }

    if (emcf->thread_pool_name.len == 0) {
        ngx_str_set(&emcf->thread_pool_name, "default");
    }

    emcf->thread_pool = ngx_thread_pool_add(cf, &emcf->thread_pool_name);
    if (emcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    if (emcf->session_zone == NULL) {
        /* sessions and rate limits in shared memory by default */
        ngx_str_t  name = ngx_string("esign_default");

        emcf->session_zone = ngx_shared_memory_add(cf, &name,
                                                   10 * 1024 * 1024,
                                                   &ngx_http_esign_module);
        if (emcf->session_zone == NULL) {
            return NGX_CONF_ERROR;
        }

        emcf->session_zone->init = ngx_esign_session_zone_init;
        emcf->session_zone->data = emcf;
    }

    if (ngx_esign_notify_init_main_conf(cf, emcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_esign_create_loc_conf(ngx_conf_t *cf)
{
    ngx_esign_loc_conf_t  *elcf;

    elcf = ngx_pcalloc(cf->pool, sizeof(ngx_esign_loc_conf_t));
    if (elcf == NULL) {
        return NULL;
    }

    elcf->enable = NGX_CONF_UNSET;
    elcf->json_max = NGX_CONF_UNSET_SIZE;
    elcf->document_max = NGX_CONF_UNSET_SIZE;

    return elcf;
}


static char *
ngx_esign_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_esign_loc_conf_t *prev = parent;
    ngx_esign_loc_conf_t *conf = child;

    size_t                     need;
    ngx_esign_main_conf_t     *emcf;
    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_size_value(conf->json_max, prev->json_max,
                              NGX_ESIGN_DEFAULT_JSON_MAX);
    ngx_conf_merge_size_value(conf->document_max, prev->document_max,
                              NGX_ESIGN_DEFAULT_DOC_MAX);

    if (!conf->enable) {
        return NGX_CONF_OK;
    }

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_esign_module);

    if (emcf->data.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"esign on\" requires \"esign_data\" "
                           "in the http block");
        return NGX_CONF_ERROR;
    }

    if (emcf->site_key == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"esign on\" requires \"esign_site_key\" "
                           "in the http block");
        return NGX_CONF_ERROR;
    }

    if (emcf->kek.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"esign on\" requires \"esign_kek\" "
                           "in the http block");
        return NGX_CONF_ERROR;
    }

    emcf->enabled = 1;

    /*
     * The location's own body limits must admit the largest document and
     * keep it in one memory buffer, or nginx would answer 413 in HTML
     * before this module sees the request, or spill the plaintext to a
     * temporary file.
     */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    need = ngx_max(conf->document_max, conf->json_max);

    if (clcf->client_max_body_size != 0
        && (size_t) clcf->client_max_body_size < need + 1)
    {
        clcf->client_max_body_size = need + 1;
    }

    if (clcf->client_body_buffer_size < need + 1) {
        clcf->client_body_buffer_size = need + 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_esign(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_esign_loc_conf_t *elcf = conf;

    char                      *rv;
    ngx_http_core_loc_conf_t  *clcf;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (elcf->enable) {
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        clcf->handler = ngx_esign_handler;
    }

    return NGX_CONF_OK;
}


static char *
ngx_esign_data(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_esign_main_conf_t *emcf = conf;

    ngx_str_t        *value;
    ngx_file_info_t   fi;

    if (emcf->data.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    emcf->data = value[1];

    /* like nginx's temp paths, relative to the prefix (-p) */
    if (ngx_conf_full_name(cf->cycle, &emcf->data, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_file_info(emcf->data.data, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "esign_data directory \"%V\" does not exist",
                           &emcf->data);
        return NGX_CONF_ERROR;
    }

    if (!ngx_is_dir(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "esign_data \"%V\" is not a directory",
                           &emcf->data);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_esign_site_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_esign_main_conf_t *emcf = conf;

    BIO                 *bio;
    ngx_str_t           *value;
    ngx_pool_cleanup_t  *cln;

    if (emcf->site_key_file.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    emcf->site_key_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &emcf->site_key_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    bio = BIO_new_file((char *) emcf->site_key_file.data, "r");
    if (bio == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read esign_site_key \"%V\"",
                           &emcf->site_key_file);
        return NGX_CONF_ERROR;
    }

    emcf->site_key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (emcf->site_key != NULL) {
        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            EVP_PKEY_free(emcf->site_key);
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_esign_free_pkey;
        cln->data = emcf->site_key;
    }

    if (emcf->site_key == NULL || !EVP_PKEY_is_a(emcf->site_key, "SM2")) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "esign_site_key \"%V\" is not an SM2 private key "
                           "in PEM", &emcf->site_key_file);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void
ngx_esign_free_pkey(void *data)
{
    EVP_PKEY_free(data);
}


static char *
ngx_esign_kek(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_esign_main_conf_t *emcf = conf;

    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t        *value;
    ngx_file_info_t   fi;

    if (emcf->kek_file.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    emcf->kek_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &emcf->kek_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(emcf->kek_file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN,
                       0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read esign_kek \"%V\"", &emcf->kek_file);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) <= 0 || ngx_file_size(&fi) > 64 * 1024)
    {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "esign_kek \"%V\" is empty or too large",
                           &emcf->kek_file);
        return NGX_CONF_ERROR;
    }

    emcf->kek.len = ngx_file_size(&fi);
    emcf->kek.data = ngx_pnalloc(cf->pool, emcf->kek.len + 1);
    if (emcf->kek.data == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, emcf->kek.data, emcf->kek.len);
    ngx_close_file(fd);

    if (n != (ssize_t) emcf->kek.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read esign_kek \"%V\"", &emcf->kek_file);
        return NGX_CONF_ERROR;
    }

    emcf->kek.data[emcf->kek.len] = '\0';

    return NGX_CONF_OK;
}


static char *
ngx_esign_session_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_esign_main_conf_t *emcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (emcf->session_zone != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid esign_session_zone size \"%V\"",
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    emcf->session_zone = ngx_shared_memory_add(cf, &value[1], size,
                                               &ngx_http_esign_module);
    if (emcf->session_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (emcf->session_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "esign_session_zone \"%V\" is already used",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    emcf->session_zone->init = ngx_esign_session_zone_init;
    emcf->session_zone->data = emcf;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_esign_session_zone_init(ngx_shm_zone_t *zone, void *data)
{
    /* the session store (ngx_esign_session_shm.c) takes over the zone */
    return ngx_esign_session_init_zone(zone, data);
}


static char *
ngx_esign_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_esign_main_conf_t *emcf = conf;

    ngx_str_t  *value;

    if (emcf->redis != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    emcf->redis = ngx_pcalloc(cf->pool, sizeof(ngx_url_t));
    if (emcf->redis == NULL) {
        return NGX_CONF_ERROR;
    }

    emcf->redis->url = value[1];
    emcf->redis->default_port = 6379;
    emcf->redis->no_resolve = 1;

    if (ngx_parse_url(cf->pool, emcf->redis) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid esign_redis address \"%V\": %s",
                           &value[1],
                           emcf->redis->err ? emcf->redis->err : "?");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_esign_check_idle(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *msp = data;

    if (*msp > NGX_ESIGN_MAX_IDLE_TIMEOUT) {
        return "must not exceed 30m: an idle session may live 30 minutes "
               "at most (R-AUTH-1)";
    }

    if (*msp < 1000) {
        return "must be at least 1s";
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_esign_init_module(ngx_cycle_t *cycle)
{
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_esign_module);

    if (emcf == NULL || !emcf->enabled) {
        return NGX_OK;
    }

    return ngx_esign_store_init_module(cycle, emcf);
}


static ngx_int_t
ngx_esign_init_process(ngx_cycle_t *cycle)
{
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_esign_module);

    if (emcf == NULL || !emcf->enabled) {
        return NGX_OK;
    }

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    if (ngx_esign_store_init_process(cycle, emcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_esign_ledger_init_process(cycle, emcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_esign_notify_init_process(cycle, emcf);
}


static void
ngx_esign_exit_process(ngx_cycle_t *cycle)
{
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_esign_module);

    if (emcf == NULL || !emcf->enabled) {
        return;
    }

    ngx_esign_ledger_exit_process(emcf);
    ngx_esign_notify_exit_process(emcf);
    ngx_esign_store_exit_process(emcf);

    /* the unsealed institution keys of this worker (refcounted: a
       signature still running keeps its own reference) */
    esign_sign_cache_clear();
    esign_sign_cert_clear();
    esign_db_shared_clear();
}
