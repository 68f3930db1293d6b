/*
 * Input validators for identity data (see esc_validate.h).
 */

#include <string.h>

#include "esc_validate.h"


#define esc_is_digit(c)  ((c) >= '0' && (c) <= '9')
#define esc_is_upper(c)  ((c) >= 'A' && (c) <= 'Z')
#define esc_is_lower(c)  ((c) >= 'a' && (c) <= 'z')
#define esc_is_alpha(c)  (esc_is_upper(c) || esc_is_lower(c))
#define esc_is_alnum(c)  (esc_is_alpha(c) || esc_is_digit(c))


static const char  esc_uscc_charset[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static const unsigned  esc_uscc_weights[17] = {
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
};

static const unsigned  esc_rid_weights[17] = {
    7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2
};


static int esc_uscc_value(u_char c);
static int esc_date_valid(const u_char *p);
static int esc_is_atext(u_char c);
static int esc_is_text_char(uint32_t cp);
static int esc_is_space(uint32_t cp);
static int esc_contract_number_char(uint32_t cp);


/* Value of a USCC character (0..30), or -1 when outside the charset. */

static int
esc_uscc_value(u_char c)
{
    const char  *s;

    if (c == '\0') {
        return -1;
    }

    s = strchr(esc_uscc_charset, c);

    return s != NULL ? (int) (s - esc_uscc_charset) : -1;
}


int
esc_uscc_check_char(const u_char *p17, u_char *out)
{
    int       v;
    size_t    i;
    unsigned  sum;

    sum = 0;

    for (i = 0; i < 17; i++) {
        v = esc_uscc_value(p17[i]);
        if (v < 0) {
            return ESC_INVALID;
        }

        sum += (unsigned) v * esc_uscc_weights[i];
    }

    *out = (u_char) esc_uscc_charset[(31 - sum % 31) % 31];

    return ESC_OK;
}


int
esc_uscc_validate(const u_char *p, size_t len)
{
    size_t  i;
    u_char  check;

    if (len != ESC_USCC_LEN) {
        return ESC_INVALID;
    }

    if (strchr("123456789ANY", p[0]) == NULL || p[0] == '\0') {
        return ESC_INVALID;
    }

    if (p[1] < '1' || p[1] > '9') {
        return ESC_INVALID;
    }

    for (i = 2; i < 8; i++) {
        if (!esc_is_digit(p[i])) {
            return ESC_INVALID;
        }
    }

    if (esc_uscc_check_char(p, &check) != ESC_OK) {
        return ESC_INVALID;
    }

    return check == p[17] ? ESC_OK : ESC_INVALID;
}


int
esc_resident_id_check_char(const u_char *p17, u_char *out)
{
    size_t    i;
    unsigned  sum, r;

    sum = 0;

    for (i = 0; i < 17; i++) {
        if (!esc_is_digit(p17[i])) {
            return ESC_INVALID;
        }

        sum += (unsigned) (p17[i] - '0') * esc_rid_weights[i];
    }

    r = (12 - sum % 11) % 11;
    *out = (u_char) (r == 10 ? 'X' : '0' + r);

    return ESC_OK;
}


/* YYYYMMDD at p: a real date in 1900..2099. */

static int
esc_date_valid(const u_char *p)
{
    size_t    i;
    unsigned  y, m, d, mdays;

    static const unsigned  days[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    for (i = 0; i < 8; i++) {
        if (!esc_is_digit(p[i])) {
            return 0;
        }
    }

    y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10
        + (p[3] - '0');
    m = (p[4] - '0') * 10 + (p[5] - '0');
    d = (p[6] - '0') * 10 + (p[7] - '0');

    if (y < 1900 || y > 2099 || m < 1 || m > 12 || d < 1) {
        return 0;
    }

    mdays = days[m - 1];

    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        mdays = 29;
    }

    return d <= mdays;
}


int
esc_resident_id_validate(const u_char *p, size_t len)
{
    u_char  check;

    if (len != ESC_RESIDENT_ID_LEN) {
        return ESC_INVALID;
    }

    if (p[0] < '1' || p[0] > '9') {
        return ESC_INVALID;
    }

    if (esc_resident_id_check_char(p, &check) != ESC_OK) {
        return ESC_INVALID;
    }

    if (!esc_date_valid(p + 6)) {
        return ESC_INVALID;
    }

    return check == p[17] ? ESC_OK : ESC_INVALID;
}


int
esc_id_type_parse(const char *p, size_t len, esc_id_type_e *out)
{
    if (len == 8 && memcmp(p, "resident", 8) == 0) {
        *out = ESC_ID_RESIDENT;
        return ESC_OK;
    }

    if (len == 8 && memcmp(p, "passport", 8) == 0) {
        *out = ESC_ID_PASSPORT;
        return ESC_OK;
    }

    if (len == 5 && memcmp(p, "other", 5) == 0) {
        *out = ESC_ID_OTHER;
        return ESC_OK;
    }

    return ESC_INVALID;
}


const char *
esc_id_type_name(esc_id_type_e type)
{
    switch (type) {
    case ESC_ID_RESIDENT:
        return "resident";
    case ESC_ID_PASSPORT:
        return "passport";
    case ESC_ID_OTHER:
        return "other";
    }

    return NULL;
}


int
esc_id_number_validate(esc_id_type_e type, const u_char *p, size_t len)
{
    size_t  i;

    switch (type) {

    case ESC_ID_RESIDENT:
        return esc_resident_id_validate(p, len);

    case ESC_ID_PASSPORT:
        if (len < 5 || len > 20) {
            return ESC_INVALID;
        }

        for (i = 0; i < len; i++) {
            if (!esc_is_upper(p[i]) && !esc_is_digit(p[i])) {
                return ESC_INVALID;
            }
        }

        return ESC_OK;

    case ESC_ID_OTHER:
        if (len < 4 || len > 32 || !esc_is_alnum(p[0])) {
            return ESC_INVALID;
        }

        for (i = 0; i < len; i++) {
            if (!esc_is_alnum(p[i])
                && p[i] != '(' && p[i] != ')' && p[i] != '-')
            {
                return ESC_INVALID;
            }
        }

        return ESC_OK;
    }

    return ESC_INVALID;
}


int
esc_mobile_normalize(const u_char *p, size_t len, u_char out[ESC_MOBILE_LEN])
{
    size_t  i;

    if (len == ESC_MOBILE_LEN + 3 && p[0] == '+' && p[1] == '8'
        && p[2] == '6')
    {
        p += 3;
        len -= 3;
    }

    if (len != ESC_MOBILE_LEN || p[0] != '1' || p[1] < '3' || p[1] > '9') {
        return ESC_INVALID;
    }

    for (i = 2; i < ESC_MOBILE_LEN; i++) {
        if (!esc_is_digit(p[i])) {
            return ESC_INVALID;
        }
    }

    if (out != NULL) {
        memcpy(out, p, ESC_MOBILE_LEN);
    }

    return ESC_OK;
}


int
esc_mobile_validate(const u_char *p, size_t len)
{
    return esc_mobile_normalize(p, len, NULL);
}


/* RFC 5322 atext. */

static int
esc_is_atext(u_char c)
{
    return esc_is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c)
                               != NULL);
}


