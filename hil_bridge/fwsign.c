/* fwsign.c - signing firmware images on the host (fwsign.h), with
 * mbedTLS: deterministic ECDSA P-256 (RFC 6979), PEM keys (pk). */
#include "fwsign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ek3_err.h"
#include "ek3_rng.h"
#include "mbedtls/asn1.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/pk.h"
#include "mbedtls/sha256.h"

/* The development key (DEVELOPMENT ONLY: see fwsign.h). Made once with
 * `openssl ecparam -name prime256v1 -genkey`. */
static const uint8_t fwsign_dev_d[32] = {
    0x5d, 0xb6, 0x9b, 0x39, 0x5b, 0x9d, 0xa0, 0x47, 0xa0, 0x96, 0xce, 0xca, 0xe3, 0x1b, 0x42, 0x3d,
    0x3e, 0x3e, 0x27, 0x4a, 0xa3, 0xf5, 0xfc, 0x1f, 0x12, 0x82, 0x67, 0x59, 0x23, 0xfb, 0xa2, 0xaa,
};
static const uint8_t fwsign_dev_pub[FWIMG_PUBKEY_SIZE] = {
    0x04, 0x1a, 0x22, 0x90, 0xfe, 0x52, 0xfb, 0xf9, 0xe6, 0x73, 0x9e, 0x7d, 0xb5, 0xf4, 0xb8, 0xcb, 0x72,
    0xb0, 0x37, 0x25, 0x8f, 0xc3, 0x63, 0x79, 0x6b, 0xcb, 0xfb, 0xdf, 0xdb, 0xbc, 0x93, 0x12, 0xcb, 0xd4,
    0x3a, 0x6f, 0x3b, 0x86, 0xaf, 0x46, 0x98, 0xcc, 0xec, 0x9b, 0x40, 0x69, 0xf9, 0xf5, 0xd0, 0xa6, 0x5d,
    0xdf, 0x69, 0xb3, 0x0b, 0x85, 0xc7, 0x0b, 0x78, 0xf9, 0xc3, 0x28, 0x60, 0xbe, 0x78,
};

#define FWSIGN_MAX_KEYFILE (64u * 1024u) /* a PEM key is a few hundred bytes */

void fwsign_dev_key(fwsign_key *k)
{
    memcpy(k->d, fwsign_dev_d, sizeof k->d);
    memcpy(k->pub, fwsign_dev_pub, sizeof k->pub);
}

const uint8_t *fwsign_dev_pubkey(void)
{
    return fwsign_dev_pub;
}

static void fwsign_say(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fwsign_say(char *why, size_t cap, const char *fmt, ...)
{
    if (!why || !cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
}

static void fwsign_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* A DRBG over the system's entropy, for key generation and the
 * signature's blinding (which does not change an RFC 6979 signature). */
typedef struct fwsign_rng {
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
} fwsign_rng;

static int fwsign_rng_init(fwsign_rng *r)
{
    static const char pers[] = "ek3 fwsign";
    mbedtls_entropy_init(&r->ent);
    mbedtls_ctr_drbg_init(&r->drbg);
    return mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->ent, (const unsigned char *)pers,
                                 sizeof pers - 1) ? EK3_ECRYPTO : EK3_OK;
}

static void fwsign_rng_free(fwsign_rng *r)
{
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->ent);
}

/* The deterministic signature r || s of a SHA-256 digest with scalar d. */
static int fwsign_sign(const uint8_t d[32], const uint8_t dig[32], uint8_t rs[64])
{
    mbedtls_ecp_group g;
    mbedtls_mpi md, r, s;
    fwsign_rng rng;
    mbedtls_ecp_group_init(&g);
    mbedtls_mpi_init(&md);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int rc = fwsign_rng_init(&rng);
    if (!rc && (mbedtls_ecp_group_load(&g, MBEDTLS_ECP_DP_SECP256R1) || mbedtls_mpi_read_binary(&md, d, 32) ||
                mbedtls_ecp_check_privkey(&g, &md) ||
                mbedtls_ecdsa_sign_det_ext(&g, &r, &s, &md, dig, 32, MBEDTLS_MD_SHA256, mbedtls_ctr_drbg_random,
                                           &rng.drbg) ||
                mbedtls_mpi_write_binary(&r, rs, 32) || mbedtls_mpi_write_binary(&s, rs + 32, 32)))
        rc = EK3_ECRYPTO;
    fwsign_rng_free(&rng);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&md);
    mbedtls_ecp_group_free(&g);
    return rc;
}

