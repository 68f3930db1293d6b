/*
 * Read-only ledger routes for evidence agencies, supervisors and peer
 * sites (R-EVID-5, R-XCH-1..3): shards, checkpoints, entries, proofs and
 * the lookup by transaction (leaf) hash.  Public: everything here is
 * hashes, signed notes and evidence entries that carry no plaintext
 * personal data.  Every query parameter is parsed strictly.
 */


#include "ngx_esign.h"
#include "ngx_esign_ledger.h"

#include "esc_codec.h"


#define NGX_ESIGN_LEDGER_RANGE_MAX  1000


static ngx_int_t ngx_esign_api_ledger_shards(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_ledger_checkpoint(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_ledger_entries(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_ledger_inclusion(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_ledger_consistency(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_ledger_tx(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);


ngx_esign_route_t  ngx_esign_ledger_routes[] = {
    { NGX_HTTP_GET, "/ledger/shards", 0, ngx_esign_api_ledger_shards },
    { NGX_HTTP_GET, "/ledger/tx/{}", 0, ngx_esign_api_ledger_tx },
    { NGX_HTTP_GET, "/ledger/{}/checkpoint", 0,
      ngx_esign_api_ledger_checkpoint },
    { NGX_HTTP_GET, "/ledger/{}/entries", 0, ngx_esign_api_ledger_entries },
    { NGX_HTTP_GET, "/ledger/{}/proof/inclusion", 0,
      ngx_esign_api_ledger_inclusion },
    { NGX_HTTP_GET, "/ledger/{}/proof/consistency", 0,
      ngx_esign_api_ledger_consistency },
    { 0, NULL, 0, NULL }
};


static ngx_int_t
ngx_esign_ledger_bad(ngx_http_request_t *r, const char *msg)
{
    return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST, "invalid_request",
                                msg);
}


static ngx_int_t
ngx_esign_ledger_unavailable(ngx_http_request_t *r)
{
    ngx_str_t  retry = ngx_string("1");

    (void) ngx_esign_add_header(r, "Retry-After", &retry);

    return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable", "the ledger is unavailable");
}


/* A canonical decimal query argument: 1..19 digits, no leading zero. */
static ngx_int_t
ngx_esign_ledger_arg(ngx_http_request_t *r, char *name, uint64_t *out)
{
    size_t      i;
    uint64_t    v;
    ngx_str_t   value;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &value)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (value.len == 0 || value.len > 19
        || (value.len > 1 && value.data[0] == '0'))
    {
        return NGX_ERROR;
    }

    v = 0;

    for (i = 0; i < value.len; i++) {
        if (value.data[i] < '0' || value.data[i] > '9') {
            return NGX_ERROR;
        }

        v = v * 10 + (value.data[i] - '0');
    }

    *out = v;

    return NGX_OK;
}


/* The {shard} parameter as a C string; NGX_ERROR if it is not a name. */
static ngx_int_t
ngx_esign_ledger_shard(ngx_esign_ctx_t *ctx, char *out)
{
    if (ctx->params[0].len == 0 || ctx->params[0].len > ESL_SHARD_MAX) {
        return NGX_ERROR;
    }

    /* the router admits [A-Za-z0-9._-] only */
    ngx_memcpy(out, ctx->params[0].data, ctx->params[0].len);
    out[ctx->params[0].len] = '\0';

    return NGX_OK;
}


static json_t *
ngx_esign_ledger_hex(const u_char *p, size_t len)
{
    char  buf[2 * ESL_HASH_LEN + 1];

    if (len > ESL_HASH_LEN
        || esc_hex_encode(buf, sizeof(buf), p, len) != 0)
    {
        return json_null();
    }

    return json_string(buf);
}


static int
ngx_esign_ledger_shard_item(void *arg, const esl_shard_info *info)
{
    json_t   *items = arg;
    json_t   *item;
    esl_buf   note;

    note.data = NULL;
    note.len = 0;

    (void) esl_checkpoint_latest(ngx_esign_ledger(), info->name, &note);

    item = json_pack("{s:s, s:s, s:I, s:I, s:b, s:b, s:s%}",
                     "name", info->name,
                     "origin", info->origin,
                     "size", (json_int_t) info->size,
                     "height", (json_int_t) info->height,
                     "mirror", info->mirror,
                     "readonly", info->readonly,
                     "checkpoint", note.data ? (char *) note.data : "",
                     note.data ? note.len : 0);

    esl_buf_free(&note);

    if (item == NULL) {
        return -1;
    }

    return json_array_append_new(items, item);
}


static ngx_int_t
ngx_esign_api_ledger_shards(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    json_t  *items, *res;

    if (ngx_esign_ledger() == NULL) {
        return ngx_esign_ledger_unavailable(r);
    }

    items = json_array();
    res = json_pack("{s:o}", "items", items);

    if (res == NULL || ngx_esign_json_pool(r->pool, res) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (esl_shards_list(ngx_esign_ledger(), ngx_esign_ledger_shard_item,
                        items)
        != ESL_OK)
    {
        return ngx_esign_ledger_unavailable(r);
    }

    return ngx_esign_send_json(r, NGX_HTTP_OK, res);
}


static ngx_int_t
ngx_esign_api_ledger_checkpoint(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int           rc;
    char          shard[ESL_SHARD_MAX + 1];
    esl_buf       note;
    ngx_buf_t    *b;
    ngx_int_t     n;
    ngx_chain_t   out;

    if (ngx_esign_ledger() == NULL) {
        return ngx_esign_ledger_unavailable(r);
    }

    if (ngx_esign_ledger_shard(ctx, shard) != NGX_OK) {
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such shard");
    }

    rc = esl_checkpoint_latest(ngx_esign_ledger(), shard, &note);
    if (rc == ESL_ENOTFOUND || rc == ESL_EINVAL) {
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such shard");
    }

    if (rc != ESL_OK) {
        return ngx_esign_ledger_unavailable(r);
    }

    b = ngx_create_temp_buf(r->pool, note.len);
    if (b == NULL) {
        esl_buf_free(&note);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->pos, note.data, note.len);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    esl_buf_free(&note);

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "text/plain; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    n = ngx_http_send_header(r);
    if (n == NGX_ERROR || n > NGX_OK || r->header_only) {
        return n;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static int
ngx_esign_ledger_entry_item(void *arg, uint64_t index,
    const unsigned char *bytes, size_t len)
{
    json_t         *items = arg;
    char           *b64;
    size_t          blen;
    json_t         *item;
    esl_hasher     *h;
    unsigned char   leaf[ESL_HASH_LEN];

    blen = esc_b64_encoded_len(len, ESC_B64_STD) + 1;
    b64 = malloc(blen);
    if (b64 == NULL) {
        return -1;
    }

    if (esc_b64_encode(b64, blen, bytes, len, ESC_B64_STD) != 0
        || esl_hasher_new(ESL_HASH_SM3, &h) != ESL_OK)
    {
        free(b64);
        return -1;
    }

    if (esl_leaf_hash(h, bytes, len, leaf) != ESL_OK) {
        esl_hasher_free(h);
        free(b64);
        return -1;
    }

    esl_hasher_free(h);

    item = json_pack("{s:I, s:o, s:s}",
                     "index", (json_int_t) index,
                     "leaf_hash", ngx_esign_ledger_hex(leaf, ESL_HASH_LEN),
                     "entry_b64", b64);
    free(b64);

    if (item == NULL) {
        return -1;
    }

    return json_array_append_new(items, item);
}


static ngx_int_t
ngx_esign_api_ledger_entries(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int              rc;
    char             shard[ESL_SHARD_MAX + 1];
    json_t          *items, *res;
    uint64_t         start, end;
    esl_shard_info   info;

    if (ngx_esign_ledger() == NULL) {
        return ngx_esign_ledger_unavailable(r);
    }

    if (ngx_esign_ledger_shard(ctx, shard) != NGX_OK
        || esl_shard_info_get(ngx_esign_ledger(), shard, &info) != ESL_OK)
    {
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such shard");
    }

    if (ngx_esign_ledger_arg(r, "start", &start) != NGX_OK
        || ngx_esign_ledger_arg(r, "end", &end) != NGX_OK)
    {
        return ngx_esign_ledger_bad(r, "start and end must be decimal "
                                       "indexes");
    }

    if (start >= end || end > info.size
        || end - start > NGX_ESIGN_LEDGER_RANGE_MAX)
    {
        return ngx_esign_ledger_bad(r, "need start < end <= size and at "
                                       "most 1000 entries");
    }

    items = json_array();
    res = json_pack("{s:s, s:I, s:I, s:o}", "shard", shard,
                    "start", (json_int_t) start, "end", (json_int_t) end,
                    "items", items);

    if (res == NULL || ngx_esign_json_pool(r->pool, res) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = esl_entry_range(ngx_esign_ledger(), shard, start, end,
                         ngx_esign_ledger_entry_item, items);
    if (rc != ESL_OK) {
        return ngx_esign_ledger_unavailable(r);
    }

    return ngx_esign_send_json(r, NGX_HTTP_OK, res);
}


static json_t *
ngx_esign_ledger_proof_json(unsigned char (*proof)[ESL_HASH_LEN], size_t n)
{
    size_t   i;
    json_t  *a;

    a = json_array();

    for (i = 0; a != NULL && i < n; i++) {
        json_array_append_new(a, ngx_esign_ledger_hex(proof[i],
                                                      ESL_HASH_LEN));
    }

    return a;
}


static ngx_int_t
ngx_esign_api_ledger_inclusion(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    char             shard[ESL_SHARD_MAX + 1];
    size_t           n;
    json_t          *res;
    uint64_t         index, size;
    esl_shard_info   info;
    unsigned char    root[ESL_HASH_LEN];
    unsigned char    proof[ESL_MAX_PROOF][ESL_HASH_LEN];

    if (ngx_esign_ledger() == NULL) {
        return ngx_esign_ledger_unavailable(r);
    }

    if (ngx_esign_ledger_shard(ctx, shard) != NGX_OK
        || esl_shard_info_get(ngx_esign_ledger(), shard, &info) != ESL_OK)
    {
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such shard");
    }

    if (ngx_esign_ledger_arg(r, "index", &index) != NGX_OK
        || ngx_esign_ledger_arg(r, "size", &size) != NGX_OK
        || index >= size || size > info.size)
    {
        return ngx_esign_ledger_bad(r, "need index < size <= tree size");
    }

    if (esl_inclusion_proof(ngx_esign_ledger(), shard, index, size, proof,
                            &n)
        != ESL_OK
        || esl_root(ngx_esign_ledger(), shard, size, root) != ESL_OK)
    {
        return ngx_esign_ledger_unavailable(r);
    }

    res = json_pack("{s:s, s:I, s:I, s:o, s:o}", "shard", shard,
                    "index", (json_int_t) index, "size", (json_int_t) size,
                    "root", ngx_esign_ledger_hex(root, ESL_HASH_LEN),
                    "proof", ngx_esign_ledger_proof_json(proof, n));

    if (res == NULL || ngx_esign_json_pool(r->pool, res) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_esign_send_json(r, NGX_HTTP_OK, res);
}


static ngx_int_t
ngx_esign_api_ledger_consistency(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx)
{
    char             shard[ESL_SHARD_MAX + 1];
    size_t           n;
    json_t          *res;
    uint64_t         from, to;
    esl_shard_info   info;
    unsigned char    r1[ESL_HASH_LEN], r2[ESL_HASH_LEN];
    unsigned char    proof[ESL_MAX_PROOF][ESL_HASH_LEN];

    if (ngx_esign_ledger() == NULL) {
        return ngx_esign_ledger_unavailable(r);
    }

    if (ngx_esign_ledger_shard(ctx, shard) != NGX_OK
        || esl_shard_info_get(ngx_esign_ledger(), shard, &info) != ESL_OK)
    {
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such shard");
    }

    if (ngx_esign_ledger_arg(r, "from", &from) != NGX_OK
        || ngx_esign_ledger_arg(r, "to", &to) != NGX_OK
        || from == 0 || from > to || to > info.size)
    {
        return ngx_esign_ledger_bad(r, "need 0 < from <= to <= tree size");
    }

    if (esl_consistency_proof(ngx_esign_ledger(), shard, from, to, proof,
                              &n)
        != ESL_OK
        || esl_root(ngx_esign_ledger(), shard, from, r1) != ESL_OK
        || esl_root(ngx_esign_ledger(), shard, to, r2) != ESL_OK)
    {
        return ngx_esign_ledger_unavailable(r);
    }

    res = json_pack("{s:s, s:I, s:I, s:o, s:o, s:o}", "shard", shard,
                    "from", (json_int_t) from, "to", (json_int_t) to,
                    "from_root", ngx_esign_ledger_hex(r1, ESL_HASH_LEN),
                    "to_root", ngx_esign_ledger_hex(r2, ESL_HASH_LEN),
                    "proof", ngx_esign_ledger_proof_json(proof, n));

    if (res == NULL || ngx_esign_json_pool(r->pool, res) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_esign_send_json(r, NGX_HTTP_OK, res);
}


static ngx_int_t
ngx_esign_api_ledger_tx(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    size_t          n;
    json_t         *res;
    unsigned char   leaf[ESL_HASH_LEN];

    if (ngx_esign_ledger() == NULL) {
        return ngx_esign_ledger_unavailable(r);
    }

    if (ctx->params[0].len != 2 * ESL_HASH_LEN
        || esc_hex_decode(leaf, sizeof(leaf), &n,
                          (char *) ctx->params[0].data, ctx->params[0].len)
           != 0
        || n != ESL_HASH_LEN)
    {
        return ngx_esign_ledger_bad(r, "the transaction hash is 64 hex "
                                       "digits");
    }

    res = ngx_esign_ledger_receipt(leaf);
    if (res == NULL) {
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such transaction");
    }

    if (ngx_esign_json_pool(r->pool, res) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_esign_send_json(r, NGX_HTTP_OK, res);
}
