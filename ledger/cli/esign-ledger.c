/*
 * esign-ledger: the ledger's command-line tool: fsck (verify), stat, dump,
 * proofs, receipts, offline receipt verification, append, bench.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "cli.h"
#include "esl_int.h"

static const char *usage_text =
"usage: esign-ledger <command> [options]\n"
"\n"
"  verify <datadir> [--shard S] [--pubkey PEM --key-name NAME]\n"
"      fsck: every entry, leaf, tile, index, root, block link and (with\n"
"      --pubkey) signature; exit 1 and a report line per fault\n"
"  stat <datadir>                      shards, stripes, sizes, heights\n"
"  dump <datadir> --shard S [--from I] [--to J] [--blocks]\n"
"  proof <datadir> --shard S inclusion INDEX [SIZE]\n"
"  proof <datadir> --shard S consistency FROM TO\n"
"  receipt <datadir> --shard S INDEX   print a receipt (JSON) for an entry\n"
"  verify-receipt --pubkey PEM --key-name NAME [--hash sm3|sha256] FILE\n"
"      check a receipt offline: note signature, entry -> leaf hash,\n"
"      inclusion proof -> signed root\n"
"  append <datadir> --shard S --key PEM --key-name NAME [--count N]\n"
"      [--batch B] [--prefix P]      append N generated test entries\n"
"  bench [dir]                         performance figures (DESIGN.md)\n";


static int
usage(void)
{
    fputs(usage_text, stderr);
    return 2;
}


typedef struct {
    const char  *shard, *pubkey, *key, *key_name, *hash, *prefix;
    uint64_t     from, to, count, batch;
    int          blocks, have_to;
} opts_t;


static struct option long_opts[] = {
    { "shard",    required_argument, NULL, 's' },
    { "pubkey",   required_argument, NULL, 'p' },
    { "key",      required_argument, NULL, 'k' },
    { "key-name", required_argument, NULL, 'n' },
    { "hash",     required_argument, NULL, 'H' },
    { "from",     required_argument, NULL, 'f' },
    { "to",       required_argument, NULL, 't' },
    { "count",    required_argument, NULL, 'c' },
    { "batch",    required_argument, NULL, 'b' },
    { "prefix",   required_argument, NULL, 'P' },
    { "blocks",   no_argument,       NULL, 'B' },
    { NULL, 0, NULL, 0 }
};


static int
parse_opts(int argc, char **argv, opts_t *o)
{
    int  c;

    memset(o, 0, sizeof(*o));
    o->count = 1000;
    o->batch = 100;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        switch (c) {
        case 's': o->shard = optarg; break;
        case 'p': o->pubkey = optarg; break;
        case 'k': o->key = optarg; break;
        case 'n': o->key_name = optarg; break;
        case 'H': o->hash = optarg; break;
        case 'P': o->prefix = optarg; break;
        case 'f': o->from = strtoull(optarg, NULL, 10); break;
        case 't': o->to = strtoull(optarg, NULL, 10); o->have_to = 1; break;
        case 'c': o->count = strtoull(optarg, NULL, 10); break;
        case 'b': o->batch = strtoull(optarg, NULL, 10); break;
        case 'B': o->blocks = 1; break;
        default:  return -1;
        }
    }
    return 0;
}


static esl_ledger *
open_existing(const char *dir, int rdonly)
{
    esl_options  o;
    esl_ledger  *l = NULL;
    int          rc;

    esl_options_init(&o);
    o.flags = ESL_OPEN_NOSELFCHECK | (rdonly ? ESL_OPEN_RDONLY : 0);
    rc = esl_open(dir, &o, &l);
    if (rc != ESL_OK) {
        fprintf(stderr, "esign-ledger: cannot open %s: %s\n", dir,
                esl_strerror(rc));
        return NULL;
    }
    return l;
}


static void
report_line(void *arg, int fault, const char *shard, const char *msg)
{
    (void) arg;
    printf("%s %s: %s\n", fault ? "FAULT" : "ok   ", shard, msg);
}


static int
cmd_verify(int argc, char **argv)
{
    opts_t            o;
    esl_ledger       *l;
    esl_verifier     *v = NULL;
    esl_verify_stats  st;
    int               rc;

    if (parse_opts(argc, argv, &o) != 0 || optind + 1 != argc) {
        return usage();
    }
    if (o.pubkey != NULL) {
        rc = esl_verifier_load_pem(o.pubkey,
                                   o.key_name ? o.key_name : "", &v);
        if (rc != ESL_OK) {
            fprintf(stderr, "esign-ledger: %s: %s (--key-name given?)\n",
                    o.pubkey, esl_strerror(rc));
            return 2;
        }
    }
    if ((l = open_existing(argv[optind], 1)) == NULL) {
        esl_verifier_free(v);
        return 2;
    }
    rc = esl_verify(l, o.shard, v, report_line, NULL, &st);
    if (rc < 0) {
        printf("FAULT verify stopped: %s\n", esl_strerror(rc));
    }
    printf("verify: %llu shards, %llu entries (%llu bytes), %llu blocks, "
           "signatures %s: %s\n",
           (unsigned long long) st.shards, (unsigned long long) st.entries,
           (unsigned long long) st.entry_bytes,
           (unsigned long long) st.blocks,
           v ? "checked" : "NOT checked (no --pubkey)",
           rc == 0 ? "OK" : "FAILED");
    esl_close(l);
    esl_verifier_free(v);
    return rc == 0 ? 0 : 1;
}


static int
stat_fn(void *arg, const esl_shard_info *i)
{
    (void) arg;
    printf("%-24s stripe %-2u %s size %-10llu height %-8llu %s%s\n",
           i->name, i->stripe, i->mirror ? "mirror" : "local ",
           (unsigned long long) i->size, (unsigned long long) i->height,
           i->origin, i->readonly ? "  READ-ONLY" : "");
    return 0;
}


static int
cmd_stat(int argc, char **argv)
{
    opts_t       o;
    esl_ledger  *l;
    int          rc, bad;

    if (parse_opts(argc, argv, &o) != 0 || optind + 1 != argc) {
        return usage();
    }
    if ((l = open_existing(argv[optind], 1)) == NULL) {
        return 2;
    }
    bad = esl_selfcheck(l, NULL, report_line, NULL);
    rc = esl_shards_list(l, stat_fn, NULL);
    if (bad > 0) {
        printf("%d shard(s) failed the start-up self-check\n", bad);
    }
    esl_close(l);
    return rc == 0 && bad == 0 ? 0 : 1;
}


static void
print_escaped(const unsigned char *p, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
            putchar(p[i]);
        } else {
            printf("\\x%02x", p[i]);
        }
    }
}


typedef struct {
    esl_hasher  *h;
} dump_ctx;


static int
dump_fn(void *arg, uint64_t index, const unsigned char *b, size_t len)
{
    dump_ctx       *d = arg;
    esl_entry       e;
    unsigned char   leaf[ESL_HASH_LEN];
    char            hex[2 * ESL_HASH_LEN + 1];
    size_t          i;

    esl_leaf_hash(d->h, b, len, leaf);
    esl__hex(leaf, ESL_HASH_LEN, hex);
    printf("%llu %s ", (unsigned long long) index, hex);
    if (esl_entry_decode(b, len, &e) != ESL_OK) {
        printf("UNDECODABLE (%zu bytes)\n", len);
        return 0;
    }
    printf("kind=%u time=%llu id=", e.kind, (unsigned long long) e.time_ms);
    print_escaped(e.entry_id, e.entry_id_len);
    printf(" tenant=%.18s payload[%zu]=", e.tenant, e.payload_len);
    for (i = 0; i < e.payload_len && i < 32; i++) {
        printf("%02x", e.payload[i]);
    }
    printf("%s\n", e.payload_len > 32 ? "..." : "");
    return 0;
}


static int
cmd_dump(int argc, char **argv)
{
    opts_t          o;
    esl_ledger     *l;
    esl_shard_info  info;
    dump_ctx        d;
    esl_buf         b;
    uint64_t        h;
    int             rc;

    if (parse_opts(argc, argv, &o) != 0 || optind + 1 != argc
        || o.shard == NULL)
    {
        return usage();
    }
    if ((l = open_existing(argv[optind], 1)) == NULL) {
        return 2;
    }
    if ((rc = esl_shard_info_get(l, o.shard, &info)) != ESL_OK) {
        fprintf(stderr, "esign-ledger: %s: %s\n", o.shard, esl_strerror(rc));
        esl_close(l);
        return 1;
    }
    if (o.blocks) {
        for (h = 1; h <= info.height; h++) {
            if (esl_block_get(l, o.shard, h, &b) == ESL_OK) {
                printf("-- block %llu\n%s", (unsigned long long) h,
                       (char *) b.data);
                esl_buf_free(&b);
            }
        }
    } else {
        esl_hasher_new(info.hash_alg, &d.h);
        rc = esl_entry_range(l, o.shard, o.from,
                             o.have_to ? o.to : info.size, dump_fn, &d);
        esl_hasher_free(d.h);
    }
    esl_close(l);
    return rc == 0 ? 0 : 1;
}


static int
cmd_proof(int argc, char **argv)
{
    opts_t          o;
    esl_ledger     *l;
    esl_shard_info  info;
    unsigned char   proof[ESL_MAX_PROOF][ESL_HASH_LEN], root[ESL_HASH_LEN];
    char            hex[2 * ESL_HASH_LEN + 1];
    uint64_t        a, b;
    size_t          n = 0, i;
    int             rc, incl;

    if (parse_opts(argc, argv, &o) != 0 || o.shard == NULL
        || argc - optind < 3)
    {
        return usage();
    }
    incl = strcmp(argv[optind + 1], "inclusion") == 0;
    if (!incl && strcmp(argv[optind + 1], "consistency") != 0) {
        return usage();
    }
    if ((l = open_existing(argv[optind], 1)) == NULL) {
        return 2;
    }
    if ((rc = esl_shard_info_get(l, o.shard, &info)) != ESL_OK) {
        fprintf(stderr, "esign-ledger: %s\n", esl_strerror(rc));
        esl_close(l);
        return 1;
    }
    a = strtoull(argv[optind + 2], NULL, 10);
    b = argc - optind > 3 ? strtoull(argv[optind + 3], NULL, 10) : info.size;
    rc = incl ? esl_inclusion_proof(l, o.shard, a, b, proof, &n)
              : esl_consistency_proof(l, o.shard, a, b, proof, &n);
    if (rc == ESL_OK) {
        rc = esl_root(l, o.shard, b, root);
    }
    if (rc != ESL_OK) {
        fprintf(stderr, "esign-ledger: %s\n", esl_strerror(rc));
        esl_close(l);
        return 1;
    }
    esl__hex(root, ESL_HASH_LEN, hex);
    printf("%s %llu %llu\nroot %s\n", incl ? "inclusion" : "consistency",
           (unsigned long long) a, (unsigned long long) b, hex);
    for (i = 0; i < n; i++) {
        esl__hex(proof[i], ESL_HASH_LEN, hex);
        printf("%s\n", hex);
    }
    esl_close(l);
    return 0;
}


/* Generated entries: deterministic, so an appended test ledger can be
 * re-checked byte for byte. */
