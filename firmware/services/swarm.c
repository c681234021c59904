/* swarm.c - SWARM_COORD: the Raft core (raft.h) on the rack's CAN-FD bus. */
#include "swarm.h"

#include <string.h>

#include "board.h"
#include "can_id.h"
#include "drivers.h"
#include "ek3_err.h"
#include "safety.h"
#include "services.h"

_Static_assert((int)MSG_ELECT_COUNT_ == (int)RAFT_KIND_COUNT, "ELECTION kinds are raft_kind");
_Static_assert(SWM_FRAME_MAX >= 36u + AUTH_TRAILER_LEN, "a signed ELECTION frame fits one IPC message");

#define SWM_PAGE_BYTES 2048u
#define SWM_REC_MAGIC 0x5357u /* "SW" */

/* ---- the flash pages: term, vote, freshness reserved ------------------------ */

typedef struct swm_rec {
    uint32_t term;
    uint32_t fv_hi;
    uint16_t vote;
    uint16_t magic;
    uint32_t crc; /* of the 12 bytes before it */
} swm_rec;
_Static_assert(sizeof(swm_rec) == 16, "a record is two double words");
#define SWM_RECS (SWM_PAGE_BYTES / sizeof(swm_rec))

/* The two pages of records, taking turns (swarm.h). */
static uint32_t swm_page_off(unsigned page)
{
    return page ? BRD_SWM_ALT_OFF : BRD_CFG_OFF + SWM_PAGE * SWM_PAGE_BYTES;
}

static uint32_t swm_rec_off(unsigned page, uint32_t i)
{
    return swm_page_off(page) + i * (uint32_t)sizeof(swm_rec);
}

/* Is a newer than b? Records only grow: the term, the freshness counters
 * reserved, and within a term the vote, once given. */
static int swm_rec_newer(const swm_rec *a, const swm_rec *b)
{
    if (a->term != b->term)
        return a->term > b->term;
    if (a->fv_hi != b->fv_hi)
        return a->fv_hi > b->fv_hi;
    return a->vote != 0 && b->vote == 0;
}

/* The newest good record of both pages wins; the next record goes on its
 * page after the last one programmed there, good or torn (a torn one may
 * fail its read: ECC). Without a good record: page 0, after what is
 * programmed there. */
static void swm_load(swm_state *s, hal hw, uint32_t *term, uint16_t *vote)
{
    static const uint8_t blank[sizeof(swm_rec)] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                                   0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    swm_rec best = {0};
    int have = 0;
    *term = 0, *vote = 0;
    s->fv_hi = 0;
    s->flash_page = 0;
    s->flash_next = 0;
    for (unsigned p = 0; p < 2; p++) {
        swm_rec last = {0};
        int good = 0;
        uint32_t next = 0;
        for (uint32_t i = 0; i < SWM_RECS; i++) {
            swm_rec r;
            int rc = hal_flash_read(hw, swm_rec_off(p, i), &r, sizeof r);
            if (rc == EK3_EIO) { /* torn by a power cut (ECC double error): programmed, not good */
                s->st.flash_errors++;
                next = i + 1;
                continue;
            }
            if (rc != EK3_OK) {
                s->st.flash_errors++;
                break;
            }
            if (!memcmp(&r, blank, sizeof r))
                continue;
            next = i + 1;
            if (r.magic == SWM_REC_MAGIC && r.crc == ipc_crc32(&r, offsetof(swm_rec, crc)))
                last = r, good = 1;
        }
        if (p == 0)
            s->flash_next = next;
        if (good && (!have || swm_rec_newer(&last, &best))) {
            best = last, have = 1;
            s->flash_page = (uint8_t)p;
            s->flash_next = next;
        }
    }
    if (have)
        *term = best.term, *vote = best.vote, s->fv_hi = best.fv_hi;
}

/* Append a record; a full page hands over to the other one, erased first.
 * 0 or the flash's error (an erase that failed is tried again next time). */
