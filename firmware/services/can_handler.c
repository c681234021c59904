/* can_handler.c - POWER_CMD in (checked), POWER_ACK and HEARTBEAT out. */
#include "can_handler.h"

#include <string.h>

#include "can_id.h"
#include "drivers.h"
#include "ek3_err.h"
#include "msg.h"
#include "services.h"

static uint16_t canh_crc(const canh_config *c)
{
    uint8_t buf[2 + AUTH_KEY_LEN];
    buf[0] = (uint8_t)c->slot;
    buf[1] = (uint8_t)(c->slot >> 8);
    memcpy(buf + 2, c->key, AUTH_KEY_LEN);
    return ipc_crc16(buf, sizeof buf);
}

int canh_provision(hal hw, unsigned slot, const uint8_t key[AUTH_KEY_LEN])
{
    canh_config c;
    memset(&c, 0, sizeof c);
    c.magic = CANH_CONFIG_MAGIC;
    c.slot = (uint16_t)slot;
    memcpy(c.key, key, AUTH_KEY_LEN);
    c.crc = canh_crc(&c);
    int rc = hw.ops->flash_erase(hw.ctx, 0, 2048);
    return rc ? rc : hw.ops->flash_write(hw.ctx, 0, &c, sizeof c);
}

int canh_init(void *state, jz_kernel *k, unsigned me)
{
    canh_state *s = state;
    (void)me;
    if (k->hw.ops->flash_read(k->hw.ctx, 0, &s->cfg, sizeof s->cfg) != EK3_OK || s->cfg.magic != CANH_CONFIG_MAGIC ||
        s->cfg.crc != canh_crc(&s->cfg) || s->cfg.slot < CID_NODE_MODULE_MIN || s->cfg.slot > CID_NODE_MODULE_MAX)
        return EK3_ENOENT; /* not provisioned: no identity, no key */
    s->ticks = CANH_HEARTBEAT_MS - 1; /* first heartbeat at the first tick */
    return EK3_OK;
}

static int canh_send(canh_state *s, jz_kernel *k, unsigned type, unsigned dst, const void *payload)
{
    const msg_desc *d = msg_desc_of(type);
    cid_fields cf = {d->prio, (uint8_t)type, s->cfg.slot, (uint16_t)dst};
    cfd_frame f;
    memset(&f, 0, sizeof f);
    f.flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS;
    msg_err e;
    int n = msg_encode(type, payload, f.data, sizeof f.data, &e);
    if (n < 0 || cid_encode(&cf, &f.id))
        return n < 0 ? n : EK3_ERANGE;
    f.len = (uint8_t)n;
    int rc = k->hw.ops->can_send(k->hw.ctx, &f);
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
    const llcc *c = &drv_of(k)->ctl;
    msg_power_ack ack = {(uint8_t)result, s->cfg.slot, canh_u16(c->v * c->i), target_w, fv};
    canh_send(s, k, CID_TYPE_POWER_ACK, CID_NODE_STATION, &ack);
}

