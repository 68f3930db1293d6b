#!/usr/bin/perl
# Cross-tenant matrix (R-ACC-4, R-SEC-1): an account of institution A calls
# every identity route on objects of institution B and gets 404 or 403,
# never B's data; operators read no institution data; brute force meets
# 429; logs and the state files hold no plain personal data (R-SEC-2).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use EsignNginx;
use EsignFixtures qw(:all);

my $t = EsignNginx->new;
$t->write_conf($t->standard_http(extra => <<'EOF2'))->start;
    esign_scrypt 12 8 1;
    esign_login_rate 60r/m burst=5;
    esign_lockout 100 1m;
EOF2

my $op = create_operator($t);
my $opc = login($t, $op->{username}, $op->{password});
my $A = register_institution($t, seed => 811);
my $B = register_institution($t, seed => 822);
my @approved = map { approve($t, $opc, $_->{id}) } $A, $B;
my %serials = map { $_->{cert_serial} => 1 } @approved;
is(scalar keys %serials, 2, 'R-REG-3 certificate serials never repeat');

my $adminA = login($t, $A->{admin_username}, $A->{admin_password});
my $adminB = login($t, $B->{admin_username}, $B->{admin_password});
my $accB = create_account($t, $adminB, department => 'Risk', seed => 823);
my $accA = create_account($t, $adminA, department => 'Risk', seed => 812);

my $bid = $B->{id};
my @calls = (
    [GET   => "/api/v1/accounts/$accB->{id}"],
    [PATCH => "/api/v1/accounts/$accB->{id}", { disabled => JSON::PP::true }],
    [PATCH => "/api/v1/accounts/$accB->{id}", { unlock => JSON::PP::true }],
    [GET   => "/api/v1/admin/institutions/$bid"],
    [POST  => "/api/v1/admin/institutions/$bid/approve"],
    [POST  => "/api/v1/admin/institutions/$bid/reject", { reason => 'x' }],
    [GET   => "/api/v1/admin/institutions"],
);
my $acA = login($t, $accA->{username}, $accA->{password});
for my $who ([$adminA, 'administrator of A'], [$acA, 'account of A']) {
    my ($c, $name) = @$who;
    for my $call (@calls) {
        my ($m, $p, $b) = @$call;
        my $r = $c->request($m, $p, defined $b ? (json => $b) : ());
        ok($r->{status} == 404 || $r->{status} == 403,
           "R-ACC-4 $name: $m $p -> $r->{status}");
        unlike($r->{content} // '', qr/\Q$B->{uscc}\E|\Q$accB->{username}\E/,
               "R-ACC-4 $name: $m $p shows nothing of B");
    }
    my $r = $c->get('/api/v1/accounts');
    ok(!grep({ $_->{id} eq $accB->{id} } @{ $r->{json}{items} || [] }),
       "R-ACC-4 $name: account list has no account of B");
    $r = $c->get('/api/v1/audit');
    ok(!grep({ ($_->{institution_id} // '') ne $A->{id} }
             @{ $r->{json}{items} || [] }),
       "R-ACC-4 $name: audit shows only A's records");
    $r = $c->get('/api/v1/institution');
    is($r->{json}{id} // '', $A->{id}, "R-ACC-4 $name: own institution only");
}
my $r = $adminB->get("/api/v1/accounts/$accB->{id}");
is($r->{status}, 200, 'control: B reads its own account');
is($adminB->get('/api/v1/session')->{status}, 200,
   'control: B untouched by A\'s attempts');

# operators read no institution data
for my $p ("/api/v1/accounts", "/api/v1/accounts/$accB->{id}",
           "/api/v1/audit", "/api/v1/institution") {
    my $x = $opc->get($p);
    ok($x->{status} == 404 || $x->{status} == 403,
       "R-ACC-4 operator: GET $p -> $x->{status}");
}

# brute force: 429 from the rate limit (R-AUTH-4, R-SEC-5)
my $seen429 = 0;
for (1 .. 12) {
    my $x = $t->client->post('/api/v1/session', json => {
        username => $A->{admin_username}, password => 'Wrong12345x' });
    if ($x->{status} == 429) {
        $seen429 = 1;
        ok($x->{headers}{'retry-after'}, 'R-AUTH-4 429 carries Retry-After');
        last;
    }
}
ok($seen429, 'R-AUTH-4 brute force meets 429');

# R-SEC-2: no plain personal data in logs or state files
my $blob = '';
for my $f (glob($t->dir . '/logs/*')) {
    $blob .= EsignNginx::read_file($f);
}
my @pii;
for my $p ($A->{admin}, $B->{admin}, $accA, $accB) {
    push @pii, grep { defined } @$p{qw(real_name id_number mobile email)};
}
my $leaks = grep { index($blob, $_) >= 0 } @pii;
is($leaks, 0, 'R-SEC-2 no log file holds a plain name, ID, mobile or email');
my $state = EsignNginx::read_file($t->data . '/state/data.mdb');
my $ids = grep { index($state, $_) >= 0 }
          map { $_->{id_number} } $A->{admin}, $B->{admin};
is($ids, 0, 'R-ARCH-4 the LMDB file holds no plain ID number');

undef $t;
done_testing();
