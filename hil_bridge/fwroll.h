/*
 * fwroll.h - the station's firmware streamer and rolling update (prefix
 * fwr_; docs/update.md): it sends a signed image (fwimg.h) to the rack's
 * modules over FW_UPDATE frames, then reboots them into it in waves.
 *
 * The transfer. Frames go at BACKGROUND priority, in idle bus time only:
 * the streamer queues a FW_UPDATE frame only when the station has none
 * queued and no other node has a frame pending (so at most one FW_UPDATE
 * frame is ever queued, and it never waits ahead of control traffic; once
 * on the wire a frame is not pre-empted, so a control frame waits at most
 * one FW_UPDATE frame longer: FWR_BLOCK_NS), and at most one every gap_ns
 * (the modules' receive queues). BEGIN goes to each module; chunks
 * (MSG_FW_CHUNK_MAX bytes, CRC-32 each) go to all at once as broadcasts
 * (group key) or to each in turn; a module that reports a gap or a bad
 * chunk (STATUS with its extent) gets the missing bytes resent to it
 * alone, from its extent; a module that comes back from a reset reports
 * IDLE, gets BEGIN again and resumes at its staged extent. END to each
 * at the end; its STATUS says STAGED or REFUSED (why). No answer within
 * FWR_ANSWER_NS: QUERY; FWR_TRIES unanswered: the module is lost to
 * this update.
 *
 * The roll. Staged modules reboot into the new image in waves: first one
 * (the canary), then up to wave_max at a time, and never more than the
 * rack can spare: the demand the modules report (HEARTBEAT power) must
 * stay within FWR_CAP_MARGIN of what the running modules left can give
 * (stn_module_cap at their voltage). A wave is done when each member
 * has confirmed (STATUS CONFIRMED with the new version) or, after
 * FWR_CONFIRM_NS, has been rebooted back (REBOOT: an unconfirmed trial
 * reverts) and reported, or is lost: no STATUS for FWR_SILENT_NS while it
 * reboots or confirms (pulled, or it did not come up; a reboot answers in
 * well under a second); a canary that fails halts the roll (the rest
 * stay on their old version). The swarm's leader (the sender of SYNC
 * frames) is taken last, so that a roll costs one election, not one per
 * wave. Mixed versions on one bus are normal
 * while it runs and after a halt.
 */
#ifndef FWROLL_H
#define FWROLL_H

#include <stdint.h>
#include <stdio.h>

#include "canbus.h"
#include "msg.h"
#include "station.h"

#define FWR_GAP_NS 1000000LL          /* at most one FW_UPDATE frame per ms */
#define FWR_ANSWER_NS 300000000LL     /* a STATUS is due this long after BEGIN, END, ACTIVATE */
#define FWR_TRIES 5u
#define FWR_QUERY_NS 1000000000LL     /* a rebooting or confirming module is asked this often */
#define FWR_CONFIRM_NS 15000000000LL  /* a wave's members confirm within this, or are rebooted back */
#define FWR_REVERT_NS 5000000000LL    /* ... and report their old version within this */
#define FWR_SILENT_NS 5000000000LL    /* a rebooting or confirming module silent this long is lost to the update */
#define FWR_CAP_MARGIN 0.9            /* demand <= 0.9 x the capacity left running */
#define FWR_PARKED_NS 500000000LL     /* a parked share this recent (THERMAL at 10 Hz) counts as wakeable capacity */
#define FWR_BLOCK_NS 160000LL         /* the longest FW_UPDATE frame on the wire at 1/5 Mbit/s, worst stuffing */

typedef enum fwr_phase {
    FWR_P_SKIP,      /* not in this update */
    FWR_P_BEGIN,     /* BEGIN due */
    FWR_P_SEND,      /* chunks */
    FWR_P_END,       /* END sent, its STATUS due */
    FWR_P_STAGED,    /* verified, waiting for its wave */
    FWR_P_ACTIVATE,  /* ACTIVATE sent: rebooting into the trial */
    FWR_P_TRIAL,     /* running the trial, its confirm due */
    FWR_P_REVERT,    /* no confirm: REBOOT sent, its old version due */
    FWR_P_DONE,      /* confirmed on the new version */
    FWR_P_REVERTED,  /* back on its old version */
    FWR_P_REFUSED,   /* refused the image (why) */
    FWR_P_LOST,      /* stopped answering */
    FWR_P_HELD,      /* staged, but the roll halted */
    FWR_P_COUNT_
} fwr_phase;

