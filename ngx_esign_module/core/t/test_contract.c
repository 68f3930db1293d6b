/*
 * TAP tests of the contract state machine (R-SIGN-1, R-SIGN-3..7;
 * api.md: wrong-state actions answer 409).
 */

#include "esc_contract.h"
#include "tap.h"


#define DL    1000000       /* deadline, ms */
#define PRE   (DL - 1)
#define POST  DL


static esc_participant_state_e  ps[3];

static esc_contract_t
mk(esc_contract_state_e st, esc_participant_state_e a,
    esc_participant_state_e b, esc_participant_state_e c)
{
    esc_contract_t  k;

    ps[0] = a;
    ps[1] = b;
    ps[2] = c;
    k.state = st;
    k.participants = ps;
    k.nparticipants = 3;
    k.deadline = DL;

    return k;
}


static int
ev(esc_contract_t *k, esc_event_e type, size_t who, unsigned init,
    int64_t now)
{
    esc_event_t  e;

    e.type = type;
    e.participant = who;
    e.by_initiator = init;
    e.now = now;

    return esc_contract_apply(k, &e);
}


static void
test_flows(void)
{
    esc_contract_t  k;

    k = mk(ESC_CS_NEW, ESC_PS_PENDING, ESC_PS_PENDING, ESC_PS_PENDING);
    is_int(ev(&k, ESC_EV_INITIATE, 0, 1, 0), ESC_CS_SIGNING,
           "R-SIGN-1 initiate -> signing");
    is_int(ev(&k, ESC_EV_CONFIRM, 1, 0, 10), ESC_CS_SIGNING,
           "R-SIGN-3 first confirmation keeps signing");
    is_int(ps[1], ESC_PS_CONFIRMED, "participant 1 confirmed");
    is_int(ev(&k, ESC_EV_CONFIRM, 1, 0, 11), ESC_CONFLICT,
           "confirm twice -> conflict");
    is_int(ps[1], ESC_PS_CONFIRMED, "still confirmed");
    is_int(ev(&k, ESC_EV_REJECT, 1, 0, 11), ESC_CONFLICT,
           "reject after own confirm -> conflict");
    is_int(ev(&k, ESC_EV_CONFIRM, 0, 0, 12), ESC_CS_SIGNING,
           "second of three keeps signing");
    is_int(ev(&k, ESC_EV_CONFIRM, 2, 0, 13), ESC_CS_COMPLETED,
           "R-SIGN-4 R-SIGN-6 last confirmation completes");
    is_int(k.state, ESC_CS_COMPLETED, "state stored");
    is_int(ev(&k, ESC_EV_REVOKE, 0, 1, 14), ESC_CONFLICT,
           "R-SIGN-7 revoke after completion -> conflict");

    k = mk(ESC_CS_SIGNING, ESC_PS_CONFIRMED, ESC_PS_PENDING,
           ESC_PS_PENDING);
    is_int(ev(&k, ESC_EV_REJECT, 2, 0, 10), ESC_CS_REJECTED,
           "R-SIGN-5 any participant's reject terminates");
    is_int(ps[2], ESC_PS_REJECTED, "rejecting participant marked");
    is_int(ps[1], ESC_PS_PENDING, "others untouched");
    is_int(ev(&k, ESC_EV_CONFIRM, 1, 0, 11), ESC_CONFLICT,
           "R-SIGN-5 confirm after rejection -> conflict");

    k = mk(ESC_CS_SIGNING, ESC_PS_CONFIRMED, ESC_PS_PENDING,
           ESC_PS_PENDING);
    is_int(ev(&k, ESC_EV_REVOKE, 0, 0, 10), ESC_CONFLICT,
           "R-SIGN-7 revoke by non-initiator -> conflict");
    is_int(k.state, ESC_CS_SIGNING, "unchanged after conflict");
    is_int(ev(&k, ESC_EV_REVOKE, 0, 1, 10), ESC_CS_REVOKED,
           "R-SIGN-7 initiator revokes while signing");
    is_int(ev(&k, ESC_EV_CONFIRM, 1, 0, 11), ESC_CONFLICT,
           "confirm after revoke -> conflict");

    /* single participant */
    {
        esc_participant_state_e  one = ESC_PS_PENDING;
        esc_contract_t           s = { ESC_CS_NEW, &one, 1, 0 };

        is_int(ev(&s, ESC_EV_INITIATE, 0, 1, 5), ESC_CS_SIGNING,
               "no deadline: initiate");
        is_int(ev(&s, ESC_EV_EXPIRE, 0, 0, INT64_MAX), ESC_CONFLICT,
               "no deadline: never expires");
        is_int(ev(&s, ESC_EV_CONFIRM, 0, 0, INT64_MAX), ESC_CS_COMPLETED,
               "single participant completes");
    }
}


