/*
 * Internal helpers shared by the files of libescrypto; not a public API.
 */

#ifndef ESC_INT_H
#define ESC_INT_H

#include "esc_crypto.h"

#define ESC_SM3_LEN     32
#define ESC_SM4_KEYLEN  16
#define ESC_SM4_IVLEN   16

/* One part of a MAC input: a pointer and a length (len 0 is skipped). */
typedef struct {
    const uint8_t  *p;
    size_t          len;
} esc_iov_t;

/*
 * HKDF-Expand (RFC 5869) with HMAC-SM3 for one output block: derives
 * outlen (<= 32) bytes from the uniformly random key for the given label.
 */
int esc_kdf_sm3(const uint8_t *key, size_t keylen, const char *label,
    uint8_t *out, size_t outlen);

/* HMAC-SM3 over the concatenation of n parts; out receives 32 bytes. */
int esc_hmac_sm3(const uint8_t *key, size_t keylen, const esc_iov_t *iov,
    size_t n, uint8_t out[ESC_SM3_LEN]);

/* SM4-CTR en/decryption (the same operation) of len bytes. */
int esc_sm4_ctr(const uint8_t key[ESC_SM4_KEYLEN],
    const uint8_t iv[ESC_SM4_IVLEN], const uint8_t *in, size_t len,
    uint8_t *out);

/* Big-endian integer helpers. */
void esc_put_be32(uint8_t *p, uint32_t v);
uint32_t esc_get_be32(const uint8_t *p);
void esc_put_be64(uint8_t *p, uint64_t v);
uint64_t esc_get_be64(const uint8_t *p);

#endif /* ESC_INT_H */
