package EsignNginx;

# Test harness: starts a private nginx with the esign module per test file,
# on a free loopback port with its own prefix, data directory, TLS
# certificate, SM2 site key and KEK; speaks HTTPS with a cookie jar per
# client; starts a private redis-server on request; and on destruction
# fails the test file when error.log shows an alert, an emergency, a
# critical error, a sanitizer report or a worker killed by a signal.
#
# Environment: ESIGN_MODULE_SO (the module), ESIGN_NGINX_BINARY
# (/usr/sbin/nginx), ESIGN_ASAN=1 (preload libasan), ESIGN_TEST_LEAVE=1
# (keep the directory), ESIGN_CTL (esignctl binary).

use strict;
use warnings;

use Carp qw(croak);
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);

my $ROOT = abs_path(dirname(__FILE__) . '/../..');

our $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

sub root { $ROOT }

sub new {
    my ($class, %opts) = @_;

    my $dir = tempdir('esign-t-XXXXXX', TMPDIR => 1,
                      CLEANUP => !$ENV{ESIGN_TEST_LEAVE});
    chmod 0755, $dir;

    my $self = bless {
        dir     => $dir,
        pid     => undef,
        owner   => $$,
        redis   => [],
        nginx   => $ENV{ESIGN_NGINX_BINARY} || '/usr/sbin/nginx',
        module  => $ENV{ESIGN_MODULE_SO}
                   || "$ROOT/build/ngx_http_esign_module.so",
        port    => free_port(),
        %opts,
    }, $class;

    make_path("$dir/logs", "$dir/data", "$dir/tmp", "$dir/keys");
    $self->make_keys unless $opts{no_keys};

    return $self;
}

sub dir  { $_[0]{dir} }
sub port { $_[0]{port} }
sub data { "$_[0]{dir}/data" }

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp',
                                  ReuseAddr => 1)
        or die "no free port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub run_quiet {
    my (@cmd) = @_;
    my $out = `@cmd 2>&1`;
    croak "command failed: @cmd\n$out" if $? != 0;
    return $out;
}

# A throw-away TLS certificate, an SM2 site signing key and a KEK.
sub make_keys {
    my ($self) = @_;
    my $k = "$self->{dir}/keys";

    run_quiet("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256"
              . " -nodes -days 2 -subj /CN=127.0.0.1"
              . " -addext subjectAltName=IP:127.0.0.1"
              . " -keyout $k/tls.key -out $k/tls.crt");
    run_quiet("openssl genpkey -algorithm SM2 -out $k/site.key");
    run_quiet("openssl pkey -in $k/site.key -pubout -out $k/site.pub");

    my $hex = run_quiet("openssl rand -hex 32");
    chomp $hex;
    write_file("$k/kek", "# test key-encryption key\nkek v1 $hex\n", 0600);
}

sub write_file {
    my ($path, $content, $mode) = @_;
    open my $fh, '>', $path or croak "$path: $!";
    print $fh $content;
    close $fh;
    chmod $mode, $path if defined $mode;
}

sub read_file {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    my $s = <$fh>;
    close $fh;
    return $s;
}

# The usual http-level directives of an esign site, for conf templates.
sub esign_globals {
    my ($self) = @_;
    my $d = $self->{dir};
    return <<"EOF";
    esign_data $d/data;
    esign_site test-site;
    esign_site_key $d/keys/site.key;
    esign_kek $d/keys/kek;
EOF
}

# A server block with TLS on the test port; $inner goes inside it.
sub https_server {
    my ($self, $inner) = @_;
    my $d = $self->{dir};
    return <<"EOF";
    server {
        listen 127.0.0.1:%%PORT%% ssl;
        server_name localhost;
        ssl_certificate $d/keys/tls.crt;
        ssl_certificate_key $d/keys/tls.key;
$inner
    }
EOF
}

# The standard platform: one HTTPS server, "location / { esign on; }".
sub standard_http {
    my ($self, %o) = @_;
    my $extra = $o{extra} // '';
    return $self->esign_globals . $extra
        . $self->https_server("        location / { esign on; }\n");
}

