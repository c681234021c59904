/*
 * msg.h - payload codecs of the EK3 CAN-FD messages (prefix msg_).
 *
 * Every payload is a fixed little-endian layout whose byte 0 is the
 * version (MSG_VERSION). Each message type has one C struct and one
 * field table (msg_desc); one generic packer and unpacker serve them
 * all. Unpacking checks, in this order: length (EK3_ESHORT, EK3_ELONG),
 * version (EK3_EVERSION), then each field's range (EK3_ERANGE; reserved
 * fields must be zero). Packing checks the same ranges, so an
 * out-of-range value can never reach the bus. docs/can-protocol.md is
 * the printed form of these tables (`ek3 can layouts`).
 *
 * Lengths are payload lengths. Frames a station sends carry a 12-byte
 * authentication trailer after the payload (auth.h); payload + trailer
 * is always a valid CAN-FD length.
 */
#ifndef MSG_H
#define MSG_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"

#define MSG_VERSION 1u

struct msg_err;

/* Module state, as HEARTBEAT and POWER_ACK report it. */
typedef enum msg_state {
    MSG_STATE_BOOT, MSG_STATE_STANDBY, MSG_STATE_SOFTSTART, MSG_STATE_ACTIVE,
    MSG_STATE_DERATED, MSG_STATE_FAULT, MSG_STATE_SAFE_SHUTDOWN,
    MSG_STATE_COUNT_
} msg_state;

/* POWER_CMD commands. */
typedef enum msg_power_op {
    MSG_POWER_STOP, MSG_POWER_START, MSG_POWER_SET, MSG_POWER_ESTOP,
    MSG_POWER_OP_COUNT_
} msg_power_op;

/* POWER_ACK results. */
typedef enum msg_ack_result {
    MSG_ACK_ACCEPTED, MSG_ACK_CLAMPED, MSG_ACK_REFUSED, MSG_ACK_COUNT_
} msg_ack_result;

/* FAULT_ALERT codes (0 is never sent). */
typedef enum msg_fault_code {
    MSG_FAULT_NONE, MSG_FAULT_OCP, MSG_FAULT_OVP, MSG_FAULT_UVP, MSG_FAULT_OTP,
    MSG_FAULT_OTP_WARNING, MSG_FAULT_GFI, MSG_FAULT_FAN_FAIL, MSG_FAULT_HW_TRIP,
    MSG_FAULT_SENSOR, MSG_FAULT_SERVICE_CRASH, MSG_FAULT_WATCHDOG,
    MSG_FAULT_COMM_LOSS, MSG_FAULT_AUTH_FAIL, MSG_FAULT_DERATING,
    MSG_FAULT_COUNT_
} msg_fault_code;

/* FAULT_ALERT severities; the station alerts the operator at >= 3. */
typedef enum msg_severity {
    MSG_SEV_INFO, MSG_SEV_NOTICE, MSG_SEV_WARNING, MSG_SEV_CRITICAL,
    MSG_SEV_FATAL, MSG_SEV_COUNT_
} msg_severity;

enum { MSG_FAULT_F_LATCHED = 1, MSG_FAULT_F_HARDWARE = 2, MSG_FAULT_F_CLEARED = 4 };

typedef enum msg_station_kind {
    MSG_STATION_RACK_TARGET, MSG_STATION_STATUS_QUERY, MSG_STATION_MAINTENANCE,
    MSG_STATION_COUNT_
} msg_station_kind;

/* ELECTION kinds: the Raft messages of the rack's swarm (raft.h's
 * raft_kind, in its order). */
typedef enum msg_election_kind {
    MSG_ELECT_PREVOTE, MSG_ELECT_PREVOTE_RESP, MSG_ELECT_VOTE, MSG_ELECT_VOTE_RESP,
    MSG_ELECT_APPEND, MSG_ELECT_APPEND_RESP, MSG_ELECT_SNAPSHOT,
    MSG_ELECT_COUNT_
} msg_election_kind;

/* SYNC flags. */
enum {
    MSG_THERMAL_F_PARKED = 1, /* parked by the rack's decision */
    MSG_THERMAL_F_LIMITED = 2 /* running at its limit (current ceiling, power command, derating, drive at its end): its
                                 current is not the droop's, so the leader leaves it out of the means */
};
enum { MSG_SYNC_F_COMMITTED = 1, /* the leader's log entry of its term is committed */
       MSG_SYNC_F_DERATED = 2    /* a module of the rack is derated */ };

