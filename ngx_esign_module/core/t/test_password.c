/*
 * TAP tests of the password policy (R-ACC-2; ASVS 2.1.1-2.1.7, AUTH-01).
 */

#include "esc_password.h"
#include "tap.h"


typedef struct {
    const char       *pw;
    const char       *user;
    esc_pw_reason_e   want;
} pw_case_t;


static const pw_case_t  cases[] = {
    /* accepted: 9 characters is the floor ("longer than 8") */
    { "Xk7mQp2wz", "zhangsan", ESC_PW_OK },
    { "Tr0ub4dor&3x", "zhangsan", ESC_PW_OK },
    { "correct Horse 7 battery", "zhangsan", ESC_PW_OK },
    { "密码Xk7mQp2w", "zhangsan", ESC_PW_OK },
    { "密码Abcdefg1", "zhangsan", ESC_PW_COMMON },  /* core abcdefg */
    { "Zz1密码密码密码密", "zhangsan", ESC_PW_OK },     /* 9 code points */
    { "Kq9vLm3Xt", NULL, ESC_PW_OK },

    /* too short: 8 characters, even when strong-looking */
    { "Abcdefg1", "zhangsan", ESC_PW_TOO_SHORT },
    { "Xk7mQp2w", "zhangsan", ESC_PW_TOO_SHORT },
    { "", "zhangsan", ESC_PW_TOO_SHORT },
    { "Aa1", "zhangsan", ESC_PW_TOO_SHORT },
    { "Zz1密码密码密", "zhangsan", ESC_PW_TOO_SHORT },  /* 8 cp, 18 bytes */

    /* missing classes */
    { "xk7mqp2wzr", "zhangsan", ESC_PW_MISSING_UPPER },
    { "XK7MQP2WZR", "zhangsan", ESC_PW_MISSING_LOWER },
    { "XkzmQpdwzr", "zhangsan", ESC_PW_MISSING_DIGIT },
    { "密码密码密码密码密码", "zhangsan", ESC_PW_MISSING_UPPER },
    { "ÀÉÎÕÜàéîõü1", "zhangsan", ESC_PW_MISSING_UPPER },  /* ASCII only */

    /* username, case-insensitive, anywhere */
    { "zhangsan9X", "zhangsan", ESC_PW_CONTAINS_USERNAME },
    { "Xy1ZHANGSAN", "zhangsan", ESC_PW_CONTAINS_USERNAME },
    { "Q1wZhAnGsAnq", "ZhangSan", ESC_PW_CONTAINS_USERNAME },
    { "Zhangsa9qq", "zhangsan", ESC_PW_OK },        /* only a prefix */
    { "Xk7mQp2wz", "", ESC_PW_OK },

    /* blocklist, exact and decorated */
    { "Password1", "zhangsan", ESC_PW_COMMON },
    { "PASSWORd1", "zhangsan", ESC_PW_COMMON },
    { "Iloveyou2", "zhangsan", ESC_PW_COMMON },
    { "Porsche911", "zhangsan", ESC_PW_COMMON },
    { "Password2024!", "zhangsan", ESC_PW_COMMON },
    { "2024Sunshine!!", "zhangsan", ESC_PW_COMMON },
    { "Dragon123456", "zhangsan", ESC_PW_COMMON },
    { "Qwerty123456", "zhangsan", ESC_PW_COMMON },
    { "#Letmein99", "zhangsan", ESC_PW_COMMON },
    { "Passw0rd123", "zhangsan", ESC_PW_COMMON },
    { "Password1x", "zhangsan", ESC_PW_OK },        /* core not listed */

    /* invalid encodings and controls */
    { "Abcdefgh1\n", "zhangsan", ESC_PW_INVALID },
    { "Abcdefgh1\x7f", "zhangsan", ESC_PW_INVALID },
    { "Abcdefgh1\xff", "zhangsan", ESC_PW_INVALID },
    { "Abcdefgh1\xc0\xaf", "zhangsan", ESC_PW_INVALID },
};


static void
test_table(void)
{
    size_t           i;
    esc_pw_reason_e  r;
    const char      *u;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        u = cases[i].user;
        r = esc_password_check((const u_char *) cases[i].pw,
                               strlen(cases[i].pw), (const u_char *) u,
                               u != NULL ? strlen(u) : 0, 0);
        is_int(r, cases[i].want, "R-ACC-2 '%s' -> %s", cases[i].pw,
               esc_password_reason_code(cases[i].want));
    }
}


