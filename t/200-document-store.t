#!/usr/bin/perl
# R-ARCH-4 document store: compiles and runs the nginx-free unit test of
# ngx_esign_docstore.c (per-file keys, KEK rotation, MAC first, expiry).

use strict;
use warnings;
use FindBin;
use Test::More;

my $root = "$FindBin::Bin/..";
my $lib = $ENV{ESIGN_LIBDIR} // 'build';
my $crypto = "$root/ngx_esign_module/crypto/$lib/libescrypto.a";
my $ledger = "$root/ledger/$lib/libesl.a";     # SM3 and SM2 of libescrypto
plan skip_all => "no $crypto (make libs)" unless -f $crypto;

my $bin = "/tmp/esign-test-docstore-$$";
my $cc = "cc -std=gnu11 -Wall -Werror -D_GNU_SOURCE"
       . " -I$root/t/unit -I$root/ngx_esign_module"
       . " -I$root/ngx_esign_module/crypto -o $bin"
       . " $root/t/unit/test_docstore.c"
       . " $root/ngx_esign_module/ngx_esign_docstore.c"
       . " $root/ngx_esign_module/ngx_esign_db.c"
       . " $crypto $ledger -llmdb -ljansson -lcrypto 2>&1";
my $out = `$cc`;
is($?, 0, 'docstore unit test compiles') or diag $out;
my $tap = `$bin`;
unlink $bin;
my @lines = split /\n/, $tap;
for (@lines) {
    if (/^(not )?ok \d+ - (.*)$/) { ok(!$1, $2) }
    elsif (/^#/) { diag $_ }
}
ok(@lines > 10, 'unit test produced its results');
done_testing;
