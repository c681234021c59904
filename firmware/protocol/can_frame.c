/* can_frame.c - data lengths and bit timing of CAN and CAN-FD frames. */
#include "can_frame.h"

#include <string.h>

#include "ek3_err.h"

/* Field sizes of include/linux/can/length.h (see the header comment). */
#define CFD_CC_HEADER_SFF 19u /* SOF, ID11, RTR, IDE, FDF, DLC */
#define CFD_CC_HEADER_EFF 39u /* SOF, ID11, SRR, IDE, ID18, RTR, FDF, r0, DLC */
#define CFD_FD_HEADER_SFF 22u /* SOF, ID11, RRS, IDE, FDF, res, BRS, ESI, DLC */
#define CFD_FD_HEADER_EFF 41u /* SOF, ID11, SRR, IDE, ID18, RRS, FDF, res, BRS, ESI, DLC */
#define CFD_FD_ARB_SFF 17u    /* FD SFF bits up to and including BRS */
#define CFD_FD_ARB_EFF 36u    /* FD EFF bits up to and including BRS */
#define CFD_CC_CRC_FIELD 16u  /* CRC15 + delimiter */
#define CFD_FD_CRC17_FIELD 28u /* stuff count 4, CRC17, delimiter, 6 fixed stuff */
#define CFD_FD_CRC21_FIELD 33u /* stuff count 4, CRC21, delimiter, 7 fixed stuff */
#define CFD_FOOTER 9u          /* ACK slot, ACK delimiter, EOF 7 */
#define CFD_INTERMISSION 3u

static const uint8_t cfd_dlc2len[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                        8, 12, 16, 20, 24, 32, 48, 64};

unsigned cfd_dlc_to_len(unsigned dlc, int fd)
{
    unsigned len = cfd_dlc2len[dlc & 0xFu];
    if (!fd && len > CFD_CC_MAX_LEN)
        len = CFD_CC_MAX_LEN;
    return len;
}

/* The inverse of cfd_dlc2len: the DLC of each valid length, 0xFF for a
 * length no DLC codes (0 is DLC 0, so only index 0 holds a 0). */
#define CFD_L2D_BAD 0xFFu
static const uint8_t cfd_len2dlc[CFD_MAX_LEN + 1] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8,                                            /* 0..8 */
    0xFF, 0xFF, 0xFF, 9, 0xFF, 0xFF, 0xFF, 10, 0xFF, 0xFF, 0xFF, 11,     /* 9..20 */
    0xFF, 0xFF, 0xFF, 12, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 13, /* 21..32 */
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,                     /* 33..40 */
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 14,                       /* 41..48 */
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,                     /* 49..56 */
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 15,                       /* 57..64 */
};

int cfd_len_to_dlc(unsigned len, int fd)
{
    if (len > (fd ? CFD_MAX_LEN : CFD_CC_MAX_LEN) || cfd_len2dlc[len] == CFD_L2D_BAD)
        return EK3_EDLC;
    return cfd_len2dlc[len];
}

unsigned cfd_round_len(unsigned len)
{
    for (unsigned dlc = 0; dlc < 16; dlc++)
        if (cfd_dlc2len[dlc] >= len)
            return cfd_dlc2len[dlc];
    return 0;
}

int cfd_set_payload(cfd_frame *f, const void *p, size_t n, uint8_t pad)
{
    if (!f || (n && !p))
        return EK3_EINVAL;
    int fd = (f->flags & CFD_FLAG_FD) != 0;
    if (n > (fd ? CFD_MAX_LEN : CFD_CC_MAX_LEN))
        return EK3_EDLC;
    unsigned len = fd ? cfd_round_len((unsigned)n) : (unsigned)n;
    if (n)
        memcpy(f->data, p, n);
    memset(f->data + n, pad, len - n);
    f->len = (uint8_t)len;
    return EK3_OK;
}

/* Worst-case stuffed length of a destuffed stream: one stuff bit every
 * four bits after the first. */
static unsigned cfd_stuffed(unsigned bits)
{
    return bits ? bits + (bits - 1u) / 4u : 0u;
}

unsigned cfd_frame_bits(int fd, int eff, int stuffing, int intermission,
                        unsigned len)
{
    unsigned bits;
    if (fd) {
        unsigned head = (eff ? CFD_FD_HEADER_EFF : CFD_FD_HEADER_SFF) + len * 8u;
        bits = (stuffing ? cfd_stuffed(head) : head) +
               (len <= 16u ? CFD_FD_CRC17_FIELD : CFD_FD_CRC21_FIELD);
    } else {
        unsigned head = (eff ? CFD_CC_HEADER_EFF : CFD_CC_HEADER_SFF) +
                        len * 8u + CFD_CC_CRC_FIELD;
        bits = stuffing ? cfd_stuffed(head) : head;
    }
    return bits + CFD_FOOTER + (intermission ? CFD_INTERMISSION : 0u);
}

cfd_bits cfd_phase_bits(const cfd_frame *f, int stuffing)
{
    int fd = (f->flags & CFD_FLAG_FD) != 0;
    int eff = (f->flags & CFD_FLAG_EFF) != 0;
    unsigned len = (f->flags & CFD_FLAG_RTR) ? 0u : f->len;
    unsigned total = cfd_frame_bits(fd, eff, stuffing, 1, len);
    cfd_bits b = {total, 0};
    if (fd && (f->flags & CFD_FLAG_BRS)) {
        unsigned arb = eff ? CFD_FD_ARB_EFF : CFD_FD_ARB_SFF;
        arb = (stuffing ? cfd_stuffed(arb) : arb) + CFD_FOOTER + CFD_INTERMISSION;
        b.arb = arb;
        b.data = total - arb;
    }
    return b;
}

int64_t cfd_frame_ns(const cfd_frame *f, uint32_t arb_bps, uint32_t data_bps)
{
    if (!f || arb_bps == 0 || data_bps == 0)
        return -1;
    cfd_bits b = cfd_phase_bits(f, 1);
    /* ceil(bits * 1e9 / rate) per phase, in exact integers */
    int64_t a = ((int64_t)b.arb * 1000000000 + arb_bps - 1) / arb_bps;
    int64_t d = ((int64_t)b.data * 1000000000 + data_bps - 1) / data_bps;
    return a + d;
}
