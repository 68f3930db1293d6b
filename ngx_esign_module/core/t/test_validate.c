/*
 * TAP tests of esc_validate: USCC, resident ID, other IDs, mobile, e-mail,
 * username, UTF-8 and text fields (R-REG-1, R-SEC-1 input validation).
 */

#include <stdlib.h>

#include "esc_validate.h"
#include "tap.h"


#define U(s)  (const u_char *) (s), strlen(s)

#define good(f, s)  is_int(f(U(s)), ESC_OK, #f " accepts '%s'", s)
#define bad(f, s)   is_int(f(U(s)), ESC_INVALID, #f " refuses '%s'", s)


static void
test_uscc(void)
{
    u_char       c, buf[19];
    size_t       i, j;
    const char  *charset = "0123456789ABCDEFGHJKLMNPQRTUWXY";

    /* published example and codes whose check char was computed apart */
    good(esc_uscc_validate, "91350100M000100Y43");
    good(esc_uscc_validate, "91110000100001178N");
    good(esc_uscc_validate, "121000004000000629");
    good(esc_uscc_validate, "Y1110101MA00AAAAA7");
    good(esc_uscc_validate, "91440300MA5FXXXXXM");

    bad(esc_uscc_validate, "91350100M000100Y44");    /* wrong check */
    bad(esc_uscc_validate, "91350100M000100Y4");     /* 17 chars */
    bad(esc_uscc_validate, "91350100M000100Y433");   /* 19 chars */
    bad(esc_uscc_validate, "");
    bad(esc_uscc_validate, "91350100m000100Y43");    /* lower case */
    bad(esc_uscc_validate, "91350100I000100Y43");    /* I not in set */
    bad(esc_uscc_validate, "91350100O000100Y43");    /* O not in set */
    bad(esc_uscc_validate, "01350100M000100Y43");    /* authority 0 */
    bad(esc_uscc_validate, "B1350100M000100Y43");    /* authority B */
    bad(esc_uscc_validate, "90350100M000100Y43");    /* category 0 */
    bad(esc_uscc_validate, "9135A100M000100Y43");    /* division */
    is_int(esc_uscc_validate((const u_char *) "91350100M000100Y4\0", 18),
           ESC_INVALID, "USCC with NUL refused");

    /* check-char helper agrees with the validator for every final char */
    is_int(esc_uscc_check_char((const u_char *) "91350100M000100Y4", &c),
           ESC_OK, "check char computed");
    is_int(c, '3', "check char of the published example is 3");
    is_int(esc_uscc_check_char((const u_char *) "91350100M000100Z4", &c),
           ESC_INVALID, "check char refuses Z");

    /* every other final character is refused (single-char errors) */
    memcpy(buf, "91350100M000100Y43", 18);
    j = 0;
    for (i = 0; i < 31; i++) {
        buf[17] = (u_char) charset[i];
        if (esc_uscc_validate(buf, 18) == ESC_OK) {
            j++;
        }
    }
    is_int(j, 1, "exactly one check character of 31 is accepted");

    /* any single substitution in positions 9..17 is detected */
    j = 0;
    for (i = 8; i < 17; i++) {
        size_t  k;

        for (k = 0; k < 31; k++) {
            memcpy(buf, "91350100M000100Y43", 18);
            if (buf[i] == (u_char) charset[k]) {
                continue;
            }
            buf[i] = (u_char) charset[k];
            if (esc_uscc_validate(buf, 18) == ESC_OK) {
                j++;
            }
        }
    }
    is_int(j, 0, "no single-character substitution passes");

    /* generated codes validate */
    j = 0;
    srand(7);
    for (i = 0; i < 1000; i++) {
        size_t  k;

        buf[0] = '9';
        buf[1] = '1';
        for (k = 2; k < 8; k++) {
            buf[k] = (u_char) ('0' + rand() % 10);
        }
        for (k = 8; k < 17; k++) {
            buf[k] = (u_char) charset[rand() % 31];
        }
        if (esc_uscc_check_char(buf, &buf[17]) == ESC_OK
            && esc_uscc_validate(buf, 18) == ESC_OK)
        {
            j++;
        }
    }
    is_int(j, 1000, "1000 generated USCCs validate");
}


