/*
 * Contract routes (R-SIGN-1..8, R-ARCH-1/2, R-EVID-1/2/4, R-QUERY-1,
 * R-AUD-2, R-ACC-3/4): the route table, the helpers every contract route
 * shares (the operation, loading with the read decision, answers), and
 * the read routes: list, read, the document, signatures, and evidence
 * with ledger receipts.  The actions are in ngx_esign_contract_actions.c,
 * the expiry sweep in ngx_esign_contract_sweep.c.
 */


#include "ngx_esign_contracts.h"


static ngx_int_t ngx_esign_api_contract_list(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_contract_get(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_contract_document(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_contract_signatures(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_contract_evidence(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static void ngx_esign_ct_doc_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_esign_ct_doc_read(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static int ngx_esign_ct_doc_txn(MDB_txn *txn, MDB_dbi *dbis, void *data);
static ngx_int_t ngx_esign_ct_doc_send(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static void ngx_esign_ct_cleanup(void *data);


ngx_esign_route_t  ngx_esign_contract_routes[] = {
    { NGX_HTTP_POST, "/contracts", NGX_ESIGN_BODY_JSON|NGX_ESIGN_AUTH,
      ngx_esign_api_contract_create },
    { NGX_HTTP_GET, "/contracts", NGX_ESIGN_AUTH,
      ngx_esign_api_contract_list },
    { NGX_HTTP_GET, "/contracts/{}", NGX_ESIGN_AUTH,
      ngx_esign_api_contract_get },
    { NGX_HTTP_GET, "/contracts/{}/document", NGX_ESIGN_AUTH,
      ngx_esign_api_contract_document },
    { NGX_HTTP_POST, "/contracts/{}/confirm",
      NGX_ESIGN_BODY_JSON|NGX_ESIGN_AUTH, ngx_esign_api_contract_confirm },
    { NGX_HTTP_POST, "/contracts/{}/reject",
      NGX_ESIGN_BODY_JSON|NGX_ESIGN_AUTH, ngx_esign_api_contract_reject },
    { NGX_HTTP_POST, "/contracts/{}/revoke",
      NGX_ESIGN_BODY_JSON|NGX_ESIGN_AUTH, ngx_esign_api_contract_revoke },
    { NGX_HTTP_GET, "/contracts/{}/signatures", NGX_ESIGN_AUTH,
      ngx_esign_api_contract_signatures },
    { NGX_HTTP_GET, "/contracts/{}/evidence", NGX_ESIGN_AUTH,
      ngx_esign_api_contract_evidence },
    { NGX_HTTP_POST, "/contracts/{}/route",
      NGX_ESIGN_BODY_JSON|NGX_ESIGN_AUTH, ngx_esign_api_contract_route },
    { 0, NULL, 0, NULL }
};


/* ---- helpers ---------------------------------------------------------- */


ngx_esign_ct_op_t *
ngx_esign_ct_op(ngx_http_request_t *r, ngx_esign_ctx_t *ctx, int action)
{
    ngx_pool_cleanup_t     *cln;
    ngx_esign_ct_op_t      *op;
    ngx_esign_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    op = ngx_pcalloc(r->pool, sizeof(ngx_esign_ct_op_t));
    if (op == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_esign_ct_cleanup;
    cln->data = op;

    op->action = action;
    op->kek = emcf->kek;
    op->suite = (int) emcf->signature_suite;
    op->env = emcf->env;
    op->dbis = emcf->dbis;
    op->now_ms = ngx_esign_now_ms();

    if (ngx_esign_cstr(op->inst_id, sizeof(op->inst_id),
                       &ctx->actor->institution_id) != NGX_OK
        || ngx_esign_cstr(op->account_id, sizeof(op->account_id),
                          &ctx->actor->account_id) != NGX_OK
        || ngx_esign_cstr(op->department, sizeof(op->department),
                          &ctx->actor->department) != NGX_OK)
    {
        return NULL;
    }

    ngx_memcpy(op->session_hash, ctx->actor->session_hash, 32);

    op->client_ip = ngx_pnalloc(r->pool,
                                r->connection->addr_text.len + 1);
    if (op->client_ip == NULL) {
        return NULL;
    }

    ngx_memcpy(op->client_ip, r->connection->addr_text.data,
               r->connection->addr_text.len);
    op->client_ip[r->connection->addr_text.len] = '\0';

    return op;
}


static void
ngx_esign_ct_cleanup(void *data)
{
    ngx_esign_ct_op_t  *op = data;

    size_t  i;

    for (i = 0; i < NGX_ESIGN_CT_MAX_EV; i++) {
        free(op->ev[i].bytes);
        op->ev[i].bytes = NULL;
    }

    esign_signature_free(&op->sig);

    if (op->contract != NULL) {
        json_decref(op->contract);
        op->contract = NULL;
    }

    if (op->snapshot != NULL) {
        json_decref(op->snapshot);
        op->snapshot = NULL;
    }

    if (op->doc != NULL) {
        esc_free_secret(op->doc, op->doc_len);
        op->doc = NULL;
    }
}


static void
ngx_esign_ct_time(uint64_t ms, char *out, size_t size)
{
    time_t     sec;
    struct tm  tm;

    sec = (time_t) (ms / 1000);

    if (gmtime_r(&sec, &tm) == NULL) {
        out[0] = '\0';
        return;
    }

    ngx_snprintf((u_char *) out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uiZ%Z",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (ngx_uint_t) (ms % 1000));
}


/* RFC 3339 ("2030-01-02T03:04:05(.sss)?(Z|+hh:mm)") to unix ms; -1. */
int64_t
ngx_esign_ct_parse_time(const char *s)
{
    int         n, y, mo, d, h, mi, sec, ms, digits, sign, oh, om;
    time_t      t;
    struct tm   tm;
    const char *p;

    n = 0;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
               &n) != 6
        || n != 19 || s[4] != '-' || s[7] != '-'
        || (s[10] != 'T' && s[10] != 't'))
    {
        return -1;
    }

    p = s + 19;
    ms = 0;

    if (*p == '.') {
        p++;
        digits = 0;

        while (*p >= '0' && *p <= '9') {
            if (digits < 3) {
                ms = ms * 10 + (*p - '0');
            }

            digits++;
            p++;
        }

        if (digits == 0 || digits > 9) {
            return -1;
        }

        while (digits < 3) {
            ms *= 10;
            digits++;
        }
    }

    sign = 0;
    oh = 0;
    om = 0;

    if (*p == 'Z' || *p == 'z') {
        p++;

    } else if ((*p == '+' || *p == '-')
               && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2
               && p[3] == ':' && ngx_strlen(p) == 6)
    {
        sign = *p == '+' ? 1 : -1;
        p += 6;

    } else {
        return -1;
    }

    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23
        || mi > 59 || sec > 60 || oh > 23 || om > 59 || y < 1970)
    {
        return -1;
    }

    ngx_memzero(&tm, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;

    t = timegm(&tm);
    if (t == (time_t) -1) {
        return -1;
    }

    t -= sign * (oh * 3600 + om * 60);

    return (int64_t) t * 1000 + ms;
}


static ngx_int_t
ngx_esign_ct_id(ngx_esign_ctx_t *ctx, char *out)
{
    ngx_str_t  *id;

    id = &ctx->params[0];

    if (ctx->nparams < 1 || id->len != ESC_RAND_ID_LEN
        || !esc_rand_id_valid((char *) id->data, id->len))
    {
        return NGX_DECLINED;
    }

    ngx_memcpy(out, id->data, id->len);
    out[id->len] = '\0';

    return NGX_OK;
}


static ngx_int_t ngx_esign_ct_load_any(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx, int action, char *id, json_t **c,
    ngx_int_t *masked, ngx_str_t *raw, ngx_int_t *rc);


/*
 * Loads a contract on the event loop and asks the authorization decision;
 * *c is a new reference on NGX_OK.  Otherwise the answer was sent.
 */
ngx_int_t
ngx_esign_ct_load(ngx_http_request_t *r, ngx_esign_ctx_t *ctx, int action,
    char *id, json_t **c, ngx_int_t *masked, ngx_int_t *rc)
{
    return ngx_esign_ct_load_any(r, ctx, action, id, c, masked, NULL, rc);
}


ngx_int_t
ngx_esign_ct_load_raw(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    int action, char *id, json_t **c, ngx_str_t *raw, ngx_int_t *rc)
{
    return ngx_esign_ct_load_any(r, ctx, action, id, c, NULL, raw, rc);
}


static ngx_int_t
ngx_esign_ct_load_any(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    int action, char *id, json_t **c, ngx_int_t *masked, ngx_str_t *raw,
    ngx_int_t *rc)
{
    int         err;
    MDB_txn    *txn;
    MDB_val     v;
    ngx_int_t   a;

    if (ngx_esign_ct_id(ctx, id) != NGX_OK) {
        *rc = ngx_esign_send_ct_error(r, NGX_ESIGN_CT_NOT_FOUND);
        return NGX_DECLINED;
    }

    txn = ngx_esign_store_read(r);
    if (txn == NULL) {
        *rc = ngx_esign_send_unavailable(r);
        return NGX_DECLINED;
    }

    err = esign_db_get_json_val(txn,
                                ngx_esign_store_dbi(r, ESIGN_DB_CONTRACTS),
                                id, ngx_strlen(id), c, &v);

    if (err == 0 && raw != NULL) {
        raw->data = ngx_pnalloc(r->pool, v.mv_size);

        if (raw->data == NULL) {
            json_decref(*c);
            err = ENOMEM;

        } else {
            ngx_memcpy(raw->data, v.mv_data, v.mv_size);
            raw->len = v.mv_size;
        }
    }

    mdb_txn_abort(txn);

    if (err != 0) {
        *rc = ngx_esign_send_ct_error(r, err == MDB_NOTFOUND
                                         ? NGX_ESIGN_CT_NOT_FOUND
                                         : NGX_ESIGN_CT_ERROR);
        return NGX_DECLINED;
    }

    a = ngx_esign_contract_authorize(ctx->actor, action, *c);

    if (a != NGX_ESIGN_CT_OK && a != NGX_ESIGN_CT_MASKED) {
        json_decref(*c);
        *rc = ngx_esign_send_ct_error(r, a);
        return NGX_DECLINED;
    }

    if (masked != NULL) {
        *masked = a == NGX_ESIGN_CT_MASKED;
    }

    return NGX_OK;
}


ngx_int_t
ngx_esign_ct_send(ngx_http_request_t *r, ngx_uint_t status, json_t *j)
{
    if (j == NULL || ngx_esign_json_pool(r->pool, j) == NULL) {
        return ngx_esign_send_unavailable(r);
    }

    return ngx_esign_send_json(r, status, j);
}


ngx_int_t
ngx_esign_ct_send_outcome(ngx_http_request_t *r, ngx_esign_ct_op_t *op)
{
    switch (op->outcome) {

    case NGX_ESIGN_CT_TOKEN:
        return ngx_esign_send_error(r, NGX_HTTP_FORBIDDEN,
                                    "verification_required",
                                    "a fresh identity verification token "
                                    "is required");

    case NGX_ESIGN_CT_BAD:
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    op->msg ? op->msg : "invalid request");

    case NGX_ESIGN_CT_CONFLICT:
        if (op->msg != NULL) {
            return ngx_esign_send_error(r, NGX_HTTP_CONFLICT, "conflict",
                                        op->msg);
        }

        /* fall through */

    default:
        return ngx_esign_send_ct_error(r, op->outcome);
    }
}


/* ---- GET /contracts --------------------------------------------------- */


static ngx_int_t
ngx_esign_ct_arg(ngx_http_request_t *r, const char *name, ngx_str_t *v)
{
    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), v) != NGX_OK) {
        v->len = 0;
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static const char *
ngx_esign_ct_status_now(json_t *c, uint64_t now)
{
    json_t      *exp;
    const char  *s;

    s = json_string_value(json_object_get(c, "status"));
    exp = json_object_get(c, "expires_at");

    if (s != NULL && ngx_strcmp(s, "signing") == 0 && json_is_integer(exp)
        && (uint64_t) json_integer_value(exp) <= now)
    {
        return "expired";               /* lazily, until the sweep */
    }

    return s;
}


static ngx_int_t
ngx_esign_api_contract_list(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int          rc, op, more;
    char         key[256], id[ESC_RAND_ID_LEN + 1], st[16];
    json_t      *items, *c, *v, *res;
    size_t       plen, scanned;
    MDB_txn     *txn;
    MDB_val      k, val;
    uint64_t     now;
    ngx_int_t    a, box, limit, count;
    ngx_str_t    arg, cursor;
    ngx_uint_t   i;
    MDB_cursor  *cur;
    const char  *s;
    MDB_dbi      dbis[ESIGN_DB_COUNT];

    static const char  *states[] = { "signing", "completed", "rejected",
                                     "revoked", "expired", NULL };

    a = ngx_esign_contract_authorize(ctx->actor, NGX_ESIGN_CT_LIST, NULL);
    if (a != NGX_ESIGN_CT_OK && a != NGX_ESIGN_CT_MASKED) {
        return ngx_esign_send_ct_error(r, NGX_ESIGN_CT_FORBIDDEN);
    }

    box = 0;                            /* all */

    if (ngx_esign_ct_arg(r, "box", &arg) == NGX_OK) {
        if (arg.len == 9 && ngx_strncmp(arg.data, "initiated", 9) == 0) {
            box = 1;

        } else if (arg.len == 8 && ngx_strncmp(arg.data, "received", 8) == 0)
        {
            box = 2;

        } else if (!(arg.len == 3 && ngx_strncmp(arg.data, "all", 3) == 0)) {
            return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_request",
                                        "box is initiated, received or all");
        }
    }

    st[0] = '\0';

    if (ngx_esign_ct_arg(r, "status", &arg) == NGX_OK) {
        for (i = 0; states[i] != NULL; i++) {
            if (arg.len == ngx_strlen(states[i])
                && ngx_strncmp(arg.data, states[i], arg.len) == 0)
            {
                ngx_memcpy(st, arg.data, arg.len);
                st[arg.len] = '\0';
                break;
            }
        }

        if (states[i] == NULL) {
            return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_request",
                                        "unknown status");
        }
    }

    limit = NGX_ESIGN_LIST_DEFAULT;

    if (ngx_esign_ct_arg(r, "limit", &arg) == NGX_OK) {
        limit = ngx_atoi(arg.data, arg.len);

        if (limit < 1 || limit > NGX_ESIGN_LIST_MAX) {
            return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_request",
                                        "limit is 1 to 500");
        }
    }

    cursor.len = 0;

    if (ngx_esign_ct_arg(r, "cursor", &cursor) == NGX_OK) {
        if (cursor.len < 18 || cursor.len > 80) {
            goto bad_cursor;
        }

        for (i = 0; i < cursor.len; i++) {
            u_char  ch = cursor.data[i];

            if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z')
                  || (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '_'
                  || ch == '-'))
            {
                goto bad_cursor;
            }
        }
    }

    /* the index key is "<inst>/<created hex>/<id>"; the cursor "hex.id" */

    plen = ngx_snprintf((u_char *) key, sizeof(key) - 100, "%V/",
                        &ctx->actor->institution_id)
           - (u_char *) key;

    if (cursor.len) {
        ngx_memcpy(key + plen, cursor.data, cursor.len);

        for (i = plen; i < plen + cursor.len; i++) {
            if (key[i] == '.') {
                key[i] = '/';
            }
        }

        k.mv_size = plen + cursor.len;

    } else {
        key[plen] = '\x7f';            /* past every key of the prefix */
        k.mv_size = plen + 1;
    }

    k.mv_data = key;

    txn = ngx_esign_store_read(r);
    if (txn == NULL) {
        return ngx_esign_send_unavailable(r);
    }

    dbis[ESIGN_DB_CONTRACTS] = ngx_esign_store_dbi(r, ESIGN_DB_CONTRACTS);
    dbis[ESIGN_DB_CONTRACT_IDX] = ngx_esign_store_dbi(r,
                                                    ESIGN_DB_CONTRACT_IDX);

    if (mdb_cursor_open(txn, dbis[ESIGN_DB_CONTRACT_IDX], &cur) != 0) {
        mdb_txn_abort(txn);
        return ngx_esign_send_unavailable(r);
    }

    items = json_array();
    now = ngx_esign_now_ms();
    count = 0;
    scanned = 0;
    more = 0;

    /* newest first: step back from the cursor (or the prefix's end) */

    rc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE);
    op = rc == 0 ? MDB_PREV : MDB_LAST;
    rc = mdb_cursor_get(cur, &k, &val, op);

    cursor.len = 0;

    for ( /* void */ ; rc == 0; rc = mdb_cursor_get(cur, &k, &val, MDB_PREV))
    {
        if (k.mv_size <= plen || ngx_memcmp(k.mv_data, key, plen) != 0) {
            break;
        }

        if (count == limit || scanned == NGX_ESIGN_LIST_SCAN) {
            /* more to come: the cursor names the last key returned */
            more = 1;
            break;
        }

        scanned++;

        cursor.data = (u_char *) k.mv_data + plen;
        cursor.len = k.mv_size - plen;

        if (box != 0
            && (val.mv_size != (size_t) (box == 1 ? 9 : 11)
                || ngx_memcmp(val.mv_data,
                              (u_char *) (box == 1 ? "initiator"
                                                   : "participant"),
                              val.mv_size) != 0))
        {
            continue;
        }

        if (k.mv_size - plen < 17 + ESC_RAND_ID_LEN) {
            continue;
        }

        ngx_memcpy(id, (u_char *) k.mv_data + k.mv_size - ESC_RAND_ID_LEN,
                   ESC_RAND_ID_LEN);
        id[ESC_RAND_ID_LEN] = '\0';

        if (esign_contract_get(txn, dbis, id, &c) != 0) {
            continue;
        }

        a = ngx_esign_contract_authorize(ctx->actor, NGX_ESIGN_CT_READ, c);
        s = ngx_esign_ct_status_now(c, now);

        if ((a == NGX_ESIGN_CT_OK || a == NGX_ESIGN_CT_MASKED)
            && (st[0] == '\0' || (s != NULL && ngx_strcmp(s, st) == 0)))
        {
            v = ngx_esign_contract_view(c, ctx->actor,
                                        a == NGX_ESIGN_CT_MASKED);
            if (v != NULL) {
                json_object_set_new(v, "status", json_string(s));
                json_array_append_new(items, v);
                count++;
            }
        }

        json_decref(c);
    }

    if (more && cursor.len > 0 && cursor.len < 100) {
        ngx_memcpy(key, cursor.data, cursor.len);
        key[cursor.len] = '\0';

        for (i = 0; i < cursor.len; i++) {
            if (key[i] == '/') {
                key[i] = '.';
            }
        }

        res = json_pack("{s:o, s:s}", "items", items, "next_cursor", key);

    } else {
        res = json_pack("{s:o, s:n}", "items", items, "next_cursor");
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    return ngx_esign_ct_send(r, NGX_HTTP_OK, res);

bad_cursor:

    return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST, "invalid_request",
                                "malformed cursor");
}


