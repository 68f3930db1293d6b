/*
 * esl_note.c: checkpoint notes (C2SP signed-note text) as block headers:
 * build, sign, strict parse, verify, cosign.
 */

#include <stdio.h>
#include <stdlib.h>

#include "esl_int.h"

#define EMDASH          "\xe2\x80\x94"          /* U+2014, C2SP line mark */
#define MAX_SIGS        16
#define NOTE_SIG_LEN    (4 + 64)
#define COSIG_SIG_LEN   (4 + 8 + 64)
#define COSIG_HEADER    "cosignature/v1\ntime "


size_t
esl__checkpoint_body(const esl_checkpoint *cp, char *out, size_t cap)
{
    char  root[48], prev[48];
    int   n;

    esl__b64_enc(cp->root, ESL_H, root);
    esl__b64_enc(cp->prev, ESL_H, prev);
    n = snprintf(out, cap, "%s\n%llu\n%s\nb %llu %s\nt %llu\n", cp->origin,
                 (unsigned long long) cp->size, root,
                 (unsigned long long) cp->height, prev,
                 (unsigned long long) cp->time_ms);
    if (n < 0 || (size_t) n >= cap) {
        return 0;
    }
    return (size_t) n;
}


static size_t
sig_line(const char *name, const unsigned char *sig, size_t siglen, char *out)
{
    size_t  n;

    n = (size_t) sprintf(out, EMDASH " %s ", name);
    n += esl__b64_enc(sig, siglen, out + n);
    out[n++] = '\n';
    out[n] = '\0';
    return n;
}


int
esl__checkpoint_sign(const esl_signer *s, const esl_checkpoint *cp,
    esl_buf *note)
{
    char           text[ESL_ORIGIN_MAX + 512 + ESL_KEYNAME_MAX];
    unsigned char  sig[NOTE_SIG_LEN];
    size_t         n;
    int            rc;

    n = esl__checkpoint_body(cp, text, sizeof(text) - ESL_KEYNAME_MAX - 160);
    if (n == 0) {
        return ESL_EINVAL;
    }
    memcpy(sig, s->keyid, 4);
    rc = esl_sm2_sign(s, NULL, 0, text, n, sig + 4);
    if (rc != ESL_OK) {
        return rc;
    }
    text[n++] = '\n';
    n += sig_line(s->name, sig, sizeof(sig), text + n);
    return esl__buf_set(note, text, n);
}


/* Canonical unsigned decimal: "0" or no leading zero, fits 63 bits. */
static int
parse_dec(const char *p, size_t len, uint64_t *v)
{
    uint64_t  x = 0;
    size_t    i;

    if (len == 0 || len > 19 || (len > 1 && p[0] == '0')) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }
        x = x * 10 + (uint64_t) (p[i] - '0');
    }
    if (x > INT64_MAX) {
        return 0;
    }
    *v = x;
    return 1;
}


static int
parse_hash(const char *p, size_t len, unsigned char out[ESL_H])
{
    size_t  n;

    return len == 44 && esl__b64_dec(p, len, out, ESL_H, &n) == ESL_OK
           && n == ESL_H;
}


/* Next line [*p, eol) of text; returns 0 if there is no '\n'. */
static int
next_line(const char **p, const char *end, const char **line, size_t *len)
{
    const char  *nl = memchr(*p, '\n', (size_t) (end - *p));

    if (nl == NULL) {
        return 0;
    }
    *line = *p;
    *len = (size_t) (nl - *p);
    *p = nl + 1;
    return 1;
}


typedef struct {
    const char  *name;
    size_t       name_len;
    const char  *b64;
    size_t       b64_len;
} sigline;


static int
parse_sigline(const char *l, size_t len, sigline *s)
{
    const char  *sp;
    size_t       i;

    if (len < 4 || memcmp(l, EMDASH " ", 4) != 0) {
        return 0;
    }
    l += 4;
    len -= 4;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char) l[i];
        if (c < 0x20 || c >= 0x7f) {
            return 0;
        }
    }
    sp = memchr(l, ' ', len);
    if (sp == NULL || sp == l) {
        return 0;
    }
    s->name = l;
    s->name_len = (size_t) (sp - l);
    s->b64 = sp + 1;
    s->b64_len = len - s->name_len - 1;
    if (s->name_len > ESL_KEYNAME_MAX || memchr(s->name, '+', s->name_len)
        || s->b64_len < 8 || s->b64_len > 1024)
    {
        return 0;
    }
    return 1;
}


