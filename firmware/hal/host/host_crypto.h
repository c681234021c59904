/*
 * host_crypto.h - AES-CMAC and random numbers for host builds, from
 * mbedTLS (prefix hostcrypto_). The target HAL provides the same
 * auth_crypto from the STM32G474's AES peripheral.
 */
#ifndef HOST_CRYPTO_H
#define HOST_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"

/* AES-128-CMAC (RFC 4493) of msg into tag[16]. Returns 0 or EK3_ECRYPTO. */
int hostcrypto_cmac(void *ctx, const uint8_t key[16], const uint8_t *msg, size_t len,
                    uint8_t tag[16]);

/* The auth_crypto of the host: hostcrypto_cmac, no context. */
auth_crypto hostcrypto_auth(void);

#endif /* HOST_CRYPTO_H */
