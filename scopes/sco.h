/*
 * sco.h - the live scope's model (prefix sco_): what the window shows,
 * without a screen. The window itself is scowin.h.
 *
 * The simulation never waits on the window. A tap (session.h ses_tap_add)
 * on the session's thread reads the scope's signals with sig_read
 * (scenarios/sig.h) every quantum (the figures over all modules and the
 * trip and restart markers every SCO_SLOW_EVERY quanta, 1 ms: the rest
 * is carried) and pushes one row into a lock-free
 * single-producer / single-consumer ring (sco_ring, C11 atomics); event
 * markers go into a second ring. When a ring is full the oldest entry is
 * dropped and counted: the tap never blocks, except while the window
 * holds the run paused (sco_tap_pause), the one time the simulation waits.
 * The window thread drains the rings into a history (sco_hist) and reads
 * the rack map from ses_snapshot once per frame.
 *
 * The pure parts are here so that tests check them without a screen:
 * the ring, the trigger search, cursor statistics, the math channels
 * (power V x I, sharing error, efficiency Pout / Pin), the layout (which
 * rectangle slot K is), and the rack map's colours.
 *
 * Errors are negative codes from ek3_err.h.
 */
#ifndef SCO_H
#define SCO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "canbus.h"
#include "session.h"
#include "sig.h"

#define SCO_SEL 4u /* modules selected at once (their iout and Tj join the waveforms) */
#define SCO_SLOW_EVERY 10 /* quanta between two looks over every module (1 ms): the sums, trips, restarts */

/* The columns of one row the tap writes, in order. */
enum {
    SCO_C_VBUS,    /* bus.v, V */
    SCO_C_IBUS,    /* bus.i, A */
    SCO_C_PLOAD,   /* bus.p, W: the power the load takes */
    SCO_C_PIN,     /* the sum of module[K].pin over the rack, W */
    SCO_C_SHARE,   /* sharing error: rack.i_spread, (i_max - i_min) / i_mean, fraction */
    SCO_C_BUSLOAD, /* canbus.load, 0..1 */
    SCO_C_TEC,     /* the highest canbus.node[K].tec over the bus's nodes */
    SCO_C_REC,     /* the highest canbus.node[K].rec */
    SCO_C_FRAMES,  /* canbus.frames */
    SCO_C_ERRORS,  /* canbus.errors */
    SCO_C_SEL0,    /* SCO_C_SEL0 + 2 j: selected module j's iout (A), + 1: its hotter Tj (C); NaN: none */
    SCO_NCOL = SCO_C_SEL0 + 2 * SCO_SEL
};

typedef struct sco_row {
    double t;            /* simulated time, s */
    float v[SCO_NCOL];
} sco_row;

/* The channels the waveforms can show: the row's columns, then the math. */
enum {
    SCO_CH_POWER = SCO_NCOL, /* math: bus.v x bus.i, W */
    SCO_CH_EFF,              /* math: bus.p / sum of module input power (NaN when Pin <= 1 W) */
    SCO_NCH
};

typedef struct sco_chinfo {
    const char *name, *unit;
    uint8_t r, g, b;     /* its trace's colour */
} sco_chinfo;

/* Channel ch's name, unit and colour (ch < SCO_NCH; else NULL). The
 * selected modules' channels are named "sel1.iout" .. "sel4.tj". */
const sco_chinfo *sco_ch(unsigned ch);

/* Channel ch's value in row r: a column as written, or a math channel
 * computed from the row's columns (sco_power, sco_eff). NaN for a
 * channel out of range. */
double sco_chan(const sco_row *r, unsigned ch);

/* The math channels. Power: v * i, W. Efficiency: pout / pin (a fraction;
 * NaN when pin <= 1 W or either is NaN). Sharing error of n currents
 * i[k] whose on[k] is non-zero (on may be NULL: all): (max - min) / mean,
 * 0 when fewer than one or a mean <= 0. */
double sco_power(double v, double i);
double sco_eff(double pout, double pin);
double sco_sharing(const double *i, const uint8_t *on, unsigned n);

/*
 * The ring: single producer, single consumer, fixed-size entries.
 * head (next to write) is the producer's; tail (next to read) moves by
 * compare-and-swap from both sides: the consumer after copying an entry,
 * the producer to drop the oldest when full. The producer writes a slot
 * only after the tail has left it, and the consumer keeps a copy only
 * if its own swap succeeds, so neither waits on the other.
 */
typedef struct sco_ring {
    size_t cap, elem;    /* entries (a power of two), bytes each */
    unsigned char *buf;
    _Atomic uint64_t head, tail;
    _Atomic uint64_t dropped; /* entries dropped because the ring was full */
} sco_ring;

/* cap entries (rounded up to a power of two, at least 2) of elem bytes.
 * 0, EK3_EINVAL (elem 0, cap above 2^24), EK3_ENOSPC. */
int sco_ring_init(sco_ring *r, size_t cap, size_t elem);
void sco_ring_free(sco_ring *r);
/* Producer: copy e in; when full, the oldest entry is dropped first.
 * Returns 1 when one was dropped, else 0. Never blocks. */
