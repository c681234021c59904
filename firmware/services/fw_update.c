/* fw_update.c - UPDATE_MGR: the FW_UPDATE receiver (fw_update.h). */
#include "fw_update.h"

#include <math.h>
#include <string.h>

#include "board.h"
#include "drivers.h"
#include "ek3_err.h"
#include "fwimg.h"
#include "services.h"

_Static_assert(FWIMG_TRUNCATED == 1 && FWIMG_IO == 11 && (int)FWIMG_WHY_COUNT_ == (int)MSG_FWW_CRC,
               "msg_fw_why 1..11 are fwimg_why's");
_Static_assert(sizeof(msg_fw_update) <= IPC_PAYLOAD, "a FW_UPDATE frame travels in one IPC message");

int fwu_verify_slot(hal hw, const uint8_t *pubkey, const uint8_t *pubkey2, unsigned slot, uint32_t avail,
                    uint32_t min_security, fwimg_info *info, fwimg_why *why)
{
    fwimg_policy pol = {BRD_HW_ID, min_security, BRD_SLOT_SIZE, pubkey, pubkey2};
    boot_slot_reader r = boot_slot_reader_of(hw, slot);
    return fwimg_verify(boot_slot_read, &r, avail < BRD_SLOT_SIZE ? avail : BRD_SLOT_SIZE, &pol, info, why);
}

/* boot_cfg.verify: the slot's image against this module's policy. */
static int fwu_verify(void *ctx, unsigned slot, uint32_t min_security, fwimg_info *info, fwimg_why *why)
{
    fwu_state *s = ctx;
    /* staging: only what the transfer brought counts (a short one is truncated) */
    uint32_t avail = s->state == MSG_FWS_RECEIVING ? s->size : BRD_SLOT_SIZE;
    return fwu_verify_slot(s->boot.hw, s->ho.pubkey, s->ho.pubkey2, slot, avail, min_security, info, why);
}

int fwu_in_band(int run, float i_a, float mean_a)
{
    if (!run || !(i_a >= FWU_SHARE_MIN_A))
        return 0;
    if (mean_a <= 0)
        return 1;
    return i_a >= mean_a * (1.0f - FWU_SHARE_BAND) && i_a <= mean_a * (1.0f + FWU_SHARE_BAND);
}

int fwu_idle_ok(int run, float i_a, float v, float v_set, float mean_a)
{
    int idle = mean_a > 0 ? mean_a < FWU_SHARE_MIN_A : !(i_a >= FWU_SHARE_MIN_A);
    return run && idle && v_set > 0 && fabsf(v - v_set) <= FWU_IDLE_V_BAND * v_set;
}

int fwu_init(void *state, jz_kernel *k, unsigned me)
{
    (void)me;
    fwu_state *s = state;
    s->boot = (boot_cfg){k->hw, fwu_verify, s};
    s->state = MSG_FWS_NOBOOT;
    s->mean_age_ms = FWU_MEAN_MAX_AGE_MS;
    if (k->cfg.boot_handoff) {
        memcpy(&s->ho, k->cfg.boot_handoff, sizeof s->ho);
        s->have_boot = 1;
        s->state = s->ho.choice.trial ? MSG_FWS_TRIAL : MSG_FWS_IDLE;
        /* news for the station (an update's reboot): a STATUS at the first tick */
        s->hello = s->ho.choice.trial || s->ho.choice.reverted;
    }
    return EK3_OK;
}

/* A record for the audit log through AUDIT_LOGGER: type, then
 * {why u8, op u8, xfer u8, 0, offset u32, version u32}. */
static void fwu_audit(fwu_state *s, jz_kernel *k, unsigned me, unsigned type, unsigned why, const msg_fw_update *m)
{
    uint8_t b[13] = {(uint8_t)type, (uint8_t)why, m ? m->op : 0, m ? m->xfer : s->xfer, 0};
    uint32_t off = m ? m->offset : s->extent, ver = s->have_boot ? s->ho.choice.version : 0;
    memcpy(b + 5, &off, 4);
    memcpy(b + 9, &ver, 4);
    ipc_msg out;
    ipc_msg_init(&out, SVC_MSG_AUDIT, 2, b, sizeof b);
    if (ipc_send(k, me, SVC_AUDIT, &out) == EK3_OK)
        s->st.audited++;
}

