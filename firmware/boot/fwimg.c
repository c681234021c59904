/* fwimg.c - the signed firmware image's check (fwimg.h): header, then
 * SHA-256 over header and payload in pieces, then the trailer's digest
 * and its ECDSA P-256 signature, all with mbedTLS (Debian's
 * libmbedcrypto on the host; the same sources cross-compiled on the
 * STM32G474 with firmware/boot/mbedtls_config.h). Constant memory: one
 * piece of FWIMG_PIECE bytes on the stack whatever the image's size. */
#include "fwimg.h"

#include <string.h>

#include "ek3_err.h"
#include "mbedtls/bignum.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/sha256.h"

#if defined(FWIMG_TARGET_HEAP)
/* The target: mbedTLS's bignums take their memory from a static pool
 * handed to mbedTLS's buffer allocator afresh at each check
 * (boot/fwimg_heap.c, in the mbedTLS archive). */
void fwimg_heap_begin(void);
void fwimg_heap_end(void);
#endif

#define FWIMG_PIECE 256u /* bytes hashed per read */

static const char *const fwimg_names[FWIMG_WHY_COUNT_] = {
    [FWIMG_OK] = "ok",
    [FWIMG_TRUNCATED] = "truncated",
    [FWIMG_BAD_MAGIC] = "bad-magic",
    [FWIMG_BAD_FORMAT] = "bad-format",
    [FWIMG_TOO_BIG] = "too-big",
    [FWIMG_WRONG_HW] = "wrong-hw",
    [FWIMG_DOWNGRADE] = "downgrade",
    [FWIMG_UNSIGNED] = "unsigned",
    [FWIMG_UNKNOWN_KEY] = "unknown-key",
    [FWIMG_BAD_HASH] = "bad-hash",
    [FWIMG_BAD_SIGNATURE] = "bad-signature",
    [FWIMG_IO] = "io",
};

const char *fwimg_why_name(fwimg_why w)
{
    return (unsigned)w < FWIMG_WHY_COUNT_ ? fwimg_names[w] : "?";
}

static uint32_t fwimg_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The ek3_err code of a reason. */
static int fwimg_err(fwimg_why w)
{
    switch (w) {
    case FWIMG_OK: return EK3_OK;
    case FWIMG_TOO_BIG: return EK3_ERANGE;
    case FWIMG_WRONG_HW:
    case FWIMG_DOWNGRADE:
    case FWIMG_UNSIGNED:
    case FWIMG_UNKNOWN_KEY: return EK3_EPERM;
    case FWIMG_BAD_HASH:
    case FWIMG_BAD_SIGNATURE: return EK3_EFORGED;
    case FWIMG_IO: return EK3_EIO;
    default: return EK3_EPARSE;
    }
}

static int fwimg_refuse(fwimg_why *why, fwimg_why w)
{
    if (why)
        *why = w;
    return fwimg_err(w);
}

int fwimg_parse_hdr(const uint8_t *buf, size_t n, const fwimg_policy *pol, fwimg_hdr *out, fwimg_why *why)
{
    if (!buf || !out || !why) {
        if (why)
            *why = FWIMG_TRUNCATED;
        return EK3_EINVAL;
    }
    if (n < FWIMG_HDR_SIZE)
        return fwimg_refuse(why, FWIMG_TRUNCATED);
    fwimg_hdr h;
    h.magic = fwimg_le32(buf);
    h.format = fwimg_le32(buf + 4);
    h.hw_id = fwimg_le32(buf + 8);
    h.version = fwimg_le32(buf + 12);
    h.security = fwimg_le32(buf + 16);
    h.payload_size = fwimg_le32(buf + 20);
    h.build_time = (uint64_t)fwimg_le32(buf + 24) | (uint64_t)fwimg_le32(buf + 28) << 32;
    memcpy(h.key_id, buf + 32, sizeof h.key_id);
    *out = h;
    if (h.magic != FWIMG_MAGIC)
        return fwimg_refuse(why, FWIMG_BAD_MAGIC);
    if (h.format != FWIMG_FORMAT)
        return fwimg_refuse(why, FWIMG_BAD_FORMAT);
    /* The whole image must have a size in 32 bits at all. */
    if (h.payload_size > UINT32_MAX - FWIMG_HDR_SIZE - FWIMG_TRL_SIZE)
        return fwimg_refuse(why, FWIMG_TOO_BIG);
    if (pol) {
        if (FWIMG_HDR_SIZE + h.payload_size + FWIMG_TRL_SIZE > pol->max_size)
            return fwimg_refuse(why, FWIMG_TOO_BIG);
        if (h.hw_id != pol->hw_id)
            return fwimg_refuse(why, FWIMG_WRONG_HW);
        if (h.security < pol->min_security)
            return fwimg_refuse(why, FWIMG_DOWNGRADE);
    }
    return fwimg_refuse(why, FWIMG_OK);
}

