/*
 * A minimal blocking HTTP/1.1 client for the SMS gateway: one POST of a
 * JSON body per connection, status line checked.  Plain C (no nginx
 * types): it runs in a pool thread.
 */

#ifndef _NGX_ESIGN_HTTPC_H_INCLUDED_
#define _NGX_ESIGN_HTTPC_H_INCLUDED_


#include <stddef.h>


#define ESIGN_HTTPC_OK       0
#define ESIGN_HTTPC_ETEMP   -1    /* network, timeout, 5xx, 429: retry */
#define ESIGN_HTTPC_EPERM   -2    /* other 4xx or unusable input */


typedef struct {
    const char  *host;            /* name or address */
    unsigned     port;
    const char  *path;            /* "/sms" */
    int          timeout_ms;
} esign_httpc_target_t;


/*
 * POSTs body as application/json; *status (may be NULL) receives the
 * HTTP status or 0.  ESIGN_HTTPC_OK for 2xx.  err gets a short reason
 * that carries no part of the body.
 */
int esign_httpc_post_json(const esign_httpc_target_t *t, const char *body,
    size_t len, int *status, char *err, size_t errlen);

/* Parses "HTTP/1.x NNN ..." at the start of buf; the status or -1. */
int esign_httpc_parse_status(const char *buf, size_t len);


#endif /* _NGX_ESIGN_HTTPC_H_INCLUDED_ */
