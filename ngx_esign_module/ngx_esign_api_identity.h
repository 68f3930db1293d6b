/*
 * Shared helpers of the identity API files (registration, accounts,
 * operator review).
 */

#ifndef _NGX_ESIGN_API_IDENTITY_H_INCLUDED_
#define _NGX_ESIGN_API_IDENTITY_H_INCLUDED_


#include "ngx_esign.h"
#include "ngx_esign_pki.h"

#include "esc_pwhash.h"


typedef struct {
    char          *username;       /* lower case */
    u_char        *password;
    size_t         password_len;
    char          *real_name;
    char          *id_type;        /* NULL when not given */
    char          *id_number;
    char          *mobile;         /* national form */
    char          *email;
    const char    *weak_reason;
} ngx_esign_person_t;


/* Validates username, password policy, name, ID, mobile, email. */
ngx_int_t ngx_esign_person_parse(ngx_http_request_t *r, json_t *obj,
    ngx_esign_person_t *p, ngx_uint_t need_id, const char **code,
    const char **msg);

/* Thread side: the account record (hash, encrypted and masked fields). */
json_t *ngx_esign_person_record(ngx_esign_person_t *p,
    const esign_field_keys_t *keys, const esc_scrypt_params_t *params,
    const char *inst_id, const char *account_id, uint64_t now);

json_t *ngx_esign_institution_doc(json_t *inst);


#endif /* _NGX_ESIGN_API_IDENTITY_H_INCLUDED_ */
