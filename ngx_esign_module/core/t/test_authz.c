/*
 * TAP tests of esc_authz (R-ACC-1, R-ACC-3, R-ACC-4, R-REG-4, R-REG-5,
 * R-SIGN-3, R-SIGN-7; security-anchors AC-01).
 *
 * Part 1 enumerates every role x tier x permission set x department x
 * institution relation x disabled flag for every action and compares
 * esc_authz() with reference(), written here from the requirements
 * text, one action at a time, without the implementation's rule table.
 * Part 2 is hand-written spot checks.
 */

#include <stdio.h>

#include "esc_authz.h"
#include "tap.h"


#define S(s)  { sizeof(s) - 1, (const u_char *) (s) }

static const esc_str_t  INST_A = S("inst-A");      /* the actor's */
static const esc_str_t  INST_B = S("inst-B");
static const esc_str_t  INST_C = S("inst-C");
static const esc_str_t  DEPT_X = S("retail");      /* the actor's */
static const esc_str_t  DEPT_Y = S("risk");
static const esc_str_t  EMPTY = { 0, NULL };
static const esc_str_t  ACCT_SELF = S("acct-1");
static const esc_str_t  ACCT_OTHER = S("acct-2");


/* how the actor's institution relates to the object */
enum {
    REL_INITIATOR = 0,       /* initiator, not a participant */
    REL_PARTICIPANT,         /* participant, not the initiator */
    REL_BOTH,                /* initiator that also signs */
    REL_FOREIGN,             /* not a party, other institution's object */
    REL_N
};

/* the contract's department at the actor's institution */
enum {
    DEP_SAME = 0,
    DEP_OTHER,
    DEP_NONE,
    DEP_N
};

enum { ALLOW = ESC_AUTHZ_ALLOW, NF = ESC_AUTHZ_NOT_FOUND,
       FB = ESC_AUTHZ_FORBIDDEN };


typedef struct {
    int  result;
    int  masked;
} ref_t;


static int
has(unsigned perms, unsigned p)
{
    return (perms & p) == p;
}


/*
 * The reference model.  Written from requirements.md and api.md:
 *   - operators do only operator work, see no institution data;
 *   - an institution's data is invisible (404) to others (R-ACC-4);
 *   - other departments' contracts are invisible to department tiers
 *     (R-ACC-3, AC-03 "other department -> 404");
 *   - the administrator holds all permissions at top tier;
 *   - a missing permission is a 403 (R-ACC-1);
 *   - business operators never read the original (R-ACC-3), so they
 *     neither open, download, confirm nor reject.
 */
