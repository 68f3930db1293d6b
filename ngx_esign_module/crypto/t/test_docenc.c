/*
 * Unit tests: per-file document encryption (both suites) and the sealed
 * envelope with KEK rotation (R-ARCH-4, R-LEDG-5 SM4).
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tap.h"
#include "esc_docenc.h"
#include "esc_rand.h"


/* Independent recomputation of the national format from esc_docenc.h. */
static int
check_national_format(const uint8_t *dk, const uint8_t *aad, size_t aadlen,
    const uint8_t *pt, size_t ptlen, const uint8_t *blob, size_t bloblen)
{
    int              outl, good;
    uint8_t          enc[32], mac[32], tag[32], *ct, *macin, one = 1;
    uint8_t          lbl[64];
    size_t           n, l;
    unsigned int     tl;
    EVP_CIPHER_CTX  *c;

    if (bloblen != 8 + 16 + ptlen + 32) {
        return 0;
    }

    l = strlen("esign/docenc/v1/sm4-ctr");
    memcpy(lbl, "esign/docenc/v1/sm4-ctr", l);
    lbl[l] = one;
    HMAC(EVP_sm3(), dk, 32, lbl, l + 1, enc, &tl);
    l = strlen("esign/docenc/v1/hmac-sm3");
    memcpy(lbl, "esign/docenc/v1/hmac-sm3", l);
    lbl[l] = one;
    HMAC(EVP_sm3(), dk, 32, lbl, l + 1, mac, &tl);

    ct = malloc(ptlen + 1);
    c = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(c, EVP_sm4_ctr(), NULL, enc, blob + 8);
    EVP_EncryptUpdate(c, ct, &outl, pt, (int) ptlen);
    EVP_CIPHER_CTX_free(c);
    good = memcmp(ct, blob + 24, ptlen) == 0;

    n = 24 + 8 + aadlen + ptlen;
    macin = malloc(n);
    memcpy(macin, blob, 24);
    memset(macin + 24, 0, 8);
    macin[31] = (uint8_t) aadlen;
    memcpy(macin + 32, aad, aadlen);
    memcpy(macin + 32 + aadlen, blob + 24, ptlen);
    HMAC(EVP_sm3(), mac, 32, macin, n, tag, &tl);
    good = good && memcmp(tag, blob + 24 + ptlen, 32) == 0;

    free(ct);
    free(macin);
    return good;
}


static void
suite_tests(esc_suite_t suite, const char *name)
{
    int                 bad, i, tried;
    size_t              len, blen, olen, pos;
    uint8_t             dk[32], dk2[32], *pt, *blob, *copy, *out;
    esc_docenc_info_t   info;
    static const uint8_t  aad[] = "contract:abc";

    len = 100000;
    pt = malloc(len);
    esc_rand_bytes(pt, len);
    esc_docenc_keygen(dk);
    esc_docenc_keygen(dk2);

    blen = esc_docenc_blob_len(suite, len);
    blob = malloc(blen);
    copy = malloc(blen);
    out = malloc(len);

    is_int(esc_docenc_encrypt(suite, dk, aad, sizeof(aad), pt, len, blob,
                              blen, &olen), ESC_CRYPTO_OK,
           "%s: encrypt 100000 bytes", name);
    ok(olen == blen, "%s: blob length as announced", name);
    ok(esc_docenc_parse(blob, blen, &info) == 0 && info.suite == suite
       && info.ct_len == len && memcmp(blob, "ESDC\x01", 5) == 0,
       "%s: blob self-describes suite and length", name);
    ok(memcmp(blob + info.ct_off, pt, 64) != 0,
       "%s: ciphertext differs from plaintext", name);

    memset(out, 0, len);
    ok(esc_docenc_decrypt(dk, aad, sizeof(aad), blob, blen, out, len, &olen)
       == 0 && olen == len && memcmp(out, pt, len) == 0,
       "%s: R-ARCH-4 round trip", name);

    if (suite == ESC_SUITE_NATIONAL) {
        ok(check_national_format(dk, aad, sizeof(aad), pt, len, blob, blen),
           "%s: R-LEDG-5 blob is SM4-CTR + HMAC-SM3 as documented "
           "(independent recomputation)", name);
    }

    /* bit flips: header and nonce exhaustively, then sampled positions */
    bad = 0;
    tried = 0;
    for (i = 0; i < 1200; i++) {
        if (i < (int) (info.ct_off * 8)) {
            pos = (size_t) i;
        } else if (i < (int) (info.ct_off * 8) + (int) info.tag_len * 8) {
            pos = info.tag_off * 8 + (size_t) i - info.ct_off * 8;
        } else {
            pos = (size_t) ((unsigned) rand() % (blen * 8));
        }

        memcpy(copy, blob, blen);
        copy[pos / 8] ^= (uint8_t) (1 << (pos % 8));
        memset(out, 0xAA, 64);
        if (esc_docenc_decrypt(dk, aad, sizeof(aad), copy, blen, out, len,
                               &olen) == ESC_CRYPTO_OK)
        {
            bad++;
        }

        tried++;
    }
    is_int(bad, 0, "%s: all %d single-bit flips (header, nonce, tag, "
           "sampled ciphertext) rejected", name, tried);

    ok(esc_docenc_decrypt(dk, aad, sizeof(aad), blob, blen - 1, out, len,
                          &olen) != 0, "%s: truncated by one byte rejected",
       name);
    ok(esc_docenc_decrypt(dk, aad, sizeof(aad), blob, 20, out, len, &olen)
       != 0, "%s: truncated to 20 bytes rejected", name);
    ok(esc_docenc_decrypt(dk, aad, sizeof(aad), blob, 8, out, len, &olen)
       != 0, "%s: header only rejected", name);

    memset(out, 0, len);
    is_int(esc_docenc_decrypt(dk2, aad, sizeof(aad), blob, blen, out, len,
                              &olen), ESC_CRYPTO_EAUTH,
           "%s: wrong key rejected", name);
    for (i = 0; i < (int) len && out[i] == 0; i++) { /* void */ }
    ok(i == (int) len, "%s: no plaintext byte released on failure", name);
    is_int(esc_docenc_decrypt(dk, (const uint8_t *) "contract:abd", 13, blob,
                              blen, out, len, &olen), ESC_CRYPTO_EAUTH,
           "%s: wrong aad (other record) rejected", name);
    is_int(esc_docenc_decrypt(dk, aad, sizeof(aad), blob, blen, out,
                              len - 1, &olen), ESC_CRYPTO_ESPACE,
           "%s: short output buffer refused", name);

    /* empty document */
    ok(esc_docenc_encrypt(suite, dk, NULL, 0, NULL, 0, blob, blen, &olen)
       == 0 && esc_docenc_decrypt(dk, NULL, 0, blob, olen, out, len, &blen)
       == 0 && blen == 0, "%s: empty document round trip", name);

    free(pt);
    free(blob);
    free(copy);
    free(out);
}


