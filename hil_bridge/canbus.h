/*
 * canbus.h - the rack's CAN-FD bus as a shared medium (prefix cbus_):
 * nodes queue frames; when the bus is idle the pending frame with the
 * lowest identifier wins arbitration (cid_wins) and occupies the bus
 * for its time on the wire (cfd_frame_ns at the arbitration and data
 * bit rates, worst-case stuffing); at its end every other connected node
 * receives it. Bus load is busy time over elapsed time.
 *
 * Fault confinement follows ISO 11898-1: each node has a transmit and
 * a receive error counter. A corrupted frame is followed by an error
 * frame; the transmitter's TEC rises by 8 and the receivers' REC by 1,
 * and the frame is sent again; a good frame lowers them by 1 (a REC over
 * 127 falls back to 127 - the standard allows 119..127). TEC or REC at
 * 128 or more: error passive (an error-passive transmitter waits 8 bit
 * times of suspend after each frame). TEC over 255: bus-off; the node
 * takes no part until it is restarted (after restart_ms, as Linux's
 * restart-ms does, or by cbus_restart) and has then seen 128 x 11
 * recessive bits. A frame no other node acknowledges is an ACK error
 * (TEC + 8, but not beyond error passive).
 *
 * Faults to inject, all from the bus's seeded generator: corrupt frames
 * (a probability, or the next N frames of one node), drop a frame at a
 * receiver (an overrun), a babbling node (sends one frame back to back),
 * a node cut off (neither sends nor receives), the bus split in two
 * (a broken trunk: the nodes below the split slot hear only each other,
 * and so do those from it on), a node's frames entering arbitration a
 * delay later (a slow controller or gateway).
 * The split is modelled on one timeline: the two halves' frames still
 * take turns, as if one arbitration spanned both (the bus load is
 * overstated; who hears and who acknowledges what is exact).
 */
#ifndef CANBUS_H
#define CANBUS_H

#include <stdint.h>

#include "can_frame.h"

#define CBUS_QUEUE 32u
#define CBUS_ERROR_FRAME_BITS 17u /* error flag 6, delimiter 8, intermission 3 */
#define CBUS_SUSPEND_BITS 8u

typedef enum cbus_state { CBUS_ERROR_ACTIVE, CBUS_ERROR_PASSIVE, CBUS_BUS_OFF } cbus_state;

typedef struct cbus_node {
    cfd_frame q[CBUS_QUEUE];
    int64_t q_t[CBUS_QUEUE];   /* when each was queued */
    uint8_t qn;
    uint8_t state;             /* cbus_state */
    uint8_t cut, babble;
    uint16_t tec, rec;
    uint32_t corrupt_next;     /* corrupt this many of its next frames */
    int64_t ready_ns;          /* no transmission before this (suspend, recovery) */
    int64_t busoff_ns;         /* when it went bus-off */
    cfd_frame babble_frame;
    uint64_t tx_ok, rx_ok, tx_errors, rx_dropped, bus_offs;
    int64_t wait_max_ns;       /* longest queue-to-delivery time */
    int64_t delay_ns;          /* injected: its frames enter arbitration this much later */
} cbus_node;

typedef void (*cbus_deliver_fn)(void *ctx, unsigned to, unsigned from, const cfd_frame *f, int64_t t_ns);

