/*
 * In-site messages (R-NOTE-1, R-NOTE-4): GET /messages, GET
 * /messages/count, POST /messages/{id}/read.  A caller sees only the
 * messages of its own institution addressed to it; operators have none.
 */


#include "ngx_esign.h"
#include "ngx_esign_db.h"
#include "ngx_esign_notify.h"
#include "ngx_esign_outbox.h"


#define NGX_ESIGN_MSG_KEY_MAX    256
#define NGX_ESIGN_MSG_SCAN_MAX   10000


typedef struct {
    char                       key[NGX_ESIGN_MSG_KEY_MAX];
    uint64_t                   now;
} ngx_esign_msg_read_t;


static ngx_int_t ngx_esign_api_messages_list(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_messages_count(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_messages_read(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);
static ngx_int_t ngx_esign_api_messages_read_done(ngx_http_request_t *r,
    ngx_esign_ctx_t *ctx);


ngx_esign_route_t  ngx_esign_messages_routes[] = {
    { NGX_HTTP_GET, "/messages", NGX_ESIGN_AUTH,
      ngx_esign_api_messages_list },
    { NGX_HTTP_GET, "/messages/count", NGX_ESIGN_AUTH,
      ngx_esign_api_messages_count },
    { NGX_HTTP_POST, "/messages/{}/read", NGX_ESIGN_AUTH,
      ngx_esign_api_messages_read },
    { 0, NULL, 0, NULL }
};


/* Is a message for this caller? (its institution was checked by key) */
static ngx_uint_t
ngx_esign_msg_visible(ngx_esign_actor_t *actor, json_t *msg)
{
    const char  *aud, *acc;

    aud = json_string_value(json_object_get(msg, "audience"));

    if (aud == NULL) {
        return 0;
    }

    if (ngx_strcmp(aud, "institution") == 0) {
        return 1;
    }

    if (ngx_strcmp(aud, "admins") == 0) {
        return actor->role == NGX_ESIGN_ROLE_INST_ADMIN;
    }

    if (ngx_strcmp(aud, "account") == 0) {
        acc = json_string_value(json_object_get(msg, "account_id"));

        return acc != NULL && ngx_strlen(acc) == actor->account_id.len
               && ngx_strncmp(acc, actor->account_id.data,
                              actor->account_id.len) == 0;
    }

    return 0;
}


static ngx_uint_t
ngx_esign_msg_is_read(MDB_txn *txn, MDB_dbi dbi, ngx_esign_actor_t *actor,
    const u_char *id, size_t idlen)
{
    u_char   key[NGX_ESIGN_MSG_KEY_MAX], *p;
    MDB_val  k, v;

    p = ngx_snprintf(key, sizeof(key), "%V/r/%V/%*s", &actor->institution_id,
                     &actor->account_id, idlen, id);

    k.mv_data = key;
    k.mv_size = p - key;

    return mdb_get(txn, dbi, &k, &v) == 0;
}


/* Scope checks shared by the routes: a member of an institution. */
static ngx_uint_t
ngx_esign_msg_scoped(ngx_esign_actor_t *actor)
{
    return actor != NULL
           && actor->role != NGX_ESIGN_ROLE_OPERATOR
           && actor->institution_id.len > 0
           && actor->institution_id.len < 64
           && actor->account_id.len > 0
           && actor->account_id.len < 64;
}


/*
 * Walks the caller's institution's messages newest first, from before
 * "cursor" when given.  cb returns 0 to go on, 1 to stop.
 */
typedef ngx_int_t (*ngx_esign_msg_walk_pt)(json_t *msg, ngx_uint_t read,
    void *data);

static ngx_int_t
ngx_esign_msg_walk(ngx_http_request_t *r, ngx_esign_actor_t *actor,
    ngx_str_t *cursor, ngx_esign_msg_walk_pt cb, void *data)
{
    int           rc;
    u_char        key[NGX_ESIGN_MSG_KEY_MAX], prefix[NGX_ESIGN_MSG_KEY_MAX],
                 *p;
    size_t        plen;
    json_t       *msg;
    MDB_dbi       dbi;
    MDB_txn      *txn;
    MDB_val       k, v;
    ngx_int_t     ret;
    ngx_uint_t    scanned, read;
    MDB_cursor   *cur;
    json_error_t  err;

    txn = ngx_esign_store_read(r);
    if (txn == NULL) {
        return NGX_ERROR;
    }

    dbi = ngx_esign_store_dbi(r, ESIGN_DB_MESSAGES);

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return NGX_ERROR;
    }

    p = ngx_snprintf(prefix, sizeof(prefix), "%V/m/", &actor->institution_id);
    plen = p - prefix;

    if (cursor != NULL && cursor->len) {
        p = ngx_snprintf(key, sizeof(key), "%V/m/%V", &actor->institution_id,
                         cursor);
    } else {
        /* '0' follows '/': the key just past the institution's messages */
        p = ngx_snprintf(key, sizeof(key), "%V/m0", &actor->institution_id);
    }

    k.mv_data = key;
    k.mv_size = p - key;

    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    rc = (rc == 0) ? mdb_cursor_get(cur, &k, &v, MDB_PREV)
                   : mdb_cursor_get(cur, &k, &v, MDB_LAST);

    ret = NGX_OK;
    scanned = 0;

    for ( /* void */ ; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {

        if (k.mv_size != plen + ESIGN_MSG_ID_LEN
            || ngx_memcmp(k.mv_data, prefix, plen) != 0
            || ++scanned > NGX_ESIGN_MSG_SCAN_MAX)
        {
            break;
        }

        msg = json_loadb(v.mv_data, v.mv_size, 0, &err);
        if (msg == NULL) {
            continue;
        }

        if (!ngx_esign_msg_visible(actor, msg)) {
            json_decref(msg);
            continue;
        }

        read = ngx_esign_msg_is_read(txn, dbi, actor,
                                     (u_char *) k.mv_data + plen,
                                     ESIGN_MSG_ID_LEN);

        ret = cb(msg, read, data);
        json_decref(msg);

        if (ret != 0) {
            break;
        }
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    return ret == NGX_ERROR ? NGX_ERROR : NGX_OK;
}


typedef struct {
    json_t                    *items;
    json_t                    *doc;
    ngx_int_t                  limit;
    ngx_uint_t                 unread;
    ngx_uint_t                 n;
} ngx_esign_msg_list_t;


static ngx_int_t
ngx_esign_msg_list_cb(json_t *msg, ngx_uint_t read, void *data)
{
    ngx_esign_msg_list_t *ml = data;

    json_t      *item;
    const char  *type, *oid;
    char         link[160];

    if (ml->unread && read) {
        return 0;
    }

    if ((ngx_int_t) ml->n == ml->limit) {
        item = json_array_get(ml->items, ml->n - 1);
        (void) json_object_set(ml->doc, "next_cursor",
                               json_object_get(item, "id"));
        return 1;
    }

    type = json_string_value(json_object_get(msg, "object_type"));
    oid = json_string_value(json_object_get(msg, "object_id"));

    link[0] = '\0';

    if (type != NULL && oid != NULL && ngx_strlen(oid) < 100) {
        if (ngx_strcmp(type, "contract") == 0) {
            ngx_sprintf((u_char *) link, "/admin/#/contracts/%s%Z", oid);

        } else if (ngx_strcmp(type, "institution") == 0) {
            ngx_sprintf((u_char *) link, "/admin/#/institution%Z");
        }
    }

    item = json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:b}",
                     "id", json_object_get(msg, "id"),
                     "event", json_object_get(msg, "event"),
                     "title", json_object_get(msg, "title"),
                     "body", json_object_get(msg, "body"),
                     "object_type", json_object_get(msg, "object_type"),
                     "object_id", json_object_get(msg, "object_id"),
                     "created_at", json_object_get(msg, "created_at"),
                     "read", (int) read);
    if (item == NULL) {
        return NGX_ERROR;
    }

    if (link[0] != '\0') {
        (void) json_object_set_new(item, "page", json_string(link));
    }

    if (json_array_append_new(ml->items, item) != 0) {
        return NGX_ERROR;
    }

    ml->n++;

    return 0;
}


static ngx_int_t
ngx_esign_api_messages_list(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    ngx_str_t             arg, cursor;
    ngx_esign_msg_list_t  ml;

    ngx_memzero(&ml, sizeof(ngx_esign_msg_list_t));
    ngx_str_null(&cursor);

    ml.limit = 50;

    if (ngx_http_arg(r, (u_char *) "unread", 6, &arg) == NGX_OK) {
        if (arg.len != 1 || (arg.data[0] != '0' && arg.data[0] != '1')) {
            return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_request",
                                        "unread must be 0 or 1");
        }

        ml.unread = (arg.data[0] == '1');
    }

    if (ngx_http_arg(r, (u_char *) "limit", 5, &arg) == NGX_OK) {
        ml.limit = ngx_atoi(arg.data, arg.len);
        if (ml.limit < 1 || ml.limit > 500) {
            return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_request",
                                        "limit must be 1..500");
        }
    }

    if (ngx_http_arg(r, (u_char *) "cursor", 6, &cursor) == NGX_OK
        && !esign_msg_id_valid((char *) cursor.data, cursor.len))
    {
        return ngx_esign_send_error(r, NGX_HTTP_BAD_REQUEST,
                                    "invalid_request", "invalid cursor");
    }

    ml.doc = json_pack("{s:[],s:n}", "items", "next_cursor");
    if (ml.doc == NULL || ngx_esign_json_pool(r->pool, ml.doc) == NULL) {
        json_decref(ml.doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ml.items = json_object_get(ml.doc, "items");

    if (ngx_esign_msg_scoped(ctx->actor)
        && ngx_esign_msg_walk(r, ctx->actor, &cursor, ngx_esign_msg_list_cb,
                              &ml)
           != NGX_OK)
    {
        return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    "the store is unavailable");
    }

    return ngx_esign_send_json(r, NGX_HTTP_OK, ml.doc);
}


