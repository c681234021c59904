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

#ifndef FWIMG_HEAP_BYTES
#define FWIMG_HEAP_BYTES 4096u /* P-256 verify, window 2: the x86-64 build of this config needs
                                  3840 < n <= 4096 B; the M4's block headers are half as large */
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
