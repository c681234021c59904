/*
 * station.h - the station controller of the rig (seed 2.4 and 3.3;
 * prefix stn_): node 0 of the rack bus. It takes external (Level 3)
 * requests - "module 42 to 3.0 kW", "rack to 200 kW" - through an API
 * guarded by an API key and a rate limit, checks them (the module exists
 * and is online, the request is within the module's limits), and sends
 * authenticated POWER_CMD frames, each with a 100 ms timeout and up to 3
 * retries, logging every decision. The modules check again
 * (CAN_HANDLER, LLC_CONTROL): no request from outside makes a module
 * exceed its limits.
 */
#ifndef STATION_H
#define STATION_H

#include <stdint.h>
#include <stdio.h>

#include "auth.h"
#include "can_frame.h"
#include "msg.h"

#define STN_TIMEOUT_NS 100000000LL /* 100 ms */
#define STN_RETRIES 3u
#define STN_ONLINE_NS 3000000000LL /* a module is online while its heartbeats come within 3 s */

typedef struct stn_module {
    msg_power_cmd cmd;      /* the command in flight */
    int64_t sent_ns, hb_ns; /* when it was (last) sent; the last heartbeat (-1: never) */
    uint32_t fv;            /* its freshness counter */
    uint8_t pending, tries;
    uint8_t queued;         /* waiting for room in the station's controller */
    auth_tx tx;
    msg_heartbeat hb;
    msg_power_ack ack;
    uint8_t acked;          /* the last command was acknowledged */
    msg_fault fault;        /* the last FAULT_ALERT */
    msg_diag diag;          /* the last DIAG result */
    int64_t diag_ns;        /* when (-1: none) */
    int64_t fault_ns;       /* when (-1: none) */
    msg_fault cause;        /* the first FAULT_ALERT of the highest severity heard from it, not a clearing
                             * one: the trip's cause when later alerts follow (HW_TRIP, then GFI) */
    int64_t cause_ns;       /* when (-1: none) */
    msg_fault first;        /* the first FAULT_ALERT heard from it, whatever its severity */
    int64_t first_ns;       /* when (-1: none) */
    uint32_t alerts;        /* FAULT_ALERT frames heard from it */
    int64_t latched_ns;     /* the last FAULT_ALERT of a latched trip (MSG_FAULT_F_LATCHED, not cleared) (-1: none) */
    cfd_frame last_cmd;     /* the last POWER_CMD sent to it, as on the wire (a recording: stn_fault_replay) */
    uint8_t has_last;
    uint8_t vout_strikes;   /* heartbeats in a row its VOUT disagreed with its peers' (stn_plausible) */
    uint8_t implausible;    /* found implausible and stopped (cleared when it reads with its peers again) */
    uint8_t judge;          /* its last heartbeat waits for the peer check */
    uint8_t share;          /* it carries a share of the rack's demand (stn_api_rack, the re-split) */
    uint8_t own;            /* commanded on its own (stn_api_module): out of the rack's split */
    uint8_t rebooted;       /* heard back from a reset (its heartbeat count started again) */
    uint8_t key_ok;         /* key holds its key (stn.c's cache: derived once, not per frame) */
    uint8_t key[AUTH_KEY_LEN];
} stn_module;

typedef struct stn_stats {
    uint32_t sent, retries, acked, clamped, refused, gave_up;
    uint32_t superseded; /* commands a newer one to the same module replaced before their answer */
    uint32_t gave_up_last; /* the module the last gave_up was on (0: none) */
    uint32_t late;         /* POWER_ACKs to an attempt timed out or given up (ignored: they count for nothing) */
    uint32_t api_ok, api_bad_key, api_rate, api_range, api_unknown;
    uint32_t faults; /* FAULT_ALERT frames received */
    uint32_t keepalives; /* STATION keepalives broadcast (stn_poll) */
    uint32_t implausible; /* modules stopped for a VOUT reading implausible against their peers' */
    uint32_t resplits; /* the rack's demand split again over a changed set of modules */
} stn_stats;

