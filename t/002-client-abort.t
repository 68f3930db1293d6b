#!/usr/bin/perl
# Foundation: a client that goes away while its request waits for the
# thread pool (a login runs scrypt there) must not crash or leak anything:
# the task finishes, nginx finalizes the request, the worker lives on.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::SSL;
use Time::HiRes qw(sleep);
use EsignNginx;
use EsignFixtures qw(:all);

my $t = EsignNginx->new;
$t->write_conf($t->standard_http(
    extra => "    esign_login_rate 6000r/m burst=1000;\n"))->start;
my $op = create_operator($t);
my @workers = $t->worker_pids;

my $body = qq({"username":"$op->{username}","password":"$op->{password}"});
my $sent = 0;
for (1 .. 20) {
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1',
                                 PeerPort => $t->port,
                                 SSL_verify_mode => SSL_VERIFY_NONE)
        or next;
    print $s "POST /api/v1/session HTTP/1.1\r\nHost: localhost\r\n"
           . "Content-Type: application/json\r\n"
           . "Content-Length: " . length($body) . "\r\n\r\n$body";
    close $s;                  # gone before scrypt returns
    $sent++;
}
is($sent, 20, 'twenty logins sent and abandoned mid-task');

sleep 1.5;                     # let the pool finish the abandoned tasks

my $r = $t->client->get('/api/v1/health');
is($r->{status}, 200, 'the platform still answers');
is_deeply([sort $t->worker_pids], [sort @workers],
          'no worker died or was respawned');

my $c = login($t, $op->{username}, $op->{password});
ok($c->csrf, 'a normal login works afterwards');

undef $t;
done_testing();
