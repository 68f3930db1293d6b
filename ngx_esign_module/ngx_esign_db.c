/*
 * The state database schema and JSON record helpers (plain C, shared by
 * the module and the esignctl tool).
 */


#include <errno.h>
#include <stdio.h>
#include <pthread.h>
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
    "signatures",
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
    MDB_val  v;

    return esign_db_get_json_val(txn, dbi, key, klen, out, &v);
}


int
esign_db_get_json_val(MDB_txn *txn, MDB_dbi dbi, const void *key,
    size_t klen, json_t **out, MDB_val *val)
{
    int           rc;
    MDB_val       k;
    json_error_t  err;

    k.mv_data = (void *) key;
    k.mv_size = klen;

    rc = mdb_get(txn, dbi, &k, val);
    if (rc != 0) {
        return rc;
    }

    *out = json_loadb(val->mv_data, val->mv_size, 0, &err);

    return *out != NULL ? 0 : MDB_CORRUPTED;
}


/*
 * Shared read-only records.  Some records are read on every request and
 * rarely change (an institution's record holds its certificates and
 * sealed keys: a few KiB of JSON, parsed twice per confirmation).  The
 * parsed object is kept per process next to a copy of the stored bytes;
 * a read whose stored bytes are exactly the copy's gets the same object
 * (a new reference), so a changed record is parsed again, at once.
 * jansson's reference counts are atomic; nobody modifies a shared object.
 */

#define ESIGN_DB_SHARED_MAX   64
#define ESIGN_DB_SHARED_KEY   64

typedef struct {
    MDB_dbi     dbi;
    size_t      klen;
    char        key[ESIGN_DB_SHARED_KEY];
    void       *raw;
    size_t      rawlen;
    json_t     *json;
    uint64_t    tick;
} esign_db_shared_t;


static pthread_mutex_t    esign_db_shared_mu = PTHREAD_MUTEX_INITIALIZER;
static esign_db_shared_t  esign_db_shared[ESIGN_DB_SHARED_MAX];
static uint64_t           esign_db_shared_tick;
static uint64_t           esign_db_shared_hits;


int
esign_db_get_json_shared(MDB_txn *txn, MDB_dbi dbi, const void *key,
    size_t klen, json_t **out)
{
    int                 rc;
    void               *raw;
    size_t              i;
    MDB_val             k, v;
    json_error_t        err;
    esign_db_shared_t  *e, *lru;

    if (klen > ESIGN_DB_SHARED_KEY) {
        return esign_db_get_json(txn, dbi, key, klen, out);
    }

    k.mv_data = (void *) key;
    k.mv_size = klen;

    rc = mdb_get(txn, dbi, &k, &v);
    if (rc != 0) {
        return rc;
    }

    pthread_mutex_lock(&esign_db_shared_mu);

    lru = &esign_db_shared[0];

    for (i = 0; i < ESIGN_DB_SHARED_MAX; i++) {
        e = &esign_db_shared[i];

        if (e->json != NULL && e->dbi == dbi && e->klen == klen
            && memcmp(e->key, key, klen) == 0)
        {
            if (e->rawlen == v.mv_size
                && memcmp(e->raw, v.mv_data, v.mv_size) == 0)
            {
                *out = json_incref(e->json);
                e->tick = ++esign_db_shared_tick;
                esign_db_shared_hits++;
                pthread_mutex_unlock(&esign_db_shared_mu);
                return 0;
            }

            lru = e;                    /* changed: replace this one */
            break;
        }

        if (e->json == NULL || e->tick < lru->tick) {
            lru = e;
        }
    }

    pthread_mutex_unlock(&esign_db_shared_mu);

    /* a miss: parse and copy outside the lock (v is valid until txn end) */

    *out = json_loadb(v.mv_data, v.mv_size, 0, &err);
    if (*out == NULL) {
        return MDB_CORRUPTED;
    }

    raw = malloc(v.mv_size ? v.mv_size : 1);
    if (raw == NULL) {
        return 0;                       /* not kept: still a valid read */
    }

    memcpy(raw, v.mv_data, v.mv_size);

    pthread_mutex_lock(&esign_db_shared_mu);

    /* the slot may have been taken meanwhile: lru is only a hint */
    if (lru->json != NULL) {
        json_decref(lru->json);
        free(lru->raw);
    }

    lru->dbi = dbi;
    lru->klen = klen;
    memcpy(lru->key, key, klen);
    lru->raw = raw;
    lru->rawlen = v.mv_size;
    lru->json = json_incref(*out);
    lru->tick = ++esign_db_shared_tick;

    pthread_mutex_unlock(&esign_db_shared_mu);

    return 0;
}