#define MSG_ENTRY_MAX 32u   /* bytes of one replicated log entry (raft.h RAFT_ENTRY_MAX) */
#define MSG_ELECT_CHUNK 10u /* entry bytes one ELECTION frame carries */

typedef enum msg_diag_op { MSG_DIAG_REQUEST, MSG_DIAG_RESULT, MSG_DIAG_OP_COUNT_ } msg_diag_op;
typedef enum msg_diag_test {
    MSG_DIAG_ALL, MSG_DIAG_ADC, MSG_DIAG_PWM, MSG_DIAG_FAN, MSG_DIAG_NTC,
    MSG_DIAG_FLASH, MSG_DIAG_CRYPTO, MSG_DIAG_CAN,
    MSG_DIAG_AUDIT, /* value: the audit log's head, its first 4 bytes (little-endian; audit_logger.h alog_head) */
    MSG_DIAG_TEST_COUNT_
} msg_diag_test;
typedef enum msg_diag_result {
    MSG_DIAG_PASS, MSG_DIAG_FAIL, MSG_DIAG_RUNNING, MSG_DIAG_NOT_RUN, MSG_DIAG_RESULT_COUNT_
} msg_diag_result;

/* FW_UPDATE operations (docs/update.md, the transfer). Station -> module
 * unless marked. */
typedef enum msg_fw_op {
    MSG_FW_BEGIN,    /* start transfer xfer: offset = image size, arg = image version, data[0..3] = its security
                        counter, data[4] = flags (MSG_FW_F_RESUME) */
    MSG_FW_CHUNK,    /* len bytes of the image at offset, arg = their CRC-32 (msg_crc32) */
    MSG_FW_END,      /* all sent: offset = image size; the module verifies the staged image */
    MSG_FW_ABORT,    /* drop transfer xfer */
    MSG_FW_STATUS,   /* module -> station: offset = extent, arg = running version, data = msg_fw_status */
    MSG_FW_ACTIVATE, /* reboot into the staged image of transfer xfer as a trial */
    MSG_FW_QUERY,    /* ask for a STATUS (resuming: the extent says where to go on) */
    MSG_FW_REBOOT,   /* reboot now (an unconfirmed trial reverts to the old image) */
    MSG_FW_OP_COUNT_
} msg_fw_op;

/* The receiver's state, in STATUS. */
typedef enum msg_fw_state {
    MSG_FWS_IDLE,      /* no transfer */
    MSG_FWS_RECEIVING, /* a transfer is open: extent bytes staged */
    MSG_FWS_STAGED,    /* END passed: the staged image verified */
    MSG_FWS_REFUSED,   /* the transfer was refused (why) */
    MSG_FWS_TRIAL,     /* running a trial image, not yet confirmed */
    MSG_FWS_CONFIRMED, /* the trial confirmed itself this boot */
    MSG_FWS_NOBOOT,    /* no bootloader: this module cannot be updated */
    MSG_FWS_HANDOFF,   /* ACTIVATE taken: shedding its share (FWU_SHED_MS), then the reset */
    MSG_FWS_COUNT_
} msg_fw_state;

/* Why a receiver refused something (STATUS why, and its counters): the
 * image's reasons (fwimg.h fwimg_why, same numbers), then the transfer's. */
typedef enum msg_fw_why {
    MSG_FWW_NONE = 0,
    /* 1..11: fwimg_why FWIMG_TRUNCATED .. FWIMG_IO */
    MSG_FWW_CRC = 12,     /* a chunk's CRC-32 does not match its bytes */
    MSG_FWW_ORDER = 13,   /* a chunk beyond the extent (a gap: resend from the extent) */
    MSG_FWW_NO_XFER = 14, /* a CHUNK, END or ACTIVATE for no open transfer, or another one */
    MSG_FWW_BUSY = 15,    /* BEGIN while a trial is pending, or a flash error */
    MSG_FWW_COUNT_
} msg_fw_why;

#define MSG_FW_IMAGE_MAX BRD_SLOT_SIZE /* the largest image a slot takes */
#define MSG_FW_BEGIN_LEN 8u            /* BEGIN's data: security u32, flags u8, 3 bytes 0 */
#define MSG_FW_F_RESUME 1u             /* BEGIN: the same image as before a reset: keep what is staged */