static void fwu_status(fwu_state *s, jz_kernel *k, unsigned me)
{
    msg_fw_update u;
    memset(&u, 0, sizeof u);
    u.op = MSG_FW_STATUS;
    u.xfer = s->xfer;
    u.offset = s->extent;
    u.arg = s->have_boot ? s->ho.choice.version : 0;
    msg_fw_status st = {s->state, s->why, (uint8_t)(s->have_boot ? s->ho.choice.slot : 0),
                        (uint8_t)(s->have_boot && s->ho.choice.trial && s->state != MSG_FWS_CONFIRMED),
                        s->have_boot ? s->ho.choice.security : 0, {0}};
    for (unsigned w = 0; w < MSG_FWW_COUNT_; w++)
        st.refusals[w] = s->xfer_refusals[w];
    msg_fw_status_put(&u, &st);
    ipc_msg out;
    ipc_msg_init(&out, SVC_MSG_FW_STATUS, 2, &u, sizeof u);
    if (ipc_send(k, me, SVC_CAN, &out) == EK3_OK)
        s->st.statuses++;
}

/* Refuse: count, log, say so. */
static void fwu_refuse(fwu_state *s, jz_kernel *k, unsigned me, unsigned why, const msg_fw_update *m)
{
    s->why = (uint8_t)why;
    s->st.refusals[why]++;
    if (s->xfer_refusals[why] < 255)
        s->xfer_refusals[why]++;
    fwu_audit(s, k, me, ALOG_T_REFUSED, why, m);
    fwu_status(s, k, me);
}

/* The staged slot's header, when extent covers it: does it match BEGIN? */
static int fwu_same_image(fwu_state *s, const msg_fw_update *m, uint32_t extent)
{
    uint8_t h[FWIMG_HDR_SIZE];
    boot_slot_reader r = boot_slot_reader_of(s->boot.hw, 1u - s->ho.choice.slot);
    if (extent < FWIMG_HDR_SIZE || boot_slot_read(&r, 0, h, sizeof h) != EK3_OK)
        return 0;
    uint32_t ver, psize;
    memcpy(&ver, h + 12, 4);
    memcpy(&psize, h + 20, 4);
    return ver == m->arg && (uint64_t)psize + FWIMG_HDR_SIZE + FWIMG_TRL_SIZE == m->offset;
}

static void fwu_begin(fwu_state *s, jz_kernel *k, unsigned me, const msg_fw_update *m)
{
    uint32_t sec;
    memcpy(&sec, m->data, 4);
    if (m->xfer != s->xfer) /* a new transfer: STATUS counts its refusals alone */
        memset(s->xfer_refusals, 0, sizeof s->xfer_refusals);
    if (m->offset > BRD_SLOT_SIZE || sec < s->ho.choice.security) {
        s->xfer = m->xfer; /* the STATUS names the transfer it refuses */
        s->state = MSG_FWS_REFUSED;
        fwu_refuse(s, k, me, m->offset > BRD_SLOT_SIZE ? FWIMG_TOO_BIG : FWIMG_DOWNGRADE, m);
        return;
    }
    unsigned run = s->ho.choice.slot;
    uint32_t ext = 0;
    int rc = EK3_OK;
    if (s->xfer == m->xfer && s->size == m->offset && s->state == MSG_FWS_RECEIVING) {
        ext = s->extent; /* BEGIN again (its STATUS was lost): go on */
    } else if ((m->data[4] & MSG_FW_F_RESUME) && boot_stage_extent(&s->boot, run, &ext) == EK3_OK && ext > 0 &&
               ext <= m->offset && fwu_same_image(s, m, ext)) {
        /* resume what a reset interrupted: the extent stands */
    } else {
        ext = 0;
        rc = boot_stage_begin(&s->boot, run);
    }
    if (rc != EK3_OK) {
        s->xfer = m->xfer;
        s->state = MSG_FWS_REFUSED;
        fwu_refuse(s, k, me, rc == EK3_EBUSY ? MSG_FWW_BUSY : FWIMG_IO, m);
        return;
    }
    s->xfer = m->xfer;
    s->size = m->offset;
    s->version = m->arg;
    s->security = sec;
    s->extent = ext;
    s->gap_told = UINT32_MAX;
    s->state = MSG_FWS_RECEIVING;
    fwu_status(s, k, me);
}

