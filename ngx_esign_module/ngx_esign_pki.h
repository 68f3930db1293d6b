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
 * The platform CAs, one per signature suite (esc_suite_t):
 *   national  META "ca":      SM2, CN "<site> esign platform CA",
 *             key sealed with AAD "platform-ca", file <data>/ca/ca.crt;
 *   intl      META "ca_intl": ECDSA P-256, CN "<site> esign platform CA
 *             (intl)", AAD "platform-ca/intl", file <data>/ca/ca-intl.crt.
 * Each record holds the certificate PEM ("cert_pem") and the sealed
 * private key ("key_sealed_b64").  With "create" (write txn) the CA is
 * made on first use, valid 10 years.  *key and *cert are new references
 * for the caller.  esign_pki_ca() is the national CA.
 */
int esign_pki_ca(MDB_txn *txn, MDB_dbi *dbis, const esc_kek_ring_t *ring,
    const char *site, int create, EVP_PKEY **key, X509 **cert);
int esign_pki_ca_suite(MDB_txn *txn, MDB_dbi *dbis,
    const esc_kek_ring_t *ring, const char *site, int suite, int create,
    EVP_PKEY **key, X509 **cert);

/* The CA certificate PEM from META (malloc'ed), or NULL. */
char *esign_pki_ca_pem(MDB_txn *txn, MDB_dbi *dbis);
char *esign_pki_ca_pem_suite(MDB_txn *txn, MDB_dbi *dbis, int suite);

/*
 * Writes <data>/ca/ca.crt (national) or <data>/ca/ca-intl.crt (intl)
 * atomically (creates <data>/ca).  0 or -1.
 */
int esign_pki_write_ca_file(const char *data_dir, const char *pem);
int esign_pki_write_ca_file_suite(const char *data_dir, int suite,
    const char *pem);

/* The institution record fields of one suite's certificate and key. */
typedef struct {
    const char  *cert;         /* "certificate_pem" / "intl_certificate_pem" */
    const char  *key;          /* "key_wrapped_b64" / "intl_key_wrapped_b64" */
    const char  *serial;       /* "cert_serial" / "intl_cert_serial" */
} esign_pki_fields_t;

/* The fields of a suite, or NULL for an unknown suite. */
const esign_pki_fields_t *esign_pki_fields(int suite);

/*
 * Associated data of an institution's sealed private key: "<inst_id>"
 * for the national key (as before the intl suite existed), "<inst_id>/intl"
 * for the P-256 key, so neither opens in another institution's record
 * nor in the other suite's field.  ESIGN_PKI_OK or ESIGN_PKI_ERROR.
 */
int esign_pki_key_aad(const char *inst_id, int suite, char *out,
    size_t size);

/*
 * Issues the institution's certificate in the caller's write txn: a new
 * key pair of the CA's suite, a serial that is unique in ESIGN_DB_CERTS
 * (recorded there -> inst_id; national and intl serials share the
 * index), subject carrying the USCC.  Sets the suite's fields
 * (esign_pki_fields(): certificate PEM, sealed private key with the AAD
 * of esign_pki_key_aad(), serial) in inst.  ESIGN_PKI_OK or an error.
 */
int esign_pki_issue_institution(MDB_txn *txn, MDB_dbi *dbis,
    const esc_kek_ring_t *ring, EVP_PKEY *ca_key, X509 *ca_cert,
    json_t *inst);

#define ESIGN_PKI_SUITE_BIT(s)   (1 << (s))
#define ESIGN_PKI_SUITES_ALL     (ESIGN_PKI_SUITE_BIT(ESC_SUITE_NATIONAL)     \
                                  | ESIGN_PKI_SUITE_BIT(ESC_SUITE_INTL))

/*
 * Loads (creating on first use) the CA of every suite in "which"
 * (ESIGN_PKI_SUITE_BIT()s) and issues the institution's certificate and
 * key of each, in the caller's write txn.  Institution approval issues
 * both suites, so an operator can switch esign_signature_suite without
 * re-approving anyone.
 */
int esign_pki_issue_institution_suites(MDB_txn *txn, MDB_dbi *dbis,
    const esc_kek_ring_t *ring, const char *site, int which, json_t *inst);

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