int fwimg_key_id(const uint8_t pubkey[FWIMG_PUBKEY_SIZE], uint8_t id[8])
{
    uint8_t d[32];
    if (!pubkey || !id)
        return EK3_EINVAL;
    if (mbedtls_sha256_ret(pubkey, FWIMG_PUBKEY_SIZE, d, 0) != 0)
        return EK3_ECRYPTO;
    memcpy(id, d, 8);
    return EK3_OK;
}

/* The ECDSA P-256 check of digest d against the SEC1 key and r || s.
 * FWIMG_OK, FWIMG_UNKNOWN_KEY (the key is not a point of the curve),
 * FWIMG_BAD_SIGNATURE; *crypto set when mbedTLS itself failed (memory). */
static fwimg_why fwimg_ecdsa(const uint8_t *pubkey, const uint8_t d[32], const uint8_t rs[64], int *crypto)
{
    mbedtls_ecp_group g;
    mbedtls_ecp_point q;
    mbedtls_mpi r, s;
    mbedtls_ecp_group_init(&g);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    fwimg_why w = FWIMG_BAD_SIGNATURE;
    *crypto = 0;
    if (mbedtls_ecp_group_load(&g, MBEDTLS_ECP_DP_SECP256R1) != 0 || mbedtls_mpi_read_binary(&r, rs, 32) != 0 ||
        mbedtls_mpi_read_binary(&s, rs + 32, 32) != 0) {
        *crypto = 1;
    } else if (mbedtls_ecp_point_read_binary(&g, &q, pubkey, FWIMG_PUBKEY_SIZE) != 0 ||
               mbedtls_ecp_check_pubkey(&g, &q) != 0) {
        w = FWIMG_UNKNOWN_KEY;
    } else {
        int rc = mbedtls_ecdsa_verify(&g, d, 32, &q, &r, &s);
        if (rc == 0)
            w = FWIMG_OK;
        else if (rc != MBEDTLS_ERR_ECP_VERIFY_FAILED && rc != MBEDTLS_ERR_ECP_BAD_INPUT_DATA)
            *crypto = 1;
    }
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&g);
    return w;
}

int fwimg_ecdsa_verify(const uint8_t pubkey[FWIMG_PUBKEY_SIZE], const uint8_t digest[32], const uint8_t rs[64])
{
    if (!pubkey || !digest || !rs)
        return EK3_EINVAL;
#if defined(FWIMG_TARGET_HEAP)
    fwimg_heap_begin();
#endif
    int crypto;
    fwimg_why w = fwimg_ecdsa(pubkey, digest, rs, &crypto);
#if defined(FWIMG_TARGET_HEAP)
    fwimg_heap_end();
#endif
    if (crypto)
        return EK3_ECRYPTO;
    return w == FWIMG_OK ? EK3_OK : w == FWIMG_UNKNOWN_KEY ? EK3_EINVAL : EK3_EFORGED;
}

