#!/bin/sh
# Session benchmark: authenticated GET /api/v1/session (cookie lookup,
# idle slide, account re-read from LMDB) against a "return 200" location
# of the same nginx, with the shared-memory store and with Redis; plus the
# login rate at the production scrypt cost.  Both figures of a mode come
# from the same nginx run, over the same TLS, keepalive connections
# (wrk -t2 -c32) and the same Cookie header.
#
#   ESIGN_MODULE_SO=build/ngx_http_esign_module.so ESIGN_CTL=build/esignctl \
#       sh bench/session.sh [seconds]
set -e
cd "$(dirname "$0")/.."
SECS=${1:-10}
exec perl -Mstrict -Mwarnings -It/lib -MEsignNginx -MEsignFixtures=:all \
    -MTime::HiRes=time -e '
my $secs = shift;
sub wrk {
    my ($t, $path, $cookie) = @_;
    my $h = $cookie ? "-H \"Cookie: esign_session=$cookie\"" : "";
    my $url = "https://127.0.0.1:" . $t->port . $path;
    my $out = `wrk -t2 -c32 -d${secs}s $h $url 2>&1`;
    my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
    my ($lat) = $out =~ /Latency\s+(\S+)/;
    my ($non) = $out =~ /Non-2xx or 3xx responses:\s+(\d+)/;
    return sprintf "%10.0f req/s  avg latency %-8s non-2xx %s",
                   $rps // 0, $lat // "?", $non // 0;
}
for my $mode ("shm", "redis") {
    my $t = EsignNginx->new(no_log_check => 1);
    my $extra = "    esign_login_rate 6000r/m burst=1000;\n";
    if ($mode eq "redis") {
        my $p = $t->start_redis;
        $extra .= "    esign_redis 127.0.0.1:$p;\n";
    }
    $t->write_conf($t->esign_globals . $extra . $t->https_server(
        "        location / { esign on; }\n"
      . "        location = /plain { return 200 \"ok\\n\"; }\n"),
      workers => 2)->start;
    my $op = create_operator($t);
    my $opc = login($t, $op->{username}, $op->{password});
    my $inst = register_institution($t, seed => 99);
    approve($t, $opc, $inst->{id});
    my $c = login($t, $inst->{admin_username}, $inst->{admin_password});
    my $sid = $c->cookies->{esign_session};
    print "$mode  GET /api/v1/session : ", wrk($t, "/api/v1/session", $sid), "\n";
    print "$mode  GET /plain (return) : ", wrk($t, "/plain", $sid), "\n";
    if ($mode eq "shm") {
        my $n = 0;
        my $t0 = time;
        while (time - $t0 < 5) {
            my $r = $t->client->post("/api/v1/session", json => {
                username => $inst->{admin_username},
                password => $inst->{admin_password} });
            $n++ if $r->{status} == 200;
            last if $r->{status} == 429;
        }
        printf "login: %.1f logins/s sequential (scrypt ln=15 r=8 p=3)\n",
               $n / (time - $t0);
    }
}
' "$SECS"
