/*
 * Shared declarations of the esign nginx module: configuration, request
 * context, and the plumbing every API file uses (JSON, errors, router,
 * thread-pool tasks, the LMDB state store).
 */

#ifndef _NGX_ESIGN_H_INCLUDED_
#define _NGX_ESIGN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>
#include <lmdb.h>
#include <openssl/evp.h>


#define NGX_ESIGN_VERSION            "0.1.0"

/* R-AUTH-1: the idle limit may be lowered, never raised past 30 minutes. */
#define NGX_ESIGN_MAX_IDLE_TIMEOUT   (30 * 60 * 1000)

#define NGX_ESIGN_DEFAULT_JSON_MAX   (64 * 1024)
#define NGX_ESIGN_DEFAULT_DOC_MAX    (20 * 1024 * 1024)


typedef struct ngx_esign_route_s  ngx_esign_route_t;
typedef struct ngx_esign_ctx_s    ngx_esign_ctx_t;


typedef struct {
    ngx_str_t                  data;          /* esign_data */
    ngx_str_t                  site;          /* esign_site */
    ngx_str_t                  site_key_file; /* esign_site_key */
    ngx_str_t                  kek_file;      /* esign_kek */
    EVP_PKEY                  *site_key;
    ngx_str_t                  kek;           /* raw key file contents */

    ngx_shm_zone_t            *session_zone;  /* esign_session_zone */
    ngx_msec_t                 idle_timeout;  /* esign_session_idle_timeout */
    ngx_msec_t                 absolute_timeout;

    ngx_url_t                 *redis;         /* esign_redis */

    /* rate limits: rate in 1/1000 requests per second, burst requests */
    ngx_uint_t                 login_rate;    /* esign_login_rate */
    ngx_uint_t                 login_burst;
    ngx_uint_t                 register_rate; /* esign_register_rate */
    ngx_uint_t                 register_burst;
    ngx_uint_t                 verify_rate;   /* esign_verify_rate */
    ngx_uint_t                 verify_burst;
    ngx_uint_t                 lockout_failures; /* esign_lockout */
    ngx_msec_t                 lockout_time;
    ngx_str_t                  verifier_url;  /* esign_verifier_url */
    ngx_uint_t                 scrypt_log2n;  /* esign_scrypt */
    ngx_uint_t                 scrypt_r;
    ngx_uint_t                 scrypt_p;

    void                      *notify;        /* ngx_esign_outbox.h */

    ngx_str_t                  thread_pool_name;
    ngx_thread_pool_t         *thread_pool;

    size_t                     map_size;      /* esign_map_size */
    ngx_msec_t                 reader_check_interval;

    ngx_uint_t                 signature_suite; /* esign_signature_suite */
    ngx_msec_t                 expiry_sweep;  /* esign_contract_sweep */

    ngx_flag_t                 enabled;       /* some location has esign on */

    /* per-worker state, set in init_process */
    MDB_env                   *env;
    MDB_dbi                   *dbis;
    ngx_event_t                reader_check_ev;
} ngx_esign_main_conf_t;


typedef struct {
    ngx_flag_t                 enable;
    size_t                     json_max;      /* esign_max_json_body */
    size_t                     document_max;  /* esign_max_document_size */
} ngx_esign_loc_conf_t;


/* Flags of a route. */
#define NGX_ESIGN_BODY_NONE      0x0000
#define NGX_ESIGN_BODY_JSON      0x0001     /* application/json object */
#define NGX_ESIGN_BODY_DOCUMENT  0x0002     /* raw PDF or OFD bytes */
#define NGX_ESIGN_AUTH           0x0010     /* a live session is required */


/* Who is calling: set from the session before an NGX_ESIGN_AUTH handler. */
#define NGX_ESIGN_ROLE_OPERATOR      1      /* platform operator */
#define NGX_ESIGN_ROLE_INST_ADMIN    2      /* institution administrator */
#define NGX_ESIGN_ROLE_ACCOUNT       3      /* ordinary account */

typedef struct {
    ngx_uint_t                 role;
    ngx_str_t                  account_id;
    ngx_str_t                  institution_id; /* empty for operators */
    ngx_str_t                  username;
    ngx_uint_t                 tier;          /* esc_authz tier */
    ngx_str_t                  department;
    ngx_uint_t                 permissions;   /* esc_authz bitmask */
    u_char                     session_hash[32]; /* SM3 of the session ID */
} ngx_esign_actor_t;


typedef ngx_int_t (*ngx_esign_handler_pt)(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);


struct ngx_esign_route_s {
    ngx_uint_t                 method;        /* NGX_HTTP_GET ... */
    char                      *pattern;       /* "/contracts/{}/confirm" */
    ngx_uint_t                 flags;
    ngx_esign_handler_pt       handler;
};


#define NGX_ESIGN_MAX_PARAMS  4

/* Per-request state, created by the content handler. */
struct ngx_esign_ctx_s {
    ngx_http_request_t        *request;
    ngx_esign_route_t         *route;
    ngx_str_t                  path;          /* after the /api/v1 prefix */
    ngx_str_t                  params[NGX_ESIGN_MAX_PARAMS];
    ngx_uint_t                 nparams;

