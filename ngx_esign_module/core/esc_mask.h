/*
 * Masking of personal data for logs and for the masked back-office tier
 * (R-SEC-2, R-ACC-3).
 *
 * Field maskers take one value of a known kind and write its masked form
 * to out: at most len + ESC_MASK_EXTRA - 1 bytes plus a NUL, so a buffer
 * of len + ESC_MASK_EXTRA always suffices.  They return the length written
 * (without the NUL), or ESC_NOSPACE when size is too small (out is then
 * "" when size > 0).  Nothing is ever written past out + size.  Input may
 * be any bytes; invalid UTF-8 is masked, never copied, and the output is
 * valid UTF-8.
 *
 * Shapes (kept characters in clear, every other one becomes '*'):
 *
 *   name        first character            张三 -> 张*, Zhang San -> Z********
 *   id number   first 3 and last 2 (15+ chars), first 1 and last 2
 *               (6-14), nothing (shorter)  110105194912310021 ->
 *                                          110*************21
 *   mobile      +86, first 3 and last 4    13812345678 -> 138****5678
 *   landline    area code and last 4       010-12345678 -> 010-****5678
 *               (last 2 when 4-6 digits)
 *   email       first char of local part, then "***", domain
 *                                          zhang@example.com ->
 *                                          z***@example.com
 *   bank card   last 4 (12+ digits)        6222021234567890 ->
 *                                          ************7890
 *   address     first min(6, n/2) characters, then "****"
 *                                          北京市海淀区中关村大街1号 ->
 *                                          北京市海淀区****
 *
 * Separators (space, '-', '(', ')', '+') in phone numbers and cards are
 * kept; other unexpected characters are masked.
 */

#ifndef ESC_MASK_H
#define ESC_MASK_H

#include "esc_core.h"


#define ESC_MASK_EXTRA  5


ssize_t esc_mask_name(const u_char *p, size_t len, u_char *out,
    size_t size);
ssize_t esc_mask_id_number(const u_char *p, size_t len, u_char *out,
    size_t size);
ssize_t esc_mask_mobile(const u_char *p, size_t len, u_char *out,
    size_t size);
ssize_t esc_mask_landline(const u_char *p, size_t len, u_char *out,
    size_t size);
ssize_t esc_mask_email(const u_char *p, size_t len, u_char *out,
    size_t size);
ssize_t esc_mask_bank_card(const u_char *p, size_t len, u_char *out,
    size_t size);
ssize_t esc_mask_address(const u_char *p, size_t len, u_char *out,
    size_t size);


/*
 * Free text (a log line, an error message): masks in place everything
 * that looks like personal data, overwriting characters with '*' and
 * never changing the length, so it works on the line buffer itself:
 *
 *   - e-mail addresses: local part after its first character
 *     ([A-Za-z0-9._%+-] before '@', a dotted domain after it);
 *   - digit runs: 18 digits or 17 + X, 15 digits (ID numbers, first 3 and
 *     last 2 kept); 11 digits 1[3-9]... and 86 1[3-9]... (mobiles, as
 *     above); 16-19 digits passing Luhn (cards, last 4 kept); 10-12
 *     digits starting with 0 (landlines, first 3 and last 4 kept);
 *   - the same with single spaces or hyphens between groups: 3-4-4
 *     mobiles, 3/4 + 7/8 landlines, 6-8-4 ID numbers, cards of 2+ groups
 *     of 3+ digits with 16-19 digits passing Luhn.
 *
 * Only ASCII bytes are overwritten, so valid UTF-8 stays valid.  Names
 * and addresses cannot be recognised in free text: mask those fields with
 * the field maskers before they are formatted into a line.
 * Returns the number of items masked.
 */
size_t esc_mask_text(u_char *p, size_t len);

/*
 * Copying form of esc_mask_text(): writes the masked text and a NUL to
 * out (size must be at least len + 1) and returns len, or ESC_NOSPACE.
 */
ssize_t esc_mask_text_copy(const u_char *in, size_t len, u_char *out,
    size_t size);


#endif /* ESC_MASK_H */
