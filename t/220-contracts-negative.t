#!/usr/bin/perl
# Refusals of the signing routes: wrong state 409, step-up token missing or
# reused 403, other institutions' contracts 404, permissions and tiers
# (download, masked tier never gets the original), malformed input 400.

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

my $p = platform($t, 3);
my ($A, $B, $X) = @{ $p->{insts} };

# an initiating clerk in department Credit, and Credit colleagues
my $clerk = create_account($t, $A->{c}, tier => 'business_admin',
                           department => 'Credit',
                           permissions => [qw(initiate view confirm)]);
my $K = { %$clerk, c => login($t, $clerk->{username}, $clerk->{password}) };
my $opr = create_account($t, $A->{c}, tier => 'business_operator',
                         department => 'Credit',
                         permissions => [qw(view download evidence)]);
my $O = { %$opr, c => login($t, $opr->{username}, $opr->{password}) };
my $other = create_account($t, $A->{c}, tier => 'business_admin',
                           department => 'Retail',
                           permissions => [qw(view download)]);
my $R = { %$other, c => login($t, $other->{username}, $other->{password}) };
my $viewer = create_account($t, $B->{c}, tier => 'top_admin',
                            department => 'Ops', permissions => [qw(view)]);
my $V = { %$viewer, c => login($t, $viewer->{username}, $viewer->{password}) };

my $doc = upload($K->{c});
my $r = initiate($K, $doc, [$B], title => 'Secret Merger Plan',
                 number => 'M-123456');
is($r->{status}, 201, 'clerk with initiate starts a contract');
my $cid = $r->{json}{id};

# ---- step-up token (R-AUTH-2) -------------------------------------------

$r = initiate($A, upload($A->{c}), [$B], no_token => 1);
is($r->{status}, 403, 'R-AUTH-2 initiate without a token is 403');
is($r->{json}{error}{code}, 'verification_required',
   '... verification_required');

$r = act($B, 'confirm', $cid, no_token => 1);
is($r->{status}, 403, 'R-AUTH-2 confirm without a token is 403');
is($r->{json}{error}{code}, 'verification_required',
   '... verification_required');

$r = act($B, 'confirm', $cid, token => 'A' x 43);
is($r->{status}, 403, 'R-AUTH-2 an unknown token is 403');

my $tok = token($B);
my $doc2 = upload($A->{c});
$r = initiate($A, $doc2, [$B]);
my $cid2 = $r->{json}{id};
$r = act($B, 'reject', $cid2, token => $tok);
is($r->{status}, 200, 'a token is good once');
$r = act($B, 'confirm', $cid, token => $tok);
is($r->{status}, 403, 'R-AUTH-2 a reused token is 403');
is($r->{json}{error}{code}, 'verification_required',
   '... verification_required');

# a token of another session of the same account
my $B2 = { %$B, c => login($t, $B->{admin_username}, $B->{password}) };
$r = act($B, 'confirm', $cid, token => token($B2));
is($r->{status}, 403, 'R-AUTH-2 a token of another session is 403');

$r = $B->{c}->get("/api/v1/contracts/$cid");
is($r->{json}{participants}[0]{status}, 'pending',
   '... and nothing changed');

# a refused state change does not burn the token
$tok = token($B);
$r = act($B, 'confirm', $cid2, token => $tok);
is($r->{status}, 409, 'R-SIGN-5 confirm after reject is 409 conflict');
is($r->{json}{error}{code}, 'conflict', '... conflict');
$r = act($B, 'confirm', $cid, token => $tok);
is($r->{status}, 200, '... and the same token still works elsewhere');

$r = act($B, 'confirm', $cid);
is($r->{status}, 409, 'confirming twice is 409');
$r = act($B, 'reject', $cid);
is($r->{status}, 409, 'rejecting a completed contract is 409');
$r = act($K, 'revoke', $cid);
is($r->{status}, 409, 'revoking a completed contract is 409');

# ---- other institutions (R-ACC-4) ---------------------------------------

for my $path ("/api/v1/contracts/$cid", "/api/v1/contracts/$cid/document",
              "/api/v1/contracts/$cid/signatures",
              "/api/v1/contracts/$cid/evidence")
{
    $r = $X->{c}->get($path);
    is($r->{status}, 404, "R-ACC-4 other institution: GET $path is 404");
}
$r = act($X, 'confirm', $cid);
is($r->{status}, 404, 'R-ACC-4 other institution cannot confirm (404)');
$r = act($X, 'revoke', $cid);
is($r->{status}, 404, 'R-ACC-4 other institution cannot revoke (404)');
$r = $X->{c}->get('/api/v1/contracts/' . ('a' x 26));
is($r->{status}, 404, 'unknown contract 404');
$r = $X->{c}->get('/api/v1/contracts/..%2f..%2fetc');
ok($r->{status} == 404 || $r->{status} == 400,
   'R-SEC-1 path tricks in the ID are refused');

# ---- tiers and permissions (R-ACC-1, R-ACC-3) ---------------------------