int
esc_email_validate(const u_char *p, size_t len)
{
    size_t  at, i, label, labels, last_start;
    int     last_alpha;

    if (len < 6 || len > ESC_EMAIL_MAX) {     /* a@b.cc */
        return ESC_INVALID;
    }

    for (at = 0; at < len && p[at] != '@'; at++) {
        /* void */
    }

    if (at == 0 || at >= len || at > ESC_EMAIL_LOCAL_MAX) {
        return ESC_INVALID;
    }

    /* local-part: dot-atom */

    if (p[0] == '.' || p[at - 1] == '.') {
        return ESC_INVALID;
    }

    for (i = 0; i < at; i++) {
        if (p[i] == '.') {
            if (p[i + 1] == '.') {
                return ESC_INVALID;
            }
            continue;
        }

        if (!esc_is_atext(p[i])) {
            return ESC_INVALID;
        }
    }

    /* domain */

    if (len - at - 1 > 253) {
        return ESC_INVALID;
    }

    label = 0;
    labels = 0;
    last_start = at + 1;

    for (i = at + 1; i <= len; i++) {

        if (i == len || p[i] == '.') {
            if (label == 0 || label > 63
                || p[i - 1] == '-' || p[last_start] == '-')
            {
                return ESC_INVALID;
            }

            labels++;

            if (i == len) {
                break;
            }

            label = 0;
            last_start = i + 1;
            continue;
        }

        if (!esc_is_alnum(p[i]) && p[i] != '-') {
            return ESC_INVALID;
        }

        label++;
    }

    if (labels < 2 || len - last_start < 2) {
        return ESC_INVALID;
    }

    last_alpha = 1;

    for (i = last_start; i < len; i++) {
        if (!esc_is_alpha(p[i])) {
            last_alpha = 0;
        }
    }

    return last_alpha ? ESC_OK : ESC_INVALID;
}


int
esc_username_validate(const u_char *p, size_t len)
{
    size_t  i;

    if (len < ESC_USERNAME_MIN || len > ESC_USERNAME_MAX
        || !esc_is_alpha(p[0]))
    {
        return ESC_INVALID;
    }

    for (i = 1; i < len; i++) {
        if (!esc_is_alnum(p[i]) && p[i] != '_' && p[i] != '.'
            && p[i] != '-')
        {
            return ESC_INVALID;
        }
    }

    return ESC_OK;
}


