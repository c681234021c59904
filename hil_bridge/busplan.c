/* busplan.c - the rack's CAN-FD traffic plan from the seed's rates. */
#include "busplan.h"

#include <string.h>

#include "auth.h"
#include "can_frame.h"
#include "can_id.h"
#include "ek3_err.h"
#include "msg.h"

/* One planned message: per_module rates scale with the module count. */
typedef struct {
    const char *name, *who, *basis;
    uint8_t type;
    uint8_t trailer; /* signed (by the station, or a swarm frame by the group key): the auth trailer */
    uint8_t per_module;
    double hz;
    uint8_t sent;  /* bplan_sent */
    uint8_t entry; /* 1: carries the leader's newest log entry in its hz heartbeats (ELECTION's APPEND) */
} bplan_spec;

/* Frames a heartbeat carrying a full entry takes: its bytes in pieces of
 * MSG_ELECT_CHUNK (msg.h), the first with the message itself. */
#define BPLAN_ENTRY_FRAMES ((MSG_ENTRY_MAX + MSG_ELECT_CHUNK - 1u) / MSG_ELECT_CHUNK)

/* The seed's message set (sections 2.3, 4.2, 4.3; DESIGN.md numbers). */
static const bplan_spec bplan_specs[] = {
    {"HEARTBEAT", "module -> all", "1 Hz x modules (seed 4.2)", CID_TYPE_HEARTBEAT, 0, 1, 1.0, BPLAN_SENT, 0},
    {"THERMAL", "module -> all", "10 Hz x modules (SWARM_COORD's share, seed 2.3)", CID_TYPE_THERMAL, 1, 1, 10.0,
     BPLAN_SENT, 0},
    {"POWER_CMD", "station -> module", "1 Hz x modules (set-point refresh)", CID_TYPE_POWER_CMD, 1, 1, 1.0, BPLAN_EVENT,
     0},
    {"POWER_ACK", "module -> station", "1 Hz x modules (one per command)", CID_TYPE_POWER_ACK, 0, 1, 1.0, BPLAN_EVENT,
     0},
    {"STATION", "station -> all", "1 Hz (rack target, keepalive)", CID_TYPE_STATION, 1, 0, 1.0, BPLAN_SENT, 0},
    {"SYNC", "leader -> all", "10 Hz (the leader's balancing broadcast)", CID_TYPE_SYNC, 1, 0, 10.0, BPLAN_SENT, 0},
    {"ELECTION", "leader <-> modules",
     "10 Hz x modules: the leader's APPEND (Raft heartbeat) + one APPEND_RESP per other module, "
     "+ a 32-byte decision's further fragments in each heartbeat while it is the newest entry",
     CID_TYPE_ELECTION, 1, 1, 10.0, BPLAN_SENT, 1},
    {"FAULT_ALERT", "module -> all", "storm: 1 Hz x modules (worst case)", CID_TYPE_FAULT, 0, 1, 1.0, BPLAN_EVENT, 0},
    {"FW_UPDATE", "station <-> module", "background: idle bus time only (an update: fwroll.h)", CID_TYPE_FW_UPDATE, 1, 0,
     0.0, BPLAN_EVENT, 0},
};

int bplan_compute(bplan *p, unsigned modules, uint32_t arb_bps, uint32_t data_bps)
{
    if (!p)
        return EK3_EINVAL;
    if (modules < 1 || modules > CID_NODE_MODULE_MAX || arb_bps == 0 || data_bps == 0)
        return EK3_ERANGE;
    memset(p, 0, sizeof *p);
    p->modules = modules;
    p->arb_bps = arb_bps;
    p->data_bps = data_bps;
    for (unsigned i = 0; i < sizeof bplan_specs / sizeof bplan_specs[0]; i++) {
        const bplan_spec *s = &bplan_specs[i];
        const msg_desc *d = msg_desc_of(s->type);
        bplan_row *r = &p->rows[p->nrows++];
        cfd_frame f = {.flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS};
        unsigned n = d->len + (s->trailer ? AUTH_TRAILER_LEN : 0u);
        f.len = (uint8_t)cfd_round_len(n);
        cfd_bits b = cfd_phase_bits(&f, 1);
        r->name = s->name;
        r->who = s->who;
        r->basis = s->basis;
        r->prio = d->prio;
        r->type = s->type;
        r->sent = s->sent;
        r->payload = d->len;
        r->frame_len = f.len;
        r->arb_bits = b.arb;
        r->data_bits = b.data;
        r->bits = b.arb + b.data;
        r->ns = cfd_frame_ns(&f, arb_bps, data_bps);
        r->decision_hz = s->entry ? s->hz * (double)(BPLAN_ENTRY_FRAMES - 1u) : 0.0;
        r->rate_hz = s->hz * (s->per_module ? modules : 1u) + r->decision_hz;
        r->load = r->rate_hz * (double)r->ns * 1e-9;
        p->fps += r->rate_hz;
        p->load += r->load;
        if (r->ns > p->worst_ns)
            p->worst_ns = r->ns;
    }
    return EK3_OK;
}
