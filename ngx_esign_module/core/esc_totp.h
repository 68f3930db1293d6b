/*
 * TOTP (RFC 6238 over RFC 4226 HOTP, HMAC-SHA1), RFC 4648 base32 for
 * secrets and the otpauth:// provisioning URI.  HMAC-SHA1 is what every
 * authenticator app implements; docs/security.md records the deviation
 * from the national algorithms.
 */

#ifndef ESC_TOTP_H
#define ESC_TOTP_H

#include "esc_core.h"


#define ESC_TOTP_SECRET_LEN  20     /* bytes; RFC 4226 recommends 160 bits */
#define ESC_TOTP_DIGITS      6
#define ESC_TOTP_STEP        30     /* seconds */
#define ESC_TOTP_WINDOW      1      /* steps accepted either side */


/*
 * RFC 4648 base32 (upper case).  With pad set, '=' pads to a multiple of
 * 8; otpauth URIs use pad 0.  Writes a NUL; returns the length without it
 * or ESC_NOSPACE (size must be >= 8 * ceil(len / 5) + 1 with pad, a bit
 * less without).
 */
ssize_t esc_base32_encode(const u_char *p, size_t len, int pad, char *out,
    size_t size);

/*
 * Decodes base32: letters of either case, optional trailing '=' padding
 * (complete or absent), no spaces; unused trailing bits must be zero.
 * Returns the number of bytes written, ESC_INVALID, or ESC_NOSPACE.
 */
ssize_t esc_base32_decode(const char *p, size_t len, u_char *out,
    size_t size);


/*
 * HOTP value (RFC 4226) for counter with digits 6..8, as a number
 * (format it zero-padded).  Returns ESC_OK, ESC_INVALID (digits out of
 * range, empty key) or ESC_ERROR (HMAC failure).
 */
int esc_hotp(const u_char *key, size_t klen, uint64_t counter,
    unsigned digits, uint32_t *code);

/*
 * TOTP at unix time t: HOTP with counter floor(t / step).  step 0 means
 * ESC_TOTP_STEP.
 */
int esc_totp(const u_char *key, size_t klen, uint64_t t, unsigned step,
    unsigned digits, uint32_t *code);

/*
 * Verifies a submitted 6-digit code (exactly 6 ASCII digits) at time now
 * with ESC_TOTP_STEP and a window of ESC_TOTP_WINDOW steps either side.
 * Every candidate is computed and compared in constant time.
 *
 * Replay: on a match *step receives the matched time step; the caller
 * stores it per account and passes the last used one as last_step, and a
 * code of that step or earlier is refused (RFC 6238 section 5.2: each
 * code is accepted once).  Pass last_step 0 for none.
 * Returns ESC_OK, ESC_INVALID (wrong, malformed or replayed) or ESC_ERROR.
 */
int esc_totp_verify(const u_char *key, size_t klen, const char *code,
    size_t clen, uint64_t now, uint64_t last_step, uint64_t *step);

/* Fills out with ESC_TOTP_SECRET_LEN random bytes (RAND_bytes). */
int esc_totp_secret_new(u_char out[ESC_TOTP_SECRET_LEN]);

/*
 * Provisioning URI (Key Uri Format of Google Authenticator):
 *
 *   otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>
 *       &algorithm=SHA1&digits=6&period=30
 *
 * issuer and account are percent-encoded (everything but RFC 3986
 * unreserved), so ':' and '&' in them cannot break the URI.  Writes a NUL;
 * returns the length, ESC_INVALID (empty issuer/account/secret or ':' in
 * the issuer) or ESC_NOSPACE.
 */
ssize_t esc_totp_uri(const u_char *issuer, size_t ilen,
    const u_char *account, size_t alen, const u_char *secret, size_t slen,
    char *out, size_t size);


#endif /* ESC_TOTP_H */
