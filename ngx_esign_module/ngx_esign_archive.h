/*
 * Archiving of a completed contract (R-ARCH-1, R-ARCH-2): checks the key
 * facts (initiator, participants, signing times, every signature and the
 * document digest) and records the result in the contract record, which
 * every party can read.  Plain C, runs inside the completing write
 * transaction.
 */

#ifndef _NGX_ESIGN_ARCHIVE_H_INCLUDED_
#define _NGX_ESIGN_ARCHIVE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <lmdb.h>
#include <jansson.h>


/*
 * Sets contract["archive"] = {"checked_at" (ms),"result":"passed" |
 * "failed","checks":[{"name","result":"pass"|"fail","detail"}]}.
 * Returns 1 when every check passed, 0 when one failed, -1 on memory
 * failure.
 */
int esign_archive_check(json_t *contract, uint64_t now_ms);

/*
 * The same inside the completing transaction with the document store at
 * hand: intl signatures must also sign exactly the document's SHA-256,
 * read from the document's meta record (esign_doc_digest(); the
 * document is decrypted only for records older than the "sha256"
 * field).  esign_archive_check() alone can check an intl signature's
 * digest only against a "document_sha256" recorded in the contract;
 * without it, only against the digest stored with the signature.
 */
int esign_archive_check_txn(MDB_txn *txn, MDB_dbi *dbis, const char *kek,
    size_t kek_len, json_t *contract, uint64_t now_ms);

/*
 * Signature verification ahead of the archive, outside the write
 * transaction (a completing confirm verifies in its pool thread, in
 * parallel with other requests): the result for exactly these bytes
 * (CMS PEM, certificate PEM, digest hex; key = SHA-256 over the three).
 * The archive check given such results uses the one whose key matches
 * the record's bytes instead of verifying again, so the outcome is the
 * same as verifying inside the transaction.
 */
typedef struct {
    uint8_t   key[32];
    int       ok;
    time_t    signing_time;
    char      cert_uscc[19];      /* the certificate's USCC, or "" */
} esign_archive_pre_t;

void esign_archive_preverify(const char *cms_pem, const char *cert_pem,
    const char *digest_hex, esign_archive_pre_t *pre);

int esign_archive_check_txn_pre(MDB_txn *txn, MDB_dbi *dbis,
    const char *kek, size_t kek_len, json_t *contract, uint64_t now_ms,
    const esign_archive_pre_t *pre, size_t npre);


#endif /* _NGX_ESIGN_ARCHIVE_H_INCLUDED_ */