/* The image's header staged (its first FWIMG_HDR_SIZE bytes): refused
 * at once when it is not for this module (fwimg_parse_hdr: shape,
 * hardware, security floor, size; fwimg_pick_key: a trusted signer), so
 * a foreign image costs one chunk's STATUS, not the whole transfer; the
 * hash and signature wait for END. */
static void fwu_header(fwu_state *s, jz_kernel *k, unsigned me, const msg_fw_update *m)
{
    uint8_t h[FWIMG_HDR_SIZE];
    boot_slot_reader r = boot_slot_reader_of(s->boot.hw, 1u - s->ho.choice.slot); /* the slot being staged: not the running one */
    fwimg_policy pol = {BRD_HW_ID, s->ho.choice.security, BRD_SLOT_SIZE, s->ho.pubkey, s->ho.pubkey2};
    fwimg_hdr hdr;
    fwimg_why why = FWIMG_OK;
    const uint8_t *key;
    int rc = boot_slot_read(&r, 0, h, sizeof h);
    if (rc != EK3_OK)
        why = FWIMG_IO;
    else if ((rc = fwimg_parse_hdr(h, sizeof h, &pol, &hdr, &why)) == EK3_OK)
        rc = fwimg_pick_key(&hdr, &pol, &key, &why);
    if (rc == EK3_OK)
        return;
    s->state = MSG_FWS_REFUSED;
    fwu_refuse(s, k, me, why != FWIMG_OK && why < FWIMG_WHY_COUNT_ ? (unsigned)why : FWIMG_IO, m);
}

static void fwu_chunk(fwu_state *s, jz_kernel *k, unsigned me, const msg_fw_update *m)
{
    if (s->state == MSG_FWS_REFUSED && m->xfer == s->xfer) {
        s->st.ignored++; /* the rest of an image refused at its header: said once already */
        return;
    }
    if (s->state != MSG_FWS_RECEIVING || m->xfer != s->xfer) {
        /* Said once per transfer: a module left out of a broadcast update,
         * or one that lost its transfer in a reset (the station then sends
         * BEGIN again), would otherwise answer every chunk. */
        if (s->told_xfer == m->xfer) {
            s->st.ignored++;
            return;
        }
        s->told_xfer = m->xfer;
        fwu_refuse(s, k, me, MSG_FWW_NO_XFER, m);
        return;
    }
    if (msg_crc32(0, m->data, m->len) != m->arg) {
        fwu_refuse(s, k, me, MSG_FWW_CRC, m);
        return;
    }
    uint32_t end = m->offset + m->len;
    if (end > s->size) {
        fwu_refuse(s, k, me, FWIMG_TOO_BIG, m);
        return;
    }
    if (end <= s->extent) {
        s->st.duplicates++; /* a broadcast resent for a module behind this one */
        return;
    }
    if (m->offset > s->extent) {
        /* A gap: one refusal and one STATUS per extent (the station resends from it). */
        if (s->gap_told != s->extent) {
            s->gap_told = s->extent;
            fwu_refuse(s, k, me, MSG_FWW_ORDER, m);
        }
        return;
    }
    uint32_t skip = s->extent - m->offset; /* a multiple of 8: both are */
    int rc = boot_stage_write(&s->boot, s->ho.choice.slot, s->extent, m->data + skip, m->len - skip);
    if (rc != EK3_OK) {
        fwu_refuse(s, k, me, FWIMG_IO, m);
        return;
    }
    uint32_t before = s->extent;
    s->extent = end;
    s->st.chunks++;
    s->st.bytes += m->len - skip;
    if (before < FWIMG_HDR_SIZE && end >= FWIMG_HDR_SIZE)
        fwu_header(s, k, me, m);
}

