#!/usr/bin/perl
# R-ACC-3/4: a received contract reaches a department of the receiving
# institution.  Until its top tier routes it (POST /contracts/{id}/route)
# only the top tier sees it; afterwards that department's business tiers
# see it (the operator masked) and other departments still do not.  The
# routing is internal to the party, audited, and refused to anyone else.

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
my ($A, $B, $X) = @{ $p->{insts} };

sub member {
    my ($inst, %o) = @_;
    my $acc = create_account($t, $inst->{c}, %o);
    return { %$acc, c => login($t, $acc->{username}, $acc->{password}) };
}

my $legal = member($B, tier => 'business_admin', department => 'Legal',
                   permissions => [qw(view confirm download)]);
my $credit = member($B, tier => 'business_admin', department => 'Credit',
                    permissions => [qw(view confirm)]);
my $lop = member($B, tier => 'business_operator', department => 'Legal',
                 permissions => [qw(view)]);
my $top = member($B, tier => 'top_admin', department => 'Board',
                 permissions => [qw(view)]);
my $topnv = member($B, tier => 'top_admin', department => 'Board',
                   permissions => [qw(confirm)]);

my $r = initiate($A, upload($A->{c}), [$B], title => 'Facility Agreement',
                 number => 'FA-77');
is($r->{status}, 201, 'contract initiated to B');
my $cid = $r->{json}{id};

sub sees {
    my ($who, $id) = @_;
    my $g = $who->{c}->get("/api/v1/contracts/$id");
    my $l = $who->{c}->get('/api/v1/contracts?box=received');
    my $listed = grep { $_->{id} eq $id } @{ $l->{json}{items} // [] };
    return ($g->{status}, $listed ? 1 : 0, $g);
}

# ---- before routing: only the top tier --------------------------------

my ($st, $listed) = sees($legal, $cid);
is($st, 404, 'R-ACC-3 unrouted: a business admin of B gets 404');
is($listed, 0, '... and does not list it');
($st, $listed) = sees($top, $cid);
is($st, 200, 'unrouted: a top-tier account of B reads it');
is($listed, 1, '... and lists it');
($st) = sees($B, $cid);
is($st, 200, 'unrouted: the administrator of B reads it');

$r = $B->{c}->get("/api/v1/contracts/$cid");
my ($bp) = grep { $_->{institution_id} eq $B->{id} }
    @{ $r->{json}{participants} };
is($bp->{department}, '', "B's own side shows its (empty) department");

# ---- refusals ---------------------------------------------------------

$r = $legal->{c}->post("/api/v1/contracts/$cid/route",
                       json => { department => 'Legal' });
is($r->{status}, 404, 'a business admin cannot route what it cannot see');
$r = $topnv->{c}->post("/api/v1/contracts/$cid/route",
                       json => { department => 'Legal' });
is($r->{status}, 403, 'a top-tier account without view is 403');
$r = $A->{c}->post("/api/v1/contracts/$cid/route",
                   json => { department => 'Legal' });
is($r->{status}, 403, "the initiator cannot route the participant's side");
$r = $X->{c}->post("/api/v1/contracts/$cid/route",
                   json => { department => 'Legal' });
is($r->{status}, 404, 'an institution not on the contract gets 404');
$r = $B->{c}->post("/api/v1/contracts/nonexistent0000000000/route",
                   json => { department => 'Legal' });
is($r->{status}, 404, 'an unknown contract is 404');

for my $bad ({}, { department => '' }, { department => 'a/b' },
             { department => 'x*' }, { department => 'y' x 65 },
             { department => 42 }, { department => ['Legal'] })
{
    $r = $B->{c}->post("/api/v1/contracts/$cid/route", json => $bad);
    is($r->{status}, 400, 'bad department refused: '
        . $EsignNginx::JSON->encode($bad));
    is($r->{json}{error}{code}, 'invalid_request', '... invalid_request');
}
$r = $B->{c}->post("/api/v1/contracts/$cid/route", body => 'department=x',
                   type => 'application/x-www-form-urlencoded');
is($r->{status}, 415, 'a non-JSON body is 415');

($st) = sees($legal, $cid);
is($st, 404, 'refused routings changed nothing');

# ---- route to Legal ---------------------------------------------------

$r = $B->{c}->post("/api/v1/contracts/$cid/route",
                   json => { department => 'Legal' });
is($r->{status}, 200, 'R-ACC-3 the administrator of B routes it to Legal');
($bp) = grep { $_->{institution_id} eq $B->{id} }
    @{ $r->{json}{participants} };
is($bp->{department}, 'Legal', '... the answer shows the department');

($st, $listed) = sees($legal, $cid);
is($st, 200, 'routed: the Legal business admin reads it');
is($listed, 1, '... and lists it');
my (undef, undef, $g) = sees($lop, $cid);
is($g->{status}, 200, 'routed: the Legal business operator reads it');
isnt($g->{json}{title}, 'Facility Agreement',
     '... masked (R-ACC-4), never the original title');
($st, $listed) = sees($credit, $cid);
is($st, 404, 'routed: the Credit business admin still gets 404');
is($listed, 0, '... and does not list it');

$r = $A->{c}->get("/api/v1/contracts/$cid");
($bp) = grep { $_->{institution_id} eq $B->{id} }
    @{ $r->{json}{participants} };
ok(!exists $bp->{department},
   "the initiator does not see the participant's internal department");

$r = $legal->{c}->post("/api/v1/contracts/$cid/route",
                       json => { department => 'Credit' });
is($r->{status}, 403, 'a business admin that sees it still cannot route');

# the routed department confirms
$r = act($legal, 'confirm', $cid);
is($r->{status}, 200, 'the Legal business admin confirms');
is($r->{json}{status}, 'completed', '... the contract completes');

# ---- re-route, audited ------------------------------------------------

$r = $top->{c}->post("/api/v1/contracts/$cid/route",
                     json => { department => 'Credit' });
is($r->{status}, 200, 'a top-tier account re-routes it to Credit');
($st) = sees($legal, $cid);
is($st, 404, 'Legal lost it');
($st) = sees($credit, $cid);
is($st, 200, 'Credit has it');

$r = $B->{c}->get('/api/v1/audit?action=contract_route');
is($r->{status}, 200, 'audit readable by the administrator');
my @routes = grep { ($_->{object_id} // '') eq $cid }
    @{ $r->{json}{items} // [] };
is(scalar @routes, 2, 'R-AUD-2 both routings are audited');
my $dumped = $EsignNginx::JSON->encode(\@routes);
like($dumped, qr/department=Credit was=Legal/,
     '... with the departments before and after');

undef $t;
done_testing();
