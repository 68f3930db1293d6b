/*
 * Sessions: one interface over two stores, the shared-memory zone
 * (default; survives "nginx -s reload") and Redis ("esign_redis": several
 * nginx instances share sessions).  The store keeps only the SM3 of the
 * session ID, never the cookie value.
 */

#ifndef _NGX_ESIGN_SESSION_H_INCLUDED_
#define _NGX_ESIGN_SESSION_H_INCLUDED_


#include "ngx_esign.h"


#define NGX_ESIGN_SESSION_COOKIE    "esign_session"
#define NGX_ESIGN_SID_BYTES         32
#define NGX_ESIGN_SID_LEN           43      /* base64url, no padding */
#define NGX_ESIGN_CSRF_LEN          43
#define NGX_ESIGN_REC_ID_MAX        48

/* store answers */
#define NGX_ESIGN_SESS_OK           0
#define NGX_ESIGN_SESS_NONE         1       /* unknown ID */
#define NGX_ESIGN_SESS_EXPIRED      2       /* idle or absolute limit */
#define NGX_ESIGN_SESS_UNAVAILABLE  3       /* Redis down, zone full */


/* The stored session (plain, fixed size; the Redis value is its text). */
typedef struct {
    u_char        hash[32];                          /* SM3 of the ID */
    char          account_id[NGX_ESIGN_REC_ID_MAX];
    char          institution_id[NGX_ESIGN_REC_ID_MAX]; /* "" operators */
    char          csrf[NGX_ESIGN_CSRF_LEN + 1];
    ngx_uint_t    role;
    uint64_t      created;                           /* wall clock, ms */
    uint64_t      last_seen;
} ngx_esign_session_rec_t;


/* Redis connection parameters copied for threads. */
typedef struct {
    char          host[256];
    int           port;
    ngx_msec_t    timeout;
} ngx_esign_redis_conf_t;


/* wall clock in ms */
uint64_t ngx_esign_wall_ms(void);

/* ngx_esign_session.c */
ngx_int_t ngx_esign_session_init_zone(ngx_shm_zone_t *zone, void *data);
ngx_int_t ngx_esign_session_redis_mode(ngx_http_request_t *r);
void ngx_esign_session_redis_conf(ngx_http_request_t *r,
    ngx_esign_redis_conf_t *rc);
ngx_int_t ngx_esign_session_new(ngx_http_request_t *r,
    ngx_esign_session_rec_t *rec, u_char *sid);
ngx_int_t ngx_esign_session_set_cookie(ngx_http_request_t *r, u_char *sid,
    ngx_uint_t clear);
ngx_int_t ngx_esign_session_cookie_hash(ngx_http_request_t *r,
    u_char hash[32]);
ngx_int_t ngx_esign_session_store_shm(ngx_http_request_t *r,
    ngx_esign_session_rec_t *rec);
void ngx_esign_session_delete_shm(ngx_http_request_t *r, u_char hash[32]);
ngx_esign_session_rec_t *ngx_esign_session_current(ngx_http_request_t *r);

/*
 * Per-request lookups of the account (and institution) records: the LMDB
 * value is read every time, but it is parsed only when its bytes differ
 * from the last parse of the same key in this worker.  *out is a new
 * reference to a READ-ONLY object (the caller decrefs it).  Returns 0,
 * MDB_NOTFOUND or another LMDB error.
 */
int ngx_esign_session_get_json(ngx_http_request_t *r, MDB_txn *txn,
    ngx_uint_t db, const char *key, json_t **out);

/*
 * The account document of GET /session (ngx_esign_account_doc of the
 * record, serialized) in r->pool; serialized once per parse of the record.
 */
int ngx_esign_session_account_doc(ngx_http_request_t *r, MDB_txn *txn,
    ngx_uint_t db, const char *key, ngx_uint_t operator, ngx_str_t *doc);

/* ngx_esign_json.c: sends serialized JSON (copied, "\n" appended) */
ngx_int_t ngx_esign_send_json_raw(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len);
ngx_int_t ngx_esign_session_unavailable(ngx_http_request_t *r);
void ngx_esign_session_kill_institution(ngx_http_request_t *r,
    ngx_str_t *inst_id);
void ngx_esign_session_kill_account(ngx_http_request_t *r,
    ngx_str_t *account_id);

/* ngx_esign_session_shm.c */
ngx_int_t ngx_esign_shm_init(ngx_shm_zone_t *zone, void *data);
ngx_int_t ngx_esign_shm_put(ngx_shm_zone_t *zone,
    ngx_esign_session_rec_t *rec);
ngx_int_t ngx_esign_shm_touch(ngx_shm_zone_t *zone, u_char hash[32],
    uint64_t now, uint64_t idle, uint64_t absolute,
    ngx_uint_t slide, ngx_esign_session_rec_t *out);
void ngx_esign_shm_delete(ngx_shm_zone_t *zone, u_char hash[32]);
void ngx_esign_shm_kill(ngx_shm_zone_t *zone, ngx_uint_t by_institution,
    ngx_str_t *id);
ngx_int_t ngx_esign_shm_bucket(ngx_shm_zone_t *zone, ngx_str_t *key,
    ngx_uint_t rate, ngx_uint_t burst, uint64_t now, uint64_t *retry_ms);

/* ngx_esign_session_redis.c (blocking: pool threads only) */
int ngx_esign_redis_put(ngx_esign_redis_conf_t *rc,
    ngx_esign_session_rec_t *rec, uint64_t idle);
int ngx_esign_redis_touch(ngx_esign_redis_conf_t *rc, u_char hash[32],
    uint64_t now, uint64_t idle, uint64_t absolute,
    int slide, ngx_esign_session_rec_t *out);
int ngx_esign_redis_delete(ngx_esign_redis_conf_t *rc, u_char hash[32]);
int ngx_esign_redis_kill(ngx_esign_redis_conf_t *rc,
    ngx_uint_t by_institution, const char *id, uint64_t now,
    uint64_t ttl);
int ngx_esign_redis_bucket(ngx_esign_redis_conf_t *rc, const char *key,
    ngx_uint_t rate, ngx_uint_t burst, uint64_t now, uint64_t *retry_ms);


#endif /* _NGX_ESIGN_SESSION_H_INCLUDED_ */
