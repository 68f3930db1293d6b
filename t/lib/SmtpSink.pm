package SmtpSink;

# A tiny SMTP server for tests: a forked child on a free loopback port that
# speaks just enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT)
# and writes each accepted message to <dir>/msg-N.eml with the envelope in
# "X-Envelope-From" / "X-Envelope-To" lines on top.  reply => { RCPT =>
# 550 } makes a step fail with that code (for retry tests).
#
#   my $sink = SmtpSink->new(dir => "$dir/mail");
#   ... $sink->port ...; my @msgs = $sink->messages; $sink->stop;

use strict;
use warnings;

use File::Path qw(make_path);
use IO::Socket::INET;
use POSIX qw(WNOHANG);

sub new {
    my ($class, %o) = @_;
    my $dir = $o{dir} or die "SmtpSink: dir required";
    make_path($dir);

    my $l = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp',
                                  ReuseAddr => 1)
        or die "SmtpSink: listen: $!";
    my $self = bless { dir => $dir, port => $l->sockport,
                       reply => $o{reply} || {}, owner => $$ }, $class;

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $SIG{CHLD} = 'IGNORE';
        my $n = 0;
        while (my $c = $l->accept) {
            $n++;
            my $kid = fork;
            if (defined $kid && $kid == 0) {
                $self->session($c, $n);
                exit 0;
            }
            close $c;
        }
        exit 0;
    }
    close $l;
    $self->{pid} = $pid;
    return $self;
}

sub port { $_[0]{port} }

sub session {
    my ($self, $c, $n) = @_;
    $c->autoflush(1);
    my (%r) = %{ $self->{reply} };
    my ($from, @to);
    my $say = sub { print $c "$_[0]\r\n" };
    $say->('220 sink ESMTP');
    my $m = 0;
    while (defined(my $line = <$c>)) {
        $line =~ s/\r?\n\z//;
        my ($verb) = uc($line) =~ /^(\w+)/;
        $verb //= '';
        if ($r{$verb}) { $say->("$r{$verb} refused by test"); next; }
        if ($verb eq 'EHLO' || $verb eq 'HELO') {
            $say->('250-sink'); $say->('250 8BITMIME');
        } elsif ($verb eq 'MAIL') {
            ($from) = $line =~ /<([^>]*)>/; @to = (); $say->('250 ok');
        } elsif ($verb eq 'RCPT') {
            my ($t) = $line =~ /<([^>]*)>/; push @to, $t; $say->('250 ok');
        } elsif ($verb eq 'DATA') {
            $say->('354 end with .');
            my $data = '';
            while (defined(my $d = <$c>)) {
                last if $d =~ /^\.\r?\n\z/;
                $d =~ s/^\.\././;
                $data .= $d;
            }
            $m++;
            my $f = "$self->{dir}/msg-$$-$n-$m.eml";
            open my $fh, '>', "$f.tmp" or die;
            print $fh "X-Envelope-From: $from\r\n";
            print $fh "X-Envelope-To: $_\r\n" for @to;
            print $fh $data;
            close $fh;
            rename "$f.tmp", $f;
            $say->('250 queued');
        } elsif ($verb eq 'RSET' || $verb eq 'NOOP') {
            $say->('250 ok');
        } elsif ($verb eq 'QUIT') {
            $say->('221 bye'); last;
        } else {
            $say->('502 unknown');
        }
    }
    close $c;
}

# Every message received so far, as strings, oldest first.
sub messages {
    my ($self) = @_;
    opendir my $d, $self->{dir} or return ();
    my @f = sort { (stat "$self->{dir}/$a")[9] <=> (stat "$self->{dir}/$b")[9]
                   || $a cmp $b } grep { /\.eml\z/ } readdir $d;
    closedir $d;
    return map {
        open my $fh, '<', "$self->{dir}/$_" or next;
        local $/; my $s = <$fh>; close $fh; $s
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
