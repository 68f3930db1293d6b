/*
 * Unit tests: link tokens expire, carry no plaintext and cannot be forged
 * or guessed (R-NOTE-3).
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "esc_codec.h"
#include "esc_linktoken.h"
#include "esc_rand.h"


int
main(void)
{
    int              i, bad, dup;
    char             id[ESC_RAND_ID_LEN + 1], tok[256], tok2[256], t[256];
    char             toks[100][128], big[200];
    size_t           n, n2, rn;
    uint8_t          key[32], key2[32], raw[256];
    esc_linktoken_t  obj;

    esc_rand_bytes(key, 32);
    esc_rand_bytes(key2, 32);
    esc_rand_id(id);

    is_int(esc_linktoken_issue(key, 3, id, strlen(id), 2000, tok,
                               sizeof(tok), &n), ESC_CRYPTO_OK, "issue");
    ok(n == strlen(tok) && n == 92, "token is 92 chars for a 26-char ID");
    ok(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789-_") == n, "token is URL-safe base64url");

    is_int(esc_linktoken_verify(key, tok, n, 1999, &obj), ESC_LINK_VALID,
           "R-NOTE-3 valid before expiry");
    ok(obj.kind == 3 && obj.expires == 2000 && strcmp(obj.id, id) == 0
       && obj.idlen == strlen(id), "object kind, id and expiry recovered");
    is_int(esc_linktoken_verify(key, tok, n, 2000, &obj), ESC_LINK_EXPIRED,
           "R-NOTE-3 expired at expiry time");
    ok(strcmp(obj.id, id) == 0, "expired token still names its object");
    is_int(esc_linktoken_verify(key, tok, n, 99999, NULL), ESC_LINK_EXPIRED,
           "expired long after");

    /* no plaintext */
    esc_b64_decode(raw, sizeof(raw), &rn, tok, n, ESC_B64_URL);
    ok(memmem(raw, rn, id, strlen(id)) == NULL
       && memmem(raw, rn, id, 8) == NULL,
       "R-NOTE-3 decoded token does not contain the object id");
    ok(memmem(raw, rn, "\x00\x00\x00\x00\x00\x00\x07\xd0", 8) == NULL,
       "R-NOTE-3 decoded token does not contain the expiry");
    esc_linktoken_issue(key, 3, id, strlen(id), 2000, tok2, sizeof(tok2),
                        &n2);
    ok(strcmp(tok, tok2) != 0, "same object gives different tokens");

    /* forgery: any changed character, wrong key, truncation, splicing */
    bad = 0;
    for (i = 0; i < (int) n; i++) {
        memcpy(t, tok, n + 1);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        if (esc_linktoken_verify(key, t, n, 0, &obj) != ESC_LINK_INVALID) {
            bad++;
        }
    }
    is_int(bad, 0, "R-NOTE-3 every altered character gives INVALID");
    is_int(esc_linktoken_verify(key2, tok, n, 0, &obj), ESC_LINK_INVALID,
           "other key: INVALID");
    ok(obj.idlen == 0 && obj.id[0] == '\0', "INVALID leaves obj zeroed");
    is_int(esc_linktoken_verify(key, tok, n - 1, 0, &obj), ESC_LINK_INVALID,
           "truncated: INVALID");
    is_int(esc_linktoken_verify(key, tok, n - 4, 0, &obj), ESC_LINK_INVALID,
           "truncated by a quantum: INVALID");
    memcpy(t, tok, 30);
    memcpy(t + 30, tok2 + 30, n - 30);
    is_int(esc_linktoken_verify(key, t, n, 0, &obj), ESC_LINK_INVALID,
           "spliced tokens: INVALID");
    is_int(esc_linktoken_verify(key, "", 0, 0, &obj), ESC_LINK_INVALID,
           "empty: INVALID");
    memset(big, 'A', sizeof(big));
    is_int(esc_linktoken_verify(key, big, sizeof(big), 0, &obj),
           ESC_LINK_INVALID, "over-long: INVALID");

    /* extend expiry by re-encrypting: impossible without the key; try
     * flipping ciphertext bits over the expiry field (CTR malleability) */
    esc_b64_decode(raw, sizeof(raw), &rn, tok, n, ESC_B64_URL);
    raw[17 + 1] ^= 0x7f;
    esc_b64_encode(t, sizeof(t), raw, rn, ESC_B64_URL);
    is_int(esc_linktoken_verify(key, t, n, 0, &obj), ESC_LINK_INVALID,
           "R-NOTE-3 expiry cannot be extended by bit flipping");

    /* unguessable: 100 tokens for the same object are all distinct */
    dup = 0;
    for (i = 0; i < 100; i++) {
        int  j;
        esc_linktoken_issue(key, 1, "x", 1, 5, toks[i], sizeof(toks[i]),
                            &n2);
        for (j = 0; j < i; j++) {
            if (strcmp(toks[i], toks[j]) == 0) {
                dup++;
            }
        }
    }
    is_int(dup, 0, "100 tokens for one object are distinct");

    ok(esc_linktoken_issue(key, 1, big, 65, 5, t, sizeof(t), &n2)
       == ESC_CRYPTO_EINVAL, "id longer than 64 refused");
    ok(esc_linktoken_issue(key, 1, "", 0, 5, t, sizeof(t), &n2)
       == ESC_CRYPTO_EINVAL, "empty id refused");
    ok(esc_linktoken_issue(key, 1, big, 64, 5, t, sizeof(t), &n2) == 0
       && n2 <= ESC_LINK_TOKEN_MAX
       && esc_linktoken_verify(key, t, n2, 0, &obj) == ESC_LINK_VALID
       && obj.idlen == 64, "64-byte id round trip within max length");

    return tap_done();
}