static ngx_int_t
ngx_esign_msg_count_cb(json_t *msg, ngx_uint_t read, void *data)
{
    ngx_uint_t  *n = data;

    if (!read) {
        (*n)++;
    }

    return 0;
}


static ngx_int_t
ngx_esign_api_messages_count(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    json_t      *doc;
    ngx_int_t    rc;
    ngx_uint_t   n;

    n = 0;

    if (ngx_esign_msg_scoped(ctx->actor)
        && ngx_esign_msg_walk(r, ctx->actor, NULL, ngx_esign_msg_count_cb,
                              &n)
           != NGX_OK)
    {
        return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    "the store is unavailable");
    }

    doc = json_pack("{s:I}", "unread", (json_int_t) n);
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_esign_send_json(r, NGX_HTTP_OK, doc);
    json_decref(doc);

    return rc;
}


static int
ngx_esign_msg_read_txn(MDB_txn *txn, MDB_dbi *dbis, void *data)
{
    ngx_esign_msg_read_t *mr = data;

    int      rc;
    char     at[32];
    json_t  *mark;

    esign_notify_time(mr->now, at);

    mark = json_pack("{s:s}", "at", at);
    if (mark == NULL) {
        return ENOMEM;
    }

    rc = esign_db_put_json(txn, dbis[ESIGN_DB_MESSAGES], mr->key,
                           ngx_strlen(mr->key), mark, MDB_NOOVERWRITE);
    json_decref(mark);

    /* marked before: nothing to change, and not an error */
    return rc == MDB_KEYEXIST ? 0 : rc;
}