static int swm_store(swm_state *s, hal hw, uint32_t term, uint16_t vote, uint32_t fv_hi)
{
    swm_rec r = {term, fv_hi, vote, SWM_REC_MAGIC, 0};
    r.crc = ipc_crc32(&r, offsetof(swm_rec, crc));
    if (s->flash_next >= SWM_RECS) { /* the full page keeps the newest record until the new one is written */
        unsigned p = !s->flash_page;
        int rc = hal_flash_erase(hw, swm_page_off(p), SWM_PAGE_BYTES);
        if (rc) {
            s->st.flash_errors++;
            return rc;
        }
        s->flash_page = (uint8_t)p;
        s->flash_next = 0;
    }
    int rc = hal_flash_write(hw, swm_rec_off(s->flash_page, s->flash_next), &r, sizeof r);
    s->flash_next++; /* a failed write may have programmed part of it: never again */
    if (rc) {
        s->st.flash_errors++;
        return rc;
    }
    s->fv_hi = fv_hi;
    return EK3_OK;
}

/* ---- decisions and frames --------------------------------------------------- */

void swm_decision_encode(const swm_decision *d, raft_entry *e)
{
    e->len = 2 * SWM_MAP_BYTES;
    memcpy(e->data, d->parked, SWM_MAP_BYTES);
    memcpy(e->data + SWM_MAP_BYTES, d->failed, SWM_MAP_BYTES);
}

int swm_decision_decode(const raft_entry *e, swm_decision *d)
{
    if (e->len != 2 * SWM_MAP_BYTES)
        return EK3_EPARSE;
    d->version = SWM_DECISION_VERSION;
    memcpy(d->parked, e->data, SWM_MAP_BYTES);
    memcpy(d->failed, e->data + SWM_MAP_BYTES, SWM_MAP_BYTES);
    return EK3_OK;
}

int swm_frames_of(const raft_msg *m, msg_election out[SWM_FRAMES_MAX])
{
    if (!m || !out || m->kind >= RAFT_KIND_COUNT || m->n > 1 || m->ok > 1 || m->e.len > RAFT_ENTRY_MAX)
        return EK3_EINVAL;
    msg_election h;
    memset(&h, 0, sizeof h);
    h.kind = m->kind, h.ok = m->ok, h.n = m->n;
    h.term = m->term, h.index = m->index, h.log_term = m->log_term, h.commit = m->commit;
    unsigned len = m->n ? m->e.len : 0;
    if (m->n)
        h.eterm = m->e.term, h.elen = (uint8_t)len;
    unsigned cnt = len ? (len + MSG_ELECT_CHUNK - 1) / MSG_ELECT_CHUNK : 1;
    for (unsigned i = 0; i < cnt; i++) {
        unsigned at = i * MSG_ELECT_CHUNK, take = len - at < MSG_ELECT_CHUNK ? len - at : MSG_ELECT_CHUNK;
        out[i] = h;
        out[i].frag = (uint8_t)at;
        if (len)
            memcpy(out[i].data, m->e.data + at, take);
    }
    return (int)cnt;
}

/* The header of a fragment, all but its piece. */
static int swm_same_head(const msg_election *a, const msg_election *b)
{
    return a->kind == b->kind && a->ok == b->ok && a->n == b->n && a->term == b->term && a->index == b->index &&
           a->log_term == b->log_term && a->commit == b->commit && a->eterm == b->eterm && a->elen == b->elen;
}

static void swm_msg_of(const msg_election *h, uint16_t from, uint16_t to, raft_msg *out)
{
    memset(out, 0, sizeof *out);
    out->kind = h->kind, out->from = from, out->to = to;
    out->term = h->term, out->index = h->index, out->log_term = h->log_term, out->commit = h->commit;
    out->ok = h->ok, out->n = h->n;
    out->e.term = h->eterm, out->e.len = h->elen;
}

