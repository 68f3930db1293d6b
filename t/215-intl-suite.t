#!/usr/bin/perl
# The international signature suite (esign_signature_suite intl): every
# approved institution holds an SM2 and a P-256 certificate of the two
# platform CAs; confirmations are ECDSA P-256 / SHA-256 CMS signatures
# that `openssl cms -verify` checks with exactly the recipe of
# docs/verification.md; the archive check verifies them; an institution
# approved before the intl suite existed answers 503 until
# `esignctl institution issue-intl` gives it a P-256 key.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Digest::SHA qw(sha256_hex);
use JSON::PP;
use EsignNginx;
use EsignFixtures qw(:all);
use EsignSigning qw(:all);

my $t = EsignNginx->new;
$t->write_conf(signing_conf($t, extra => "    esign_signature_suite intl;\n"))
  ->start;
my $d = $t->dir;

my $p = platform($t, 4);
my ($A, $B, $C, $D) = @{ $p->{insts} };

# ---- certificates of both suites at approval ----------------------------

ok(-f "$d/data/ca/ca.crt", 'national CA file written at approval');
ok(-f "$d/data/ca/ca-intl.crt", 'intl CA file <data>/ca/ca-intl.crt written');

my $r = $B->{c}->get('/api/v1/institution');
is($r->{status}, 200, 'GET /institution');
like($r->{json}{certificate_pem} // '', qr/BEGIN CERTIFICATE/,
     '... national certificate');
like($r->{json}{intl_certificate_pem} // '', qr/BEGIN CERTIFICATE/,
     '... intl certificate');
