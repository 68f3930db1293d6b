#!/bin/sh
# Regenerates esc_password_list.c, the common-password blocklist, from
# John the Ripper's list (Debian package john-data):
#
#   apt-get install john-data
#   sh gen_password_list.sh /usr/share/john/password.lst > esc_password_list.c
#
# Entries are lower-cased (ASCII), de-duplicated and sorted in byte order
# (LC_ALL=C) so that esc_password.c can bsearch() them with strcmp().

set -eu

src=${1:-/usr/share/john/password.lst}
ver=$(dpkg-query -W -f '${Version}' john-data 2>/dev/null || echo unknown)

body=$(grep -v '^#!comment' "$src" | tr 'A-Z' 'a-z' | LC_ALL=C sort -u \
       | grep -v '^$' \
       | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' \
             -e 's/^/    "/' -e 's/$/",/')
n=$(printf '%s\n' "$body" | wc -l)

cat <<HDR
/*
 * Common-password blocklist, generated: do not edit.
 *
 * Source: /usr/share/john/password.lst from Debian's john-data $ver
 * (Openwall, public domain), lower-cased, de-duplicated and sorted in
 * byte order by gen_password_list.sh in this folder:
 *
 *   sh gen_password_list.sh /usr/share/john/password.lst
 *       > esc_password_list.c   (one line)
 */

#include "esc_password.h"


const char *const  esc_password_list[] = {
HDR
printf '%s\n' "$body"
cat <<TAIL
};

const size_t  esc_password_list_n = $n;
TAIL
