/*
 * Contract routes (R-SIGN-1..8, R-ARCH-1/2, R-EVID-1/2/4, R-QUERY-1,
 * R-AUD-2): initiate, list, read, read the document, confirm (a real CMS
 * signature made in the thread pool before the state transaction),
 * reject, revoke, signatures, evidence with ledger receipts, and the
 * expiry sweep.
 *
 * Every action is one LMDB write transaction that re-checks the state,
 * consumes the step-up verification token, updates the record, writes
 * the audit record, the in-site messages and the evidence entry into the
 * evidence outbox; after it commits the entry is appended to the ledger
 * (group commit) and only then is the client answered: acknowledged
 * means durable in the state and in the ledger (docs/evidence.md).
 */


#include "ngx_esign.h"
#include "ngx_esign_db.h"
#include "ngx_esign_contract.h"
#include "ngx_esign_docstore.h"
#include "ngx_esign_ledger.h"
#include "ngx_esign_evidence.h"
#include "ngx_esign_sign.h"
#include "ngx_esign_archive.h"
#include "ngx_esign_audit.h"
#include "ngx_esign_verify_db.h"
#include "ngx_esign_pki.h"
#include "ngx_esign_notify.h"

#include "esc_authz.h"
#include "esc_codec.h"
#include "esc_contract.h"
#include "esc_fieldenc.h"
#include "esc_kek.h"
#include "esc_rand.h"


/* outcomes besides the NGX_ESIGN_CT_ answers */
#define NGX_ESIGN_CT_TOKEN       10     /* 403 verification_required */
#define NGX_ESIGN_CT_BAD         11     /* 400 invalid_request, op->msg */
#define NGX_ESIGN_CT_ERROR       12     /* 503 */

#define NGX_ESIGN_CT_MAX_EV      3
#define NGX_ESIGN_LIST_DEFAULT   50
#define NGX_ESIGN_LIST_MAX       500
#define NGX_ESIGN_LIST_SCAN      5000
#define NGX_ESIGN_SWEEP_MAX      64


typedef struct {
    /* in: copied on the event loop before any thread runs */
    int                        action;
    char                       id[ESC_RAND_ID_LEN + 1];
    char                       inst_id[64];
    char                       account_id[64];
    char                       department[128];
    char                      *client_ip;
    u_char                     session_hash[32];
    char                       token[128];
    size_t                     token_len;
    char                      *reason;
    uint64_t                   now_ms;
    ngx_str_t                  kek;
    int                        suite;
    MDB_env                   *env;
    MDB_dbi                   *dbis;

    /* initiate */
    char                      *title;
    char                      *number;
    char                      *version;
    char                       doc_id[ESC_RAND_ID_LEN + 1];
    char                     (*usccs)[ESL_TENANT_LEN + 1];
    size_t                     nusccs;
    int64_t                    expires_at;       /* 0: none */

    /* confirm: made in the thread before the transaction */
    unsigned                   sign:1;
    esign_signature_t          sig;
    int                        sign_rc;

    /* document read */
    uint8_t                   *doc;
    size_t                     doc_len;
    char                       doc_type[8];

    /* out */
    int                        outcome;
    const char                *msg;
    json_t                    *contract;
    esign_evidence_entry_t     ev[NGX_ESIGN_CT_MAX_EV];
    ngx_esign_ledger_item_t    items[NGX_ESIGN_CT_MAX_EV];
    size_t                     nev;
    int                        store_rc;
    int                        ledger_rc;
} ngx_esign_ct_op_t;


/* The acting person and verification, as the evidence records them. */
typedef struct {
    uint8_t                    name_commit[ESC_BLIND_LEN];
    uint8_t                    id_commit[ESC_BLIND_LEN];
    char                       id_type[32];
    unsigned                   has_name:1;
    unsigned                   has_id:1;
    json_t                    *verification;    /* token record */
} ngx_esign_ct_person_t;