like($r->{json}{intl_cert_serial} // '', qr/^[0-9A-F]+$/, '... intl serial');
isnt($r->{json}{intl_cert_serial}, $r->{json}{cert_serial},
     '... distinct from the national serial');
ok(!exists $r->{json}{key_wrapped_b64}
   && !exists $r->{json}{intl_key_wrapped_b64}, '... no key material');
is($r->{json}{intl_ca_certificate_pem},
   EsignNginx::read_file("$d/data/ca/ca-intl.crt"),
   '... intl CA certificate, the same as ca-intl.crt');

EsignNginx::write_file("$d/b-intl.crt", $r->{json}{intl_certificate_pem});
my $txt = `openssl x509 -in $d/b-intl.crt -noout -text 2>&1`;
like($txt, qr/prime256v1|P-256/, 'intl certificate holds a P-256 key');
like($txt, qr/ecdsa-with-SHA256/, '... signed ecdsa-with-SHA256');
my $out = `openssl verify -CAfile $d/data/ca/ca-intl.crt $d/b-intl.crt 2>&1`;
like($out, qr/: OK/, '... issued by the intl platform CA');
$out = `openssl verify -CAfile $d/data/ca/ca.crt $d/b-intl.crt 2>&1`;
unlike($out, qr/: OK/, '... not by the national CA');

my ($rc, $show) = $t->esignctl('-d', "$d/data", 'ca', 'show', '--suite',
                               'intl');
is($rc, 0, 'esignctl ca show --suite intl');
is($show, EsignNginx::read_file("$d/data/ca/ca-intl.crt"),
   '... prints the intl CA');

# ---- a signing in the intl suite ---------------------------------------

my $doc = upload($A->{c});
is($doc->{sha256}, sha256_hex($doc->{bytes}),
   'upload records the SHA-256 of the document');

$r = initiate($A, $doc, [$B, $C]);
is($r->{status}, 201, 'initiate (201)');
my $cid = $r->{json}{id};

$r = act($B, 'confirm', $cid);
is($r->{status}, 200, 'R-SIGN-8 first participant confirms with P-256')
    or diag $r->{content};
$r = act($C, 'confirm', $cid);
is($r->{status}, 200, 'last participant confirms');
is($r->{json}{status}, 'completed', '... completed');

$r = $A->{c}->get("/api/v1/contracts/$cid");
is($r->{json}{archive}{result}, 'passed',
   'R-ARCH-2 archive checks passed for intl signatures');
my %checks = map { $_->{name} => $_->{result} }
             @{ $r->{json}{archive}{checks} };
is($checks{signatures}, 'pass', '... signatures verified');

$r = $A->{c}->get("/api/v1/contracts/$cid/signatures");
is($r->{status}, 200, 'GET /contracts/{id}/signatures');
is(scalar @{ $r->{json}{items} }, 2, '... one per participant');
for my $s (@{ $r->{json}{items} }) {
    is($s->{suite}, 'intl', "... $s->{institution_id}: suite intl");
    is($s->{digest}, $doc->{sha256}, '... over the document SHA-256');
    like($s->{signature_pem}, qr/BEGIN CMS/, '... CMS PEM');
    like($s->{certificate_pem}, qr/BEGIN CERTIFICATE/, '... certificate');
}
my ($sb) = grep { $_->{institution_id} eq $B->{id} } @{ $r->{json}{items} };
is($sb->{certificate_pem}, EsignNginx::read_file("$d/b-intl.crt"),
   '... the signer certificate is the institution intl certificate');

# ---- the openssl-only recipe of docs/verification.md -------------------

my $rd = "$d/recipe";
mkdir $rd;
EsignNginx::write_file("$rd/document", $doc->{bytes});
EsignNginx::write_file("$rd/sig-intl.pem", $sb->{signature_pem});
EsignNginx::write_file("$rd/cert-intl.pem", $sb->{certificate_pem});
system("cp $d/data/ca/ca-intl.crt $rd/ca-intl.pem") == 0
    or BAIL_OUT('no ca-intl.crt');

my $md = EsignNginx::read_file(EsignNginx::root() . '/docs/verification.md');
my @blocks = $md =~ /```sh\n# recipe: intl\n(.*?)```/sg;
ok(@blocks >= 1, 'docs/verification.md has the intl recipe');
like(join('', @blocks), qr/openssl cms -verify/, '... with openssl cms -verify');
EsignNginx::write_file("$rd/recipe.sh",
                       "set -e\ncd $rd\n" . join('', @blocks));
$out = `sh $rd/recipe.sh 2>&1`;
is($?, 0, 'R-SIGN-8 intl signature verifies with the openssl CLI recipe')
    or diag $out;
like($out, qr/cert-intl\.pem: OK/, '... certificate chain to the intl CA');
like($out, qr/Verification successful/, '... CMS signature and digest');

EsignNginx::write_file("$rd/document", $doc->{bytes} . 'tampered');
$out = `sh $rd/recipe.sh 2>&1`;
isnt($?, 0, 'R-SIGN-8 openssl cms -verify fails on a changed document');
unlike($out, qr/Verification successful/, '... no success printed');
EsignNginx::write_file("$rd/document", $doc->{bytes});

system("cp $d/data/ca/ca.crt $rd/ca-intl.pem");
$out = `sh $rd/recipe.sh 2>&1`;
isnt($?, 0, '... and against the national CA');

# ---- an institution approved before the intl suite existed -------------

# D's record loses its P-256 certificate and key, as records written
# before this change look (mdb_dump / mdb_load in hex form while nginx is stopped).
$t->stop;
my $state = "$d/data/state";
my $dump = `mdb_dump -s institutions $state 2>&1`;
is($?, 0, 'mdb_dump of the institutions') or diag $dump;
my @lines = split /\n/, $dump;
my $found = 0;
my $key = ' ' . unpack('H*', $D->{id});
for my $i (0 .. $#lines - 1) {
    next unless $lines[$i] eq $key;
    my $rec = JSON::PP->new->decode(pack('H*', substr($lines[$i + 1], 1)));
    delete @{$rec}{qw(intl_certificate_pem intl_key_wrapped_b64
                      intl_cert_serial)};
    $lines[$i + 1] = ' ' . unpack('H*', JSON::PP->new->canonical
                                                   ->encode($rec));
    $found = 1;
}
ok($found, "... D's record found");
EsignNginx::write_file("$d/inst.dump", join("\n", @lines) . "\n");
$out = `mdb_load -s institutions $state < $d/inst.dump 2>&1`;
is($?, 0, "... and loaded without the intl fields") or diag "mdb_load: $out";
$t->start;

for my $i ($A, $D) {
    $i->{c} = login($t, $i->{admin_username}, $i->{password});
}
$r = $D->{c}->get('/api/v1/institution');
ok(!defined $r->{json}{intl_certificate_pem}, 'D has no intl certificate');

my $doc2 = upload($A->{c});
$r = initiate($A, $doc2, [$D]);
is($r->{status}, 201, 'a contract with D');
my $cid2 = $r->{json}{id};

$r = act($D, 'confirm', $cid2);
is($r->{status}, 503, 'intl confirm by an institution without a P-256 key: '
   . '503');
like($t->log_text, qr/signing contract "\Q$cid2\E" failed.*suite/,
     '... and an error log line naming the suite');

($rc, $out) = $t->esignctl('-d', "$d/data", '-k', "$d/keys/kek", '-s',
                           'test-site', 'institution', 'issue-intl',
                           $D->{id});
is($rc, 0, 'esignctl institution issue-intl') or diag $out;
like($out, qr/BEGIN CERTIFICATE/, '... prints the new certificate');
($rc, $out) = $t->esignctl('-d', "$d/data", '-k', "$d/keys/kek",
                           'institution', 'issue-intl', $D->{id});
isnt($rc, 0, '... refuses a second time');

$r = act($D, 'confirm', $cid2);
is($r->{status}, 200, 'D confirms once re-issued') or diag $r->{content};
is($r->{json}{status}, 'completed', '... completed');

$r = $D->{c}->get("/api/v1/contracts/$cid2");
is($r->{json}{archive}{result}, 'passed', '... archive checks passed');

$r = $D->{c}->get("/api/v1/contracts/$cid2/signatures");
my ($sd) = @{ $r->{json}{items} };
EsignNginx::write_file("$d/d-intl.crt", $sd->{certificate_pem});
$out = `openssl verify -CAfile $d/data/ca/ca-intl.crt $d/d-intl.crt 2>&1`;
like($out, qr/: OK/, '... its certificate chains to the intl CA');

undef $t;
done_testing();
