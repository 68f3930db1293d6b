#!/usr/bin/perl
# Sessions (shm store): idle timeout and sliding, reload survival, weak
# passwords at every entry point, same answer for unknown user and wrong
# password, rate limits and lockout, step-up verification tokens.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use EsignNginx;
use EsignFixtures qw(:all);

my $t = EsignNginx->new;
$t->write_conf($t->standard_http(extra => <<'EOF2'))->start;
    esign_scrypt 12 8 1;
    esign_session_idle_timeout 2s;
    esign_login_rate 600r/m burst=40;
    esign_lockout 3 2s;
    esign_register_rate 600r/m burst=50;
EOF2

my $op = create_operator($t);
my $opc = login($t, $op->{username}, $op->{password});
my $inst = register_institution($t, seed => 5151);
approve($t, $opc, $inst->{id});

# --- weak passwords at every entry point (R-ACC-2)
my %weak = (
    too_short     => 'Ab1defgh',
    missing_upper => 'abcdefgh12',
    missing_lower => 'ABCDEFGH12',
    missing_digit => 'Abcdefghij',
    contains_user => 'Xweakuser1Z',
    common        => 'Password123',
);
for my $kind (sort keys %weak) {
    my $body = institution_payload(seed => 6000 + length $kind,
        admin => { username => 'weakuser', password => $weak{$kind} });
    my $r = $t->client->post('/api/v1/institutions', json => $body);
    is($r->{status}, 400, "R-ACC-2 registration refuses $kind");
    is($r->{json}{error}{code}, 'weak_password', "... weak_password ($kind)");
}

my $adm = login($t, $inst->{admin_username}, $inst->{admin_password});
for my $kind (sort keys %weak) {
    my $r = $adm->post('/api/v1/accounts', json => {
        username => 'weakuser', password => $weak{$kind},
        real_name => 'Weak Person', mobile => '13900000001',
        email => 'weak@example.com', department => 'Ops',
        tier => 'top_admin', permissions => ['view'] });
    is($r->{status}, 400, "R-ACC-2 account creation refuses $kind");
}
for my $kind (sort keys %weak) {
    my ($rc, $out) = $t->esignctl('-d', $t->data, 'operator', 'add',
                                  'weakuser', '--password', $weak{$kind});
    isnt($rc, 0, "R-ACC-2 esignctl refuses $kind");
}

# --- unknown user and wrong password: same answer, similar time
my ($t0, $t1);
$t0 = time;
my $r1 = $t->client->post('/api/v1/session',
    json => { username => 'nobody-here', password => 'Whatever123x' });
$t1 = time - $t0;
$t0 = time;
my $r2 = $t->client->post('/api/v1/session',
    json => { username => $inst->{admin_username},
              password => 'Wrong123pass' });
my $t2 = time - $t0;
is($r1->{status}, 401, 'R-AUTH-4 unknown user 401');
is_deeply([$r1->{status}, $r1->{json}{error}],
          [$r2->{status}, $r2->{json}{error}],
          'R-AUTH-4 unknown user and wrong password answer the same');
ok($t1 > $t2 / 4 && $t2 > $t1 / 4, 'R-AUTH-4 similar time (scrypt either way)')
    or diag "unknown $t1 s, wrong $t2 s";

# lockout: 3 failures lock for 2 s (one failure above already)
$t->client->post('/api/v1/session', json => {
    username => $inst->{admin_username}, password => 'Wrong123pass' });
$t->client->post('/api/v1/session', json => {
    username => $inst->{admin_username}, password => 'Wrong123pass' });
my $r = $t->client->post('/api/v1/session', json => {
    username => $inst->{admin_username}, password => $inst->{admin_password} });
is($r->{status}, 429, 'R-AUTH-4 account locked after 3 failures');
is($r->{json}{error}{code}, 'account_locked', '... account_locked');
ok($r->{headers}{'retry-after'}, '... with Retry-After');

# the administrator unlocks an ordinary account
my $acc = create_account($t, $adm, tier => 'top_admin', department => 'Ops');
for (1 .. 3) {
    $t->client->post('/api/v1/session', json => {
        username => $acc->{username}, password => 'Wrong123pass' });
}
$r = $t->client->post('/api/v1/session', json => {
    username => $acc->{username}, password => $acc->{password} });
is($r->{status}, 429, 'R-AUTH-4 ordinary account locked');
$r = $adm->patch("/api/v1/accounts/$acc->{id}",
                 json => { unlock => JSON::PP::true });