static ngx_int_t ngx_esign_api_contract_create(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_contract_list(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_contract_get(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_contract_document(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_contract_confirm(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_contract_reject(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_contract_revoke(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_contract_signatures(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_contract_evidence(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);

static ngx_int_t ngx_esign_ct_action(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx, int action);
static void ngx_esign_ct_sign_run(ngx_esign_ct_op_t *op);
static void ngx_esign_ct_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_esign_ct_done(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static int ngx_esign_ct_txn(MDB_txn *txn, MDB_dbi *dbis, void *data);
static ngx_int_t ngx_esign_ct_answer(ngx_http_request_t *r,
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
    { 0, NULL, 0, NULL }
};


/* ---- helpers ---------------------------------------------------------- */


static ngx_esign_ct_op_t *
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
static int64_t
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


/*
 * Loads a contract on the event loop and asks the authorization decision;
 * *c is a new reference on NGX_OK.  Otherwise the answer was sent.
 */
static ngx_int_t
ngx_esign_ct_load(ngx_http_request_t *r, ngx_esign_ctx_t *ctx, int action,
    char *id, json_t **c, ngx_int_t *masked, ngx_int_t *rc)
{
    int         err;
    MDB_txn    *txn;
    ngx_int_t   a;
    MDB_dbi     dbis[ESIGN_DB_COUNT];

    if (ngx_esign_ct_id(ctx, id) != NGX_OK) {
        *rc = ngx_esign_send_ct_error(r, NGX_ESIGN_CT_NOT_FOUND);
        return NGX_DECLINED;
    }

    txn = ngx_esign_store_read(r);
    if (txn == NULL) {
        *rc = ngx_esign_send_unavailable(r);
        return NGX_DECLINED;
    }

    dbis[ESIGN_DB_CONTRACTS] = ngx_esign_store_dbi(r, ESIGN_DB_CONTRACTS);

    err = esign_contract_get(txn, dbis, id, c);

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


static ngx_int_t
ngx_esign_ct_send(ngx_http_request_t *r, ngx_uint_t status, json_t *j)
{
    if (j == NULL || ngx_esign_json_pool(r->pool, j) == NULL) {
        return ngx_esign_send_unavailable(r);
    }

    return ngx_esign_send_json(r, status, j);
}


static ngx_int_t
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


/* ---- inside the write transaction ------------------------------------ */


static json_t *
ngx_esign_ct_inst(MDB_txn *txn, MDB_dbi *dbis, const char *inst_id)
{
    json_t  *inst;

    if (esign_db_get_json(txn, dbis[ESIGN_DB_INSTITUTIONS], inst_id,
                          strlen(inst_id), &inst)
        != 0)
    {
        return NULL;
    }

    return inst;
}


/* Commitments of the acting person's name and ID number (R-EVID-1). */
static void
ngx_esign_ct_person(MDB_txn *txn, MDB_dbi *dbis, ngx_esign_ct_op_t *op,
    ngx_esign_ct_person_t *pe)
{
    int                  n;
    char                 key[160], aad[192], val[ESC_FIELD_MAX + 1];
    json_t              *acct;
    const char          *s;
    esc_kek_ring_t      *ring;
    esign_field_keys_t   keys;

    n = snprintf(key, sizeof(key), "%s/%s", op->inst_id, op->account_id);
    if (n <= 0 || (size_t) n >= sizeof(key)) {
        return;
    }

    if (esign_db_get_json(txn, dbis[ESIGN_DB_ACCOUNTS], key, n, &acct) != 0)
    {
        return;
    }

    if (esc_kek_parse((char *) op->kek.data, op->kek.len, &ring)
        != ESC_CRYPTO_OK)
    {
        json_decref(acct);
        return;
    }

    if (esign_pki_field_keys(txn, dbis, ring, 0, &keys) != ESIGN_PKI_OK) {
        goto done;
    }

    snprintf(aad, sizeof(aad), "account:%s", key);

    s = json_string_value(json_object_get(acct, "real_name_enc"));
    if (s != NULL
        && esign_pki_field_decrypt(&keys, aad, s, val, sizeof(val)) == 0
        && esc_blind_index(keys.idx, ESC_BLIND_EVIDENCE, (uint8_t *) val,
                           strlen(val), pe->name_commit)
           == ESC_CRYPTO_OK)
    {
        pe->has_name = 1;
    }

    s = json_string_value(json_object_get(acct, "id_number_enc"));
    if (s != NULL
        && esign_pki_field_decrypt(&keys, aad, s, val, sizeof(val)) == 0
        && esc_blind_index(keys.idx, ESC_BLIND_EVIDENCE, (uint8_t *) val,
                           strlen(val), pe->id_commit)
           == ESC_CRYPTO_OK)
    {
        pe->has_id = 1;
    }

    s = json_string_value(json_object_get(acct, "id_type"));
    if (s != NULL && strlen(s) < sizeof(pe->id_type)) {
        strcpy(pe->id_type, s);
    }

    OPENSSL_cleanse(val, sizeof(val));
    OPENSSL_cleanse(&keys, sizeof(keys));

done:

    esc_kek_free(ring);
    json_decref(acct);
}


static int
ngx_esign_ct_hex32(json_t *s, uint8_t out[32])
{
    size_t       n;
    const char  *v;

    v = json_string_value(s);

    return v != NULL && strlen(v) == 64
           && esc_hex_decode(out, 32, &n, v, 64) == ESC_CRYPTO_OK
           && n == 32 ? 0 : -1;
}


/*
 * Fills the contract facts of an evidence record; doc receives the SM3.
 */
static void
ngx_esign_ct_ev_contract(esign_evidence_t *ev, json_t *c, uint8_t doc[32])
{
    ev->contract_id = json_string_value(json_object_get(c, "id"));
    ev->title = json_string_value(json_object_get(c, "title"));
    ev->number = json_string_value(json_object_get(c, "number"));
    ev->version = json_string_value(json_object_get(c, "version"));

    if (ngx_esign_ct_hex32(json_object_get(c, "document_sm3"), doc) == 0) {
        ev->doc_sm3 = doc;
    }
}


/*
 * Encodes ev as the next evidence record of contract c, stores it in the
 * evidence outbox and lists it in the record.  0 or an error.
 */
static int
ngx_esign_ct_evidence(MDB_txn *txn, MDB_dbi *dbis, json_t *c,
    esign_evidence_t *ev, unsigned kind, const char *tenant,
    const char *shard, esign_evidence_entry_t *out)
{
    int      rc;
    char     leaf[65];
    json_t  *list, *item;

    list = json_object_get(c, "evidence");
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(c, "evidence", list);
    }

    ev->serial = json_array_size(list) + 1;

    if (esign_evidence_build(ev, kind, tenant, shard, out) != 0) {
        return EINVAL;
    }

    rc = esign_evidence_stage(txn, dbis, out);
    if (rc != 0) {
        return rc;
    }

    esign_evidence_hex(out->leaf, 32, leaf);

    item = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I}",
                     "serial", (json_int_t) ev->serial,
                     "stage", ev->stage,
                     "kind", kind == ESL_KIND_RESULT_EVIDENCE
                             ? "result" : "process",
                     "institution_id", ev->inst_id ? ev->inst_id : "",
                     "shard", out->shard,
                     "entry_id", out->entry_id,
                     "leaf_hash", leaf,
                     "at", (json_int_t) ev->time_ms);
    if (item == NULL) {
        return ENOMEM;
    }

    json_array_append_new(list, item);

    return 0;
}


/* The result evidence of a completed contract (R-EVID-2). */
static int
ngx_esign_ct_result(MDB_txn *txn, MDB_dbi *dbis, json_t *c, uint64_t now,
    esign_evidence_entry_t *out)
{
    size_t             i, j, n;
    json_t            *init, *p, *s;
    uint8_t            doc[32], sigs[ESIGN_EV_MAX_PARTIES][32];
    const char        *pid, *sid;
    esign_evidence_t   ev;

    ngx_memzero(&ev, sizeof(ev));

    init = json_object_get(c, "initiator");

    ev.stage = "complete";
    ev.time_ms = now;
    ev.inst_id = json_string_value(json_object_get(init, "institution_id"));
    ev.uscc = json_string_value(json_object_get(init, "uscc"));
    ev.inst_name = json_string_value(json_object_get(init, "name"));
    ev.has_op_time = 1;
    ev.op_time_ms = now;
    ngx_esign_ct_ev_contract(&ev, c, doc);

    n = 0;

    json_array_foreach(json_object_get(c, "participants"), i, p) {
        if (n == ESIGN_EV_MAX_PARTIES) {
            break;
        }

        pid = json_string_value(json_object_get(p, "institution_id"));
        ev.party_uscc[n] = json_string_value(json_object_get(p, "uscc"));
        ev.party_time[n] = json_integer_value(json_object_get(p, "at"));
        ev.party_sig[n] = NULL;

        json_array_foreach(json_object_get(c, "signatures"), j, s) {
            sid = json_string_value(json_object_get(s, "institution_id"));

            if (pid != NULL && sid != NULL && strcmp(pid, sid) == 0
                && ngx_esign_ct_hex32(json_object_get(s, "sig_sm3"),
                                      sigs[n])
                   == 0)
            {
                ev.party_sig[n] = sigs[n];
            }
        }

        if (ev.party_uscc[n] == NULL || ev.party_sig[n] == NULL) {
            return EINVAL;
        }

        n++;
    }

    ev.nparties = n;

    return ngx_esign_ct_evidence(txn, dbis, c, &ev,
                                 ESL_KIND_RESULT_EVIDENCE, ev.uscc,
                                 ev.inst_id, out);
}


static int
ngx_esign_ct_initiate_txn(MDB_txn *txn, MDB_dbi *dbis,
    ngx_esign_ct_op_t *op)
{
    int                     rc;
    char                    pid[64];
    size_t                  i;
    json_t                 *inst, *meta, *c, *parts, *pi, *tok;
    uint8_t                 doc[32];
    const char             *st;
    esc_event_t             e;
    esc_contract_t          cs;
    esign_evidence_t        ev;
    ngx_esign_ct_person_t   pe;
    esc_participant_state_e ps[ESC_CONTRACT_MAX_PARTICIPANTS];

    inst = ngx_esign_ct_inst(txn, dbis, op->inst_id);
    st = json_string_value(json_object_get(inst, "status"));

    if (inst == NULL || st == NULL || strcmp(st, "active") != 0) {
        json_decref(inst);
        op->outcome = NGX_ESIGN_CT_FORBIDDEN;
        return EACCES;
    }

    meta = NULL;
    c = NULL;
    tok = NULL;
    rc = EINVAL;

    if (esign_doc_meta(txn, dbis, op->inst_id, op->doc_id, &meta) != 0) {
        op->outcome = NGX_ESIGN_CT_BAD;
        op->msg = "document_id names no document of this institution";
        goto done;
    }

    if (json_object_get(meta, "contract_id") != NULL) {
        op->outcome = NGX_ESIGN_CT_CONFLICT;
        op->msg = "the document is already used by a contract";
        goto done;
    }

    parts = json_array();
    c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:O, s:O,"
                  " s:{s:s, s:O, s:O, s:s, s:s, s:I},"
                  " s:o, s:I, s:o, s:n, s:n, s:{}, s:[], s:[]}",
                  "id", op->id,
                  "title", op->title,
                  "number", op->number,
                  "version", op->version,
                  "status", "signing",
                  "document_id", op->doc_id,
                  "document_sm3", json_object_get(meta, "sm3"),
                  "document_size", json_object_get(meta, "size"),
                  "document_type", json_object_get(meta, "type"),
                  "initiator",
                      "institution_id", op->inst_id,
                      "uscc", json_object_get(inst, "uscc"),
                      "name", json_object_get(inst, "name"),
                      "account_id", op->account_id,
                      "department", op->department,
                      "at", (json_int_t) op->now_ms,
                  "participants", parts,
                  "created_at", (json_int_t) op->now_ms,
                  "expires_at", op->expires_at
                                ? json_integer(op->expires_at)
                                : json_null(),
                  "ended_at", "reason",
                  "reads", "signatures", "evidence");
    if (c == NULL) {
        rc = ENOMEM;
        goto done;
    }

    /* participants: active institutions, never the initiator */

    for (i = 0; i < op->nusccs; i++) {
        json_t  *pr;

        if (esign_uscc_lookup(txn, dbis, op->usccs[i], pid, sizeof(pid))
            != 0
            || (pr = ngx_esign_ct_inst(txn, dbis, pid)) == NULL)
        {
            op->outcome = NGX_ESIGN_CT_BAD;
            op->msg = "a participant USCC names no registered institution";
            goto done;
        }

        st = json_string_value(json_object_get(pr, "status"));

        if (st == NULL || strcmp(st, "active") != 0) {
            json_decref(pr);
            op->outcome = NGX_ESIGN_CT_BAD;
            op->msg = "a participant institution is not active";
            goto done;
        }

        if (strcmp(pid, op->inst_id) == 0) {
            json_decref(pr);
            op->outcome = NGX_ESIGN_CT_BAD;
            op->msg = "the initiator cannot be a participant";
            goto done;
        }

        pi = json_pack("{s:s, s:O, s:O, s:s, s:s, s:n, s:I}",
                       "institution_id", pid,
                       "uscc", json_object_get(pr, "uscc"),
                       "name", json_object_get(pr, "name"),
                       "department", "",
                       "status", "pending",
                       "at",
                       "order", (json_int_t) (i + 1));
        json_decref(pr);

        if (pi == NULL) {
            rc = ENOMEM;
            goto done;
        }

        json_array_append_new(parts, pi);
        ps[i] = ESC_PS_PENDING;
    }

    /* the state machine has the last word on initiation */

    cs.state = ESC_CS_NEW;
    cs.participants = ps;
    cs.nparticipants = op->nusccs;
    cs.deadline = op->expires_at;

    ngx_memzero(&e, sizeof(e));
    e.type = ESC_EV_INITIATE;
    e.now = (int64_t) op->now_ms;

    if (esc_contract_apply(&cs, &e) != ESC_CS_SIGNING) {
        op->outcome = NGX_ESIGN_CT_BAD;
        op->msg = "expires_at must be in the future";
        goto done;
    }

    /* step-up: the token goes with this transaction or not at all */

    if (esign_verification_consume(txn, dbis, op->token, op->token_len,
                                   op->session_hash, op->now_ms, &tok)
        != 0)
    {
        op->outcome = NGX_ESIGN_CT_TOKEN;
        goto done;
    }

    ngx_memzero(&pe, sizeof(pe));
    ngx_esign_ct_person(txn, dbis, op, &pe);

    ngx_memzero(&ev, sizeof(ev));
    ev.stage = "initiate";
    ev.time_ms = op->now_ms;
    ev.inst_id = op->inst_id;
    ev.uscc = json_string_value(json_object_get(inst, "uscc"));
    ev.inst_name = json_string_value(json_object_get(inst, "name"));
    ev.account_id = op->account_id;
    ev.name_commit = pe.has_name ? pe.name_commit : NULL;
    ev.id_type = pe.id_type[0] ? pe.id_type : NULL;
    ev.id_commit = pe.has_id ? pe.id_commit : NULL;
    ev.has_order = 1;
    ev.order = 0;
    ev.has_op_time = 1;
    ev.op_time_ms = op->now_ms;
    ev.verified_at = json_string_value(json_object_get(tok, "verified_at"));
    ev.verify_method = json_string_value(json_object_get(tok, "method"));
    ev.verify_result = json_string_value(json_object_get(tok, "result"));
    ngx_esign_ct_ev_contract(&ev, c, doc);

    rc = ngx_esign_ct_evidence(txn, dbis, c, &ev, ESL_KIND_PROCESS_EVIDENCE,
                               ev.uscc, op->inst_id, &op->ev[0]);
    if (rc != 0) {
        goto done;
    }

    op->nev = 1;

    rc = esign_contract_put(txn, dbis, c);

    if (rc == 0) {
        rc = esign_contract_index(txn, dbis, c);
    }

    if (rc == 0) {
        rc = esign_contract_due_put(txn, dbis, c);
    }

    if (rc == 0) {
        rc = esign_doc_attach(txn, dbis, op->inst_id, op->doc_id, op->id);
    }

    if (rc == 0) {
        rc = esign_audit_append(txn, dbis, op->inst_id, op->account_id,
                                "contract_initiate", op->id, NULL,
                                op->client_ip, op->now_ms);
    }

    if (rc == 0) {
        rc = esign_notify_contract_event(txn, dbis, c, "initiated",
                                         op->now_ms);
    }

    if (rc == 0) {
        op->outcome = NGX_ESIGN_CT_OK;
        op->contract = c;
        c = NULL;
    }

done:

    json_decref(tok);
    json_decref(c);
    json_decref(meta);
    json_decref(inst);

    if (rc != 0 && op->outcome == NGX_ESIGN_CT_OK) {
        op->outcome = NGX_ESIGN_CT_ERROR;
    }

    return rc;
}


/* An expiry found inside an action's transaction (or the sweep). */
static int
ngx_esign_ct_expire(MDB_txn *txn, MDB_dbi *dbis, json_t *c, uint64_t now,
    esign_evidence_entry_t *out)
{
    int                rc;
    json_t            *init;
    uint8_t            doc[32];
    esign_evidence_t   ev;

    init = json_object_get(c, "initiator");

    ngx_memzero(&ev, sizeof(ev));
    ev.stage = "expire";
    ev.time_ms = now;
    ev.inst_id = json_string_value(json_object_get(init, "institution_id"));
    ev.uscc = json_string_value(json_object_get(init, "uscc"));
    ev.inst_name = json_string_value(json_object_get(init, "name"));
    ev.has_op_time = 1;
    ev.op_time_ms = now;
    ngx_esign_ct_ev_contract(&ev, c, doc);

    rc = ngx_esign_ct_evidence(txn, dbis, c, &ev, ESL_KIND_PROCESS_EVIDENCE,
                               ev.uscc, ev.inst_id, out);

    if (rc == 0) {
        rc = esign_contract_due_del(txn, dbis, c);
    }

    if (rc == 0) {
        rc = esign_contract_put(txn, dbis, c);
    }

    if (rc == 0) {
        rc = esign_notify_contract_event(txn, dbis, c, "expired", now);
    }

    return rc;
}


static int
ngx_esign_ct_action_txn(MDB_txn *txn, MDB_dbi *dbis, ngx_esign_ct_op_t *op)
{
    int                     rc, done_all;
    char                    key[160], digest[65], sighex[65];
    json_t                 *c, *inst, *party, *reads, *sig, *tok;
    uint8_t                 doc[32], reason[32];
    const char             *stage, *event;
    esign_evidence_t        ev;
    ngx_esign_ct_person_t   pe;

    c = NULL;
    inst = NULL;
    tok = NULL;

    rc = esign_contract_get(txn, dbis, op->id, &c);
    if (rc != 0) {
        op->outcome = rc == MDB_NOTFOUND ? NGX_ESIGN_CT_NOT_FOUND
                                         : NGX_ESIGN_CT_ERROR;
        return rc;
    }

    /* a deadline that passed is applied (and kept) before anything */

    if (esign_contract_expire_if_due(c, op->now_ms)) {
        rc = ngx_esign_ct_expire(txn, dbis, c, op->now_ms, &op->ev[0]);
        if (rc == 0) {
            op->nev = 1;
            op->outcome = NGX_ESIGN_CT_CONFLICT;
            op->msg = "the contract has expired";
        }

        json_decref(c);
        return rc;
    }

    if (esign_contract_fsm(c, op->action, op->inst_id) != NGX_ESIGN_CT_OK) {
        op->outcome = NGX_ESIGN_CT_CONFLICT;
        json_decref(c);
        return EBUSY;
    }

    if (esign_verification_consume(txn, dbis, op->token, op->token_len,
                                   op->session_hash, op->now_ms, &tok)
        != 0)
    {
        op->outcome = NGX_ESIGN_CT_TOKEN;
        json_decref(c);
        return EACCES;
    }

    inst = ngx_esign_ct_inst(txn, dbis, op->inst_id);
    if (inst == NULL) {
        rc = MDB_NOTFOUND;
        goto failed;
    }

    stage = op->action == NGX_ESIGN_CT_CONFIRM ? "confirm"
            : op->action == NGX_ESIGN_CT_REJECT ? "reject" : "revoke";

    /* R-AUD-2: how often this account read the document first */

    snprintf(key, sizeof(key), "%s/%s", op->inst_id, op->account_id);
    reads = json_object_get(c, "reads");

    ngx_memzero(&ev, sizeof(ev));

    if (op->action == NGX_ESIGN_CT_CONFIRM) {
        /* the signature made before the transaction is of this document */

        esign_evidence_hex(op->sig.digest, 32, digest);

        if (op->sign_rc != ESIGN_SIGN_OK
            || (op->sig.suite == ESC_SUITE_NATIONAL
                && ngx_strcmp(digest, json_string_value(json_object_get(
                                          c, "document_sm3")))
                   != 0))
        {
            rc = EINVAL;
            goto failed;
        }

        esign_evidence_hex(op->sig.sig_sm3, 32, sighex);

        sig = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s}",
                        "institution_id", op->inst_id,
                        "signed_at", (json_int_t) op->sig.signed_at_ms,
                        "cms_pem", op->sig.cms_pem,
                        "certificate_pem", op->sig.cert_pem,
                        "digest", digest,
                        "suite", op->sig.suite == ESC_SUITE_NATIONAL
                                 ? "national" : "intl",
                        "sig_sm3", sighex);
        if (sig == NULL) {
            rc = ENOMEM;
            goto failed;
        }

        json_array_append_new(json_object_get(c, "signatures"), sig);

        /* the participant's time is the signing time */
        op->now_ms = op->sig.signed_at_ms > op->now_ms
                     ? op->sig.signed_at_ms : op->now_ms;
        json_object_set_new(sig, "signed_at",
                            json_integer((json_int_t) op->now_ms));

        ev.has_reads = 1;
        ev.reads = json_integer_value(json_object_get(reads, key));
    }

    if (esign_contract_transition(c, op->action, op->inst_id, op->now_ms)
        != NGX_ESIGN_CT_OK)
    {
        op->outcome = NGX_ESIGN_CT_CONFLICT;
        rc = EBUSY;
        goto failed;
    }

    if (op->reason != NULL) {
        json_object_set_new(c, "reason", json_string(op->reason));
        json_object_set_new(c, "ended_by",
                            json_string(op->inst_id));
    }

    ngx_memzero(&pe, sizeof(pe));
    ngx_esign_ct_person(txn, dbis, op, &pe);

    party = esign_contract_party(c, op->inst_id);

    ev.stage = stage;
    ev.time_ms = op->now_ms;
    ev.inst_id = op->inst_id;
    ev.uscc = json_string_value(json_object_get(inst, "uscc"));
    ev.inst_name = json_string_value(json_object_get(inst, "name"));
    ev.account_id = op->account_id;
    ev.name_commit = pe.has_name ? pe.name_commit : NULL;
    ev.id_type = pe.id_type[0] ? pe.id_type : NULL;
    ev.id_commit = pe.has_id ? pe.id_commit : NULL;
    ev.has_order = 1;
    ev.order = party ? json_integer_value(json_object_get(party, "order"))
                     : 0;
    ev.has_op_time = 1;
    ev.op_time_ms = op->now_ms;
    ev.verified_at = json_string_value(json_object_get(tok, "verified_at"));
    ev.verify_method = json_string_value(json_object_get(tok, "method"));
    ev.verify_result = json_string_value(json_object_get(tok, "result"));
    ngx_esign_ct_ev_contract(&ev, c, doc);

    if (op->reason != NULL) {
        (void) esign_sm3(op->reason, strlen(op->reason), reason);
        ev.reason_sm3 = reason;
    }

    rc = ngx_esign_ct_evidence(txn, dbis, c, &ev, ESL_KIND_PROCESS_EVIDENCE,
                               ev.uscc, op->inst_id, &op->ev[0]);
    if (rc != 0) {
        goto failed;
    }

    op->nev = 1;

    done_all = ngx_strcmp(json_string_value(json_object_get(c, "status")),
                          "completed") == 0;

    if (done_all) {
        /* R-ARCH-1/2: archive with the checks, then the result evidence */

        if (esign_archive_check_txn(txn, dbis, (char *) op->kek.data,
                                    op->kek.len, c, op->now_ms)
            < 0)
        {
            rc = ENOMEM;
            goto failed;
        }

        rc = ngx_esign_ct_result(txn, dbis, c, op->now_ms, &op->ev[1]);
        if (rc != 0) {
            goto failed;
        }

        op->nev = 2;
    }

    if (json_object_get(c, "status") != NULL
        && ngx_strcmp(json_string_value(json_object_get(c, "status")),
                      "signing") != 0)
    {
        rc = esign_contract_due_del(txn, dbis, c);
        if (rc != 0) {
            goto failed;
        }
    }

    rc = esign_contract_put(txn, dbis, c);
    if (rc != 0) {
        goto failed;
    }

    snprintf(key, sizeof(key), "reads=%llu",
             (unsigned long long) ev.reads);

    rc = esign_audit_append(txn, dbis, op->inst_id, op->account_id,
                            op->action == NGX_ESIGN_CT_CONFIRM
                            ? "contract_confirm"
                            : op->action == NGX_ESIGN_CT_REJECT
                            ? "contract_reject" : "contract_revoke",
                            op->id,
                            op->action == NGX_ESIGN_CT_CONFIRM ? key : NULL,
                            op->client_ip, op->now_ms);
    if (rc != 0) {
        goto failed;
    }

    event = op->action == NGX_ESIGN_CT_CONFIRM
            ? (done_all ? "completed" : "confirmed")
            : op->action == NGX_ESIGN_CT_REJECT ? "rejected" : "revoked";

    rc = esign_notify_contract_event(txn, dbis, c, event, op->now_ms);
    if (rc != 0) {
        goto failed;
    }

    op->outcome = NGX_ESIGN_CT_OK;
    op->contract = c;

    json_decref(inst);
    json_decref(tok);

    return 0;

failed:

    if (op->outcome == NGX_ESIGN_CT_OK) {
        op->outcome = NGX_ESIGN_CT_ERROR;
    }

    json_decref(inst);
    json_decref(tok);
    json_decref(c);

    return rc ? rc : EINVAL;
}


static int
ngx_esign_ct_txn(MDB_txn *txn, MDB_dbi *dbis, void *data)
{
    ngx_esign_ct_op_t  *op = data;

    int  rc;

    op->outcome = NGX_ESIGN_CT_OK;
    op->nev = 0;

    rc = op->action == NGX_ESIGN_CT_INITIATE
         ? ngx_esign_ct_initiate_txn(txn, dbis, op)
         : ngx_esign_ct_action_txn(txn, dbis, op);

    if (rc != 0) {
        /* aborted: nothing was staged, forget the encoded entries */
        op->nev = 0;
    }

    return rc;
}


/* ---- the pool thread: sign, commit, append --------------------------- */


/* Wall-clock milliseconds, usable in a pool thread (no nginx time cache). */
static uint64_t
ngx_esign_ct_wall_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}


/*
 * One pool task per action, so a request leaves the event loop once: the
 * signature (confirm), the state transaction (group commit with the
 * other writers of this worker) and the ledger append of its evidence
 * (group commit as well).  Acknowledged means all three are done.
 */
static void
ngx_esign_ct_run(void *data, ngx_log_t *log)
{
    ngx_esign_ct_op_t  *op = data;

    size_t  i;

    if (op->sign) {
        ngx_esign_ct_sign_run(op);

        if (op->sign_rc != ESIGN_SIGN_OK) {
            return;
        }

        /* the transaction time follows the signing time */
        op->now_ms = ngx_esign_ct_wall_ms();
    }

    op->store_rc = ngx_esign_store_commit(op->env, op->dbis,
                                          ngx_esign_ct_txn, op);

    if (op->store_rc != 0 || op->nev == 0) {
        return;
    }

    /* the entries are durable in the state: now in the ledger */

    for (i = 0; i < op->nev; i++) {
        memcpy(op->items[i].shard, op->ev[i].shard,
               sizeof(op->items[i].shard));
        op->items[i].bytes = op->ev[i].bytes;
        op->items[i].len = op->ev[i].len;
    }

    op->ledger_rc = ngx_esign_ledger_append(op->items, op->nev);
}


/* ---- event loop: the answer ------------------------------------------- */


static ngx_int_t
ngx_esign_ct_done(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    ngx_esign_ct_op_t  *op;

    op = ctx->task_data;

    if (op->sign && op->sign_rc != ESIGN_SIGN_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "esign: signing contract \"%s\" failed: %s",
                      op->id, esign_sign_strerror(op->sign_rc));
        return ngx_esign_send_unavailable(r);
    }

    if (op->store_rc != 0 && op->outcome == NGX_ESIGN_CT_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "esign: contract transaction failed: %s",
                      mdb_strerror(op->store_rc));
        return ngx_esign_send_unavailable(r);
    }

    if (op->nev == 0) {
        return ngx_esign_ct_send_outcome(r, op);
    }

    return ngx_esign_ct_answer(r, ctx);
}


/* Posts the action's task; the caller returns what this returns. */
static ngx_int_t
ngx_esign_ct_post(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    ngx_esign_ct_op_t *op)
{
    if (ngx_esign_task_post(r, ctx, ngx_esign_ct_run, op, ngx_esign_ct_done)
        != NGX_OK)
    {
        return ngx_esign_send_unavailable(r);
    }

    return NGX_DONE;
}


static json_t *
ngx_esign_ct_evidence_refs(ngx_esign_ct_op_t *op)
{
    char     leaf[65];
    size_t   i;
    json_t  *a;

    a = json_array();

    for (i = 0; a != NULL && i < op->nev; i++) {
        esign_evidence_hex(op->ev[i].leaf, 32, leaf);
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}",
                                           "entry_id", op->ev[i].entry_id,
                                           "shard", op->ev[i].shard,
                                           "leaf_hash", leaf,
                                           "index",
                                           (json_int_t)
                                           op->items[i].result.index));
    }

    return a;
}


