/*
 * ledger.h: the esign evidence ledger (libesl), the only public header.
 *
 * A ledger is a directory holding several LMDB environments ("stripes").
 * Each stripe holds many shards; a shard is one append-only Merkle log
 * (RFC 6962 / RFC 9162 shape, SM3 in production) whose every group-commit
 * batch is one block.  A block header is a C2SP signed-note checkpoint,
 * signed with SM2 (SM3 digest, distinguishing ID "1234567812345678"):
 *
 *     <origin>\n<size>\n<base64 root>\nb <height> <base64 prev block hash>\n
 *     t <time ms>\n\n— <key name> <base64(key id[4] || r[32] || s[32])>\n
 *
 * The block hash is SM3 of the note body (everything before the blank
 * line), so the notes form a hash chain as well as signed tree heads.
 *
 * Conventions for every function below:
 *   - Returns ESL_OK (0) or a negative ESL_E* code; never aborts, never
 *     prints.  esl_strerror() names a code.
 *   - No global state.  All memory handed to the caller is either written
 *     into caller-provided storage or returned in an esl_buf that the
 *     caller releases with esl_buf_free().  Pointers the library passes to
 *     callbacks are valid only during the callback.
 *   - Hashes are ESL_HASH_LEN (32) raw bytes.
 *
 * Use from nginx (or any multi-process, multi-thread server):
 *   - Open in each worker's init_process: esl_open().  Never open in the
 *     master and keep the handle across fork(); never open the same
 *     directory twice in one process.  Close in exit_process.
 *   - An esl_ledger handle may be shared by all threads of the process:
 *     writers (esl_append_batch, esl_mirror_import) from thread-pool
 *     threads, readers (everything else) from the event loop.  Each call
 *     runs its own short LMDB transaction; none is kept between calls.
 *     LMDB's writer lock serialises writers per stripe across all
 *     processes, so appends to shards of different stripes run in
 *     parallel; every append reads the shard's last block inside its own
 *     write transaction, so concurrent workers can never fork a shard.
 *   - Call esl_reader_check() on a timer (stale reader slots of killed
 *     workers otherwise pin pages and grow the file).
 *   - ESL_EPANIC means the stripe's environment is unusable until
 *     reopened: let the worker exit (not with status 2) and respawn.
 *   - esl_signer / esl_verifier objects are immutable after loading and
 *     may be shared between threads.  An esl_hasher is NOT thread-safe:
 *     one per thread.
 */

#ifndef ESL_LEDGER_H
#define ESL_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ESL_VERSION_STRING   "esl 1.0"

/* Error codes. */
#define ESL_OK                 0
#define ESL_EINVAL           (-1)   /* bad argument */
#define ESL_ENOMEM           (-2)
#define ESL_ENOTFOUND        (-3)   /* no such shard/entry/block */
#define ESL_EFORMAT          (-4)   /* malformed or non-canonical input */
#define ESL_EPROOF           (-5)   /* a Merkle proof or root does not verify */
#define ESL_ESIG             (-6)   /* a signature does not verify */
#define ESL_ECRYPTO          (-7)   /* OpenSSL failure (key load etc.) */
#define ESL_ESTORE           (-8)   /* other LMDB failure */
#define ESL_EFULL            (-9)   /* LMDB map full: grow map_size; or a
                                       shard would pass 2^48 entries */
#define ESL_EREADERS        (-10)   /* LMDB reader slots exhausted */
#define ESL_EPANIC          (-11)   /* LMDB environment fatal; reopen */
#define ESL_EIO             (-12)   /* file system error */
#define ESL_EREADONLY       (-13)   /* shard failed its self-check: no
                                       more appends until an operator
                                       repairs it; reads still work */
#define ESL_ECORRUPT        (-14)   /* stored data disagrees with itself */
#define ESL_ECONFLICT       (-15)   /* entry_id reused with other bytes */
#define ESL_EROLLBACK       (-16)   /* mirror: checkpoint older than ours */
#define ESL_EEQUIVOCATION   (-17)   /* mirror: two roots for one size, or
                                       a fork; evidence was recorded */
