/*
 * fwimg.h - the signed firmware image (prefix fwimg_): its format, and
 * the check that secure boot and the update receiver both run.
 *
 * An image is three parts, every integer little-endian:
 *
 *   header  FWIMG_HDR_SIZE bytes  magic "EK3F", format 1, the hardware id
 *                                 (BRD_HW_ID), version (major << 16 |
 *                                 minor << 8 | patch), security counter
 *                                 (anti-rollback), payload size, build
 *                                 time, the signing key's id (first 8
 *                                 bytes of SHA-256 of its public key)
 *   payload payload_size bytes    (the STM32G474 binary)
 *   trailer FWIMG_TRL_SIZE bytes  magic "EK3S", the signature algorithm
 *                                 (FWIMG_SIG_ECDSA_P256), SHA-256 of header
 *                                 and payload (FIPS 180-4), ECDSA P-256
 *                                 signature r || s of that digest (FIPS
 *                                 186-4, 32 + 32 bytes big-endian)
 *
 * The header and payload are what is signed: version, security counter
 * and hardware id cannot be changed without breaking the signature.
 * The verification is mbedTLS's (sha256, ecdsa), the same sources on the
 * host and, cross-compiled, on the STM32G474.
 *
 * Every refusal has a reason from fwimg_why (counted and logged by the
 * update receiver; named by `ek3 fwimg verify`).
 */
#ifndef FWIMG_H
#define FWIMG_H

#include <stddef.h>
#include <stdint.h>

#define FWIMG_MAGIC 0x46334B45u  /* "EK3F" */
#define FWIMG_TMAGIC 0x53334B45u /* "EK3S" */
#define FWIMG_FORMAT 1u
#define FWIMG_HDR_SIZE 64u
#define FWIMG_TRL_SIZE 104u
#define FWIMG_SIG_ECDSA_P256 1u
#define FWIMG_PUBKEY_SIZE 65u    /* SEC1 uncompressed point: 0x04 || X || Y */

/* Byte offsets. Header: magic 0, format 4, hw_id 8, version 12, security
 * 16, payload_size 20, build_time 24 (64 bits), key_id 32 (8 bytes),
 * 40..63 reserved, zero (signed like the rest). Trailer: */
#define FWIMG_TRL_ALG_OFF 4u     /* uint32 signature algorithm (0: unsigned) */
#define FWIMG_TRL_SHA_OFF 8u     /* 32 bytes SHA-256 of header and payload */
#define FWIMG_TRL_SIG_OFF 40u    /* 64 bytes r || s */

typedef struct fwimg_hdr {
    uint32_t magic, format;
    uint32_t hw_id;          /* BRD_HW_ID of the board it is built for */
    uint32_t version;        /* major << 16 | minor << 8 | patch */
    uint32_t security;       /* security counter: never boots below the module's floor */
    uint32_t payload_size;   /* bytes */
    uint64_t build_time;     /* s since the epoch */
    uint8_t key_id[8];       /* SHA-256(public key)[0..7] */
} fwimg_hdr;

/* Why an image is refused. FWIMG_OK is 0. */
typedef enum fwimg_why {
    FWIMG_OK = 0,
    FWIMG_TRUNCATED,      /* shorter than its header says, or than a header */
    FWIMG_BAD_MAGIC,      /* not an image (header or trailer magic) */
    FWIMG_BAD_FORMAT,     /* a format version this code does not read */
    FWIMG_TOO_BIG,        /* larger than the slot */
    FWIMG_WRONG_HW,       /* built for other hardware */
    FWIMG_DOWNGRADE,      /* security counter below the module's floor */
    FWIMG_UNSIGNED,       /* no signature (algorithm 0) */
    FWIMG_UNKNOWN_KEY,    /* signed by a key the module does not trust */
    FWIMG_BAD_HASH,       /* header or payload changed after signing */
    FWIMG_BAD_SIGNATURE,  /* the signature does not verify */
    FWIMG_IO,             /* the flash could not be read */
    FWIMG_WHY_COUNT_
} fwimg_why;

/* The reason's name ("bad-signature", ...), or "?" out of range. */
const char *fwimg_why_name(fwimg_why w);

