/*
 * The Redis store of sessions, kill markers and rate-limit buckets, for
 * several nginx instances behind one load balancer.  Blocking hiredis
 * calls with short timeouts, made only from pool threads, one connection
 * per thread (reconnected after any error).  Keys:
 *
 *     esign:s:<hex SM3 of the session ID>   session text, PX idle + 60 s
 *     esign:k:a:<account_id>, esign:k:i:<inst_id>
 *                                            "killed at" ms, PX lifetime
 *     esign:b:<bucket key>                   leaky bucket hash, PX 1 h
 */


#include "ngx_esign.h"
#include "ngx_esign_session.h"

#include <hiredis/hiredis.h>


#define NGX_ESIGN_REDIS_GRACE  60000


static __thread redisContext  *ngx_esign_redis_conn;


static const char  ngx_esign_redis_bucket_lua[] =
    "local v = redis.call('HMGET', KEYS[1], 'e', 'l') "
    "local now = tonumber(ARGV[1]) "
    "local rate = tonumber(ARGV[2]) "
    "local burst = tonumber(ARGV[3]) "
    "local e = tonumber(v[1]) or 0 "
    "local l = tonumber(v[2]) or now "
    "if now > l then e = e - math.floor(rate * (now - l) / 1000) end "
    "if e < 0 then e = 0 end "
    "e = e + 1000 "
    "if e > burst * 1000 then "
    "  return math.floor((e - burst * 1000) * 1000 / rate) "
    "end "
    "redis.call('HSET', KEYS[1], 'e', e, 'l', now) "
    "redis.call('PEXPIRE', KEYS[1], 3600000) "
    "return -1";


static redisContext *
ngx_esign_redis_get(ngx_esign_redis_conf_t *rc)
{
    struct timeval   tv;
    redisContext    *c;

    if (ngx_esign_redis_conn != NULL) {
        return ngx_esign_redis_conn;
    }

    tv.tv_sec = rc->timeout / 1000;
    tv.tv_usec = (rc->timeout % 1000) * 1000;

    c = redisConnectWithTimeout(rc->host, rc->port, tv);
    if (c == NULL) {
        return NULL;
    }

    if (c->err || redisSetTimeout(c, tv) != REDIS_OK) {
        redisFree(c);
        return NULL;
    }

    ngx_esign_redis_conn = c;

    return c;
}


static void
ngx_esign_redis_drop(void)
{
    if (ngx_esign_redis_conn != NULL) {
        redisFree(ngx_esign_redis_conn);
        ngx_esign_redis_conn = NULL;
    }
}


/* runs one command; NULL (connection dropped) on any transport error */
static redisReply *
ngx_esign_redis_cmd(ngx_esign_redis_conf_t *rc, const char *fmt, ...)
{
    va_list        ap;
    redisReply    *reply;
    redisContext  *c;
    ngx_uint_t     attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        c = ngx_esign_redis_get(rc);
        if (c == NULL) {
            return NULL;
        }

        va_start(ap, fmt);
        reply = redisvCommand(c, fmt, ap);
        va_end(ap);

        if (reply != NULL && reply->type != REDIS_REPLY_ERROR) {
            return reply;
        }

        if (reply != NULL) {
            freeReplyObject(reply);
            return NULL;
        }

        /* a connection broken by a restart is retried once, fresh */
        ngx_esign_redis_drop();
    }

    return NULL;
}


static void
ngx_esign_redis_key(u_char hash[32], char *out)
{
    u_char  *p;

    p = (u_char *) ngx_cpymem(out, "esign:s:", 8);
    p = ngx_hex_dump(p, hash, 32);
    *p = '\0';
}


static int
ngx_esign_redis_encode(ngx_esign_session_rec_t *rec, char *buf, size_t size)
{
    return snprintf(buf, size, "v1|%u|%llu|%llu|%s|%s|%s",
                    (unsigned) rec->role,
                    (unsigned long long) rec->created,
                    (unsigned long long) rec->last_seen,
                    rec->account_id, rec->institution_id, rec->csrf);
}


static int
ngx_esign_redis_decode(const char *s, size_t len,
    ngx_esign_session_rec_t *rec)
{
    char                fields[7][NGX_ESIGN_REC_ID_MAX + 1];
    size_t              n, f, i;
    unsigned long long  v;

    ngx_memzero(fields, sizeof(fields));
    f = 0;
    n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '|') {
            if (++f == 7) {
                return -1;
            }

            n = 0;
            continue;
        }

        if (n == NGX_ESIGN_REC_ID_MAX) {
            return -1;
        }

        fields[f][n++] = s[i];
    }

    if (f != 6 || ngx_strcmp(fields[0], "v1") != 0
        || ngx_strlen(fields[6]) != NGX_ESIGN_CSRF_LEN)
    {
        return -1;
    }

    rec->role = strtoul(fields[1], NULL, 10);
    v = strtoull(fields[2], NULL, 10);
    rec->created = v;
    v = strtoull(fields[3], NULL, 10);
    rec->last_seen = v;
    ngx_cpystrn((u_char *) rec->account_id, (u_char *) fields[4],
                NGX_ESIGN_REC_ID_MAX);
    ngx_cpystrn((u_char *) rec->institution_id, (u_char *) fields[5],
                NGX_ESIGN_REC_ID_MAX);
    ngx_cpystrn((u_char *) rec->csrf, (u_char *) fields[6],
                NGX_ESIGN_CSRF_LEN + 1);

    return 0;
}