    ngx_esign_actor_t         *actor;         /* NGX_ESIGN_AUTH routes */
    void                      *session;       /* ngx_esign_session_rec_t */
    ngx_int_t                  auth_rc;       /* ngx_esign_authorize() */

    json_t                    *json;          /* parsed body, pool-owned */
    ngx_str_t                  body;          /* raw body (document routes) */

    /* thread-pool task state (ngx_esign_task.c) */
    void                      *task_data;
    ngx_int_t                (*task_done)(ngx_http_request_t *r,
                                          ngx_esign_ctx_t *ctx);
    unsigned                   task_active:1;
    unsigned                   task_finished:1;
};


extern ngx_module_t  ngx_http_esign_module;


/* ngx_esign_json.c */
json_t *ngx_esign_json_pool(ngx_pool_t *pool, json_t *json);
ngx_int_t ngx_esign_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json);
ngx_int_t ngx_esign_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message);
ngx_int_t ngx_esign_send_empty(ngx_http_request_t *r, ngx_uint_t status);
ngx_int_t ngx_esign_json_parse(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    u_char *p, size_t len);
const char *ngx_esign_json_str(json_t *obj, const char *key, size_t min,
    size_t max, size_t *len);
ngx_int_t ngx_esign_add_header(ngx_http_request_t *r, char *name,
    ngx_str_t *value);

/* ngx_esign_router.c */
ngx_int_t ngx_esign_route(ngx_http_request_t *r, ngx_esign_ctx_t *ctx);
ngx_int_t ngx_esign_dispatch(ngx_http_request_t *r, ngx_esign_ctx_t *ctx);

/* ngx_esign_task.c */
ngx_int_t ngx_esign_task_post(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    void (*run)(void *data, ngx_log_t *log), void *data,
    ngx_int_t (*done)(ngx_http_request_t *r, ngx_esign_ctx_t *ctx));

/* ngx_esign_store.c */
typedef int (*ngx_esign_store_write_pt)(MDB_txn *txn, MDB_dbi *dbis,
    void *data);

MDB_txn *ngx_esign_store_read(ngx_http_request_t *r);
MDB_dbi ngx_esign_store_dbi(ngx_http_request_t *r, ngx_uint_t db);
ngx_int_t ngx_esign_store_write(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    ngx_esign_store_write_pt fn, void *data,
    ngx_int_t (*done)(ngx_http_request_t *r, ngx_esign_ctx_t *ctx));
int ngx_esign_store_rc(ngx_esign_ctx_t *ctx);
/*
 * The same group-committed write from code that already runs in a pool
 * thread: returns fn's error, the commit's, or 0 once durable.
 */
int ngx_esign_store_commit(MDB_env *env, MDB_dbi *dbis,
    ngx_esign_store_write_pt fn, void *data);
/*
 * The same, and then the writer's evidence: evidence(data, &items) gives
 * the ledger items (ngx_esign_ledger_item_t) to append once the state is
 * durable, the count is returned (0: none).  The batch's items are
 * appended together; *ledger_rc is 0 when all of this writer's are
 * durable in the ledger, else -1 (they stay in the evidence outbox).
 */
typedef size_t (*ngx_esign_store_evidence_pt)(void *data, void *items);
int ngx_esign_store_commit_evidence(MDB_env *env, MDB_dbi *dbis,
    ngx_esign_store_write_pt fn, void *data,
    ngx_esign_store_evidence_pt evidence, int *ledger_rc);
void *ngx_esign_store_data(ngx_esign_ctx_t *ctx);
ngx_int_t ngx_esign_store_init_module(ngx_cycle_t *cycle,
    ngx_esign_main_conf_t *emcf);
ngx_int_t ngx_esign_store_init_process(ngx_cycle_t *cycle,
    ngx_esign_main_conf_t *emcf);
void ngx_esign_store_exit_process(ngx_esign_main_conf_t *emcf);

/*
 * ngx_esign_session.c: authenticates an NGX_ESIGN_AUTH request from its
 * session cookie (and X-CSRF-Token on state-changing methods), sets
 * ctx->actor.  Returns NGX_OK (go on), NGX_DONE (the store answers later
 * and will call ngx_esign_dispatch itself), or the result of an error
 * response already sent (401, 403 csrf, 503).
 */
ngx_int_t ngx_esign_session_authenticate(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
ngx_int_t ngx_esign_session_init_zone(ngx_shm_zone_t *zone, void *data);
ngx_int_t ngx_esign_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value);
void ngx_esign_session_kill_institution(ngx_http_request_t *r,
    ngx_str_t *inst_id);
void ngx_esign_session_kill_account(ngx_http_request_t *r,
    ngx_str_t *account_id);
ngx_int_t ngx_esign_variables_add(ngx_conf_t *cf);

/* ngx_esign_admin.c */
ngx_int_t ngx_esign_admin_serve(ngx_http_request_t *r, ngx_str_t *path);

/* the API handlers */
ngx_int_t ngx_esign_api_health(ngx_http_request_t *r, ngx_esign_ctx_t *ctx);


#endif /* _NGX_ESIGN_H_INCLUDED_ */
