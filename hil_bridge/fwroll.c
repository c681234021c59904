/* fwroll.c - the station's firmware streamer and rolling update (fwroll.h). */
#include "fwroll.h"

#include <stdlib.h>
#include <string.h>

#include "can_id.h"
#include "ek3_err.h"
#include "fwimg.h"

static const char *const fwr_phase_names[FWR_P_COUNT_] = {
    "skip", "begin", "sending", "ending", "staged", "activating", "trial",
    "reverting", "done", "reverted", "refused", "lost", "held"};

void fwr_count(const fwr *u, unsigned counts[FWR_P_COUNT_])
{
    memset(counts, 0, FWR_P_COUNT_ * sizeof *counts);
    for (unsigned k = 0; k < u->n; k++)
        counts[u->m[k].phase < FWR_P_COUNT_ ? u->m[k].phase : FWR_P_SKIP]++;
}

const char *fwr_phase_name(unsigned p)
{
    return p < FWR_P_COUNT_ ? fwr_phase_names[p] : "?";
}

static const char *const fwr_why_names[MSG_FWW_COUNT_] = {
    "none", "truncated", "bad-magic", "bad-format", "too-big", "wrong-hw", "downgrade", "unsigned",
    "unknown-key", "bad-hash", "bad-signature", "flash-io", "chunk-crc", "out-of-order", "no-transfer", "busy"};

const char *fwr_why_name(unsigned why)
{
    return why < MSG_FWW_COUNT_ ? fwr_why_names[why] : "?";
}

static uint32_t fwr_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int fwr_init(fwr *u, station *stn, unsigned n, const uint8_t *img, size_t len, uint8_t xfer, const fwr_opts *o)
{
    memset(u, 0, sizeof *u);
    if (!stn || !img || !o || n != stn->n || xfer == 0)
        return EK3_EINVAL;
    if (len < FWIMG_HDR_SIZE + FWIMG_TRL_SIZE || fwr_le32(img) != FWIMG_MAGIC)
        return EK3_EPARSE;
    if (len > MSG_FW_IMAGE_MAX)
        return EK3_ERANGE;
    u->img = malloc(len);
    u->m = calloc(n, sizeof *u->m);
    if (!u->img || !u->m) {
        fwr_free(u);
        return EK3_ENOSPC;
    }
    memcpy(u->img, img, len);
    u->stn = stn;
    u->o = *o;
    u->o.targets = NULL; /* the caller's array need not outlive this call */
    if (!u->o.wave_max)
        u->o.wave_max = 4;
    if (!u->o.gap_ns)
        u->o.gap_ns = FWR_GAP_NS;
    u->size = (uint32_t)len;
    u->version = fwr_le32(img + 12);
    u->security = fwr_le32(img + 16);
    u->xfer = xfer;
    u->n = n;
    u->next_ns = o->start_ns;
    u->st.staged_ns = u->st.done_ns = -1;
    for (unsigned k = 0; k < n; k++) {
        u->m[k].phase = !o->targets || o->targets[k] ? FWR_P_BEGIN : FWR_P_SKIP;
        u->m[k].parked_ns = -1;
    }
    return EK3_OK;
}

void fwr_free(fwr *u)
{
    free(u->img);
    free(u->m);
    u->img = NULL;
    u->m = NULL;
}

static void fwr_log(fwr *u, int64_t now, unsigned slot, const char *what, const char *detail)
{
    if (u->o.log)
        fprintf(u->o.log, "%.6f update module %u: %s%s%s\n", now * 1e-9, slot, what, detail ? ": " : "",
                detail ? detail : "");
}

static void fwr_set(fwr *u, int64_t now, unsigned slot, unsigned phase, const char *detail)
{
    fwr_mod *m = &u->m[slot - 1];
    if (m->phase == phase)
        return;
    /* back from a reboot (into the trial, or back to the old image): running again as the station had it */
    if ((m->phase == FWR_P_ACTIVATE && phase != FWR_P_REFUSED) || m->phase == FWR_P_REVERT)
        stn_restore(u->stn, now, slot);
    m->phase = (uint8_t)phase;
    m->tries = 0;
    m->heard_ns = now; /* its silence counts from here */
    u->last_ns = now;
    m->note = phase >= FWR_P_DONE ? detail : NULL; /* the report's reason: every ending one is a constant */
    if (phase == FWR_P_BEGIN)
        m->asked_ns = 0; /* at once */
    fwr_log(u, now, slot, fwr_phase_name(phase), detail);
}

