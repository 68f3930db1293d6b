/*
 * Masking of personal data (see esc_mask.h for the shapes).
 */

#include <string.h>

#include "esc_mask.h"
#include "esc_validate.h"


#define esc_is_digit(c)  ((c) >= '0' && (c) <= '9')
#define esc_is_alnum(c)                                                      \
    (esc_is_digit(c) || ((c) >= 'a' && (c) <= 'z')                          \
     || ((c) >= 'A' && (c) <= 'Z'))
#define esc_is_sep(c)                                                        \
    ((c) == ' ' || (c) == '-' || (c) == '(' || (c) == ')' || (c) == '+')

#define ESC_TEXT_GROUPS  32


/* bounded writer: records overflow instead of writing past the end */
typedef struct {
    u_char  *out;
    size_t   size;
    size_t   n;
} esc_out_t;


static void esc_put(esc_out_t *o, u_char c);
static void esc_put_n(esc_out_t *o, const u_char *p, size_t n);
static ssize_t esc_finish(esc_out_t *o);
static void esc_mask_digits(esc_out_t *o, const u_char *p, size_t len,
    size_t keep_head, size_t keep_tail);
static int esc_luhn(const u_char *p, size_t len);
static size_t esc_text_emails(u_char *p, size_t len);
static int esc_text_group_match(u_char *p, size_t len, const size_t *gs,
    const size_t *gl, size_t a, size_t b, size_t *count);
static size_t esc_text_token(u_char *p, size_t len, size_t i,
    size_t *count);
static size_t esc_text_run(u_char *p, size_t len, size_t i, size_t *count);
static void esc_star(u_char *p, size_t from, size_t to);
static size_t esc_mask_text_pass(u_char *p, size_t len);


static void
esc_put(esc_out_t *o, u_char c)
{
    if (o->n < o->size) {
        o->out[o->n] = c;
    }

    o->n++;
}


static void
esc_put_n(esc_out_t *o, const u_char *p, size_t n)
{
    while (n--) {
        esc_put(o, *p++);
    }
}


static ssize_t
esc_finish(esc_out_t *o)
{
    if (o->n >= o->size) {
        if (o->size > 0) {
            o->out[0] = '\0';
        }

        return ESC_NOSPACE;
    }

    o->out[o->n] = '\0';

    return (ssize_t) o->n;
}


ssize_t
esc_mask_name(const u_char *p, size_t len, u_char *out, size_t size)
{
    size_t     i, n, chars;
    uint32_t   cp;
    esc_out_t  o = { out, size, 0 };

    chars = 0;

    for (i = 0; i < len; i += n) {
        n = esc_utf8_decode(p + i, len - i, &cp);

        if (n == 0) {
            n = 1;
            esc_put(&o, '*');

        } else if (chars == 0 && len - i > n && cp >= 0x20 && cp != 0x7f
                   && (cp < 0x80 || cp > 0x9f))
        {
            esc_put_n(&o, p + i, n);      /* the first of 2+ characters */

        } else {
            esc_put(&o, '*');
        }

        chars++;
    }

    return esc_finish(&o);
}


/*
 * Copies p with every character masked except ASCII letters and digits
 * among the first keep_head and last keep_tail bytes; separators survive
 * when sep is set.
 */
static void
esc_mask_digits(esc_out_t *o, const u_char *p, size_t len,
    size_t keep_head, size_t keep_tail)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (esc_is_alnum(p[i]) && (i < keep_head || i + keep_tail >= len)) {
            esc_put(o, p[i]);

        } else {
            esc_put(o, '*');
        }
    }
}


ssize_t
esc_mask_id_number(const u_char *p, size_t len, u_char *out, size_t size)
{
    esc_out_t  o = { out, size, 0 };

    if (len >= 15) {
        esc_mask_digits(&o, p, len, 3, 2);

    } else if (len >= 6) {
        esc_mask_digits(&o, p, len, 1, 2);

    } else {
        esc_mask_digits(&o, p, len, 0, 0);
    }

    return esc_finish(&o);
}


/*
 * Phone numbers: keeps separators, an optional "+86" and area code, and
 * the last 4 digits (2 when the rest has 4-6 digits, none below).
 */
