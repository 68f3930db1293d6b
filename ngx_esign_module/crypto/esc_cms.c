/*
 * Detached CMS SignedData in the national (SM2/SM3) and international
 * (ECDSA P-256/SHA-256) suites, its verifier and a strict DER walker for
 * the signed attributes (see esc_cms.h).
 */

#define _GNU_SOURCE           /* memmem */

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>     /* before cms.h: PEM_*_CMS prototypes */
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/core_names.h>
#include <pthread.h>
#include "ledger.h"             /* esl_sm2_*: the SM2 arithmetic */

#include "esc_ca.h"
#include "esc_cms.h"
#include "esc_codec.h"


#define ESC_CMS_FLAGS  (CMS_PARTIAL | CMS_DETACHED | CMS_BINARY             \
                        | CMS_NOSMIMECAP)


typedef struct {
    uint8_t         tag;
    const uint8_t  *tlv;        /* start of the whole TLV */
    size_t          tlvlen;
    const uint8_t  *val;
    size_t          len;
} esc_der_t;


#define ESC_CMS_PEM_BEGIN  "-----BEGIN CMS-----\n"
#define ESC_CMS_PEM_END    "-----END CMS-----\n"


static int esc_der_next(const uint8_t **p, const uint8_t *end,
    esc_der_t *d);
static int esc_cms_finish(CMS_ContentInfo *cms, uint8_t **der,
    size_t *derlen);
static int esc_cms_add_attrs(CMS_SignerInfo *si, const uint8_t *digest,
    size_t dlen, time_t when);


static const char *
esc_cms_md_name(int suite)
{
    return suite == ESC_SUITE_NATIONAL ? "SM3" : "SHA256";
}


int
esc_cms_digest(esc_suite_t suite, const uint8_t *doc, size_t len,
    uint8_t out[ESC_CMS_DIGEST_LEN])
{
    int        rc;
    EVP_MD    *md;
    unsigned   n;

    if ((doc == NULL && len != 0) || out == NULL
        || (suite != ESC_SUITE_NATIONAL && suite != ESC_SUITE_INTL))
    {
        return ESC_CRYPTO_EINVAL;
    }

    md = EVP_MD_fetch(NULL, esc_cms_md_name(suite), NULL);
    if (md == NULL) {
        return ESC_CRYPTO_ECRYPTO;
    }

    rc = (EVP_Digest(doc, len, out, &n, md, NULL) == 1
          && n == ESC_CMS_DIGEST_LEN) ? ESC_CRYPTO_OK : ESC_CRYPTO_ECRYPTO;
    EVP_MD_free(md);

    return rc;
}


static int
esc_cms_finish(CMS_ContentInfo *cms, uint8_t **der, size_t *derlen)
{
    int       n;
    uint8_t  *buf, *p;

    n = i2d_CMS_ContentInfo(cms, NULL);
    if (n <= 0) {
        return ESC_CRYPTO_ECRYPTO;
    }

    buf = malloc((size_t) n);
    if (buf == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    p = buf;
    if (i2d_CMS_ContentInfo(cms, &p) != n) {
        free(buf);
        return ESC_CRYPTO_ECRYPTO;
    }

    *der = buf;
    *derlen = (size_t) n;

    return ESC_CRYPTO_OK;
}


/*
 * SM2 signing and verification go through the ledger's esl_sm2ec.c
 * instead of EVP: OpenSSL 3.0's generic EC code costs ~330 us per
 * signature, five times as much.  The private scalar is prepared once per
 * EVP_PKEY (esl_sm2_key_from_pkey, kept as ex_data and freed with the
 * key); the signing module keeps its keys in a per-worker cache, so that
 * is once per institution key.
 */
static int              esc_sm2_idx = -1;
static pthread_once_t   esc_sm2_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t  esc_sm2_mutex = PTHREAD_MUTEX_INITIALIZER;


static void
esc_sm2_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
    (void) parent;
    (void) ad;
    (void) idx;
    (void) argl;
    (void) argp;

    esl_sm2_key_free(ptr);
}


static void
esc_sm2_ex_init(void)
{
    esc_sm2_idx = EVP_PKEY_get_ex_new_index(0, NULL, NULL, NULL,
                                            esc_sm2_ex_free);
}


