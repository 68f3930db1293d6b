/*
 * KEK file handling and SM4-CTR + HMAC-SM3 wrapping of data keys
 * (see esc_kek.h for formats and the reasons behind them).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "esc_codec.h"
#include "esc_int.h"
#include "esc_kek.h"
#include "esc_rand.h"


#define ESC_KEK_MAGIC      "EKW1"
#define ESC_KEK_HDR_LEN    (4 + 4 + ESC_SM4_IVLEN)
#define ESC_KEK_LINE_LEN   (sizeof("kek v4294967295 ") - 1 + 64)


typedef struct {
    uint32_t  version;
    uint8_t   enc[ESC_SM4_KEYLEN];
    uint8_t   mac[ESC_SM3_LEN];
} esc_kek_entry_t;

struct esc_kek_ring_s {
    size_t            n;
    esc_kek_entry_t  *keys;     /* ascending versions */
};


static int esc_kek_read_file(const char *path, char **text, size_t *len);
static int esc_kek_write_file(const char *path, const char *text,
    size_t len);
static int esc_kek_line(uint32_t version, char *line, size_t size);
static const esc_kek_entry_t *esc_kek_find(const esc_kek_ring_t *ring,
    uint32_t version);


static int
esc_kek_read_file(const char *path, char **text, size_t *len)
{
    int          fd, err;
    char        *buf;
    size_t       got;
    ssize_t      n;
    struct stat  st;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd == -1) {
        return ESC_CRYPTO_EIO;
    }

    if (fstat(fd, &st) == -1) {
        goto io_failed;
    }

    if (!S_ISREG(st.st_mode) || st.st_size > ESC_KEK_FILE_MAX) {
        close(fd);
        return ESC_CRYPTO_EINVAL;
    }

    if (st.st_mode & 077) {
        close(fd);
        return ESC_CRYPTO_EPERM;
    }

    buf = malloc((size_t) st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return ESC_CRYPTO_ENOMEM;
    }

    got = 0;
    while (got < (size_t) st.st_size) {
        n = read(fd, buf + got, (size_t) st.st_size - got);
        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            err = errno;
            esc_free_secret(buf, (size_t) st.st_size + 1);
            close(fd);
            errno = err;
            return ESC_CRYPTO_EIO;
        }

        got += (size_t) n;
    }

    close(fd);
    buf[got] = '\0';
    *text = buf;
    *len = got;

    return ESC_CRYPTO_OK;

io_failed:

    err = errno;
    close(fd);
    errno = err;

    return ESC_CRYPTO_EIO;
}


static int
esc_kek_write_file(const char *path, const char *text, size_t len)
{
    int      fd, err, flags;
    char    *dir, *slash;
    size_t   off;
    ssize_t  n;

    flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;

    fd = open(path, flags, 0600);
    if (fd == -1) {
        return errno == EEXIST ? ESC_CRYPTO_EEXIST : ESC_CRYPTO_EIO;
    }

    /* The umask may not remove bits from 0600, but be explicit. */
    if (fchmod(fd, 0600) == -1) {
        goto failed;
    }

    for (off = 0; off < len; off += (size_t) n) {
        n = write(fd, text + off, len - off);
        if (n == -1 && errno == EINTR) {
            n = 0;
            continue;
        }

        if (n <= 0) {
            goto failed;
        }
    }

    if (fsync(fd) == -1) {
        goto failed;
    }

    if (close(fd) == -1) {
        fd = -1;
        goto failed;
    }

    /* fsync the directory so that the new name is durable too. */
    dir = strdup(path);
    if (dir != NULL) {
        slash = strrchr(dir, '/');
        if (slash == dir) {
            slash[1] = '\0';
        } else if (slash != NULL) {
            *slash = '\0';
        } else {
            strcpy(dir, ".");
        }

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd != -1) {
            (void) fsync(fd);
            close(fd);
        }

        free(dir);
    }

    return ESC_CRYPTO_OK;

failed:

    err = errno;
    if (fd != -1) {
        close(fd);
    }
    unlink(path);
    errno = err;

    return ESC_CRYPTO_EIO;
}


