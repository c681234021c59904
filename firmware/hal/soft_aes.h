/*
 * soft_aes.h - AES-128 (FIPS 197) and AES-CMAC (RFC 4493) in portable C
 * (prefix saes_), for the target: the STM32G474 has a true random number
 * generator but no AES block (the STM32G484 has one). The host uses
 * mbedTLS; a test holds the two to the same answers.
 *
 * Table-based (the S-box is 256 bytes of flash); no heap, no state
 * outside the caller's. Not hardened against cache-timing attacks:
 * the Cortex-M4 has no data cache, so table lookups take constant time
 * there.
 */
#ifndef SOFT_AES_H
#define SOFT_AES_H

#include <stddef.h>
#include <stdint.h>

typedef struct saes_key {
    uint8_t rk[176]; /* 11 round keys */
} saes_key;

/* Expand a 128-bit key. */
void saes_setkey(saes_key *k, const uint8_t key[16]);

/* Encrypt one block (in and out may be the same buffer). */
void saes_encrypt(const saes_key *k, const uint8_t in[16], uint8_t out[16]);

/* AES-128-CMAC of msg into tag[16]. Matches auth_cmac_fn: ctx unused,
 * always returns 0. */
int saes_cmac(void *ctx, const uint8_t key[16], const uint8_t *msg, size_t len, uint8_t tag[16]);

#endif /* SOFT_AES_H */