int fwsign_sign_digest(const fwsign_key *k, const uint8_t digest[32], uint8_t rs[64])
{
    if (!k || !digest || !rs)
        return EK3_EINVAL;
    return fwsign_sign(k->d, digest, rs);
}

int fwsign_build(const fwsign_key *k, const fwsign_meta *m, const uint8_t *payload, uint32_t n, uint8_t *out,
                 size_t cap, size_t *len)
{
    fwsign_key dev;
    if (!m || !out || !len || (!payload && n))
        return EK3_EINVAL;
    if (n > UINT32_MAX - FWIMG_HDR_SIZE - FWIMG_TRL_SIZE)
        return EK3_ERANGE;
    if (cap < FWSIGN_SIZE(n))
        return EK3_ENOSPC;
    if (!k) {
        fwsign_dev_key(&dev);
        k = &dev;
    }
    uint8_t *h = out, *t = out + FWIMG_HDR_SIZE + n;
    memset(h, 0, FWIMG_HDR_SIZE);
    fwsign_put32(h, FWIMG_MAGIC);
    fwsign_put32(h + 4, FWIMG_FORMAT);
    fwsign_put32(h + 8, m->hw_id);
    fwsign_put32(h + 12, m->version);
    fwsign_put32(h + 16, m->security);
    fwsign_put32(h + 20, n);
    fwsign_put32(h + 24, (uint32_t)m->build_time);
    fwsign_put32(h + 28, (uint32_t)(m->build_time >> 32));
    if (fwimg_key_id(k->pub, h + 32))
        return EK3_ECRYPTO;
    if (n)
        memmove(h + FWIMG_HDR_SIZE, payload, n);
    memset(t, 0, FWIMG_TRL_SIZE);
    fwsign_put32(t, FWIMG_TMAGIC);
    fwsign_put32(t + FWIMG_TRL_ALG_OFF, FWIMG_SIG_ECDSA_P256);
    if (mbedtls_sha256_ret(h, FWIMG_HDR_SIZE + (size_t)n, t + FWIMG_TRL_SHA_OFF, 0))
        return EK3_ECRYPTO;
    int rc = fwsign_sign(k->d, t + FWIMG_TRL_SHA_OFF, t + FWIMG_TRL_SIG_OFF);
    if (rc)
        return rc;
    *len = FWSIGN_SIZE(n);
    return EK3_OK;
}

/* k from an mbedTLS key pair (P-256 checked by the caller). */
static int fwsign_from_ec(const mbedtls_ecp_keypair *kp, fwsign_key *k, int with_private)
{
    size_t olen = 0;
    if (with_private && mbedtls_mpi_write_binary(&kp->d, k->d, sizeof k->d))
        return EK3_ECRYPTO;
    if (mbedtls_ecp_point_write_binary(&kp->grp, &kp->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, k->pub, sizeof k->pub) ||
        olen != FWIMG_PUBKEY_SIZE)
        return EK3_ECRYPTO;
    return EK3_OK;
}

int fwsign_keygen(fwsign_key *k)
{
    fwsign_rng rng;
    mbedtls_ecp_keypair kp;
    mbedtls_ecp_keypair_init(&kp);
    int rc = fwsign_rng_init(&rng);
    if (!rc && mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, &kp, mbedtls_ctr_drbg_random, &rng.drbg))
        rc = EK3_ECRYPTO;
    if (!rc)
        rc = fwsign_from_ec(&kp, k, 1);
    mbedtls_ecp_keypair_free(&kp);
    fwsign_rng_free(&rng);
    return rc;
}