/* Parse everything; optionally hand back the signature lines. */
static int
parse(const char *text, size_t len, esl_checkpoint *cp, sigline *sigs)
{
    const char     *p = text, *end = text + len, *l;
    size_t          n, i, dl;
    unsigned char   tmp[COSIG_SIG_LEN + 800];
    esl_checkpoint  c;
    sigline         s;

    if (text == NULL || cp == NULL) {
        return ESL_EINVAL;
    }
    if (len < 10 || len > 16384 || text[len - 1] != '\n') {
        return ESL_EFORMAT;
    }
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) text[i];
        if ((ch < 0x20 && ch != '\n') || ch == 0x7f) {
            return ESL_EFORMAT;         /* CR, NUL, controls */
        }
    }
    memset(&c, 0, sizeof(c));

    /* origin */
    if (!next_line(&p, end, &l, &n) || n == 0 || n > ESL_ORIGIN_MAX) {
        return ESL_EFORMAT;
    }
    for (i = 0; i < n; i++) {
        if ((unsigned char) l[i] <= 0x20 || (unsigned char) l[i] >= 0x7f) {
            return ESL_EFORMAT;
        }
    }
    memcpy(c.origin, l, n);
    c.origin[n] = '\0';

    /* size, root */
    if (!next_line(&p, end, &l, &n) || !parse_dec(l, n, &c.size)) {
        return ESL_EFORMAT;
    }
    if (!next_line(&p, end, &l, &n) || !parse_hash(l, n, c.root)) {
        return ESL_EFORMAT;
    }

    /* "b <height> <prev>" */
    if (!next_line(&p, end, &l, &n) || n < 4 || l[0] != 'b' || l[1] != ' ') {
        return ESL_EFORMAT;
    }
    {
        const char *sp = memchr(l + 2, ' ', n - 2);
        if (sp == NULL
            || !parse_dec(l + 2, (size_t) (sp - l - 2), &c.height)
            || c.height == 0
            || !parse_hash(sp + 1, (size_t) (l + n - sp - 1), c.prev))
        {
            return ESL_EFORMAT;
        }
    }

    /* "t <ms>" */
    if (!next_line(&p, end, &l, &n) || n < 3 || l[0] != 't' || l[1] != ' '
        || !parse_dec(l + 2, n - 2, &c.time_ms))
    {
        return ESL_EFORMAT;
    }
    c.body_len = (size_t) (p - text);

    /* blank line, then 1..16 signature lines, nothing else */
    if (!next_line(&p, end, &l, &n) || n != 0) {
        return ESL_EFORMAT;
    }
    while (p < end) {
        if (!next_line(&p, end, &l, &n) || c.nsigs == MAX_SIGS
            || !parse_sigline(l, n, &s)
            || esl__b64_dec(s.b64, s.b64_len, tmp, sizeof(tmp), &dl)
               != ESL_OK
            || dl < 5)
        {
            return ESL_EFORMAT;
        }
        if (sigs != NULL) {
            sigs[c.nsigs] = s;
        }
        c.nsigs++;
    }
    if (c.nsigs == 0) {
        return ESL_EFORMAT;
    }
    *cp = c;
    return ESL_OK;
}


int
esl_checkpoint_parse(const char *text, size_t len, esl_checkpoint *cp)
{
    return parse(text, len, cp, NULL);
}


int
esl_checkpoint_verify(const esl_verifier *v, const char *text, size_t len,
    esl_checkpoint *cp)
{
    sigline         sigs[MAX_SIGS];
    esl_checkpoint  c;
    unsigned char   raw[COSIG_SIG_LEN + 800];
    size_t          nl = strlen(v ? v->name : ""), dl;
    unsigned        i;
    int             rc;

    if (v == NULL) {
        return ESL_EINVAL;
    }
    rc = parse(text, len, &c, sigs);
    if (rc != ESL_OK) {
        return rc;
    }
    /* Lines of other keys (cosigners, unknown) are ignored, but a line
     * that claims to be ours must verify. */
    for (i = 0; i < c.nsigs; i++) {
        if (sigs[i].name_len != nl || memcmp(sigs[i].name, v->name, nl)) {
            continue;
        }
        if (esl__b64_dec(sigs[i].b64, sigs[i].b64_len, raw, sizeof(raw), &dl)
            != ESL_OK || dl != NOTE_SIG_LEN || memcmp(raw, v->keyid, 4))
        {
            continue;
        }
        rc = esl_sm2_verify(v, NULL, 0, text, c.body_len, raw + 4);
        if (rc != ESL_OK) {
            return ESL_ESIG;
        }
        if (cp != NULL) {
            *cp = c;
        }
        return ESL_OK;
    }
    return ESL_ESIG;
}