/* The uncompressed point 04 || x || y of an SM2 key. */
static int
esc_sm2_pub(EVP_PKEY *pk, uint8_t pub[65])
{
    size_t  len;

    len = 0;

    return EVP_PKEY_get_octet_string_param(pk,
                                           OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                           pub, 65, &len)
           && len == 65 && pub[0] == 0x04
           ? ESC_CRYPTO_OK : ESC_CRYPTO_EINVAL;
}


static esl_sm2_key *
esc_sm2_key(EVP_PKEY *pk)
{
    esl_sm2_key  *k;

    if (pthread_once(&esc_sm2_once, esc_sm2_ex_init) != 0
        || esc_sm2_idx < 0)
    {
        return NULL;
    }

    pthread_mutex_lock(&esc_sm2_mutex);

    k = EVP_PKEY_get_ex_data(pk, esc_sm2_idx);

    if (k == NULL && esl_sm2_key_from_pkey(pk, &k) == ESL_OK) {
        if (!EVP_PKEY_set_ex_data(pk, esc_sm2_idx, k)) {
            esl_sm2_key_free(k);
            k = NULL;
        }
    }

    pthread_mutex_unlock(&esc_sm2_mutex);

    return k;
}


/*
 * Sign the SignerInfo's signed attributes (their DER as a SET OF, as RFC
 * 5652 5.4 says) with SM2: the CMS is encoded once with a placeholder
 * signature to read the attributes back exactly as they will be sent.
 */
static int
esc_cms_sign_sm2(CMS_ContentInfo *cms, CMS_SignerInfo *si, EVP_PKEY *key)
{
    int                 rc;
    size_t              len, alen, slen;
    uint8_t            *der, *attrs, *sig, pub[65], e[32], rs[64];
    esl_buf             sder;
    esl_sm2_key        *k;
    ASN1_OCTET_STRING  *os;

    k = esc_sm2_key(key);
    os = CMS_SignerInfo_get0_signature(si);
    if (k == NULL || os == NULL
        || !ASN1_OCTET_STRING_set(os, (const uint8_t *) "", 1))
    {
        return ESC_CRYPTO_ECRYPTO;
    }

    der = NULL;
    attrs = NULL;
    sig = NULL;
    sder.data = NULL;
    sder.len = 0;

    rc = esc_cms_finish(cms, &der, &len);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    rc = esc_cms_signed_attrs(der, len, &attrs, &alen, &sig, &slen);
    if (rc != ESC_CRYPTO_OK) {
        goto done;
    }

    rc = ESC_CRYPTO_ECRYPTO;
    esl_sm2_key_pub(k, pub);

    if (esl_sm2_digest(pub, ESC_SM2_ID, ESC_SM2_ID_LEN, attrs, alen, e)
        != ESL_OK
        || esl_sm2_sign_e(k, e, rs) != ESL_OK
        || esl_sm2_sig_to_der(rs, &sder) != ESL_OK
        || !ASN1_OCTET_STRING_set(os, sder.data, (int) sder.len))
    {
        goto done;
    }

    rc = ESC_CRYPTO_OK;

done:

    esl_buf_free(&sder);
    free(der);
    free(attrs);
    free(sig);

    return rc;
}


/* SM2 verification of the signed attributes against the key's point. */
static int
esc_cms_verify_sm2(EVP_PKEY *pub, const uint8_t *attrs, size_t alen,
    const uint8_t *sig, size_t slen)
{
    uint8_t  point[65], e[32], rs[64];

    if (esc_sm2_pub(pub, point) != ESC_CRYPTO_OK) {
        return ESC_CRYPTO_ECRYPTO;
    }

    if (esl_sm2_sig_from_der(sig, slen, rs) != ESL_OK) {
        return ESC_CRYPTO_EAUTH;        /* not DER r, s */
    }

    if (esl_sm2_digest(point, ESC_SM2_ID, ESC_SM2_ID_LEN, attrs, alen, e)
        != ESL_OK)
    {
        return ESC_CRYPTO_ECRYPTO;
    }

    return esl_sm2_verify_e(point, e, rs) == ESL_OK
           ? ESC_CRYPTO_OK : ESC_CRYPTO_EAUTH;
}


