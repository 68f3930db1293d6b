/*
 * Step-up verification: verifiers (password, TOTP, external HTTP), the
 * single-use token, and TOTP enrolment.
 */


#include "ngx_esign.h"
#include "ngx_esign_auth.h"
#include "ngx_esign_audit.h"
#include "ngx_esign_db.h"
#include "ngx_esign_pki.h"
#include "ngx_esign_ratelimit.h"
#include "ngx_esign_verify.h"

#include <openssl/hmac.h>

#include "esc_codec.h"
#include "esc_pwhash.h"
#include "esc_rand.h"


#define NGX_ESIGN_TOTP_STEP     30
#define NGX_ESIGN_TOTP_SECRET   20


typedef struct {
    MDB_env                   *env;
    MDB_dbi                   *dbis;
    const esc_kek_ring_t      *ring;
    char                       key[2 * NGX_ESIGN_REC_ID_MAX + 2];
    char                       inst[NGX_ESIGN_REC_ID_MAX];
    char                       account[NGX_ESIGN_REC_ID_MAX];
    u_char                     session_hash[32];
    char                      *client_ip;
    char                      *body;            /* JSON text, pool copy */
    uint64_t                   now;
    ngx_uint_t                 op;              /* 0 verify, 1 enrol, 2 ok */
    const ngx_esign_verifier_t *verifier;
    const void                *conf;

    int                        result;          /* 1 ok, 0 no, -1 error */
    char                       token[ESIGN_VERIFY_TOKEN_LEN + 1];
    char                       secret_b32[64];
} ngx_esign_verify_task_t;


static int ngx_esign_verifier_password(json_t *account, json_t *body,
    const void *conf, int *changed);
static int ngx_esign_verifier_totp(json_t *account, json_t *body,
    const void *conf, int *changed);
static int ngx_esign_verifier_external(json_t *account, json_t *body,
    const void *conf, int *changed);
static void ngx_esign_verify_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_esign_verify_done(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);


static const ngx_esign_verifier_t  ngx_esign_verifiers[] = {
    { "password", ngx_esign_verifier_password },
    { "totp", ngx_esign_verifier_totp },
    { "external", ngx_esign_verifier_external },
    { NULL, NULL }
};


/* the TOTP context of the thread: field keys and record binding */
typedef struct {
    esign_field_keys_t         keys;
    char                       aad[2 * NGX_ESIGN_REC_ID_MAX + 8];
    uint64_t                   now;
    const char                *url;
} ngx_esign_verify_conf_t;


unsigned
ngx_esign_totp_code(const u_char *key, size_t len, uint64_t step)
{
    u_char        msg[8], md[EVP_MAX_MD_SIZE];
    unsigned      mdlen, off, bin;
    ngx_uint_t    i;

    for (i = 0; i < 8; i++) {
        msg[7 - i] = (u_char) (step >> (8 * i));
    }

    if (HMAC(EVP_sha1(), key, (int) len, msg, 8, md, &mdlen) == NULL) {
        return 1000000;     /* never a valid code */
    }

    off = md[mdlen - 1] & 0x0f;
    bin = ((md[off] & 0x7f) << 24) | (md[off + 1] << 16)
          | (md[off + 2] << 8) | md[off + 3];

    return bin % 1000000;
}


static int
ngx_esign_verifier_password(json_t *account, json_t *body, const void *conf,
    int *changed)
{
    const char  *pw, *hash;

    pw = json_string_value(json_object_get(body, "password"));
    hash = json_string_value(json_object_get(account, "password_hash"));

    if (pw == NULL || hash == NULL || strlen(pw) > 128) {
        return 0;
    }

    return esc_pwhash_verify((const u_char *) pw, strlen(pw), hash,
                             strlen(hash))
           == ESC_OK;
}