static void
test_resident_id(void)
{
    u_char  c;

    good(esc_resident_id_validate, "11010519491231002X");  /* GB 11643 */
    good(esc_resident_id_validate, "440301199003071230");
    good(esc_resident_id_validate, "11010120000229000X");  /* leap day */
    good(esc_resident_id_validate, "320102198801010014");

    bad(esc_resident_id_validate, "11010519491231002x");   /* lower x */
    bad(esc_resident_id_validate, "110105194912310021");   /* bad check */
    bad(esc_resident_id_validate, "11010519491231002");    /* 17 */
    bad(esc_resident_id_validate, "110105491231002");      /* 15-digit */
    bad(esc_resident_id_validate, "01010519491231002X");   /* region 0 */
    bad(esc_resident_id_validate, "1101051949123100AX");

    /* impossible birth dates, each with a correct check character */
    is_int(esc_resident_id_check_char((const u_char *) "11010119000229000",
                                      &c), ESC_OK, "check char computed");
    {
        u_char  id[18];

        memcpy(id, "11010119000229000", 17);
        id[17] = c;
        is_int(esc_resident_id_validate(id, 18), ESC_INVALID,
               "1900-02-29 refused (not a leap year)");

        memcpy(id, "11010118991231000", 17);
        esc_resident_id_check_char(id, &id[17]);
        is_int(esc_resident_id_validate(id, 18), ESC_INVALID,
               "year 1899 refused");

        memcpy(id, "11010119901301000", 17);
        esc_resident_id_check_char(id, &id[17]);
        is_int(esc_resident_id_validate(id, 18), ESC_INVALID,
               "month 13 refused");

        memcpy(id, "11010119900431000", 17);
        esc_resident_id_check_char(id, &id[17]);
        is_int(esc_resident_id_validate(id, 18), ESC_INVALID,
               "April 31 refused");

        memcpy(id, "11010119900100000", 17);
        esc_resident_id_check_char(id, &id[17]);
        is_int(esc_resident_id_validate(id, 18), ESC_INVALID,
               "day 0 refused");

        memcpy(id, "11010120240229000", 17);
        esc_resident_id_check_char(id, &id[17]);
        is_int(esc_resident_id_validate(id, 18), ESC_OK,
               "2024-02-29 accepted");
    }

    is_int(esc_resident_id_check_char((const u_char *) "11010519491231002",
                                      &c), ESC_OK, "GB 11643 example");
    is_int(c, 'X', "GB 11643 example check char is X");
    is_int(esc_resident_id_check_char((const u_char *) "1101051949123100A",
                                      &c), ESC_INVALID, "non-digit refused");
}


