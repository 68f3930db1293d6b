/*
 * The single authorization decision (see esc_authz.h for the rules).
 */

#include <string.h>

#include "esc_authz.h"


typedef enum {
    ESC_AK_INSTITUTION = 1,
    ESC_AK_CONTRACT_NEW,
    ESC_AK_CONTRACT,
    ESC_AK_MESSAGE,
    ESC_AK_OPERATOR
} esc_action_kind_e;


typedef struct {
    const char         *name;
    esc_action_kind_e   kind;
    unsigned            perms;          /* all required */
    unsigned            admin_only:1;
    unsigned            no_masked:1;    /* refused to business_operator */
    unsigned            participant:1;  /* actor must be a participant */
    unsigned            initiator:1;    /* actor must be the initiator */
    unsigned            has_object:1;   /* hide from operators with 404 */
    unsigned            top_only:1;     /* actor must be of the top tier */
} esc_action_rule_t;


static const esc_action_rule_t  esc_rules[ESC_ACT_MAX] = {

    [ESC_ACT_INSTITUTION_READ] =
        { "institution_read", ESC_AK_INSTITUTION, 0, 0, 0, 0, 0, 0 },
    [ESC_ACT_DEREGISTER_REQUEST] =
        { "deregister_request", ESC_AK_INSTITUTION, 0, 1, 0, 0, 0, 0 },
    [ESC_ACT_ACCOUNTS_LIST] =
        { "accounts_list", ESC_AK_INSTITUTION, 0, 1, 0, 0, 0, 0 },
    [ESC_ACT_ACCOUNT_READ] =
        { "account_read", ESC_AK_INSTITUTION, 0, 1, 0, 0, 0, 1 },
    [ESC_ACT_ACCOUNT_CREATE] =
        { "account_create", ESC_AK_INSTITUTION, 0, 1, 0, 0, 0, 0 },
    [ESC_ACT_ACCOUNT_UPDATE] =
        { "account_update", ESC_AK_INSTITUTION, 0, 1, 0, 0, 0, 1 },
    [ESC_ACT_AUDIT_READ] =
        { "audit_read", ESC_AK_INSTITUTION, 0, 1, 0, 0, 0, 0 },

    [ESC_ACT_CONTRACT_INITIATE] =
        { "contract_initiate", ESC_AK_CONTRACT_NEW, ESC_PERM_INITIATE,
          0, 0, 0, 0, 0 },
    [ESC_ACT_CONTRACT_LIST] =
        { "contract_list", ESC_AK_CONTRACT_NEW, ESC_PERM_VIEW,
          0, 0, 0, 0, 0 },

    [ESC_ACT_CONTRACT_READ] =
        { "contract_read", ESC_AK_CONTRACT, ESC_PERM_VIEW, 0, 0, 0, 0, 1 },
    [ESC_ACT_DOCUMENT_READ] =
        { "document_read", ESC_AK_CONTRACT, ESC_PERM_VIEW, 0, 1, 0, 0, 1 },
    [ESC_ACT_DOCUMENT_DOWNLOAD] =
        { "document_download", ESC_AK_CONTRACT,
          ESC_PERM_VIEW | ESC_PERM_DOWNLOAD, 0, 1, 0, 0, 1 },
    [ESC_ACT_CONFIRM] =
        { "confirm", ESC_AK_CONTRACT, ESC_PERM_CONFIRM, 0, 1, 1, 0, 1 },
    [ESC_ACT_REJECT] =
        { "reject", ESC_AK_CONTRACT, ESC_PERM_CONFIRM, 0, 1, 1, 0, 1 },
    [ESC_ACT_REVOKE] =
        { "revoke", ESC_AK_CONTRACT, ESC_PERM_INITIATE, 0, 0, 0, 1, 1 },
    [ESC_ACT_SIGNATURES_READ] =
        { "signatures_read", ESC_AK_CONTRACT, ESC_PERM_VIEW, 0, 0, 0, 0, 1 },
    [ESC_ACT_EVIDENCE_READ] =
        { "evidence_read", ESC_AK_CONTRACT, ESC_PERM_EVIDENCE,
          0, 0, 0, 0, 1 },
    [ESC_ACT_CONTRACT_ROUTE] =
        { "contract_route", ESC_AK_CONTRACT, ESC_PERM_VIEW,
          0, 0, 1, 0, 1, 1 },

    [ESC_ACT_MESSAGES_LIST] =
        { "messages_list", ESC_AK_MESSAGE, 0, 0, 0, 0, 0, 0 },
    [ESC_ACT_MESSAGE_READ] =
        { "message_read", ESC_AK_MESSAGE, 0, 0, 0, 0, 0, 1 },

    [ESC_ACT_OP_INSTITUTIONS_LIST] =
        { "op_institutions_list", ESC_AK_OPERATOR, 0, 0, 0, 0, 0, 0 },
    [ESC_ACT_OP_INSTITUTION_READ] =
        { "op_institution_read", ESC_AK_OPERATOR, 0, 0, 0, 0, 0, 0 },
    [ESC_ACT_OP_INSTITUTION_APPROVE] =
        { "op_institution_approve", ESC_AK_OPERATOR, 0, 0, 0, 0, 0, 0 },
    [ESC_ACT_OP_INSTITUTION_REJECT] =
        { "op_institution_reject", ESC_AK_OPERATOR, 0, 0, 0, 0, 0, 0 },
    [ESC_ACT_OP_DEREG_APPROVE] =
        { "op_deregistration_approve", ESC_AK_OPERATOR, 0, 0, 0, 0, 0, 0 },
    [ESC_ACT_OP_DEREG_REJECT] =
        { "op_deregistration_reject", ESC_AK_OPERATOR, 0, 0, 0, 0, 0, 0 },
    [ESC_ACT_OP_OUTBOX] =
        { "op_outbox", ESC_AK_OPERATOR, 0, 0, 0, 0, 0, 0 },
    [ESC_ACT_OP_LEDGER_OVERVIEW] =
        { "op_ledger_overview", ESC_AK_OPERATOR, 0, 0, 0, 0, 0, 0 },
};


