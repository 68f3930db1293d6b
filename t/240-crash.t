#!/usr/bin/perl
# Crash consistency of signing (R-EVID-1/2, R-SVC-1): SIGKILL nginx (master
# and workers) in the middle of a burst of confirms, restart on the same
# data, and check that every acknowledged confirm is in the state AND in
# the ledger, that every committed action reaches the ledger through the
# evidence outbox, and that the ledger verifies.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use EsignNginx;
use EsignFixtures qw(:all);
use EsignSigning qw(:all);
use HTTP::Tiny;
use Time::HiRes qw(time sleep);

my $t = EsignNginx->new;
$t->write_conf(signing_conf($t), workers => 2)->start;
my $d = $t->dir;

my $p = platform($t, 2);
my ($A, $B) = @{ $p->{insts} };

my $N = 40;
my @cids = map { initiate($A, upload($A->{c}), [$B])->{json}{id} } 1 .. $N;
my @toks = map { token($B) } 1 .. $N;
is(scalar(grep { defined } @cids), $N, "$N contracts waiting for a confirm");

my @pids;
for my $i (0 .. $N - 1) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        # a connection of its own, the session cookie of B
        $B->{c}{http} = HTTP::Tiny->new(verify_SSL => 0, timeout => 20,
                                        SSL_options =>
                                            { SSL_verify_mode => 0 });
        sleep(0.01 * $i);
        my $r = act($B, 'confirm', $cids[$i], token => $toks[$i]);
        EsignNginx::write_file("$d/ack.$i", $r->{status});
        POSIX::_exit(0);
    }
    push @pids, $pid;
}

# kill everything once a part of the burst has been acknowledged
my $deadline = time + 30;
while (time < $deadline) {
    my $acked = grep { EsignNginx::read_file("$d/ack.$_") eq '200' }
                0 .. $N - 1;
    last if $acked >= $N / 4;
    sleep 0.005;
}
$t->kill9;
waitpid($_, 0) for @pids;

my @ack = grep { EsignNginx::read_file("$d/ack.$_") eq '200' } 0 .. $N - 1;
ok(@ack >= 1, scalar(@ack) . " of $N confirms acknowledged before SIGKILL");
ok(@ack < $N, '... and the kill interrupted the burst')
    or diag 'every confirm finished before the kill';

# restart on the same data
$t->start;
my $a = login($t, $A->{admin_username}, $A->{password});

my ($bad_state, $bad_ledger) = (0, 0);
for my $i (@ack) {
    my $r = $a->get("/api/v1/contracts/$cids[$i]");
    $bad_state++ unless ($r->{json}{status} // '') eq 'completed';
    $r = $a->get("/api/v1/contracts/$cids[$i]/evidence");
    my @ev = @{ $r->{json}{items} || [] };
    $bad_ledger++ unless @ev == 3 && !grep { !$_->{in_ledger} } @ev;
}
is($bad_state, 0, 'R-SVC-1 every acknowledged confirm is in the state');
is($bad_ledger, 0,
   'R-EVID-1 every acknowledged confirm is in the ledger at once');

# committed but unacknowledged actions reach the ledger via the outbox
sleep 2.5;
my ($completed, $pending, $incomplete) = (0, 0, 0);
for my $cid (@cids) {
    my $r = $a->get("/api/v1/contracts/$cid/evidence");
    my @ev = @{ $r->{json}{items} || [] };
    $incomplete++ if grep { !$_->{in_ledger} } @ev;
    $r = $a->get("/api/v1/contracts/$cid");
    my $s = $r->{json}{status} // '';
    if ($s eq 'completed') { $completed++ }
    elsif ($s eq 'signing') { $pending++ }
}
is($completed + $pending, $N, "every contract is completed or untouched "
                              . "($completed completed, $pending signing)");
is($incomplete, 0,
   'R-EVID-1 every committed evidence record reached the ledger');

# the signings that were cut off can be finished now
my $b = login($t, $B->{admin_username}, $B->{password});
my $Bn = { %$B, c => $b };
my $fin = 0;
for my $cid (@cids) {
    my $r = $a->get("/api/v1/contracts/$cid");
    next unless $r->{json}{status} eq 'signing';
    $r = act($Bn, 'confirm', $cid);
    $fin++ if $r->{status} == 200;
}
is($fin, $pending, 'unacknowledged signings complete after the restart');

my $cli = ledger_cli();
SKIP: {
    skip 'no esign-ledger CLI', 1 unless $cli;
    $t->stop;
    my $out = `$cli verify $d/data/ledger --pubkey $d/keys/site.pub --key-name test-site 2>&1`;
    is($?, 0, 'R-LEDG-1 esign-ledger verify passes after the crash')
        or diag $out;
}

undef $t;
done_testing();