static void
test_id_types(void)
{
    esc_id_type_e  t;

    is_int(esc_id_type_parse("resident", 8, &t), ESC_OK, "resident parses");
    is_int(t, ESC_ID_RESIDENT, "resident value");
    is_int(esc_id_type_parse("passport", 8, &t), ESC_OK, "passport parses");
    is_int(t, ESC_ID_PASSPORT, "passport value");
    is_int(esc_id_type_parse("other", 5, &t), ESC_OK, "other parses");
    is_int(t, ESC_ID_OTHER, "other value");
    is_int(esc_id_type_parse("Resident", 8, &t), ESC_INVALID,
           "case-sensitive");
    is_int(esc_id_type_parse("residen", 7, &t), ESC_INVALID, "prefix");
    is_int(esc_id_type_parse("", 0, &t), ESC_INVALID, "empty");
    is_str(esc_id_type_name(ESC_ID_PASSPORT), "passport", "name");
    ok(esc_id_type_name((esc_id_type_e) 99) == NULL, "unknown name NULL");

    is_int(esc_id_number_validate(ESC_ID_RESIDENT, U("11010519491231002X")),
           ESC_OK, "resident number via type");
    is_int(esc_id_number_validate(ESC_ID_RESIDENT, U("11010519491231002Y")),
           ESC_INVALID, "resident rules apply via type");
    is_int(esc_id_number_validate(ESC_ID_PASSPORT, U("E12345678")),
           ESC_OK, "passport E12345678");
    is_int(esc_id_number_validate(ESC_ID_PASSPORT, U("e12345678")),
           ESC_INVALID, "passport lower case refused");
    is_int(esc_id_number_validate(ESC_ID_PASSPORT, U("E123")),
           ESC_INVALID, "passport too short");
    is_int(esc_id_number_validate(ESC_ID_PASSPORT, U("E12345678901234567890")),
           ESC_INVALID, "passport 21 chars refused");
    is_int(esc_id_number_validate(ESC_ID_PASSPORT, U("E1234 678")),
           ESC_INVALID, "passport space refused");
    is_int(esc_id_number_validate(ESC_ID_OTHER, U("H01234567(1)")),
           ESC_OK, "other with brackets");
    is_int(esc_id_number_validate(ESC_ID_OTHER, U("-123")),
           ESC_INVALID, "other leading dash");
    is_int(esc_id_number_validate(ESC_ID_OTHER, U("12 34")),
           ESC_INVALID, "other space");
    is_int(esc_id_number_validate((esc_id_type_e) 0, U("12345")),
           ESC_INVALID, "unknown type refused");
}


static void
test_mobile(void)
{
    u_char  out[ESC_MOBILE_LEN];

    good(esc_mobile_validate, "13812345678");
    good(esc_mobile_validate, "19912345678");
    good(esc_mobile_validate, "+8613812345678");
    bad(esc_mobile_validate, "12812345678");      /* 12x */
    bad(esc_mobile_validate, "10812345678");
    bad(esc_mobile_validate, "23812345678");
    bad(esc_mobile_validate, "1381234567");
    bad(esc_mobile_validate, "138123456789");
    bad(esc_mobile_validate, "8613812345678");    /* 86 without + */
    bad(esc_mobile_validate, "+8513812345678");
    bad(esc_mobile_validate, "138-1234-5678");
    bad(esc_mobile_validate, "1381234567a");
    bad(esc_mobile_validate, "");
    bad(esc_mobile_validate, "+86");

    is_int(esc_mobile_normalize(U("+8613812345678"), out), ESC_OK,
           "normalize +86");
    ok(memcmp(out, "13812345678", 11) == 0, "normalized national form");
}


static void
test_email(void)
{
    char    buf[300];

    good(esc_email_validate, "zhang@example.com");
    good(esc_email_validate, "a@b.cn");
    good(esc_email_validate, "first.last+tag@mail.bank-1.com.cn");
    good(esc_email_validate, "o'brien@example.org");
    good(esc_email_validate, "Z_9!#$%&*/=?^`{|}~-@Example.COM");

    bad(esc_email_validate, "zhang");
    bad(esc_email_validate, "@example.com");
    bad(esc_email_validate, "zhang@");
    bad(esc_email_validate, "zhang@example");         /* one label */
    bad(esc_email_validate, "zhang@example.c");       /* TLD 1 */
    bad(esc_email_validate, "zhang@example.123");     /* numeric TLD */
    bad(esc_email_validate, "zhang@[127.0.0.1]");
    bad(esc_email_validate, ".zhang@example.com");
    bad(esc_email_validate, "zhang.@example.com");
    bad(esc_email_validate, "zh..ang@example.com");
    bad(esc_email_validate, "zhang@@example.com");
    bad(esc_email_validate, "zh ang@example.com");
    bad(esc_email_validate, "\"zh\"@example.com");
    bad(esc_email_validate, "zhang@-example.com");
    bad(esc_email_validate, "zhang@example-.com");
    bad(esc_email_validate, "zhang@example..com");
    bad(esc_email_validate, "zhang@.example.com");
    bad(esc_email_validate, "zhang@example.com.");
    bad(esc_email_validate, "zhang@exa_mple.com");
    bad(esc_email_validate, "张三@example.com");
    bad(esc_email_validate, "a@b.c<script>");

    /* local part 64 ok, 65 refused */
    memset(buf, 'a', 64);
    strcpy(buf + 64, "@example.com");
    good(esc_email_validate, buf);
    memset(buf, 'a', 65);
    strcpy(buf + 65, "@example.com");
    bad(esc_email_validate, buf);

    /* label 63 ok, 64 refused */
    strcpy(buf, "a@");
    memset(buf + 2, 'b', 63);
    strcpy(buf + 65, ".com");
    good(esc_email_validate, buf);
    strcpy(buf, "a@");
    memset(buf + 2, 'b', 64);
    strcpy(buf + 66, ".com");
    bad(esc_email_validate, buf);

    /* whole address 254 ok, 255 refused */
    {
        size_t  i, n;

        for (n = 254; n <= 255; n++) {
            strcpy(buf, "a@");
            for (i = 2; i < n - 3; i++) {
                buf[i] = ((i - 2) % 50 == 49) ? '.' : 'x';
            }
            strcpy(buf + n - 3, ".cn");
            if (n == 254) {
                good(esc_email_validate, buf);
            } else {
                bad(esc_email_validate, buf);
            }
        }
    }
}