typedef struct fwr_mod {
    uint8_t phase;            /* fwr_phase */
    uint8_t why;              /* the last refusal it reported (msg_fw_why) */
    uint8_t heard;            /* a STATUS came */
    uint8_t tries;
    uint8_t resume;           /* it lost the transfer in a reset: BEGIN flagged RESUME */
    uint16_t wave;            /* its wave (1: the canary), 0: none yet */
    uint32_t ver_before, ver_now;
    uint32_t extent;          /* staged bytes it reported */
    uint32_t next;            /* the next byte to send it */
    msg_fw_status st;         /* its last STATUS */
    uint32_t refused[MSG_FWW_COUNT_]; /* its refusals over the whole update (its counters restart at a reset) */
    int64_t asked_ns;         /* when an answer was last asked for */
    int64_t heard_ns;         /* when its last STATUS came, or its phase began if later (FWR_SILENT_NS) */
    int64_t parked_ns;        /* when its THERMAL share last said parked (wakeable capacity), or -1 */
    uint16_t parked_dv;       /* the output voltage that share gave, 0.1 V */
    const char *note;         /* why it came to its phase ("no confirm in time: REBOOT"), or NULL */
} fwr_mod;

typedef struct fwr_opts {
    const uint8_t *targets;   /* targets[k] != 0: slot k + 1 is updated (NULL: every module) */
    unsigned wave_max;        /* modules rebooted at once after the canary (0: 4) */
    uint8_t unicast;          /* 1: chunks to each module in turn, never broadcast */
    int64_t start_ns;         /* nothing before this */
    int64_t gap_ns;           /* 0: FWR_GAP_NS */
    FILE *log;                /* every step, or NULL */
} fwr_opts;

typedef struct fwr_stats {
    uint64_t frames, chunks, resent, broadcasts;
    uint32_t waves, held_for_capacity; /* quanta a wave waited for capacity */
    int64_t staged_ns, done_ns;       /* when every target had staged / the roll ended (-1: not yet) */
} fwr_stats;

typedef struct fwr {
    station *stn;
    fwr_opts o;
    uint8_t *img;
    uint32_t size, version, security;
    uint8_t xfer;
    unsigned n;
    fwr_mod *m;               /* m[slot - 1] */
    uint32_t bnext;           /* the broadcast's next byte */
    int64_t next_ns;          /* no frame before this (the gap) */
    uint16_t wave;            /* the wave running (0: none yet) */
    int64_t wave_ns;          /* when it started */
    uint8_t halted, rolling, finished;
    uint8_t leader;           /* the swarm's leader, as its SYNC frames say (0: none heard); it reboots last */
    uint8_t waiting;          /* 1 while staged modules wait for the rack to spare capacity */
    int64_t last_ns;          /* the last phase change of any module */
    fwr_stats st;
} fwr;

/* A streamer for the station's n modules and the image img[0..len)
 * (copied; its header gives version and security counter), transfer id
 * xfer (1..255). 0, or EK3_EINVAL (bad arguments), EK3_EPARSE (not an
 * image: too short, bad magic), EK3_ERANGE (larger than a slot),
 * EK3_ENOSPC. */
int fwr_init(fwr *u, station *stn, unsigned n, const uint8_t *img, size_t len, uint8_t xfer, const fwr_opts *o);
void fwr_free(fwr *u);

/* A frame the station heard: the modules' STATUS, the leader's SYNC,
 * and each module's THERMAL share (a module the swarm parked counts as
 * capacity it can wake); others are ignored. */
void fwr_on_frame(fwr *u, const cfd_frame *f, int64_t now);

/* One step, every quantum: at most one frame, in idle bus time of bus
 * (node 0 the station). */
void fwr_poll(fwr *u, int64_t now, const cbus *bus);

/* 1 once every target is done, reverted, refused, lost or held. */
int fwr_finished(const fwr *u);

/* How many targets are in each phase: counts[p] for p < FWR_P_COUNT_
 * (FWR_P_SKIP: the modules not in the update). */
void fwr_count(const fwr *u, unsigned counts[FWR_P_COUNT_]);

/* The phase's name ("staged"). */
const char *fwr_phase_name(unsigned p);

/* The report: one line per target, version before and after, its phase
 * and refusals (by msg_fw_why name), then the totals. 0 or EK3_EIO. */
int fwr_report(const fwr *u, FILE *out);

/* A refusal reason's name ("chunk-crc", "bad-signature", ...). */
const char *fwr_why_name(unsigned why);

/* Modules the rack can spare now: how many running modules may stop
 * while demand stays within FWR_CAP_MARGIN of what the rest can give
 * (from the station's heartbeats at now). */
unsigned fwr_spare(const fwr *u, int64_t now);

/* What fwr_spare weighs, W: the demand (the heartbeats' power) and what
 * the running modules can give (stn_module_cap each, before the margin). */
void fwr_capacity(const fwr *u, int64_t now, double *demand_w, double *cap_w);

/* The update's outcome at now, for the report and the exit status: 0
 * when every target ended on the new image; else 1 with why[] saying
 * what is left ("2 of 8 modules not on 1.1.0: 1 reverted, 1 refused";
 * a roll still waiting for capacity says so, with the demand and what
 * the rest could give). */
int fwr_outcome(const fwr *u, int64_t now, char *why, size_t cap);

#endif /* FWROLL_H */
