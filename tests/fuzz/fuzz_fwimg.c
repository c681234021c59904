/* fuzz_fwimg.c - fwimg_verify (what secure boot and the update receiver
 * run on an image from flash or the bus) over arbitrary bytes, with the
 * rig's development key trusted: never a crash, never a read outside what
 * is there or of more than a piece, a verdict that agrees with itself
 * (0 exactly when the reason is ok, a named reason otherwise), and an
 * accepted image that fits in the input. fwimg.c is compiled in, so the
 * fuzzer sees its branches. Seeds: a valid image, a truncated one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "ek3_err.h"
#include "fwimg.h"
#include "fwsign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz_src {
    const uint8_t *b;
    size_t n;
} fz_src;

static int fz_read(void *ctx, uint32_t off, void *buf, size_t n)
{
    const fz_src *s = ctx;
    if (n > 256 && n != FWIMG_TRL_SIZE)
        abort(); /* pieces only: constant memory */
    if ((size_t)off + n > s->n)
        abort(); /* beyond avail */
    memcpy(buf, s->b + off, n);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > BRD_SLOT_SIZE)
        return 0;
    fz_src s = {data, size};
    /* Two modules: one with a floor of 0, one whose floor and slot come
     * from the input's last bytes (any policy must be safe). */
    for (int pass = 0; pass < 2; pass++) {
        fwimg_policy pol = {BRD_HW_ID, 0, BRD_SLOT_SIZE, fwsign_dev_pubkey(), NULL};
        if (pass && size >= 8) {
            pol.min_security = data[size - 1];
            pol.max_size = (uint32_t)data[size - 2] << 12 | data[size - 3];
        }
        fwimg_info info;
        fwimg_why why = FWIMG_WHY_COUNT_;
        int rc = fwimg_verify(fz_read, &s, (uint32_t)size, &pol, &info, &why);
        if ((rc == 0) != (why == FWIMG_OK) || (unsigned)why >= FWIMG_WHY_COUNT_ || rc > 0)
            abort();
        if (!strcmp(fwimg_why_name(why), "?"))
            abort();
        if (rc == 0 && (info.total > size || info.total != FWIMG_HDR_SIZE + info.hdr.payload_size + FWIMG_TRL_SIZE ||
                        info.hdr.security < pol.min_security))
            abort();
        fwimg_hdr h;
        fwimg_why hw;
        int hr = fwimg_parse_hdr(data, size, &pol, &h, &hw);
        if ((hr == 0) != (hw == FWIMG_OK))
            abort();
    }
    return 0;
}