/* pk holding k (with its private half when priv). */
static int fwsign_to_pk(const fwsign_key *k, mbedtls_pk_context *pk, int priv)
{
    if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)))
        return EK3_ECRYPTO;
    mbedtls_ecp_keypair *kp = mbedtls_pk_ec(*pk);
    if (mbedtls_ecp_group_load(&kp->grp, MBEDTLS_ECP_DP_SECP256R1) ||
        mbedtls_ecp_point_read_binary(&kp->grp, &kp->Q, k->pub, sizeof k->pub) ||
        mbedtls_ecp_check_pubkey(&kp->grp, &kp->Q))
        return EK3_ECRYPTO;
    if (priv && (mbedtls_mpi_read_binary(&kp->d, k->d, sizeof k->d) || mbedtls_ecp_check_privkey(&kp->grp, &kp->d)))
        return EK3_ECRYPTO;
    return EK3_OK;
}

/* Write text to path (mode), every error named. */
static int fwsign_write(const char *path, const char *text, mode_t mode, char *why, size_t cap)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0) {
        fwsign_say(why, cap, "%s: cannot create: %s", path, strerror(errno));
        return EK3_EIO;
    }
    size_t n = strlen(text), done = 0;
    while (done < n) {
        ssize_t w = write(fd, text + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            fwsign_say(why, cap, "%s: write error: %s", path, w < 0 ? strerror(errno) : "nothing written");
            close(fd);
            return EK3_EIO;
        }
        done += (size_t)w;
    }
    if (close(fd)) {
        fwsign_say(why, cap, "%s: write error: %s", path, strerror(errno));
        return EK3_EIO;
    }
    return EK3_OK;
}

int fwsign_key_save(const fwsign_key *k, const char *priv_path, const char *pub_path, char *why, size_t cap)
{
    char buf[4096];
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    int rc = fwsign_to_pk(k, &pk, 1);
    if (rc)
        fwsign_say(why, cap, "the key is not a valid P-256 key pair");
    if (!rc && priv_path) {
        if (mbedtls_pk_write_key_pem(&pk, (unsigned char *)buf, sizeof buf)) {
            fwsign_say(why, cap, "%s: mbedTLS could not write the private key as PEM", priv_path);
            rc = EK3_ECRYPTO;
        } else {
            rc = fwsign_write(priv_path, buf, 0600, why, cap);
        }
    }
    if (!rc && pub_path) {
        if (mbedtls_pk_write_pubkey_pem(&pk, (unsigned char *)buf, sizeof buf)) {
            fwsign_say(why, cap, "%s: mbedTLS could not write the public key as PEM", pub_path);
            rc = EK3_ECRYPTO;
        } else {
            rc = fwsign_write(pub_path, buf, 0644, why, cap);
        }
        struct stat st; /* no private key left without its public half (a retry then needed --force) */
        if (rc && priv_path && !stat(priv_path, &st) && S_ISREG(st.st_mode))
            remove(priv_path);
    }
    mbedtls_platform_zeroize(buf, sizeof buf);
    mbedtls_pk_free(&pk);
    return rc;
}

/* A key file into buf (NUL-terminated, as mbedTLS's PEM reader wants);
 * *n counts the NUL. */
