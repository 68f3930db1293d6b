/*
 * cli/receipt.c: evidence receipts: print one from a ledger, and verify
 * one offline with nothing but the site's public key (R-FOR-2, R-XCH-1).
 *
 * Receipt (JSON, UTF-8):
 *   {
 *     "shard":           "t-91350100M000100Y43",       informational
 *     "index":           41,                           leaf index
 *     "leaf_hash":       "<64 hex>",                   transaction hash
 *     "entry":           "<base64 of the entry bytes>" optional
 *     "checkpoint":      "<signed checkpoint note text>",
 *     "inclusion_proof": ["<64 hex>", ...],            index -> note size
 *     "hash":            "sm3"                          optional (default)
 *   }
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <jansson.h>

#include "cli.h"
#include "esl_int.h"


int
cmd_receipt(int argc, char **argv)
{
    esl_options     o;
    esl_ledger     *l;
    esl_shard_info  info;
    esl_buf         note, entry;
    unsigned char   proof[ESL_MAX_PROOF][ESL_HASH_LEN], leaf[ESL_HASH_LEN];
    char            hex[2 * ESL_HASH_LEN + 1], *b64, *out;
    const char     *shard = NULL;
    esl_checkpoint  cp;
    esl_hasher     *h;
    json_t         *j, *arr;
    uint64_t        index;
    size_t          n, i;
    int             rc, c;
    static struct option lo[] = {
        { "shard", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 }
    };

    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c != 's') {
            return 2;
        }
        shard = optarg;
    }
    if (shard == NULL || argc - optind != 2) {
        fprintf(stderr, "usage: esign-ledger receipt <datadir> --shard S "
                        "INDEX\n");
        return 2;
    }
    index = strtoull(argv[optind + 1], NULL, 10);
    esl_options_init(&o);
    o.flags = ESL_OPEN_RDONLY | ESL_OPEN_NOSELFCHECK;
    if ((rc = esl_open(argv[optind], &o, &l)) != ESL_OK) {
        fprintf(stderr, "esign-ledger: %s\n", esl_strerror(rc));
        return 2;
    }
    /* The proof is made against the size of the latest signed note, as
     * a client must be able to check it against that note. */
    rc = esl_shard_info_get(l, shard, &info);
    if (rc == ESL_OK) {
        rc = esl_checkpoint_latest(l, shard, &note);
    }
    if (rc == ESL_OK) {
        rc = esl_checkpoint_parse((char *) note.data, note.len, &cp);
        if (rc == ESL_OK) {
            rc = esl_inclusion_proof(l, shard, index, cp.size, proof, &n);
        }
        if (rc == ESL_OK) {
            rc = esl_entry_get(l, shard, index, &entry);
        }
        if (rc != ESL_OK) {
            esl_buf_free(&note);
        }
    }
    if (rc != ESL_OK) {
        fprintf(stderr, "esign-ledger: receipt: %s\n", esl_strerror(rc));
        esl_close(l);
        return 1;
    }
    esl_hasher_new(info.hash_alg, &h);
    esl_leaf_hash(h, entry.data, entry.len, leaf);
    esl_hasher_free(h);

    j = json_object();
    json_object_set_new(j, "shard", json_string(shard));
    json_object_set_new(j, "index", json_integer((json_int_t) index));
    esl__hex(leaf, ESL_HASH_LEN, hex);
    json_object_set_new(j, "leaf_hash", json_string(hex));
    b64 = malloc(entry.len * 4 / 3 + 8);
    esl__b64_enc(entry.data, entry.len, b64);
    json_object_set_new(j, "entry", json_string(b64));
    free(b64);
    json_object_set_new(j, "checkpoint", json_string((char *) note.data));
    arr = json_array();
    for (i = 0; i < n; i++) {
        esl__hex(proof[i], ESL_HASH_LEN, hex);
        json_array_append_new(arr, json_string(hex));
    }
    json_object_set_new(j, "inclusion_proof", arr);
    json_object_set_new(j, "hash", json_string(
        info.hash_alg == ESL_HASH_SM3 ? "sm3" : "sha256"));
    out = json_dumps(j, JSON_INDENT(2));
    printf("%s\n", out);
    free(out);
    json_decref(j);
    esl_buf_free(&note);
    esl_buf_free(&entry);
    esl_close(l);
    return 0;
}


static int
check(int okay, const char *what)
{
    printf("%s %s\n", okay ? "ok  " : "FAIL", what);
    return okay ? 0 : 1;
}


