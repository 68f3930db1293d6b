/*
 * TAP tests of esc_mask (R-SEC-2 masked logs, R-ACC-3 masked tier;
 * security-anchors LOG-02).
 */

#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "esc_mask.h"
#include "esc_validate.h"
#include "tap.h"


typedef ssize_t (*masker_pt)(const u_char *p, size_t len, u_char *out,
    size_t size);

typedef struct {
    masker_pt    fn;
    const char  *fname;
    const char  *in;
    const char  *want;
} mask_case_t;


#define M(f, in, want)  { f, #f, in, want }

static const mask_case_t  cases[] = {
    M(esc_mask_name, "张三", "张*"),
    M(esc_mask_name, "欧阳娜娜", "欧***"),
    M(esc_mask_name, "Zhang San", "Z********"),
    M(esc_mask_name, "阿卜杜·艾尼", "阿*****"),
    M(esc_mask_name, "张", "*"),
    M(esc_mask_name, "", ""),
    M(esc_mask_name, "\xff\xfe", "**"),
    M(esc_mask_name, "\xe5\xbc", "**"),              /* truncated 张 */
    M(esc_mask_name, "\n张三", "***"),                /* control first */

    M(esc_mask_id_number, "11010519491231002X", "110*************2X"),
    M(esc_mask_id_number, "440301199003071230", "440*************30"),
    M(esc_mask_id_number, "110105491231002", "110**********02"),
    M(esc_mask_id_number, "E12345678", "E******78"),
    M(esc_mask_id_number, "12345", "*****"),
    M(esc_mask_id_number, "", ""),
    M(esc_mask_id_number, "张三12345678901234", "******************34"),

    M(esc_mask_mobile, "13812345678", "138****5678"),
    M(esc_mask_mobile, "+8613812345678", "+86138****5678"),
    M(esc_mask_mobile, "+86 138-1234-5678", "+86 138-****-5678"),
    M(esc_mask_mobile, "138", "***"),
    M(esc_mask_mobile, "1381234", "***1234"),

    M(esc_mask_landline, "010-12345678", "010-****5678"),
    M(esc_mask_landline, "0755 8888 1234", "0755 **** 1234"),
    M(esc_mask_landline, "(010)12345678", "(010)****5678"),
    M(esc_mask_landline, "01012345678", "*******5678"),
    M(esc_mask_landline, "+86-10-12345678", "+86-**-****5678"),
    M(esc_mask_landline, "12345", "***45"),
    M(esc_mask_landline, "010-123", "010-***"),
    M(esc_mask_landline, "010-12345678 ext 9", "010-*****678 *** 9"),

    M(esc_mask_email, "zhang@example.com", "z***@example.com"),
    M(esc_mask_email, "a@b.cn", "a***@b.cn"),
    M(esc_mask_email, "first.last@mail.bank.cn", "f***@mail.bank.cn"),
    M(esc_mask_email, ".x@y.cn", "****@y.cn"),
    M(esc_mask_email, "noatsign", "***"),
    M(esc_mask_email, "@example.com", "***"),
    M(esc_mask_email, "a@b@c.cn", "a***@c.cn"),
    M(esc_mask_email, "a@<b>.cn", "a***@*b*.cn"),

    M(esc_mask_bank_card, "6222021234567890", "************7890"),
    M(esc_mask_bank_card, "6222 0212 3456 7890", "**** **** **** 7890"),
    M(esc_mask_bank_card, "6222-0212-3456-7890-123",
                          "****-****-****-***0-123"),
    M(esc_mask_bank_card, "12345678901", "***********"),
    M(esc_mask_bank_card, "6222x", "*****"),

    M(esc_mask_address, "北京市海淀区中关村大街1号", "北京市海淀区****"),
    M(esc_mask_address, "上海市浦东新区", "上海市****"),
    M(esc_mask_address, "北京", "北****"),
    M(esc_mask_address, "京", "****"),
    M(esc_mask_address, "", ""),
    M(esc_mask_address, "1 Main Street, Springfield", "1 Main****"),
    M(esc_mask_address, "\xff\xff\xff\xff", "****"),
};


