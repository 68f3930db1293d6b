/*
 * esignctl: command-line administration of an esign data directory, safe
 * while nginx runs (LMDB serialises writers across processes).
 *
 *     esignctl -d DATA operator add USERNAME [--password PW]
 *         creates a platform operator; the password is read from stdin
 *         (first line) unless --password is given (tests)
 *     esignctl -d DATA -k KEKFILE [-s SITE] ca init [--suite national|intl]
 *         creates both platform CAs now (national SM2 and intl P-256;
 *         else the first approval does), writes <data>/ca/ca.crt and
 *         ca-intl.crt, prints the CA of the suite (default national)
 *     esignctl -d DATA ca show [--suite national|intl]
 *         prints the CA certificate of the suite (PEM)
 *     esignctl -d DATA -k KEKFILE [-s SITE] institution issue-intl ID
 *         issues the P-256 certificate and key an institution approved
 *         before the intl suite existed lacks (prints the certificate)
 *     esignctl kek create KEKFILE
 *         creates a new key-encryption key file (mode 0600, version 1)
 *     esignctl -d DATA -k KEKFILE kek rotate
 *         adds a KEK version and re-wraps every stored document key under
 *         it, in one transaction; document bodies are not touched
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <lmdb.h>
#include <jansson.h>

#include "ngx_esign_db.h"
#include "ngx_esign_audit.h"
#include "ngx_esign_pki.h"
#include "ngx_esign_docstore.h"

#include "esc_kek.h"
#include "esc_password.h"
#include "esc_pwhash.h"
#include "esc_rand.h"
#include "esc_validate.h"


static const char  *data_dir;
static const char  *kek_file;
static const char  *site = "local";


static void
usage(void)
{
    fprintf(stderr,
        "usage: esignctl -d DATA operator add USERNAME [--password PW]\n"
        "       esignctl -d DATA -k KEKFILE [-s SITE] ca init "
        "[--suite national|intl]\n"
        "       esignctl -d DATA ca show [--suite national|intl]\n"
        "       esignctl -d DATA -k KEKFILE [-s SITE] institution "
        "issue-intl ID\n"
        "       esignctl kek create KEKFILE\n"
        "       esignctl -d DATA -k KEKFILE kek rotate\n");
    exit(2);
}


static uint64_t
now_ms(void)
{
    struct timeval  tv;

    gettimeofday(&tv, NULL);
    return (uint64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}


static int
open_env(MDB_env **env, MDB_txn **txn, MDB_dbi *dbis, int rdonly)
{
    int   rc;
    char  path[4096];

    snprintf(path, sizeof(path), "%s/state", data_dir);

    if ((rc = mdb_env_create(env)) != 0
        || (rc = mdb_env_set_maxreaders(*env, 1024)) != 0
        || (rc = mdb_env_set_maxdbs(*env, ESIGN_DB_MAX_DBS)) != 0
        || (rc = mdb_env_set_mapsize(*env, (size_t) 8 << 30)) != 0
        || (rc = mdb_env_open(*env, path, MDB_NOTLS, ESIGN_DB_MODE)) != 0)
    {
        fprintf(stderr, "esignctl: cannot open %s: %s (start nginx once "
                "to create the state)\n", path, mdb_strerror(rc));
        return -1;
    }

    rc = mdb_txn_begin(*env, NULL, rdonly ? MDB_RDONLY : 0, txn);
    if (rc == 0) {
        rc = esign_db_open_all(*txn, dbis, 0);
    }

    if (rc != 0) {
        fprintf(stderr, "esignctl: %s\n", mdb_strerror(rc));
        return -1;
    }

    return 0;
}


static int
operator_add(const char *username, const char *password)
{
    int              rc;
    char             user[ESC_USERNAME_MAX + 1], id[ESC_RAND_ID_LEN + 1];
    char             hash[ESC_PWHASH_SIZE], buf[1024], val[64], at[32];
    size_t           i, len;
    json_t          *rec;
    MDB_val          k, v;
    MDB_env         *env;
    MDB_txn         *txn;
    uint64_t         now;
    esc_pw_reason_e  pw;
    MDB_dbi          dbis[ESIGN_DB_COUNT];

    len = strlen(username);

    if (esc_username_validate((const u_char *) username, len) != ESC_OK) {
        fprintf(stderr, "esignctl: invalid username\n");
        return 1;
    }

    for (i = 0; i <= len; i++) {
        user[i] = (char) tolower((unsigned char) username[i]);
    }

    if (password == NULL) {
        if (fgets(buf, sizeof(buf), stdin) == NULL) {
            fprintf(stderr, "esignctl: no password on stdin\n");
            return 1;
        }

        buf[strcspn(buf, "\r\n")] = '\0';
        password = buf;
    }

    pw = esc_password_check((const u_char *) password, strlen(password),
                            (const u_char *) user, strlen(user), 0);
    if (pw != ESC_PW_OK) {
        fprintf(stderr, "esignctl: weak password (%s): %s\n",
                esc_password_reason_code(pw),
                esc_password_reason_message(pw));
        return 1;
    }

    if (esc_pwhash_create((const u_char *) password, strlen(password), NULL,
                          hash, sizeof(hash))
        != ESC_OK
        || esc_rand_id(id) != ESC_CRYPTO_OK)
    {
        fprintf(stderr, "esignctl: cannot hash the password\n");
        return 1;
    }

    if (open_env(&env, &txn, dbis, 0) != 0) {
        return 1;
    }

    now = now_ms();
    esign_rfc3339(now, at);

    snprintf(val, sizeof(val), "operator/%s", id);
    k.mv_data = user;
    k.mv_size = strlen(user);
    v.mv_data = val;
    v.mv_size = strlen(val);

    rc = mdb_put(txn, dbis[ESIGN_DB_USERNAMES], &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        fprintf(stderr, "esignctl: the username is taken\n");
        mdb_txn_abort(txn);
        mdb_env_close(env);
        return 1;
    }

    rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:i,s:i}", "id", id,
                    "username", user, "role", "operator",
                    "password_hash", hash, "created_at", at,
                    "disabled", 0, "failed_logins", 0, "locked_until", 0);

    if (rc == 0 && rec != NULL) {
        rc = esign_db_put_json(txn, dbis[ESIGN_DB_OPERATORS], id, strlen(id),
                               rec, MDB_NOOVERWRITE);
    }

    if (rc == 0) {
        rc = esign_audit_append(txn, dbis, ESIGN_AUDIT_PLATFORM, NULL,
                                "operator_create", id, "esignctl", NULL,
                                now);
    }

    json_decref(rec);

    if (rc == 0) {
        rc = mdb_txn_commit(txn);

    } else {
        mdb_txn_abort(txn);
    }

    mdb_env_close(env);

    if (rc != 0) {
        fprintf(stderr, "esignctl: %s\n", mdb_strerror(rc));
        return 1;
    }

    printf("%s\n", id);

    return 0;
}


static int
load_ring(esc_kek_ring_t **ring)
{
    if (kek_file == NULL || esc_kek_load(kek_file, ring) != ESC_CRYPTO_OK) {
        fprintf(stderr, "esignctl: -k KEKFILE is required and must be "
                "a valid 0600 key file\n");
        return -1;
    }

    return 0;
}


static int
ca_cmd(int init, int suite)
{
    int              rc, s;
    char            *pem, *pems[3];
    X509            *cert;
    MDB_env         *env;
    MDB_txn         *txn;
    EVP_PKEY        *key;
    esc_kek_ring_t  *ring;
    MDB_dbi          dbis[ESIGN_DB_COUNT];

    if (open_env(&env, &txn, dbis, !init) != 0) {
        return 1;
    }

    if (init) {
        if (load_ring(&ring) != 0) {
            mdb_txn_abort(txn);
            mdb_env_close(env);
            return 1;
        }

        /* both suites' CAs, as the first approval would make them */

        rc = ESIGN_PKI_OK;

        for (s = ESC_SUITE_NATIONAL; rc == ESIGN_PKI_OK && s <= ESC_SUITE_INTL;
             s++)
        {
            rc = esign_pki_ca_suite(txn, dbis, ring, site, s, 1, &key,
                                    &cert);
            if (rc == ESIGN_PKI_OK) {
                EVP_PKEY_free(key);
                X509_free(cert);
            }
        }

        esc_kek_free(ring);

        if (rc != ESIGN_PKI_OK || mdb_txn_commit(txn) != 0) {
            fprintf(stderr, "esignctl: cannot create the CA\n");
            mdb_env_close(env);
            return 1;
        }

        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
        if (rc != 0) {
            mdb_env_close(env);
            return 1;
        }
    }

    pems[ESC_SUITE_NATIONAL] = esign_pki_ca_pem_suite(txn, dbis,
                                                      ESC_SUITE_NATIONAL);
    pems[ESC_SUITE_INTL] = esign_pki_ca_pem_suite(txn, dbis, ESC_SUITE_INTL);
    mdb_txn_abort(txn);
    mdb_env_close(env);

    if (init) {
        for (s = ESC_SUITE_NATIONAL; s <= ESC_SUITE_INTL; s++) {
            if (pems[s] != NULL) {
                (void) esign_pki_write_ca_file_suite(data_dir, s, pems[s]);
            }
        }
    }

    pem = pems[suite];
    rc = 0;

    if (pem == NULL) {
        fprintf(stderr, "esignctl: no %s CA yet\n",
                suite == ESC_SUITE_INTL ? "intl" : "national");
        rc = 1;

    } else {
        fputs(pem, stdout);
    }

    free(pems[ESC_SUITE_NATIONAL]);
    free(pems[ESC_SUITE_INTL]);

    return rc;
}