static void fwu_end(fwu_state *s, jz_kernel *k, unsigned me, const msg_fw_update *m)
{
    if (s->state == MSG_FWS_STAGED && m->xfer == s->xfer) {
        fwu_status(s, k, me); /* END again: its STATUS was lost */
        return;
    }
    if (s->state != MSG_FWS_RECEIVING || m->xfer != s->xfer || m->offset != s->size) {
        fwu_refuse(s, k, me, MSG_FWW_NO_XFER, m);
        return;
    }
    if (s->extent < s->size) {
        s->gap_told = s->extent;
        fwu_refuse(s, k, me, MSG_FWW_ORDER, m); /* the tail is missing: resend from the extent */
        return;
    }
    fwimg_info info;
    fwimg_why why = FWIMG_OK;
    int rc = boot_stage_finish(&s->boot, s->ho.choice.slot, &info, &why);
    if (rc == EK3_OK && (info.hdr.version != s->version || info.total != s->size)) {
        /* verified, but not the image BEGIN announced (a resume over an old image that a cut left whole: boot.h) */
        rc = EK3_EFORGED;
        why = FWIMG_BAD_HASH;
    }
    if (rc != EK3_OK) {
        s->state = MSG_FWS_REFUSED;
        fwu_refuse(s, k, me, why != FWIMG_OK && why < FWIMG_WHY_COUNT_ ? (unsigned)why : FWIMG_IO, m);
        return;
    }
    s->state = MSG_FWS_STAGED;
    s->st.staged++;
    fwu_audit(s, k, me, ALOG_T_UPDATE, 0, m);
    fwu_status(s, k, me);
}

/* The reset into the requested image (ACTIVATE, after the hand-off). */
static void fwu_reset(fwu_state *s, jz_kernel *k, unsigned me, const msg_fw_update *m)
{
    if (hal_reset(k->hw) == EK3_OK)
        return;
    drv_shed(drv_of(k), drv_ctl_cfg(drv_of(k))->i_max);
    s->state = MSG_FWS_STAGED;
    fwu_refuse(s, k, me, MSG_FWW_BUSY, m);
}

static void fwu_activate(fwu_state *s, jz_kernel *k, unsigned me, const msg_fw_update *m)
{
    if (s->state != MSG_FWS_STAGED || m->xfer != s->xfer) {
        fwu_refuse(s, k, me, MSG_FWW_NO_XFER, m);
        return;
    }
    if (boot_request_trial(&s->boot, s->ho.choice.slot) != EK3_OK) {
        fwu_refuse(s, k, me, MSG_FWW_BUSY, m);
        return;
    }
    s->st.activated++;
    fwu_audit(s, k, me, ALOG_T_UPDATE, 0, m);
    drv_status d;
    drv_status_get(drv_of(k), &d);
    if (d.state != LLCC_RUN || d.latched || d.parked) { /* nothing to hand over */
        fwu_reset(s, k, me, m);
        return;
    }
    s->state = MSG_FWS_HANDOFF;
    s->shed_ms = 0;
    s->shed_from_a = d.i > 0 ? d.i : 0;
    fwu_status(s, k, me);
}

