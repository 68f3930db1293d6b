/*
 * Evidence records of the signing workflow (R-EVID-1..4): the canonical
 * TLV payload of docs/evidence.md, the ledger entry around it, and the
 * evidence outbox that makes "acknowledged" mean "durable in the ledger".
 * Plain C (LMDB, jansson, libesl): runs inside write transactions in
 * pool threads and in unit tests.
 */

#ifndef _NGX_ESIGN_EVIDENCE_H_INCLUDED_
#define _NGX_ESIGN_EVIDENCE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <lmdb.h>
#include <jansson.h>

#include "ledger.h"


/* TLV tags (docs/evidence.md); strictly increasing in a payload. */
#define ESIGN_EV_STAGE           0x01
#define ESIGN_EV_CONTRACT        0x02
#define ESIGN_EV_SERIAL          0x03
#define ESIGN_EV_TIME            0x04
#define ESIGN_EV_INST_ID         0x05
#define ESIGN_EV_INST_USCC       0x06
#define ESIGN_EV_INST_NAME       0x07
#define ESIGN_EV_ACCOUNT         0x08
#define ESIGN_EV_NAME_COMMIT     0x09
#define ESIGN_EV_ID_TYPE         0x0a
#define ESIGN_EV_ID_COMMIT       0x0b
#define ESIGN_EV_ORDER           0x0c
#define ESIGN_EV_OP_TIME         0x0d
#define ESIGN_EV_VERIFIED_AT     0x0e
#define ESIGN_EV_VERIFY_METHOD   0x0f
#define ESIGN_EV_VERIFY_RESULT   0x10
#define ESIGN_EV_TITLE           0x11
#define ESIGN_EV_NUMBER          0x12
#define ESIGN_EV_VERSION         0x13
#define ESIGN_EV_DOC_SM3         0x14
#define ESIGN_EV_READS           0x15
#define ESIGN_EV_REASON_SM3      0x16
#define ESIGN_EV_PARTY_USCC      0x40
#define ESIGN_EV_PARTY_TIME      0x41
#define ESIGN_EV_PARTY_SIG       0x42

#define ESIGN_EV_MAX_PARTIES     65


/*
 * One evidence record.  NULL strings and unset "has_" fields are left out
 * of the payload; hashes are 32 raw bytes.
 */
typedef struct {
    const char      *stage;       /* initiate confirm reject revoke expire
                                     complete */
    const char      *contract_id;
    uint64_t         serial;
    uint64_t         time_ms;
    const char      *inst_id;
    const char      *uscc;
    const char      *inst_name;
    const char      *account_id;
    const uint8_t   *name_commit;
    const char      *id_type;
    const uint8_t   *id_commit;
    unsigned         has_order:1;
    unsigned         has_op_time:1;
    unsigned         has_reads:1;
    uint64_t         order;
    uint64_t         op_time_ms;
    const char      *verified_at;
    const char      *verify_method;
    const char      *verify_result;
    const char      *title;
    const char      *number;
    const char      *version;
    const uint8_t   *doc_sm3;
    uint64_t         reads;
    const uint8_t   *reason_sm3;

    /* result evidence: one entry per party, in signing order */
    size_t           nparties;
    const char      *party_uscc[ESIGN_EV_MAX_PARTIES];
    uint64_t         party_time[ESIGN_EV_MAX_PARTIES];
    const uint8_t   *party_sig[ESIGN_EV_MAX_PARTIES];
} esign_evidence_t;


/* An encoded ledger entry ready to be staged and appended. */
typedef struct {
    char             shard[ESL_SHARD_MAX + 1];
    char             entry_id[ESL_ENTRY_ID_MAX + 1];
    uint8_t         *bytes;                  /* malloc'ed esl entry */
    size_t           len;
    uint8_t          leaf[ESL_HASH_LEN];     /* SM3(0x00 || bytes) */
} esign_evidence_entry_t;


/* Encodes the TLV payload (malloc'ed).  0 or -1. */
int esign_evidence_encode(const esign_evidence_t *ev, uint8_t **out,
    size_t *len);

/*
 * Decodes a payload strictly (unknown, out-of-order or repeated tags,
 * short values, trailing bytes refuse) into a new JSON object with the
 * field names of docs/evidence.md, hashes in hex.  NULL on any fault.
 */
json_t *esign_evidence_decode(const uint8_t *p, size_t len);

/*
 * Builds the ledger entry of ev: kind ESL_KIND_PROCESS_EVIDENCE or
 * ESL_KIND_RESULT_EVIDENCE, entry_id "<contract>/<serial>", tenant =
 * the acting USCC (18 characters), the given shard.  0 or -1; free
 * out->bytes with free().
 */
int esign_evidence_build(const esign_evidence_t *ev, unsigned kind,
    const char *tenant, const char *shard, esign_evidence_entry_t *out);

/*
 * Stores the entry in ESIGN_DB_EVIDENCE_OUTBOX (key entry_id, value
 * u8 shard length | shard | entry) inside the caller's write
 * transaction.  MDB_ error or 0.
 */
int esign_evidence_stage(MDB_txn *txn, MDB_dbi *dbis,
    const esign_evidence_entry_t *e);

/* 64 lowercase hex digits and a NUL. */
void esign_evidence_hex(const uint8_t *p, size_t len, char *out);


#endif /* _NGX_ESIGN_EVIDENCE_H_INCLUDED_ */