static int
cmd_append(int argc, char **argv)
{
    opts_t              o;
    esl_options         eo;
    esl_ledger         *l;
    esl_signer         *s;
    esl_entry          *e;
    esl_append_result  *res;
    char              (*ids)[65];
    unsigned char       pay[200];
    uint64_t            done = 0, i, k;
    int                 rc;

    if (parse_opts(argc, argv, &o) != 0 || optind + 1 != argc
        || o.shard == NULL || o.key == NULL || o.key_name == NULL
        || o.batch == 0 || o.batch > 100000)
    {
        return usage();
    }
    if ((rc = esl_signer_load_pem(o.key, o.key_name, &s)) != ESL_OK) {
        fprintf(stderr, "esign-ledger: %s: %s\n", o.key, esl_strerror(rc));
        return 2;
    }
    esl_options_init(&eo);
    if (o.prefix) {
        eo.origin_prefix = o.prefix;
    }
    if ((rc = esl_open(argv[optind], &eo, &l)) != ESL_OK) {
        fprintf(stderr, "esign-ledger: %s\n", esl_strerror(rc));
        esl_signer_free(s);
        return 2;
    }
    e = calloc(o.batch, sizeof(*e));
    res = calloc(o.batch, sizeof(*res));
    ids = calloc(o.batch, sizeof(*ids));
    for (i = 0; i < sizeof(pay); i++) {
        pay[i] = (unsigned char) i;
    }
    rc = ESL_OK;
    while (done < o.count && rc == ESL_OK) {
        k = o.count - done < o.batch ? o.count - done : o.batch;
        for (i = 0; i < k; i++) {
            snprintf(ids[i], sizeof(ids[i]), "cli-%llu",
                     (unsigned long long) (done + i));
            e[i].kind = ESL_KIND_GENERIC;
            e[i].time_ms = esl__now_ms();
            e[i].entry_id = (unsigned char *) ids[i];
            e[i].entry_id_len = strlen(ids[i]);
            e[i].tenant = "91350100M000100Y43";
            e[i].payload = pay;
            e[i].payload_len = sizeof(pay);
        }
        rc = esl_append_batch(l, o.shard, e, k, s, res, NULL);
        done += k;
    }
    if (rc != ESL_OK) {
        fprintf(stderr, "esign-ledger: append: %s\n", esl_strerror(rc));
    }
    free(e);
    free(res);
    free(ids);
    esl_close(l);
    esl_signer_free(s);
    return rc == ESL_OK ? 0 : 1;
}


int
main(int argc, char **argv)
{
    if (argc < 2) {
        return usage();
    }
    argc--;
    argv++;
    if (strcmp(argv[0], "verify") == 0) {
        return cmd_verify(argc, argv);
    }
    if (strcmp(argv[0], "stat") == 0) {
        return cmd_stat(argc, argv);
    }
    if (strcmp(argv[0], "dump") == 0) {
        return cmd_dump(argc, argv);
    }
    if (strcmp(argv[0], "proof") == 0) {
        return cmd_proof(argc, argv);
    }
    if (strcmp(argv[0], "receipt") == 0) {
        return cmd_receipt(argc, argv);
    }
    if (strcmp(argv[0], "verify-receipt") == 0) {
        return cmd_verify_receipt(argc, argv);
    }
    if (strcmp(argv[0], "append") == 0) {
        return cmd_append(argc, argv);
    }
    if (strcmp(argv[0], "bench") == 0) {
        return cmd_bench(argc, argv);
    }
    return usage();
}
