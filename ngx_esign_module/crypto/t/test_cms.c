/*
 * Unit tests: detached CMS SignedData, national (SM2/SM3 + ID) and
 * international (ECDSA P-256/SHA-256) suites (R-SIGN-8, R-LEDG-5).
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/cms.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "tap.h"
#include "esc_ca.h"
#include "esc_cms.h"
#include "esc_rand.h"


static int
raw_verify(EVP_PKEY *pub, const char *md, const char *id,
    const uint8_t *sig, size_t slen, const uint8_t *msg, size_t mlen)
{
    int            r;
    EVP_MD_CTX    *m;
    EVP_PKEY_CTX  *pc;

    m = EVP_MD_CTX_new();
    pc = NULL;
    r = EVP_DigestVerifyInit_ex(m, &pc, md, NULL, NULL, pub, NULL) == 1
        && (id == NULL || EVP_PKEY_CTX_set1_id(pc, id, strlen(id)) == 1)
        && EVP_DigestVerify(m, sig, slen, msg, mlen) == 1;
    EVP_MD_CTX_free(m);
    return r;
}


static void
suite_tests(esc_suite_t suite, const char *sn)
{
    int              bad, i;
    char            *pem;
    size_t           len, dlen, d2len, alen, slen, pemlen, blen;
    uint8_t         *doc, *der, *der2, *attrs, *sig, *copy, *back;
    uint8_t          digest[32];
    time_t           when;
    X509            *ca, *cert, *cert2;
    EVP_PKEY        *cakey, *key, *key2;
    esc_cms_info_t   info;
    static const uint8_t  oid_sm3[] = {
        0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x11
    };
    static const uint8_t  oid_sm2sm3[] = {
        0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x75
    };

    esc_ca_create(suite, "CA", NULL, 10, &cakey, &ca);
    esc_ca_issue(cakey, ca, "Inst A", "91350100M000100Y55", 1, &key, &cert);
    esc_ca_issue(cakey, ca, "Inst B", "91350100M000100Y66", 1, &key2,
                 &cert2);

    len = 300000;
    doc = malloc(len);
    esc_rand_bytes(doc, len);
    when = 1700000000;

    is_int(esc_cms_sign(cert, key, doc, len, when, &der, &dlen),
           ESC_CRYPTO_OK, "%s: sign document", sn);
    memset(&info, 0, sizeof(info));
    is_int(esc_cms_verify(der, dlen, doc, len, cert, &info), ESC_CRYPTO_OK,
           "%s: R-SIGN-8 signature verifies with the certificate", sn);
    ok(info.suite == suite && info.signing_time == when,
       "%s: info reports suite and signing time", sn);
    esc_cms_digest(suite, doc, len, digest);
    ok(memcmp(info.digest, digest, 32) == 0, "%s: info digest", sn);

    if (suite == ESC_SUITE_NATIONAL) {
        ok(memmem(der, dlen, oid_sm3, sizeof(oid_sm3)) != NULL,
           "%s: R-LEDG-5 SM3 OID 1.2.156.10197.1.401 present", sn);
        ok(memmem(der, dlen, oid_sm2sm3, sizeof(oid_sm2sm3)) != NULL,
           "%s: R-LEDG-5 SM2-with-SM3 OID 1.2.156.10197.1.501 present", sn);
    }

    /* signed attributes and signature, checked independently */
    ok(esc_cms_signed_attrs(der, dlen, &attrs, &alen, &sig, &slen) == 0
       && attrs[0] == 0x31, "%s: extract signed attributes as SET", sn);
    ok(memmem(attrs, alen, digest, 32) != NULL,
       "%s: message-digest attribute holds the document digest", sn);
    if (suite == ESC_SUITE_NATIONAL) {
        ok(raw_verify(X509_get0_pubkey(cert), "SM3", "1234567812345678",
                      sig, slen, attrs, alen),
           "%s: raw SM2 verify over attrs with ID 1234567812345678", sn);
        ok(!raw_verify(X509_get0_pubkey(cert), "SM3", NULL, sig, slen,
                       attrs, alen),
           "%s: raw SM2 verify with the default (empty) ID fails", sn);

    } else {
        ok(raw_verify(X509_get0_pubkey(cert), "SHA256", NULL, sig, slen,
                      attrs, alen), "%s: raw ECDSA verify over attrs", sn);
    }
    free(attrs);
    free(sig);

    /* failures */
    doc[len / 2] ^= 1;
    is_int(esc_cms_verify(der, dlen, doc, len, cert, NULL), ESC_CRYPTO_EAUTH,
           "%s: tampered document rejected", sn);
    doc[len / 2] ^= 1;
    is_int(esc_cms_verify(der, dlen, doc, len - 1, cert, NULL),
           ESC_CRYPTO_EAUTH, "%s: truncated document rejected", sn);
    is_int(esc_cms_verify(der, dlen, doc, len, cert2, NULL),
           ESC_CRYPTO_EAUTH, "%s: other institution's cert rejected", sn);

    copy = malloc(dlen);
    bad = 0;
    for (i = 0; i < 400; i++) {
        size_t  pos = (size_t) rand() % (dlen * 8);
        int     rc;

        memcpy(copy, der, dlen);
        copy[pos / 8] ^= (uint8_t) (1 << (pos % 8));
        rc = esc_cms_verify(copy, dlen, doc, len, cert, NULL);
        /* a flip inside the unsigned certificate copy may be harmless */
        if (rc == ESC_CRYPTO_OK
            && memcmp(copy, der, dlen) != 0)
        {
            uint8_t  *a2, *s2, *a1, *s1;
            size_t    al2, sl2, al1, sl1;

            esc_cms_signed_attrs(der, dlen, &a1, &al1, &s1, &sl1);
            if (esc_cms_signed_attrs(copy, dlen, &a2, &al2, &s2, &sl2) == 0)
            {
                if (al1 != al2 || memcmp(a1, a2, al1) != 0 || sl1 != sl2
                    || memcmp(s1, s2, sl1) != 0)
                {
                    bad++;
                }
                free(a2);
                free(s2);
            }
            free(a1);
            free(s1);
        }
    }
    is_int(bad, 0, "%s: 400 random bit flips never alter signed data "
           "undetected", sn);
    ok(esc_cms_verify(der, dlen - 1, doc, len, cert, NULL) != 0,
       "%s: truncated signature rejected", sn);
    free(copy);

    /* digest-only entry point */
    der2 = NULL;
    d2len = 0;
    ok(esc_cms_sign_digest(cert, key, digest, 32, 0, &der2, &d2len) == 0
       && esc_cms_verify(der2, d2len, doc, len, cert, &info) == 0
       && info.signing_time >= time(NULL) - 5,
       "%s: digest-only signature verifies against the document", sn);
    ok(esc_cms_verify_digest(der2, d2len, digest, 32, cert, NULL) == 0,
       "%s: verify_digest", sn);
    ok(esc_cms_sign_digest(cert2, key, digest, 32, 0, &der, &blen)
       == ESC_CRYPTO_EINVAL, "%s: key/cert mismatch refused", sn);

    /* the embedded certificate: stripped for parsing, must be the signer's */
    {
        int                 cn, cn2;
        size_t              sl, al1, al2, sl1, sl2;
        uint8_t            *st, *cd, *cd2, *a1, *a2, *s1, *s2, *flip;
        const uint8_t      *dp;
        CMS_ContentInfo    *cms;
        STACK_OF(X509)     *certs;

        cd = NULL;
        cd2 = NULL;
        cn = i2d_X509(cert, &cd);
        cn2 = i2d_X509(cert2, &cd2);

        ok(esc_cms_strip_certs(der2, d2len, cd, (size_t) cn, &st, &sl) == 0
           && sl < d2len && sl + (size_t) cn <= d2len,
           "%s: strip_certs: shorter by at least the certificate", sn);
        dp = st;
        cms = d2i_CMS_ContentInfo(NULL, &dp, (long) sl);
        certs = cms ? CMS_get1_certs(cms) : NULL;
        ok(cms != NULL && dp == st + sl && sk_X509_num(certs) <= 0,
           "%s: ... valid DER, no certificates left", sn);
        sk_X509_pop_free(certs, X509_free);
        CMS_ContentInfo_free(cms);
        ok(esc_cms_signed_attrs(der2, d2len, &a1, &al1, &s1, &sl1) == 0
           && esc_cms_signed_attrs(st, sl, &a2, &al2, &s2, &sl2) == 0
           && al1 == al2 && memcmp(a1, a2, al1) == 0 && sl1 == sl2
           && memcmp(s1, s2, sl1) == 0,
           "%s: ... same signed attributes and signature", sn);
        free(a1);
        free(s1);
        free(a2);
        free(s2);
        is_int(esc_cms_verify_digest(st, sl, digest, 32, cert, NULL),
               ESC_CRYPTO_OK, "%s: a SignedData without certificates "
               "verifies with the verifier's certificate", sn);
        is_int(esc_cms_strip_certs(der2, d2len, cd2, (size_t) cn2, &flip,
                                   &sl), ESC_CRYPTO_EAUTH,
               "%s: strip_certs: another certificate embedded: EAUTH", sn);

        /* a flip inside the embedded certificate is now refused */
        flip = malloc(d2len);
        memcpy(flip, der2, d2len);
        dp = memmem(flip, d2len, cd, (size_t) cn);
        ok(dp != NULL, "%s: the signer's certificate is embedded", sn);
        if (dp != NULL) {
            flip[(dp - flip) + cn - 5] ^= 0x01;
        }
        is_int(esc_cms_verify_digest(flip, d2len, digest, 32, cert, NULL),
               ESC_CRYPTO_EAUTH, "%s: a changed embedded certificate "
               "fails verification", sn);
        free(flip);
        free(st);
        OPENSSL_free(cd);
        OPENSSL_free(cd2);
    }

    /* PEM */
    ok(esc_cms_der_to_pem(der2, d2len, &pem, &pemlen) == 0
       && strncmp(pem, "-----BEGIN CMS-----", 19) == 0,
       "%s: PEM output", sn);
    ok(esc_cms_pem_to_der(pem, pemlen, &back, &blen) == 0 && blen == d2len
       && memcmp(back, der2, blen) == 0, "%s: PEM back to identical DER",
       sn);
    free(back);

    /* our framing is the text OpenSSL's PEM writer makes, and it reads */
    {
        BIO              *bio;
        char             *odata;
        long              on;
        const uint8_t    *dp;
        CMS_ContentInfo  *cms;

        dp = der2;
        cms = d2i_CMS_ContentInfo(NULL, &dp, (long) d2len);
        bio = BIO_new(BIO_s_mem());
        ok(cms != NULL && bio != NULL && PEM_write_bio_CMS(bio, cms)
           && (on = BIO_get_mem_data(bio, &odata)) == (long) pemlen
           && memcmp(odata, pem, pemlen) == 0,
           "%s: PEM text identical to PEM_write_bio_CMS", sn);
        BIO_free(bio);
        CMS_ContentInfo_free(cms);

        bio = BIO_new_mem_buf(pem, (int) pemlen);
        cms = PEM_read_bio_CMS(bio, NULL, NULL, NULL);
        ok(cms != NULL, "%s: OpenSSL reads our PEM", sn);
        BIO_free(bio);
        CMS_ContentInfo_free(cms);
    }

    ok(esc_cms_der_to_pem(der2, d2len - 1, (char **) &back, &blen)
       == ESC_CRYPTO_EINVAL, "%s: truncated DER refused", sn);
    pem[40] = pem[40] == 'A' ? 'B' : 'A';
    ok(esc_cms_pem_to_der(pem, pemlen - 30, &back, &blen)
       == ESC_CRYPTO_EINVAL, "%s: PEM without its END line refused", sn);
    ok(esc_cms_pem_to_der("-----BEGIN CMS-----\nMAA=\n-----END CMS-----\n",
                          42, &back, &blen) == 0 && blen == 2,
       "%s: minimal PEM decodes", sn);
    free(back);
    ok(esc_cms_pem_to_der("-----BEGIN CMS-----\nMAAA\n-----END CMS-----\n",
                          42, &back, &blen) == ESC_CRYPTO_EINVAL,
       "%s: trailing bytes after the SEQUENCE refused", sn);
    free(pem);
    free(der2);

    free(der);
    free(doc);
    X509_free(ca);
    X509_free(cert);
    X509_free(cert2);
    EVP_PKEY_free(cakey);
    EVP_PKEY_free(key);
    EVP_PKEY_free(key2);
}