#define ESL_EREJECTED       (-18)   /* mirror: validation function refused */
#define ESL_ECHAIN          (-19)   /* block link/height/time rule broken */
#define ESL_ETOOBIG         (-20)   /* caller buffer too small / too many */

const char *esl_strerror(int err);

#define ESL_HASH_LEN         32
#define ESL_MAX_PROOF        64     /* longest proof for any 64-bit size */
#define ESL_SHARD_MAX        64     /* shard name: [A-Za-z0-9._-]{1,64} */
#define ESL_ORIGIN_MAX       255
#define ESL_KEYNAME_MAX      128
#define ESL_SM2_ID           "1234567812345678"

/* Hash profile.  SM3 is production; SHA-256 exists so that the RFC 6962
 * test vectors run through the very same code. */
#define ESL_HASH_SM3         0
#define ESL_HASH_SHA256      1

/* A malloc'ed byte string owned by the caller after a successful call.
 * data[len] is always 0, so text (notes) can be used as a C string. */
typedef struct esl_buf {
    unsigned char  *data;
    size_t          len;
} esl_buf;

void esl_buf_free(esl_buf *b);          /* frees data, zeroes; NULL ok */

/* ------------------------------------------------------------------ */
/* Entries                                                             */
/* ------------------------------------------------------------------ */

/*
 * Wire format (all integers big-endian; every field is fixed-width or
 * length-prefixed, so the encoding of a value is unique):
 *
 *     u8  version = 1
 *     u16 kind
 *     u64 time_ms
 *     u8  entry_id length (1..64), entry_id bytes
 *     18  tenant USCC, [0-9A-HJ-NPQRTUWXY]{18}
 *     u32 payload length (0..65536), payload bytes
 *
 * Nothing may follow.  Leaf hash = H(0x00 || encoded entry); with SM3 this
 * is the entry's transaction hash (R-XCH-3).
 */
#define ESL_ENTRY_VERSION      1
#define ESL_ENTRY_ID_MAX       64
#define ESL_TENANT_LEN         18
#define ESL_PAYLOAD_MAX        65536
#define ESL_ENTRY_MAX          (1 + 2 + 8 + 1 + ESL_ENTRY_ID_MAX \
                                + ESL_TENANT_LEN + 4 + ESL_PAYLOAD_MAX)

#define ESL_KIND_GENERIC           0
#define ESL_KIND_PROCESS_EVIDENCE  1
#define ESL_KIND_RESULT_EVIDENCE   2
#define ESL_KIND_AUDIT             3

/* A decoded entry.  The pointers refer to caller memory (the input of
 * esl_entry_decode, or whatever the caller filled in for encoding). */
typedef struct esl_entry {
    unsigned              kind;         /* u16 */
    uint64_t              time_ms;
    const unsigned char  *entry_id;
    size_t                entry_id_len;
    const char           *tenant;       /* exactly 18 chars, no NUL needed */
    const unsigned char  *payload;
    size_t                payload_len;
} esl_entry;

/* Encoded length of e, or 0 if e is invalid. */
size_t esl_entry_encoded_len(const esl_entry *e);

/* Encode e into out (capacity cap).  *len receives the length.
 * ESL_EINVAL for an invalid entry, ESL_ETOOBIG if cap is too small. */
int esl_entry_encode(const esl_entry *e, unsigned char *out, size_t cap,
    size_t *len);

/* Strict decode: ESL_EFORMAT on any non-canonical input (unknown version,
 * bad lengths, bad USCC characters, trailing bytes).  e points into p. */
int esl_entry_decode(const unsigned char *p, size_t len, esl_entry *e);

/* ------------------------------------------------------------------ */
/* Hashing and Merkle proofs (pure, no storage)                       */
/* ------------------------------------------------------------------ */

