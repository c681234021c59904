/*
 * fw_update.h - the UPDATE_MGR service (seed 2.3 "Firmware update
 * receiver"; prefix fwu_): the module's side of the FW_UPDATE transfer
 * (docs/update.md).
 *
 * CAN_HANDLER checks each FW_UPDATE frame's tag (the module's key, or the
 * group key for a broadcast) and passes the decoded msg_fw_update on by
 * IPC (SVC_MSG_FW); this service stages the image into the slot that is
 * not running (boot.h boot_stage_*), and answers with STATUS frames
 * (SVC_MSG_FW_STATUS back to CAN_HANDLER).
 *
 *   BEGIN    opens transfer xfer for an image of `offset` bytes. A BEGIN
 *            flagged RESUME (the station sends the same image again after
 *            this module lost the transfer in a reset) whose version and
 *            size match the image staged (its header read back from the
 *            slot) resumes at the staged extent; any other erases the
 *            slot (boot_stage_begin). Refused: too big for the slot,
 *            a security counter below the floor (downgrade), a trial
 *            pending (busy).
 *   CHUNK    of a transfer not open here: refused (no-transfer) once per
 *            transfer id, then ignored (a module left out of a broadcast
 *            update stays quiet). Else CRC-32 checked, then written from
 *            the extent on; a chunk
 *            wholly below the extent is a duplicate (ignored), one beyond
 *            it a gap: refused as out of order, and the STATUS that says
 *            so carries the extent, from which the station resends.
 *   END      at the image's size: boot_stage_finish verifies it (refusals:
 *            fwimg_why, each counted); short of it: out of order (resend).
 *   ACTIVATE boot_request_trial, then the hand-off: a STATUS HANDOFF, the
 *            module's current ceiling ramped from what it gives down to
 *            nothing over FWU_SHED_MS (drv_shed: its peers take it by
 *            droop, a little at a time, instead of a whole module's
 *            current at once), then the MCU resets (hal_reset). A module
 *            not regulating resets at once.
 *   REBOOT   the MCU resets (an unconfirmed trial reverts: boot.h).
 *   QUERY    a STATUS (and one unasked at the first tick after a boot
 *            into a trial or back from one: the station learns what booted).
 * Every refusal is counted per reason (msg_fw_why: fwu_stats since the
 * start, and in STATUS the transfer's, from 0 at each BEGIN of a new one),
 * and recorded in the audit log (ALOG_T_REFUSED; a staged, activated or
 * confirmed image: ALOG_T_UPDATE) through AUDIT_LOGGER (SVC_MSG_AUDIT).
 *
 * The confirm rule: a trial image confirms itself (boot_confirm) after
 * FWU_CONFIRM_MS of its own measurements in a row with the output
 * running (no latched fault, not parked) and its current within the
 * sharing band: at least FWU_SHARE_MIN_A and, once the rack's mean is
 * known (mean_ma: SWARM_COORD passes on each SYNC's, SVC_MSG_RACK_MEAN,
 * and one older than FWU_MEAN_MAX_AGE_MS is not known: no leader, or a
 * rack without the swarm), within FWU_SHARE_BAND of it; on an idle rack
 * (no current to share) its output regulating within FWU_IDLE_V_BAND of
 * its set point instead (fwu_idle_ok). A trial that met either and was
 * then parked by SWARM_COORD's leader (an idle rack keeps only a few
 * running) goes on counting while it hears the leader (the mean is
 * fresh): it joined the rack, and the leader holds it in reserve. No
 * confirm within FWU_CONFIRM_TIMEOUT_MS: it does nothing more; the next reset (the station's REBOOT, a watchdog)
 * reverts to the old image.
 *
 * A module without a bootloader (jz_config.boot_handoff NULL: the rig's
 * modules unless it installs images) answers STATUS NOBOOT and refuses
 * the rest (busy).
 */
#ifndef FW_UPDATE_H
#define FW_UPDATE_H

#include <stdint.h>

#include "boot.h"
#include "jz.h"
#include "msg.h"

#define FWU_PERIOD_US 10000u         /* 100 Hz: the confirm rule's measurements */
#define FWU_CONFIRM_MS 2000u         /* in the band this long in a row: confirmed */
#define FWU_CONFIRM_TIMEOUT_MS 30000u /* no confirm by then: give up (the next reset reverts) */
#define FWU_SHARE_MIN_A 0.05f        /* at least this much output current */
#define FWU_SHARE_BAND 0.5f          /* and within +-50 % of the rack's mean, once known */
#define FWU_IDLE_V_BAND 0.02f        /* idle rack: the output within 2 % of its set point */
#define FWU_MEAN_MAX_AGE_MS 1000u    /* the rack's mean counts this long after it came */
#define FWU_SHED_MS 300u             /* ACTIVATE: the share ramps down over this before the reset */