static ref_t
reference(int role, int tier, unsigned perms, int dep, int rel,
    int disabled, esc_action_e act)
{
    ref_t  r = { FB, 0 };
    int    admin, op, bop, sees_all, visible, own;

    if (disabled) {
        return r;
    }

    op = (role == ESC_ROLE_OPERATOR);
    admin = (role == ESC_ROLE_INST_ADMIN);
    if (admin) {
        perms = 0x1f;
    }
    bop = (role == ESC_ROLE_ACCOUNT && tier == ESC_TIER_BUSINESS_OPERATOR);
    sees_all = admin || (role == ESC_ROLE_ACCOUNT
                         && tier == ESC_TIER_TOP_ADMIN);
    own = (rel != REL_FOREIGN);

    switch (act) {

    case ESC_ACT_OP_INSTITUTIONS_LIST:
    case ESC_ACT_OP_INSTITUTION_READ:
    case ESC_ACT_OP_INSTITUTION_APPROVE:
    case ESC_ACT_OP_INSTITUTION_REJECT:
    case ESC_ACT_OP_DEREG_APPROVE:
    case ESC_ACT_OP_DEREG_REJECT:
    case ESC_ACT_OP_OUTBOX:
    case ESC_ACT_OP_LEDGER_OVERVIEW:
        r.result = op ? ALLOW : FB;
        return r;

    case ESC_ACT_MESSAGES_LIST:
        r.result = ALLOW;
        r.masked = bop;
        return r;

    case ESC_ACT_MESSAGE_READ:
        r.result = own ? ALLOW : NF;
        r.masked = own && bop;
        return r;

    default:
        break;
    }

    if (op) {
        switch (act) {
        case ESC_ACT_ACCOUNT_READ:
        case ESC_ACT_ACCOUNT_UPDATE:
        case ESC_ACT_CONTRACT_READ:
        case ESC_ACT_DOCUMENT_READ:
        case ESC_ACT_DOCUMENT_DOWNLOAD:
        case ESC_ACT_CONFIRM:
        case ESC_ACT_REJECT:
        case ESC_ACT_REVOKE:
        case ESC_ACT_SIGNATURES_READ:
        case ESC_ACT_EVIDENCE_READ:
        case ESC_ACT_CONTRACT_ROUTE:
            r.result = NF;
            break;
        default:
            r.result = FB;
        }
        return r;
    }

    switch (act) {

    case ESC_ACT_INSTITUTION_READ:
        r.result = own ? ALLOW : NF;
        break;

    case ESC_ACT_DEREGISTER_REQUEST:
    case ESC_ACT_ACCOUNTS_LIST:
    case ESC_ACT_ACCOUNT_READ:
    case ESC_ACT_ACCOUNT_CREATE:
    case ESC_ACT_ACCOUNT_UPDATE:
    case ESC_ACT_AUDIT_READ:
        r.result = !own ? NF : admin ? ALLOW : FB;
        break;

    case ESC_ACT_CONTRACT_INITIATE:
        r.result = has(perms, ESC_PERM_INITIATE) ? ALLOW : FB;
        break;

    case ESC_ACT_CONTRACT_LIST:
        r.result = has(perms, ESC_PERM_VIEW) ? ALLOW : FB;
        break;

    default:
        /* a contract */
        visible = own && (sees_all || dep == DEP_SAME);
        if (!visible) {
            r.result = NF;
            break;
        }

        switch (act) {
        case ESC_ACT_CONTRACT_READ:
        case ESC_ACT_SIGNATURES_READ:
            r.result = has(perms, ESC_PERM_VIEW) ? ALLOW : FB;
            break;
        case ESC_ACT_DOCUMENT_READ:
            r.result = has(perms, ESC_PERM_VIEW) && !bop ? ALLOW : FB;
            break;
        case ESC_ACT_DOCUMENT_DOWNLOAD:
            r.result = has(perms, ESC_PERM_VIEW)
                       && has(perms, ESC_PERM_DOWNLOAD) && !bop
                       ? ALLOW : FB;
            break;
        case ESC_ACT_CONFIRM:
        case ESC_ACT_REJECT:
            r.result = has(perms, ESC_PERM_CONFIRM) && !bop
                       && (rel == REL_PARTICIPANT || rel == REL_BOTH)
                       ? ALLOW : FB;
            break;
        case ESC_ACT_REVOKE:
            r.result = has(perms, ESC_PERM_INITIATE)
                       && (rel == REL_INITIATOR || rel == REL_BOTH)
                       ? ALLOW : FB;
            break;
        case ESC_ACT_EVIDENCE_READ:
            r.result = has(perms, ESC_PERM_EVIDENCE) ? ALLOW : FB;
            break;
        case ESC_ACT_CONTRACT_ROUTE:
            r.result = has(perms, ESC_PERM_VIEW) && sees_all
                       && (rel == REL_PARTICIPANT || rel == REL_BOTH)
                       ? ALLOW : FB;
            break;
        default:
            r.result = FB;
        }
    }

    r.masked = (r.result == ALLOW) && bop;

    return r;
}