typedef struct esl_hasher esl_hasher;   /* one per thread */

int  esl_hasher_new(int hash_alg, esl_hasher **h);
void esl_hasher_free(esl_hasher *h);

/* H(data) with no prefix (e.g. SM3 of a note body = block hash). */
int esl_hash(esl_hasher *h, const void *data, size_t len,
    unsigned char out[ESL_HASH_LEN]);
/* H(0x00 || data). */
int esl_leaf_hash(esl_hasher *h, const void *data, size_t len,
    unsigned char out[ESL_HASH_LEN]);
/* H(0x01 || left || right). */
int esl_node_hash(esl_hasher *h, const unsigned char l[ESL_HASH_LEN],
    const unsigned char r[ESL_HASH_LEN], unsigned char out[ESL_HASH_LEN]);

/* RFC 6962 MTH over n leaf hashes (n == 0: H("")). */
int esl_merkle_root(esl_hasher *h, const unsigned char (*leaves)[ESL_HASH_LEN],
    uint64_t n, unsigned char root[ESL_HASH_LEN]);

/* Build proofs over an in-memory array of leaf hashes (for mirrors that
 * hold a package in memory, and for tests).  proof must hold
 * ESL_MAX_PROOF hashes; *n receives the count. */
int esl_merkle_inclusion_proof(esl_hasher *h,
    const unsigned char (*leaves)[ESL_HASH_LEN], uint64_t index,
    uint64_t size, unsigned char (*proof)[ESL_HASH_LEN], size_t *n);
int esl_merkle_consistency_proof(esl_hasher *h,
    const unsigned char (*leaves)[ESL_HASH_LEN], uint64_t m, uint64_t size,
    unsigned char (*proof)[ESL_HASH_LEN], size_t *n);

/* RFC 9162 2.1.3.2.  ESL_OK or ESL_EPROOF (also for index >= size and a
 * proof of the wrong length). */
int esl_verify_inclusion(esl_hasher *h, const unsigned char leaf[ESL_HASH_LEN],
    uint64_t index, uint64_t size,
    const unsigned char (*proof)[ESL_HASH_LEN], size_t n,
    const unsigned char root[ESL_HASH_LEN]);

/* RFC 9162 2.1.4.2, plus: m == n needs an empty proof and equal roots;
 * m == 0 needs an empty proof; m > n fails.  ESL_OK or ESL_EPROOF. */
int esl_verify_consistency(esl_hasher *h, uint64_t m, uint64_t n,
    const unsigned char root1[ESL_HASH_LEN],
    const unsigned char root2[ESL_HASH_LEN],
    const unsigned char (*proof)[ESL_HASH_LEN], size_t count);

/* ------------------------------------------------------------------ */
/* SM2 keys and signatures                                             */
/* ------------------------------------------------------------------ */

typedef struct esl_signer   esl_signer;
typedef struct esl_verifier esl_verifier;

/* Load an SM2 private key (PEM, unencrypted PKCS#8 or "EC PRIVATE KEY"
 * on the SM2 curve).  key_name is the note signer name: printable ASCII
 * without spaces or '+', 1..ESL_KEYNAME_MAX.  ESL_ECRYPTO if the file is
 * not an SM2 key, ESL_EINVAL for a bad name. */
int  esl_signer_load_pem(const char *path, const char *key_name,
    esl_signer **s);
/* The same over an SM2 key already loaded (EVP_PKEY from OpenSSL); the
 * signer takes its own reference.  Needs <openssl/evp.h>. */
struct evp_pkey_st;
int  esl_signer_from_pkey(struct evp_pkey_st *pkey, const char *key_name,
    esl_signer **s);
void esl_signer_free(esl_signer *s);

/* Load an SM2 public key (PEM SubjectPublicKeyInfo). */
int  esl_verifier_load_pem(const char *path, const char *key_name,
    esl_verifier **v);