uint64_t
esign_db_shared_stats(void)
{
    uint64_t  hits;

    pthread_mutex_lock(&esign_db_shared_mu);
    hits = esign_db_shared_hits;
    pthread_mutex_unlock(&esign_db_shared_mu);

    return hits;
}


void
esign_db_shared_clear(void)
{
    size_t  i;

    pthread_mutex_lock(&esign_db_shared_mu);

    for (i = 0; i < ESIGN_DB_SHARED_MAX; i++) {
        if (esign_db_shared[i].json != NULL) {
            json_decref(esign_db_shared[i].json);
            free(esign_db_shared[i].raw);
        }

        memset(&esign_db_shared[i], 0, sizeof(esign_db_shared_t));
    }

    pthread_mutex_unlock(&esign_db_shared_mu);
}


static int
esign_db_sig_key(const char *cid, const char *inst_id, char *key,
    size_t size)
{
    int  n;

    n = snprintf(key, size, "%s/%s", cid, inst_id);

    return n > 0 && (size_t) n < size ? n : -1;
}


int
esign_db_sig_put(MDB_txn *txn, MDB_dbi *dbis, const char *cid,
    const char *inst_id, const char *cms_pem, const char *cert_pem)
{
    int      rc, n;
    char     key[160];
    size_t   cl, tl;
    MDB_val  k, v;

    n = esign_db_sig_key(cid, inst_id, key, sizeof(key));
    if (n < 0 || cms_pem == NULL || cert_pem == NULL) {
        return EINVAL;
    }

    cl = strlen(cms_pem);
    tl = strlen(cert_pem);

    if (cl == 0 || tl == 0) {
        return EINVAL;
    }

    /* the two PEM texts, each with its NUL: read in place, no parsing */

    k.mv_data = key;
    k.mv_size = (size_t) n;
    v.mv_data = NULL;
    v.mv_size = cl + 1 + tl + 1;

    rc = mdb_put(txn, dbis[ESIGN_DB_SIGNATURES], &k, &v, MDB_RESERVE);
    if (rc != 0) {
        return rc;
    }

    memcpy(v.mv_data, cms_pem, cl + 1);
    memcpy((char *) v.mv_data + cl + 1, cert_pem, tl + 1);

    return 0;
}


int
esign_db_sig_pems(MDB_txn *txn, MDB_dbi *dbis, const char *cid,
    json_t *sig, json_t **holder, const char **cms, const char **cert)
{
    int          rc, n;
    char         key[160];
    size_t       cl;
    MDB_val      k, v;
    const char  *inst_id, *p, *nul;

    *holder = NULL;
    *cms = NULL;
    *cert = NULL;

    if (json_string_value(json_object_get(sig, "cms_pem")) != NULL) {
        /* an older record: the PEMs inline in the summary */

        *cms = json_string_value(json_object_get(sig, "cms_pem"));
        *cert = json_string_value(json_object_get(sig, "certificate_pem"));

        if (*cert == NULL) {
            *cms = NULL;
            return MDB_CORRUPTED;
        }

        *holder = json_incref(sig);
        return 0;
    }

    inst_id = json_string_value(json_object_get(sig, "institution_id"));

    if (txn == NULL || cid == NULL || inst_id == NULL) {
        return MDB_NOTFOUND;
    }

    n = esign_db_sig_key(cid, inst_id, key, sizeof(key));
    if (n < 0) {
        return MDB_NOTFOUND;
    }

    k.mv_data = key;
    k.mv_size = (size_t) n;

    rc = mdb_get(txn, dbis[ESIGN_DB_SIGNATURES], &k, &v);
    if (rc != 0) {
        return rc;
    }

    /* "<cms>\0<cert>\0", both non-empty */

    p = v.mv_data;
    nul = v.mv_size > 0 ? memchr(p, '\0', v.mv_size) : NULL;

    if (nul == NULL) {
        return MDB_CORRUPTED;
    }

    cl = (size_t) (nul - p);

    if (cl == 0 || cl + 2 >= v.mv_size || p[v.mv_size - 1] != '\0'
        || memchr(nul + 1, '\0', v.mv_size - cl - 2) != NULL)
    {
        return MDB_CORRUPTED;
    }

    /* in the map: valid until the transaction's next write or its end */

    *cms = p;
    *cert = nul + 1;

    return 0;
}
