/*
 * Detached CMS SignedData (RFC 5652) over a document (R-SIGN-8).
 *
 * One SignerInfo, signer identified by issuer and serial, the signer's
 * certificate included, signed attributes content-type (id-data),
 * message-digest and signing-time; no content (detached).
 *
 * National suite (the signer key is SM2): digest SM3
 * (1.2.156.10197.1.401), signature SM2-with-SM3 (1.2.156.10197.1.501,
 * GM/T 0010) with the distinguishing ID "1234567812345678".  OpenSSL
 * 3.0's CMS layer does not fill in the SM2 signature algorithm, so the
 * SignerInfo is built with CMS_add1_signer(..., CMS_KEY_PARAM), the ID
 * set on its key context, the algorithm set explicitly and the signed
 * attributes signed with CMS_SignerInfo_sign().  `openssl cms -verify`
 * cannot pass a distinguishing ID, so auditors verify these with the
 * recipe in docs/verification.md.
 *
 * International suite (P-256 key): SHA-256 and ecdsa-with-SHA256 through
 * OpenSSL's ordinary CMS_sign(); verifiable with `openssl cms -verify`.
 *
 * Outputs are malloc'ed; free() them.  Inputs are not modified.
 */

#ifndef ESC_CMS_H
#define ESC_CMS_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "esc_crypto.h"

#define ESC_CMS_DIGEST_LEN   32      /* SM3 and SHA-256 */

typedef struct {
    esc_suite_t  suite;
    time_t       signing_time;
    uint8_t      digest[ESC_CMS_DIGEST_LEN];  /* message-digest attribute */
} esc_cms_info_t;


/* SM3 (national) or SHA-256 (international) of a document. */
int esc_cms_digest(esc_suite_t suite, const uint8_t *doc, size_t len,
    uint8_t out[ESC_CMS_DIGEST_LEN]);

/*
 * Signs doc with key (whose suite selects the algorithms); cert must
 * match key.  signing_time 0 means now.  *der receives the DER
 * ContentInfo.
 */
int esc_cms_sign(X509 *cert, EVP_PKEY *key, const uint8_t *doc,
    size_t len, time_t signing_time, uint8_t **der, size_t *derlen);

/*
 * Same from the document digest alone (SM3 for SM2 keys, SHA-256 for
 * P-256 keys, 32 bytes): for large documents whose digest is at hand.
 * The result is identical in form to esc_cms_sign().
 */
int esc_cms_sign_digest(X509 *cert, EVP_PKEY *key, const uint8_t *digest,
    size_t dlen, time_t signing_time, uint8_t **der, size_t *derlen);

/* "-----BEGIN CMS-----" PEM of a DER SignedData; free(). */
int esc_cms_der_to_pem(const uint8_t *der, size_t len, char **pem,
    size_t *pemlen);

/* DER from such a PEM; free(). */
int esc_cms_pem_to_der(const char *pem, size_t len, uint8_t **der,
    size_t *derlen);

/*
 * Verifies a detached SignedData against the document and the expected
 * signer certificate (the certificate chain is checked separately with
 * esc_ca_verify_cert()).  Checks: one SignerInfo, issued by cert's issuer
 * with cert's serial; embedded certificates none or exactly cert (see
 * esc_cms_strip_certs); digest and signature algorithms of cert's suite;
 * content-type id-data; message-digest equal to the document digest;
 * the signature over the DER signed attributes (with the distinguishing
 * ID for SM2).  ESC_CRYPTO_EAUTH for a wrong document, signer or
 * signature, ESC_CRYPTO_EINVAL for malformed input.  info may be NULL.
 */
int esc_cms_verify(const uint8_t *der, size_t len, const uint8_t *doc,
    size_t doclen, X509 *cert, esc_cms_info_t *info);

/* Same against a document digest. */
int esc_cms_verify_digest(const uint8_t *der, size_t len,
    const uint8_t *digest, size_t dlen, X509 *cert, esc_cms_info_t *info);

/*
 * Extracts, from a DER SignedData with exactly one SignerInfo, the signed
 * attributes re-tagged from [0] IMPLICIT (0xA0) to SET OF (0x31), which
 * is the exact input of the signature, and the signature value.  Strict
 * DER walker (definite lengths only).  Outputs point into malloc'ed
 * copies: free() both.
 */
int esc_cms_signed_attrs(const uint8_t *der, size_t len, uint8_t **attrs,
    size_t *attrslen, uint8_t **sig, size_t *siglen);

/*
 * A copy of a DER ContentInfo/SignedData without its certificates field,
 * which must be absent or hold exactly one certificate whose DER is
 * cert_der (else ESC_CRYPTO_EAUTH).  esc_cms_verify_digest parses the
 * copy: the verifier's own certificate is the trust anchor, and decoding
 * the embedded one again (its public key through OpenSSL's decoders) cost
 * more than the signature check.  *out is malloc'ed: free() it.
 */
int esc_cms_strip_certs(const uint8_t *der, size_t len,
    const uint8_t *cert_der, size_t cert_len, uint8_t **out, size_t *outlen);

#endif /* ESC_CMS_H */
