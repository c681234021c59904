/* fuzz_cannelloni.c - libFuzzer: one cannelloni datagram (transport.h,
 * tp_cnl_decode). Every accepted frame is valid for its kind; the frames
 * re-encode (tp_cnl_encode) and decode again to the same frames; a
 * refused datagram yields none. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cfd_frame fz_a[TP_CNL_FRAMES_MAX], fz_b[TP_CNL_FRAMES_MAX];
static uint8_t fz_buf[TP_CNL_HEADER + TP_CNL_FRAMES_MAX * (TP_CNL_FRAME_HEADER + 1 + CFD_MAX_LEN)];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t c = 7, c2 = 0;
    uint8_t seq = 0, seq2 = 0;
    int rc = tp_cnl_decode(data, size, fz_a, TP_CNL_FRAMES_MAX, &c, &seq);
    if (rc != EK3_OK) {
        if (c != 0)
            abort();
        return 0;
    }
    for (size_t i = 0; i < c; i++) {
        const cfd_frame *f = &fz_a[i];
        int fd = (f->flags & CFD_FLAG_FD) != 0;
        if (fd ? cfd_len_to_dlc(f->len, 1) < 0 : f->len > CFD_CC_MAX_LEN)
            abort();
        if (f->id > ((f->flags & (CFD_FLAG_EFF | CFD_FLAG_ERR)) ? 0x1FFFFFFFu : 0x7FFu))
            abort();
        if (fd && (f->flags & (CFD_FLAG_RTR | CFD_FLAG_ERR)))
            abort();
    }
    size_t n = tp_cnl_encode(fz_buf, sizeof fz_buf, fz_a, c, seq);
    if (n != size)
        abort(); /* the same frames take the same room */
    if (tp_cnl_decode(fz_buf, n, fz_b, TP_CNL_FRAMES_MAX, &c2, &seq2) != EK3_OK || c2 != c || seq2 != seq)
        abort();
    for (size_t i = 0; i < c; i++)
        if (fz_a[i].id != fz_b[i].id || fz_a[i].flags != fz_b[i].flags || fz_a[i].len != fz_b[i].len ||
            (!(fz_a[i].flags & CFD_FLAG_RTR) && memcmp(fz_a[i].data, fz_b[i].data, fz_a[i].len)))
            abort();
    return 0;
}