/* Peer plausibility of the modules' output-voltage readings (EK-TECH-010
 * 2.3 component diagnostics; 2.1 fail-safe defaults): every module of a
 * rack sits on one bus, so its VOUT reading (HEARTBEAT vout_dv) must agree
 * with its running peers' to within their sensing errors (0.1 % gain,
 * 3 LSB offset: about 0.3 % at 3 sigma) and the busbar drops. STN_PLAUS_LAG
 * after each heartbeat of a running module, with at least STN_PLAUS_PEERS
 * running peers heard within STN_PLAUS_NEAR of it (readings of one moment:
 * the bus may move between heartbeats) whose readings agree among themselves
 * (interquartile range within STN_PLAUS_STEADY: the bus is steady, not
 * in a ramp or a step their staggered heartbeats would smear), a reading
 * off their median by more than STN_PLAUS_FRAC (and 4 interquartile
 * ranges) is a strike; STN_PLAUS_STRIKES in a row and the station stops
 * the module (POWER_CMD STOP), logs it and counts it: its sensor cannot be
 * trusted, and a module regulating on a wrong reading runs to its
 * current limit. */
#define STN_PLAUS_PEERS 3u
#define STN_PLAUS_FRAC 0.01
#define STN_PLAUS_STEADY 0.004
#define STN_PLAUS_STRIKES 3u
#define STN_PLAUS_LAG 50000000LL   /* ns */
#define STN_PLAUS_NEAR 200000000LL /* ns */

#define STN_REBOOT_SEQ 16u /* a heartbeat count below this after a higher one: the module was reset */

#define STN_BURST_GAP_NS 1000000000LL /* refusals 1 s apart are separate bursts (one log line each) */

/* Refused API requests of one kind (bad key, rate limit) since the last
 * log line: logged once per burst, with the count. */
typedef struct stn_burst {
    uint32_t n;
    int64_t first_ns, last_ns;
} stn_burst;

typedef struct station {
    auth_crypto cr;
    uint8_t rack_key[AUTH_KEY_LEN];
    unsigned n;
    stn_module *m;          /* m[slot - 1] */
    char api_key[65];
    double rate, burst, tokens; /* token bucket: requests per second */
    int64_t tok_ns;
    FILE *log;              /* every decision, or NULL */
    int (*send)(void *ctx, const cfd_frame *f);
    void *send_ctx;
    /* Optional (NULL: every frame is signed and sent): nonzero when send
     * would refuse any signed frame now with EK3_EFULL (a full controller
     * queue). Such a frame is not signed nor sent: its freshness counter
     * is spent as signing would spend it, and the caller sees EK3_EFULL
     * as from send (a command waits for room). The rig sets it
     * (cbus_full). */
    int (*full)(void *ctx);
    stn_stats st;
    stn_burst bad_key_burst, rate_burst; /* refusals not yet logged */
    /* Injected API floods (stn_fault_flood): [0] with the right key, [1] a wrong one. */
    auth_tx group_tx;       /* its freshness counter to every module (a broadcast FW_UPDATE, the keepalive) */
    int64_t keepalive_ns;   /* the last STATION keepalive (stn_poll) */
    double flood_rate[2];   /* requests per second (0: none) */
    int64_t flood_t0[2];
    uint64_t flood_done[2]; /* requests made since flood_t0 */
    /* The rack's demand, the last stn_api_rack (held while dem_w > 0). */
    uint8_t dem;
    double dem_w, dem_v;    /* total power (W) and set point (V) */
    uint8_t dem_full;       /* stn_api_rack_full's: dem_w follows the members (stn_module_cap each) */
    double dem_each;        /* each member's share at the last split, W */
    unsigned dem_n;         /* the members at the last split */
    uint8_t dem_dirty;      /* a member may have changed (a heartbeat, a peer check, a module commanded alone or
                             * given up): stn_poll splits again only then, or once a member's heartbeat ages out */
    int64_t dem_expiry_ns;  /* the first instant a member of the last check is no longer online */
    /* The keys cached (stn_module.key, bkey) were derived with key_cr from
     * key_rack: a change of cr or rack_key forgets them. */
    auth_crypto key_cr;
    uint8_t key_rack[AUTH_KEY_LEN];
    uint8_t bkey_ok;        /* bkey holds the broadcast key */
    uint8_t bkey[AUTH_KEY_LEN];
    /* stn_poll's passes over the modules run only from these times on
     * (each at or before the first poll with something to do: a
     * heartbeat's peer check due, a command to send or to time out);
     * INT64_MIN forces them. */
    int64_t judge_due, pend_due;
} station;