/*
 * SM2 signing runs on esl_sm2ec.c with the key's private scalar: a key
 * whose scalar does not give its own public point (a damaged or forged
 * key file) must be refused, not turned into signatures nobody can
 * verify.  Built as A's scalar with B's point, which B's certificate
 * matches.
 */
static void
mismatched_key_test(void)
{
    int              rc;
    size_t           len, dlen;
    BIGNUM          *d;
    uint8_t          pub[65], digest[32], *der;
    X509            *ca, *cert, *cert2;
    EVP_PKEY        *cakey, *key, *key2, *bad;
    EVP_PKEY_CTX    *pc;
    OSSL_PARAM      *params;
    OSSL_PARAM_BLD  *bld;

    esc_ca_create(ESC_SUITE_NATIONAL, "CA", NULL, 10, &cakey, &ca);
    esc_ca_issue(cakey, ca, "Inst A", "91350100M000100Y55", 1, &key, &cert);
    esc_ca_issue(cakey, ca, "Inst B", "91350100M000100Y66", 1, &key2,
                 &cert2);

    d = NULL;
    len = 0;
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d);
    EVP_PKEY_get_octet_string_param(key2, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                    pub, sizeof(pub), &len);

    bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "SM2",
                                    0);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, len);
    params = OSSL_PARAM_BLD_to_param(bld);

    bad = NULL;
    pc = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    ok(pc != NULL && EVP_PKEY_fromdata_init(pc) == 1
       && EVP_PKEY_fromdata(pc, &bad, EVP_PKEY_KEYPAIR, params) == 1,
       "SM2: key with A's scalar and B's point built");
    ok(X509_check_private_key(cert2, bad) == 1,
       "SM2: B's certificate matches its public half");

    memset(digest, 0x5a, sizeof(digest));
    der = NULL;
    rc = esc_cms_sign_digest(cert2, bad, digest, sizeof(digest), 1700000000,
                             &der, &dlen);
    is_int(rc, ESC_CRYPTO_ECRYPTO,
           "SM2: scalar that does not give the key's point refused");
    free(der);

    der = NULL;
    is_int(esc_cms_sign_digest(cert2, key2, digest, sizeof(digest),
                               1700000000, &der, &dlen), ESC_CRYPTO_OK,
           "SM2: B's own key still signs");
    is_int(esc_cms_verify_digest(der, dlen, digest, sizeof(digest), cert2,
                                 NULL), ESC_CRYPTO_OK, "and verifies");
    free(der);

    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(d);
    EVP_PKEY_free(bad);
    X509_free(ca);
    X509_free(cert);
    X509_free(cert2);
    EVP_PKEY_free(cakey);
    EVP_PKEY_free(key);
    EVP_PKEY_free(key2);
}


int
main(void)
{
    uint8_t  *a, *s;
    size_t    al, sl;

    srand(4242);
    suite_tests(ESC_SUITE_NATIONAL, "SM2");
    suite_tests(ESC_SUITE_INTL, "P-256");
    mismatched_key_test();

    ok(esc_cms_signed_attrs((const uint8_t *) "\x30\x80", 2, &a, &al, &s,
                            &sl) == ESC_CRYPTO_EINVAL,
       "indefinite length refused");
    ok(esc_cms_signed_attrs((const uint8_t *) "\x30\x00", 2, &a, &al, &s,
                            &sl) == ESC_CRYPTO_EINVAL,
       "empty sequence refused");

    return tap_done();
}
