/*
 * Opaque link tokens for e-mail and SMS links (R-NOTE-3).  A token
 * identifies an object and carries an expiry; it never authenticates the
 * holder (login and step-up still apply).
 *
 * Token: base64url (no padding) of
 *
 *     0x01 | nonce (16, random) | SM4-CTR(kind (1) | expiry (int64 BE,
 *     unix seconds) | id length (1) | id) | tag (16)
 *
 * tag = first 16 bytes of HMAC-SM3(mac_key, everything before the tag);
 * enc_key and mac_key are derived from the 32-byte link key with
 * HKDF-Expand/SM3.  So a token shows nothing in plaintext (encrypted),
 * cannot be forged or altered (128-bit tag, compared in constant time)
 * and cannot be guessed (128-bit random nonce plus the tag).  A 26-char
 * ID gives a 92-character token.  The link key is a random secret of the
 * deployment, kept sealed under the KEK like the other data keys;
 * rotating it invalidates outstanding links.
 */

#ifndef ESC_LINKTOKEN_H
#define ESC_LINKTOKEN_H

#include "esc_crypto.h"

#define ESC_LINK_KEY_LEN     32
#define ESC_LINK_ID_MAX      64
#define ESC_LINK_TAG_LEN     16
#define ESC_LINK_RAW_MAX     (1 + 16 + 10 + ESC_LINK_ID_MAX + ESC_LINK_TAG_LEN)
#define ESC_LINK_TOKEN_MAX   ((ESC_LINK_RAW_MAX * 4 + 2) / 3)

typedef enum {
    ESC_LINK_VALID   = 0,
    ESC_LINK_EXPIRED = 1,   /* authentic, but now >= expires */
    ESC_LINK_INVALID = 2    /* malformed, forged, altered or wrong key */
} esc_link_status_t;

typedef struct {
    uint8_t   kind;                     /* caller-defined object kind */
    int64_t   expires;                  /* unix seconds */
    size_t    idlen;
    char      id[ESC_LINK_ID_MAX + 1];  /* NUL-terminated copy */
} esc_linktoken_t;

/*
 * Issues a token for object (kind, id) valid until `expires`.  id is 1..64
 * bytes without NUL.  out needs ESC_LINK_TOKEN_MAX + 1 bytes at most;
 * NUL-terminated.
 */
int esc_linktoken_issue(const uint8_t *key, uint8_t kind, const char *id,
    size_t idlen, int64_t expires, char *out, size_t outsz,
    size_t *outlen);

/*
 * Checks a token received from a link.  On ESC_LINK_VALID and
 * ESC_LINK_EXPIRED *obj (may be NULL) is filled; on ESC_LINK_INVALID it
 * is zeroed.  Never fails otherwise; every malformed input is INVALID.
 */
esc_link_status_t esc_linktoken_verify(const uint8_t *key, const char *tok,
    size_t len, int64_t now, esc_linktoken_t *obj);

#endif /* ESC_LINKTOKEN_H */
