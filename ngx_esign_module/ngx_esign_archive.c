/*
 * Archive checks of a completed contract (see ngx_esign_archive.h).
 */


#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ngx_esign_archive.h"
#include "ngx_esign_db.h"
#include "ngx_esign_docstore.h"
#include "ngx_esign_sign.h"

#include "esc_ca.h"
#include "esc_codec.h"


static int
esign_archive_add(json_t *checks, const char *name, int ok,
    const char *detail)
{
    json_t  *c;

    c = json_pack("{s:s, s:s, s:s}", "name", name,
                  "result", ok ? "pass" : "fail", "detail", detail);
    if (c == NULL) {
        return -1;
    }

    json_array_append_new(checks, c);

    return ok ? 1 : 0;
}


static const char *
esign_archive_str(json_t *o, const char *key)
{
    const char  *s;

    s = json_string_value(json_object_get(o, key));

    return (s != NULL && s[0] != '\0') ? s : NULL;
}


static json_t *
esign_archive_signature(json_t *contract, const char *inst_id)
{
    size_t       i;
    json_t      *s;
    const char  *id;

    json_array_foreach(json_object_get(contract, "signatures"), i, s) {
        id = esign_archive_str(s, "institution_id");
        if (id != NULL && strcmp(id, inst_id) == 0) {
            return s;
        }
    }

    return NULL;
}


/* The USCC the signer certificate names, or "". */
static void
esign_archive_cert_uscc(const char *pem, char u[ESC_USCC_LEN + 1])
{
    X509  *cert;

    if (esign_sign_cert(pem, &cert, u) == 0) {
        X509_free(cert);
    }
}


/*
 * sha256: the document's SHA-256 for intl signatures, or NULL; intl_known:
 * the caller looked it up (then an intl signature without it fails).
 */
/* SHA-256 of the three strings, each with its NUL: the result's key. */
static int
esign_archive_key(const char *cms_pem, const char *cert_pem,
    const char *digest_hex, uint8_t key[32])
{
    int          ok;
    EVP_MD_CTX  *md;

    md = EVP_MD_CTX_new();

    ok = md != NULL && cms_pem != NULL && cert_pem != NULL
         && digest_hex != NULL
         && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1
         && EVP_DigestUpdate(md, cms_pem, strlen(cms_pem) + 1) == 1
         && EVP_DigestUpdate(md, cert_pem, strlen(cert_pem) + 1) == 1
         && EVP_DigestUpdate(md, digest_hex, strlen(digest_hex) + 1) == 1
         && EVP_DigestFinal_ex(md, key, NULL) == 1;

    EVP_MD_CTX_free(md);

    return ok ? 0 : -1;
}


void
esign_archive_preverify(const char *cms_pem, const char *cert_pem,
    const char *digest_hex, esign_archive_pre_t *pre)
{
    size_t   dl;
    uint8_t  dg[32];

    memset(pre, 0, sizeof(*pre));

    if (esign_archive_key(cms_pem, cert_pem, digest_hex, pre->key) != 0) {
        memset(pre->key, 0, sizeof(pre->key));  /* matches nothing real */
        return;
    }

    pre->ok = strlen(digest_hex) == 64
              && esc_hex_decode(dg, sizeof(dg), &dl, digest_hex, 64)
                 == ESC_CRYPTO_OK
              && esign_sign_verify(cms_pem, cert_pem, dg, 32,
                                   &pre->signing_time)
                 == 0;

    esign_archive_cert_uscc(cert_pem, pre->cert_uscc);
}


/*
 * esign_sign_verify and the certificate's USCC, or the results found
 * ahead for the same bytes.
 */
static int
esign_archive_verify(const char *cms_pem, const char *cert_pem,
    const char *digest_hex, const uint8_t dg[32], time_t *st,
    char uscc[ESC_USCC_LEN + 1], const esign_archive_pre_t *pre,
    size_t npre)
{
    size_t   i;
    uint8_t  key[32];

    if (npre > 0
        && esign_archive_key(cms_pem, cert_pem, digest_hex, key) == 0)
    {
        for (i = 0; i < npre; i++) {
            if (memcmp(pre[i].key, key, 32) == 0) {
                *st = pre[i].signing_time;
                memcpy(uscc, pre[i].cert_uscc, ESC_USCC_LEN + 1);
                return pre[i].ok ? 0 : -1;
            }
        }
    }

    esign_archive_cert_uscc(cert_pem, uscc);

    return esign_sign_verify(cms_pem, cert_pem, dg, 32, st);
}