/* The verifier matching a signer (for self-checks and tests). */
int  esl_verifier_from_signer(const esl_signer *s, esl_verifier **v);
void esl_verifier_free(esl_verifier *v);

/* The C2SP vkey string "<name>+<hex key id>+<base64(0xff ||
 * "sm2-sm3/v1" || 65-byte point)>", for publication in a policy file. */
int esl_verifier_vkey(const esl_verifier *v, esl_buf *out);

/* Raw SM2-with-SM3 over msg.  id/idlen is the distinguishing ID; NULL
 * means ESL_SM2_ID; an empty ID (idlen == 0) is refused with ESL_EINVAL
 * because OpenSSL's empty default does not interoperate.  Signatures are
 * 64 bytes r || s; verify rejects r or s outside [1, n-1]. */
int esl_sm2_sign(const esl_signer *s, const void *id, size_t idlen,
    const void *msg, size_t len, unsigned char sig[64]);
int esl_sm2_verify(const esl_verifier *v, const void *id, size_t idlen,
    const void *msg, size_t len, const unsigned char sig[64]);

/* r || s <-> DER SEQUENCE{r, s} (for openssl and X.509-world tools). */
int esl_sm2_sig_to_der(const unsigned char sig[64], esl_buf *der);
int esl_sm2_sig_from_der(const unsigned char *der, size_t len,
    unsigned char sig[64]);

/* SM3 (GB/T 32905) without EVP's per-call overhead, for callers outside
 * the ledger (the module's HMAC-SM3). */
typedef struct esl_sm3_ctx {
    uint32_t       v[8];
    uint64_t       len;
    unsigned       num;
    unsigned char  buf[64];
} esl_sm3_ctx;

void esl_sm3_init(esl_sm3_ctx *c);
void esl_sm3_update(esl_sm3_ctx *c, const void *data, size_t len);
void esl_sm3_final(esl_sm3_ctx *c, unsigned char out[32]);

/* The SM2 arithmetic itself (esl_sm2ec.c), for callers that sign or
 * verify outside the ledger (the module's CMS signatures).  Keys are raw:
 * d is 32 bytes big-endian in [1, n-2]; public points are 65 bytes
 * 04 || x || y.  Signing is constant-time in d and the nonce (drawn from
 * RAND_priv_bytes); verification checks that the point is on the curve
 * and that r, s are in [1, n-1]. */
typedef struct esl_sm2_key esl_sm2_key;
struct evp_pkey_st;

int  esl_sm2_key_new(const unsigned char d[32], esl_sm2_key **k);
/* The same from an SM2 private key loaded by OpenSSL; ESL_ECRYPTO if it is
 * not SM2 or its scalar does not give its own public point. */
int  esl_sm2_key_from_pkey(struct evp_pkey_st *pkey, esl_sm2_key **k);
void esl_sm2_key_free(esl_sm2_key *k);
void esl_sm2_key_pub(const esl_sm2_key *k, unsigned char pub[65]);
int  esl_sm2_pub_check(const unsigned char pub[65]);
/* e = SM3(Z_A || msg), Z_A = SM3(ENTL || id || a || b || xG || yG || xA
 * || yA); id must not be empty. */
int  esl_sm2_digest(const unsigned char pub[65], const void *id,
    size_t idlen, const void *msg, size_t len, unsigned char e[32]);
int  esl_sm2_sign_e(const esl_sm2_key *k, const unsigned char e[32],
    unsigned char sig[64]);
/* ESL_OK, ESL_ESIG for a wrong signature, ESL_ECRYPTO for a bad point. */
int  esl_sm2_verify_e(const unsigned char pub[65], const unsigned char e[32],
    const unsigned char sig[64]);

/* ------------------------------------------------------------------ */
/* Checkpoint notes (block headers)                                   */
/* ------------------------------------------------------------------ */

