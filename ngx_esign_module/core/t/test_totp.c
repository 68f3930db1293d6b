/*
 * TAP tests of esc_totp: RFC 4226 and RFC 6238 vectors, RFC 4648 base32
 * vectors, window and replay (R-AUTH-3; security-anchors AUTH-06).
 */

#include "esc_totp.h"
#include "tap.h"


static const u_char  key[] = "12345678901234567890";
#define KEYLEN  20


static void
test_vectors(void)
{
    size_t    i;
    uint32_t  c;

    static const uint32_t  hotp[10] = {
        755224, 287082, 359152, 969429, 338314,
        254676, 287922, 162583, 399871, 520489
    };

    static const struct {
        uint64_t  t;
        uint32_t  code8;
    } totp[] = {
        { 59, 94287082 },
        { 1111111109, 7081804 },
        { 1111111111, 14050471 },
        { 1234567890, 89005924 },
        { 2000000000, 69279037 },
        { 20000000000ULL, 65353130 },
    };

    for (i = 0; i < 10; i++) {
        is_int(esc_hotp(key, KEYLEN, i, 6, &c), ESC_OK, "hotp ok");
        is_int(c, hotp[i], "RFC 4226 HOTP counter %zu", i);
    }

    for (i = 0; i < sizeof(totp) / sizeof(totp[0]); i++) {
        is_int(esc_totp(key, KEYLEN, totp[i].t, 30, 8, &c), ESC_OK,
               "totp ok");
        is_int(c, totp[i].code8, "RFC 6238 SHA1 T=%llu 8 digits",
               (unsigned long long) totp[i].t);
        is_int(esc_totp(key, KEYLEN, totp[i].t, 0, 6, &c), ESC_OK,
               "totp 6 ok");
        is_int(c, totp[i].code8 % 1000000, "T=%llu 6-digit truncation",
               (unsigned long long) totp[i].t);
    }

    is_int(esc_hotp(key, KEYLEN, 0, 5, &c), ESC_INVALID, "5 digits refused");
    is_int(esc_hotp(key, KEYLEN, 0, 9, &c), ESC_INVALID, "9 digits refused");
    is_int(esc_hotp(key, 0, 0, 6, &c), ESC_INVALID, "empty key refused");
}


static void
test_verify(void)
{
    uint64_t  step, t = 1111111111;      /* step 37037037, code 050471 */

    step = 0;
    is_int(esc_totp_verify(key, KEYLEN, "050471", 6, t, 0, &step), ESC_OK,
           "AUTH-06 current code accepted");
    is_int(step, 37037037, "matched step reported");
    is_int(esc_totp_verify(key, KEYLEN, "050471", 6, t + 30, 0, &step),
           ESC_OK, "previous step accepted (window -1)");
    is_int(esc_totp_verify(key, KEYLEN, "050471", 6, t - 30, 0, &step),
           ESC_OK, "next step accepted (window +1)");
    is_int(esc_totp_verify(key, KEYLEN, "050471", 6, t + 60, 0, &step),
           ESC_INVALID, "AUTH-06 two steps late refused");
    is_int(esc_totp_verify(key, KEYLEN, "050471", 6, t - 60, 0, &step),
           ESC_INVALID, "two steps early refused");
    is_int(esc_totp_verify(key, KEYLEN, "050471", 6, t, 37037037, &step),
           ESC_INVALID, "AUTH-06 replay in the same step refused");
    is_int(esc_totp_verify(key, KEYLEN, "050471", 6, t, 37037036, &step),
           ESC_OK, "older last_step does not block");
    is_int(esc_totp_verify(key, KEYLEN, "050472", 6, t, 0, &step),
           ESC_INVALID, "wrong code refused");
    is_int(esc_totp_verify(key, KEYLEN, "50471", 5, t, 0, &step),
           ESC_INVALID, "5 digits refused");
    is_int(esc_totp_verify(key, KEYLEN, "0504711", 7, t, 0, &step),
           ESC_INVALID, "7 digits refused");
    is_int(esc_totp_verify(key, KEYLEN, "05047a", 6, t, 0, &step),
           ESC_INVALID, "non-digit refused");
    is_int(esc_totp_verify(key, KEYLEN, " 50471", 6, t, 0, &step),
           ESC_INVALID, "space refused");
    is_int(esc_totp_verify(key, KEYLEN, "755224", 6, 0, 0, &step), ESC_OK,
           "t=0 works (no step -1)");
    is_int(esc_totp_verify(key, 0, "755224", 6, 0, 0, &step), ESC_ERROR,
           "empty key is an error");
}


