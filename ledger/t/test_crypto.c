/*
 * test_crypto.c: SM3 and SM2 known answers (GB/T 32905, GM/T 0003.5),
 * interoperability with the openssl CLI in both directions, the
 * distinguishing-ID rules, signature encodings.  (R-LEDG-5, R-EVID-3)
 */

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/param_build.h>
#include <openssl/core_names.h>

#include "util.h"
#include "esl_int.h"

static char *D;

/* GM/T 0003.5-2012 Annex A (sm2p256v1) signature example. */
#define KAT_D   "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
#define KAT_X   "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
#define KAT_Y   "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
#define KAT_R   "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
#define KAT_S   "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
#define KAT_MSG "message digest"

static void
test_sm3(void)
{
    esl_hasher     *h;
    unsigned char   out[32], want[32], msg[64];
    int             i;

    esl_hasher_new(ESL_HASH_SM3, &h);
    esl_hash(h, "abc", 3, out);
    unhex("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
          want);
    ok(memcmp(out, want, 32) == 0, "SM3(\"abc\") = GB/T 32905 example 1");
    for (i = 0; i < 64; i++) {
        msg[i] = (unsigned char) "abcd"[i % 4];
    }
    esl_hash(h, msg, 64, out);
    unhex("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732",
          want);
    ok(memcmp(out, want, 32) == 0, "SM3(\"abcd\" x 16) = GB/T 32905 "
       "example 2");
    esl_hasher_free(h);
}

/* The ledger's own SM3 (esl_sm3.c) against OpenSSL's: every length
 * 0..1100 through esl_hash and esl_leaf_hash, node hashes, and the same
 * messages fed in uneven pieces. */
static void
test_sm3_vs_openssl(void)
{
    esl_hasher     *h;
    EVP_MD         *md = EVP_MD_fetch(NULL, "SM3", NULL);
    unsigned char   msg[1101], pre[1102], out[32], want[32];
    unsigned int    wl;
    size_t          n, off, step;
    int             bad = 0, badleaf = 0, badsplit = 0, badnode = 0;

    esl_hasher_new(ESL_HASH_SM3, &h);
    for (n = 0; n < sizeof(msg); n++) {
        msg[n] = (unsigned char) (n * 131 + 7);
    }
    for (n = 0; n <= 1100; n++) {
        EVP_Digest(msg, n, want, &wl, md, NULL);
        esl_hash(h, msg, n, out);
        bad += memcmp(out, want, 32) != 0;
        pre[0] = 0x00;
        memcpy(pre + 1, msg, n);
        EVP_Digest(pre, n + 1, want, &wl, md, NULL);
        esl_leaf_hash(h, msg, n, out);
        badleaf += memcmp(out, want, 32) != 0;
        for (step = 1; step < 130; step += 21) {
            esl__sm3 s;
            esl__sm3_init(&s);
            for (off = 0; off < n; off += step) {
                esl__sm3_update(&s, msg + off, n - off < step ? n - off
                                                              : step);
            }
            esl__sm3_final(&s, out);
            EVP_Digest(msg, n, want, &wl, md, NULL);
            badsplit += memcmp(out, want, 32) != 0;
        }
    }
    pre[0] = 0x01;
    memcpy(pre + 1, msg, 64);
    EVP_Digest(pre, 65, want, &wl, md, NULL);
    esl_node_hash(h, msg, msg + 32, out);
    badnode += memcmp(out, want, 32) != 0;
    ok(bad == 0, "own SM3 = OpenSSL SM3 for lengths 0..1100");
    ok(badleaf == 0, "leaf hash = OpenSSL SM3(0x00 || m), lengths 0..1100");
    ok(badsplit == 0, "own SM3 over split updates = OpenSSL SM3");
    ok(badnode == 0, "node hash = OpenSSL SM3(0x01 || l || r)");

    /* multi-buffer SM3 at every level this CPU has: 1100 messages of
     * lengths 0..1099 in groups of mixed sizes (lanes finish at
     * different blocks), and groups of one length (the common case) */
    {
        static const unsigned char *mp[1100];
        static size_t ml[1100];
        static unsigned char mo[1100][32];
        int lvl, badx;
        size_t i;
        for (lvl = 0; lvl <= esl__sm3x_level(); lvl++) {
            for (i = 0; i < 1100; i++) {
                ml[i] = (i * 389) % 1100;       /* a permutation of 0..1099 */
                mp[i] = msg + (i % 2);
            }
            esl__sm3x_at(lvl, 0x00, mp, ml, 1100, mo);
            for (badx = 0, i = 0; i < 1100; i++) {
                pre[0] = 0x00;
                memcpy(pre + 1, mp[i], ml[i]);
                EVP_Digest(pre, ml[i] + 1, want, &wl, md, NULL);
                badx += memcmp(mo[i], want, 32) != 0;
            }
            for (i = 0; i < 37; i++) {
                ml[i] = 64;
                mp[i] = msg + 32 * (i % 30);
            }
            esl__sm3x_at(lvl, 0x01, mp, ml, 37, mo);
            for (i = 0; i < 37; i++) {
                esl_node_hash(h, mp[i], mp[i] + 32, out);
                badx += memcmp(mo[i], out, 32) != 0;
            }
            ok(badx == 0, "multi-buffer SM3, level %d of %d: = OpenSSL for "
               "mixed lengths 0..1099 and node hashes", lvl,
               esl__sm3x_level());
        }
    }
    EVP_MD_free(md);
    esl_hasher_free(h);
}