static ssize_t
esc_mask_phone(const u_char *p, size_t len, u_char *out, size_t size,
    int mobile)
{
    size_t     i, start, digits, seen, keep, area_end, g1;
    esc_out_t  o = { out, size, 0 };

    start = 0;

    if (len >= 3 && p[0] == '+' && p[1] == '8' && p[2] == '6') {
        esc_put_n(&o, p, 3);
        start = 3;
    }

    /* the area code: a leading group of 3-4 digits starting with 0 */

    area_end = start;

    for (i = start; i < len && esc_is_sep(p[i]); i++) {
        /* void */
    }

    for (g1 = 0; i + g1 < len && esc_is_digit(p[i + g1]); g1++) {
        /* void */
    }

    if (!mobile && g1 >= 3 && g1 <= 4 && p[i] == '0' && i + g1 < len) {
        area_end = i + g1;
    }

    digits = 0;

    for (i = area_end; i < len; i++) {
        if (esc_is_digit(p[i])) {
            digits++;
        }
    }

    if (mobile && digits == 11) {
        keep = 4;

    } else {
        keep = digits >= 7 ? 4 : digits >= 4 ? 2 : 0;
    }

    seen = 0;

    for (i = start; i < len; i++) {
        if (i < area_end && (esc_is_digit(p[i]) || esc_is_sep(p[i]))) {
            esc_put(&o, p[i]);

        } else if (esc_is_digit(p[i])) {
            seen++;
            esc_put(&o, (seen + keep > digits
                         || (mobile && digits == 11 && seen <= 3))
                        ? p[i] : '*');

        } else {
            esc_put(&o, esc_is_sep(p[i]) ? p[i] : '*');
        }
    }

    return esc_finish(&o);
}


ssize_t
esc_mask_mobile(const u_char *p, size_t len, u_char *out, size_t size)
{
    return esc_mask_phone(p, len, out, size, 1);
}


ssize_t
esc_mask_landline(const u_char *p, size_t len, u_char *out, size_t size)
{
    return esc_mask_phone(p, len, out, size, 0);
}


ssize_t
esc_mask_email(const u_char *p, size_t len, u_char *out, size_t size)
{
    size_t     i, at;
    esc_out_t  o = { out, size, 0 };

    at = len;

    for (i = len; i > 0; i--) {
        if (p[i - 1] == '@') {
            at = i - 1;
            break;
        }
    }

    if (at == len || at == 0) {
        esc_put_n(&o, (const u_char *) "***", 3);
        return esc_finish(&o);
    }

    esc_put(&o, esc_is_alnum(p[0]) ? p[0] : '*');
    esc_put_n(&o, (const u_char *) "***@", 4);

    for (i = at + 1; i < len; i++) {
        esc_put(&o, (esc_is_alnum(p[i]) || p[i] == '.' || p[i] == '-')
                    ? p[i] : '*');
    }

    return esc_finish(&o);
}


ssize_t
esc_mask_bank_card(const u_char *p, size_t len, u_char *out, size_t size)
{
    size_t     i, digits, seen;
    esc_out_t  o = { out, size, 0 };

    digits = 0;

    for (i = 0; i < len; i++) {
        if (esc_is_digit(p[i])) {
            digits++;
        }
    }

    seen = 0;

    for (i = 0; i < len; i++) {
        if (esc_is_digit(p[i])) {
            seen++;
            esc_put(&o, (digits >= 12 && seen + 4 > digits) ? p[i] : '*');

        } else {
            esc_put(&o, (p[i] == ' ' || p[i] == '-') ? p[i] : '*');
        }
    }

    return esc_finish(&o);
}


ssize_t
esc_mask_address(const u_char *p, size_t len, u_char *out, size_t size)
{
    size_t     i, n, chars, keep;
    ssize_t    total;
    uint32_t   cp;
    esc_out_t  o = { out, size, 0 };

    if (len == 0) {
        return esc_finish(&o);
    }

    total = esc_utf8_length(p, len);
    keep = 0;

    if (total > 0) {
        keep = (size_t) total / 2;
        if (keep > 6) {
            keep = 6;
        }
    }

    chars = 0;

    for (i = 0; i < len && chars < keep; i += n) {
        n = esc_utf8_decode(p + i, len - i, &cp);
        if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
            break;
        }

        esc_put_n(&o, p + i, n);
        chars++;
    }

    esc_put_n(&o, (const u_char *) "****", 4);

    return esc_finish(&o);
}