/* Commands sent and not yet answered (not timed out, not given up): with
 * stn_stats, sent = acked + superseded + retries + gave_up + these. */
unsigned stn_awaiting(const station *s);

/* A station for n modules. 0, or EK3_EINVAL, EK3_ENOSPC. */
int stn_init(station *s, unsigned n, auth_crypto cr, const uint8_t rack_key[AUTH_KEY_LEN], const char *api_key,
             double rate_per_s, double burst, int (*send)(void *, const cfd_frame *), void *send_ctx);
void stn_free(station *s);

/* API: set one module (power limit W, output set point V; 0 W stops it);
 * the module leaves the rack's split (stn_api_rack) until the next rack
 * request.
 * 0, or EK3_EPERM (wrong API key), EK3_EBUSY (rate limit), EK3_ENOENT (no
 * such module, or not online), EK3_ERANGE (outside the module's limits:
 * 0..3300 W, 200..920 V). */
int stn_api_module(station *s, int64_t now, const char *api_key, unsigned slot, double power_w, double vset_v);

/* The rack's demand (the last stn_api_rack) that the modules in its split
 * now cannot carry, at stn_module_cap each: W, 0 when they can or there
 * is no demand; *members the modules in the split. What the next split
 * will log as "not carried", for an API reply to say at once (a module
 * taken out of the split by stn_api_module raises it). */
double stn_demand_short(const station *s, int64_t now, unsigned *members);

/* API: restart a module after a fault: an authenticated START even in
 * FAULT; the module clears its latches (and the hardware's) if the fault
 * is gone, and starts. Returns as stn_api_module (EK3_ERANGE for 0 W). */
int stn_api_restart(station *s, int64_t now, const char *api_key, unsigned slot, double power_w, double vset_v);

/* API: only the key and the rate limit, for a request that reads (a
 * status query). 0, EK3_EPERM or EK3_EBUSY; a token is spent. */
int stn_api_check(station *s, int64_t now, const char *api_key);

/* The most the station asks of one module: STN_MODULE_I_A at the set
 * point, and STN_MODULE_W at most (the module's rating, EK-TECH-010). */
#define STN_MODULE_I_A 4.0
#define STN_MODULE_W 3300.0

/* The most one module may be asked for at vset_v (W): STN_MODULE_I_A x
 * vset_v, at most STN_MODULE_W. */
double stn_module_cap(double vset_v);

/* API: the whole rack, total_w shared over the online modules. Returns as
 * stn_api_module; EK3_ERANGE also when the online modules cannot carry it.
 * The station keeps the demand (total_w at vset_v; 0 W: none kept) and
 * splits it again (stn_poll) whenever the set of modules that can carry
 * it changes: the members are the modules heard within STN_ONLINE_NS,
 * not in FAULT (by their last heartbeat, or by a latched trip's
 * FAULT_ALERT that no heartbeat has followed yet: the station drops a
 * tripped module at its alert, not up to a heartbeat period later), not
 * stopped as implausible and not commanded on their own
 * (stn_api_module). A module that joins (inserted, restarted after a
 * fault) or comes back from a reset (a watchdog's, an update's: its
 * heartbeat count starts again) is commanded on with its share, the
 * others with theirs (SET, which starts a module in standby but never
 * clears a latched fault: that stays the API's restart), total_w /
 * members each (at most
 * stn_module_cap: the rest is logged as not carried); a module lost
 * (silent for STN_ONLINE_NS, faulted) leaves and the others' shares
 * grow. Each split is logged ("rack demand ... split over N modules")
 * with the modules that joined or left, and counted (st.resplits). */
int stn_api_rack(station *s, int64_t now, const char *api_key, double total_w, double vset_v);

/* As stn_api_rack for the rack's full capacity: every member at its most
 * (stn_module_cap(vset_v) each), the total following the members at
 * every split, so a module that joins later (heard late, inserted) adds
 * its capacity instead of thinning the others' shares. Returns as
 * stn_api_rack. */