int swm_reasm_add(swm_reasm *ra, uint16_t from, uint16_t to, const msg_election *f, raft_msg *out)
{
    if (!f->n) {
        if (f->elen || f->eterm || f->frag)
            return EK3_EPARSE;
        swm_msg_of(f, from, to, out);
        return 1;
    }
    if (f->elen == 0) { /* the leader's no-op: one frame */
        if (f->frag)
            return EK3_EPARSE;
        swm_msg_of(f, from, to, out);
        return 1;
    }
    if (f->frag >= f->elen || f->frag % MSG_ELECT_CHUNK)
        return EK3_EPARSE;
    unsigned piece = f->frag / MSG_ELECT_CHUNK, pieces = (f->elen + MSG_ELECT_CHUNK - 1u) / MSG_ELECT_CHUNK;
    if (ra->from != from || !swm_same_head(&ra->head, f)) { /* another message: start over with it */
        ra->from = from;
        ra->head = *f;
        ra->got = 0;
    } else if (ra->got & (1u << piece)) {
        return EK3_EPARSE; /* a piece twice: not the same message after all */
    }
    unsigned left = (unsigned)f->elen - f->frag, take = left < MSG_ELECT_CHUNK ? left : MSG_ELECT_CHUNK;
    memcpy(ra->data + f->frag, f->data, take);
    ra->got |= (uint8_t)(1u << piece);
    if (ra->got != (1u << pieces) - 1u)
        return 0;
    swm_msg_of(f, from, to, out);
    memcpy(out->e.data, ra->data, f->elen);
    ra->from = 0;
    return 1;
}

/* ---- sending ------------------------------------------------------------------ */

/* Sign with the group key and send. The freshness counter is reserved in
 * flash ahead of use, so a reboot never reuses one. */
static int swm_send(swm_state *s, jz_kernel *k, unsigned type, unsigned dst, const void *payload)
{
    cfd_frame f;
    int rc = canh_frame(type, s->cfg.slot, dst, payload, &f);
    if (rc)
        return rc;
    if (s->tx.next > s->fv_hi || s->tx.next == 0) {
        uint32_t hi = s->tx.next - 1u > UINT32_MAX - SWM_FV_BLOCK ? UINT32_MAX : s->tx.next - 1u + SWM_FV_BLOCK;
        rc = swm_store(s, k->hw, s->r.term, s->r.voted_for, hi);
        if (rc)
            return rc;
    }
    rc = auth_sign(&k->hw.ops->crypto, s->cfg.group_key, &s->tx, &f, NULL);
    if (!rc)
        rc = hal_can_send(k->hw, &f);
    if (rc == EK3_EFULL)
        s->st.tx_full++;
    else if (!rc)
        s->st.frames_out++;
    return rc;
}

/* Term and vote to flash when they changed, then Raft's messages out; a
 * failed write sends nothing (Raft retries: heartbeats, elections). */
static void swm_flush(swm_state *s, jz_kernel *k)
{
    uint32_t term;
    uint16_t vote;
    raft_msg m;
    if (raft_persist_needed(&s->r, &term, &vote) == 1)
        s->persist_due = 1;
    if (s->persist_due) {
        if (swm_store(s, k->hw, s->r.term, s->r.voted_for, s->fv_hi) != EK3_OK) {
            while (raft_take(&s->r, &m) == EK3_OK)
                ;
            return;
        }
        s->persist_due = 0;
    }
    while (raft_take(&s->r, &m) == EK3_OK) {
        msg_election fr[SWM_FRAMES_MAX];
        int n = swm_frames_of(&m, fr);
        for (int i = 0; i < n; i++)
            swm_send(s, k, CID_TYPE_ELECTION, m.to ? m.to : CID_NODE_BROADCAST, &fr[i]);
    }
}

/* ---- receiving ------------------------------------------------------------------ */

static void swm_refused(swm_state *s, int rc)
{
    if (rc == EK3_EFORGED)
        s->st.forged++;
    else if (rc == EK3_EREPLAY)
        s->st.replayed++;
    else if (rc == EK3_ESTALE || rc == EK3_EWRAP)
        s->st.stale++;
    else
        s->st.malformed++;
}