typedef struct esl_checkpoint {
    char           origin[ESL_ORIGIN_MAX + 1];
    uint64_t       size;
    unsigned char  root[ESL_HASH_LEN];
    uint64_t       height;                  /* first block is 1 */
    unsigned char  prev[ESL_HASH_LEN];      /* zero for height 1 */
    uint64_t       time_ms;
    size_t         body_len;    /* signed bytes: text[0..body_len) */
    unsigned       nsigs;       /* signature lines (any signer) */
} esl_checkpoint;

/* Syntax only (strict: LF only, canonical decimals and base64, exactly
 * the five body lines, 1..16 well-formed signature lines).  Signatures
 * are not checked.  ESL_EFORMAT on any deviation. */
int esl_checkpoint_parse(const char *text, size_t len, esl_checkpoint *cp);

/* Parse and require a valid signature by v (name and key id must match;
 * signature lines of other keys are ignored).  ESL_ESIG if v's line is
 * missing or bad. */
int esl_checkpoint_verify(const esl_verifier *v, const char *text,
    size_t len, esl_checkpoint *cp);

/* Block hash: H(note body).  Used as "prev" of the next block. */
int esl_checkpoint_hash(esl_hasher *h, const char *text, size_t len,
    unsigned char out[ESL_HASH_LEN]);

/* Cosignature line over "cosignature/v1\ntime <t>\n" || note body,
 * formatted "— <name> <base64(key id[4] || t u64 BE || r || s)>\n".
 * esl_cosign returns the line; esl_cosignature_verify checks one line
 * against the note and returns its time. */
int esl_cosign(const esl_signer *s, const char *note, size_t len,
    uint64_t time_ms, esl_buf *line);
int esl_cosignature_verify(const esl_verifier *v, const char *note,
    size_t len, const char *line, size_t line_len, uint64_t *time_ms);

/* ------------------------------------------------------------------ */
/* The store                                                           */
/* ------------------------------------------------------------------ */

typedef struct esl_ledger esl_ledger;

typedef struct esl_options {
    unsigned   stripes;      /* environments when creating (default 4,
                                max 64); an existing ledger keeps its own */
    size_t     map_size;     /* per stripe, bytes (default 64 GiB sparse) */
    unsigned   max_readers;  /* per stripe (default 1022): size it for
                                workers x threads + slack */
    int        hash_alg;     /* fixed at creation; default SM3 */
    const char *origin_prefix;  /* new local shard origin is
                                "<prefix>/<shard>"; default "esign.local" */
    const esl_verifier *verifier;  /* optional: self-check and esl_verify
                                also check block signatures.  Borrowed:
                                must outlive the ledger handle. */
    unsigned   flags;
} esl_options;

#define ESL_OPEN_NOSELFCHECK   0x1  /* skip the start-up self-check */
#define ESL_OPEN_RDONLY        0x2  /* open environments read-only */

void esl_options_init(esl_options *o);

/* Open (creating if needed) the ledger directory.  Runs mdb_reader_check
 * on every stripe and, unless ESL_OPEN_NOSELFCHECK, the start-up
 * self-check of every shard (recompute the last block's leaves and root
 * and compare with its signed checkpoint); a failing shard becomes
 * read-only in this handle (see esl_shard_info), the open still
 * succeeds, and nothing is modified.  *l is owned by the caller. */
int  esl_open(const char *dir, const esl_options *opts, esl_ledger **l);
void esl_close(esl_ledger *l);      /* no call may be running; NULL ok */

/* The stripe (0 .. esl_stripes(l) - 1) holding the shard, or -1 for a
 * name that is not a shard name.  Appends to shards of different stripes
 * take different writer locks, so they may run in parallel threads. */
int      esl_shard_stripe(esl_ledger *l, const char *shard);
unsigned esl_stripes(const esl_ledger *l);

/* mdb_reader_check on every stripe; *dead (may be NULL) gets the count
 * of stale reader slots cleared. */
int esl_reader_check(esl_ledger *l, int *dead);

