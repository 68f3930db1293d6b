/*
 * Password policy (see esc_password.h).
 */

#include <stdlib.h>
#include <string.h>

#include "esc_password.h"
#include "esc_validate.h"


#define esc_lower(c)  (((c) >= 'A' && (c) <= 'Z') ? (c) | 0x20 : (c))
#define esc_is_letter(c)                                                     \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))


static int esc_password_cmp(const void *key, const void *elt);
static int esc_contains_ci(const u_char *hay, size_t hlen,
    const u_char *needle, size_t nlen);
static int esc_list_has(const char *lower);


typedef struct {
    const char  *code;
    const char  *message;
} esc_pw_text_t;


static const esc_pw_text_t  esc_pw_texts[] = {
    { "ok", "password accepted" },
    { "too_long", "password is longer than 128 bytes" },
    { "invalid", "password contains invalid UTF-8 or control characters" },
    { "too_short", "password is too short: at least 9 characters" },
    { "missing_upper", "password needs an upper-case letter (A-Z)" },
    { "missing_lower", "password needs a lower-case letter (a-z)" },
    { "missing_digit", "password needs a digit (0-9)" },
    { "contains_username", "password must not contain the username" },
    { "common", "password is too common" }
};


static int
esc_password_cmp(const void *key, const void *elt)
{
    return strcmp((const char *) key, *(const char *const *) elt);
}


static int
esc_list_has(const char *lower)
{
    return bsearch(lower, esc_password_list, esc_password_list_n,
                   sizeof(esc_password_list[0]), esc_password_cmp)
           != NULL;
}


int
esc_password_is_common(const u_char *pw, size_t len)
{
    char    buf[ESC_PASSWORD_MAX_BYTES + 1];
    size_t  i;

    if (len > ESC_PASSWORD_MAX_BYTES) {
        return 0;     /* the list has nothing this long */
    }

    for (i = 0; i < len; i++) {
        if (pw[i] == '\0') {
            return 0;
        }

        buf[i] = (char) esc_lower(pw[i]);
    }

    buf[len] = '\0';

    return esc_list_has(buf);
}


static int
esc_contains_ci(const u_char *hay, size_t hlen, const u_char *needle,
    size_t nlen)
{
    size_t  i, j;

    if (nlen == 0 || nlen > hlen) {
        return 0;
    }

    for (i = 0; i + nlen <= hlen; i++) {
        for (j = 0; j < nlen; j++) {
            if (esc_lower(hay[i + j]) != esc_lower(needle[j])) {
                break;
            }
        }

        if (j == nlen) {
            return 1;
        }
    }

    return 0;
}


esc_pw_reason_e
esc_password_check(const u_char *pw, size_t len, const u_char *user,
    size_t ulen, size_t min_chars)
{
    char      buf[ESC_PASSWORD_MAX_BYTES + 1];
    size_t    i, n, start, end;
    ssize_t   chars;
    uint32_t  cp;
    int       upper, lower, digit;

    if (len > ESC_PASSWORD_MAX_BYTES) {
        return ESC_PW_TOO_LONG;
    }

    chars = 0;

    for (i = 0; i < len; i += n) {
        n = esc_utf8_decode(pw + i, len - i, &cp);
        if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
            return ESC_PW_INVALID;
        }

        chars++;
    }

    if (min_chars < ESC_PASSWORD_MIN_CHARS) {
        min_chars = ESC_PASSWORD_MIN_CHARS;
    }

    if ((size_t) chars < min_chars) {
        return ESC_PW_TOO_SHORT;
    }

    upper = 0;
    lower = 0;
    digit = 0;

    for (i = 0; i < len; i++) {
        if (pw[i] >= 'A' && pw[i] <= 'Z') {
            upper = 1;

        } else if (pw[i] >= 'a' && pw[i] <= 'z') {
            lower = 1;

        } else if (pw[i] >= '0' && pw[i] <= '9') {
            digit = 1;
        }
    }

    if (!upper) {
        return ESC_PW_MISSING_UPPER;
    }

    if (!lower) {
        return ESC_PW_MISSING_LOWER;
    }

    if (!digit) {
        return ESC_PW_MISSING_DIGIT;
    }

    if (user != NULL && esc_contains_ci(pw, len, user, ulen)) {
        return ESC_PW_CONTAINS_USERNAME;
    }

    for (i = 0; i < len; i++) {
        buf[i] = (char) esc_lower(pw[i]);
    }

    buf[len] = '\0';

    if (esc_list_has(buf)) {
        return ESC_PW_COMMON;
    }

    /* the core: strip leading and trailing non-letters */

    for (start = 0; start < len && !esc_is_letter(pw[start]); start++) {
        /* void */
    }

    for (end = len; end > start && !esc_is_letter(pw[end - 1]); end--) {
        /* void */
    }

    if (end - start >= 4 && (start > 0 || end < len)) {
        buf[end] = '\0';

        if (esc_list_has(buf + start)) {
            return ESC_PW_COMMON;
        }
    }

    return ESC_PW_OK;
}


const char *
esc_password_reason_code(esc_pw_reason_e reason)
{
    if ((unsigned) reason > ESC_PW_COMMON) {
        return "invalid";
    }

    return esc_pw_texts[reason].code;
}


const char *
esc_password_reason_message(esc_pw_reason_e reason)
{
    if ((unsigned) reason > ESC_PW_COMMON) {
        return esc_pw_texts[ESC_PW_INVALID].message;
    }

    return esc_pw_texts[reason].message;
}
