/*
 * loadgen: replays prepared HTTPS requests against one server and reports
 * throughput and latency percentiles.  Used by bench/confirm.sh, where
 * every request is different (its own contract and single-use
 * verification token), which wrk cannot replay, and where the target
 * also needs an open-loop run at a fixed rate (wrk only runs closed
 * loop).
 *
 *   loadgen -p PORT [-c CONNECTIONS] [-r RATE] FILE
 *
 * FILE holds records "<decimal length>\n<length bytes of a complete
 * HTTP/1.1 request>".  Each record is sent exactly once, over one of the
 * keep-alive TLS connections.  Without -r the run is closed loop: every
 * connection sends its next request as soon as the last one is answered.
 * With -r RATE request i is due at start + i / RATE and its latency is
 * measured from that due time, so a stalled server is not hidden by the
 * client waiting for it (no coordinated omission).
 *
 * Output, one line: requests, 2xx, other status, failures, seconds,
 * requests/s, p50, p90, p99 and max latency in ms.  Exit status 1 when
 * any request got no answer.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>


static FILE    *trace;
static double   trace_t0;


typedef struct {
    const char  *data;
    size_t       len;
    double       due;            /* open loop: scheduled start */
} req_t;

typedef struct {
    int          fd;
    SSL         *ssl;
    int          connected;
    long         cur;            /* request index, -1: idle */
    size_t       sent;
    double       start;
    char         buf[65536];
    size_t       have;
} conn_t;


static req_t    *reqs;
static long      nreqs, next_req, done_reqs, nlat, ok2xx, other, failed;
static double   *lat;
static int       port, rate;
static SSL_CTX  *sslctx;
static int       ep;


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void
die(const char *what)
{
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(2);
}


static void
load(const char *path)
{
    int          fd;
    char        *p, *end, *nl;
    long         cap;
    size_t       len;
    struct stat  st;

    fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &st) != 0) {
        die(path);
    }

    p = malloc(st.st_size + 1);
    if (p == NULL || read(fd, p, st.st_size) != st.st_size) {
        die("read");
    }

    close(fd);
    end = p + st.st_size;
    cap = 1024;
    reqs = malloc(cap * sizeof(req_t));
    if (reqs == NULL) {
        die("malloc");
    }

    while (p < end) {
        nl = memchr(p, '\n', end - p);
        if (nl == NULL) {
            break;
        }

        len = strtoul(p, NULL, 10);
        p = nl + 1;

        if (len == 0 || len > (size_t) (end - p)) {
            fprintf(stderr, "loadgen: malformed record %ld\n", nreqs);
            exit(2);
        }

        if (nreqs == cap) {
            cap *= 2;
            reqs = realloc(reqs, cap * sizeof(req_t));
            if (reqs == NULL) {
                die("realloc");
            }
        }

        reqs[nreqs].data = p;
        reqs[nreqs].len = len;
        nreqs++;
        p += len;
    }

    if (reqs == NULL || nreqs == 0) {
        fprintf(stderr, "loadgen: no requests in %s\n", path);
        exit(2);
    }

    lat = calloc(nreqs, sizeof(double));
    if (lat == NULL) {
        die("calloc");
    }
}


static void
conn_open(conn_t *c)
{
    int                 one = 1;
    struct sockaddr_in  sin;
    struct epoll_event  ev;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) {
        die("socket");
    }

    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (connect(c->fd, (struct sockaddr *) &sin, sizeof(sin)) != 0
        && errno != EINPROGRESS)
    {
        die("connect");
    }

    c->ssl = SSL_new(sslctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_connect_state(c->ssl);
    c->connected = 0;
    c->cur = -1;
    c->have = 0;

    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.ptr = c;

    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        die("epoll_ctl");
    }
}


static void
conn_reopen(conn_t *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    SSL_free(c->ssl);
    close(c->fd);
    conn_open(c);
}


