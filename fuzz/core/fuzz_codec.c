/*
 * Fuzz target: the stored password-hash parser (esc_pwhash_parse) and the
 * base32 decoder of TOTP secrets.  Accepted input must satisfy the
 * documented limits; base32 must round-trip.
 */

#include <stdlib.h>
#include <string.h>

#include "esc_pwhash.h"
#include "esc_totp.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char          *p, *enc;
    u_char        *bin, *bin2;
    ssize_t        n, e, n2;
    esc_pwhash_t   h;

    p = malloc(size ? size : 1);
    if (p == NULL) {
        return 0;
    }

    memcpy(p, data, size);

    if (esc_pwhash_parse(p, size, &h) == ESC_OK) {
        if (esc_pwhash_params_check(&h.params) != ESC_OK
            || h.salt_len < 4 || h.salt_len > 64
            || h.hash_len < 16 || h.hash_len > 64)
        {
            abort();
        }
    }

    (void) esc_pwhash_needs_rehash(p, size, NULL);

    bin = malloc(size + 1);
    bin2 = malloc(size + 1);
    enc = malloc(size * 2 + 16);

    if (bin != NULL && bin2 != NULL && enc != NULL) {
        n = esc_base32_decode(p, size, bin, size + 1);

        if (n >= 0) {
            e = esc_base32_encode(bin, (size_t) n, 1, enc, size * 2 + 16);
            if (e < 0) {
                abort();
            }

            n2 = esc_base32_decode(enc, (size_t) e, bin2, size + 1);
            if (n2 != n || memcmp(bin, bin2, (size_t) n) != 0) {
                abort();
            }
        }
    }

    free(bin);
    free(bin2);
    free(enc);
    free(p);

    return 0;
}
