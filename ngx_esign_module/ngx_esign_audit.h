/*
 * The audit log (R-AUD-1, R-AUD-2): one JSON record per login, logout,
 * failed login, review decision and account change, in ESIGN_DB_AUDIT
 * under "<inst_id>/<ms as 16 hex>/<8 random hex>" so one institution's
 * records are one key range, in time order.  Plain C, usable inside any
 * write transaction (module threads, esignctl).
 */

#ifndef _NGX_ESIGN_AUDIT_H_INCLUDED_
#define _NGX_ESIGN_AUDIT_H_INCLUDED_


#include <stdint.h>
#include <lmdb.h>


/* The institution ID used for platform-level records (operators). */
#define ESIGN_AUDIT_PLATFORM  "platform"


/*
 * Appends {"at","institution_id","account_id","action","object_id",
 * "detail","client_ip"} (NULL strings are stored as null).  Personal data
 * must not be passed in detail unmasked.  Returns 0 or an MDB_ error.
 */
int esign_audit_append(MDB_txn *txn, MDB_dbi *dbis, const char *inst_id,
    const char *account_id, const char *action, const char *object_id,
    const char *detail, const char *client_ip, uint64_t now_ms);


#endif /* _NGX_ESIGN_AUDIT_H_INCLUDED_ */
