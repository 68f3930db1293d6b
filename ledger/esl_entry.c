/*
 * esl_entry.c: the canonical binary entry encoding and its strict decoder.
 */

#include "esl_int.h"


/* USCC alphabet (GB 32100-2015): digits and upper-case letters except
 * I, O, S, V, Z.  The check digit is the module's business; here we only
 * keep the field printable and canonical. */
static int
uscc_char(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return 1;
    }
    if (c < 'A' || c > 'Y') {
        return 0;
    }
    return c != 'I' && c != 'O' && c != 'S' && c != 'V';
}


static int
entry_valid(const esl_entry *e)
{
    size_t  i;

    if (e == NULL || e->kind > 0xffff
        || e->entry_id == NULL || e->entry_id_len == 0
        || e->entry_id_len > ESL_ENTRY_ID_MAX
        || e->tenant == NULL
        || e->payload_len > ESL_PAYLOAD_MAX
        || (e->payload_len && e->payload == NULL))
    {
        return 0;
    }
    for (i = 0; i < ESL_TENANT_LEN; i++) {
        if (!uscc_char((unsigned char) e->tenant[i])) {
            return 0;
        }
    }
    return 1;
}


size_t
esl_entry_encoded_len(const esl_entry *e)
{
    if (!entry_valid(e)) {
        return 0;
    }
    return 1 + 2 + 8 + 1 + e->entry_id_len + ESL_TENANT_LEN + 4
           + e->payload_len;
}


/* Write the encoding of an entry that esl_entry_encoded_len accepted. */
void
esl__entry_write(const esl_entry *e, unsigned char *p)
{
    *p++ = ESL_ENTRY_VERSION;
    esl__put16(p, e->kind);
    p += 2;
    esl__put64(p, e->time_ms);
    p += 8;
    *p++ = (unsigned char) e->entry_id_len;
    memcpy(p, e->entry_id, e->entry_id_len);
    p += e->entry_id_len;
    memcpy(p, e->tenant, ESL_TENANT_LEN);
    p += ESL_TENANT_LEN;
    esl__put32(p, (uint32_t) e->payload_len);
    p += 4;
    if (e->payload_len) {
        memcpy(p, e->payload, e->payload_len);
    }
}


int
esl_entry_encode(const esl_entry *e, unsigned char *out, size_t cap,
    size_t *len)
{
    size_t  need = esl_entry_encoded_len(e);

    if (need == 0 || out == NULL) {
        return ESL_EINVAL;
    }
    if (cap < need) {
        return ESL_ETOOBIG;
    }
    esl__entry_write(e, out);
    if (len != NULL) {
        *len = need;
    }
    return ESL_OK;
}


int
esl_entry_decode(const unsigned char *p, size_t len, esl_entry *e)
{
    const unsigned char  *end = p + len;
    esl_entry             d;
    uint32_t              plen;
    size_t                i;

    if (p == NULL || e == NULL) {
        return ESL_EINVAL;
    }
    if (len < 1 + 2 + 8 + 1 || len > ESL_ENTRY_MAX) {
        return ESL_EFORMAT;
    }
    if (*p++ != ESL_ENTRY_VERSION) {
        return ESL_EFORMAT;
    }
    d.kind = (unsigned) p[0] << 8 | p[1];
    p += 2;
    d.time_ms = esl__get64(p);
    p += 8;
    d.entry_id_len = *p++;
    if (d.entry_id_len == 0 || d.entry_id_len > ESL_ENTRY_ID_MAX
        || (size_t) (end - p) < d.entry_id_len + ESL_TENANT_LEN + 4)
    {
        return ESL_EFORMAT;
    }
    d.entry_id = p;
    p += d.entry_id_len;
    d.tenant = (const char *) p;
    for (i = 0; i < ESL_TENANT_LEN; i++) {
        if (!uscc_char(p[i])) {
            return ESL_EFORMAT;
        }
    }
    p += ESL_TENANT_LEN;
    plen = esl__get32(p);
    p += 4;
    if (plen > ESL_PAYLOAD_MAX || (size_t) (end - p) != plen) {
        return ESL_EFORMAT;     /* short, or trailing bytes */
    }
    d.payload = plen ? p : NULL;
    d.payload_len = plen;
    *e = d;
    return ESL_OK;
}