static int fwsign_slurp(const char *path, unsigned char **buf, size_t *n, char *why, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fwsign_say(why, cap, "%s: cannot open: %s", path, strerror(errno));
        return errno == ENOENT ? EK3_ENOENT : EK3_EIO;
    }
    unsigned char *b = malloc(FWSIGN_MAX_KEYFILE + 1);
    if (!b) {
        fclose(f);
        fwsign_say(why, cap, "%s: out of memory", path);
        return EK3_EIO;
    }
    size_t got = fread(b, 1, FWSIGN_MAX_KEYFILE + 1, f);
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(b);
        fwsign_say(why, cap, "%s: read error", path);
        return EK3_EIO;
    }
    if (got > FWSIGN_MAX_KEYFILE) {
        free(b);
        fwsign_say(why, cap, "%s: larger than %u bytes: not a key file", path, FWSIGN_MAX_KEYFILE);
        return EK3_EPARSE;
    }
    b[got] = '\0';
    *buf = b;
    *n = got + 1;
    return EK3_OK;
}

/* The key of pk, checked to be P-256. */
static int fwsign_check_type(const char *path, mbedtls_pk_context *pk, char *why, size_t cap)
{
    if (!mbedtls_pk_can_do(pk, MBEDTLS_PK_ECKEY)) {
        fwsign_say(why, cap, "%s: a key of type %s, not an EC P-256 key", path, mbedtls_pk_get_name(pk));
        return EK3_ETYPE;
    }
    const mbedtls_ecp_keypair *kp = mbedtls_pk_ec(*pk);
    if (kp->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        const mbedtls_ecp_curve_info *ci = mbedtls_ecp_curve_info_from_grp_id(kp->grp.id);
        fwsign_say(why, cap, "%s: an EC key on curve %s, not P-256 (prime256v1)", path, ci ? ci->name : "?");
        return EK3_ETYPE;
    }
    return EK3_OK;
}

static int fwsign_load(const char *path, fwsign_key *k, int priv, int *was_priv, char *why, size_t cap)
{
    unsigned char *b = NULL;
    size_t n = 0;
    int rc = fwsign_slurp(path, &b, &n, why, cap);
    if (rc)
        return rc;
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    int e = mbedtls_pk_parse_key(&pk, b, n, NULL, 0);
    int is_priv = e == 0;
    if (was_priv)
        *was_priv = is_priv;
    if (e && !priv) {
        mbedtls_pk_free(&pk);
        mbedtls_pk_init(&pk);
        e = mbedtls_pk_parse_public_key(&pk, b, n);
    }
    if (e) {
        char m[128];
        mbedtls_strerror(e, m, sizeof m);
        mbedtls_pk_context pub;
        mbedtls_pk_init(&pub);
        int is_pub = priv && mbedtls_pk_parse_public_key(&pub, b, n) == 0;
        mbedtls_pk_free(&pub);
        if (is_pub)
            fwsign_say(why, cap, "%s: a public key: signing needs the private key", path);
        else if (e == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG)
            fwsign_say(why, cap, "%s: a key of a type other than EC (Ed25519, DSA, ...): an EC P-256 key is needed",
                       path);
        else if (e == MBEDTLS_ERR_PK_PASSWORD_REQUIRED)
            fwsign_say(why, cap, "%s: the key is encrypted: give an unencrypted one (openssl ec -in K -out K2)", path);
        else
            fwsign_say(why, cap, "%s: not a %s key in PEM or DER (%s)", path, priv ? "private" : "public", m);
        rc = e == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG && !is_pub ? EK3_ETYPE : EK3_EPARSE;
    } else {
        rc = fwsign_check_type(path, &pk, why, cap);
        if (!rc && fwsign_from_ec(mbedtls_pk_ec(pk), k, priv && is_priv)) {
            fwsign_say(why, cap, "%s: the key's point cannot be written", path);
            rc = EK3_EPARSE;
        }
    }
    mbedtls_pk_free(&pk);
    mbedtls_platform_zeroize(b, n);
    free(b);
    return rc;
}

int fwsign_key_load(const char *path, fwsign_key *k, char *why, size_t cap)
{
    if (!path || !k)
        return EK3_EINVAL;
    return fwsign_load(path, k, 1, NULL, why, cap);
}

