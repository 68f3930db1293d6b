package EsignSigning;

# Helpers of the signing tests (t/21N..24N): a platform with an operator
# and N approved institutions whose administrators are logged in, a PDF
# upload, a contract, step-up tokens, and the paths of the ledger CLI.
#
#   my $p = EsignSigning::platform($t, 3);     # {op, insts => [...]}
#   my $a = $p->{insts}[0];                    # {id,uscc,admin,c (client)}
#   my $doc = upload($a->{c});                 # {id, sm3, size, bytes}
#   my $r = initiate($a, $doc, [$b, $c]);      # response
#   my $r = act($b, 'confirm', $cid);          # with a fresh token

use strict;
use warnings;

use Carp qw(croak);
use Exporter qw(import);
use EsignFixtures qw(:all);

our @EXPORT_OK = qw(platform signing_conf upload initiate act token
    ledger_cli pdf_bytes);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

my $n = 0;

# Test-friendly directives: cheap scrypt, generous step-up rate.
sub signing_conf {
    my ($t, %o) = @_;
    my $extra = "    esign_scrypt 12 8 1;\n"
              . "    esign_verify_rate 6000r/m burst=1000;\n"
              . "    esign_login_rate 6000r/m burst=1000;\n"
              . ($o{extra} // '');
    return $t->standard_http(extra => $extra);
}

sub platform {
    my ($t, $count, %o) = @_;
    my $op = create_operator($t);
    my $opc = login($t, $op->{username}, $op->{password});
    my @insts;
    for my $i (1 .. $count) {
        my $seed = ($o{seed} // (($$ % 5000) * 10)) + $i;
        my $inst = register_institution($t, seed => $seed);
        approve($t, $opc, $inst->{id});
        $inst->{c} = login($t, $inst->{admin_username},
                           $inst->{admin_password});
        $inst->{password} = $inst->{admin_password};
        push @insts, $inst;
    }
    return { op => $op, opc => $opc, insts => \@insts };
}

sub pdf_bytes {
    my ($tag) = @_;
    $n++;
    return "%PDF-1.7\n% contract $tag $n $$ " . time . "\n"
         . ("1 0 obj << /Type /Catalog >> endobj\n" x 20)
         . "trailer << /Root 1 0 R >>\n%%EOF\n";
}

sub upload {
    my ($c, %o) = @_;
    my $bytes = $o{bytes} // pdf_bytes($o{tag} // 'doc');
    my $r = $c->post('/api/v1/documents', body => $bytes,
                     type => 'application/pdf');
    croak "upload failed: $r->{status} $r->{content}"
        unless $r->{status} == 201;
    return { %{ $r->{json} }, bytes => $bytes };
}

# A fresh verification token for the institution's logged-in client.
sub token {
    my ($inst) = @_;
    return verify_token($inst->{c}, $inst->{password});
}

sub initiate {
    my ($inst, $doc, $parts, %o) = @_;
    my $body = {
        title              => $o{title} // 'Syndicated loan agreement',
        number             => $o{number} // 'SL-2024-' . ++$n,
        version            => $o{version} // '1.0',
        document_id        => $doc->{id},
        participants       => [ map { { uscc => $_->{uscc} } } @$parts ],
        verification_token => $o{token} // token($inst),
        (exists $o{expires_at} ? (expires_at => $o{expires_at}) : ()),
    };
    delete $body->{verification_token} if $o{no_token};
    return ($o{client} // $inst->{c})->post('/api/v1/contracts',
                                             json => $body);
}

sub act {
    my ($inst, $what, $cid, %o) = @_;
    my $body = { verification_token => $o{token} // token($inst) };
    $body->{reason} = $o{reason} // 'terms not acceptable'
        if $what ne 'confirm';
    delete $body->{verification_token} if $o{no_token};
    return ($o{client} // $inst->{c})->post(
        "/api/v1/contracts/$cid/$what", json => $body);
}

# esign-ledger of the build flavour in use.
sub ledger_cli {
    my $root = EsignNginx::root();
    my $lib = $ENV{ESIGN_LIBDIR} // 'build';
    for my $p ("$root/ledger/$lib/esign-ledger",
               "$root/ledger/build/esign-ledger")
    {
        return $p if -x $p;
    }
    return undef;
}

1;