/* A STATUS from module `slot`. */
static void fwr_status(fwr *u, unsigned slot, const msg_fw_update *s, int64_t now)
{
    fwr_mod *m = &u->m[slot - 1];
    msg_fw_status st;
    msg_fw_status_get(s, &st);
    uint8_t gaps = m->heard ? m->st.refusals[MSG_FWW_ORDER] : 0, crcs = m->heard ? m->st.refusals[MSG_FWW_CRC] : 0;
    /* ACTIVATE's own refusals (fw_update.c fwu_activate, fwu_reset): `why` is the last refusal of the
     * whole transfer, so a gap told while receiving would read as one */
    uint8_t busy = m->heard ? m->st.refusals[MSG_FWW_BUSY] : 0, noxfer = m->heard ? m->st.refusals[MSG_FWW_NO_XFER] : 0;
    for (unsigned w = 0; w < MSG_FWW_COUNT_; w++) {
        unsigned was = m->heard ? m->st.refusals[w] : 0;
        m->refused[w] += st.refusals[w] >= was ? st.refusals[w] - was : st.refusals[w]; /* lower: it was reset */
    }
    if (!m->heard)
        m->ver_before = s->arg;
    m->heard = 1;
    m->heard_ns = now;
    m->st = st;
    m->ver_now = s->arg;
    m->why = st.why;
    m->tries = 0;
    switch (m->phase) {
    case FWR_P_BEGIN:
    case FWR_P_SEND:
    case FWR_P_END:
        if (st.state == MSG_FWS_STAGED && s->xfer == u->xfer) {
            fwr_set(u, now, slot, FWR_P_STAGED, NULL);
        } else if (st.state == MSG_FWS_REFUSED && s->xfer == u->xfer) {
            fwr_set(u, now, slot, FWR_P_REFUSED, fwr_why_name(st.why));
        } else if (st.state == MSG_FWS_RECEIVING && s->xfer == u->xfer) {
            /* resume (after BEGIN), or go back to its extent (a gap, a bad chunk, a short END) */
            if (m->phase == FWR_P_BEGIN || m->phase == FWR_P_END || st.refusals[MSG_FWW_ORDER] != gaps ||
                st.refusals[MSG_FWW_CRC] != crcs || s->offset > m->next) {
                /* sent past what it holds: sent again (after a reset too: BEGIN with resume) */
                if ((m->phase != FWR_P_BEGIN || m->resume) && s->offset < m->next)
                    u->st.resent += m->next - s->offset;
                m->next = s->offset;
                fwr_set(u, now, slot, FWR_P_SEND, NULL);
            }
            m->extent = s->offset;
        } else if (st.state == MSG_FWS_IDLE || st.state == MSG_FWS_TRIAL || st.state == MSG_FWS_CONFIRMED ||
                   s->xfer != u->xfer) {
            if (m->phase != FWR_P_BEGIN) {
                m->resume = 1;
                fwr_set(u, now, slot, FWR_P_BEGIN, "it lost the transfer (a reset): BEGIN again, resuming");
            }
        } else if (st.state == MSG_FWS_NOBOOT) {
            fwr_set(u, now, slot, FWR_P_REFUSED, "no bootloader");
        }
        break;
    case FWR_P_ACTIVATE:
    case FWR_P_TRIAL:
        if (m->phase == FWR_P_ACTIVATE && st.state == MSG_FWS_HANDOFF)
            fwr_log(u, now, slot, "handing off", "its share ramps down before the reset");
        else if (m->phase == FWR_P_ACTIVATE && st.state == MSG_FWS_STAGED &&
                 (st.refusals[MSG_FWW_BUSY] != busy || st.refusals[MSG_FWW_NO_XFER] != noxfer))
            fwr_set(u, now, slot, FWR_P_REFUSED, fwr_why_name(st.why)); /* it refused ACTIVATE */
        else if (m->phase == FWR_P_ACTIVATE && st.state == MSG_FWS_STAGED && s->xfer == u->xfer) {
            m->phase = FWR_P_STAGED; /* staged still, nothing refused: its ACTIVATE was lost; fwr_activate again */
            fwr_log(u, now, slot, "staged still", "its ACTIVATE was lost: again");
        }
        else if (m->phase == FWR_P_ACTIVATE && s->arg != u->version && st.state == MSG_FWS_IDLE)
            fwr_set(u, now, slot, FWR_P_REVERTED, "the trial did not boot: back on its old version");
        else if (s->arg == u->version && st.state == MSG_FWS_CONFIRMED)
            fwr_set(u, now, slot, FWR_P_DONE, NULL);
        else if (s->arg == u->version && st.trial)
            fwr_set(u, now, slot, FWR_P_TRIAL, NULL);
        else if (s->arg == u->version && m->phase == FWR_P_TRIAL && !st.trial)
            fwr_set(u, now, slot, FWR_P_DONE, "confirmed (its STATUS saying so was lost)");
        else if (s->arg != u->version && m->phase == FWR_P_TRIAL)
            fwr_set(u, now, slot, FWR_P_REVERTED, "it came back on its old version");
        break;
    case FWR_P_REVERT:
        if (s->arg != u->version && !st.trial)
            fwr_set(u, now, slot, FWR_P_REVERTED, "no confirm: rebooted back to its old version");
        else if (s->arg == u->version && !st.trial)
            fwr_set(u, now, slot, FWR_P_DONE, "confirmed late");
        break;
    default:
        break;
    }
}

