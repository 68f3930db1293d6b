#!/usr/bin/perl
# The bundled admin page in a real browser (Debian's chromium driven by
# playwright-core): an operator approves a registration whose name carries
# a <script> payload (rendered as text), the new administrator creates an
# account, that account sees only its tier's views, and the idle warning
# appears with a shortened timeout.  Screenshots go to t/artifacts/.
# R-REG-2, R-REG-4, R-ACC-3, R-AUTH-1, R-NOTE-4, R-SEC-1.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use EsignNginx;
use EsignFixtures qw(:all);

my $root = EsignNginx::root();
my $driver = "$root/admin-ui/tests/e2e.mjs";

# The browser test needs chromium and playwright-core (npm ci in admin-ui/,
# done by .ci/run); a machine without them cannot run it at all.
for my $need ('/usr/bin/chromium', "$root/admin-ui/node_modules/playwright-core") {
    BAIL_OUT("missing $need: apt-get install chromium; cd admin-ui && npm ci")
        unless -e $need;
}

my $idle = 8;
my $t = EsignNginx->new;
$t->write_conf($t->standard_http(
    extra => "    esign_session_idle_timeout ${idle}s;\n"
           . "    esign_login_rate 600r/m burst=100;\n"), workers => 1)->start;

my $op = create_operator($t);
my $xss = '<script>window.__xss=1</script>Bank';
my $inst = register_institution($t, name => $xss);

my $art = "$root/t/artifacts";
mkdir $art;

local $ENV{ESIGN_BASE} = 'https://127.0.0.1:' . $t->port;
local $ENV{ESIGN_OPERATOR_USER} = $op->{username};
local $ENV{ESIGN_OPERATOR_PASS} = $op->{password};
local $ENV{ESIGN_ADMIN_USER} = $inst->{admin_username};
local $ENV{ESIGN_ADMIN_PASS} = $inst->{admin_password};
local $ENV{ESIGN_XSS_NAME} = $xss;
local $ENV{ESIGN_IDLE_SECONDS} = $idle;
local $ENV{ESIGN_ARTIFACTS} = $art;

my $out = `cd $root/admin-ui && node tests/e2e.mjs 2>&1`;
my $rc = $? >> 8;

my ($pass, $fail) = (0, 0);
for my $line (split /\n/, $out) {
    if ($line =~ /^(not )?ok \d+ - (.*)$/) {
        my ($bad, $name) = ($1, $2);
        ok(!$bad, "admin page: $name");
        $bad ? $fail++ : $pass++;
    } elsif ($line =~ /^#/) {
        note $line;
    }
}
ok($pass > 10, "the browser driver ran its scenario ($pass passed)")
    or diag $out;
is($rc, 0, 'the browser driver exited cleanly') or diag $out;

undef $t;
done_testing();
