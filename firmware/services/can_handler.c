/* can_handler.c - POWER_CMD in (checked), POWER_ACK and HEARTBEAT out. */
#include "can_handler.h"

#include <stddef.h>
#include <string.h>

#include "board.h"
#include "can_id.h"
#include "drivers.h"
#include "ek3_err.h"
#include "msg.h"
#include "services.h"

/* CRC of the slot and everything after the crc field. */
static uint16_t canh_crc(const canh_config *c)
{
    uint8_t buf[2 + sizeof *c - offsetof(canh_config, key)];
    buf[0] = (uint8_t)c->slot;
    buf[1] = (uint8_t)(c->slot >> 8);
    memcpy(buf + 2, c->key, sizeof *c - offsetof(canh_config, key));
    return ipc_crc16(buf, sizeof buf);
}

int canh_provision(hal hw, const canh_config *cfg)
{
    canh_config c = *cfg;
    c.magic = CANH_CONFIG_MAGIC;
    memset(c.reserved, 0, sizeof c.reserved);
    c.crc = canh_crc(&c);
    int rc = hal_flash_erase(hw, BRD_CFG_OFF, BRD_FLASH_PAGE);
    return rc ? rc : hal_flash_write(hw, BRD_CFG_OFF, &c, sizeof c);
}

int canh_config_read(hal hw, canh_config *c)
{
    int rc = hal_flash_read(hw, BRD_CFG_OFF, c, sizeof *c);
    if (rc)
        return rc;
    if (c->magic != CANH_CONFIG_MAGIC || c->crc != canh_crc(c) || c->slot < CID_NODE_MODULE_MIN ||
        c->slot > CID_NODE_MODULE_MAX)
        return EK3_ENOENT;
    return EK3_OK;
}

int canh_init(void *state, jz_kernel *k, unsigned me)
{
    canh_state *s = state;
    if (canh_config_read(k->hw, &s->cfg) != EK3_OK)
        return EK3_ENOENT; /* not provisioned: no identity, no key */
    s->ticks = CANH_HEARTBEAT_MS - 1; /* first heartbeat at the first tick */
    s->heard_ns = jz_now(k); /* COMM_LOSS counts from the service's start */
    /* Started in the kernel's boot (no pass yet), not by a restart. */
    s->alert_wdg = k->cfg.reset_by_watchdog && k->passes == 0;
    /* Crashes before this start are not news, but for its own: restarted
     * after a crash of its own, it reports that one. */
    for (unsigned id = 1; id < JZ_MAX_SERVICES; id++)
        s->crash_seen[id] = jz_crashes(k, id);
    s->crash_events_seen = jz_crash_events(k);
    if (s->crash_seen[me]) {
        s->crash_seen[me]--;
        s->crash_events_seen--; /* its own crash is news: the first tick looks */
    }
    return EK3_OK;
}

int canh_frame(unsigned type, unsigned src, unsigned dst, const void *payload, cfd_frame *f)
{
    const msg_desc *d = msg_desc_of(type);
    if (!d)
        return EK3_ETYPE;
    cid_fields cf = {d->prio, (uint8_t)type, (uint16_t)src, (uint16_t)dst};
    memset(f, 0, sizeof *f);
    f->flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS;
    msg_err e;
    int n = msg_encode(type, payload, f->data, sizeof f->data, &e);
    if (n < 0 || cid_encode(&cf, &f->id))
        return n < 0 ? n : EK3_ERANGE;
    f->len = (uint8_t)n;
    return EK3_OK;
}

static int canh_send(canh_state *s, jz_kernel *k, unsigned type, unsigned dst, const void *payload)
{
    cfd_frame f;
    int rc = canh_frame(type, s->cfg.slot, dst, payload, &f);
    if (rc)
        return rc;
    rc = hal_can_send(k->hw, &f);
    if (rc == EK3_EFULL)
        s->st.tx_full++;
    return rc;
}

static uint16_t canh_u16(float x)
{
    return (uint16_t)(x <= 0 ? 0 : x >= 65535.0f ? 65535 : x + 0.5f);
}

