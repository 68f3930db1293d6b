#!/usr/bin/perl
# Races: state checks happen inside the single write transaction, so
# concurrent confirms, a reject racing a confirm and a revoke racing a
# confirm (two workers, parallel requests from forked clients) end in one
# consistent outcome, with exactly the evidence of what was acknowledged.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use EsignNginx;
use EsignFixtures qw(:all);
use EsignSigning qw(:all);
use Time::HiRes qw(time sleep);
use HTTP::Tiny;

my $t = EsignNginx->new;
$t->write_conf(signing_conf($t), workers => 2)->start;
my $d = $t->dir;

my $p = platform($t, 4);
my ($A, $B, $C, $D) = @{ $p->{insts} };

sub session {
    my ($inst) = @_;
    return { %$inst, c => login($t, $inst->{admin_username},
                                $inst->{password}) };
}

# Runs every [inst, action, cid, token] at the same instant, each from its
# own process; returns the statuses in order.
sub race {
    my (@jobs) = @_;
    my $at = time + 0.4;
    my @pids;
    for my $i (0 .. $#jobs) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            my ($inst, $what, $cid, $tok) = @{ $jobs[$i] };
            # a connection of our own, never the parent's keep-alive one
            $inst->{c}{http} = HTTP::Tiny->new(verify_SSL => 0,
                timeout => 60, SSL_options => { SSL_verify_mode => 0 });
            sleep($at - time) if $at > time;
            my $r = act($inst, $what, $cid, token => $tok);
            EsignNginx::write_file("$d/race.$i", $r->{status});
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid($_, 0) for @pids;
    my @st = map { EsignNginx::read_file("$d/race.$_") } 0 .. $#jobs;
    unlink "$d/race.$_" for 0 .. $#jobs;
    return @st;
}

sub stages {
    my ($cid) = @_;
    my $r = $A->{c}->get("/api/v1/contracts/$cid/evidence");
    return join ',', map { $_->{stage} } @{ $r->{json}{items} };
}

for my $round (1 .. 4) {
    # two sessions of one participant confirm at once
    my $doc = upload($A->{c});
    my $cid = initiate($A, $doc, [$B])->{json}{id};
    my ($b1, $b2) = (session($B), session($B));
    my @st = race([ $b1, 'confirm', $cid, token($b1) ],
                  [ $b2, 'confirm', $cid, token($b2) ]);
    is(join(',', sort @st), '200,409',
       "round $round: concurrent confirms: one 200, one 409");
    my $r = $A->{c}->get("/api/v1/contracts/$cid");
    is($r->{json}{status}, 'completed', '... completed once');
    $r = $A->{c}->get("/api/v1/contracts/$cid/signatures");
    is(scalar @{ $r->{json}{items} }, 1, '... exactly one signature');
    is(stages($cid), 'initiate,confirm,complete',
       'R-EVID-1 ... evidence of exactly what was acknowledged');

    # reject races confirm
    $doc = upload($A->{c});
    $cid = initiate($A, $doc, [$B])->{json}{id};
    ($b1, $b2) = (session($B), session($B));
    @st = race([ $b1, 'confirm', $cid, token($b1) ],
               [ $b2, 'reject', $cid, token($b2) ]);
    is(join(',', sort @st), '200,409',
       "round $round: reject racing confirm: one winner");
    $r = $A->{c}->get("/api/v1/contracts/$cid");
    my $want = $st[0] == 200 ? 'completed' : 'rejected';
    is($r->{json}{status}, $want, "... the winner's outcome ($want)");
    is(stages($cid), $want eq 'completed' ? 'initiate,confirm,complete'
                                          : 'initiate,reject',
       '... and only its evidence');

    # revoke races confirm
    $doc = upload($A->{c});
    $cid = initiate($A, $doc, [$B])->{json}{id};
    $b1 = session($B);
    my $a1 = session($A);
    @st = race([ $b1, 'confirm', $cid, token($b1) ],
               [ $a1, 'revoke', $cid, token($a1) ]);
    is(join(',', sort @st), '200,409',
       "round $round: revoke racing confirm: one winner");
    $r = $A->{c}->get("/api/v1/contracts/$cid");
    $want = $st[0] == 200 ? 'completed' : 'revoked';
    is($r->{json}{status}, $want, "... the winner's outcome ($want)");
}

# three participants confirm at the same moment: all succeed, one result
my $doc = upload($A->{c});
my $cid = initiate($A, $doc, [$B, $C, $D])->{json}{id};
my @s = map { session($_) } $B, $C, $D;
my @st = race(map { [ $_, 'confirm', $cid, token($_) ] } @s);
is(join(',', @st), '200,200,200', 'R-SIGN-6 parallel confirms all succeed');
my $r = $A->{c}->get("/api/v1/contracts/$cid");
is($r->{json}{status}, 'completed', 'R-SIGN-4 completed');
is($r->{json}{archive}{result}, 'passed', 'R-ARCH-2 archive checks passed');
my @stages = split /,/, stages($cid);
is(scalar(grep { $_ eq 'complete' } @stages), 1,
   'R-EVID-2 exactly one result record');
is(scalar(grep { $_ eq 'confirm' } @stages), 3, '... three confirm records');

# a burst: 12 contracts x 3 participants confirmed all at once, so the
# group commit puts writers of different contracts (and of one contract)
# into one batch; every contract completes and archives with every
# signature's time equal to its CMS signing time
my @burst = map { initiate($A, upload($A->{c}), [@s])->{json}{id} } 1 .. 12;
my @jobs = map { my $c = $_; map { [ $_, 'confirm', $c, token($_) ] } @s }
    @burst;
@st = race(@jobs);
is(scalar(grep { $_ == 200 } @st), 36, 'a burst of 36 confirms: all 200')
    or diag join ',', @st;
my @arch = map { $A->{c}->get("/api/v1/contracts/$_")->{json} } @burst;
is(scalar(grep { $_->{status} eq 'completed' } @arch), 12,
   '... every contract completed');
is(scalar(grep { ($_->{archive}{result} // '') eq 'passed' } @arch), 12,
   'R-ARCH-2 ... and every archive check passed')
    or diag explain [ map { $_->{archive} } @arch ];
is(scalar(grep { stages($_) eq 'initiate,confirm,confirm,confirm,complete' }
          @burst), 12, '... each with exactly its evidence records');

my $cli = ledger_cli();
SKIP: {
    skip 'no esign-ledger CLI', 1 unless $cli;
    $t->stop;
    my $out = `$cli verify $d/data/ledger --pubkey $d/keys/site.pub --key-name test-site 2>&1`;
    is($?, 0, 'R-LEDG-1 the ledger verifies after the races') or diag $out;
}

undef $t;
done_testing();
