/*
 * Unit tests: KEK file create/rotate/load, wrap/unwrap, rotation by
 * re-wrapping (R-ARCH-4).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "esc_kek.h"
#include "esc_rand.h"


static int
count_lines(const char *path, const char *prefix)
{
    int    n;
    char   line[512];
    FILE  *f;

    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }

    n = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            n++;
        }
    }

    fclose(f);
    return n;
}


static int
file_text(const char *path, char *buf, size_t size)
{
    size_t  n;
    FILE   *f;

    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }

    n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
    return (int) n;
}


static int
parses(const char *text)
{
    int              rc;
    esc_kek_ring_t  *r;

    rc = esc_kek_parse(text, strlen(text), &r);
    if (rc == ESC_CRYPTO_OK) {
        esc_kek_free(r);
    }

    return rc == ESC_CRYPTO_OK;
}


int
main(void)
{
    int              i, bad;
    char             dir[] = "/tmp/esc-kek-XXXXXX", path[256], before[4096];
    char             after[4096];
    size_t           wlen, wlen2, dklen;
    uint8_t          dk[32], dk2[64], w1[ESC_KEK_WRAP_MAX];
    uint8_t          w2[ESC_KEK_WRAP_MAX], w3[ESC_KEK_WRAP_MAX];
    uint32_t         v;
    struct stat      st;
    esc_kek_ring_t  *ring, *ring2, *other;
    static const char  k1[] =
        "kek v1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";

    if (mkdtemp(dir) == NULL) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }

    snprintf(path, sizeof(path), "%s/kek", dir);

    /* create */
    is_int(esc_kek_file_create(path), ESC_CRYPTO_OK, "create key file");
    ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
       "R-ARCH-4 key file mode is 0600");
    is_int(count_lines(path, "kek v1 "), 1, "file has kek v1 line");
    is_int(esc_kek_file_create(path), ESC_CRYPTO_EEXIST,
           "create refuses to overwrite an existing file");

    is_int(esc_kek_load(path, &ring), ESC_CRYPTO_OK, "load");
    is_int(esc_kek_current(ring), 1, "current version 1");

    /* wrap/unwrap */
    esc_rand_bytes(dk, sizeof(dk));
    is_int(esc_kek_wrap(ring, 0, dk, sizeof(dk), w1, sizeof(w1), &wlen),
           ESC_CRYPTO_OK, "wrap 32-byte data key");
    is_int(wlen, 32 + ESC_KEK_WRAP_OVERHEAD, "wrapped length");
    ok(memmem(w1, wlen, dk, sizeof(dk)) == NULL,
       "wrapped blob does not contain the data key");
    ok(esc_kek_wrapped_version(w1, wlen, &v) == 0 && v == 1,
       "wrapped key records KEK version 1");
    memset(dk2, 0, sizeof(dk2));
    ok(esc_kek_unwrap(ring, w1, wlen, dk2, sizeof(dk2), &dklen, &v) == 0
       && dklen == 32 && v == 1 && memcmp(dk, dk2, 32) == 0,
       "unwrap returns the data key");

    ok(esc_kek_wrap(ring, 0, dk, sizeof(dk), w2, sizeof(w2), &wlen2) == 0
       && memcmp(w1, w2, wlen) != 0, "wrapping is randomized");

    bad = 0;
    for (i = 0; i < (int) wlen * 8; i++) {
        memcpy(w2, w1, wlen);
        w2[i / 8] ^= (uint8_t) (1 << (i % 8));
        if (esc_kek_unwrap(ring, w2, wlen, dk2, sizeof(dk2), &dklen, NULL)
            == ESC_CRYPTO_OK)
        {
            bad++;
        }
    }
    is_int(bad, 0, "every single-bit flip of a wrapped key is rejected");

    ok(esc_kek_unwrap(ring, w1, wlen - 1, dk2, sizeof(dk2), &dklen, NULL)
       != ESC_CRYPTO_OK, "truncated wrapped key rejected");
    ok(esc_kek_wrap(ring, 0, dk, 8, w2, sizeof(w2), &wlen2)
       == ESC_CRYPTO_EINVAL, "too-short data key refused");
    ok(esc_kek_wrap(ring, 7, dk, 32, w2, sizeof(w2), &wlen2)
       == ESC_CRYPTO_ENOKEY, "unknown version refused");
    ok(esc_kek_wrap(ring, 0, dk, 32, w2, 40, &wlen2) == ESC_CRYPTO_ESPACE,
       "short output buffer refused");

    /* another KEK cannot unwrap */
    ok(esc_kek_parse(k1, strlen(k1), &other) == 0, "parse literal key");
    is_int(esc_kek_unwrap(other, w1, wlen, dk2, sizeof(dk2), &dklen, NULL),
           ESC_CRYPTO_EAUTH, "wrong KEK (same version) fails authentication");
    esc_kek_free(other);

    /* rotation */
    file_text(path, before, sizeof(before));
    ok(esc_kek_file_rotate(path, &v) == 0 && v == 2, "rotate to v2");
    file_text(path, after, sizeof(after));
    ok(strncmp(before, after, strlen(before)) == 0,
       "rotation keeps old lines byte for byte");
    is_int(count_lines(path, "kek v2 "), 1, "file has a v2 line");
    ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
       "rotated file mode 0600");

    is_int(esc_kek_load(path, &ring2), ESC_CRYPTO_OK, "reload");
    is_int(esc_kek_current(ring2), 2, "current version 2");
    ok(esc_kek_has(ring2, 1) && esc_kek_has(ring2, 2), "both versions kept");
    ok(esc_kek_unwrap(ring2, w1, wlen, dk2, sizeof(dk2), &dklen, &v) == 0
       && v == 1 && memcmp(dk, dk2, 32) == 0,
       "R-ARCH-4 old wrapped key still unwraps after rotation");
    ok(esc_kek_rewrap(ring2, w1, wlen, w3, sizeof(w3), &wlen2) == 0
       && esc_kek_wrapped_version(w3, wlen2, &v) == 0 && v == 2,
       "rewrap moves the key to v2");
    ok(esc_kek_unwrap(ring2, w3, wlen2, dk2, sizeof(dk2), &dklen, NULL) == 0
       && memcmp(dk, dk2, 32) == 0, "rewrapped key unwraps to same key");
    is_int(esc_kek_unwrap(ring, w3, wlen2, dk2, sizeof(dk2), &dklen, NULL),
           ESC_CRYPTO_ENOKEY, "old ring does not know v2");
    ok(esc_kek_wrap(ring2, 1, dk, 32, w2, sizeof(w2), &wlen2) == 0
       && esc_kek_wrapped_version(w2, wlen2, &v) == 0 && v == 1,
       "explicit old version can still be used");

    /* version tampering: relabel a v2 blob as v1 */
    memcpy(w2, w3, wlen2);
    w2[7] = 1;
    is_int(esc_kek_unwrap(ring2, w2, wlen2, dk2, sizeof(dk2), &dklen, NULL),
           ESC_CRYPTO_EAUTH, "version relabelling detected");

    esc_kek_free(ring);
    esc_kek_free(ring2);

    /* permissions */
    chmod(path, 0644);
    is_int(esc_kek_load(path, &ring), ESC_CRYPTO_EPERM,
           "group/world-readable key file refused");
    is_int(esc_kek_file_rotate(path, NULL), ESC_CRYPTO_EPERM,
           "rotation of a world-readable file refused");
    unlink(path);
    is_int(esc_kek_load(path, &ring), ESC_CRYPTO_EIO, "missing file: EIO");

    /* parser strictness */
    ok(parses(k1), "valid line parses");
    ok(parses("# c\n\nkek v3 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
              "kek v9 00112233445566778899aabbccddeeff00112233445566778899aabbccddee00\n"),
       "comments, blank lines and version gaps allowed");
    ok(!parses(""), "empty file refused");
    ok(!parses("# only comment\n"), "no key refused");
    ok(!parses("kek v1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
       "missing final newline refused");
    ok(!parses("kek v1 00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\n"),
       "uppercase hex refused");
    ok(!parses("kek v1 00112233445566778899aabbccddeeff00112233445566778899aabbccddee\n"),
       "short key refused");
    ok(!parses("kek v0 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"),
       "version 0 refused");
    ok(!parses("kek v01 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"),
       "leading zero refused");
    ok(!parses("kek v4294967296 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"),
       "version overflow refused");
    ok(!parses("kek v2 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
               "kek v2 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"),
       "duplicate version refused");
    ok(!parses("kek v2 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
               "kek v1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"),
       "decreasing version refused");
    ok(!parses("kek  v1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"),
       "extra space refused");

    rmdir(dir);

    return tap_done();
}