static void canh_ack(canh_state *s, jz_kernel *k, unsigned result, uint16_t target_w, uint32_t fv)
{
    drv_status st;
    drv_status_get(drv_of(k), &st);
    msg_power_ack ack = {(uint8_t)result, s->cfg.slot, canh_u16(st.v * st.i), target_w, fv};
    canh_send(s, k, CID_TYPE_POWER_ACK, CID_NODE_STATION, &ack);
}

static void canh_fault(canh_state *s, jz_kernel *k, msg_fault fa);

/* A frame with a bad MAC: FAULT_ALERT AUTH_FAIL, at most one a
 * CANH_AUTH_ALERT_MS (a forger must not make the module flood the bus). */
static void canh_forged(canh_state *s, jz_kernel *k)
{
    s->st.forged++;
    int64_t now = jz_now(k);
    if (s->auth_alerted && now - s->auth_alert_ns < (int64_t)CANH_AUTH_ALERT_MS * 1000000)
        return;
    s->auth_alerted = 1;
    s->auth_alert_ns = now;
    /* value in the field's milli-units: 1000 a frame */
    int32_t n = s->st.forged < 2147483u ? (int32_t)s->st.forged * 1000 : INT32_MAX;
    msg_fault fa = {MSG_FAULT_AUTH_FAIL, MSG_SEV_WARNING, 0, n, (uint32_t)(now / 1000000), 0};
    canh_fault(s, k, fa);
}

/* A verified frame from the station (or the leader's SYNC): the bus is
 * back if it was lost, and the station hears of the silence. */
static void canh_heard(canh_state *s, jz_kernel *k)
{
    int64_t now = jz_now(k);
    if (s->comm_lost) {
        int64_t ms = (now - s->heard_ns) / 1000000;
        msg_fault fa = {MSG_FAULT_COMM_LOSS, s->comm_stopped ? MSG_SEV_CRITICAL : MSG_SEV_WARNING, 0,
                        ms < INT32_MAX ? (int32_t)ms : INT32_MAX /* s, in milli-units */, (uint32_t)(now / 1000000), 0};
        s->comm_lost = s->comm_stopped = 0;
        canh_fault(s, k, fa);
    }
    s->heard_ns = now;
}

/* COMM_LOSS (can_handler.h): each tick, silent too long while on. */
static void canh_silence(canh_state *s, jz_kernel *k)
{
    int64_t quiet = jz_now(k) - s->heard_ns;
    if (quiet < (int64_t)BRD_COMM_LOSS_MS * 1000000 || s->comm_stopped)
        return;
    drv_set *d = drv_of(k);
    drv_status st;
    drv_status_get(d, &st);
    if (!st.enable && !s->comm_lost) {
        s->heard_ns = jz_now(k); /* off: nothing to lose (it comes on by a START, which is heard) */
        return;
    }
    if (!s->comm_lost) {
        s->comm_lost = 1;
        s->st.comm_losses++;
    }
    if (quiet >= (int64_t)BRD_COMM_HOLD_MS * 1000000) {
        s->comm_stopped = 1;
        s->st.comm_stops++;
        drv_power(d, DRV_OFF, 0, 0);
    }
}