/* A THERMAL share into the leader's table (its own too). */
static void swm_share_in(swm_state *s, unsigned slot, const msg_thermal *t)
{
    swm_share *sh = &s->share[slot];
    int was_running = sh->heard && (sh->state == MSG_STATE_ACTIVE || sh->state == MSG_STATE_DERATED);
    if (was_running && s->ms > sh->seen_ms)
        sh->run_ms += s->ms - sh->seen_ms;
    sh->seen_ms = s->ms;
    sh->heard = 1;
    sh->iout_ma = t->iout_ma;
    sh->tj_dc = t->tj_dc;
    sh->vout_dv = t->vout_dv;
    sh->state = t->state;
    sh->parked = (t->flags & MSG_THERMAL_F_PARKED) != 0;
    sh->limited = (t->flags & MSG_THERMAL_F_LIMITED) != 0;
}

static void swm_frame(swm_state *s, jz_kernel *k, unsigned me, const ipc_msg *m)
{
    cfd_frame f;
    cid_fields cf;
    if (m->len < 4 || m->len - 4u > sizeof f.data) {
        s->st.malformed++;
        return;
    }
    f.id = (uint32_t)m->payload[0] | (uint32_t)m->payload[1] << 8 | (uint32_t)m->payload[2] << 16 |
           (uint32_t)m->payload[3] << 24;
    f.len = (uint8_t)(m->len - 4u);
    f.flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS;
    memcpy(f.data, m->payload + 4, f.len);
    if (cid_decode(f.id, &cf) || cf.src < 1 || cf.src > s->r.cfg.n_nodes || cf.src == s->cfg.slot) {
        s->st.malformed++;
        return;
    }
    if (cf.type == CID_TYPE_THERMAL && s->r.role != RAFT_LEADER)
        return; /* a follower has no use for the shares: not even checked */
    size_t plen = 0;
    int rc = auth_verify(&k->hw.ops->crypto, s->cfg.group_key, &s->rx[cf.src], &f, &plen, NULL);
    if (rc) {
        swm_refused(s, rc);
        return;
    }
    msg_any u;
    if (msg_decode(cf.type, f.data, plen, &u, NULL) != EK3_OK) {
        s->st.malformed++;
        return;
    }
    s->st.frames_in++;
    if (cf.type == CID_TYPE_ELECTION) {
        raft_msg rm;
        int bcast = cf.dst == CID_NODE_BROADCAST;
        rc = swm_reasm_add(&s->ra[!bcast], cf.src, bcast ? 0 : cf.dst, &u.election, &rm);
        if (rc < 0)
            s->st.frag_lost++;
        if (rc != 1)
            return;
        if (raft_step(&s->r, &rm) == EK3_EINVAL)
            s->st.malformed++;
        swm_flush(s, k);
    } else if (cf.type == CID_TYPE_SYNC) {
        if (cf.src == raft_leader(&s->r) && u.sync.term == s->r.term && u.sync.modules) {
            s->sync_i_mean_ma = u.sync.i_mean_ma;
            s->sync_t_mean_dc = u.sync.t_mean_dc;
            s->sync_own_ma = s->share[s->cfg.slot].iout_ma; /* the share the leader's mean was made of */
            s->have_ref = 1;
            ipc_msg lm; /* CAN_HANDLER's COMM_LOSS: the leader is there */
            ipc_msg_init(&lm, SWM_MSG_LEADER, 3, NULL, 0);
            ipc_send(k, me, SVC_CAN, &lm);
        }
    } else if (u.thermal.module == cf.src) {
        swm_share_in(s, cf.src, &u.thermal);
    } else {
        s->st.malformed++;
    }
}

/* ---- the periodic part ------------------------------------------------------------ */

static int16_t swm_dc(float t)
{
    float x = t * 10.0f;
    return (int16_t)(x < -550.0f ? -550 : x > 2500.0f ? 2500 : x);
}

static uint16_t swm_u16(float x, float hi)
{
    return (uint16_t)(x <= 0 ? 0 : x >= hi ? hi : x + 0.5f);
}