void fwr_on_frame(fwr *u, const cfd_frame *f, int64_t now)
{
    cid_fields cf;
    if (!(f->flags & CFD_FLAG_EFF) || cid_decode(f->id, &cf) || cf.src < 1 || cf.src > u->n)
        return;
    if (cf.type == CID_TYPE_SYNC && cf.dst == CID_NODE_BROADCAST) {
        u->leader = (uint8_t)cf.src; /* the swarm's leader sends SYNC: it reboots last */
        return;
    }
    if (cf.type == CID_TYPE_THERMAL && cf.dst == CID_NODE_BROADCAST) {
        const msg_desc *td = msg_desc_of(CID_TYPE_THERMAL);
        msg_thermal t;
        msg_err te;
        if (msg_decode(CID_TYPE_THERMAL, f->data, f->len > td->len ? td->len : f->len, &t, &te) == EK3_OK) {
            fwr_mod *m = &u->m[cf.src - 1];
            m->parked_ns = (t.flags & MSG_THERMAL_F_PARKED) && t.state == MSG_STATE_STANDBY ? now : -1;
            m->parked_dv = t.vout_dv;
        }
        return;
    }
    if (cf.type != CID_TYPE_FW_UPDATE || cf.dst != CID_NODE_STATION)
        return;
    const msg_desc *d = msg_desc_of(CID_TYPE_FW_UPDATE);
    msg_fw_update s;
    msg_err e;
    size_t len = f->len > d->len ? d->len : f->len; /* the zero trailer after it */
    if (msg_decode(CID_TYPE_FW_UPDATE, f->data, len, &s, &e) != EK3_OK || s.op != MSG_FW_STATUS)
        return;
    if (u->m[cf.src - 1].phase != FWR_P_SKIP)
        fwr_status(u, cf.src, &s, now);
}

/* The bus has room: the station has no FW_UPDATE frame queued, and no
 * node has anything pending. */
static int fwr_idle(const cbus *bus)
{
    for (unsigned k = 0; k < bus->n; k++)
        if (bus->node[k].qn)
            return 0;
    return 1;
}

static int fwr_send(fwr *u, unsigned dst, msg_fw_update *f, int64_t now)
{
    int rc = stn_send_fw(u->stn, dst, f);
    if (rc == EK3_OK) {
        u->st.frames++;
        u->st.broadcasts += dst == CID_NODE_BROADCAST;
        u->next_ns = now + u->o.gap_ns;
    }
    return rc;
}

static int fwr_op(fwr *u, unsigned dst, unsigned op, int64_t now, uint8_t flags)
{
    msg_fw_update f;
    memset(&f, 0, sizeof f);
    f.op = (uint8_t)op;
    f.xfer = u->xfer;
    if (op == MSG_FW_BEGIN) {
        f.offset = u->size;
        f.arg = u->version;
        f.len = MSG_FW_BEGIN_LEN;
        memcpy(f.data, &u->security, 4);
        f.data[4] = flags;
    } else if (op == MSG_FW_END) {
        f.offset = u->size;
    }
    return fwr_send(u, dst, &f, now);
}

