/*
 * auth.h - authenticated frames, as seed section 3.3 and AUTOSAR SecOC
 * (prefix auth_).
 *
 * A frame that the station controller sends (source node 0) carries,
 * after its payload, a 32-bit freshness value (little-endian) and the
 * leftmost 64 bits of AES-128-CMAC over
 *     identifier (u32 LE) || freshness (u32 LE) || payload.
 * The key is the addressed node's key, derived from the rack key with
 * NIST SP 800-108 in counter mode, CMAC as the PRF:
 *     K_node = CMAC(K_rack, 0x01 || "EK3 node key" || 0x00 || node (u16 BE) || 0x0080)
 * (a broadcast uses node 0x1FF, the rack's group key).
 *
 * The receiver keeps, per sender, the highest accepted counter and a
 * 64-entry bitmap below it (as IPsec does). It checks the tag first and
 * then freshness, so a forged frame never moves the window:
 *   EK3_EFORGED  tag mismatch        EK3_EREPLAY counter already accepted
 *   EK3_ESTALE   counter below the window
 *   EK3_EWRAP    counter wrapped past 2^32-1 (the key must be renewed)
 * The sender refuses to sign once its counter is spent (EK3_EWRAP).
 *
 * AES-CMAC itself comes through auth_crypto, so the host uses mbedTLS
 * and the target its AES peripheral.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "can_frame.h"

#define AUTH_KEY_LEN 16u
#define AUTH_FV_LEN 4u
#define AUTH_MAC_LEN 8u
#define AUTH_TRAILER_LEN (AUTH_FV_LEN + AUTH_MAC_LEN)
#define AUTH_WINDOW 64u

/* Full (untruncated) AES-128-CMAC of msg under key into tag[16].
 * Returns 0, or a negative code on backend failure. */
typedef int (*auth_cmac_fn)(void *ctx, const uint8_t key[AUTH_KEY_LEN],
                            const uint8_t *msg, size_t len, uint8_t tag[16]);

typedef struct auth_crypto {
    auth_cmac_fn cmac;
    void *ctx;
} auth_crypto;

/* Sender state: the next freshness value to use (starts at 1). */
typedef struct auth_tx {
    uint32_t next;
    uint8_t spent; /* 1 once 0xFFFFFFFF has been used */
} auth_tx;

/* Receiver state for one sender. Zero-initialised means "nothing seen". */
typedef struct auth_rx {
    uint32_t top;  /* highest accepted counter (0: none yet) */
    uint64_t seen; /* bit i: top - i accepted */
} auth_rx;

/* Does a frame with this identifier need a tag? (Source is the station,
 * or a module sends a swarm frame: ELECTION, SYNC, THERMAL.) */
int auth_required(uint32_t id);

/* The trust rule of seed 3.2 and 3.3 for a frame on the rack bus: what
 * a module's CAN_HANDLER does with it (can_handler.c) and what
 * `ek3 can decode` checks, one function for both.
 *   AUTH_RULE_OPEN          any node may send it, unsigned (HEARTBEAT,
 *                           POWER_ACK, FAULT_ALERT, a module's DIAG result)
 *   AUTH_RULE_SIGNED        from the station, or a swarm frame (ELECTION,
 *                           SYNC, THERMAL: msg_desc.auth MSG_AUTH_GROUP) from
 *                           a module: acted on only with a valid tag and a
 *                           fresh counter (auth_verify)
 *   AUTH_RULE_STATION_ONLY  a command only the station gives, from any
 *                           other node: a type the station alone sends
 *                           (POWER_CMD, STATION, FW_UPDATE: msg_desc.auth
 *                           is MSG_AUTH_ALWAYS), a DIAG request or a FW_UPDATE
 *                           other than a module's STATUS; refused
 *                           unread, whatever else it carries
 * A frame whose identifier does not decode, or a type without a layout,
 * is OPEN here (the identifier's own check refuses it). */
enum auth_rule { AUTH_RULE_OPEN, AUTH_RULE_SIGNED, AUTH_RULE_STATION_ONLY };
int auth_rule(const cfd_frame *f);

/* The node whose key protects a frame: its destination; for a swarm
 * frame from a module, the group key's node 0x1FF whatever the
 * destination (every module holds that key: can_handler.h canh_config). */
uint16_t auth_key_node(uint32_t id);

/* Derive a node's key from the rack key (see above). 0 or EK3_ECRYPTO. */
int auth_derive_key(const auth_crypto *c, const uint8_t rack_key[AUTH_KEY_LEN],
                    uint16_t node, uint8_t out[AUTH_KEY_LEN]);

/* Start a sender at counter 1. */
void auth_tx_init(auth_tx *tx);

/* Append freshness and tag to the payload in f->data[0..f->len). The
 * result must be a valid FD length (EK3_EDLC otherwise); EK3_EWRAP when
 * the counter is spent; EK3_ECRYPTO on backend failure. On success
 * f->len grows by AUTH_TRAILER_LEN and *fv (if not NULL) is the counter. */
int auth_sign(const auth_crypto *c, const uint8_t key[AUTH_KEY_LEN], auth_tx *tx,
              cfd_frame *f, uint32_t *fv);

/* auth_sign's bookkeeping without the tag, for a frame that will not be
 * sent (a sender's full queue refuses it): the same refusals before the
 * MAC (EK3_EINVAL for a NULL tx, EK3_EWRAP for a spent counter,
 * EK3_EDLC when a payload of len bytes leaves no valid FD length for the
 * trailer), and on success the counter spent as auth_sign spends it, its
 * value in *fv (if not NULL). The receiver's window (AUTH_WINDOW) absorbs
 * the gap, as it does a frame lost on the bus. */
int auth_spend(auth_tx *tx, size_t len, uint32_t *fv);

/* Sign with an explicit counter and no state (tests, tools, replays). */
int auth_sign_with(const auth_crypto *c, const uint8_t key[AUTH_KEY_LEN],
                   uint32_t fv, cfd_frame *f);

/* Verify an authenticated frame and, on success only, record its counter
 * in rx. Returns 0 with *payload_len and *fv set, or EK3_ENOAUTH (shorter
 * than the trailer), EK3_EFORGED, EK3_EREPLAY, EK3_ESTALE, EK3_EWRAP,
 * EK3_ECRYPTO. */
int auth_verify(const auth_crypto *c, const uint8_t key[AUTH_KEY_LEN], auth_rx *rx,
                const cfd_frame *f, size_t *payload_len, uint32_t *fv);

#endif /* AUTH_H */