int sco_ring_push(sco_ring *r, const void *e);
/* Consumer: copy the oldest entry into e; 1, or 0 when empty. */
int sco_ring_pop(sco_ring *r, void *e);
uint64_t sco_ring_dropped(const sco_ring *r);

/* The window's history of rows: a plain ring (one thread), oldest first. */
typedef struct sco_hist {
    sco_row *row;
    size_t cap, head, n; /* rows held: the n before head (mod cap) */
} sco_hist;

int sco_hist_init(sco_hist *h, size_t cap); /* 0, EK3_EINVAL (cap 0), EK3_ENOSPC */
void sco_hist_free(sco_hist *h);
void sco_hist_push(sco_hist *h, const sco_row *r); /* the oldest goes when full */
/* Row i (0: the oldest held; i < n). */
const sco_row *sco_hist_at(const sco_hist *h, size_t i);
/* The first row at or after t (0..n; n: none). Times rise. */
size_t sco_hist_find(const sco_hist *h, double t);

/*
 * The trigger: an edge or a level on one channel, found over a series
 * (a scope's normal mode shows the last one that has its whole window).
 */
typedef enum sco_trig_kind { SCO_T_RISING, SCO_T_FALLING, SCO_T_EITHER, SCO_T_LEVEL } sco_trig_kind;

/* Whether the pair (prev, cur) fires: an edge crosses the level (prev
 * strictly on one side, cur at or past it); SCO_T_LEVEL fires on every
 * sample at or above the level. NaN never fires. 1 or 0. */
int sco_trig_fires(sco_trig_kind k, double level, double prev, double cur);

/* The last index i of v[0..n-1] (stride doubles apart) at which the
 * trigger fires with at least pre samples before it and post after it
 * (i >= pre, i + post < n), or -1 when none. SCO_T_LEVEL: the first
 * sample of the last run at or above the level. */
long sco_trig_find(const double *v, size_t n, sco_trig_kind k, double level, size_t pre, size_t post);

/* Cursor statistics over v[0..n-1], sampled at t[0..n-1]: delta-t
 * (t[n-1] - t[0]), mean, RMS, peak-to-peak, min, max; NaN samples are
 * left out (n_used counts the rest). 0, or EK3_EINVAL (n 0 or NULL),
 * EK3_ENOENT (every sample NaN: the figures are NaN). */
typedef struct sco_stat {
    double dt, mean, rms, p2p, min, max;
    size_t n_used;
} sco_stat;
int sco_stats(const double *t, const double *v, size_t n, sco_stat *out);

/*
 * The layout of a window of w x h pixels: the rack map on the left (a
 * grid of N slots), the waveform panel on the right, the bus strip under
 * it, a status line at the bottom.
 */
typedef struct sco_rect {
    int x, y, w, h;
} sco_rect;

#define SCO_LEGEND_H 170 /* px under the map: its key, the leader, the selected modules */
#define SCO_CELL_MAX 56  /* px: a slot's largest pitch */

typedef struct sco_layout {
    int w, h;
    unsigned n, cols, rows;   /* slots and their grid */
    sco_rect map, wave, bus, status;
    int cell;                 /* a slot's pitch, px */
} sco_layout;

/* Lay out n slots (1..510) in a w x h window (at least 320 x 400): the
 * map's grid is the one with the largest square cells (up to
 * SCO_CELL_MAX px) in a third of the width, SCO_LEGEND_H px left under it.
 * 0, or EK3_EINVAL. */
int sco_layout_of(int w, int h, unsigned n, sco_layout *out);
/* Slot k's (1..n) rectangle inside the map (a 1 px gap around it).
 * 0, or EK3_EINVAL (k out of range). */
int sco_slot_rect(const sco_layout *l, unsigned k, sco_rect *out);
/* The slot (1..n) under pixel (x, y), or 0. */
unsigned sco_slot_at(const sco_layout *l, int x, int y);

/* The rack map's colours. */
typedef enum sco_color_mode { SCO_BY_STATE, SCO_BY_CURRENT, SCO_BY_TEMP, SCO_NMODES } sco_color_mode;
const char *sco_mode_name(sco_color_mode m); /* "state", "current", "temperature" */
typedef struct sco_rgb {
    uint8_t r, g, b;
} sco_rgb;
/* A state's colour (ses_mstate): FAULT red (220, 30, 30), RUN green,
 * START yellow, OFF grey, PULLED/LOST dark, PARKED blue, EXT cyan. */
sco_rgb sco_state_rgb(unsigned st);
/* Slot colour: by state; by current (0 .. i_max A) or by temperature
 * (25 .. 125 C) on a ramp from dark blue through green to yellow, with no
 * red in it. A faulted module is the FAULT red in every mode, a module
 * out of its slot dark. */
sco_rgb sco_slot_rgb(sco_color_mode m, const ses_mod_snap *ms, double i_max);