/* Per-entry append result. */
#define ESL_APPENDED    0    /* new entry, in the block just signed */
#define ESL_DUPLICATE   1    /* entry_id seen before, same bytes: index
                                is the original one */
typedef struct esl_append_result {
    int            status;  /* ESL_APPENDED, ESL_DUPLICATE, or
                               ESL_ECONFLICT (entry_id reused with other
                               bytes; index is the original entry's) */
    uint64_t       index;
    unsigned char  leaf_hash[ESL_HASH_LEN];   /* of the entry given */
} esl_append_result;

/*
 * Group commit: one LMDB write transaction stores the n entries, their
 * tiles, the idempotency and leaf-hash indexes and the newly signed block,
 * then commits with full durability (2 fsyncs).  On ESL_OK every
 * results[i] is filled and *checkpoint (may be NULL) receives the
 * shard's checkpoint after the batch (the new block's note, or the
 * previous one if every entry was a duplicate).  On error nothing was
 * stored.  The shard is created on first use.  Refuses (ESL_ECORRUPT,
 * shard turns read-only) to sign when the stored tree does not match the
 * last signed checkpoint, the new tree is not provably consistent with
 * it, or the stored entry bytes do not hash to the new leaves.  Blocks
 * until the stripe's writer lock is free: call from a thread pool.
 */
int esl_append_batch(esl_ledger *l, const char *shard,
    const esl_entry *entries, size_t n, const esl_signer *signer,
    esl_append_result *results, esl_buf *checkpoint);

/* Latest signed checkpoint note (the last block).  ESL_ENOTFOUND for an
 * unknown or empty shard. */
int esl_checkpoint_latest(esl_ledger *l, const char *shard, esl_buf *note);
/* Block note at a height (1-based). */
int esl_block_get(esl_ledger *l, const char *shard, uint64_t height,
    esl_buf *note);

/* Encoded bytes of the entry at index. */
int esl_entry_get(esl_ledger *l, const char *shard, uint64_t index,
    esl_buf *entry);

/* Calls fn for indexes [start, end) in order, inside one read
 * transaction (keep fn short; bytes valid only during the call).  A
 * non-zero return from fn stops the walk and is returned. */
typedef int (*esl_entry_fn)(void *arg, uint64_t index,
    const unsigned char *bytes, size_t len);
int esl_entry_range(esl_ledger *l, const char *shard, uint64_t start,
    uint64_t end, esl_entry_fn fn, void *arg);

/* Root and proofs against any tree size <= the shard's size. */
int esl_root(esl_ledger *l, const char *shard, uint64_t size,
    unsigned char root[ESL_HASH_LEN]);
int esl_inclusion_proof(esl_ledger *l, const char *shard, uint64_t index,
    uint64_t size, unsigned char (*proof)[ESL_HASH_LEN], size_t *n);
int esl_consistency_proof(esl_ledger *l, const char *shard, uint64_t from,
    uint64_t to, unsigned char (*proof)[ESL_HASH_LEN], size_t *n);

/* Lookup by leaf (transaction) hash across all stripes and shards. */
int esl_lookup_leaf(esl_ledger *l, const unsigned char leaf[ESL_HASH_LEN],
    char shard[ESL_SHARD_MAX + ESL_ORIGIN_MAX + 2], uint64_t *index);

typedef struct esl_shard_info {
    char       name[ESL_SHARD_MAX + ESL_ORIGIN_MAX + 2]; /* local: shard
                                name; mirror: "=" followed by origin */
    char       origin[ESL_ORIGIN_MAX + 1];
    unsigned   stripe;
    int        mirror;      /* 1: a copy of another site's log */
    int        readonly;    /* 1: failed self-check in this handle */
    int        hash_alg;    /* ESL_HASH_SM3 (or SHA-256 test ledgers) */
    uint64_t   size;
    uint64_t   height;
} esl_shard_info;

