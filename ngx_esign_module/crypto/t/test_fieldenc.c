/*
 * Unit tests: SM4 field encryption of ID numbers and HMAC-SM3 blind
 * indexes / evidence commitments (R-ARCH-4, R-LEDG-5).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tap.h"
#include "esc_codec.h"
#include "esc_fieldenc.h"
#include "esc_rand.h"


int
main(void)
{
    int           i, bad;
    char          c1[512], c2[512], t[512], h1[65], h2[65], plainhex[65];
    size_t        n1, n2, n, dl;
    uint8_t       key[32], key2[32], ikey[32], out[ESC_FIELD_MAX];
    uint8_t       b1[32], b2[32], ref[32], in[64];
    unsigned int  rl;
    static const char  id[] = "11010519491231002X";
    static const char  aad[] = "account:ab12";

    esc_rand_bytes(key, 32);
    esc_rand_bytes(key2, 32);
    esc_rand_bytes(ikey, 32);

    is_int(esc_fieldenc_encrypt(key, (const uint8_t *) aad, strlen(aad),
                                (const uint8_t *) id, 18, c1, sizeof(c1),
                                &n1), ESC_CRYPTO_OK, "encrypt ID number");
    ok(n1 == strlen(c1) && n1 == esc_fieldenc_len(18) && n1 == 90,
       "encrypted ID is a 90-char string");
    ok(strstr(c1, "1101") == NULL && strspn(c1,
       "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
       == n1, "base64url text, no plaintext digits run");
    esc_fieldenc_encrypt(key, (const uint8_t *) aad, strlen(aad),
                         (const uint8_t *) id, 18, c2, sizeof(c2), &n2);
    ok(strcmp(c1, c2) != 0, "encryption is randomized (random nonce)");

    ok(esc_fieldenc_decrypt(key, (const uint8_t *) aad, strlen(aad), c1, n1,
                            out, sizeof(out), &n) == 0 && n == 18
       && memcmp(out, id, 18) == 0, "R-ARCH-4 ID number round trip");
    is_int(esc_fieldenc_decrypt(key2, (const uint8_t *) aad, strlen(aad), c1,
                                n1, out, sizeof(out), &n), ESC_CRYPTO_EAUTH,
           "wrong key rejected");
    is_int(esc_fieldenc_decrypt(key, (const uint8_t *) "account:ab13", 12,
                                c1, n1, out, sizeof(out), &n),
           ESC_CRYPTO_EAUTH, "field moved to another record rejected");

    bad = 0;
    for (i = 0; i < (int) n1; i++) {
        memcpy(t, c1, n1 + 1);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        if (esc_fieldenc_decrypt(key, (const uint8_t *) aad, strlen(aad), t,
                                 n1, out, sizeof(out), &n) == ESC_CRYPTO_OK)
        {
            bad++;
        }
    }
    is_int(bad, 0, "every changed character rejected");
    ok(esc_fieldenc_decrypt(key, (const uint8_t *) aad, strlen(aad), c1,
                            n1 - 4, out, sizeof(out), &n) != 0,
       "truncated field rejected");
    ok(esc_fieldenc_decrypt(key, NULL, 0, "", 0, out, sizeof(out), &n)
       == ESC_CRYPTO_EINVAL, "empty string rejected");
    ok(esc_fieldenc_encrypt(key, NULL, 0, out, ESC_FIELD_MAX + 1, c2,
                            sizeof(c2), &n2) == ESC_CRYPTO_EINVAL,
       "over-long field refused");

    /* blind index */
    esc_blind_index(ikey, ESC_BLIND_LOOKUP, (const uint8_t *) id, 18, b1);
    esc_blind_index(ikey, ESC_BLIND_LOOKUP, (const uint8_t *) id, 18, b2);
    ok(memcmp(b1, b2, 32) == 0, "blind index is deterministic (lookups)");
    esc_blind_index(ikey, ESC_BLIND_EVIDENCE, (const uint8_t *) id, 18, b2);
    ok(memcmp(b1, b2, 32) != 0, "lookup and evidence domains differ");
    esc_blind_index(key2, ESC_BLIND_LOOKUP, (const uint8_t *) id, 18, b2);
    ok(memcmp(b1, b2, 32) != 0, "index depends on the key");

    /* independent recomputation: HMAC-SM3(key, domain | 0 | value) */
    dl = strlen(ESC_BLIND_EVIDENCE);
    memcpy(in, ESC_BLIND_EVIDENCE, dl);
    in[dl] = 0;
    memcpy(in + dl + 1, id, 18);
    HMAC(EVP_sm3(), ikey, 32, in, dl + 19, ref, &rl);
    esc_blind_index_hex(ikey, ESC_BLIND_EVIDENCE, (const uint8_t *) id, 18,
                        h1);
    esc_hex_encode(h2, sizeof(h2), ref, 32);
    is_str(h1, h2, "R-LEDG-5 evidence commitment is HMAC-SM3 as documented");

    /* never a plain SM3 of the ID */
    EVP_Digest(id, 18, ref, &rl, EVP_sm3(), NULL);
    esc_hex_encode(plainhex, sizeof(plainhex), ref, 32);
    ok(strcmp(h1, plainhex) != 0, "commitment is not the plain SM3 digest");

    return tap_done();
}
