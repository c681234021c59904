/*
 * can_frame.h - one CAN / CAN-FD frame, its data lengths and its time on
 * the wire (prefix cfd_).
 *
 * Bit counts follow the Linux kernel's can_frame_bits() of
 * include/linux/can/length.h exactly: worst-case dynamic stuffing over
 * header and data (one stuff bit per four bits after the first), the
 * fixed stuff bits and stuff count of CAN-FD, CRC15/CRC17/CRC21, ACK,
 * EOF, and the 3-bit intermission. The split into arbitration-phase and
 * data-phase bits (for bit-rate switching) is this module's own: the
 * phases switch at the BRS bit and at the CRC delimiter.
 */
#ifndef CAN_FRAME_H
#define CAN_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define CFD_MAX_LEN 64u /* CAN-FD payload bytes */
#define CFD_CC_MAX_LEN 8u /* classical CAN payload bytes */

enum cfd_flag {
    CFD_FLAG_EFF = 1u << 0, /* 29-bit extended identifier */
    CFD_FLAG_FD = 1u << 1,  /* CAN-FD frame (FDF set) */
    CFD_FLAG_BRS = 1u << 2, /* FD: bit-rate switch to the data rate */
    CFD_FLAG_ESI = 1u << 3, /* FD: error state indicator */
    CFD_FLAG_RTR = 1u << 4, /* classical remote request */
    CFD_FLAG_ERR = 1u << 5  /* SocketCAN error frame (not on the wire) */
};

/* A frame as the rig carries it. `len` is the payload length in bytes,
 * always a valid length for the frame kind (0..8, or an FD length). */
typedef struct cfd_frame {
    uint32_t id;    /* 11- or 29-bit identifier (or error class) */
    uint8_t flags;  /* cfd_flag bits */
    uint8_t len;    /* payload bytes */
    uint8_t data[CFD_MAX_LEN];
} cfd_frame;

/* Payload length of a DLC (0..15). Classical frames cap at 8. */
unsigned cfd_dlc_to_len(unsigned dlc, int fd);

/* DLC of an exact payload length; EK3_EDLC when `len` is not a valid
 * length for the frame kind (e.g. 9, or anything above 8 for classical). */
int cfd_len_to_dlc(unsigned len, int fd);

/* Smallest valid FD length >= len (0..64), or 0 with len > 64. */
unsigned cfd_round_len(unsigned len);

/* Copy `n` bytes into f->data and pad with `pad` up to the next valid FD
 * length (or exactly n for classical frames). EK3_EDLC if it cannot fit. */
int cfd_set_payload(cfd_frame *f, const void *p, size_t n, uint8_t pad);

/* Bits on the wire, exactly as Linux can_frame_bits(is_fd, is_eff,
 * bitstuffing, intermission, data_len). */
unsigned cfd_frame_bits(int fd, int eff, int stuffing, int intermission,
                        unsigned len);

/* A frame's bits split by bit-rate phase, worst-case stuffing or none,
 * intermission included. Without BRS every bit is an arbitration bit. */
typedef struct cfd_bits {
    unsigned arb;  /* bits at the nominal (arbitration) rate */
    unsigned data; /* bits at the data rate */
} cfd_bits;
cfd_bits cfd_phase_bits(const cfd_frame *f, int stuffing);

/* Time on the wire in ns (worst-case stuffing, intermission included),
 * rounded up. Rates in bit/s; both must be > 0. Returns -1 on bad rates. */
int64_t cfd_frame_ns(const cfd_frame *f, uint32_t arb_bps, uint32_t data_bps);

#endif /* CAN_FRAME_H */