static void fwu_frame(fwu_state *s, jz_kernel *k, unsigned me, const msg_fw_update *m)
{
    if (!s->have_boot) {
        if (m->op == MSG_FW_QUERY)
            fwu_status(s, k, me);
        else if (m->op != MSG_FW_STATUS)
            fwu_refuse(s, k, me, MSG_FWW_BUSY, m);
        return;
    }
    switch (m->op) {
    case MSG_FW_BEGIN: fwu_begin(s, k, me, m); break;
    case MSG_FW_CHUNK: fwu_chunk(s, k, me, m); break;
    case MSG_FW_END: fwu_end(s, k, me, m); break;
    case MSG_FW_ABORT:
        if (m->xfer == s->xfer && (s->state == MSG_FWS_RECEIVING || s->state == MSG_FWS_STAGED ||
                                   s->state == MSG_FWS_REFUSED)) {
            s->xfer = 0;
            s->state = MSG_FWS_IDLE;
        }
        fwu_status(s, k, me);
        break;
    case MSG_FW_ACTIVATE: fwu_activate(s, k, me, m); break;
    case MSG_FW_QUERY: fwu_status(s, k, me); break;
    case MSG_FW_REBOOT:
        if (hal_reset(k->hw) != EK3_OK)
            fwu_refuse(s, k, me, MSG_FWW_BUSY, m);
        break;
    default: break; /* STATUS is the modules' */
    }
}

/* The confirm rule, once a tick while in a trial. */
static void fwu_tick(fwu_state *s, jz_kernel *k, unsigned me)
{
    if (s->hello) {
        s->hello = 0;
        fwu_status(s, k, me);
    }
    if (s->state == MSG_FWS_HANDOFF) {
        s->shed_ms += FWU_PERIOD_US / 1000u;
        if (s->shed_ms >= FWU_SHED_MS) {
            drv_shed(drv_of(k), 0);
            fwu_reset(s, k, me, NULL);
        } else {
            drv_shed(drv_of(k), s->shed_from_a * (1.0f - (float)s->shed_ms / (float)FWU_SHED_MS));
        }
        return;
    }
    if (s->state != MSG_FWS_TRIAL || s->trial_ms >= FWU_CONFIRM_TIMEOUT_MS)
        return;
    s->trial_ms += FWU_PERIOD_US / 1000u;
    if (s->mean_age_ms < FWU_MEAN_MAX_AGE_MS)
        s->mean_age_ms += FWU_PERIOD_US / 1000u;
    else
        s->mean_ma = 0; /* no SYNC for a while (no leader, no swarm): the mean is not known */
    drv_status d;
    drv_status_get(drv_of(k), &d);
    int run = d.state == LLCC_RUN && !d.latched && !d.parked;
    float mean = (float)s->mean_ma / 1000.0f;
    int ok = fwu_in_band(run, d.i, mean) || fwu_idle_ok(run, d.i, d.v, d.v_set, mean);
    s->was_ok |= (uint8_t)ok;
    /* parked by the leader (an idle or light rack parks all but a few)
     * after it regulated in this trial, and hearing the leader: it has
     * joined the rack, and the leader keeps it in reserve */
    ok = ok || (d.parked && !d.latched && s->was_ok && s->mean_age_ms < FWU_MEAN_MAX_AGE_MS);
    s->band_ms = ok ? s->band_ms + FWU_PERIOD_US / 1000u : 0;
    if (s->band_ms < FWU_CONFIRM_MS)
        return;
    if (boot_confirm(&s->boot, &s->ho.choice) == EK3_OK) {
        s->state = MSG_FWS_CONFIRMED;
        s->st.confirmed++;
        fwu_audit(s, k, me, ALOG_T_UPDATE, 0, NULL);
        fwu_status(s, k, me);
    } else {
        s->band_ms = 0; /* try again at the next full window */
    }
}

int fwu_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m)
{
    fwu_state *s = state;
    if (m->type == IPC_T_TICK) {
        fwu_tick(s, k, me);
    } else if (m->type == SVC_MSG_RACK_MEAN && m->len >= sizeof(uint32_t)) {
        memcpy(&s->mean_ma, m->payload, sizeof s->mean_ma);
        s->mean_age_ms = 0;
    } else if (m->type == SVC_MSG_FW && m->len >= sizeof(msg_fw_update)) {
        msg_fw_update u;
        memcpy(&u, m->payload, sizeof u);
        fwu_frame(s, k, me, &u);
    }
    return EK3_OK;
}