/* Write the KAT key pair as PEM files with OpenSSL's own API. */
static void
write_kat_keys(void)
{
    unsigned char   pub[65], d[32];
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM     *p;
    EVP_PKEY_CTX   *c;
    EVP_PKEY       *k = NULL;
    BIGNUM         *bn;
    char            path[512];
    FILE           *f;

    pub[0] = 4;
    unhex(KAT_X, pub + 1);
    unhex(KAT_Y, pub + 33);
    unhex(KAT_D, d);
    bn = BN_bin2bn(d, 32, NULL);
    OSSL_PARAM_BLD_push_utf8_string(b, "group", "SM2", 0);
    OSSL_PARAM_BLD_push_octet_string(b, "pub", pub, 65);
    OSSL_PARAM_BLD_push_BN(b, "priv", bn);
    p = OSSL_PARAM_BLD_to_param(b);
    c = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    EVP_PKEY_fromdata_init(c);
    if (EVP_PKEY_fromdata(c, &k, EVP_PKEY_KEYPAIR, p) <= 0) {
        printf("Bail out! cannot build the KAT key\n");
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/kat.pem", D);
    f = fopen(path, "w");
    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    snprintf(path, sizeof(path), "%s/kat.pub", D);
    f = fopen(path, "w");
    PEM_write_PUBKEY(f, k);
    fclose(f);
    EVP_PKEY_free(k);
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(p);
    OSSL_PARAM_BLD_free(b);
    BN_free(bn);
}

static void
test_sm2_kat(void)
{
    esl_verifier  *v = NULL, *v2 = NULL;
    esl_signer    *s = NULL;
    unsigned char  sig[64], bad[64];
    char           path[512];

    write_kat_keys();
    snprintf(path, sizeof(path), "%s/kat.pub", D);
    is_int(esl_verifier_load_pem(path, "kat", &v), ESL_OK,
           "load SM2 public key PEM");
    unhex(KAT_R, sig);
    unhex(KAT_S, sig + 32);
    is_int(esl_sm2_verify(v, NULL, 0, KAT_MSG, strlen(KAT_MSG), sig), ESL_OK,
           "GM/T 0003.5 example signature verifies with ID 1234567812345678");
    memcpy(bad, sig, 64);
    bad[63] ^= 1;
    is_int(esl_sm2_verify(v, NULL, 0, KAT_MSG, strlen(KAT_MSG), bad),
           ESL_ESIG, "one flipped bit of s fails");
    is_int(esl_sm2_verify(v, NULL, 0, "message digesT", 14, sig), ESL_ESIG,
           "another message fails");
    is_int(esl_sm2_verify(v, "ALICE123@YAHOO.COM", 18, KAT_MSG,
                          strlen(KAT_MSG), sig), ESL_ESIG,
           "another distinguishing ID fails");
    is_int(esl_sm2_verify(v, "", 0, KAT_MSG, strlen(KAT_MSG), sig),
           ESL_EINVAL, "an empty distinguishing ID is rejected (verify)");

    snprintf(path, sizeof(path), "%s/kat.pem", D);
    is_int(esl_signer_load_pem(path, "kat", &s), ESL_OK,
           "load the example private key");
    is_int(esl_sm2_sign(s, NULL, 0, KAT_MSG, strlen(KAT_MSG), sig), ESL_OK,
           "sign with it");
    is_int(esl_sm2_verify(v, NULL, 0, KAT_MSG, strlen(KAT_MSG), sig), ESL_OK,
           "our signature verifies under the published public key "
           "(private key -> public key per the standard)");
    is_int(esl_sm2_sign(s, "", 0, KAT_MSG, strlen(KAT_MSG), sig), ESL_EINVAL,
           "an empty distinguishing ID is rejected (sign)");
    ok(esl_signer_load_pem(path, "bad name", &s) == ESL_EINVAL,
       "key names with spaces are refused");

    /* r, s must be in [1, n-1] */
    memset(bad, 0, 32);
    memcpy(bad + 32, sig + 32, 32);
    is_int(esl_sm2_verify(v, NULL, 0, KAT_MSG, strlen(KAT_MSG), bad),
           ESL_ESIG, "r = 0 is rejected");
    memcpy(bad, sig, 32);
    unhex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123",
          bad + 32);
    is_int(esl_sm2_verify(v, NULL, 0, KAT_MSG, strlen(KAT_MSG), bad),
           ESL_ESIG, "s = n is rejected");

    esl_verifier_from_signer(s, &v2);
    is_int(esl_sm2_verify(v2, NULL, 0, KAT_MSG, strlen(KAT_MSG), sig), ESL_OK,
           "verifier derived from the signer works");
    esl_verifier_free(v2);
    esl_verifier_free(v);
    esl_signer_free(s);
}

