/*
 * Fuzz target: every validator in esc_validate.h and the password policy.
 * Checks memory safety and the documented invariants of accepted input.
 */

#include <stdlib.h>
#include <string.h>

#include "esc_password.h"
#include "esc_validate.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char         c, m[ESC_MOBILE_LEN], *p;
    ssize_t        n;
    esc_id_type_e  t;

    /* an exact-size copy: reads past the end are caught */

    p = malloc(size ? size : 1);
    if (p == NULL) {
        return 0;
    }

    memcpy(p, data, size);

    if (esc_uscc_validate(p, size) == ESC_OK) {
        if (size != 18 || esc_uscc_check_char(p, &c) != ESC_OK
            || c != p[17])
        {
            abort();
        }
    }

    if (esc_resident_id_validate(p, size) == ESC_OK) {
        if (size != 18 || esc_resident_id_check_char(p, &c) != ESC_OK
            || c != p[17])
        {
            abort();
        }
    }

    if (size >= 17) {
        (void) esc_uscc_check_char(p, &c);
        (void) esc_resident_id_check_char(p, &c);
    }

    if (esc_id_type_parse((const char *) p, size, &t) == ESC_OK) {
        if (strlen(esc_id_type_name(t)) != size) {
            abort();
        }
    }

    for (t = ESC_ID_RESIDENT; t <= ESC_ID_OTHER; t++) {
        (void) esc_id_number_validate(t, p, size);
    }

    if (esc_mobile_normalize(p, size, m) == ESC_OK) {
        if (esc_mobile_validate(m, ESC_MOBILE_LEN) != ESC_OK) {
            abort();
        }
    }

    if (esc_email_validate(p, size) == ESC_OK && size > ESC_EMAIL_MAX) {
        abort();
    }

    if (esc_username_validate(p, size) == ESC_OK
        && (size < ESC_USERNAME_MIN || size > ESC_USERNAME_MAX))
    {
        abort();
    }

    n = esc_utf8_length(p, size);
    if ((n >= 0) != (esc_utf8_validate(p, size) == ESC_OK)
        || (n >= 0 && (size_t) n > size))
    {
        abort();
    }

    if (esc_real_name_validate(p, size) == ESC_OK && n < 0) {
        abort();
    }

    (void) esc_institution_name_validate(p, size);
    (void) esc_title_validate(p, size);
    (void) esc_reason_validate(p, size);
    (void) esc_department_validate(p, size);
    (void) esc_contract_number_validate(p, size);
    (void) esc_contract_version_validate(p, size);

    if (esc_password_check(p, size, p, size / 2, 0) == ESC_PW_OK
        && (size > ESC_PASSWORD_MAX_BYTES || size / 2 > 0))
    {
        abort();    /* contains its own first half: never OK */
    }

    (void) esc_password_is_common(p, size);

    free(p);

    return 0;
}
