/*
 * The contract signing state machine (R-SIGN-1, -3..-7; api.md status):
 * pure, no I/O, applied inside the write transaction that stores the
 * result.
 *
 *   (new) --initiate--> signing
 *   signing --confirm(i)--> signing | completed (all confirmed, R-SIGN-4)
 *   signing --reject(i)--> rejected                      (R-SIGN-5)
 *   signing --revoke(by initiator)--> revoked            (R-SIGN-7)
 *   signing --expire(now >= deadline)--> expired
 *
 * Anything else is ESC_CONFLICT (HTTP 409): confirming twice, acting on a
 * completed, rejected, revoked or expired contract, revoking as a
 * non-initiator, confirming or rejecting after the deadline (apply expire
 * first), expiring before it.
 */

#ifndef ESC_CONTRACT_H
#define ESC_CONTRACT_H

#include "esc_core.h"


#define ESC_CONTRACT_MAX_PARTICIPANTS  64


typedef enum {
    ESC_CS_NEW = 0,          /* not yet initiated */
    ESC_CS_SIGNING,
    ESC_CS_COMPLETED,
    ESC_CS_REJECTED,
    ESC_CS_REVOKED,
    ESC_CS_EXPIRED
} esc_contract_state_e;

typedef enum {
    ESC_PS_PENDING = 0,
    ESC_PS_CONFIRMED,
    ESC_PS_REJECTED
} esc_participant_state_e;

typedef enum {
    ESC_EV_INITIATE = 1,
    ESC_EV_CONFIRM,
    ESC_EV_REJECT,
    ESC_EV_REVOKE,
    ESC_EV_EXPIRE
} esc_event_e;


/*
 * The workflow part of a contract.  participants points to the caller's
 * array of nparticipants states (1..ESC_CONTRACT_MAX_PARTICIPANTS), in
 * signing order; esc_contract_apply() updates it in place.
 * deadline: unix time in milliseconds, 0 for none.
 */
typedef struct {
    esc_contract_state_e      state;
    esc_participant_state_e  *participants;
    size_t                    nparticipants;
    int64_t                   deadline;
} esc_contract_t;

typedef struct {
    esc_event_e  type;
    size_t       participant;    /* CONFIRM, REJECT: index into the array */
    unsigned     by_initiator;   /* REVOKE: the actor is the initiator */
    int64_t      now;            /* unix time in milliseconds */
} esc_event_t;


/*
 * Applies ev to c.  On success updates c (state and, for confirm/reject,
 * the participant's state) and returns the new contract state (>= 1).
 * Returns ESC_CONFLICT for an action the state does not allow, or
 * ESC_INVALID for malformed input (NULL, no participants, index out of
 * range, unknown event, initiating with a past deadline or non-pending
 * participants); c is unchanged then.
 */
int esc_contract_apply(esc_contract_t *c, const esc_event_t *ev);

/* "signing", "completed", ... ; NULL for ESC_CS_NEW or unknown. */
const char *esc_contract_state_name(esc_contract_state_e state);

/* "pending", "confirmed", "rejected"; NULL for unknown. */
const char *esc_participant_state_name(esc_participant_state_e state);

/* Parses a stored state name; ESC_OK or ESC_INVALID. */
int esc_contract_state_parse(const char *p, size_t len,
    esc_contract_state_e *out);


#endif /* ESC_CONTRACT_H */