/*
 * An institution approved before the intl suite existed has no P-256
 * certificate and key; this issues them (and the intl CA on first use)
 * in one transaction, with an audit record.
 */
static int
institution_issue_intl(const char *id)
{
    int              rc;
    char            *pem;
    json_t          *inst;
    MDB_env         *env;
    MDB_txn         *txn;
    const char      *status;
    esc_kek_ring_t  *ring;
    MDB_dbi          dbis[ESIGN_DB_COUNT];

    if (strlen(id) != ESC_RAND_ID_LEN) {
        fprintf(stderr, "esignctl: %s is not an institution ID\n", id);
        return 1;
    }

    if (load_ring(&ring) != 0) {
        return 1;
    }

    if (open_env(&env, &txn, dbis, 0) != 0) {
        esc_kek_free(ring);
        return 1;
    }

    inst = NULL;
    pem = NULL;
    rc = 1;

    if (esign_db_get_json(txn, dbis[ESIGN_DB_INSTITUTIONS], id,
                          ESC_RAND_ID_LEN, &inst)
        != 0)
    {
        fprintf(stderr, "esignctl: no institution %s\n", id);
        goto done;
    }

    status = json_string_value(json_object_get(inst, "status"));

    if (json_string_value(json_object_get(inst, "certificate_pem")) == NULL
        || status == NULL || strcmp(status, "pending") == 0
        || strcmp(status, "rejected") == 0)
    {
        fprintf(stderr, "esignctl: institution %s was never approved\n",
                id);
        goto done;
    }

    if (json_string_value(json_object_get(inst, "intl_certificate_pem"))
        != NULL)
    {
        fprintf(stderr, "esignctl: institution %s already has an intl "
                "certificate\n", id);
        goto done;
    }

    if (esign_pki_issue_institution_suites(txn, dbis, ring, site,
                                           ESIGN_PKI_SUITE_BIT(
                                               ESC_SUITE_INTL), inst)
        != ESIGN_PKI_OK
        || esign_db_put_json(txn, dbis[ESIGN_DB_INSTITUTIONS], id,
                             ESC_RAND_ID_LEN, inst, 0)
           != 0
        || esign_audit_append(txn, dbis, id, NULL, "institution_issue_intl",
                              id, "esignctl", NULL, now_ms())
           != 0
        || esign_audit_append(txn, dbis, ESIGN_AUDIT_PLATFORM, NULL,
                              "institution_issue_intl", id, "esignctl",
                              NULL, now_ms())
           != 0)
    {
        fprintf(stderr, "esignctl: cannot issue the intl certificate\n");
        goto done;
    }

    pem = esign_pki_ca_pem_suite(txn, dbis, ESC_SUITE_INTL);

    if (mdb_txn_commit(txn) != 0) {
        txn = NULL;
        fprintf(stderr, "esignctl: cannot commit\n");
        goto done;
    }

    txn = NULL;

    if (pem != NULL) {
        (void) esign_pki_write_ca_file_suite(data_dir, ESC_SUITE_INTL, pem);
    }

    fputs(json_string_value(json_object_get(inst, "intl_certificate_pem")),
          stdout);
    rc = 0;

done:

    if (txn != NULL) {
        mdb_txn_abort(txn);
    }

    mdb_env_close(env);
    esc_kek_free(ring);
    json_decref(inst);
    free(pem);

    return rc;
}