/* content-type, message-digest (if digest != NULL) and signing-time. */
static int
esc_cms_add_attrs(CMS_SignerInfo *si, const uint8_t *digest, size_t dlen,
    time_t when)
{
    int         ok;
    ASN1_TIME  *t;

    if (digest != NULL
        && (!CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType,
                                         V_ASN1_OBJECT,
                                         OBJ_nid2obj(NID_pkcs7_data), -1)
            || !CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest,
                                            V_ASN1_OCTET_STRING, digest,
                                            (int) dlen)))
    {
        return ESC_CRYPTO_ECRYPTO;
    }

    /* UTCTime until 2049, GeneralizedTime after, as RFC 5652 asks. */
    t = ASN1_TIME_set(NULL, when != 0 ? when : time(NULL));
    if (t == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    ok = CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, t->type, t,
                                     -1);
    ASN1_TIME_free(t);

    return ok ? ESC_CRYPTO_OK : ESC_CRYPTO_ECRYPTO;
}


int
esc_cms_sign_digest(X509 *cert, EVP_PKEY *key, const uint8_t *digest,
    size_t dlen, time_t signing_time, uint8_t **der, size_t *derlen)
{
    int               rc, suite;
    EVP_MD           *md;
    X509_ALGOR       *sigalg;
    CMS_SignerInfo   *si;
    CMS_ContentInfo  *cms;

    if (cert == NULL || key == NULL || digest == NULL || der == NULL
        || derlen == NULL || dlen != ESC_CMS_DIGEST_LEN)
    {
        return ESC_CRYPTO_EINVAL;
    }

    suite = esc_key_suite(key);
    if (suite < 0 || X509_check_private_key(cert, key) != 1) {
        return ESC_CRYPTO_EINVAL;
    }

    md = EVP_MD_fetch(NULL, esc_cms_md_name(suite), NULL);
    if (md == NULL) {
        return ESC_CRYPTO_ECRYPTO;
    }

    rc = ESC_CRYPTO_ECRYPTO;

    cms = CMS_sign(NULL, NULL, NULL, NULL, ESC_CMS_FLAGS);
    if (cms == NULL) {
        goto done;
    }

    /* the national suite is signed by esc_cms_sign_sm2(): no EVP
     * context for it */
    si = CMS_add1_signer(cms, cert, key, md,
                         ESC_CMS_FLAGS
                         | (suite == ESC_SUITE_NATIONAL ? 0 : CMS_KEY_PARAM));
    if (si == NULL) {
        goto done;
    }

    /*
     * OpenSSL 3.0 leaves the signature algorithm empty for SM2, and for
     * any key when the SignerInfo is signed by hand (CMS_KEY_PARAM); set
     * it explicitly, parameters absent (GM/T 0010, RFC 5758).
     */
    CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &sigalg);
    if (sigalg == NULL
        || !X509_ALGOR_set0(sigalg,
                            OBJ_nid2obj(suite == ESC_SUITE_NATIONAL
                                        ? NID_SM2_with_SM3
                                        : NID_ecdsa_with_SHA256),
                            V_ASN1_UNDEF, NULL))
    {
        goto done;
    }

    rc = esc_cms_add_attrs(si, digest, dlen, signing_time);
    if (rc != ESC_CRYPTO_OK) {
        goto done;
    }

    if (suite == ESC_SUITE_NATIONAL) {
        rc = esc_cms_sign_sm2(cms, si, key);
        if (rc != ESC_CRYPTO_OK) {
            goto done;
        }

    } else if (CMS_SignerInfo_sign(si) != 1) {
        rc = ESC_CRYPTO_ECRYPTO;
        goto done;
    }

    rc = esc_cms_finish(cms, der, derlen);

done:

    CMS_ContentInfo_free(cms);
    EVP_MD_free(md);

    return rc;
}


