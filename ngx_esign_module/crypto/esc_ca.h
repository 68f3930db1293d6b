/*
 * Platform CA and institution certificates (R-REG-3), key generation and
 * (sealed) private key storage.
 *
 * National suite: SM2 keys, certificates signed SM2-with-SM3
 * (1.2.156.10197.1.501) with the distinguishing ID "1234567812345678".
 * International suite: ECDSA P-256 keys, ecdsa-with-SHA256.  The suite
 * of an issued certificate is the suite of the CA key.
 *
 * CA certificate: self-signed, v3, subject/issuer CN (+ O if given),
 * validity `years` (10 by default), basicConstraints critical CA:TRUE,
 * keyUsage critical keyCertSign + cRLSign, SKI (SHA-1 of the key) and
 * AKI keyid.
 *
 * Institution certificate: v3, subject
 *     CN = <institution name>, O = <institution name>,
 *     organizationIdentifier (2.5.4.97) = "NTRCN-" <USCC>
 * (the ETSI EN 319 412-1 semantics identifier form: "NTR" national trade
 * register, country "CN"; PDF validators display this attribute, and it
 * keeps the USCC out of free-text fields such as OU), validity 1..3
 * years, basicConstraints critical CA:FALSE, keyUsage critical
 * digitalSignature + nonRepudiation, SKI, AKI keyid, and a random
 * positive 128-bit serial number (unique with overwhelming probability:
 * R-REG-3 "no two alike").
 *
 * Objects are OpenSSL's (X509, EVP_PKEY) and owned by the caller (free
 * with X509_free / EVP_PKEY_free).  Functions do not modify the objects
 * passed in, so keys and certificates may be shared between threads.
 */

#ifndef ESC_CA_H
#define ESC_CA_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "esc_crypto.h"
#include "esc_kek.h"

#define ESC_USCC_LEN       18
#define ESC_CA_YEARS       10

/* A fresh SM2 (national) or P-256 (international) key pair. */
int esc_key_generate(esc_suite_t suite, EVP_PKEY **key);

/* Suite of a key: ESC_SUITE_NATIONAL for SM2, ESC_SUITE_INTL for P-256;
 * ESC_CRYPTO_EINVAL for anything else. */
int esc_key_suite(const EVP_PKEY *key);

/*
 * Creates the self-signed platform CA: a new key and certificate.
 * cn is required, o may be NULL, years 1..30.
 */
int esc_ca_create(esc_suite_t suite, const char *cn, const char *o,
    int years, EVP_PKEY **key, X509 **cert);

/*
 * Issues an institution certificate with a freshly generated key pair of
 * the CA's suite.  name: UTF-8 institution name (1..256 bytes); uscc: 18
 * characters [0-9A-Z] (full USCC validation is the identity core's job);
 * years 1..3.  notBefore is now, notAfter is now + years.
 */
int esc_ca_issue(EVP_PKEY *ca_key, X509 *ca_cert, const char *name,
    const char *uscc, int years, EVP_PKEY **key, X509 **cert);

/* Same for an existing public key (renewal). */
int esc_ca_issue_for_key(EVP_PKEY *ca_key, X509 *ca_cert, EVP_PKEY *pub,
    const char *name, const char *uscc, int years, X509 **cert);

/*
 * Verifies cert against the single trust anchor ca at time `at` (0 =
 * now), with the SM2 distinguishing ID for SM2 signatures.  Returns
 * ESC_CRYPTO_OK or ESC_CRYPTO_EAUTH (*reason, may be NULL, receives
 * OpenSSL's X509_V_ERR_* code).
 */
int esc_ca_verify_cert(X509 *ca, X509 *cert, time_t at, int *reason);

/* Copies the USCC from the organizationIdentifier into out (19 bytes). */
int esc_cert_uscc(X509 *cert, char out[ESC_USCC_LEN + 1]);

/* Serial number as uppercase hex, NUL-terminated (out >= 41 bytes). */
int esc_cert_serial_hex(X509 *cert, char *out, size_t outsz);

/* PEM encodings; *pem is malloc'ed, NUL-terminated; free() it. */
int esc_cert_to_pem(X509 *cert, char **pem, size_t *len);
int esc_cert_from_pem(const char *pem, size_t len, X509 **cert);

/*
 * Private key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"); free the
 * result with esc_free_secret(pem, len).  Store it only sealed.
 */
int esc_key_to_pem(EVP_PKEY *key, char **pem, size_t *len);
int esc_key_from_pem(const char *pem, size_t len, EVP_PKEY **key);

/* Public key as PEM ("BEGIN PUBLIC KEY"); free(). */
int esc_pubkey_to_pem(EVP_PKEY *key, char **pem, size_t *len);

/*
 * Private key sealed under the KEK (esc_seal() of the PKCS#8 PEM).  aad
 * should be the owning institution's ID: a sealed key copied to another
 * institution's record does not open (R-REG-3: the key is usable only
 * for that institution).  *out is malloc'ed; free().  Rotation:
 * esc_reseal().
 */
int esc_key_seal(const esc_kek_ring_t *ring, const char *aad,
    EVP_PKEY *key, uint8_t **out, size_t *outlen);
int esc_key_unseal(const esc_kek_ring_t *ring, const char *aad,
    const uint8_t *in, size_t inlen, EVP_PKEY **key);

#endif /* ESC_CA_H */