int fwsign_pub_load(const char *path, uint8_t pub[FWIMG_PUBKEY_SIZE], char *why, size_t cap)
{
    fwsign_key k;
    if (!path || !pub)
        return EK3_EINVAL;
    int was_priv = 0;
    int rc = fwsign_load(path, &k, 0, &was_priv, why, cap);
    if (!rc)
        memcpy(pub, k.pub, FWIMG_PUBKEY_SIZE);
    if (!rc && why && cap)
        why[0] = 0;
    if (!rc && was_priv)
        fwsign_say(why, cap, "%s is a private key: only its public half is taken; give the public key "
                   "(ek3 fwimg keygen's PUB.pem) and keep the private key off the rig", path);
    mbedtls_platform_zeroize(&k, sizeof k);
    return rc;
}

/* One DER INTEGER of a 32-byte unsigned big-endian value at p. */
static size_t fwsign_der_int(const uint8_t v[32], uint8_t *p)
{
    unsigned i = 0;
    while (i < 31 && v[i] == 0)
        i++;
    unsigned pad = v[i] & 0x80 ? 1u : 0u, n = 32 - i + pad;
    p[0] = 0x02;
    p[1] = (uint8_t)n;
    p[2] = 0;
    memcpy(p + 2 + pad, v + i, 32 - i);
    return 2 + n;
}

int fwsign_sig_der(const uint8_t rs[64], uint8_t *der, size_t cap, size_t *len)
{
    uint8_t tmp[72];
    size_t a = fwsign_der_int(rs, tmp + 2);
    size_t b = fwsign_der_int(rs + 32, tmp + 2 + a);
    tmp[0] = 0x30;
    tmp[1] = (uint8_t)(a + b);
    if (!der || !len || cap < 2 + a + b)
        return EK3_ENOSPC;
    memcpy(der, tmp, 2 + a + b);
    *len = 2 + a + b;
    return EK3_OK;
}

int fwsign_sig_from_der(const uint8_t *der, size_t n, uint8_t rs[64])
{
    if (!der || !rs)
        return EK3_EINVAL;
    unsigned char *p = (unsigned char *)(uintptr_t)der;
    const unsigned char *end = der + n;
    size_t len;
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int rc = EK3_OK;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) || p + len != end ||
        mbedtls_asn1_get_mpi(&p, end, &r) || mbedtls_asn1_get_mpi(&p, end, &s) || p != end ||
        mbedtls_mpi_write_binary(&r, rs, 32) || mbedtls_mpi_write_binary(&s, rs + 32, 32))
        rc = EK3_EPARSE;
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    return rc;
}

int fwsign_version_parse(const char *s, uint32_t *v)
{
    unsigned long part[3];
    const char *p = s;
    for (int i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9')
            return EK3_EPARSE;
        char *end;
        errno = 0;
        part[i] = strtoul(p, &end, 10);
        if (errno || end - p > 5)
            return EK3_ERANGE;
        p = end;
        if (i < 2 && *p++ != '.')
            return EK3_EPARSE;
    }
    if (*p)
        return EK3_EPARSE;
    if (part[0] > 65535 || part[1] > 255 || part[2] > 255)
        return EK3_ERANGE;
    *v = FWSIGN_VERSION(part[0], part[1], part[2]);
    return EK3_OK;
}

void fwsign_version_print(FILE *f, uint32_t v)
{
    fprintf(f, "%u.%u.%u", v >> 16, (v >> 8) & 0xffu, v & 0xffu);
}

int fwsign_dev_image(const fwsign_meta *m, uint32_t n, uint64_t seed, uint8_t *out, size_t cap, size_t *len)
{
    uint8_t *pay = malloc(n ? n : 1);
    if (!pay)
        return EK3_ENOSPC;
    for (uint32_t i = 0; i < n; i += 8) {
        uint64_t v = ek3_rng_splitmix64(&seed);
        memcpy(pay + i, &v, n - i < 8 ? n - i : 8);
    }
    int rc = fwsign_build(NULL, m, pay, n, out, cap, len);
    free(pay);
    return rc;
}
