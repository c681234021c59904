/*
 * transport.h - one interface for carrying CAN-FD frames between the
 * rig's parts (prefix tp_): open, send, receive, poll, close, statistics.
 * The frames are the cfd_frame of firmware/protocol/can_frame.h; every
 * transport carries them whole and in order, or says why not.
 *
 *   mem        in-process, a pair of lock-free single-producer rings;
 *              the lockstep path of nightly runs (tp_mem_pair).
 *   udp        one frame per datagram, on loopback or across machines
 *              ("udp:HOST:PORT", "udp:HOST:PORT@LOCALPORT", "udp:@PORT").
 *   socketcan  Linux raw CAN sockets with CAN FD frames on a vcan or a
 *              real adapter ("socketcan:vcan0", or just "vcan0").
 *   cannelloni the field's CAN-over-UDP tunnel between SocketCAN hosts
 *              (github.com/mguentner/cannelloni, format version 2):
 *              "cannelloni:HOST:PORT[:LOCALPORT]", LOCALPORT = PORT if
 *              not given, as cannelloni's own default; several frames per
 *              datagram on receive, one per datagram sent.
 *
 * Errors are negative ek3_err codes. A malformed datagram or frame is
 * never returned: it is counted in `malformed` and skipped.
 */
#ifndef TRANSPORT_H
#define TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "can_frame.h"

typedef struct tp_stats {
    uint64_t tx_frames, rx_frames, tx_bytes, rx_bytes;
    uint64_t malformed; /* datagrams / frames refused on receive */
    uint64_t dropped;   /* frames known lost (UDP sequence gaps, full rings) */
    uint64_t tx_full;   /* sends refused because the way out was full */
    uint64_t errors;    /* bus error frames (socketcan), I/O errors */
} tp_stats;

typedef struct tp tp;

typedef struct tp_ops {
    const char *kind;
    int (*send)(tp *t, const cfd_frame *f);
    int (*recv)(tp *t, cfd_frame *f);
    int (*poll)(tp *t, int timeout_ms);
    void (*close)(tp *t);
} tp_ops;

struct tp {
    const tp_ops *ops;
    void *ctx;
    int fd;
    tp_stats st;
    char name[64];
};

/* Open a transport from its spec (see above). 0, or EK3_EPARSE (spec
 * not understood), EK3_ERANGE (a port outside 1..65535), EK3_EINVAL (a
 * cannelloni peer on this host at its own LOCALPORT: the socket itself),
 * EK3_ENOENT (no such interface or host), EK3_EBUSY (the local port is in
 * use), EK3_EIO (socket error; errno says more), EK3_ENOSPC (out of
 * memory). tp_spec_why() words each for a user. */
int tp_open(tp *t, const char *spec);

/* For the datagram transports (udp, cannelloni): a non-blocking UDP
 * socket of `family` (AF_INET or AF_INET6) with a 1 MiB receive buffer,
 * bound to lport (0: any) on every address. The descriptor, or EK3_EIO
 * (socket or bind failed), EK3_EBUSY (the port is in use). */
int tp_dgram_bind(int family, unsigned lport);

/* What tp_open's error err means for the spec a user gave, in words (a
 * static string; never NULL). The usage errors (EK3_EPARSE, EK3_ERANGE,
 * EK3_EINVAL) say what a spec must be; for a SocketCAN interface,
 * EK3_EIO is a kernel without SocketCAN and EK3_ENOENT a missing
 * interface, each with what makes one. */
const char *tp_spec_why(const char *spec, int err);

/* Two connected in-process endpoints, each ring `capacity` frames (a
 * power of two, 2..65536). 0, or EK3_EINVAL, EK3_ENOSPC. */
int tp_mem_pair(tp *a, tp *b, unsigned capacity);

/* Send one frame. 0, or EK3_EFULL (the way out is full: try later),
 * EK3_EDLC (length not valid for the frame kind), EK3_ERANGE (identifier
 * out of range, or not a data frame: every transport carries data frames
 * only, so a remote request or an error frame is refused), EK3_EIO. */
int tp_send(tp *t, const cfd_frame *f);

/* Take the oldest received frame. 0, or EK3_EAGAIN (none now), EK3_EIO. */
int tp_recv(tp *t, cfd_frame *f);

/* Wait up to timeout_ms (0: do not wait, -1: forever) for a frame to
 * receive. 1 when one may be there, 0 on timeout, or EK3_EIO. */
int tp_poll(tp *t, int timeout_ms);

/* Close; the statistics stay readable in t->st. */
void tp_close(tp *t);

/* ---- UDP datagrams (exposed for tests and the fuzzer) ----------------- */

#define TP_UDP_MAGIC 0x46334B45u /* "EK3F", little-endian */
#define TP_UDP_VERSION 1u
#define TP_UDP_HEADER 16u
#define TP_UDP_MAX (TP_UDP_HEADER + CFD_MAX_LEN)