int
ngx_esign_redis_put(ngx_esign_redis_conf_t *rc, ngx_esign_session_rec_t *rec,
    uint64_t idle)
{
    char         key[80], val[256];
    redisReply  *reply;

    ngx_esign_redis_key(rec->hash, key);

    if (ngx_esign_redis_encode(rec, val, sizeof(val)) >= (int) sizeof(val)) {
        return NGX_ESIGN_SESS_UNAVAILABLE;
    }

    reply = ngx_esign_redis_cmd(rc, "SET %s %s PX %llu", key, val,
                                (unsigned long long)
                                    (idle + NGX_ESIGN_REDIS_GRACE));
    if (reply == NULL) {
        return NGX_ESIGN_SESS_UNAVAILABLE;
    }

    freeReplyObject(reply);

    return NGX_ESIGN_SESS_OK;
}


int
ngx_esign_redis_touch(ngx_esign_redis_conf_t *rc, u_char hash[32],
    uint64_t now, uint64_t idle, uint64_t absolute, int slide,
    ngx_esign_session_rec_t *out)
{
    int          dead;
    char         key[80], val[256];
    size_t       i;
    redisReply  *reply, *el;

    ngx_esign_redis_key(hash, key);

    reply = ngx_esign_redis_cmd(rc, "GET %s", key);
    if (reply == NULL) {
        return NGX_ESIGN_SESS_UNAVAILABLE;
    }

    if (reply->type != REDIS_REPLY_STRING) {
        freeReplyObject(reply);
        return NGX_ESIGN_SESS_NONE;
    }

    if (ngx_esign_redis_decode(reply->str, reply->len, out) != 0) {
        freeReplyObject(reply);
        return NGX_ESIGN_SESS_NONE;
    }

    freeReplyObject(reply);
    ngx_memcpy(out->hash, hash, 32);

    dead = (now > out->last_seen + idle || now > out->created + absolute);

    if (!dead) {
        /* a kill marker newer than the session's birth ends it */
        reply = ngx_esign_redis_cmd(rc, "MGET esign:k:a:%s esign:k:i:%s",
                                    out->account_id,
                                    out->institution_id[0]
                                        ? out->institution_id : "-");
        if (reply == NULL) {
            return NGX_ESIGN_SESS_UNAVAILABLE;
        }

        if (reply->type == REDIS_REPLY_ARRAY) {
            for (i = 0; i < reply->elements; i++) {
                el = reply->element[i];

                if (el->type == REDIS_REPLY_STRING
                    && strtoull(el->str, NULL, 10) >= out->created)
                {
                    dead = 1;
                }
            }
        }

        freeReplyObject(reply);
    }

    if (dead) {
        reply = ngx_esign_redis_cmd(rc, "DEL %s", key);
        if (reply != NULL) {
            freeReplyObject(reply);
        }

        return NGX_ESIGN_SESS_EXPIRED;
    }

    if (!slide) {
        /* a background poll: alive, but the idle limit is not moved */
        return NGX_ESIGN_SESS_OK;
    }

    if (now > out->last_seen) {
        out->last_seen = now;
    }

    (void) ngx_esign_redis_encode(out, val, sizeof(val));

    reply = ngx_esign_redis_cmd(rc, "SET %s %s PX %llu XX", key, val,
                                (unsigned long long)
                                    (idle + NGX_ESIGN_REDIS_GRACE));
    if (reply == NULL) {
        return NGX_ESIGN_SESS_UNAVAILABLE;
    }

    freeReplyObject(reply);

    return NGX_ESIGN_SESS_OK;
}


int
ngx_esign_redis_delete(ngx_esign_redis_conf_t *rc, u_char hash[32])
{
    char         key[80];
    redisReply  *reply;

    ngx_esign_redis_key(hash, key);

    reply = ngx_esign_redis_cmd(rc, "DEL %s", key);
    if (reply == NULL) {
        return NGX_ESIGN_SESS_UNAVAILABLE;
    }

    freeReplyObject(reply);

    return NGX_ESIGN_SESS_OK;
}


int
ngx_esign_redis_kill(ngx_esign_redis_conf_t *rc, ngx_uint_t by_institution,
    const char *id, uint64_t now, uint64_t ttl)
{
    redisReply  *reply;

    reply = ngx_esign_redis_cmd(rc, "SET esign:k:%s:%s %llu PX %llu",
                                by_institution ? "i" : "a", id,
                                (unsigned long long) now,
                                (unsigned long long) ttl);
    if (reply == NULL) {
        return NGX_ESIGN_SESS_UNAVAILABLE;
    }

    freeReplyObject(reply);

    return NGX_ESIGN_SESS_OK;
}


/* NGX_OK, NGX_BUSY (*retry_ms set) or NGX_ERROR (Redis unreachable). */
int
ngx_esign_redis_bucket(ngx_esign_redis_conf_t *rc, const char *key,
    ngx_uint_t rate, ngx_uint_t burst, uint64_t now, uint64_t *retry_ms)
{
    redisReply  *reply;
    long long    v;

    reply = ngx_esign_redis_cmd(rc, "EVAL %s 1 esign:b:%s %llu %llu %llu",
                                ngx_esign_redis_bucket_lua, key,
                                (unsigned long long) now,
                                (unsigned long long) (rate ? rate : 1),
                                (unsigned long long) burst);
    if (reply == NULL) {
        return NGX_ERROR;
    }

    v = (reply->type == REDIS_REPLY_INTEGER) ? reply->integer : -1;
    freeReplyObject(reply);

    if (v < 0) {
        return NGX_OK;
    }

    *retry_ms = (uint64_t) v;

    return NGX_BUSY;
}
