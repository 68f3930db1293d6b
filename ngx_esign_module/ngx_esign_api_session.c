/*
 * POST /session (login), GET /session, DELETE /session (logout).
 * Passwords are checked with scrypt in the thread pool; an unknown user
 * costs the same work and gets the same answer as a wrong password.
 */


#include "ngx_esign.h"
#include "ngx_esign_session.h"
#include "ngx_esign_auth.h"
#include "ngx_esign_audit.h"
#include "ngx_esign_db.h"
#include "ngx_esign_pki.h"
#include "ngx_esign_ratelimit.h"
#include "ngx_esign_verify.h"

#include "esc_pwhash.h"
#include "esc_password.h"
#include "esc_validate.h"


#define NGX_ESIGN_LOGIN_OK          0
#define NGX_ESIGN_LOGIN_BAD         1     /* unknown user or wrong pw */
#define NGX_ESIGN_LOGIN_LOCKED      2
#define NGX_ESIGN_LOGIN_DISABLED    3
#define NGX_ESIGN_LOGIN_INACTIVE    4     /* institution not active */
#define NGX_ESIGN_LOGIN_LIMITED     5
#define NGX_ESIGN_LOGIN_UNAVAIL     6
#define NGX_ESIGN_LOGIN_ERROR       7


typedef struct {
    /* input, prepared on the event loop */
    MDB_env                   *env;
    MDB_dbi                   *dbis;
    char                       username[ESC_USERNAME_MAX + 1];
    u_char                     password[ESC_PASSWORD_MAX_BYTES];
    size_t                     password_len;
    char                       key[2 * NGX_ESIGN_REC_ID_MAX + 2];
    ngx_uint_t                 operator;        /* key in OPERATORS */
    ngx_uint_t                 found;
    char                      *client_ip;
    uint64_t                   now;
    ngx_uint_t                 lock_failures;
    uint64_t                   lock_time;
    uint64_t                   idle;
    ngx_uint_t                 redis_mode;
    ngx_esign_redis_conf_t     redis;
    ngx_esign_rate_key_t       rate[2];
    esc_scrypt_params_t        params;

    /* output */
    int                        result;
    uint64_t                   retry_ms;
    json_t                    *account;         /* record (thread-made) */
    ngx_esign_session_rec_t    rec;
    u_char                     sid[NGX_ESIGN_SID_LEN + 1];
    u_char                     old_hash[32];
    ngx_uint_t                 has_old;
} ngx_esign_login_t;


