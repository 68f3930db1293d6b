/*
 * Unit tests: platform CA and institution certificates in both suites,
 * checked with the openssl CLI (R-REG-3, R-LEDG-5), key PEM and sealing.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tap.h"
#include "esc_ca.h"
#include "esc_docenc.h"


static char  dir[] = "/tmp/esc-ca-XXXXXX";


static int
write_file(const char *name, const char *data)
{
    char   path[256];
    FILE  *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }

    fputs(data, f);
    fclose(f);
    return 0;
}


static int
write_cert(const char *name, X509 *x)
{
    int    rc;
    char  *pem;

    if (esc_cert_to_pem(x, &pem, NULL) != 0) {
        return -1;
    }

    rc = write_file(name, pem);
    free(pem);
    return rc;
}


static int
run(const char *cmd)
{
    int   rc;
    char  buf[1024];

    snprintf(buf, sizeof(buf), "cd %s && %s >out.txt 2>&1", dir, cmd);
    rc = system(buf);
    if (rc != 0) {
        snprintf(buf, sizeof(buf), "sed 's/^/#   /' %s/out.txt | head -3",
                 dir);
        if (system(buf) != 0) {
            tap_diag("no output");
        }
    }

    return rc;
}


static void
suite_tests(esc_suite_t suite, const char *sn)
{
    int                    i, dup, rc, reason, expected_sig;
    char                   uscc[ESC_USCC_LEN + 1], ser[200][48], cmd[512];
    char                  *pem;
    size_t                 len, slen;
    uint8_t               *sealed;
    X509                  *ca, *cert, *ca2, *cert2;
    EVP_PKEY              *cakey, *key, *ca2key, *k2, *back;
    esc_kek_ring_t        *ring;
    int                    days, secs;
    BIGNUM                *serial;
    char                   kpath[256];

    is_int(esc_ca_create(suite, "esign Platform CA", "esign", ESC_CA_YEARS,
                         &cakey, &ca), ESC_CRYPTO_OK, "%s: create CA", sn);
    is_int(esc_key_suite(cakey), suite, "%s: CA key suite", sn);
    ok(X509_check_ca(ca) == 1, "%s: CA has CA:TRUE", sn);
    ok((X509_get_key_usage(ca) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN))
       == (KU_KEY_CERT_SIGN | KU_CRL_SIGN), "%s: CA keyUsage", sn);
    ok(X509_get0_subject_key_id(ca) != NULL
       && X509_get0_authority_key_id(ca) != NULL, "%s: CA SKI/AKI", sn);
    ok(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(ca),
                      X509_get0_notAfter(ca)) == 1
       && days >= 3652 && days <= 3653 && secs == 0,
       "%s: CA valid 10 years", sn);

    expected_sig = suite == ESC_SUITE_NATIONAL ? NID_SM2_with_SM3
                                                : NID_ecdsa_with_SHA256;
    is_int(X509_get_signature_nid(ca), expected_sig,
           "%s: CA signature algorithm", sn);

    is_int(esc_ca_issue(cakey, ca, "\xe7\xa4\xba\xe4\xbe\x8b Co", 
                        "91350100M000100Y55", 2, &key, &cert),
           ESC_CRYPTO_OK, "%s: issue institution cert", sn);
    is_int(X509_get_signature_nid(cert), expected_sig,
           "%s: cert signature algorithm", sn);
    ok(esc_cert_uscc(cert, uscc) == 0
       && strcmp(uscc, "91350100M000100Y55") == 0,
       "%s: USCC in organizationIdentifier", sn);
    ok(X509_check_ca(cert) == 0, "%s: cert is not a CA", sn);
    ok((X509_get_key_usage(cert) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))
       == (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)
       && !(X509_get_key_usage(cert) & KU_KEY_CERT_SIGN),
       "%s: cert keyUsage digitalSignature+nonRepudiation only", sn);
    ok(X509_check_private_key(cert, key) == 1, "%s: cert matches key", sn);
    serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    ok(BN_num_bits(serial) > 64 && !BN_is_negative(serial)
       && ASN1_STRING_type(X509_get0_serialNumber(cert)) == V_ASN1_INTEGER,
       "%s: serial is a large positive integer", sn);
    BN_free(serial);

    is_int(esc_ca_verify_cert(ca, cert, 0, &reason), ESC_CRYPTO_OK,
           "%s: C verifier accepts cert", sn);

    /* openssl CLI */
    write_cert("ca.pem", ca);
    write_cert("cert.pem", cert);
    if (suite == ESC_SUITE_NATIONAL) {
        rc = run("openssl verify -vfyopt distid:1234567812345678 "
                 "-CAfile ca.pem cert.pem");
        is_int(rc, 0, "%s: R-REG-3 openssl verify -vfyopt distid passes",
               sn);

    } else {
        /* ECDSA takes no distinguishing ID: setting one is an error. */
        rc = run("openssl verify -CAfile ca.pem cert.pem");
        is_int(rc, 0, "%s: R-REG-3 openssl verify passes", sn);
    }
    if (suite == ESC_SUITE_NATIONAL) {
        ok(run("openssl verify -CAfile ca.pem cert.pem") != 0,
           "%s: without the distinguishing ID openssl verify fails "
           "(the standard ID was really used)", sn);
    }
    ok(run("openssl x509 -in cert.pem -noout -text | grep -q "
           "'organizationIdentifier *= *NTRCN-91350100M000100Y55'") == 0,
       "%s: openssl shows organizationIdentifier", sn);

    /* another CA does not vouch for the cert */
    esc_ca_create(suite, "Other CA", NULL, 10, &ca2key, &ca2);
    write_cert("ca2.pem", ca2);
    ok(run(suite == ESC_SUITE_NATIONAL
           ? "openssl verify -vfyopt distid:1234567812345678 "
             "-CAfile ca2.pem cert.pem"
           : "openssl verify -CAfile ca2.pem cert.pem") != 0,
       "%s: cert does not verify under another CA", sn);
    is_int(esc_ca_verify_cert(ca2, cert, 0, &reason), ESC_CRYPTO_EAUTH,
           "%s: C verifier rejects foreign CA", sn);
    is_int(esc_ca_verify_cert(ca, cert, time(NULL) + 4L * 366 * 86400,
                              &reason), ESC_CRYPTO_EAUTH,
           "%s: C verifier rejects expired cert", sn);
    is_int(reason, X509_V_ERR_CERT_HAS_EXPIRED, "%s: ... as expired", sn);

    /* invalid inputs */
    ok(esc_ca_issue(cakey, ca, "X", "91350100M000100Y5", 2, &k2, &cert2)
       == ESC_CRYPTO_EINVAL, "%s: 17-char USCC refused", sn);
    ok(esc_ca_issue(cakey, ca, "X", "91350100m000100Y55", 2, &k2, &cert2)
       == ESC_CRYPTO_EINVAL, "%s: lowercase USCC refused", sn);
    ok(esc_ca_issue(cakey, ca, "X", "91350100M000100Y55", 4, &k2, &cert2)
       == ESC_CRYPTO_EINVAL, "%s: 4-year validity refused", sn);
    ok(esc_ca_issue(ca2key, ca, "X", "91350100M000100Y55", 1, &k2, &cert2)
       == ESC_CRYPTO_EINVAL, "%s: CA key not matching CA cert refused", sn);

    /* serial uniqueness */
    dup = 0;
    rc = 0;
    for (i = 0; i < 200; i++) {
        if (esc_ca_issue(cakey, ca, "Inst", "91350100M000100Y55", 1, &k2,
                         &cert2) != 0
            || esc_cert_serial_hex(cert2, ser[i], sizeof(ser[i])) != 0)
        {
            rc++;
            ser[i][0] = '\0';
            continue;
        }

        X509_free(cert2);
        EVP_PKEY_free(k2);
    }
    for (i = 0; i < 200; i++) {
        int  j;
        for (j = 0; j < i; j++) {
            if (strcmp(ser[i], ser[j]) == 0) {
                dup++;
            }
        }
    }
    is_int(rc, 0, "%s: 200 issues succeed", sn);
    is_int(dup, 0, "%s: R-REG-3 200 serial numbers all differ", sn);

    /* private key PEM and sealing */
    ok(esc_key_to_pem(key, &pem, &len) == 0
       && strstr(pem, "-----BEGIN PRIVATE KEY-----") != NULL,
       "%s: key PEM is PKCS#8", sn);
    ok(esc_key_from_pem(pem, len, &back) == 0 && EVP_PKEY_eq(back, key) == 1
       && esc_key_suite(back) == (int) suite, "%s: key PEM round trip", sn);
    EVP_PKEY_free(back);
    write_file("key.pem", pem);
    snprintf(cmd, sizeof(cmd), "openssl pkey -in key.pem -noout");
    is_int(run(cmd), 0, "%s: openssl reads the PKCS#8 key", sn);
    esc_free_secret(pem, len);

    snprintf(kpath, sizeof(kpath), "%s/kek", dir);
    unlink(kpath);
    esc_kek_file_create(kpath);
    esc_kek_load(kpath, &ring);
    ok(esc_key_seal(ring, "inst-1", key, &sealed, &slen) == 0,
       "%s: seal private key under KEK", sn);
    ok(esc_key_unseal(ring, "inst-1", sealed, slen, &back) == 0
       && EVP_PKEY_eq(back, key) == 1, "%s: unseal gives the same key", sn);
    EVP_PKEY_free(back);
    is_int(esc_key_unseal(ring, "inst-2", sealed, slen, &back),
           ESC_CRYPTO_EAUTH,
           "%s: R-REG-3 key sealed for one institution does not open for "
           "another", sn);
    free(sealed);
    esc_kek_free(ring);

    X509_free(ca);
    X509_free(ca2);
    X509_free(cert);
    EVP_PKEY_free(cakey);
    EVP_PKEY_free(ca2key);
    EVP_PKEY_free(key);
}


int
main(void)
{
    if (mkdtemp(dir) == NULL) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }

    suite_tests(ESC_SUITE_NATIONAL, "SM2");
    suite_tests(ESC_SUITE_INTL, "P-256");

    {
        char  buf[300];
        snprintf(buf, sizeof(buf), "rm -rf %s", dir);
        if (system(buf) != 0) {
            tap_diag("cleanup failed");
        }
    }

    return tap_done();
}