/* Whether the response head (first rlen bytes) has the header line. */
static int
header_has(conn_t *c, long rlen, const char *line)
{
    char  *p, *end;

    end = memmem(c->buf, rlen, "\r\n\r\n", 4);
    p = strcasestr(c->buf, line);

    return p != NULL && end != NULL && p < end;
}


/* A complete response in c->buf: its length, 0 if not yet, -1 if bad. */
static long
response_len(conn_t *c, int *status)
{
    char    *hdr_end, *cl;
    size_t   hlen;

    c->buf[c->have < sizeof(c->buf) ? c->have : sizeof(c->buf) - 1] = '\0';

    hdr_end = memmem(c->buf, c->have, "\r\n\r\n", 4);
    if (hdr_end == NULL) {
        return c->have >= sizeof(c->buf) - 1 ? -1 : 0;
    }

    hlen = hdr_end + 4 - c->buf;

    if (c->have < 12 || memcmp(c->buf, "HTTP/1.1 ", 9) != 0) {
        return -1;
    }

    *status = atoi(c->buf + 9);

    cl = strcasestr(c->buf, "\r\ncontent-length:");
    if (cl == NULL || cl > hdr_end) {
        return -1;                  /* the module always sends a length */
    }

    hlen += strtoul(cl + 17, NULL, 10);

    if (hlen >= sizeof(c->buf)) {
        return -1;
    }

    return c->have >= hlen ? (long) hlen : 0;
}


static int
conn_pick(conn_t *c, double t)
{
    if (next_req >= nreqs) {
        return 0;
    }

    if (rate > 0 && reqs[next_req].due > t) {
        return 0;
    }

    c->cur = next_req++;
    c->sent = 0;
    c->start = rate > 0 ? reqs[c->cur].due : t;

    return 1;
}


/* Whether an SSL call that returned n only has to wait for the socket. */
static int
would_block(conn_t *c, int n)
{
    int  err;

    err = SSL_get_error(c->ssl, n);

    return err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE;
}


/* Drives one connection as far as it can go without blocking. */
static void
conn_run(conn_t *c)
{
    int     n, status, close_after;
    long    rlen;
    double  t;

    if (!c->connected) {
        n = SSL_do_handshake(c->ssl);

        if (n != 1) {
            if (would_block(c, n)) {
                return;
            }

            fprintf(stderr, "loadgen: TLS handshake failed\n");
            ERR_print_errors_fp(stderr);
            exit(2);
        }

        c->connected = 1;
    }

    for ( ;; ) {
        if (c->cur < 0 && !conn_pick(c, now())) {
            return;
        }

        while (c->sent < reqs[c->cur].len) {
            n = SSL_write(c->ssl, reqs[c->cur].data + c->sent,
                          reqs[c->cur].len - c->sent);
            if (n <= 0) {
                if (would_block(c, n)) {
                    return;
                }

                goto broken;
            }

            c->sent += n;
        }

        for ( ;; ) {
            rlen = response_len(c, &status);
            if (rlen < 0) {
                goto broken;
            }

            if (rlen > 0) {
                break;
            }

            n = SSL_read(c->ssl, c->buf + c->have,
                         sizeof(c->buf) - 1 - c->have);
            if (n <= 0) {
                if (would_block(c, n)) {
                    return;
                }

                goto broken;
            }

            c->have += n;
        }

        t = now();
        lat[nlat++] = t - c->start;
        done_reqs++;

        if (trace != NULL) {
            fprintf(trace, "%.4f %.2f %d\n", c->start - trace_t0,
                    (t - c->start) * 1000, status);
        }

        if (status >= 200 && status < 300) {
            ok2xx++;

        } else {
            other++;
            if (other <= 3) {
                fprintf(stderr, "loadgen: status %d: %.*s\n", status,
                        (int) (rlen > 300 ? 300 : rlen), c->buf);
            }
        }

        close_after = header_has(c, rlen, "\r\nconnection: close");

        memmove(c->buf, c->buf + rlen, c->have - rlen);
        c->have -= rlen;
        c->cur = -1;

        if (close_after) {
            /* keepalive_requests reached: a new connection, no failure */
            conn_reopen(c);
            return;
        }
    }

broken:

    fprintf(stderr, "loadgen: connection lost during request %ld\n",
            c->cur);
    failed++;
    done_reqs++;
    conn_reopen(c);
}


