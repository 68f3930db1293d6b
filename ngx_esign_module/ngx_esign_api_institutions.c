/*
 * POST /institutions (registration, R-REG-1) and GET /institution (own
 * institution).  Everything is validated on the event loop; the password
 * hash, the field encryption and the one write transaction run in the
 * thread pool.
 */


#include "ngx_esign.h"
#include "ngx_esign_auth.h"
#include "ngx_esign_audit.h"
#include "ngx_esign_db.h"
#include "ngx_esign_pki.h"
#include "ngx_esign_ratelimit.h"
#include "ngx_esign_api_identity.h"

#include "esc_codec.h"
#include "esc_docenc.h"
#include "esc_mask.h"
#include "esc_password.h"
#include "esc_pwhash.h"
#include "esc_rand.h"
#include "esc_validate.h"


#define NGX_ESIGN_LICENCE_MAX   (2 * 1024 * 1024)


static ngx_int_t ngx_esign_api_register(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static void ngx_esign_register_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_esign_register_done(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_institution_get(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);


ngx_esign_route_t  ngx_esign_institution_routes[] = {
    { NGX_HTTP_POST, "/institutions", NGX_ESIGN_BODY_JSON,
      ngx_esign_api_register },
    { NGX_HTTP_GET, "/institution", NGX_ESIGN_AUTH,
      ngx_esign_api_institution_get },
    { 0, NULL, 0, NULL }
};


typedef struct {
    MDB_env                   *env;
    MDB_dbi                   *dbis;
    const esc_kek_ring_t      *ring;
    esc_scrypt_params_t        params;
    uint64_t                   now;
    char                      *client_ip;

    char                       inst_id[ESC_RAND_ID_LEN + 1];
    char                       account_id[ESC_RAND_ID_LEN + 1];
    char                      *name;
    char                       uscc[ESC_USCC_LEN + 1];
    char                      *filename;
    char                      *media_type;
    u_char                    *licence;
    size_t                     licence_len;

    ngx_esign_person_t         person;
    int                        rc;          /* 0, 409, -1 */
} ngx_esign_register_t;


/* the parsed, validated personal fields of an account */
ngx_int_t
ngx_esign_person_parse(ngx_http_request_t *r, json_t *obj,
    ngx_esign_person_t *p, ngx_uint_t need_id, const char **code,
    const char **msg)
{
    size_t           len, i;
    const char      *s;
    u_char           mob[ESC_MOBILE_LEN];
    esc_pw_reason_e  pw;
    esc_id_type_e    idt;

    s = ngx_esign_json_str(obj, "username", 1, 64, &len);
    if (s == NULL || esc_username_validate((u_char *) s, len) != ESC_OK) {
        *code = "invalid_request";
        *msg = "username: 3-32 of letters, digits, _ . -, starting with a "
               "letter";
        return NGX_ERROR;
    }

    p->username = ngx_esign_pstrdup(r->pool, s, len);
    if (p->username == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < len; i++) {
        p->username[i] = ngx_tolower(p->username[i]);
    }

    s = ngx_esign_json_str(obj, "password", 0, 4096, &len);
    if (s == NULL) {
        *code = "weak_password";
        *msg = "a password is required";
        return NGX_ERROR;
    }

    pw = esc_password_check((u_char *) s, len, (u_char *) p->username,
                            ngx_strlen(p->username), 0);
    if (pw != ESC_PW_OK) {
        *code = "weak_password";
        *msg = esc_password_reason_message(pw);
        p->weak_reason = esc_password_reason_code(pw);
        return NGX_ERROR;
    }

    p->password = (u_char *) ngx_esign_pstrdup(r->pool, s, len);
    p->password_len = len;

    s = ngx_esign_json_str(obj, "real_name", 1, 256, &len);
    if (s == NULL || esc_real_name_validate((u_char *) s, len) != ESC_OK) {
        *code = "invalid_request";
        *msg = "real_name is required (1-64 characters)";
        return NGX_ERROR;
    }

    p->real_name = ngx_esign_pstrdup(r->pool, s, len);

    s = ngx_esign_json_str(obj, "id_type", 1, 16, &len);

    if (s != NULL || need_id) {
        if (s == NULL || esc_id_type_parse(s, len, &idt) != ESC_OK) {
            *code = "invalid_request";
            *msg = "id_type must be resident, passport or other";
            return NGX_ERROR;
        }

        p->id_type = (char *) esc_id_type_name(idt);

        s = ngx_esign_json_str(obj, "id_number", 1, 64, &len);
        if (s == NULL) {
            *code = "invalid_id_number";
            *msg = "id_number is required";
            return NGX_ERROR;
        }

        p->id_number = ngx_esign_pstrdup(r->pool, s, len);
        if (p->id_number == NULL) {
            return NGX_ERROR;
        }

        if (idt == ESC_ID_RESIDENT && len == ESC_RESIDENT_ID_LEN
            && p->id_number[17] == 'x')
        {
            p->id_number[17] = 'X';
        }

        if (esc_id_number_validate(idt, (u_char *) p->id_number, len)
            != ESC_OK)
        {
            *code = "invalid_id_number";
            *msg = "the ID number is not valid for its type (check digit)";
            return NGX_ERROR;
        }
    }

    s = ngx_esign_json_str(obj, "mobile", 1, 32, &len);
    if (s == NULL || esc_mobile_normalize((u_char *) s, len, mob) != ESC_OK) {
        *code = "invalid_mobile";
        *msg = "mobile must be a mainland mobile number";
        return NGX_ERROR;
    }

    p->mobile = ngx_esign_pstrdup(r->pool, (char *) mob, ESC_MOBILE_LEN);

    s = ngx_esign_json_str(obj, "email", 1, ESC_EMAIL_MAX, &len);
    if (s == NULL || esc_email_validate((u_char *) s, len) != ESC_OK) {
        *code = "invalid_email";
        *msg = "email is not a valid address";
        return NGX_ERROR;
    }

    p->email = ngx_esign_pstrdup(r->pool, s, len);

    if (p->password == NULL || p->real_name == NULL || p->mobile == NULL
        || p->email == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_esign_mask_set(json_t *rec, const char *key,
    ssize_t (*mask)(const u_char *, size_t, u_char *, size_t),
    const char *value)
{
    u_char   buf[512];
    ssize_t  n;

    if (value == NULL || ngx_strlen(value) + ESC_MASK_EXTRA > sizeof(buf)) {
        return;
    }

    n = mask((const u_char *) value, ngx_strlen(value), buf, sizeof(buf));
    if (n >= 0) {
        json_object_set_new(rec, key, json_stringn((char *) buf, n));
    }
}


/*
 * Thread side: the account record of a person, personal fields
 * SM4-encrypted (bound to the record key) plus masked copies for display;
 * the password hashed with scrypt.  NULL on failure.
 */
json_t *
ngx_esign_person_record(ngx_esign_person_t *p, const esign_field_keys_t *keys,
    const esc_scrypt_params_t *params, const char *inst_id,
    const char *account_id, uint64_t now)
{
    char     aad[160], hash[ESC_PWHASH_SIZE], idx[65], at[32];
    json_t  *rec, *v;

    if (esc_pwhash_create(p->password, p->password_len, params, hash,
                          sizeof(hash))
        != ESC_OK)
    {
        return NULL;
    }

    ngx_explicit_memzero(p->password, p->password_len);

    esign_rfc3339(now, at);

    rec = json_pack("{s:s,s:s,s:s,s:s,s:b,s:i,s:i,s:s}",
                    "id", account_id, "username", p->username,
                    "institution_id", inst_id, "password_hash", hash,
                    "disabled", 0, "failed_logins", 0, "locked_until", 0,
                    "created_at", at);
    if (rec == NULL) {
        return NULL;
    }

    snprintf(aad, sizeof(aad), "account:%s/%s", inst_id, account_id);

#define ngx_esign_enc_field(name, val)                                       \
    if ((val) != NULL) {                                                     \
        v = esign_pki_field_encrypt(keys, aad, (val), ngx_strlen(val));      \
        if (v == NULL) {                                                     \
            json_decref(rec);                                                \
            return NULL;                                                     \
        }                                                                    \
        json_object_set_new(rec, name, v);                                   \
    }

    ngx_esign_enc_field("real_name_enc", p->real_name);
    ngx_esign_enc_field("mobile_enc", p->mobile);
    ngx_esign_enc_field("email_enc", p->email);
    ngx_esign_enc_field("id_number_enc", p->id_number);

    ngx_esign_mask_set(rec, "real_name_masked", esc_mask_name, p->real_name);
    ngx_esign_mask_set(rec, "mobile_masked", esc_mask_mobile, p->mobile);
    ngx_esign_mask_set(rec, "email_masked", esc_mask_email, p->email);

    if (p->id_number != NULL) {
        ngx_esign_mask_set(rec, "id_number_masked", esc_mask_id_number,
                           p->id_number);
        json_object_set_new(rec, "id_type", json_string(p->id_type));

        if (esign_pki_blind_index(keys, p->id_number,
                                  ngx_strlen(p->id_number), idx)
            != 0)
        {
            json_decref(rec);
            return NULL;
        }

        json_object_set_new(rec, "id_number_index", json_string(idx));
    }

    return rec;
}


static ngx_int_t
ngx_esign_licence_parse(ngx_http_request_t *r, json_t *lic,
    ngx_esign_register_t *rg)
{
    size_t       len, max, n, i;
    u_char      *bin;
    const char  *fn, *mt, *b64;

    if (!json_is_object(lic)) {
        return NGX_ERROR;
    }

    fn = ngx_esign_json_str(lic, "filename", 1, 255, &len);
    mt = ngx_esign_json_str(lic, "media_type", 1, 64, NULL);
    b64 = ngx_esign_json_str(lic, "content_b64", 4, 4 * NGX_ESIGN_LICENCE_MAX,
                             &n);

    if (fn == NULL || mt == NULL || b64 == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < len; i++) {
        if (fn[i] == '/' || fn[i] == '\\' || (u_char) fn[i] < 0x20) {
            return NGX_ERROR;
        }
    }

    if (ngx_strcmp(mt, "application/pdf") != 0
        && ngx_strcmp(mt, "image/png") != 0
        && ngx_strcmp(mt, "image/jpeg") != 0)
    {
        return NGX_ERROR;
    }

    max = esc_b64_decoded_max(n);
    bin = ngx_pnalloc(r->pool, max + 1);
    if (bin == NULL) {
        return NGX_ERROR;
    }

    if (esc_b64_decode(bin, max + 1, &len, b64, n, ESC_B64_STD)
        != ESC_CRYPTO_OK
        || len == 0 || len > NGX_ESIGN_LICENCE_MAX)
    {
        return NGX_ERROR;
    }

    /* the bytes must be what the media type says */

    if ((mt[0] == 'a' && (len < 5 || ngx_strncmp(bin, "%PDF-", 5) != 0))
        || (mt[6] == 'p'
            && (len < 8 || ngx_memcmp(bin, "\x89PNG\r\n\x1a\n", 8) != 0))
        || (mt[6] == 'j'
            && (len < 3 || ngx_memcmp(bin, "\xff\xd8\xff", 3) != 0)))
    {
        return NGX_ERROR;
    }

    rg->filename = ngx_esign_pstrdup(r->pool, fn, ngx_strlen(fn));
    rg->media_type = ngx_esign_pstrdup(r->pool, mt, ngx_strlen(mt));
    rg->licence = bin;
    rg->licence_len = len;

    return (rg->filename && rg->media_type) ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_esign_api_register(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    size_t                  len, i;
    json_t                 *admin;
    uint64_t                retry;
    const char             *s, *code, *msg;
    ngx_esign_rate_key_t    rk;
    ngx_esign_register_t   *rg;
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    rg = ngx_pcalloc(r->pool, sizeof(ngx_esign_register_t));
    if (rg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rg->client_ip = ngx_esign_client_ip(r);
    if (rg->client_ip == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_esign_rate_key(r, NGX_ESIGN_RATE_REGISTER, "ip", rg->client_ip,
                       ngx_strlen(rg->client_ip), &rk);

    if (ngx_esign_rate_check_shm(r, &rk, &retry) == NGX_BUSY) {
        return ngx_esign_send_rate_limited(r, retry, NULL, NULL);
    }

    s = ngx_esign_json_str(ctx->json, "name", 1, 1024, &len);
    if (s == NULL || esc_institution_name_validate((u_char *) s, len)
                     != ESC_OK)
    {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "name: 2-128 characters of text");
    }

    rg->name = ngx_esign_pstrdup(r->pool, s, len);

    s = ngx_esign_json_str(ctx->json, "uscc", 1, 64, &len);
    if (s == NULL || len != ESC_USCC_LEN) {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST, "invalid_uscc",
                                    "the USCC must be 18 characters");
    }

    for (i = 0; i < len; i++) {
        rg->uscc[i] = ngx_toupper(s[i]);
    }

    if (esc_uscc_validate((u_char *) rg->uscc, len) != ESC_OK) {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST, "invalid_uscc",
                                    "the USCC is not valid (GB 32100 check "
                                    "character)");
    }

    if (ngx_esign_licence_parse(r, json_object_get(ctx->json, "licence"), rg)
        != NGX_OK)
    {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_licence",
                                    "licence: filename, media_type "
                                    "(application/pdf, image/png, "
                                    "image/jpeg) and content_b64 of at most "
                                    "2 MiB matching the type");
    }

    admin = json_object_get(ctx->json, "admin");
    if (!json_is_object(admin)) {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "admin details are required");
    }

    code = NULL;
    msg = NULL;

    if (ngx_esign_person_parse(r, admin, &rg->person, 1, &code, &msg)
        != NGX_OK)
    {
        if (code == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST, code, msg);
    }

    if (ngx_strcmp(rg->person.id_type, "resident") != 0
        && ngx_strcmp(rg->person.id_type, "passport") != 0
        && ngx_strcmp(rg->person.id_type, "other") != 0)
    {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request", "bad id_type");
    }

    if (esc_rand_id(rg->inst_id) != ESC_CRYPTO_OK
        || esc_rand_id(rg->account_id) != ESC_CRYPTO_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rg->env = emcf->env;
    rg->dbis = emcf->dbis;
    rg->ring = ngx_esign_kek_ring(r);
    rg->now = ngx_esign_wall_ms();
    rg->params.log2_n = emcf->scrypt_log2n;
    rg->params.r = emcf->scrypt_r;
    rg->params.p = emcf->scrypt_p;

    if (rg->ring == NULL || rg->name == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_esign_task_post(r, ctx, ngx_esign_register_run, rg,
                            ngx_esign_register_done)
        != NGX_OK)
    {
        return ngx_esign_session_unavailable(r);
    }

    return NGX_DONE;
}


static void
ngx_esign_register_run(void *data, ngx_log_t *log)
{
    ngx_esign_register_t  *rg = data;

    int                  rc;
    char                 key[160], sm3[65], at[32], aad[160];
    json_t              *inst, *acct;
    size_t               slen;
    MDB_val              k, v;
    MDB_txn             *txn;
    uint8_t             *sealed;
    esign_field_keys_t   keys;

    rg->rc = -1;
    inst = NULL;
    acct = NULL;
    sealed = NULL;

    if (mdb_txn_begin(rg->env, NULL, 0, &txn) != 0) {
        return;
    }

    if (esign_pki_field_keys(txn, rg->dbis, rg->ring, 1, &keys) != 0) {
        goto failed;
    }

    acct = ngx_esign_person_record(&rg->person, &keys, &rg->params,
                                   rg->inst_id, rg->account_id, rg->now);
    if (acct == NULL) {
        goto failed;
    }

    json_object_set_new(acct, "role", json_string("institution_admin"));
    json_object_set_new(acct, "tier", json_string("top_admin"));
    json_object_set_new(acct, "permissions", ngx_esign_perms_json(0x1f));
    json_object_set_new(acct, "department", json_null());

    /* unique USCC and login name: the same transaction claims both */

    k.mv_data = rg->uscc;
    k.mv_size = ESC_USCC_LEN;
    v.mv_data = rg->inst_id;
    v.mv_size = ESC_RAND_ID_LEN;

    rc = mdb_put(txn, rg->dbis[ESIGN_DB_USCC], &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        rg->rc = 409;
        goto failed;
    }

    if (rc != 0) {
        goto failed;
    }

    snprintf(key, sizeof(key), "%s/%s", rg->inst_id, rg->account_id);

    k.mv_data = rg->person.username;
    k.mv_size = ngx_strlen(rg->person.username);
    v.mv_data = key;
    v.mv_size = ngx_strlen(key);

    rc = mdb_put(txn, rg->dbis[ESIGN_DB_USERNAMES], &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        rg->rc = 409;
        goto failed;
    }

    if (rc != 0
        || esign_db_put_json(txn, rg->dbis[ESIGN_DB_ACCOUNTS], key,
                             ngx_strlen(key), acct, MDB_NOOVERWRITE)
           != 0)
    {
        goto failed;
    }

    /* the licence, sealed under the KEK and bound to its record */

    snprintf(aad, sizeof(aad), "%s/licence", rg->inst_id);

    if (esign_sm3_hex(rg->licence, rg->licence_len, sm3) != 0
        || esc_seal(rg->ring, (uint8_t *) aad, ngx_strlen(aad), rg->licence,
                    rg->licence_len, &sealed, &slen)
           != ESC_CRYPTO_OK)
    {
        goto failed;
    }

    k.mv_data = aad;
    k.mv_size = ngx_strlen(aad);
    v.mv_data = sealed;
    v.mv_size = slen;

    if (mdb_put(txn, rg->dbis[ESIGN_DB_DOCUMENTS], &k, &v, 0) != 0) {
        goto failed;
    }

    esign_rfc3339(rg->now, at);

    inst = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:I,s:s},s:s,"
                     "s:n,s:n,s:n,s:n}",
                     "id", rg->inst_id, "name", rg->name, "uscc", rg->uscc,
                     "status", "pending", "created_at", at,
                     "client_ip", rg->client_ip,
                     "licence", "filename", rg->filename,
                     "media_type", rg->media_type,
                     "size", (json_int_t) rg->licence_len, "sm3", sm3,
                     "admin_account_id", rg->account_id,
                     "certificate_pem", "key_wrapped_b64", "cert_serial",
                     "reject_reason");
    if (inst == NULL
        || esign_db_put_json(txn, rg->dbis[ESIGN_DB_INSTITUTIONS],
                             rg->inst_id, ESC_RAND_ID_LEN, inst,
                             MDB_NOOVERWRITE)
           != 0
        || esign_audit_append(txn, rg->dbis, rg->inst_id, rg->account_id,
                              "institution_register", rg->inst_id, NULL,
                              rg->client_ip, rg->now)
           != 0)
    {
        goto failed;
    }

    if (mdb_txn_commit(txn) == 0) {
        rg->rc = 0;
    }

    txn = NULL;

failed:

    if (txn != NULL) {
        mdb_txn_abort(txn);
    }

    ngx_explicit_memzero(&keys, sizeof(keys));
    free(sealed);

    if (inst != NULL) {
        json_decref(inst);
    }

    if (acct != NULL) {
        json_decref(acct);
    }
}


static ngx_int_t
ngx_esign_register_done(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    ngx_esign_register_t  *rg = ctx->task_data;

    json_t     *doc;
    ngx_int_t   rc;

    if (rg->rc == 409) {
        return ngx_esign_send_error(r, NGX_HTTP_CONFLICT, "conflict",
                                    "the USCC or the username is already "
                                    "registered");
    }

    if (rg->rc != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "esign: registration could not be stored");
        return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    "the registration could not be stored");
    }

    doc = json_pack("{s:s,s:s}", "id", rg->inst_id, "status", "pending");
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_esign_send_json(r, NGX_HTTP_CREATED, doc);
    json_decref(doc);

    return rc;
}