static int esc_str_eq(const esc_str_t *a, const esc_str_t *b);
static esc_authz_t esc_decide(esc_authz_result_e r, unsigned masked);


/* Equal and non-empty: an empty or NULL ID never matches. */

static int
esc_str_eq(const esc_str_t *a, const esc_str_t *b)
{
    return a->len != 0 && a->len == b->len && a->data != NULL
           && b->data != NULL && memcmp(a->data, b->data, a->len) == 0;
}


static esc_authz_t
esc_decide(esc_authz_result_e r, unsigned masked)
{
    esc_authz_t  d;

    d.result = r;
    d.masked = (r == ESC_AUTHZ_ALLOW) ? masked : 0;

    return d;
}


esc_authz_t
esc_authz(const esc_actor_t *actor, esc_action_e action,
    const esc_object_t *object)
{
    size_t                    i;
    unsigned                  perms, masked, top, party, participant;
    const esc_action_rule_t  *rule;

    if (actor == NULL || actor->disabled
        || action <= 0 || action >= ESC_ACT_MAX
        || esc_rules[action].name == NULL)
    {
        return esc_decide(ESC_AUTHZ_FORBIDDEN, 0);
    }

    rule = &esc_rules[action];

    switch (actor->role) {

    case ESC_ROLE_OPERATOR:
        perms = 0;
        top = 0;
        masked = 0;
        break;

    case ESC_ROLE_INST_ADMIN:
        perms = ESC_PERM_ALL;
        top = 1;
        masked = 0;
        break;

    case ESC_ROLE_ACCOUNT:
        if (actor->tier != ESC_TIER_TOP_ADMIN
            && actor->tier != ESC_TIER_BUSINESS_ADMIN
            && actor->tier != ESC_TIER_BUSINESS_OPERATOR)
        {
            return esc_decide(ESC_AUTHZ_FORBIDDEN, 0);
        }

        perms = actor->perms & ESC_PERM_ALL;
        top = (actor->tier == ESC_TIER_TOP_ADMIN);
        masked = (actor->tier == ESC_TIER_BUSINESS_OPERATOR);
        break;

    default:
        return esc_decide(ESC_AUTHZ_FORBIDDEN, 0);
    }

    if (rule->kind == ESC_AK_OPERATOR) {
        return esc_decide(actor->role == ESC_ROLE_OPERATOR
                          ? ESC_AUTHZ_ALLOW : ESC_AUTHZ_FORBIDDEN, 0);
    }

    if (rule->kind == ESC_AK_MESSAGE) {
        if (rule->has_object
            && (object == NULL
                || !esc_str_eq(&object->recipient, &actor->account_id)))
        {
            return esc_decide(ESC_AUTHZ_NOT_FOUND, 0);
        }

        return esc_decide(ESC_AUTHZ_ALLOW, masked);
    }

    if (actor->role == ESC_ROLE_OPERATOR) {
        return esc_decide(rule->has_object ? ESC_AUTHZ_NOT_FOUND
                                           : ESC_AUTHZ_FORBIDDEN, 0);
    }

    switch (rule->kind) {

    case ESC_AK_INSTITUTION:
        if (object == NULL
            || !esc_str_eq(&object->institution_id, &actor->institution_id))
        {
            return esc_decide(ESC_AUTHZ_NOT_FOUND, 0);
        }

        if (rule->admin_only && actor->role != ESC_ROLE_INST_ADMIN) {
            return esc_decide(ESC_AUTHZ_FORBIDDEN, 0);
        }

        return esc_decide(ESC_AUTHZ_ALLOW, masked);

    case ESC_AK_CONTRACT_NEW:
        if ((perms & rule->perms) != rule->perms) {
            return esc_decide(ESC_AUTHZ_FORBIDDEN, 0);
        }

        return esc_decide(ESC_AUTHZ_ALLOW, masked);

    case ESC_AK_CONTRACT:
        if (object == NULL) {
            return esc_decide(ESC_AUTHZ_NOT_FOUND, 0);
        }

        participant = 0;

        if (object->participants != NULL) {
            for (i = 0; i < object->nparticipants; i++) {
                if (esc_str_eq(&object->participants[i],
                               &actor->institution_id))
                {
                    participant = 1;
                    break;
                }
            }
        }

        party = participant
                || esc_str_eq(&object->initiator, &actor->institution_id);

        if (!party) {
            return esc_decide(ESC_AUTHZ_NOT_FOUND, 0);
        }

        if (!top && !esc_str_eq(&object->department, &actor->department)) {
            return esc_decide(ESC_AUTHZ_NOT_FOUND, 0);
        }

        if ((perms & rule->perms) != rule->perms
            || (rule->no_masked && masked)
            || (rule->participant && !participant)
            || (rule->top_only && !top)
            || (rule->initiator
                && !esc_str_eq(&object->initiator, &actor->institution_id)))
        {
            return esc_decide(ESC_AUTHZ_FORBIDDEN, 0);
        }

        return esc_decide(ESC_AUTHZ_ALLOW, masked);

    default:
        break;
    }

    return esc_decide(ESC_AUTHZ_FORBIDDEN, 0);
}


esc_scope_e
esc_authz_list_scope(const esc_actor_t *actor)
{
    esc_authz_t  d;

    d = esc_authz(actor, ESC_ACT_CONTRACT_LIST, NULL);

    if (d.result != ESC_AUTHZ_ALLOW) {
        return ESC_SCOPE_NONE;
    }

    if (actor->role == ESC_ROLE_INST_ADMIN
        || actor->tier == ESC_TIER_TOP_ADMIN)
    {
        return ESC_SCOPE_INSTITUTION;
    }

    return actor->department.len != 0 ? ESC_SCOPE_DEPARTMENT
                                       : ESC_SCOPE_NONE;
}


const char *
esc_authz_action_name(esc_action_e action)
{
    if (action <= 0 || action >= ESC_ACT_MAX) {
        return NULL;
    }

    return esc_rules[action].name;
}