/* The event markers. */
typedef enum sco_ev_kind { SCO_E_FAULT, SCO_E_TRIP, SCO_E_RESTART, SCO_E_ELECTION, SCO_NEV } sco_ev_kind;
typedef struct sco_ev {
    double t;             /* s */
    uint16_t kind, slot;  /* sco_ev_kind; the module (0: the rack, the bus) */
} sco_ev;
/* A marker's colour and letter ('F' fault injected, 'T' trip, 'R' restart, 'E' election). */
sco_rgb sco_ev_rgb(sco_ev_kind k);
char sco_ev_letter(sco_ev_kind k);

/* The session options of a plain in-process rack of n modules on
 * `threads` threads with this load: averaged plant, seed 1, 750 V, 5 V/A
 * droop, the station starts it (via_station), default plant parameters,
 * quanta 1 (the caller steps it: ses_run_to). For the scope's bench and
 * tests. */
void sco_plain_rack(ses_opts *so, unsigned n, rack_load load, unsigned threads);

/* A frame on the rack bus, as a marker: its message type (can_id.h
 * cid_type, 0..15) or SCO_FRAME_ERROR for an error frame. */
#define SCO_FRAME_ERROR 16u
typedef struct sco_frame {
    double t;             /* s: the end of the frame on the bus */
    uint8_t type;
} sco_frame;
/* A frame type's colour and short name ("SYNC", "HB", "CMD", ..., "ERR"). */
sco_rgb sco_frame_rgb(unsigned type);
const char *sco_frame_name(unsigned type);

/*
 * The tap: the simulation's side. sco_tap_init resolves the signals and
 * sets up the rings; sco_tap_attach adds it to a session (ses_tap_add)
 * and chains the session's stop (a closed window stops the run as
 * Ctrl-C does).
 */
typedef struct sco_tap {
    ses *s;
    unsigned n;               /* modules */
    sco_ring rows, evs, frames; /* frames: one sco_frame per frame on the rack bus */
    cbus_deliver_fn deliver0; /* the bus's own delivery, chained (sco_tap_attach) */
    void *deliver0_ctx;
    unsigned last_from;       /* the last frame counted: its sender and end (one per frame, not per receiver) */
    int64_t last_end;
    uint64_t prev_errors;     /* the bus's error frames so far */
    sig_ref r_vbus, r_ibus, r_pbus, r_busload, r_frames, r_errors, r_term;
    sig_ref *r_iout, *r_pin, *r_tja, *r_tjb, *r_state, *r_resets; /* n each */
    sig_ref *r_tec, *r_rec;   /* n + 1 bus nodes */
    double *io;               /* scratch: n currents */
    uint8_t *on;              /* scratch */
    uint8_t *prev_state;
    uint32_t *prev_resets;
    double prev_term;
    uint64_t prev_flt;        /* the rig's faults injected taken so far (rig.h flt_n) */
    unsigned every;           /* quanta between two rows (>= 1) */
    double pin, share, tec, rec; /* the slow columns, as last figured (every SCO_SLOW_EVERY quanta) */
    long q;                   /* quanta seen */
    _Atomic int sel[SCO_SEL]; /* selected slots (0: none), set by the window */
    /* pause and step: the window asks, the tap waits */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic int paused, quit;
    _Atomic long steps;       /* quanta to run while paused */
    _Atomic long q_now;       /* quanta run (for the window) */
    double shot_t;            /* the tap stops here until the window took its shot (< 0: none) */
    _Atomic int shot_wait;    /* 1: armed for shot_t; 2: the tap waits there, its rows pushed; 0: released (the window) */
    int (*stop0)(void *ctx);  /* the session's stop, chained */
    void *stop0_ctx;
} sco_tap;

/* Resolve the signals against s (n modules), rings of ring_rows rows
 * (0: 65536) and 4096 events, a row every `every` quanta (0: 1). 0, or
 * EK3_ENOSPC, or sig_resolve's error. */
int sco_tap_init(sco_tap *t, ses *s, size_t ring_rows, unsigned every);
void sco_tap_free(sco_tap *t);
/* Before the session goes (ses_free) while the rings stay: the bus's own
 * delivery back, the session forgotten (sco_tap_free then touches it not). */
void sco_tap_detach(sco_tap *t);
/* Add the tap to t->s; the session's stop is chained (s->o.stop), and
 * the rack bus's delivery (g.bus.deliver: each frame's type goes into the
 * frames ring, then the rig's own delivery runs as before; sco_tap_free
 * puts it back). 0, or ses_tap_add's error. */
int sco_tap_attach(sco_tap *t);
/* The tap function itself (ses_tap_fn): exposed for tests and the bench. */
void sco_tap_fn(ses *s, void *ctx);
/* From the window: pause or resume; run `n` quanta while paused; quit
 * (the run stops at the end of the quantum, as on Ctrl-C). */
void sco_tap_pause(sco_tap *t, int paused);
void sco_tap_step(sco_tap *t, long n);
void sco_tap_quit(sco_tap *t);
/* Release the tap waiting at its shot time. */
void sco_tap_shot_done(sco_tap *t);

#endif /* SCO_H */
