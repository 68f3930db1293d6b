/*
 * fuzz_note.c: libFuzzer target for the checkpoint-note parser.  Property:
 * an accepted note's signed body is exactly the canonical rendering of
 * the parsed fields (no two texts for one checkpoint), and the parser
 * never crashes or reads out of bounds.
 */

#include <stdlib.h>
#include <string.h>

#include "esl_int.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    esl_checkpoint  cp;
    char            body[1024];
    size_t          n;

    if (esl_checkpoint_parse((const char *) data, size, &cp) != ESL_OK) {
        return 0;
    }
    n = esl__checkpoint_body(&cp, body, sizeof(body));
    if (n != cp.body_len || memcmp(body, data, n) != 0) {
        abort();
    }
    return 0;
}
