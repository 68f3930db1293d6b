/*
 * A minimal blocking HTTP/1.1 client (POST of JSON, status check) for the
 * SMS gateway, run in pool threads, never on the event loop.
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ngx_esign_httpc.h"
#include "ngx_esign_smtp.h"


int
esign_httpc_parse_status(const char *buf, size_t len)
{
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0
        || (buf[7] != '0' && buf[7] != '1') || buf[8] != ' '
        || buf[9] < '1' || buf[9] > '5'
        || buf[10] < '0' || buf[10] > '9'
        || buf[11] < '0' || buf[11] > '9')
    {
        return -1;
    }

    if (len > 12 && buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n') {
        return -1;
    }

    return (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
}


int
esign_httpc_post_json(const esign_httpc_target_t *t, const char *body,
    size_t len, int *status, char *err, size_t errlen)
{
    int          fd, code, timeout;
    long         n;
    char         head[1024], resp[512];
    size_t       got;
    const char  *p;

    if (status != NULL) {
        *status = 0;
    }

    for (p = t->path; *p != '\0'; p++) {
        if ((unsigned char) *p <= 0x20 || *p == 0x7f) {
            (void) snprintf(err, errlen, "unusable gateway path");
            return ESIGN_HTTPC_EPERM;
        }
    }

    timeout = t->timeout_ms > 0 ? t->timeout_ms : 10000;

    n = snprintf(head, sizeof(head),
                 "POST %s HTTP/1.1\r\nHost: %s:%u\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n"
                 "User-Agent: esign-outbox\r\n\r\n",
                 t->path, t->host, t->port, len);

    if (n < 0 || (size_t) n >= sizeof(head)) {
        (void) snprintf(err, errlen, "gateway path too long");
        return ESIGN_HTTPC_EPERM;
    }

    fd = esign_sock_connect(t->host, t->port, timeout, err, errlen);
    if (fd == -1) {
        return ESIGN_HTTPC_ETEMP;
    }

    if (esign_sock_write(fd, head, n, timeout) != 0
        || esign_sock_write(fd, body, len, timeout) != 0)
    {
        (void) snprintf(err, errlen, "write failed: %s", strerror(errno));
        close(fd);
        return ESIGN_HTTPC_ETEMP;
    }

    /* the status line is all we need */

    got = 0;

    while (got < sizeof(resp) && memchr(resp, '\n', got) == NULL) {
        n = esign_sock_read(fd, resp + got, sizeof(resp) - got, timeout);
        if (n <= 0) {
            break;
        }

        got += n;
    }

    close(fd);

    code = esign_httpc_parse_status(resp, got);

    if (code == -1) {
        (void) snprintf(err, errlen, "no valid HTTP status from the gateway");
        return ESIGN_HTTPC_ETEMP;
    }

    if (status != NULL) {
        *status = code;
    }

    if (code / 100 == 2) {
        return ESIGN_HTTPC_OK;
    }

    (void) snprintf(err, errlen, "gateway answered %d", code);

    return (code >= 500 || code == 429 || code == 408)
           ? ESIGN_HTTPC_ETEMP : ESIGN_HTTPC_EPERM;
}
