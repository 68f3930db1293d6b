/*
 * Evidence records: canonical TLV payload, ledger entry, evidence outbox
 * (see ngx_esign_evidence.h and docs/evidence.md).
 */


#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_esign_db.h"
#include "ngx_esign_evidence.h"


typedef struct {
    uint8_t   *p;
    size_t     len;
    size_t     cap;
    int        last;            /* last tag written */
    int        err;
} esign_tlv_t;


static void
esign_tlv_put(esign_tlv_t *b, int tag, const void *v, size_t n)
{
    size_t    need, cap;
    uint8_t  *np;

    if (b->err) {
        return;
    }

    /* strictly increasing; list tags may repeat */
    if (tag < b->last || (tag == b->last && tag < 0x40) || n > 0xffffffff) {
        b->err = 1;
        return;
    }

    need = b->len + 5 + n;

    if (need > b->cap) {
        cap = b->cap ? b->cap : 512;

        while (cap < need) {
            cap *= 2;
        }

        np = realloc(b->p, cap);
        if (np == NULL) {
            b->err = 1;
            return;
        }

        b->p = np;
        b->cap = cap;
    }

    b->p[b->len++] = (uint8_t) tag;
    b->p[b->len++] = (uint8_t) (n >> 24);
    b->p[b->len++] = (uint8_t) (n >> 16);
    b->p[b->len++] = (uint8_t) (n >> 8);
    b->p[b->len++] = (uint8_t) n;

    if (n > 0) {
        memcpy(b->p + b->len, v, n);
        b->len += n;
    }

    b->last = tag;
}


static void
esign_tlv_str(esign_tlv_t *b, int tag, const char *s)
{
    if (s != NULL) {
        esign_tlv_put(b, tag, s, strlen(s));
    }
}


static void
esign_tlv_u64(esign_tlv_t *b, int tag, uint64_t v)
{
    int      i;
    uint8_t  be[8];

    for (i = 7; i >= 0; i--) {
        be[i] = (uint8_t) v;
        v >>= 8;
    }

    esign_tlv_put(b, tag, be, 8);
}


static void
esign_tlv_hash(esign_tlv_t *b, int tag, const uint8_t *h)
{
    if (h != NULL) {
        esign_tlv_put(b, tag, h, 32);
    }
}


int
esign_evidence_encode(const esign_evidence_t *ev, uint8_t **out,
    size_t *len)
{
    size_t       i;
    esign_tlv_t  b;

    memset(&b, 0, sizeof(b));

    if (ev->stage == NULL || ev->contract_id == NULL
        || ev->nparties > ESIGN_EV_MAX_PARTIES)
    {
        return -1;
    }

    esign_tlv_str(&b, ESIGN_EV_STAGE, ev->stage);
    esign_tlv_str(&b, ESIGN_EV_CONTRACT, ev->contract_id);
    esign_tlv_u64(&b, ESIGN_EV_SERIAL, ev->serial);
    esign_tlv_u64(&b, ESIGN_EV_TIME, ev->time_ms);
    esign_tlv_str(&b, ESIGN_EV_INST_ID, ev->inst_id);
    esign_tlv_str(&b, ESIGN_EV_INST_USCC, ev->uscc);
    esign_tlv_str(&b, ESIGN_EV_INST_NAME, ev->inst_name);
    esign_tlv_str(&b, ESIGN_EV_ACCOUNT, ev->account_id);
    esign_tlv_hash(&b, ESIGN_EV_NAME_COMMIT, ev->name_commit);
    esign_tlv_str(&b, ESIGN_EV_ID_TYPE, ev->id_type);
    esign_tlv_hash(&b, ESIGN_EV_ID_COMMIT, ev->id_commit);

    if (ev->has_order) {
        esign_tlv_u64(&b, ESIGN_EV_ORDER, ev->order);
    }

    if (ev->has_op_time) {
        esign_tlv_u64(&b, ESIGN_EV_OP_TIME, ev->op_time_ms);
    }

    esign_tlv_str(&b, ESIGN_EV_VERIFIED_AT, ev->verified_at);
    esign_tlv_str(&b, ESIGN_EV_VERIFY_METHOD, ev->verify_method);
    esign_tlv_str(&b, ESIGN_EV_VERIFY_RESULT, ev->verify_result);
    esign_tlv_str(&b, ESIGN_EV_TITLE, ev->title);
    esign_tlv_str(&b, ESIGN_EV_NUMBER, ev->number);
    esign_tlv_str(&b, ESIGN_EV_VERSION, ev->version);
    esign_tlv_hash(&b, ESIGN_EV_DOC_SM3, ev->doc_sm3);

    if (ev->has_reads) {
        esign_tlv_u64(&b, ESIGN_EV_READS, ev->reads);
    }

    esign_tlv_hash(&b, ESIGN_EV_REASON_SM3, ev->reason_sm3);

    for (i = 0; i < ev->nparties; i++) {
        esign_tlv_str(&b, ESIGN_EV_PARTY_USCC, ev->party_uscc[i]);
    }

    for (i = 0; i < ev->nparties; i++) {
        esign_tlv_u64(&b, ESIGN_EV_PARTY_TIME, ev->party_time[i]);
    }

    for (i = 0; i < ev->nparties; i++) {
        esign_tlv_hash(&b, ESIGN_EV_PARTY_SIG, ev->party_sig[i]);
    }

    if (b.err || b.len > ESL_PAYLOAD_MAX) {
        free(b.p);
        return -1;
    }

    *out = b.p;
    *len = b.len;

    return 0;
}


