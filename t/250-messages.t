#!/usr/bin/perl
# In-site messages (R-NOTE-1, R-NOTE-4): listed, counted, marked read,
# scoped to the caller's institution.  Messages come from institution
# events (deregistration request) until the signing workflow calls the
# contract hook; needs the identity fixtures (t/lib/EsignFixtures.pm).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use EsignNginx;

eval { require EsignFixtures; 1 }
    or plan skip_all => 'needs t/lib/EsignFixtures.pm (identity fixtures)';

my $seedn = 40;
sub login    { EsignFixtures::login(@_) }
sub operator {
    my ($t) = @_;
    my $o = EsignFixtures::create_operator($t);
    return login($t, $o->{username}, $o->{password});
}
sub register { EsignFixtures::register_institution($_[0], seed => $seedn++) }
sub approve  { EsignFixtures::approve($_[0], $_[1], $_[2]{id}) }

my $t = EsignNginx->new;
$t->write_conf($t->standard_http)->start;

my $op = operator($t);
my $a = register($t);
approve($t, $op, $a);
my $b = register($t);
approve($t, $op, $b);
my $ca = login($t, $a->{admin_username}, $a->{admin_password});
my $cb = login($t, $b->{admin_username}, $b->{admin_password});

my $r = $ca->get('/api/v1/messages/count');
is($r->{status}, 200, 'count answers');
my $before = $r->{json}{unread};

$r = $ca->post('/api/v1/institution/deregistration',
               json => { reason => 'test' });
is($r->{status}, 202, 'an event that writes a message');

$r = $ca->get('/api/v1/messages/count');
is($r->{json}{unread}, $before + 1, 'R-NOTE-4 unread count grows');

$r = $ca->get('/api/v1/messages?unread=1');
is($r->{status}, 200, 'list answers');
my ($m) = grep { $_->{event} eq 'deregistration_requested' }
          @{ $r->{json}{items} || [] };
ok($m, 'R-NOTE-1 the message is listed');
ok(!$m->{read}, '... unread');
ok(exists $r->{json}{next_cursor}, 'list has next_cursor');

$r = $cb->post("/api/v1/messages/$m->{id}/read");
is($r->{status}, 404, "another institution's message is not found");

$r = $cb->get('/api/v1/messages');
ok(!grep({ $_->{id} eq $m->{id} } @{ $r->{json}{items} || [] }),
   'R-ACC-4 messages stay inside the institution');

$r = $ca->post("/api/v1/messages/$m->{id}/read");
is($r->{status}, 204, 'marked read');
$r = $ca->post("/api/v1/messages/$m->{id}/read");
is($r->{status}, 204, 'marking again is harmless');

$r = $ca->get('/api/v1/messages/count');
is($r->{json}{unread}, $before, 'R-NOTE-4 unread count back down');

$r = $ca->get('/api/v1/messages?unread=1');
ok(!grep({ $_->{id} eq $m->{id} } @{ $r->{json}{items} || [] }),
   'read message left the unread list');

$r = $ca->get('/api/v1/messages?limit=0');
is($r->{status}, 400, 'limit 0 refused');
$r = $ca->get('/api/v1/messages?cursor=../../x');
is($r->{status}, 400, 'malformed cursor refused');
$r = $ca->post('/api/v1/messages/nonsense/read');
is($r->{status}, 404, 'malformed message ID 404');

$r = $t->client->get('/api/v1/messages');
is($r->{status}, 401, 'messages need a session');

# operators see the outbox, nobody else does
$r = $ca->get('/api/v1/admin/outbox');
is($r->{status}, 403, 'an administrator cannot read the outbox');
$r = $op->get('/api/v1/admin/outbox?status=failed');
is($r->{status}, 200, 'an operator reads the outbox');
$r = $op->get('/api/v1/admin/outbox?status=bogus');
is($r->{status}, 400, 'unknown outbox status refused');

undef $t;

done_testing;
