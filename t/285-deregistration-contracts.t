#!/usr/bin/perl
# R-REG-5 with contracts: an operator's approval of a deregistration is
# 409 while a signing of the institution (as initiator or participant) is
# in progress; a revoked or expired one no longer blocks.  Afterwards every
# contract the institution took part in stays readable by the other
# parties, with its signatures, certificates and evidence receipts, while
# nobody of the institution can log in.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use EsignNginx;
use EsignFixtures qw(:all);
use EsignSigning qw(:all);

my $t = EsignNginx->new;
$t->write_conf(signing_conf($t))->start;

my $p = platform($t, 3);
my ($A, $B, $C) = @{ $p->{insts} };
my $opc = $p->{opc};

# a completed contract of A with B and C, signed by both
my $r = initiate($A, upload($A->{c}), [$B, $C], title => 'Done deal');
is($r->{status}, 201, 'contract initiated');
my $done = $r->{json}{id};
is(act($B, 'confirm', $done)->{status}, 200, 'B confirms');
$r = act($C, 'confirm', $done);
is($r->{json}{status}, 'completed', 'C confirms: completed');

# one where B is a participant and still has to sign
$r = initiate($A, upload($A->{c}), [$B]);
my $open_part = $r->{json}{id};

# one that B initiated itself, still signing
$r = initiate($B, upload($B->{c}), [$C]);
my $open_init = $r->{json}{id};

# one with B and a deadline two seconds ahead
my @tm = gmtime(time + 2);
my $exp = sprintf('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', $tm[5] + 1900,
                  $tm[4] + 1, @tm[3, 2, 1, 0], 999);
$r = initiate($A, upload($A->{c}), [$B], expires_at => $exp);
is($r->{status}, 201, 'a contract with a near deadline');
my $expiring = $r->{json}{id};

$r = $B->{c}->post('/api/v1/institution/deregistration',
                   json => { reason => 'merger' });
is($r->{status}, 202, 'B asks to deregister');

my $url = "/api/v1/admin/institutions/$B->{id}/deregistration/approve";

$r = $opc->post($url);
is($r->{status}, 409, 'R-REG-5 approval is 409 while B must still sign');
like($r->{json}{error}{message} // '', qr/in progress/, '... signing in progress');

$r = act($A, 'revoke', $open_part);
is($r->{status}, 200, 'A revokes the contract B had to sign');

$r = $opc->post($url);
is($r->{status}, 409, 'still 409: a contract B initiated is signing');

$r = act($B, 'revoke', $open_init);
is($r->{status}, 200, 'B revokes its own');

# the deadline passes (the sweep or the check itself sees it)
select undef, undef, undef, 3;

$r = $opc->post($url);
is($r->{status}, 200, 'R-REG-5 approved once nothing is signing '
   . '(revoked and expired contracts do not block)');
is($r->{json}{status}, 'deregistered', '... deregistered');

$r = $B->{c}->get('/api/v1/session');
is($r->{status}, 401, "B's session died");
$r = $t->client->post('/api/v1/session',
                      json => { username => $B->{admin_username},
                                password => $B->{admin_password} });
isnt($r->{status}, 200, 'nobody of B logs in');

# the other parties keep everything
for my $who ([$A, 'the initiator'], [$C, 'the other participant']) {
    my ($inst, $name) = @$who;
    $r = $inst->{c}->get("/api/v1/contracts/$done");
    is($r->{status}, 200, "$name still reads the completed contract");
    my ($bp) = grep { $_->{institution_id} eq $B->{id} }
        @{ $r->{json}{participants} };
    is($bp->{status}, 'confirmed', "... with B's confirmation");

    $r = $inst->{c}->get("/api/v1/contracts/$done/signatures");
    is($r->{status}, 200, "$name reads the signatures");
    my ($bs) = grep { $_->{institution_id} eq $B->{id} }
        @{ $r->{json}{items} // $r->{json}{signatures} // [] };
    ok($bs && $bs->{signature_pem} =~ /BEGIN CMS/
       && $bs->{certificate_pem} =~ /BEGIN CERTIFICATE/,
       "... B's signature and certificate are there");

    $r = $inst->{c}->get("/api/v1/contracts/$done/evidence");
    is($r->{status}, 200, "$name reads the evidence");
    my @items = @{ $r->{json}{items} // [] };
    is_deeply([ sort map { $_->{stage} } @items ],
              [ sort qw(initiate confirm confirm complete) ],
              '... a record of every step and the result')
        or diag explain [ map { $_->{stage} } @items ];
    is(scalar(grep { $_->{in_ledger} && ref $_->{receipt} eq 'HASH' }
              @items), scalar @items, '... each in the ledger with a receipt');
}

$r = $A->{c}->get("/api/v1/contracts/$expiring");
is($r->{json}{status}, 'expired', 'the contract with the deadline expired');

undef $t;
done_testing();