/* free text */


static void
esc_star(u_char *p, size_t from, size_t to)
{
    for ( /* void */ ; from < to; from++) {
        if (esc_is_alnum(p[from])) {
            p[from] = '*';
        }
    }
}


static int
esc_luhn(const u_char *p, size_t len)
{
    size_t    i, k;
    unsigned  sum, d;

    sum = 0;
    k = 0;

    for (i = len; i > 0; i--) {
        if (!esc_is_digit(p[i - 1])) {
            continue;
        }

        d = p[i - 1] - '0';

        if (k++ % 2 == 1) {
            d *= 2;
            if (d > 9) {
                d -= 9;
            }
        }

        sum += d;
    }

    return sum % 10 == 0;
}


#define esc_is_local(c)                                                      \
    (esc_is_alnum(c) || (c) == '.' || (c) == '_' || (c) == '%'               \
     || (c) == '+' || (c) == '-')
#define esc_is_domain(c)  (esc_is_alnum(c) || (c) == '.' || (c) == '-')


static size_t
esc_text_emails(u_char *p, size_t len)
{
    size_t  i, s, e, dots, count;

    count = 0;

    for (i = 0; i < len; i++) {
        if (p[i] != '@') {
            continue;
        }

        for (s = i; s > 0 && esc_is_local(p[s - 1]); s--) {
            /* void */
        }

        dots = 0;

        for (e = i + 1; e < len && esc_is_domain(p[e]); e++) {
            if (p[e] == '.') {
                dots++;
            }
        }

        while (e > i + 1 && (p[e - 1] == '.' || p[e - 1] == '-')) {
            if (p[e - 1] == '.') {
                dots--;
            }
            e--;
        }

        if (s == i || dots == 0 || p[i + 1] == '.') {
            continue;
        }

        /*
         * every byte after the first becomes '*', dots included, so that
         * a second pass finds no local part left to mask
         */

        if (i - s == 1) {
            p[s] = '*';

        } else {
            memset(p + s + 1, '*', i - s - 1);
        }

        count++;
        i = e > i ? e - 1 : i;
    }

    return count;
}


/*
 * Does the sub-token of groups a..b match a grouped pattern?  Masks it and
 * returns 1 when it does.
 */
static int
esc_text_group_match(u_char *p, size_t len, const size_t *gs,
    const size_t *gl, size_t a, size_t b, size_t *count)
{
    size_t  k, ng, total, start, end;
    int     x, all3;

    ng = b - a + 1;
    start = gs[a];
    end = gs[b] + gl[b];
    x = (end < len && (p[end] == 'X' || p[end] == 'x'));

    total = 0;
    all3 = 1;

    for (k = a; k <= b; k++) {
        total += gl[k];
        if (gl[k] < 3) {
            all3 = 0;
        }
    }

    if (ng == 3 && gl[a] == 6 && gl[a + 1] == 8
        && (gl[b] == 4 || (gl[b] == 3 && x)))
    {
        /* ID number 6-8-4: keep first 3 and last 2 */
        if (gl[b] == 3) {
            end++;
        }

        esc_star(p, start + 3, end - 2);
        (*count)++;
        return 1;
    }

    if (ng == 3 && gl[a] == 3 && gl[a + 1] == 4 && gl[b] == 4
        && p[start] == '1' && p[start + 1] >= '3' && p[start + 1] <= '9')
    {
        esc_star(p, gs[a + 1], end - 4);
        (*count)++;
        return 1;
    }

    if (ng == 2 && p[start] == '0' && (gl[a] == 3 || gl[a] == 4)
        && (gl[b] == 7 || gl[b] == 8))
    {
        esc_star(p, gs[b], end - 4);
        (*count)++;
        return 1;
    }

    if (all3 && total >= 16 && total <= 19
        && esc_luhn(p + start, end - start))
    {
        esc_star(p, start, end - 4);
        (*count)++;
        return 1;
    }

    return 0;
}


/*
 * A token of digit groups joined by single spaces or hyphens, starting at
 * i (a digit not preceded by a digit).  Every sub-range of two or more
 * groups is tried, longest first, for a grouped pattern; groups left over
 * are tried alone as plain runs.  Returns the index after the token.
 */