/*
 * R-ARCH-4: a new KEK version, and every file key re-wrapped under it.  The
 * key file keeps the old versions, so a failure after the file changed
 * leaves everything readable and a second run finishes the job.
 */
static int
kek_rotate(void)
{
    int              rc;
    size_t           n;
    MDB_env         *env;
    MDB_txn         *txn;
    uint32_t         ver;
    esc_kek_ring_t  *ring;
    MDB_dbi          dbis[ESIGN_DB_COUNT];

    if (kek_file == NULL) {
        usage();
    }

    rc = esc_kek_file_rotate(kek_file, &ver);
    if (rc != 0) {
        fprintf(stderr, "esignctl: cannot rotate %s: %s\n", kek_file,
                esc_crypto_strerror(rc));
        return 1;
    }

    rc = esc_kek_load(kek_file, &ring);
    if (rc != 0) {
        fprintf(stderr, "esignctl: cannot load %s: %s\n", kek_file,
                esc_crypto_strerror(rc));
        return 1;
    }

    if (open_env(&env, &txn, dbis, 0) != 0) {
        esc_kek_free(ring);
        return 1;
    }

    n = 0;
    rc = esign_kek_rotate_state(txn, dbis, NULL, ring, &n);

    if (rc == 0) {
        rc = mdb_txn_commit(txn);

    } else {
        mdb_txn_abort(txn);
    }

    mdb_env_close(env);
    esc_kek_free(ring);

    if (rc != 0) {
        fprintf(stderr, "esignctl: re-wrapping failed (%d); the key file "
                "keeps every version, nothing is lost: run again\n", rc);
        return 1;
    }

    printf("KEK version %u is current; %zu document keys re-wrapped; "
           "reload nginx (nginx -s reload)\n", (unsigned) ver, n);

    return 0;
}


