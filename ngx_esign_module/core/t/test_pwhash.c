/*
 * TAP tests of scrypt password hashing (R-ACC-2 storage; AUTH-02,
 * AUTH-03, CRY-04 RFC 7914 vector).
 */

#include <time.h>

#include "esc_pwhash.h"
#include "tap.h"


#define PW(s)  (const u_char *) (s), strlen(s)


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void
test_roundtrip(void)
{
    char                 a[ESC_PWHASH_SIZE], b[ESC_PWHASH_SIZE];
    u_char               longpw[200];
    esc_pwhash_t         h;
    esc_scrypt_params_t  t = ESC_SCRYPT_TEST;

    is_int(esc_pwhash_create(PW("Xk7mQp2wz"), &t, a, sizeof(a)), ESC_OK,
           "hash created");
    ok(strncmp(a, "$scrypt$ln=10,r=8,p=1$", 22) == 0,
       "self-describing prefix: %s", a);
    is_int(strlen(a), 22 + 22 + 1 + 43, "salt 22 + hash 43 base64 chars");
    is_int(esc_pwhash_parse(a, strlen(a), &h), ESC_OK, "own string parses");
    is_int(h.salt_len, 16, "16-byte salt");
    is_int(h.hash_len, 32, "32-byte hash");
    is_int(h.params.log2_n, 10, "ln stored");

    is_int(esc_pwhash_verify(PW("Xk7mQp2wz"), a, strlen(a)), ESC_OK,
           "R-ACC-2 right password verifies");
    is_int(esc_pwhash_verify(PW("Xk7mQp2wZ"), a, strlen(a)), ESC_INVALID,
           "R-ACC-2 wrong password refused");
    is_int(esc_pwhash_verify(PW("Xk7mQp2w"), a, strlen(a)), ESC_INVALID,
           "prefix refused (no truncation)");
    is_int(esc_pwhash_verify(PW("Xk7mQp2wzz"), a, strlen(a)), ESC_INVALID,
           "extension refused");
    is_int(esc_pwhash_verify(PW(""), a, strlen(a)), ESC_INVALID,
           "empty refused");

    is_int(esc_pwhash_create(PW("Xk7mQp2wz"), &t, b, sizeof(b)), ESC_OK,
           "second hash of the same password");
    ok(strcmp(a, b) != 0, "AUTH-02 equal passwords give different strings");

    /* long passwords: every byte counts */
    memset(longpw, 'a', sizeof(longpw));
    is_int(esc_pwhash_create(longpw, 128, &t, a, sizeof(a)), ESC_OK,
           "128-byte password hashed");
    is_int(esc_pwhash_verify(longpw, 128, a, strlen(a)), ESC_OK,
           "128-byte password verifies");
    is_int(esc_pwhash_verify(longpw, 127, a, strlen(a)), ESC_INVALID,
           "127-byte prefix refused");
    is_int(esc_pwhash_verify(longpw, 129, a, strlen(a)), ESC_INVALID,
           "129 bytes refused");
    longpw[100] = 'b';
    is_int(esc_pwhash_verify(longpw, 128, a, strlen(a)), ESC_INVALID,
           "byte 101 changed: refused");

    /* embedded NUL is just a byte */
    is_int(esc_pwhash_create((const u_char *) "ab\0cd", 5, &t, a, sizeof(a)),
           ESC_OK, "NUL-containing password hashed");
    is_int(esc_pwhash_verify((const u_char *) "ab", 2, a, strlen(a)),
           ESC_INVALID, "not cut at NUL");
    is_int(esc_pwhash_verify((const u_char *) "ab\0cd", 5, a, strlen(a)),
           ESC_OK, "full bytes verify");

    /* the empty password is hashable */
    is_int(esc_pwhash_create((const u_char *) "", 0, &t, a, sizeof(a)),
           ESC_OK, "empty password hashed");
    is_int(esc_pwhash_verify((const u_char *) "", 0, a, strlen(a)), ESC_OK,
           "empty verifies against itself");
}


static void
test_errors(void)
{
    char                 a[ESC_PWHASH_SIZE];
    esc_scrypt_params_t  t = ESC_SCRYPT_TEST;
    esc_scrypt_params_t  bad1 = { 0, 8, 1 }, bad2 = { 10, 0, 1 },
                         bad3 = { 10, 8, 0 }, bad4 = { 25, 1, 1 },
                         bad5 = { 18, 16, 1 }, bad6 = { 10, 8, 17 },
                         good = { 21, 1, 1 };

    is_int(esc_pwhash_create(PW("x"), &t, a, ESC_PWHASH_SIZE - 1),
           ESC_NOSPACE, "small buffer refused");
    is_str(a, "", "output empty on failure");
    is_int(esc_pwhash_create(PW("x"), &bad1, a, sizeof(a)), ESC_INVALID,
           "ln 0 refused");
    is_int(esc_pwhash_create(PW("x"), &bad2, a, sizeof(a)), ESC_INVALID,
           "r 0 refused");
    is_int(esc_pwhash_create(PW("x"), &bad3, a, sizeof(a)), ESC_INVALID,
           "p 0 refused");
    is_int(esc_pwhash_params_check(&bad4), ESC_INVALID, "ln 25 refused");
    is_int(esc_pwhash_params_check(&bad5), ESC_INVALID,
           "256 MiB exceeded refused");
    is_int(esc_pwhash_params_check(&bad6), ESC_INVALID, "p 17 refused");
    is_int(esc_pwhash_params_check(&good), ESC_OK, "2^21 * 128 = 256 MiB ok");
    is_int(esc_pwhash_params_check(NULL), ESC_INVALID, "NULL refused");

    is_int(esc_pwhash_verify(PW("x"), "", 0), ESC_ERROR,
           "empty stored string: error, not mismatch");
    is_int(esc_pwhash_verify(PW("x"), "$2y$10$abc", 10), ESC_ERROR,
           "bcrypt string: error");
}


