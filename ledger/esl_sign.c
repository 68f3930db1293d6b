/*
 * esl_sign.c: SM2-with-SM3 keys and raw signatures.  The distinguishing ID
 * is set explicitly on every operation: OpenSSL 3 defaults to an empty
 * ID, which no GM/T 0009 implementation uses, so a forgotten ID would
 * produce signatures nobody else can verify.
 */

#include <stdlib.h>
#include <openssl/pem.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/bn.h>

#include "esl_int.h"

/* Note signature type identifiers (C2SP signed-note type 0xff + id). */
#define SIGTYPE_NOTE    "sm2-sm3/v1"
#define SIGTYPE_COSIG   "sm2-sm3-cosignature/v1"

/* SM2 curve order n (GM/T 0003.5). */
static const unsigned char sm2_n[32] = {
    0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0x72, 0x03, 0xDF, 0x6B, 0x21, 0xC6, 0x05, 0x2B,
    0x53, 0xBB, 0xF4, 0x09, 0x39, 0xD5, 0x41, 0x23
};


/* C2SP key ID: SHA-256(name || "\n" || 0xff || type || point)[:4].  It is
 * an identifier, not a security function, so SHA-256 as C2SP says. */
static int
key_id(const char *name, const char *type, const unsigned char pub[65],
    unsigned char id[4])
{
    unsigned char  md[32];
    unsigned int   mdlen;
    EVP_MD_CTX    *c = EVP_MD_CTX_new();
    int            ok;

    ok = c != NULL
         && EVP_DigestInit_ex(c, EVP_sha256(), NULL)
         && EVP_DigestUpdate(c, name, strlen(name))
         && EVP_DigestUpdate(c, "\n\xff", 2)
         && EVP_DigestUpdate(c, type, strlen(type))
         && EVP_DigestUpdate(c, pub, 65)
         && EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    if (!ok) {
        return ESL_ECRYPTO;
    }
    memcpy(id, md, 4);
    return ESL_OK;
}


/* Fill name, public point and key IDs; pkey must be an SM2 key. */
static int
key_setup(EVP_PKEY *pkey, const char *name, char *oname,
    unsigned char *pub, unsigned char *kid, unsigned char *ckid)
{
    size_t  len = 0;
    int     rc;

    if (!EVP_PKEY_is_a(pkey, "SM2")) {
        return ESL_ECRYPTO;
    }
    if (!EVP_PKEY_get_octet_string_param(pkey,
            OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, 65, &len)
        || len != 65 || pub[0] != 0x04)
    {
        return ESL_ECRYPTO;
    }
    strcpy(oname, name);
    if ((rc = key_id(name, SIGTYPE_NOTE, pub, kid)) != ESL_OK
        || (rc = key_id(name, SIGTYPE_COSIG, pub, ckid)) != ESL_OK)
    {
        return rc;
    }
    return ESL_OK;
}


int
esl_signer_load_pem(const char *path, const char *key_name, esl_signer **out)
{
    BIO       *bio;
    EVP_PKEY  *pkey;
    int        rc;

    if (path == NULL || out == NULL || !esl__keyname_ok(key_name)) {
        return ESL_EINVAL;
    }
    bio = BIO_new_file(path, "r");
    if (bio == NULL) {
        return ESL_EIO;
    }
    /* No passphrase callback: an encrypted key fails instead of
     * prompting on a server's terminal. */
    pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *) "");
    BIO_free(bio);
    if (pkey == NULL) {
        return ESL_ECRYPTO;
    }
    rc = esl_signer_from_pkey(pkey, key_name, out);
    EVP_PKEY_free(pkey);
    return rc;
}


/* The private scalar of an SM2 EVP_PKEY for esl_sm2ec.c; the point it
 * yields must be the key's own public point, so a damaged key fails here,
 * not in a verifier. */