static ngx_int_t
ngx_esign_ct_answer(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    json_t             *v;
    ngx_esign_ct_op_t  *op;

    op = ctx->task_data;

    if (op->ledger_rc != 0) {
        /*
         * Committed to the state but not yet to the ledger: the outbox
         * sweep finishes it.  Not acknowledged: the client sees 503.
         */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "esign: ledger append failed, the outbox will retry");
        return ngx_esign_send_unavailable(r);
    }

    if (op->outcome != NGX_ESIGN_CT_OK) {
        return ngx_esign_ct_send_outcome(r, op);
    }

    v = ngx_esign_contract_view(op->contract, ctx->actor,
                                ngx_esign_contract_authorize(ctx->actor,
                                    NGX_ESIGN_CT_READ, op->contract)
                                == NGX_ESIGN_CT_MASKED);
    if (v == NULL) {
        return ngx_esign_send_unavailable(r);
    }

    json_object_set_new(v, "evidence", ngx_esign_ct_evidence_refs(op));

    return ngx_esign_ct_send(r, op->action == NGX_ESIGN_CT_INITIATE
                                ? NGX_HTTP_CREATED : NGX_HTTP_OK, v);
}


/* ---- POST /contracts -------------------------------------------------- */


static ngx_int_t
ngx_esign_ct_token(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    ngx_esign_ct_op_t *op)
{
    size_t       len;
    const char  *s;

    s = ngx_esign_json_str(ctx->json, "verification_token", 1,
                           sizeof(op->token) - 1, &len);
    if (s == NULL) {
        return NGX_DECLINED;
    }

    ngx_memcpy(op->token, s, len);
    op->token[len] = '\0';
    op->token_len = len;

    return NGX_OK;
}


