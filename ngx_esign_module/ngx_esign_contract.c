/*
 * Contract records, list index, the signing state machine, and the
 * helpers the signing routes share (see ngx_esign_contract.h).
 */


#include "ngx_esign.h"
#include "ngx_esign_db.h"
#include "ngx_esign_contract.h"

#include "esc_authz.h"
#include "esc_contract.h"
#include "esc_mask.h"


/*
 * The JSON record <-> core/esc_contract.h: the one state machine decides;
 * this only translates.  Returns ESC_CONFLICT, ESC_INVALID or the new
 * state; with "apply" the record is updated (status, the participant's
 * status and time, ended_at).
 */
static int
esign_contract_run(json_t *contract, int type, const char *inst_id,
    uint64_t now_ms, int apply)
{
    int                       rc;
    size_t                    i, n, who;
    json_t                   *parts, *p, *exp;
    const char               *s, *initiator;
    esc_event_t               ev;
    esc_contract_t            c;
    esc_participant_state_e   ps[ESC_CONTRACT_MAX_PARTICIPANTS];

    s = json_string_value(json_object_get(contract, "status"));
    if (s == NULL) {
        return ESC_INVALID;
    }

    if (esc_contract_state_parse(s, strlen(s), &c.state) != ESC_OK) {
        return ESC_INVALID;
    }

    parts = json_object_get(contract, "participants");
    n = json_array_size(parts);

    if (n == 0 || n > ESC_CONTRACT_MAX_PARTICIPANTS) {
        return ESC_INVALID;
    }

    who = n;

    json_array_foreach(parts, i, p) {
        s = json_string_value(json_object_get(p, "status"));

        if (s == NULL) {
            return ESC_INVALID;
        }

        ps[i] = strcmp(s, "confirmed") == 0 ? ESC_PS_CONFIRMED
                : strcmp(s, "rejected") == 0 ? ESC_PS_REJECTED
                : ESC_PS_PENDING;

        s = json_string_value(json_object_get(p, "institution_id"));
        if (inst_id != NULL && s != NULL && strcmp(s, inst_id) == 0) {
            who = i;
        }
    }

    c.participants = ps;
    c.nparticipants = n;

    exp = json_object_get(contract, "expires_at");
    c.deadline = json_is_integer(exp) ? json_integer_value(exp) : 0;

    initiator = json_string_value(json_object_get(
                    json_object_get(contract, "initiator"),
                    "institution_id"));

    ngx_memzero(&ev, sizeof(ev));
    ev.type = type;
    ev.now = (int64_t) now_ms;
    ev.by_initiator = inst_id != NULL && initiator != NULL
                      && strcmp(inst_id, initiator) == 0;

    if (type == ESC_EV_CONFIRM || type == ESC_EV_REJECT) {
        if (who == n) {
            return ESC_CONFLICT;       /* not a participant */
        }

        ev.participant = who;
    }

    rc = esc_contract_apply(&c, &ev);
    if (rc < 0 || !apply) {
        return rc;
    }

    json_object_set_new(contract, "status",
                        json_string(esc_contract_state_name(c.state)));

    if (type == ESC_EV_CONFIRM || type == ESC_EV_REJECT) {
        p = json_array_get(parts, who);
        json_object_set_new(p, "status", json_string(
                                esc_participant_state_name(ps[who])));
        json_object_set_new(p, "at", json_integer((json_int_t) now_ms));
    }

    if (c.state != ESC_CS_SIGNING) {
        json_object_set_new(contract, "ended_at",
                            json_integer((json_int_t) now_ms));
    }

    return rc;
}


int
esign_contract_fsm(json_t *contract, int action, const char *inst_id)
{
    int  type, rc;

    switch (action) {

    case NGX_ESIGN_CT_CONFIRM:
        type = ESC_EV_CONFIRM;
        break;

    case NGX_ESIGN_CT_REJECT:
        type = ESC_EV_REJECT;
        break;

    case NGX_ESIGN_CT_REVOKE:
        type = ESC_EV_REVOKE;
        break;

    default:
        /* reading is allowed in every state */
        return NGX_ESIGN_CT_OK;
    }

    /* a dry run: the deadline is applied first by the caller */
    rc = esign_contract_run(contract, type, inst_id, 0, 0);

    return rc >= 0 ? NGX_ESIGN_CT_OK : NGX_ESIGN_CT_CONFLICT;
}