static void canh_power_cmd(canh_state *s, jz_kernel *k, unsigned me, unsigned svc, cfd_frame *f)
{
    (void)me, (void)svc;
    s->st.cmds++;
    size_t plen = 0;
    uint32_t fv = 0;
    int rc = auth_verify(&k->hw.ops->crypto, s->cfg.key, &s->rx, f, &plen, &fv);
    if (rc) {
        if (rc == EK3_EFORGED)
            canh_forged(s, k);
        else if (rc == EK3_EREPLAY)
            s->st.replayed++;
        else if (rc == EK3_ESTALE)
            s->st.stale++;
        else
            s->st.unauthenticated++;
        s->st.refused++;
        canh_ack(s, k, MSG_ACK_REFUSED, 0, 0);
        return;
    }
    canh_heard(s, k);
    msg_power_cmd cmd;
    msg_err e;
    if (msg_decode(CID_TYPE_POWER_CMD, f->data, plen, &cmd, &e) != EK3_OK) {
        s->st.bad_payload++;
        s->st.refused++;
        canh_ack(s, k, MSG_ACK_REFUSED, 0, fv);
        return;
    }
    drv_set *d = drv_of(k);
    drv_status st;
    const llcc_cfg *lim = drv_ctl_cfg(d);
    /* The module's limits, checked here and again in LLC_CONTROL. */
    float vset = cmd.vset_dv / 10.0f, p = cmd.power_w, ilim = cmd.ilim_ma / 1000.0f;
    int clamped = llcc_limit_cmd(lim, &vset, &p, ilim);
    switch (cmd.op) {
    case MSG_POWER_START:
        /* START to a faulted module is the station's restart: clear,
         * then start, if the fault is gone (drv_restart). */
        drv_relay(d, 1); /* after an emergency stop: the relay may close again at its pre-charge */
        drv_status_get(d, &st);
        if (st.latched)
            drv_restart(d, vset, p);
        else
            drv_power(d, DRV_ON, vset, p);
        break;
    case MSG_POWER_SET:
        drv_relay(d, 1);
        drv_power(d, DRV_ON, vset, p);
        break;
    case MSG_POWER_STOP:
        drv_power(d, DRV_OFF, 0, 0);
        p = 0;
        break;
    default: /* ESTOP */
        drv_power(d, DRV_OFF, 0, 0);
        drv_relay(d, 0); /* held open until the next START or SET */
        hal_safe_shutdown(k->hw);
        p = 0;
        break;
    }
    if (clamped)
        s->st.clamped++;
    else
        s->st.accepted++;
    canh_ack(s, k, clamped ? MSG_ACK_CLAMPED : MSG_ACK_ACCEPTED, canh_u16(p), fv);
}

/* A station frame whose tag or counter failed (auth_verify's rc): counted
 * by why, refused; a forgery alerts the station. */
static void canh_unverified(canh_state *s, jz_kernel *k, int rc)
{
    if (rc == EK3_EFORGED)
        canh_forged(s, k);
    s->st.replayed += rc == EK3_EREPLAY;
    s->st.stale += rc == EK3_ESTALE;
    s->st.unauthenticated += rc != EK3_EFORGED && rc != EK3_EREPLAY && rc != EK3_ESTALE;
    s->st.refused++;
}

/* A self-test request from the station: checked, then to DIAGNOSTICS (svc). */
static void canh_diag_request(canh_state *s, jz_kernel *k, unsigned me, unsigned svc, cfd_frame *f)
{
    size_t plen = 0;
    uint32_t fv = 0;
    int rc = auth_verify(&k->hw.ops->crypto, s->cfg.key, &s->rx, f, &plen, &fv);
    msg_diag req;
    msg_err e;
    if (rc) {
        canh_unverified(s, k, rc);
        return;
    }
    if (msg_decode(CID_TYPE_DIAG, f->data, plen, &req, &e) != EK3_OK || req.op != MSG_DIAG_REQUEST) {
        s->st.bad_payload++;
        return;
    }
    ipc_msg m;
    ipc_msg_init(&m, SVC_MSG_DIAG_REQ, 3, &req, sizeof req);
    if (ipc_send(k, me, svc, &m) == EK3_OK)
        s->st.diags++;
}

/* The station's keepalive (STATION, to all, the group key): checked,
 * then it only says the station is there (COMM_LOSS). */
static void canh_station(canh_state *s, jz_kernel *k, unsigned me, unsigned svc, cfd_frame *f)
{
    (void)me, (void)svc;
    size_t plen = 0;
    int rc = auth_verify(&k->hw.ops->crypto, s->cfg.group_key, &s->rx_group, f, &plen, NULL);
    if (rc) {
        canh_unverified(s, k, rc);
        return;
    }
    msg_station ka;
    msg_err e;
    if (msg_decode(CID_TYPE_STATION, f->data, plen, &ka, &e) != EK3_OK) {
        s->st.bad_payload++;
        return;
    }
    s->st.keepalives++;
    canh_heard(s, k);
}