sub write_conf {
    my ($self, $http, %o) = @_;
    my $d = $self->{dir};
    my $workers = $o{workers} // 1;
    my $user = $> == 0 ? "user root;\n" : '';
    my $main = $o{main} // '';

    $http =~ s/%%PORT%%/$self->{port}/g;
    $http =~ s/%%DIR%%/$d/g;

    write_file("$d/nginx.conf", <<"EOF");
load_module $self->{module};
${user}daemon off;
master_process on;
worker_processes $workers;
pid $d/nginx.pid;
error_log $d/logs/error.log info;
$main
events { worker_connections 1024; }

http {
    access_log $d/logs/access.log;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
$http
}
EOF
    return $self;
}

sub env_prefix {
    my ($self) = @_;
    return '' unless $ENV{ESIGN_ASAN};
    my $lib = `gcc -print-file-name=libasan.so`;
    chomp $lib;
    return "LD_PRELOAD=$lib ASAN_OPTIONS=detect_odr_violation=0:"
         . "detect_leaks=0:abort_on_error=0 ";
}

# nginx -t on the written configuration: (exit status, output).
sub test_conf {
    my ($self) = @_;
    my $d = $self->{dir};
    my $cmd = $self->env_prefix
        . "$self->{nginx} -t -p $d/ -c $d/nginx.conf -e $d/logs/error.log";
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

sub start {
    my ($self) = @_;
    my $d = $self->{dir};

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        if ($ENV{ESIGN_ASAN}) {
            my $lib = `gcc -print-file-name=libasan.so`;
            chomp $lib;
            $ENV{LD_PRELOAD} = $lib;
            $ENV{ASAN_OPTIONS} =
                'detect_odr_violation=0:detect_leaks=0:log_path=stderr';
        }
        open STDERR, '>>', "$d/logs/stderr.log";
        open STDOUT, '>>', "$d/logs/stderr.log";
        exec($self->{nginx}, '-p', "$d/", '-c', "$d/nginx.conf",
             '-e', "$d/logs/error.log")
            or die "exec: $!";
    }
    $self->{pid} = $pid;

    my $deadline = time + 20;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            $self->{pid} = undef;
            die "nginx exited at start:\n"
                . read_file("$d/logs/error.log")
                . read_file("$d/logs/stderr.log");
        }
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $self->{port});
        if ($s) {
            close $s;
            $self->wait_workers;
            return $self;
        }
        sleep 0.05;
    }
    die "nginx did not start listening\n" . read_file("$d/logs/error.log");
}

# Waits until every worker answered the health check once started.
sub wait_workers {
    my ($self) = @_;
    my $deadline = time + 10;
    while (time < $deadline) {
        my $r = $self->client->get('/api/v1/health');
        return if $r->{status} == 200 || $r->{status} == 404;
        sleep 0.05;
    }
}

sub master_pid { $_[0]{pid} }

sub worker_pids {
    my ($self) = @_;
    my $m = $self->{pid} or return ();
    my @p = map { /(\d+)/ ? $1 : () } `pgrep -P $m`;
    return @p;
}

sub reload {
    my ($self) = @_;
    my @old = $self->worker_pids;
    kill 'HUP', $self->{pid};
    my $deadline = time + 15;
    while (time < $deadline) {
        my %now = map { $_ => 1 } $self->worker_pids;
        last if %now && !grep { $now{$_} } @old;
        sleep 0.05;
    }
    return $self;
}

sub stop {
    my ($self) = @_;
    my $pid = $self->{pid} or return;
    kill 'QUIT', $pid;
    my $deadline = time + 10;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            $self->{pid} = undef;
            return;
        }
        sleep 0.05;
    }
    kill 'TERM', $pid;
    waitpid($pid, 0);
    $self->{pid} = undef;
}

sub kill9 {
    my ($self) = @_;
    my $pid = $self->{pid} or return;
    my @w = $self->worker_pids;
    kill 'KILL', $pid, @w;
    waitpid($pid, 0);
    $self->{pid} = undef;
}

# Starts a private redis-server; returns its port.
sub start_redis {
    my ($self) = @_;
    my $port = free_port();
    my $d = "$self->{dir}/redis-$port";
    make_path($d);
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$d/out.log";
        open STDERR, '>&', \*STDOUT;
        exec('redis-server', '--port', $port, '--bind', '127.0.0.1',
             '--save', '', '--appendonly', 'no', '--dir', $d)
            or die "exec redis-server: $!";
    }
    my $deadline = time + 10;
    while (time < $deadline) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port);
        if ($s) { close $s; last; }
        sleep 0.05;
    }
    push @{ $self->{redis} }, { pid => $pid, port => $port };
    return $port;
}

