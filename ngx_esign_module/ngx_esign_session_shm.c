/*
 * The shared-memory store of sessions and rate-limit buckets: one slab
 * zone with two rbtrees and LRU queues, in the manner of limit_req.  The
 * zone survives "nginx -s reload" (same name and size), so do sessions.
 */


#include "ngx_esign.h"
#include "ngx_esign_session.h"


typedef struct {
    ngx_rbtree_t               sessions;
    ngx_rbtree_node_t          sessions_sentinel;
    ngx_queue_t                sessions_lru;
    ngx_rbtree_t               buckets;
    ngx_rbtree_node_t          buckets_sentinel;
    ngx_queue_t                buckets_lru;
} ngx_esign_shm_sh_t;


typedef struct {
    ngx_esign_shm_sh_t        *sh;
    ngx_slab_pool_t           *shpool;
} ngx_esign_shm_ctx_t;


/* both start with the rbtree node's color byte, as limit_req's nodes do */

typedef struct {
    u_char                     color;
    u_char                     dummy;
    ngx_queue_t                queue;
    ngx_esign_session_rec_t    rec;
} ngx_esign_shm_session_t;


typedef struct {
    u_char                     color;
    u_char                     dummy;
    ngx_queue_t                queue;
    uint64_t                   last;
    int64_t                    excess;       /* in 1/1000 requests */
    u_short                    len;
    u_char                     data[1];
} ngx_esign_shm_bucket_t;


#define ngx_esign_shm_node_session(n)                                        \
    ((ngx_esign_shm_session_t *) &(n)->color)
#define ngx_esign_shm_node_bucket(n)                                         \
    ((ngx_esign_shm_bucket_t *) &(n)->color)


static ngx_esign_shm_ctx_t *ngx_esign_shm_ctx(ngx_shm_zone_t *zone,
    ngx_esign_shm_ctx_t *c);
static void ngx_esign_shm_session_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_esign_shm_bucket_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_rbtree_node_t *ngx_esign_shm_session_find(ngx_esign_shm_ctx_t *c,
    u_char *hash);
static void ngx_esign_shm_free_session(ngx_esign_shm_ctx_t *c,
    ngx_rbtree_node_t *node);
static void ngx_esign_shm_expire(ngx_esign_shm_ctx_t *c, uint64_t now,
    ngx_uint_t force);


/*
 * zone->data is the shared header itself: it lives in the zone, so it
 * stays valid across reloads (the cycle's pools do not).
 */