/* The institution document of the API (no key material). */
json_t *
ngx_esign_institution_doc(json_t *inst)
{
    json_t  *doc;

    doc = json_deep_copy(inst);
    if (doc == NULL) {
        return NULL;
    }

    json_object_del(doc, "key_wrapped_b64");
    json_object_del(doc, "intl_key_wrapped_b64");

    return doc;
}


static ngx_int_t
ngx_esign_api_institution_get(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    char       *ca, *ica;
    json_t     *inst, *doc;
    MDB_txn    *txn;
    ngx_int_t   rc;

    if (ngx_esign_authorize(r, ctx, ESC_ACT_INSTITUTION_READ, NULL, NULL)
        != NGX_OK)
    {
        return ctx->auth_rc;
    }

    txn = ngx_esign_store_read(r);
    if (txn == NULL) {
        return ngx_esign_session_unavailable(r);
    }

    rc = esign_db_get_json(txn,
                           ngx_esign_store_dbi(r, ESIGN_DB_INSTITUTIONS),
                           ctx->actor->institution_id.data,
                           ctx->actor->institution_id.len, &inst);

    ca = NULL;
    ica = NULL;

    if (rc == 0) {
        MDB_dbi  dbis[ESIGN_DB_COUNT];

        dbis[ESIGN_DB_META] = ngx_esign_store_dbi(r, ESIGN_DB_META);
        ca = esign_pki_ca_pem(txn, dbis);
        ica = esign_pki_ca_pem_suite(txn, dbis, ESC_SUITE_INTL);
    }

    mdb_txn_abort(txn);

    if (rc != 0) {
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such resource");
    }

    doc = ngx_esign_institution_doc(inst);
    json_decref(inst);

    if (doc == NULL) {
        free(ca);
        free(ica);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_object_set_new(doc, "ca_certificate_pem",
                        ca ? json_string(ca) : json_null());
    json_object_set_new(doc, "intl_ca_certificate_pem",
                        ica ? json_string(ica) : json_null());
    free(ca);
    free(ica);

    rc = ngx_esign_send_json(r, NGX_HTTP_OK, doc);
    json_decref(doc);

    return rc;
}
