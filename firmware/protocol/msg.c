/* msg.c - the field tables of every EK3 message and the one codec. */
#include "msg.h"

#include <stddef.h>
#include <string.h>

#include "can_frame.h"
#include "can_id.h"
#include "ek3_err.h"

/* Size of a field kind, as a constant expression. */
#define MSG_KSIZE(k)                                                      \
    ((k) == MSG_K_U8 || (k) == MSG_K_BYTES ? 1u                           \
     : (k) == MSG_K_U16 || (k) == MSG_K_I16 ? 2u                          \
     : (k) == MSG_K_U32 || (k) == MSG_K_I32 ? 4u                          \
                                            : 8u)

/* Compile-time check that struct member T.m has the size of n fields of
 * kind k; a mismatch is a negative array size. Evaluates to 0. */
#define MSG_SAME_SIZE(T, m, k, n)                                         \
    (0u * sizeof(char[(sizeof(((T *)0)->m) == MSG_KSIZE(k) * (n)) ? 1 : -1]))

#define MSG_SOFF(T, m, k, n) ((uint16_t)(offsetof(T, m) + MSG_SAME_SIZE(T, m, k, n)))

/* A scalar field with a range, a display scale and unit. */
#define MSG_F(T, m, k, off, lo, hi, dec, unit)                            \
    {#m, k, off, 1, dec, MSG_SOFF(T, m, k, 1), lo, hi, unit, NULL, 0}
/* An enum field: values 0..count-1 named by `names`. */
#define MSG_E(T, m, off, names, count)                                    \
    {#m, MSG_K_U8, off, 1, 0, MSG_SOFF(T, m, MSG_K_U8, 1), 0, (count) - 1, "", names, 0}
/* A flag word printed in hex. */
#define MSG_X(T, m, k, off, hi)                                           \
    {#m, k, off, 1, 0, MSG_SOFF(T, m, k, 1), 0, hi, "", NULL, 1}
/* An array of n fields. */
#define MSG_A(T, m, k, off, n, lo, hi)                                    \
    {#m, k, off, n, 0, MSG_SOFF(T, m, k, n), lo, hi, "", NULL, 0}
/* A reserved field: not in the struct, written 0, checked 0. */
#define MSG_R(k, off) {"reserved", k, off, 1, 0, MSG_NOSTRUCT, 0, 0, "", NULL, 0}

#define MSG_NODE_MAX CID_NODE_MODULE_MAX

static const char *const msg_state_names[MSG_STATE_COUNT_] = {
    "BOOT", "STANDBY", "SOFTSTART", "ACTIVE", "DERATED", "FAULT", "SAFE_SHUTDOWN"};
static const char *const msg_power_op_names[MSG_POWER_OP_COUNT_] = {
    "STOP", "START", "SET", "ESTOP"};
static const char *const msg_ack_names[MSG_ACK_COUNT_] = {
    "ACCEPTED", "CLAMPED", "REFUSED"};
static const char *const msg_fault_names[MSG_FAULT_COUNT_] = {
    "NONE", "OCP", "OVP", "UVP", "OTP", "OTP_WARNING", "GFI", "FAN_FAIL",
    "HW_TRIP", "SENSOR", "SERVICE_CRASH", "WATCHDOG", "COMM_LOSS",
    "AUTH_FAIL", "DERATING"};
static const char *const msg_sev_names[MSG_SEV_COUNT_] = {
    "INFO", "NOTICE", "WARNING", "CRITICAL", "FATAL"};
static const char *const msg_station_names[MSG_STATION_COUNT_] = {
    "RACK_TARGET", "STATUS_QUERY", "MAINTENANCE"};
static const char *const msg_elect_names[MSG_ELECT_COUNT_] = {
    "PREVOTE", "PREVOTE_RESP", "VOTE", "VOTE_RESP", "APPEND", "APPEND_RESP", "SNAPSHOT"};
static const char *const msg_diag_op_names[MSG_DIAG_OP_COUNT_] = {
    "REQUEST", "RESULT"};
static const char *const msg_diag_test_names[MSG_DIAG_TEST_COUNT_] = {
    "ALL", "ADC", "PWM", "FAN", "NTC", "FLASH", "CRYPTO", "CAN", "AUDIT"};
static const char *const msg_diag_result_names[MSG_DIAG_RESULT_COUNT_] = {
    "PASS", "FAIL", "RUNNING", "NOT_RUN"};
static const char *const msg_fw_names[MSG_FW_OP_COUNT_] = {
    "BEGIN", "CHUNK", "END", "ABORT", "STATUS", "ACTIVATE", "QUERY", "REBOOT"};
static const char *const msg_tick_names[MSG_TICK_COUNT_] = {
    "SYNC", "DONE", "HELLO", "BYE"};

static const msg_field msg_heartbeat_f[] = {
    MSG_E(msg_heartbeat, state, 1, msg_state_names, MSG_STATE_COUNT_),
    MSG_F(msg_heartbeat, module, MSG_K_U16, 2, 1, MSG_NODE_MAX, 0, ""),
    MSG_F(msg_heartbeat, power_w, MSG_K_U16, 4, 0, 5000, 0, "W"),
    MSG_F(msg_heartbeat, temp_dc, MSG_K_I16, 6, -550, 2500, 1, "C"),
    MSG_F(msg_heartbeat, vout_dv, MSG_K_U16, 8, 0, 12000, 1, "V"),
    MSG_F(msg_heartbeat, iout_ma, MSG_K_U16, 10, 0, 10000, 3, "A"),
    MSG_X(msg_heartbeat, health, MSG_K_U8, 12, 0xFF),
    MSG_R(MSG_K_U8, 13),
    MSG_F(msg_heartbeat, seq, MSG_K_U16, 14, 0, 0xFFFF, 0, ""),
};

static const msg_field msg_power_cmd_f[] = {
    MSG_E(msg_power_cmd, op, 1, msg_power_op_names, MSG_POWER_OP_COUNT_),
    MSG_F(msg_power_cmd, power_w, MSG_K_U16, 2, 0, 3300, 0, "W"),
    MSG_F(msg_power_cmd, vset_dv, MSG_K_U16, 4, 2000, 9200, 1, "V"),
    MSG_F(msg_power_cmd, ilim_ma, MSG_K_U16, 6, 0, 4000, 3, "A"),
    MSG_F(msg_power_cmd, ramp_wps, MSG_K_U16, 8, 0, 20000, 0, "W/s"),
    MSG_R(MSG_K_U16, 10),
};

static const msg_field msg_power_ack_f[] = {
    MSG_E(msg_power_ack, result, 1, msg_ack_names, MSG_ACK_COUNT_),
    MSG_F(msg_power_ack, module, MSG_K_U16, 2, 1, MSG_NODE_MAX, 0, ""),
    MSG_F(msg_power_ack, actual_w, MSG_K_U16, 4, 0, 5000, 0, "W"),
    MSG_F(msg_power_ack, target_w, MSG_K_U16, 6, 0, 3300, 0, "W"),
    MSG_F(msg_power_ack, counter, MSG_K_U32, 8, 0, 0xFFFFFFFF, 0, ""),
};

static const msg_field msg_station_f[] = {
    MSG_E(msg_station, kind, 1, msg_station_names, MSG_STATION_COUNT_),
    MSG_F(msg_station, modules, MSG_K_U16, 2, 0, MSG_NODE_MAX, 0, ""),
    MSG_F(msg_station, rack_power_w, MSG_K_U32, 4, 0, 2000000, 0, "W"),
    MSG_F(msg_station, bus_vset_dv, MSG_K_U16, 8, 2000, 9200, 1, "V"),
    MSG_R(MSG_K_U16, 10),
};

static const msg_field msg_fault_f[] = {
    {"code", MSG_K_U8, 1, 1, 0, MSG_SOFF(msg_fault, code, MSG_K_U8, 1), 1,
     MSG_FAULT_COUNT_ - 1, "", msg_fault_names, 0},
    MSG_E(msg_fault, severity, 2, msg_sev_names, MSG_SEV_COUNT_),
    MSG_X(msg_fault, flags, MSG_K_U8, 3, 7),
    MSG_F(msg_fault, value, MSG_K_I32, 4, INT32_MIN, INT32_MAX, 3, ""),
    MSG_F(msg_fault, time_ms, MSG_K_U32, 8, 0, 0xFFFFFFFF, 0, "ms"),
    MSG_F(msg_fault, module, MSG_K_U16, 12, 1, MSG_NODE_MAX, 0, ""),
    MSG_R(MSG_K_U16, 14),
};

static const msg_field msg_thermal_f[] = {
    MSG_F(msg_thermal, derate_pct, MSG_K_U8, 1, 0, 100, 0, "%"),
    MSG_F(msg_thermal, module, MSG_K_U16, 2, 1, MSG_NODE_MAX, 0, ""),
    MSG_F(msg_thermal, tj_dc, MSG_K_I16, 4, -550, 2500, 1, "C"),
    MSG_F(msg_thermal, tmag_dc, MSG_K_I16, 6, -550, 2500, 1, "C"),
    MSG_F(msg_thermal, ths_dc, MSG_K_I16, 8, -550, 2500, 1, "C"),
    MSG_F(msg_thermal, tamb_dc, MSG_K_I16, 10, -550, 1000, 1, "C"),
    MSG_F(msg_thermal, fan_rpm, MSG_K_U16, 12, 0, 30000, 0, "rpm"),
    MSG_F(msg_thermal, iout_ma, MSG_K_U16, 14, 0, 10000, 3, "A"),
    MSG_F(msg_thermal, vout_dv, MSG_K_U16, 16, 0, 12000, 1, "V"),
    MSG_E(msg_thermal, state, 18, msg_state_names, MSG_STATE_COUNT_),
    MSG_X(msg_thermal, flags, MSG_K_U8, 19, 3),
};

static const msg_field msg_sync_f[] = {
    MSG_X(msg_sync, flags, MSG_K_U8, 1, 3),
    MSG_F(msg_sync, modules, MSG_K_U16, 2, 0, MSG_NODE_MAX, 0, ""),
    MSG_F(msg_sync, term, MSG_K_U32, 4, 1, 0xFFFFFFFF, 0, ""),
    MSG_F(msg_sync, seq, MSG_K_U32, 8, 0, 0xFFFFFFFF, 0, ""),
    MSG_R(MSG_K_U32, 12),
    MSG_F(msg_sync, time_us, MSG_K_U64, 16, 0, INT64_MAX, 0, "us"),
    MSG_F(msg_sync, i_mean_ma, MSG_K_U32, 24, 0, 100000, 3, "A"),
    MSG_F(msg_sync, t_mean_dc, MSG_K_I16, 28, -550, 2500, 1, "C"),
    MSG_R(MSG_K_U16, 30),
    MSG_R(MSG_K_U32, 32),
};

static const msg_field msg_election_f[] = {
    MSG_E(msg_election, kind, 1, msg_elect_names, MSG_ELECT_COUNT_),
    MSG_F(msg_election, ok, MSG_K_U8, 2, 0, 1, 0, ""),
    MSG_F(msg_election, n, MSG_K_U8, 3, 0, 1, 0, ""),
    MSG_F(msg_election, term, MSG_K_U32, 4, 0, 0xFFFFFFFF, 0, ""),
    MSG_F(msg_election, index, MSG_K_U32, 8, 0, 0xFFFFFFFF, 0, ""),
    MSG_F(msg_election, log_term, MSG_K_U32, 12, 0, 0xFFFFFFFF, 0, ""),
    MSG_F(msg_election, commit, MSG_K_U32, 16, 0, 0xFFFFFFFF, 0, ""),
    MSG_F(msg_election, eterm, MSG_K_U32, 20, 0, 0xFFFFFFFF, 0, ""),
    MSG_F(msg_election, elen, MSG_K_U8, 24, 0, MSG_ENTRY_MAX, 0, ""),
    MSG_F(msg_election, frag, MSG_K_U8, 25, 0, MSG_ENTRY_MAX - 1, 0, ""),
    MSG_A(msg_election, data, MSG_K_BYTES, 26, MSG_ELECT_CHUNK, 0, 0xFF),
};

static const msg_field msg_diag_f[] = {
    MSG_E(msg_diag, op, 1, msg_diag_op_names, MSG_DIAG_OP_COUNT_),
    MSG_E(msg_diag, test, 2, msg_diag_test_names, MSG_DIAG_TEST_COUNT_),
    MSG_E(msg_diag, result, 3, msg_diag_result_names, MSG_DIAG_RESULT_COUNT_),
    MSG_F(msg_diag, value, MSG_K_U32, 4, 0, 0xFFFFFFFF, 0, ""),
};

static const msg_field msg_fw_update_f[] = {
    MSG_E(msg_fw_update, op, 1, msg_fw_names, MSG_FW_OP_COUNT_),
    MSG_F(msg_fw_update, xfer, MSG_K_U8, 2, 0, 255, 0, ""),
    MSG_F(msg_fw_update, len, MSG_K_U8, 3, 0, MSG_FW_CHUNK_MAX, 0, ""),
    MSG_F(msg_fw_update, offset, MSG_K_U32, 4, 0, MSG_FW_IMAGE_MAX, 0, ""),
    MSG_X(msg_fw_update, arg, MSG_K_U32, 8, 0xFFFFFFFF),
    MSG_A(msg_fw_update, data, MSG_K_BYTES, 12, MSG_FW_CHUNK_MAX, 0, 0xFF),
};

/* The two frames of every control period: each field list is written
 * once, as a macro over the entry kinds, and gives both the table (for
 * printing, the reference codec) and a compiled codec (below). */
#define MSG_HIL_ADC_FIELDS(F, X, A, R)                                     \
    R(MSG_K_U8, 1)                                                         \
    X(msg_hil_adc, lines, MSG_K_U16, 2, 0xFFFF)                            \
    F(msg_hil_adc, period, MSG_K_U32, 4, 0, 0xFFFFFFFF, 0, "")             \
    A(msg_hil_adc, ch, MSG_K_U16, 8, MSG_ADC_COUNT, 0, 4095)

#define MSG_HIL_PWM_FIELDS(F, X, A, R)                                     \
    X(msg_hil_pwm, flags, MSG_K_U8, 1, 0x7)                                \
    F(msg_hil_pwm, deadtime_ns, MSG_K_U16, 2, 0, 5000, 0, "ns")            \
    F(msg_hil_pwm, period, MSG_K_U32, 4, 0, 0xFFFFFFFF, 0, "")             \
    F(msg_hil_pwm, fsw_hz, MSG_K_U32, 8, 0, 1000000, 0, "Hz")              \
    F(msg_hil_pwm, burst_permille, MSG_K_U16, 12, 0, 1000, 1, "%")         \
    F(msg_hil_pwm, fan_permille, MSG_K_U16, 14, 0, 1000, 1, "%")           \
    X(msg_hil_pwm, lines, MSG_K_U16, 16, 0xFFFF)                           \
    R(MSG_K_U16, 18)

/* Table entries, each with its comma. */
#define MSG_F_(...) MSG_F(__VA_ARGS__),
#define MSG_X_(...) MSG_X(__VA_ARGS__),
#define MSG_A_(...) MSG_A(__VA_ARGS__),
#define MSG_R_(...) MSG_R(__VA_ARGS__),

static const msg_field msg_hil_adc_f[] = {MSG_HIL_ADC_FIELDS(MSG_F_, MSG_X_, MSG_A_, MSG_R_)};
static const msg_field msg_hil_pwm_f[] = {MSG_HIL_PWM_FIELDS(MSG_F_, MSG_X_, MSG_A_, MSG_R_)};

static const msg_field msg_hil_tick_f[] = {
    MSG_E(msg_hil_tick, kind, 1, msg_tick_names, MSG_TICK_COUNT_),
    MSG_R(MSG_K_U16, 2),
    MSG_F(msg_hil_tick, quantum, MSG_K_U32, 4, 0, 0xFFFFFFFF, 0, ""),
    MSG_F(msg_hil_tick, time_ns, MSG_K_U64, 8, 0, INT64_MAX, 0, "ns"),
};

/* The compiled codecs (defined at the end, after the helpers), where
 * speed is asked for: the rig, which codes two HIL frames per module per
 * control period. A size-optimised build (the STM32G474 image, which
 * reads its ADC from the hardware) codes every message by the table. */
#if defined(__OPTIMIZE_SIZE__)
#define MSG_CODEC(name) NULL, NULL
#else
#define MSG_CODEC(name) name##_enc, name##_dec
static int msg_hil_adc_enc(const void *sv, uint8_t *w, msg_err *e);
static int msg_hil_adc_dec(const uint8_t *w, void *sv, msg_err *e);
static int msg_hil_pwm_enc(const void *sv, uint8_t *w, msg_err *e);
static int msg_hil_pwm_dec(const uint8_t *w, void *sv, msg_err *e);
#endif

/* A message: its fields and the struct they decode into (at most 255
 * bytes, checked at compile time). */
#define MSG_D(t, p, a, n, l, f, T)                                                                 \
    {t, p, a, n, l, (uint8_t)(sizeof(f) / sizeof((f)[0])), f,                                      \
     (uint8_t)(sizeof(T) + 0u * sizeof(char[sizeof(T) <= 255 ? 1 : -1])), NULL, NULL, NULL}
/* The same, with its compiled codec. */
#define MSG_DC(t, p, a, n, l, f, T, ...)                                                           \
    {t, p, a, n, l, (uint8_t)(sizeof(f) / sizeof((f)[0])), f,                                      \
     (uint8_t)(sizeof(T) + 0u * sizeof(char[sizeof(T) <= 255 ? 1 : -1])), __VA_ARGS__, NULL}
/* The same, with a rule across fields (check). */
#define MSG_DK(t, p, a, n, l, f, T, chk)                                                           \
    {t, p, a, n, l, (uint8_t)(sizeof(f) / sizeof((f)[0])), f,                                      \
     (uint8_t)(sizeof(T) + 0u * sizeof(char[sizeof(T) <= 255 ? 1 : -1])), NULL, NULL, chk}
static int msg_fw_check_any(const void *s, msg_err *e);

static const msg_desc msg_descs[16] = {
    [CID_TYPE_SYNC] = MSG_D(CID_TYPE_SYNC, CID_PRIO_HIGH, MSG_AUTH_GROUP, "SYNC", 36, msg_sync_f, msg_sync),
    [CID_TYPE_ELECTION] = MSG_D(CID_TYPE_ELECTION, CID_PRIO_MEDIUM, MSG_AUTH_GROUP, "ELECTION", 36, msg_election_f, msg_election),
    [CID_TYPE_HEARTBEAT] = MSG_D(CID_TYPE_HEARTBEAT, CID_PRIO_MEDIUM, MSG_AUTH_NEVER, "HEARTBEAT", 16, msg_heartbeat_f, msg_heartbeat),
    [CID_TYPE_POWER_CMD] = MSG_D(CID_TYPE_POWER_CMD, CID_PRIO_HIGH, MSG_AUTH_ALWAYS, "POWER_CMD", 12, msg_power_cmd_f, msg_power_cmd),
    [CID_TYPE_THERMAL] = MSG_D(CID_TYPE_THERMAL, CID_PRIO_MEDIUM, MSG_AUTH_GROUP, "THERMAL", 20, msg_thermal_f, msg_thermal),
    [CID_TYPE_POWER_ACK] = MSG_D(CID_TYPE_POWER_ACK, CID_PRIO_HIGH, MSG_AUTH_NEVER, "POWER_ACK", 12, msg_power_ack_f, msg_power_ack),
    [CID_TYPE_STATION] = MSG_D(CID_TYPE_STATION, CID_PRIO_MEDIUM, MSG_AUTH_ALWAYS, "STATION", 12, msg_station_f, msg_station),
    [CID_TYPE_FAULT] = MSG_D(CID_TYPE_FAULT, CID_PRIO_CRITICAL, MSG_AUTH_NEVER, "FAULT_ALERT", 16, msg_fault_f, msg_fault),
    [CID_TYPE_DIAG] = MSG_D(CID_TYPE_DIAG, CID_PRIO_LOW, MSG_AUTH_STATION, "DIAG", 8, msg_diag_f, msg_diag),
    [CID_TYPE_HIL_ADC] = MSG_DC(CID_TYPE_HIL_ADC, CID_PRIO_HIGH, MSG_AUTH_NEVER, "HIL_ADC", 32, msg_hil_adc_f, msg_hil_adc,
                                MSG_CODEC(msg_hil_adc)),
    [CID_TYPE_HIL_PWM] = MSG_DC(CID_TYPE_HIL_PWM, CID_PRIO_HIGH, MSG_AUTH_NEVER, "HIL_PWM", 20, msg_hil_pwm_f, msg_hil_pwm,
                                MSG_CODEC(msg_hil_pwm)),
    [CID_TYPE_HIL_TICK] = MSG_D(CID_TYPE_HIL_TICK, CID_PRIO_HIGH, MSG_AUTH_NEVER, "HIL_TICK", 16, msg_hil_tick_f, msg_hil_tick),
    [CID_TYPE_FW_UPDATE] = MSG_DK(CID_TYPE_FW_UPDATE, CID_PRIO_BACKGROUND, MSG_AUTH_STATION, "FW_UPDATE", 52, msg_fw_update_f, msg_fw_update,
                                  msg_fw_check_any),
};

const msg_desc *msg_desc_of(unsigned type)
{
    if (type >= 16 || !msg_descs[type].name)
        return NULL;
    return &msg_descs[type];
}

const char *msg_enum_name(const msg_field *f, int64_t v)
{
    if (!f->names || v < f->min || v > f->max || v < 0)
        return NULL;
    return f->names[v];
}

/* Forced inline where speed is asked for (the rig); left to the
 * compiler where size is (-Os: the STM32G474 image). */
#if defined(__GNUC__) && !defined(__OPTIMIZE_SIZE__)
#define MSG_INLINE static inline __attribute__((always_inline))
#else
#define MSG_INLINE static inline
#endif

/* Little-endian wire values of 1, 2, 4 or 8 bytes (constant widths per
 * case, so each is one load on a little-endian machine). */
static uint64_t msg_get_le(const uint8_t *p, unsigned n)
{
    switch (n) {
    case 1: return p[0];
    case 2: return (uint64_t)p[0] | (uint64_t)p[1] << 8;
    case 4: return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
    default:
        return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
               (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
    }
}

static void msg_put_le(uint8_t *p, uint64_t v, unsigned n)
{
    switch (n) {
    case 8:
        p[7] = (uint8_t)(v >> 56); p[6] = (uint8_t)(v >> 48); p[5] = (uint8_t)(v >> 40); p[4] = (uint8_t)(v >> 32);
        /* fall through */
    case 4:
        p[3] = (uint8_t)(v >> 24); p[2] = (uint8_t)(v >> 16);
        /* fall through */
    case 2:
        p[1] = (uint8_t)(v >> 8);
        /* fall through */
    default:
        p[0] = (uint8_t)v;
    }
}

/* Raw wire value (sign-extended) <-> struct member, by kind. */
static int64_t msg_wire_to_raw(uint8_t kind, uint64_t w)
{
    switch (kind) {
    case MSG_K_I16: return (int16_t)(uint16_t)w;
    case MSG_K_I32: return (int32_t)(uint32_t)w;
    default: return (int64_t)w;
    }
}

unsigned msg_kind_size(unsigned kind)
{
    return MSG_KSIZE(kind);
}

/* A struct member of a kind <-> its raw value (always inlined, so a
 * constant kind folds the switch). */
MSG_INLINE int64_t msg_st_get(const uint8_t *src, unsigned kind)
{
    uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64; int16_t i16; int32_t i32;
    switch (kind) {
    case MSG_K_U16: memcpy(&u16, src, 2); return u16;
    case MSG_K_U32: memcpy(&u32, src, 4); return u32;
    case MSG_K_U64: memcpy(&u64, src, 8); return (int64_t)u64;
    case MSG_K_I16: memcpy(&i16, src, 2); return i16;
    case MSG_K_I32: memcpy(&i32, src, 4); return i32;
    default: memcpy(&u8, src, 1); return u8;
    }
}

MSG_INLINE void msg_st_put(uint8_t *dst, unsigned kind, int64_t v)
{
    uint8_t u8 = (uint8_t)v; uint16_t u16 = (uint16_t)v; uint32_t u32 = (uint32_t)v; uint64_t u64 = (uint64_t)v;
    switch (MSG_KSIZE(kind)) {
    case 2: memcpy(dst, &u16, 2); break;
    case 4: memcpy(dst, &u32, 4); break;
    case 8: memcpy(dst, &u64, 8); break;
    default: memcpy(dst, &u8, 1); break;
    }
}

int64_t msg_field_get(const msg_field *f, const void *s, unsigned j)
{
    return msg_st_get((const uint8_t *)s + f->soff + j * MSG_KSIZE(f->kind), f->kind);
}

void msg_field_set(const msg_field *f, void *s, unsigned j, int64_t v)
{
    msg_st_put((uint8_t *)s + f->soff + j * MSG_KSIZE(f->kind), f->kind, v);
}

static void msg_set_err(msg_err *e, const char *field, int64_t v)
{
    if (e) {
        e->field = field;
        e->value = v;
    }
}

/* One field's elements between the wire and the struct, for a kind and
 * its size known at compile time (each call site below passes
 * constants, so the element loop is a load, a compare and a store).
 * dec: wire -> struct (st may be NULL for a reserved field); else
 * struct -> wire. The index of the first element out of range, or -1. */
MSG_INLINE int msg_xfer(const msg_field *f, uint8_t *w, uint8_t *st, unsigned kind, unsigned sz, int dec,
                        int64_t *bad)
{
    /* Locals: byte stores may alias *f, which would reload it each time. */
    const int check = kind != MSG_K_BYTES;
    const unsigned n = f->count;
    const int64_t lo = f->min, hi = f->max;
    for (unsigned j = 0; j < n; j++) {
        /* A reserved field (no struct member) is written 0, checked 0. */
        int64_t v = dec ? msg_wire_to_raw((uint8_t)kind, msg_get_le(w + j * sz, sz)) : st ? msg_st_get(st + j * sz, kind) : 0;
        /* U64 fields hold values up to INT64_MAX; a wire value above
         * that reads as negative and fails the range check, as it should. */
        if (check && (v < lo || v > hi)) {
            *bad = v;
            return (int)j;
        }
        if (!dec)
            msg_put_le(w + j * sz, (uint64_t)v, sz);
        else if (st)
            msg_st_put(st + j * sz, kind, v);
    }
    return -1;
}

/* One field: the kind's constant size picked here; reserved fields (st
 * NULL) apart, so that the common loop has no test for them. */
MSG_INLINE int msg_xfer_field(const msg_field *f, uint8_t *w, uint8_t *st, int dec, int64_t *bad)
{
    if (!st) {
        switch (f->kind) {
        case MSG_K_U16: return msg_xfer(f, w, NULL, MSG_K_U16, 2, dec, bad);
        case MSG_K_U32: return msg_xfer(f, w, NULL, MSG_K_U32, 4, dec, bad);
        default: return msg_xfer(f, w, NULL, f->kind, MSG_KSIZE(f->kind), dec, bad);
        }
    }
    switch (f->kind) {
    case MSG_K_U16: return msg_xfer(f, w, st, MSG_K_U16, 2, dec, bad);
    case MSG_K_I16: return msg_xfer(f, w, st, MSG_K_I16, 2, dec, bad);
    case MSG_K_U32: return msg_xfer(f, w, st, MSG_K_U32, 4, dec, bad);
    case MSG_K_I32: return msg_xfer(f, w, st, MSG_K_I32, 4, dec, bad);
    case MSG_K_U64: return msg_xfer(f, w, st, MSG_K_U64, 8, dec, bad);
    case MSG_K_BYTES: return msg_xfer(f, w, st, MSG_K_BYTES, 1, dec, bad);
    default: return msg_xfer(f, w, st, MSG_K_U8, 1, dec, bad);
    }
}

/* Every field of d between wire w and struct st, in order; the first
 * field out of range stops it. dec is a constant at each call. */
MSG_INLINE int msg_xfer_all(const msg_desc *d, uint8_t *w, uint8_t *st, int dec, msg_err *e)
{
    const unsigned nf = d->nfields;
    const msg_field *fields = d->fields;
    for (unsigned i = 0; i < nf; i++) {
        const msg_field *f = &fields[i];
        int64_t bad = 0;
        if (msg_xfer_field(f, w + f->off, f->soff == MSG_NOSTRUCT ? NULL : st + f->soff, dec, &bad) >= 0) {
            msg_set_err(e, f->name, bad);
            return EK3_ERANGE;
        }
    }
    return EK3_OK;
}

static int msg_encode_(unsigned type, const void *s, uint8_t *buf, size_t cap, msg_err *e, int table)
{
    const msg_desc *d = msg_desc_of(type);
    msg_set_err(e, NULL, 0);
    if (!d)
        return EK3_ETYPE;
    if (!s || !buf)
        return EK3_EINVAL;
    if (cap < d->len)
        return EK3_ENOSPC;
    /* Fields and reserved words cover every byte after the version
     * (test_msg checks every layout), so nothing is left unwritten. */
    uint8_t tmp[CFD_MAX_LEN];
    tmp[0] = MSG_VERSION;
    int rc = d->enc && !table ? d->enc(s, tmp, e) : msg_xfer_all(d, tmp, (uint8_t *)(uintptr_t)s, 0, e);
    if (rc == EK3_OK && d->check)
        rc = d->check(s, e);
    if (rc < 0)
        return rc;
    memcpy(buf, tmp, d->len);
    return d->len;
}

int msg_encode(unsigned type, const void *s, uint8_t *buf, size_t cap, msg_err *e)
{
    return msg_encode_(type, s, buf, cap, e, 0);
}

int msg_encode_table(unsigned type, const void *s, uint8_t *buf, size_t cap, msg_err *e)
{
    return msg_encode_(type, s, buf, cap, e, 1);
}

static int msg_decode_(unsigned type, const uint8_t *buf, size_t len, void *s, msg_err *e, int table)
{
    const msg_desc *d = msg_desc_of(type);
    msg_set_err(e, NULL, 0);
    if (!d)
        return EK3_ETYPE;
    if (!s || (!buf && len))
        return EK3_EINVAL;
    if (len < d->len)
        return EK3_ESHORT;
    if (len > d->len)
        return EK3_ELONG;
    if (buf[0] != MSG_VERSION) {
        msg_set_err(e, "version", buf[0]);
        return EK3_EVERSION;
    }
    if (d->dec && !table)
        return d->dec(buf, s, e);
    /* Into a copy of the struct, so that nothing is written unless every
     * field is in range; padding keeps what the caller had. */
    union {
        uint8_t b[256];
        uint64_t align;
    } tmp;
    memcpy(tmp.b, s, d->ssize);
    int rc = msg_xfer_all(d, (uint8_t *)(uintptr_t)buf, tmp.b, 1, e);
    if (rc == EK3_OK && d->check)
        rc = d->check(tmp.b, e);
    if (rc < 0)
        return rc;
    memcpy(s, tmp.b, d->ssize);
    return EK3_OK;
}

int msg_decode(unsigned type, const uint8_t *buf, size_t len, void *s, msg_err *e)
{
    return msg_decode_(type, buf, len, s, e, 0);
}

int msg_decode_table(unsigned type, const uint8_t *buf, size_t len, void *s, msg_err *e)
{
    return msg_decode_(type, buf, len, s, e, 1);
}

/* ---- the compiled codecs ---------------------------------------------------
 * The field lists above expanded into straight-line code: one range check
 * and one store per field, in table order, the first failure reported as
 * the table reports it. Decoding goes into a copy of the struct, written
 * back only when every field is in range. */

#define MSG_PUT1(k, off, lo, hi, expr, name)                                  \
    do {                                                                      \
        int64_t v_ = (int64_t)(expr);                                         \
        if (v_ < (int64_t)(lo) || v_ > (int64_t)(hi)) {                       \
            msg_set_err(e, name, v_);                                         \
            return EK3_ERANGE;                                                \
        }                                                                     \
        msg_put_le(w + (off), (uint64_t)v_, MSG_KSIZE(k));                    \
    } while (0);
#define MSG_ENC_F(T, m, k, off, lo, hi, dec, unit) MSG_PUT1(k, off, lo, hi, s->m, #m)
#define MSG_ENC_X(T, m, k, off, hi) MSG_PUT1(k, off, 0, hi, s->m, #m)
#define MSG_ENC_A(T, m, k, off, n, lo, hi)                                    \
    for (unsigned j_ = 0; j_ < (n); j_++)                                     \
        MSG_PUT1(k, (off) + j_ * MSG_KSIZE(k), lo, hi, s->m[j_], #m)
#define MSG_ENC_R(k, off) msg_put_le(w + (off), 0, MSG_KSIZE(k));

#define MSG_GET1(k, off, lo, hi, lval, name)                                  \
    do {                                                                      \
        int64_t v_ = msg_wire_to_raw(k, msg_get_le(w + (off), MSG_KSIZE(k))); \
        if (v_ < (int64_t)(lo) || v_ > (int64_t)(hi)) {                       \
            msg_set_err(e, name, v_);                                         \
            return EK3_ERANGE;                                                \
        }                                                                     \
        lval = (__typeof__(lval))v_;                                          \
    } while (0);
#define MSG_DEC_F(T, m, k, off, lo, hi, dec, unit) MSG_GET1(k, off, lo, hi, t.m, #m)
#define MSG_DEC_X(T, m, k, off, hi) MSG_GET1(k, off, 0, hi, t.m, #m)
#define MSG_DEC_A(T, m, k, off, n, lo, hi)                                    \
    for (unsigned j_ = 0; j_ < (n); j_++)                                     \
        MSG_GET1(k, (off) + j_ * MSG_KSIZE(k), lo, hi, t.m[j_], #m)
#define MSG_DEC_R(k, off)                                                     \
    do {                                                                      \
        int64_t v_ = msg_wire_to_raw(k, msg_get_le(w + (off), MSG_KSIZE(k))); \
        if (v_ != 0) {                                                        \
            msg_set_err(e, "reserved", v_);                                   \
            return EK3_ERANGE;                                                \
        }                                                                     \
    } while (0);

#define MSG_COMPILED(name, T, FIELDS)                                         \
    static int name##_enc(const void *sv, uint8_t *w, msg_err *e)             \
    {                                                                         \
        const T *s = sv;                                                      \
        FIELDS(MSG_ENC_F, MSG_ENC_X, MSG_ENC_A, MSG_ENC_R)                    \
        return EK3_OK;                                                        \
    }                                                                         \
    static int name##_dec(const uint8_t *w, void *sv, msg_err *e)             \
    {                                                                         \
        T t;                                                                  \
        memcpy(&t, sv, sizeof t);                                             \
        FIELDS(MSG_DEC_F, MSG_DEC_X, MSG_DEC_A, MSG_DEC_R)                    \
        memcpy(sv, &t, sizeof t);                                             \
        return EK3_OK;                                                        \
    }

#if !defined(__OPTIMIZE_SIZE__)
MSG_COMPILED(msg_hil_adc, msg_hil_adc, MSG_HIL_ADC_FIELDS)
MSG_COMPILED(msg_hil_pwm, msg_hil_pwm, MSG_HIL_PWM_FIELDS)
#endif

/* HIL_PWM's range checks alone, from the same field list as its codecs:
 * a field out of range is one the encoder refuses (test_hilch compares
 * the two over every bound). Always 0 for the fields the types bound. */
#define MSG_CHK1(lo, hi, expr)                                                \
    do {                                                                      \
        int64_t v_ = (int64_t)(expr);                                         \
        if (v_ < (int64_t)(lo) || v_ > (int64_t)(hi))                         \
            return EK3_ERANGE;                                                \
    } while (0);
#define MSG_CHK_F(T, m, k, off, lo, hi, dec, unit) MSG_CHK1(lo, hi, s->m)
#define MSG_CHK_X(T, m, k, off, hi) MSG_CHK1(0, hi, s->m)
#define MSG_CHK_A(T, m, k, off, n, lo, hi)                                    \
    for (unsigned j_ = 0; j_ < (n); j_++)                                     \
        MSG_CHK1(lo, hi, s->m[j_])
#define MSG_CHK_R(k, off)

int msg_hil_pwm_check(const msg_hil_pwm *s)
{
    MSG_HIL_PWM_FIELDS(MSG_CHK_F, MSG_CHK_X, MSG_CHK_A, MSG_CHK_R)
    return EK3_OK;
}

/* ---- FW_UPDATE ---------------------------------------------------------- */

uint32_t msg_crc32(uint32_t crc, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = crc >> 1 ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static uint32_t msg_le32(const uint8_t *p)
{
    return (uint32_t)msg_get_le(p, 4);
}

void msg_fw_status_put(msg_fw_update *m, const msg_fw_status *st)
{
    memset(m->data, 0, sizeof m->data);
    m->data[0] = st->state;
    m->data[1] = st->why;
    m->data[2] = st->slot;
    m->data[3] = st->trial;
    msg_put_le(m->data + 4, st->security, 4);
    memcpy(m->data + 8, st->refusals, MSG_FWW_COUNT_);
    m->len = MSG_FW_STATUS_LEN;
}

void msg_fw_status_get(const msg_fw_update *m, msg_fw_status *st)
{
    st->state = m->data[0];
    st->why = m->data[1];
    st->slot = m->data[2];
    st->trial = m->data[3];
    st->security = msg_le32(m->data + 4);
    memcpy(st->refusals, m->data + 8, MSG_FWW_COUNT_);
}

static int msg_fw_bad(msg_err *e, const char *field, int64_t v)
{
    msg_set_err(e, field, v);
    return EK3_ERANGE;
}

int msg_fw_check(const msg_fw_update *m, msg_err *e)
{
    if (m->op >= MSG_FW_OP_COUNT_)
        return msg_fw_bad(e, "op", m->op);
    if (m->len > MSG_FW_CHUNK_MAX)
        return msg_fw_bad(e, "len", m->len);
    if (m->offset > MSG_FW_IMAGE_MAX)
        return msg_fw_bad(e, "offset", m->offset);
    for (unsigned i = m->len; i < MSG_FW_CHUNK_MAX; i++)
        if (m->data[i])
            return msg_fw_bad(e, "data", m->data[i]); /* nothing hides past len */
    if (m->op != MSG_FW_STATUS && m->xfer == 0)
        return msg_fw_bad(e, "xfer", 0);
    switch (m->op) {
    case MSG_FW_BEGIN:
        if (m->offset == 0)
            return msg_fw_bad(e, "offset", 0); /* the image size */
        if (m->len != MSG_FW_BEGIN_LEN)
            return msg_fw_bad(e, "len", m->len); /* the security counter, the flags */
        if (m->data[4] & ~MSG_FW_F_RESUME || m->data[5] || m->data[6] || m->data[7])
            return msg_fw_bad(e, "flags", m->data[4]);
        return EK3_OK;
    case MSG_FW_CHUNK:
        if (m->len == 0 || m->len % 8u)
            return msg_fw_bad(e, "len", m->len);
        if (m->offset % 8u || m->offset + m->len > MSG_FW_IMAGE_MAX)
            return msg_fw_bad(e, "offset", m->offset);
        return EK3_OK; /* arg: the CRC is the receiver's to check (a bad one is counted, not a bad frame) */
    case MSG_FW_END:
        return m->offset == 0 ? msg_fw_bad(e, "offset", 0) : m->len ? msg_fw_bad(e, "len", m->len) : EK3_OK;
    case MSG_FW_STATUS: {
        if (m->len != MSG_FW_STATUS_LEN)
            return msg_fw_bad(e, "len", m->len);
        msg_fw_status st;
        msg_fw_status_get(m, &st);
        if (st.state >= MSG_FWS_COUNT_)
            return msg_fw_bad(e, "state", st.state);
        if (st.why >= MSG_FWW_COUNT_)
            return msg_fw_bad(e, "why", st.why);
        if (st.slot > 1)
            return msg_fw_bad(e, "slot", st.slot);
        if (st.trial > 1)
            return msg_fw_bad(e, "trial", st.trial);
        return EK3_OK;
    }
    default: /* ABORT, ACTIVATE, QUERY, REBOOT: the transfer id alone */
        if (m->len)
            return msg_fw_bad(e, "len", m->len);
        if (m->offset)
            return msg_fw_bad(e, "offset", m->offset);
        return m->arg ? msg_fw_bad(e, "arg", m->arg) : EK3_OK;
    }
}

static int msg_fw_check_any(const void *s, msg_err *e)
{
    return msg_fw_check(s, e);
}

const msg_fault_value *msg_fault_value_of(unsigned code)
{
    static const msg_fault_value v[MSG_FAULT_COUNT_] = {
        [MSG_FAULT_OCP] = {"A", "", 0, 0, {NULL}},
        [MSG_FAULT_OVP] = {"V", "", 0, 0, {NULL}},
        [MSG_FAULT_UVP] = {"V", "", 0, 0, {NULL}},
        [MSG_FAULT_OTP] = {"C", "", 0, 0, {NULL}},
        [MSG_FAULT_OTP_WARNING] = {"C", "", 0, 0, {NULL}},
        [MSG_FAULT_GFI] = {"A", "", 0, 0, {NULL}},
        [MSG_FAULT_FAN_FAIL] = {"rpm", "", 0, 0, {NULL}},
        [MSG_FAULT_HW_TRIP] = {"", "comparator", 0, 1, {NULL}},
        [MSG_FAULT_SENSOR] = {"", "flags", 1, 0, {"STUCK", "RANGE", "IMPLAUSIBLE", NULL}}, /* HLTH_SENSOR_* */
        [MSG_FAULT_SERVICE_CRASH] = {"", "service", 0, 0, {NULL}},
        [MSG_FAULT_WATCHDOG] = {"", "resets", 0, 0, {NULL}},
        [MSG_FAULT_COMM_LOSS] = {"s", "", 0, 0, {NULL}},
        [MSG_FAULT_AUTH_FAIL] = {"", "forged frames", 0, 0, {NULL}},
        [MSG_FAULT_DERATING] = {"of full power", "", 0, 0, {NULL}},
    };
    return code < MSG_FAULT_COUNT_ && v[code].unit ? &v[code] : NULL;
}
