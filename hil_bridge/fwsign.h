/*
 * fwsign.h - signing firmware images on the host (prefix fwsign_): the
 * other half of firmware/boot/fwimg.h. Builds an image (header, payload,
 * trailer with SHA-256 and a deterministic ECDSA P-256 signature, RFC
 * 6979: the same key and inputs give the same bytes), makes and reads
 * OpenSSL-compatible PEM keys, and holds the rig's development key pair.
 * Host only (mbedTLS: Debian's libmbedcrypto); `ek3 fwimg` and the rig
 * (factory images of a rack, the update streamer) use it.
 *
 * THE DEVELOPMENT KEY (fwsign_dev_key, fwsign_dev_pubkey) is a fixed
 * P-256 key written in this source, like RIG_API_KEY: anyone can sign
 * with it. It lets a rig rack boot signed images without key files; a
 * real module must never trust it.
 */
#ifndef FWSIGN_H
#define FWSIGN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fwimg.h"

/* A P-256 key pair: the private scalar (big-endian) and the SEC1
 * uncompressed public point (0x04 || X || Y), as fwimg_policy.pubkey
 * takes it. */
typedef struct fwsign_key {
    uint8_t d[32];
    uint8_t pub[FWIMG_PUBKEY_SIZE];
} fwsign_key;

/* What an image's header says besides its payload. */
typedef struct fwsign_meta {
    uint32_t hw_id;      /* BRD_HW_ID for the EK3 module */
    uint32_t version;    /* FWSIGN_VERSION(major, minor, patch) */
    uint32_t security;   /* security counter (anti-rollback) */
    uint64_t build_time; /* s since the epoch (0 is fine: it is only shown) */
} fwsign_meta;

#define FWSIGN_VERSION(major, minor, patch) ((uint32_t)(major) << 16 | (uint32_t)(minor) << 8 | (uint32_t)(patch))

/* The size of an image of an n-byte payload: header + n + trailer. */
#define FWSIGN_SIZE(n) ((size_t)FWIMG_HDR_SIZE + (size_t)(n) + (size_t)FWIMG_TRL_SIZE)

/* The development key pair (see above). Never fails. */
void fwsign_dev_key(fwsign_key *k);

/* The development public key, FWIMG_PUBKEY_SIZE bytes (static storage):
 * the fwimg_policy.pubkey of a rig module. */
const uint8_t *fwsign_dev_pubkey(void);

/* Build a signed image of payload[n] with key k (NULL: the development
 * key) into out[cap]; *len gets FWSIGN_SIZE(n). Deterministic (RFC 6979).
 * 0, EK3_EINVAL (NULL out/len/m, payload NULL with n > 0), EK3_ERANGE
 * (n too big for a 32-bit image), EK3_ENOSPC (cap too small), EK3_ECRYPTO
 * (k is not a valid P-256 key). */
int fwsign_build(const fwsign_key *k, const fwsign_meta *m, const uint8_t *payload, uint32_t n, uint8_t *out,
                 size_t cap, size_t *len);

/* The deterministic ECDSA P-256 signature (RFC 6979 with SHA-256) of a
 * SHA-256 digest with k's private key, as r || s: what fwsign_build puts
 * in the trailer. 0, EK3_EINVAL, EK3_ECRYPTO (not a valid key). */
int fwsign_sign_digest(const fwsign_key *k, const uint8_t digest[32], uint8_t rs[64]);

/* A fresh random P-256 key pair (mbedTLS CTR-DRBG over the system's
 * entropy). 0 or EK3_ECRYPTO. */
int fwsign_keygen(fwsign_key *k);

/* Write k as PEM files: the private key (SEC1 "EC PRIVATE KEY", what
 * `openssl ecparam -genkey` writes, mode 0600) at priv_path and the
 * public key (SubjectPublicKeyInfo "PUBLIC KEY", what `openssl ec
 * -pubout` writes) at pub_path (NULL: none). 0, or EK3_EIO /
 * EK3_ECRYPTO with why[cap] naming the file and the reason; a public key
 * that cannot be written removes the private key just written (a
 * regular file), so that no half pair is left. */
int fwsign_key_save(const fwsign_key *k, const char *priv_path, const char *pub_path, char *why, size_t cap);

/* Read a PEM (or DER) private key: SEC1 or PKCS#8, unencrypted, P-256
 * only. 0, or EK3_ENOENT (no file), EK3_EPARSE (not a key),
 * EK3_ETYPE (a key of another type or curve) with why[cap] naming the
 * file and the reason. */
int fwsign_key_load(const char *path, fwsign_key *k, char *why, size_t cap);

/* Read a PEM (or DER) public key (SubjectPublicKeyInfo) of P-256 into
 * pub[FWIMG_PUBKEY_SIZE]; a private key file is read for its public
 * half too, and then why[cap] holds a warning to show (it is empty
 * otherwise on success). Errors as fwsign_key_load. */
int fwsign_pub_load(const char *path, uint8_t pub[FWIMG_PUBKEY_SIZE], char *why, size_t cap);

/* The signature r || s (64 bytes, the trailer's) as the DER
 * ECDSA-Sig-Value (SEQUENCE of two INTEGERs) that `openssl dgst -verify
 * -signature` reads, into der[cap] (72 bytes always suffice); *len gets
 * its size. 0, EK3_ENOSPC. */
int fwsign_sig_der(const uint8_t rs[64], uint8_t *der, size_t cap, size_t *len);

/* The reverse: a DER ECDSA-Sig-Value into r || s. 0, EK3_EPARSE. */
int fwsign_sig_from_der(const uint8_t *der, size_t n, uint8_t rs[64]);

/* An image for the rig (fwsign_build with the development key) whose
 * payload is n bytes of ek3_rng_splitmix64 from seed: the factory image
 * (fwinst.h) and a scenario's update{version=...} (the rig's modules run
 * the same code whatever their image holds: the image is what is sent,
 * checked, staged and booted). Into out[cap]; *len gets FWSIGN_SIZE(n).
 * fwsign_build's errors, and EK3_ENOSPC (out of memory). */
int fwsign_dev_image(const fwsign_meta *m, uint32_t n, uint64_t seed, uint8_t *out, size_t cap, size_t *len);

/* A version written "A.B.C" (major 0..65535, minor and patch 0..255,
 * decimal) into *v, packed as FWSIGN_VERSION (fwimg.h). 0, EK3_EPARSE
 * (not three dot-separated numbers), EK3_ERANGE (a part too large). */
int fwsign_version_parse(const char *s, uint32_t *v);

/* v written "A.B.C" to f (no newline). */
void fwsign_version_print(FILE *f, uint32_t v);

#endif /* FWSIGN_H */
