/*
 * Field encryption of ID numbers and other key fields with SM4 (R-ARCH-4,
 * seed 003), and keyed blind indexes / commitments with HMAC-SM3.
 *
 * Encrypted field: a base64url string (no padding) of
 *
 *     0x01 | nonce (16) | SM4-CTR(value) | HMAC-SM3 tag (32)
 *
 * enc_key (16) and mac_key (32) are derived from the 32-byte field key
 * with HKDF-Expand/SM3; tag = HMAC-SM3(mac_key, 0x01 | nonce | uint64 aad
 * length | aad | ciphertext).  The aad (e.g. "account:<id>") binds the
 * field to its record, so a ciphertext cannot be moved to another record.
 * An 18-character ID number becomes a 90-character string.
 *
 * Blind index: HMAC-SM3(index_key, domain | 0x00 | value), 32 bytes.
 * Equality lookups use the domain ESC_BLIND_LOOKUP; evidence commitments
 * written to the ledger use ESC_BLIND_EVIDENCE, so the two are not
 * linkable.  A plain SM3 of an ID number must never be stored: the space
 * of ID numbers is small enough to brute-force, a keyed HMAC is not.
 * The index key must differ from the field key; both are data keys the
 * caller keeps sealed under the KEK (esc_seal()).  Values should be
 * normalized (e.g. upper-case check digit 'X') before indexing.
 */

#ifndef ESC_FIELDENC_H
#define ESC_FIELDENC_H

#include "esc_crypto.h"

#define ESC_FIELD_KEY_LEN      32
#define ESC_FIELD_MAX          256       /* plaintext limit, bytes */
#define ESC_FIELD_OVERHEAD     (1 + 16 + 32)
#define ESC_BLIND_LEN          32

#define ESC_BLIND_LOOKUP       "esign/blind/lookup"
#define ESC_BLIND_EVIDENCE     "esign/blind/evidence"

/* String length (without NUL) of an encrypted field of ptlen bytes. */
size_t esc_fieldenc_len(size_t ptlen);

/* out needs esc_fieldenc_len(ptlen) + 1 bytes; NUL-terminated. */
int esc_fieldenc_encrypt(const uint8_t *key, const uint8_t *aad,
    size_t aadlen, const uint8_t *pt, size_t ptlen, char *out,
    size_t outsz, size_t *outlen);

/*
 * Verifies (constant time) and decrypts; out needs up to ESC_FIELD_MAX
 * bytes.  ESC_CRYPTO_EINVAL for malformed text, ESC_CRYPTO_EAUTH for a
 * wrong key, wrong aad or tampering; out is untouched then.
 */
int esc_fieldenc_decrypt(const uint8_t *key, const uint8_t *aad,
    size_t aadlen, const char *in, size_t inlen, uint8_t *out,
    size_t outsz, size_t *outlen);

/* Keyed blind index / commitment; domain is a NUL-free label. */
int esc_blind_index(const uint8_t *key, const char *domain,
    const uint8_t *val, size_t len, uint8_t out[ESC_BLIND_LEN]);

/* Same, as 64 lowercase hex characters and a NUL. */
int esc_blind_index_hex(const uint8_t *key, const char *domain,
    const uint8_t *val, size_t len, char out[2 * ESC_BLIND_LEN + 1]);

#endif /* ESC_FIELDENC_H */
