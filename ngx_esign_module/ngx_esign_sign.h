/*
 * Real signatures (R-SIGN-8): an institution's private key, unsealed from
 * its record, signs a contract document as a detached CMS SignedData
 * (crypto/esc_cms.h); and the verification the archive runs.  Plain C,
 * thread-safe: the signing runs in the thread pool before the state
 * transaction that stores the signature.
 */

#ifndef _NGX_ESIGN_SIGN_H_INCLUDED_
#define _NGX_ESIGN_SIGN_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>

#include "esc_crypto.h"


#define ESIGN_SIGN_OK          0
#define ESIGN_SIGN_ERROR      -1      /* OpenSSL, memory, corrupt record */
#define ESIGN_SIGN_NOKEY      -2      /* no certificate or sealed key */
#define ESIGN_SIGN_SUITE      -3      /* key suite != configured suite */


typedef struct {
    char       *cms_pem;               /* malloc'ed "BEGIN CMS" PEM */
    char       *cert_pem;              /* malloc'ed copy of the record's */
    uint8_t     digest[32];            /* SM3 (national) / SHA-256 (intl) */
    uint8_t     sig_sm3[32];           /* SM3 of the CMS DER (evidence) */
    int         suite;                 /* ESC_SUITE_* */
    uint64_t    signed_at_ms;
} esign_signature_t;


/*
 * Signs doc with the institution's key (record fields "id",
 * "certificate_pem", "key_wrapped_b64"; the key is sealed under the KEK
 * with the institution ID as associated data).  suite: the configured
 * ESC_SUITE_*, which the key must have.  now_ms becomes the CMS
 * signing-time (seconds) and signed_at_ms.
 */
int esign_sign_document(json_t *inst, const char *kek, size_t kek_len,
    int suite, const uint8_t *doc, size_t len, uint64_t now_ms,
    esign_signature_t *out);

void esign_signature_free(esign_signature_t *s);

/*
 * Verifies a stored signature against a document digest of its suite and
 * the certificate PEM: 0 (and *signing_time, may be NULL), else -1.
 */
int esign_sign_verify(const char *cms_pem, const char *cert_pem,
    const uint8_t *digest, size_t dlen, time_t *signing_time);

/* SM3 of the DER inside a CMS PEM (the evidence's signature hash). */
int esign_sign_pem_sm3(const char *cms_pem, uint8_t out[32]);


#endif /* _NGX_ESIGN_SIGN_H_INCLUDED_ */