int
esc_kek_parse(const char *text, size_t len, esc_kek_ring_t **ring)
{
    int               rc;
    size_t            i, n, cap, linelen, klen;
    uint8_t           key[ESC_KEK_LEN];
    uint64_t          v;
    const char       *p, *line, *nl;
    esc_kek_ring_t   *r;
    esc_kek_entry_t  *e;

    if (text == NULL || ring == NULL || len > ESC_KEK_FILE_MAX) {
        return ESC_CRYPTO_EINVAL;
    }

    /* Count candidate lines to size the array once. */
    cap = 0;
    for (i = 0; i < len; i++) {
        if (text[i] == '\n') {
            cap++;
        }
    }

    r = calloc(1, sizeof(esc_kek_ring_t));
    if (r == NULL) {
        return ESC_CRYPTO_ENOMEM;
    }

    r->keys = calloc(cap + 1, sizeof(esc_kek_entry_t));
    if (r->keys == NULL) {
        free(r);
        return ESC_CRYPTO_ENOMEM;
    }

    rc = ESC_CRYPTO_EINVAL;
    p = text;

    while (p < text + len) {
        line = p;
        nl = memchr(p, '\n', (size_t) (text + len - p));
        if (nl == NULL) {
            goto failed;            /* every line ends with a newline */
        }

        linelen = (size_t) (nl - line);
        p = nl + 1;

        if (linelen == 0 || line[0] == '#') {
            continue;
        }

        if (linelen > ESC_KEK_LINE_LEN || linelen < 6 + 64
            || memcmp(line, "kek v", 5) != 0
            || line[5] < '1' || line[5] > '9')
        {
            goto failed;
        }

        v = 0;
        for (n = 5; n < linelen && line[n] >= '0' && line[n] <= '9'; n++) {
            v = v * 10 + (uint64_t) (line[n] - '0');
            if (v > UINT32_MAX) {
                goto failed;
            }
        }

        if (n + 1 + 64 != linelen || line[n] != ' ') {
            goto failed;
        }

        for (i = n + 1; i < linelen; i++) {
            if (!((line[i] >= '0' && line[i] <= '9')
                  || (line[i] >= 'a' && line[i] <= 'f')))
            {
                goto failed;        /* lowercase hex only: one spelling */
            }
        }

        if (r->n > 0 && v <= r->keys[r->n - 1].version) {
            goto failed;
        }

        if (esc_hex_decode(key, sizeof(key), &klen, line + n + 1, 64)
            != ESC_CRYPTO_OK || klen != ESC_KEK_LEN)
        {
            goto failed;
        }

        e = &r->keys[r->n];
        e->version = (uint32_t) v;

        if (esc_kdf_sm3(key, sizeof(key), "esign/kek-wrap/v1/enc", e->enc,
                        sizeof(e->enc)) != ESC_CRYPTO_OK
            || esc_kdf_sm3(key, sizeof(key), "esign/kek-wrap/v1/mac",
                           e->mac, sizeof(e->mac)) != ESC_CRYPTO_OK)
        {
            rc = ESC_CRYPTO_ECRYPTO;
            goto failed;
        }

        r->n++;
    }

    if (r->n == 0) {
        goto failed;
    }

    OPENSSL_cleanse(key, sizeof(key));
    *ring = r;

    return ESC_CRYPTO_OK;

failed:

    OPENSSL_cleanse(key, sizeof(key));
    esc_kek_free(r);

    return rc;
}