size_t
esc_utf8_decode(const u_char *p, size_t len, uint32_t *cp)
{
    size_t    n, i;
    uint32_t  c, min;

    if (len == 0) {
        return 0;
    }

    c = p[0];

    if (c < 0x80) {
        *cp = c;
        return 1;
    }

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        c &= 0x1f;
        min = 0x80;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        c &= 0x0f;
        min = 0x800;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        c &= 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if (len < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        c = (c << 6) | (p[i] & 0x3f);
    }

    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        return 0;
    }

    *cp = c;

    return n;
}


ssize_t
esc_utf8_length(const u_char *p, size_t len)
{
    size_t    n;
    ssize_t   count;
    uint32_t  cp;

    count = 0;

    while (len > 0) {
        n = esc_utf8_decode(p, len, &cp);
        if (n == 0) {
            return -1;
        }

        p += n;
        len -= n;
        count++;
    }

    return count;
}


int
esc_utf8_validate(const u_char *p, size_t len)
{
    return esc_utf8_length(p, len) >= 0 ? ESC_OK : ESC_INVALID;
}


static int
esc_is_text_char(uint32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
        return 0;
    }

    /* line and paragraph separators would break log lines */

    return cp != 0x2028 && cp != 0x2029;
}


static int
esc_is_space(uint32_t cp)
{
    return cp == ' ' || cp == 0xa0 || cp == 0x3000
           || (cp >= 0x2000 && cp <= 0x200b) || cp == 0xfeff;
}


int
esc_text_validate(const u_char *p, size_t len, size_t min_chars,
    size_t max_chars)
{
    size_t    n, count;
    uint32_t  cp;

    count = 0;

    while (len > 0) {
        n = esc_utf8_decode(p, len, &cp);
        if (n == 0 || !esc_is_text_char(cp)) {
            return ESC_INVALID;
        }

        if ((count == 0 || n == len) && esc_is_space(cp)) {
            return ESC_INVALID;
        }

        if (++count > max_chars) {
            return ESC_INVALID;
        }

        p += n;
        len -= n;
    }

    return count >= min_chars ? ESC_OK : ESC_INVALID;
}


int
esc_real_name_validate(const u_char *p, size_t len)
{
    return esc_text_validate(p, len, 1, ESC_REAL_NAME_MAX);
}


int
esc_institution_name_validate(const u_char *p, size_t len)
{
    return esc_text_validate(p, len, 2, ESC_INSTITUTION_NAME_MAX);
}


int
esc_title_validate(const u_char *p, size_t len)
{
    return esc_text_validate(p, len, 1, ESC_TITLE_MAX);
}


int
esc_reason_validate(const u_char *p, size_t len)
{
    return esc_text_validate(p, len, 1, ESC_REASON_MAX);
}


int
esc_department_validate(const u_char *p, size_t len)
{
    size_t  i;

    if (esc_text_validate(p, len, 1, ESC_DEPARTMENT_MAX) != ESC_OK) {
        return ESC_INVALID;
    }

    for (i = 0; i < len; i++) {
        if (p[i] == '/' || p[i] == '\\' || p[i] == '*') {
            return ESC_INVALID;
        }
    }

    return ESC_OK;
}


static int
esc_contract_number_char(uint32_t cp)
{
    if (cp < 0x80) {
        return esc_is_alnum(cp)
               || (cp != 0 && strchr("-_./#()[]", (int) cp) != NULL);
    }

    return (cp >= 0x3400 && cp <= 0x4dbf)
           || (cp >= 0x4e00 && cp <= 0x9fff)
           || cp == 0xff08 || cp == 0xff09          /* （） */
           || cp == 0x3014 || cp == 0x3015          /* 〔〕 */
           || cp == 0x3010 || cp == 0x3011;         /* 【】 */
}


int
esc_contract_number_validate(const u_char *p, size_t len)
{
    size_t    n, count;
    uint32_t  cp;

    count = 0;

    while (len > 0) {
        n = esc_utf8_decode(p, len, &cp);
        if (n == 0 || !esc_contract_number_char(cp)) {
            return ESC_INVALID;
        }

        if (++count > ESC_CONTRACT_NUMBER_MAX) {
            return ESC_INVALID;
        }

        p += n;
        len -= n;
    }

    return count > 0 ? ESC_OK : ESC_INVALID;
}


int
esc_contract_version_validate(const u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > ESC_CONTRACT_VERSION_MAX || !esc_is_alnum(p[0])) {
        return ESC_INVALID;
    }

    for (i = 1; i < len; i++) {
        if (!esc_is_alnum(p[i]) && p[i] != '.' && p[i] != '_'
            && p[i] != '-')
        {
            return ESC_INVALID;
        }
    }

    return ESC_OK;
}
