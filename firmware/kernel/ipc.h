/*
 * ipc.h - JEZGRO messages between services (prefix ipc_).
 *
 * Fixed-size messages as in MINIX: a type, source, destination,
 * priority, flags, a correlation number and a fixed payload; 64 bytes,
 * the size of the largest CAN-FD payload the CAN handler routes (seed
 * 8.4: priority, type, source and destination map one to one). Every
 * queued message carries a CRC-16 the kernel checks before delivery, so
 * a message corrupted in RAM is dropped and counted, never handled.
 *
 * Delivery is asynchronous: a message lands in the destination's
 * bounded queue and is handled when the kernel dispatches that service
 * (run to completion, highest priority first). sendrec is the
 * asynchronous form of MINIX's: the reply, or an IPC_T_TIMEOUT with
 * status EK3_ETIMEDOUT, comes back as a message with the request's seq.
 * notify sets a bit and never fails for a full queue.
 *
 * Every call is checked against the sender's allow-list (refused with
 * EK3_EPERM and counted); the kernel (service 0) may send to anyone and
 * a reply may always go back to its requester.
 */
#ifndef IPC_H
#define IPC_H

#include <stddef.h>
#include <stdint.h>

#define IPC_PAYLOAD 52u
#define IPC_BROADCAST 0xFFu
#define IPC_KERNEL 0u /* the kernel's own id as a source */

/* Message types below IPC_T_USER are the kernel's. */
enum {
    IPC_T_NONE = 0,
    IPC_T_TICK = 1,    /* the service's rate timer fired (payload: u32 tick count) */
    IPC_T_PING = 2,    /* Reincarnation Server heartbeat (answered by the kernel) */
    IPC_T_TIMEOUT = 3, /* a sendrec ran out of time (seq, status EK3_ETIMEDOUT) */
    IPC_T_NOTIFY = 4,  /* notification from src (no payload) */
    IPC_T_JUNK = 5,    /* filler of an injected queue flood */
    IPC_T_USER = 16
};

enum {
    IPC_F_REQUEST = 1u << 0, /* a sendrec request: answer with ipc_reply */
    IPC_F_REPLY = 1u << 1    /* a reply (or timeout) to request `seq` */
};

typedef struct ipc_msg {
    uint16_t type;
    uint8_t src;    /* sending service id */
    uint8_t dst;    /* receiving service id, or IPC_BROADCAST */
    uint8_t prio;   /* cid_prio: CRITICAL (0) goes to the head of the queue */
    uint8_t flags;  /* IPC_F_* */
    uint16_t seq;   /* request number for sendrec */
    uint16_t check; /* CRC-16/CCITT of the message, set and checked by the kernel */
    uint8_t len;    /* payload bytes used */
    int8_t status;  /* replies and timeouts: 0 or a negative ek3_err */
    uint8_t payload[IPC_PAYLOAD];
} ipc_msg;

_Static_assert(sizeof(ipc_msg) == 64, "an IPC message is 64 bytes");

struct jz_kernel;

/* Send m to service `to`. m->src, dst, check are set by the kernel.
 * 0, or EK3_EPERM (allow-list), EK3_ENOENT (no such service), EK3_EFAULT
 * (destination crashed and not yet restarted), EK3_EFULL (queue full:
 * the destination is declared crashed, as a stuck service would be). */
int ipc_send(struct jz_kernel *k, unsigned from, unsigned to, const ipc_msg *m);

/* Send a copy to every running service the sender may reach. Returns
 * how many got it (>= 0), or EK3_ENOENT for a bad sender. */
int ipc_broadcast(struct jz_kernel *k, unsigned from, const ipc_msg *m);

/* Notify `to` (coalesced per source). 0, EK3_EPERM, EK3_ENOENT, EK3_EFAULT. */
int ipc_notify(struct jz_kernel *k, unsigned from, unsigned to);

/* Send a request; the answer comes back as a message with IPC_F_REPLY and
 * the returned seq (>= 1), or as IPC_T_TIMEOUT after timeout_ms. Errors
 * as ipc_send, or EK3_EBUSY when the sender has too many requests open. */
int ipc_sendrec(struct jz_kernel *k, unsigned from, unsigned to, const ipc_msg *m, uint32_t timeout_ms);

/* Answer request `req` (as received by service `me`). 0, or
 * EK3_ETIMEDOUT when the request already timed out (the reply is
 * dropped and counted), or a send error. */
int ipc_reply(struct jz_kernel *k, unsigned me, const ipc_msg *req, const ipc_msg *reply);

/* Take the next message of service `me` without dispatching it (for code
 * that polls, such as a driver draining its queue). 0 or EK3_EAGAIN. */
int ipc_receive(struct jz_kernel *k, unsigned me, ipc_msg *out);

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of a buffer. */
uint16_t ipc_crc16(const void *p, size_t n);

/* CRC-32 (IEEE 802.3, reflected, init and final xor 0xFFFFFFFF), bitwise:
 * small code, fast enough for records of tens of bytes. */
uint32_t ipc_crc32(const void *p, size_t n);

/* Fill a message: type, priority, payload bytes (n <= IPC_PAYLOAD). */
void ipc_msg_init(ipc_msg *m, uint16_t type, uint8_t prio, const void *payload, size_t n);

#endif /* IPC_H */