int
esign_contract_transition(json_t *contract, int action, const char *inst_id,
    uint64_t now_ms)
{
    int  type, rc;

    type = action == NGX_ESIGN_CT_CONFIRM ? ESC_EV_CONFIRM
           : action == NGX_ESIGN_CT_REJECT ? ESC_EV_REJECT
           : action == NGX_ESIGN_CT_REVOKE ? ESC_EV_REVOKE
           : 0;

    if (type == 0) {
        return NGX_ESIGN_CT_CONFLICT;
    }

    rc = esign_contract_run(contract, type, inst_id, now_ms, 1);

    return rc >= 0 ? NGX_ESIGN_CT_OK : NGX_ESIGN_CT_CONFLICT;
}


int
esign_contract_expire_if_due(json_t *contract, uint64_t now_ms)
{
    json_t  *exp;

    exp = json_object_get(contract, "expires_at");

    if (!json_is_integer(exp)
        || (uint64_t) json_integer_value(exp) > now_ms)
    {
        return 0;
    }

    return esign_contract_run(contract, ESC_EV_EXPIRE, NULL, now_ms, 1) > 0;
}


int
esign_contract_get(MDB_txn *txn, MDB_dbi *dbis, const char *id,
    json_t **contract)
{
    return esign_db_get_json(txn, dbis[ESIGN_DB_CONTRACTS], id, strlen(id),
                             contract);
}


int
esign_contract_put(MDB_txn *txn, MDB_dbi *dbis, json_t *contract)
{
    const char  *id;

    id = json_string_value(json_object_get(contract, "id"));
    if (id == NULL) {
        return EINVAL;
    }

    return esign_db_put_json(txn, dbis[ESIGN_DB_CONTRACTS], id, strlen(id),
                             contract, 0);
}


static int
esign_contract_index_one(MDB_txn *txn, MDB_dbi *dbis, const char *inst_id,
    uint64_t created, const char *id, const char *role)
{
    char     key[160];
    int      n;
    MDB_val  k, v;

    n = snprintf(key, sizeof(key), "%s/%016llx/%s", inst_id,
                 (unsigned long long) created, id);
    if (n <= 0 || (size_t) n >= sizeof(key)) {
        return EINVAL;
    }

    k.mv_data = key;
    k.mv_size = n;
    v.mv_data = (void *) role;
    v.mv_size = strlen(role);

    return mdb_put(txn, dbis[ESIGN_DB_CONTRACT_IDX], &k, &v, 0);
}