static void canh_power_cmd(canh_state *s, jz_kernel *k, cfd_frame *f)
{
    s->st.cmds++;
    size_t plen = 0;
    uint32_t fv = 0;
    int rc = auth_verify(&k->hw.ops->crypto, s->cfg.key, &s->rx, f, &plen, &fv);
    if (rc) {
        if (rc == EK3_EFORGED)
            s->st.forged++;
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
    msg_power_cmd cmd;
    msg_err e;
    if (msg_decode(CID_TYPE_POWER_CMD, f->data, plen, &cmd, &e) != EK3_OK) {
        s->st.bad_payload++;
        s->st.refused++;
        canh_ack(s, k, MSG_ACK_REFUSED, 0, fv);
        return;
    }
    llcc *c = &drv_of(k)->ctl;
    /* The module's limits, checked here and again in LLC_CONTROL. */
    float vset = cmd.vset_dv / 10.0f, p = cmd.power_w, ilim = cmd.ilim_ma / 1000.0f;
    int clamped = llcc_limit_cmd(&c->cfg, &vset, &p, ilim);
    switch (cmd.op) {
    case MSG_POWER_START:
        /* START to a faulted module is the station's restart: clear,
         * then start, if the fault is gone (drv_restart). */
        if (drv_of(k)->safety.latched)
            drv_restart(drv_of(k), vset, p);
        else
            llcc_command(c, 1, vset, p);
        break;
    case MSG_POWER_SET:
        llcc_command(c, 1, vset, p);
        break;
    case MSG_POWER_STOP:
        llcc_command(c, 0, c->v_set, 0);
        p = 0;
        break;
    default: /* ESTOP */
        llcc_command(c, 0, c->v_set, 0);
        k->hw.ops->safe_shutdown(k->hw.ctx);
        p = 0;
        break;
    }
    if (clamped)
        s->st.clamped++;
    else
        s->st.accepted++;
    canh_ack(s, k, clamped ? MSG_ACK_CLAMPED : MSG_ACK_ACCEPTED, canh_u16(p), fv);
}

/* A self-test request from the station: checked, then to DIAGNOSTICS. */
static void canh_diag_request(canh_state *s, jz_kernel *k, unsigned me, cfd_frame *f)
{
    size_t plen = 0;
    uint32_t fv = 0;
    int rc = auth_verify(&k->hw.ops->crypto, s->cfg.key, &s->rx, f, &plen, &fv);
    msg_diag req;
    msg_err e;
    if (rc) {
        s->st.forged += rc == EK3_EFORGED;
        s->st.replayed += rc == EK3_EREPLAY;
        s->st.stale += rc == EK3_ESTALE;
        s->st.unauthenticated += rc != EK3_EFORGED && rc != EK3_EREPLAY && rc != EK3_ESTALE;
        s->st.refused++;
        return;
    }
    if (msg_decode(CID_TYPE_DIAG, f->data, plen, &req, &e) != EK3_OK || req.op != MSG_DIAG_REQUEST) {
        s->st.bad_payload++;
        return;
    }
    ipc_msg m;
    ipc_msg_init(&m, SVC_MSG_DIAG_REQ, 3, &req, sizeof req);
    if (ipc_send(k, me, SVC_DIAG, &m) == EK3_OK)
        s->st.diags++;
}

static void canh_heartbeat(canh_state *s, jz_kernel *k)
{
    const llcc *c = &drv_of(k)->ctl;
    static const uint8_t state_of[] = {MSG_STATE_STANDBY, MSG_STATE_SOFTSTART, MSG_STATE_ACTIVE, MSG_STATE_FAULT};
    uint8_t st = drv_of(k)->safety.latched ? MSG_STATE_FAULT : state_of[c->state & 3];
    msg_heartbeat hb = {st, s->cfg.slot, canh_u16(c->v * c->i), 0,
                        canh_u16(c->v * 10.0f), canh_u16(c->i * 1000.0f), s->health, s->hb_seq++};
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
    if (m->type != IPC_T_TICK)
        return EK3_OK;
    cfd_frame f;
    for (unsigned n = 0; n < CANH_RX_PER_TICK && k->hw.ops->can_recv(k->hw.ctx, &f) == EK3_OK; n++) {
        cid_fields cf;
        s->st.rx_frames++;
        if (!(f.flags & CFD_FLAG_EFF) || cid_decode(f.id, &cf) || cf.dst != s->cfg.slot)
            continue; /* not for this module (broadcasts are the station's status: not yet used) */
        int rule = auth_rule(&f); /* seed 3.2: only the station commands (auth.h) */
        if (rule == AUTH_RULE_STATION_ONLY) {
            s->st.unauthenticated++;
            s->st.refused++;
        } else if (cf.type == CID_TYPE_POWER_CMD && rule == AUTH_RULE_SIGNED) {
            canh_power_cmd(s, k, &f);
        } else if (cf.type == CID_TYPE_DIAG && rule == AUTH_RULE_SIGNED) {
            canh_diag_request(s, k, me, &f);
        }
    }
    /* FAULT_ALERT at once: whatever SAFETY_MONITOR latched since the last tick. */
    sm_alert a;
    while (sm_take_alert(&drv_of(k)->safety, &a) == EK3_OK) {
        msg_fault fa = {a.code, a.severity, a.flags, a.value, a.time_ms, s->cfg.slot};
        if (canh_send(s, k, CID_TYPE_FAULT, CID_NODE_BROADCAST, &fa) == EK3_OK)
            s->st.faults_sent++;
    }
    if (++s->ticks >= CANH_HEARTBEAT_MS) {
        s->ticks = 0;
        canh_heartbeat(s, k);
    }
    return EK3_OK;
}