static int
write_file(const char *path, const void *p, size_t n)
{
    FILE  *f = fopen(path, "wb");

    if (f == NULL) {
        return -1;
    }
    fwrite(p, 1, n, f);
    return fclose(f);
}

static size_t
read_file(const char *path, unsigned char *buf, size_t cap)
{
    FILE    *f = fopen(path, "rb");
    size_t   n;

    if (f == NULL) {
        return 0;
    }
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void
test_openssl_interop(void)
{
    esl_signer    *s;
    esl_verifier  *v;
    esl_buf        der;
    unsigned char  sig[64], buf[256], sig2[64];
    char           path[512], cmd[4096];
    const char    *msg = "ledger interop message\n";
    size_t         n;

    make_key(D, "site");
    s = load_signer(D, "site", "site");
    snprintf(path, sizeof(path), "%s/site.pub", D);
    esl_verifier_load_pem(path, "site", &v);

    snprintf(path, sizeof(path), "%s/msg", D);
    write_file(path, msg, strlen(msg));
    esl_sm2_sign(s, NULL, 0, msg, strlen(msg), sig);
    esl_sm2_sig_to_der(sig, &der);
    snprintf(path, sizeof(path), "%s/sig.der", D);
    write_file(path, der.data, der.len);
    esl_buf_free(&der);
    snprintf(cmd, sizeof(cmd),
             "openssl pkeyutl -verify -rawin -digest sm3 -pubin -inkey "
             "%s/site.pub -pkeyopt distid:1234567812345678 -in %s/msg "
             "-sigfile %s/sig.der >/dev/null 2>&1", D, D, D);
    is_int(run(cmd), 0, "our SM2 signature verifies with openssl pkeyutl");
    snprintf(cmd, sizeof(cmd),
             "openssl pkeyutl -verify -rawin -digest sm3 -pubin -inkey "
             "%s/site.pub -in %s/msg -sigfile %s/sig.der >/dev/null 2>&1",
             D, D, D);
    ok(run(cmd) != 0, "openssl without distid (empty ID) rejects it");

    snprintf(cmd, sizeof(cmd),
             "openssl pkeyutl -sign -rawin -digest sm3 -inkey %s/site.pem "
             "-pkeyopt distid:1234567812345678 -in %s/msg -out %s/osig.der"
             " 2>/dev/null", D, D, D);
    is_int(run(cmd), 0, "openssl pkeyutl signs");
    snprintf(path, sizeof(path), "%s/osig.der", D);
    n = read_file(path, buf, sizeof(buf));
    is_int(esl_sm2_sig_from_der(buf, n, sig2), ESL_OK, "parse its DER");
    is_int(esl_sm2_verify(v, NULL, 0, msg, strlen(msg), sig2), ESL_OK,
           "openssl's SM2 signature verifies here");

    snprintf(cmd, sizeof(cmd),
             "openssl pkeyutl -sign -rawin -digest sm3 -inkey %s/site.pem "
             "-in %s/msg -out %s/esig.der 2>/dev/null", D, D, D);
    run(cmd);
    snprintf(path, sizeof(path), "%s/esig.der", D);
    n = read_file(path, buf, sizeof(buf));
    esl_sm2_sig_from_der(buf, n, sig2);
    is_int(esl_sm2_verify(v, NULL, 0, msg, strlen(msg), sig2), ESL_ESIG,
           "a signature made with the empty (OpenSSL default) ID is rejected");

    /* DER strictness */
    esl_sm2_sig_to_der(sig, &der);
    is_int(esl_sm2_sig_from_der(der.data, der.len, sig2), ESL_OK,
           "r||s -> DER -> r||s");
    ok(memcmp(sig, sig2, 64) == 0, "round trip is exact");
    memcpy(buf, der.data, der.len);
    buf[der.len] = 0;
    is_int(esl_sm2_sig_from_der(buf, der.len + 1, sig2), ESL_EFORMAT,
           "trailing byte after DER rejected");
    {
        /* BER long-form length for the SEQUENCE: same value, not DER */
        unsigned char ber[128];
        ber[0] = 0x30;
        ber[1] = 0x81;
        memcpy(ber + 2, der.data + 2, der.len - 2);
        ber[2 - 1] = 0x81;
        ber[2] = der.data[1];
        memcpy(ber + 3, der.data + 2, der.len - 2);
        is_int(esl_sm2_sig_from_der(ber, der.len + 1, sig2), ESL_EFORMAT,
               "BER (non-minimal length) rejected");
    }
    esl_buf_free(&der);
    esl_verifier_free(v);
    esl_signer_free(s);
}

int
main(void)
{
    D = tmpdir();
    test_sm3();
    test_sm3_vs_openssl();
    test_sm2_kat();
    test_openssl_interop();
    rm_rf(D);
    free(D);
    return tap_done();
}