int
esign_contract_index(MDB_txn *txn, MDB_dbi *dbis, json_t *contract)
{
    int          rc;
    size_t       i;
    json_t      *p;
    uint64_t     created;
    const char  *id, *inst;

    id = json_string_value(json_object_get(contract, "id"));
    created = json_integer_value(json_object_get(contract, "created_at"));
    inst = json_string_value(json_object_get(
               json_object_get(contract, "initiator"), "institution_id"));

    if (id == NULL || inst == NULL) {
        return EINVAL;
    }

    rc = esign_contract_index_one(txn, dbis, inst, created, id, "initiator");
    if (rc != 0) {
        return rc;
    }

    json_array_foreach(json_object_get(contract, "participants"), i, p) {
        inst = json_string_value(json_object_get(p, "institution_id"));
        if (inst == NULL) {
            return EINVAL;
        }

        rc = esign_contract_index_one(txn, dbis, inst, created, id,
                                      "participant");
        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


static int
esign_contract_due_key(json_t *contract, char *key, size_t size)
{
    int          n;
    json_t      *exp;
    const char  *id;

    exp = json_object_get(contract, "expires_at");
    id = json_string_value(json_object_get(contract, "id"));

    if (!json_is_integer(exp) || id == NULL) {
        return 0;
    }

    n = snprintf(key, size, "%016llx/%s",
                 (unsigned long long) json_integer_value(exp), id);

    return (n > 0 && (size_t) n < size) ? n : 0;
}


int
esign_contract_due_put(MDB_txn *txn, MDB_dbi *dbis, json_t *contract)
{
    int      n;
    char     key[128];
    MDB_val  k, v;

    n = esign_contract_due_key(contract, key, sizeof(key));
    if (n == 0) {
        return 0;
    }

    k.mv_data = key;
    k.mv_size = n;
    v.mv_data = "";
    v.mv_size = 0;

    return mdb_put(txn, dbis[ESIGN_DB_CONTRACT_DUE], &k, &v, 0);
}


int
esign_contract_due_del(MDB_txn *txn, MDB_dbi *dbis, json_t *contract)
{
    int      n, rc;
    char     key[128];
    MDB_val  k;

    n = esign_contract_due_key(contract, key, sizeof(key));
    if (n == 0) {
        return 0;
    }

    k.mv_data = key;
    k.mv_size = n;

    rc = mdb_del(txn, dbis[ESIGN_DB_CONTRACT_DUE], &k, NULL);

    return rc == MDB_NOTFOUND ? 0 : rc;
}


json_t *
esign_contract_party(json_t *contract, const char *inst_id)
{
    size_t       i;
    json_t      *p;
    const char  *s;

    if (inst_id == NULL) {
        return NULL;
    }

    json_array_foreach(json_object_get(contract, "participants"), i, p) {
        s = json_string_value(json_object_get(p, "institution_id"));
        if (s != NULL && strcmp(s, inst_id) == 0) {
            return p;
        }
    }

    return NULL;
}


int
esign_uscc_lookup(MDB_txn *txn, MDB_dbi *dbis, const char *uscc, char *out,
    size_t outsz)
{
    int           rc;
    json_t       *j;
    MDB_val       k, v;
    const char   *s;
    json_error_t  err;

    k.mv_data = (void *) uscc;
    k.mv_size = strlen(uscc);

    rc = mdb_get(txn, dbis[ESIGN_DB_USCC], &k, &v);
    if (rc != 0) {
        return rc;
    }

    /* the value is the institution ID, raw or as JSON */
    if (v.mv_size > 0 && (((char *) v.mv_data)[0] == '{'
                          || ((char *) v.mv_data)[0] == '"'))
    {
        j = json_loadb(v.mv_data, v.mv_size, JSON_DECODE_ANY, &err);
        if (j == NULL) {
            return MDB_CORRUPTED;
        }

        s = json_is_string(j) ? json_string_value(j)
            : json_string_value(json_object_get(j, "institution_id"));
        if (s == NULL) {
            s = json_string_value(json_object_get(j, "id"));
        }

        if (s == NULL || strlen(s) + 1 > outsz) {
            json_decref(j);
            return MDB_CORRUPTED;
        }

        strcpy(out, s);
        json_decref(j);
        return 0;
    }

    if (v.mv_size + 1 > outsz) {
        return MDB_CORRUPTED;
    }

    memcpy(out, v.mv_data, v.mv_size);
    out[v.mv_size] = '\0';

    return 0;
}


uint64_t
ngx_esign_now_ms(void)
{
    ngx_time_t  *tp;

    ngx_time_update();
    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}


ngx_int_t
ngx_esign_cstr(char *dst, size_t size, ngx_str_t *src)
{
    if (src->len + 1 > size) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst, src->data, src->len);
    dst[src->len] = '\0';

    return NGX_OK;
}


ngx_int_t
ngx_esign_send_unavailable(ngx_http_request_t *r)
{
    ngx_str_t  retry = ngx_string("1");

    (void) ngx_esign_add_header(r, "Retry-After", &retry);

    return ngx_esign_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable",
                                "the service is busy, try again");
}


ngx_int_t
ngx_esign_send_ct_error(ngx_http_request_t *r, int code)
{
    switch (code) {

    case NGX_ESIGN_CT_NOT_FOUND:
        return ngx_esign_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such contract");

    case NGX_ESIGN_CT_FORBIDDEN:
        return ngx_esign_send_error(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                    "this account may not do that");

    case NGX_ESIGN_CT_CONFLICT:
        return ngx_esign_send_error(r, NGX_HTTP_CONFLICT, "conflict",
                                    "the contract is not in a state that "
                                    "allows this action");

    default:
        return ngx_esign_send_unavailable(r);
    }
}


static esc_str_t
ngx_esign_esc_str(json_t *obj, const char *key)
{
    esc_str_t    s;
    const char  *v;

    v = json_string_value(json_object_get(obj, key));

    s.data = (const u_char *) v;
    s.len = v ? strlen(v) : 0;

    return s;
}


