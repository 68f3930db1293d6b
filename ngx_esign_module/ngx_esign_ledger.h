/*
 * The evidence ledger inside a worker: the libesl handle opened in
 * init_process, durable appends with group commit from pool threads,
 * and receipts (shard, index, leaf hash, signed checkpoint, inclusion
 * proof) for the API.
 */

#ifndef _NGX_ESIGN_LEDGER_H_INCLUDED_
#define _NGX_ESIGN_LEDGER_H_INCLUDED_


#include "ngx_esign.h"

#include "ledger.h"


/* One encoded entry to append to a shard. */
typedef struct {
    char                    shard[ESL_SHARD_MAX + 1];
    uint8_t                *bytes;          /* encoded esl entry */
    size_t                  len;
    esl_append_result       result;
    int                     rc;             /* ESL_OK or error */
    const char             *outbox_key;     /* its evidence outbox key */
} ngx_esign_ledger_item_t;


ngx_int_t ngx_esign_ledger_init_process(ngx_cycle_t *cycle,
    ngx_esign_main_conf_t *emcf);
void ngx_esign_ledger_exit_process(ngx_esign_main_conf_t *emcf);

/* The worker's handle (NULL before init_process or after a failure). */
esl_ledger *ngx_esign_ledger(void);

typedef struct ngx_esign_ledger_wait_s  ngx_esign_ledger_wait_t;

/* One caller's append in flight (see ngx_esign_ledger_prepare). */
typedef struct {
    ngx_esign_ledger_item_t   *items;
    size_t                     n;
    ngx_esign_ledger_wait_t   *ws;          /* one per stripe used */
    ngx_esign_ledger_item_t  **refs;
    size_t                     nw;
} ngx_esign_ledger_req_t;

/*
 * Thread side: appends the items durably.  Concurrent callers of one
 * worker are batched per ledger stripe (group commit): for each stripe,
 * one caller leads and writes every waiting item of that stripe, one
 * esl_append_batch per shard, while the others wait; different stripes
 * are written by different callers at the same time.  Returns 0 when
 * every item is durable (appended or duplicate), else -1.
 */
int ngx_esign_ledger_append(ngx_esign_ledger_item_t *items, size_t n);

/*
 * The same in three steps, so that several callers join the queues at
 * once and the first leader of a stripe finds all of their items (the
 * writers of one state batch): prepare each request (no lock; an item
 * that cannot be appended gets its error now), submit them together,
 * then each caller finishes its own (waits, or leads a stripe; 0 or -1
 * as ngx_esign_ledger_append).  Every prepared request must be
 * submitted and finished.
 */
void ngx_esign_ledger_prepare(ngx_esign_ledger_req_t *rq,
    ngx_esign_ledger_item_t *items, size_t n);
void ngx_esign_ledger_submit(ngx_esign_ledger_req_t **rqs, size_t n);
int ngx_esign_ledger_finish(ngx_esign_ledger_req_t *rq);

/*
 * A receipt for the entry with that leaf hash (new JSON reference), or
 * NULL when the ledger does not hold it yet:
 *   {"shard","index","leaf_hash","tree_size","checkpoint",
 *    "inclusion_proof":[hex...],"entry_b64"}
 */
json_t *ngx_esign_ledger_receipt(const u_char leaf[ESL_HASH_LEN]);

/*
 * Moves durable entries of the evidence outbox out of the state (timer,
 * thread side): every outbox entry is appended (idempotent by entry ID)
 * and then deleted.  Runs at start-up so that an action committed to the
 * state just before a crash gets its evidence.
 */
void ngx_esign_ledger_flush_outbox(MDB_env *env, MDB_dbi *dbis);


extern ngx_esign_route_t  ngx_esign_ledger_routes[];


#endif /* _NGX_ESIGN_LEDGER_H_INCLUDED_ */