/* ---- GET /contracts/{id} ---------------------------------------------- */


static ngx_int_t
ngx_esign_api_contract_get(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    char        id[ESC_RAND_ID_LEN + 1];
    json_t     *c, *v;
    ngx_int_t   rc, masked;

    if (ngx_esign_ct_load(r, ctx, NGX_ESIGN_CT_READ, id, &c, &masked, &rc)
        != NGX_OK)
    {
        return rc;
    }

    v = ngx_esign_contract_view(c, ctx->actor, masked);

    if (v != NULL) {
        json_object_set_new(v, "status", json_string(
                                ngx_esign_ct_status_now(c,
                                                      ngx_esign_now_ms())));
        json_object_set_new(v, "signature_count", json_integer(
                                json_array_size(json_object_get(
                                    c, "signatures"))));
        json_object_set_new(v, "evidence_count", json_integer(
                                json_array_size(json_object_get(
                                    c, "evidence"))));
    }

    json_decref(c);

    return ngx_esign_ct_send(r, NGX_HTTP_OK, v);
}


/* ---- GET /contracts/{id}/document ------------------------------------- */


static ngx_int_t
ngx_esign_api_contract_document(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int                 action;
    json_t             *c;
    ngx_int_t           rc, masked;
    ngx_str_t           arg;
    const char         *s;
    ngx_esign_ct_op_t  *op;

    action = NGX_ESIGN_CT_DOC_READ;

    if (ngx_esign_ct_arg(r, "download", &arg) == NGX_OK) {
        if (arg.len == 1 && arg.data[0] == '1') {
            action = NGX_ESIGN_CT_DOC_DL;

        } else if (!(arg.len == 1 && arg.data[0] == '0')) {
            return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_request",
                                        "download is 0 or 1");
        }
    }

    op = ngx_esign_ct_op(r, ctx, action);
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_esign_ct_load(r, ctx, action, op->id, &c, &masked, &rc)
        != NGX_OK)
    {
        return rc;
    }

    /* R-ACC-3: the masked tier never gets the original */

    if (masked) {
        json_decref(c);
        return ngx_esign_send_ct_error(r, NGX_ESIGN_CT_FORBIDDEN);
    }

    s = json_string_value(json_object_get(c, "document_type"));
    ngx_cpystrn((u_char *) op->doc_type, (u_char *) (s ? s : "pdf"),
                sizeof(op->doc_type));

    json_decref(c);

    if (ngx_esign_task_post(r, ctx, ngx_esign_ct_doc_run, op,
                            ngx_esign_ct_doc_read)
        != NGX_OK)
    {
        return ngx_esign_send_unavailable(r);
    }

    return NGX_DONE;
}