int
esc_cms_sign(X509 *cert, EVP_PKEY *key, const uint8_t *doc, size_t len,
    time_t signing_time, uint8_t **der, size_t *derlen)
{
    int                         rc, suite;
    BIO                        *bio;
    uint8_t                     digest[ESC_CMS_DIGEST_LEN];
    CMS_SignerInfo             *si;
    CMS_ContentInfo            *cms;
    STACK_OF(CMS_SignerInfo)   *sis;

    if (cert == NULL || key == NULL || (doc == NULL && len != 0)
        || der == NULL || derlen == NULL || len > INT_MAX)
    {
        return ESC_CRYPTO_EINVAL;
    }

    suite = esc_key_suite(key);
    if (suite < 0) {
        return ESC_CRYPTO_EINVAL;
    }

    if (suite == ESC_SUITE_NATIONAL) {
        rc = esc_cms_digest(ESC_SUITE_NATIONAL, doc, len, digest);
        if (rc != ESC_CRYPTO_OK) {
            return rc;
        }

        return esc_cms_sign_digest(cert, key, digest, sizeof(digest),
                                   signing_time, der, derlen);
    }

    /* International: OpenSSL's own CMS signing, content streamed in. */
    if (X509_check_private_key(cert, key) != 1) {
        return ESC_CRYPTO_EINVAL;
    }

    rc = ESC_CRYPTO_ECRYPTO;

    bio = BIO_new_mem_buf(doc != NULL ? doc : (const uint8_t *) "",
                          (int) len);
    if (bio == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    cms = CMS_sign(cert, key, NULL, NULL, ESC_CMS_FLAGS);
    if (cms == NULL) {
        goto done;
    }

    sis = CMS_get0_SignerInfos(cms);
    if (sk_CMS_SignerInfo_num(sis) != 1) {
        goto done;
    }

    si = sk_CMS_SignerInfo_value(sis, 0);

    rc = esc_cms_add_attrs(si, NULL, 0, signing_time);
    if (rc != ESC_CRYPTO_OK) {
        goto done;
    }

    rc = ESC_CRYPTO_ECRYPTO;

    if (CMS_final(cms, bio, NULL, CMS_DETACHED | CMS_BINARY) != 1) {
        goto done;
    }

    rc = esc_cms_finish(cms, der, derlen);

done:

    CMS_ContentInfo_free(cms);
    BIO_free(bio);

    return rc;
}


int
esc_cms_der_to_pem(const uint8_t *der, size_t len, char **pem,
    size_t *pemlen)
{
    char            *out, *q;
    size_t           b64len, off, n;
    esc_der_t        d;
    const uint8_t   *p;

    /*
     * Plain PEM framing of the bytes (RFC 7468, 64 columns, the same text
     * PEM_write_bio_CMS writes): no ASN.1 parse of the SignedData and its
     * certificate, which cost more than the signature itself.  The DER
     * must be exactly one SEQUENCE.
     */

    if (der == NULL || pem == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    p = der;

    if (esc_der_next(&p, der + len, &d) != ESC_CRYPTO_OK || d.tag != 0x30
        || p != der + len)
    {
        return ESC_CRYPTO_EINVAL;
    }

    b64len = esc_b64_encoded_len(len, ESC_B64_STD);
    out = malloc(sizeof(ESC_CMS_PEM_BEGIN) + b64len + b64len / 64 + 1
                 + sizeof(ESC_CMS_PEM_END) + 1);
    if (out == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    q = out;
    memcpy(q, ESC_CMS_PEM_BEGIN, sizeof(ESC_CMS_PEM_BEGIN) - 1);
    q += sizeof(ESC_CMS_PEM_BEGIN) - 1;

    /* 48 bytes of DER are one 64-column line */

    for (off = 0; off < len; off += 48) {
        n = len - off < 48 ? len - off : 48;

        if (esc_b64_encode(q, 65, der + off, n, ESC_B64_STD)
            != ESC_CRYPTO_OK)
        {
            free(out);
            return ESC_CRYPTO_ECRYPTO;
        }

        q += esc_b64_encoded_len(n, ESC_B64_STD);
        *q++ = '\n';
    }

    memcpy(q, ESC_CMS_PEM_END, sizeof(ESC_CMS_PEM_END));
    q += sizeof(ESC_CMS_PEM_END) - 1;

    *pem = out;
    if (pemlen != NULL) {
        *pemlen = (size_t) (q - out);
    }

    return ESC_CRYPTO_OK;
}


int
esc_cms_pem_to_der(const char *pem, size_t len, uint8_t **der,
    size_t *derlen)
{
    int              rc;
    char            *b64;
    size_t           i, n, blen;
    uint8_t         *buf;
    esc_der_t        d;
    const char      *p, *end;
    const uint8_t   *q;

    /*
     * The inverse framing: the BEGIN CMS line, base64 lines, the END CMS
     * line (text around them is ignored, as PEM readers do).  The result
     * must be exactly one DER SEQUENCE; the verifier parses it fully.
     */

    if (pem == NULL || der == NULL || derlen == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    p = memmem(pem, len, "-----BEGIN CMS-----", 19);
    if (p == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    p += 19;
    end = memmem(p, len - (size_t) (p - pem), "-----END CMS-----", 17);
    if (end == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    b64 = malloc((size_t) (end - p) + 1);
    if (b64 == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    for (n = 0, i = 0; p + i < end; i++) {
        if (p[i] == '\n' || p[i] == '\r') {
            continue;
        }

        b64[n++] = p[i];
    }

    blen = esc_b64_decoded_max(n) + 1;
    buf = malloc(blen);

    rc = buf == NULL ? ESC_CRYPTO_ENOMEM : ESC_CRYPTO_EINVAL;

    if (buf != NULL
        && esc_b64_decode(buf, blen, derlen, b64, n, ESC_B64_STD)
           == ESC_CRYPTO_OK)
    {
        q = buf;

        if (esc_der_next(&q, buf + *derlen, &d) == ESC_CRYPTO_OK
            && d.tag == 0x30 && q == buf + *derlen)
        {
            *der = buf;
            buf = NULL;
            rc = ESC_CRYPTO_OK;
        }
    }

    free(buf);
    free(b64);

    return rc;
}


/* Reads one DER TLV with a single-byte tag and a definite length. */
static int
esc_der_next(const uint8_t **p, const uint8_t *end, esc_der_t *d)
{
    size_t          len, i, n;
    const uint8_t  *q;

    q = *p;

    if (end - q < 2) {
        return ESC_CRYPTO_EINVAL;
    }

    d->tlv = q;
    d->tag = *q++;

    if ((d->tag & 0x1f) == 0x1f) {
        return ESC_CRYPTO_EINVAL;           /* multi-byte tags unused */
    }

    len = *q++;

    if (len & 0x80) {
        n = len & 0x7f;
        if (n == 0 || n > 4 || (size_t) (end - q) < n) {
            return ESC_CRYPTO_EINVAL;       /* indefinite or too long */
        }

        len = 0;
        for (i = 0; i < n; i++) {
            len = len << 8 | *q++;
        }

        if (len < 0x80) {
            return ESC_CRYPTO_EINVAL;       /* not minimal: not DER */
        }
    }

    if ((size_t) (end - q) < len) {
        return ESC_CRYPTO_EINVAL;
    }

    d->val = q;
    d->len = len;
    d->tlvlen = (size_t) (q + len - d->tlv);
    *p = q + len;

    return ESC_CRYPTO_OK;
}


/*
 * Walks ContentInfo ::= SEQUENCE { id-signedData, [0] EXPLICIT SignedData }
 * and the first three fields of SignedData ::= SEQUENCE { version,
 * digestAlgorithms, encapContentInfo, [0] certificates OPT, [1] crls OPT,
 * signerInfos }: *oid is the contentType TLV, *sd the SignedData, *next
 * points just after encapContentInfo.
 */
static int
esc_cms_walk_signed(const uint8_t *der, size_t len, esc_der_t *oid,
    esc_der_t *sd, const uint8_t **next)
{
    esc_der_t       d;
    const uint8_t  *p, *end;

    static const uint8_t  oid_signed[] = {
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02
    };

    p = der;
    end = der + len;
    if (esc_der_next(&p, end, &d) != 0 || d.tag != 0x30 || p != end) {
        return ESC_CRYPTO_EINVAL;
    }

    p = d.val;
    end = d.val + d.len;
    if (esc_der_next(&p, end, oid) != 0 || oid->tag != 0x06
        || oid->len != sizeof(oid_signed)
        || memcmp(oid->val, oid_signed, sizeof(oid_signed)) != 0
        || esc_der_next(&p, end, &d) != 0 || d.tag != 0xa0 || p != end)
    {
        return ESC_CRYPTO_EINVAL;
    }

    p = d.val;
    end = d.val + d.len;
    if (esc_der_next(&p, end, sd) != 0 || sd->tag != 0x30 || p != end) {
        return ESC_CRYPTO_EINVAL;
    }

    p = sd->val;
    end = sd->val + sd->len;
    if (esc_der_next(&p, end, &d) != 0 || d.tag != 0x02
        || esc_der_next(&p, end, &d) != 0 || d.tag != 0x31
        || esc_der_next(&p, end, &d) != 0 || d.tag != 0x30)
    {
        return ESC_CRYPTO_EINVAL;
    }

    *next = p;

    return ESC_CRYPTO_OK;
}


int
esc_cms_signed_attrs(const uint8_t *der, size_t len, uint8_t **attrs,
    size_t *attrslen, uint8_t **sig, size_t *siglen)
{
    uint8_t        *a, *s;
    esc_der_t       d, oid, sd, sis, si, at, sg;
    const uint8_t  *p, *end;

    if (der == NULL || attrs == NULL || attrslen == NULL || sig == NULL
        || siglen == NULL)
    {
        return ESC_CRYPTO_EINVAL;
    }

    if (esc_cms_walk_signed(der, len, &oid, &sd, &p) != ESC_CRYPTO_OK) {
        return ESC_CRYPTO_EINVAL;
    }

    end = sd.val + sd.len;
    if (esc_der_next(&p, end, &d) != 0) {
        return ESC_CRYPTO_EINVAL;
    }

    if (d.tag == 0xa0 && esc_der_next(&p, end, &d) != 0) {
        return ESC_CRYPTO_EINVAL;
    }

    if (d.tag == 0xa1 && esc_der_next(&p, end, &d) != 0) {
        return ESC_CRYPTO_EINVAL;
    }

    if (d.tag != 0x31 || p != end) {
        return ESC_CRYPTO_EINVAL;
    }

    sis = d;

    /* exactly one SignerInfo */
    p = sis.val;
    end = sis.val + sis.len;
    if (esc_der_next(&p, end, &si) != 0 || si.tag != 0x30 || p != end) {
        return ESC_CRYPTO_EINVAL;
    }

    /* SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm,
     *     [0] signedAttrs, signatureAlgorithm, signature, ... } */
    p = si.val;
    end = si.val + si.len;
    if (esc_der_next(&p, end, &d) != 0 || d.tag != 0x02
        || esc_der_next(&p, end, &d) != 0
        || (d.tag != 0x30 && d.tag != 0x80)
        || esc_der_next(&p, end, &d) != 0 || d.tag != 0x30
        || esc_der_next(&p, end, &at) != 0 || at.tag != 0xa0
        || esc_der_next(&p, end, &d) != 0 || d.tag != 0x30
        || esc_der_next(&p, end, &sg) != 0 || sg.tag != 0x04
        || sg.len == 0)
    {
        return ESC_CRYPTO_EINVAL;
    }

    a = malloc(at.tlvlen);
    s = malloc(sg.len);
    if (a == NULL || s == NULL) {
        free(a);
        free(s);
        return ESC_CRYPTO_ENOMEM;
    }

    memcpy(a, at.tlv, at.tlvlen);
    a[0] = 0x31;                /* [0] IMPLICIT -> SET OF */
    memcpy(s, sg.val, sg.len);

    *attrs = a;
    *attrslen = at.tlvlen;
    *sig = s;
    *siglen = sg.len;

    return ESC_CRYPTO_OK;
}


/* The DER header of a TLV of "len" content bytes; its size.  p may be NULL. */
static size_t
esc_der_hdr(uint8_t *p, uint8_t tag, size_t len)
{
    size_t  n, i;

    if (len < 0x80) {
        if (p != NULL) {
            p[0] = tag;
            p[1] = (uint8_t) len;
        }

        return 2;
    }

    for (n = 1; n < sizeof(size_t) && (len >> (8 * n)) != 0; n++) {
        /* void */
    }

    if (p != NULL) {
        p[0] = tag;
        p[1] = (uint8_t) (0x80 | n);

        for (i = 0; i < n; i++) {
            p[2 + i] = (uint8_t) (len >> (8 * (n - 1 - i)));
        }
    }

    return 2 + n;
}


int
esc_cms_strip_certs(const uint8_t *der, size_t len, const uint8_t *cert_der,
    size_t cert_len, uint8_t **out, size_t *outlen)
{
    size_t          head, tail, sdlen, a0len, cilen, total;
    uint8_t        *o, *q;
    esc_der_t       oid, sd, certs, c1;
    const uint8_t  *p, *r, *end, *cut;

    if (der == NULL || out == NULL || outlen == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    if (esc_cms_walk_signed(der, len, &oid, &sd, &p) != ESC_CRYPTO_OK) {
        return ESC_CRYPTO_EINVAL;
    }

    end = sd.val + sd.len;

    cut = p;
    certs.tlvlen = 0;

    if (p < end && *p == 0xa0) {
        if (esc_der_next(&p, end, &certs) != 0) {
            return ESC_CRYPTO_EINVAL;
        }

        /* exactly the verifier's certificate */
        r = certs.val;
        if (esc_der_next(&r, certs.val + certs.len, &c1) != 0
            || r != certs.val + certs.len || c1.tag != 0x30
            || cert_der == NULL || c1.tlvlen != cert_len
            || memcmp(c1.tlv, cert_der, cert_len) != 0)
        {
            return ESC_CRYPTO_EAUTH;
        }
    }

    head = (size_t) (cut - sd.val);
    tail = (size_t) (end - p);

    sdlen = head + tail;
    a0len = esc_der_hdr(NULL, 0x30, sdlen) + sdlen;
    cilen = oid.tlvlen + esc_der_hdr(NULL, 0xa0, a0len) + a0len;
    total = esc_der_hdr(NULL, 0x30, cilen) + cilen;

    o = malloc(total);
    if (o == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    q = o;
    q += esc_der_hdr(q, 0x30, cilen);
    memcpy(q, oid.tlv, oid.tlvlen);
    q += oid.tlvlen;
    q += esc_der_hdr(q, 0xa0, a0len);
    q += esc_der_hdr(q, 0x30, sdlen);
    memcpy(q, sd.val, head);
    q += head;
    memcpy(q, p, tail);
    q += tail;

    *out = o;
    *outlen = (size_t) (q - o);

    return ESC_CRYPTO_OK;
}


static time_t
esc_cms_signing_time(CMS_SignerInfo *si)
{
    struct tm           tm;
    const ASN1_TIME    *t;
    const ASN1_OBJECT  *obj;

    obj = OBJ_nid2obj(NID_pkcs9_signingTime);

    t = CMS_signed_get0_data_by_OBJ(si, obj, -3, V_ASN1_UTCTIME);
    if (t == NULL) {
        t = CMS_signed_get0_data_by_OBJ(si, obj, -3,
                                        V_ASN1_GENERALIZEDTIME);
    }

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        return 0;
    }

    return timegm(&tm);
}


int
esc_cms_verify_digest(const uint8_t *der, size_t len, const uint8_t *digest,
    size_t dlen, X509 *cert, esc_cms_info_t *info)
{
    int                         rc, suite, dnid, snid, n;
    size_t                      alen, slen, clen;
    uint8_t                    *attrs, *sig, *cder, *certder;
    EVP_PKEY                   *pub;
    X509_ALGOR                 *dalg, *salg;
    EVP_MD_CTX                 *mctx;
    ASN1_OBJECT                *ctype;
    const uint8_t              *p;
    CMS_SignerInfo             *si;
    CMS_ContentInfo            *cms;
    ASN1_OCTET_STRING          *md;
    STACK_OF(CMS_SignerInfo)   *sis;

    if (der == NULL || digest == NULL || cert == NULL
        || dlen != ESC_CMS_DIGEST_LEN || len > LONG_MAX)
    {
        return ESC_CRYPTO_EINVAL;
    }

    pub = X509_get0_pubkey(cert);
    suite = esc_key_suite(pub);
    if (suite < 0) {
        return ESC_CRYPTO_EINVAL;
    }

    rc = esc_cms_signed_attrs(der, len, &attrs, &alen, &sig, &slen);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    /* the embedded certificate must be cert: parse the rest only */

    cder = NULL;
    certder = NULL;
    mctx = NULL;
    cms = NULL;

    n = i2d_X509(cert, &certder);
    if (n <= 0) {
        rc = ESC_CRYPTO_ECRYPTO;
        goto done;
    }

    rc = esc_cms_strip_certs(der, len, certder, (size_t) n, &cder, &clen);
    if (rc != ESC_CRYPTO_OK) {
        goto done;
    }

    p = cder;
    cms = d2i_CMS_ContentInfo(NULL, &p, (long) clen);
    if (cms == NULL || p != cder + clen
        || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed
        || OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data
        || CMS_get0_content(cms) == NULL || *CMS_get0_content(cms) != NULL)
    {
        rc = ESC_CRYPTO_EINVAL;         /* not a detached SignedData */
        goto done;
    }

    sis = CMS_get0_SignerInfos(cms);
    if (sk_CMS_SignerInfo_num(sis) != 1) {
        rc = ESC_CRYPTO_EINVAL;
        goto done;
    }

    si = sk_CMS_SignerInfo_value(sis, 0);
    rc = ESC_CRYPTO_EAUTH;

    if (CMS_SignerInfo_cert_cmp(si, cert) != 0) {
        goto done;                      /* signed by someone else */
    }

    CMS_SignerInfo_get0_algs(si, NULL, NULL, &dalg, &salg);
    dnid = OBJ_obj2nid(dalg->algorithm);
    snid = OBJ_obj2nid(salg->algorithm);

    if (suite == ESC_SUITE_NATIONAL
        ? (dnid != NID_sm3 || snid != NID_SM2_with_SM3)
        : (dnid != NID_sha256 || snid != NID_ecdsa_with_SHA256))
    {
        goto done;
    }

    ctype = CMS_signed_get0_data_by_OBJ(si,
                                        OBJ_nid2obj(NID_pkcs9_contentType),
                                        -3, V_ASN1_OBJECT);
    md = CMS_signed_get0_data_by_OBJ(si,
                                     OBJ_nid2obj(NID_pkcs9_messageDigest),
                                     -3, V_ASN1_OCTET_STRING);

    if (ctype == NULL || OBJ_obj2nid(ctype) != NID_pkcs7_data
        || md == NULL || ASN1_STRING_length(md) != ESC_CMS_DIGEST_LEN
        || CRYPTO_memcmp(ASN1_STRING_get0_data(md), digest,
                         ESC_CMS_DIGEST_LEN) != 0)
    {
        goto done;                      /* another document */
    }

    if (suite == ESC_SUITE_NATIONAL) {
        rc = esc_cms_verify_sm2(pub, attrs, alen, sig, slen);
        if (rc != ESC_CRYPTO_OK) {
            goto done;
        }

        goto verified;
    }

    mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        rc = ESC_CRYPTO_ENOMEM;
        goto done;
    }

    if (EVP_DigestVerifyInit_ex(mctx, NULL, esc_cms_md_name(suite), NULL,
                                NULL, pub, NULL) != 1)
    {
        rc = ESC_CRYPTO_ECRYPTO;
        goto done;
    }

    if (EVP_DigestVerify(mctx, sig, slen, attrs, alen) != 1) {
        goto done;
    }

verified:

    if (info != NULL) {
        info->suite = (esc_suite_t) suite;
        info->signing_time = esc_cms_signing_time(si);
        memcpy(info->digest, digest, ESC_CMS_DIGEST_LEN);
    }

    rc = ESC_CRYPTO_OK;

done:

    EVP_MD_CTX_free(mctx);
    CMS_ContentInfo_free(cms);
    OPENSSL_free(certder);
    free(cder);
    free(attrs);
    free(sig);
    ERR_clear_error();

    return rc;
}


int
esc_cms_verify(const uint8_t *der, size_t len, const uint8_t *doc,
    size_t doclen, X509 *cert, esc_cms_info_t *info)
{
    int      rc, suite;
    uint8_t  digest[ESC_CMS_DIGEST_LEN];

    if (cert == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    suite = esc_key_suite(X509_get0_pubkey(cert));
    if (suite < 0) {
        return ESC_CRYPTO_EINVAL;
    }

    rc = esc_cms_digest((esc_suite_t) suite, doc, doclen, digest);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    return esc_cms_verify_digest(der, len, digest, sizeof(digest), cert,
                                 info);
}
