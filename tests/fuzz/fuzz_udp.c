/* fuzz_udp.c - libFuzzer: one datagram of the rig's own UDP format
 * (transport.h, tp_udp_decode). An accepted datagram holds a valid
 * frame and re-encodes to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cfd_frame f;
    uint32_t seq;
    int rc = tp_udp_decode(data, size, &f, &seq);
    if (rc != EK3_OK)
        return 0;
    if (cfd_len_to_dlc(f.len, (f.flags & CFD_FLAG_FD) != 0) < 0)
        abort();
    if (f.id > ((f.flags & CFD_FLAG_EFF) ? 0x1FFFFFFFu : 0x7FFu))
        abort();
    uint8_t back[TP_UDP_MAX];
    size_t n = tp_udp_encode(back, &f, seq);
    if (n != size || memcmp(back, data, size))
        abort();
    return 0;
}