static void
test_base32(void)
{
    size_t   i;
    ssize_t  n;
    char     out[64];
    u_char   bin[64];

    static const char  *vec[][3] = {
        { "", "", "" },
        { "f", "MY======", "MY" },
        { "fo", "MZXQ====", "MZXQ" },
        { "foo", "MZXW6===", "MZXW6" },
        { "foob", "MZXW6YQ=", "MZXW6YQ" },
        { "fooba", "MZXW6YTB", "MZXW6YTB" },
        { "foobar", "MZXW6YTBOI======", "MZXW6YTBOI" },
    };

    for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        n = esc_base32_encode((const u_char *) vec[i][0], strlen(vec[i][0]),
                              1, out, sizeof(out));
        is_str(out, vec[i][1], "RFC 4648 base32 '%s' padded", vec[i][0]);
        is_int(n, strlen(vec[i][1]), "  length");
        esc_base32_encode((const u_char *) vec[i][0], strlen(vec[i][0]), 0,
                          out, sizeof(out));
        is_str(out, vec[i][2], "  unpadded");

        n = esc_base32_decode(vec[i][1], strlen(vec[i][1]), bin,
                              sizeof(bin));
        ok(n == (ssize_t) strlen(vec[i][0])
           && memcmp(bin, vec[i][0], (size_t) n) == 0,
           "  decode padded '%s'", vec[i][1]);
        n = esc_base32_decode(vec[i][2], strlen(vec[i][2]), bin,
                              sizeof(bin));
        ok(n == (ssize_t) strlen(vec[i][0])
           && memcmp(bin, vec[i][0], (size_t) n) == 0,
           "  decode unpadded '%s'", vec[i][2]);
    }

    n = esc_base32_decode("mzxw6ytboi", 10, bin, sizeof(bin));
    ok(n == 6 && memcmp(bin, "foobar", 6) == 0, "lower case accepted");
    is_int(esc_base32_decode("MZXW6YTBO1", 10, bin, sizeof(bin)),
           ESC_INVALID, "'1' refused");
    is_int(esc_base32_decode("MZXW 6YTB", 9, bin, sizeof(bin)),
           ESC_INVALID, "space refused");
    is_int(esc_base32_decode("MZ=", 3, bin, sizeof(bin)), ESC_INVALID,
           "partial padding refused");
    is_int(esc_base32_decode("MZXW6YQ", 6, bin, sizeof(bin)), ESC_INVALID,
           "impossible length (6) refused");
    is_int(esc_base32_decode("MZ", 2, bin, sizeof(bin)), ESC_INVALID,
           "non-zero trailing bits refused");
    is_int(esc_base32_decode("=========", 9, bin, sizeof(bin)), ESC_INVALID,
           "only padding refused");
    is_int(esc_base32_decode("MZXW6YTB", 8, bin, 4), ESC_NOSPACE,
           "small output refused");
    is_int(esc_base32_encode((const u_char *) "foobar", 6, 1, out, 16),
           ESC_NOSPACE, "encode needs room for NUL");

    /* round trip of a random secret */
    {
        u_char  s[ESC_TOTP_SECRET_LEN], back[ESC_TOTP_SECRET_LEN];

        is_int(esc_totp_secret_new(s), ESC_OK, "secret generated");
        n = esc_base32_encode(s, sizeof(s), 0, out, sizeof(out));
        is_int(n, 32, "160-bit secret is 32 base32 chars");
        n = esc_base32_decode(out, (size_t) n, back, sizeof(back));
        ok(n == 20 && memcmp(s, back, 20) == 0, "secret round-trips");
    }
}


static void
test_uri(void)
{
    ssize_t  n;
    char     out[256];

    n = esc_totp_uri((const u_char *) "eSign", 5,
                     (const u_char *) "zhang@bank.cn", 13, key, KEYLEN,
                     out, sizeof(out));
    is_str(out, "otpauth://totp/eSign:zhang%40bank.cn?secret="
           "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=eSign"
           "&algorithm=SHA1&digits=6&period=30", "otpauth URI");
    is_int(n, strlen(out), "URI length");

    n = esc_totp_uri((const u_char *) "My Bank", 7,
                     (const u_char *) "a&b=c", 5, key, KEYLEN, out,
                     sizeof(out));
    ok(n > 0 && strstr(out, "totp/My%20Bank:a%26b%3Dc?") != NULL,
       "issuer and account percent-encoded: %s", out);

    is_int(esc_totp_uri((const u_char *) "a:b", 3, (const u_char *) "x", 1,
                        key, KEYLEN, out, sizeof(out)),
           ESC_INVALID, "':' in issuer refused");
    is_int(esc_totp_uri((const u_char *) "", 0, (const u_char *) "x", 1,
                        key, KEYLEN, out, sizeof(out)),
           ESC_INVALID, "empty issuer refused");
    is_int(esc_totp_uri((const u_char *) "i", 1, (const u_char *) "x", 1,
                        key, 0, out, sizeof(out)),
           ESC_INVALID, "empty secret refused");

    memset(out, 0x55, sizeof(out));
    is_int(esc_totp_uri((const u_char *) "eSign", 5,
                        (const u_char *) "zhang@bank.cn", 13, key, KEYLEN,
                        out, 60),
           ESC_NOSPACE, "small buffer refused");
    ok(out[0] == '\0' && (u_char) out[60] == 0x55, "no write past size");
}


int
main(void)
{
    test_vectors();
    test_verify();
    test_base32();
    test_uri();

    return tap_done();
}
