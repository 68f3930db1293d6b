/*
 * Minimal TAP producer shared by every C unit test of the project
 * (ledger/, ngx_esign_module/core/).  Header-only; prove reads the output.
 */

#ifndef ESIGN_TAP_H
#define ESIGN_TAP_H

#include <stdio.h>
#include <string.h>

static int  tap_n;
static int  tap_failed;

#define ok(cond, ...)                                                        \
    tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                               \
    do {                                                                     \
        long long  g_ = (long long) (got), w_ = (long long) (want);          \
        if (!tap_ok(g_ == w_, __FILE__, __LINE__, __VA_ARGS__)) {            \
            printf("#   got: %lld\n#   expected: %lld\n", g_, w_);           \
        }                                                                    \
    } while (0)

#define is_str(got, want, ...)                                               \
    do {                                                                     \
        const char  *g_ = (got), *w_ = (want);                               \
        if (!tap_ok(g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0,         \
                    __FILE__, __LINE__, __VA_ARGS__))                        \
        {                                                                    \
            printf("#   got: '%s'\n#   expected: '%s'\n",                    \
                   g_ ? g_ : "(null)", w_ ? w_ : "(null)");                  \
        }                                                                    \
    } while (0)

static int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#include <stdarg.h>

static int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
    va_list  ap;

    tap_n++;
    printf("%s %d - ", pass ? "ok" : "not ok", tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");

    if (!pass) {
        tap_failed++;
        printf("#   Failed test at %s line %d.\n", file, line);
    }

    return pass;
}

static inline void
tap_diag(const char *msg)
{
    printf("# %s\n", msg);
}

/* Call last: prints the plan and returns the exit status for main(). */
static inline int
tap_done(void)
{
    printf("1..%d\n", tap_n);
    fflush(stdout);
    return tap_failed ? 1 : 0;
}

#endif /* ESIGN_TAP_H */