/* What the module accepts. */
typedef struct fwimg_policy {
    uint32_t hw_id;                    /* its board's BRD_HW_ID */
    uint32_t min_security;             /* its anti-rollback floor */
    uint32_t max_size;                 /* the slot's size, bytes */
    const uint8_t *pubkey;             /* FWIMG_PUBKEY_SIZE bytes: the trusted key */
    const uint8_t *pubkey2;            /* a second trusted key (a provisioned release key), or NULL; the
                                        * header's key id says which of the two signed the image */
} fwimg_policy;

typedef struct fwimg_info {
    fwimg_hdr hdr;
    uint32_t total;                    /* header + payload + trailer, bytes */
    uint8_t sha256[32];
} fwimg_info;

/* Reads n bytes at off of wherever the image lies (a RAM buffer, a
 * flash slot). 0, or a negative ek3_err code (the check then says
 * FWIMG_IO). */
typedef int (*fwimg_read_fn)(void *ctx, uint32_t off, void *buf, size_t n);

/* Parse and check a header (no signature): magic, format, hardware,
 * security floor, size against the slot, in that order of reasons
 * (truncated, bad-magic, bad-format, too-big, wrong-hw, downgrade).
 * pol NULL: only the header's own shape (magic, format, a total size
 * that fits 32 bits), as `ek3 fwimg inspect` reads it. *out is filled
 * from the bytes whenever n holds a header, even when refused. Returns
 * 0 or EK3_EPARSE / EK3_ERANGE / EK3_EPERM with *why set (EK3_EINVAL
 * for a NULL buf, out or why). */
int fwimg_parse_hdr(const uint8_t *buf, size_t n, const fwimg_policy *pol, fwimg_hdr *out, fwimg_why *why);

/* The key id of a SEC1 uncompressed public key: SHA-256(pubkey)[0..7],
 * what an image's header names its signer by. 0, EK3_EINVAL, EK3_ECRYPTO. */
int fwimg_key_id(const uint8_t pubkey[FWIMG_PUBKEY_SIZE], uint8_t id[8]);

/* The trusted key that signed an image, by its header's key id:
 * pol->pubkey, else pol->pubkey2 (when given). 0 with *key set, or
 * EK3_EPERM with *why unknown-key, EK3_ECRYPTO (a key id could not be
 * computed), EK3_EINVAL (a NULL argument). What fwimg_verify checks
 * before the hash; UPDATE_MGR asks it as soon as a transfer's first
 * FWIMG_HDR_SIZE bytes are staged, so a foreign image is refused at its
 * header, not after the whole transfer. */
int fwimg_pick_key(const fwimg_hdr *h, const fwimg_policy *pol, const uint8_t **key, fwimg_why *why);

/* The ECDSA P-256 check alone (FIPS 186-4): signature rs (r || s, 32 + 32
 * bytes big-endian) of a SHA-256 digest under pubkey (SEC1 uncompressed),
 * the step fwimg_verify ends with; for published test vectors. 0,
 * EK3_EFORGED (does not verify), EK3_EINVAL (pubkey not a P-256 point),
 * EK3_ECRYPTO (mbedTLS out of memory). */
int fwimg_ecdsa_verify(const uint8_t pubkey[FWIMG_PUBKEY_SIZE], const uint8_t digest[32], const uint8_t rs[64]);

/* Check a whole image read through rd (at most avail bytes there):
 * header as fwimg_parse_hdr, then SHA-256 over header and payload in
 * pieces (no buffer of the image's size), then the trailer's digest and
 * its signature against pol->pubkey. 0 with *out filled, or a negative
 * ek3_err code with *why the first reason found, in this order: the
 * header's (fwimg_parse_hdr), truncated (header + payload + trailer
 * beyond avail), bad-magic (trailer), unsigned (algorithm 0), bad-format
 * (another algorithm), unknown-key (the header's key id is not pol's),
 * bad-hash, bad-signature; io when rd fails. Codes: EK3_EPARSE (shape),
 * EK3_ERANGE (too big), EK3_EPERM (policy), EK3_EFORGED (hash,
 * signature), EK3_EIO (rd), EK3_EINVAL (NULL argument, or pol->pubkey
 * not a P-256 point: why unknown-key), EK3_ECRYPTO (mbedTLS out of
 * memory: why bad-signature, never accepted). Memory: a 256-byte piece
 * and mbedTLS's bignums (heap on the host; on the target a linker-
 * reserved pool reset at each call, so calls must not overlap). */
int fwimg_verify(fwimg_read_fn rd, void *ctx, uint32_t avail, const fwimg_policy *pol, fwimg_info *out,
                 fwimg_why *why);

#endif /* FWIMG_H */
