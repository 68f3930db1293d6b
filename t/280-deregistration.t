#!/usr/bin/perl
# Deregistration (R-REG-5, R-AUD-1): the administrator asks, an operator
# approves (409 while a signing is in progress) or rejects; afterwards no
# account of the institution logs in, its live sessions die at once, and
# the administrator is told by in-site message, e-mail (with an
# institution link) and SMS.
#
# Needs the identity fixtures (t/lib/EsignFixtures.pm); the adapter subs
# below are the only place that knows their calling convention.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use EsignNginx;
use SmtpSink;
use HttpStub;

eval { require EsignFixtures; 1 }
    or plan skip_all => 'needs t/lib/EsignFixtures.pm (identity fixtures)';

# --- adapters to the identity fixtures --------------------------------
my $seedn = 40;
sub login    { EsignFixtures::login(@_) }
sub operator {
    my ($t) = @_;
    my $o = EsignFixtures::create_operator($t);
    return login($t, $o->{username}, $o->{password});
}
sub register { EsignFixtures::register_institution($_[0], seed => $seedn++) }
sub approve  { EsignFixtures::approve($_[0], $_[1], $_[2]{id}) }
# ----------------------------------------------------------------------

sub wait_for {
    my ($cond, $secs) = @_;
    my $end = time + $secs;
    while (time < $end) { return 1 if $cond->(); sleep 0.05; }
    return 0;
}

my $t = EsignNginx->new;
my $sink = SmtpSink->new(dir => "$t->{dir}/mail");
my $gw = HttpStub->new(dir => "$t->{dir}/sms", status => 200);
my ($sp, $gp) = ($sink->port, $gw->port);

$t->write_conf($t->standard_http(extra => <<"EOF2"))->start;
    esign_smtp 127.0.0.1:$sp;
    esign_sms_gateway http://127.0.0.1:$gp/sms;
    esign_public_url https://esign.example;
    esign_outbox_interval 100ms;
EOF2

my $op = operator($t);
my $inst = register($t);
approve($t, $op, $inst);
my $admin = login($t, $inst->{admin_username}, $inst->{admin_password});
ok($admin, 'administrator logged in');

my $other = register($t);
approve($t, $op, $other);

# only the administrator may ask
my $r = $op->post('/api/v1/institution/deregistration',
                  json => { reason => 'merger' });
is($r->{status}, 403, 'an operator cannot ask for an institution');

$r = $admin->post('/api/v1/institution/deregistration', json => {});
is($r->{status}, 400, 'a reason is required');

$r = $admin->post('/api/v1/institution/deregistration',
                  json => { reason => 'merger with another bank' });
is($r->{status}, 202, 'R-REG-5 administrator requests deregistration');
is($r->{json}{status}, 'deregistering', '... status deregistering');

$r = $admin->post('/api/v1/institution/deregistration',
                  json => { reason => 'again' });
is($r->{status}, 409, 'a second request is a conflict');

$r = $admin->post("/api/v1/admin/institutions/$inst->{id}/deregistration/"
                  . 'approve');
is($r->{status}, 403, 'the administrator cannot approve');

# reject brings it back, then ask again
$r = $op->post("/api/v1/admin/institutions/$inst->{id}/deregistration/reject",
               json => { reason => 'contracts pending review' });
is($r->{status}, 200, 'operator rejects the request');
is($r->{json}{status}, 'active', '... institution active again');

$r = $op->post("/api/v1/admin/institutions/$inst->{id}/deregistration/"
               . 'approve');
is($r->{status}, 409, 'nothing to approve once rejected');

$r = $admin->post('/api/v1/institution/deregistration',
                  json => { reason => 'merger with another bank' });
is($r->{status}, 202, 'asked again');

$r = $admin->get('/api/v1/session');
is($r->{status}, 200, 'the administrator still works while deregistering');

$r = $op->post("/api/v1/admin/institutions/nosuchinst/deregistration/"
               . 'approve');
is($r->{status}, 404, 'unknown institution 404');

$r = $op->post("/api/v1/admin/institutions/$inst->{id}/deregistration/"
               . 'approve');
is($r->{status}, 200, 'R-REG-5 operator approves');
is($r->{json}{status}, 'deregistered', '... deregistered');

$r = $admin->get('/api/v1/session');
is($r->{status}, 401, 'R-REG-5 the live session died at once');

$r = $t->client->post('/api/v1/session',
                      json => { username => $inst->{admin_username},
                                password => $inst->{admin_password} });
isnt($r->{status}, 200, 'R-REG-5 the administrator cannot log in again');

ok(wait_for(sub { grep { /Deregistration approved/ } $sink->messages }, 10),
   'R-NOTE-1 the administrator is told by e-mail');
my ($mail) = grep { /Deregistration approved/ } $sink->messages;
my ($token) = ($mail // '') =~ m{/api/v1/links/(\S+)};
$r = $t->client->get("/api/v1/links/$token");
is($r->{status}, 302, 'R-NOTE-3 the e-mail link redirects');
like($r->{headers}{location} // '', qr{/admin/#/institution$},
     '... to the institution page');

my $log = $t->log_text;
my $email = $inst->{admin}{email} // 'none@none';
my $mobile = $inst->{admin}{mobile} // '00000000000';
unlike($log, qr/\Q$email\E/, 'R-SEC-2 no clear e-mail in error.log');
unlike($log, qr/\Q$mobile\E/, 'R-SEC-2 no clear mobile in error.log');

undef $t;

done_testing;
