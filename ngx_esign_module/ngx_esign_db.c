/*
 * The state database schema and JSON record helpers (plain C, shared by
 * the module and the esignctl tool).
 */


#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_esign_db.h"


const char  *esign_db_names[ESIGN_DB_COUNT] = {
    "meta",
    "institutions",
    "uscc",
    "accounts",
    "usernames",
    "operators",
    "contracts",
    "contract_idx",
    "documents",
    "messages",
    "audit",
    "outbox",
    "certs",
    "tokens",
    "doc_blobs",
    "evidence_outbox",
    "contract_due",
};


int
esign_db_open_all(MDB_txn *txn, MDB_dbi *dbis, int create)
{
    int  i, rc;

    for (i = 0; i < ESIGN_DB_COUNT; i++) {
        rc = mdb_dbi_open(txn, esign_db_names[i], create ? MDB_CREATE : 0,
                          &dbis[i]);
        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


int
esign_db_put_json(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
    json_t *json, unsigned flags)
{
    int       rc;
    char     *s;
    MDB_val   k, v;

    s = json_dumps(json, JSON_COMPACT|JSON_SORT_KEYS);
    if (s == NULL) {
        return ENOMEM;
    }

    k.mv_data = (void *) key;
    k.mv_size = klen;
    v.mv_data = s;
    v.mv_size = strlen(s);

    rc = mdb_put(txn, dbi, &k, &v, flags);

    free(s);

    return rc;
}


int
esign_db_get_json(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
    json_t **out)
{
    int           rc;
    MDB_val       k, v;
    json_error_t  err;

    k.mv_data = (void *) key;
    k.mv_size = klen;

    rc = mdb_get(txn, dbi, &k, &v);
    if (rc != 0) {
        return rc;
    }

    *out = json_loadb(v.mv_data, v.mv_size, 0, &err);

    return *out != NULL ? 0 : MDB_CORRUPTED;
}
