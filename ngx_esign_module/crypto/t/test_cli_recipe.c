/*
 * Runs the openssl-CLI recipe of docs/verification.md, exactly as
 * written there (the ```sh blocks are extracted from the document), on
 * signatures made by esc_cms, and checks that it passes for the genuine
 * document and fails for a tampered one (R-SIGN-8, R-REG-3).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "esc_ca.h"
#include "esc_cms.h"
#include "esc_rand.h"


static char  dir[] = "/tmp/esc-recipe-XXXXXX";


static int
put(const char *name, const void *data, size_t len)
{
    char   path[256];
    FILE  *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f == NULL || fwrite(data, 1, len, f) != len) {
        return -1;
    }

    return fclose(f);
}


static int
put_cert(const char *name, X509 *x)
{
    int     rc;
    char   *pem;
    size_t  len;

    if (esc_cert_to_pem(x, &pem, &len) != 0) {
        return -1;
    }

    rc = put(name, pem, len);
    free(pem);
    return rc;
}


/*
 * Copies the ```sh blocks whose first line is "# recipe: <which>" from
 * the document into <dir>/<which>.sh.  Returns the number of blocks.
 */
static int
extract(const char *doc, const char *which)
{
    int    n, in, take;
    char   line[1024], want[64], path[256];
    FILE  *in_f, *out_f;

    in_f = fopen(doc, "r");
    if (in_f == NULL) {
        return -1;
    }

    snprintf(path, sizeof(path), "%s/%s.sh", dir, which);
    out_f = fopen(path, "w");
    snprintf(want, sizeof(want), "# recipe: %s\n", which);

    n = 0;
    in = 0;
    take = 0;
    fputs("set -e\n", out_f);

    while (fgets(line, sizeof(line), in_f) != NULL) {
        if (!in && strcmp(line, "```sh\n") == 0) {
            in = 1;
            take = -1;          /* decided by the first line */
            continue;
        }

        if (in && strcmp(line, "```\n") == 0) {
            in = 0;
            continue;
        }

        if (!in) {
            continue;
        }

        if (take == -1) {
            take = strcmp(line, want) == 0;
            n += take;
        }

        if (take) {
            fputs(line, out_f);
        }
    }

    fclose(in_f);
    fclose(out_f);

    return n;
}


static int
run(const char *which, const char *expect)
{
    int   rc;
    char  cmd[512];

    snprintf(cmd, sizeof(cmd), "cd %s && sh %s.sh >%s.out 2>&1", dir, which,
             which);
    rc = system(cmd);

    if (rc == 0 && expect != NULL) {
        snprintf(cmd, sizeof(cmd), "grep -q '%s' %s/%s.out", expect, dir,
                 which);
        if (system(cmd) != 0) {
            rc = -1;
        }
    }

    return rc;
}


static void
show(const char *which)
{
    char  cmd[512];

    snprintf(cmd, sizeof(cmd), "sed 's/^/#   /' %s/%s.out | tail -8", dir,
             which);
    if (system(cmd) != 0) {
        tap_diag("no output");
    }
}


