/*
 * The single authorization decision (R-ACC-1..4, R-REG-4/5, R-SIGN-7):
 * every route loads its object, then asks esc_authz() whether the actor
 * may perform the action on it.
 */

#ifndef ESC_AUTHZ_H
#define ESC_AUTHZ_H

#include "esc_core.h"


typedef enum {
    ESC_ROLE_OPERATOR = 1,       /* platform back office, no institution */
    ESC_ROLE_INST_ADMIN,         /* the institution's administrator */
    ESC_ROLE_ACCOUNT             /* ordinary account */
} esc_role_e;

typedef enum {
    ESC_TIER_TOP_ADMIN = 1,          /* all of the institution's contracts */
    ESC_TIER_BUSINESS_ADMIN,         /* own department, full content */
    ESC_TIER_BUSINESS_OPERATOR       /* own department, masked, no docs */
} esc_tier_e;

/* Permission bits (R-ACC-1). */
#define ESC_PERM_INITIATE   0x01
#define ESC_PERM_VIEW       0x02
#define ESC_PERM_CONFIRM    0x04     /* confirm and reject */
#define ESC_PERM_DOWNLOAD   0x08
#define ESC_PERM_EVIDENCE   0x10
#define ESC_PERM_ALL        0x1f


/*
 * Who acts.  Fill it from the session's account record re-read on every
 * request (permission changes apply at once).  Strings are borrowed.
 * For ESC_ROLE_INST_ADMIN, tier and perms are ignored: the administrator
 * holds every permission at the top_admin tier.  For ESC_ROLE_OPERATOR,
 * institution_id, tier, department and perms are ignored.
 */
typedef struct {
    esc_role_e    role;
    esc_str_t     account_id;
    esc_str_t     institution_id;
    esc_tier_e    tier;
    esc_str_t     department;
    unsigned      perms;         /* ESC_PERM_* bits */
    unsigned      disabled;      /* non-zero: refuse everything */
} esc_actor_t;


/*
 * What is acted on.  Which fields an action reads is listed beside the
 * action below; the others are ignored.  Empty strings never match
 * anything, so a forgotten field denies rather than allows.
 *
 *   institution_id    institution owning the object: the institution
 *                     itself, an account, the audit log
 *   initiator         contract: initiating institution
 *   participants      contract: participant institutions (borrowed array)
 *   department        contract: its department at the ACTOR's institution
 *                     (the initiator's department for the initiator; the
 *                     department it was routed to for a participant);
 *                     empty when unassigned, then only the top tier sees it
 *   recipient         message: recipient account ID
 */
typedef struct {
    esc_str_t          institution_id;
    esc_str_t          initiator;
    const esc_str_t   *participants;
    size_t             nparticipants;
    esc_str_t          department;
    esc_str_t          recipient;
} esc_object_t;


typedef enum {
    /* own institution; object: institution_id */
    ESC_ACT_INSTITUTION_READ = 1,    /* GET /institution: any member */
    ESC_ACT_DEREGISTER_REQUEST,      /* POST /institution/deregistration */
    ESC_ACT_ACCOUNTS_LIST,           /* GET /accounts */
    ESC_ACT_ACCOUNT_READ,            /* GET /accounts/{id} */
    ESC_ACT_ACCOUNT_CREATE,          /* POST /accounts */
    ESC_ACT_ACCOUNT_UPDATE,          /* PATCH /accounts/{id} */
    ESC_ACT_AUDIT_READ,              /* GET /audit */

    /* contracts without an object yet */
    ESC_ACT_CONTRACT_INITIATE,       /* POST /documents, POST /contracts */
    ESC_ACT_CONTRACT_LIST,           /* GET /contracts (then filter) */

    /* one contract; object: initiator, participants, department */
    ESC_ACT_CONTRACT_READ,           /* GET /contracts/{id} */
    ESC_ACT_DOCUMENT_READ,           /* GET .../document */
    ESC_ACT_DOCUMENT_DOWNLOAD,       /* GET .../document?download=1 */
    ESC_ACT_CONFIRM,                 /* POST .../confirm */
    ESC_ACT_REJECT,                  /* POST .../reject */
    ESC_ACT_REVOKE,                  /* POST .../revoke */
    ESC_ACT_SIGNATURES_READ,         /* GET .../signatures */
    ESC_ACT_EVIDENCE_READ,           /* GET .../evidence */
    ESC_ACT_CONTRACT_ROUTE,          /* POST .../route: top tier of a
                                        participant */

    /* in-site messages of the caller */
    ESC_ACT_MESSAGES_LIST,           /* GET /messages, /messages/count */
    ESC_ACT_MESSAGE_READ,            /* POST /messages/{id}/read; recipient */

    /* platform operators only */
    ESC_ACT_OP_INSTITUTIONS_LIST,
    ESC_ACT_OP_INSTITUTION_READ,
    ESC_ACT_OP_INSTITUTION_APPROVE,
    ESC_ACT_OP_INSTITUTION_REJECT,
    ESC_ACT_OP_DEREG_APPROVE,
    ESC_ACT_OP_DEREG_REJECT,
    ESC_ACT_OP_OUTBOX,
    ESC_ACT_OP_LEDGER_OVERVIEW,

    ESC_ACT_MAX                      /* number of actions + 1; not valid */
} esc_action_e;