/* txn: where the signature PEMs are looked up, or NULL (inline only) */
static int
esign_archive_run(MDB_txn *txn, MDB_dbi *dbis, json_t *c, uint64_t now_ms,
    const uint8_t *sha256, int intl_known, const esign_archive_pre_t *pre,
    size_t npre)
{
    int          all, ok, r, intl;
    char         detail[256];
    size_t       i, j, n, dl;
    json_t      *checks, *init, *parts, *p, *q, *sig, *arch, *row;
    const char  *cms, *cert;
    time_t       st;
    char         cu[ESC_USCC_LEN + 1];
    uint64_t     created, at, sat;
    uint8_t      doc[32], dg[32], sha[32];
    const char  *iid, *pid, *s, *ds;

    checks = json_array();
    if (checks == NULL) {
        return -1;
    }

    all = 1;

    /* initiator */

    init = json_object_get(c, "initiator");
    iid = esign_archive_str(init, "institution_id");
    ok = iid != NULL && esign_archive_str(init, "uscc") != NULL
         && esign_archive_str(init, "name") != NULL
         && esign_archive_str(init, "account_id") != NULL
         && json_is_integer(json_object_get(init, "at"));
    snprintf(detail, sizeof(detail), "initiator %s", iid ? iid : "missing");
    r = esign_archive_add(checks, "initiator", ok, detail);
    all &= r == 1;

    /* participants: present, distinct, not the initiator, all confirmed */

    parts = json_object_get(c, "participants");
    n = json_array_size(parts);
    ok = n > 0;

    json_array_foreach(parts, i, p) {
        pid = esign_archive_str(p, "institution_id");
        s = esign_archive_str(p, "status");

        if (pid == NULL || s == NULL || strcmp(s, "confirmed") != 0
            || (iid != NULL && strcmp(pid, iid) == 0))
        {
            ok = 0;
        }

        for (j = i + 1; pid != NULL && j < n; j++) {
            q = json_array_get(parts, j);
            s = esign_archive_str(q, "institution_id");
            if (s != NULL && strcmp(s, pid) == 0) {
                ok = 0;
            }
        }
    }

    snprintf(detail, sizeof(detail), "%zu participants, all confirmed", n);
    r = esign_archive_add(checks, "participants", ok, detail);
    all &= r == 1;

    /* signing times: after creation, not in the future, as signed */

    created = json_integer_value(json_object_get(c, "created_at"));
    ok = n > 0;

    json_array_foreach(parts, i, p) {
        at = json_integer_value(json_object_get(p, "at"));
        sig = esign_archive_signature(c, esign_archive_str(p,
                                                           "institution_id")
                                         ? esign_archive_str(p,
                                                       "institution_id")
                                         : "");
        sat = json_integer_value(json_object_get(sig, "signed_at"));

        if (at < created || at > now_ms || sig == NULL || sat != at) {
            ok = 0;
        }
    }

    r = esign_archive_add(checks, "signing_times", ok,
                          "every confirmation after initiation, in the past, "
                          "equal to its signature time");
    all &= r == 1;

    /* document digest */

    ds = esign_archive_str(c, "document_sm3");
    ok = ds != NULL && strlen(ds) == 64
         && esc_hex_decode(doc, sizeof(doc), &dl, ds, 64) == ESC_CRYPTO_OK
         && dl == 32;
    /* the SHA-256 of intl signatures: looked up, or recorded in c */

    if (sha256 == NULL && !intl_known) {
        s = esign_archive_str(c, "document_sha256");
        if (s != NULL && strlen(s) == 64
            && esc_hex_decode(sha, sizeof(sha), &dl, s, 64) == ESC_CRYPTO_OK
            && dl == 32)
        {
            sha256 = sha;
            intl_known = 1;
        }
    }

    intl = 0;

    json_array_foreach(json_object_get(c, "signatures"), i, sig) {
        s = esign_archive_str(sig, "suite");
        intl |= s != NULL && strcmp(s, "intl") == 0;
    }

    if (intl && intl_known && sha256 == NULL) {
        ok = 0;
    }

    r = esign_archive_add(checks, "document_digest", ok,
                          !ok ? "no document digest"
                          : intl && sha256 != NULL
                          ? "SM3 and SHA-256 of the stored document are "
                            "recorded"
                          : "SM3 of the stored document is recorded");
    all &= r == 1;

    /* every signature verifies against the digest and its certificate */

    ok = n > 0 && json_array_size(json_object_get(c, "signatures")) == n;

    json_array_foreach(parts, i, p) {
        pid = esign_archive_str(p, "institution_id");
        sig = pid ? esign_archive_signature(c, pid) : NULL;
        s = esign_archive_str(sig, "digest");

        if (sig == NULL || s == NULL || strlen(s) != 64
            || esc_hex_decode(dg, sizeof(dg), &dl, s, 64) != ESC_CRYPTO_OK)
        {
            ok = 0;
            continue;
        }

        /*
         * national signatures sign exactly the recorded SM3 digest, intl
         * ones the document's SHA-256 (when known: esign_archive_check_txn
         * or a recorded "document_sha256"); any other suite fails
         */
        s = esign_archive_str(sig, "suite");
        if (s == NULL
            || (strcmp(s, "national") == 0
                && (ds == NULL || memcmp(dg, doc, 32) != 0))
            || (strcmp(s, "intl") == 0 && intl_known
                && (sha256 == NULL || memcmp(dg, sha256, 32) != 0))
            || (strcmp(s, "national") != 0 && strcmp(s, "intl") != 0))
        {
            ok = 0;
        }

        s = esign_archive_str(p, "uscc");

        if (esign_db_sig_pems(txn, dbis, esign_archive_str(c, "id"),
                                    sig, &row, &cms, &cert)
            != 0)
        {
            ok = 0;
            continue;
        }

        if (esign_archive_verify(cms, cert, esign_archive_str(sig, "digest"),
                                 dg, &st, cu, pre, npre)
            != 0
            || (uint64_t) st != (uint64_t) json_integer_value(
                                    json_object_get(sig, "signed_at"))
                                / 1000
            || s == NULL || cu[0] == '\0' || strcmp(cu, s) != 0)
        {
            ok = 0;
        }

        json_decref(row);
    }

    r = esign_archive_add(checks, "signatures", ok,
                          "each party's CMS signature verifies with its "
                          "certificate over the document digest");
    all &= r == 1;

    arch = json_pack("{s:I, s:s, s:o}", "checked_at", (json_int_t) now_ms,
                     "result", all ? "passed" : "failed", "checks", checks);
    if (arch == NULL) {
        return -1;
    }

    json_object_set_new(c, "archive", arch);

    return all;
}


