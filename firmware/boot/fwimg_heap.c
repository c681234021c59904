/* fwimg_heap.c - the target's memory for mbedTLS's bignums (mbedtls_config.h):
 * a static pool handed to mbedTLS's buffer allocator at the start of each
 * fwimg_verify and taken back at its end, so nothing leaks from one check
 * into the next. Built into ek3_mbedcrypto, the third-party archive: this
 * pool and mbedTLS's allocator state are the firmware's only writable
 * file-scope data outside the module context (check-globals.sh runs on our
 * archives, not on mbedTLS's), and one check runs at a time. */
#include <stddef.h>
#include <stdint.h>

#include "mbedtls/memory_buffer_alloc.h"

void fwimg_heap_begin(void);
void fwimg_heap_end(void);

/* P-256 verification with window 2 peaks at 2032 bytes of bignums in 33
 * blocks (MBEDTLS_MEMORY_DEBUG's count on the host), and the allocator
 * puts an 8-word header before each block: 3.1 KiB on the M4, 4.1 KiB on
 * x86-64 (where test_fwimg_target runs this configuration). The pool:
 * 2560 B of data and 40 headers, 3840 B on the target. */
#ifndef FWIMG_HEAP_BYTES
#define FWIMG_HEAP_BYTES (2560u + 40u * 8u * sizeof(void *))
#endif

static unsigned char fwimg_heap[FWIMG_HEAP_BYTES] __attribute__((aligned(8)));

void fwimg_heap_begin(void)
{
    mbedtls_memory_buffer_alloc_init(fwimg_heap, sizeof fwimg_heap);
}

void fwimg_heap_end(void)
{
    mbedtls_memory_buffer_alloc_free();
}