static void
build(int role, int tier, unsigned perms, int dep, int rel, int disabled,
    esc_actor_t *a, esc_object_t *o, esc_str_t parts[3])
{
    memset(a, 0, sizeof(*a));
    memset(o, 0, sizeof(*o));

    a->role = (esc_role_e) role;
    a->account_id = ACCT_SELF;
    a->institution_id = INST_A;
    a->tier = (esc_tier_e) tier;
    a->department = DEPT_X;
    a->perms = perms;
    a->disabled = (unsigned) disabled;

    o->department = dep == DEP_SAME ? DEPT_X : dep == DEP_OTHER ? DEPT_Y
                                                                : EMPTY;
    parts[0] = INST_B;
    parts[1] = INST_C;
    parts[2] = INST_A;
    o->participants = parts;

    switch (rel) {
    case REL_INITIATOR:
        o->initiator = INST_A;
        o->nparticipants = 2;
        o->institution_id = INST_A;
        o->recipient = ACCT_SELF;
        break;
    case REL_PARTICIPANT:
        o->initiator = INST_B;
        parts[0] = INST_C;
        o->nparticipants = 3;       /* A is the last one */
        o->institution_id = INST_A;
        o->recipient = ACCT_SELF;
        break;
    case REL_BOTH:
        o->initiator = INST_A;
        o->nparticipants = 3;
        o->institution_id = INST_A;
        o->recipient = ACCT_SELF;
        break;
    default:
        o->initiator = INST_B;
        o->nparticipants = 2;
        o->institution_id = INST_B;
        o->recipient = ACCT_OTHER;
    }
}


static void
test_table(void)
{
    int           role, tier, dep, rel, dis, act, shown;
    unsigned      perms;
    long          rows, bad, badm, allows;
    ref_t         want;
    esc_str_t     parts[3];
    esc_actor_t   a;
    esc_object_t  o;
    esc_authz_t   got;

    for (act = 1; act < ESC_ACT_MAX; act++) {
        rows = bad = badm = allows = 0;
        shown = 0;

        for (role = ESC_ROLE_OPERATOR; role <= ESC_ROLE_ACCOUNT; role++) {
        for (tier = ESC_TIER_TOP_ADMIN; tier <= ESC_TIER_BUSINESS_OPERATOR;
             tier++)
        {
        for (perms = 0; perms <= ESC_PERM_ALL; perms++) {
        for (dep = 0; dep < DEP_N; dep++) {
        for (rel = 0; rel < REL_N; rel++) {
        for (dis = 0; dis < 2; dis++) {

            build(role, tier, perms, dep, rel, dis, &a, &o, parts);
            got = esc_authz(&a, (esc_action_e) act, &o);
            want = reference(role, tier, perms, dep, rel, dis,
                             (esc_action_e) act);
            rows++;

            if ((int) got.result != want.result) {
                bad++;
            } else if ((int) got.masked != want.masked) {
                badm++;
            }

            if (want.result == ALLOW) {
                allows++;
            }

            if (((int) got.result != want.result
                 || (int) got.masked != want.masked) && shown++ < 3)
            {
                printf("# %s role=%d tier=%d perms=%#x dep=%d rel=%d "
                       "dis=%d: got %d/%u want %d/%d\n",
                       esc_authz_action_name((esc_action_e) act), role,
                       tier, perms, dep, rel, dis, got.result, got.masked,
                       want.result, want.masked);
            }
        }}}}}}

        is_int(bad, 0, "AC-01 %s: %ld rows equal to the reference",
               esc_authz_action_name((esc_action_e) act), rows);
        is_int(badm, 0, "AC-01 %s: masked flag equal to the reference",
               esc_authz_action_name((esc_action_e) act));
        ok(allows > 0,
           "%s: %ld allowed rows", esc_authz_action_name((esc_action_e) act),
           allows);
    }
}


static esc_authz_result_e
decide(int role, int tier, unsigned perms, int dep, int rel,
    esc_action_e act, unsigned *masked)
{
    esc_str_t     parts[3];
    esc_actor_t   a;
    esc_object_t  o;
    esc_authz_t   d;

    build(role, tier, perms, dep, rel, 0, &a, &o, parts);
    d = esc_authz(&a, act, &o);
    if (masked != NULL) {
        *masked = d.masked;
    }

    return d.result;
}