/* This module's share: temperatures, fan, output, state. */
static void swm_thermal(swm_state *s, jz_kernel *k)
{
    drv_set *d = drv_of(k);
    drv_status st;
    drv_status_get(d, &st);
    uint16_t code[MSG_ADC_COUNT];
    msg_thermal t;
    memset(&t, 0, sizeof t);
    if (hal_adc_read(k->hw, code) == EK3_OK) {
        const sm_cfg *c = drv_sm_cfg(d);
        float ta = sm_ntc_c(c, code[MSG_ADC_TJ_A]), tb = sm_ntc_c(c, code[MSG_ADC_TJ_B]);
        float tx = sm_ntc_c(c, code[MSG_ADC_T_XFMR]), tl = sm_ntc_c(c, code[MSG_ADC_T_LR]);
        t.tj_dc = swm_dc(ta > tb ? ta : tb);
        t.tmag_dc = swm_dc(tx > tl ? tx : tl);
        t.ths_dc = swm_dc(sm_hottest_case(c, code));
        t.tamb_dc = swm_dc(sm_ntc_c(c, code[MSG_ADC_T_AMB]));
        if (t.tamb_dc > 1000)
            t.tamb_dc = 1000;
        t.fan_rpm = swm_u16(code[MSG_ADC_FAN_TACH] * ((float)BRD_TACH_FS_RPM / (float)BRD_ADC_FULL_CODE), 30000);
    }
    t.derate_pct = (uint8_t)swm_u16(d->cmd.derate * 100.0f, 100);
    t.module = s->cfg.slot;
    t.iout_ma = swm_u16(st.i * 1000.0f, 10000);
    t.vout_dv = swm_u16(st.v * 10.0f, 12000);
    /* shedding before an update's reset (drv_shed): stopping on purpose, so
     * the leader leaves it out of the mean it balances the others to */
    t.state = st.latched || st.state > LLCC_RUN ? MSG_STATE_FAULT
              : st.shedding                    ? MSG_STATE_SAFE_SHUTDOWN
              : st.state == LLCC_RUN           ? (t.derate_pct < 100 ? MSG_STATE_DERATED : MSG_STATE_ACTIVE)
              : st.state == LLCC_START         ? MSG_STATE_SOFTSTART
                                               : MSG_STATE_STANDBY;
    t.flags = (uint8_t)((s->parked ? MSG_THERMAL_F_PARKED : 0) | (st.limited ? MSG_THERMAL_F_LIMITED : 0));
    s->tj_own_dc = t.tj_dc;
    swm_share_in(s, s->cfg.slot, &t);
    swm_send(s, k, CID_TYPE_THERMAL, CID_NODE_BROADCAST, &t);
}

static void swm_want_thermal(jz_kernel *k, unsigned me, uint8_t on)
{
    ipc_msg m;
    ipc_msg_init(&m, SWM_MSG_WANT_THERMAL, 3, &on, 1);
    ipc_send(k, me, SVC_CAN, &m);
}

/* The leader's 10 Hz: SYNC with the running modules' means (bal_mean),
 * the parked set (bal_provision, at most every SWM_PROVISION_MS once it
 * has led SWM_SETTLE_MS), and the membership decision when a share
 * stopped or came back or the parked set changed. */
