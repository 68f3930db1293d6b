#!/bin/sh
# Confirm benchmark (issue 5): durable confirms per second with p50/p99
# latency, printed next to limits measured in the same run: "return 200"
# of the same nginx, raw ledger appends (esign-ledger bench) and raw SM2
# signing on both cores (openssl speed -multi 2).  Not a pass/fail test.
#
# Every confirm checks the session, the contract state and a single-use
# step-up token, makes an SM2 CMS signature in the thread pool, commits
# its state transaction (group commit) and appends its evidence to the
# ledger (group commit); only then is it answered.  The last confirm of a
# contract also archives it (verifies every signature).
#
# Setup (not timed): one initiator and P participant institutions, C
# contracts, so C * P confirms (defaults: 2000 contracts, 3 participants,
# 64 connections); the step-up tokens are fetched
# beforehand (the password step-up is a deliberately slow KDF, so the
# bench config lowers esign_scrypt; nothing else is relaxed).  Then
# bench/loadgen replays the confirms: once closed loop (throughput), and
# again with fresh contracts open loop at half that rate and at 1,250/s,
# half of the issue's 2,500/s target (latency).
#
#   ESIGN_MODULE_SO=build/ngx_http_esign_module.so ESIGN_CTL=build/esignctl \
#       sh bench/confirm.sh [contracts] [participants] [connections]
set -e
cd "$(dirname "$0")/.."
C=${1:-2000}
P=${2:-3}
CONC=${3:-64}
LIBDIR=${ESIGN_LIBDIR:-build}
CLI=ledger/$LIBDIR/esign-ledger
[ -x "$CLI" ] || CLI=ledger/build/esign-ledger
LOADGEN=${TMPDIR:-/tmp}/esign-loadgen.$$
cc -O2 -o "$LOADGEN" bench/loadgen.c -lssl -lcrypto
trap 'rm -f "$LOADGEN"' EXIT

LOADGEN=$LOADGEN perl -Mstrict -Mwarnings -It/lib -MEsignNginx \
    -MEsignFixtures=:all -MEsignSigning=:all -MHTTP::Tiny -MPOSIX \
    -MList::Util=shuffle -e '
my ($ncontracts, $nparts, $conc) = @ARGV;
my $t = EsignNginx->new(no_log_check => 1);
my $conf = EsignSigning::signing_conf($t,
    extra => "    esign_verify_rate 6000000r/m burst=100000;\n")
    =~ s{location / \{ esign on; \}}
        {location / { esign on; }\n        location = /plain { return 200 "ok\\n"; }}r;
$conf =~ s/esign_scrypt 12 8 1;/esign_scrypt 10 8 1;/;
$conf =~ s/(esign_verify_rate 6000r\/m burst=1000;)//;
$t->write_conf($conf, workers => 2)->start;
my $d = $t->dir;
my $port = $t->port;
my $p = platform($t, $nparts + 1);
my ($A, @parts) = @{ $p->{insts} };