/* What the bootloader hands the running firmware (jz_config.boot_handoff):
 * its decision at the last reset and the key images must be signed with. */
typedef struct fwu_handoff {
    boot_choice choice;
    const uint8_t *pubkey;           /* FWIMG_PUBKEY_SIZE bytes */
    const uint8_t *pubkey2;          /* a second trusted key (provisioned), or NULL */
} fwu_handoff;

typedef struct fwu_stats {
    uint32_t chunks, bytes, duplicates, statuses, audited;
    uint32_t ignored;                  /* chunks of a transfer it is not in, after the one refusal it said */
    uint32_t refusals[MSG_FWW_COUNT_]; /* per msg_fw_why */
    uint32_t staged, activated, confirmed;
} fwu_stats;

typedef struct fwu_state {
    boot_cfg boot;
    fwu_handoff ho;
    uint8_t have_boot;
    uint8_t hello;                   /* a STATUS due at the first tick after a boot */
    uint8_t state;                   /* msg_fw_state */
    uint8_t why;                     /* the last refusal (msg_fw_why) */
    uint8_t xfer;                    /* the open transfer (0: none) */
    uint8_t told_xfer;               /* the transfer it last refused a chunk of as not its own (0: none) */
    uint8_t xfer_refusals[MSG_FWW_COUNT_]; /* this transfer's refusals per reason (STATUS), saturating */
    uint32_t size, version, security; /* of the open transfer's image */
    uint32_t extent;                 /* bytes staged from 0 */
    uint32_t gap_told;               /* extent last reported for a gap (one STATUS per gap) */
    uint32_t band_ms, trial_ms;      /* the confirm rule's clocks */
    uint32_t shed_ms;                /* the hand-off's clock (state HANDOFF) */
    uint8_t was_ok;                  /* the trial met the confirm rule at least once (before a park) */
    float shed_from_a;               /* the output current when it began, A: the ceiling ramps down from it */
    uint32_t mean_ma;                /* the rack's mean current per module, mA (0: not known) */
    uint32_t mean_age_ms;            /* since it came (SVC_MSG_RACK_MEAN) */
    fwu_stats st;
} fwu_state;

int fwu_init(void *state, jz_kernel *k, unsigned me);
int fwu_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m);

/* The confirm rule on one measurement: output running (run != 0), its
 * current i_a, the rack's mean mean_a (0: not known). 1 when in the band. */
int fwu_in_band(int run, float i_a, float mean_a);

/* The confirm rule on an idle rack, where no module carries current: 1
 * when the output runs (run != 0), the rack is idle (its mean mean_a
 * known and under FWU_SHARE_MIN_A; not known: the module's own i_a
 * under it), and the output voltage v regulates within FWU_IDLE_V_BAND
 * of its set point v_set (V). A trial on an idle rack then confirms on
 * its regulation, as one under load does on its share. */
int fwu_idle_ok(int run, float i_a, float v, float v_set, float mean_a);

/* Check the image in slot (0: A, 1: B) of hw's flash, its first avail
 * bytes (at most the slot's size), against the module's policy
 * (BRD_HW_ID, min_security, the slot's size, pubkey and pubkey2, the
 * second NULL for none): fwimg_verify reading the flash. The bootloader's verify (boot_cfg) and the
 * receiver's (avail: the transfer's size). 0, or its error with *why. */
int fwu_verify_slot(hal hw, const uint8_t *pubkey, const uint8_t *pubkey2, unsigned slot, uint32_t avail,
                    uint32_t min_security, fwimg_info *info, fwimg_why *why);

/* The service definition: priority 6, 100 Hz, watched with a 1 s
 * heartbeat; a queue of 6 (the target's most; the station paces chunks). */
#define FWU_SERVICE(allow)                                                                                   \
    {                                                                                                         \
        .name = "UPDATE_MGR", .prio = 6, .critical = 0, .queue_depth = 6, .period_us = FWU_PERIOD_US,        \
        .heartbeat_ms = 1000, .allow_to = (allow), .state_size = sizeof(fwu_state), .init = fwu_init,         \
        .handle = fwu_handle                                                                                  \
    }

#endif /* FW_UPDATE_H */