int
esl_checkpoint_hash(esl_hasher *h, const char *text, size_t len,
    unsigned char out[ESL_H])
{
    esl_checkpoint  c;
    int             rc;

    rc = esl_checkpoint_parse(text, len, &c);
    if (rc != ESL_OK) {
        return rc;
    }
    return esl_hash(h, text, c.body_len, out);
}


static int
cosig_msg(const char *body, size_t blen, uint64_t t, char **msg, size_t *len)
{
    char   hdr[64];
    int    n = snprintf(hdr, sizeof(hdr), COSIG_HEADER "%llu\n",
                        (unsigned long long) t);
    char  *m = malloc((size_t) n + blen);

    if (m == NULL) {
        return ESL_ENOMEM;
    }
    memcpy(m, hdr, (size_t) n);
    memcpy(m + n, body, blen);
    *msg = m;
    *len = (size_t) n + blen;
    return ESL_OK;
}


int
esl_cosign(const esl_signer *s, const char *note, size_t len,
    uint64_t time_ms, esl_buf *line)
{
    esl_checkpoint  c;
    unsigned char   sig[COSIG_SIG_LEN];
    char            out[ESL_KEYNAME_MAX + 160], *msg;
    size_t          mlen, n;
    int             rc;

    if (s == NULL || line == NULL) {
        return ESL_EINVAL;
    }
    if ((rc = esl_checkpoint_parse(note, len, &c)) != ESL_OK) {
        return rc;
    }
    if ((rc = cosig_msg(note, c.body_len, time_ms, &msg, &mlen)) != ESL_OK) {
        return rc;
    }
    memcpy(sig, s->cosig_keyid, 4);
    esl__put64(sig + 4, time_ms);
    rc = esl_sm2_sign(s, NULL, 0, msg, mlen, sig + 12);
    free(msg);
    if (rc != ESL_OK) {
        return rc;
    }
    n = sig_line(s->name, sig, sizeof(sig), out);
    return esl__buf_set(line, out, n);
}


int
esl_cosignature_verify(const esl_verifier *v, const char *note, size_t len,
    const char *line, size_t line_len, uint64_t *time_ms)
{
    esl_checkpoint  c;
    sigline         s;
    unsigned char   raw[COSIG_SIG_LEN + 8];
    char           *msg;
    size_t          mlen, dl;
    uint64_t        t;
    int             rc;

    if (v == NULL || line == NULL) {
        return ESL_EINVAL;
    }
    if ((rc = esl_checkpoint_parse(note, len, &c)) != ESL_OK) {
        return rc;
    }
    if (line_len < 2 || line[line_len - 1] != '\n'
        || memchr(line, '\n', line_len - 1) != NULL
        || !parse_sigline(line, line_len - 1, &s))
    {
        return ESL_EFORMAT;
    }
    if (s.name_len != strlen(v->name) || memcmp(s.name, v->name, s.name_len)
        || esl__b64_dec(s.b64, s.b64_len, raw, sizeof(raw), &dl) != ESL_OK
        || dl != COSIG_SIG_LEN || memcmp(raw, v->cosig_keyid, 4))
    {
        return ESL_ESIG;
    }
    t = esl__get64(raw + 4);
    if ((rc = cosig_msg(note, c.body_len, t, &msg, &mlen)) != ESL_OK) {
        return rc;
    }
    rc = esl_sm2_verify(v, NULL, 0, msg, mlen, raw + 12);
    free(msg);
    if (rc == ESL_OK && time_ms != NULL) {
        *time_ms = t;
    }
    return rc == ESL_OK ? ESL_OK : ESL_ESIG;
}
