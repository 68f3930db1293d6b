#!/usr/bin/perl
# Public read-only ledger routes (R-EVID-5, R-XCH-1, R-XCH-3): shards,
# checkpoints, entries, proofs and the lookup by transaction hash, without
# a session, with strict validation of every query parameter.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use EsignNginx;

my $t = EsignNginx->new;
$t->write_conf($t->standard_http)->start;
my $c = $t->client;

my $r = $c->get('/api/v1/ledger/shards');
is($r->{status}, 200, 'R-EVID-5 shard list is public (no session)');
is(ref $r->{json}{items}, 'ARRAY', 'R-EVID-5 shard list has items');

ok(-d $t->data . '/ledger', 'R-LEDG-6 ledger directory lives in the data dir');

$r = $c->get('/api/v1/ledger/nosuchshard/checkpoint');
is($r->{status}, 404, 'unknown shard checkpoint 404');
is($r->{json}{error}{code}, 'not_found', '... not_found');

$r = $c->get('/api/v1/ledger/nosuchshard/entries?start=0&end=1');
is($r->{status}, 404, 'unknown shard entries 404');

$r = $c->get('/api/v1/ledger/tx/' . ('ab' x 32));
is($r->{status}, 404, 'R-XCH-3 unknown transaction hash 404');

for my $bad ('abc', 'zz' x 32, 'ab' x 31, 'ab' x 33) {
    $r = $c->get("/api/v1/ledger/tx/$bad");
    is($r->{status}, 400, "R-SEC-1 malformed transaction hash '$bad' 400");
}

$r = $c->post('/api/v1/ledger/shards', json => {});
is($r->{status}, 405, 'ledger routes are read-only (405)');

$r = $c->get('/api/v1/ledger/../state/checkpoint');
isnt($r->{status}, 200, 'R-SEC-1 no traversal through the shard name');

undef $t;
done_testing;
