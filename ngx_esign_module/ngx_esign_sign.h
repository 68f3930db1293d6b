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

#include <openssl/x509.h>

#include "esc_crypto.h"
#include "esc_ca.h"


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
 * Signs a document digest with the institution's key of the configured
 * suite (ESC_SUITE_*): digest is the SM3 (national) or SHA-256 (intl) of
 * the document, as recorded at upload (esign_doc_digest()), so the
 * document itself is not needed.  The record fields are chosen by suite
 * (esign_pki_fields()): national "certificate_pem" + "key_wrapped_b64"
 * (sealed with AAD "<id>"), intl "intl_certificate_pem" +
 * "intl_key_wrapped_b64" (AAD "<id>/intl").  now_ms becomes the CMS
 * signing-time (seconds) and signed_at_ms.
 *
 * The unsealed key and the parsed certificate are cached per process
 * (see esign_sign_cache_*), keyed by institution ID, suite and a SHA-256
 * over the KEK text, the sealed key and the certificate PEM, so a
 * re-issued certificate or a changed KEK file is a cache miss.
 *
 * Returns ESIGN_SIGN_OK; ESIGN_SIGN_SUITE when the record has no key of
 * this suite but one of the other (an institution approved before the
 * intl suite existed: it needs `esignctl institution issue-intl`), or a
 * key of the wrong algorithm in the suite's field; ESIGN_SIGN_NOKEY when
 * it has no key at all; ESIGN_SIGN_ERROR otherwise.  Thread-safe.
 */
int esign_sign_digest(json_t *inst, const char *kek, size_t kek_len,
    int suite, const uint8_t digest[32], uint64_t now_ms,
    esign_signature_t *out);

/*
 * The same from the document itself: digests doc with the suite's hash
 * and calls esign_sign_digest().
 */
int esign_sign_document(json_t *inst, const char *kek, size_t kek_len,
    int suite, const uint8_t *doc, size_t len, uint64_t now_ms,
    esign_signature_t *out);

void esign_signature_free(esign_signature_t *s);

/* A log-friendly sentence for an ESIGN_SIGN_* code. */
const char *esign_sign_strerror(int rc);


/*
 * The per-process key cache: at most ESIGN_SIGN_CACHE_MAX entries (least
 * recently used evicted; evicted keys are freed), protected by a mutex.
 * The trade-off (unsealed keys stay in worker memory) is in
 * docs/security.md.
 */
#define ESIGN_SIGN_CACHE_MAX  256

typedef struct {
    size_t      entries;
    uint64_t    hits;
    uint64_t    misses;
    uint64_t    evictions;
} esign_sign_cache_stats_t;

void esign_sign_cache_stats(esign_sign_cache_stats_t *st);

/* Frees every cached key (worker exit, tests). */
void esign_sign_cache_clear(void);

/* Lowers the capacity (1..ESIGN_SIGN_CACHE_MAX; tests of eviction). */
void esign_sign_cache_limit(size_t max);

/*
 * Verifies a stored signature against a document digest of its suite and
 * the certificate PEM: 0 (and *signing_time, may be NULL), else -1.
 */
int esign_sign_verify(const char *cms_pem, const char *cert_pem,
    const uint8_t *digest, size_t dlen, time_t *signing_time);

/*
 * The parsed certificate of a PEM text (a new reference, X509_free it)
 * and, if uscc is not NULL, the USCC of its subject ("" if none), from
 * the per-process certificate cache (keyed by the SHA-256 of the text,
 * at most 64 entries, least recently used evicted) or parsed and cached.
 * 0, or -1 if the text is not a certificate.  Thread-safe.
 */
int esign_sign_cert(const char *pem, X509 **cert,
    char uscc[ESC_USCC_LEN + 1]);

void esign_sign_cert_stats(uint64_t *hits, uint64_t *misses,
    size_t *entries);

/* Frees every cached certificate and zeroes the counters. */
void esign_sign_cert_clear(void);

/* SM3 of the DER inside a CMS PEM (the evidence's signature hash). */
int esign_sign_pem_sm3(const char *cms_pem, uint8_t out[32]);


#endif /* _NGX_ESIGN_SIGN_H_INCLUDED_ */
