/*
 * libFuzzer target: the strict DER walker that extracts the signed
 * attributes and signature of a CMS SignedData.  Property: outputs lie
 * within the input and the attributes start with the SET tag.
 */

#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "esc_cms.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t    alen, slen;
    uint8_t  *der, *attrs, *sig;

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

        free(attrs);
        free(sig);
    }

    free(der);

    return 0;
}