static char *
ngx_esign_ct_pstr(ngx_http_request_t *r, json_t *obj, const char *key,
    size_t max)
{
    char        *p;
    size_t       len;
    const char  *s;

    s = ngx_esign_json_str(obj, key, 1, max, &len);
    if (s == NULL || ngx_strlen(s) != len) {
        return NULL;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s, len + 1);

    return p;
}


static ngx_int_t
ngx_esign_api_contract_create(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    size_t              i, j, n, len;
    json_t             *parts, *p, *exp;
    ngx_int_t           a;
    const char         *s;
    ngx_esign_ct_op_t  *op;

    a = ngx_esign_contract_authorize(ctx->actor, NGX_ESIGN_CT_INITIATE,
                                     NULL);
    if (a != NGX_ESIGN_CT_OK && a != NGX_ESIGN_CT_MASKED) {
        return ngx_esign_send_ct_error(r, NGX_ESIGN_CT_FORBIDDEN);
    }

    op = ngx_esign_ct_op(r, ctx, NGX_ESIGN_CT_INITIATE);
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    op->title = ngx_esign_ct_pstr(r, ctx->json, "title", 256);
    op->number = ngx_esign_ct_pstr(r, ctx->json, "number", 64);
    op->version = ngx_esign_ct_pstr(r, ctx->json, "version", 32);

    if (op->title == NULL || op->number == NULL || op->version == NULL) {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "title (1-256), number (1-64) and "
                                    "version (1-32) are required strings");
    }

    s = ngx_esign_json_str(ctx->json, "document_id", 1, 64, &len);
    if (s == NULL || len != ESC_RAND_ID_LEN
        || !esc_rand_id_valid(s, len))
    {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "document_id is required");
    }

    ngx_memcpy(op->doc_id, s, len + 1);

    parts = json_object_get(ctx->json, "participants");
    n = json_array_size(parts);

    if (!json_is_array(parts) || n == 0
        || n > ESC_CONTRACT_MAX_PARTICIPANTS)
    {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "participants must list 1 to 64 "
                                    "institutions");
    }

    op->usccs = ngx_pcalloc(r->pool, n * sizeof(*op->usccs));
    if (op->usccs == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_array_foreach(parts, i, p) {
        s = json_is_object(p) ? ngx_esign_json_str(p, "uscc", 18, 18, &len)
                              : NULL;

        if (s == NULL) {
            return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_uscc",
                                        "every participant needs an "
                                        "18-character uscc");
        }

        for (j = 0; j < 18; j++) {
            if (!((s[j] >= '0' && s[j] <= '9')
                  || (s[j] >= 'A' && s[j] <= 'Z')))
            {
                return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_uscc",
                                            "a participant uscc is "
                                            "malformed");
            }
        }

        for (j = 0; j < i; j++) {
            if (ngx_strncmp(op->usccs[j], s, 18) == 0) {
                return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_request",
                                            "a participant is listed "
                                            "twice");
            }
        }

        ngx_memcpy(op->usccs[i], s, 18);
        op->usccs[i][18] = '\0';
    }

    op->nusccs = n;

    exp = json_object_get(ctx->json, "expires_at");

    if (exp != NULL && !json_is_null(exp)) {
        s = json_string_value(exp);

        if (s == NULL || ngx_strlen(s) > 40
            || (op->expires_at = ngx_esign_ct_parse_time(s)) <= 0)
        {
            return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_request",
                                        "expires_at must be an RFC 3339 "
                                        "time");
        }
    }

    if (ngx_esign_ct_token(r, ctx, op) != NGX_OK) {
        op->outcome = NGX_ESIGN_CT_TOKEN;
        return ngx_esign_ct_send_outcome(r, op);
    }

    if (esc_rand_id(op->id) != 0) {
        return ngx_esign_send_unavailable(r);
    }

    return ngx_esign_ct_post(r, ctx, op);
}


