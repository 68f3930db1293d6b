/*
 * Keys of the identity layer (plain C: module threads and esignctl): the
 * KEK ring, the field-encryption and blind-index keys, the platform CA
 * kept in the state database, institution certificates and the
 * institution private key helper the signing code uses.
 */

#ifndef _NGX_ESIGN_PKI_H_INCLUDED_
#define _NGX_ESIGN_PKI_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "esc_kek.h"
#include "esc_fieldenc.h"


#define ESIGN_PKI_OK          0
#define ESIGN_PKI_ERROR      -1     /* OpenSSL, memory or corrupt record */
#define ESIGN_PKI_NOTFOUND   -2     /* no CA / keys yet and create == 0 */


/* The two data keys of personal fields, sealed in META "fieldkeys". */
typedef struct {
    uint8_t   enc[ESC_FIELD_KEY_LEN];     /* SM4 field encryption */
    uint8_t   idx[ESC_FIELD_KEY_LEN];     /* HMAC-SM3 blind index */
} esign_field_keys_t;


/*
 * Loads the field keys; with "create" (write txn) makes and stores them
 * the first time.  ESIGN_PKI_OK, ESIGN_PKI_NOTFOUND or ESIGN_PKI_ERROR.
 */
int esign_pki_field_keys(MDB_txn *txn, MDB_dbi *dbis,
    const esc_kek_ring_t *ring, int create, esign_field_keys_t *keys);

/*
 * Encrypts a personal field bound to "aad" (e.g. "account:<inst>/<id>")
 * into a new json string; NULL on failure.
 */
json_t *esign_pki_field_encrypt(const esign_field_keys_t *keys,
    const char *aad, const char *value, size_t len);

/* Decrypts into out (NUL-terminated, outsz >= ESC_FIELD_MAX + 1). */
int esign_pki_field_decrypt(const esign_field_keys_t *keys, const char *aad,
    const char *enc, char *out, size_t outsz);

/* Blind index (lookup domain) as 64 hex characters and a NUL. */
int esign_pki_blind_index(const esign_field_keys_t *keys, const char *value,
    size_t len, char out[65]);

/*
 * The platform CA (META "ca": certificate PEM and the sealed private
 * key).  With "create" (write txn) the CA is made on first use: SM2,
 * CN "<site> esign platform CA", 10 years.  *key and *cert are new
 * references for the caller.
 */
int esign_pki_ca(MDB_txn *txn, MDB_dbi *dbis, const esc_kek_ring_t *ring,
    const char *site, int create, EVP_PKEY **key, X509 **cert);

/* The CA certificate PEM from META (malloc'ed), or NULL. */
char *esign_pki_ca_pem(MDB_txn *txn, MDB_dbi *dbis);

/* Writes <data>/ca/ca.crt atomically (creates <data>/ca). 0 or -1. */
int esign_pki_write_ca_file(const char *data_dir, const char *pem);

/*
 * Issues the institution's certificate in the caller's write txn: a new
 * SM2 key pair, a serial that is unique in ESIGN_DB_CERTS (recorded
 * there -> inst_id), subject carrying the USCC.  Sets "certificate_pem",
 * "key_wrapped_b64" (sealed PKCS#8 DER, aad = inst_id) and "cert_serial"
 * in inst.  ESIGN_PKI_OK or an error.
 */
int esign_pki_issue_institution(MDB_txn *txn, MDB_dbi *dbis,
    const esc_kek_ring_t *ring, EVP_PKEY *ca_key, X509 *ca_cert,
    json_t *inst);

/*
 * For the signing code: unwraps the institution's private key from its
 * record (key_wrapped_b64, sealed under the KEK with the institution ID
 * as associated data) and parses it.  kek_text: the KEK file contents.
 * Thread-safe.  0 and a new *key, or -1.
 */
int esign_institution_load_key(json_t *inst, const char *kek_text,
    size_t kek_len, EVP_PKEY **key);

/* SM3 of data. */
int esign_sm3(const void *data, size_t len, unsigned char out[32]);

/* Lowercase hex of SM3 of data, 64 characters and a NUL. */
int esign_sm3_hex(const void *data, size_t len, char out[65]);

/* RFC 3339 UTC with milliseconds of a wall-clock time in ms: 25 bytes. */
void esign_rfc3339(uint64_t ms, char out[32]);


#endif /* _NGX_ESIGN_PKI_H_INCLUDED_ */
