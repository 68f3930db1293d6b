#!/usr/bin/perl
# Step-up tokens (R-AUTH-2): runs the store's TAP test built by tools/.
use strict;
use warnings;
use FindBin;
use File::Basename qw(dirname);
use Test::More;

my $ctl = $ENV{ESIGN_CTL} || "$FindBin::Bin/../build/esignctl";
my $bin = dirname($ctl) . '/esign-test-verify-db';
plan skip_all => "$bin not built (make tools)" unless -x $bin;
my @out = `$bin`;
my $ran = 0;
for (@out) {
    next unless /^(not )?ok \d+ - (.*)$/;
    ok(!$1, $2);
    $ran++;
}
ok($ran >= 8, 'all store checks ran');
done_testing();
