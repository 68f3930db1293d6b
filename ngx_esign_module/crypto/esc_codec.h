/*
 * Strict text codecs: hex, base64 (RFC 4648 section 4, padded) and
 * base64url (section 5, unpadded), and lowercase base32 without padding
 * (used by random IDs).
 *
 * Encoders write a NUL-terminated string into a caller buffer and fail
 * with ESC_CRYPTO_ESPACE if it is too small.  Decoders accept exactly one
 * canonical encoding: no whitespace, no missing or extra padding, no
 * non-zero trailing bits; anything else is ESC_CRYPTO_EINVAL.  The input
 * of decoders is (pointer, length) and need not be NUL-terminated.
 */

#ifndef ESC_CODEC_H
#define ESC_CODEC_H

#include "esc_crypto.h"

typedef enum {
    ESC_B64_STD = 0,    /* "+/", '=' padding required */
    ESC_B64_URL = 1     /* "-_", no padding allowed */
} esc_b64_variant_t;

/* Encoded length without the NUL: 2 * len. */
#define esc_hex_len(len)  (2 * (size_t) (len))

/* Lowercase hex; dst needs 2 * len + 1 bytes. */
int esc_hex_encode(char *dst, size_t dstsz, const uint8_t *src, size_t len);

/*
 * Decodes hex (either case, even length).  dstsz must be at least
 * srclen / 2; *outlen receives the decoded length.
 */
int esc_hex_decode(uint8_t *dst, size_t dstsz, size_t *outlen,
    const char *src, size_t srclen);

/* Encoded length without the NUL for len input bytes. */
size_t esc_b64_encoded_len(size_t len, esc_b64_variant_t v);

/* Upper bound of the decoded length of srclen characters. */
size_t esc_b64_decoded_max(size_t srclen);

/* dst needs esc_b64_encoded_len(len, v) + 1 bytes. */
int esc_b64_encode(char *dst, size_t dstsz, const uint8_t *src, size_t len,
    esc_b64_variant_t v);

int esc_b64_decode(uint8_t *dst, size_t dstsz, size_t *outlen,
    const char *src, size_t srclen, esc_b64_variant_t v);

/* Lowercase RFC 4648 base32 alphabet, no padding. */
size_t esc_b32_encoded_len(size_t len);

int esc_b32_encode(char *dst, size_t dstsz, const uint8_t *src, size_t len);

int esc_b32_decode(uint8_t *dst, size_t dstsz, size_t *outlen,
    const char *src, size_t srclen);

#endif /* ESC_CODEC_H */
