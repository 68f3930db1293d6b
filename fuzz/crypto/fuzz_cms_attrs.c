/*
 * libFuzzer target: the strict DER walkers of a CMS SignedData: the one
 * that extracts the signed attributes and signature (property: outputs
 * lie within the input, the attributes start with the SET tag) and the
 * one that drops the certificates field (property: the copy walks again,
 * to the same attributes and signature, and is never longer).
 */

#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "esc_cms.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t    alen, slen, sl, al2, sl2;
    uint8_t  *der, *attrs, *sig, *st, *a2, *s2;

    der = malloc(size ? size : 1);
    if (der == NULL) {
        return 0;
    }

    memcpy(der, data, size);

    if (esc_cms_signed_attrs(der, size, &attrs, &alen, &sig, &slen)
        == ESC_CRYPTO_OK)
    {
        if (attrs[0] != 0x31 || alen + slen > size
            || memmem(der, size, attrs + 1, alen - 1) == NULL)
        {
            abort();
        }

        if (esc_cms_strip_certs(der, size, NULL, 0, &st, &sl)
            == ESC_CRYPTO_OK)
        {
            if (sl > size
                || esc_cms_signed_attrs(st, sl, &a2, &al2, &s2, &sl2)
                   != ESC_CRYPTO_OK
                || al2 != alen || memcmp(a2, attrs, alen) != 0
                || sl2 != slen || memcmp(s2, sig, slen) != 0)
            {
                abort();
            }

            free(a2);
            free(s2);
            free(st);
        }

        free(attrs);
        free(sig);
    }

    free(der);

    return 0;
}
