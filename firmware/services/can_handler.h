/*
 * can_handler.h - the CAN_HANDLER service (seed 2.3 and 8.4; prefix
 * canh_): the module's side of the rack bus.
 *
 *   can_rx_to_ipc: every 1 ms it drains the CAN-FD receive FIFO. A
 *     POWER_CMD for this module is checked before anything acts on it:
 *     authentication (AES-CMAC with the module's key) and freshness
 *     (replay window), then the payload's ranges, then the module's
 *     limits (3.3 kW, 200-920 V, 4.0 A) - a command outside them is
 *     clamped, and LLC_CONTROL clamps again. A command that only the
 *     station gives (auth_rule: POWER_CMD, STATION, FW_UPDATE, a DIAG
 *     request) from any other node is refused unread and counted as
 *     unauthenticated.
 *     Every refusal is counted.
 *   ipc_to_can_tx: POWER_ACK for every POWER_CMD (accepted, clamped or
 *     refused, with the power actually delivered), HEARTBEAT at 1 Hz,
 *     and FAULT_ALERT within 1 ms of SAFETY_MONITOR latching a fault or
 *     THERMAL_MGR raising or clearing FAN_FAIL; FAULT_ALERT WATCHDOG at
 *     its first tick after the watchdog reset the MCU (value: the reset
 *     count), and AUTH_FAIL for a frame with a bad MAC, at most one a
 *     second (CANH_AUTH_ALERT_MS; value: the forged frames so far);
 *     counts in the value field's milli-units (1000 each).
 *   COMM_LOSS (board.h BRD_COMM_*): a module that is on and has heard
 *     no verified station frame (the 1 Hz STATION keepalive, a command)
 *     and no leader's SYNC for BRD_COMM_LOSS_MS has lost the station: it
 *     holds its last command (droop keeps its share on the bus); after
 *     BRD_COMM_HOLD_MS of silence it stops, as a STOP would (the safe
 *     output: no latch, the station's next START resumes it). The first
 *     station frame after it sends FAULT_ALERT COMM_LOSS (WARNING while
 *     it held, CRITICAL once it stopped; value: the silence in seconds,
 *     as milli-units).
 *   DIAG: an authenticated self-test request goes to DIAGNOSTICS by IPC,
 *     and its result comes back to the station.
 *   FW_UPDATE: to this module (its key) or to all (the group key, a
 *     freshness window of its own), checked and decoded, goes to
 *     UPDATE_MGR by IPC; its STATUS goes back to the station with a zero
 *     trailer in the tag's place (docs/update.md).
 *
 * Its identity (slot) and key come from the configuration page of the
 * module's flash (canh_provision writes it; the factory on a board). A
 * module without a valid configuration does not start the service: the
 * Reincarnation Server keeps trying, and audits each attempt.
 */
#ifndef CAN_HANDLER_H
#define CAN_HANDLER_H

#include <stdint.h>

#include "auth.h"
#include "jz.h"

#define CANH_CONFIG_MAGIC 0x43334B45u /* "EK3C" */
#define CANH_PERIOD_US 1000u
#define CANH_AUTH_ALERT_MS 1000u /* AUTH_FAIL alerts at most this often */
#define CANH_HEARTBEAT_MS 1000u
#define CANH_RX_PER_TICK 16u

#define CANH_SWARM_PER_TICK 4u /* swarm frames passed to SWARM_COORD per tick, at most (its queue) */

/* The module's configuration record, at the start of the configuration area (board.h BRD_CFG_OFF). */
typedef struct canh_config {
    uint32_t magic;
    uint16_t slot;
    uint16_t crc;         /* CRC-16/CCITT of everything after it (and slot) */
    uint8_t key[AUTH_KEY_LEN];       /* the module's own key (the station's commands) */
    uint8_t group_key[AUTH_KEY_LEN]; /* the rack's group key (node 0x1FF): the swarm's frames */
    uint16_t rack_size;   /* slots of the rack: the swarm's voters 1..rack_size */
    uint16_t reserved[3]; /* 0; the record is whole double words (the STM32G474 programs no less) */
} canh_config;
_Static_assert(sizeof(canh_config) % 8u == 0, "the configuration is written in double words");

