/*
 * Key-encryption keys (KEK) and wrapping of per-file data keys
 * (R-ARCH-4).
 *
 * Key file: text, mode 0600 (group/other access is refused), one key per
 * line, newest last; '#' comment lines and empty lines are allowed:
 *
 *     # esign key-encryption keys; newest last; keep secret
 *     kek v1 <64 lowercase hex digits>
 *     kek v2 <64 lowercase hex digits>
 *
 * Versions are decimal 1..4294967295 and strictly increasing (gaps are
 * allowed so that a retired version can be deleted once nothing is
 * wrapped under it).  The highest version is the current one.  The KEK
 * file is separate from the TLS key and from any login secret.
 *
 * Wrapped key (binary, ESC_KEK_WRAP_OVERHEAD + key length bytes):
 *
 *     "EKW1" | KEK version (uint32 BE) | IV (16) | SM4-CTR(key) | tag (32)
 *
 * tag = HMAC-SM3(mac_key, everything before the tag); enc_key (16 bytes)
 * and mac_key (32 bytes) are derived from the KEK with HKDF-Expand/SM3
 * under distinct labels.  SM4-CTR + HMAC-SM3 encrypt-then-MAC rather than
 * an RFC 3394 style key wrap: OpenSSL has no SM4 key-wrap mode, a
 * hand-made RFC 3394 over SM4-ECB would give only a 64-bit integrity
 * check, and this is the same audited construction as document
 * encryption (esc_docenc.h).  The random 128-bit IV makes wrapping
 * non-deterministic; the version in the header is authenticated.
 *
 * Rotation: esc_kek_file_rotate() adds a version; afterwards callers
 * re-wrap stored wrapped keys with esc_kek_rewrap().  Encrypted files are
 * never touched: only their (small) wrapped keys change.
 *
 * A ring is immutable after loading and may be shared by threads for
 * reading.  To pick up a rotation, load a new ring and free the old one.
 */

#ifndef ESC_KEK_H
#define ESC_KEK_H

#include "esc_crypto.h"

#define ESC_KEK_LEN             32
#define ESC_KEK_WRAP_OVERHEAD   (4 + 4 + 16 + 32)
#define ESC_KEK_DK_MIN          16
#define ESC_KEK_DK_MAX          64
#define ESC_KEK_WRAP_MAX        (ESC_KEK_WRAP_OVERHEAD + ESC_KEK_DK_MAX)
#define ESC_KEK_FILE_MAX        (1024 * 1024)

typedef struct esc_kek_ring_s  esc_kek_ring_t;


/*
 * Creates a new key file holding one random key as version 1.  Refuses
 * (ESC_CRYPTO_EEXIST) if path exists.  The file is created 0600 and
 * fsync'ed.  ESC_CRYPTO_EIO with errno on file system errors.
 */
int esc_kek_file_create(const char *path);

/*
 * Adds a new random key, version = highest + 1, to an existing file.
 * The old lines are kept byte for byte; the new file is written beside
 * it, fsync'ed and renamed over it (atomic).  Run from one process at a
 * time.  *version (may be NULL) receives the new version.
 */
int esc_kek_file_rotate(const char *path, uint32_t *version);

/*
 * Loads all versions.  ESC_CRYPTO_EPERM if the file is accessible by
 * group or other, ESC_CRYPTO_EINVAL if any line is malformed or no key
 * is present.  *ring is owned by the caller: esc_kek_free().
 */
int esc_kek_load(const char *path, esc_kek_ring_t **ring);

/* Parses key file text (same rules, no permission check). */
int esc_kek_parse(const char *text, size_t len, esc_kek_ring_t **ring);

/* Wipes and frees; ring may be NULL. */
void esc_kek_free(esc_kek_ring_t *ring);

/* The current (highest) version. */
uint32_t esc_kek_current(const esc_kek_ring_t *ring);

/* 1 if the ring holds that version. */
int esc_kek_has(const esc_kek_ring_t *ring, uint32_t version);

/*
 * Wraps a data key of ESC_KEK_DK_MIN..ESC_KEK_DK_MAX bytes under KEK
 * version (0 = current).  out needs dklen + ESC_KEK_WRAP_OVERHEAD bytes.
 */
int esc_kek_wrap(const esc_kek_ring_t *ring, uint32_t version,
    const uint8_t *dk, size_t dklen, uint8_t *out, size_t outsz,
    size_t *outlen);

/*
 * Verifies the tag (constant time) and unwraps.  ESC_CRYPTO_ENOKEY if the
 * version is not in the ring, ESC_CRYPTO_EAUTH if the tag is wrong;
 * nothing is written to dk unless the tag verifies.  *version (may be
 * NULL) receives the KEK version used.  The caller wipes dk after use.
 */
int esc_kek_unwrap(const esc_kek_ring_t *ring, const uint8_t *in,
    size_t inlen, uint8_t *dk, size_t dksz, size_t *dklen,
    uint32_t *version);

/* Reads the KEK version of a wrapped key without unwrapping it. */
int esc_kek_wrapped_version(const uint8_t *in, size_t inlen,
    uint32_t *version);

/*
 * Unwraps (any version in the ring) and wraps again under the current
 * version; out needs inlen bytes.  Used for rotation.
 */
int esc_kek_rewrap(const esc_kek_ring_t *ring, const uint8_t *in,
    size_t inlen, uint8_t *out, size_t outsz, size_t *outlen);

#endif /* ESC_KEK_H */