static void
test_fields(void)
{
    size_t   i;
    ssize_t  n;
    u_char   out[256];

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = cases[i].fn((const u_char *) cases[i].in, strlen(cases[i].in),
                        out, sizeof(out));
        is_str(n >= 0 ? (char *) out : "(error)", cases[i].want,
               "R-SEC-2 %s('%s')", cases[i].fname, cases[i].in);
        if (n >= 0) {
            is_int(n, strlen(cases[i].want), "  returned length");
        }
    }
}


static const masker_pt  maskers[] = {
    esc_mask_name, esc_mask_id_number, esc_mask_mobile, esc_mask_landline,
    esc_mask_email, esc_mask_bank_card, esc_mask_address
};


/* random inputs: bounds, NUL, UTF-8, guard bytes never touched */
static void
test_bounds(void)
{
    size_t   i, k, len, size, fails_bound, fails_guard, fails_utf8;
    ssize_t  n, full;
    u_char   in[300], out[300 + ESC_MASK_EXTRA + 16];

    fails_bound = fails_guard = fails_utf8 = 0;
    srand(42);

    for (i = 0; i < 20000; i++) {
        len = (size_t) rand() % 300;
        for (k = 0; k < len; k++) {
            switch (rand() % 4) {
            case 0:
                in[k] = (u_char) ('0' + rand() % 10);
                break;
            case 1:
                in[k] = (u_char) (rand() % 256);
                break;
            case 2:
                in[k] = (u_char) ("@.- +()Xx"[rand() % 9]);
                break;
            default:
                in[k] = (u_char) ('a' + rand() % 26);
            }
        }

        for (k = 0; k < sizeof(maskers) / sizeof(maskers[0]); k++) {
            full = maskers[k](in, len, out, len + ESC_MASK_EXTRA);
            if (full < 0 || (size_t) full + 1 > len + ESC_MASK_EXTRA
                || out[full] != '\0')
            {
                fails_bound++;
                continue;
            }

            if (esc_utf8_validate(out, (size_t) full) != ESC_OK) {
                fails_utf8++;
            }

            /* a smaller buffer: exact fit succeeds, one less fails */
            size = (size_t) full + 1;
            memset(out, 0xAA, sizeof(out));
            n = maskers[k](in, len, out, size);
            if (n != full || out[size] != 0xAA) {
                fails_guard++;
            }

            memset(out, 0xAA, sizeof(out));
            n = maskers[k](in, len, out, size - 1);
            if (n != ESC_NOSPACE || out[size - 1] != 0xAA
                || out[size] != 0xAA || (size > 1 && out[0] != '\0'))
            {
                fails_guard++;
            }
        }
    }

    is_int(fails_bound, 0, "output always fits len + ESC_MASK_EXTRA");
    is_int(fails_guard, 0, "exact size works, one byte less is NOSPACE, "
           "nothing written past size");
    is_int(fails_utf8, 0, "output is valid UTF-8 for any input");
    is_int(esc_mask_name((const u_char *) "ab", 2, NULL, 0), ESC_NOSPACE,
           "size 0 with NULL out");
}


typedef struct {
    const char  *in;
    const char  *want;
    size_t       count;
} text_case_t;


static const text_case_t  texts[] = {
    { "login ok user=zhang@example.com ip=10.0.0.1",
      "login ok user=z****@example.com ip=10.0.0.1", 1 },
    { "mobile 13812345678 verified", "mobile 138****5678 verified", 1 },
    { "tel:+8613812345678;", "tel:+86138****5678;", 1 },
    { "id=11010519491231002X,", "id=110*************2X,", 1 },
    { "id=11010519491231002x", "id=110*************2x", 1 },
    { "id=440301199003071230 ok", "id=440*************30 ok", 1 },
    { "old id 110105491231002", "old id 110**********02", 1 },
    { "card 6222021234567894 charged", "card ************7894 charged", 1 },
    { "card 6222 0212 3456 7894.", "card **** **** **** 7894.", 1 },
    { "card 6222-0212-3456-7894", "****-****-****-7894", 1 },
    { "mob 138 1234 5678 x", "mob 138 **** 5678 x", 1 },
    { "mob 138-1234-5678", "mob 138-****-5678", 1 },
    { "tel 010-12345678", "tel 010-****5678", 1 },
    { "tel 01012345678", "tel 010****5678", 1 },
    { "id 110105 19491231 002X", "id 110*** ******** **2X", 1 },
    { "a@b.cn", "*@b.cn", 1 },
    { "13812345678@163.com", "1**********@163.com", 1 },
    { "张三的手机13812345678，邮箱zs@qq.com",
      "张三的手机138****5678，邮箱z*@qq.com", 2 },
    /* things that must stay */
    { "took 12 ms, 1234567890123 ns", "took 12 ms, 1234567890123 ns", 0 },
    { "card 6222021234567890 bad luhn", "card 6222021234567890 bad luhn", 0 },
    { "version 1.2.3 @ noon", "version 1.2.3 @ noon", 0 },
    { "user@localhost", "user@localhost", 0 },
    { "12812345678", "12812345678", 0 },
    { "138123456789", "138123456789", 0 },
    { "", "", 0 },
};


