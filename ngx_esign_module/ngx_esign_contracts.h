/*
 * Internal to the contract routes (ngx_esign_api_contracts.c: routes,
 * shared helpers and the read routes; ngx_esign_contract_actions.c:
 * initiate, confirm, reject, revoke; ngx_esign_contract_sweep.c: the
 * expiry sweep): the per-request operation and the helpers they share.
 */

#ifndef _NGX_ESIGN_CONTRACTS_H_INCLUDED_
#define _NGX_ESIGN_CONTRACTS_H_INCLUDED_


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
#include "esc_validate.h"


/* outcomes besides the NGX_ESIGN_CT_ answers */
#define NGX_ESIGN_CT_TOKEN       10     /* 403 verification_required */
#define NGX_ESIGN_CT_BAD         11     /* 400 invalid_request, op->msg */
#define NGX_ESIGN_CT_ERROR       12     /* 503 */

#define NGX_ESIGN_CT_MAX_EV      3
#define NGX_ESIGN_LIST_DEFAULT   50
#define NGX_ESIGN_LIST_MAX       500
#define NGX_ESIGN_LIST_SCAN      5000
#define NGX_ESIGN_SWEEP_MAX      64


/* The acting person and verification, as the evidence records them. */
typedef struct {
    uint8_t                    name_commit[ESC_BLIND_LEN];
    uint8_t                    id_commit[ESC_BLIND_LEN];
    char                       id_type[32];
    unsigned                   has_name:1;
    unsigned                   has_id:1;
    json_t                    *verification;    /* token record */
} ngx_esign_ct_person_t;


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
    char                      *route_department;  /* route */
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
    char                       doc_owner[64];    /* confirm: initiator */
    char                     (*usccs)[ESL_TENANT_LEN + 1];
    size_t                     nusccs;
    int64_t                    expires_at;       /* 0: none */

    /* confirm: made in the thread before the transaction */
    unsigned                   sign:1;
    esign_signature_t          sig;
    int                        sign_rc;

    /*
     * confirm: the contract as the event loop read it; when this looks
     * like the last confirmation, the thread verifies every signature
     * ahead of the archive check (outside the write transaction)
     */
    json_t                    *snapshot;
    ngx_str_t                  snapshot_raw;     /* its stored bytes */
    esign_archive_pre_t        pre[ESC_CONTRACT_MAX_PARTICIPANTS];
    size_t                     npre;

    /*
     * the acting person's commitments, computed in the thread ahead of
     * the write transaction, with a fingerprint of the stored bytes they
     * come from; the transaction uses them only if those bytes are
     * unchanged, and computes them itself otherwise
     */
    ngx_esign_ct_person_t      pre_pe;
    uint8_t                    pre_pe_fp[32];
    unsigned                   pre_pe_ok:1;

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




ngx_esign_ct_op_t *ngx_esign_ct_op(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx, int action);
int64_t ngx_esign_ct_parse_time(const char *s);
ngx_int_t ngx_esign_ct_load(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    int action, char *id, json_t **c, ngx_int_t *masked, ngx_int_t *rc);
/* The same, also copying the stored bytes into the request's pool. */
ngx_int_t ngx_esign_ct_load_raw(ngx_http_request_t *r, ngx_esign_ctx_t *ctx,
    int action, char *id, json_t **c, ngx_str_t *raw, ngx_int_t *rc);
ngx_int_t ngx_esign_ct_send(ngx_http_request_t *r, ngx_uint_t status,
    json_t *j);
ngx_int_t ngx_esign_ct_send_outcome(ngx_http_request_t *r,
    ngx_esign_ct_op_t *op);
int ngx_esign_ct_hex32(json_t *s, uint8_t out[32]);
int ngx_esign_ct_expire(MDB_txn *txn, MDB_dbi *dbis, json_t *c, uint64_t now,
    esign_evidence_entry_t *out);

ngx_int_t ngx_esign_api_contract_create(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
ngx_int_t ngx_esign_api_contract_confirm(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
ngx_int_t ngx_esign_api_contract_reject(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
ngx_int_t ngx_esign_api_contract_revoke(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
ngx_int_t ngx_esign_api_contract_route(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);


#endif /* _NGX_ESIGN_CONTRACTS_H_INCLUDED_ */
