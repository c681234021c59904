/* frames.h - the test sequence of frames the transport tests send: every
 * length, classic and FD, 11- and 29-bit (frame k is always the same). */
#ifndef TEST_FRAMES_H
#define TEST_FRAMES_H

#include <string.h>

#include "can_frame.h"

static inline cfd_frame frame_k(unsigned k)
{
    static const uint8_t fd_lens[] = {0, 1, 7, 8, 12, 16, 20, 24, 32, 48, 64};
    cfd_frame f;
    memset(&f, 0, sizeof f);
    int fd = k % 3 != 0;
    f.flags = (uint8_t)(CFD_FLAG_EFF | (fd ? CFD_FLAG_FD | CFD_FLAG_BRS : 0));
    if (k % 7 == 0)
        f.flags &= (uint8_t)~CFD_FLAG_EFF;
    f.id = (f.flags & CFD_FLAG_EFF) ? (0x1000000u + k * 977u) & 0x1FFFFFFFu : (k * 13u) & 0x7FFu;
    f.len = fd ? fd_lens[k % 11] : (uint8_t)(k % 9);
    for (unsigned i = 0; i < f.len && i < sizeof f.data; i++)
        f.data[i] = (uint8_t)(k * 31 + i);
    return f;
}

#endif /* TEST_FRAMES_H */