int
esl_sm2_key_from_pkey(EVP_PKEY *pkey, esl_sm2_key **out)
{
    unsigned char  d[32], pub[65], mine[65];
    size_t         len = 0;
    BIGNUM        *bn = NULL;
    int            rc;

    if (pkey == NULL || out == NULL) {
        return ESL_EINVAL;
    }
    if (!EVP_PKEY_is_a(pkey, "SM2")
        || !EVP_PKEY_get_octet_string_param(pkey,
               OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, 65, &len)
        || len != 65
        || !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn)
        || BN_num_bytes(bn) > 32 || BN_bn2binpad(bn, d, 32) != 32)
    {
        BN_clear_free(bn);
        return ESL_ECRYPTO;
    }
    BN_clear_free(bn);
    rc = esl_sm2_key_new(d, out);
    OPENSSL_cleanse(d, sizeof(d));
    if (rc != ESL_OK) {
        return rc;
    }
    esl_sm2_key_pub(*out, mine);
    if (CRYPTO_memcmp(mine, pub, 65) != 0) {
        esl_sm2_key_free(*out);
        *out = NULL;
        return ESL_ECRYPTO;
    }
    return ESL_OK;
}


/* A signer over a key the caller already holds (the nginx master reads the
 * key file once; workers may not be allowed to read it again).  The key is
 * shared (reference counted), not copied. */
int
esl_signer_from_pkey(EVP_PKEY *pkey, const char *key_name, esl_signer **out)
{
    esl_signer  *s;
    int          rc;

    if (pkey == NULL || out == NULL || !esl__keyname_ok(key_name)) {
        return ESL_EINVAL;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return ESL_ENOMEM;
    }
    if (EVP_PKEY_up_ref(pkey) != 1) {
        free(s);
        return ESL_ECRYPTO;
    }
    s->pkey = pkey;
    rc = key_setup(s->pkey, key_name, s->name, s->pub, s->keyid,
                   s->cosig_keyid);
    if (rc == ESL_OK) {
        rc = esl_sm2_key_from_pkey(s->pkey, &s->fast);
    }
    if (rc != ESL_OK) {
        esl_signer_free(s);
        return rc;
    }
    *out = s;
    return ESL_OK;
}


void
esl_signer_free(esl_signer *s)
{
    if (s != NULL) {
        EVP_PKEY_free(s->pkey);
        esl_sm2_key_free(s->fast);
        OPENSSL_cleanse(s, sizeof(*s));
        free(s);
    }
}


int
esl_verifier_load_pem(const char *path, const char *key_name,
    esl_verifier **out)
{
    esl_verifier  *v;
    BIO           *bio;
    int            rc;

    if (path == NULL || out == NULL || !esl__keyname_ok(key_name)) {
        return ESL_EINVAL;
    }
    bio = BIO_new_file(path, "r");
    if (bio == NULL) {
        return ESL_EIO;
    }
    v = calloc(1, sizeof(*v));
    if (v == NULL) {
        BIO_free(bio);
        return ESL_ENOMEM;
    }
    v->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (v->pkey == NULL) {
        free(v);
        return ESL_ECRYPTO;
    }
    rc = key_setup(v->pkey, key_name, v->name, v->pub, v->keyid,
                   v->cosig_keyid);
    if (rc != ESL_OK) {
        esl_verifier_free(v);
        return rc;
    }
    *out = v;
    return ESL_OK;
}


int
esl_verifier_from_signer(const esl_signer *s, esl_verifier **out)
{
    esl_verifier  *v;

    if (s == NULL || out == NULL) {
        return ESL_EINVAL;
    }
    v = calloc(1, sizeof(*v));
    if (v == NULL) {
        return ESL_ENOMEM;
    }
    /* Sharing the EVP_PKEY is fine: verification only reads the public
     * half and EVP_PKEY is reference counted. */
    if (!EVP_PKEY_up_ref(s->pkey)) {
        free(v);
        return ESL_ECRYPTO;
    }
    v->pkey = s->pkey;
    strcpy(v->name, s->name);
    memcpy(v->pub, s->pub, 65);
    memcpy(v->keyid, s->keyid, 4);
    memcpy(v->cosig_keyid, s->cosig_keyid, 4);
    *out = v;
    return ESL_OK;
}


void
esl_verifier_free(esl_verifier *v)
{
    if (v != NULL) {
        EVP_PKEY_free(v->pkey);
        free(v);
    }
}


int
esl_verifier_vkey(const esl_verifier *v, esl_buf *out)
{
    unsigned char  raw[1 + sizeof(SIGTYPE_NOTE) - 1 + 65];
    char           txt[ESL_KEYNAME_MAX + 16 + 4 * sizeof(raw)];
    char           hex[9];
    size_t         n;

    if (v == NULL || out == NULL) {
        return ESL_EINVAL;
    }
    raw[0] = 0xff;
    memcpy(raw + 1, SIGTYPE_NOTE, sizeof(SIGTYPE_NOTE) - 1);
    memcpy(raw + sizeof(SIGTYPE_NOTE), v->pub, 65);
    esl__hex(v->keyid, 4, hex);
    n = (size_t) snprintf(txt, sizeof(txt), "%s+%s+", v->name, hex);
    n += esl__b64_enc(raw, sizeof(raw), txt + n);
    return esl__buf_set(out, txt, n);
}