static void
ngx_esign_ct_doc_run(void *data, ngx_log_t *log)
{
    ngx_esign_ct_op_t  *op = data;

    json_t      *c;
    MDB_txn     *txn;
    const char  *owner, *doc_id;

    if (mdb_txn_begin(op->env, NULL, MDB_RDONLY, &txn) != 0) {
        return;
    }

    if (esign_contract_get(txn, op->dbis, op->id, &c) == 0) {
        owner = json_string_value(json_object_get(
                    json_object_get(c, "initiator"), "institution_id"));
        doc_id = json_string_value(json_object_get(c, "document_id"));

        if (owner != NULL && doc_id != NULL
            && esign_doc_read(txn, op->dbis, (char *) op->kek.data,
                              op->kek.len, owner, doc_id, &op->doc,
                              &op->doc_len)
               != 0)
        {
            op->doc = NULL;
        }

        json_decref(c);
    }

    mdb_txn_abort(txn);
}


static ngx_int_t
ngx_esign_ct_doc_read(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    ngx_esign_ct_op_t  *op;

    op = ctx->task_data;

    if (op->doc == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "esign: the document of contract \"%s\" does not "
                      "decrypt", op->id);
        return ngx_esign_send_unavailable(r);
    }

    /* R-AUD-2: count the read, audit it, then send */

    if (ngx_esign_store_write(r, ctx, ngx_esign_ct_doc_txn, op,
                              ngx_esign_ct_doc_send)
        != NGX_OK)
    {
        return ngx_esign_send_unavailable(r);
    }

    return NGX_DONE;
}