void
esign_evidence_hex(const uint8_t *p, size_t len, char *out)
{
    size_t  i;

    static const char  hex[] = "0123456789abcdef";

    for (i = 0; i < len; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 0x0f];
    }

    out[2 * len] = '\0';
}


/* Field names and types of the decoder: s string, u u64, h hash. */
typedef struct {
    int          tag;
    const char  *name;
    char         type;
} esign_ev_field_t;


static const esign_ev_field_t  esign_ev_fields[] = {
    { ESIGN_EV_STAGE, "stage", 's' },
    { ESIGN_EV_CONTRACT, "contract_id", 's' },
    { ESIGN_EV_SERIAL, "serial", 'u' },
    { ESIGN_EV_TIME, "time_ms", 'u' },
    { ESIGN_EV_INST_ID, "institution_id", 's' },
    { ESIGN_EV_INST_USCC, "uscc", 's' },
    { ESIGN_EV_INST_NAME, "institution_name", 's' },
    { ESIGN_EV_ACCOUNT, "account_id", 's' },
    { ESIGN_EV_NAME_COMMIT, "name_commitment", 'h' },
    { ESIGN_EV_ID_TYPE, "id_type", 's' },
    { ESIGN_EV_ID_COMMIT, "id_number_commitment", 'h' },
    { ESIGN_EV_ORDER, "signing_order", 'u' },
    { ESIGN_EV_OP_TIME, "operation_time_ms", 'u' },
    { ESIGN_EV_VERIFIED_AT, "verified_at", 's' },
    { ESIGN_EV_VERIFY_METHOD, "verification_method", 's' },
    { ESIGN_EV_VERIFY_RESULT, "verification_result", 's' },
    { ESIGN_EV_TITLE, "title", 's' },
    { ESIGN_EV_NUMBER, "number", 's' },
    { ESIGN_EV_VERSION, "version", 's' },
    { ESIGN_EV_DOC_SM3, "document_sm3", 'h' },
    { ESIGN_EV_READS, "reads_before", 'u' },
    { ESIGN_EV_REASON_SM3, "reason_sm3", 'h' },
    { ESIGN_EV_PARTY_USCC, "party_uscc", 's' },
    { ESIGN_EV_PARTY_TIME, "party_signed_at_ms", 'u' },
    { ESIGN_EV_PARTY_SIG, "party_signature_sm3", 'h' },
    { 0, NULL, 0 }
};