static void
test_spot(void)
{
    unsigned      m;
    esc_actor_t   a;
    esc_object_t  o;
    esc_str_t     parts[3], dept_prefix = S("ret");
    esc_authz_t   d;

    /* R-ACC-4: a foreign contract looks nonexistent, even to the admin */
    is_int(decide(ESC_ROLE_INST_ADMIN, 0, 0, DEP_SAME, REL_FOREIGN,
                  ESC_ACT_CONTRACT_READ, NULL),
           ESC_AUTHZ_NOT_FOUND, "R-ACC-4 admin: foreign contract is 404");
    is_int(decide(ESC_ROLE_INST_ADMIN, 0, 0, DEP_SAME, REL_FOREIGN,
                  ESC_ACT_EVIDENCE_READ, NULL),
           ESC_AUTHZ_NOT_FOUND, "R-ACC-4 admin: foreign evidence is 404");
    is_int(decide(ESC_ROLE_INST_ADMIN, 0, 0, DEP_SAME, REL_FOREIGN,
                  ESC_ACT_ACCOUNT_READ, NULL),
           ESC_AUTHZ_NOT_FOUND, "R-ACC-4 admin: foreign account is 404");
    is_int(decide(ESC_ROLE_INST_ADMIN, 0, 0, DEP_SAME, REL_PARTICIPANT,
                  ESC_ACT_CONTRACT_READ, NULL),
           ESC_AUTHZ_ALLOW, "R-ACC-4 participant reads the contract");

    /* R-ACC-1: exactly the assigned permissions */
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_TOP_ADMIN, ESC_PERM_VIEW,
                  DEP_SAME, REL_PARTICIPANT, ESC_ACT_CONFIRM, NULL),
           ESC_AUTHZ_FORBIDDEN, "R-ACC-1 view only: confirm is 403");
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_TOP_ADMIN, ESC_PERM_CONFIRM,
                  DEP_SAME, REL_PARTICIPANT, ESC_ACT_CONFIRM, NULL),
           ESC_AUTHZ_ALLOW, "R-ACC-1 confirm perm: confirm allowed");
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_TOP_ADMIN, ESC_PERM_CONFIRM,
                  DEP_SAME, REL_PARTICIPANT, ESC_ACT_REJECT, NULL),
           ESC_AUTHZ_ALLOW, "R-ACC-1 confirm perm covers reject");
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_TOP_ADMIN, ESC_PERM_VIEW,
                  DEP_SAME, REL_PARTICIPANT, ESC_ACT_DOCUMENT_DOWNLOAD,
                  NULL),
           ESC_AUTHZ_FORBIDDEN, "R-ACC-1 no download perm: 403");
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_TOP_ADMIN,
                  ESC_PERM_VIEW | ESC_PERM_DOWNLOAD, DEP_OTHER,
                  REL_PARTICIPANT, ESC_ACT_DOCUMENT_DOWNLOAD, NULL),
           ESC_AUTHZ_ALLOW, "R-ACC-3 top_admin downloads any department");
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_TOP_ADMIN, 0, DEP_SAME,
                  REL_INITIATOR, ESC_ACT_CONTRACT_INITIATE, NULL),
           ESC_AUTHZ_FORBIDDEN, "R-ACC-1 no initiate perm: 403");
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_TOP_ADMIN, ESC_PERM_EVIDENCE,
                  DEP_SAME, REL_INITIATOR, ESC_ACT_EVIDENCE_READ, NULL),
           ESC_AUTHZ_ALLOW, "R-ACC-1 evidence perm reads evidence");
    is_int(decide(ESC_ROLE_INST_ADMIN, ESC_TIER_BUSINESS_OPERATOR, 0,
                  DEP_OTHER, REL_PARTICIPANT, ESC_ACT_DOCUMENT_DOWNLOAD,
                  &m),
           ESC_AUTHZ_ALLOW, "admin has all permissions at top tier");
    is_int(m, 0, "admin is never masked");

    /* R-ACC-3: departments and tiers */
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_BUSINESS_ADMIN, ESC_PERM_ALL,
                  DEP_OTHER, REL_INITIATOR, ESC_ACT_CONTRACT_READ, NULL),
           ESC_AUTHZ_NOT_FOUND, "R-ACC-3 business_admin: other dept 404");
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_BUSINESS_ADMIN, ESC_PERM_ALL,
                  DEP_NONE, REL_PARTICIPANT, ESC_ACT_CONTRACT_READ, NULL),
           ESC_AUTHZ_NOT_FOUND, "R-ACC-3 business_admin: unassigned 404");
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_BUSINESS_ADMIN, ESC_PERM_ALL,
                  DEP_SAME, REL_INITIATOR, ESC_ACT_DOCUMENT_DOWNLOAD, &m),
           ESC_AUTHZ_ALLOW, "R-ACC-3 business_admin: own dept download");
    is_int(m, 0, "R-ACC-3 business_admin sees full content");
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_BUSINESS_OPERATOR,
                  ESC_PERM_ALL, DEP_SAME, REL_INITIATOR,
                  ESC_ACT_CONTRACT_READ, &m),
           ESC_AUTHZ_ALLOW, "R-ACC-3 business_operator reads own dept");
    is_int(m, 1, "R-ACC-3 business_operator read is masked");
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_BUSINESS_OPERATOR,
                  ESC_PERM_ALL, DEP_SAME, REL_INITIATOR,
                  ESC_ACT_DOCUMENT_READ, NULL),
           ESC_AUTHZ_FORBIDDEN, "R-ACC-3 business_operator: document 403");
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_BUSINESS_OPERATOR,
                  ESC_PERM_ALL, DEP_SAME, REL_INITIATOR,
                  ESC_ACT_DOCUMENT_DOWNLOAD, NULL),
           ESC_AUTHZ_FORBIDDEN, "R-ACC-3 business_operator: download 403");
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_BUSINESS_OPERATOR,
                  ESC_PERM_ALL, DEP_OTHER, REL_INITIATOR,
                  ESC_ACT_DOCUMENT_READ, NULL),
           ESC_AUTHZ_NOT_FOUND, "R-ACC-3 business_operator: other dept 404");

    /* R-SIGN-7: revoke by the initiator only; confirm by participants */
    is_int(decide(ESC_ROLE_INST_ADMIN, 0, 0, DEP_SAME, REL_PARTICIPANT,
                  ESC_ACT_REVOKE, NULL),
           ESC_AUTHZ_FORBIDDEN, "R-SIGN-7 participant cannot revoke");
    is_int(decide(ESC_ROLE_INST_ADMIN, 0, 0, DEP_SAME, REL_INITIATOR,
                  ESC_ACT_REVOKE, NULL),
           ESC_AUTHZ_ALLOW, "R-SIGN-7 initiator admin revokes");
    is_int(decide(ESC_ROLE_INST_ADMIN, 0, 0, DEP_SAME, REL_INITIATOR,
                  ESC_ACT_CONFIRM, NULL),
           ESC_AUTHZ_FORBIDDEN, "initiator that is not a participant "
           "cannot confirm");
    is_int(decide(ESC_ROLE_INST_ADMIN, 0, 0, DEP_SAME, REL_BOTH,
                  ESC_ACT_CONFIRM, NULL),
           ESC_AUTHZ_ALLOW, "initiator listed as participant confirms");

    /* R-REG-4 / R-REG-5: administrator-only institution work */
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_TOP_ADMIN, ESC_PERM_ALL,
                  DEP_SAME, REL_INITIATOR, ESC_ACT_ACCOUNT_CREATE, NULL),
           ESC_AUTHZ_FORBIDDEN, "R-REG-4 account cannot create accounts");
    is_int(decide(ESC_ROLE_INST_ADMIN, 0, 0, DEP_SAME, REL_INITIATOR,
                  ESC_ACT_ACCOUNT_UPDATE, NULL),
           ESC_AUTHZ_ALLOW, "R-REG-4 admin updates own accounts");
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_TOP_ADMIN, ESC_PERM_ALL,
                  DEP_SAME, REL_INITIATOR, ESC_ACT_DEREGISTER_REQUEST,
                  NULL),
           ESC_AUTHZ_FORBIDDEN, "R-REG-5 only the admin requests "
           "deregistration");
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_TOP_ADMIN, ESC_PERM_ALL,
                  DEP_SAME, REL_INITIATOR, ESC_ACT_AUDIT_READ, NULL),
           ESC_AUTHZ_FORBIDDEN, "LOG-05 ordinary account reads /audit: 403");
    is_int(decide(ESC_ROLE_ACCOUNT, ESC_TIER_BUSINESS_OPERATOR, 0,
                  DEP_SAME, REL_INITIATOR, ESC_ACT_INSTITUTION_READ, NULL),
           ESC_AUTHZ_ALLOW, "any member reads its own institution");

    /* operators */
    is_int(decide(ESC_ROLE_OPERATOR, 0, 0, DEP_SAME, REL_INITIATOR,
                  ESC_ACT_OP_INSTITUTION_APPROVE, NULL),
           ESC_AUTHZ_ALLOW, "R-REG-2 operator approves");
    is_int(decide(ESC_ROLE_INST_ADMIN, 0, 0, DEP_SAME, REL_INITIATOR,
                  ESC_ACT_OP_INSTITUTION_APPROVE, NULL),
           ESC_AUTHZ_FORBIDDEN, "API5 admin on operator route: 403");
    is_int(decide(ESC_ROLE_OPERATOR, 0, ESC_PERM_ALL, DEP_SAME,
                  REL_INITIATOR, ESC_ACT_CONTRACT_READ, NULL),
           ESC_AUTHZ_NOT_FOUND, "operator reads no contract (404)");
    is_int(decide(ESC_ROLE_OPERATOR, 0, ESC_PERM_ALL, DEP_SAME,
                  REL_INITIATOR, ESC_ACT_CONTRACT_LIST, NULL),
           ESC_AUTHZ_FORBIDDEN, "operator lists no contracts (403)");

    /* disabled, unknown and degenerate inputs */
    build(ESC_ROLE_INST_ADMIN, 0, 0, DEP_SAME, REL_INITIATOR, 1, &a, &o,
          parts);
    is_int(esc_authz(&a, ESC_ACT_INSTITUTION_READ, &o).result,
           ESC_AUTHZ_FORBIDDEN, "R-REG-4 disabled account refused");
    build(ESC_ROLE_INST_ADMIN, 0, 0, DEP_SAME, REL_INITIATOR, 0, &a, &o,
          parts);
    is_int(esc_authz(&a, (esc_action_e) 0, &o).result, ESC_AUTHZ_FORBIDDEN,
           "action 0 refused");
    is_int(esc_authz(&a, ESC_ACT_MAX, &o).result, ESC_AUTHZ_FORBIDDEN,
           "action MAX refused");
    is_int(esc_authz(NULL, ESC_ACT_CONTRACT_READ, &o).result,
           ESC_AUTHZ_FORBIDDEN, "NULL actor refused");
    is_int(esc_authz(&a, ESC_ACT_CONTRACT_READ, NULL).result,
           ESC_AUTHZ_NOT_FOUND, "NULL object: 404");
    is_int(esc_authz(&a, ESC_ACT_ACCOUNT_READ, NULL).result,
           ESC_AUTHZ_NOT_FOUND, "NULL institution object: 404");
    is_int(esc_authz(&a, ESC_ACT_MESSAGE_READ, NULL).result,
           ESC_AUTHZ_NOT_FOUND, "NULL message object: 404");
    a.role = (esc_role_e) 9;
    is_int(esc_authz(&a, ESC_ACT_MESSAGES_LIST, &o).result,
           ESC_AUTHZ_FORBIDDEN, "unknown role refused");
    build(ESC_ROLE_ACCOUNT, 7, ESC_PERM_ALL, DEP_SAME, REL_INITIATOR, 0,
          &a, &o, parts);
    is_int(esc_authz(&a, ESC_ACT_CONTRACT_READ, &o).result,
           ESC_AUTHZ_FORBIDDEN, "unknown tier refused");

    /* empty IDs never match */
    build(ESC_ROLE_INST_ADMIN, 0, 0, DEP_SAME, REL_INITIATOR, 0, &a, &o,
          parts);
    a.institution_id = EMPTY;
    o.initiator = EMPTY;
    o.nparticipants = 0;
    is_int(esc_authz(&a, ESC_ACT_CONTRACT_READ, &o).result,
           ESC_AUTHZ_NOT_FOUND, "empty institution IDs do not match");
    o.institution_id = EMPTY;
    is_int(esc_authz(&a, ESC_ACT_ACCOUNTS_LIST, &o).result,
           ESC_AUTHZ_NOT_FOUND, "empty institution scope does not match");
    build(ESC_ROLE_ACCOUNT, ESC_TIER_BUSINESS_ADMIN, ESC_PERM_ALL,
          DEP_NONE, REL_INITIATOR, 0, &a, &o, parts);
    a.department = EMPTY;
    is_int(esc_authz(&a, ESC_ACT_CONTRACT_READ, &o).result,
           ESC_AUTHZ_NOT_FOUND, "empty departments do not match");
    build(ESC_ROLE_ACCOUNT, ESC_TIER_BUSINESS_ADMIN, ESC_PERM_ALL,
          DEP_SAME, REL_INITIATOR, 0, &a, &o, parts);
    o.department = dept_prefix;
    is_int(esc_authz(&a, ESC_ACT_CONTRACT_READ, &o).result,
           ESC_AUTHZ_NOT_FOUND, "department prefix does not match");
    build(ESC_ROLE_ACCOUNT, ESC_TIER_BUSINESS_ADMIN, ESC_PERM_ALL,
          DEP_SAME, REL_PARTICIPANT, 0, &a, &o, parts);
    o.participants = NULL;
    is_int(esc_authz(&a, ESC_ACT_CONTRACT_READ, &o).result,
           ESC_AUTHZ_NOT_FOUND, "NULL participant array handled");
    build(ESC_ROLE_ACCOUNT, ESC_TIER_BUSINESS_ADMIN, ESC_PERM_ALL,
          DEP_SAME, REL_INITIATOR, 0, &a, &o, parts);
    a.perms = 0xffffffe0;
    d = esc_authz(&a, ESC_ACT_CONTRACT_READ, &o);
    is_int(d.result, ESC_AUTHZ_FORBIDDEN, "unknown permission bits ignored");
}


