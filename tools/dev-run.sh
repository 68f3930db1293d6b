#!/bin/sh
# `make run`: prepares ./var/ (TLS certificate, SM2 site key, KEK, data
# directory) on the first run, starts nginx in the foreground on
# https://127.0.0.1:8443, and creates the first platform operator with a
# random password printed once.  A second run reuses ./var/.  Ctrl-C stops.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
var=$top/var
ctl=$top/build/esignctl
umask 077

mkdir -p "$var/keys" "$var/data" "$var/logs" "$var/tmp"
chmod 755 "$var/tmp" "$var/logs"
# workers run as nobody when started by root: let them reach ./var/data
chmod 711 "$var"
chmod 755 "$var/data"

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
    "$ctl" kek create "$var/keys/kek"
fi

/usr/sbin/nginx -p "$var/" -c "$top/conf/dev.conf" -e "$var/logs/error.log" &
nginx=$!
trap 'kill -INT $nginx 2>/dev/null; wait $nginx; exit 0' INT TERM

up=""
for i in $(seq 1 100); do
    if curl -ks -o /dev/null https://127.0.0.1:8443/api/v1/health; then
        up=yes
        break
    fi
    kill -0 $nginx 2>/dev/null || break
    sleep 0.2
done

if [ -z "$up" ]; then
    echo "nginx did not start; see $var/logs/error.log" >&2
    tail -5 "$var/logs/error.log" >&2 || true
    kill $nginx 2>/dev/null || true
    exit 1
fi

if [ ! -f "$var/.operator" ]; then
    # upper, lower and digits, 20+ characters, from the OpenSSL RNG
    pw="Op$(openssl rand -base64 24 | tr -dc 'A-Za-z0-9' | cut -c1-20)7q"
    if printf '%s\n' "$pw" | "$ctl" -d "$var/data" operator add operator \
        >/dev/null; then
        touch "$var/.operator"
        echo
        echo "  platform operator created (shown once):"
        echo "    username: operator"
        echo "    password: $pw"
        echo
    else
        echo "could not create the first operator" >&2
    fi
fi

echo "esign is running on https://127.0.0.1:8443 (admin page: /admin/)."
echo "Ctrl-C stops it."
wait $nginx
