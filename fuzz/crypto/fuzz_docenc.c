/*
 * libFuzzer target: document blob parser and decryptor.  Property: the
 * parser's offsets stay inside the blob; decryption with the fuzz key
 * succeeds only for authentic blobs (seeds) and then yields ct_len bytes.
 */

#include <stdlib.h>
#include <string.h>

#include "esc_docenc.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t  key[ESC_DOCENC_KEY_LEN] =
    "fuzz-doc-key-0123456789abcdefgh";


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                rc;
    size_t             n;
    uint8_t           *blob, *out;
    esc_docenc_info_t  info;

    blob = malloc(size ? size : 1);
    if (blob == NULL) {
        return 0;
    }

    memcpy(blob, data, size);

    rc = esc_docenc_parse(blob, size, &info);
    if (rc == ESC_CRYPTO_OK) {
        if (info.ct_off + info.ct_len + info.tag_len != size
            || info.tag_off != info.ct_off + info.ct_len
            || info.nonce_off + info.nonce_len != info.ct_off)
        {
            abort();
        }

        out = malloc(info.ct_len ? info.ct_len : 1);
        if (out != NULL) {
            rc = esc_docenc_decrypt(key, NULL, 0, blob, size, out,
                                    info.ct_len, &n);
            if (rc == ESC_CRYPTO_OK && n != info.ct_len) {
                abort();
            }
            free(out);
        }
    }

    free(blob);

    return 0;
}
