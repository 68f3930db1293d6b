#!/usr/bin/perl
# The signing workflow end to end with three institutions: initiate,
# notify, read, confirm with real CMS signatures, completion, archive
# checks, process and result evidence on the ledger with receipts that
# verify offline, lists, reject, revoke and expiry.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use EsignNginx;
use EsignFixtures qw(:all);
use EsignSigning qw(:all);
use MIME::Base64 qw(decode_base64);

my $t = EsignNginx->new;
$t->write_conf(signing_conf($t, extra => "    esign_contract_sweep 200ms;\n"))
  ->start;
my $d = $t->dir;

my $p = platform($t, 4);
my ($A, $B, $C, $X) = @{ $p->{insts} };

# ---- initiate -----------------------------------------------------------

my $doc = upload($A->{c});
like($doc->{sm3}, qr/^[0-9a-f]{64}$/, 'R-SIGN-1 document uploaded');

my $r = initiate($A, $doc, [$B, $C], title => 'Loan 7', number => 'N-7',
                 version => '2.1');
is($r->{status}, 201, 'R-SIGN-1 initiator starts the signing (201)');
is($r->{json}{status}, 'signing', '... status signing');
my $cid = $r->{json}{id};
like($cid, qr/^[a-z2-7]{26}$/, '... opaque contract ID');
is(scalar @{ $r->{json}{participants} }, 2,
   'R-SIGN-6 several participant institutions');
is($r->{json}{document_sm3}, $doc->{sm3}, '... document digest recorded');
is(scalar @{ $r->{json}{evidence} }, 1, 'R-EVID-1 initiate evidence made');

$r = initiate($A, $doc, [$B]);
is($r->{status}, 409, 'R-SIGN-1 a used document cannot start another');

# ---- every party sees it; notification ---------------------------------

for my $i ($A, $B, $C) {
    $r = $i->{c}->get("/api/v1/contracts/$cid");
    is($r->{status}, 200, "party $i->{name} reads the contract");
}
is($r->{json}{title}, 'Loan 7', '... title');
is($r->{json}{number}, 'N-7', '... number');
is($r->{json}{version}, '2.1', '... version');
is($r->{json}{initiator}{institution_id}, $A->{id}, '... initiator');
is_deeply([ map { $_->{status} } @{ $r->{json}{participants} } ],
          [ 'pending', 'pending' ], '... participants pending');

$r = $X->{c}->get("/api/v1/contracts/$cid");
is($r->{status}, 404, 'R-ACC-4 a non-party institution gets 404');