$r = $O->{c}->get("/api/v1/contracts/$cid");
is($r->{status}, 200, 'R-ACC-3 business operator sees its department');
ok($r->{json}{masked}, '... masked');
isnt($r->{json}{title}, 'Secret Merger Plan', '... title masked');
isnt($r->{json}{number}, 'M-123456', '... number masked');
ok(!exists $r->{json}{document_sm3}, '... no document digest');

$r = $O->{c}->get("/api/v1/contracts/$cid/document");
is($r->{status}, 403, 'R-ACC-3 business operator never gets the original');
unlike($r->{content} // '', qr/%PDF/, '... and no PDF bytes');
$r = $O->{c}->get("/api/v1/contracts/$cid/document?download=1");
is($r->{status}, 403, 'R-ACC-3 ... nor as a download');

$r = $O->{c}->get('/api/v1/contracts');
my ($item) = grep { $_->{id} eq $cid } @{ $r->{json}{items} };
ok($item && $item->{masked}, 'R-ACC-3 list items are masked for it');
ok($item && $item->{title} ne 'Secret Merger Plan', '... title masked');

$r = $R->{c}->get("/api/v1/contracts/$cid");
is($r->{status}, 404, 'R-ACC-3 another department does not see it');
$r = $R->{c}->get('/api/v1/contracts');
ok(!(grep { $_->{id} eq $cid } @{ $r->{json}{items} }),
   'R-ACC-3 ... nor in the list');

$r = $V->{c}->get("/api/v1/contracts/$cid/document");
is($r->{status}, 200, 'R-ACC-1 view reads the document');
$r = $V->{c}->get("/api/v1/contracts/$cid/document?download=1");
is($r->{status}, 403, 'R-ACC-1 download needs the download permission');
is($r->{json}{error}{code}, 'forbidden', '... forbidden');
$r = $V->{c}->get("/api/v1/contracts/$cid/evidence");
is($r->{status}, 403, 'R-ACC-1 evidence needs the evidence permission');

my $doc3 = upload($A->{c});
$r = initiate($A, $doc3, [$B]);
my $cid3 = $r->{json}{id};
$r = act($V, 'confirm', $cid3, token => verify_token($V->{c},
                                                      $viewer->{password}));
is($r->{status}, 403, 'R-ACC-1 confirming needs the confirm permission');
$r = initiate($V, upload($B->{c}), [$A],
              token => verify_token($V->{c}, $viewer->{password}));
is($r->{status}, 403, 'R-ACC-1 initiating needs the initiate permission');

# ---- malformed input (R-SEC-1) -------------------------------------------

my $d4 = upload($A->{c});
my %bad = (
    'no title'        => { title => undef },
    'empty title'     => { title => '' },
    'title not text'  => { title => [1] },
    'long number'     => { number => 'x' x 65 },
    'no participants' => { participants => [] },
    'bad uscc'        => { participants => [ { uscc => 'lower-case-uscc!!' } ] },
    'duplicate'       => { participants => [ { uscc => $B->{uscc} },
                                             { uscc => $B->{uscc} } ] },
    'self'            => { participants => [ { uscc => $A->{uscc} } ] },
    'unknown uscc'    => { participants => [
                               { uscc => uscc_from_seed(999_999) } ] },
    'bad document'    => { document_id => 'x' },
    'foreign doc'     => { document_id => upload($X->{c})->{id} },
    'bad expires_at'  => { expires_at => 'tomorrow' },
);
for my $name (sort keys %bad) {
    my $body = { title => 'T', number => 'N', version => '1',
                 document_id => $d4->{id},
                 participants => [ { uscc => $B->{uscc} } ],
                 verification_token => token($A) };
    for my $k (keys %{ $bad{$name} }) {
        if (defined $bad{$name}{$k}) { $body->{$k} = $bad{$name}{$k} }
        else { delete $body->{$k} }
    }
    $r = $A->{c}->post('/api/v1/contracts', json => $body);
    is($r->{status}, 400, "R-SEC-1 initiate with $name is 400");
}

# a pending (not yet approved) institution cannot be a participant
my $pend = register_institution($t, seed => ($$ % 5000) * 10 + 9);
$r = initiate($A, $d4, [$pend]);
is($r->{status}, 400, 'only active institutions take part');

$r = $B->{c}->post("/api/v1/contracts/$cid3/reject",
                   json => { verification_token => token($B) });
is($r->{status}, 400, 'reject without a reason is 400');
$r = $A->{c}->get('/api/v1/contracts?limit=501');
is($r->{status}, 400, 'limit above 500 is 400');
$r = $A->{c}->get('/api/v1/contracts?box=outbox');
is($r->{status}, 400, 'unknown box is 400');
$r = $A->{c}->get('/api/v1/contracts?cursor=%00%01');
is($r->{status}, 400, 'malformed cursor is 400');
$r = $A->{c}->get("/api/v1/contracts/$cid3/document?download=yes");
is($r->{status}, 400, 'download is 0 or 1');
$r = $t->client->get("/api/v1/contracts/$cid3");
is($r->{status}, 401, 'no session is 401');

undef $t;
done_testing();
