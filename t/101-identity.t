#!/usr/bin/perl
# Identity: registration, review with the platform CA, login, sessions,
# CSRF, accounts, audit.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use EsignNginx;
use EsignFixtures qw(:all);

my $t = EsignNginx->new;
$t->write_conf($t->standard_http(extra => "    esign_scrypt 12 8 1;\n"))
  ->start;

my $op = create_operator($t);
ok($op->{id}, 'R-REG-2 operator created with esignctl');

my $opc = login($t, $op->{username}, $op->{password});
is($opc->{account}{role}, 'operator', 'operator logs in');

my $inst = register_institution($t, seed => 4242);
ok($inst->{id}, 'R-REG-1 registration accepted');

my $r = $t->client->post('/api/v1/session',
    json => { username => $inst->{admin_username},
              password => $inst->{admin_password} });
is($r->{status}, 403, 'R-REG-1 pending institution cannot log in');
is($r->{json}{error}{code}, 'institution_inactive', '... institution_inactive');

$r = $opc->get('/api/v1/admin/institutions?status=pending');
is($r->{status}, 200, 'operator lists pending');
ok((grep { $_->{id} eq $inst->{id} } @{ $r->{json}{items} }),
   '... the registration is listed');

$r = $opc->get("/api/v1/admin/institutions/$inst->{id}");
is($r->{json}{status}, 'pending', 'R-REG-2 detail shows pending');
is($r->{json}{licence}{media_type}, 'application/pdf', '... licence metadata');
like($r->{json}{client_ip}, qr/^127\.0\.0\.1$/, 'R-REG-1 client IP recorded');

my $a = approve($t, $opc, $inst->{id});
is($a->{status}, 'active', 'R-REG-3 approved institution is active');
like($a->{certificate_pem} // '', qr/BEGIN CERTIFICATE/,
     'R-REG-3 certificate issued in the same request');

my $adm = login($t, $inst->{admin_username}, $inst->{admin_password});
is($adm->{account}{role}, 'institution_admin', 'R-REG-3 administrator active');

$r = $adm->get('/api/v1/session');
is($r->{status}, 200, 'GET /session');
is($r->{json}{account}{institution_id}, $inst->{id}, '... institution');

$r = $adm->get('/api/v1/institution');
is($r->{status}, 200, 'GET /institution');
is($r->{json}{uscc}, $inst->{uscc}, '... own USCC');
ok(!exists $r->{json}{key_wrapped_b64}, '... no key material');

# certificate verifies against the platform CA
my $d = $t->dir;
EsignNginx::write_file("$d/inst.crt", $r->{json}{certificate_pem});
my $out = `openssl verify -vfyopt distid:1234567812345678 -CAfile $d/data/ca/ca.crt $d/inst.crt 2>&1`;
like($out, qr/: OK/, 'R-REG-3 certificate verifies against the platform CA');
my $subj = `openssl x509 -in $d/inst.crt -noout -subject -nameopt RFC2253 2>&1`;
like($subj, qr/\Q$inst->{uscc}\E/, 'R-REG-3 subject carries the USCC');

# CSRF
$r = $adm->post('/api/v1/accounts', json => {}, no_csrf => 1);
is($r->{status}, 403, 'CSRF missing refused');
is($r->{json}{error}{code}, 'csrf', '... code csrf');
$r = $adm->post('/api/v1/accounts', json => {},
                headers => { 'x-csrf-token' => 'x' x 43 });
is($r->{status}, 403, 'CSRF wrong refused');

# accounts
my $acc = create_account($t, $adm, tier => 'business_operator',
                         department => 'Credit', permissions => ['view']);
ok($acc->{id}, 'R-REG-4 administrator creates an account');
my $ac = login($t, $acc->{username}, $acc->{password});
is_deeply($ac->{account}{permissions}, ['view'], 'R-ACC-1 exactly assigned');
$r = $ac->post('/api/v1/accounts', json => { username => 'zzz' });
is($r->{status}, 403, 'R-REG-4 ordinary account cannot create accounts');

$r = $adm->patch("/api/v1/accounts/$adm->{account}{id}",
                 json => { disabled => JSON::PP::true });
is($r->{status}, 403, 'R-REG-4 administrator account cannot be changed');

$r = $adm->patch("/api/v1/accounts/$acc->{id}",
                 json => { disabled => JSON::PP::true });
is($r->{status}, 200, 'R-REG-4 administrator disables an account');
$r = $ac->get('/api/v1/session');
is($r->{status}, 401, 'disabled account session dies at once');

# logout
$r = $adm->delete('/api/v1/session');
is($r->{status}, 204, 'logout 204');
$r = $adm->get('/api/v1/session');
is($r->{status}, 401, 'session gone after logout');

$adm = login($t, $inst->{admin_username}, $inst->{admin_password});
$r = $adm->get('/api/v1/audit');
my %act = map { $_->{action} => 1 } @{ $r->{json}{items} || [] };
ok($act{login} && $act{logout} && $act{institution_approve}
   && $act{account_create} && $act{account_update},
   'R-AUD-1 login, logout, approval, account changes audited');

undef $t;
done_testing();