static int fwr_chunk(fwr *u, unsigned dst, uint32_t off, int64_t now)
{
    msg_fw_update f;
    memset(&f, 0, sizeof f);
    f.op = MSG_FW_CHUNK;
    f.xfer = u->xfer;
    f.offset = off;
    uint32_t n = u->size - off < MSG_FW_CHUNK_MAX ? u->size - off : MSG_FW_CHUNK_MAX;
    memcpy(f.data, u->img + off, n);
    f.len = (uint8_t)((n + 7u) & ~7u); /* the image's tail padded to a double word with zeros */
    f.arg = msg_crc32(0, f.data, f.len);
    int rc = fwr_send(u, dst, &f, now);
    if (rc == EK3_OK)
        u->st.chunks++;
    return rc;
}

static void fwr_weigh(const fwr *u, int64_t now, double *demand_w, double *cap_w, double *biggest_w)
{
    const station *s = u->stn;
    double demand = 0, cap = 0, biggest = 0;
    for (unsigned k = 0; k < s->n; k++) {
        const stn_module *m = &s->m[k];
        if (m->hb_ns < 0 || now - m->hb_ns > STN_ONLINE_NS)
            continue;
        demand += m->hb.power_w;
        if (m->hb.state == MSG_STATE_ACTIVE || m->hb.state == MSG_STATE_DERATED) {
            double c = stn_module_cap(m->hb.vout_dv / 10.0);
            cap += c;
            biggest = c > biggest ? c : biggest;
        } else if (m->hb.state == MSG_STATE_STANDBY && u->m[k].parked_ns >= 0 &&
                   now - u->m[k].parked_ns <= FWR_PARKED_NS) {
            cap += stn_module_cap(u->m[k].parked_dv / 10.0); /* parked by the swarm: it wakes when the bus sags */
        }
    }
    *demand_w = demand;
    *cap_w = cap;
    *biggest_w = biggest;
}

void fwr_capacity(const fwr *u, int64_t now, double *demand_w, double *cap_w)
{
    double b;
    fwr_weigh(u, now, demand_w, cap_w, &b);
}

/* Modules the rack can spare, from what fwr_weigh gave. */
static unsigned fwr_spare_of(double demand, double cap, double biggest)
{
    if (biggest <= 0)
        return 0;
    double spare = (cap * FWR_CAP_MARGIN - demand) / (biggest * FWR_CAP_MARGIN);
    return spare < 1 ? 0 : (unsigned)spare;
}

int fwr_outcome(const fwr *u, int64_t now, char *why, size_t cap)
{
    unsigned count[FWR_P_COUNT_];
    fwr_count(u, count);
    unsigned targets = u->n - count[FWR_P_SKIP];
    if (count[FWR_P_DONE] == targets) {
        snprintf(why, cap, "all %u modules on %u.%u.%u", targets, u->version >> 16, (u->version >> 8) & 0xFF,
                 u->version & 0xFF);
        return 0;
    }
    size_t n = (size_t)snprintf(why, cap, "%u of %u modules not on %u.%u.%u:", targets - count[FWR_P_DONE], targets,
                                u->version >> 16, (u->version >> 8) & 0xFF, u->version & 0xFF);
    const char *sep = " ";
    for (unsigned p = FWR_P_SKIP + 1; p < FWR_P_COUNT_; p++)
        if (p != FWR_P_DONE && count[p] && n < cap) {
            n += (size_t)snprintf(why + n, cap - n, "%s%u %s", sep, count[p], fwr_phase_name(p));
            sep = ", ";
        }
    double demand, have, biggest;
    fwr_weigh(u, now, &demand, &have, &biggest);
    /* only once the station has heard what the modules give (0 kW of 0 kW is no heartbeat yet, not a lack) */
    if (!fwr_finished(u) && count[FWR_P_STAGED] && have > 0 && fwr_spare_of(demand, have, biggest) == 0 && n < cap)
        snprintf(why + n, cap - n,
                 "; the roll waits for spare capacity: the demand of %.1f kW must stay within %.0f %% of what the "
                 "modules left running can give, and all of them together give %.1f kW (a lighter load, or more "
                 "modules)",
                 demand / 1e3, FWR_CAP_MARGIN * 100.0, have / 1e3);
    return 1;
}

