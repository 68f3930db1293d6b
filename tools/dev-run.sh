#!/bin/sh
# `make run`: prepares ./var/ (TLS certificate, SM2 site key, KEK, data
# directory, first platform operator) on the first run, then runs nginx in
# the foreground on https://127.0.0.1:8443.  A second run reuses ./var/.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
var=$top/var
umask 077

mkdir -p "$var/keys" "$var/data/state" "$var/data/ledger" "$var/logs" \
         "$var/tmp"
chmod 755 "$var" "$var/tmp" "$var/logs"

if [ ! -f "$var/keys/tls.crt" ]; then
    echo "creating a self-signed TLS certificate for 127.0.0.1"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -days 365 -subj /CN=127.0.0.1 \
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$var/keys/tls.key" -out "$var/keys/tls.crt" 2>/dev/null
fi

if [ ! -f "$var/keys/site.key" ]; then
    echo "creating the site's SM2 signing key"
    openssl genpkey -algorithm SM2 -out "$var/keys/site.key"
    openssl pkey -in "$var/keys/site.key" -pubout -out "$var/keys/site.pub"
fi

if [ ! -f "$var/keys/kek" ]; then
    echo "creating the key-encryption key"
    "$top/build/esignctl" kek create "$var/keys/kek"
fi

if [ ! -f "$var/.operator" ]; then
    echo "creating the first platform operator (the password is shown once)"
    "$top/build/esignctl" operator add --data "$var/data" --username operator
    touch "$var/.operator"
fi

if [ "$(id -u)" = 0 ]; then
    # workers run as nobody: they need to reach the data directory
    chmod 711 "$var"
fi

echo "esign is starting on https://127.0.0.1:8443 (Ctrl-C stops it)"
exec /usr/sbin/nginx -p "$var/" -c "$top/conf/dev.conf" -e "$var/logs/error.log"
