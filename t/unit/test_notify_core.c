/*
 * Unit test of the notification hooks (R-NOTE-1, R-NOTE-3, R-NOTE-4,
 * R-SIGN-2, R-SIGN-4, R-SIGN-5, R-SEC-2) in a scratch LMDB environment:
 * who gets in-site messages and outbox entries for each contract event,
 * recipients stored encrypted and masked, link tokens opaque, bound to
 * the key, expiring and tamper-evident.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "ngx_esign_db.h"
#include "ngx_esign_notify.h"
#include "ngx_esign_pki.h"
#include "esc_kek.h"


#define KEK "# test\nkek v1 " \
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"

static MDB_env  *env;
static MDB_dbi   dbis[ESIGN_DB_COUNT];


static void
put_account(MDB_txn *txn, const char *inst, const char *id, const char *role,
    const char *email, const char *mobile)
{
    char     key[128];
    json_t  *a;

    snprintf(key, sizeof(key), "%s/%s", inst, id);
    a = json_pack("{s:s,s:s,s:s,s:s}", "id", id, "role", role,
                  "email", email, "mobile", mobile);
    (void) esign_db_put_json(txn, dbis[ESIGN_DB_ACCOUNTS], key, strlen(key),
                             a, 0);
    json_decref(a);
}


/* Counts records in db whose key starts with prefix. */
static int
count_prefix(MDB_txn *txn, int db, const char *prefix)
{
    int          n, rc;
    size_t       plen;
    MDB_val      k, v;
    MDB_cursor  *cur;

    plen = strlen(prefix);
    n = 0;

    mdb_cursor_open(txn, dbis[db], &cur);
    k.mv_data = (void *) prefix;
    k.mv_size = plen;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0) {
            break;
        }

        n++;
    }

    mdb_cursor_close(cur);

    return n;
}


/* Loads every outbox entry as one JSON array. */
static json_t *
outbox_entries(MDB_txn *txn)
{
    int          rc;
    json_t      *a;
    MDB_val      k, v;
    MDB_cursor  *cur;

    a = json_array();
    mdb_cursor_open(txn, dbis[ESIGN_DB_OUTBOX], &cur);
    k.mv_data = "e/";
    k.mv_size = 2;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (memcmp(k.mv_data, "e/", 2) != 0) {
            break;
        }

        json_array_append_new(a, json_loadb(v.mv_data, v.mv_size, 0, NULL));
    }

    mdb_cursor_close(cur);

    return a;
}