typedef struct canh_stats {
    uint32_t rx_frames, cmds, accepted, clamped, refused;
    uint32_t forged, replayed, stale, unauthenticated, bad_payload, tx_full;
    uint32_t heartbeats, faults_sent, diags;
    uint32_t swarm_frames, swarm_dropped; /* passed to SWARM_COORD / not (too long, service down) */
    uint32_t fw_frames, fw_dropped;       /* FW_UPDATE passed to UPDATE_MGR / not (its queue full, service down) */
    uint32_t keepalives;                  /* the station's STATION keepalives verified */
    uint32_t comm_losses, comm_stops;     /* COMM_LOSS: the station and leader lost while running; stopped for it */
} canh_stats;

typedef struct canh_state {
    canh_config cfg;
    auth_rx rx;          /* the station's freshness counters to this module */
    auth_rx rx_group;    /* ... and to every module (a broadcast FW_UPDATE: the group key) */
    uint32_t ticks;
    uint16_t hb_seq;
    uint8_t health;      /* from HEALTH_MONITOR */
    uint8_t alert_wdg;   /* a WATCHDOG alert waits (set at boot) */
    uint8_t auth_alerted;
    uint8_t want_thermal; /* SWARM_COORD leads: pass THERMAL shares on */
    int64_t auth_alert_ns; /* the last AUTH_FAIL alert */
    int64_t heard_ns;    /* the last verified station frame or leader's SYNC (COMM_LOSS) */
    uint8_t comm_lost;   /* silent for BRD_COMM_LOSS_MS while running: holding its last command */
    uint8_t comm_stopped; /* ... and for BRD_COMM_HOLD_MS: stopped (DRV_OFF) */
    uint32_t crash_seen[JZ_MAX_SERVICES]; /* each service's crashes already reported (SERVICE_CRASH) */
    uint32_t crash_events_seen; /* jz_crash_events when crash_seen was last brought up to date */
    canh_stats st;
} canh_state;

/* Write a module's configuration (slot, its key and the group key, both
 * derived from the rack key, the rack's size; magic and crc are filled
 * in) into the first page of the configuration area (BRD_CFG_OFF). 0 or the flash's error. */
int canh_provision(hal hw, const canh_config *c);

/* Read and check the configuration (CAN_HANDLER and SWARM_COORD). 0, or
 * EK3_ENOENT when the module is not provisioned (no record, bad CRC, slot
 * out of range), or the flash's error. */
int canh_config_read(hal hw, canh_config *c);

/* Build the frame of a message: `type`'s payload from struct `payload`,
 * identifier from src, dst and the type's priority. 0, or msg_encode's
 * error, EK3_ERANGE (identifier). CAN_HANDLER and SWARM_COORD send what
 * it builds (SWARM_COORD signs it first). */
int canh_frame(unsigned type, unsigned src, unsigned dst, const void *payload, cfd_frame *f);

int canh_init(void *state, jz_kernel *k, unsigned me);
int canh_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m);

/* The service definition: priority 20 (above the AUDIT_LOGGER), 1 kHz,
 * watched with a 100 ms heartbeat. */
#define CANH_SERVICE(allow)                                                                                      \
    {                                                                                                             \
        .name = "CAN_HANDLER", .prio = 20, .critical = 0, .queue_depth = 6, .period_us = CANH_PERIOD_US,         \
        .heartbeat_ms = 100, .allow_to = (allow), .state_size = sizeof(canh_state),             \
        .init = canh_init,                                                                                        \
        .handle = canh_handle                                                                                     \
    }

#endif /* CAN_HANDLER_H */