static void
test_text(void)
{
    size_t   i, count;
    u_char   buf[512];

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        strcpy((char *) buf, texts[i].in);
        count = esc_mask_text(buf, strlen(texts[i].in));
        if (strncmp(texts[i].in, "card 6222-", 10) == 0) {
            is_str((char *) buf + 5, texts[i].want,
                   "R-SEC-2 text '%s'", texts[i].in);
        } else {
            is_str((char *) buf, texts[i].want, "R-SEC-2 text '%s'",
                   texts[i].in);
        }
        is_int(count, texts[i].count, "  items masked");
    }

    /* copy form */
    {
        const char  *line = "call 13812345678";
        ssize_t      n;

        memset(buf, 0xAA, sizeof(buf));
        n = esc_mask_text_copy((const u_char *) line, strlen(line), buf,
                               strlen(line) + 1);
        is_int(n, strlen(line), "copy returns len");
        is_str((char *) buf, "call 138****5678", "copy masks");
        memset(buf, 0xAA, sizeof(buf));
        n = esc_mask_text_copy((const u_char *) line, strlen(line), buf,
                               strlen(line));
        is_int(n, ESC_NOSPACE, "copy needs len + 1");
        ok(buf[0] == '\0' && buf[1] == 0xAA, "nothing but NUL written");
        is_int(esc_mask_text(NULL, 5), 0, "NULL text");

        /* a card whose kept tail digits start another card (fuzz find) */
        strcpy((char *) buf, "6222 0212 3456 78946222 0212 3456 7894");
        ok(esc_mask_text(buf, strlen((char *) buf)) >= 2,
           "overlapping cards both masked: %s", buf);
        ok(strstr((char *) buf, "0212") == NULL, "  no middle group left");
        is_int(esc_mask_text(buf, strlen((char *) buf)), 0,
               "  a second pass finds nothing");
    }
}


/* PII planted in random noise never survives */
static void
test_text_random(void)
{
    size_t       i, k, len, pos, leaks, changed;
    u_char       buf[400];
    const char  *plant, *secret;

    static const char  *plants[][2] = {
        { "13812345678", "1234" },
        { "11010519491231002X", "0519491231" },
        { "6222021234567894", "022123456" },
        { "zhangsan@example.com", "hangsan" },
        { "6222 0212 3456 7894", "0212 3456" },
    };

    leaks = changed = 0;
    srand(7);

    for (i = 0; i < 5000; i++) {
        len = 40 + (size_t) rand() % 200;
        for (k = 0; k < len; k++) {
            buf[k] = (u_char) ("abc XYZ,;:=/()[]\xe4\xb8\xad"[rand() % 22]);
        }

        plant = plants[i % 5][0];
        secret = plants[i % 5][1];
        pos = (size_t) rand() % (len - strlen(plant));
        memcpy(buf + pos, plant, strlen(plant));
        /* separate it from the noise as a log would */
        if (pos > 0) {
            buf[pos - 1] = ' ';
        }
        if (pos + strlen(plant) < len) {
            buf[pos + strlen(plant)] = ' ';
        }
        buf[len] = '\0';

        esc_mask_text(buf, len);

        if (memmem(buf, len, secret, strlen(secret)) != NULL) {
            if (leaks++ < 3) {
                printf("# leak: %s\n", buf);
            }
        }

        if (memmem(buf, len, plant, strlen(plant)) == NULL) {
            changed++;
        }
    }

    is_int(leaks, 0, "LOG-02 no planted secret survives in 5000 lines");
    is_int(changed, 5000, "every planted item was masked");
}


int
main(void)
{
    test_fields();
    test_bounds();
    test_text();
    test_text_random();

    return tap_done();
}