int
esign_archive_check(json_t *c, uint64_t now_ms)
{
    return esign_archive_run(NULL, NULL, c, now_ms, NULL, 0, NULL, 0);
}


int
esign_archive_check_txn(MDB_txn *txn, MDB_dbi *dbis, const char *kek,
    size_t kek_len, json_t *c, uint64_t now_ms)
{
    return esign_archive_check_txn_pre(txn, dbis, kek, kek_len, c, now_ms,
                                       NULL, 0);
}


int
esign_archive_check_txn_pre(MDB_txn *txn, MDB_dbi *dbis, const char *kek,
    size_t kek_len, json_t *c, uint64_t now_ms,
    const esign_archive_pre_t *pre, size_t npre)
{
    int          intl;
    size_t       i;
    json_t      *sig;
    uint8_t      sha[32];
    const char  *owner, *doc_id, *s;

    intl = 0;

    json_array_foreach(json_object_get(c, "signatures"), i, sig) {
        s = esign_archive_str(sig, "suite");
        intl |= s != NULL && strcmp(s, "intl") == 0;
    }

    if (!intl) {
        return esign_archive_run(txn, dbis, c, now_ms, NULL, 0, pre, npre);
    }

    owner = esign_archive_str(json_object_get(c, "initiator"),
                              "institution_id");
    doc_id = esign_archive_str(c, "document_id");

    if (owner == NULL || doc_id == NULL
        || esign_doc_digest(txn, dbis, kek, kek_len, owner, doc_id,
                            ESC_SUITE_INTL, sha)
           != 0)
    {
        /* unknown digest: every intl signature fails its check */
        return esign_archive_run(txn, dbis, c, now_ms, NULL, 1, pre, npre);
    }

    return esign_archive_run(txn, dbis, c, now_ms, sha, 1, pre, npre);
}