int
cmd_verify_receipt(int argc, char **argv)
{
    const char     *pub = NULL, *name = NULL, *hash = "sm3";
    esl_verifier   *v = NULL;
    esl_hasher     *h = NULL;
    esl_checkpoint  cp;
    json_error_t    err;
    json_t         *j, *jp, *x;
    unsigned char   leaf[ESL_HASH_LEN], calc[ESL_HASH_LEN];
    unsigned char (*proof)[ESL_HASH_LEN] = NULL, *eb = NULL;
    const char     *note, *s;
    uint64_t        index;
    size_t          n, i, el;
    int             c, fails = 0, rc, alg;
    static struct option lo[] = {
        { "pubkey", required_argument, NULL, 'p' },
        { "key-name", required_argument, NULL, 'n' },
        { "hash", required_argument, NULL, 'H' },
        { NULL, 0, NULL, 0 }
    };

    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'p': pub = optarg; break;
        case 'n': name = optarg; break;
        case 'H': hash = optarg; break;
        default:  return 2;
        }
    }
    if (pub == NULL || name == NULL || argc - optind != 1) {
        fprintf(stderr, "usage: esign-ledger verify-receipt --pubkey PEM "
                        "--key-name NAME RECEIPT.json\n");
        return 2;
    }
    if ((rc = esl_verifier_load_pem(pub, name, &v)) != ESL_OK) {
        fprintf(stderr, "esign-ledger: %s: %s\n", pub, esl_strerror(rc));
        return 2;
    }
    j = json_load_file(argv[optind], JSON_REJECT_DUPLICATES, &err);
    if (j == NULL || !json_is_object(j)) {
        fprintf(stderr, "esign-ledger: %s: %s\n", argv[optind], err.text);
        esl_verifier_free(v);
        return 2;
    }
    x = json_object_get(j, "hash");
    if (json_is_string(x)) {
        hash = json_string_value(x);
    }
    alg = strcmp(hash, "sha256") == 0 ? ESL_HASH_SHA256 : ESL_HASH_SM3;
    if (strcmp(hash, "sm3") != 0 && alg != ESL_HASH_SHA256) {
        fails += check(0, "known hash profile");
        goto out;
    }
    esl_hasher_new(alg, &h);

    x = json_object_get(j, "checkpoint");
    note = json_is_string(x) ? json_string_value(x) : "";
    rc = esl_checkpoint_verify(v, note, strlen(note), &cp);
    fails += check(rc == ESL_OK, "checkpoint note is signed by the site key "
                                 "(SM2, SM3, ID 1234567812345678)");
    if (rc != ESL_OK) {
        goto out;
    }
    printf("     origin %s size %llu height %llu time %llu\n", cp.origin,
           (unsigned long long) cp.size, (unsigned long long) cp.height,
           (unsigned long long) cp.time_ms);

    x = json_object_get(j, "index");
    if (!json_is_integer(x) || json_integer_value(x) < 0) {
        fails += check(0, "index present");
        goto out;
    }
    index = (uint64_t) json_integer_value(x);
    fails += check(index < cp.size, "index is inside the signed tree");

    x = json_object_get(j, "leaf_hash");
    s = json_is_string(x) ? json_string_value(x) : "";
    if (strlen(s) != 64 || esl__unhex(s, 64, leaf) != ESL_OK) {
        fails += check(0, "leaf_hash is 64 hex digits");
        goto out;
    }
    x = json_object_get(j, "entry");
    if (json_is_string(x)) {
        s = json_string_value(x);
        eb = malloc(strlen(s) + 1);
        rc = esl__b64_dec(s, strlen(s), eb, strlen(s), &el);
        if (rc == ESL_OK) {
            esl_entry e;
            esl_leaf_hash(h, eb, el, calc);
            fails += check(memcmp(calc, leaf, ESL_HASH_LEN) == 0,
                           "entry bytes hash to leaf_hash");
            rc = esl_entry_decode(eb, el, &e);
            fails += check(rc == ESL_OK, "entry is a canonical ledger entry");
            if (rc == ESL_OK) {
                printf("     kind %u time %llu tenant %.18s id ", e.kind,
                       (unsigned long long) e.time_ms, e.tenant);
                fwrite(e.entry_id, 1, e.entry_id_len, stdout);
                printf(" payload %zu bytes\n", e.payload_len);
            }
        } else {
            fails += check(0, "entry is base64");
        }
    } else {
        printf("     (no entry bytes in the receipt: leaf_hash taken as "
               "given)\n");
    }

    jp = json_object_get(j, "inclusion_proof");
    n = json_is_array(jp) ? json_array_size(jp) : 0;
    if (!json_is_array(jp) || n > ESL_MAX_PROOF) {
        fails += check(0, "inclusion_proof is a list of at most 64 hashes");
        goto out;
    }
    proof = malloc((n + 1) * ESL_HASH_LEN);
    for (i = 0; i < n; i++) {
        x = json_array_get(jp, i);
        s = json_is_string(x) ? json_string_value(x) : "";
        if (strlen(s) != 64 || esl__unhex(s, 64, proof[i]) != ESL_OK) {
            fails += check(0, "inclusion_proof hashes are 64 hex digits");
            goto out;
        }
    }
    rc = esl_verify_inclusion(h, leaf, index, cp.size,
                              (const unsigned char (*)[ESL_HASH_LEN]) proof,
                              n, cp.root);
    fails += check(rc == ESL_OK, "inclusion proof leads to the signed root");

out:
    printf("receipt: %s\n", fails ? "INVALID" : "VALID");
    free(proof);
    free(eb);
    json_decref(j);
    esl_hasher_free(h);
    esl_verifier_free(v);
    return fails ? 1 : 0;
}
