/*
 * test_format.c: the entry encoding and the checkpoint note format: strict
 * decoding of every non-canonical input, signatures, cosignatures.
 * (R-EVID-3, R-EVID-4, R-XCH-3, R-LEDG-1)
 */

#include "util.h"
#include "esl_int.h"

static char *D;

static void
test_entry(void)
{
    esl_entry       e, d;
    char            id[65];
    unsigned char   pay[40], buf[512], b2[512], lh[32], want[32];
    size_t          len, i;
    esl_hasher     *h;
    EVP_MD_CTX     *c;
    unsigned int    ol;

    sample_entry(&e, 7, id, pay, sizeof(pay));
    is_int(esl_entry_encode(&e, buf, sizeof(buf), &len), ESL_OK, "encode");
    is_int(len, esl_entry_encoded_len(&e), "encoded_len agrees");
    is_int(esl_entry_decode(buf, len, &d), ESL_OK, "decode");
    ok(d.kind == e.kind && d.time_ms == e.time_ms
       && d.entry_id_len == e.entry_id_len
       && memcmp(d.entry_id, e.entry_id, e.entry_id_len) == 0
       && memcmp(d.tenant, TENANT, 18) == 0
       && d.payload_len == e.payload_len
       && memcmp(d.payload, pay, sizeof(pay)) == 0, "round trip is exact");
    esl_entry_encode(&d, b2, sizeof(b2), &len);
    ok(memcmp(buf, b2, len) == 0, "re-encoding gives the same bytes");

    /* leaf hash = SM3(0x00 || entry), computed independently */
    esl_hasher_new(ESL_HASH_SM3, &h);
    esl_leaf_hash(h, buf, len, lh);
    c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sm3(), NULL);
    EVP_DigestUpdate(c, "\0", 1);
    EVP_DigestUpdate(c, buf, len);
    EVP_DigestFinal_ex(c, want, &ol);
    EVP_MD_CTX_free(c);
    ok(memcmp(lh, want, 32) == 0, "leaf hash is SM3(0x00 || entry bytes)");
    esl_hasher_free(h);

    /* non-canonical inputs */
    memcpy(b2, buf, len);
    b2[0] = 2;
    is_int(esl_entry_decode(b2, len, &d), ESL_EFORMAT, "unknown version");
    b2[0] = 0;
    is_int(esl_entry_decode(b2, len, &d), ESL_EFORMAT, "version 0");
    memcpy(b2, buf, len);
    b2[len] = 0;
    is_int(esl_entry_decode(b2, len + 1, &d), ESL_EFORMAT, "trailing byte");
    for (i = 0; i < len; i++) {
        if (esl_entry_decode(buf, i, &d) != ESL_EFORMAT) {
            break;
        }
    }
    is_int(i, len, "every truncation is rejected");
    memcpy(b2, buf, len);
    b2[11] = 0;
    is_int(esl_entry_decode(b2, len, &d), ESL_EFORMAT, "entry_id length 0");
    b2[11] = 65;
    is_int(esl_entry_decode(b2, len, &d), ESL_EFORMAT, "entry_id length 65");
    b2[11] = (unsigned char) (e.entry_id_len + 1);
    is_int(esl_entry_decode(b2, len, &d), ESL_EFORMAT,
           "entry_id length off by one");
    memcpy(b2, buf, len);
    b2[12 + e.entry_id_len] = 'I';
    is_int(esl_entry_decode(b2, len, &d), ESL_EFORMAT,
           "USCC with a letter outside the alphabet");
    memcpy(b2, buf, len);
    b2[12 + e.entry_id_len + 3] = 'a';
    is_int(esl_entry_decode(b2, len, &d), ESL_EFORMAT, "lower-case USCC");
    memcpy(b2, buf, len);
    b2[12 + e.entry_id_len + 18 + 3] += 1;
    is_int(esl_entry_decode(b2, len, &d), ESL_EFORMAT,
           "payload length too long");
    b2[12 + e.entry_id_len + 18 + 3] -= 2;
    is_int(esl_entry_decode(b2, len, &d), ESL_EFORMAT,
           "payload length too short (trailing bytes)");

    /* encoder refuses invalid entries */
    d = e;
    d.entry_id_len = 0;
    is_int(esl_entry_encode(&d, b2, sizeof(b2), &len), ESL_EINVAL,
           "encode: empty entry_id refused");
    d = e;
    d.payload_len = ESL_PAYLOAD_MAX + 1;
    is_int(esl_entry_encode(&d, b2, sizeof(b2), &len), ESL_EINVAL,
           "encode: payload over 64 KiB refused");
    d = e;
    d.kind = 0x10000;
    is_int(esl_entry_encode(&d, b2, sizeof(b2), &len), ESL_EINVAL,
           "encode: kind over u16 refused");
    is_int(esl_entry_encode(&e, b2, 10, &len), ESL_ETOOBIG,
           "encode: small buffer");
    {
        static unsigned char big[ESL_ENTRY_MAX], pl[ESL_PAYLOAD_MAX];
        d = e;
        d.payload = pl;
        d.payload_len = ESL_PAYLOAD_MAX;
        is_int(esl_entry_encode(&d, big, sizeof(big), &len), ESL_OK,
               "64 KiB payload encodes");
        is_int(esl_entry_decode(big, len, &d), ESL_OK, "and decodes");
    }
}

