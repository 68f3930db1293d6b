#!/bin/sh
# `make bench`: every benchmark prints its figures next to a limit measured
# in the same run (stock nginx `return 200`, raw LMDB, raw SM3/SM2).
# Benchmarks are never pass/fail: these machines are noisy.
set -eu
cd "$(dirname "$0")/.."
for b in bench/session.sh bench/confirm.sh; do
    if [ -f "$b" ]; then
        echo "== $b"
        sh "$b"
    fi
done