static size_t
esc_text_token(u_char *p, size_t len, size_t i, size_t *count)
{
    size_t  ng, j, a, b, next, gs[ESC_TEXT_GROUPS], gl[ESC_TEXT_GROUPS];

    ng = 0;
    j = i;

    for ( ;; ) {
        gs[ng] = j;

        while (j < len && esc_is_digit(p[j])) {
            j++;
        }

        gl[ng] = j - gs[ng];
        ng++;

        if (ng < ESC_TEXT_GROUPS && j + 1 < len
            && (p[j] == ' ' || p[j] == '-') && esc_is_digit(p[j + 1]))
        {
            j++;
            continue;
        }

        break;
    }

    a = 0;

    while (a < ng) {
        for (b = ng - 1; b > a; b--) {
            if (esc_text_group_match(p, len, gs, gl, a, b, count)) {
                break;
            }
        }

        if (b > a) {
            a = b + 1;
            continue;
        }

        next = esc_text_run(p, len, gs[a], count);
        if (next > j) {
            j = next;       /* the X of an ID number */
        }

        a++;
    }

    return j;
}


/* A plain digit run at i; returns the index after it. */

static size_t
esc_text_run(u_char *p, size_t len, size_t i, size_t *count)
{
    size_t  n, end;
    u_char  c;

    for (n = 0; i + n < len && esc_is_digit(p[i + n]); n++) {
        /* void */
    }

    end = i + n;

    if (n == 17 && end < len && (p[end] == 'X' || p[end] == 'x')) {
        esc_star(p, i + 3, end - 1);
        (*count)++;
        return end + 1;
    }

    if (n == 18) {
        if (esc_resident_id_check_char(p + i, &c) == ESC_OK
            && c == p[i + 17])
        {
            esc_star(p, i + 3, end - 2);

        } else if (esc_luhn(p + i, n)) {
            esc_star(p, i, end - 4);

        } else {
            esc_star(p, i + 3, end - 2);
        }

        (*count)++;
        return end;
    }

    if (n == 15) {
        esc_star(p, i + 3, end - 2);
        (*count)++;
        return end;
    }

    if (n == 11 && p[i] == '1' && p[i + 1] >= '3' && p[i + 1] <= '9') {
        esc_star(p, i + 3, i + 7);
        (*count)++;
        return end;
    }

    if (n == 13 && p[i] == '8' && p[i + 1] == '6' && p[i + 2] == '1'
        && p[i + 3] >= '3' && p[i + 3] <= '9')
    {
        esc_star(p, i + 5, i + 9);
        (*count)++;
        return end;
    }

    if (n >= 16 && n <= 19 && esc_luhn(p + i, n)) {
        esc_star(p, i, end - 4);
        (*count)++;
        return end;
    }

    if (n >= 10 && n <= 12 && p[i] == '0') {
        esc_star(p, i + 3, end - 4);
        (*count)++;
        return end;
    }

    return end;
}


static size_t
esc_mask_text_pass(u_char *p, size_t len)
{
    size_t  i, next, count;

    count = esc_text_emails(p, len);

    i = 0;

    while (i < len) {
        if (!esc_is_digit(p[i]) || (i > 0 && esc_is_digit(p[i - 1]))) {
            i++;
            continue;
        }

        next = esc_text_token(p, len, i, &count);

        i = next > i ? next : i + 1;
    }

    return count;
}


size_t
esc_mask_text(u_char *p, size_t len)
{
    size_t  n, total;

    if (p == NULL) {
        return 0;
    }

    /*
     * Repeat until a pass finds nothing: digits kept in clear at the end
     * of one match (the last 4 of a card) may start another number that
     * the greedy scan skipped.  Every productive pass masks digits, so
     * this ends; log lines need one pass, rarely two.
     */

    total = 0;

    do {
        n = esc_mask_text_pass(p, len);
        total += n;
    } while (n != 0);

    return total;
}


ssize_t
esc_mask_text_copy(const u_char *in, size_t len, u_char *out, size_t size)
{
    if (out == NULL || size < len + 1) {
        if (out != NULL && size > 0) {
            out[0] = '\0';
        }

        return ESC_NOSPACE;
    }

    if (len > 0) {
        memcpy(out, in, len);
    }

    out[len] = '\0';
    esc_mask_text(out, len);

    return (ssize_t) len;
}