/* ---- confirm, reject, revoke ------------------------------------------ */


static ngx_int_t
ngx_esign_api_contract_confirm(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    return ngx_esign_ct_action(r, ctx, NGX_ESIGN_CT_CONFIRM);
}


static ngx_int_t
ngx_esign_api_contract_reject(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    return ngx_esign_ct_action(r, ctx, NGX_ESIGN_CT_REJECT);
}


static ngx_int_t
ngx_esign_api_contract_revoke(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    return ngx_esign_ct_action(r, ctx, NGX_ESIGN_CT_REVOKE);
}


static ngx_int_t
ngx_esign_ct_action(ngx_http_request_t *r, ngx_esign_ctx_t *ctx, int action)
{
    json_t             *c;
    ngx_int_t           rc, state;
    ngx_esign_ct_op_t  *op;

    op = ngx_esign_ct_op(r, ctx, action);
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_esign_ct_load(r, ctx, action, op->id, &c, NULL, &rc) != NGX_OK) {
        return rc;
    }

    /* a quick look at the state: no signing work for a doomed request */

    state = esign_contract_fsm(c, action, op->inst_id);

    if (esign_contract_expire_if_due(c, op->now_ms)) {
        state = NGX_ESIGN_CT_OK;        /* the transaction records it */
        action = 0;
    }

    json_decref(c);

    if (state != NGX_ESIGN_CT_OK) {
        return ngx_esign_send_ct_error(r, state);
    }

    if (action != NGX_ESIGN_CT_CONFIRM && op->action != NGX_ESIGN_CT_CONFIRM)
    {
        op->reason = ngx_esign_ct_pstr(r, ctx->json, "reason", 1000);

        if (op->reason == NULL) {
            return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_request",
                                        "reason is required (1-1000 "
                                        "bytes)");
        }
    }

    if (ngx_esign_ct_token(r, ctx, op) != NGX_OK) {
        op->outcome = NGX_ESIGN_CT_TOKEN;
        return ngx_esign_ct_send_outcome(r, op);
    }

    /* R-SIGN-8: a confirm signs in the pool first, then one transaction */
    op->sign = action == NGX_ESIGN_CT_CONFIRM;

    return ngx_esign_ct_post(r, ctx, op);
}