int
main(void)
{
    int        nn, ni;
    char      *pem, docpath[512], *slash, cmd[300];
    size_t     len, dlen, plen;
    uint8_t   *doc, *der;
    X509      *ca, *cert, *ica, *icert;
    EVP_PKEY  *cakey, *key, *icakey, *ikey;

    if (mkdtemp(dir) == NULL) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }

    /* docs/verification.md relative to this source file's folder */
    snprintf(docpath, sizeof(docpath), "%s", __FILE__);
    slash = strrchr(docpath, '/');
    if (slash != NULL) {
        strcpy(slash, "/../../../docs/verification.md");
    }
    if (access(docpath, R_OK) != 0) {
        snprintf(docpath, sizeof(docpath), "../../docs/verification.md");
    }

    nn = extract(docpath, "national");
    ni = extract(docpath, "intl");
    ok(nn > 0 && ni > 0, "recipe blocks found in docs/verification.md "
       "(national %d, intl %d)", nn, ni);

    len = 200000;
    doc = malloc(len);
    esc_rand_bytes(doc, len);
    memcpy(doc, "%PDF-1.7\n", 9);
    put("document", doc, len);

    /* national */
    esc_ca_create(ESC_SUITE_NATIONAL, "esign Platform CA", "esign", 10,
                  &cakey, &ca);
    esc_ca_issue(cakey, ca, "Example Co", "91350100M000100Y55", 2, &key,
                 &cert);
    put_cert("ca.pem", ca);
    put_cert("cert.pem", cert);
    ok(esc_cms_sign(cert, key, doc, len, 0, &der, &dlen) == 0
       && esc_cms_der_to_pem(der, dlen, &pem, &plen) == 0
       && put("sig.pem", pem, plen) == 0, "national signature written");
    free(der);
    free(pem);

    /* international */
    esc_ca_create(ESC_SUITE_INTL, "esign Platform CA (intl)", "esign", 10,
                  &icakey, &ica);
    esc_ca_issue(icakey, ica, "Example Co", "91350100M000100Y55", 2, &ikey,
                 &icert);
    put_cert("ca-intl.pem", ica);
    put_cert("cert-intl.pem", icert);
    ok(esc_cms_sign(icert, ikey, doc, len, 0, &der, &dlen) == 0
       && esc_cms_der_to_pem(der, dlen, &pem, &plen) == 0
       && put("sig-intl.pem", pem, plen) == 0, "intl signature written");
    free(der);
    free(pem);

    if (!ok(run("national", "Signature Verified Successfully") == 0,
            "R-SIGN-8 national recipe passes on a genuine signature")) {
        show("national");
    }
    ok(run("national", "cert.pem: OK") == 0,
       "R-REG-3 recipe verifies the institution certificate");
    ok(run("national", "message digest: OK") == 0,
       "recipe checks the message-digest attribute");
    if (!ok(run("intl", "Verification successful") == 0,
            "R-SIGN-8 intl recipe passes on a genuine signature")) {
        show("intl");
    }

    /* tampered document */
    doc[len / 2] ^= 0x01;
    put("document", doc, len);
    ok(run("national", NULL) != 0, "national recipe fails on a tampered "
       "document");
    ok(run("intl", NULL) != 0, "intl recipe fails on a tampered document");
    doc[len / 2] ^= 0x01;
    put("document", doc, len);
    ok(run("national", NULL) == 0, "... and passes again once restored");

    /* signature by another institution's key, same CA */
    {
        X509      *c2;
        EVP_PKEY  *k2;

        esc_ca_issue(cakey, ca, "Other Co", "91350100M000100Y66", 1, &k2,
                     &c2);
        esc_cms_sign(c2, k2, doc, len, 0, &der, &dlen);
        esc_cms_der_to_pem(der, dlen, &pem, &plen);
        put("sig.pem", pem, plen);
        ok(run("national", NULL) != 0, "national recipe fails for a "
           "signature by another key");
        free(der);
        free(pem);
        X509_free(c2);
        EVP_PKEY_free(k2);
    }

    /*
     * intl, digest-only: the platform signs from the SHA-256 recorded at
     * upload (esc_cms_sign_digest, signed attributes built by hand); the
     * same `openssl cms -verify` recipe must accept it.
     */
    {
        uint8_t  dg[ESC_CMS_DIGEST_LEN];

        ok(esc_cms_digest(ESC_SUITE_INTL, doc, len, dg) == 0
           && esc_cms_sign_digest(icert, ikey, dg, sizeof(dg), 0, &der,
                                  &dlen) == 0
           && esc_cms_der_to_pem(der, dlen, &pem, &plen) == 0
           && put("sig-intl.pem", pem, plen) == 0,
           "intl digest-only signature written");
        free(der);
        free(pem);

        if (!ok(run("intl", "Verification successful") == 0,
                "R-SIGN-8 intl recipe passes on a digest-only signature")) {
            show("intl");
        }

        doc[7] ^= 0x01;
        put("document", doc, len);
        ok(run("intl", NULL) != 0, "... and fails on a tampered document");
        doc[7] ^= 0x01;
        put("document", doc, len);

        /* a national CA does not vouch for an intl certificate */
        put_cert("ca-intl.pem", ca);
        ok(run("intl", NULL) != 0, "intl recipe fails against the wrong CA");
        put_cert("ca-intl.pem", ica);
    }

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0) {
        tap_diag("cleanup failed");
    }

    free(doc);
    X509_free(ca);
    X509_free(cert);
    X509_free(ica);
    X509_free(icert);
    EVP_PKEY_free(cakey);
    EVP_PKEY_free(key);
    EVP_PKEY_free(icakey);
    EVP_PKEY_free(ikey);

    return tap_done();
}