ngx_int_t
ngx_esign_contract_authorize(ngx_esign_actor_t *actor, int action,
    json_t *contract)
{
    size_t         i, n;
    json_t        *p, *parts, *party;
    esc_str_t      ids[64];
    esc_authz_t    d;
    esc_actor_t    a;
    esc_object_t   o;
    esc_action_e   act;

    static const esc_action_e  map[] = {
        0,
        ESC_ACT_CONTRACT_INITIATE,
        ESC_ACT_CONTRACT_READ,
        ESC_ACT_DOCUMENT_READ,
        ESC_ACT_DOCUMENT_DOWNLOAD,
        ESC_ACT_CONFIRM,
        ESC_ACT_REJECT,
        ESC_ACT_REVOKE,
        ESC_ACT_SIGNATURES_READ,
        ESC_ACT_EVIDENCE_READ,
        ESC_ACT_CONTRACT_LIST,
        ESC_ACT_CONTRACT_ROUTE
    };

    if (actor == NULL || action < 1 || action > NGX_ESIGN_CT_ROUTE) {
        return NGX_ESIGN_CT_FORBIDDEN;
    }

    act = map[action];

    ngx_memzero(&a, sizeof(a));
    a.role = (esc_role_e) actor->role;
    a.account_id.data = actor->account_id.data;
    a.account_id.len = actor->account_id.len;
    a.institution_id.data = actor->institution_id.data;
    a.institution_id.len = actor->institution_id.len;
    a.tier = (esc_tier_e) actor->tier;
    a.department.data = actor->department.data;
    a.department.len = actor->department.len;
    a.perms = actor->permissions;

    ngx_memzero(&o, sizeof(o));
    o.institution_id = a.institution_id;

    if (contract != NULL) {
        o.institution_id = ngx_esign_esc_str(
                               json_object_get(contract, "initiator"),
                               "institution_id");
        o.initiator = o.institution_id;

        parts = json_object_get(contract, "participants");
        n = 0;

        json_array_foreach(parts, i, p) {
            if (n == sizeof(ids) / sizeof(ids[0])) {
                break;
            }

            ids[n++] = ngx_esign_esc_str(p, "institution_id");
        }

        o.participants = ids;
        o.nparticipants = n;

        /* the department of the caller's side of the contract */
        if (o.initiator.len == a.institution_id.len
            && ngx_memcmp(o.initiator.data, a.institution_id.data,
                          o.initiator.len) == 0)
        {
            o.department = ngx_esign_esc_str(
                               json_object_get(contract, "initiator"),
                               "department");

        } else {
            party = NULL;

            json_array_foreach(parts, i, p) {
                esc_str_t  s = ngx_esign_esc_str(p, "institution_id");

                if (s.len == a.institution_id.len
                    && ngx_memcmp(s.data, a.institution_id.data, s.len) == 0)
                {
                    party = p;
                    break;
                }
            }

            o.department = ngx_esign_esc_str(party, "department");
        }
    }

    d = esc_authz(&a, act, &o);

    switch (d.result) {

    case ESC_AUTHZ_ALLOW:
        return d.masked ? NGX_ESIGN_CT_MASKED : NGX_ESIGN_CT_OK;

    case ESC_AUTHZ_NOT_FOUND:
        return NGX_ESIGN_CT_NOT_FOUND;

    default:
        return NGX_ESIGN_CT_FORBIDDEN;
    }
}


static json_t *
ngx_esign_time_json(json_t *ms)
{
    char      buf[80];
    time_t    sec;
    uint64_t  v;
    struct tm tm;

    if (!json_is_integer(ms)) {
        return json_null();
    }

    v = (uint64_t) json_integer_value(ms);
    sec = (time_t) (v / 1000);

    if (gmtime_r(&sec, &tm) == NULL) {
        return json_null();
    }

    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (unsigned) (v % 1000));

    return json_string(buf);
}


static json_t *
ngx_esign_mask_json(json_t *s)
{
    u_char       out[1024];
    ssize_t      n;
    const char  *v;

    v = json_string_value(s);
    if (v == NULL) {
        return json_null();
    }

    n = esc_mask_name((const u_char *) v, strlen(v), out, sizeof(out) - 1);
    if (n < 0) {
        return json_string("***");
    }

    return json_stringn((char *) out, n);
}


/* Whether a party entry of a contract is the actor's institution. */
static int
ngx_esign_contract_own(json_t *party, ngx_esign_actor_t *actor)
{
    const char  *id;

    id = json_string_value(json_object_get(party, "institution_id"));

    return id != NULL && actor->institution_id.len == ngx_strlen(id)
           && ngx_memcmp(id, actor->institution_id.data,
                         actor->institution_id.len) == 0;
}