typedef enum msg_tick_kind { MSG_TICK_SYNC, MSG_TICK_DONE, MSG_TICK_HELLO, MSG_TICK_BYE, MSG_TICK_COUNT_ } msg_tick_kind;

/* HIL ADC channels, in frame order (12-bit codes): the board's channel
 * map (board.h). */
typedef enum msg_adc_ch {
    MSG_ADC_VOUT = BRD_ADC_VOUT, MSG_ADC_IOUT = BRD_ADC_IOUT, MSG_ADC_VDC = BRD_ADC_VDC,
    MSG_ADC_TJ_A = BRD_ADC_TJ_A, MSG_ADC_TJ_B = BRD_ADC_TJ_B, MSG_ADC_T_XFMR = BRD_ADC_T_XFMR,
    MSG_ADC_T_LR = BRD_ADC_T_LR, MSG_ADC_T_AMB = BRD_ADC_T_AMB, MSG_ADC_FAN_TACH = BRD_ADC_FAN_TACH,
    MSG_ADC_IGF = BRD_ADC_IGF, MSG_ADC_VBUS = BRD_ADC_VBUS, MSG_ADC_SPARE1 = BRD_ADC_SPARE1,
    MSG_ADC_COUNT = BRD_ADC_COUNT
} msg_adc_ch;

/* HIL_PWM flags. Bit 1 is reserved (it was a burst flag that no one read):
 * burst mode is burst_permille < 1000 and nothing else, one place for
 * the fact; a sender leaves the bit 0 and the plant ignores it. */
enum { MSG_PWM_ENABLE = 1, MSG_PWM_RESERVED_1 = 2, MSG_PWM_HALF_BRIDGE = 4 };

#define MSG_FW_CHUNK_MAX 40u /* five double words: boot_stage_write takes whole double words */

typedef struct msg_heartbeat {
    uint8_t state;      /* msg_state */
    uint16_t module;    /* 1..510 */
    uint16_t power_w;   /* output power, W */
    int16_t temp_dc;    /* the hotter leg's case (its NTC), 0.1 C */
    uint16_t vout_dv;   /* output voltage, 0.1 V */
    uint16_t iout_ma;   /* output current, mA */
    uint8_t health;     /* health byte: 0 = healthy, bits = findings */
    uint16_t seq;       /* heartbeat sequence number */
} msg_heartbeat;

typedef struct msg_power_cmd {
    uint8_t op;         /* msg_power_op */
    uint16_t power_w;   /* target power, 0..3300 W */
    uint16_t vset_dv;   /* output voltage set point, 200.0..920.0 V */
    uint16_t ilim_ma;   /* current limit, 0..4000 mA */
    uint16_t ramp_wps;  /* ramp rate W/s, 0 = module default */
} msg_power_cmd;

typedef struct msg_power_ack {
    uint8_t result;     /* msg_ack_result */
    uint16_t module;
    uint16_t actual_w;  /* measured output power */
    uint16_t target_w;  /* target in force after clamping */
    uint32_t counter;   /* freshness counter of the acknowledged command */
} msg_power_ack;

typedef struct msg_station {
    uint8_t kind;           /* msg_station_kind */
    uint16_t modules;       /* modules the station counts online */
    uint32_t rack_power_w;  /* rack power demand, W */
    uint16_t bus_vset_dv;   /* bus voltage set point, 0.1 V */
} msg_station;

typedef struct msg_fault {
    uint8_t code;       /* msg_fault_code */
    uint8_t severity;   /* msg_severity */
    uint8_t flags;      /* MSG_FAULT_F_* */
    int32_t value;      /* measured value in milli-units (mV, mA, m degC) */
    uint32_t time_ms;   /* module time since boot, ms */
    uint16_t module;
} msg_fault;

/* A module's share for the swarm, 10 Hz, to all (signed with the group key). */
typedef struct msg_thermal {
    uint8_t derate_pct; /* power allowed, percent of rating */
    uint16_t module;
    int16_t tj_dc;      /* hottest junction, 0.1 C */
    int16_t tmag_dc;    /* hottest magnetic part, 0.1 C */
    int16_t ths_dc;     /* heatsink, 0.1 C */
    int16_t tamb_dc;    /* inlet air, 0.1 C */
    uint16_t fan_rpm;
    uint16_t iout_ma;   /* output current, mA */
    uint16_t vout_dv;   /* output voltage, 0.1 V */
    uint8_t state;      /* msg_state */
    uint8_t flags;      /* MSG_THERMAL_F_* */
} msg_thermal;

