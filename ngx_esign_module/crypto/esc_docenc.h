/*
 * Document encryption at rest (R-ARCH-4): one fresh random data key per
 * file, encrypt-then-MAC, self-describing blob; and a small "sealed"
 * envelope (wrapped data key + blob) for secrets such as private keys.
 *
 * Blob format (all integers big-endian):
 *
 *     off  len  field
 *     0    4    magic "ESDC"
 *     4    1    format version, 1
 *     5    1    suite: 1 = SM4-CTR + HMAC-SM3, 2 = AES-256-GCM
 *     6    2    reserved, zero
 *     8    N    nonce: 16 (SM4-CTR IV) or 12 (GCM nonce), random
 *     8+N  L    ciphertext, same length as the plaintext
 *     ..   T    tag: 32 (HMAC-SM3) or 16 (GCM)
 *
 * National suite: enc_key (16) and mac_key (32) are derived from the
 * 32-byte data key with HKDF-Expand/SM3 under distinct labels; tag =
 * HMAC-SM3(mac_key, header(8) | nonce | uint64 aad length | aad |
 * ciphertext).  OpenSSL 3.0 has no SM4-GCM, hence CTR + HMAC.
 * International suite: AES-256-GCM keyed with the data key itself, AAD =
 * header(8) | nonce | aad.
 *
 * The optional aad (e.g. the document ID) is not stored; it must be
 * given again to decrypt, which binds a blob to its record.
 *
 * Decryption checks the tag (in constant time) before any plaintext is
 * released: for the national suite nothing is decrypted before the MAC
 * verifies; for GCM the output buffer is wiped if the tag is wrong.
 *
 * Documents are processed in memory (a few tens of MiB); no streaming.
 */

#ifndef ESC_DOCENC_H
#define ESC_DOCENC_H

#include "esc_crypto.h"
#include "esc_kek.h"

#define ESC_DOCENC_KEY_LEN     32
#define ESC_DOCENC_HDR_LEN     8
#define ESC_DOCENC_MAX         ((size_t) 1 << 32)  /* plaintext limit */

typedef struct {
    unsigned     version;       /* format version (1) */
    esc_suite_t  suite;
    size_t       nonce_off;
    size_t       nonce_len;
    size_t       ct_off;        /* ciphertext offset in the blob */
    size_t       ct_len;        /* == plaintext length */
    size_t       tag_off;
    size_t       tag_len;
} esc_docenc_info_t;


/* A fresh random data key. */
int esc_docenc_keygen(uint8_t dk[ESC_DOCENC_KEY_LEN]);

/* Exact blob length for ptlen bytes of plaintext (0 for a bad suite). */
size_t esc_docenc_blob_len(esc_suite_t suite, size_t ptlen);

/*
 * Encrypts pt into out (esc_docenc_blob_len() bytes, must not overlap
 * pt).  aad may be NULL when aadlen is 0.
 */
int esc_docenc_encrypt(esc_suite_t suite, const uint8_t *dk,
    const uint8_t *aad, size_t aadlen, const uint8_t *pt, size_t ptlen,
    uint8_t *out, size_t outsz, size_t *outlen);

/*
 * Parses the framing only (no key needed, nothing authenticated yet):
 * ESC_CRYPTO_EINVAL for a bad magic, version, suite, reserved bytes or a
 * blob too short for its header, nonce and tag.
 */
int esc_docenc_parse(const uint8_t *blob, size_t len,
    esc_docenc_info_t *info);

/*
 * Verifies and decrypts.  out needs info.ct_len bytes (at most
 * bloblen); *outlen receives the plaintext length.  ESC_CRYPTO_EAUTH on
 * a wrong key, wrong aad or any modification of the blob.
 */
int esc_docenc_decrypt(const uint8_t *dk, const uint8_t *aad,
    size_t aadlen, const uint8_t *blob, size_t bloblen, uint8_t *out,
    size_t outsz, size_t *outlen);


/*
 * Sealed envelope, for small secrets stored in the state database
 * (institution private keys, TOTP seeds):
 *
 *     "ESE1" | uint16 wrapped-key length | wrapped key (esc_kek.h) |
 *     blob (national suite, data key = the wrapped key)
 *
 * esc_seal() draws a fresh data key, encrypts pt and wraps the key under
 * the current KEK version; *out is malloc'ed (free()).  esc_unseal()
 * returns a malloc'ed plaintext: free it with esc_free_secret(p, len).
 * esc_reseal() re-wraps the data key under the current KEK version; the
 * blob part is copied byte for byte (rotation without re-encryption).
 */
int esc_seal(const esc_kek_ring_t *ring, const uint8_t *aad, size_t aadlen,
    const uint8_t *pt, size_t ptlen, uint8_t **out, size_t *outlen);

int esc_unseal(const esc_kek_ring_t *ring, const uint8_t *aad,
    size_t aadlen, const uint8_t *in, size_t inlen, uint8_t **pt,
    size_t *ptlen);

int esc_reseal(const esc_kek_ring_t *ring, const uint8_t *in, size_t inlen,
    uint8_t **out, size_t *outlen);

/* KEK version of a sealed envelope (to decide whether to reseal). */
int esc_sealed_version(const uint8_t *in, size_t inlen, uint32_t *version);

#endif /* ESC_DOCENC_H */