static int
id_ok(const void **id, size_t *idlen)
{
    if (*id == NULL) {
        *id = ESL_SM2_ID;
        *idlen = sizeof(ESL_SM2_ID) - 1;
    }
    return *idlen > 0 && *idlen <= 8191;    /* ENTL is 16 bits of bits */
}


/* The arithmetic is esl_sm2ec.c: OpenSSL 3.0's generic EC code took
 * ~330 us per signature, and a block signature is on the path of every
 * acknowledged append. */
int
esl_sm2_sign(const esl_signer *s, const void *id, size_t idlen,
    const void *msg, size_t len, unsigned char sig[64])
{
    unsigned char  e[32];

    if (s == NULL || sig == NULL || (msg == NULL && len)) {
        return ESL_EINVAL;
    }
    if (!id_ok(&id, &idlen)) {
        return ESL_EINVAL;
    }
    if (esl_sm2_digest(s->pub, id, idlen, msg, len, e) != ESL_OK
        || esl_sm2_sign_e(s->fast, e, sig) != ESL_OK)
    {
        return ESL_ECRYPTO;
    }
    return ESL_OK;
}


static int
in_range(const unsigned char v[32])
{
    static const unsigned char  zero[32];

    return memcmp(v, zero, 32) != 0 && memcmp(v, sm2_n, 32) < 0;
}


int
esl_sm2_verify(const esl_verifier *v, const void *id, size_t idlen,
    const void *msg, size_t len, const unsigned char sig[64])
{
    unsigned char  e[32];

    if (v == NULL || sig == NULL || (msg == NULL && len)) {
        return ESL_EINVAL;
    }
    if (!id_ok(&id, &idlen)) {
        return ESL_EINVAL;
    }
    if (!in_range(sig) || !in_range(sig + 32)) {
        return ESL_ESIG;
    }
    if (esl_sm2_digest(v->pub, id, idlen, msg, len, e) != ESL_OK) {
        return ESL_ECRYPTO;
    }
    return esl_sm2_verify_e(v->pub, e, sig) == ESL_OK ? ESL_OK : ESL_ESIG;
}


int
esl_sm2_sig_to_der(const unsigned char sig[64], esl_buf *out)
{
    ECDSA_SIG      *es;
    BIGNUM         *r, *s;
    unsigned char  *der = NULL;
    int             n, rc;

    if (sig == NULL || out == NULL) {
        return ESL_EINVAL;
    }
    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, 32, NULL);
    s = BN_bin2bn(sig + 32, 32, NULL);
    if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        return ESL_ENOMEM;
    }
    n = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (n <= 0) {
        return ESL_ECRYPTO;
    }
    rc = esl__buf_set(out, der, (size_t) n);
    OPENSSL_free(der);
    return rc;
}


int
esl_sm2_sig_from_der(const unsigned char *der, size_t len,
    unsigned char sig[64])
{
    const unsigned char  *p = der;
    unsigned char        *re = NULL;
    const BIGNUM         *r, *s;
    ECDSA_SIG            *es;
    int                   n, ok;

    if (der == NULL || sig == NULL) {
        return ESL_EINVAL;
    }
    es = d2i_ECDSA_SIG(NULL, &p, (long) len);
    if (es == NULL || p != der + len) {
        ECDSA_SIG_free(es);
        return ESL_EFORMAT;
    }
    /* Only DER, never BER: re-encode and compare. */
    n = i2d_ECDSA_SIG(es, &re);
    ok = n == (int) len && memcmp(re, der, len) == 0;
    OPENSSL_free(re);
    ECDSA_SIG_get0(es, &r, &s);
    ok = ok && BN_num_bytes(r) <= 32 && BN_num_bytes(s) <= 32
         && BN_bn2binpad(r, sig, 32) == 32
         && BN_bn2binpad(s, sig + 32, 32) == 32;
    ECDSA_SIG_free(es);
    return ok ? ESL_OK : ESL_EFORMAT;
}
