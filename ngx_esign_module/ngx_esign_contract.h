/*
 * Contract records, their list index, the signing state machine and the
 * small helpers the signing routes share.  The record functions are
 * plain C (LMDB, jansson) and run inside write transactions in pool
 * threads; the ngx_ helpers at the end are for the event loop.
 *
 * Record (ESIGN_DB_CONTRACTS, key contract_id), JSON:
 *   {"id","title","number","version","status","document_id",
 *    "document_sm3","document_sha256","document_size","document_type",
 *    "initiator":{"institution_id","uscc","name","account_id",
 *                 "department","at"},
 *    "participants":[{"institution_id","uscc","name","department",
 *                     "status":"pending|confirmed|rejected","at",
 *                     "order"}],
 *    "created_at","expires_at"|null,"ended_at"|null,"reason"|null,
 *    "reads":{"<inst>/<account>":n},
 *    "signatures":[{"institution_id","signed_at","cms_pem",
 *                   "certificate_pem","digest_sm3"}],
 *    "evidence":[{"serial","stage","institution_id","shard","entry_id",
 *                 "leaf_hash"}],
 *    "archive":{"checked_at","result","checks":[...]}}
 * Times inside records are wall-clock milliseconds; the API renders RFC
 * 3339.
 *
 * Index (ESIGN_DB_CONTRACT_IDX): "<inst_id>/<created ms, 16 hex>/<id>" ->
 * "initiator" or "participant", one key per party, so a party's list is
 * one key range in creation order.
 */

#ifndef _NGX_ESIGN_CONTRACT_H_INCLUDED_
#define _NGX_ESIGN_CONTRACT_H_INCLUDED_


#include "ngx_esign.h"


/* Actions of the state machine (one place decides what a state allows). */
#define NGX_ESIGN_CT_INITIATE    1
#define NGX_ESIGN_CT_READ        2
#define NGX_ESIGN_CT_DOC_READ    3
#define NGX_ESIGN_CT_DOC_DL      4
#define NGX_ESIGN_CT_CONFIRM     5
#define NGX_ESIGN_CT_REJECT      6
#define NGX_ESIGN_CT_REVOKE      7
#define NGX_ESIGN_CT_SIGNATURES  8
#define NGX_ESIGN_CT_EVIDENCE    9
#define NGX_ESIGN_CT_LIST        10
#define NGX_ESIGN_CT_ROUTE       11     /* to a department of the party */

/* answers of the state machine and the authorization adapter */
#define NGX_ESIGN_CT_OK          0
#define NGX_ESIGN_CT_NOT_FOUND   1
#define NGX_ESIGN_CT_FORBIDDEN   2
#define NGX_ESIGN_CT_CONFLICT    3
#define NGX_ESIGN_CT_MASKED      4      /* allowed, mask key fields */


/*
 * The signing state machine (plain C): may "action" by the institution
 * inst_id happen to the contract in its current state?  NGX_ESIGN_CT_OK
 * or NGX_ESIGN_CT_CONFLICT.  Expiry is applied first by the caller with
 * esign_contract_expire_if_due().
 */
int esign_contract_fsm(json_t *contract, int action, const char *inst_id);

/*
 * Applies confirm / reject / revoke by inst_id through the state machine
 * and updates the record (status, the participant's status and "at",
 * ended_at).  NGX_ESIGN_CT_OK or NGX_ESIGN_CT_CONFLICT (unchanged).
 */
int esign_contract_transition(json_t *contract, int action,
    const char *inst_id, uint64_t now_ms);

/*
 * Deadline index (ESIGN_DB_CONTRACT_DUE, "<expires ms, 16 hex>/<id>"):
 * the expiry sweep reads it in deadline order.
 */
int esign_contract_due_put(MDB_txn *txn, MDB_dbi *dbis, json_t *contract);
int esign_contract_due_del(MDB_txn *txn, MDB_dbi *dbis, json_t *contract);

/*
 * Lazy expiry: a "signing" contract past expires_at becomes "expired".
 * Returns 1 when the record changed (the caller stores it), else 0.
 */
int esign_contract_expire_if_due(json_t *contract, uint64_t now_ms);

/* Loads a contract record (new reference): 0 or MDB_NOTFOUND. */
int esign_contract_get(MDB_txn *txn, MDB_dbi *dbis, const char *id,
    json_t **contract);
int esign_contract_put(MDB_txn *txn, MDB_dbi *dbis, json_t *contract);

/* Adds the index keys of every party (at creation). */
int esign_contract_index(MDB_txn *txn, MDB_dbi *dbis, json_t *contract);

/* The participant entry of inst_id, or NULL. */
json_t *esign_contract_party(json_t *contract, const char *inst_id);

/* Looks up an institution ID by USCC into out (64 bytes). 0 or error. */
int esign_uscc_lookup(MDB_txn *txn, MDB_dbi *dbis, const char *uscc,
    char *out, size_t outsz);


/* nginx-side helpers shared by the signing routes */
uint64_t ngx_esign_now_ms(void);
ngx_int_t ngx_esign_cstr(char *dst, size_t size, ngx_str_t *src);
ngx_int_t ngx_esign_send_unavailable(ngx_http_request_t *r);
ngx_int_t ngx_esign_send_ct_error(ngx_http_request_t *r, int code);

/*
 * The authorization decision (core/esc_authz.h) for an action on a
 * contract record (NULL for initiate/list).  Returns one of the
 * NGX_ESIGN_CT_ answers (OK, MASKED, NOT_FOUND, FORBIDDEN).
 */
ngx_int_t ngx_esign_contract_authorize(ngx_esign_actor_t *actor, int action,
    json_t *contract);

/* Renders a record for an API answer (new reference), masked or not. */
json_t *ngx_esign_contract_view(json_t *contract, ngx_esign_actor_t *actor,
    ngx_uint_t masked);


/* The expiry sweep timer of a worker (ngx_esign_api_contracts.c). */
ngx_int_t ngx_esign_contract_sweep_init(ngx_cycle_t *cycle,
    ngx_esign_main_conf_t *emcf);
void ngx_esign_contract_sweep_exit(void);


extern ngx_esign_route_t  ngx_esign_document_routes[];
extern ngx_esign_route_t  ngx_esign_contract_routes[];


#endif /* _NGX_ESIGN_CONTRACT_H_INCLUDED_ */