unsigned fwr_spare(const fwr *u, int64_t now)
{
    double demand, cap, biggest;
    fwr_weigh(u, now, &demand, &cap, &biggest);
    return fwr_spare_of(demand, cap, biggest);
}

/* Which module's answer is overdue: ask again (QUERY), or give up on it. */
static int fwr_overdue(fwr *u, int64_t now)
{
    for (unsigned k = 0; k < u->n; k++) {
        fwr_mod *m = &u->m[k];
        unsigned p = m->phase;
        if (p == FWR_P_ACTIVATE || p == FWR_P_TRIAL) {
            /* rebooting, then confirming: ask now and then (a STATUS may be lost); the wave's time limit
             * decides, not the tries, unless it says nothing at all (pulled: the roll waited out the wave's
             * 15 s and the revert's 5 s for it) */
            if (now - m->heard_ns >= FWR_SILENT_NS) {
                fwr_set(u, now, k + 1, FWR_P_LOST, "no answer for 5 s while rebooting or confirming");
                continue;
            }
            if (now - m->asked_ns < FWR_QUERY_NS)
                continue;
            m->asked_ns = now;
            return fwr_op(u, k + 1, MSG_FW_QUERY, now, 0) == EK3_OK;
        }
        if ((p != FWR_P_END && p != FWR_P_REVERT) || now - m->asked_ns < FWR_ANSWER_NS)
            continue;
        if (++m->tries > FWR_TRIES) {
            fwr_set(u, now, k + 1, FWR_P_LOST, "no answer");
            continue;
        }
        m->asked_ns = now;
        return fwr_op(u, k + 1, MSG_FW_QUERY, now, 0) == EK3_OK;
    }
    return 0;
}

/* The transfer's next frame; 1 when one was sent. */
static int fwr_transfer(fwr *u, int64_t now)
{
    /* BEGIN to whoever needs it (first, or again after a reset). */
    for (unsigned k = 0; k < u->n; k++) {
        fwr_mod *m = &u->m[k];
        if (m->phase != FWR_P_BEGIN || (m->asked_ns > 0 && now - m->asked_ns < FWR_ANSWER_NS))
            continue;
        if (++m->tries > FWR_TRIES) {
            fwr_set(u, now, k + 1, FWR_P_LOST, "no answer to BEGIN");
            continue;
        }
        m->asked_ns = now ? now : 1;
        return fwr_op(u, k + 1, MSG_FW_BEGIN, now, m->resume ? MSG_FW_F_RESUME : 0) == EK3_OK;
    }
    /* Broadcast: the shared cursor, once every target has answered BEGIN. */
    unsigned sending = 0, begun = 0;
    for (unsigned k = 0; k < u->n; k++) {
        sending += u->m[k].phase == FWR_P_SEND && u->m[k].next >= u->bnext;
        begun += u->m[k].phase == FWR_P_BEGIN;
    }
    if (!u->o.unicast && sending > 1 && !begun && u->bnext < u->size) {
        uint32_t off = u->bnext;
        if (fwr_chunk(u, CID_NODE_BROADCAST, off, now) != EK3_OK)
            return 0;
        u->bnext += MSG_FW_CHUNK_MAX;
        for (unsigned k = 0; k < u->n; k++)
            if (u->m[k].phase == FWR_P_SEND && u->m[k].next >= off && u->m[k].next < u->bnext)
                u->m[k].next = u->bnext < u->size ? u->bnext : u->size;
        return 1;
    }
    /* Each module in turn: a resend from its extent, its own stream, its END. */
    for (unsigned j = 0; j < u->n; j++) {
        unsigned k = (unsigned)((u->st.frames + j) % u->n);
        fwr_mod *m = &u->m[k];
        if (m->phase != FWR_P_SEND)
            continue;
        if (m->next < u->size) {
            /* behind the broadcast, or unicast: its own bytes */
            if (!u->o.unicast && sending > 1 && m->next >= u->bnext)
                continue; /* the broadcast carries it */
            if (fwr_chunk(u, k + 1, m->next, now) != EK3_OK)
                return 0;
            m->next += MSG_FW_CHUNK_MAX;
            if (m->next > u->size)
                m->next = u->size;
            return 1;
        }
        m->asked_ns = now;
        fwr_set(u, now, k + 1, FWR_P_END, NULL);
        return fwr_op(u, k + 1, MSG_FW_END, now, 0) == EK3_OK;
    }
    return 0;
}

