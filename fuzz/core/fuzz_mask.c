/*
 * Fuzz target: esc_mask_text() and the field maskers.  Checks bounds
 * (ASan), length preservation, idempotence of text masking and UTF-8
 * validity of field masks.
 */

#include <stdlib.h>
#include <string.h>

#include "esc_mask.h"
#include "esc_validate.h"


typedef ssize_t (*masker_pt)(const u_char *p, size_t len, u_char *out,
    size_t size);

static const masker_pt  maskers[] = {
    esc_mask_name, esc_mask_id_number, esc_mask_mobile, esc_mask_landline,
    esc_mask_email, esc_mask_bank_card, esc_mask_address
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t    i;
    ssize_t   n;
    u_char   *buf;

    /* exact-size heap buffers let ASan see any overrun */

    buf = malloc(size + 1);
    if (buf == NULL) {
        return 0;
    }

    n = esc_mask_text_copy(data, size, buf, size + 1);
    if (n != (ssize_t) size || buf[size] != '\0') {
        abort();
    }

    if (esc_utf8_validate(data, size) == ESC_OK
        && esc_utf8_validate(buf, size) != ESC_OK)
    {
        abort();        /* masking broke valid UTF-8 */
    }

    if (esc_mask_text(buf, size) != 0) {
        abort();        /* a second pass finds nothing left */
    }

    free(buf);

    for (i = 0; i < sizeof(maskers) / sizeof(maskers[0]); i++) {
        buf = malloc(size + ESC_MASK_EXTRA);
        if (buf == NULL) {
            return 0;
        }

        n = maskers[i](data, size, buf, size + ESC_MASK_EXTRA);
        if (n < 0 || buf[n] != '\0'
            || esc_utf8_validate(buf, (size_t) n) != ESC_OK)
        {
            abort();
        }

        if (n > 0) {
            if (maskers[i](data, size, buf, (size_t) n) != ESC_NOSPACE) {
                abort();
            }
        }

        free(buf);
    }

    return 0;
}
