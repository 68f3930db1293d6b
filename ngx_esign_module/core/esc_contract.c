/*
 * The contract signing state machine (see esc_contract.h).
 */

#include <string.h>

#include "esc_contract.h"


static const char  *esc_cs_names[] = {
    NULL, "signing", "completed", "rejected", "revoked", "expired"
};

static const char  *esc_ps_names[] = {
    "pending", "confirmed", "rejected"
};


int
esc_contract_apply(esc_contract_t *c, const esc_event_t *ev)
{
    size_t  i;

    if (c == NULL || ev == NULL || c->participants == NULL
        || c->nparticipants == 0
        || c->nparticipants > ESC_CONTRACT_MAX_PARTICIPANTS
        || c->state > ESC_CS_EXPIRED)
    {
        return ESC_INVALID;
    }

    if ((ev->type == ESC_EV_CONFIRM || ev->type == ESC_EV_REJECT)
        && ev->participant >= c->nparticipants)
    {
        return ESC_INVALID;
    }

    switch (ev->type) {

    case ESC_EV_INITIATE:
        if (c->state != ESC_CS_NEW) {
            return ESC_CONFLICT;
        }

        if (c->deadline != 0 && c->deadline <= ev->now) {
            return ESC_INVALID;
        }

        for (i = 0; i < c->nparticipants; i++) {
            if (c->participants[i] != ESC_PS_PENDING) {
                return ESC_INVALID;
            }
        }

        c->state = ESC_CS_SIGNING;
        return c->state;

    case ESC_EV_CONFIRM:
    case ESC_EV_REJECT:
    case ESC_EV_REVOKE:
        if (c->state != ESC_CS_SIGNING) {
            return ESC_CONFLICT;
        }

        /* past the deadline only "expire" applies */
        if (c->deadline != 0 && ev->now >= c->deadline) {
            return ESC_CONFLICT;
        }

        if (ev->type == ESC_EV_REVOKE) {
            if (!ev->by_initiator) {
                return ESC_CONFLICT;
            }

            c->state = ESC_CS_REVOKED;
            return c->state;
        }

        if (c->participants[ev->participant] != ESC_PS_PENDING) {
            return ESC_CONFLICT;
        }

        if (ev->type == ESC_EV_REJECT) {
            c->participants[ev->participant] = ESC_PS_REJECTED;
            c->state = ESC_CS_REJECTED;
            return c->state;
        }

        c->participants[ev->participant] = ESC_PS_CONFIRMED;

        for (i = 0; i < c->nparticipants; i++) {
            if (c->participants[i] != ESC_PS_CONFIRMED) {
                return c->state;
            }
        }

        c->state = ESC_CS_COMPLETED;
        return c->state;

    case ESC_EV_EXPIRE:
        if (c->state != ESC_CS_SIGNING || c->deadline == 0
            || ev->now < c->deadline)
        {
            return ESC_CONFLICT;
        }

        c->state = ESC_CS_EXPIRED;
        return c->state;
    }

    return ESC_INVALID;
}


const char *
esc_contract_state_name(esc_contract_state_e state)
{
    if ((unsigned) state > ESC_CS_EXPIRED) {
        return NULL;
    }

    return esc_cs_names[state];
}


const char *
esc_participant_state_name(esc_participant_state_e state)
{
    if ((unsigned) state > ESC_PS_REJECTED) {
        return NULL;
    }

    return esc_ps_names[state];
}


int
esc_contract_state_parse(const char *p, size_t len,
    esc_contract_state_e *out)
{
    size_t  i;

    for (i = ESC_CS_SIGNING; i <= ESC_CS_EXPIRED; i++) {
        if (strlen(esc_cs_names[i]) == len
            && memcmp(esc_cs_names[i], p, len) == 0)
        {
            *out = (esc_contract_state_e) i;
            return ESC_OK;
        }
    }

    return ESC_INVALID;
}
