/*
 * Test helper (not part of the module): writes into a running platform's
 * state environment the way the signing workflow does, so integration
 * tests can exercise outbox delivery before every workflow is in place.
 *
 *   notify_seed <data dir> <kek file> <public url> account <inst> <id>
 *       <email> <mobile>              an administrator with clear contacts
 *   notify_seed ... contract '<contract json>' <event>
 *   notify_seed ... institution <inst> <event>
 *
 * LMDB is multi-process safe; nginx's workers see the commit at once.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "ngx_esign_db.h"
#include "ngx_esign_notify.h"


static char *
slurp(const char *path, size_t *len)
{
    char  *s;
    FILE  *f;

    f = fopen(path, "r");
    if (f == NULL) {
        return NULL;
    }

    s = calloc(1, 65536);
    *len = fread(s, 1, 65535, f);
    fclose(f);

    return s;
}


int
main(int argc, char **argv)
{
    int              rc;
    char            *kek, path[4096], key[256];
    size_t           keklen;
    json_t          *j;
    MDB_env         *env;
    MDB_txn         *txn;
    MDB_dbi          dbis[ESIGN_DB_COUNT];
    uint64_t         now;
    struct timeval   tv;

    if (argc < 6) {
        fprintf(stderr, "usage: notify_seed data kek url cmd args...\n");
        return 2;
    }

    kek = slurp(argv[2], &keklen);
    if (kek == NULL
        || esign_notify_configure(argv[3], strlen(argv[3]), kek, keklen,
                                  72ULL * 3600 * 1000, 1, 1)
           != 0)
    {
        fprintf(stderr, "cannot configure\n");
        return 1;
    }

    /* a link lifetime for the seed: NOTIFY_SEED_TTL_MS */
    if (getenv("NOTIFY_SEED_TTL_MS") != NULL) {
        esign_notify_conf.link_ttl_ms = strtoull(getenv("NOTIFY_SEED_TTL_MS"),
                                                 NULL, 10);
    }

    gettimeofday(&tv, NULL);
    now = (uint64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;

    snprintf(path, sizeof(path), "%s/state", argv[1]);

    mdb_env_create(&env);
    mdb_env_set_maxdbs(env, ESIGN_DB_MAX_DBS);
    mdb_env_set_maxreaders(env, 1024);
    mdb_env_set_mapsize(env, (size_t) 8 << 30);

    rc = mdb_env_open(env, path, 0, 0600);
    if (rc == 0) {
        rc = mdb_txn_begin(env, NULL, 0, &txn);
    }

    if (rc != 0) {
        fprintf(stderr, "lmdb: %s\n", mdb_strerror(rc));
        return 1;
    }

    rc = esign_db_open_all(txn, dbis, 0);

    if (rc == 0 && strcmp(argv[4], "account") == 0 && argc == 9) {
        j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", argv[6],
                      "institution_id", argv[5], "role", "institution_admin",
                      "email", argv[7], "mobile", argv[8]);
        snprintf(key, sizeof(key), "%s/%s", argv[5], argv[6]);
        rc = esign_db_put_json(txn, dbis[ESIGN_DB_ACCOUNTS], key,
                               strlen(key), j, 0);
        json_decref(j);

    } else if (rc == 0 && strcmp(argv[4], "contract") == 0 && argc == 7) {
        j = json_loads(argv[5], 0, NULL);
        rc = j ? esign_notify_contract_event(txn, dbis, j, argv[6], now)
               : 1;
        json_decref(j);

    } else if (rc == 0 && strcmp(argv[4], "institution") == 0
               && argc == 7)
    {
        rc = esign_notify_institution_event(txn, dbis, argv[5], argv[6],
                                            NULL, now);

    } else if (rc == 0) {
        rc = 2;
    }

    if (rc == 0) {
        rc = mdb_txn_commit(txn);
    } else {
        mdb_txn_abort(txn);
    }

    mdb_env_close(env);

    if (rc != 0) {
        fprintf(stderr, "failed: %d %s\n", rc, mdb_strerror(rc));
        return 1;
    }

    return 0;
}
