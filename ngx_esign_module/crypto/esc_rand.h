/*
 * Randomness for keys, nonces and opaque identifiers.  Everything comes
 * from OpenSSL's RAND_bytes (the default DRBG, seeded from the OS and
 * safe across fork in OpenSSL 3).
 */

#ifndef ESC_RAND_H
#define ESC_RAND_H

#include "esc_crypto.h"

/*
 * A random ID carries 128 bits and is written as 26 characters of
 * lowercase base32 ("a-z2-7", no padding; the last character encodes
 * 3 bits, the 2 unused bits are zero).  Base32 was chosen over base64url
 * because it has no '-' or '_', is safe in file names, LMDB keys, URLs
 * and e-mail text, and survives case-folding by humans and mail clients
 * (decoding stays strict: lowercase only).
 */
#define ESC_RAND_ID_BYTES  16
#define ESC_RAND_ID_LEN    26

/* Fills buf with len random bytes. ESC_CRYPTO_ECRYPTO if the DRBG fails. */
int esc_rand_bytes(uint8_t *buf, size_t len);

/* Writes a fresh ID and a NUL into out (ESC_RAND_ID_LEN + 1 bytes). */
int esc_rand_id(char out[ESC_RAND_ID_LEN + 1]);

/* 1 if (s, len) is a well-formed ID (canonical encoding), else 0. */
int esc_rand_id_valid(const char *s, size_t len);

#endif /* ESC_RAND_H */
