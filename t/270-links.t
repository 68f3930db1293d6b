#!/usr/bin/perl
# Links in e-mail and SMS (R-NOTE-3): GET /api/v1/links/{token} is public,
# redirects to the object's admin page for a valid token, answers 410 for
# an expired one and 404 for anything else; the directives are checked.
# Valid and expired tokens come from real deliveries in 280-deregistration.t
# (institution links) once logins exist.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use EsignNginx;

# directive checks
for my $bad ("esign_sms_gateway https://127.0.0.1:9/sms;",
             "esign_public_url ftp://example;",
             "esign_outbox_max_attempts 0;",
             "esign_link_ttl 0;",
             "esign_smtp_from nobody;") {
    my $u = EsignNginx->new(no_log_check => 1);
    $u->write_conf($u->standard_http(extra => "    $bad\n"));
    my ($rc, $out) = $u->test_conf;
    isnt($rc, 0, "configuration refused: $bad");
}

my $t = EsignNginx->new;

$t->write_conf($t->standard_http(extra => <<'EOF2'));
    esign_smtp 127.0.0.1:9;
    esign_smtp_from esign@example.org;
    esign_sms_gateway http://127.0.0.1:9/sms;
    esign_public_url https://esign.example;
    esign_link_ttl 72h;
    esign_outbox_interval 100ms;
    esign_outbox_retry_base 100ms;
    esign_outbox_max_attempts 3;
    esign_notify_timeout 1s;
EOF2
my ($rc, $out) = $t->test_conf;
is($rc, 0, 'notification directives accepted') or diag $out;
$t->start;

my $c = $t->client;

my $r = $c->get('/api/v1/links/' . ('A' x 92));
is($r->{status}, 404, 'R-NOTE-3 forged token 404');
is($r->{json}{error}{code}, 'not_found', '... with not_found');

$r = $c->get('/api/v1/links/abc');
is($r->{status}, 404, 'R-NOTE-3 short garbage token 404');

$r = $c->get('/api/v1/links/' . ('A' x 200));
is($r->{status}, 404, 'overlong token 404');

$r = $c->post('/api/v1/links/abc');
is($r->{status}, 405, 'links are GET only');

# the delivery timer of worker 0 must not hold up a graceful stop
my $t0 = time;
$t->stop;
ok(time - $t0 < 5, 'quit finishes promptly with the outbox timer armed');

undef $t;

done_testing;
