#!/bin/sh
# Confirm benchmark: durable confirms per second (each one decrypts the
# document, makes an SM2 CMS signature in the thread pool, commits one
# LMDB transaction with the evidence in the outbox, appends to the ledger
# with group commit, and only then answers) with p50/p99 latency, printed
# next to limits measured in the same run: "return 200" of the same nginx
# (wrk), raw ledger appends (esign-ledger bench) and raw SM2 signing
# (openssl speed sm2).  Not a pass/fail test.
#
#   ESIGN_MODULE_SO=build/ngx_http_esign_module.so ESIGN_CTL=build/esignctl \
#       sh bench/confirm.sh [confirms] [concurrency]
set -e
cd "$(dirname "$0")/.."
N=${1:-400}
CONC=${2:-16}
LIBDIR=${ESIGN_LIBDIR:-build}
CLI=ledger/$LIBDIR/esign-ledger
[ -x "$CLI" ] || CLI=ledger/build/esign-ledger

perl -Mstrict -Mwarnings -It/lib -MEsignNginx -MEsignFixtures=:all \
    -MEsignSigning=:all -MHTTP::Tiny -MTime::HiRes=time,sleep -e '
my ($n, $conc) = @ARGV;
my $t = EsignNginx->new(no_log_check => 1);
$t->write_conf(EsignSigning::signing_conf($t) =~ s{location / \{ esign on; \}}
    {location / { esign on; }\n        location = /plain { return 200 "ok\\n"; }}r,
    workers => 2)->start;
my $d = $t->dir;
my $p = platform($t, 2);
my ($A, $B) = @{ $p->{insts} };
my @cids = map { initiate($A, upload($A->{c}), [$B])->{json}{id} } 1 .. $n;
my @toks = map { token($B) } 1 .. $n;
my $t0 = time;
my @pids;
for my $w (0 .. $conc - 1) {
    my $pid = fork // die;
    if ($pid == 0) {
        $B->{c}{http} = HTTP::Tiny->new(verify_SSL => 0, keep_alive => 1,
            timeout => 60, SSL_options => { SSL_verify_mode => 0 });
        my @lat;
        for (my $i = $w; $i < $n; $i += $conc) {
            my $s = time;
            my $r = act($B, "confirm", $cids[$i], token => $toks[$i]);
            push @lat, ($r->{status} == 200 ? 1 : -1) * (time - $s);
        }
        EsignNginx::write_file("$d/lat.$w", join("\n", @lat) . "\n");
        POSIX::_exit(0);
    }
    push @pids, $pid;
}
waitpid($_, 0) for @pids;
my $el = time - $t0;
my @lat = map { split /\n/, EsignNginx::read_file("$d/lat.$_") } 0 .. $conc - 1;
my @ok = sort { $a <=> $b } grep { $_ > 0 } @lat;
my $pct = sub { @ok ? $ok[int($_[0] * $#ok)] * 1000 : 0 };
printf "durable confirms      : %8.1f confirms/s  p50 %.1f ms  p99 %.1f ms"
     . "  (%d ok of %d, %d clients, 2 workers)\n",
       @ok / $el, $pct->(0.5), $pct->(0.99), scalar @ok, $n, $conc;
my $out = `wrk -t2 -c32 -d5s https://127.0.0.1:@{[ $t->port ]}/plain 2>&1`;
my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
my ($l) = $out =~ /Latency\s+(\S+)/;
printf "return 200 (same nginx): %8.0f req/s      avg latency %s\n",
       $rps // 0, $l // "?";
' "$N" "$CONC"

echo "raw ledger appends (esign-ledger bench, same machine, same run):"
d=$(mktemp -d /tmp/esl-bench.XXXXXX)
"$CLI" bench "$d" 2>&1 | grep -E "durable appends|SM2 sign" | sed "s/^/  /"
rm -rf "$d"
echo "raw SM2 signing (openssl speed, 1 core):"
openssl speed -seconds 3 sm2 2>/dev/null | grep -iE "^ *[0-9]+ bits? SM2|sign/s|SM2" | tail -2 | sed "s/^/  /"