static int
ngx_esign_ct_doc_txn(MDB_txn *txn, MDB_dbi *dbis, void *data)
{
    ngx_esign_ct_op_t  *op = data;

    int      rc;
    char     key[160];
    json_t  *c, *reads;

    rc = esign_contract_get(txn, dbis, op->id, &c);
    if (rc != 0) {
        return rc;
    }

    snprintf(key, sizeof(key), "%s/%s", op->inst_id, op->account_id);

    reads = json_object_get(c, "reads");
    if (!json_is_object(reads)) {
        reads = json_object();
        json_object_set_new(c, "reads", reads);
    }

    json_object_set_new(reads, key, json_integer(
                            json_integer_value(json_object_get(reads, key))
                            + 1));

    rc = esign_contract_put(txn, dbis, c);

    if (rc == 0) {
        rc = esign_audit_append(txn, dbis, op->inst_id, op->account_id,
                                op->action == NGX_ESIGN_CT_DOC_DL
                                ? "contract_download" : "contract_read",
                                op->id, NULL, op->client_ip, op->now_ms);
    }

    json_decref(c);

    return rc;
}


static ngx_int_t
ngx_esign_ct_doc_send(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    u_char             *p;
    ngx_int_t           rc;
    ngx_buf_t          *b;
    ngx_str_t           v;
    ngx_chain_t         out;
    ngx_esign_ct_op_t  *op;

    op = ngx_esign_store_data(ctx);

    if (ngx_esign_store_rc(ctx) != 0) {
        return ngx_esign_send_unavailable(r);
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = op->doc_len;

    if (ngx_strcmp(op->doc_type, "ofd") == 0) {
        ngx_str_set(&r->headers_out.content_type, "application/ofd");

    } else {
        ngx_str_set(&r->headers_out.content_type, "application/pdf");
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;

    p = ngx_pnalloc(r->pool, 80);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    v.data = p;
    v.len = ngx_snprintf(p, 80, "%s; filename=\"%s.%s\"",
                         op->action == NGX_ESIGN_CT_DOC_DL
                         ? "attachment" : "inline",
                         op->id, op->doc_type)
            - p;

    ngx_str_set(&r->headers_out.charset, "");

    if (ngx_esign_add_header(r, "Content-Disposition", &v) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&v, "no-store");
    (void) ngx_esign_add_header(r, "Cache-Control", &v);
    ngx_str_set(&v, "nosniff");
    (void) ngx_esign_add_header(r, "X-Content-Type-Options", &v);

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the plaintext is freed (and wiped) with the request pool */
    b->pos = op->doc;
    b->last = op->doc + op->doc_len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out);
}


/* ---- GET /contracts/{id}/signatures ----------------------------------- */


static ngx_int_t
ngx_esign_api_contract_signatures(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx)
{
    int                     err;
    char                    id[ESC_RAND_ID_LEN + 1], at[40];
    size_t                  i;
    json_t                 *c, *s, *list, *item, *row;
    MDB_txn                *txn;
    ngx_int_t               rc;
    const char             *cms, *cert;
    ngx_esign_main_conf_t  *emcf;

    if (ngx_esign_ct_load(r, ctx, NGX_ESIGN_CT_SIGNATURES, id, &c, NULL, &rc)
        != NGX_OK)
    {
        return rc;
    }

    emcf = ngx_http_get_module_main_conf(r, ngx_http_esign_module);

    err = mdb_txn_begin(emcf->env, NULL, MDB_RDONLY, &txn);
    if (err != 0) {
        json_decref(c);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "esign: mdb_txn_begin() failed: %s", mdb_strerror(err));
        return ngx_esign_send_unavailable(r);
    }

    list = json_array();

    json_array_foreach(json_object_get(c, "signatures"), i, s) {
        err = esign_db_sig_pems(txn, emcf->dbis, id, s, &row, &cms,
                                      &cert);
        if (err != 0) {
            /* a summary without its PEMs: never answer with a part */
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "esign: signature record of contract \"%s\": %s",
                          id, mdb_strerror(err));
            mdb_txn_abort(txn);
            json_decref(list);
            json_decref(c);
            return ngx_esign_send_unavailable(r);
        }

        ngx_esign_ct_time(json_integer_value(json_object_get(s,
                                                             "signed_at")),
                          at, sizeof(at));

        item = json_pack("{s:O, s:s, s:s, s:s, s:O, s:O}",
                         "institution_id", json_object_get(s,
                                                           "institution_id"),
                         "signature_pem", cms,
                         "certificate_pem", cert,
                         "signed_at", at,
                         "suite", json_object_get(s, "suite"),
                         "digest", json_object_get(s, "digest"));
        if (item != NULL) {
            json_array_append_new(list, item);
        }

        json_decref(row);
    }

    mdb_txn_abort(txn);
    json_decref(c);

    return ngx_esign_ct_send(r, NGX_HTTP_OK,
                             json_pack("{s:s, s:o}", "contract_id", id,
                                       "items", list));
}