/* checks a 6-digit code against a secret, +-1 step, no replay */
static int
ngx_esign_totp_check(json_t *account, const char *field, const char *code,
    const ngx_esign_verify_conf_t *vc, int *changed)
{
    int          ok;
    char         hex[ESC_FIELD_MAX + 1];
    u_char       secret[64];
    size_t       len, i;
    int64_t      d;
    uint64_t     step, last;
    unsigned     want;
    const char  *enc;

    enc = json_string_value(json_object_get(account, field));

    if (enc == NULL || code == NULL || strlen(code) != 6) {
        return 0;
    }

    for (i = 0; i < 6; i++) {
        if (code[i] < '0' || code[i] > '9') {
            return 0;
        }
    }

    want = (unsigned) atoi(code);

    if (esign_pki_field_decrypt(&vc->keys, vc->aad, enc, hex, sizeof(hex))
        != 0
        || esc_hex_decode(secret, sizeof(secret), &len, hex, strlen(hex))
           != ESC_CRYPTO_OK)
    {
        return -1;
    }

    ngx_explicit_memzero(hex, sizeof(hex));

    last = (uint64_t) json_integer_value(json_object_get(account,
                                                         "totp_last_step"));
    ok = 0;

    for (d = -1; d <= 1; d++) {
        step = vc->now / 1000 / NGX_ESIGN_TOTP_STEP + d;

        if (step <= last) {
            continue;           /* a code is good once */
        }

        if (ngx_esign_totp_code(secret, len, step) == want) {
            json_object_set_new(account, "totp_last_step",
                                json_integer((json_int_t) step));
            *changed = 1;
            ok = 1;
            break;
        }
    }

    ngx_explicit_memzero(secret, sizeof(secret));

    return ok;
}


static int
ngx_esign_verifier_totp(json_t *account, json_t *body, const void *conf,
    int *changed)
{
    return ngx_esign_totp_check(account, "totp_secret_enc",
                                json_string_value(json_object_get(body,
                                                                  "code")),
                                conf, changed);
}


/*
 * External verifier (face, bank card): POST of {"account_id","evidence"}
 * to esign_verifier_url over plain HTTP on loopback or a trusted network,
 * answer {"result":"passed"}.  Minimal client: one request, 3 s timeout.
 */