json_t *
ngx_esign_contract_view(json_t *c, ngx_esign_actor_t *actor,
    ngx_uint_t masked)
{
    char         key[160];
    size_t       i;
    json_t      *v, *parts, *p, *q, *init, *reads;
    const char  *id;

    static const char  *plain[] = { "id", "status", "version",
                                    "document_id", "document_size",
                                    "document_type", "reason", NULL };
    static const char  *times[] = { "created_at", "expires_at", "ended_at",
                                    NULL };

    v = json_object();
    if (v == NULL) {
        return NULL;
    }

    for (i = 0; plain[i] != NULL; i++) {
        json_object_set(v, plain[i], json_object_get(c, plain[i])
                                     ? json_object_get(c, plain[i])
                                     : json_null());
    }

    for (i = 0; times[i] != NULL; i++) {
        json_object_set_new(v, times[i],
                            ngx_esign_time_json(json_object_get(c,
                                                                times[i])));
    }

    if (masked) {
        /* R-ACC-3: business operators see key fields masked */
        json_object_set_new(v, "title",
                            ngx_esign_mask_json(json_object_get(c, "title")));
        json_object_set_new(v, "number",
                            ngx_esign_mask_json(json_object_get(c,
                                                                "number")));
        json_object_set_new(v, "masked", json_true());

    } else {
        json_object_set(v, "title", json_object_get(c, "title"));
        json_object_set(v, "number", json_object_get(c, "number"));
        json_object_set(v, "document_sm3", json_object_get(c,
                                                           "document_sm3"));
    }

    init = json_object_get(c, "initiator");
    q = json_pack("{s:O, s:O, s:o, s:o}",
                  "institution_id", json_object_get(init, "institution_id"),
                  "uscc", json_object_get(init, "uscc"),
                  "name", masked ? ngx_esign_mask_json(json_object_get(init,
                                                                       "name"))
                                 : json_incref(json_object_get(init, "name")),
                  "at", ngx_esign_time_json(json_object_get(init, "at")));
    if (q != NULL && ngx_esign_contract_own(init, actor)) {
        json_object_set(q, "department", json_object_get(init, "department"));
    }

    json_object_set_new(v, "initiator", q ? q : json_null());

    parts = json_array();

    json_array_foreach(json_object_get(c, "participants"), i, p) {
        q = json_pack("{s:O, s:O, s:o, s:O, s:o, s:O}",
                      "institution_id", json_object_get(p, "institution_id"),
                      "uscc", json_object_get(p, "uscc"),
                      "name", masked
                              ? ngx_esign_mask_json(json_object_get(p,
                                                                    "name"))
                              : json_incref(json_object_get(p, "name")),
                      "status", json_object_get(p, "status"),
                      "at", ngx_esign_time_json(json_object_get(p, "at")),
                      "order", json_object_get(p, "order"));
        if (q != NULL) {
            /* the department routing is internal to each party */
            if (ngx_esign_contract_own(p, actor)) {
                json_object_set(q, "department",
                                json_object_get(p, "department"));
            }

            json_array_append_new(parts, q);
        }
    }

    json_object_set_new(v, "participants", parts);

    /* the caller's own read count (R-AUD-2) */
    reads = json_object_get(c, "reads");
    snprintf(key, sizeof(key), "%.*s/%.*s",
             (int) actor->institution_id.len, actor->institution_id.data,
             (int) actor->account_id.len, actor->account_id.data);
    json_object_set_new(v, "read_count",
                        json_integer(json_integer_value(
                                         json_object_get(reads, key))));

    id = json_string_value(json_object_get(
             json_object_get(c, "initiator"), "institution_id"));
    json_object_set_new(v, "role",
                        json_string(id != NULL
                                    && actor->institution_id.len == strlen(id)
                                    && ngx_strncmp(id,
                                           actor->institution_id.data,
                                           actor->institution_id.len) == 0
                                    ? "initiator" : "participant"));

    if (json_object_get(c, "archive") != NULL) {
        json_object_set(v, "archive", json_object_get(c, "archive"));
        json_object_set_new(v, "archived", json_true());

    } else {
        json_object_set_new(v, "archived", json_false());
    }

    return v;
}