static void
test_scope_and_names(void)
{
    esc_str_t     parts[3];
    esc_actor_t   a;
    esc_object_t  o;
    int           act;

    build(ESC_ROLE_INST_ADMIN, 0, 0, DEP_SAME, REL_INITIATOR, 0, &a, &o,
          parts);
    is_int(esc_authz_list_scope(&a), ESC_SCOPE_INSTITUTION,
           "admin lists the whole institution");
    build(ESC_ROLE_ACCOUNT, ESC_TIER_TOP_ADMIN, ESC_PERM_VIEW, DEP_SAME,
          REL_INITIATOR, 0, &a, &o, parts);
    is_int(esc_authz_list_scope(&a), ESC_SCOPE_INSTITUTION,
           "R-ACC-3 top_admin lists the whole institution");
    a.tier = ESC_TIER_BUSINESS_ADMIN;
    is_int(esc_authz_list_scope(&a), ESC_SCOPE_DEPARTMENT,
           "R-ACC-3 business_admin lists own department");
    a.tier = ESC_TIER_BUSINESS_OPERATOR;
    is_int(esc_authz_list_scope(&a), ESC_SCOPE_DEPARTMENT,
           "R-ACC-3 business_operator lists own department");
    a.department = EMPTY;
    is_int(esc_authz_list_scope(&a), ESC_SCOPE_NONE,
           "no department: nothing listed");
    a.perms = 0;
    is_int(esc_authz_list_scope(&a), ESC_SCOPE_NONE,
           "R-ACC-1 no view: nothing listed");
    build(ESC_ROLE_OPERATOR, 0, 0, DEP_SAME, REL_INITIATOR, 0, &a, &o,
          parts);
    is_int(esc_authz_list_scope(&a), ESC_SCOPE_NONE,
           "operator lists nothing");

    for (act = 1; act < ESC_ACT_MAX; act++) {
        if (esc_authz_action_name((esc_action_e) act) == NULL) {
            break;
        }
    }
    is_int(act, ESC_ACT_MAX, "every action has a name");
    ok(esc_authz_action_name((esc_action_e) 0) == NULL, "no name for 0");
    is_str(esc_authz_action_name(ESC_ACT_CONFIRM), "confirm", "name");
}


int
main(void)
{
    test_table();
    test_spot();
    test_scope_and_names();

    return tap_done();
}
