/*
 * Common definitions of the esign crypto library (libescrypto): error
 * codes, algorithm suites and the SM2 distinguishing ID.
 *
 * The library is nginx-free, keeps no global mutable state and every
 * function is safe to call concurrently from several threads as long as
 * the objects passed in are not shared for writing.  No function aborts:
 * every failure is reported as one of the negative codes below.
 */

#ifndef ESC_CRYPTO_H
#define ESC_CRYPTO_H

#include <stddef.h>
#include <stdint.h>


#define ESC_CRYPTO_OK          0
#define ESC_CRYPTO_EINVAL     -1    /* bad argument or malformed input */
#define ESC_CRYPTO_ENOMEM     -2    /* allocation failed */
#define ESC_CRYPTO_ECRYPTO    -3    /* an OpenSSL primitive failed */
#define ESC_CRYPTO_EAUTH      -4    /* MAC, tag or signature mismatch */
#define ESC_CRYPTO_EIO        -5    /* file system error (errno is kept) */
#define ESC_CRYPTO_ENOKEY     -6    /* unknown KEK version */
#define ESC_CRYPTO_ESPACE     -7    /* caller's output buffer too small */
#define ESC_CRYPTO_EPERM      -8    /* key file readable by group/other */
#define ESC_CRYPTO_EEXIST     -9    /* file exists (create refused) */


/* Algorithm suites (architecture.md, "Signatures and certificates"). */
typedef enum {
    ESC_SUITE_NATIONAL = 1,   /* SM2 + SM3 signatures, SM4 encryption */
    ESC_SUITE_INTL     = 2    /* ECDSA P-256 + SHA-256, AES-256-GCM */
} esc_suite_t;


/*
 * The SM2 distinguishing ID used for every SM2 signature made or checked
 * by this library (GM/T 0009 default; GmSSL, BouncyCastle and sm-crypto
 * default to it as well).
 */
#define ESC_SM2_ID          "1234567812345678"
#define ESC_SM2_ID_LEN      16


/* A short, static, English text for an error code (never NULL). */
const char *esc_crypto_strerror(int rc);

/*
 * Frees memory returned by this library that held secret material:
 * wipes len bytes first.  p may be NULL.  Ordinary outputs (ciphertext,
 * DER, strings) are freed with free().
 */
void esc_free_secret(void *p, size_t len);

#endif /* ESC_CRYPTO_H */