typedef struct cbus {
    uint32_t arb_bps, data_bps;
    unsigned n;
    cbus_node *node;
    int64_t t_ns;              /* bus time: end of the last activity */
    int64_t start_ns, busy_ns;
    uint64_t frames, error_frames;
    double p_corrupt, p_drop;
    uint16_t rate_types;       /* the rates hit only these message types (bit per CID type; 0: every frame) */
    uint32_t restart_ms;       /* automatic restart after bus-off (0: only cbus_restart) */
    unsigned split;            /* injected: nodes < split and >= split do not hear each other (0: whole) */
    uint64_t rng;
    cbus_deliver_fn deliver;
    void *ctx;
    /* Each frame sent from a node's queue, once it is through: when it
     * was queued and when it ended (its latency), for measurements; NULL:
     * none. */
    void (*on_sent)(void *ctx, unsigned from, const cfd_frame *f, int64_t queued_ns, int64_t end_ns);
    void *sent_ctx;
    /* Kept by canbus.c alone, so that cbus_run passes over an idle bus
     * without looking at every node: the frames queued at all nodes (the
     * sum of their qn), the nodes babbling, the nodes bus-off. */
    unsigned queued, babbling, off;
} cbus;

/* A bus of n nodes (1..4096) at the given bit rates. 0, or EK3_EINVAL,
 * EK3_ENOSPC. */
int cbus_init(cbus *b, unsigned n, uint32_t arb_bps, uint32_t data_bps, uint64_t seed);
void cbus_free(cbus *b);

/* Queue a frame at node `from` at time t_ns (not before the bus's time).
 * 0, or EK3_ENOENT (no such node), EK3_EFULL (its queue is full),
 * EK3_EBUSY (bus-off or cut off: the frame is refused), EK3_EDLC. */
int cbus_send(cbus *b, unsigned from, const cfd_frame *f, int64_t t_ns);

/* Whether cbus_send from node `from` would refuse every frame of a valid
 * length with EK3_EFULL now (its queue is full; it is on the bus). */
int cbus_full(const cbus *b, unsigned from);

/* Run the bus until t_ns: arbitrate, transmit, deliver (through the
 * deliver callback, in order of completion). A frame that starts before
 * t_ns completes, so the bus time may end a little after t_ns. */
void cbus_run(cbus *b, int64_t t_ns);

/* Restart a bus-off node (it rejoins after 128 x 11 recessive bits). */
int cbus_restart(cbus *b, unsigned node);

/* Injected faults (named for the rig in fault.h). Each returns 0, or
 * EK3_ENOENT (no such node), EK3_ERANGE (a value out of its range).
 * Corrupt node's next `frames` transmissions (0: none more). */
int cbus_fault_corrupt(cbus *b, unsigned node, uint32_t frames);

/* Every transmission corrupted with probability p_corrupt, every frame
 * dropped at each receiver (an overrun) with probability p_drop; 0..1. */
int cbus_fault_rates(cbus *b, double p_corrupt, double p_drop);

/* The rates of cbus_fault_rates hit only frames whose identifier's
 * message type (can_id.h, bits 24:21 of an extended id) has its bit set
 * in types (bit t for type t); 0: every frame, the default. Always 0. */
int cbus_fault_types(cbus *b, uint16_t types);

/* Cut node off the bus (it neither sends nor receives) or reconnect it. */
int cbus_fault_cut(cbus *b, unsigned node, int cut);

/* Node babbles: sends *f back to back whatever it queued (f NULL stops). */
int cbus_fault_babble(cbus *b, unsigned node, const cfd_frame *f);

/* Split the bus at node `at` (1..n-1): nodes 0..at-1 and at..n-1 form two
 * buses that neither hear nor acknowledge each other's frames (a broken
 * trunk between slots at-1 and at). 0 joins it again. EK3_ERANGE for at
 * >= n. */
int cbus_fault_split(cbus *b, unsigned at);

/* Node's frames, from the next one queued, enter arbitration delay_ns
 * (0..1 s) after they are queued, so they arrive that much later (a slow
 * controller or a store-and-forward gateway); 0 ends it. EK3_ENOENT,
 * EK3_ERANGE. */
int cbus_fault_latency(cbus *b, unsigned node, int64_t delay_ns);

/* Bus load since cbus_init, 0..1. */
double cbus_load(const cbus *b);

/* Name of a state ("error-active"). */
const char *cbus_state_name(unsigned state);

#endif /* CANBUS_H */
