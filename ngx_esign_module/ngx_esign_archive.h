/*
 * Archiving of a completed contract (R-ARCH-1, R-ARCH-2): checks the key
 * facts (initiator, participants, signing times, every signature and the
 * document digest) and records the result in the contract record, which
 * every party can read.  Plain C, runs inside the completing write
 * transaction.
 */

#ifndef _NGX_ESIGN_ARCHIVE_H_INCLUDED_
#define _NGX_ESIGN_ARCHIVE_H_INCLUDED_


#include <stdint.h>
#include <jansson.h>


/*
 * Sets contract["archive"] = {"checked_at" (ms),"result":"passed" |
 * "failed","checks":[{"name","result":"pass"|"fail","detail"}]}.
 * Returns 1 when every check passed, 0 when one failed, -1 on memory
 * failure.
 */
int esign_archive_check(json_t *contract, uint64_t now_ms);


#endif /* _NGX_ESIGN_ARCHIVE_H_INCLUDED_ */