/* Datagram: magic u32, version u8, flags u8, len u8, 0 u8, seq u32,
 * id u32, then len payload bytes; all little-endian. Returns its size. */
size_t tp_udp_encode(uint8_t out[TP_UDP_MAX], const cfd_frame *f, uint32_t seq);

/* Parse a datagram. 0, or EK3_EPARSE (bad magic, version, size or
 * reserved byte), EK3_EDLC (length not valid for its kind), EK3_ERANGE
 * (identifier or flags out of range). */
int tp_udp_decode(const uint8_t *buf, size_t n, cfd_frame *f, uint32_t *seq);

/* ---- cannelloni datagrams (tp_cannelloni.c; exposed for tests and the fuzzer) ---- */

#define TP_CNL_VERSION 2u        /* CANNELLONI_FRAME_VERSION */
#define TP_CNL_OP_DATA 0u        /* op codes: DATA 0, ACK 1, NACK 2; UDP carries DATA only */
#define TP_CNL_HEADER 5u         /* version, op, sequence, count (u16 big-endian) */
#define TP_CNL_FRAME_HEADER 5u   /* can_id (u32 big-endian), len */
#define TP_CNL_LEN_FD 0x80u      /* len's top bit: a CAN FD frame, a flags byte follows */
#define TP_CNL_MTU 1472u         /* the largest datagram cannelloni sends (UDP_PAYLOAD_SIZE) */
#define TP_CNL_RX_MAX 1500u      /* the largest it reads (RECEIVE_BUFFER_SIZE) */
#define TP_CNL_FRAMES_MAX ((TP_CNL_RX_MAX - TP_CNL_HEADER) / TP_CNL_FRAME_HEADER) /* 299 */
/* Linux's can_id and canfd_frame.flags bits (linux/can.h) */
#define TP_CAN_EFF_FLAG 0x80000000u
#define TP_CAN_RTR_FLAG 0x40000000u
#define TP_CAN_ERR_FLAG 0x20000000u
#define TP_CANFD_BRS 0x01u
#define TP_CANFD_ESI 0x02u
#define TP_CANFD_FDF 0x04u

/* Encode n frames (n = 0 is a valid empty datagram) with sequence seq
 * into out: the size, or 0 when they do not fit in cap. Remote frames
 * (CFD_FLAG_RTR) carry their length and no data, as in cannelloni. */
size_t tp_cnl_encode(uint8_t *out, size_t cap, const cfd_frame *f, size_t n, uint8_t seq);

/* Parse one datagram into f[0 .. *count) (at most max) and its sequence.
 * Remote and error frames come back with CFD_FLAG_RTR / CFD_FLAG_ERR. 0,
 * or EK3_EPARSE (shorter or longer than its frames), EK3_EVERSION (not
 * version 2), EK3_ETYPE (not DATA), EK3_ENOSPC (more than max frames),
 * EK3_EDLC (a length not valid for its kind), EK3_ERANGE (an 11-bit
 * identifier with higher bits, unknown FD flags, a remote or error frame
 * marked FD). A datagram is taken whole or refused whole. */
int tp_cnl_decode(const uint8_t *buf, size_t n, cfd_frame *f, size_t max, size_t *count, uint8_t *seq);

/* "HOST:PORT[:LOCALPORT]" (HOST may be [v6]) into its parts; LOCALPORT
 * defaults to PORT. 0 or EK3_EPARSE. */
int tp_cnl_parse(const char *spec, char host[256], unsigned *port, unsigned *local);

/* "cannelloni:HOST:P:L" with both ports moved up by add (one link per
 * module: BASE + slot), into out. 0, or EK3_EPARSE, EK3_ERANGE (a port
 * past 65535, or LOCALPORT 0), EK3_ENOSPC. */
int tp_cnl_offset(const char *spec, unsigned add, char *out, size_t cap);

/* ---- SocketCAN interfaces ------------------------------------------------ */

/* Create a virtual CAN interface with the CAN FD MTU (72) and bring it
 * up (rtnetlink; needs CAP_NET_ADMIN). 0, EK3_EBUSY (it exists), EK3_EIO. */
int tp_vcan_create(const char *ifname);

/* Configure a real adapter: nominal bit rate and automatic bus-off
 * restart through libsocketcan, the CAN FD data bit rate through
 * ip(8) (libsocketcan has no call for it). 0 or EK3_EIO. */
int tp_socketcan_setup(const char *ifname, uint32_t bitrate, uint32_t dbitrate, uint32_t restart_ms);

/* Controller state (CAN_STATE_* of linux/can/netlink.h) and error
 * counters through libsocketcan. 0, or EK3_EIO (no such CAN device, or
 * a virtual one that has none). */
int tp_socketcan_state(const char *ifname, int *state, unsigned *tx_err, unsigned *rx_err);

/* Restart an adapter after bus-off. 0 or EK3_EIO. */
int tp_socketcan_restart(const char *ifname);

#endif /* TRANSPORT_H */