static ngx_int_t ngx_esign_api_login(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static void ngx_esign_login_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_esign_login_done(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_session_get(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_logout(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static void ngx_esign_logout_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_esign_logout_done(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);


ngx_esign_route_t  ngx_esign_session_routes[] = {
    { NGX_HTTP_POST, "/session", NGX_ESIGN_BODY_JSON, ngx_esign_api_login },
    { NGX_HTTP_GET, "/session", NGX_ESIGN_AUTH, ngx_esign_api_session_get },
    { NGX_HTTP_DELETE, "/session", NGX_ESIGN_AUTH, ngx_esign_api_logout },
    { NGX_HTTP_POST, "/session/verify", NGX_ESIGN_BODY_JSON|NGX_ESIGN_AUTH,
      ngx_esign_api_verify },
    { NGX_HTTP_POST, "/session/totp", NGX_ESIGN_AUTH,
      ngx_esign_api_totp_enrol },
    { NGX_HTTP_POST, "/session/totp/confirm",
      NGX_ESIGN_BODY_JSON|NGX_ESIGN_AUTH, ngx_esign_api_totp_confirm },
    { 0, NULL, 0, NULL }
};


/* The account document of the API, built from a stored record. */
json_t *
ngx_esign_account_doc(json_t *acct, ngx_uint_t operator)
{
    json_t      *doc, *perms;
    const char  *role;

    role = json_string_value(json_object_get(acct, "role"));

    doc = json_object();
    if (doc == NULL) {
        return NULL;
    }

    json_object_set(doc, "id", json_object_get(acct, "id"));
    json_object_set(doc, "username", json_object_get(acct, "username"));

    if (operator) {
        json_object_set_new(doc, "institution_id", json_null());
        json_object_set_new(doc, "role", json_string("operator"));
        json_object_set_new(doc, "tier", json_null());
        json_object_set_new(doc, "department", json_null());
        json_object_set_new(doc, "permissions", json_array());
        return doc;
    }

    json_object_set(doc, "institution_id",
                    json_object_get(acct, "institution_id"));
    json_object_set_new(doc, "role", json_string(role ? role : "account"));

    if (role != NULL && ngx_strcmp(role, "institution_admin") == 0) {
        json_object_set_new(doc, "tier", json_string("top_admin"));
        perms = ngx_esign_perms_json(0x1f);

    } else {
        json_object_set(doc, "tier", json_object_get(acct, "tier"));
        perms = json_deep_copy(json_object_get(acct, "permissions"));
    }

    json_object_set_new(doc, "permissions", perms ? perms : json_array());
    json_object_set(doc, "department", json_object_get(acct, "department"));

    if (json_object_get(doc, "department") == NULL) {
        json_object_set_new(doc, "department", json_null());
    }

    return doc;
}


static ngx_int_t
ngx_esign_api_login(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int                     rc;
    size_t                  ulen, plen, i;
    MDB_val                 k, v;
    MDB_txn                *txn;
    uint64_t                retry;
    const char             *user, *pw;
    ngx_esign_login_t      *lg;
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    user = ngx_esign_json_str(ctx->json, "username", 1, 64, &ulen);
    pw = ngx_esign_json_str(ctx->json, "password", 1, 1024, &plen);

    if (user == NULL || pw == NULL) {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "username and password are required");
    }

    lg = ngx_pcalloc(r->pool, sizeof(ngx_esign_login_t));
    if (lg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lg->env = emcf->env;
    lg->dbis = emcf->dbis;
    lg->client_ip = ngx_esign_client_ip(r);
    lg->now = ngx_esign_wall_ms();
    lg->lock_failures = emcf->lockout_failures;
    lg->lock_time = emcf->lockout_time;
    lg->idle = emcf->idle_timeout;
    lg->redis_mode = (emcf->redis != NULL);
    lg->params.log2_n = emcf->scrypt_log2n;
    lg->params.r = emcf->scrypt_r;
    lg->params.p = emcf->scrypt_p;

    if (lg->client_ip == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* an over-long password or name is simply wrong, same answer */

    if (ulen <= ESC_USERNAME_MAX) {
        for (i = 0; i < ulen; i++) {
            lg->username[i] = ngx_tolower(user[i]);
        }
    }

    if (plen <= ESC_PASSWORD_MAX_BYTES) {
        ngx_memcpy(lg->password, pw, plen);
        lg->password_len = plen;
    }

    ngx_esign_rate_key(r, NGX_ESIGN_RATE_LOGIN, "ip", lg->client_ip,
                       ngx_strlen(lg->client_ip), &lg->rate[0]);
    ngx_esign_rate_key(r, NGX_ESIGN_RATE_LOGIN, "a", lg->username,
                       ngx_strlen(lg->username), &lg->rate[1]);

    if (!lg->redis_mode) {
        for (i = 0; i < 2; i++) {
            if (ngx_esign_rate_check_shm(r, &lg->rate[i], &retry)
                == NGX_BUSY)
            {
                return ngx_esign_send_rate_limited(r, retry, NULL, NULL);
            }
        }
    }

    if (lg->username[0] != '\0' && lg->password_len > 0) {
        txn = ngx_esign_store_read(r);
        if (txn == NULL) {
            return ngx_esign_session_unavailable(r);
        }

        k.mv_data = lg->username;
        k.mv_size = ngx_strlen(lg->username);

        rc = mdb_get(txn, ngx_esign_store_dbi(r, ESIGN_DB_USERNAMES), &k, &v);

        if (rc == 0 && v.mv_size < sizeof(lg->key)) {
            if (v.mv_size > 9
                && ngx_strncmp(v.mv_data, "operator/", 9) == 0)
            {
                lg->operator = 1;
                ngx_memcpy(lg->key, (u_char *) v.mv_data + 9,
                           v.mv_size - 9);

            } else {
                ngx_memcpy(lg->key, v.mv_data, v.mv_size);
            }

            lg->found = 1;
        }

        mdb_txn_abort(txn);
    }

    /* a new session ID at every login (rotation) */

    lg->rec.role = lg->operator ? NGX_ESIGN_ROLE_OPERATOR
                                : NGX_ESIGN_ROLE_ACCOUNT;

    if (ngx_esign_session_new(r, &lg->rec, lg->sid) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_esign_session_cookie_hash(r, lg->old_hash) == NGX_OK) {
        lg->has_old = 1;
    }

    if (lg->redis_mode) {
        ngx_esign_session_redis_conf(r, &lg->redis);
    }

    if (ngx_esign_task_post(r, ctx, ngx_esign_login_run, lg,
                            ngx_esign_login_done)
        != NGX_OK)
    {
        return ngx_esign_session_unavailable(r);
    }

    return NGX_DONE;
}


/* In a pool thread: buckets (Redis), scrypt, counters, audit, session. */
static void
ngx_esign_login_run(void *data, ngx_log_t *log)
{
    ngx_esign_login_t  *lg = data;

    int           rc, ok, i;
    char          aid[NGX_ESIGN_REC_ID_MAX + 1];
    json_t       *acct, *inst;
    MDB_txn      *txn;
    uint64_t      locked;
    json_int_t    fails;
    const char   *hash, *status, *inst_id, *id;

    lg->result = NGX_ESIGN_LOGIN_ERROR;

    if (lg->redis_mode) {
        for (i = 0; i < 2; i++) {
            rc = ngx_esign_rate_check_redis(&lg->redis, &lg->rate[i],
                                            lg->now, &lg->retry_ms);
            if (rc == NGX_BUSY) {
                lg->result = NGX_ESIGN_LOGIN_LIMITED;
                return;
            }

            if (rc != NGX_OK) {
                lg->result = NGX_ESIGN_LOGIN_UNAVAIL;
                return;
            }
        }
    }

    rc = mdb_txn_begin(lg->env, NULL, 0, &txn);
    if (rc == MDB_MAP_RESIZED) {
        (void) mdb_env_set_mapsize(lg->env, 0);
        rc = mdb_txn_begin(lg->env, NULL, 0, &txn);
    }

    if (rc != 0) {
        return;
    }

    acct = NULL;
    inst = NULL;

    if (lg->found) {
        rc = esign_db_get_json(txn,
                 lg->dbis[lg->operator ? ESIGN_DB_OPERATORS
                                       : ESIGN_DB_ACCOUNTS],
                 lg->key, ngx_strlen(lg->key), &acct);
        if (rc != 0) {
            acct = NULL;
        }
    }

    /*
     * The write lock is held during scrypt only for known accounts, whose
     * counters change; it keeps the counter update race-free.
     */

    hash = acct ? json_string_value(json_object_get(acct, "password_hash"))
                : NULL;

    locked = acct ? (uint64_t) json_integer_value(
                                   json_object_get(acct, "locked_until"))
                  : 0;

    if (acct != NULL && locked > lg->now) {
        lg->retry_ms = locked - lg->now;
        lg->result = NGX_ESIGN_LOGIN_LOCKED;
        json_decref(acct);
        mdb_txn_abort(txn);
        return;
    }

    if (hash != NULL && lg->password_len > 0) {
        ok = (esc_pwhash_verify(lg->password, lg->password_len, hash,
                                ngx_strlen(hash))
              == ESC_OK);

    } else {
        (void) esc_pwhash_dummy(lg->password, lg->password_len, &lg->params);
        ok = 0;
    }

    ngx_explicit_memzero(lg->password, sizeof(lg->password));

    inst_id = acct ? json_string_value(json_object_get(acct,
                                                       "institution_id"))
                   : NULL;
    id = acct ? json_string_value(json_object_get(acct, "id")) : NULL;

    if (acct == NULL || !ok) {
        lg->result = NGX_ESIGN_LOGIN_BAD;

        if (acct == NULL) {
            json_decref(acct);
            mdb_txn_abort(txn);
            return;
        }

        fails = json_integer_value(json_object_get(acct, "failed_logins"))
                + 1;

        json_object_set_new(acct, "failed_logins", json_integer(fails));

        if ((ngx_uint_t) fails >= lg->lock_failures) {
            json_object_set_new(acct, "locked_until",
                                json_integer(lg->now + lg->lock_time));
            json_object_set_new(acct, "failed_logins", json_integer(0));
        }

        rc = esign_db_put_json(txn,
                 lg->dbis[lg->operator ? ESIGN_DB_OPERATORS
                                       : ESIGN_DB_ACCOUNTS],
                 lg->key, ngx_strlen(lg->key), acct, 0);

        if (rc == 0) {
            rc = esign_audit_append(txn, lg->dbis,
                     inst_id ? inst_id : ESIGN_AUDIT_PLATFORM, id,
                     (ngx_uint_t) fails >= lg->lock_failures
                         ? "login_failed_locked" : "login_failed",
                     id, NULL, lg->client_ip, lg->now);
        }

        if (rc == 0) {
            (void) mdb_txn_commit(txn);

        } else {
            mdb_txn_abort(txn);
        }

        json_decref(acct);
        return;
    }

    /* the password is right: now the account's state may be told */

    if (json_is_true(json_object_get(acct, "disabled"))) {
        lg->result = NGX_ESIGN_LOGIN_DISABLED;

    } else if (!lg->operator) {
        lg->result = NGX_ESIGN_LOGIN_INACTIVE;

        if (inst_id != NULL
            && esign_db_get_json(txn, lg->dbis[ESIGN_DB_INSTITUTIONS],
                                 inst_id, ngx_strlen(inst_id), &inst)
               == 0)
        {
            status = json_string_value(json_object_get(inst, "status"));

            if (status != NULL
                && (ngx_strcmp(status, "active") == 0
                    || ngx_strcmp(status, "deregistering") == 0))
            {
                lg->result = NGX_ESIGN_LOGIN_OK;
            }

            json_decref(inst);
        }

    } else {
        lg->result = NGX_ESIGN_LOGIN_OK;
    }

    json_object_set_new(acct, "failed_logins", json_integer(0));
    json_object_set_new(acct, "locked_until", json_integer(0));

    rc = esign_db_put_json(txn,
             lg->dbis[lg->operator ? ESIGN_DB_OPERATORS : ESIGN_DB_ACCOUNTS],
             lg->key, ngx_strlen(lg->key), acct, 0);

    if (rc == 0) {
        rc = esign_audit_append(txn, lg->dbis,
                 inst_id ? inst_id : ESIGN_AUDIT_PLATFORM, id,
                 lg->result == NGX_ESIGN_LOGIN_OK ? "login"
                                                  : "login_refused",
                 id,
                 lg->result == NGX_ESIGN_LOGIN_DISABLED ? "account_disabled"
                 : lg->result == NGX_ESIGN_LOGIN_INACTIVE
                   ? "institution_inactive" : NULL,
                 lg->client_ip, lg->now);
    }

    if (rc != 0 || mdb_txn_commit(txn) != 0) {
        if (rc != 0) {
            mdb_txn_abort(txn);
        }

        json_decref(acct);
        lg->result = NGX_ESIGN_LOGIN_ERROR;
        return;
    }

    if (lg->result == NGX_ESIGN_LOGIN_OK) {
        ngx_memzero(aid, sizeof(aid));

        if (id == NULL || ngx_strlen(id) >= NGX_ESIGN_REC_ID_MAX
            || (inst_id != NULL
                && ngx_strlen(inst_id) >= NGX_ESIGN_REC_ID_MAX))
        {
            json_decref(acct);
            lg->result = NGX_ESIGN_LOGIN_ERROR;
            return;
        }

        ngx_cpystrn((u_char *) lg->rec.account_id, (u_char *) id,
                    NGX_ESIGN_REC_ID_MAX);

        if (inst_id != NULL) {
            ngx_cpystrn((u_char *) lg->rec.institution_id,
                        (u_char *) inst_id, NGX_ESIGN_REC_ID_MAX);
        }

        if (lg->redis_mode) {
            if (ngx_esign_redis_put(&lg->redis, &lg->rec, lg->idle)
                != NGX_ESIGN_SESS_OK)
            {
                lg->result = NGX_ESIGN_LOGIN_UNAVAIL;

            } else if (lg->has_old) {
                (void) ngx_esign_redis_delete(&lg->redis, lg->old_hash);
            }
        }
    }

    lg->account = acct;
}


static ngx_int_t
ngx_esign_login_done(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    ngx_esign_login_t  *lg = ctx->task_data;

    char                    at[32];
    u_char                  masked[16];
    json_t                 *doc, *acct;
    ngx_int_t               rc;
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    if (lg->account != NULL) {
        ngx_esign_json_pool(r->pool, lg->account);
    }

    switch (lg->result) {

    case NGX_ESIGN_LOGIN_OK:
        break;

    case NGX_ESIGN_LOGIN_BAD:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "esign: failed login for \"%s\"",
                      ngx_esign_mask_name(masked, sizeof(masked),
                                          lg->username));
        return ngx_esign_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                    "invalid_credentials",
                                    "the username or password is wrong");

    case NGX_ESIGN_LOGIN_LOCKED:
        return ngx_esign_send_rate_limited(r, lg->retry_ms, "account_locked",
                                           "the account is locked after too "
                                           "many failed logins");

    case NGX_ESIGN_LOGIN_LIMITED:
        return ngx_esign_send_rate_limited(r, lg->retry_ms, NULL, NULL);

    case NGX_ESIGN_LOGIN_DISABLED:
        return ngx_esign_send_error(r, NGX_HTTP_FORBIDDEN, "account_disabled",
                                    "the account is disabled");

    case NGX_ESIGN_LOGIN_INACTIVE:
        return ngx_esign_send_error(r, NGX_HTTP_FORBIDDEN,
                                    "institution_inactive",
                                    "the institution is not active");

    case NGX_ESIGN_LOGIN_UNAVAIL:
        return ngx_esign_session_unavailable(r);

    default:
        return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    "the login could not be completed");
    }

    if (!lg->redis_mode) {
        if (lg->has_old) {
            ngx_esign_session_delete_shm(r, lg->old_hash);
        }

        if (ngx_esign_session_store_shm(r, &lg->rec) != NGX_OK) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "esign: the session zone is full");
            return ngx_esign_session_unavailable(r);
        }
    }

    if (ngx_esign_session_set_cookie(r, lg->sid, 0) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    acct = ngx_esign_account_doc(lg->account, lg->operator);
    if (acct == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    esign_rfc3339(lg->rec.last_seen + emcf->idle_timeout, at);

    doc = json_pack("{s:o,s:s,s:s}", "account", acct,
                    "csrf_token", lg->rec.csrf, "idle_expires_at", at);
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_esign_send_json(r, NGX_HTTP_OK, doc);
    json_decref(doc);

    return rc;
}


static ngx_int_t
ngx_esign_api_session_get(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int                       rc;
    u_char                   *p, *body;
    char                      at[32], key[2 * NGX_ESIGN_REC_ID_MAX + 2];
    MDB_txn                  *txn;
    ngx_str_t                 doc;
    ngx_esign_main_conf_t    *emcf;
    ngx_esign_session_rec_t  *rec;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);
    rec = ctx->session;

    txn = ngx_esign_store_read(r);
    if (txn == NULL) {
        return ngx_esign_session_unavailable(r);
    }

    if (rec->role == NGX_ESIGN_ROLE_OPERATOR) {
        rc = ngx_esign_session_account_doc(r, txn, ESIGN_DB_OPERATORS,
                                           rec->account_id, 1, &doc);

    } else {
        ngx_snprintf((u_char *) key, sizeof(key), "%s/%s%Z",
                     rec->institution_id, rec->account_id);
        rc = ngx_esign_session_account_doc(r, txn, ESIGN_DB_ACCOUNTS, key, 0,
                                           &doc);
    }

    mdb_txn_abort(txn);

    if (rc == MDB_PANIC) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != 0) {
        return ngx_esign_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                    "session_expired",
                                    "the session has ended");
    }

    esign_rfc3339(rec->last_seen + emcf->idle_timeout, at);

    /* {"account":<doc>,"idle_expires_at":"<RFC 3339>"}: no parse, no dump */

    body = ngx_pnalloc(r->pool,
                       sizeof("{\"account\":,\"idle_expires_at\":\"\"}")
                       + doc.len + sizeof(at));
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(body, "{\"account\":%V,\"idle_expires_at\":\"%s\"}",
                    &doc, at);

    return ngx_esign_send_json_raw(r, NGX_HTTP_OK, body, p - body);
}


