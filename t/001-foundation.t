#!/usr/bin/perl
# Foundation: the module loads into Debian's nginx, serves the health route
# over HTTPS, and answers bad requests with the API's JSON error documents.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use EsignNginx;

my $t = EsignNginx->new;
$t->write_conf($t->standard_http)->start;
my $c = $t->client;

my $r = $c->get('/api/v1/health');
is($r->{status}, 200, 'health answers 200 over HTTPS');
is($r->{json}{status}, 'ok', 'health status ok');
is($r->{json}{site}, 'test-site', 'health names the site');
like($r->{json}{version} // '', qr/^\d+\.\d+\.\d+$/, 'health has a version');
like($r->{headers}{'content-type'}, qr{^application/json; charset=utf-8},
     'JSON content type');
is($r->{headers}{'cache-control'}, 'no-store', 'API answers are not cached');

$r = $c->get('/api/v1/no/such/route');
is($r->{status}, 404, 'unknown route 404');
is($r->{json}{error}{code}, 'not_found', 'unknown route JSON error code');
ok(length($r->{json}{error}{message} // ''), 'error has a message');

$r = $c->get('/elsewhere');
is($r->{status}, 404, 'path outside /api/v1 is 404 JSON');
is($r->{json}{error}{code}, 'not_found', '... with the error document');

$r = $c->post('/api/v1/health', json => {});
is($r->{status}, 405, 'wrong method 405');
is($r->{json}{error}{code}, 'method_not_allowed', '405 error code');
like($r->{headers}{allow} // '', qr/\bGET\b/, '405 carries Allow: GET');

$r = $c->request('HEAD', '/api/v1/health');
is($r->{status}, 200, 'HEAD on a GET route');

# JSON body rules, on the login route (a JSON route every site has)
$r = $c->post('/api/v1/session', body => '{"username": "a", ',
              type => 'application/json');
is($r->{status}, 400, 'malformed JSON 400');
is($r->{json}{error}{code}, 'invalid_json', 'malformed JSON code');

$r = $c->post('/api/v1/session', body => '[1,2]', type => 'application/json');
is($r->{status}, 400, 'JSON that is not an object 400');

$r = $c->post('/api/v1/session', body => '{"a":1,"a":2}',
              type => 'application/json');
is($r->{status}, 400, 'duplicate keys refused');

$r = $c->post('/api/v1/session', body => 'username=a',
              type => 'application/x-www-form-urlencoded');
is($r->{status}, 415, 'wrong content type 415');
is($r->{json}{error}{code}, 'unsupported_media_type', '415 code');

$r = $c->post('/api/v1/session', body => '{"x":"' . ('a' x 70000) . '"}',
              type => 'application/json');
is($r->{status}, 413, 'body over the JSON limit 413');
is($r->{json}{error}{code}, 'payload_too_large', '413 code');

$r = $c->get('/api/v1/health');
is($r->{status}, 200, 'still healthy after bad requests');

# admin page headers
$r = $c->get('/admin/');
if ($r->{status} == 200) {
    like($r->{headers}{'content-security-policy'} // '',
         qr/script-src 'self'/, 'admin page has a strict CSP');
    is($r->{headers}{'x-frame-options'}, 'DENY', 'admin page not framable');
    is($r->{headers}{'referrer-policy'}, 'no-referrer', 'no referrer');
    ok($r->{headers}{etag}, 'admin page has an ETag');
    my $e = $c->get('/admin/', headers => { 'if-none-match' =>
                                            $r->{headers}{etag} });
    is($e->{status}, 304, 'ETag revalidation answers 304');
    is($r->{headers}{'cache-control'}, 'no-cache',
       'the page itself is revalidated');
    my ($asset) = $r->{content} =~ m{src="\./(js/app\.js\?v=[0-9a-f]{16})"};
    ok($asset, 'the page names its script with a content hash');
    my $a = $c->get("/admin/$asset");
    is($a->{status}, 200, 'the hashed asset is served');
    like($a->{headers}{'cache-control'} // '', qr/max-age=31536000/,
         'a hashed asset is cached for a year');
    my $u = $c->get('/admin/js/app.js?v=0000000000000000');
    is($u->{headers}{'cache-control'}, 'no-cache',
       'a wrong hash is not cached long');
    for my $path ('/admin/../../etc/passwd', '/admin/%2e%2e/%2e%2e/etc/passwd',
                  '/admin/js/../../../etc/passwd') {
        my $x = $c->get($path);
        ok($x->{status} == 400 || $x->{status} == 404,
           "R-SEC-1 traversal refused: $path ($x->{status})");
        unlike($x->{content} // '', qr/root:/, '... and nothing leaked');
    }
} else {
    fail('admin page served');
}

undef $t;

# Configuration errors: nginx -t fails with a readable message.

sub conf_fails {
    my ($mutate, $pattern, $name) = @_;
    my $u = EsignNginx->new(no_log_check => 1);
    my $http = $mutate->($u, $u->standard_http);
    $u->write_conf($http);
    my ($rc, $out) = $u->test_conf;
    isnt($rc, 0, "nginx -t fails: $name");
    like($out, $pattern, "readable message: $name");
}

conf_fails(sub { my ($u, $h) = @_; $h =~ s{esign_data \S+;}
                 {esign_data $u->{dir}/missing;}; $h },
           qr/esign_data directory .* does not exist/, 'missing data dir');

conf_fails(sub { my ($u, $h) = @_; $h =~ s{esign_site_key \S+;}
                 {esign_site_key $u->{dir}/keys/nope.key;}; $h },
           qr/cannot read esign_site_key/, 'unreadable site key');

conf_fails(sub { my ($u, $h) = @_; $h =~ s{esign_site_key \S+;}
                 {esign_site_key $u->{dir}/keys/tls.crt;}; $h },
           qr/is not an SM2 private key/, 'site key that is not SM2');

conf_fails(sub { my ($u, $h) = @_; $h =~ s{esign_kek \S+;}
                 {esign_kek $u->{dir}/keys/none;}; $h },
           qr/cannot read esign_kek/, 'unreadable KEK');

conf_fails(sub { my ($u, $h) = @_;
                 "    esign_session_idle_timeout 31m;\n" . $h },
           qr/must not exceed 30m/, 'R-AUTH-1 idle timeout over 30m');

conf_fails(sub { my ($u, $h) = @_; $h =~ s{\s*esign_data \S+;}{}; $h },
           qr/"esign on" requires "esign_data"/, 'esign on without esign_data');

{
    my $u = EsignNginx->new;
    $u->write_conf("    esign_session_idle_timeout 30m;\n"
                   . $u->standard_http);
    my ($rc, $out) = $u->test_conf;
    is($rc, 0, 'R-AUTH-1 an idle timeout of exactly 30m is accepted')
        or diag $out;
}

done_testing();
