/*
 * libFuzzer target: link-token verifier.  Property: no input other than
 * a token issued with the key verifies; the object it reports is sane.
 */

#include <stdlib.h>
#include <string.h>

#include "esc_linktoken.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed test key; the seed corpus holds tokens issued under it. */
static const uint8_t  key[ESC_LINK_KEY_LEN] = "fuzz-link-key-0123456789abcdef!";


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char               *tok;
    esc_linktoken_t     obj;
    esc_link_status_t   st;

    /* exact-size copy without NUL: the verifier must respect len */
    tok = malloc(size ? size : 1);
    if (tok == NULL) {
        return 0;
    }

    memcpy(tok, data, size);
    st = esc_linktoken_verify(key, tok, size, 1000, &obj);

    if (st != ESC_LINK_INVALID
        && (obj.idlen == 0 || obj.idlen > ESC_LINK_ID_MAX
            || strlen(obj.id) != obj.idlen))
    {
        abort();
    }

    if (st == ESC_LINK_INVALID && obj.idlen != 0) {
        abort();
    }

    free(tok);

    return 0;
}