is($r->{status}, 200, 'R-AUTH-4 administrator unlocks it');
$r = $t->client->post('/api/v1/session', json => {
    username => $acc->{username}, password => $acc->{password} });
is($r->{status}, 200, '... and it logs in again');

# --- idle timeout 2 s, activity slides it (R-AUTH-1)
sleep 2.1;   # lockout of the administrator expires too
$adm = login($t, $inst->{admin_username}, $inst->{admin_password});
for (1 .. 3) {
    sleep 1.0;
    $r = $adm->get('/api/v1/session');
    is($r->{status}, 200, "R-AUTH-1 activity slides the idle limit ($_)");
}
sleep 2.3;
$r = $adm->get('/api/v1/session');
is($r->{status}, 401, 'R-AUTH-1 idle session expires');
is($r->{json}{error}{code}, 'session_expired', '... session_expired');

# --- the session survives nginx -s reload (shm)
$adm = login($t, $inst->{admin_username}, $inst->{admin_password});
my $cookie = $adm->cookies->{esign_session};
$t->reload;
$r = $adm->get('/api/v1/session');
is($r->{status}, 200, 'session survives nginx -s reload (shm)');
isnt($cookie, undef, 'cookie set');

# --- cookie attributes and rotation
my $c = $t->client;
$r = $c->post('/api/v1/session', json => {
    username => $inst->{admin_username}, password => $inst->{admin_password} });
my $sc = $r->{headers}{'set-cookie'};
like($sc, qr/esign_session=[A-Za-z0-9_-]{43};/, 'R-AUTH-1 256-bit session ID');
like($sc, qr/Secure/, 'cookie Secure');
like($sc, qr/HttpOnly/, 'cookie HttpOnly');
like($sc, qr/SameSite=Strict/, 'cookie SameSite=Strict');
my $old = $c->cookies->{esign_session};
$r = $c->post('/api/v1/session', json => {
    username => $inst->{admin_username}, password => $inst->{admin_password} });
isnt($c->cookies->{esign_session}, $old, 'session ID rotated at login');
my $stale = $t->client;
$stale->cookies->{esign_session} = $old;
is($stale->get('/api/v1/session')->{status}, 401, 'old session ID is dead');
$c->csrf($r->{json}{csrf_token});

# --- step-up verification tokens (R-AUTH-2)
$r = $c->post('/api/v1/session/verify',
              json => { method => 'password', password => 'Wrong123pass' });
is($r->{status}, 403, 'R-AUTH-2 wrong password: no token');
$r = $c->post('/api/v1/session/verify',
              json => { method => 'password',
                        password => $inst->{admin_password} });
is($r->{status}, 200, 'R-AUTH-2 password verification');
like($r->{json}{verification_token} // '', qr/^[A-Za-z0-9_-]{43}$/,
     '... a token');
is($r->{json}{method}, 'password', '... method recorded');

# TOTP enrolment and verification (RFC 6238)
$r = $c->post('/api/v1/session/totp');
is($r->{status}, 200, 'R-AUTH-3 TOTP enrolment');
my $secret = b32decode($r->{json}{secret_base32});
$r = $c->post('/api/v1/session/totp/confirm',
              json => { code => totp($secret, 0) });
is($r->{status}, 200, 'R-AUTH-3 TOTP confirmed');
$r = $c->post('/api/v1/session/verify',
              json => { method => 'totp', code => totp($secret, 30) });
is($r->{status}, 200, 'R-AUTH-3 TOTP verification');
$r = $c->post('/api/v1/session/verify',
              json => { method => 'totp', code => totp($secret, 30) });
is($r->{status}, 403, 'R-AUTH-3 a TOTP code is good once');

undef $t;
done_testing();

sub b32decode {
    my ($s) = @_;
    my $bits = join '', map {
        sprintf '%05b', index('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', $_)
    } split //, $s;
    return pack 'B*', substr($bits, 0, int(length($bits) / 8) * 8);
}

sub totp {
    my ($key, $offset) = @_;
    require Digest::SHA;
    my $step = int((time + $offset) / 30);
    my $msg = pack 'NN', int($step / 4294967296), $step % 4294967296;
    my $h = Digest::SHA::hmac_sha1($msg, $key);
    my $o = ord(substr($h, -1)) & 0x0f;
    my $v = unpack('N', substr($h, $o, 4)) & 0x7fffffff;
    return sprintf '%06d', $v % 1000000;
}