typedef struct {
    MDB_env                   *env;
    MDB_dbi                   *dbis;
    ngx_uint_t                 redis_mode;
    ngx_esign_redis_conf_t     redis;
    u_char                     hash[32];
    char                       inst[NGX_ESIGN_REC_ID_MAX];
    char                       account[NGX_ESIGN_REC_ID_MAX];
    char                      *client_ip;
    uint64_t                   now;
    int                        rc;
} ngx_esign_logout_t;


static ngx_int_t
ngx_esign_api_logout(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    ngx_esign_logout_t       *lo;
    ngx_esign_main_conf_t    *emcf;
    ngx_esign_session_rec_t  *rec;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);
    rec = ctx->session;

    lo = ngx_pcalloc(r->pool, sizeof(ngx_esign_logout_t));
    if (lo == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lo->env = emcf->env;
    lo->dbis = emcf->dbis;
    lo->redis_mode = (emcf->redis != NULL);
    ngx_memcpy(lo->hash, rec->hash, 32);
    ngx_cpystrn((u_char *) lo->inst,
                (u_char *) (rec->institution_id[0] ? rec->institution_id
                                                   : ESIGN_AUDIT_PLATFORM),
                sizeof(lo->inst));
    ngx_cpystrn((u_char *) lo->account, (u_char *) rec->account_id,
                sizeof(lo->account));
    lo->client_ip = ngx_esign_client_ip(r);
    lo->now = ngx_esign_wall_ms();

    if (lo->redis_mode) {
        ngx_esign_session_redis_conf(r, &lo->redis);

    } else {
        ngx_esign_session_delete_shm(r, rec->hash);
    }

    if (ngx_esign_task_post(r, ctx, ngx_esign_logout_run, lo,
                            ngx_esign_logout_done)
        != NGX_OK)
    {
        return ngx_esign_session_unavailable(r);
    }

    return NGX_DONE;
}


static void
ngx_esign_logout_run(void *data, ngx_log_t *log)
{
    ngx_esign_logout_t  *lo = data;

    int       rc;
    MDB_txn  *txn;

    lo->rc = 0;

    if (lo->redis_mode
        && ngx_esign_redis_delete(&lo->redis, lo->hash) != NGX_ESIGN_SESS_OK)
    {
        lo->rc = -1;
        return;
    }

    rc = mdb_txn_begin(lo->env, NULL, 0, &txn);
    if (rc != 0) {
        return;
    }

    if (esign_audit_append(txn, lo->dbis, lo->inst, lo->account, "logout",
                           lo->account, NULL, lo->client_ip, lo->now)
        == 0)
    {
        (void) mdb_txn_commit(txn);

    } else {
        mdb_txn_abort(txn);
    }
}


static ngx_int_t
ngx_esign_logout_done(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    ngx_esign_logout_t  *lo = ctx->task_data;

    if (lo->rc != 0) {
        return ngx_esign_session_unavailable(r);
    }

    if (ngx_esign_session_set_cookie(r, NULL, 1) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_esign_send_empty(r, NGX_HTTP_NO_CONTENT);
}
