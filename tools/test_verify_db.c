/*
 * TAP test of the step-up token store (R-AUTH-2): single use, expiry,
 * bound to its session, consumed inside the caller's transaction.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ngx_esign_db.h"
#include "ngx_esign_verify_db.h"

static int  n;

static void
ok(int c, const char *name)
{
    printf("%sok %d - %s\n", c ? "" : "not ", ++n, name);
}

int
main(void)
{
    char            dir[] = "/tmp/esign-vdb-XXXXXX", tok[64], cmd[128];
    json_t         *rec;
    MDB_env        *env;
    MDB_txn        *txn;
    MDB_dbi         dbis[ESIGN_DB_COUNT];
    unsigned char   s1[32], s2[32];
    uint64_t        now = 1700000000000ULL;

    memset(s1, 1, 32);
    memset(s2, 2, 32);

    if (mkdtemp(dir) == NULL || mdb_env_create(&env) != 0
        || mdb_env_set_maxdbs(env, ESIGN_DB_MAX_DBS) != 0
        || mdb_env_open(env, dir, 0, 0600) != 0
        || mdb_txn_begin(env, NULL, 0, &txn) != 0
        || esign_db_open_all(txn, dbis, 1) != 0)
    {
        printf("Bail out! lmdb\n");
        return 1;
    }

    ok(esign_verification_create(txn, dbis, s1, "acct", "inst", "password",
                                 now, 60000, tok) == 0, "token created");
    ok(esign_verification_consume(txn, dbis, tok, strlen(tok), s2, now + 1,
                                  &rec) == ESIGN_VERIFY_EOTHER_SESSION,
       "R-AUTH-2 another session cannot use it");
    ok(esign_verification_consume(txn, dbis, tok, strlen(tok), s1, now + 1,
                                  &rec) == 0, "R-AUTH-2 its session uses it");
    ok(strcmp(json_string_value(json_object_get(rec, "method")), "password")
       == 0 && json_object_get(rec, "verified_at") != NULL,
       "R-AUTH-2 record carries method and time");
    json_decref(rec);
    ok(esign_verification_consume(txn, dbis, tok, strlen(tok), s1, now + 2,
                                  &rec) == ESIGN_VERIFY_EINVAL,
       "R-AUTH-2 single use");

    ok(esign_verification_create(txn, dbis, s1, "acct", "inst", "totp",
                                 now, 10 * 60000, tok) == 0,
       "token with a long TTL asked");
    ok(esign_verification_consume(txn, dbis, tok, strlen(tok), s1,
                                  now + 5 * 60000 + 1, &rec)
       == ESIGN_VERIFY_EEXPIRED, "R-AUTH-2 expires after 5 minutes at most");
    ok(esign_verification_consume(txn, dbis, "short", 5, s1, now, &rec)
       == ESIGN_VERIFY_EINVAL, "malformed token refused");

    mdb_txn_abort(txn);
    mdb_env_close(env);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    (void) system(cmd);

    printf("1..%d\n", n);
    return 0;
}
