/*
 * Contract actions (R-SIGN-1..8, R-ARCH-1/2, R-EVID-1/2, R-AUD-2):
 * initiate, confirm (a real CMS signature made in the pool thread before
 * the state transaction), reject and revoke.
 *
 * Every action is one pool task: the signature (confirm), one LMDB write
 * transaction, group-committed with the other writers of the worker, that
 * re-checks the state, consumes the step-up verification token, updates
 * the record and writes the audit record, the in-site messages and the
 * evidence entry into the evidence outbox; then the entry is appended to
 * the ledger (group commit) and only then is the client answered:
 * acknowledged means durable in the state and in the ledger
 * (docs/evidence.md).
 */


#include <pthread.h>

#include "ngx_esign_contracts.h"


static ngx_int_t ngx_esign_ct_action(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx, int action);
static void ngx_esign_ct_sign_run(MDB_txn *txn, ngx_esign_ct_op_t *op);
static void ngx_esign_ct_run(void *data, ngx_log_t *log);
static ngx_int_t ngx_esign_ct_done(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static int ngx_esign_ct_txn(MDB_txn *txn, MDB_dbi *dbis, void *data);
static unsigned ngx_esign_ct_commit(esign_field_keys_t *keys, const char *aad,
    json_t *acct, const char *field, uint8_t out[ESC_BLIND_LEN]);
static size_t ngx_esign_ct_items(void *data, void *items);
static uint64_t ngx_esign_ct_wall_ms(void);
static void ngx_esign_ct_preverify(MDB_txn *txn, ngx_esign_ct_op_t *op);
static ngx_int_t ngx_esign_ct_copy(char *dst, size_t size, json_t *obj,
    const char *key);
static int ngx_esign_ct_route_txn(MDB_txn *txn, MDB_dbi *dbis,
    ngx_esign_ct_op_t *op);
static ngx_int_t ngx_esign_ct_answer(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);


/* ---- inside the write transaction ------------------------------------ */


static json_t *
ngx_esign_ct_inst(MDB_txn *txn, MDB_dbi *dbis, const char *inst_id)
{
    json_t  *inst;

    /* read-only: shared with the other threads of this worker */

    if (esign_db_get_json_shared(txn, dbis[ESIGN_DB_INSTITUTIONS], inst_id,
                                 strlen(inst_id), &inst)
        != 0)
    {
        return NULL;
    }

    return inst;
}


/* "<inst_id>/<account_id>", the acting account's key; its length, or -1
 * if it does not fit. */
static int
ngx_esign_ct_account_key(ngx_esign_ct_op_t *op, char *key, size_t size)
{
    int  n;

    n = snprintf(key, size, "%s/%s", op->inst_id, op->account_id);

    return n > 0 && (size_t) n < size ? n : -1;
}


/* The keyed commitment of an encrypted personal field: 1, or 0 if none. */
static unsigned
ngx_esign_ct_commit(esign_field_keys_t *keys, const char *aad, json_t *acct,
    const char *field, uint8_t out[ESC_BLIND_LEN])
{
    char         val[ESC_FIELD_MAX + 1];
    unsigned     ok;
    const char  *s;

    s = json_string_value(json_object_get(acct, field));

    ok = s != NULL
         && esign_pki_field_decrypt(keys, aad, s, val, sizeof(val)) == 0
         && esc_blind_index(keys->idx, ESC_BLIND_EVIDENCE, (uint8_t *) val,
                            strlen(val), out)
            == ESC_CRYPTO_OK;

    OPENSSL_cleanse(val, sizeof(val));

    return ok;
}


/*
 * Commitments of the acting person's name and ID number (R-EVID-1); 0 if
 * the keys were at hand (a field may still be absent), -1 otherwise.
 */
static int
ngx_esign_ct_person(MDB_txn *txn, MDB_dbi *dbis, ngx_esign_ct_op_t *op,
    ngx_esign_ct_person_t *pe)
{
    int                  n, rc;
    char                 key[160], aad[192];
    json_t              *acct;
    const char          *s;
    esc_kek_ring_t      *ring;
    esign_field_keys_t   keys;

    n = ngx_esign_ct_account_key(op, key, sizeof(key));
    if (n < 0) {
        return -1;
    }

    if (esign_db_get_json(txn, dbis[ESIGN_DB_ACCOUNTS], key, n, &acct) != 0)
    {
        return -1;
    }

    if (esc_kek_parse((char *) op->kek.data, op->kek.len, &ring)
        != ESC_CRYPTO_OK)
    {
        json_decref(acct);
        return -1;
    }

    rc = -1;

    if (esign_pki_field_keys(txn, dbis, ring, 0, &keys) != ESIGN_PKI_OK) {
        goto done;
    }

    rc = 0;

    snprintf(aad, sizeof(aad), "account:%s", key);

    pe->has_name = ngx_esign_ct_commit(&keys, aad, acct, "real_name_enc",
                                       pe->name_commit);
    pe->has_id = ngx_esign_ct_commit(&keys, aad, acct, "id_number_enc",
                                     pe->id_commit);

    s = json_string_value(json_object_get(acct, "id_type"));
    if (s != NULL && strlen(s) < sizeof(pe->id_type)) {
        strcpy(pe->id_type, s);
    }

    OPENSSL_cleanse(&keys, sizeof(keys));

done:

    esc_kek_free(ring);
    json_decref(acct);

    return rc;
}


/*
 * SHA-256 over the stored bytes the commitments come from: the account
 * record and the sealed field keys (each length-prefixed).  0 or -1.
 */
static int
ngx_esign_ct_person_fp(MDB_txn *txn, MDB_dbi *dbis, ngx_esign_ct_op_t *op,
    uint8_t fp[32])
{
    int           i, n, ok;
    char          key[160];
    uint8_t       len[8];
    size_t        j;
    MDB_val       k[2], v;
    unsigned int  mdlen;
    EVP_MD_CTX   *md;

    static const int  dbs[2] = { ESIGN_DB_ACCOUNTS, ESIGN_DB_META };

    n = ngx_esign_ct_account_key(op, key, sizeof(key));
    if (n < 0) {
        return -1;
    }

    k[0].mv_data = key;
    k[0].mv_size = n;
    k[1].mv_data = "fieldkeys";
    k[1].mv_size = sizeof("fieldkeys") - 1;

    md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return -1;
    }

    ok = 1;

    for (i = 0; ok && i < 2; i++) {
        if (mdb_get(txn, dbis[dbs[i]], &k[i], &v) != 0) {
            v.mv_data = NULL;
            v.mv_size = 0;
        }

        for (j = 0; j < 8; j++) {
            len[j] = (uint8_t) ((uint64_t) v.mv_size >> (56 - 8 * j));
        }

        ok = EVP_DigestUpdate(md, len, sizeof(len)) == 1
             && EVP_DigestUpdate(md, v.mv_data, v.mv_size) == 1;
    }

    mdlen = 32;
    ok = ok && EVP_DigestFinal_ex(md, fp, &mdlen) == 1 && mdlen == 32;

    EVP_MD_CTX_free(md);

    return ok ? 0 : -1;
}


