/*
 * Input validators for identity data: USCC, ID numbers, mobile numbers,
 * e-mail addresses, usernames, UTF-8 text fields and contract numbers.
 *
 * Every validator is pure and thread-safe, reads exactly len bytes (no NUL
 * terminator needed, embedded NULs are refused) and returns ESC_OK or
 * ESC_INVALID.  Validators never normalise: a caller that wants to accept
 * lower-case input upper-cases it first and stores the upper-case form.
 */

#ifndef ESC_VALIDATE_H
#define ESC_VALIDATE_H

#include "esc_core.h"


#define ESC_USCC_LEN            18
#define ESC_RESIDENT_ID_LEN     18

#define ESC_USERNAME_MIN        3
#define ESC_USERNAME_MAX        32
#define ESC_EMAIL_MAX           254     /* RFC 5321 path limit minus <> */
#define ESC_EMAIL_LOCAL_MAX     64
#define ESC_MOBILE_LEN          11      /* national form, no +86 */


/*
 * Unified social credit code (GB 32100-2015): 18 characters from
 * "0123456789ABCDEFGHJKLMNPQRTUWXY" (no I, O, Z, S, V), upper case only.
 * Checked: the check character (position 18); position 1, registration
 * authority, in "123456789ANY"; position 2, institution category, a digit
 * 1-9 (the standard's per-authority table is not enforced); positions
 * 3-8, administrative division, digits.  The embedded organisation code's
 * own check character (GB 11714) is not checked: codes issued before 2015
 * were not all consistent.
 */
int esc_uscc_validate(const u_char *p, size_t len);

/*
 * Computes the USCC check character for the first 17 characters in p17
 * (exactly 17 bytes are read).  Stores it in *out and returns ESC_OK, or
 * returns ESC_INVALID when a character is outside the charset.  Tests and
 * fixtures use it to build valid codes.
 */
int esc_uscc_check_char(const u_char *p17, u_char *out);


/*
 * Resident identity card number (GB 11643-1999): 17 digits and a check
 * character, a digit or upper-case 'X' (mod 11, weights 2^(17-i) mod 11).
 * The first digit (province group) must be 1-9 and the birth date,
 * positions 7-14, a real calendar date from 1900-01-01 to 2099-12-31.
 * The old 15-digit form is refused: it cannot be checked.
 */
int esc_resident_id_validate(const u_char *p, size_t len);

/* Check character ('0'-'9' or 'X') of the 17 digits in p17. */
int esc_resident_id_check_char(const u_char *p17, u_char *out);


typedef enum {
    ESC_ID_RESIDENT = 1,    /* "resident": PRC resident identity card */
    ESC_ID_PASSPORT,        /* "passport" */
    ESC_ID_OTHER            /* "other": HK/Macau/Taiwan permits, etc. */
} esc_id_type_e;

/*
 * Parses the API name of an ID type ("resident", "passport", "other",
 * exact and case-sensitive) into *out.  Returns ESC_OK or ESC_INVALID.
 */
int esc_id_type_parse(const char *p, size_t len, esc_id_type_e *out);

/* API name of an ID type, or NULL for an unknown value. */
const char *esc_id_type_name(esc_id_type_e type);

/*
 * Validates an ID number of the given type.  resident: as above.
 * passport: 5-20 characters of [A-Z0-9].  other: 4-32 characters of
 * [A-Za-z0-9()-], starting with a letter or digit.
 */
int esc_id_number_validate(esc_id_type_e type, const u_char *p, size_t len);


/*
 * Mainland mobile number: "1" [3-9] and 9 more digits, optionally preceded
 * by "+86".  Separators are not accepted.
 */
int esc_mobile_validate(const u_char *p, size_t len);

/*
 * Validates like esc_mobile_validate() and writes the 11-digit national
 * form to out (exactly ESC_MOBILE_LEN bytes, not NUL-terminated).
 */
int esc_mobile_normalize(const u_char *p, size_t len,
    u_char out[ESC_MOBILE_LEN]);


/*
 * E-mail address, the practical subset of RFC 5321 that mail systems
 * deliver: local-part a dot-atom of RFC 5322 atext (no quoted strings, no
 * leading, trailing or doubled dots), 1-64 bytes; domain a host name of at
 * least two labels, each 1-63 of [A-Za-z0-9-] not starting or ending with
 * '-', total at most 253, last label alphabetic and at least 2 long (no
 * address literals); whole address at most 254 bytes.  Internationalised
 * addresses (RFC 6531) are refused.
 */
int esc_email_validate(const u_char *p, size_t len);


/*
 * Login name: 3-32 bytes of [A-Za-z0-9_.-], starting with a letter.
 * Usernames are compared case-insensitively by the module (store them
 * lower-cased); this function accepts either case.
 */
int esc_username_validate(const u_char *p, size_t len);


/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
 * above U+10FFFF, no truncated sequences.  NUL is valid UTF-8 here; the
 * text validators below refuse it.
 */
int esc_utf8_validate(const u_char *p, size_t len);

/*
 * Number of code points in p, or -1 when p is not strict UTF-8.
 */
ssize_t esc_utf8_length(const u_char *p, size_t len);

/*
 * Decodes one code point at p (at most len bytes).  Returns its length in
 * bytes (1-4) and stores it in *cp, or returns 0 for an invalid or
 * truncated sequence (len == 0 included).
 */
size_t esc_utf8_decode(const u_char *p, size_t len, uint32_t *cp);

/*
 * Single-line display text: strict UTF-8, min_chars..max_chars code
 * points, no control characters (C0, DEL, C1, U+2028/9), no leading or
 * trailing white space.  The building block of the field validators below.
 */
int esc_text_validate(const u_char *p, size_t len, size_t min_chars,
    size_t max_chars);

/* Field limits, in code points. */
#define ESC_REAL_NAME_MAX         64
#define ESC_INSTITUTION_NAME_MAX  128
#define ESC_DEPARTMENT_MAX        64
#define ESC_TITLE_MAX             200
#define ESC_REASON_MAX            500
#define ESC_CONTRACT_NUMBER_MAX   64
#define ESC_CONTRACT_VERSION_MAX  32

/* Real name of a person: display text of 1-64 code points. */
int esc_real_name_validate(const u_char *p, size_t len);

/* Institution name: display text of 2-128 code points. */
int esc_institution_name_validate(const u_char *p, size_t len);

/* Contract title: display text of 1-200 code points. */
int esc_title_validate(const u_char *p, size_t len);

/* Reject/revoke/deregistration reason: display text of 1-500 points. */
int esc_reason_validate(const u_char *p, size_t len);

/*
 * Department name: display text of 1-64 code points without '/', '\\'
 * or '*' (department names become key components and filter values).
 */
int esc_department_validate(const u_char *p, size_t len);

/*
 * Contract number: 1-64 code points of ASCII letters and digits,
 * "-_./#()[]", CJK unified ideographs (U+3400-4DBF, U+4E00-9FFF) and the
 * brackets "（）〔〕【】" used in Chinese document numbers, e.g.
 * "（2024）京银合字第001号" or "HT-2024/001".  No spaces.
 */
int esc_contract_number_validate(const u_char *p, size_t len);

/*
 * Contract version: 1-32 bytes of [A-Za-z0-9._-] starting with a letter
 * or digit, e.g. "v1.2", "2024-01".
 */
int esc_contract_version_validate(const u_char *p, size_t len);


#endif /* ESC_VALIDATE_H */
