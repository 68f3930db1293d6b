/*
 * The state database schema: the named LMDB databases of the state
 * environment and small helpers to store JSON records in them.  Plain C
 * (LMDB and jansson only) so the module, its thread-pool tasks and the
 * esignctl tool share one definition.
 */

#ifndef _NGX_ESIGN_DB_H_INCLUDED_
#define _NGX_ESIGN_DB_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <lmdb.h>
#include <jansson.h>


/*
 * Every record key that belongs to an institution starts with the
 * institution's ID and a '/' (R-ACC-4), so a cursor over one prefix is one
 * tenant's data and nothing else.
 */
typedef enum {
    ESIGN_DB_META = 0,        /* "schema" -> version, site facts */
    ESIGN_DB_INSTITUTIONS,    /* inst_id -> institution record */
    ESIGN_DB_USCC,            /* uscc -> inst_id (unique) */
    ESIGN_DB_ACCOUNTS,        /* inst_id/account_id -> account record */
    ESIGN_DB_USERNAMES,       /* username -> inst_id/account_id (unique) */
    ESIGN_DB_OPERATORS,       /* operator_id -> operator account */
    ESIGN_DB_CONTRACTS,       /* contract_id -> contract record */
    ESIGN_DB_CONTRACT_IDX,    /* inst_id/ts/contract_id -> role */
    ESIGN_DB_DOCUMENTS,       /* inst_id/doc_id -> encrypted document */
    ESIGN_DB_MESSAGES,        /* inst_id/account_id/ts/msg_id -> message */
    ESIGN_DB_AUDIT,           /* inst_id/ts/seq -> audit record */
    ESIGN_DB_OUTBOX,          /* ts/id -> notification to deliver */
    ESIGN_DB_CERTS,           /* serial hex -> inst_id (serials unique) */
    ESIGN_DB_TOKENS,          /* single-use token -> record */
    ESIGN_DB_DOC_BLOBS,       /* inst_id/doc_id -> encrypted body */
    ESIGN_DB_EVIDENCE_OUTBOX, /* entry_id -> ledger entry not yet durable
                                 in the ledger (ngx_esign_ledger.c) */
    ESIGN_DB_CONTRACT_DUE,    /* expires ms hex/contract_id -> "" while
                                 a contract with a deadline is signing */
    ESIGN_DB_SIGNATURES,      /* contract_id/inst_id -> the signature's
                                 CMS PEM, NUL, certificate PEM, NUL */
    ESIGN_DB_COUNT
} esign_db_e;


extern const char  *esign_db_names[ESIGN_DB_COUNT];


#define ESIGN_DB_SCHEMA_VERSION  1
#define ESIGN_DB_MAX_DBS         32

/* 0600 files: the state holds wrapped keys and personal data */
#define ESIGN_DB_MODE            0600


/* Opens (creating when "create") every named database; MDB_ error code. */
int esign_db_open_all(MDB_txn *txn, MDB_dbi *dbis, int create);

/*
 * Stores "json" (not consumed) under key; flags as for mdb_put (e.g.
 * MDB_NOOVERWRITE).  Returns an MDB_ error code or 0.
 */
int esign_db_put_json(MDB_txn *txn, MDB_dbi dbi, const void *key,
    size_t klen, json_t *json, unsigned flags);

/*
 * Loads a JSON record; *out is a new reference the caller releases.
 * Returns 0, MDB_NOTFOUND, or MDB_CORRUPTED when the value is not JSON.
 */
int esign_db_get_json(MDB_txn *txn, MDB_dbi dbi, const void *key,
    size_t klen, json_t **out);
/* The same, also giving the stored bytes (valid until the txn ends). */
int esign_db_get_json_val(MDB_txn *txn, MDB_dbi dbi, const void *key,
    size_t klen, json_t **out, MDB_val *val);

/*
 * The same for records read on every request and rarely changed: *out
 * may be an object shared with other threads of the process (kept with a
 * copy of the stored bytes, at most 64 records, least recently used
 * replaced), returned as long as the stored bytes are unchanged.  The
 * caller must treat it as read-only and json_decref it as usual.
 */
int esign_db_get_json_shared(MDB_txn *txn, MDB_dbi dbi, const void *key,
    size_t klen, json_t **out);

/* Hits so far (tests); and dropping every shared record (worker exit). */
uint64_t esign_db_shared_stats(void);
void esign_db_shared_clear(void);

/*
 * A confirmation's signature PEMs (the CMS and the certificate) live in
 * their own record, "<contract_id>/<inst_id>" in ESIGN_DB_SIGNATURES, so
 * the contract record, read and rewritten by every step, holds only the
 * signature's summary (institution, time, suite, digest, sig_sm3).
 * Records written before kept the PEMs inline in the summary; they are
 * still read from there.
 */
int esign_db_sig_put(MDB_txn *txn, MDB_dbi *dbis, const char *cid,
    const char *inst_id, const char *cms_pem, const char *cert_pem);

/*
 * The PEMs of a signature summary of contract cid.  The record holds
 * the two PEM texts, each with its NUL; *cms and *cert point into the map
 * (valid until the transaction's next write or its end) or, for an older
 * record with inline PEMs, into the summary, which *holder then keeps
 * (json_decref it when done; NULL otherwise).  0, MDB_NOTFOUND, or
 * MDB_CORRUPTED.  txn may be NULL: then only inline PEMs are found.
 */
int esign_db_sig_pems(MDB_txn *txn, MDB_dbi *dbis, const char *cid,
    json_t *sig, json_t **holder, const char **cms, const char **cert);


#endif /* _NGX_ESIGN_DB_H_INCLUDED_ */
