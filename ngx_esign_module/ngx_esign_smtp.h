/*
 * A minimal blocking SMTP client for the notification outbox: one message
 * per connection (EHLO, MAIL FROM, RCPT TO, DATA, QUIT) with a deadline on
 * every step.  Plain C (no nginx types): it runs in a pool thread.  It
 * also holds the tiny blocking-socket helpers the HTTP client shares.
 */

#ifndef _NGX_ESIGN_SMTP_H_INCLUDED_
#define _NGX_ESIGN_SMTP_H_INCLUDED_


#include <stddef.h>


#define ESIGN_SMTP_OK       0
#define ESIGN_SMTP_ETEMP   -1     /* network, timeout, 4xx: try again */
#define ESIGN_SMTP_EPERM   -2     /* 5xx or unusable input: give up */


typedef struct {
    const char  *host;            /* name or address of the relay */
    unsigned     port;
    int          timeout_ms;      /* per connect, per read, per write */
    const char  *helo;            /* EHLO name; "localhost" when NULL */
} esign_smtp_server_t;


/*
 * Sends one text/plain UTF-8 message.  from, to: bare addresses (no
 * CR, LF, '<', '>'); subject: one line of UTF-8 (encoded as RFC 2047 when
 * not ASCII); body: UTF-8 text, any line endings (sent as CRLF, dot-
 * stuffed).  On failure err receives a short reason that names no
 * address (it ends up in logs and in the operator view).
 */
int esign_smtp_send(const esign_smtp_server_t *srv, const char *from,
    const char *to, const char *subject, const char *body, char *err,
    size_t errlen);


/* Blocking socket helpers shared with ngx_esign_httpc.c. */

/* Connects within timeout_ms; -1 and err on failure. */
int esign_sock_connect(const char *host, unsigned port, int timeout_ms,
    char *err, size_t errlen);

/* Writes all of buf; 0 or -1. */
int esign_sock_write(int fd, const char *buf, size_t len, int timeout_ms);

/* Reads what is there (at most len), waiting up to timeout_ms; 0 on EOF. */
long esign_sock_read(int fd, char *buf, size_t len, int timeout_ms);


#endif /* _NGX_ESIGN_SMTP_H_INCLUDED_ */