static void
test_username(void)
{
    good(esc_username_validate, "abc");
    good(esc_username_validate, "zhang.san_01-x");
    good(esc_username_validate, "Admin");
    good(esc_username_validate, "a2345678901234567890123456789012");

    bad(esc_username_validate, "ab");
    bad(esc_username_validate, "a23456789012345678901234567890123");
    bad(esc_username_validate, "1abc");
    bad(esc_username_validate, "_abc");
    bad(esc_username_validate, ".abc");
    bad(esc_username_validate, "ab c");
    bad(esc_username_validate, "ab@c");
    bad(esc_username_validate, "张三abc");
    bad(esc_username_validate, "");
    is_int(esc_username_validate((const u_char *) "abc\0d", 5),
           ESC_INVALID, "embedded NUL refused");
}


static void
test_utf8(void)
{
    uint32_t  cp;

    is_int(esc_utf8_length(U("")), 0, "empty length 0");
    is_int(esc_utf8_length(U("abc")), 3, "ASCII length");
    is_int(esc_utf8_length(U("张三")), 2, "CJK length");
    is_int(esc_utf8_length(U("a\xc3\xa9\xf0\x9f\x98\x80")), 3,
           "mixed 1/2/4-byte length");
    is_int(esc_utf8_length(U("\xc0\xaf")), -1, "overlong 2-byte refused");
    is_int(esc_utf8_length(U("\xe0\x80\xaf")), -1, "overlong 3-byte");
    is_int(esc_utf8_length(U("\xf0\x80\x80\xaf")), -1, "overlong 4-byte");
    is_int(esc_utf8_length(U("\xed\xa0\x80")), -1, "surrogate refused");
    is_int(esc_utf8_length(U("\xf4\x90\x80\x80")), -1, "above U+10FFFF");
    is_int(esc_utf8_length(U("\xe5\xbc")), -1, "truncated sequence");
    is_int(esc_utf8_length(U("\x80")), -1, "lone continuation");
    is_int(esc_utf8_length(U("\xff")), -1, "0xFF");
    is_int(esc_utf8_length(U("\xe5\x41\x89")), -1, "bad continuation");
    is_int(esc_utf8_validate(U("\xf4\x8f\xbf\xbf")), ESC_OK, "U+10FFFF ok");
    is_int(esc_utf8_validate(U("\xef\xbf\xbf")), ESC_OK, "U+FFFF ok");

    is_int(esc_utf8_decode(U("\xe5\xbc\xa0"), &cp), 3, "decode 3 bytes");
    is_int(cp, 0x5f20, "decode U+5F20");
    is_int(esc_utf8_decode((const u_char *) "", 0, &cp), 0, "decode empty");
}


