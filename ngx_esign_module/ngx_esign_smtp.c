/*
 * A minimal blocking SMTP client (RFC 5321) for the notification outbox,
 * run in pool threads, never on the event loop.
 */


#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ngx_esign_smtp.h"
#include "esc_codec.h"
#include "esc_rand.h"


#define ESIGN_SMTP_LINE_MAX   1024
#define ESIGN_SMTP_BODY_MAX   (256 * 1024)


typedef struct {
    int          fd;
    int          timeout_ms;
    char         buf[ESIGN_SMTP_LINE_MAX * 4];
    size_t       len;
} esign_smtp_conn_t;


static void esign_smtp_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int esign_smtp_reply(esign_smtp_conn_t *c, char *err, size_t errlen);
static int esign_smtp_cmd(esign_smtp_conn_t *c, const char *cmd, int want,
    const char *step, char *err, size_t errlen);
static int esign_smtp_safe(const char *s, int addr);
static char *esign_smtp_message(const char *from, const char *to,
    const char *subject, const char *body, size_t *len);


static void
esign_smtp_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  ap;

    if (err == NULL || errlen == 0) {
        return;
    }

    va_start(ap, fmt);
    (void) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}


int
esign_sock_connect(const char *host, unsigned port, int timeout_ms,
    char *err, size_t errlen)
{
    int               fd, rc, soerr;
    char              portstr[8];
    socklen_t         sl;
    struct pollfd     pfd;
    struct addrinfo   hints, *res, *ai;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    (void) snprintf(portstr, sizeof(portstr), "%u", port);

    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        esign_smtp_err(err, errlen, "cannot resolve the server: %s",
                       gai_strerror(rc));
        return -1;
    }

    fd = -1;
    soerr = 0;

    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC
                                   | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd == -1) {
            soerr = errno;
            continue;
        }

        rc = connect(fd, ai->ai_addr, ai->ai_addrlen);

        if (rc == -1 && errno == EINPROGRESS) {
            pfd.fd = fd;
            pfd.events = POLLOUT;

            do {
                rc = poll(&pfd, 1, timeout_ms);
            } while (rc == -1 && errno == EINTR);

            if (rc == 1) {
                sl = sizeof(soerr);
                soerr = 0;
                rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                rc = (rc == 0 && soerr == 0) ? 0 : -1;

            } else {
                soerr = (rc == 0) ? ETIMEDOUT : errno;
                rc = -1;
            }

        } else if (rc == -1) {
            soerr = errno;
        }

        if (rc == 0) {
            break;
        }

        close(fd);
        fd = -1;
    }

    freeaddrinfo(res);

    if (fd == -1) {
        esign_smtp_err(err, errlen, "connect failed: %s", strerror(soerr));
    }

    return fd;
}


int
esign_sock_write(int fd, const char *buf, size_t len, int timeout_ms)
{
    int            rc;
    ssize_t        n;
    struct pollfd  pfd;

    while (len > 0) {
        n = send(fd, buf, len, MSG_NOSIGNAL);

        if (n > 0) {
            buf += n;
            len -= n;
            continue;
        }

        if (n == -1 && errno != EAGAIN && errno != EINTR) {
            return -1;
        }

        pfd.fd = fd;
        pfd.events = POLLOUT;

        do {
            rc = poll(&pfd, 1, timeout_ms);
        } while (rc == -1 && errno == EINTR);

        if (rc != 1) {
            errno = (rc == 0) ? ETIMEDOUT : errno;
            return -1;
        }
    }

    return 0;
}


long
esign_sock_read(int fd, char *buf, size_t len, int timeout_ms)
{
    int            rc;
    ssize_t        n;
    struct pollfd  pfd;

    for ( ;; ) {
        n = recv(fd, buf, len, 0);

        if (n >= 0) {
            return n;
        }

        if (errno != EAGAIN && errno != EINTR) {
            return -1;
        }

        pfd.fd = fd;
        pfd.events = POLLIN;

        do {
            rc = poll(&pfd, 1, timeout_ms);
        } while (rc == -1 && errno == EINTR);

        if (rc != 1) {
            errno = (rc == 0) ? ETIMEDOUT : errno;
            return -1;
        }
    }
}


/*
 * Reads one (possibly multi-line) reply; returns its code (100..599) or
 * -1.  A line longer than the buffer is a broken server.
 */