$r = $B->{c}->get('/api/v1/messages/count');
ok(($r->{json}{unread} // 0) >= 1,
   'R-SIGN-2 participant has an in-site message');

# ---- read the document (R-AUD-2 read count) -----------------------------

for (1 .. 2) {
    $r = $B->{c}->get("/api/v1/contracts/$cid/document");
    is($r->{status}, 200, 'R-SIGN-3 participant reads the original');
}
is($r->{content}, $doc->{bytes}, '... byte for byte');
like($r->{headers}{'content-type'}, qr{^application/pdf},
     '... as application/pdf');
like($r->{headers}{'content-disposition'} // '', qr/^inline/, '... inline');

$r = $B->{c}->get("/api/v1/contracts/$cid/document?download=1");
is($r->{status}, 200, 'download=1 for an account with download');
like($r->{headers}{'content-disposition'} // '', qr/^attachment/,
     '... as an attachment');

$r = $B->{c}->get("/api/v1/contracts/$cid");
is($r->{json}{read_count}, 3, 'R-AUD-2 read count of the caller');

# ---- confirm ------------------------------------------------------------

$r = act($B, 'confirm', $cid);
is($r->{status}, 200, 'R-SIGN-3 participant confirms (200)');
is($r->{json}{status}, 'signing', '... still signing');
my ($pb) = grep { $_->{institution_id} eq $B->{id} }
           @{ $r->{json}{participants} };
is($pb->{status}, 'confirmed', '... its participant entry confirmed');
like($pb->{at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
     '... with an RFC 3339 time');

$r = act($C, 'confirm', $cid);
is($r->{status}, 200, 'last participant confirms');
is($r->{json}{status}, 'completed',
   'R-SIGN-4 every participant confirmed: completed');
is(scalar @{ $r->{json}{evidence} }, 2,
   'R-EVID-2 completion made a result evidence record too');

$r = $B->{c}->get('/api/v1/messages');
ok((grep { ($_->{event} // '') eq 'completed' }
    @{ $r->{json}{items} || [] }),
   'R-SIGN-4 parties are notified of completion');

# ---- archive (R-ARCH-1, R-ARCH-2) ---------------------------------------

for my $i ($A, $B, $C) {
    $r = $i->{c}->get("/api/v1/contracts/$cid");
    is($r->{json}{archive}{result}, 'passed',
       "R-ARCH-1 archived for $i->{name} with checks passed");
}
my %checks = map { $_->{name} => $_->{result} }
             @{ $r->{json}{archive}{checks} };
is_deeply(\%checks, { initiator => 'pass', participants => 'pass',
                      signing_times => 'pass', signatures => 'pass',
                      document_digest => 'pass' },
          'R-ARCH-2 initiator, participants, times, signatures, digest');

for my $box ([ $A, 'initiated' ], [ $B, 'received' ], [ $C, 'all' ]) {
    $r = $box->[0]{c}->get("/api/v1/contracts?box=$box->[1]"
                           . '&status=completed');
    ok((grep { $_->{id} eq $cid } @{ $r->{json}{items} }),
       "R-ARCH-1 $box->[1] list of $box->[0]{name} finds it");
}
$r = $B->{c}->get('/api/v1/contracts?box=initiated');
ok(!(grep { $_->{id} eq $cid } @{ $r->{json}{items} }),
   'R-QUERY-1 received contract not in the initiated box');
$r = $X->{c}->get('/api/v1/contracts');
ok(!(grep { $_->{id} eq $cid } @{ $r->{json}{items} }),
   'R-ACC-4 not listed for a non-party');

# ---- signatures: the openssl-only recipe (R-SIGN-8) ---------------------

$r = $A->{c}->get("/api/v1/contracts/$cid/signatures");
is($r->{status}, 200, 'signatures readable by the initiator');
is(scalar @{ $r->{json}{items} }, 2, '... one per participant');
my ($sb) = grep { $_->{institution_id} eq $B->{id} } @{ $r->{json}{items} };
like($sb->{signature_pem}, qr/BEGIN CMS/, '... CMS PEM');

my $rd = "$d/recipe";
mkdir $rd;
EsignNginx::write_file("$rd/sig.pem", $sb->{signature_pem});
EsignNginx::write_file("$rd/cert.pem", $sb->{certificate_pem});
EsignNginx::write_file("$rd/document", $doc->{bytes});
system("cp $d/data/ca/ca.crt $rd/ca.pem");

my $md = EsignNginx::read_file(EsignNginx::root() . '/docs/verification.md');
my @blocks = $md =~ /```sh\n# recipe: national\n(.*?)```/sg;
ok(@blocks >= 4, 'docs/verification.md has the national recipe');
my $script = "set -e\ncd $rd\n" . join('', @blocks);
EsignNginx::write_file("$rd/recipe.sh", $script);
my $out = `sh $rd/recipe.sh 2>&1`;
is($?, 0, 'R-SIGN-8 signature verifies with the openssl CLI recipe')
    or diag $out;
like($out, qr/Signature Verified Successfully/, '... SM2 signature verified');
like($out, qr/message digest: OK/, '... over the document digest');

EsignNginx::write_file("$rd/document", $doc->{bytes} . 'tampered');
$out = `sh $rd/recipe.sh 2>&1`;
isnt($?, 0, 'R-SIGN-8 the recipe fails on a changed document');

# ---- evidence with receipts (R-EVID-1, R-EVID-2, R-EVID-4, R-QUERY-1) ---

$r = $C->{c}->get("/api/v1/contracts/$cid/evidence");
is($r->{status}, 200, 'R-QUERY-1 evidence of the signing');
my @ev = @{ $r->{json}{items} };
is_deeply([ map { $_->{stage} } @ev ],
          [ 'initiate', 'confirm', 'confirm', 'complete' ],
          'R-EVID-1 one record per step, R-EVID-2 a result record');
ok(!(grep { !$_->{in_ledger} } @ev), 'R-EVID-1 every record is in the ledger');

my ($cb) = grep { $_->{stage} eq 'confirm'
                  && $_->{institution_id} eq $B->{id} } @ev;
my $rec = $cb->{record};
is($rec->{contract_id}, $cid, 'R-EVID-4 record names the contract');
is($rec->{uscc}, $B->{uscc}, 'R-EVID-1 acting institution');
is($rec->{reads_before}, 3, 'R-AUD-2 reads before confirming in evidence');
is($rec->{verification_method}, 'password', 'R-AUTH-2 verification method');
ok($rec->{verified_at}, 'R-AUTH-2 verification time');
is($rec->{signing_order}, 1, 'R-EVID-1 signing order');
like($rec->{id_number_commitment} // '', qr/^[0-9a-f]{64}$/,
     'R-EVID-1 ID number only as a keyed commitment');
my ($cc) = grep { $_->{stage} eq 'confirm'
                  && $_->{institution_id} eq $C->{id} } @ev;
ok($cc->{record}{id_number_commitment}
   && $cc->{record}{id_number_commitment} ne $rec->{id_number_commitment},
   'R-EVID-1 another person, another commitment');
like($cc->{record}{name_commitment} // '', qr/^[0-9a-f]{64}$/,
     'R-EVID-1 the name as a keyed commitment too');
isnt($cc->{record}{name_commitment}, $rec->{name_commitment},
     '... another person\'s name, another commitment');
is($rec->{document_sm3}, $doc->{sm3}, 'R-EVID-1 document hash');
is($rec->{title}, 'Loan 7', 'R-EVID-1 contract name');

my ($res) = grep { $_->{stage} eq 'complete' } @ev;
is($res->{kind}, 'result', 'R-EVID-2 result kind');
is_deeply($res->{record}{party_uscc}, [ $B->{uscc}, $C->{uscc} ],
          'R-EVID-2 each party');
is(scalar @{ $res->{record}{party_signature_sm3} }, 2,
   'R-EVID-2 each signature hash');

# no plaintext personal data inside the ledger entries
my $all = join '', map { decode_base64($_->{receipt}{entry_b64}) } @ev;
my $idn = $B->{admin}{id_number};
ok(index($all, $idn) < 0, 'R-EVID-1 no plain ID number on the ledger');
ok(index($all, $B->{admin}{real_name}) < 0, '... no plain person name');

# offline receipt check with the CLI
my $cli = ledger_cli();
SKIP: {
    skip 'no esign-ledger CLI built', 4 unless $cli;
    EsignNginx::write_file("$d/receipt.json",
                           $EsignNginx::JSON->encode($cb->{receipt}));
    $out = `$cli verify-receipt --pubkey $d/keys/site.pub --key-name test-site $d/receipt.json 2>&1`;
    is($?, 0, 'R-EVID-4 receipt verifies offline with esign-ledger')
        or diag $out;
    like($out, qr/receipt: VALID/, '... VALID');

    my $bad = { %{ $cb->{receipt} } };
    $bad->{leaf_hash} = $res->{leaf_hash};
    EsignNginx::write_file("$d/bad.json", $EsignNginx::JSON->encode($bad));
    $out = `$cli verify-receipt --pubkey $d/keys/site.pub --key-name test-site $d/bad.json 2>&1`;
    isnt($?, 0, 'R-EVID-4 a receipt with another leaf hash fails');

    $out = `$cli verify $d/data/ledger --pubkey $d/keys/site.pub --key-name test-site 2>&1`;
    is($?, 0, 'R-LEDG-1 esign-ledger verify passes') or diag $out;
}

# the same record from the public ledger route, by transaction hash
$r = $t->client->get("/api/v1/ledger/tx/$cb->{leaf_hash}");
is($r->{status}, 200, 'R-XCH-3 evidence found by its transaction hash');

# ---- reject (R-SIGN-5) ---------------------------------------------------

my $doc2 = upload($A->{c});
$r = initiate($A, $doc2, [$B, $C]);
my $cid2 = $r->{json}{id};
$r = act($B, 'reject', $cid2, reason => 'rate too high');
is($r->{status}, 200, 'R-SIGN-5 participant rejects');
is($r->{json}{status}, 'rejected', '... the signing terminates');
$r = act($C, 'confirm', $cid2);
is($r->{status}, 409, 'R-SIGN-5 confirming a rejected contract is 409');
is($r->{json}{error}{code}, 'conflict', '... conflict');
$r = $A->{c}->get("/api/v1/contracts/$cid2/evidence");
is_deeply([ map { $_->{stage} } @{ $r->{json}{items} } ],
          [ 'initiate', 'reject' ], 'R-EVID-1 reject evidence');
# the same person acting again: the same commitments (the worker keeps
# computed commitments per account; this checks they are the right ones)
my ($rj) = grep { $_->{stage} eq 'reject' } @{ $r->{json}{items} };
is($rj->{record}{id_number_commitment}, $rec->{id_number_commitment},
   'R-EVID-1 the same person, the same ID number commitment');
is($rj->{record}{name_commitment}, $rec->{name_commitment},
   '... and the same name commitment');
$r = $A->{c}->get('/api/v1/messages');
ok((grep { ($_->{event} // '') eq 'rejected' } @{ $r->{json}{items} || [] }),
   'R-SIGN-5 initiator notified of the rejection');

# ---- revoke (R-SIGN-7) ---------------------------------------------------

my $doc3 = upload($A->{c});
$r = initiate($A, $doc3, [$B]);
my $cid3 = $r->{json}{id};
$r = act($B, 'revoke', $cid3);
is($r->{status}, 403, 'R-SIGN-7 a participant cannot revoke (403)');
$r = act($A, 'revoke', $cid3, reason => 'wrong version');
is($r->{status}, 200, 'R-SIGN-7 initiator revokes while signing');
is($r->{json}{status}, 'revoked', '... revoked');
$r = act($A, 'revoke', $cid3);
is($r->{status}, 409, 'R-SIGN-7 revoking twice is 409');
$r = act($B, 'confirm', $cid3);
is($r->{status}, 409, 'confirming a revoked contract is 409');

# ---- expiry (timer sweep, lazily as well) -------------------------------

my $doc4 = upload($A->{c});
my @tm = gmtime(time + 1);
my $exp = sprintf('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', $tm[5] + 1900,
                  $tm[4] + 1, @tm[3, 2, 1, 0], 999);
$r = initiate($A, $doc4, [$B], expires_at => $exp);
is($r->{status}, 201, 'contract with a deadline');
my $cid4 = $r->{json}{id};
select undef, undef, undef, 2.5;
$r = $B->{c}->get("/api/v1/contracts/$cid4");
is($r->{json}{status}, 'expired', 'a contract past its deadline is expired');
$r = act($B, 'confirm', $cid4);
is($r->{status}, 409, 'confirming an expired contract is 409');
$r = $A->{c}->get("/api/v1/contracts/$cid4/evidence");
is_deeply([ map { $_->{stage} } @{ $r->{json}{items} } ],
          [ 'initiate', 'expire' ], 'the sweep recorded the expiry once');

$r = initiate($A, upload($A->{c}), [$B], expires_at => '2001-01-01T00:00:00Z');
is($r->{status}, 400, 'a deadline in the past is refused');

# ---- list paging ---------------------------------------------------------

$r = $A->{c}->get('/api/v1/contracts?limit=2');
is(scalar @{ $r->{json}{items} }, 2, 'limit is honoured');
ok($r->{json}{next_cursor}, '... with a next cursor');
my %seen = map { $_->{id} => 1 } @{ $r->{json}{items} };
my $r2 = $A->{c}->get("/api/v1/contracts?limit=500&cursor="
                      . $r->{json}{next_cursor});
is($r2->{status}, 200, 'next page');
ok(!(grep { $seen{$_->{id}} } @{ $r2->{json}{items} }), '... no repeats');
is(scalar(keys %seen) + scalar @{ $r2->{json}{items} }, 4,
   '... every contract of the initiator once');
is($r2->{json}{next_cursor}, undef, '... last page has no cursor');

undef $t;
done_testing();