/* The leader's balancing broadcast, 10 Hz (signed with the group key). */
typedef struct msg_sync {
    uint8_t flags;      /* MSG_SYNC_F_* */
    uint16_t modules;   /* modules whose THERMAL share the mean counts */
    uint32_t term;      /* the leader's term */
    uint32_t seq;       /* the leader's SYNC number in this term */
    uint64_t time_us;   /* the leader's time, us */
    uint32_t i_mean_ma; /* the rack's mean output current per module, mA */
    int16_t
        t_mean_dc; /* the rack's mean hottest junction, 0.1 C (bal_t_ref: where the bounded thermal biases sum to 0) */
} msg_sync;

/* One Raft message, or one fragment of it (signed with the group key).
 * Sender and addressee are the CAN identifier's source and destination
 * (broadcast: every node). An entry longer than MSG_ELECT_CHUNK bytes
 * goes in several frames, each with the whole header and the bytes at
 * [frag, frag + MSG_ELECT_CHUNK) of the entry; the receiver joins them
 * (swarm.h swm_reasm_add). */
typedef struct msg_election {
    uint8_t kind;       /* msg_election_kind */
    uint8_t ok;         /* *_RESP: granted / success */
    uint8_t n;          /* entries carried, 0 or 1 */
    uint32_t term;
    uint32_t index, log_term; /* raft.h raft_msg */
    uint32_t commit;
    uint32_t eterm;     /* the entry's term */
    uint8_t elen;       /* the entry's length, 0..MSG_ENTRY_MAX */
    uint8_t frag;       /* offset of this frame's bytes in the entry */
    uint8_t data[MSG_ELECT_CHUNK];
} msg_election;

typedef struct msg_diag {
    uint8_t op;         /* msg_diag_op */
    uint8_t test;       /* msg_diag_test */
    uint8_t result;     /* msg_diag_result */
    uint32_t value;     /* test-specific detail */
} msg_diag;

/* One FW_UPDATE frame: the fields' meaning per op is msg_fw_op's; the
 * rules per op (msg_fw_check) are checked by msg_encode and msg_decode
 * after the field ranges (field "op-rule" names a violation). */
typedef struct msg_fw_update {
    uint8_t op;         /* msg_fw_op */
    uint8_t xfer;       /* transfer id, 1..255 (0: none, STATUS only) */
    uint8_t len;        /* bytes used in data, 0..MSG_FW_CHUNK_MAX; the rest are 0 */
    uint32_t offset;    /* image offset or size, 0..MSG_FW_IMAGE_MAX */
    uint32_t arg;       /* CHUNK: CRC-32 of data[0..len); BEGIN: version; STATUS: running version */
    uint8_t data[MSG_FW_CHUNK_MAX];
} msg_fw_update;

/* STATUS data (len MSG_FW_STATUS_LEN): the receiver's state, its last
 * refusal, the running slot, trial flag and security floor, and per
 * reason (msg_fw_why) how many refusals (saturating at 255). */
#define MSG_FW_STATUS_LEN (8u + MSG_FWW_COUNT_)
typedef struct msg_fw_status {
    uint8_t state;      /* msg_fw_state */
    uint8_t why;        /* msg_fw_why: the last refusal */
    uint8_t slot;       /* running slot, 0 (A) or 1 (B) */
    uint8_t trial;      /* 1: running an unconfirmed trial */
    uint32_t security;  /* the module's security floor */
    uint8_t refusals[MSG_FWW_COUNT_];
} msg_fw_status;

/* CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320, init and final xor
 * 0xFFFFFFFF) of n bytes, continuing from crc (0 to start): "123456789"
 * gives 0xCBF43926. */
uint32_t msg_crc32(uint32_t crc, const void *buf, size_t n);

/* The per-op rules of a FW_UPDATE frame: xfer 1..255 (STATUS: any);
 * BEGIN: 1 <= offset (size), len MSG_FW_BEGIN_LEN, flags MSG_FW_F_*; CHUNK: 1 <= len,
 * offset and len multiples of 8, offset + len <= MSG_FW_IMAGE_MAX, arg the
 * CRC-32 of data; END: 1 <= offset; ABORT, ACTIVATE, QUERY, REBOOT: len 0,
 * offset 0, arg 0; STATUS: len MSG_FW_STATUS_LEN and its fields in range;
 * data past len 0. 0, or EK3_ERANGE with *e naming the field. */