static void
make_cp(esl_checkpoint *cp)
{
    memset(cp, 0, sizeof(*cp));
    strcpy(cp->origin, "ledger.example.cn/siteA/t-1/e1");
    cp->size = 1048577;
    memset(cp->root, 0xab, 32);
    cp->height = 8231;
    memset(cp->prev, 0x11, 32);
    cp->time_ms = 1763900000123ULL;
}

static int
mutate_parse(const char *note, const char *from, const char *to)
{
    char            buf[2048];
    const char     *p = strstr(note, from);
    esl_checkpoint  cp;

    if (p == NULL) {
        return -999;
    }
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int) (p - note), note, to,
             p + strlen(from));
    return esl_checkpoint_parse(buf, strlen(buf), &cp);
}

static void
test_note(void)
{
    esl_signer     *s, *s2;
    esl_verifier   *v, *v2;
    esl_checkpoint  cp, got;
    esl_buf         note, cos;
    char            buf[4096];
    uint64_t        t;
    size_t          n;
    int             i;

    make_key(D, "a");
    make_key(D, "b");
    s = load_signer(D, "a", "siteA");
    s2 = load_signer(D, "b", "siteB");
    esl_verifier_from_signer(s, &v);
    esl_verifier_from_signer(s2, &v2);

    make_cp(&cp);
    is_int(esl__checkpoint_sign(s, &cp, &note), ESL_OK, "sign a checkpoint");
    is_int(esl_checkpoint_verify(v, (char *) note.data, note.len, &got),
           ESL_OK, "it verifies");
    ok(got.size == cp.size && got.height == cp.height
       && got.time_ms == cp.time_ms && !strcmp(got.origin, cp.origin)
       && !memcmp(got.root, cp.root, 32) && !memcmp(got.prev, cp.prev, 32),
       "parsed fields are the signed ones");
    ok(strncmp((char *) note.data,
               "ledger.example.cn/siteA/t-1/e1\n1048577\n", 39) == 0
       && strstr((char *) note.data, "\nb 8231 ") != NULL
       && strstr((char *) note.data, "\nt 1763900000123\n\n\xe2\x80\x94 siteA ")
          != NULL, "C2SP layout: origin, size, root, b, t, blank, signature");
    is_int(esl_checkpoint_verify(v2, (char *) note.data, note.len, NULL),
           ESL_ESIG, "another key's verifier finds no signature");

    /* tampering with any signed field */
    memcpy(buf, note.data, note.len + 1);
    buf[note.len - 80] ^= 0;      /* (keep) */
    {
        char *p = strstr(buf, "1048577");
        p[6] = '8';
        is_int(esl_checkpoint_verify(v, buf, note.len, NULL), ESL_ESIG,
               "changed size fails the signature");
    }

    /* strict syntax */
    is_int(mutate_parse((char *) note.data, "\n1048577\n", "\n01048577\n"),
           ESL_EFORMAT, "leading zero in size");
    is_int(mutate_parse((char *) note.data, "\n1048577\n", "\r\n1048577\n"),
           ESL_EFORMAT, "CR");
    is_int(mutate_parse((char *) note.data, "\nt ", "\nx 1\nt "),
           ESL_EFORMAT, "unknown extension line");
    is_int(mutate_parse((char *) note.data, "\nb 8231", "\nb 0"),
           ESL_EFORMAT, "height 0");
    is_int(mutate_parse((char *) note.data, "\xe2\x80\x94 siteA",
                        "\xe2\x80\x94 site+A"), ESL_EFORMAT,
           "'+' in a key name");
    is_int(mutate_parse((char *) note.data, "\xe2\x80\x94 siteA",
                        "- siteA"), ESL_EFORMAT, "signature line without "
           "the em dash");
    is_int(mutate_parse((char *) note.data, "t-1", "t\x01-1"), ESL_EFORMAT,
           "control character");
    is_int(esl_checkpoint_parse((char *) note.data, note.len - 1, &got),
           ESL_EFORMAT, "missing final newline");
    {
        /* root: change the last base64 digit before '=' so unused bits
         * become non-zero: same bytes, non-canonical text */
        char *p;
        memcpy(buf, note.data, note.len + 1);
        p = strchr(strchr(buf, '\n') + 1, '\n') + 1;  /* root line */
        const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789+/";
        ok(p[43] == '=', "root base64 ends in one '='");
        p[42] = al[(strchr(al, p[42]) - al) ^ 1];  /* an unused bit */
        is_int(esl_checkpoint_parse(buf, note.len, &got), ESL_EFORMAT,
               "non-canonical base64 root");
    }

    /* cosignatures and foreign signature lines */
    is_int(esl_cosign(s2, (char *) note.data, note.len, 1763900000999ULL,
                      &cos), ESL_OK, "cosign");
    is_int(esl_cosignature_verify(v2, (char *) note.data, note.len,
                                  (char *) cos.data, cos.len, &t), ESL_OK,
           "cosignature verifies");
    is_int(t, 1763900000999ULL, "and carries the cosigner's time");
    is_int(esl_cosignature_verify(v, (char *) note.data, note.len,
                                  (char *) cos.data, cos.len, &t), ESL_ESIG,
           "under another key it does not");
    n = note.len;
    memcpy(buf, note.data, n);
    memcpy(buf + n, cos.data, cos.len);
    n += cos.len;
    buf[n] = 0;
    is_int(esl_checkpoint_verify(v, buf, n, &got), ESL_OK,
           "note with an extra cosignature line still verifies for its "
           "signer (unknown lines ignored)");
    is_int(got.nsigs, 2, "two signature lines");
    {
        /* a line claiming siteA's key id but with a bad signature */
        char *p = strstr(buf, "\xe2\x80\x94 siteA ");
        p += strlen("\xe2\x80\x94 siteA ") + 20;
        *p = *p == 'A' ? 'B' : 'A';
        is_int(esl_checkpoint_verify(v, buf, n, NULL), ESL_ESIG,
               "known key with a bad signature is rejected");
    }
    n = note.len;
    memcpy(buf, note.data, n);
    for (i = 0; i < 16; i++) {
        memcpy(buf + n, cos.data, cos.len);
        n += cos.len;
    }
    buf[n] = 0;
    is_int(esl_checkpoint_parse(buf, n, &got), ESL_EFORMAT,
           "17 signature lines rejected");

    esl_buf_free(&cos);
    esl_buf_free(&note);
    esl_verifier_free(v);
    esl_verifier_free(v2);
    esl_signer_free(s);
    esl_signer_free(s2);
}

int
main(void)
{
    D = tmpdir();
    test_entry();
    test_note();
    rm_rf(D);
    free(D);
    return tap_done();
}
