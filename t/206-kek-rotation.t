#!/usr/bin/perl
# R-ARCH-4 KEK rotation from the command line: `esignctl kek rotate` adds a
# key version and re-wraps stored file keys under it while nginx runs;
# after a reload old documents are still readable, byte for byte, and new
# uploads are wrapped under the new version.

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
my $p = platform($t, 2);
my ($a, $b) = @{ $p->{insts} };

my $old = upload($a->{c}, tag => 'before-rotation');

# R-ARCH-4: the document never touches the disk in plaintext, neither in
# the data directory nor as a request-body temp file
my ($marker) = $old->{bytes} =~ /(% contract before-rotation [^\n]+)/;
ok(length($marker // '') > 20, 'the uploaded PDF carries a unique marker');
my @hits;
for my $sub ('data', 'tmp') {
    for my $f (split /\n/, `find ${\ $t->dir}/$sub -type f`) {
        my $body = EsignNginx::read_file($f);
        push @hits, $f if index($body, $marker) >= 0;
    }
}
is_deeply(\@hits, [], 'R-ARCH-4 no file under data/ or tmp/ holds the '
                      . 'document in plaintext');
my $kek = $t->dir . '/keys/kek';

my ($rc, $out) = $t->esignctl('-d', $t->data, '-k', $kek, 'kek', 'rotate');
is($rc, 0, 'R-ARCH-4 esignctl kek rotate succeeds while nginx runs')
    or diag "rc=$rc: $out";
like($out, qr/KEK version 2 is current; (\d+) document keys re-wrapped/,
     'the tool reports the new version and the re-wrapped keys');
my ($n) = $out =~ /; (\d+) document keys/;
ok(($n // 0) >= 1, 'at least the uploaded document was re-wrapped');

my $text = EsignNginx::read_file($kek);
like($text, qr/^kek v1 [0-9a-f]{64}$/m, 'the old version stays in the file');
like($text, qr/^kek v2 [0-9a-f]{64}$/m, 'a second version was added');
is((stat $kek)[2] & 0777, 0600, 'the key file stays 0600');

$t->reload;

my $new = upload($a->{c}, tag => 'after-rotation');
ok($new->{id}, 'uploads work after the reload');

my $r = initiate($a, $old, [$b]);
is($r->{status}, 201, 'a contract on the re-wrapped document starts')
    or diag $r->{content};
my $cid = $r->{json}{id};

$r = $a->{c}->get("/api/v1/contracts/$cid/document");
is($r->{status}, 200, 'R-ARCH-4 the old document is readable after rotation');
is($r->{content}, $old->{bytes}, '... byte for byte');

($rc, $out) = $t->esignctl('-d', $t->data, '-k', $kek, 'kek', 'rotate');
like($out, qr/KEK version 3 is current/, 'rotation can run again');

undef $t;
done_testing();