int
main(void)
{
    int          rc, found_plain;
    char         dir[] = "/tmp/esign-notify-XXXXXX", tok[256], tok2[256],
                 id[80], kind, to[300], *dump;
    size_t       i;
    json_t      *contract, *entries, *e;
    MDB_txn     *txn;
    uint64_t     now;
    const char  *cid = "abcdefghijklmnopqrstuvwxyz";

    if (mkdtemp(dir) == NULL) {
        return 1;
    }

    mdb_env_create(&env);
    mdb_env_set_maxdbs(env, ESIGN_DB_MAX_DBS);
    mdb_env_set_mapsize(env, 64 << 20);
    rc = mdb_env_open(env, dir, 0, 0600);
    is_int(rc, 0, "scratch environment");

    mdb_txn_begin(env, NULL, 0, &txn);
    esign_db_open_all(txn, dbis, 1);
    mdb_txn_commit(txn);

    is_int(esign_notify_configure("https://esign.example/", 22, "nokey", 5,
                                  1000, 1, 1), -1,
           "a KEK text without a key line is refused");
    is_int(esign_notify_configure("https://esign.example/", 22, KEK,
                                  strlen(KEK), 72ULL * 3600 * 1000, 1, 1), 0,
           "configured from the KEK text");
    is_str(esign_notify_conf.public_url, "https://esign.example",
           "trailing slash dropped from the public URL");

    /* links (R-NOTE-3) */

    now = 1700000000000ULL;

    is_int(esign_link_make('c', cid, now + 60000, tok, sizeof(tok)), 0,
           "link token issued");
    ok(strlen(tok) <= ESIGN_LINK_TOKEN_MAX, "token fits a path segment");
    ok(strstr(tok, cid) == NULL, "R-NOTE-3 token carries no plaintext ID");
    is_int(esign_link_make('c', cid, now + 60000, tok2, sizeof(tok2)), 0,
           "second token for the same object");
    ok(strcmp(tok, tok2) != 0, "R-NOTE-3 tokens are not guessable (random)");

    is_int(esign_link_open(tok, strlen(tok), now, &kind, id, sizeof(id)),
           ESIGN_LINK_OK, "valid token opens");
    is_str(id, cid, "... to the contract ID");
    is_int(kind, 'c', "... of kind contract");

    is_int(esign_link_open(tok, strlen(tok), now + 61000, &kind, id,
                           sizeof(id)),
           ESIGN_LINK_EXPIRED, "R-NOTE-3 token expires");

    tok2[0] = '\0';
    strcpy(tok2, tok);
    tok2[10] = (tok2[10] == 'A') ? 'B' : 'A';
    is_int(esign_link_open(tok2, strlen(tok2), now, &kind, id, sizeof(id)),
           ESIGN_LINK_INVALID, "R-NOTE-3 modified token refused");
    is_int(esign_link_open("x", 1, now, &kind, id, sizeof(id)),
           ESIGN_LINK_INVALID, "garbage refused");

    /* contract events */

    mdb_txn_begin(env, NULL, 0, &txn);
    put_account(txn, "insta", "adm1", "institution_admin",
                "zhang.san@example.com", "13812345678");
    put_account(txn, "insta", "emp1", "account", "emp@example.com",
                "13900000000");
    put_account(txn, "instb", "adm2", "institution_admin",
                "li.si@example.com", "13698765432");
    put_account(txn, "instc", "adm3", "institution_admin",
                "wang@example.com", "13512341234");

    contract = json_pack("{s:s,s:s,s:s,s:{s:s,s:s},s:[{s:s,s:s},{s:s,s:s}],"
                         "s:s}",
                         "id", cid, "title", "Loan syndication",
                         "number", "HT-2024-001",
                         "initiator", "institution_id", "insta",
                         "name", "Bank A",
                         "participants", "institution_id", "instb",
                         "name", "Bank B", "institution_id", "instc",
                         "name", "Bank C", "status", "signing");

    rc = esign_notify_contract_event(txn, dbis, contract, "initiated", now);
    is_int(rc, 0, "R-SIGN-2 initiated event written");
    is_int(count_prefix(txn, ESIGN_DB_MESSAGES, "instb/m/"), 1,
           "R-SIGN-2 participant B has an in-site message");
    is_int(count_prefix(txn, ESIGN_DB_MESSAGES, "instc/m/"), 1,
           "R-SIGN-2 participant C has an in-site message");
    is_int(count_prefix(txn, ESIGN_DB_MESSAGES, "insta/m/"), 0,
           "the initiator is not told it initiated");
    is_int(count_prefix(txn, ESIGN_DB_OUTBOX, "e/"), 4,
           "R-SIGN-2 e-mail and SMS queued for both participants' admins");
    is_int(count_prefix(txn, ESIGN_DB_OUTBOX, "q/"), 4,
           "... and all four are due");

    entries = outbox_entries(txn);
    dump = json_dumps(entries, 0);
    ok(strstr(dump, "li.si@example.com") == NULL
       && strstr(dump, "13698765432") == NULL,
       "R-SEC-2 no clear recipient stored in the outbox");
    ok(strstr(dump, "l***@example.com") != NULL
       && strstr(dump, "136****5432") != NULL,
       "masked recipients kept for logs and operators");
    ok(strstr(dump, "https://esign.example/api/v1/links/") != NULL,
       "R-NOTE-3 the messages carry a link");
    free(dump);

    found_plain = 0;

    json_array_foreach(entries, i, e) {
        if (esign_outbox_recipient(e, to, sizeof(to)) == 0
            && (strcmp(to, "li.si@example.com") == 0
                || strcmp(to, "13698765432") == 0))
        {
            found_plain++;
        }
    }

    is_int(found_plain, 2, "recipients decrypt for delivery");

    e = json_array_get(entries, 0);
    json_object_set_new(e, "id", json_string("0000000000000000"
                                             "aaaaaaaaaaaaaaaaaaaaaaaaaa"));
    ok(esign_outbox_recipient(e, to, sizeof(to)) != 0,
       "a recipient moved to another entry does not decrypt");
    json_decref(entries);

    rc = esign_notify_contract_event(txn, dbis, contract, "confirmed",
                                     now + 1);
    is_int(rc, 0, "confirmed event written");
    is_int(count_prefix(txn, ESIGN_DB_MESSAGES, "insta/m/"), 1,
           "the initiator is told of a confirmation in-site");
    is_int(count_prefix(txn, ESIGN_DB_OUTBOX, "e/"), 4,
           "... without e-mail or SMS");

    rc = esign_notify_contract_event(txn, dbis, contract, "completed",
                                     now + 2);
    is_int(rc, 0, "R-SIGN-4 completed event written");
    is_int(count_prefix(txn, ESIGN_DB_MESSAGES, "insta/m/"), 2,
           "R-SIGN-4 initiator notified of completion");
    is_int(count_prefix(txn, ESIGN_DB_MESSAGES, "instb/m/"), 2,
           "R-SIGN-4 participant notified of completion");
    is_int(count_prefix(txn, ESIGN_DB_OUTBOX, "e/"), 10,
           "R-SIGN-4 everyone's administrators get e-mail and SMS");

    json_object_set_new(contract, "reason", json_string("wrong amount"));
    rc = esign_notify_contract_event(txn, dbis, contract, "rejected",
                                     now + 3);
    is_int(rc, 0, "R-SIGN-5 rejected event written");
    is_int(count_prefix(txn, ESIGN_DB_MESSAGES, "instc/m/"), 3,
           "R-SIGN-5 every party notified of the rejection");

    is_int(esign_notify_contract_event(txn, dbis, contract, "exploded", now),
           EINVAL, "unknown event refused");

    rc = esign_notify_institution_event(txn, dbis, "instb",
                                        "deregistration_approved", NULL,
                                        now + 4);
    is_int(rc, 0, "institution event written");
    is_int(count_prefix(txn, ESIGN_DB_MESSAGES, "instb/m/"), 4,
           "R-REG-5 institution told of its deregistration");
    is_int(count_prefix(txn, ESIGN_DB_OUTBOX, "e/"), 18,
           "... by e-mail and SMS as well");

    /* contacts encrypted the way the identity records keep them */
    {
        esc_kek_ring_t      *ring;
        esign_field_keys_t   keys;
        json_t              *a;
        int                  n;

        esc_kek_parse(KEK, strlen(KEK), &ring);
        is_int(esign_pki_field_keys(txn, dbis, ring, 1, &keys),
               ESIGN_PKI_OK, "identity field keys created");

        a = json_pack("{s:s,s:s,s:o,s:o}", "id", "adm4",
                      "role", "institution_admin",
                      "email_enc", esign_pki_field_encrypt(&keys,
                          "account:instd/adm4", "enc@example.com", 15),
                      "mobile_enc", esign_pki_field_encrypt(&keys,
                          "account:instd/adm4", "13711112222", 11));
        esign_db_put_json(txn, dbis[ESIGN_DB_ACCOUNTS], "instd/adm4", 10, a,
                          0);
        json_decref(a);
        esc_kek_free(ring);

        rc = esign_notify_institution_event(txn, dbis, "instd", "approved",
                                            NULL, now + 5);
        is_int(rc, 0, "R-REG-2 approval notified");

        entries = outbox_entries(txn);
        n = 0;

        json_array_foreach(entries, i, e) {
            if (esign_outbox_recipient(e, to, sizeof(to)) == 0
                && (strcmp(to, "enc@example.com") == 0
                    || strcmp(to, "13711112222") == 0))
            {
                n++;
            }
        }

        is_int(n, 2, "encrypted contacts of the administrator used");
        json_decref(entries);
    }

    mdb_txn_abort(txn);
    json_decref(contract);

    ok(esign_msg_id_valid("0000018bcfe56800abcdefghijklmnopqrstuvwxya", 42),
       "message ID shape accepted");
    ok(!esign_msg_id_valid("0000018bcfe56800abcdefghijklmnopqrstuvwxy1", 42),
       "message ID with a bad character refused");

    mdb_env_close(env);

    snprintf(to, sizeof(to), "rm -rf %s", dir);
    if (system(to) != 0) {
        return 1;
    }

    return tap_done();
}
