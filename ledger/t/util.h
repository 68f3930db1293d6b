/*
 * t/util.h: helpers shared by the ledger unit tests (temp dirs, keys,
 * hex, sample entries).
 */

#ifndef ESL_T_UTIL_H
#define ESL_T_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "ledger.h"
#include "tap.h"

static inline void
unhex(const char *h, unsigned char *out)
{
    size_t  i, n = strlen(h) / 2;

    for (i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (unsigned char) v;
    }
}


static inline void
tohex(const unsigned char *p, size_t n, char *out)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02x", p[i]);
    }
    out[2 * n] = '\0';
}


/* A fresh directory under /tmp, removed by rm_rf(). */
static inline char *
tmpdir(void)
{
    char  *d = strdup("/tmp/esl-test.XXXXXX");

    if (d == NULL || mkdtemp(d) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
    return d;
}


static inline void
rm_rf(const char *d)
{
    char  cmd[4200];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", d);
    }
}


static inline int
run(const char *cmd)
{
    int  rc = system(cmd);

    return rc == -1 ? -1 : WEXITSTATUS(rc);
}


/* Generate an SM2 key pair with the openssl CLI: dir/name.pem, .pub. */
static inline void
make_key(const char *dir, const char *name)
{
    char  cmd[8400];

    snprintf(cmd, sizeof(cmd),
             "openssl genpkey -algorithm SM2 -out '%s/%s.pem' 2>/dev/null &&"
             " openssl pkey -in '%s/%s.pem' -pubout -out '%s/%s.pub'"
             " 2>/dev/null", dir, name, dir, name, dir, name);
    if (run(cmd) != 0) {
        fprintf(stderr, "openssl genpkey failed\n");
        exit(2);
    }
}


static inline esl_signer *
load_signer(const char *dir, const char *file, const char *name)
{
    char         p[4200];
    esl_signer  *s = NULL;

    snprintf(p, sizeof(p), "%s/%s.pem", dir, file);
    if (esl_signer_load_pem(p, name, &s) != ESL_OK) {
        fprintf(stderr, "cannot load %s\n", p);
        exit(2);
    }
    return s;
}


#define TENANT  "91350100M000100Y43"

/* Deterministic sample entry number i (buffers owned by the caller). */
static inline void
sample_entry(esl_entry *e, uint64_t i, char *idbuf, unsigned char *pay,
    size_t paylen)
{
    size_t  j;

    snprintf(idbuf, 65, "sign-%llu", (unsigned long long) i);
    for (j = 0; j < paylen; j++) {
        pay[j] = (unsigned char) (i * 31 + j * 7);
    }
    e->kind = ESL_KIND_PROCESS_EVIDENCE;
    e->time_ms = 1763900000000ULL + i;
    e->entry_id = (const unsigned char *) idbuf;
    e->entry_id_len = strlen(idbuf);
    e->tenant = TENANT;
    e->payload = pay;
    e->payload_len = paylen;
}

#endif /* ESL_T_UTIL_H */