int
main(void)
{
    char             dir[] = "/tmp/esc-doc-XXXXXX", path[256];
    size_t           slen, plen, rlen, blen, olen;
    uint8_t         *sealed, *pt, *resealed, dk[32], blob[64], out[64];
    uint32_t         v;
    esc_kek_ring_t  *ring, *ring2;
    static const char  secret[] = "-----BEGIN PRIVATE KEY-----\nxyz\n";

    srand(12345);
    suite_tests(ESC_SUITE_NATIONAL, "SM4-CTR+HMAC-SM3");
    suite_tests(ESC_SUITE_INTL, "AES-256-GCM");

    /* cross-suite relabelling */
    esc_docenc_keygen(dk);
    esc_docenc_encrypt(ESC_SUITE_INTL, dk, NULL, 0, (const uint8_t *) "hi",
                       2, blob, sizeof(blob), &blen);
    blob[5] = ESC_SUITE_NATIONAL;
    ok(esc_docenc_decrypt(dk, NULL, 0, blob, blen, out, sizeof(out), &olen)
       != 0, "suite byte relabelled: rejected");
    blob[5] = 3;
    is_int(esc_docenc_parse(blob, blen, NULL), ESC_CRYPTO_EINVAL,
           "parse: NULL info refused");
    ok(esc_docenc_decrypt(dk, NULL, 0, blob, blen, out, sizeof(out), &olen)
       == ESC_CRYPTO_EINVAL, "unknown suite refused");

    /* sealed envelope + rotation */
    if (mkdtemp(dir) == NULL) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }

    snprintf(path, sizeof(path), "%s/kek", dir);
    esc_kek_file_create(path);
    esc_kek_load(path, &ring);

    is_int(esc_seal(ring, (const uint8_t *) "inst1", 5,
                    (const uint8_t *) secret, strlen(secret), &sealed, &slen),
           ESC_CRYPTO_OK, "seal a secret");
    ok(memmem(sealed, slen, "PRIVATE", 7) == NULL, "sealed has no plaintext");
    ok(esc_unseal(ring, (const uint8_t *) "inst1", 5, sealed, slen, &pt,
                  &plen) == 0 && plen == strlen(secret)
       && strcmp((char *) pt, secret) == 0, "unseal returns it");
    esc_free_secret(pt, plen);
    ok(esc_unseal(ring, (const uint8_t *) "inst2", 5, sealed, slen, &pt,
                  &plen) == ESC_CRYPTO_EAUTH,
       "unseal under another institution's aad refused");
    sealed[slen - 1] ^= 1;
    ok(esc_unseal(ring, (const uint8_t *) "inst1", 5, sealed, slen, &pt,
                  &plen) == ESC_CRYPTO_EAUTH, "tampered sealed refused");
    sealed[slen - 1] ^= 1;

    esc_kek_file_rotate(path, NULL);
    esc_kek_load(path, &ring2);
    ok(esc_reseal(ring2, sealed, slen, &resealed, &rlen) == 0
       && esc_sealed_version(resealed, rlen, &v) == 0 && v == 2,
       "R-ARCH-4 reseal moves the envelope to KEK v2");
    ok(rlen == slen
       && memcmp(resealed + slen - (8 + 16 + strlen(secret) + 32),
                 sealed + slen - (8 + 16 + strlen(secret) + 32),
                 8 + 16 + strlen(secret) + 32) == 0,
       "R-ARCH-4 reseal leaves the encrypted body byte-identical");
    ok(esc_unseal(ring2, (const uint8_t *) "inst1", 5, resealed, rlen, &pt,
                  &plen) == 0 && strcmp((char *) pt, secret) == 0,
       "resealed envelope opens under the new ring");
    esc_free_secret(pt, plen);
    is_int(esc_unseal(ring, (const uint8_t *) "inst1", 5, resealed, rlen,
                      &pt, &plen), ESC_CRYPTO_ENOKEY,
           "old ring cannot open the v2 envelope");

    free(sealed);
    free(resealed);
    esc_kek_free(ring);
    esc_kek_free(ring2);
    unlink(path);
    rmdir(dir);

    return tap_done();
}