json_t *
esign_evidence_decode(const uint8_t *p, size_t len)
{
    int                      tag, last, i;
    char                     hex[65];
    size_t                   off, n;
    json_t                  *obj, *v, *arr;
    uint64_t                 u;
    const esign_ev_field_t  *f;

    obj = json_object();
    if (obj == NULL) {
        return NULL;
    }

    off = 0;
    last = 0;

    while (off < len) {
        if (len - off < 5) {
            goto bad;
        }

        tag = p[off];
        n = ((size_t) p[off + 1] << 24) | ((size_t) p[off + 2] << 16)
            | ((size_t) p[off + 3] << 8) | p[off + 4];
        off += 5;

        if (n > len - off || tag < last || (tag == last && tag < 0x40)) {
            goto bad;
        }

        f = NULL;

        for (i = 0; esign_ev_fields[i].name != NULL; i++) {
            if (esign_ev_fields[i].tag == tag) {
                f = &esign_ev_fields[i];
                break;
            }
        }

        if (f == NULL) {
            goto bad;
        }

        switch (f->type) {

        case 'u':
            if (n != 8) {
                goto bad;
            }

            for (u = 0, i = 0; i < 8; i++) {
                u = (u << 8) | p[off + i];
            }

            v = json_integer((json_int_t) u);
            break;

        case 'h':
            if (n != 32) {
                goto bad;
            }

            esign_evidence_hex(p + off, 32, hex);
            v = json_string(hex);
            break;

        default:
            if (memchr(p + off, '\0', n) != NULL) {
                goto bad;
            }

            v = json_stringn((const char *) p + off, n);
            break;
        }

        if (v == NULL) {
            goto bad;
        }

        if (tag >= 0x40) {
            arr = json_object_get(obj, f->name);
            if (arr == NULL) {
                arr = json_array();
                json_object_set_new(obj, f->name, arr);
            }

            json_array_append_new(arr, v);

        } else {
            json_object_set_new(obj, f->name, v);
        }

        off += n;
        last = tag;
    }

    return obj;

bad:

    json_decref(obj);

    return NULL;
}


int
esign_evidence_build(const esign_evidence_t *ev, unsigned kind,
    const char *tenant, const char *shard, esign_evidence_entry_t *out)
{
    int          n, rc;
    size_t       plen, elen;
    uint8_t     *payload;
    esl_entry    e;
    esl_hasher  *h;

    memset(out, 0, sizeof(*out));

    if (tenant == NULL || strlen(tenant) != ESL_TENANT_LEN
        || shard == NULL || strlen(shard) > ESL_SHARD_MAX)
    {
        return -1;
    }

    n = snprintf(out->entry_id, sizeof(out->entry_id), "%s/%llu",
                 ev->contract_id, (unsigned long long) ev->serial);
    if (n <= 0 || (size_t) n >= sizeof(out->entry_id)) {
        return -1;
    }

    strcpy(out->shard, shard);

    if (esign_evidence_encode(ev, &payload, &plen) != 0) {
        return -1;
    }

    e.kind = kind;
    e.time_ms = ev->time_ms;
    e.entry_id = (const unsigned char *) out->entry_id;
    e.entry_id_len = n;
    e.tenant = tenant;
    e.payload = payload;
    e.payload_len = plen;

    elen = esl_entry_encoded_len(&e);
    out->bytes = elen ? malloc(elen) : NULL;

    rc = -1;

    if (out->bytes != NULL
        && esl_entry_encode(&e, out->bytes, elen, &out->len) == ESL_OK
        && esl_hasher_new(ESL_HASH_SM3, &h) == ESL_OK)
    {
        if (esl_leaf_hash(h, out->bytes, out->len, out->leaf) == ESL_OK) {
            rc = 0;
        }

        esl_hasher_free(h);
    }

    free(payload);

    if (rc != 0) {
        free(out->bytes);
        out->bytes = NULL;
    }

    return rc;
}


int
esign_evidence_stage(MDB_txn *txn, MDB_dbi *dbis,
    const esign_evidence_entry_t *e)
{
    int       rc;
    size_t    sl;
    uint8_t  *buf;
    MDB_val   k, v;

    sl = strlen(e->shard);
    if (sl == 0 || sl > ESL_SHARD_MAX) {
        return EINVAL;
    }

    buf = malloc(1 + sl + e->len);
    if (buf == NULL) {
        return ENOMEM;
    }

    buf[0] = (uint8_t) sl;
    memcpy(buf + 1, e->shard, sl);
    memcpy(buf + 1 + sl, e->bytes, e->len);

    k.mv_data = (void *) e->entry_id;
    k.mv_size = strlen(e->entry_id);
    v.mv_data = buf;
    v.mv_size = 1 + sl + e->len;

    rc = mdb_put(txn, dbis[ESIGN_DB_EVIDENCE_OUTBOX], &k, &v, 0);

    free(buf);

    return rc;
}