#define GOOD  "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"

static void
test_parser(void)
{
    size_t        i;
    esc_pwhash_t  h;

    static const char  *bad[] = {
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$",
        "$scrypt$ln=10,r=8,p=1$$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=010,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=10,r=8,p=1,x=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=10,p=1,r=8$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA=",
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHR$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=10,r=8,p=1$c2Fsd HNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA$",
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaAx",
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        "$scrypt$ln=30,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=99999999999,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
            "aGFzaGhhc2hoYXNoaGFzaAaGFzaGhhc2hoYXNoaGFzaAaGFzaGhhc2hoYXNo"
            "aGFzaA",
        "$SCRYPT$ln=10,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=-1,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=10,r=8,p=1",
        "$scrypt$ln=",
        "$scrypt$",
    };

    ok(esc_pwhash_parse(GOOD, strlen(GOOD), &h) == ESC_OK,
       "well-formed string parses");
    is_int(h.salt_len, 8, "8-byte salt decoded");
    ok(memcmp(h.salt, "saltsalt", 8) == 0, "salt bytes");
    is_int(h.hash_len, 16, "16-byte hash decoded");
    ok(memcmp(h.hash, "hashhashhashhash", 16) == 0, "hash bytes");

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        is_int(esc_pwhash_parse(bad[i], strlen(bad[i]), &h), ESC_INVALID,
               "parser refuses '%.60s'", bad[i]);
    }

    is_int(esc_pwhash_parse(NULL, 0, &h), ESC_INVALID, "NULL refused");
    is_int(esc_pwhash_parse(GOOD, strlen(GOOD) - 1, &h),
           ESC_INVALID, "length bounds the parse (no NUL needed)");
}


static void
test_rehash_dummy_kat(void)
{
    char                 a[ESC_PWHASH_SIZE];
    double               t0, t1, t2;
    esc_scrypt_params_t  t = ESC_SCRYPT_TEST, u = { 11, 8, 1 };

    is_int(esc_pwhash_selftest(), ESC_OK,
           "CRY-04 RFC 7914 scrypt vector (N=1024, r=8, p=16) verifies");

    esc_pwhash_create(PW("Xk7mQp2wz"), &t, a, sizeof(a));
    is_int(esc_pwhash_needs_rehash(a, strlen(a), &t), 0,
           "same params: no rehash");
    is_int(esc_pwhash_needs_rehash(a, strlen(a), &u), 1,
           "stronger params configured: rehash");
    is_int(esc_pwhash_needs_rehash(a, strlen(a), NULL), 1,
           "default params differ from test params: rehash");
    is_int(esc_pwhash_needs_rehash("junk", 4, &t), 1, "junk: rehash");

    is_int(esc_pwhash_dummy(PW("Xk7mQp2wz"), &u), ESC_INVALID,
           "dummy never matches");

    /* AUTH-03: the dummy costs as much as a real verification */
    t0 = now();
    esc_pwhash_create(PW("Xk7mQp2wz"), &u, a, sizeof(a));
    t0 = now();
    esc_pwhash_verify(PW("wrong-pass"), a, strlen(a));
    esc_pwhash_verify(PW("wrong-pass"), a, strlen(a));
    t1 = now();
    esc_pwhash_dummy(PW("wrong-pass"), &u);
    esc_pwhash_dummy(PW("wrong-pass"), &u);
    t2 = now();
    ok((t2 - t1) > 0.5 * (t1 - t0) && (t2 - t1) < 2.0 * (t1 - t0),
       "AUTH-03 dummy time %.4fs ~ verify time %.4fs", t2 - t1, t1 - t0);

    /* the production default is usable and self-describing */
    t0 = now();
    is_int(esc_pwhash_create(PW("Xk7mQp2wz"), NULL, a, sizeof(a)), ESC_OK,
           "default params hash");
    t1 = now();
    ok(strncmp(a, "$scrypt$ln=15,r=8,p=3$", 22) == 0, "default is %.22s",
       a);
    is_int(esc_pwhash_verify(PW("Xk7mQp2wz"), a, strlen(a)), ESC_OK,
           "default params verify");
    printf("# production scrypt hash took %.3f s\n", t1 - t0);
}


int
main(void)
{
    test_roundtrip();
    test_errors();
    test_parser();
    test_rehash_dummy_kat();

    return tap_done();
}
