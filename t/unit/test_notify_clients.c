/*
 * Unit test of the outbox's blocking clients (R-NOTE-1, R-NOTE-2): the
 * SMTP client against a scripted SMTP server in a child process (dialogue,
 * CRLF and dot-stuffing, RFC 2047 subject, 4xx/5xx mapping, refused
 * connection, header injection, timeouts), and the HTTP client against a
 * scripted HTTP server (2xx, 5xx, 4xx, garbage).
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "ngx_esign_smtp.h"
#include "ngx_esign_httpc.h"


static int
listener(unsigned *port)
{
    int                 fd, one;
    socklen_t           sl;
    struct sockaddr_in  sin;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    one = 1;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) != 0
        || listen(fd, 4) != 0)
    {
        perror("bind");
        exit(1);
    }

    sl = sizeof(sin);
    (void) getsockopt(fd, SOL_SOCKET, SO_TYPE, &one, &sl);
    sl = sizeof(sin);
    (void) getsockname(fd, (struct sockaddr *) &sin, &sl);
    *port = ntohs(sin.sin_port);

    return fd;
}


static int
read_line(FILE *in, char *buf, size_t size)
{
    return fgets(buf, (int) size, in) != NULL;
}


/*
 * A scripted SMTP server for one connection: answers "rcpt_code" to RCPT
 * TO, writes everything received to "out".  mode 1: says nothing (for the
 * timeout test).
 */
static pid_t
smtp_server(int lfd, const char *out, int rcpt_code, int mode)
{
    int     c;
    char    line[2048];
    FILE   *in, *rec;
    pid_t   pid;

    pid = fork();
    if (pid != 0) {
        return pid;
    }

    c = accept(lfd, NULL, NULL);
    if (mode == 1) {
        sleep(3);
        _exit(0);
    }

    in = fdopen(c, "r+");
    rec = fopen(out, "w");

    fprintf(in, "220 test ESMTP\r\n");
    fflush(in);

    while (read_line(in, line, sizeof(line))) {
        fputs(line, rec);

        if (strncmp(line, "EHLO", 4) == 0) {
            fprintf(in, "250-test\r\n250-8BITMIME\r\n250 SIZE 100000\r\n");

        } else if (strncmp(line, "MAIL FROM", 9) == 0) {
            fprintf(in, "250 ok\r\n");

        } else if (strncmp(line, "RCPT TO", 7) == 0) {
            fprintf(in, "%d rcpt\r\n", rcpt_code);

        } else if (strncmp(line, "DATA", 4) == 0) {
            fprintf(in, "354 go\r\n");
            fflush(in);

            while (read_line(in, line, sizeof(line))) {
                fputs(line, rec);
                if (strcmp(line, ".\r\n") == 0) {
                    break;
                }
            }

            fprintf(in, "250 queued\r\n");

        } else if (strncmp(line, "QUIT", 4) == 0) {
            fprintf(in, "221 bye\r\n");
            fflush(in);
            break;

        } else {
            fprintf(in, "500 what\r\n");
        }

        fflush(in);
    }

    fclose(rec);
    fclose(in);
    _exit(0);
}


static char *
slurp(const char *path)
{
    long   n;
    char  *s;
    FILE  *f;

    f = fopen(path, "r");
    if (f == NULL) {
        return strdup("");
    }

    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s = calloc(1, n + 1);
    if (fread(s, 1, n, f) != (size_t) n) {
        s[0] = '\0';
    }

    fclose(f);

    return s;
}


/* A scripted HTTP server for one request: answers "status_line". */
static pid_t
http_server(int lfd, const char *out, const char *status_line)
{
    int     c;
    long    n;
    char    buf[8192];
    FILE   *rec;
    pid_t   pid;
    size_t  got;

    pid = fork();
    if (pid != 0) {
        return pid;
    }

    c = accept(lfd, NULL, NULL);
    got = 0;

    /* headers and a short body arrive quickly; read until quiet */
    for ( ;; ) {
        struct timeval  tv = { 0, 300000 };

        (void) setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        n = read(c, buf + got, sizeof(buf) - 1 - got);
        if (n <= 0) {
            break;
        }

        got += n;
    }

    buf[got] = '\0';
    rec = fopen(out, "w");
    fputs(buf, rec);
    fclose(rec);

    if (write(c, status_line, strlen(status_line)) < 0) {
        _exit(1);
    }

    close(c);
    _exit(0);
}


