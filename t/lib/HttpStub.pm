package HttpStub;

# A tiny HTTP server for tests (an SMS gateway stand-in): a forked child on
# a free loopback port that answers every request with a configurable
# status and records each request (method, path, body) as a file in dir.
#
#   my $gw = HttpStub->new(dir => "$dir/sms", status => 200);
#   ... $gw->port ...; my @reqs = $gw->requests;  # { method, path, body }

use strict;
use warnings;

use File::Path qw(make_path);
use IO::Socket::INET;

sub new {
    my ($class, %o) = @_;
    my $dir = $o{dir} or die "HttpStub: dir required";
    make_path($dir);

    my $l = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp',
                                  ReuseAddr => 1)
        or die "HttpStub: listen: $!";
    my $self = bless { dir => $dir, port => $l->sockport,
                       status => $o{status} // 200, owner => $$ }, $class;

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $n = 0;
        while (my $c = $l->accept) {
            $n++;
            $self->serve($c, $n);
        }
        exit 0;
    }
    close $l;
    $self->{pid} = $pid;
    return $self;
}

sub port { $_[0]{port} }

sub serve {
    my ($self, $c, $n) = @_;
    my $req = <$c> // return;
    my ($method, $path) = $req =~ /^(\S+) (\S+)/;
    my $len = 0;
    while (defined(my $h = <$c>)) {
        last if $h =~ /^\r?\n\z/;
        $len = $1 if $h =~ /^content-length:\s*(\d+)/i;
    }
    my $body = '';
    read($c, $body, $len) if $len;
    open my $fh, '>', "$self->{dir}/req-$n.tmp" or die;
    print $fh "$method $path\n$body";
    close $fh;
    rename "$self->{dir}/req-$n.tmp", sprintf("%s/req-%06d", $self->{dir}, $n);
    my $st = $self->{status};
    print $c "HTTP/1.1 $st Stub\r\nContent-Length: 2\r\n"
           . "Connection: close\r\n\r\n{}";
    close $c;
}

sub requests {
    my ($self) = @_;
    opendir my $d, $self->{dir} or return ();
    my @f = sort grep { /^req-\d+\z/ } readdir $d;
    closedir $d;
    return map {
        open my $fh, '<', "$self->{dir}/$_" or next;
        local $/; my $s = <$fh>; close $fh;
        my ($line, $body) = split /\n/, $s, 2;
        my ($m, $p) = split / /, $line;
        { method => $m, path => $p, body => $body }
    } @f;
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid} && $self->{owner} == $$;
    kill 'KILL', $self->{pid};
    waitpid($self->{pid}, 0);
    $self->{pid} = undef;
}

sub DESTROY { $_[0]->stop }

1;