static void swm_lead(swm_state *s, jz_kernel *k, unsigned me)
{
    unsigned n = s->r.cfg.n_nodes, np = 0;
    bal_peer peers[RAFT_MAX_NODES];
    float demand_w = 0;
    swm_decision want;
    memset(&want, 0, sizeof want);
    want.version = SWM_DECISION_VERSION;
    memcpy(want.parked, s->dec.parked, SWM_MAP_BYTES);
    for (unsigned slot = 1; slot <= n; slot++) {
        const swm_share *sh = &s->share[slot];
        if (slot != s->cfg.slot && s->ms - sh->seen_ms >= SWM_FAIL_MS) {
            want.failed[(slot - 1) / 8] |= (uint8_t)(1u << ((slot - 1) % 8));
        } else if (sh->heard) {
            bal_peer *p = &peers[np++];
            p->slot = (uint8_t)slot;
            p->parked = sh->parked;
            /* stopping (a fault, or shedding for an update's reset) counts as down */
            p->faulted = sh->state == MSG_STATE_FAULT || sh->state == MSG_STATE_SAFE_SHUTDOWN;
            p->idle = !p->parked && !p->faulted && sh->state != MSG_STATE_ACTIVE && sh->state != MSG_STATE_DERATED;
            p->limited = sh->limited;
            p->heard_ns = (int64_t)sh->seen_ms * 1000000;
            p->i_a = sh->iout_ma / 1000.0f;
            p->v_v = sh->vout_dv / 10.0f;
            p->t_c = sh->tj_dc / 10.0f;
            p->run_min = sh->run_ms / 60000u;
            if (!p->parked && !p->faulted)
                demand_w += p->i_a * p->v_v;
        }
    }
    float i_mean = 0, t_mean = 0;
    unsigned counted = 0;
    bal_mean(peers, np, (int64_t)s->ms * 1000000, &i_mean, &t_mean, &counted);
    t_mean = bal_t_ref(&s->bc, peers, np, (int64_t)s->ms * 1000000, t_mean); /* the bounded biases sum to zero */
    msg_sync sy;
    memset(&sy, 0, sizeof sy);
    sy.flags = s->r.commit >= s->r.last_index ? MSG_SYNC_F_COMMITTED : 0;
    sy.modules = (uint16_t)counted;
    sy.term = s->r.term;
    sy.seq = s->sync_seq++;
    sy.time_us = (uint64_t)(jz_now(k) / 1000);
    sy.i_mean_ma = (uint32_t)swm_u16(i_mean * 1000.0f, 10000);
    sy.t_mean_dc = swm_dc(t_mean);
    s->sync_i_mean_ma = sy.i_mean_ma;
    s->sync_t_mean_dc = sy.t_mean_dc;
    s->have_ref = counted > 0; /* the leader follows its own SYNC */
    s->sync_own_ma = s->share[s->cfg.slot].iout_ma;
    swm_send(s, k, CID_TYPE_SYNC, CID_NODE_BROADCAST, &sy);
    swm_want_thermal(k, me, 1); /* every heartbeat: CAN_HANDLER may have restarted */
    /* provisioning: only on a settled, committed view, and not too often */
    if (s->ms - s->leader_since_ms >= SWM_SETTLE_MS && s->ms - s->provision_ms >= SWM_PROVISION_MS &&
        s->r.commit >= s->r.last_index && counted) {
        uint8_t out[SWM_MAP_BYTES];
        if (bal_provision(&s->bc, peers, np, demand_w, s->dec.parked, out) >= 0) {
            s->provision_ms = s->ms;
            memcpy(want.parked, out, SWM_MAP_BYTES);
        }
    }
    if (s->want_set) { /* swm_propose_parked: given, it wins this decision */
        memcpy(want.parked, s->want_parked, SWM_MAP_BYTES);
        s->want_set = 0;
    }
    for (unsigned b = 0; b < SWM_MAP_BYTES; b++)
        want.parked[b] &= (uint8_t)~want.failed[b]; /* a failed module is not parked: it is gone */
    if (memcmp(want.parked, s->dec.parked, SWM_MAP_BYTES) || memcmp(want.failed, s->dec.failed, SWM_MAP_BYTES)) {
        raft_entry e;
        swm_decision_encode(&want, &e);
        if (raft_propose(&s->r, e.data, e.len) == EK3_OK)
            s->st.proposals++;
    }
}

/* Every module at its 10 Hz: the committed parked set (or the bus's sag:
 * the drivers' own wake, LLCC_WAKE_SHARE) through drv_park, the trim (bal_ref, bal_step) through
 * drv_trim. Without a leader's SYNC the trim decays: plain droop. */