/* ---- GET /contracts/{id}/evidence ------------------------------------- */


static json_t *
ngx_esign_ct_ledger_record(json_t *receipt)
{
    size_t       blen, n;
    uint8_t     *bin;
    json_t      *rec;
    esl_entry    e;
    const char  *b64;

    b64 = json_string_value(json_object_get(receipt, "entry_b64"));
    if (b64 == NULL) {
        return NULL;
    }

    blen = esc_b64_decoded_max(ngx_strlen(b64)) + 1;
    bin = malloc(blen);
    rec = NULL;

    if (bin != NULL
        && esc_b64_decode(bin, blen, &n, b64, ngx_strlen(b64), ESC_B64_STD)
           == ESC_CRYPTO_OK
        && esl_entry_decode(bin, n, &e) == ESL_OK)
    {
        rec = esign_evidence_decode(e.payload, e.payload_len);

        if (rec != NULL) {
            json_object_set_new(rec, "kind", json_integer(e.kind));
            json_object_set_new(rec, "tenant",
                                json_stringn(e.tenant, ESL_TENANT_LEN));
        }
    }

    free(bin);

    return rec;
}


static ngx_int_t
ngx_esign_api_contract_evidence(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    char        id[ESC_RAND_ID_LEN + 1], at[40];
    size_t      i;
    json_t     *c, *e, *list, *item, *receipt;
    uint8_t     leaf[32];
    ngx_int_t   rc;

    if (ngx_esign_ct_load(r, ctx, NGX_ESIGN_CT_EVIDENCE, id, &c, NULL, &rc)
        != NGX_OK)
    {
        return rc;
    }

    list = json_array();

    json_array_foreach(json_object_get(c, "evidence"), i, e) {
        ngx_esign_ct_time(json_integer_value(json_object_get(e, "at")),
                          at, sizeof(at));

        receipt = NULL;

        if (ngx_esign_ct_hex32(json_object_get(e, "leaf_hash"), leaf) == 0) {
            receipt = ngx_esign_ledger_receipt(leaf);
        }

        item = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:s, s:b}",
                         "serial", json_object_get(e, "serial"),
                         "stage", json_object_get(e, "stage"),
                         "kind", json_object_get(e, "kind"),
                         "institution_id", json_object_get(e,
                                                           "institution_id"),
                         "shard", json_object_get(e, "shard"),
                         "entry_id", json_object_get(e, "entry_id"),
                         "leaf_hash", json_object_get(e, "leaf_hash"),
                         "at", at,
                         "in_ledger", receipt != NULL);
        if (item == NULL) {
            json_decref(receipt);
            continue;
        }

        if (receipt != NULL) {
            json_object_set_new(item, "record",
                                ngx_esign_ct_ledger_record(receipt));
            json_object_set_new(item, "receipt", receipt);

        } else {
            json_object_set_new(item, "receipt", json_null());
        }

        json_array_append_new(list, item);
    }

    json_decref(c);

    return ngx_esign_ct_send(r, NGX_HTTP_OK,
                             json_pack("{s:s, s:o}", "contract_id", id,
                                       "items", list));
}