int msg_fw_check(const msg_fw_update *m, struct msg_err *e);

/* STATUS data <-> msg_fw_status (no range check: msg_fw_check does it). */
void msg_fw_status_put(msg_fw_update *m, const msg_fw_status *st);
void msg_fw_status_get(const msg_fw_update *m, msg_fw_status *st);

typedef struct msg_hil_adc {
    uint16_t lines;     /* discrete inputs (bit 0: hardware trip; bits 1-3: its comparator, hal_trip_src) */
    uint32_t period;    /* control period number */
    uint16_t ch[MSG_ADC_COUNT]; /* 12-bit ADC codes, msg_adc_ch order */
} msg_hil_adc;

typedef struct msg_hil_pwm {
    uint8_t flags;          /* MSG_PWM_* */
    uint16_t deadtime_ns;
    uint32_t period;        /* control period this command belongs to */
    uint32_t fsw_hz;        /* switching frequency */
    uint16_t burst_permille;/* burst-mode on-time, 1000 (or 0) = continuous: the only burst fact */
    uint16_t fan_permille;  /* fan PWM duty */
    uint16_t lines;         /* discrete outputs */
} msg_hil_pwm;

typedef struct msg_hil_tick {
    uint8_t kind;       /* msg_tick_kind */
    uint32_t quantum;
    uint64_t time_ns;
} msg_hil_tick;

/* Any payload, for code that handles frames of several types. */
typedef union msg_any {
    msg_heartbeat heartbeat;
    msg_power_cmd power_cmd;
    msg_power_ack power_ack;
    msg_station station;
    msg_fault fault;
    msg_thermal thermal;
    msg_sync sync;
    msg_election election;
    msg_diag diag;
    msg_fw_update fw_update;
    msg_hil_adc hil_adc;
    msg_hil_pwm hil_pwm;
    msg_hil_tick hil_tick;
} msg_any;

/* Kinds of field in a layout. */
typedef enum msg_kind {
    MSG_K_U8, MSG_K_U16, MSG_K_U32, MSG_K_U64, MSG_K_I16, MSG_K_I32,
    MSG_K_BYTES /* raw bytes, no range */
} msg_kind;

#define MSG_NOSTRUCT 0xFFFFu /* a reserved field: not in the struct, must be 0 */

/* One field of a layout. */
typedef struct msg_field {
    const char *name;
    uint8_t kind;       /* msg_kind */
    uint8_t off;        /* byte offset in the payload */
    uint8_t count;      /* array elements (1 for a scalar) */
    uint8_t dec;        /* display: value = raw / 10^dec */
    uint16_t soff;      /* offset in the C struct, or MSG_NOSTRUCT */
    int64_t min, max;   /* allowed raw values, inclusive */
    const char *unit;   /* display unit, "" for none */
    const char *const *names; /* enum names, or NULL */
    uint8_t hex;        /* display in hex (flag words) */
} msg_field;

/* The layout of one message type. */
/* Who authenticates a message: frames the station sends carry the
 * 12-byte trailer of auth.h after the payload. */
typedef enum msg_auth {
    MSG_AUTH_NEVER,   /* never sent by the station */
    MSG_AUTH_STATION, /* signed when the station sends it (DIAG) */
    MSG_AUTH_ALWAYS,  /* only the station sends it: always signed */
    MSG_AUTH_GROUP    /* the swarm's (ELECTION, SYNC, THERMAL): a module signs it with
                         the rack's group key (node 0x1FF), whoever it goes to */
} msg_auth;

struct msg_err;

typedef struct msg_desc {
    uint8_t type;       /* cid_type */
    uint8_t prio;       /* the priority it is sent with (cid_prio) */
    uint8_t auth;       /* msg_auth */
    const char *name;
    uint8_t len;        /* payload bytes, version byte included */
    uint8_t nfields;
    const msg_field *fields;
    uint8_t ssize;      /* sizeof the C struct it decodes into */
    /* Compiled from the same field list, for the frames of every control
     * period (HIL_ADC, HIL_PWM); NULL for the others, which the table
     * codes. Same results as the table, error included (test_msg). */
    int (*enc)(const void *s, uint8_t *w, struct msg_err *e);
    int (*dec)(const uint8_t *w, void *s, struct msg_err *e);
    /* Rules across fields (FW_UPDATE's per op), after the ranges; NULL: none. */
    int (*check)(const void *s, struct msg_err *e);
} msg_desc;