static void swm_balance(swm_state *s, jz_kernel *k, unsigned me)
{
    drv_set *d = drv_of(k);
    drv_status st;
    drv_status_get(d, &st);
    unsigned b = (s->cfg.slot - 1u) / 8u, bit = 1u << ((s->cfg.slot - 1u) % 8u);
    int parked = (s->dec.parked[b] & bit) && !(s->dec.failed[b] & bit);
    if (!parked)
        s->woke_local = 0;
    else if (s->parked && !st.parked)
        s->woke_local = 1; /* the drivers woke it at the bus's sag (LLCC_WAKE_SHARE): not parked again until
                              the leader's next decision */
    parked = parked && !s->woke_local;
    if (parked != s->parked) {
        drv_park(d, parked);
        s->parked = (uint8_t)parked;
    }
    /* A module at its limit (a power command, derating, the current ceiling, its drive at its end) does not chase the
     * mean: its current is the limit's, and integrating would only wind its trim to the bound (the leader leaves it out
     * of the mean too: MSG_THERMAL_F_LIMITED) */
    int ref = s->have_ref && !parked && st.state == LLCC_RUN && !st.latched && !st.limited;
    float i_ref = ref ? bal_ref(&s->bc, s->sync_i_mean_ma / 1000.0f, s->sync_t_mean_dc / 10.0f,
                                s->tj_own_dc / 10.0f)
                      : 0.0f;
    /* Its own current as the share the leader's mean was made of (its last before the SYNC came): the
     * errors then sum to zero over the rack and the mean trim (the bus) stays put, even while the load
     * ramps (with its current now, every module read above a mean from shares up to 100 ms old: a ramp of
     * 0.5 s to 200 kW left a mean trim of -1.35 V, the bus 1.2 V under its droop point) */
    float i_own = s->sync_own_ma / 1000.0f;
    s->trim_v = bal_step(&s->bm, &s->bc, ref, i_ref, i_own, SWM_HEARTBEAT_MS / 1000.0f);
    s->i_mean_a = s->sync_i_mean_ma / 1000.0f;
    if (s->have_ref) { /* the rack's mean for UPDATE_MGR's confirm rule ("it shares current") */
        uint32_t ma = s->sync_i_mean_ma;
        ipc_msg m;
        ipc_msg_init(&m, SVC_MSG_RACK_MEAN, 3, &ma, sizeof ma);
        ipc_send(k, me, SVC_UPDATE, &m);
    }
    s->have_ref = 0;
    drv_trim(d, s->trim_v);
}

static void swm_tick(swm_state *s, jz_kernel *k, unsigned me)
{
    s->ms += SWM_PERIOD_US / 1000u;
    raft_tick(&s->r, SWM_PERIOD_US / 1000u);
    int leads = s->r.role == RAFT_LEADER;
    if (leads && !s->was_leader) {
        s->leader_since_ms = s->ms;
        /* a new leader: every share gets SWM_FAIL_MS from now to show up */
        for (unsigned slot = 0; slot <= RAFT_MAX_NODES; slot++)
            s->share[slot].seen_ms = s->ms, s->share[slot].heard = 0;
        swm_want_thermal(k, me, 1);
    } else if (!leads && s->was_leader) {
        swm_want_thermal(k, me, 0);
    }
    s->was_leader = (uint8_t)leads;
    swm_flush(s, k);
    raft_entry e;
    uint32_t index;
    while (raft_take_committed(&s->r, &e, &index) == EK3_OK)
        if (swm_decision_decode(&e, &s->dec) == EK3_OK)
            s->decision_index = index;
    /* the 10 Hz part, at the slot's own tick of the 100 ms */
    unsigned phase = (s->ms / (SWM_PERIOD_US / 1000u)) % (SWM_HEARTBEAT_MS / (SWM_PERIOD_US / 1000u));
    if (phase == s->cfg.slot % (SWM_HEARTBEAT_MS / (SWM_PERIOD_US / 1000u))) {
        swm_thermal(s, k);
        if (leads)
            swm_lead(s, k, me);
        swm_balance(s, k, me);
        swm_flush(s, k);
    }
}