static int
esign_smtp_reply(esign_smtp_conn_t *c, char *err, size_t errlen)
{
    int     code;
    long    n;
    char   *nl;
    size_t  linelen;

    for ( ;; ) {
        nl = memchr(c->buf, '\n', c->len);

        if (nl == NULL) {
            if (c->len == sizeof(c->buf)) {
                esign_smtp_err(err, errlen, "reply line too long");
                return -1;
            }

            n = esign_sock_read(c->fd, c->buf + c->len,
                                sizeof(c->buf) - c->len, c->timeout_ms);
            if (n <= 0) {
                esign_smtp_err(err, errlen, "server closed or timed out: %s",
                               n == 0 ? "eof" : strerror(errno));
                return -1;
            }

            c->len += n;
            continue;
        }

        linelen = nl - c->buf + 1;

        if (linelen < 4 || c->buf[0] < '1' || c->buf[0] > '5'
            || c->buf[1] < '0' || c->buf[1] > '9'
            || c->buf[2] < '0' || c->buf[2] > '9')
        {
            esign_smtp_err(err, errlen, "malformed reply");
            return -1;
        }

        code = (c->buf[0] - '0') * 100 + (c->buf[1] - '0') * 10
               + (c->buf[2] - '0');

        /* "250-..." continues, "250 ..." (or a bare "250") ends */
        n = (c->buf[3] == '-');

        memmove(c->buf, c->buf + linelen, c->len - linelen);
        c->len -= linelen;

        if (!n) {
            return code;
        }
    }
}


static int
esign_smtp_cmd(esign_smtp_conn_t *c, const char *cmd, int want,
    const char *step, char *err, size_t errlen)
{
    int  code;

    if (cmd != NULL
        && esign_sock_write(c->fd, cmd, strlen(cmd), c->timeout_ms) != 0)
    {
        esign_smtp_err(err, errlen, "%s: write failed: %s", step,
                       strerror(errno));
        return ESIGN_SMTP_ETEMP;
    }

    code = esign_smtp_reply(c, err, errlen);

    if (code == -1) {
        return ESIGN_SMTP_ETEMP;
    }

    if (code / 100 != want) {
        esign_smtp_err(err, errlen, "%s: server answered %d", step, code);
        return code >= 500 ? ESIGN_SMTP_EPERM : ESIGN_SMTP_ETEMP;
    }

    return ESIGN_SMTP_OK;
}


/* No control characters; addresses also no '<', '>', spaces. */
static int
esign_smtp_safe(const char *s, int addr)
{
    const unsigned char  *p;

    for (p = (const unsigned char *) s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return 0;
        }

        if (addr && (*p == '<' || *p == '>' || *p == ' ' || *p >= 0x80)) {
            return 0;
        }
    }

    return p != (const unsigned char *) s && p - (const unsigned char *) s
                                             < 512;
}


/* The DATA payload: headers, body in CRLF lines, dot-stuffed, "." end. */
static char *
esign_smtp_message(const char *from, const char *to, const char *subject,
    const char *body, size_t *len)
{
    int          ascii;
    char        *msg, *p, *subj, date[64], id[ESC_RAND_ID_LEN + 1];
    size_t       blen, slen, cap;
    time_t       now;
    struct tm    tm;
    const char  *s;

    slen = strlen(subject);
    blen = strlen(body);

    if (blen > ESIGN_SMTP_BODY_MAX) {
        return NULL;
    }

    ascii = 1;

    for (s = subject; *s != '\0'; s++) {
        if ((unsigned char) *s >= 0x80) {
            ascii = 0;
            break;
        }
    }

    /* RFC 2047: =?UTF-8?B?...?= for a subject that is not plain ASCII */

    cap = esc_b64_encoded_len(slen, ESC_B64_STD) + 16;
    subj = malloc(cap);
    if (subj == NULL) {
        return NULL;
    }

    if (ascii) {
        memcpy(subj, subject, slen + 1);

    } else {
        memcpy(subj, "=?UTF-8?B?", 10);
        if (esc_b64_encode(subj + 10, cap - 10, (const uint8_t *) subject,
                           slen, ESC_B64_STD) != 0)
        {
            free(subj);
            return NULL;
        }

        strcat(subj, "?=");
    }

    now = time(NULL);
    (void) gmtime_r(&now, &tm);
    (void) strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);

    if (esc_rand_id(id) != 0) {
        free(subj);
        return NULL;
    }

    /* every body byte may become "\r\n." at worst: 3x */
    cap = 1024 + strlen(from) + strlen(to) + strlen(subj) + 3 * blen;

    msg = malloc(cap);
    if (msg == NULL) {
        free(subj);
        return NULL;
    }

    p = msg + snprintf(msg, cap,
                       "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n"
                       "Date: %s\r\nMessage-ID: <%s@esign>\r\n"
                       "MIME-Version: 1.0\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\n"
                       "Content-Transfer-Encoding: 8bit\r\n"
                       "Auto-Submitted: auto-generated\r\n\r\n",
                       from, to, subj, date, id);
    free(subj);

    /* body: LF or CRLF to CRLF, a leading '.' doubled */

    for (s = body; *s != '\0'; ) {
        if (*s == '.') {
            *p++ = '.';
        }

        while (*s != '\0' && *s != '\n') {
            if (*s != '\r') {
                *p++ = *s;
            }

            s++;
        }

        *p++ = '\r';
        *p++ = '\n';

        if (*s == '\n') {
            s++;
        }
    }

    memcpy(p, ".\r\n", 3);
    p += 3;

    *len = p - msg;

    return msg;
}