static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}


int
main(int argc, char **argv)
{
    int                 i, nconn, opt, n, timeout;
    long                k;
    double              t0, t1, t, wait;
    conn_t             *conns;
    struct epoll_event  evs[256];

    nconn = 16;

    while ((opt = getopt(argc, argv, "p:c:r:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'c': nconn = atoi(optarg); break;
        case 'r': rate = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: loadgen -p PORT [-c CONNS] [-r RATE] "
                    "FILE\n");
            return 2;
        }
    }

    if (optind != argc - 1 || port <= 0 || nconn <= 0) {
        fprintf(stderr, "usage: loadgen -p PORT [-c CONNS] [-r RATE] FILE\n");
        return 2;
    }

    load(argv[optind]);

    sslctx = SSL_CTX_new(TLS_client_method());
    if (sslctx == NULL) {
        fprintf(stderr, "loadgen: SSL_CTX_new failed\n");
        return 2;
    }

    SSL_CTX_set_verify(sslctx, SSL_VERIFY_NONE, NULL);

    ep = epoll_create1(0);
    conns = calloc(nconn, sizeof(conn_t));
    if (conns == NULL || ep < 0) {
        die("calloc");
    }

    for (i = 0; i < nconn; i++) {
        conn_open(&conns[i]);
    }

    /* handshakes first: the run measures requests, not TLS set-up */

    for (k = 0; k < 1000; k++) {
        n = 0;
        for (i = 0; i < nconn; i++) {
            if (!conns[i].connected) {
                next_req = nreqs;           /* connect only */
                conn_run(&conns[i]);
                next_req = 0;
            }
            n += conns[i].connected;
        }
        if (n == nconn) {
            break;
        }
        usleep(1000);
    }

    t0 = now();

    /* LOADGEN_TRACE=FILE: "start latency-ms status" per request */
    if (getenv("LOADGEN_TRACE") != NULL) {
        trace = fopen(getenv("LOADGEN_TRACE"), "w");
        if (trace == NULL) {
            die("LOADGEN_TRACE");
        }

        trace_t0 = t0;
    }

    for (k = 0; k < nreqs; k++) {
        reqs[k].due = rate > 0 ? t0 + (double) k / rate : t0;
    }

    for (i = 0; i < nconn; i++) {
        conn_run(&conns[i]);
    }

    while (done_reqs < nreqs) {
        timeout = 100;

        if (rate > 0 && next_req < nreqs) {
            wait = reqs[next_req].due - now();
            timeout = wait <= 0 ? 0 : (int) (wait * 1000) + 1;
            if (timeout > 100) {
                timeout = 100;
            }
        }

        n = epoll_wait(ep, evs, 256, timeout);

        if (n < 0 && errno != EINTR) {
            die("epoll_wait");
        }

        for (i = 0; i < n; i++) {
            conn_run(evs[i].data.ptr);
        }

        if (rate > 0) {
            /* idle connections pick up requests that fell due */
            for (i = 0; i < nconn; i++) {
                if (conns[i].cur < 0) {
                    conn_run(&conns[i]);
                }
            }
        }
    }

    t1 = now();

    qsort(lat, nlat, sizeof(double), cmp_double);

#define PCT(p)  (nlat ? lat[(long) ((p) * (nlat - 1))] * 1000 : 0)

    t = t1 - t0;
    printf("requests %ld 2xx %ld other %ld failed %ld seconds %.3f rate %.1f "
           "p50 %.2f p90 %.2f p99 %.2f max %.2f\n",
           nreqs, ok2xx, other, failed, t, nreqs / t, PCT(0.5), PCT(0.9),
           PCT(0.99), nlat ? lat[nlat - 1] * 1000 : 0);

    if (trace != NULL && fclose(trace) != 0) {
        die("LOADGEN_TRACE");
    }

    return failed ? 1 : 0;
}