/*
 * Commitments already computed, per worker: the same account acts again
 * and again, and the work behind its commitments (KEK ring, field keys,
 * two decryptions, two HMACs) was 5% of a confirm's CPU.  An entry is
 * found only under the same account key and the same fingerprint of the
 * account record and the sealed field keys, so a changed name, ID
 * number or field key is computed afresh.  The commitments are what the
 * evidence publishes (keyed HMACs), never a name or an ID number.
 */
#define NGX_ESIGN_PE_CACHE  64

typedef struct {
    char                    key[130];
    uint8_t                 fp[32];
    ngx_esign_ct_person_t   pe;
    uint64_t                tick;
} ngx_esign_pe_entry_t;

static ngx_esign_pe_entry_t  ngx_esign_pe_cache[NGX_ESIGN_PE_CACHE];
static uint64_t              ngx_esign_pe_tick;
static pthread_mutex_t       ngx_esign_pe_mu = PTHREAD_MUTEX_INITIALIZER;


static ngx_int_t
ngx_esign_pe_get(const char *key, const uint8_t fp[32],
    ngx_esign_ct_person_t *pe)
{
    ngx_int_t              rc;
    ngx_uint_t             i;
    ngx_esign_pe_entry_t  *e;

    rc = NGX_DECLINED;

    pthread_mutex_lock(&ngx_esign_pe_mu);

    for (i = 0; i < NGX_ESIGN_PE_CACHE; i++) {
        e = &ngx_esign_pe_cache[i];

        if (e->tick != 0 && ngx_strcmp(e->key, key) == 0
            && ngx_memcmp(e->fp, fp, 32) == 0)
        {
            *pe = e->pe;
            e->tick = ++ngx_esign_pe_tick;
            rc = NGX_OK;
            break;
        }
    }

    pthread_mutex_unlock(&ngx_esign_pe_mu);

    return rc;
}


