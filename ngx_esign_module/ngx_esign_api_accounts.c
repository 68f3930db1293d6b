/*
 * Institution administration (R-REG-4, R-ACC-1..3, R-AUD-1): ordinary
 * accounts (list, read, create, edit, disable, unlock) and the audit log.
 */


#include "ngx_esign.h"
#include "ngx_esign_auth.h"
#include "ngx_esign_audit.h"
#include "ngx_esign_notify.h"
#include "ngx_esign_db.h"
#include "ngx_esign_pki.h"
#include "ngx_esign_api_identity.h"

#include "esc_rand.h"
#include "esc_validate.h"


ngx_int_t ngx_esign_list_args(ngx_http_request_t *r, ngx_uint_t *limit,
    ngx_str_t *cursor);

static ngx_int_t ngx_esign_api_accounts_list(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_account_read(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_account_create(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_account_update(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_audit(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static void ngx_esign_account_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_esign_account_done(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);


ngx_esign_route_t  ngx_esign_account_routes[] = {
    { NGX_HTTP_GET, "/accounts", NGX_ESIGN_AUTH,
      ngx_esign_api_accounts_list },
    { NGX_HTTP_POST, "/accounts", NGX_ESIGN_AUTH|NGX_ESIGN_BODY_JSON,
      ngx_esign_api_account_create },
    { NGX_HTTP_GET, "/accounts/{}", NGX_ESIGN_AUTH,
      ngx_esign_api_account_read },
    { NGX_HTTP_PATCH, "/accounts/{}", NGX_ESIGN_AUTH|NGX_ESIGN_BODY_JSON,
      ngx_esign_api_account_update },
    { NGX_HTTP_GET, "/audit", NGX_ESIGN_AUTH, ngx_esign_api_audit },
    { 0, NULL, 0, NULL }
};


typedef struct {
    MDB_env                   *env;
    MDB_dbi                   *dbis;
    const esc_kek_ring_t      *ring;
    esc_scrypt_params_t        params;
    uint64_t                   now;
    char                      *client_ip;
    char                      *inst_id;
    char                      *actor_id;
    char                       account_id[ESC_RAND_ID_LEN + 1];
    ngx_uint_t                 create;

    ngx_esign_person_t         person;
    char                      *department;
    ngx_uint_t                 set_department;
    ngx_uint_t                 tier;
    ngx_uint_t                 set_tier;
    ngx_uint_t                 perms;
    ngx_uint_t                 set_perms;
    ngx_int_t                  disabled;       /* -1 unchanged */
    ngx_uint_t                 unlock;

    int                        rc;             /* 0, 403, 404, 409, -1 */
    json_t                    *account;
} ngx_esign_account_task_t;


/* The API document of an account: masked personal fields only. */
static json_t *
ngx_esign_account_api_doc(json_t *acct, uint64_t now)
{
    json_t      *doc, *v;
    ngx_uint_t   i;
    json_int_t   locked;

    static const char  *copy[] = { "id", "username", "institution_id",
        "role", "tier", "department", "permissions", "disabled",
        "created_at", "id_type", NULL };

    static const char  *masked[][2] = {
        { "real_name_masked", "real_name" },
        { "mobile_masked", "mobile" },
        { "email_masked", "email" },
        { "id_number_masked", "id_number" },
        { NULL, NULL }
    };

    doc = json_object();
    if (doc == NULL) {
        return NULL;
    }

    for (i = 0; copy[i] != NULL; i++) {
        v = json_object_get(acct, copy[i]);
        json_object_set(doc, copy[i], v ? v : json_null());
    }

    for (i = 0; masked[i][0] != NULL; i++) {
        v = json_object_get(acct, masked[i][0]);
        if (v != NULL) {
            json_object_set(doc, masked[i][1], v);
        }
    }

    locked = json_integer_value(json_object_get(acct, "locked_until"));
    json_object_set_new(doc, "locked", json_boolean((uint64_t) locked > now));
    json_object_set_new(doc, "totp_enabled",
                        json_boolean(json_object_get(acct, "totp_secret_enc")
                                     != NULL));

    return doc;
}


static ngx_int_t
ngx_esign_api_accounts_list(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int           rc;
    u_char        prefix[NGX_ESIGN_REC_ID_MAX + 2], *p;
    json_t       *items, *rec, *doc, *next;
    MDB_val       k, v;
    MDB_txn      *txn;
    uint64_t      now;
    ngx_str_t     cursor;
    MDB_cursor   *cur;
    ngx_int_t     res;
    ngx_uint_t    limit, n;
    size_t        plen;

    if (ngx_esign_authorize(r, ctx, ESC_ACT_ACCOUNTS_LIST, NULL, NULL)
        != NGX_OK)
    {
        return ctx->auth_rc;
    }

    if (ngx_esign_list_args(r, &limit, &cursor) != NGX_OK) {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "limit is 1-500; cursor as returned");
    }

    p = ngx_snprintf(prefix, sizeof(prefix) - 1, "%V/",
                     &ctx->actor->institution_id);
    plen = p - prefix;

    items = json_array();
    if (items == NULL || ngx_esign_json_pool(r->pool, items) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    txn = ngx_esign_store_read(r);
    if (txn == NULL) {
        return ngx_esign_session_unavailable(r);
    }

    if (mdb_cursor_open(txn, ngx_esign_store_dbi(r, ESIGN_DB_ACCOUNTS), &cur)
        != 0)
    {
        mdb_txn_abort(txn);
        return ngx_esign_session_unavailable(r);
    }

    /* the cursor is an account ID; keys stay inside our prefix */

    if (cursor.len > 0 && cursor.len < 64) {
        u_char  *start = ngx_pnalloc(r->pool, plen + cursor.len);

        if (start == NULL) {
            mdb_cursor_close(cur);
            mdb_txn_abort(txn);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(start, prefix, plen);
        ngx_memcpy(start + plen, cursor.data, cursor.len);
        k.mv_data = start;
        k.mv_size = plen + cursor.len;

    } else {
        k.mv_data = prefix;
        k.mv_size = plen;
    }

    now = ngx_esign_wall_ms();
    next = NULL;
    n = 0;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0 && k.mv_size > plen
         && ngx_memcmp(k.mv_data, prefix, plen) == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (n == limit) {
            next = json_stringn((char *) k.mv_data + plen, k.mv_size - plen);
            break;
        }

        rec = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        if (rec == NULL) {
            continue;
        }

        doc = ngx_esign_account_api_doc(rec, now);
        json_decref(rec);

        if (doc != NULL) {
            json_array_append_new(items, doc);
            n++;
        }
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    doc = json_pack("{s:O,s:o}", "items", items,
                    "next_cursor", next ? next : json_null());
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    res = ngx_esign_send_json(r, NGX_HTTP_OK, doc);
    json_decref(doc);

    return res;
}


static ngx_int_t
ngx_esign_api_account_read(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int           rc;
    u_char        key[2 * NGX_ESIGN_REC_ID_MAX + 2], *p;
    json_t       *rec, *doc;
    MDB_txn      *txn;
    ngx_int_t     res;
    esc_object_t  obj;

    ngx_memzero(&obj, sizeof(obj));
    obj.institution_id.len = ctx->actor->institution_id.len;
    obj.institution_id.data = ctx->actor->institution_id.data;

    if (ngx_esign_authorize(r, ctx, ESC_ACT_ACCOUNT_READ, &obj, NULL)
        != NGX_OK)
    {
        return ctx->auth_rc;
    }

    /* only keys under the caller's institution: others' are not found */

    p = ngx_snprintf(key, sizeof(key), "%V/%V", &ctx->actor->institution_id,
                     &ctx->params[0]);

    txn = ngx_esign_store_read(r);
    if (txn == NULL) {
        return ngx_esign_session_unavailable(r);
    }

    rc = esign_db_get_json(txn, ngx_esign_store_dbi(r, ESIGN_DB_ACCOUNTS),
                           key, p - key, &rec);
    mdb_txn_abort(txn);

    if (rc != 0) {
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such account");
    }

    doc = ngx_esign_account_api_doc(rec, ngx_esign_wall_ms());
    json_decref(rec);

    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    res = ngx_esign_send_json(r, NGX_HTTP_OK, doc);
    json_decref(doc);

    return res;
}


static ngx_esign_account_task_t *
ngx_esign_account_task(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    ngx_esign_main_conf_t     *emcf;
    ngx_esign_account_task_t  *at;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    at = ngx_pcalloc(r->pool, sizeof(ngx_esign_account_task_t));
    if (at == NULL) {
        return NULL;
    }

    at->env = emcf->env;
    at->dbis = emcf->dbis;
    at->ring = ngx_esign_kek_ring(r);
    at->params.log2_n = emcf->scrypt_log2n;
    at->params.r = emcf->scrypt_r;
    at->params.p = emcf->scrypt_p;
    at->now = ngx_esign_wall_ms();
    at->client_ip = ngx_esign_client_ip(r);
    at->inst_id = ngx_esign_pstrdup(r->pool,
                                    (char *) ctx->actor->institution_id.data,
                                    ctx->actor->institution_id.len);
    at->actor_id = ngx_esign_pstrdup(r->pool,
                                     (char *) ctx->actor->account_id.data,
                                     ctx->actor->account_id.len);
    at->disabled = -1;

    if (at->ring == NULL || at->client_ip == NULL || at->inst_id == NULL
        || at->actor_id == NULL)
    {
        return NULL;
    }

    return at;
}


/* department, tier, permissions of a create or update body */
static ngx_int_t
ngx_esign_account_fields(ngx_http_request_t *r, json_t *body,
    ngx_esign_account_task_t *at, ngx_uint_t required)
{
    size_t       len;
    json_t      *v;
    const char  *s;

    v = json_object_get(body, "department");

    if (v != NULL || required) {
        s = ngx_esign_json_str(body, "department", 1, 512, &len);
        if (s == NULL || esc_department_validate((u_char *) s, len)
                         != ESC_OK)
        {
            return NGX_ERROR;
        }

        at->department = ngx_esign_pstrdup(r->pool, s, len);
        at->set_department = 1;
    }

    v = json_object_get(body, "tier");

    if (v != NULL || required) {
        if (ngx_esign_tier_parse(json_string_value(v), &at->tier) != NGX_OK) {
            return NGX_ERROR;
        }

        at->set_tier = 1;
    }

    v = json_object_get(body, "permissions");

    if (v != NULL || required) {
        if (ngx_esign_perms_parse(v, &at->perms) != NGX_OK) {
            return NGX_ERROR;
        }

        at->set_perms = 1;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_esign_api_account_create(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    const char                *code, *msg;
    ngx_esign_account_task_t  *at;

    if (ngx_esign_authorize(r, ctx, ESC_ACT_ACCOUNT_CREATE, NULL, NULL)
        != NGX_OK)
    {
        return ctx->auth_rc;
    }

    at = ngx_esign_account_task(r, ctx);
    if (at == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    code = NULL;

    if (ngx_esign_person_parse(r, ctx->json, &at->person, 0, &code, &msg)
        != NGX_OK)
    {
        if (code == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST, code, msg);
    }

    if (ngx_esign_account_fields(r, ctx->json, at, 1) != NGX_OK) {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "department (1-64 characters), tier "
                                    "(top_admin, business_admin, "
                                    "business_operator) and permissions "
                                    "(subset of initiate, view, confirm, "
                                    "download, evidence) are required");
    }

    if (esc_rand_id(at->account_id) != ESC_CRYPTO_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    at->create = 1;

    if (ngx_esign_task_post(r, ctx, ngx_esign_account_run, at,
                            ngx_esign_account_done)
        != NGX_OK)
    {
        return ngx_esign_session_unavailable(r);
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_esign_api_account_update(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    json_t                    *v;
    esc_object_t               obj;
    ngx_esign_account_task_t  *at;

    ngx_memzero(&obj, sizeof(obj));
    obj.institution_id.len = ctx->actor->institution_id.len;
    obj.institution_id.data = ctx->actor->institution_id.data;

    if (ngx_esign_authorize(r, ctx, ESC_ACT_ACCOUNT_UPDATE, &obj, NULL)
        != NGX_OK)
    {
        return ctx->auth_rc;
    }

    if (!esc_rand_id_valid((char *) ctx->params[0].data, ctx->params[0].len))
    {
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such account");
    }

    at = ngx_esign_account_task(r, ctx);
    if (at == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(at->account_id, ctx->params[0].data, ESC_RAND_ID_LEN);

    if (ngx_esign_account_fields(r, ctx->json, at, 0) != NGX_OK) {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "invalid department, tier or "
                                    "permissions");
    }

    v = json_object_get(ctx->json, "disabled");
    if (v != NULL) {
        if (!json_is_boolean(v)) {
            return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_request",
                                        "disabled must be a boolean");
        }

        at->disabled = json_is_true(v);
    }

    v = json_object_get(ctx->json, "unlock");
    if (v != NULL) {
        if (!json_is_boolean(v)) {
            return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_request",
                                        "unlock must be a boolean");
        }

        at->unlock = json_is_true(v);
    }

    if (!at->set_department && !at->set_tier && !at->set_perms
        && at->disabled == -1 && !at->unlock)
    {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "nothing to change: department, tier, "
                                    "permissions, disabled or unlock");
    }

    if (ngx_esign_task_post(r, ctx, ngx_esign_account_run, at,
                            ngx_esign_account_done)
        != NGX_OK)
    {
        return ngx_esign_session_unavailable(r);
    }

    return NGX_DONE;
}


static void
ngx_esign_account_run(void *data, ngx_log_t *log)
{
    ngx_esign_account_task_t  *at = data;

    int                  rc;
    char                 key[2 * NGX_ESIGN_REC_ID_MAX + 2], detail[128];
    json_t              *acct;
    MDB_val              k, v;
    MDB_txn             *txn;
    const char          *role;
    esign_field_keys_t   keys;

    at->rc = -1;
    acct = NULL;

    if (mdb_txn_begin(at->env, NULL, 0, &txn) != 0) {
        return;
    }

    snprintf(key, sizeof(key), "%s/%s", at->inst_id, at->account_id);
    detail[0] = '\0';

    if (at->create) {
        if (esign_pki_field_keys(txn, at->dbis, at->ring, 1, &keys) != 0) {
            goto failed;
        }

        acct = ngx_esign_person_record(&at->person, &keys, &at->params,
                                       at->inst_id, at->account_id, at->now);
        ngx_explicit_memzero(&keys, sizeof(keys));

        if (acct == NULL) {
            goto failed;
        }

        json_object_set_new(acct, "role", json_string("account"));
        json_object_set_new(acct, "created_by", json_string(at->actor_id));

        k.mv_data = at->person.username;
        k.mv_size = ngx_strlen(at->person.username);
        v.mv_data = key;
        v.mv_size = ngx_strlen(key);

        rc = mdb_put(txn, at->dbis[ESIGN_DB_USERNAMES], &k, &v,
                     MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST) {
            at->rc = 409;
            goto failed;
        }

        if (rc != 0) {
            goto failed;
        }

    } else {
        rc = esign_db_get_json(txn, at->dbis[ESIGN_DB_ACCOUNTS], key,
                               ngx_strlen(key), &acct);
        if (rc != 0) {
            at->rc = (rc == MDB_NOTFOUND) ? 404 : -1;
            acct = NULL;
            goto failed;
        }

        /* the administrator is fixed at registration (R-REG-4) */

        role = json_string_value(json_object_get(acct, "role"));
        if (role == NULL || ngx_strcmp(role, "account") != 0) {
            at->rc = 403;
            goto failed;
        }
    }

    if (at->set_department) {
        json_object_set_new(acct, "department", json_string(at->department));
        ngx_cpystrn((u_char *) detail + ngx_strlen(detail),
                    (u_char *) "department ", 12);
    }

    if (at->set_tier) {
        json_object_set_new(acct, "tier",
                            json_string(ngx_esign_tier_name(at->tier)));
        ngx_cpystrn((u_char *) detail + ngx_strlen(detail),
                    (u_char *) "tier ", 6);
    }

    if (at->set_perms) {
        json_object_set_new(acct, "permissions",
                            ngx_esign_perms_json(at->perms));
        ngx_cpystrn((u_char *) detail + ngx_strlen(detail),
                    (u_char *) "permissions ", 13);
    }

    if (at->disabled != -1) {
        json_object_set_new(acct, "disabled",
                            json_boolean(at->disabled == 1));
        ngx_cpystrn((u_char *) detail + ngx_strlen(detail),
                    (u_char *) (at->disabled ? "disabled " : "enabled "),
                    10);
    }

    if (at->unlock) {
        json_object_set_new(acct, "locked_until", json_integer(0));
        json_object_set_new(acct, "failed_logins", json_integer(0));
        ngx_cpystrn((u_char *) detail + ngx_strlen(detail),
                    (u_char *) "unlocked ", 10);
    }

    if (esign_db_put_json(txn, at->dbis[ESIGN_DB_ACCOUNTS], key,
                          ngx_strlen(key), acct, 0)
        != 0
        || esign_audit_append(txn, at->dbis, at->inst_id, at->actor_id,
                              at->create ? "account_create"
                                         : "account_update",
                              at->account_id, detail, at->client_ip, at->now)
           != 0
        /* R-NOTE-4: the new account finds a welcome in its messages */
        || (at->create
            && esign_message_add_account(txn, at->dbis, at->inst_id,
                   at->account_id, "account_created", "Welcome to esign",
                   "Your account was created by your institution's "
                   "administrator. Contracts you may see are listed under "
                   "Contracts.", at->now)
               != 0))
    {
        goto failed;
    }

    if (mdb_txn_commit(txn) == 0) {
        at->rc = 0;
        at->account = acct;
        acct = NULL;
    }

    txn = NULL;

failed:

    if (txn != NULL) {
        mdb_txn_abort(txn);
    }

    if (acct != NULL) {
        json_decref(acct);
    }
}


static ngx_int_t
ngx_esign_account_done(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    ngx_esign_account_task_t  *at = ctx->task_data;

    json_t     *doc;
    ngx_str_t   id;
    ngx_int_t   rc;

    if (at->account != NULL) {
        ngx_esign_json_pool(r->pool, at->account);
    }

    switch (at->rc) {
    case 0:
        break;
    case 403:
        return ngx_esign_send_error(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                    "the administrator account cannot be "
                                    "changed");
    case 404:
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such account");
    case 409:
        return ngx_esign_send_error(r, NGX_HTTP_CONFLICT, "conflict",
                                    "the username is taken");
    default:
        return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    "the account could not be stored");
    }

    if (at->disabled == 1) {
        /* a disabled account's sessions end now */
        id.data = (u_char *) at->account_id;
        id.len = ESC_RAND_ID_LEN;
        ngx_esign_session_kill_account(r, &id);
    }

    doc = ngx_esign_account_api_doc(at->account, at->now);
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_esign_send_json(r, at->create ? NGX_HTTP_CREATED : NGX_HTTP_OK,
                             doc);
    json_decref(doc);

    return rc;
}


/*
 * GET /audit?from&to&account&action&limit&cursor: the institution's
 * records, oldest first; from/to are RFC 3339 strings compared with "at".
 * Records hold IDs, actions and addresses, never personal data.
 */
static ngx_int_t
ngx_esign_api_audit(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int           rc;
    u_char        prefix[NGX_ESIGN_REC_ID_MAX + 2], *p;
    json_t       *items, *rec, *doc, *next;
    MDB_val       k, v;
    MDB_txn      *txn;
    ngx_str_t     cursor, from, to, account, action;
    MDB_cursor   *cur;
    ngx_int_t     res;
    ngx_uint_t    limit, n;
    size_t        plen;
    const char   *s;

    if (ngx_esign_authorize(r, ctx, ESC_ACT_AUDIT_READ, NULL, NULL)
        != NGX_OK)
    {
        return ctx->auth_rc;
    }

    if (ngx_esign_list_args(r, &limit, &cursor) != NGX_OK) {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "limit is 1-500; cursor as returned");
    }

    ngx_str_null(&from);
    ngx_str_null(&to);
    ngx_str_null(&account);
    ngx_str_null(&action);
    (void) ngx_http_arg(r, (u_char *) "from", 4, &from);
    (void) ngx_http_arg(r, (u_char *) "to", 2, &to);
    (void) ngx_http_arg(r, (u_char *) "account", 7, &account);
    (void) ngx_http_arg(r, (u_char *) "action", 6, &action);

    if (from.len > 40 || to.len > 40 || account.len > 64 || action.len > 64)
    {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request", "filter too long");
    }

    p = ngx_snprintf(prefix, sizeof(prefix) - 1, "%V/",
                     &ctx->actor->institution_id);
    plen = p - prefix;

    items = json_array();
    if (items == NULL || ngx_esign_json_pool(r->pool, items) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    txn = ngx_esign_store_read(r);
    if (txn == NULL) {
        return ngx_esign_session_unavailable(r);
    }

    if (mdb_cursor_open(txn, ngx_esign_store_dbi(r, ESIGN_DB_AUDIT), &cur)
        != 0)
    {
        mdb_txn_abort(txn);
        return ngx_esign_session_unavailable(r);
    }

    if (cursor.len > 0) {
        u_char  *start = ngx_pnalloc(r->pool, plen + cursor.len);

        if (start == NULL) {
            mdb_cursor_close(cur);
            mdb_txn_abort(txn);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(start, prefix, plen);
        ngx_memcpy(start + plen, cursor.data, cursor.len);
        k.mv_data = start;
        k.mv_size = plen + cursor.len;

    } else {
        k.mv_data = prefix;
        k.mv_size = plen;
    }

    next = NULL;
    n = 0;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0 && k.mv_size > plen
         && ngx_memcmp(k.mv_data, prefix, plen) == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (n == limit) {
            next = json_stringn((char *) k.mv_data + plen, k.mv_size - plen);
            break;
        }

        rec = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        if (rec == NULL) {
            continue;
        }

#define ngx_esign_audit_skip(field, arg, cmp)                                \
        (arg.len > 0                                                         \
         && ((s = json_string_value(json_object_get(rec, field))) == NULL    \
             || cmp))

        if (ngx_esign_audit_skip("at", from,
                                 ngx_strncmp(s, from.data, from.len) < 0)
            || ngx_esign_audit_skip("at", to,
                                    ngx_strncmp(s, to.data, to.len) > 0)
            || ngx_esign_audit_skip("account_id", account,
                                    ngx_strlen(s) != account.len
                                    || ngx_strncmp(s, account.data,
                                                   account.len) != 0)
            || ngx_esign_audit_skip("action", action,
                                    ngx_strlen(s) != action.len
                                    || ngx_strncmp(s, action.data,
                                                   action.len) != 0))
        {
            json_decref(rec);
            continue;
        }

        json_array_append_new(items, rec);
        n++;
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    doc = json_pack("{s:O,s:o}", "items", items,
                    "next_cursor", next ? next : json_null());
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    res = ngx_esign_send_json(r, NGX_HTTP_OK, doc);
    json_decref(doc);

    return res;
}