int
esign_smtp_send(const esign_smtp_server_t *srv, const char *from,
    const char *to, const char *subject, const char *body, char *err,
    size_t errlen)
{
    int                 rc;
    char               *msg, cmd[600];
    size_t              len;
    esign_smtp_conn_t  *c;

    if (!esign_smtp_safe(from, 1) || !esign_smtp_safe(to, 1)
        || !esign_smtp_safe(subject, 0))
    {
        esign_smtp_err(err, errlen, "unusable address or subject");
        return ESIGN_SMTP_EPERM;
    }

    msg = esign_smtp_message(from, to, subject, body, &len);
    if (msg == NULL) {
        esign_smtp_err(err, errlen, "cannot build the message");
        return ESIGN_SMTP_EPERM;
    }

    c = calloc(1, sizeof(esign_smtp_conn_t));
    if (c == NULL) {
        free(msg);
        esign_smtp_err(err, errlen, "out of memory");
        return ESIGN_SMTP_ETEMP;
    }

    c->timeout_ms = srv->timeout_ms > 0 ? srv->timeout_ms : 10000;
    c->fd = esign_sock_connect(srv->host, srv->port, c->timeout_ms, err,
                               errlen);
    if (c->fd == -1) {
        free(msg);
        free(c);
        return ESIGN_SMTP_ETEMP;
    }

    rc = esign_smtp_cmd(c, NULL, 2, "greeting", err, errlen);
    if (rc != ESIGN_SMTP_OK) {
        goto done;
    }

    (void) snprintf(cmd, sizeof(cmd), "EHLO %s\r\n",
                    srv->helo ? srv->helo : "localhost");

    rc = esign_smtp_cmd(c, cmd, 2, "EHLO", err, errlen);
    if (rc != ESIGN_SMTP_OK) {
        goto done;
    }

    (void) snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>\r\n", from);

    rc = esign_smtp_cmd(c, cmd, 2, "MAIL FROM", err, errlen);
    if (rc != ESIGN_SMTP_OK) {
        goto done;
    }

    (void) snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", to);

    rc = esign_smtp_cmd(c, cmd, 2, "RCPT TO", err, errlen);
    if (rc != ESIGN_SMTP_OK) {
        goto done;
    }

    rc = esign_smtp_cmd(c, "DATA\r\n", 3, "DATA", err, errlen);
    if (rc != ESIGN_SMTP_OK) {
        goto done;
    }

    if (esign_sock_write(c->fd, msg, len, c->timeout_ms) != 0) {
        esign_smtp_err(err, errlen, "message: write failed: %s",
                       strerror(errno));
        rc = ESIGN_SMTP_ETEMP;
        goto done;
    }

    rc = esign_smtp_cmd(c, NULL, 2, "end of data", err, errlen);
    if (rc != ESIGN_SMTP_OK) {
        goto done;
    }

    /* the message is accepted; a failing QUIT changes nothing */
    (void) esign_smtp_cmd(c, "QUIT\r\n", 2, "QUIT", NULL, 0);

done:

    close(c->fd);
    free(c);
    free(msg);

    return rc;
}