static ngx_int_t
ngx_esign_api_messages_read(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    int                    rc;
    u_char                 key[NGX_ESIGN_MSG_KEY_MAX], *p;
    json_t                *msg;
    MDB_txn               *txn;
    ngx_str_t             *id;
    ngx_uint_t             visible;
    ngx_esign_msg_read_t  *mr;

    id = &ctx->params[0];

    if (!ngx_esign_msg_scoped(ctx->actor)
        || !esign_msg_id_valid((char *) id->data, id->len))
    {
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such message");
    }

    txn = ngx_esign_store_read(r);
    if (txn == NULL) {
        return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable",
                                    "the store is unavailable");
    }

    p = ngx_snprintf(key, sizeof(key), "%V/m/%V",
                     &ctx->actor->institution_id, id);

    msg = NULL;
    rc = esign_db_get_json(txn, ngx_esign_store_dbi(r, ESIGN_DB_MESSAGES),
                           key, p - key, &msg);
    mdb_txn_abort(txn);

    visible = (rc == 0 && ngx_esign_msg_visible(ctx->actor, msg));

    if (msg != NULL) {
        json_decref(msg);
    }

    if (!visible) {
        /* another institution's message is "not found" too */
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such message");
    }

    mr = ngx_pcalloc(r->pool, sizeof(ngx_esign_msg_read_t));
    if (mr == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_snprintf((u_char *) mr->key, sizeof(mr->key) - 1, "%V/r/%V/%V%Z",
                 &ctx->actor->institution_id, &ctx->actor->account_id, id);
    mr->now = ngx_esign_notify_now();

    if (ngx_esign_store_write(r, ctx, ngx_esign_msg_read_txn, mr,
                              ngx_esign_api_messages_read_done)
        != NGX_OK)
    {
        return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "try again later");
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_esign_api_messages_read_done(ngx_http_request_t *r, ngx_esign_ctx_t *ctx)
{
    if (ngx_esign_store_rc(ctx) != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "esign: marking a message read failed: %s",
                      mdb_strerror(ngx_esign_store_rc(ctx)));
        return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", "try again later");
    }

    return ngx_esign_send_empty(r, NGX_HTTP_NO_CONTENT);
}