/* A FW_UPDATE frame from the station, to this module or to all (the
 * group key, its own window): checked, decoded, to UPDATE_MGR (svc). */
static void canh_fw_update(canh_state *s, jz_kernel *k, unsigned me, unsigned svc, cfd_frame *f)
{
    int bcast = (f->id & CID_DST_MAX) == CID_NODE_BROADCAST;
    size_t plen = 0;
    uint32_t fv = 0;
    int rc = auth_verify(&k->hw.ops->crypto, bcast ? s->cfg.group_key : s->cfg.key, bcast ? &s->rx_group : &s->rx, f,
                         &plen, &fv);
    if (rc) {
        canh_unverified(s, k, rc);
        return;
    }
    msg_fw_update u;
    msg_err e;
    if (msg_decode(CID_TYPE_FW_UPDATE, f->data, plen, &u, &e) != EK3_OK || u.op == MSG_FW_STATUS) {
        s->st.bad_payload++;
        return;
    }
    ipc_msg m;
    ipc_msg_init(&m, SVC_MSG_FW, 2, &u, sizeof u);
    if (ipc_send(k, me, svc, &m) == EK3_OK)
        s->st.fw_frames++;
    else
        s->st.fw_dropped++; /* the station's STATUS query finds the gap */
}

/* The station's messages to this module: the CAN type, the service it
 * reaches (CAN_HANDLER itself: the drivers, through drv_), and the
 * handler that checks it and passes it on. A new message type is one
 * line here. Also how many a tick at most: a service's queue must not fill from one tick's backlog (a full queue
 * is a crash, jz_post), so the tick stops reading once a route has had
 * its share and leaves the rest in the receive FIFO for the next tick
 * (a leader's FIFO holds a backlog of swarm frames: CANH_SWARM_PER_TICK). */
static const struct canh_route {
    uint8_t type;
    uint8_t svc;
    uint8_t per_tick;
    void (*fn)(canh_state *s, jz_kernel *k, unsigned me, unsigned svc, cfd_frame *f);
} canh_routes[] = {
    {CID_TYPE_POWER_CMD, SVC_CAN, CANH_RX_PER_TICK, canh_power_cmd}, /* handled here */
    {CID_TYPE_STATION, SVC_CAN, CANH_RX_PER_TICK, canh_station},     /* the keepalive: handled here */
    {CID_TYPE_DIAG, SVC_DIAG, 2, canh_diag_request},                 /* DIAGNOSTICS: a queue of 4 */
    {CID_TYPE_FW_UPDATE, SVC_UPDATE, 3, canh_fw_update},             /* UPDATE_MGR: a queue of 6 (its tick, a ping, the mean) */
};
#define CANH_NROUTES (sizeof canh_routes / sizeof canh_routes[0])

/* Route one frame; 1 when its route has had its share of this tick. */
static int canh_route(canh_state *s, jz_kernel *k, unsigned me, unsigned type, cfd_frame *f, uint8_t used[])
{
    for (unsigned r = 0; r < CANH_NROUTES; r++)
        if (canh_routes[r].type == type) {
            canh_routes[r].fn(s, k, me, canh_routes[r].svc, f);
            return ++used[r] >= canh_routes[r].per_tick;
        }
    return 0;
}

static int canh_swarm_type(unsigned type)
{
    return type == CID_TYPE_ELECTION || type == CID_TYPE_SYNC || type == CID_TYPE_THERMAL;
}

/* A swarm frame to SWARM_COORD, raw (it checks the tag: its windows):
 * ELECTION to this module or to all, SYNC, and THERMAL only while it
 * leads (a follower has no use for the shares). Returns 1 when passed on. */
