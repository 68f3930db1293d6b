package EsignFixtures;

# Seed data for integration tests: valid USCCs and resident ID numbers
# from a seed number, registration, an operator made with esignctl,
# approval, login, ordinary accounts and step-up verification tokens.
#
#   use EsignFixtures qw(:all);
#   my $op   = create_operator($t);                 # {username,password,id}
#   my $opc  = login($t, $op->{username}, $op->{password});
#   my $inst = register_institution($t, seed => 7); # {id,uscc,admin_*...}
#   approve($t, $opc, $inst->{id});
#   my $adm  = login($t, $inst->{admin_username}, $inst->{admin_password});
#   my $acc  = create_account($t, $adm, tier => 'business_admin',
#                             department => 'Credit',
#                             permissions => ['view','confirm']);
#   my $tok  = verify_token($adm, $inst->{admin_password});

use strict;
use warnings;

use Carp qw(croak);
use Exporter qw(import);
use MIME::Base64 qw(encode_base64);

our @EXPORT_OK = qw(uscc_from_seed resident_id_from_seed register_institution
    create_operator approve login create_account verify_token
    institution_payload strong_password);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

my $USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
my $counter = 0;

# GB 32100-2015: 17 characters and a check character (weights 3^i mod 31).
sub uscc_from_seed {
    my ($seed) = @_;
    my $body = '91' . '110000';
    my $n = $seed;
    for (1 .. 9) {
        $body .= substr($USCC_CHARS, $n % 31, 1);
        $n = int($n / 31) + 7 * $_;
    }
    my @w = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28);
    my $sum = 0;
    for my $i (0 .. 16) {
        $sum += index($USCC_CHARS, substr($body, $i, 1)) * $w[$i];
    }
    my $c = 31 - $sum % 31;
    $c = 0 if $c == 31;
    return $body . substr($USCC_CHARS, $c, 1);
}

# GB 11643-1999 resident ID: Beijing Dongcheng, a birth date, a sequence.
sub resident_id_from_seed {
    my ($seed) = @_;
    my $day = 1 + $seed % 28;
    my $month = 1 + int($seed / 28) % 12;
    my $body = sprintf('110101%04d%02d%02d%03d', 1960 + $seed % 40, $month,
                       $day, $seed % 1000);
    my @w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2);
    my $sum = 0;
    $sum += substr($body, $_, 1) * $w[$_] for 0 .. 16;
    return $body . substr('10X98765432', $sum % 11, 1);
}

sub strong_password {
    my ($seed) = @_;
    return sprintf('Qz%dvRt%04dkW', $seed % 97, $seed % 10000);
}

# The POST /institutions body for a seed; %o overrides top-level or admin
# fields (admin => {...} merges).
sub institution_payload {
    my (%o) = @_;
    my $seed = $o{seed} // ($$ * 100 + ++$counter);
    my $admin = {
        username  => "adm$seed",
        password  => strong_password($seed),
        real_name => "Tester$seed Wang",
        id_type   => 'resident',
        id_number => resident_id_from_seed($seed),
        mobile    => sprintf('139%08d', $seed % 100000000),
        email     => "adm$seed\@bank$seed.example.com",
        %{ $o{admin} || {} },
    };
    return {
        name    => "Test Bank $seed",
        uscc    => uscc_from_seed($seed),
        licence => {
            filename    => 'licence.pdf',
            media_type  => 'application/pdf',
            content_b64 => encode_base64("%PDF-1.4\n% licence $seed\n%%EOF\n",
                                         ''),
        },
        admin => $admin,
        (map { $_ => $o{$_} } grep { $_ ne 'admin' && $_ ne 'seed' } keys %o),
    };
}

# Registers (201 expected); returns {id, uscc, admin_username,
# admin_password, seed, payload}.
sub register_institution {
    my ($t, %o) = @_;
    my $seed = $o{seed} // ($$ * 100 + ++$counter) % 1000000;
    my $body = institution_payload(%o, seed => $seed);
    my $r = $t->client->post('/api/v1/institutions', json => $body);
    croak "registration failed: $r->{status} $r->{content}"
        unless $r->{status} == 201;
    return {
        id             => $r->{json}{id},
        uscc           => $body->{uscc},
        name           => $body->{name},
        admin_username => $body->{admin}{username},
        admin_password => $body->{admin}{password},
        admin          => $body->{admin},
        seed           => $seed,
    };
}

# An operator through esignctl on the live data directory.
sub create_operator {
    my ($t, %o) = @_;
    my $n = ++$counter;
    my $user = $o{username} // "op$$" . "x$n";
    my $pw = $o{password} // "Op3rator${n}Pass$$";
    my ($rc, $out) = $t->esignctl('-d', $t->data, 'operator', 'add', $user,
                                  '--password', $pw);
    croak "esignctl operator add failed: $out" if $rc != 0;
    chomp $out;
    return { username => $user, password => $pw, id => $out };
}

sub approve {
    my ($t, $opc, $inst_id) = @_;
    my $r = $opc->post("/api/v1/admin/institutions/$inst_id/approve");
    croak "approve failed: $r->{status} $r->{content}"
        unless $r->{status} == 200;
    return $r->{json};
}

# A new client logged in, with its CSRF token set; croaks on failure.
sub login {
    my ($t, $username, $password) = @_;
    my $c = $t->client;
    my $r = $c->post('/api/v1/session',
                     json => { username => $username,
                               password => $password });
    croak "login of $username failed: $r->{status} $r->{content}"
        unless $r->{status} == 200;
    $c->csrf($r->{json}{csrf_token});
    $c->{account} = $r->{json}{account};
    return $c;
}

# Creates an ordinary account; returns {id, username, password, ...}.
sub create_account {
    my ($t, $admin, %o) = @_;
    my $n = ++$counter;
    my $seed = $o{seed} // ($$ * 100 + $n) % 1000000;
    my $body = {
        username    => "acc$seed",
        password    => strong_password($seed + 1),
        real_name   => "Clerk$seed Li",
        mobile      => sprintf('137%08d', $seed % 100000000),
        email       => "acc$seed\@corp$seed.example.com",
        department  => 'Credit',
        tier        => 'top_admin',
        permissions => [qw(initiate view confirm download evidence)],
        %o,
    };
    delete $body->{seed};
    my $r = $admin->post('/api/v1/accounts', json => $body);
    croak "create_account failed: $r->{status} $r->{content}"
        unless $r->{status} == 201;
    return { %$body, id => $r->{json}{id} };
}

# A fresh step-up verification token of the client's session.
sub verify_token {
    my ($c, $password) = @_;
    my $r = $c->post('/api/v1/session/verify',
                     json => { method => 'password',
                               password => $password });
    croak "verify failed: $r->{status} $r->{content}"
        unless $r->{status} == 200;
    return $r->{json}{verification_token};
}

1;
