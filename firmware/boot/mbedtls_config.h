/*
 * mbedtls_config.h - mbedTLS 2.28.3 for the STM32G474 (MBEDTLS_CONFIG_FILE
 * of the target build, boot/mbedtls.cmake): only what fwimg_verify needs,
 * SHA-256 and ECDSA P-256 verification. Host builds use Debian's
 * libmbedcrypto and its own config; the algorithms are the same code.
 *
 * Memory: bignums are allocated (mbedTLS has no other way); they come from
 * mbedTLS's buffer allocator over a static pool (boot/fwimg_heap.c),
 * reset at each check. No libc heap, no stdio, no time.
 */
#ifndef EK3_MBEDTLS_CONFIG_H
#define EK3_MBEDTLS_CONFIG_H

/* System: Cortex-M4, inline assembly for the bignum multiply (bn_mul.h). */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_NO_PLATFORM_ENTROPY

/* Platform: calloc/free through function pointers set by the buffer
 * allocator; no libc fallbacks (an allocation before the pool is set
 * fails instead of reaching newlib's malloc). */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
/* The allocator's answer to a corrupted heap: a fault (the HAL's fault
 * handler, then the watchdog), not newlib's exit(). */
#define MBEDTLS_PLATFORM_EXIT_MACRO(code) __builtin_trap()

/* Verification only. */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM       /* fast reduction modulo p256: boot time */
#define MBEDTLS_ECP_WINDOW_SIZE 2    /* RAM over speed: the pool stays small */
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
#define MBEDTLS_ECP_NO_INTERNAL_RNG  /* verification handles public data only: no blinding needed */
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ASN1_PARSE_C         /* ECDSA's prerequisites (signatures in */
#define MBEDTLS_ASN1_WRITE_C         /* DER: unused here, dropped by the linker) */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER       /* the rolled-up compression loop: less flash */
#define MBEDTLS_MPI_MAX_SIZE 64      /* bytes: 512-bit numbers at most */
#define MBEDTLS_MPI_WINDOW_SIZE 2

#include "mbedtls/check_config.h"

#endif /* EK3_MBEDTLS_CONFIG_H */