static void
test_lengths(void)
{
    u_char  buf[300];
    size_t  i;

    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (u_char) ("Xk7mQp2wzR"[i % 10]);
    }

    is_int(esc_password_check(buf, 64, NULL, 0, 0), ESC_PW_OK,
           "64 characters accepted");
    is_int(esc_password_check(buf, 128, NULL, 0, 0), ESC_PW_OK,
           "128 bytes accepted");
    is_int(esc_password_check(buf, 129, NULL, 0, 0), ESC_PW_TOO_LONG,
           "129 bytes refused, not truncated");
    is_int(esc_password_check(buf, 300, NULL, 0, 0), ESC_PW_TOO_LONG,
           "300 bytes refused");

    /* a NUL inside must never cut the password short */
    is_int(esc_password_check((const u_char *) "Xk7mQp2wz\0abc", 13,
                              NULL, 0, 0),
           ESC_PW_INVALID, "embedded NUL refused");

    /* configurable minimum, never below 9 */
    is_int(esc_password_check(buf, 11, NULL, 0, 12), ESC_PW_TOO_SHORT,
           "min 12: 11 refused");
    is_int(esc_password_check(buf, 12, NULL, 0, 12), ESC_PW_OK,
           "min 12: 12 accepted");
    is_int(esc_password_check(buf, 8, NULL, 0, 4), ESC_PW_TOO_SHORT,
           "min 4 raised to 9: 8 refused");
    is_int(esc_password_check(buf, 9, NULL, 0, 4), ESC_PW_OK,
           "min 4 raised to 9: 9 accepted");
}


static void
test_list(void)
{
    size_t  i, bad_order, upper;

    ok(esc_password_list_n >= 3000, "blocklist has >= 3000 entries (%zu)",
       esc_password_list_n);

    bad_order = 0;
    upper = 0;
    for (i = 0; i < esc_password_list_n; i++) {
        const char  *s;

        if (i > 0 && strcmp(esc_password_list[i - 1],
                            esc_password_list[i]) >= 0)
        {
            bad_order++;
        }

        for (s = esc_password_list[i]; *s; s++) {
            if (*s >= 'A' && *s <= 'Z') {
                upper++;
            }
        }
    }
    is_int(bad_order, 0, "blocklist strictly sorted (bsearch-able)");
    is_int(upper, 0, "blocklist is lower case");

    /* every entry is found, in any case */
    bad_order = 0;
    for (i = 0; i < esc_password_list_n; i++) {
        char    buf[200];
        size_t  n, k;

        n = strlen(esc_password_list[i]);
        if (n >= sizeof(buf)) {
            continue;
        }
        for (k = 0; k < n; k++) {
            char  c = esc_password_list[i][k];

            buf[k] = (k % 2 == 0 && c >= 'a' && c <= 'z') ? c - 32 : c;
        }
        if (!esc_password_is_common((const u_char *) buf, n)) {
            bad_order++;
        }
    }
    is_int(bad_order, 0, "every blocklist entry matches case-insensitively");

    ok(esc_password_is_common((const u_char *) "PASSWORD", 8),
       "PASSWORD is common");
    ok(esc_password_is_common((const u_char *) "123456", 6),
       "123456 is common");
    ok(!esc_password_is_common((const u_char *) "Xk7mQp2wz", 9),
       "random string is not common");
    ok(!esc_password_is_common((const u_char *) "password\0", 9),
       "NUL does not shorten the lookup");
}


static void
test_texts(void)
{
    is_str(esc_password_reason_code(ESC_PW_TOO_SHORT), "too_short", "code");
    is_str(esc_password_reason_code(ESC_PW_TOO_LONG), "too_long", "code");
    is_str(esc_password_reason_code(ESC_PW_MISSING_UPPER), "missing_upper",
           "code");
    is_str(esc_password_reason_code(ESC_PW_MISSING_LOWER), "missing_lower",
           "code");
    is_str(esc_password_reason_code(ESC_PW_MISSING_DIGIT), "missing_digit",
           "code");
    is_str(esc_password_reason_code(ESC_PW_CONTAINS_USERNAME),
           "contains_username", "code");
    is_str(esc_password_reason_code(ESC_PW_COMMON), "common", "code");
    is_str(esc_password_reason_code(ESC_PW_INVALID), "invalid", "code");
    is_str(esc_password_reason_code(ESC_PW_OK), "ok", "code");
    is_str(esc_password_reason_code((esc_pw_reason_e) 77), "invalid",
           "unknown reason maps to invalid");
    ok(strstr(esc_password_reason_message(ESC_PW_COMMON), "common") != NULL,
       "message for common");
    ok(esc_password_reason_message((esc_pw_reason_e) 77) != NULL,
       "message never NULL");
}


int
main(void)
{
    test_table();
    test_lengths();
    test_list();
    test_texts();

    return tap_done();
}
