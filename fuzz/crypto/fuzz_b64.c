/*
 * libFuzzer target: strict base64 / base64url / base32 / hex decoders.
 * Property: whatever decodes re-encodes to exactly the input (one
 * canonical spelling), and decoding never writes past its buffer.
 */

#include <stdlib.h>
#include <string.h>

#include "esc_codec.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
check(int rc, const char *in, size_t inlen, const char *re)
{
    if (rc == ESC_CRYPTO_OK
        && (strlen(re) != inlen || memcmp(re, in, inlen) != 0))
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int          rc, v;
    char        *re;
    size_t       n, cap;
    uint8_t     *out;
    const char  *in;

    in = (const char *) data;
    cap = esc_b64_decoded_max(size) + size;
    out = malloc(cap + 1);
    re = malloc(2 * cap + 8);
    if (out == NULL || re == NULL) {
        free(out);
        free(re);
        return 0;
    }

    for (v = ESC_B64_STD; v <= ESC_B64_URL; v++) {
        /* exact-size buffer so ASan catches any overrun */
        rc = esc_b64_decode(out, esc_b64_decoded_max(size), &n, in, size,
                            (esc_b64_variant_t) v);
        if (rc == ESC_CRYPTO_OK) {
            if (esc_b64_encode(re, 2 * cap + 8, out, n,
                               (esc_b64_variant_t) v) != ESC_CRYPTO_OK)
            {
                abort();
            }
            check(rc, in, size, re);
        }
    }

    rc = esc_b32_decode(out, size, &n, in, size);
    if (rc == ESC_CRYPTO_OK) {
        esc_b32_encode(re, 2 * cap + 8, out, n);
        check(rc, in, size, re);
    }

    rc = esc_hex_decode(out, size / 2, &n, in, size);
    if (rc == ESC_CRYPTO_OK) {
        esc_hex_encode(re, 2 * cap + 8, out, n);
        /* hex accepts either case: compare case-insensitively */
        if (strlen(re) != size || strncasecmp(re, in, size) != 0) {
            abort();
        }
    }

    free(out);
    free(re);

    return 0;
}