sub stop_redis {
    my ($self, $port) = @_;
    for my $r (@{ $self->{redis} }) {
        next unless $r->{port} == $port && $r->{pid};
        kill 'KILL', $r->{pid};
        waitpid($r->{pid}, 0);
        $r->{pid} = undef;
    }
}

sub log_text {
    my ($self) = @_;
    return read_file("$self->{dir}/logs/error.log")
         . read_file("$self->{dir}/logs/stderr.log");
}

sub log_problems {
    my ($self) = @_;
    my @bad = grep {
        /\[(alert|emerg|crit)\]/ || /Sanitizer/ || /exited on signal/
            || /runtime error:/
    } split /\n/, $self->log_text;
    return @bad;
}

sub client {
    my ($self) = @_;
    return EsignNginx::Client->new($self);
}

sub esignctl {
    my ($self, @args) = @_;
    my $ctl = $ENV{ESIGN_CTL} || "$ROOT/build/esignctl";
    my $cmd = join ' ', map { "'$_'" } $ctl, @args;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

sub DESTROY {
    my ($self) = @_;
    return unless $self->{owner} == $$;
    $self->stop;
    for my $r (@{ $self->{redis} }) {
        next unless $r->{pid};
        kill 'KILL', $r->{pid};
        waitpid($r->{pid}, 0);
    }
    return if $self->{no_log_check};
    my @bad = $self->log_problems;
    ok(!@bad, 'error.log has no alert, crit, emerg, crash or sanitizer '
              . 'report')
        or diag(join "\n", @bad[0 .. ($#bad > 20 ? 20 : $#bad)]);
}

package EsignNginx::Client;

# One "browser": keeps the session cookie and the CSRF token.

use strict;
use warnings;
use HTTP::Tiny;
use Scalar::Util qw(weaken);

sub new {
    my ($class, $t) = @_;
    my $self = bless {
        t       => $t,
        cookies => {},
        csrf    => undef,
        http    => HTTP::Tiny->new(verify_SSL => 0, max_redirect => 0,
                                   timeout => 30, keep_alive => 1,
                                   SSL_options => { SSL_verify_mode => 0 }),
    }, $class;
    weaken($self->{t});
    return $self;
}

sub csrf { my $s = shift; $s->{csrf} = shift if @_; $s->{csrf} }
sub cookies { $_[0]{cookies} }

# request(METHOD, path, json => {...} | body => bytes, headers => {...},
#         type => content type, no_csrf => 1)
sub request {
    my ($self, $method, $path, %o) = @_;
    my %h = %{ $o{headers} || {} };
    my $body;

    if (exists $o{json}) {
        $body = ref $o{json} ? $EsignNginx::JSON->encode($o{json})
                             : $o{json};
        $h{'content-type'} //= 'application/json';
    } elsif (exists $o{body}) {
        $body = $o{body};
        $h{'content-type'} //= $o{type} if $o{type};
    }

    if (%{ $self->{cookies} }) {
        $h{cookie} = join '; ',
            map { "$_=$self->{cookies}{$_}" } sort keys %{ $self->{cookies} };
    }
    if ($self->{csrf} && !$o{no_csrf} && $method ne 'GET') {
        $h{'x-csrf-token'} //= $self->{csrf};
    }

    my $url = "https://127.0.0.1:$self->{t}{port}$path";
    my $res = $self->{http}->request($method, $url, {
        headers => \%h,
        defined $body ? (content => $body) : (),
    });

    my $sc = $res->{headers}{'set-cookie'};
    for my $c (ref $sc ? @$sc : defined $sc ? ($sc) : ()) {
        my ($name, $value) = $c =~ /^([^=;\s]+)=([^;]*)/ or next;
        if ($value eq '' || $c =~ /Max-Age=0/i) {
            delete $self->{cookies}{$name};
        } else {
            $self->{cookies}{$name} = $value;
        }
    }

    if (($res->{headers}{'content-type'} // '') =~ m{application/json}
        && length($res->{content} // ''))
    {
        $res->{json} = eval { $EsignNginx::JSON->decode($res->{content}) };
    }

    return $res;
}

sub get    { my $s = shift; $s->request('GET', @_) }
sub post   { my $s = shift; $s->request('POST', @_) }
sub patch  { my $s = shift; $s->request('PATCH', @_) }
sub delete { my $s = shift; $s->request('DELETE', @_) }

1;