static unsigned canh_to_swarm(canh_state *s, jz_kernel *k, unsigned me, const cid_fields *cf, const cfd_frame *f)
{
    if (cf->dst != CID_NODE_BROADCAST && cf->dst != s->cfg.slot)
        return 0;
    if (cf->type == CID_TYPE_THERMAL && !s->want_thermal)
        return 0;
    if (f->len > SWM_FRAME_MAX) {
        s->st.swarm_dropped++;
        return 0;
    }
    ipc_msg m;
    uint8_t b[IPC_PAYLOAD];
    b[0] = (uint8_t)f->id, b[1] = (uint8_t)(f->id >> 8), b[2] = (uint8_t)(f->id >> 16), b[3] = (uint8_t)(f->id >> 24);
    memcpy(b + 4, f->data, f->len);
    ipc_msg_init(&m, SWM_MSG_FRAME, 3, b, 4u + f->len);
    if (ipc_send(k, me, SVC_SWARM, &m) != EK3_OK) {
        s->st.swarm_dropped++;
        return 0;
    }
    s->st.swarm_frames++;
    return 1;
}

static void canh_fault(canh_state *s, jz_kernel *k, msg_fault fa)
{
    fa.module = s->cfg.slot;
    if (canh_send(s, k, CID_TYPE_FAULT, CID_NODE_BROADCAST, &fa) == EK3_OK)
        s->st.faults_sent++;
}

static void canh_heartbeat(canh_state *s, jz_kernel *k)
{
    drv_status d;
    drv_status_get(drv_of(k), &d);
    static const uint8_t state_of[] = {[LLCC_OFF] = MSG_STATE_STANDBY, [LLCC_START] = MSG_STATE_SOFTSTART,
                                       [LLCC_RUN] = MSG_STATE_ACTIVE};
    uint8_t st = d.latched || d.state > LLCC_RUN ? MSG_STATE_FAULT
                 : d.parked                       ? MSG_STATE_STANDBY /* parked: standby, no fault */
                                                  : state_of[d.state];
    /* The temperature field: the hotter leg's case, from its NTC (what the
     * module measures; the junction is a few kelvin above it). */
    uint16_t code[MSG_ADC_COUNT];
    float t = hal_adc_read(k->hw, code) == EK3_OK ? sm_hottest_case(drv_sm_cfg(drv_of(k)), code) : 0.0f;
    float tdc = t * 10.0f < -550.0f ? -550.0f : t * 10.0f > 2500.0f ? 2500.0f : t * 10.0f;
    msg_heartbeat hb = {st, s->cfg.slot, canh_u16(d.v * d.i), (int16_t)tdc,
                        canh_u16(d.v * 10.0f), canh_u16(d.i * 1000.0f), s->health, s->hb_seq++};
    if (canh_send(s, k, CID_TYPE_HEARTBEAT, CID_NODE_BROADCAST, &hb) == EK3_OK)
        s->st.heartbeats++;
}