int stn_api_rack_full(station *s, int64_t now, const char *api_key, double vset_v);

/* API: ask module `slot` for a self-test (msg_diag_test); the answer
 * lands in m[slot - 1].diag. Returns as stn_api_module. */
int stn_api_diag(station *s, int64_t now, const char *api_key, unsigned slot, unsigned test);

/* A FW_UPDATE frame (the firmware streamer, fwroll.h) to module `dst`
 * (signed with its key) or to every module (dst CID_NODE_BROADCAST: the
 * group key, the station's group counter). 0, or msg_encode's error,
 * EK3_ENOENT (no such module), the signature's or the send's error. */
int stn_send_fw(station *s, unsigned dst, const msg_fw_update *u);

/* Module `slot` came back from a reset (an update's reboot): if the
 * station had it running, the same command again as a START (a module
 * boots with its output off when the station starts it). 0, EK3_ENOENT,
 * or the send's error. */
int stn_restore(station *s, int64_t now, unsigned slot);

/* A frame from the rack bus (heartbeats, acknowledgements). */
void stn_on_frame(station *s, const cfd_frame *f, int64_t now);

/* Timeouts and retries, the log line of a burst of refused API
 * requests that has ended, the rack demand's re-split (stn_api_rack),
 * and the keepalive: from the first call, a STATION RACK_TARGET
 * broadcast (group key: the modules the station counts online, the sum
 * and highest set point of its commands) every BRD_KEEPALIVE_MS
 * (board.h), whose silence tells a running module it lost the station
 * (COMM_LOSS, docs/faults.md). Call every control period. */
void stn_poll(station *s, int64_t now);

/* Modules heard within STN_ONLINE_NS, less those given up (stn_lost). */
unsigned stn_online(const station *s, int64_t now);

/* Is slot (1..n) among them? 0 for a slot out of range. */
int stn_heard(const station *s, unsigned slot, int64_t now);

/* The transport gave module `slot` up (an external module that stopped
 * answering: hil_bridge/rig.c): it is offline from now on, left out of
 * stn_online and of a rack request's split, until a heartbeat of it is
 * heard again. 0, or EK3_ERANGE for a slot outside 1..n. */
int stn_lost(station *s, unsigned slot);

/*
 * Attacks on the trust boundaries (seed 3.2, 3.3), injected by the rig
 * (fault.h); each returns 0 or the send's error. The module's
 * CAN_HANDLER must refuse or clamp them and count them (canh_stats).
 */

/* A forged POWER_CMD to `slot`: power_w (0 W: STOP) at vset_v, with the
 * next freshness counter but a tag computed under a wrong key (an
 * attacker on the bus without the module's key). Nothing is recorded
 * and the station's counter does not move. EK3_ENOENT for a bad slot,
 * EK3_ERANGE for values the protocol cannot carry. */
int stn_fault_forge(station *s, unsigned slot, double power_w, double vset_v);

/* The last POWER_CMD the station sent to `slot`, sent again byte for
 * byte (a recorded frame replayed). EK3_ENOENT when none was sent yet. */
int stn_fault_replay(station *s, unsigned slot);

/* An authenticated POWER_CMD with the values asked, past the API's range
 * check (a compromised Level-3 client or a station defect): power_w
 * (0..65535 W) and vset_v (0..6553.5 V) go on the wire as they are, so a
 * value outside the protocol's field range (3300 W, 200-920 V) reaches
 * the module too. The module answers CLAMPED (within the fields, beyond
 * its limits: llcc_limit_cmd) or REFUSED (a field out of range), which
 * the station counts; it is not retried. EK3_ENOENT, EK3_ERANGE. */
int stn_fault_command(station *s, int64_t now, unsigned slot, double power_w, double vset_v);

/* From now on, rate_per_s API requests a second (a status read) with
 * the right key (bad_key 0: a client gone wild, against the rate limit:
 * api_rate) or a wrong one (api_bad_key); made in stn_poll, so they
 * come every control period. rate 0 stops it. EK3_ERANGE outside
 * 0..1e6. */
int stn_fault_flood(station *s, int64_t now, double rate_per_s, int bad_key);

#endif /* STATION_H */