int
main(int argc, char **argv)
{
    int          i, suite;
    const char  *password;

    i = 1;

    while (i < argc && argv[i][0] == '-') {
        if (i + 1 >= argc) {
            usage();
        }

        if (strcmp(argv[i], "-d") == 0) {
            data_dir = argv[i + 1];

        } else if (strcmp(argv[i], "-k") == 0) {
            kek_file = argv[i + 1];

        } else if (strcmp(argv[i], "-s") == 0) {
            site = argv[i + 1];

        } else {
            usage();
        }

        i += 2;
    }

    if (i + 2 < argc + 0 && strcmp(argv[i], "kek") == 0
        && strcmp(argv[i + 1], "create") == 0 && i + 3 == argc)
    {
        if (esc_kek_file_create(argv[i + 2]) != 0) {
            fprintf(stderr, "esignctl: cannot create %s (it must not "
                    "exist yet)\n", argv[i + 2]);
            return 1;
        }

        return 0;
    }

    if (data_dir == NULL || i >= argc) {
        usage();
    }

    if (strcmp(argv[i], "kek") == 0 && i + 2 == argc
        && strcmp(argv[i + 1], "rotate") == 0)
    {
        return kek_rotate();
    }

    if (strcmp(argv[i], "operator") == 0 && i + 2 < argc
        && strcmp(argv[i + 1], "add") == 0)
    {
        password = NULL;

        if (i + 4 < argc + 0 && strcmp(argv[i + 3], "--password") == 0) {
            password = argv[i + 4];

        } else if (i + 3 < argc) {
            usage();
        }

        return operator_add(argv[i + 2], password);
    }

    if (strcmp(argv[i], "ca") == 0 && i + 1 < argc) {
        suite = ESC_SUITE_NATIONAL;

        if (i + 4 == argc && strcmp(argv[i + 2], "--suite") == 0) {
            if (strcmp(argv[i + 3], "intl") == 0) {
                suite = ESC_SUITE_INTL;

            } else if (strcmp(argv[i + 3], "national") != 0) {
                usage();
            }

        } else if (i + 2 != argc) {
            usage();
        }

        if (strcmp(argv[i + 1], "init") == 0) {
            return ca_cmd(1, suite);
        }

        if (strcmp(argv[i + 1], "show") == 0) {
            return ca_cmd(0, suite);
        }
    }

    if (strcmp(argv[i], "institution") == 0 && i + 3 == argc
        && strcmp(argv[i + 1], "issue-intl") == 0)
    {
        return institution_issue_intl(argv[i + 2]);
    }

    usage();

    return 2;
}