/* The roll's next step; 1 when a frame was sent. */
static int fwr_roll(fwr *u, int64_t now)
{
    unsigned active = 0, failed = 0, staged = 0;
    for (unsigned k = 0; k < u->n; k++) {
        fwr_mod *m = &u->m[k];
        if (m->wave == u->wave && u->wave) {
            if (m->phase == FWR_P_STAGED || m->phase == FWR_P_ACTIVATE || m->phase == FWR_P_TRIAL ||
                m->phase == FWR_P_REVERT)
                active++; /* STAGED: its ACTIVATE not sent yet */
            failed += m->phase == FWR_P_REVERTED || m->phase == FWR_P_LOST;
        }
        staged += m->phase == FWR_P_STAGED;
    }
    /* A wave that takes too long: reboot its members back. */
    if (active) {
        for (unsigned k = 0; k < u->n; k++) {
            fwr_mod *m = &u->m[k];
            if (m->wave != u->wave || m->phase == FWR_P_STAGED || now - u->wave_ns < FWR_CONFIRM_NS)
                continue;
            if (m->phase == FWR_P_ACTIVATE || m->phase == FWR_P_TRIAL) {
                fwr_set(u, now, k + 1, FWR_P_REVERT, "no confirm in time: REBOOT");
                m->asked_ns = now;
                return fwr_op(u, k + 1, MSG_FW_REBOOT, now, 0) == EK3_OK;
            }
            if (m->phase == FWR_P_REVERT && now - u->wave_ns > FWR_CONFIRM_NS + FWR_REVERT_NS)
                fwr_set(u, now, k + 1, FWR_P_LOST, "did not come back");
        }
        return 0;
    }
    if (u->wave == 1 && failed && !u->halted) {
        u->halted = 1;
        for (unsigned k = 0; k < u->n; k++)
            if (u->m[k].phase == FWR_P_STAGED)
                fwr_set(u, now, k + 1, FWR_P_HELD, "the canary failed: the roll halts");
        return 0;
    }
    if (!staged || u->halted)
        return 0;
    /* The next wave: the canary alone, then up to wave_max, within what the rack can spare. */
    unsigned want = u->wave == 0 ? 1u : u->o.wave_max, spare = fwr_spare(u, now);
    if (want > spare)
        want = spare;
    if (!want) {
        u->st.held_for_capacity++;
        u->waiting = 1;
        return 0;
    }
    u->waiting = 0;
    u->wave++;
    u->wave_ns = now;
    u->st.waves++;
    /* The swarm's leader last: rebooting it costs an election, so it goes
     * when no other module is left (and never as the canary unless alone). */
    unsigned put = 0;
    for (int pass = 0; pass < 2 && put < want; pass++)
        for (unsigned k = 0; k < u->n && put < want; k++)
            if (u->m[k].phase == FWR_P_STAGED && (pass || k + 1 != u->leader || staged == 1)) {
                u->m[k].wave = u->wave;
                put++;
            }
    return 0;
}

/* ACTIVATE to a member of the running wave that has not had it. */
static int fwr_activate(fwr *u, int64_t now)
{
    for (unsigned k = 0; k < u->n; k++) {
        fwr_mod *m = &u->m[k];
        if (m->wave != u->wave || !u->wave || m->phase != FWR_P_STAGED)
            continue;
        m->asked_ns = now;
        char d[32];
        snprintf(d, sizeof d, "wave %u", (unsigned)u->wave);
        fwr_set(u, now, k + 1, FWR_P_ACTIVATE, d);
        return fwr_op(u, k + 1, MSG_FW_ACTIVATE, now, 0) == EK3_OK;
    }
    return 0;
}

int fwr_finished(const fwr *u)
{
    for (unsigned k = 0; k < u->n; k++) {
        unsigned p = u->m[k].phase;
        if (p != FWR_P_SKIP && p != FWR_P_DONE && p != FWR_P_REVERTED && p != FWR_P_REFUSED && p != FWR_P_LOST &&
            p != FWR_P_HELD)
            return 0;
    }
    return 1;
}