static void
test_text(void)
{
    char  buf[1024];
    int   i;

    good(esc_real_name_validate, "张三");
    good(esc_real_name_validate, "Zhang San");
    good(esc_real_name_validate, "阿卜杜·艾尼");
    good(esc_real_name_validate, "X");
    bad(esc_real_name_validate, "");
    bad(esc_real_name_validate, " 张三");
    bad(esc_real_name_validate, "张三 ");
    bad(esc_real_name_validate, "\xe3\x80\x80张三");      /* ideographic sp */
    bad(esc_real_name_validate, "张\n三");
    bad(esc_real_name_validate, "张\t三");
    bad(esc_real_name_validate, "张\x7f三");
    bad(esc_real_name_validate, "张\xc2\x85三");          /* NEL */
    bad(esc_real_name_validate, "张\xe2\x80\xa8三");      /* LS */
    bad(esc_real_name_validate, "\xe5\xbc");
    is_int(esc_real_name_validate((const u_char *) "a\0b", 3), ESC_INVALID,
           "NUL refused in names");

    /* 64 CJK characters ok, 65 refused */
    buf[0] = '\0';
    for (i = 0; i < 64; i++) {
        strcat(buf, "张");
    }
    good(esc_real_name_validate, buf);
    strcat(buf, "张");
    bad(esc_real_name_validate, buf);

    good(esc_institution_name_validate, "中国工商银行股份有限公司");
    bad(esc_institution_name_validate, "行");
    good(esc_title_validate, "2024 年度授信合同");
    good(esc_reason_validate, "金额有误 / amount wrong");

    good(esc_department_validate, "风险管理部");
    good(esc_department_validate, "Retail Banking");
    bad(esc_department_validate, "a/b");
    bad(esc_department_validate, "a\\b");
    bad(esc_department_validate, "*");
    bad(esc_department_validate, "");

    is_int(esc_text_validate(U("abcd"), 5, 10), ESC_INVALID, "below min");
    is_int(esc_text_validate(U("abcde"), 5, 10), ESC_OK, "at min");
    is_int(esc_text_validate(U("a b"), 1, 3), ESC_OK, "inner space ok");
}


static void
test_contract_fields(void)
{
    char  buf[200];
    int   i;

    good(esc_contract_number_validate, "HT-2024/001");
    good(esc_contract_number_validate, "（2024）京银合字第001号");
    good(esc_contract_number_validate, "〔2024〕12号");
    good(esc_contract_number_validate, "【A】#1_(b)[c].d");
    bad(esc_contract_number_validate, "");
    bad(esc_contract_number_validate, "HT 001");
    bad(esc_contract_number_validate, "HT<001>");
    bad(esc_contract_number_validate, "HT\"001");
    bad(esc_contract_number_validate, "HT;001");
    bad(esc_contract_number_validate, "HT-001\xf0\x9f\x98\x80");
    bad(esc_contract_number_validate, "\xe5\xbc");

    memset(buf, 'A', 64);
    buf[64] = '\0';
    good(esc_contract_number_validate, buf);
    buf[64] = 'A';
    buf[65] = '\0';
    bad(esc_contract_number_validate, buf);

    buf[0] = '\0';
    for (i = 0; i < 64; i++) {
        strcat(buf, "号");
    }
    good(esc_contract_number_validate, buf);

    good(esc_contract_version_validate, "v1.2");
    good(esc_contract_version_validate, "2024-01_rc1");
    good(esc_contract_version_validate, "1");
    bad(esc_contract_version_validate, "");
    bad(esc_contract_version_validate, ".1");
    bad(esc_contract_version_validate, "v 1");
    bad(esc_contract_version_validate, "v1/2");
    bad(esc_contract_version_validate, "版本1");
    bad(esc_contract_version_validate, "123456789012345678901234567890123");
    good(esc_contract_version_validate, "12345678901234567890123456789012");
}


int
main(void)
{
    test_uscc();
    test_resident_id();
    test_id_types();
    test_mobile();
    test_email();
    test_username();
    test_utf8();
    test_text();
    test_contract_fields();

    return tap_done();
}
