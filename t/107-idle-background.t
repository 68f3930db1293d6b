#!/usr/bin/perl
# R-AUTH-1: background polls of the admin page (X-Esign-Background: 1) see
# the session but do not keep it alive; an idle user is logged out even
# while the page polls for messages.  Shared memory and Redis stores.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use EsignNginx;
use EsignFixtures qw(:all);

for my $store ('shm', 'redis') {
    my $t = EsignNginx->new;
    my $extra = "    esign_session_idle_timeout 2s;\n"
              . "    esign_scrypt 10 8 1;\n";
    $extra .= "    esign_redis 127.0.0.1:" . $t->start_redis . ";\n"
        if $store eq 'redis';
    $t->write_conf($t->standard_http(extra => $extra))->start;

    my $op = create_operator($t);
    my $c = login($t, $op->{username}, $op->{password});

    my @status;
    for (1 .. 6) {
        sleep 0.5;
        my $r = $c->get('/api/v1/messages/count',
                        headers => { 'x-esign-background' => '1' });
        push @status, $r->{status};
    }
    is($status[0], 200, "$store: a background poll sees the live session");
    is($status[-1], 401, "R-AUTH-1 $store: the session died while the page "
                         . 'kept polling');

    my $r = $c->get('/api/v1/session');
    is($r->{status}, 401, "R-AUTH-1 $store: background polls did not keep "
                          . 'the idle session alive');

    $c = login($t, $op->{username}, $op->{password});
    for (1 .. 6) {
        sleep 0.5;
        $c->get('/api/v1/messages/count');
    }
    $r = $c->get('/api/v1/session');
    is($r->{status}, 200, "R-AUTH-1 $store: real activity slides the "
                          . 'session');
    undef $t;
}

done_testing();