static int
ngx_esign_verifier_external(json_t *account, json_t *body, const void *conf,
    int *changed)
{
    const ngx_esign_verify_conf_t  *vc = conf;

    int               fd, port, n;
    char             *payload, host[256], path[512], req[4096], resp[4096];
    size_t            len, got;
    json_t           *doc;
    const char       *u, *p, *slash, *colon;
    struct timeval    tv;
    struct sockaddr_in  sin;

    if (vc->url == NULL || ngx_strncmp(vc->url, "http://", 7) != 0) {
        return -1;
    }

    u = vc->url + 7;
    slash = strchr(u, '/');
    colon = strchr(u, ':');
    len = slash ? (size_t) (slash - u) : strlen(u);

    if (colon != NULL && (slash == NULL || colon < slash)) {
        len = colon - u;
        port = atoi(colon + 1);

    } else {
        port = 80;
    }

    if (len == 0 || len >= sizeof(host)) {
        return -1;
    }

    ngx_memcpy(host, u, len);
    host[len] = '\0';
    p = slash ? slash : "/";
    ngx_cpystrn((u_char *) path, (u_char *) p, sizeof(path));

    doc = json_pack("{s:O,s:O}", "account_id", json_object_get(account, "id"),
                    "evidence", json_object_get(body, "evidence")
                                ? json_object_get(body, "evidence")
                                : json_null());
    if (doc == NULL) {
        return -1;
    }

    payload = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);

    if (payload == NULL) {
        return -1;
    }

    n = snprintf(req, sizeof(req),
                 "POST %s HTTP/1.0\r\nHost: %s\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: %zu\r\n\r\n%s",
                 path, host, strlen(payload), payload);
    free(payload);

    if (n <= 0 || n >= (int) sizeof(req)) {
        return -1;
    }

    ngx_memzero(&sin, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((u_short) port);

    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
        return -1;      /* addresses only: no DNS in a pool thread */
    }

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1) {
        return -1;
    }

    tv.tv_sec = 3;
    tv.tv_usec = 0;
    (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

    if (connect(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1
        || write(fd, req, n) != n)
    {
        close(fd);
        return -1;
    }

    got = 0;

    while (got < sizeof(resp) - 1) {
        n = read(fd, resp + got, sizeof(resp) - 1 - got);
        if (n <= 0) {
            break;
        }

        got += n;
    }

    close(fd);
    resp[got] = '\0';

    if (got < 12 || ngx_strncmp(resp + 9, "200", 3) != 0) {
        return got == 0 ? -1 : 0;
    }

    return ngx_strstr(resp, "\"result\":\"passed\"") != NULL;
}


static ngx_int_t
ngx_esign_verify_post(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    ngx_uint_t op, const ngx_esign_verifier_t *verifier)
{
    char                     *s;
    uint64_t                  retry;
    ngx_esign_actor_t        *a;
    ngx_esign_rate_key_t      rk;
    ngx_esign_main_conf_t    *emcf;
    ngx_esign_verify_task_t  *vt;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);
    a = ctx->actor;

    if (a->role == NGX_ESIGN_ROLE_OPERATOR) {
        return ngx_esign_send_error(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                    "operators do not sign");
    }

    ngx_esign_rate_key(r, NGX_ESIGN_RATE_VERIFY, "a",
                       (char *) a->account_id.data, a->account_id.len, &rk);

    if (ngx_esign_rate_check_shm(r, &rk, &retry) == NGX_BUSY) {
        return ngx_esign_send_rate_limited(r, retry, NULL, NULL);
    }

    vt = ngx_pcalloc(r->pool, sizeof(ngx_esign_verify_task_t));
    if (vt == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    vt->env = emcf->env;
    vt->dbis = emcf->dbis;
    vt->ring = ngx_esign_kek_ring(r);
    vt->op = op;
    vt->verifier = verifier;
    vt->now = ngx_esign_wall_ms();
    vt->client_ip = ngx_esign_client_ip(r);
    vt->conf = emcf->verifier_url.len
               ? ngx_esign_pstrdup(r->pool, (char *) emcf->verifier_url.data,
                                   emcf->verifier_url.len)
               : NULL;

    if (vt->ring == NULL || vt->client_ip == NULL
        || a->institution_id.len >= NGX_ESIGN_REC_ID_MAX
        || a->account_id.len >= NGX_ESIGN_REC_ID_MAX)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(vt->inst, a->institution_id.data, a->institution_id.len);
    ngx_memcpy(vt->account, a->account_id.data, a->account_id.len);
    ngx_snprintf((u_char *) vt->key, sizeof(vt->key), "%s/%s%Z", vt->inst,
                 vt->account);
    ngx_memcpy(vt->session_hash, a->session_hash, 32);

    if (ctx->json != NULL) {
        s = json_dumps(ctx->json, JSON_COMPACT);
        if (s == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        vt->body = ngx_esign_pstrdup(r->pool, s, ngx_strlen(s));
        free(s);

        if (vt->body == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_esign_task_post(r, ctx, ngx_esign_verify_run, vt,
                            ngx_esign_verify_done)
        != NGX_OK)
    {
        return ngx_esign_session_unavailable(r);
    }

    return NGX_DONE;
}


ngx_int_t
ngx_esign_api_verify(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    const char                  *method;
    ngx_esign_main_conf_t       *emcf;
    const ngx_esign_verifier_t  *v;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    method = ngx_esign_json_str(ctx->json, "method", 1, 32, NULL);

    for (v = ngx_esign_verifiers; method != NULL && v->name != NULL; v++) {
        if (ngx_strcmp(v->name, method) == 0) {
            break;
        }
    }

    if (method == NULL || v->name == NULL
        || (v->verify == ngx_esign_verifier_external
            && emcf->verifier_url.len == 0))
    {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "method must be password or totp (or "
                                    "external when configured)");
    }

    return ngx_esign_verify_post(r, ctx, 0, v);
}


ngx_int_t
ngx_esign_api_totp_enrol(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    return ngx_esign_verify_post(r, ctx, 1, NULL);
}


ngx_int_t
ngx_esign_api_totp_confirm(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    return ngx_esign_verify_post(r, ctx, 2, NULL);
}


static void
ngx_esign_verify_run(void *data, ngx_log_t *log)
{
    ngx_esign_verify_task_t  *vt = data;

    int                       rc, changed, i;
    char                      hex[2 * NGX_ESIGN_TOTP_SECRET + 1];
    json_t                   *acct, *body, *enc;
    MDB_txn                  *txn;
    u_char                    secret[NGX_ESIGN_TOTP_SECRET];
    const char               *action;
    ngx_esign_verify_conf_t   vc;

    static const char  b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    vt->result = -1;
    changed = 0;

    body = vt->body ? json_loads(vt->body, 0, NULL) : json_object();
    if (body == NULL) {
        return;
    }

    if (mdb_txn_begin(vt->env, NULL, 0, &txn) != 0) {
        json_decref(body);
        return;
    }

    ngx_memzero(&vc, sizeof(vc));
    vc.now = vt->now;
    vc.url = vt->conf;
    ngx_snprintf((u_char *) vc.aad, sizeof(vc.aad), "totp:%s%Z", vt->key);

    rc = esign_db_get_json(txn, vt->dbis[ESIGN_DB_ACCOUNTS], vt->key,
                           ngx_strlen(vt->key), &acct);
    if (rc != 0
        || esign_pki_field_keys(txn, vt->dbis, vt->ring, 1, &vc.keys) != 0)
    {
        if (rc == 0) {
            json_decref(acct);
        }

        mdb_txn_abort(txn);
        json_decref(body);
        return;
    }

    action = "verify";

    if (vt->op == 0) {
        vt->result = vt->verifier->verify(acct, body, &vc, &changed);

    } else if (vt->op == 1) {
        action = "totp_enrol";

        if (esc_rand_bytes(secret, sizeof(secret)) != ESC_CRYPTO_OK
            || esc_hex_encode(hex, sizeof(hex), secret, sizeof(secret))
               != ESC_CRYPTO_OK)
        {
            goto fail;
        }

        enc = esign_pki_field_encrypt(&vc.keys, vc.aad, hex, ngx_strlen(hex));
        if (enc == NULL) {
            goto fail;
        }

        json_object_set_new(acct, "totp_pending_enc", enc);
        changed = 1;

        /* base32 (RFC 4648, upper case) for authenticator apps */
        for (i = 0; i < 32; i++) {
            int  bit = i * 5, byte = bit / 8, sh = bit % 8;
            unsigned  w = (secret[byte] << 8)
                          | (byte + 1 < 20 ? secret[byte + 1] : 0);

            vt->secret_b32[i] = b32[(w >> (11 - sh)) & 0x1f];
        }

        vt->secret_b32[32] = '\0';
        ngx_explicit_memzero(secret, sizeof(secret));
        ngx_explicit_memzero(hex, sizeof(hex));
        vt->result = 1;

    } else {
        action = "totp_confirm";
        vt->result = ngx_esign_totp_check(acct, "totp_pending_enc",
                         json_string_value(json_object_get(body, "code")),
                         &vc, &changed);

        if (vt->result == 1) {
            json_object_set(acct, "totp_secret_enc",
                            json_object_get(acct, "totp_pending_enc"));
            json_object_del(acct, "totp_pending_enc");
            changed = 1;
        }
    }

    if (vt->result < 0) {
        goto fail;
    }

    rc = 0;

    if (changed) {
        rc = esign_db_put_json(txn, vt->dbis[ESIGN_DB_ACCOUNTS], vt->key,
                               ngx_strlen(vt->key), acct, 0);
    }

    if (rc == 0 && vt->op == 0 && vt->result == 1) {
        rc = esign_verification_create(txn, vt->dbis, vt->session_hash,
                                       vt->account, vt->inst,
                                       vt->verifier->name, vt->now,
                                       ESIGN_VERIFY_TTL_MS, vt->token);
    }

    if (rc == 0) {
        rc = esign_audit_append(txn, vt->dbis, vt->inst, vt->account, action,
                                vt->account,
                                vt->op == 0 ? vt->verifier->name : NULL,
                                vt->client_ip, vt->now);
    }

    if (rc == 0 && vt->result == 0 && vt->op == 0) {
        /* a failed verification is recorded as such */
        rc = esign_audit_append(txn, vt->dbis, vt->inst, vt->account,
                                "verify_failed", vt->account,
                                vt->verifier->name, vt->client_ip,
                                vt->now + 1);
    }

    if (rc == 0 && mdb_txn_commit(txn) == 0) {
        json_decref(acct);
        json_decref(body);
        return;
    }

    if (rc != 0) {
        mdb_txn_abort(txn);
    }

    vt->result = -1;
    json_decref(acct);
    json_decref(body);
    return;

fail:

    vt->result = -1;
    mdb_txn_abort(txn);
    json_decref(acct);
    json_decref(body);
}


static ngx_int_t
ngx_esign_verify_done(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    ngx_esign_verify_task_t  *vt = ctx->task_data;

    char        at[32], uri[256];
    json_t     *doc;
    ngx_int_t   rc;

    if (vt->result < 0) {
        return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    "the verifier is unavailable");
    }

    if (vt->result == 0) {
        return ngx_esign_send_error(r, NGX_HTTP_FORBIDDEN,
                                    "verification_failed",
                                    "the identity verification failed");
    }

    if (vt->op == 1) {
        ngx_snprintf((u_char *) uri, sizeof(uri),
                     "otpauth://totp/esign:%s?secret=%s&issuer=esign%Z",
                     vt->account, vt->secret_b32);
        doc = json_pack("{s:s,s:s}", "secret_base32", vt->secret_b32,
                        "otpauth_uri", uri);

    } else if (vt->op == 2) {
        doc = json_pack("{s:b}", "totp_enabled", 1);

    } else {
        esign_rfc3339(vt->now + ESIGN_VERIFY_TTL_MS, at);
        doc = json_pack("{s:s,s:s,s:s}", "verification_token", vt->token,
                        "method", vt->verifier->name, "expires_at", at);
    }

    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_esign_send_json(r, NGX_HTTP_OK, doc);
    json_decref(doc);

    return rc;
}
