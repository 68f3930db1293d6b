/*
 * Step-up verification tokens (R-AUTH-2) in ESIGN_DB_TOKENS, plain C so
 * the signing code consumes a token inside its own write transaction:
 * consuming the token and the state change commit together or not at all.
 *
 * Key: "verify/" + SM3(token) in hex (the token itself is never stored).
 * Value: {"type":"verification","session_hash":<hex SM3 of the session
 * ID>,"account_id","institution_id","method","verified_at","result",
 * "expires_ms"}.
 */

#ifndef _NGX_ESIGN_VERIFY_DB_H_INCLUDED_
#define _NGX_ESIGN_VERIFY_DB_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <lmdb.h>
#include <jansson.h>


#define ESIGN_VERIFY_TTL_MS          (5 * 60 * 1000)   /* at most 5 min */
#define ESIGN_VERIFY_TOKEN_LEN       43                /* base64url, 256 bit */

#define ESIGN_VERIFY_EINVAL          1   /* unknown, used or malformed */
#define ESIGN_VERIFY_EEXPIRED        2   /* older than its expiry */
#define ESIGN_VERIFY_EOTHER_SESSION  3   /* issued to another session */
#define ESIGN_VERIFY_EDB             4   /* LMDB failure */


/*
 * Consumes a token: returns 0 and *record (new reference: {"method",
 * "verified_at" RFC 3339 ms,"result","account_id","institution_id"}) and
 * deletes the token in txn; or one of the codes above (an expired token is
 * deleted as well; a token of another session is left alone).
 */
int esign_verification_consume(MDB_txn *txn, MDB_dbi *dbis,
    const char *token, size_t len, const unsigned char session_hash[32],
    uint64_t now_ms, json_t **record);

/*
 * Creates a token for a successful verification: writes the record and
 * the token text (ESIGN_VERIFY_TOKEN_LEN + 1 bytes) to token_out.
 */
int esign_verification_create(MDB_txn *txn, MDB_dbi *dbis,
    const unsigned char session_hash[32], const char *account_id,
    const char *institution_id, const char *method, uint64_t now_ms,
    uint64_t ttl_ms, char *token_out);


#endif /* _NGX_ESIGN_VERIFY_DB_H_INCLUDED_ */
