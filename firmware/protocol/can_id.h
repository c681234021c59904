/*
 * can_id.h - the 29-bit CAN-FD identifier of the EK3 rack (prefix cid_).
 *
 * Layout (DESIGN.md, seed section 8.4), most significant first:
 *   priority [28:25] (4 bits)  lower value wins arbitration
 *   type     [24:21] (4 bits)  message type
 *   source   [20:9]  (12 bits) sending node
 *   dest     [8:0]   (9 bits)  receiving node, 0x1FF = broadcast
 *
 * Node numbers: 0 is the station controller, 1..510 are modules (slot
 * numbers), 0x1FF is broadcast (destination only), and sources above
 * 0x1FF are rig-side nodes (the HIL plant, the rig's tools).
 */
#ifndef CAN_ID_H
#define CAN_ID_H

#include <stdint.h>

#define CID_PRIO_SHIFT 25u
#define CID_TYPE_SHIFT 21u
#define CID_SRC_SHIFT 9u
#define CID_PRIO_MAX 0xFu
#define CID_TYPE_MAX 0xFu
#define CID_SRC_MAX 0xFFFu
#define CID_DST_MAX 0x1FFu
#define CID_MASK 0x1FFFFFFFu

enum {
    CID_NODE_STATION = 0,        /* the station controller */
    CID_NODE_MODULE_MIN = 1,     /* first module slot */
    CID_NODE_MODULE_MAX = 0x1FE, /* last addressable module slot */
    CID_NODE_BROADCAST = 0x1FF,  /* destination: every node */
    CID_NODE_PLANT = 0xFFE,      /* source: the HIL plant (time master) */
    CID_NODE_RIG = 0xFFD         /* source: rig tools (replay, scenario) */
};

/* Priorities of seed section 4.3. Values 4..14 are legal on the wire
 * but undefined: cid_validate refuses them. */
typedef enum cid_prio {
    CID_PRIO_CRITICAL = 0x0,
    CID_PRIO_HIGH = 0x1,
    CID_PRIO_MEDIUM = 0x2,
    CID_PRIO_LOW = 0x3,
    CID_PRIO_BACKGROUND = 0xF
} cid_prio;

/* Message types: seed section 4.3 (0,1,2,3,4,7,8,F) plus the project's
 * own in the values the seed leaves free (docs/can-protocol.md). */
typedef enum cid_type {
    CID_TYPE_SYNC = 0x0,      /* time synchronisation (seed) */
    CID_TYPE_ELECTION = 0x1,  /* leader election, Raft (seed) */
    CID_TYPE_HEARTBEAT = 0x2, /* periodic module status (seed) */
    CID_TYPE_POWER_CMD = 0x3, /* station -> module power target (seed) */
    CID_TYPE_THERMAL = 0x4,   /* temperature sharing (seed) */
    CID_TYPE_POWER_ACK = 0x5, /* module -> station answer to POWER_CMD */
    CID_TYPE_STATION = 0x6,   /* station controller rack status/setpoint */
    CID_TYPE_FAULT = 0x7,     /* FAULT_ALERT events (seed) */
    CID_TYPE_DIAG = 0x8,      /* diagnostics request/result (seed) */
    CID_TYPE_HIL_ADC = 0x9,   /* HIL: plant -> firmware ADC samples */
    CID_TYPE_HIL_PWM = 0xA,   /* HIL: firmware -> plant PWM command */
    CID_TYPE_HIL_TICK = 0xC,  /* HIL: lockstep quantum sync and answer */
    CID_TYPE_FW_UPDATE = 0xF  /* firmware update chunks (seed) */
} cid_type;

/* A decoded identifier. */
typedef struct cid_fields {
    uint8_t prio;  /* 0..15 */
    uint8_t type;  /* 0..15 */
    uint16_t src;  /* 0..0xFFF */
    uint16_t dst;  /* 0..0x1FF */
} cid_fields;

/* Pack fields into an identifier. Returns 0 and writes *id, or
 * EK3_ERANGE when a field does not fit its bits (nothing written). */
int cid_encode(const cid_fields *f, uint32_t *id);

/* Split an identifier into fields. Returns EK3_ERANGE when id has bits
 * above bit 28 (not a 29-bit identifier), else 0. */
int cid_decode(uint32_t id, cid_fields *f);

/* Check an identifier against the protocol: 29 bits (EK3_ERANGE), a
 * defined priority (EK3_EPRIO) and a defined type (EK3_ETYPE). */
int cid_validate(uint32_t id);

/* Name of a priority or type ("HIGH", "POWER_CMD"), or NULL if none. */
const char *cid_prio_name(unsigned prio);
const char *cid_type_name(unsigned type);

/* Look a name up (case-insensitive). Returns 0 and the value, or
 * EK3_ENOENT. */
int cid_prio_parse(const char *name, unsigned *prio);
int cid_type_parse(const char *name, unsigned *type);

/* Is `type` one of the HIL channel's (HIL_ADC .. HIL_TICK: plant <->
 * firmware, never rack-bus traffic)? The one test for "is this a HIL
 * frame": every other type, FW_UPDATE included, is the rack bus's. */
static inline int cid_is_hil(unsigned type) { return type >= CID_TYPE_HIL_ADC && type <= CID_TYPE_HIL_TICK; }

/* Does arbitration let `a` win over `b`? (Lower identifier wins.) */
static inline int cid_wins(uint32_t a, uint32_t b) { return a < b; }

#endif /* CAN_ID_H */
