#!/usr/bin/perl
# The notification outbox (R-NOTE-1, R-NOTE-2, R-NOTE-3, R-SEC-2): e-mail
# reaches a real SMTP server and SMS an HTTP gateway, both with a link to
# the object; the link redirects, expires and refuses tampering; failures
# are retried with backoff and end as "failed"; no clear address or mobile
# number reaches the log.  Entries are written by t/unit/notify_seed
# through the same hook the signing workflow calls
# (esign_notify_contract_event), into the running platform's state.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use EsignNginx;
use SmtpSink;
use HttpStub;
use JSON::PP;

my $seed = $ENV{ESIGN_NOTIFY_SEED}
    || EsignNginx::root() . '/build/unit/notify_seed';
plan skip_all => "no $seed (make -C t/unit)" unless -x $seed;

my $EMAIL  = 'zhang.san@example.com';
my $MOBILE = '13812345678';
my $CID    = 'ctabcdefghijklmnopqrstuvwa';

sub conf {
    my ($t, $smtp, $sms, %o) = @_;
    my $max = $o{max} // 5;
    return $t->standard_http(extra => <<"EOF2");
    esign_smtp 127.0.0.1:$smtp;
    esign_smtp_from esign\@example.org;
    esign_sms_gateway http://127.0.0.1:$sms/sms/send;
    esign_public_url https://esign.example;
    esign_outbox_interval 100ms;
    esign_outbox_retry_base 200ms;
    esign_outbox_max_attempts $max;
    esign_notify_timeout 2s;
EOF2
}

sub seed {
    my ($t, @args) = @_;
    my $cmd = join ' ', map { "'$_'" } $seed, $t->data, "$t->{dir}/keys/kek",
        'https://esign.example', @args;
    my $out = `$cmd 2>&1`;
    return $? == 0 ? 1 : (diag($out), 0);
}

sub contract_json {
    return encode_json({
        id => $CID, title => 'Loan syndication', number => 'HT-2024-001',
        initiator => { institution_id => 'instb', name => 'Bank B' },
        participants => [ { institution_id => 'insta', name => 'Bank A',
                            status => 'pending' } ],
        status => 'signing' });
}

sub wait_for {
    my ($cond, $secs) = @_;
    my $end = time + $secs;
    while (time < $end) {
        return 1 if $cond->();
        sleep 0.05;
    }
    return 0;
}

# --- delivery ----------------------------------------------------------

my $t = EsignNginx->new;
my $sink = SmtpSink->new(dir => "$t->{dir}/mail");
my $gw = HttpStub->new(dir => "$t->{dir}/sms", status => 200);

$t->write_conf(conf($t, $sink->port, $gw->port))->start;
my $c = $t->client;

ok(seed($t, 'account', 'insta', 'adm1', $EMAIL, $MOBILE),
   'administrator of the participant seeded');

my $t0 = time;
ok(seed($t, 'contract', contract_json(), 'initiated'),
   'R-SIGN-2 initiated event written by the hook');

ok(wait_for(sub { $sink->messages >= 1 && $gw->requests >= 1 }, 10),
   'R-NOTE-1 e-mail and SMS delivered');
my $took = time - $t0;
ok($took < 5, sprintf('R-NOTE-2 SMS handed to the gateway in %.2fs', $took));

my ($mail) = $sink->messages;
like($mail // '', qr/^X-Envelope-To: \Q$EMAIL\E\r$/m,
     'e-mail addressed to the administrator');
like($mail // '', qr/^Subject: Contract to sign/m, 'subject names the event');
my ($url) = ($mail // '') =~ m{(https://esign\.example/api/v1/links/\S+)};
ok($url, 'R-NOTE-3 e-mail carries a link');
unlike($url // '', qr/\Q$CID\E/, 'R-NOTE-3 the link shows no contract ID');

my ($sms) = $gw->requests;
is($sms->{method}, 'POST', 'SMS posted');
is($sms->{path}, '/sms/send', 'to the gateway path');
my $sj = eval { decode_json($sms->{body}) } || {};
is($sj->{to}, $MOBILE, 'SMS to the administrator mobile');
like($sj->{text} // '', qr{https://esign\.example/api/v1/links/},
     'SMS carries a link');

my ($token) = ($url // '') =~ m{/links/([^/\s]+)$};
my $r = $c->get("/api/v1/links/$token");
is($r->{status}, 302, 'R-NOTE-3 valid link redirects');
is($r->{headers}{location}, "/admin/#/contracts/$CID",
   '... to the contract page of the admin page');
ok(!$r->{headers}{'set-cookie'}, 'a link never opens a session');

(my $bad = $token) =~ s/^(.{20})(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
$r = $c->get("/api/v1/links/$bad");
is($r->{status}, 404, 'R-NOTE-3 modified token 404');

# expiry: a link issued with a 1 s lifetime
{
    local $ENV{NOTIFY_SEED_TTL_MS} = 1000;
    my $n = () = $sink->messages;
    ok(seed($t, 'contract', contract_json(), 'completed'),
       'R-SIGN-4 completed event written');
    ok(wait_for(sub { $sink->messages > $n }, 10), 'second e-mail delivered');
    my @m = $sink->messages;
    my ($u2) = $m[-1] =~ m{/links/(\S+)};
    sleep 2.2;   # expiry is kept in whole seconds, rounded up
    $r = $c->get("/api/v1/links/$u2");
    is($r->{status}, 410, 'R-NOTE-3 expired link 410');
    is($r->{json}{error}{code}, 'link_expired', '... link_expired');
}

my $log = $t->log_text;
unlike($log, qr/\Q$EMAIL\E/, 'R-SEC-2 no clear e-mail address in error.log');
unlike($log, qr/\Q$MOBILE\E/, 'R-SEC-2 no clear mobile number in error.log');
like($log, qr/esign outbox: email \S+ to z\*\*\*\@example\.com sent/,
     'deliveries are logged with the masked address');

undef $t;

# --- failures: retried with backoff, then failed ------------------------

$t = EsignNginx->new;
$sink = SmtpSink->new(dir => "$t->{dir}/mail", reply => { RCPT => 451 });
$gw = HttpStub->new(dir => "$t->{dir}/sms", status => 503);

$t->write_conf(conf($t, $sink->port, $gw->port, max => 3))->start;

ok(seed($t, 'account', 'insta', 'adm1', $EMAIL, $MOBILE), 'seeded again');
$t0 = time;
ok(seed($t, 'contract', contract_json(), 'initiated'), 'event written');

ok(wait_for(sub { () = $t->log_text =~ /failed for good/g; $& ? do {
        my @n = $t->log_text =~ /failed for good/g; @n >= 2 } : 0 }, 15),
   'both entries end as failed');
is(scalar($gw->requests), 3, 'the gateway was tried exactly 3 times');
my $spent = time - $t0;
ok($spent >= 0.6, sprintf('retries back off (%.2fs for 3 attempts)', $spent));

$log = $t->log_text;
like($log, qr/sms \S+ to 138\*\*\*\*5678 attempt 1 failed, retry in 200ms/,
     'first retry after the base delay');
like($log, qr/attempt 2 failed, retry in 400ms/, 'second retry doubled');
like($log, qr/email \S+ to z\*\*\*\@example\.com failed for good after 3 attempts: RCPT TO: server answered 451/,
     'e-mail failure recorded with the reason');
unlike($log, qr/\Q$EMAIL\E|\Q$MOBILE\E/, 'R-SEC-2 still nothing in clear');

undef $t;

done_testing;