void fwr_poll(fwr *u, int64_t now, const cbus *bus)
{
    if (u->finished || now < u->o.start_ns)
        return;
    if (fwr_finished(u)) {
        u->finished = 1;
        u->waiting = 0;
        u->st.done_ns = u->last_ns; /* the last module's last step */
        return;
    }
    int transferring = 0;
    for (unsigned k = 0; k < u->n; k++) {
        unsigned p = u->m[k].phase;
        transferring |= p == FWR_P_BEGIN || p == FWR_P_SEND || p == FWR_P_END;
    }
    if (!transferring && u->st.staged_ns < 0)
        u->st.staged_ns = now;
    if (!transferring)
        fwr_roll(u, now); /* decisions need no bus time */
    if (now < u->next_ns || !fwr_idle(bus))
        return;
    if (fwr_overdue(u, now))
        return;
    if (transferring)
        fwr_transfer(u, now);
    else
        fwr_activate(u, now);
}

int fwr_report(const fwr *u, FILE *out)
{
    fprintf(out, "firmware update: image %u bytes, version %u.%u.%u, security %u, transfer %u\n", u->size,
            u->version >> 16, (u->version >> 8) & 0xFF, u->version & 0xFF, u->security, u->xfer);
    unsigned count[FWR_P_COUNT_];
    fwr_count(u, count);
    for (unsigned k = 0; k < u->n; k++) {
        const fwr_mod *m = &u->m[k];
        if (m->phase == FWR_P_SKIP)
            continue;
        fprintf(out, "  module %3u: %u.%u.%u -> %u.%u.%u  %-9s wave %u", k + 1, m->ver_before >> 16,
                (m->ver_before >> 8) & 0xFF, m->ver_before & 0xFF, m->ver_now >> 16, (m->ver_now >> 8) & 0xFF,
                m->ver_now & 0xFF, fwr_phase_name(m->phase), m->wave);
        if (m->note && m->phase >= FWR_P_DONE)
            fprintf(out, "  (%s)", m->note);
        for (unsigned w = 1; w < MSG_FWW_COUNT_; w++)
            if (m->refused[w])
                fprintf(out, "  %s x%u", fwr_why_name(w), m->refused[w]);
        fputc('\n', out);
    }
    unsigned other = 0; /* still on the way: staged, sending, in a trial, ... */
    for (unsigned p = FWR_P_SKIP + 1; p < FWR_P_DONE; p++)
        other += count[p];
    if (count[FWR_P_SKIP]) { /* a partial update: the slots it left out, as ranges */
        fprintf(out, "  left out (%u):", count[FWR_P_SKIP]);
        for (unsigned k = 0; k < u->n; k++) {
            if (u->m[k].phase != FWR_P_SKIP || (k > 0 && u->m[k - 1].phase == FWR_P_SKIP))
                continue;
            unsigned e = k;
            while (e + 1 < u->n && u->m[e + 1].phase == FWR_P_SKIP)
                e++;
            if (e > k)
                fprintf(out, " %u-%u", k + 1, e + 1);
            else
                fprintf(out, " %u", k + 1);
        }
        fputc('\n', out);
    }
    fprintf(out, "  done %u, reverted %u, refused %u, lost %u, held %u, not yet ended %u; %u wave%s; %llu frames (%llu "
                 "broadcast, %llu chunks, %llu bytes resent)",
            count[FWR_P_DONE], count[FWR_P_REVERTED], count[FWR_P_REFUSED], count[FWR_P_LOST], count[FWR_P_HELD], other,
            u->st.waves, u->st.waves == 1 ? "" : "s", (unsigned long long)u->st.frames, (unsigned long long)u->st.broadcasts,
            (unsigned long long)u->st.chunks, (unsigned long long)u->st.resent);
    if (u->st.staged_ns >= 0)
        fprintf(out, "; staged at %.3f s", u->st.staged_ns * 1e-9);
    if (u->st.done_ns >= 0 || fwr_finished(u))
        fprintf(out, ", finished at %.3f s", (u->st.done_ns >= 0 ? u->st.done_ns : u->last_ns) * 1e-9);
    fputc('\n', out);
    return ferror(out) ? EK3_EIO : EK3_OK;
}
