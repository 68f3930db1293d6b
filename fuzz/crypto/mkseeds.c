/*
 * Writes the seed corpora of the crypto fuzz targets (run by
 * `make seeds`; the results are committed under corpus/).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "esc_ca.h"
#include "esc_cms.h"
#include "esc_codec.h"
#include "esc_docenc.h"
#include "esc_linktoken.h"


static const uint8_t  link_key[ESC_LINK_KEY_LEN] =
    "fuzz-link-key-0123456789abcdef!";
static const uint8_t  doc_key[ESC_DOCENC_KEY_LEN] =
    "fuzz-doc-key-0123456789abcdefgh";


static void
put(const char *root, const char *target, const char *name,
    const void *data, size_t len)
{
    char   path[512];
    FILE  *f;

    snprintf(path, sizeof(path), "%s/%s", root, target);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
    f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fwrite(data, 1, len, f);
    fclose(f);
}


int
main(int argc, char **argv)
{
    int        s;
    char       tok[256], name[64];
    size_t     n;
    uint8_t    blob[512], *der;
    X509      *ca, *cert;
    EVP_PKEY  *cakey, *key;
    const char  *root;

    root = argc > 1 ? argv[1] : "corpus";
    mkdir(root, 0755);

    put(root, "fuzz_b64", "std", "Zm9vYmE=", 8);
    put(root, "fuzz_b64", "url", "Zm9vYmE", 7);
    put(root, "fuzz_b64", "b32", "mzxw6ytboi", 10);
    put(root, "fuzz_b64", "hex", "00abFF", 6);
    put(root, "fuzz_b64", "bad", "Zh==", 4);

    esc_linktoken_issue(link_key, 1, "abcdefghijklmnopqrstuvwxy2", 26,
                        2000, tok, sizeof(tok), &n);
    put(root, "fuzz_linktoken", "valid", tok, n);
    esc_linktoken_issue(link_key, 2, "x", 1, 10, tok, sizeof(tok), &n);
    put(root, "fuzz_linktoken", "expired", tok, n);

    for (s = ESC_SUITE_NATIONAL; s <= ESC_SUITE_INTL; s++) {
        esc_docenc_encrypt((esc_suite_t) s, doc_key, NULL, 0,
                           (const uint8_t *) "hello, document", 15, blob,
                           sizeof(blob), &n);
        snprintf(name, sizeof(name), "suite%d", s);
        put(root, "fuzz_docenc", name, blob, n);

        esc_ca_create((esc_suite_t) s, "CA", NULL, 10, &cakey, &ca);
        esc_ca_issue(cakey, ca, "Inst", "91350100M000100Y55", 1, &key,
                     &cert);
        esc_cms_sign(cert, key, (const uint8_t *) "doc", 3, 0, &der, &n);
        put(root, "fuzz_cms_attrs", name, der, n);
        free(der);
        X509_free(ca);
        X509_free(cert);
        EVP_PKEY_free(cakey);
        EVP_PKEY_free(key);
    }

    return 0;
}