int
esc_kek_load(const char *path, esc_kek_ring_t **ring)
{
    int      rc;
    char    *text;
    size_t   len;

    if (path == NULL || ring == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    rc = esc_kek_read_file(path, &text, &len);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    rc = esc_kek_parse(text, len, ring);
    esc_free_secret(text, len + 1);

    return rc;
}


void
esc_kek_free(esc_kek_ring_t *ring)
{
    if (ring == NULL) {
        return;
    }

    if (ring->keys != NULL) {
        OPENSSL_cleanse(ring->keys, (ring->n + 1) * sizeof(esc_kek_entry_t));
        free(ring->keys);
    }

    free(ring);
}


static int
esc_kek_line(uint32_t version, char *line, size_t size)
{
    int      n, rc;
    uint8_t  key[ESC_KEK_LEN];

    rc = esc_rand_bytes(key, sizeof(key));
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    n = snprintf(line, size, "kek v%u ", version);
    if (n < 0 || (size_t) n + 64 + 2 > size) {
        OPENSSL_cleanse(key, sizeof(key));
        return ESC_CRYPTO_ESPACE;
    }

    rc = esc_hex_encode(line + n, size - (size_t) n, key, sizeof(key));
    OPENSSL_cleanse(key, sizeof(key));
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    strcat(line, "\n");

    return ESC_CRYPTO_OK;
}


int
esc_kek_file_create(const char *path)
{
    int     rc;
    char    text[256];
    size_t  hlen;
    static const char  hdr[] =
        "# esign key-encryption keys (R-ARCH-4); newest last; keep secret\n";

    if (path == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    hlen = sizeof(hdr) - 1;
    memcpy(text, hdr, hlen);

    rc = esc_kek_line(1, text + hlen, sizeof(text) - hlen);
    if (rc == ESC_CRYPTO_OK) {
        rc = esc_kek_write_file(path, text, strlen(text));
    }

    OPENSSL_cleanse(text, sizeof(text));

    return rc;
}


int
esc_kek_file_rotate(const char *path, uint32_t *version)
{
    int              rc, err;
    char            *text, *tmp, *out, line[128];
    size_t           len, plen, llen;
    uint32_t         v;
    esc_kek_ring_t  *ring;

    if (path == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    rc = esc_kek_read_file(path, &text, &len);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    ring = NULL;
    tmp = NULL;
    out = NULL;

    rc = esc_kek_parse(text, len, &ring);
    if (rc != ESC_CRYPTO_OK) {
        goto done;
    }

    v = esc_kek_current(ring);
    if (v == UINT32_MAX) {
        rc = ESC_CRYPTO_EINVAL;
        goto done;
    }

    v++;

    rc = esc_kek_line(v, line, sizeof(line));
    if (rc != ESC_CRYPTO_OK) {
        goto done;
    }

    llen = strlen(line);
    out = malloc(len + llen);
    plen = strlen(path) + 32;
    tmp = malloc(plen);
    if (out == NULL || tmp == NULL) {
        rc = ESC_CRYPTO_ENOMEM;
        goto done;
    }

    memcpy(out, text, len);
    memcpy(out + len, line, llen);
    snprintf(tmp, plen, "%s.tmp.%ld", path, (long) getpid());

    unlink(tmp);
    rc = esc_kek_write_file(tmp, out, len + llen);
    if (rc != ESC_CRYPTO_OK) {
        goto done;
    }

    if (rename(tmp, path) == -1) {
        err = errno;
        unlink(tmp);
        errno = err;
        rc = ESC_CRYPTO_EIO;
        goto done;
    }

    if (version != NULL) {
        *version = v;
    }

done:

    OPENSSL_cleanse(line, sizeof(line));
    esc_free_secret(out, out != NULL ? len + llen : 0);
    esc_free_secret(text, len + 1);
    free(tmp);
    esc_kek_free(ring);

    return rc;
}


uint32_t
esc_kek_current(const esc_kek_ring_t *ring)
{
    if (ring == NULL || ring->n == 0) {
        return 0;
    }

    return ring->keys[ring->n - 1].version;
}


static const esc_kek_entry_t *
esc_kek_find(const esc_kek_ring_t *ring, uint32_t version)
{
    size_t  lo, hi, mid;

    if (ring == NULL) {
        return NULL;
    }

    lo = 0;
    hi = ring->n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (ring->keys[mid].version == version) {
            return &ring->keys[mid];
        }

        if (ring->keys[mid].version < version) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    return NULL;
}


int
esc_kek_has(const esc_kek_ring_t *ring, uint32_t version)
{
    return esc_kek_find(ring, version) != NULL;
}


int
esc_kek_wrap(const esc_kek_ring_t *ring, uint32_t version,
    const uint8_t *dk, size_t dklen, uint8_t *out, size_t outsz,
    size_t *outlen)
{
    int                     rc;
    esc_iov_t               iov;
    const esc_kek_entry_t  *e;

    if (ring == NULL || dk == NULL || out == NULL || outlen == NULL
        || dklen < ESC_KEK_DK_MIN || dklen > ESC_KEK_DK_MAX)
    {
        return ESC_CRYPTO_EINVAL;
    }

    if (outsz < dklen + ESC_KEK_WRAP_OVERHEAD) {
        return ESC_CRYPTO_ESPACE;
    }

    e = esc_kek_find(ring, version == 0 ? esc_kek_current(ring) : version);
    if (e == NULL) {
        return ESC_CRYPTO_ENOKEY;
    }

    memcpy(out, ESC_KEK_MAGIC, 4);
    esc_put_be32(out + 4, e->version);

    rc = esc_rand_bytes(out + 8, ESC_SM4_IVLEN);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    rc = esc_sm4_ctr(e->enc, out + 8, dk, dklen, out + ESC_KEK_HDR_LEN);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    iov.p = out;
    iov.len = ESC_KEK_HDR_LEN + dklen;

    rc = esc_hmac_sm3(e->mac, sizeof(e->mac), &iov, 1, out + iov.len);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    *outlen = dklen + ESC_KEK_WRAP_OVERHEAD;

    return ESC_CRYPTO_OK;
}


int
esc_kek_wrapped_version(const uint8_t *in, size_t inlen, uint32_t *version)
{
    if (in == NULL || version == NULL
        || inlen < ESC_KEK_WRAP_OVERHEAD + ESC_KEK_DK_MIN
        || inlen > ESC_KEK_WRAP_MAX
        || memcmp(in, ESC_KEK_MAGIC, 4) != 0)
    {
        return ESC_CRYPTO_EINVAL;
    }

    *version = esc_get_be32(in + 4);

    return ESC_CRYPTO_OK;
}


int
esc_kek_unwrap(const esc_kek_ring_t *ring, const uint8_t *in, size_t inlen,
    uint8_t *dk, size_t dksz, size_t *dklen, uint32_t *version)
{
    int                     rc;
    size_t                  n;
    uint8_t                 tag[ESC_SM3_LEN];
    uint32_t                v;
    esc_iov_t               iov;
    const esc_kek_entry_t  *e;

    if (ring == NULL || dk == NULL || dklen == NULL) {
        return ESC_CRYPTO_EINVAL;
    }

    rc = esc_kek_wrapped_version(in, inlen, &v);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    n = inlen - ESC_KEK_WRAP_OVERHEAD;
    if (dksz < n) {
        return ESC_CRYPTO_ESPACE;
    }

    e = esc_kek_find(ring, v);
    if (e == NULL) {
        return ESC_CRYPTO_ENOKEY;
    }

    iov.p = in;
    iov.len = ESC_KEK_HDR_LEN + n;

    rc = esc_hmac_sm3(e->mac, sizeof(e->mac), &iov, 1, tag);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    if (CRYPTO_memcmp(tag, in + iov.len, ESC_SM3_LEN) != 0) {
        return ESC_CRYPTO_EAUTH;
    }

    rc = esc_sm4_ctr(e->enc, in + 8, in + ESC_KEK_HDR_LEN, n, dk);
    if (rc != ESC_CRYPTO_OK) {
        OPENSSL_cleanse(dk, n);
        return rc;
    }

    *dklen = n;
    if (version != NULL) {
        *version = v;
    }

    return ESC_CRYPTO_OK;
}


int
esc_kek_rewrap(const esc_kek_ring_t *ring, const uint8_t *in, size_t inlen,
    uint8_t *out, size_t outsz, size_t *outlen)
{
    int      rc;
    size_t   n;
    uint8_t  dk[ESC_KEK_DK_MAX];

    rc = esc_kek_unwrap(ring, in, inlen, dk, sizeof(dk), &n, NULL);
    if (rc != ESC_CRYPTO_OK) {
        return rc;
    }

    rc = esc_kek_wrap(ring, 0, dk, n, out, outsz, outlen);
    OPENSSL_cleanse(dk, sizeof(dk));

    return rc;
}