int swm_init(void *state, jz_kernel *k, unsigned me)
{
    (void)me;
    swm_state *s = state;
    if (canh_config_read(k->hw, &s->cfg) != EK3_OK)
        return EK3_ENOENT; /* no identity, no group key */
    if (!s->cfg.rack_size || s->cfg.rack_size > RAFT_MAX_NODES || s->cfg.slot > s->cfg.rack_size) {
        /* no vote in this rack (a rack past RAFT_MAX_NODES, a slot past its size): the service idles,
         * the module runs droop alone; restarting it would change nothing */
        s->idle = 1;
        return EK3_OK;
    }
    uint32_t term;
    uint16_t vote;
    swm_load(s, k->hw, &term, &vote);
    if (vote > s->cfg.rack_size)
        vote = 0;
    uint32_t lo_ms = SWM_ELECTION_MIN_MS + (s->cfg.slot - 1u) * SWM_ELECTION_STEP_MS;
    raft_cfg c = {s->cfg.slot, s->cfg.rack_size, SWM_HEARTBEAT_MS, lo_ms, lo_ms + SWM_ELECTION_SPREAD_MS, 0,
                  SWM_ELECTION_MIN_MS /* one lease for the rack: the staggering orders the candidates only */};
    uint32_t lo = 0, hi = 0;
    hal_trng(k->hw, &lo);
    hal_trng(k->hw, &hi);
    int rc = raft_init(&s->r, &c, term, vote, ((uint64_t)hi << 32 | lo) ^ s->cfg.slot);
    if (rc)
        return rc;
    auth_tx_init(&s->tx);
    s->tx.next = s->fv_hi + 1u; /* above every counter used before the reset (reserved in flash) */
    s->dec.version = SWM_DECISION_VERSION;
    bal_default_cfg(&s->bc);
    s->bc.r_droop = drv_ctl_cfg(drv_of(k))->r_droop;
    bal_init(&s->bm, &s->bc);
    /* a restarted service starts from the drivers' trim and park, not from zero (no step) */
    drv_status st;
    drv_status_get(drv_of(k), &st);
    s->bm.trim = st.trim_v;
    s->trim_v = st.trim_v;
    s->parked = st.parked;
    return EK3_OK;
}

int swm_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m)
{
    swm_state *s = state;
    if (s->idle)
        return EK3_OK;
    if (m->type == SWM_MSG_FRAME)
        swm_frame(s, k, me, m);
    else if (m->type == IPC_T_TICK)
        swm_tick(s, k, me);
    return EK3_OK;
}

/* ---- what others read ------------------------------------------------------------ */

void swm_view_of(const void *state, swm_view *v)
{
    memset(v, 0, sizeof *v);
    const swm_state *s = state;
    if (!s)
        return;
    v->role = s->r.role;
    v->me = s->cfg.slot;
    v->leader = raft_leader(&s->r);
    v->term = s->r.term, v->commit = s->r.commit;
    v->last_index = s->r.last_index, v->last_term = s->r.last_term;
    v->elections = s->r.stats.elections_started;
    v->won = s->r.stats.elections_won;
    v->stepdowns = s->r.stats.stepdowns_quorum;
    v->forged = s->st.forged, v->replayed = s->st.replayed, v->stale = s->st.stale;
    v->malformed = s->st.malformed + s->r.stats.malformed;
    v->frames_in = s->st.frames_in, v->frames_out = s->st.frames_out;
    v->parked = s->parked;
    v->trim_v = s->trim_v;
    v->i_mean_a = s->i_mean_a;
    v->decision_index = s->decision_index;
}

int swm_log_term(const void *state, uint32_t index, uint32_t *term, uint32_t *digest)
{
    if (!state)
        return EK3_EINVAL;
    const swm_state *s = state;
    const raft_entry *e = NULL;
    uint32_t t = 0;
    if (index == s->r.snap_index)
        return EK3_ENOENT; /* compacted: raft_entry_at gives the state there, not the entry */
    int rc = raft_entry_at(&s->r, index, &t, &e);
    if (rc)
        return rc;
    if (term)
        *term = t;
    if (digest)
        *digest = e ? ipc_crc32(e->data, e->len) : 0;
    return EK3_OK;
}

int swm_propose_parked(void *state, const uint8_t parked[SWM_MAP_BYTES])
{
    if (!state || !parked)
        return EK3_EINVAL;
    swm_state *s = state;
    if (s->r.role != RAFT_LEADER)
        return EK3_EPERM;
    memcpy(s->want_parked, parked, SWM_MAP_BYTES);
    s->want_set = 1;
    return EK3_OK;
}