typedef enum {
    ESC_AUTHZ_ALLOW = 0,
    ESC_AUTHZ_NOT_FOUND,     /* answer 404 not_found: must look absent */
    ESC_AUTHZ_FORBIDDEN      /* answer 403 forbidden */
} esc_authz_result_e;

typedef struct {
    esc_authz_result_e  result;
    /*
     * With ALLOW: the actor is in the business_operator tier; mask the key
     * fields of everything returned (R-ACC-3).  Always 0 otherwise.
     */
    unsigned            masked;
} esc_authz_t;


/*
 * The decision, in this order (first match wins):
 *
 *  1. disabled actor, unknown role or action: FORBIDDEN.
 *  2. operator actions: ALLOW for operators, FORBIDDEN for everyone else.
 *  3. message actions: any role; MESSAGE_READ needs recipient equal to
 *     the actor's account_id, else NOT_FOUND.
 *  4. operators on any other action: NOT_FOUND for actions on a contract
 *     or account (never confirm an institution's object exists), else
 *     FORBIDDEN.  Operators read no institution data (R-ACC-4).
 *  5. institution actions: object institution_id other than the actor's:
 *     NOT_FOUND.  INSTITUTION_READ: ALLOW.  The rest: administrator only,
 *     else FORBIDDEN (R-REG-4, R-REG-5, audit).
 *  6. CONTRACT_INITIATE needs initiate; CONTRACT_LIST needs view; else
 *     FORBIDDEN.  The list must then be filtered by esc_authz_list_scope()
 *     or by CONTRACT_READ per item.
 *  7. contract actions: the actor's institution is neither initiator nor
 *     participant: NOT_FOUND (R-ACC-4).  Tier business_admin or
 *     business_operator and the department differs from the actor's (or
 *     is empty): NOT_FOUND (R-ACC-3: other departments' contracts do not
 *     exist for them).  Then, else FORBIDDEN:
 *       CONTRACT_READ, SIGNATURES_READ   view
 *       DOCUMENT_READ                    view, not business_operator
 *       DOCUMENT_DOWNLOAD                view + download, not b._operator
 *       CONFIRM, REJECT                  confirm, not business_operator
 *                                        (it cannot read the original,
 *                                        R-SIGN-3), and the actor's
 *                                        institution is a participant
 *       REVOKE                           initiate, and the actor's
 *                                        institution is the initiator
 *                                        (R-SIGN-7)
 *       EVIDENCE_READ                    evidence
 *
 * The administrator has all permissions at the top_admin tier.  State
 * (signing, completed, ...) is not considered here: the state machine
 * answers 409 after a positive decision.  Pure and thread-safe.
 */
esc_authz_t esc_authz(const esc_actor_t *actor, esc_action_e action,
    const esc_object_t *object);


typedef enum {
    ESC_SCOPE_NONE = 0,          /* nothing: no view permission */
    ESC_SCOPE_INSTITUTION,       /* all contracts the institution is in */
    ESC_SCOPE_DEPARTMENT         /* only those of actor->department */
} esc_scope_e;

/*
 * Which contracts a list query may return for this actor: the query
 * filter to apply before paging (R-ACC-3, R-ACC-4).  Consistent with
 * esc_authz(ESC_ACT_CONTRACT_READ) on every item.
 */
esc_scope_e esc_authz_list_scope(const esc_actor_t *actor);

/* Stable name of an action ("contract_read", ...) for audit records. */
const char *esc_authz_action_name(esc_action_e action);


#endif /* ESC_AUTHZ_H */