int
main(void)
{
    int                   lfd, rc, status;
    char                 *got, err[160], path[] = "/tmp/esign-unit-XXXXXX";
    pid_t                 pid;
    time_t                t0;
    unsigned              port;
    esign_smtp_server_t   srv;
    esign_httpc_target_t  t;

    signal(SIGPIPE, SIG_IGN);

    if (mkdtemp(path) == NULL) {
        return 1;
    }

    strcat(path, "/rec");

    /* a message goes through the whole dialogue */

    lfd = listener(&port);
    pid = smtp_server(lfd, path, 250, 0);

    srv.host = "127.0.0.1";
    srv.port = port;
    srv.timeout_ms = 2000;
    srv.helo = "esign";

    rc = esign_smtp_send(&srv, "esign@example.org", "zhang@example.com",
                         "Contract to sign",
                         "line one\n.starts with a dot\nlink "
                         "https://x/api/v1/links/abc\n",
                         err, sizeof(err));
    waitpid(pid, NULL, 0);
    close(lfd);

    is_int(rc, ESIGN_SMTP_OK, "R-NOTE-1 SMTP message accepted (%s)", err);

    got = slurp(path);
    ok(strstr(got, "EHLO esign\r\n") != NULL, "EHLO sent");
    ok(strstr(got, "MAIL FROM:<esign@example.org>\r\n") != NULL,
       "MAIL FROM sent");
    ok(strstr(got, "RCPT TO:<zhang@example.com>\r\n") != NULL,
       "RCPT TO sent");
    ok(strstr(got, "Subject: Contract to sign\r\n") != NULL,
       "ASCII subject as is");
    ok(strstr(got, "\r\n..starts with a dot\r\n") != NULL,
       "a leading dot is doubled");
    ok(strstr(got, "line one\r\n") != NULL, "LF becomes CRLF");
    ok(strstr(got, "https://x/api/v1/links/abc") != NULL, "body carried");
    ok(strstr(got, "QUIT\r\n") != NULL, "QUIT sent");
    free(got);

    /* a UTF-8 subject is RFC 2047 encoded */

    lfd = listener(&port);
    pid = smtp_server(lfd, path, 250, 0);
    srv.port = port;

    rc = esign_smtp_send(&srv, "esign@example.org", "li@example.com",
                         "\xe5\x90\x88\xe5\x90\x8c", "body", err,
                         sizeof(err));
    waitpid(pid, NULL, 0);
    close(lfd);

    got = slurp(path);
    is_int(rc, ESIGN_SMTP_OK, "UTF-8 subject message accepted");
    ok(strstr(got, "Subject: =?UTF-8?B?5ZCI5ZCM?=\r\n") != NULL,
       "UTF-8 subject encoded");
    free(got);

    /* refusals */

    lfd = listener(&port);
    pid = smtp_server(lfd, path, 550, 0);
    srv.port = port;

    rc = esign_smtp_send(&srv, "esign@example.org", "no@example.com", "s",
                         "b", err, sizeof(err));
    waitpid(pid, NULL, 0);
    close(lfd);

    is_int(rc, ESIGN_SMTP_EPERM, "5xx at RCPT TO is permanent");
    ok(strstr(err, "550") != NULL && strstr(err, "no@") == NULL,
       "the reason names the code, not the address (%s)", err);

    lfd = listener(&port);
    pid = smtp_server(lfd, path, 451, 0);
    srv.port = port;

    rc = esign_smtp_send(&srv, "esign@example.org", "no@example.com", "s",
                         "b", err, sizeof(err));
    waitpid(pid, NULL, 0);
    close(lfd);

    is_int(rc, ESIGN_SMTP_ETEMP, "4xx at RCPT TO is temporary");

    /* nobody listens */

    lfd = listener(&port);
    close(lfd);
    srv.port = port;

    rc = esign_smtp_send(&srv, "esign@example.org", "no@example.com", "s",
                         "b", err, sizeof(err));
    is_int(rc, ESIGN_SMTP_ETEMP, "refused connection is temporary");

    /* header injection */

    rc = esign_smtp_send(&srv, "esign@example.org",
                         "a@example.com>\r\nRCPT TO:<b@example.com",
                         "s", "b", err, sizeof(err));
    is_int(rc, ESIGN_SMTP_EPERM, "CR LF in an address refused");

    rc = esign_smtp_send(&srv, "esign@example.org", "a@example.com",
                         "s\r\nBcc: b@example.com", "b", err, sizeof(err));
    is_int(rc, ESIGN_SMTP_EPERM, "CR LF in a subject refused");

    /* a silent server times out within the deadline */

    lfd = listener(&port);
    pid = smtp_server(lfd, path, 250, 1);
    srv.port = port;
    srv.timeout_ms = 500;

    t0 = time(NULL);
    rc = esign_smtp_send(&srv, "esign@example.org", "a@example.com", "s",
                         "b", err, sizeof(err));
    is_int(rc, ESIGN_SMTP_ETEMP, "silent server: temporary failure");
    ok(time(NULL) - t0 <= 2, "silent server: gave up after the timeout");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(lfd);

    /* HTTP client */

    is_int(esign_httpc_parse_status("HTTP/1.1 204 No Content\r\n", 25), 204,
           "status line parsed");
    is_int(esign_httpc_parse_status("HTTP/1.1 2000 x\r\n", 17), -1,
           "4-digit status refused");
    is_int(esign_httpc_parse_status("ICY 200 OK\r\n", 12), -1,
           "non-HTTP refused");

    t.host = "127.0.0.1";
    t.path = "/sms/send";
    t.timeout_ms = 2000;

    lfd = listener(&port);
    pid = http_server(lfd, path, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                                 "\r\n");
    t.port = port;

    rc = esign_httpc_post_json(&t, "{\"to\":\"13812345678\"}", 20, &status,
                               err, sizeof(err));
    waitpid(pid, NULL, 0);
    close(lfd);

    is_int(rc, ESIGN_HTTPC_OK, "R-NOTE-2 SMS gateway 200 accepted");
    is_int(status, 200, "status reported");
    got = slurp(path);
    ok(strncmp(got, "POST /sms/send HTTP/1.1\r\n", 25) == 0, "POST line");
    ok(strstr(got, "Content-Type: application/json\r\n") != NULL,
       "JSON content type");
    ok(strstr(got, "Content-Length: 20\r\n") != NULL, "content length");
    ok(strstr(got, "\r\n\r\n{\"to\":\"13812345678\"}") != NULL, "body sent");
    free(got);

    lfd = listener(&port);
    pid = http_server(lfd, path, "HTTP/1.1 503 Busy\r\n\r\n");
    t.port = port;
    rc = esign_httpc_post_json(&t, "{}", 2, &status, err, sizeof(err));
    waitpid(pid, NULL, 0);
    close(lfd);
    is_int(rc, ESIGN_HTTPC_ETEMP, "503 is temporary");

    lfd = listener(&port);
    pid = http_server(lfd, path, "HTTP/1.1 400 Bad\r\n\r\n");
    t.port = port;
    rc = esign_httpc_post_json(&t, "{}", 2, &status, err, sizeof(err));
    waitpid(pid, NULL, 0);
    close(lfd);
    is_int(rc, ESIGN_HTTPC_EPERM, "400 is permanent");

    lfd = listener(&port);
    pid = http_server(lfd, path, "garbage\r\n\r\n");
    t.port = port;
    rc = esign_httpc_post_json(&t, "{}", 2, &status, err, sizeof(err));
    waitpid(pid, NULL, 0);
    close(lfd);
    is_int(rc, ESIGN_HTTPC_ETEMP, "garbage answer is temporary");

    unlink(path);
    *strrchr(path, '/') = '\0';
    rmdir(path);

    return tap_done();
}