static void
test_deadline(void)
{
    esc_contract_t  k;

    k = mk(ESC_CS_SIGNING, ESC_PS_PENDING, ESC_PS_PENDING, ESC_PS_PENDING);
    is_int(ev(&k, ESC_EV_EXPIRE, 0, 0, PRE), ESC_CONFLICT,
           "expire before the deadline -> conflict");
    is_int(ev(&k, ESC_EV_CONFIRM, 0, 0, POST), ESC_CONFLICT,
           "confirm at the deadline -> conflict");
    is_int(ps[0], ESC_PS_PENDING, "participant untouched");
    is_int(ev(&k, ESC_EV_REJECT, 0, 0, POST), ESC_CONFLICT,
           "reject at the deadline -> conflict");
    is_int(ev(&k, ESC_EV_REVOKE, 0, 1, POST), ESC_CONFLICT,
           "revoke at the deadline -> conflict");
    is_int(ev(&k, ESC_EV_CONFIRM, 0, 0, PRE), ESC_CS_SIGNING,
           "confirm 1 ms before the deadline");
    is_int(ev(&k, ESC_EV_EXPIRE, 0, 0, POST), ESC_CS_EXPIRED,
           "expire at now >= deadline");
    is_int(ev(&k, ESC_EV_EXPIRE, 0, 0, POST + 1), ESC_CONFLICT,
           "expire twice -> conflict");
    is_int(ev(&k, ESC_EV_CONFIRM, 1, 0, PRE), ESC_CONFLICT,
           "confirm on expired -> conflict");

    k = mk(ESC_CS_NEW, ESC_PS_PENDING, ESC_PS_PENDING, ESC_PS_PENDING);
    is_int(ev(&k, ESC_EV_INITIATE, 0, 1, POST), ESC_INVALID,
           "initiate with a past deadline -> invalid");
    is_int(k.state, ESC_CS_NEW, "still new");
}


/* every state x every event */
static void
test_matrix(void)
{
    int             st, e, got, want;
    esc_contract_t  k;

    for (st = ESC_CS_NEW; st <= ESC_CS_EXPIRED; st++) {
        for (e = ESC_EV_INITIATE; e <= ESC_EV_EXPIRE; e++) {
            k = mk((esc_contract_state_e) st, ESC_PS_PENDING,
                   ESC_PS_CONFIRMED, ESC_PS_PENDING);
            got = ev(&k, (esc_event_e) e, 0, 1,
                     e == ESC_EV_EXPIRE ? POST : 0);

            if (st == ESC_CS_NEW) {
                want = e == ESC_EV_INITIATE ? ESC_INVALID   /* ps[1] set */
                                            : ESC_CONFLICT;
            } else if (st != ESC_CS_SIGNING) {
                want = ESC_CONFLICT;
            } else {
                switch (e) {
                case ESC_EV_INITIATE: want = ESC_CONFLICT; break;
                case ESC_EV_CONFIRM:  want = ESC_CS_SIGNING; break;
                case ESC_EV_REJECT:   want = ESC_CS_REJECTED; break;
                case ESC_EV_REVOKE:   want = ESC_CS_REVOKED; break;
                default:              want = ESC_CS_EXPIRED;
                }
            }

            is_int(got, want, "state %s x event %d",
                   st ? esc_contract_state_name((esc_contract_state_e) st)
                      : "new", e);

            if (got < 0) {
                ok(k.state == (esc_contract_state_e) st
                   && ps[0] == ESC_PS_PENDING && ps[1] == ESC_PS_CONFIRMED
                   && ps[2] == ESC_PS_PENDING,
                   "  refused event leaves the contract unchanged");
            }
        }
    }
}