/*
 * Thread: sign the document's digest of the suite (recorded at upload, so
 * the document is not decrypted) with the institution's key.
 */
static void
ngx_esign_ct_sign_run(ngx_esign_ct_op_t *op)
{
    json_t      *c, *inst;
    uint8_t      digest[32];
    MDB_txn     *txn;
    const char  *owner, *doc_id;

    op->sign_rc = ESIGN_SIGN_ERROR;

    if (mdb_txn_begin(op->env, NULL, MDB_RDONLY, &txn) != 0) {
        return;
    }

    c = NULL;
    inst = NULL;

    if (esign_contract_get(txn, op->dbis, op->id, &c) != 0) {
        goto done;
    }

    owner = json_string_value(json_object_get(
                json_object_get(c, "initiator"), "institution_id"));
    doc_id = json_string_value(json_object_get(c, "document_id"));
    inst = ngx_esign_ct_inst(txn, op->dbis, op->inst_id);

    if (owner == NULL || doc_id == NULL || inst == NULL) {
        goto done;
    }

    if (esign_doc_digest(txn, op->dbis, (char *) op->kek.data, op->kek.len,
                         owner, doc_id, op->suite, digest)
        != 0)
    {
        goto done;
    }

    op->sign_rc = esign_sign_digest(inst, (char *) op->kek.data,
                                    op->kek.len, op->suite, digest,
                                    op->now_ms, &op->sig);

done:

    mdb_txn_abort(txn);

    json_decref(inst);
    json_decref(c);
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
    char        id[ESC_RAND_ID_LEN + 1], at[40];
    size_t      i;
    json_t     *c, *s, *list, *item;
    ngx_int_t   rc;

    if (ngx_esign_ct_load(r, ctx, NGX_ESIGN_CT_SIGNATURES, id, &c, NULL, &rc)
        != NGX_OK)
    {
        return rc;
    }

    list = json_array();

    json_array_foreach(json_object_get(c, "signatures"), i, s) {
        ngx_esign_ct_time(json_integer_value(json_object_get(s,
                                                             "signed_at")),
                          at, sizeof(at));

        item = json_pack("{s:O, s:O, s:O, s:s, s:O, s:O}",
                         "institution_id", json_object_get(s,
                                                           "institution_id"),
                         "signature_pem", json_object_get(s, "cms_pem"),
                         "certificate_pem", json_object_get(s,
                                                      "certificate_pem"),
                         "signed_at", at,
                         "suite", json_object_get(s, "suite"),
                         "digest", json_object_get(s, "digest"));
        if (item != NULL) {
            json_array_append_new(list, item);
        }
    }

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


/* ---- the expiry sweep -------------------------------------------------- */


typedef struct {
    ngx_esign_main_conf_t     *emcf;
    ngx_thread_task_t         *task;
    ngx_event_t                ev;
    unsigned                   busy:1;
} ngx_esign_ct_sweep_t;


static ngx_esign_ct_sweep_t  ngx_esign_ct_sweep;


static void
ngx_esign_ct_sweep_run(void *data, ngx_log_t *log)
{
    ngx_esign_ct_sweep_t  *sw = data;

    int                       rc;
    char                      id[ESC_RAND_ID_LEN + 1];
    size_t                    n, i;
    json_t                   *c;
    MDB_txn                  *txn;
    MDB_val                   k, v;
    uint64_t                  now, due;
    MDB_cursor               *cur;
    esign_evidence_entry_t    ev[NGX_ESIGN_SWEEP_MAX];
    ngx_esign_ledger_item_t   items[NGX_ESIGN_SWEEP_MAX];

    now = (uint64_t) time(NULL) * 1000;
    n = 0;

    if (mdb_txn_begin(sw->emcf->env, NULL, 0, &txn) != 0) {
        return;
    }

    if (mdb_cursor_open(txn, sw->emcf->dbis[ESIGN_DB_CONTRACT_DUE], &cur)
        != 0)
    {
        mdb_txn_abort(txn);
        return;
    }

    rc = 0;

    while (n < NGX_ESIGN_SWEEP_MAX
           && mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0)
    {
        if (k.mv_size != 17 + ESC_RAND_ID_LEN) {
            (void) mdb_cursor_del(cur, 0);
            continue;
        }

        due = strtoull(k.mv_data, NULL, 16);
        if (due > now) {
            break;
        }

        ngx_memcpy(id, (u_char *) k.mv_data + 17, ESC_RAND_ID_LEN);
        id[ESC_RAND_ID_LEN] = '\0';

        (void) mdb_cursor_del(cur, 0);

        if (esign_contract_get(txn, sw->emcf->dbis, id, &c) != 0) {
            continue;
        }

        if (esign_contract_expire_if_due(c, now)) {
            rc = ngx_esign_ct_expire(txn, sw->emcf->dbis, c, now, &ev[n]);
            if (rc != 0) {
                json_decref(c);
                break;
            }

            n++;
        }

        json_decref(c);
    }

    mdb_cursor_close(cur);

    if (rc != 0 || mdb_txn_commit(txn) != 0) {
        if (rc != 0) {
            mdb_txn_abort(txn);
        }

        n = 0;
    }

    for (i = 0; i < n; i++) {
        ngx_memcpy(items[i].shard, ev[i].shard, sizeof(items[i].shard));
        items[i].bytes = ev[i].bytes;
        items[i].len = ev[i].len;
    }

    /* best effort: the evidence outbox sweep retries what fails here */
    if (n > 0) {
        (void) ngx_esign_ledger_append(items, n);
    }

    for (i = 0; i < NGX_ESIGN_SWEEP_MAX && i < n; i++) {
        free(ev[i].bytes);
    }
}


static void
ngx_esign_ct_sweep_done(ngx_event_t *ev)
{
    ngx_esign_ct_sweep.busy = 0;

    if (!ngx_exiting) {
        ngx_add_timer(&ngx_esign_ct_sweep.ev,
                      ngx_esign_ct_sweep.emcf->expiry_sweep);
    }
}


static void
ngx_esign_ct_sweep_timer(ngx_event_t *ev)
{
    if (ngx_exiting || ngx_esign_ct_sweep.busy) {
        return;
    }

    if (ngx_thread_task_post(ngx_esign_ct_sweep.emcf->thread_pool,
                             ngx_esign_ct_sweep.task)
        != NGX_OK)
    {
        ngx_add_timer(ev, ngx_esign_ct_sweep.emcf->expiry_sweep);
        return;
    }

    ngx_esign_ct_sweep.busy = 1;
}


ngx_int_t
ngx_esign_contract_sweep_init(ngx_cycle_t *cycle, ngx_esign_main_conf_t *emcf)
{
    ngx_esign_ct_sweep_t  *sw;

    sw = &ngx_esign_ct_sweep;

    sw->emcf = emcf;
    sw->busy = 0;

    sw->task = ngx_thread_task_alloc(cycle->pool, 0);
    if (sw->task == NULL) {
        return NGX_ERROR;
    }

    sw->task->ctx = sw;
    sw->task->handler = ngx_esign_ct_sweep_run;
    sw->task->event.handler = ngx_esign_ct_sweep_done;
    sw->task->event.data = sw;

    ngx_memzero(&sw->ev, sizeof(ngx_event_t));
    sw->ev.handler = ngx_esign_ct_sweep_timer;
    sw->ev.data = sw;
    sw->ev.log = cycle->log;
    sw->ev.cancelable = 1;

    ngx_add_timer(&sw->ev, emcf->expiry_sweep);

    return NGX_OK;
}


void
ngx_esign_contract_sweep_exit(void)
{
    if (ngx_esign_ct_sweep.ev.timer_set) {
        ngx_del_timer(&ngx_esign_ct_sweep.ev);
    }
}