int esl_shard_info_get(esl_ledger *l, const char *shard, esl_shard_info *i);
typedef int (*esl_shard_fn)(void *arg, const esl_shard_info *info);
int esl_shards_list(esl_ledger *l, esl_shard_fn fn, void *arg);

/* ------------------------------------------------------------------ */
/* Checking                                                            */
/* ------------------------------------------------------------------ */

/* Report callback for checks: one line per fault (or progress note if
 * fault == 0).  May be NULL. */
typedef void (*esl_report_fn)(void *arg, int fault, const char *shard,
    const char *msg);

/* Start-up self-check of one shard (NULL: all); marks failing shards
 * read-only in this handle.  Returns the number of failing shards (>= 0)
 * or an error. */
int esl_selfcheck(esl_ledger *l, const char *shard, esl_report_fn fn,
    void *arg);

/* Full fsck of one shard (NULL: all): every entry decodes and hashes to
 * its leaf, every tile row recomputes, every index (idempotency, leaf
 * hash) points back, every block links to the previous one with growing
 * height, time and size, every block root matches the tree at its size,
 * and (if opts.verifier was set or v is given) every signature verifies.
 * Returns the number of faults (0 = clean) or a negative error.
 * stats (may be NULL) receives entries and bytes hashed. */
typedef struct esl_verify_stats {
    uint64_t  entries;
    uint64_t  entry_bytes;
    uint64_t  blocks;
    uint64_t  shards;
} esl_verify_stats;

int esl_verify(esl_ledger *l, const char *shard, const esl_verifier *v,
    esl_report_fn fn, void *arg, esl_verify_stats *stats);

/* ------------------------------------------------------------------ */
/* Mirror side of replication                                          */
/* ------------------------------------------------------------------ */

typedef struct esl_iov {
    const unsigned char  *data;
    size_t                len;
} esl_iov;

/* Validation ("smart contract") hook: return 0 to accept the entry at
 * index of origin, non-zero to refuse it.  Must be pure and
 * deterministic. */
typedef int (*esl_validate_fn)(void *arg, const char *origin,
    uint64_t index, const esl_entry *e);

/*
 * Import another site's checkpoint note (signed by origin_key), the
 * consistency proof from this mirror's current size of that origin to
 * the note's size, and the entries in between (exactly note.size -
 * current size of them, in order).  Verifies the signature, the block
 * chain rule (height grows; if it grows by one, prev links), consistency,
 * that the entries hash to the note's root, and validate() on each
 * entry; then commits entries, tiles and the note durably in one
 * transaction and returns in *cosig (may be NULL) this site's
 * cosignature line by cosigner.  A note for the current size with the
 * same root is re-cosigned (idempotent).
 *
 * Refusals store nothing, except that validly signed misbehaviour (a
 * different root for a size we hold, or a newer block for a smaller
 * tree) is recorded as evidence (esl_mirror_evidence) and answered
 * ESL_EEQUIVOCATION.  A stale replay gets ESL_EROLLBACK.
 */
int esl_mirror_import(esl_ledger *l, const esl_verifier *origin_key,
    const char *note, size_t note_len,
    const unsigned char (*proof)[ESL_HASH_LEN], size_t nproof,
    const esl_iov *entries, size_t nentries,
    esl_validate_fn validate, void *arg,
    const esl_signer *cosigner, esl_buf *cosig);

/* Size and last cosigned note of a mirrored origin (ENOTFOUND if none). */
int esl_mirror_state(esl_ledger *l, const char *origin, uint64_t *size,
    esl_buf *note);

/* The i-th (0-based) misbehaviour evidence recorded for origin: text
 * "reason\n" followed by the two conflicting notes. ENOTFOUND past end. */
int esl_mirror_evidence(esl_ledger *l, const char *origin, uint64_t i,
    esl_buf *evidence);

#ifdef __cplusplus
}
#endif

#endif /* ESL_LEDGER_H */
