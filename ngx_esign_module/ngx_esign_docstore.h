/*
 * Encrypted document storage (R-ARCH-4): format checks, SM3 digest, one
 * fresh data key per file (SM4-CTR + HMAC-SM3, crypto/esc_docenc.h)
 * wrapped under the current KEK version (crypto/esc_kek.h), KEK rotation
 * by re-wrapping only the small wrapped keys, and expiry of documents no
 * contract uses.  Plain C (LMDB, jansson, libescrypto): the module's pool
 * threads and the esignctl tool share it.
 *
 * Layout in the state environment:
 *   ESIGN_DB_DOCUMENTS  "<inst_id>/<doc_id>" -> JSON metadata
 *       {"id","institution_id","type":"pdf|ofd","size","sm3",
 *        "sha256" (since the intl suite; older records lack it),
 *        "created_at" (ms),"created_by","kek_version","wrapped_key" (b64),
 *        "contract_id" (once a contract uses it)}
 *   ESIGN_DB_DOC_BLOBS  "<inst_id>/<doc_id>" -> esc_docenc blob, AAD =
 *       the key, so a blob cannot be swapped under another record.
 * The body lives apart from its wrapped key so that a KEK rotation
 * rewrites kilobytes, never the documents themselves.
 */

#ifndef _NGX_ESIGN_DOCSTORE_H_INCLUDED_
#define _NGX_ESIGN_DOCSTORE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <lmdb.h>
#include <jansson.h>

#include "esc_kek.h"


#define ESIGN_DOC_PDF        1
#define ESIGN_DOC_OFD        2

#define ESIGN_DOC_KEY_MAX    64            /* inst_id/doc_id */


/* A prepared upload: everything computed outside the write transaction. */
typedef struct {
    char            key[ESIGN_DOC_KEY_MAX];
    size_t          key_len;
    uint8_t        *blob;                  /* malloc'ed */
    size_t          blob_len;
    json_t         *meta;                  /* new reference */
} esign_doc_prepared_t;


/*
 * Checks the bytes against the declared type: PDF starts with "%PDF-" and
 * has "%%EOF" in its last 1024 bytes; OFD is a ZIP ("PK\3\4") naming an
 * "OFD.xml" entry.  Returns ESIGN_DOC_PDF, ESIGN_DOC_OFD, or 0.
 */
int esign_doc_sniff(const uint8_t *p, size_t len, int declared);

/* SM3 of p as 64 lowercase hex digits and a NUL. */
int esign_doc_sm3_hex(const uint8_t *p, size_t len, char out[65]);

/* SHA-256 of p as 64 lowercase hex digits and a NUL. */
int esign_doc_sha256_hex(const uint8_t *p, size_t len, char out[65]);

/*
 * Digests, encrypts under a fresh data key and wraps the key under the
 * current version of the KEK text.  Returns 0 or -1.  The caller frees
 * with esign_doc_prepared_free().
 */
int esign_doc_prepare(const char *kek, size_t kek_len, const char *inst_id,
    const char *doc_id, const char *account_id, int type, const uint8_t *p,
    size_t len, uint64_t now_ms, esign_doc_prepared_t *out);
void esign_doc_prepared_free(esign_doc_prepared_t *d);

/* Stores a prepared upload; MDB_ error code or 0. */
int esign_doc_store(MDB_txn *txn, MDB_dbi *dbis, esign_doc_prepared_t *d);

/* Metadata of a document (new reference); 0 or MDB_NOTFOUND. */
int esign_doc_meta(MDB_txn *txn, MDB_dbi *dbis, const char *inst_id,
    const char *doc_id, json_t **meta);

/*
 * Verifies the MAC and decrypts; *pt is malloc'ed (free with
 * esc_free_secret(*pt, *len)).  Returns 0, MDB_NOTFOUND, or -1 when the
 * key does not unwrap or the blob does not authenticate (nothing is
 * released then).
 */
int esign_doc_read(MDB_txn *txn, MDB_dbi *dbis, const char *kek,
    size_t kek_len, const char *inst_id, const char *doc_id, uint8_t **pt,
    size_t *len);

/*
 * The document digest of a signature suite (ESC_SUITE_*): the SM3
 * (national) or SHA-256 (intl) recorded in the meta record at upload,
 * without decrypting.  A record stored before "sha256" existed is
 * decrypted (esign_doc_read: MAC first) and hashed.  Returns 0,
 * MDB_NOTFOUND, or -1 (malformed record, key or blob that does not
 * authenticate, unknown suite).
 */
int esign_doc_digest(MDB_txn *txn, MDB_dbi *dbis, const char *kek,
    size_t kek_len, const char *owner_inst, const char *doc_id, int suite,
    uint8_t out[32]);

/* Marks a document as used by a contract (it no longer expires). */
int esign_doc_attach(MDB_txn *txn, MDB_dbi *dbis, const char *inst_id,
    const char *doc_id, const char *contract_id);

/*
 * KEK rotation: re-wraps every stored document key under the newest
 * version of new_ring.  Keys are unwrapped with old_ring (NULL: new_ring,
 * which normally still holds the old versions); file bodies are not
 * read or written.  *count (may be NULL) gets the number re-wrapped.
 * Returns 0, an MDB_ error, or -1 when some key does not unwrap (the
 * caller aborts the transaction: nothing changes).
 */
int esign_kek_rotate_state(MDB_txn *txn, MDB_dbi *dbis,
    const esc_kek_ring_t *old_ring, const esc_kek_ring_t *new_ring,
    size_t *count);

/*
 * Deletes documents no contract uses that were created before
 * now_ms - ttl_ms; at most "max" per call.  *count gets the number.
 */
int esign_doc_expire(MDB_txn *txn, MDB_dbi *dbis, uint64_t now_ms,
    uint64_t ttl_ms, size_t max, size_t *count);


#endif /* _NGX_ESIGN_DOCSTORE_H_INCLUDED_ */