static void
ngx_esign_pe_put(const char *key, const uint8_t fp[32],
    const ngx_esign_ct_person_t *pe)
{
    ngx_uint_t             i;
    ngx_esign_pe_entry_t  *e, *victim;

    pthread_mutex_lock(&ngx_esign_pe_mu);

    victim = &ngx_esign_pe_cache[0];

    for (i = 0; i < NGX_ESIGN_PE_CACHE; i++) {
        e = &ngx_esign_pe_cache[i];

        if (e->tick != 0 && ngx_strcmp(e->key, key) == 0) {
            victim = e;                 /* the account's older entry */
            break;
        }

        if (e->tick < victim->tick) {
            victim = e;
        }
    }

    ngx_cpystrn((u_char *) victim->key, (u_char *) key, sizeof(victim->key));
    ngx_memcpy(victim->fp, fp, 32);
    victim->pe = *pe;
    victim->pe.verification = NULL;
    victim->tick = ++ngx_esign_pe_tick;

    pthread_mutex_unlock(&ngx_esign_pe_mu);
}


/* Thread, before the write transaction: the commitments ahead. */
static void
ngx_esign_ct_person_ahead(MDB_txn *txn, ngx_esign_ct_op_t *op)
{
    char  key[130];

    op->pre_pe_ok = 0;

    ngx_memzero(&op->pre_pe, sizeof(op->pre_pe));

    if (ngx_esign_ct_account_key(op, key, sizeof(key)) < 0
        || ngx_esign_ct_person_fp(txn, op->dbis, op, op->pre_pe_fp) != 0)
    {
        return;
    }

    op->pre_pe_ok = 1;

    if (ngx_esign_pe_get(key, op->pre_pe_fp, &op->pre_pe) == NGX_OK) {
        return;
    }

    if (ngx_esign_ct_person(txn, op->dbis, op, &op->pre_pe) == 0) {
        ngx_esign_pe_put(key, op->pre_pe_fp, &op->pre_pe);
    }
}


/* In the transaction: the commitments ahead if still exact, else now. */
static void
ngx_esign_ct_person_now(MDB_txn *txn, MDB_dbi *dbis, ngx_esign_ct_op_t *op,
    ngx_esign_ct_person_t *pe)
{
    uint8_t  fp[32];

    if (op->pre_pe_ok && ngx_esign_ct_person_fp(txn, dbis, op, fp) == 0
        && ngx_memcmp(fp, op->pre_pe_fp, 32) == 0)
    {
        *pe = op->pre_pe;
        return;
    }

    ngx_memzero(pe, sizeof(*pe));
    (void) ngx_esign_ct_person(txn, dbis, op, pe);
}


int
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
                  " s:{s:s, s:s?, s:s?, s:s, s:s, s:I},"
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
                      "uscc", json_string_value(json_object_get(inst,
                                                                "uscc")),
                      "name", json_string_value(json_object_get(inst,
                                                                "name")),
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

    ngx_esign_ct_person_now(txn, dbis, op, &pe);

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
int
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


/*
 * The contract as stored, for the write transaction.  A confirm's
 * snapshot (parsed on the event loop) is taken over when the stored bytes
 * are still exactly those it was parsed from: one JSON parse of the
 * contract per confirm instead of two.  Taken at most once, so a
 * transaction that is run again after an abort parses the stored bytes
 * afresh rather than reuse an object the aborted run changed.
 */
static int
ngx_esign_ct_get(MDB_txn *txn, MDB_dbi *dbis, ngx_esign_ct_op_t *op,
    json_t **c)
{
    int      rc;
    MDB_val  k, v;

    if (op->snapshot == NULL || op->snapshot_raw.len == 0) {
        return esign_contract_get(txn, dbis, op->id, c);
    }

    k.mv_data = op->id;
    k.mv_size = ngx_strlen(op->id);

    rc = mdb_get(txn, dbis[ESIGN_DB_CONTRACTS], &k, &v);
    if (rc != 0) {
        return rc;
    }

    if (v.mv_size == op->snapshot_raw.len
        && ngx_memcmp(v.mv_data, op->snapshot_raw.data, v.mv_size) == 0)
    {
        *c = op->snapshot;
        op->snapshot = NULL;
        op->snapshot_raw.len = 0;
        return 0;
    }

    return esign_contract_get(txn, dbis, op->id, c);
}