static int fwimg_check(fwimg_read_fn rd, void *ctx, uint32_t avail, const fwimg_policy *pol, fwimg_info *out,
                       fwimg_why *why)
{
    uint8_t piece[FWIMG_PIECE];
    memset(out, 0, sizeof *out);
    if (avail < FWIMG_HDR_SIZE)
        return fwimg_refuse(why, FWIMG_TRUNCATED);
    if (rd(ctx, 0, piece, FWIMG_HDR_SIZE) != 0)
        return fwimg_refuse(why, FWIMG_IO);
    int rc = fwimg_parse_hdr(piece, FWIMG_HDR_SIZE, pol, &out->hdr, why);
    if (rc)
        return rc;
    uint32_t body = FWIMG_HDR_SIZE + out->hdr.payload_size; /* no overflow: parse_hdr */
    out->total = body + FWIMG_TRL_SIZE;
    if (out->total > avail)
        return fwimg_refuse(why, FWIMG_TRUNCATED);

    /* The trailer: magic, algorithm, digest, r || s. */
    uint8_t trl[FWIMG_TRL_SIZE];
    if (rd(ctx, body, trl, sizeof trl) != 0)
        return fwimg_refuse(why, FWIMG_IO);
    if (fwimg_le32(trl) != FWIMG_TMAGIC)
        return fwimg_refuse(why, FWIMG_BAD_MAGIC);
    uint32_t alg = fwimg_le32(trl + FWIMG_TRL_ALG_OFF);
    if (alg == 0)
        return fwimg_refuse(why, FWIMG_UNSIGNED);
    if (alg != FWIMG_SIG_ECDSA_P256)
        return fwimg_refuse(why, FWIMG_BAD_FORMAT);
    const uint8_t *key;
    rc = fwimg_pick_key(&out->hdr, pol, &key, why);
    if (rc)
        return rc;

    /* SHA-256 over header and payload, a piece at a time. */
    mbedtls_sha256_context sh;
    mbedtls_sha256_init(&sh);
    int bad = mbedtls_sha256_starts_ret(&sh, 0) != 0;
    for (uint32_t off = 0; off < body && !bad;) {
        uint32_t n = body - off < FWIMG_PIECE ? body - off : FWIMG_PIECE;
        if (rd(ctx, off, piece, n) != 0) {
            mbedtls_sha256_free(&sh);
            return fwimg_refuse(why, FWIMG_IO);
        }
        bad = mbedtls_sha256_update_ret(&sh, piece, n) != 0;
        off += n;
    }
    bad = bad || mbedtls_sha256_finish_ret(&sh, out->sha256) != 0;
    mbedtls_sha256_free(&sh);
    if (bad)
        return EK3_ECRYPTO;
    uint8_t diff = 0;
    for (unsigned i = 0; i < 32; i++)
        diff |= (uint8_t)(out->sha256[i] ^ trl[FWIMG_TRL_SHA_OFF + i]);
    if (diff)
        return fwimg_refuse(why, FWIMG_BAD_HASH);

    int crypto;
    fwimg_why w = fwimg_ecdsa(key, out->sha256, trl + FWIMG_TRL_SIG_OFF, &crypto);
    if (crypto) {
        *why = FWIMG_BAD_SIGNATURE;
        return EK3_ECRYPTO;
    }
    if (w == FWIMG_UNKNOWN_KEY) {
        *why = w;
        return EK3_EINVAL; /* the policy's key is not a P-256 point */
    }
    return fwimg_refuse(why, w);
}

int fwimg_pick_key(const fwimg_hdr *h, const fwimg_policy *pol, const uint8_t **key, fwimg_why *why)
{
    if (!h || !pol || !pol->pubkey || !key || !why)
        return EK3_EINVAL;
    /* the key the header names: the policy's first, or its second */
    uint8_t id[8];
    *key = pol->pubkey;
    if (fwimg_key_id(*key, id) != 0)
        return EK3_ECRYPTO;
    if (memcmp(id, h->key_id, sizeof id) != 0 && pol->pubkey2) {
        *key = pol->pubkey2;
        if (fwimg_key_id(*key, id) != 0)
            return EK3_ECRYPTO;
    }
    if (memcmp(id, h->key_id, sizeof id) != 0)
        return fwimg_refuse(why, FWIMG_UNKNOWN_KEY);
    return EK3_OK;
}

int fwimg_verify(fwimg_read_fn rd, void *ctx, uint32_t avail, const fwimg_policy *pol, fwimg_info *out,
                 fwimg_why *why)
{
    if (!why)
        return EK3_EINVAL;
    *why = FWIMG_IO;
    if (!rd || !pol || !pol->pubkey || !out)
        return EK3_EINVAL;
#if defined(FWIMG_TARGET_HEAP)
    fwimg_heap_begin();
#endif
    int rc = fwimg_check(rd, ctx, avail, pol, out, why);
#if defined(FWIMG_TARGET_HEAP)
    fwimg_heap_end();
#endif
    return rc;
}
