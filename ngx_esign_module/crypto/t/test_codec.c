/*
 * Unit tests: strict hex/base64/base64url/base32 codecs and random IDs.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "esc_codec.h"
#include "esc_rand.h"


static int
b64_rejects(const char *s, esc_b64_variant_t v)
{
    uint8_t  buf[64];
    size_t   n;

    return esc_b64_decode(buf, sizeof(buf), &n, s, strlen(s), v)
           == ESC_CRYPTO_EINVAL;
}


int
main(void)
{
    int            i, j, dup, rc;
    char           out[128], ids[200][ESC_RAND_ID_LEN + 1];
    uint8_t        buf[64], rnd[40];
    size_t         n;
    static const char *vec[7][3] = {
        /* RFC 4648 section 10 vectors: input, base64, base64url */
        { "", "", "" },
        { "f", "Zg==", "Zg" },
        { "fo", "Zm8=", "Zm8" },
        { "foo", "Zm9v", "Zm9v" },
        { "foob", "Zm9vYg==", "Zm9vYg" },
        { "fooba", "Zm9vYmE=", "Zm9vYmE" },
        { "foobar", "Zm9vYmFy", "Zm9vYmFy" },
    };
    static const char *b32[7] = {
        "", "my", "mzxq", "mzxw6", "mzxw6yq", "mzxw6ytb", "mzxw6ytboi"
    };

    /* hex */
    ok(esc_hex_encode(out, sizeof(out), (const uint8_t *) "\x00\xab\xff", 3)
       == 0, "hex encode");
    is_str(out, "00abff", "hex lowercase");
    ok(esc_hex_encode(out, 6, (const uint8_t *) "\x00\xab\xff", 3)
       == ESC_CRYPTO_ESPACE, "hex encode refuses short buffer (no NUL room)");
    ok(esc_hex_decode(buf, sizeof(buf), &n, "00ABff", 6) == 0 && n == 3
       && memcmp(buf, "\x00\xab\xff", 3) == 0, "hex decode either case");
    ok(esc_hex_decode(buf, sizeof(buf), &n, "abc", 3) == ESC_CRYPTO_EINVAL,
       "hex odd length rejected");
    ok(esc_hex_decode(buf, sizeof(buf), &n, "0g", 2) == ESC_CRYPTO_EINVAL,
       "hex bad digit rejected");
    ok(esc_hex_decode(buf, 1, &n, "0011", 4) == ESC_CRYPTO_ESPACE,
       "hex decode refuses short buffer");

    /* base64 and base64url RFC vectors */
    for (i = 0; i < 7; i++) {
        size_t  len = strlen(vec[i][0]);

        rc = esc_b64_encode(out, sizeof(out), (const uint8_t *) vec[i][0],
                            len, ESC_B64_STD);
        is_str(rc == 0 ? out : NULL, vec[i][1], "b64 encode '%s'", vec[i][0]);
        rc = esc_b64_encode(out, sizeof(out), (const uint8_t *) vec[i][0],
                            len, ESC_B64_URL);
        is_str(rc == 0 ? out : NULL, vec[i][2], "b64url encode '%s'",
               vec[i][0]);
        ok(esc_b64_encoded_len(len, ESC_B64_STD) == strlen(vec[i][1])
           && esc_b64_encoded_len(len, ESC_B64_URL) == strlen(vec[i][2]),
           "encoded_len %zu", len);

        rc = esc_b64_decode(buf, sizeof(buf), &n, vec[i][1],
                            strlen(vec[i][1]), ESC_B64_STD);
        ok(rc == 0 && n == len && memcmp(buf, vec[i][0], len) == 0,
           "b64 decode '%s'", vec[i][1]);
        rc = esc_b64_decode(buf, sizeof(buf), &n, vec[i][2],
                            strlen(vec[i][2]), ESC_B64_URL);
        ok(rc == 0 && n == len && memcmp(buf, vec[i][0], len) == 0,
           "b64url decode '%s'", vec[i][2]);

        rc = esc_b32_encode(out, sizeof(out), (const uint8_t *) vec[i][0],
                            len);
        is_str(rc == 0 ? out : NULL, b32[i], "b32 encode '%s'", vec[i][0]);
        rc = esc_b32_decode(buf, sizeof(buf), &n, b32[i], strlen(b32[i]));
        ok(rc == 0 && n == len && memcmp(buf, vec[i][0], len) == 0,
           "b32 decode '%s'", b32[i]);
    }

    /* strictness */
    ok(b64_rejects("Zg", ESC_B64_STD), "std: missing padding rejected");
    ok(b64_rejects("Zg=", ESC_B64_STD), "std: short padding rejected");
    ok(b64_rejects("Zg===", ESC_B64_STD), "std: extra padding rejected");
    ok(b64_rejects("Z===", ESC_B64_STD), "std: three pads rejected");
    ok(b64_rejects("Zh==", ESC_B64_STD), "std: non-zero trailing bits");
    ok(b64_rejects("Zm9=", ESC_B64_STD), "std: non-zero trailing bits (2)");
    ok(b64_rejects("Zm 9v", ESC_B64_STD), "std: whitespace rejected");
    ok(b64_rejects("Zm9v\n", ESC_B64_STD), "std: newline rejected");
    ok(b64_rejects("Z=9v", ESC_B64_STD), "std: padding inside rejected");
    ok(b64_rejects("-_-_", ESC_B64_STD), "std: url alphabet rejected");
    ok(b64_rejects("+/+/", ESC_B64_URL), "url: std alphabet rejected");
    ok(b64_rejects("Zg==", ESC_B64_URL), "url: padding rejected");
    ok(b64_rejects("Zm9vY", ESC_B64_URL), "url: length 1 mod 4 rejected");
    ok(b64_rejects("Zh", ESC_B64_URL), "url: non-zero trailing bits");
    ok(esc_b64_decode(buf, 2, &n, "Zm9v", 4, ESC_B64_STD)
       == ESC_CRYPTO_ESPACE, "decode refuses short buffer");
    ok(esc_b64_encode(out, 4, (const uint8_t *) "foo", 3, ESC_B64_STD)
       == ESC_CRYPTO_ESPACE, "encode refuses short buffer");
    ok(esc_b32_decode(buf, sizeof(buf), &n, "MY", 2) == ESC_CRYPTO_EINVAL,
       "b32: uppercase rejected");
    ok(esc_b32_decode(buf, sizeof(buf), &n, "mz", 2) == ESC_CRYPTO_EINVAL,
       "b32: non-zero trailing bits rejected");
    ok(esc_b32_decode(buf, sizeof(buf), &n, "mzx", 3) == ESC_CRYPTO_EINVAL,
       "b32: impossible length rejected");

    /* random round trips over all lengths */
    rc = 0;
    for (i = 0; i <= 40; i++) {
        esc_rand_bytes(rnd, (size_t) i);
        for (j = 0; j < 2; j++) {
            if (esc_b64_encode(out, sizeof(out), rnd, (size_t) i, j) != 0
                || esc_b64_decode(buf, sizeof(buf), &n, out, strlen(out), j)
                   != 0
                || n != (size_t) i || memcmp(buf, rnd, n) != 0)
            {
                rc++;
            }
        }

        if (esc_b32_encode(out, sizeof(out), rnd, (size_t) i) != 0
            || esc_b32_decode(buf, sizeof(buf), &n, out, strlen(out)) != 0
            || n != (size_t) i || memcmp(buf, rnd, n) != 0)
        {
            rc++;
        }
    }
    is_int(rc, 0, "random round trips, lengths 0..40, all codecs");

    /* random IDs */
    dup = 0;
    rc = 0;
    for (i = 0; i < 200; i++) {
        if (esc_rand_id(ids[i]) != 0 || strlen(ids[i]) != ESC_RAND_ID_LEN
            || !esc_rand_id_valid(ids[i], strlen(ids[i])))
        {
            rc++;
        }

        for (j = 0; j < i; j++) {
            if (strcmp(ids[i], ids[j]) == 0) {
                dup++;
            }
        }
    }
    is_int(rc, 0, "200 IDs are 26 chars and valid");
    is_int(dup, 0, "200 IDs are distinct");
    ok(!esc_rand_id_valid("abcdefghijklmnopqrstuvwxyz", 26),
       "ID with non-zero trailing bits invalid");
    ok(!esc_rand_id_valid(ids[0], 25), "short ID invalid");
    memcpy(out, ids[0], 27);
    out[3] = 'A';
    ok(!esc_rand_id_valid(out, 26), "uppercase ID invalid");

    return tap_done();
}
