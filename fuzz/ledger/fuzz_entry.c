/*
 * fuzz_entry.c: libFuzzer target for the strict entry decoder.  Property:
 * whatever decodes re-encodes to exactly the input (one encoding per
 * value), and nothing crashes or reads out of bounds.
 */

#include <stdlib.h>
#include <string.h>

#include "ledger.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static unsigned char  out[ESL_ENTRY_MAX];
    esl_entry             e;
    size_t                len = 0;

    if (esl_entry_decode(data, size, &e) != ESL_OK) {
        return 0;
    }
    if (esl_entry_encode(&e, out, sizeof(out), &len) != ESL_OK
        || len != size || memcmp(out, data, size) != 0)
    {
        abort();        /* a second encoding of the same entry */
    }
    return 0;
}