# C contracts, then one confirm request per (contract, participant),
# prepared by 6 processes in parallel and shuffled.
sub prepare {
    my ($tag, $count) = @_;
    my @pids;
    my $k = 6;
    for my $w (0 .. $k - 1) {
        my $pid = fork // die;
        if ($pid == 0) {
            for my $i ($A, @parts) {
                $i->{c}{http} = HTTP::Tiny->new(verify_SSL => 0,
                    keep_alive => 1, timeout => 60,
                    SSL_options => { SSL_verify_mode => 0 });
            }
            my $out = "";
            for (my $n = $w; $n < $count; $n += $k) {
                my $r = initiate($A, upload($A->{c}), \@parts);
                die "initiate: $r->{status} $r->{content}"
                    unless $r->{status} == 201;
                my $cid = $r->{json}{id};
                for my $b (@parts) {
                    my $body = qq({"verification_token":") . token($b)
                             . qq("});
                    my $cookie = join "; ", map { "$_=$b->{c}{cookies}{$_}" }
                        sort keys %{ $b->{c}{cookies} };
                    my $req = "POST /api/v1/contracts/$cid/confirm HTTP/1.1\r\n"
                        . "Host: 127.0.0.1\r\nCookie: $cookie\r\n"
                        . "X-CSRF-Token: $b->{c}{csrf}\r\n"
                        . "Content-Type: application/json\r\n"
                        . "Content-Length: " . length($body) . "\r\n\r\n"
                        . $body;
                    $out .= length($req) . "\n" . $req . "\x00";
                }
            }
            EsignNginx::write_file("$d/req.$tag.$w", $out);
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid($_, 0) for @pids;
    srand(42);
    my @r = shuffle map { grep { length } split /\x00/,
                          EsignNginx::read_file("$d/req.$tag.$_") } 0 .. $k - 1;
    EsignNginx::write_file("$d/req.$tag", join "", @r);
    return scalar @r;
}

sub run {
    my ($tag, @opt) = @_;
    my $out = `$ENV{LOADGEN} -p $port -c $conc @opt $d/req.$tag`;
    die "loadgen failed: $out" if $? >> 8 > 1 || $out !~ /^requests/;
    my %m = split " ", $out;
    die "confirms refused: $out" if $m{other} || $m{failed};
    return \%m;
}

# CPU seconds (user + system, every thread) of the nginx workers: the
# cost per confirm is steadier than the rate on a shared, noisy machine
sub cpu {
    my $ticks = 0;
    for my $pid ($t->worker_pids) {
        my $st = EsignNginx::read_file("/proc/$pid/stat");
        $st =~ s/^.*\) //s;
        my @f = split " ", $st;
        $ticks += $f[11] + $f[12];
    }
    return $ticks / POSIX::sysconf(POSIX::_SC_CLK_TCK());
}

my $n = prepare("full", $ncontracts);
my $cpu0 = cpu();
my $m = run("full");
my $cpu = cpu() - $cpu0;
printf "durable confirms, closed loop: %8.1f confirms/s  p50 %.1f ms  "
     . "p99 %.1f ms  (%d confirms, %d contracts x %d participants, "
     . "%d connections, 2 workers)\n",
       $m->{rate}, $m->{p50}, $m->{p99}, $n, $ncontracts, $nparts, $conc;
printf "nginx workers CPU per confirm: %.2f ms (user + system, all "
     . "threads; 2 cores = %.0f confirms/s if nothing else ran)\n",
       1000 * $cpu / $n, $cpu > 0 ? 2 * $n / $cpu : 0;
my $half = int($m->{rate} / 2) || 1;
my $nh = prepare("half", $ncontracts);
my $h = run("half", "-r", $half);
printf "durable confirms, open loop at %d/s: p50 %.1f ms  p90 %.1f ms  "
     . "p99 %.1f ms  max %.1f ms (%d confirms)\n",
       $half, $h->{p50}, $h->{p90}, $h->{p99}, $h->{max}, $nh;
# the issue fixes its latency target at half of 2,500/s, whatever this
# machine manages: measured as such as well
my $fixed = 1250;
my $nf = prepare("fixed", $ncontracts);
my $f = run("fixed", "-r", $fixed);
printf "durable confirms, open loop at %d/s (half the 2,500/s target): "
     . "achieved %.0f/s  p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  "
     . "max %.1f ms (%d confirms)\n",
       $fixed, $f->{rate}, $f->{p50}, $f->{p90}, $f->{p99}, $f->{max}, $nf;
my $out = `wrk -t2 -c32 -d5s https://127.0.0.1:$port/plain 2>&1`;
my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
my ($l) = $out =~ /Latency\s+(\S+)/;
printf "return 200 (same nginx):       %8.0f req/s      avg latency %s\n",
       $rps // 0, $l // "?";
' "$C" "$P" "$CONC"

echo "raw ledger appends (esign-ledger bench, same machine, same run):"
d=$(mktemp -d /tmp/esl-bench.XXXXXX)
"$CLI" bench "$d" 2>&1 | grep -E "durable appends|SM2 sign" | sed "s/^/  /"
rm -rf "$d"
echo "raw SM2 signing and verifying, both cores (openssl speed -multi 2):"
openssl speed -seconds 3 -multi 2 sm2 2>/dev/null \
    | awk '/bits SM2/ { printf "  SM2 sign %s/s, verify %s/s\n", $(NF-1), $NF }'