/* Where decoding or encoding failed: the field and its raw value. */
typedef struct msg_err {
    const char *field;  /* NULL for length or version errors */
    int64_t value;
} msg_err;

/* Layout of a message type, or NULL for a type without one. */
const msg_desc *msg_desc_of(unsigned type);

/* Pack struct `s` (the type's msg_* struct) into `buf`. Returns the
 * payload length, or EK3_ENOSPC (cap too small), EK3_ETYPE (no layout),
 * EK3_ERANGE (a field out of range; *e names it when e != NULL). */
int msg_encode(unsigned type, const void *s, uint8_t *buf, size_t cap, msg_err *e);

/* Unpack `len` payload bytes into struct `s`. Returns 0 or EK3_ETYPE,
 * EK3_ESHORT, EK3_ELONG, EK3_EVERSION, EK3_ERANGE (with *e). `s` is fully
 * written only on success. */
int msg_decode(unsigned type, const uint8_t *buf, size_t len, void *s, msg_err *e);

/* msg_encode and msg_decode through the field table only: the reference
 * the compiled codecs (msg_desc.enc, .dec) are tested against. */
int msg_encode_table(unsigned type, const void *s, uint8_t *buf, size_t cap, msg_err *e);
int msg_decode_table(unsigned type, const uint8_t *buf, size_t len, void *s, msg_err *e);

/* Whether msg_encode(CID_TYPE_HIL_PWM, s, ...) would accept *s (with room
 * enough): 0, or its EK3_ERANGE, without building the payload (the rig's
 * frameless path checks each quantum's command so). */
int msg_hil_pwm_check(const msg_hil_pwm *s);

/* Print the fields of a decoded struct as "name=value unit ..." into
 * out (NUL-terminated, truncated to cap). Returns chars that would have
 * been written, like snprintf. (msg_text.c; host builds only.) */
int msg_format(const msg_desc *d, const void *s, char *out, size_t cap);

/* Print a layout table in Markdown (msg_text.c; host builds only). */
int msg_format_layout(const msg_desc *d, char *out, size_t cap);

/* Bytes of one element of a field kind. */
unsigned msg_kind_size(unsigned kind);

/* Element j of field f (f->soff != MSG_NOSTRUCT) in struct s, the
 * message's msg_* struct: read it sign-extended, or write it. */
int64_t msg_field_get(const msg_field *f, const void *s, unsigned j);
void msg_field_set(const msg_field *f, void *s, unsigned j, int64_t v);

/* Name of an enum value of a field, or NULL. */
const char *msg_enum_name(const msg_field *f, int64_t v);

/* What FAULT_ALERT's value (msg_fault.value / 1000) is for a code, as
 * the modules send it (docs/can-protocol.md; safety.c, thermal_mgr.c,
 * can_handler.c, health_monitor.c): a measurement in `unit` (OCP and
 * GFI: "A"; OVP, UVP: "V"; OTP, OTP_WARNING: "C"; FAN_FAIL: "rpm";
 * COMM_LOSS: "s" of silence; DERATING: "of full power"), or, with unit
 * "", a count or an id named by `what` (SERVICE_CRASH: "service";
 * WATCHDOG: "resets"; AUTH_FAIL: "forged frames"; SENSOR: "flags", the
 * HLTH_SENSOR_* bits, with bits set: read in hexadecimal, bit k named
 * bit_name[k]; HW_TRIP: "comparator", with code set: the value is the
 * msg_fault_code of the Level-0 comparator that tripped first, OVP, OCP,
 * OTP or GFI, NONE when the board did not tell). NULL for a code whose
 * value says nothing (NONE) or no code. */
typedef struct msg_fault_value {
    const char *unit, *what;
    uint8_t bits;             /* a set of flags, not a number */
    uint8_t code;             /* a msg_fault_code, read by its name */
    const char *bit_name[4];  /* with bits: bit k's name (health_monitor.h's order), NULL past the last */
} msg_fault_value;
const msg_fault_value *msg_fault_value_of(unsigned code);

#endif /* MSG_H */