ngx_int_t
ngx_esign_shm_init(ngx_shm_zone_t *zone, void *data)
{
    size_t               len;
    ngx_slab_pool_t     *shpool;
    ngx_esign_shm_sh_t  *sh;

    if (data != NULL) {
        /* reload: the zone and its sessions are kept */
        zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_alloc(shpool, sizeof(ngx_esign_shm_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;

    ngx_rbtree_init(&sh->sessions, &sh->sessions_sentinel,
                    ngx_esign_shm_session_insert);
    ngx_queue_init(&sh->sessions_lru);
    ngx_rbtree_init(&sh->buckets, &sh->buckets_sentinel,
                    ngx_esign_shm_bucket_insert);
    ngx_queue_init(&sh->buckets_lru);

    len = sizeof(" in esign zone \"\"") + zone->shm.name.len;

    shpool->log_ctx = ngx_slab_alloc(shpool, len);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in esign zone \"%V\"%Z",
                &zone->shm.name);

    shpool->log_nomem = 0;

    zone->data = sh;

    return NGX_OK;
}


static ngx_esign_shm_ctx_t *
ngx_esign_shm_ctx(ngx_shm_zone_t *zone, ngx_esign_shm_ctx_t *c)
{
    c->sh = zone->data;
    c->shpool = (ngx_slab_pool_t *) zone->shm.addr;

    return c;
}


static void
ngx_esign_shm_session_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t        **p;
    ngx_esign_shm_session_t   *n, *t;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            n = ngx_esign_shm_node_session(node);
            t = ngx_esign_shm_node_session(temp);

            p = (ngx_memcmp(n->rec.hash, t->rec.hash, 32) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static void
ngx_esign_shm_bucket_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t       **p;
    ngx_esign_shm_bucket_t   *n, *t;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            n = ngx_esign_shm_node_bucket(node);
            t = ngx_esign_shm_node_bucket(temp);

            p = (ngx_memn2cmp(n->data, t->data, n->len, t->len) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_rbtree_node_t *
ngx_esign_shm_session_find(ngx_esign_shm_ctx_t *c, u_char *hash)
{
    ngx_int_t                 rc;
    ngx_rbtree_key_t          key;
    ngx_rbtree_node_t        *node, *sentinel;
    ngx_esign_shm_session_t  *s;

    ngx_memcpy(&key, hash, sizeof(key));

    node = c->sh->sessions.root;
    sentinel = c->sh->sessions.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        s = ngx_esign_shm_node_session(node);
        rc = ngx_memcmp(hash, s->rec.hash, 32);

        if (rc == 0) {
            return node;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_esign_shm_free_session(ngx_esign_shm_ctx_t *c, ngx_rbtree_node_t *node)
{
    ngx_esign_shm_session_t  *s;

    s = ngx_esign_shm_node_session(node);

    ngx_queue_remove(&s->queue);
    ngx_rbtree_delete(&c->sh->sessions, node);
    ngx_explicit_memzero(&s->rec, sizeof(ngx_esign_session_rec_t));
    ngx_slab_free_locked(c->shpool, node);
}


/*
 * Drops sessions idle past their limit from the LRU tail (and buckets
 * idle for a minute); with "force", also the oldest live entries, to make
 * room.  Called with the zone locked.
 */
static void
ngx_esign_shm_expire(ngx_esign_shm_ctx_t *c, uint64_t now, ngx_uint_t force)
{
    ngx_uint_t                n;
    ngx_queue_t              *q;
    ngx_rbtree_node_t        *node;
    ngx_esign_shm_bucket_t   *b;
    ngx_esign_shm_session_t  *s;
    ngx_esign_main_conf_t    *emcf;

    emcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_esign_module);

    for (n = 0; n < 3 && !ngx_queue_empty(&c->sh->sessions_lru); n++) {
        q = ngx_queue_last(&c->sh->sessions_lru);
        s = ngx_queue_data(q, ngx_esign_shm_session_t, queue);

        if (!force && now - s->rec.last_seen <= emcf->idle_timeout
            && now - s->rec.created <= emcf->absolute_timeout)
        {
            break;
        }

        node = (ngx_rbtree_node_t *)
                   ((u_char *) s - offsetof(ngx_rbtree_node_t, color));
        ngx_esign_shm_free_session(c, node);
    }

    for (n = 0; n < 3 && !ngx_queue_empty(&c->sh->buckets_lru); n++) {
        q = ngx_queue_last(&c->sh->buckets_lru);
        b = ngx_queue_data(q, ngx_esign_shm_bucket_t, queue);

        if (!force && now - b->last < 60000) {
            break;
        }

        node = (ngx_rbtree_node_t *)
                   ((u_char *) b - offsetof(ngx_rbtree_node_t, color));
        ngx_queue_remove(q);
        ngx_rbtree_delete(&c->sh->buckets, node);
        ngx_slab_free_locked(c->shpool, node);
    }
}


ngx_int_t
ngx_esign_shm_put(ngx_shm_zone_t *zone, ngx_esign_session_rec_t *rec)
{
    size_t                    size;
    ngx_rbtree_node_t        *node;
    ngx_esign_shm_ctx_t      *c, cc;
    ngx_esign_shm_session_t  *s;

    c = ngx_esign_shm_ctx(zone, &cc);

    size = offsetof(ngx_rbtree_node_t, color)
           + sizeof(ngx_esign_shm_session_t);

    ngx_shmtx_lock(&c->shpool->mutex);

    ngx_esign_shm_expire(c, rec->created, 0);

    node = ngx_slab_alloc_locked(c->shpool, size);

    if (node == NULL) {
        ngx_esign_shm_expire(c, rec->created, 1);
        node = ngx_slab_alloc_locked(c->shpool, size);

        if (node == NULL) {
            ngx_shmtx_unlock(&c->shpool->mutex);
            return NGX_ERROR;
        }
    }

    ngx_memcpy(&node->key, rec->hash, sizeof(ngx_rbtree_key_t));

    s = ngx_esign_shm_node_session(node);
    s->rec = *rec;

    ngx_rbtree_insert(&c->sh->sessions, node);
    ngx_queue_insert_head(&c->sh->sessions_lru, &s->queue);

    ngx_shmtx_unlock(&c->shpool->mutex);

    return NGX_OK;
}


/*
 * Finds a live session and slides its idle limit.  NGX_ESIGN_SESS_OK and
 * a copy in *out, NGX_ESIGN_SESS_NONE or NGX_ESIGN_SESS_EXPIRED (then
 * removed).
 */
ngx_int_t
ngx_esign_shm_touch(ngx_shm_zone_t *zone, u_char hash[32], uint64_t now,
    uint64_t idle, uint64_t absolute, ngx_uint_t slide,
    ngx_esign_session_rec_t *out)
{
    ngx_rbtree_node_t        *node;
    ngx_esign_shm_ctx_t      *c, cc;
    ngx_esign_shm_session_t  *s;

    c = ngx_esign_shm_ctx(zone, &cc);

    ngx_shmtx_lock(&c->shpool->mutex);

    node = ngx_esign_shm_session_find(c, hash);

    if (node == NULL) {
        ngx_shmtx_unlock(&c->shpool->mutex);
        return NGX_ESIGN_SESS_NONE;
    }

    s = ngx_esign_shm_node_session(node);

    if (now > s->rec.last_seen + idle || now > s->rec.created + absolute) {
        ngx_esign_shm_free_session(c, node);
        ngx_shmtx_unlock(&c->shpool->mutex);
        return NGX_ESIGN_SESS_EXPIRED;
    }

    if (slide && now > s->rec.last_seen) {
        s->rec.last_seen = now;
    }

    ngx_queue_remove(&s->queue);
    ngx_queue_insert_head(&c->sh->sessions_lru, &s->queue);

    *out = s->rec;

    ngx_shmtx_unlock(&c->shpool->mutex);

    return NGX_ESIGN_SESS_OK;
}


void
ngx_esign_shm_delete(ngx_shm_zone_t *zone, u_char hash[32])
{
    ngx_rbtree_node_t    *node;
    ngx_esign_shm_ctx_t  *c, cc;

    c = ngx_esign_shm_ctx(zone, &cc);

    ngx_shmtx_lock(&c->shpool->mutex);

    node = ngx_esign_shm_session_find(c, hash);
    if (node != NULL) {
        ngx_esign_shm_free_session(c, node);
    }

    ngx_shmtx_unlock(&c->shpool->mutex);
}


/* Removes every session of an account or of an institution, at once. */
void
ngx_esign_shm_kill(ngx_shm_zone_t *zone, ngx_uint_t by_institution,
    ngx_str_t *id)
{
    char                     *v;
    ngx_queue_t              *q, *next;
    ngx_rbtree_node_t        *node;
    ngx_esign_shm_ctx_t      *c, cc;
    ngx_esign_shm_session_t  *s;

    c = ngx_esign_shm_ctx(zone, &cc);

    ngx_shmtx_lock(&c->shpool->mutex);

    for (q = ngx_queue_head(&c->sh->sessions_lru);
         q != ngx_queue_sentinel(&c->sh->sessions_lru);
         q = next)
    {
        next = ngx_queue_next(q);
        s = ngx_queue_data(q, ngx_esign_shm_session_t, queue);

        v = by_institution ? s->rec.institution_id : s->rec.account_id;

        if (ngx_strlen(v) == id->len
            && ngx_strncmp(v, id->data, id->len) == 0)
        {
            node = (ngx_rbtree_node_t *)
                       ((u_char *) s - offsetof(ngx_rbtree_node_t, color));
            ngx_esign_shm_free_session(c, node);
        }
    }

    ngx_shmtx_unlock(&c->shpool->mutex);
}


/*
 * Leaky bucket (limit_req's algorithm): rate in 1/1000 requests per
 * second, burst in requests.  NGX_OK (counted) or NGX_BUSY with the wait
 * in *retry_ms.
 */
ngx_int_t
ngx_esign_shm_bucket(ngx_shm_zone_t *zone, ngx_str_t *key, ngx_uint_t rate,
    ngx_uint_t burst, uint64_t now, uint64_t *retry_ms)
{
    size_t                   size;
    int64_t                  excess;
    uint32_t                 hash;
    ngx_int_t                rc;
    ngx_rbtree_node_t       *node, *sentinel;
    ngx_esign_shm_ctx_t     *c, cc;
    ngx_esign_shm_bucket_t  *b;

    c = ngx_esign_shm_ctx(zone, &cc);
    hash = ngx_crc32_short(key->data, key->len);

    ngx_shmtx_lock(&c->shpool->mutex);

    node = c->sh->buckets.root;
    sentinel = c->sh->buckets.sentinel;
    b = NULL;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        b = ngx_esign_shm_node_bucket(node);
        rc = ngx_memn2cmp(key->data, b->data, key->len, (size_t) b->len);

        if (rc == 0) {
            break;
        }

        b = NULL;
        node = (rc < 0) ? node->left : node->right;
    }

    if (b == NULL) {
        ngx_esign_shm_expire(c, now, 0);

        size = offsetof(ngx_rbtree_node_t, color)
               + offsetof(ngx_esign_shm_bucket_t, data) + key->len;

        node = ngx_slab_alloc_locked(c->shpool, size);
        if (node == NULL) {
            ngx_esign_shm_expire(c, now, 1);
            node = ngx_slab_alloc_locked(c->shpool, size);

            if (node == NULL) {
                ngx_shmtx_unlock(&c->shpool->mutex);
                /* no memory for a bucket: refuse rather than pass */
                *retry_ms = 1000;
                return NGX_BUSY;
            }
        }

        node->key = hash;
        b = ngx_esign_shm_node_bucket(node);
        b->len = (u_short) key->len;
        ngx_memcpy(b->data, key->data, key->len);
        b->excess = 0;
        b->last = now;

        ngx_rbtree_insert(&c->sh->buckets, node);
        ngx_queue_insert_head(&c->sh->buckets_lru, &b->queue);

    } else {
        ngx_queue_remove(&b->queue);
        ngx_queue_insert_head(&c->sh->buckets_lru, &b->queue);
    }

    excess = b->excess;

    if (now > b->last) {
        excess -= (int64_t) (rate * (now - b->last) / 1000);
    }

    if (excess < 0) {
        excess = 0;
    }

    excess += 1000;

    if (excess > (int64_t) (burst * 1000)) {
        *retry_ms = (uint64_t) (excess - (int64_t) burst * 1000) * 1000
                    / (rate ? rate : 1);
        ngx_shmtx_unlock(&c->shpool->mutex);
        return NGX_BUSY;
    }

    b->excess = excess;
    b->last = now;

    ngx_shmtx_unlock(&c->shpool->mutex);

    return NGX_OK;
}