static void
test_invalid(void)
{
    esc_contract_t           k;
    esc_participant_state_e  many[ESC_CONTRACT_MAX_PARTICIPANTS + 1];
    esc_contract_state_e     s;
    size_t                   i;

    k = mk(ESC_CS_SIGNING, ESC_PS_PENDING, ESC_PS_PENDING, ESC_PS_PENDING);
    is_int(ev(&k, ESC_EV_CONFIRM, 3, 0, 0), ESC_INVALID,
           "participant index out of range");
    is_int(ev(&k, (esc_event_e) 0, 0, 0, 0), ESC_INVALID, "event 0");
    is_int(ev(&k, (esc_event_e) 9, 0, 0, 0), ESC_INVALID, "event 9");
    is_int(esc_contract_apply(NULL, NULL), ESC_INVALID, "NULLs");
    k.nparticipants = 0;
    is_int(ev(&k, ESC_EV_CONFIRM, 0, 0, 0), ESC_INVALID, "no participants");
    k = mk((esc_contract_state_e) 17, ESC_PS_PENDING, ESC_PS_PENDING,
           ESC_PS_PENDING);
    is_int(ev(&k, ESC_EV_EXPIRE, 0, 0, POST), ESC_INVALID, "unknown state");

    for (i = 0; i <= ESC_CONTRACT_MAX_PARTICIPANTS; i++) {
        many[i] = ESC_PS_PENDING;
    }
    k.state = ESC_CS_NEW;
    k.participants = many;
    k.nparticipants = ESC_CONTRACT_MAX_PARTICIPANTS + 1;
    k.deadline = 0;
    is_int(ev(&k, ESC_EV_INITIATE, 0, 1, 0), ESC_INVALID,
           "too many participants");
    k.nparticipants = ESC_CONTRACT_MAX_PARTICIPANTS;
    is_int(ev(&k, ESC_EV_INITIATE, 0, 1, 0), ESC_CS_SIGNING,
           "R-SIGN-6 64 participants");
    for (i = 0; i + 1 < ESC_CONTRACT_MAX_PARTICIPANTS; i++) {
        ev(&k, ESC_EV_CONFIRM, i, 0, 1);
    }
    is_int(k.state, ESC_CS_SIGNING, "63 of 64 confirmed: signing");
    is_int(ev(&k, ESC_EV_CONFIRM, 63, 0, 1), ESC_CS_COMPLETED,
           "64 of 64: completed");

    is_str(esc_contract_state_name(ESC_CS_SIGNING), "signing", "name");
    is_str(esc_contract_state_name(ESC_CS_EXPIRED), "expired", "name");
    ok(esc_contract_state_name(ESC_CS_NEW) == NULL, "new has no name");
    ok(esc_contract_state_name((esc_contract_state_e) 9) == NULL, "unknown");
    is_str(esc_participant_state_name(ESC_PS_CONFIRMED), "confirmed", "ps");
    ok(esc_participant_state_name((esc_participant_state_e) 5) == NULL,
       "unknown ps");
    is_int(esc_contract_state_parse("revoked", 7, &s), ESC_OK, "parse");
    is_int(s, ESC_CS_REVOKED, "parsed value");
    is_int(esc_contract_state_parse("revoke", 6, &s), ESC_INVALID,
           "prefix refused");
    is_int(esc_contract_state_parse("", 0, &s), ESC_INVALID, "empty");
}


int
main(void)
{
    test_flows();
    test_deadline();
    test_matrix();
    test_invalid();

    return tap_done();
}
