/*
 * Password hashing: scrypt through OpenSSL 3's EVP_KDF "SCRYPT", stored as
 * one self-describing string
 *
 *     $scrypt$ln=15,r=8,p=3$<salt>$<hash>
 *
 * where ln is log2(N), salt is 16 random bytes and hash 32 bytes, both in
 * standard base64 without padding (the PHC string format's shape).  The
 * parameters travel with each hash, so raising the cost later needs no
 * migration: old hashes verify with their own parameters and
 * esc_pwhash_needs_rehash() tells the module when to re-hash at login.
 *
 * Every function is thread-safe and blocking (tens to hundreds of
 * milliseconds at production cost): call it from a thread-pool task,
 * never on the event loop.
 */

#ifndef ESC_PWHASH_H
#define ESC_PWHASH_H

#include "esc_core.h"


typedef struct {
    unsigned  log2_n;       /* N = 2^log2_n */
    unsigned  r;            /* block size */
    unsigned  p;            /* parallelism (run sequentially by OpenSSL) */
} esc_scrypt_params_t;

/*
 * Production default: N = 2^15, r = 8, p = 3.  Memory is 128 * r * N =
 * 32 MiB per hash in flight, whatever p is (OpenSSL runs the p lanes one
 * after another), so a worker with 4 pool threads peaks at 128 MiB.  p = 3
 * brings the CPU cost to OWASP's floor: its table lists (2^15, 8, 3) as
 * equivalent to (2^17, 8, 1), which would need 128 MiB per hash.  About
 * 0.25 s per hash on one core here (measured), about 4 logins/s/core.
 */
#define ESC_SCRYPT_DEFAULT  { 15, 8, 3 }

/* Test-only cost: fast, never for stored production hashes. */
#define ESC_SCRYPT_TEST     { 10, 8, 1 }

/*
 * Limits on parameters, for creation and for parsing stored strings (a
 * tampered store must not make a login allocate gigabytes): 1 <= log2_n
 * <= 24, 1 <= r <= 32, 1 <= p <= 16, and 128 * r * N <= 256 MiB.
 */
#define ESC_SCRYPT_MAXMEM   (256u * 1024 * 1024)

#define ESC_PWHASH_SALT_LEN  16
#define ESC_PWHASH_HASH_LEN  32
#define ESC_PWHASH_SIZE      128     /* buffer size for a string we make */


/* A parsed hash string. */
typedef struct {
    esc_scrypt_params_t  params;
    size_t               salt_len;     /* 4..64 */
    size_t               hash_len;     /* 16..64 */
    u_char               salt[64];
    u_char               hash[64];
} esc_pwhash_t;


/* ESC_OK when params are within the limits above, else ESC_INVALID. */
int esc_pwhash_params_check(const esc_scrypt_params_t *params);

/*
 * Hashes pw (any bytes, any length; the policy caps it at set time) with
 * a fresh 16-byte salt from RAND_bytes() and writes the NUL-terminated
 * string to out.  params NULL means ESC_SCRYPT_DEFAULT.
 * Returns ESC_OK; ESC_INVALID for out-of-limit params; ESC_NOSPACE when
 * size < ESC_PWHASH_SIZE; ESC_ERROR when OpenSSL fails (no RNG, no
 * memory).  out is "" on failure when size > 0.
 */
int esc_pwhash_create(const u_char *pw, size_t len,
    const esc_scrypt_params_t *params, char *out, size_t size);

/*
 * Verifies pw against a stored string (enc, elen; no NUL needed).
 * Returns ESC_OK on a match, ESC_INVALID on a mismatch, ESC_ERROR when the
 * string does not parse or OpenSSL fails.  The comparison is constant
 * time (CRYPTO_memcmp); the password is never truncated.
 */
int esc_pwhash_verify(const u_char *pw, size_t len, const char *enc,
    size_t elen);

/*
 * For a login with an unknown username: spends the same work as a
 * verification at params (NULL: default) and returns ESC_INVALID (or
 * ESC_ERROR), so the answer time does not reveal whether the account
 * exists (AUTH-03).
 */
int esc_pwhash_dummy(const u_char *pw, size_t len,
    const esc_scrypt_params_t *params);

/*
 * Strict parser of the stored form: exact prefix, decimal numbers without
 * leading zeros, canonical unpadded base64, limits above.  Returns ESC_OK
 * and fills *out, or ESC_INVALID.  Pure; does not run the KDF.
 */
int esc_pwhash_parse(const char *enc, size_t elen, esc_pwhash_t *out);

/*
 * 1 when the stored string should be replaced after a successful login:
 * it does not parse, or its parameters differ from params (NULL:
 * default), or its salt or hash length differ from ours.  0 otherwise.
 */
int esc_pwhash_needs_rehash(const char *enc, size_t elen,
    const esc_scrypt_params_t *params);

/*
 * Known-answer test for start-up (CRY-04): verifies the RFC 7914 scrypt
 * vector through the parser and the KDF, and that a wrong password fails.
 * ESC_OK, or ESC_ERROR: refuse to start.
 */
int esc_pwhash_selftest(void);


#endif /* ESC_PWHASH_H */
