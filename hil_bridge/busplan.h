/*
 * busplan.h - the rack's CAN-FD traffic plan (prefix bplan_).
 *
 * For the seed's message set at its rates it gives each message's frame
 * bits (worst-case stuffing as Linux can_frame_bits counts them, with the
 * intermission), the time one frame holds the bus at the given nominal
 * and data bit rates (29-bit identifiers, CAN-FD with bit-rate switch),
 * the frames per second, and the share of bus time. The rack runner
 * compares its measured load against this plan. Each row says whether
 * the rig sends it today (bplan_sent): a rack run's measured rates are
 * held against the plan's for the ones it sends (test_busplan_rig.c).
 */
#ifndef BUSPLAN_H
#define BUSPLAN_H

#include <stdint.h>

#define BPLAN_ROWS_MAX 16u

/* Whether the rig sends a planned message today (held against what a
 * rack run measures: tests/test_busplan_rig.c). */
typedef enum bplan_sent {
    BPLAN_SENT,     /* sent at the planned rate: a run measures it */
    BPLAN_EVENT,    /* sent on events only (a command, a fault): the rate is the plan's worst case */
    BPLAN_NOT_YET   /* not sent by this firmware (or station) yet */
} bplan_sent;

typedef struct bplan_row {
    const char *name;    /* message, as the plan names it */
    const char *who;     /* sender -> receiver */
    const char *basis;   /* how the rate is reached ("1 Hz x modules") */
    uint8_t prio, type;  /* identifier fields */
    uint8_t sent;        /* bplan_sent */
    uint8_t payload;     /* payload bytes (version byte included) */
    uint8_t frame_len;   /* data bytes on the wire (payload + auth trailer) */
    unsigned bits;       /* frame bits, worst-case stuffing, intermission */
    unsigned arb_bits;   /* of which at the nominal rate */
    unsigned data_bits;  /* of which at the data rate */
    int64_t ns;          /* time on the bus per frame */
    double rate_hz;      /* frames per second, decision_hz included */
    double decision_hz;  /* of which only while the leader's newest log entry is a
                            decision: its further fragments in every heartbeat (else 0) */
    double load;         /* fraction of bus time, 0..1 */
} bplan_row;

typedef struct bplan {
    unsigned modules;
    uint32_t arb_bps, data_bps;
    unsigned nrows;
    bplan_row rows[BPLAN_ROWS_MAX];
    double fps;          /* all rows */
    double load;         /* all rows, fraction of bus time */
    int64_t worst_ns;    /* longest frame: the blocking time a CRITICAL frame can see */
} bplan;

/* Compute the plan. modules 1..510, both rates > 0, else EK3_ERANGE. */
int bplan_compute(bplan *p, unsigned modules, uint32_t arb_bps, uint32_t data_bps);

#endif /* BUSPLAN_H */
