/*
 * Unit tests: HMAC-SM3 (esc_hmac_sm3, over the ledger's SM3) against
 * OpenSSL's HMAC for key lengths around the 64-byte block, message
 * lengths around block boundaries and messages split into parts; the
 * key derivation and SM4-CTR built on them (the document and field
 * encryption of R-ARCH-4 and the commitments of R-LEDG-5 rest on them).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "tap.h"
#include "esc_int.h"


static void
ref_hmac(const uint8_t *key, size_t klen, const uint8_t *msg, size_t mlen,
    uint8_t out[32])
{
    unsigned int  len;

    len = 32;
    HMAC(EVP_sm3(), key, (int) klen, msg, mlen, out, &len);
}


int
main(void)
{
    int        bad, splits;
    size_t     klen, mlen, cut, cut2;
    uint8_t    key[200], msg[300], got[32], want[32], k2[32], w2[32];
    uint8_t    iv[16], ct[100], pt[100];
    esc_iov_t  iov[3];
    static const size_t  klens[] = { 0, 1, 16, 31, 32, 33, 63, 64, 65,
                                     100, 128, 200 };

    RAND_bytes(key, sizeof(key));
    RAND_bytes(msg, sizeof(msg));

    bad = 0;
    for (klen = 0; klen < sizeof(klens) / sizeof(klens[0]); klen++) {
        for (mlen = 0; mlen <= 300; mlen++) {
            ref_hmac(key, klens[klen], msg, mlen, want);
            iov[0].p = msg;
            iov[0].len = mlen;
            bad += esc_hmac_sm3(key, klens[klen], iov, 1, got)
                   != ESC_CRYPTO_OK || memcmp(got, want, 32) != 0;
        }
    }
    is_int(bad, 0, "HMAC-SM3 = OpenSSL HMAC(SM3) for 12 key lengths "
           "(0..200) x message lengths 0..300");

    bad = 0;
    splits = 0;
    for (mlen = 0; mlen <= 140; mlen += 7) {
        ref_hmac(key, 32, msg, mlen, want);
        for (cut = 0; cut <= mlen; cut += 3) {
            for (cut2 = cut; cut2 <= mlen; cut2 += 11) {
                iov[0].p = msg;
                iov[0].len = cut;
                iov[1].p = msg + cut;
                iov[1].len = cut2 - cut;
                iov[2].p = msg + cut2;
                iov[2].len = mlen - cut2;
                bad += esc_hmac_sm3(key, 32, iov, 3, got) != ESC_CRYPTO_OK
                       || memcmp(got, want, 32) != 0;
                splits++;
            }
        }
    }
    is_int(bad, 0, "the same over %d splits into three parts", splits);

    iov[0].p = NULL;
    iov[0].len = 0;
    ref_hmac(key, 32, msg, 0, want);
    ok(esc_hmac_sm3(key, 32, iov, 1, got) == ESC_CRYPTO_OK
       && memcmp(got, want, 32) == 0, "empty part with a NULL pointer");
    iov[0].len = 5;
    is_int(esc_hmac_sm3(key, 32, iov, 1, got), ESC_CRYPTO_EINVAL,
           "NULL part with a length refused");
    is_int(esc_hmac_sm3(NULL, 3, iov, 0, got), ESC_CRYPTO_EINVAL,
           "NULL key with a length refused");

    /* KDF: T(1) = HMAC(key, label || 0x01), truncated */
    memcpy(msg, "esign-test-label", 16);
    msg[16] = 1;
    ref_hmac(key, 32, msg, 17, want);
    ok(esc_kdf_sm3(key, 32, "esign-test-label", k2, 20) == ESC_CRYPTO_OK
       && memcmp(k2, want, 20) == 0, "KDF = HMAC(key, label || 1)");

    /* SM4-CTR twice: the cached cipher object, encryption = decryption */
    RAND_bytes(iv, sizeof(iv));
    RAND_bytes(w2, sizeof(w2));
    ok(esc_sm4_ctr(w2, iv, msg, sizeof(ct), ct) == ESC_CRYPTO_OK
       && esc_sm4_ctr(w2, iv, ct, sizeof(ct), pt) == ESC_CRYPTO_OK
       && memcmp(pt, msg, sizeof(pt)) == 0
       && memcmp(ct, msg, sizeof(ct)) != 0, "SM4-CTR round trip");
    {
        EVP_CIPHER_CTX  *c = EVP_CIPHER_CTX_new();
        int              n = 0;
        uint8_t          ref[100];

        EVP_EncryptInit_ex2(c, EVP_sm4_ctr(), w2, iv, NULL);
        EVP_EncryptUpdate(c, ref, &n, msg, sizeof(ref));
        EVP_CIPHER_CTX_free(c);
        ok(n == 100 && memcmp(ref, ct, sizeof(ct)) == 0,
           "SM4-CTR = OpenSSL's");
    }

    return tap_done();
}
