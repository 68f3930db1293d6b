/*
 * Common definitions of the nginx-free identity core (libesc): return
 * codes and the string view every API takes.
 */

#ifndef ESC_CORE_H
#define ESC_CORE_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>


/*
 * Return codes.  Functions that can only accept or refuse return ESC_OK
 * or ESC_INVALID; ESC_ERROR is reserved for faults that are not the
 * caller's input (OpenSSL or allocation failure) and maps to a 5xx.
 */
#define ESC_OK         0
#define ESC_INVALID   -1     /* the input is malformed or refused */
#define ESC_ERROR     -2     /* internal failure, not the client's fault */
#define ESC_CONFLICT  -3     /* the action is not allowed in this state */
#define ESC_NOSPACE   -4     /* the caller's output buffer is too small */


/*
 * A borrowed byte string.  Same field order as ngx_str_t, so the module
 * fills it with { s.len, s.data }.  Never owns its bytes; data may be
 * NULL when len is 0.
 */
typedef struct {
    size_t          len;
    const u_char   *data;
} esc_str_t;


#define esc_string(s)  { sizeof(s) - 1, (const u_char *) (s) }
#define esc_null_string  { 0, NULL }


#endif /* ESC_CORE_H */