static int
ngx_esign_ct_action_txn(MDB_txn *txn, MDB_dbi *dbis, ngx_esign_ct_op_t *op)
{
    int                     rc, done_all;
    size_t                  i;
    json_int_t              at;
    uint64_t                end;
    char                    key[160], digest[65], sighex[65];
    json_t                 *c, *inst, *party, *reads, *sig, *tok;
    uint8_t                 doc[32], reason[32];
    const char             *stage, *event;
    esign_evidence_t        ev;
    ngx_esign_ct_person_t   pe;

    c = NULL;
    inst = NULL;
    tok = NULL;

    rc = ngx_esign_ct_get(txn, dbis, op, &c);
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

        /* the PEMs in their own record, the summary in the contract */

        rc = esign_db_sig_put(txn, dbis, op->id, op->inst_id,
                                    op->sig.cms_pem, op->sig.cert_pem);
        if (rc != 0) {
            goto failed;
        }

        sig = json_pack("{s:s, s:I, s:s, s:s, s:s}",
                        "institution_id", op->inst_id,
                        "signed_at", (json_int_t) op->sig.signed_at_ms,
                        "digest", digest,
                        "suite", op->sig.suite == ESC_SUITE_NATIONAL
                                 ? "national" : "intl",
                        "sig_sm3", sighex);
        if (sig == NULL) {
            rc = ENOMEM;
            goto failed;
        }

        json_array_append_new(json_object_get(c, "signatures"), sig);

        /*
         * the participant's time is the signing time; signed_at stays
         * the CMS signing-time (the archive compares them)
         */
        op->now_ms = op->sig.signed_at_ms;

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

    ngx_esign_ct_person_now(txn, dbis, op, &pe);

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
        /*
         * The completion is now, which is after every participant's
         * signing time, also when a confirmation signed later than ours
         * committed first (concurrent confirms of one group commit).
         */
        end = ngx_esign_ct_wall_ms();
        end = end > op->now_ms ? end : op->now_ms;

        json_array_foreach(json_object_get(c, "participants"), i, party) {
            at = json_integer_value(json_object_get(party, "at"));
            end = at > 0 && (uint64_t) at > end ? (uint64_t) at : end;
        }

        json_object_set_new(c, "ended_at", json_integer((json_int_t) end));

        /* R-ARCH-1/2: archive with the checks, then the result evidence */

        if (esign_archive_check_txn_pre(txn, dbis, (char *) op->kek.data,
                                        op->kek.len, c, end, op->pre,
                                        op->npre)
            < 0)
        {
            rc = ENOMEM;
            goto failed;
        }

        rc = ngx_esign_ct_result(txn, dbis, c, end, &op->ev[1]);
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


/*
 * Routes the caller's side of a contract to one of its departments
 * (R-ACC-3): a received contract has no department until the receiving
 * institution's top tier routes it; then its business tiers of that
 * department see it.  Not a signing step: audited, no evidence entry.
 */
static int
ngx_esign_ct_route_txn(MDB_txn *txn, MDB_dbi *dbis, ngx_esign_ct_op_t *op)
{
    int          rc;
    char         detail[700];
    json_t      *c, *party;
    const char  *was;

    rc = esign_contract_get(txn, dbis, op->id, &c);
    if (rc != 0) {
        op->outcome = rc == MDB_NOTFOUND ? NGX_ESIGN_CT_NOT_FOUND
                                         : NGX_ESIGN_CT_ERROR;
        return rc;
    }

    party = esign_contract_party(c, op->inst_id);
    if (party == NULL) {
        op->outcome = NGX_ESIGN_CT_NOT_FOUND;
        json_decref(c);
        return MDB_NOTFOUND;
    }

    was = json_string_value(json_object_get(party, "department"));

    snprintf(detail, sizeof(detail), "department=%s was=%s",
             op->route_department, was != NULL ? was : "");

    if (json_object_set_new(party, "department",
                            json_string(op->route_department))
        != 0
        || json_object_set_new(party, "routed_at",
                               json_integer((json_int_t) op->now_ms))
           != 0
        || json_object_set_new(party, "routed_by",
                               json_string(op->account_id))
           != 0)
    {
        json_decref(c);
        return ENOMEM;
    }

    rc = esign_contract_put(txn, dbis, c);

    if (rc == 0) {
        rc = esign_audit_append(txn, dbis, op->inst_id, op->account_id,
                                "contract_route", op->id, detail,
                                op->client_ip, op->now_ms);
    }

    if (rc != 0) {
        json_decref(c);
        return rc;
    }

    op->outcome = NGX_ESIGN_CT_OK;
    op->contract = c;

    return 0;
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
         : op->action == NGX_ESIGN_CT_ROUTE
         ? ngx_esign_ct_route_txn(txn, dbis, op)
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

    MDB_txn  *txn;

    /* one read transaction for the work done ahead of the write */

    if (mdb_txn_begin(op->env, NULL, MDB_RDONLY, &txn) != 0) {
        txn = NULL;
    }

    if (op->sign) {
        /*
         * The signing time (the CMS signing-time attribute, in seconds,
         * and the signature's signed_at) is the transaction time: the
         * archive check compares the two.
         */
        op->now_ms = ngx_esign_ct_wall_ms();
        op->sign_rc = ESIGN_SIGN_ERROR;

        if (txn != NULL) {
            ngx_esign_ct_sign_run(txn, op);
        }

        if (op->sign_rc != ESIGN_SIGN_OK) {
            if (txn != NULL) {
                mdb_txn_abort(txn);
            }

            return;
        }

        ngx_esign_ct_preverify(txn, op);
    }

    op->pre_pe_ok = 0;

    if (txn != NULL) {
        if (op->action != NGX_ESIGN_CT_ROUTE) {
            ngx_esign_ct_person_ahead(txn, op);
        }

        mdb_txn_abort(txn);
    }

    /* the entries durable in the state, then in the ledger */

    op->store_rc = ngx_esign_store_commit_evidence(op->env, op->dbis,
                                                   ngx_esign_ct_txn, op,
                                                   ngx_esign_ct_items,
                                                   &op->ledger_rc);
}


/*
 * Thread, after signing: if every other participant had confirmed when
 * the request read the contract, this confirmation will most likely
 * complete it, and the archive check inside the (serial) write
 * transaction would verify every signature.  Verify them here instead,
 * in parallel with other requests; the transaction uses a result only
 * for a signature whose bytes are exactly those verified here.
 */
static void
ngx_esign_ct_preverify(MDB_txn *txn, ngx_esign_ct_op_t *op)
{
    char         hex[65];
    size_t       i;
    json_t      *p, *sig, *row;
    const char  *id, *st, *cms, *cert;

    op->npre = 0;

    if (op->snapshot == NULL) {
        return;
    }

    json_array_foreach(json_object_get(op->snapshot, "participants"), i, p) {
        id = json_string_value(json_object_get(p, "institution_id"));
        st = json_string_value(json_object_get(p, "status"));

        if (id == NULL || st == NULL
            || (strcmp(id, op->inst_id) != 0
                && strcmp(st, "confirmed") != 0))
        {
            return;                     /* not the last one */
        }
    }

    json_array_foreach(json_object_get(op->snapshot, "signatures"), i, sig) {
        if (op->npre == ESC_CONTRACT_MAX_PARTICIPANTS - 1) {
            break;
        }

        if (esign_db_sig_pems(txn, op->dbis, op->id, sig, &row, &cms,
                                    &cert)
            != 0)
        {
            continue;
        }

        esign_archive_preverify(cms, cert,
            json_string_value(json_object_get(sig, "digest")),
            &op->pre[op->npre++]);

        json_decref(row);
    }

    esign_evidence_hex(op->sig.digest, 32, hex);
    esign_archive_preverify(op->sig.cms_pem, op->sig.cert_pem, hex,
                            &op->pre[op->npre++]);
}


/* The ledger items of a committed action (store group commit callback). */
static size_t
ngx_esign_ct_items(void *data, void *items)
{
    ngx_esign_ct_op_t  *op = data;

    size_t  i;

    for (i = 0; i < op->nev; i++) {
        memcpy(op->items[i].shard, op->ev[i].shard,
               sizeof(op->items[i].shard));
        op->items[i].bytes = op->ev[i].bytes;
        op->items[i].len = op->ev[i].len;
        op->items[i].outbox_key = op->ev[i].entry_id;
    }

    *(ngx_esign_ledger_item_t **) items = op->items;

    return op->nev;
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

    if (op->nev == 0
        && (op->outcome != NGX_ESIGN_CT_OK || op->contract == NULL))
    {
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


ngx_int_t
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


ngx_int_t
ngx_esign_api_contract_confirm(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    return ngx_esign_ct_action(r, ctx, NGX_ESIGN_CT_CONFIRM);
}


ngx_int_t
ngx_esign_api_contract_reject(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    return ngx_esign_ct_action(r, ctx, NGX_ESIGN_CT_REJECT);
}


ngx_int_t
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

    if (ngx_esign_ct_load_raw(r, ctx, action, op->id, &c, &op->snapshot_raw,
                              &rc)
        != NGX_OK)
    {
        return rc;
    }

    /* a quick look at the state: no signing work for a doomed request */

    state = esign_contract_fsm(c, action, op->inst_id);

    /* what the signature is over: the document never changes */

    if (action == NGX_ESIGN_CT_CONFIRM
        && (ngx_esign_ct_copy(op->doc_owner, sizeof(op->doc_owner),
                              json_object_get(c, "initiator"),
                              "institution_id")
            != NGX_OK
            || ngx_esign_ct_copy(op->doc_id, sizeof(op->doc_id), c,
                                 "document_id")
               != NGX_OK))
    {
        json_decref(c);
        return ngx_esign_send_unavailable(r);
    }

    if (esign_contract_expire_if_due(c, op->now_ms)) {
        state = NGX_ESIGN_CT_OK;        /* the transaction records it */
        action = 0;
    }

    if (action == NGX_ESIGN_CT_CONFIRM && state == NGX_ESIGN_CT_OK) {
        op->snapshot = c;               /* freed by the op's cleanup */

    } else {
        json_decref(c);
    }

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


/* Copies a string member (1 .. size - 1 bytes) of obj into dst. */
static ngx_int_t
ngx_esign_ct_copy(char *dst, size_t size, json_t *obj, const char *key)
{
    size_t       len;
    const char  *s;

    s = json_string_value(json_object_get(obj, key));
    if (s == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(s);
    if (len == 0 || len >= size) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst, s, len + 1);

    return NGX_OK;
}


/* ---- POST /contracts/{id}/route --------------------------------------- */


ngx_int_t
ngx_esign_api_contract_route(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    json_t             *c;
    ngx_int_t           rc;
    ngx_esign_ct_op_t  *op;

    op = ngx_esign_ct_op(r, ctx, NGX_ESIGN_CT_ROUTE);
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_esign_ct_load(r, ctx, NGX_ESIGN_CT_ROUTE, op->id, &c, NULL, &rc)
        != NGX_OK)
    {
        return rc;
    }

    json_decref(c);

    op->route_department = ngx_esign_ct_pstr(r, ctx->json, "department",
                                             512);

    if (op->route_department == NULL
        || esc_department_validate((u_char *) op->route_department,
                                   ngx_strlen(op->route_department))
           != ESC_OK)
    {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request",
                                    "department is required: 1-64 "
                                    "characters without '/', '\\' or "
                                    "'*'");
    }

    return ngx_esign_ct_post(r, ctx, op);
}


/*
 * Thread: sign the document's digest of the suite (recorded at upload, so
 * the document is not decrypted) with the institution's key.
 */
static void
ngx_esign_ct_sign_run(MDB_txn *txn, ngx_esign_ct_op_t *op)
{
    json_t   *inst;
    uint8_t   digest[32];

    op->sign_rc = ESIGN_SIGN_ERROR;

    inst = ngx_esign_ct_inst(txn, op->dbis, op->inst_id);

    if (inst == NULL) {
        return;
    }

    if (esign_doc_digest(txn, op->dbis, (char *) op->kek.data, op->kek.len,
                         op->doc_owner, op->doc_id, op->suite, digest)
        == 0)
    {
        op->sign_rc = esign_sign_digest(inst, (char *) op->kek.data,
                                        op->kek.len, op->suite, digest,
                                        op->now_ms, &op->sig);
    }

    json_decref(inst);
}