int canh_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m)
{
    canh_state *s = state;
    if (m->type == SVC_MSG_HEALTH && m->len >= 1) {
        s->health = m->payload[0];
        return EK3_OK;
    }
    if (m->type == SVC_MSG_DIAG_RES && m->len >= sizeof(msg_diag)) {
        msg_diag res;
        memcpy(&res, m->payload, sizeof res);
        canh_send(s, k, CID_TYPE_DIAG, CID_NODE_STATION, &res);
        return EK3_OK;
    }
    if (m->type == SVC_MSG_FW_STATUS && m->len >= sizeof(msg_fw_update)) {
        /* STATUS to the station: the payload, then the trailer's room
         * zeroed (a module signs nothing it sends the station; the frame
         * stays a CAN-FD length: docs/update.md) */
        msg_fw_update u;
        memcpy(&u, m->payload, sizeof u);
        cfd_frame f;
        if (canh_frame(CID_TYPE_FW_UPDATE, s->cfg.slot, CID_NODE_STATION, &u, &f) == EK3_OK) {
            memset(f.data + f.len, 0, AUTH_TRAILER_LEN);
            f.len = (uint8_t)(f.len + AUTH_TRAILER_LEN);
            if (hal_can_send(k->hw, &f) == EK3_EFULL)
                s->st.tx_full++;
        }
        return EK3_OK;
    }
    if (m->type == SWM_MSG_LEADER) { /* SWARM_COORD took the current leader's SYNC */
        canh_heard(s, k);
        return EK3_OK;
    }
    if (m->type == SWM_MSG_WANT_THERMAL && m->len >= 1) {
        s->want_thermal = m->payload[0] != 0;
        return EK3_OK;
    }
    if (m->type == SVC_MSG_FAULT && m->len >= sizeof(msg_fault)) {
        msg_fault fa;
        memcpy(&fa, m->payload, sizeof fa);
        canh_fault(s, k, fa);
        return EK3_OK;
    }
    if (m->type != IPC_T_TICK)
        return EK3_OK;
    cfd_frame f;
    unsigned to_swarm = 0;
    uint8_t used[CANH_NROUTES] = {0};
    int full = 0;
    for (unsigned n = 0;
         n < CANH_RX_PER_TICK && to_swarm < CANH_SWARM_PER_TICK && !full && hal_can_recv(k->hw, &f) == EK3_OK; n++) {
        cid_fields cf;
        s->st.rx_frames++;
        if (!(f.flags & CFD_FLAG_EFF) || cid_decode(f.id, &cf))
            continue;
        if (canh_swarm_type(cf.type) && cf.src != CID_NODE_STATION) {
            /* a SYNC says the leader is there only once SWARM_COORD took it (SWM_MSG_LEADER) */
            to_swarm += canh_to_swarm(s, k, me, &cf, &f);
            continue;
        }
        if (cf.dst != s->cfg.slot &&
            !(cf.dst == CID_NODE_BROADCAST && (cf.type == CID_TYPE_FW_UPDATE || cf.type == CID_TYPE_STATION)))
            continue; /* not for this module (broadcasts: FW_UPDATE and the station's keepalive) */
        int rule = auth_rule(&f); /* seed 3.2: only the station commands (auth.h) */
        if (rule == AUTH_RULE_STATION_ONLY) {
            s->st.unauthenticated++;
            s->st.refused++;
        } else if (rule == AUTH_RULE_SIGNED) {
            full = canh_route(s, k, me, cf.type, &f, used);
        }
    }
    canh_silence(s, k);
    if (s->alert_wdg) { /* the watchdog reset the MCU: say so once */
        s->alert_wdg = 0;
        int32_t n = k->resets < 2147483u ? (int32_t)k->resets * 1000 : INT32_MAX; /* milli-units */
        msg_fault fa = {MSG_FAULT_WATCHDOG, MSG_SEV_CRITICAL, 0, n,
                        (uint32_t)(jz_now(k) / 1000000), 0};
        canh_fault(s, k, fa);
    }
    /* A service the Reincarnation Server restarted (or, critical, shut the
     * module down for): FAULT_ALERT SERVICE_CRASH, NOTICE for a restart,
     * CRITICAL for a critical one; value: its service id (1000 each). */
    /* The counts are looked at only when the kernel's sum moved since the
     * last look (until then crash_seen equals every count; a crash during
     * the look moves the sum again, and the next tick looks again). */
    uint32_t events = jz_crash_events(k);
    for (unsigned id = 1; events != s->crash_events_seen && id < JZ_MAX_SERVICES; id++) {
        uint32_t c = jz_crashes(k, id);
        if (c != s->crash_seen[id]) {
            s->crash_seen[id] = c;
            msg_fault fa = {MSG_FAULT_SERVICE_CRASH, jz_critical(k, id) ? MSG_SEV_CRITICAL : MSG_SEV_NOTICE, 0,
                            (int32_t)id * 1000, (uint32_t)(jz_now(k) / 1000000), 0};
            canh_fault(s, k, fa);
        }
    }
    s->crash_events_seen = events;
    /* FAULT_ALERT at once: whatever SAFETY_MONITOR latched since the last tick. */
    sm_alert a;
    while (drv_take_alert(drv_of(k), &a) == EK3_OK) {
        msg_fault fa = {a.code, a.severity, a.flags, a.value, a.time_ms, 0};
        canh_fault(s, k, fa);
    }
    if (++s->ticks >= CANH_HEARTBEAT_MS) {
        s->ticks = 0;
        canh_heartbeat(s, k);
    }
    return EK3_OK;
}
