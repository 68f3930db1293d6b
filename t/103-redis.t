#!/usr/bin/perl
# Sessions in Redis: the same flows as shm, 503 with Retry-After while
# Redis is down (never a 500, never a session-less pass), recovery, and
# two nginx instances sharing sessions through one Redis.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use IO::Socket::INET;
use EsignNginx;
use EsignFixtures qw(:all);

plan skip_all => 'redis-server not installed'
    unless -x '/usr/bin/redis-server';

my $t = EsignNginx->new;
my $rport = $t->start_redis;
my $extra = "    esign_scrypt 12 8 1;\n    esign_redis 127.0.0.1:$rport;\n"
          . "    esign_session_idle_timeout 2s;\n";
$t->write_conf($t->standard_http(extra => $extra))->start;

my $op = create_operator($t);
my $opc = login($t, $op->{username}, $op->{password});
my $inst = register_institution($t, seed => 7171);
approve($t, $opc, $inst->{id});

my $adm = login($t, $inst->{admin_username}, $inst->{admin_password});
my $r = $adm->get('/api/v1/session');
is($r->{status}, 200, 'Redis store: login and GET /session');

my $keys = `redis-cli -p $rport --scan --pattern 'esign:s:*' 2>&1`;
like($keys, qr/^esign:s:[0-9a-f]{64}$/m, 'Redis holds the session by hash');
unlike($keys, qr/\Q$adm->{cookies}{esign_session}\E/,
       '... never the session ID itself');
my $ttl = `redis-cli -p $rport pttl $1` if $keys =~ /^(esign:s:\S+)$/m;
ok(defined $ttl && $ttl > 0, 'Redis session key has an expiry');

$r = $adm->post('/api/v1/accounts', json => {}, no_csrf => 1);
is($r->{status}, 403, 'Redis store: CSRF missing refused');

my $tok = verify_token($adm, $inst->{admin_password});
ok($tok, 'Redis store: step-up token');

# idle expiry and sliding
for (1 .. 2) {
    sleep 1.0;
    is($adm->get('/api/v1/session')->{status}, 200,
       "R-AUTH-1 Redis store: activity slides ($_)");
}
sleep 2.3;
$r = $adm->get('/api/v1/session');
is($r->{status}, 401, 'R-AUTH-1 Redis store: idle session expires');

# a second nginx on the same data and Redis shares the sessions
my $u = EsignNginx->new;
$u->write_conf($t->esign_globals . $extra
               . $u->https_server("        location / { esign on; }\n"))
  ->start;
$adm = login($t, $inst->{admin_username}, $inst->{admin_password});
my $other = $u->client;
$other->cookies->{esign_session} = $adm->cookies->{esign_session};
$other->csrf($adm->csrf);
$r = $other->get('/api/v1/session');
is($r->{status}, 200, 'session shared by two nginx instances on one Redis');
is($r->{json}{account}{username}, $inst->{admin_username}, '... same account');
$r = $other->delete('/api/v1/session');
is($r->{status}, 204, 'logout on the second instance');
is($adm->get('/api/v1/session')->{status}, 401,
   '... ends the session on the first');

# Redis down: 503 + Retry-After, never 500, never a pass
$adm = login($t, $inst->{admin_username}, $inst->{admin_password});
$t->stop_redis($rport);
$r = $adm->get('/api/v1/session');
is($r->{status}, 503, 'Redis down: 503');
is($r->{json}{error}{code}, 'unavailable', '... unavailable');
ok($r->{headers}{'retry-after'}, '... with Retry-After');
$r = $adm->get('/api/v1/accounts');
is($r->{status}, 503, 'Redis down: protected routes 503, no pass');
$r = $t->client->post('/api/v1/session', json => {
    username => $inst->{admin_username}, password => $inst->{admin_password} });
is($r->{status}, 503, 'Redis down: login 503');
is($t->client->get('/api/v1/health')->{status}, 200,
   'Redis down: public routes still answer');

# Redis back on the same port: the API recovers
my $pid = fork // die;
if ($pid == 0) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>&', \*STDOUT;
    exec('redis-server', '--port', $rport, '--bind', '127.0.0.1',
         '--save', '', '--appendonly', 'no', '--dir', $t->dir);
}
for (1 .. 100) {
    last if IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $rport);
    sleep 0.05;
}
$adm = login($t, $inst->{admin_username}, $inst->{admin_password});
is($adm->get('/api/v1/session')->{status}, 200,
   'Redis back: the API recovers');

undef $u;
undef $t;
kill 'KILL', $pid;
waitpid($pid, 0);
done_testing();
