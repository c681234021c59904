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
    "REQUEST_VOTE", "VOTE", "LEADER_HEARTBEAT"};
static const char *const msg_sync_names[MSG_SYNC_COUNT_] = {
    "LEADER", "STATION", "PLANT"};
static const char *const msg_diag_op_names[MSG_DIAG_OP_COUNT_] = {
    "REQUEST", "RESULT"};
static const char *const msg_diag_test_names[MSG_DIAG_TEST_COUNT_] = {
    "ALL", "ADC", "PWM", "FAN", "NTC", "FLASH", "CRYPTO", "CAN"};
static const char *const msg_diag_result_names[MSG_DIAG_RESULT_COUNT_] = {
    "PASS", "FAIL", "RUNNING", "NOT_RUN"};
static const char *const msg_fw_names[MSG_FW_OP_COUNT_] = {
    "BEGIN", "CHUNK", "END", "ABORT"};
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
    MSG_R(MSG_K_U16, 14),
};

static const msg_field msg_sync_f[] = {
    MSG_E(msg_sync, role, 1, msg_sync_names, MSG_SYNC_COUNT_),
    MSG_R(MSG_K_U16, 2),
    MSG_F(msg_sync, seq, MSG_K_U32, 4, 0, 0xFFFFFFFF, 0, ""),
    MSG_F(msg_sync, time_us, MSG_K_U64, 8, 0, INT64_MAX, 0, "us"),
    MSG_F(msg_sync, term, MSG_K_U32, 16, 0, 0xFFFFFFFF, 0, ""),
};

static const msg_field msg_election_f[] = {
    MSG_E(msg_election, kind, 1, msg_elect_names, MSG_ELECT_COUNT_),
    MSG_F(msg_election, candidate, MSG_K_U16, 2, 0, MSG_NODE_MAX, 0, ""),
    MSG_F(msg_election, term, MSG_K_U32, 4, 0, 0xFFFFFFFF, 0, ""),
    MSG_F(msg_election, granted, MSG_K_U8, 8, 0, 1, 0, ""),
    MSG_R(MSG_K_U8, 9),
    MSG_R(MSG_K_U16, 10),
};

static const msg_field msg_diag_f[] = {
    MSG_E(msg_diag, op, 1, msg_diag_op_names, MSG_DIAG_OP_COUNT_),
    MSG_E(msg_diag, test, 2, msg_diag_test_names, MSG_DIAG_TEST_COUNT_),
    MSG_E(msg_diag, result, 3, msg_diag_result_names, MSG_DIAG_RESULT_COUNT_),
    MSG_F(msg_diag, value, MSG_K_U32, 4, 0, 0xFFFFFFFF, 0, ""),
};

static const msg_field msg_fw_update_f[] = {
    MSG_E(msg_fw_update, op, 1, msg_fw_names, MSG_FW_OP_COUNT_),
    MSG_F(msg_fw_update, len, MSG_K_U8, 2, 0, MSG_FW_CHUNK_MAX, 0, ""),
    MSG_R(MSG_K_U8, 3),
    MSG_F(msg_fw_update, offset, MSG_K_U32, 4, 0, 512 * 1024 - 1, 0, ""),
    MSG_A(msg_fw_update, data, MSG_K_BYTES, 8, MSG_FW_CHUNK_MAX, 0, 0xFF),
};

static const msg_field msg_hil_adc_f[] = {
    MSG_R(MSG_K_U8, 1),
    MSG_X(msg_hil_adc, lines, MSG_K_U16, 2, 0xFFFF),
    MSG_F(msg_hil_adc, period, MSG_K_U32, 4, 0, 0xFFFFFFFF, 0, ""),
    MSG_A(msg_hil_adc, ch, MSG_K_U16, 8, MSG_ADC_COUNT, 0, 4095),
};

static const msg_field msg_hil_pwm_f[] = {
    MSG_X(msg_hil_pwm, flags, MSG_K_U8, 1, 0xF),
    MSG_F(msg_hil_pwm, deadtime_ns, MSG_K_U16, 2, 0, 5000, 0, "ns"),
    MSG_F(msg_hil_pwm, period, MSG_K_U32, 4, 0, 0xFFFFFFFF, 0, ""),
    MSG_F(msg_hil_pwm, fsw_hz, MSG_K_U32, 8, 0, 1000000, 0, "Hz"),
    MSG_F(msg_hil_pwm, burst_permille, MSG_K_U16, 12, 0, 1000, 1, "%"),
    MSG_F(msg_hil_pwm, fan_permille, MSG_K_U16, 14, 0, 1000, 1, "%"),
    MSG_X(msg_hil_pwm, lines, MSG_K_U16, 16, 0xFFFF),
    MSG_R(MSG_K_U16, 18),
};

static const msg_field msg_hil_gpio_f[] = {
    MSG_R(MSG_K_U8, 1),
    MSG_X(msg_hil_gpio, lines, MSG_K_U16, 2, 0xFFFF),
    MSG_X(msg_hil_gpio, changed, MSG_K_U16, 4, 0xFFFF),
    MSG_R(MSG_K_U16, 6),
    MSG_F(msg_hil_gpio, time_ns, MSG_K_U64, 8, 0, INT64_MAX, 0, "ns"),
};

static const msg_field msg_hil_tick_f[] = {
    MSG_E(msg_hil_tick, kind, 1, msg_tick_names, MSG_TICK_COUNT_),
    MSG_R(MSG_K_U16, 2),
    MSG_F(msg_hil_tick, quantum, MSG_K_U32, 4, 0, 0xFFFFFFFF, 0, ""),
    MSG_F(msg_hil_tick, time_ns, MSG_K_U64, 8, 0, INT64_MAX, 0, "ns"),
};

#define MSG_D(t, p, a, n, l, f) {t, p, a, n, l, (uint8_t)(sizeof(f) / sizeof((f)[0])), f}

static const msg_desc msg_descs[16] = {
    [CID_TYPE_SYNC] = MSG_D(CID_TYPE_SYNC, CID_PRIO_HIGH, MSG_AUTH_STATION, "SYNC", 20, msg_sync_f),
    [CID_TYPE_ELECTION] = MSG_D(CID_TYPE_ELECTION, CID_PRIO_MEDIUM, MSG_AUTH_NEVER, "ELECTION", 12, msg_election_f),
    [CID_TYPE_HEARTBEAT] = MSG_D(CID_TYPE_HEARTBEAT, CID_PRIO_MEDIUM, MSG_AUTH_NEVER, "HEARTBEAT", 16, msg_heartbeat_f),
    [CID_TYPE_POWER_CMD] = MSG_D(CID_TYPE_POWER_CMD, CID_PRIO_HIGH, MSG_AUTH_ALWAYS, "POWER_CMD", 12, msg_power_cmd_f),
    [CID_TYPE_THERMAL] = MSG_D(CID_TYPE_THERMAL, CID_PRIO_MEDIUM, MSG_AUTH_NEVER, "THERMAL", 16, msg_thermal_f),
    [CID_TYPE_POWER_ACK] = MSG_D(CID_TYPE_POWER_ACK, CID_PRIO_HIGH, MSG_AUTH_NEVER, "POWER_ACK", 12, msg_power_ack_f),
    [CID_TYPE_STATION] = MSG_D(CID_TYPE_STATION, CID_PRIO_MEDIUM, MSG_AUTH_ALWAYS, "STATION", 12, msg_station_f),
    [CID_TYPE_FAULT] = MSG_D(CID_TYPE_FAULT, CID_PRIO_CRITICAL, MSG_AUTH_NEVER, "FAULT_ALERT", 16, msg_fault_f),
    [CID_TYPE_DIAG] = MSG_D(CID_TYPE_DIAG, CID_PRIO_LOW, MSG_AUTH_STATION, "DIAG", 8, msg_diag_f),
    [CID_TYPE_HIL_ADC] = MSG_D(CID_TYPE_HIL_ADC, CID_PRIO_HIGH, MSG_AUTH_NEVER, "HIL_ADC", 32, msg_hil_adc_f),
    [CID_TYPE_HIL_PWM] = MSG_D(CID_TYPE_HIL_PWM, CID_PRIO_HIGH, MSG_AUTH_NEVER, "HIL_PWM", 20, msg_hil_pwm_f),
    [CID_TYPE_HIL_GPIO] = MSG_D(CID_TYPE_HIL_GPIO, CID_PRIO_CRITICAL, MSG_AUTH_NEVER, "HIL_GPIO", 16, msg_hil_gpio_f),
    [CID_TYPE_HIL_TICK] = MSG_D(CID_TYPE_HIL_TICK, CID_PRIO_HIGH, MSG_AUTH_NEVER, "HIL_TICK", 16, msg_hil_tick_f),
    [CID_TYPE_FW_UPDATE] = MSG_D(CID_TYPE_FW_UPDATE, CID_PRIO_BACKGROUND, MSG_AUTH_ALWAYS, "FW_UPDATE", 52, msg_fw_update_f),
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

static uint64_t msg_get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

static void msg_put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
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

int64_t msg_field_get(const msg_field *f, const void *s, unsigned j)
{
    const uint8_t *src = (const uint8_t *)s + f->soff + j * MSG_KSIZE(f->kind);
    uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64; int16_t i16; int32_t i32;
    switch (f->kind) {
    case MSG_K_U16: memcpy(&u16, src, 2); return u16;
    case MSG_K_U32: memcpy(&u32, src, 4); return u32;
    case MSG_K_U64: memcpy(&u64, src, 8); return (int64_t)u64;
    case MSG_K_I16: memcpy(&i16, src, 2); return i16;
    case MSG_K_I32: memcpy(&i32, src, 4); return i32;
    default: memcpy(&u8, src, 1); return u8;
    }
}

void msg_field_set(const msg_field *f, void *s, unsigned j, int64_t v)
{
    uint8_t *dst = (uint8_t *)s + f->soff + j * MSG_KSIZE(f->kind);
    uint8_t u8 = (uint8_t)v; uint16_t u16 = (uint16_t)v; uint32_t u32 = (uint32_t)v; uint64_t u64 = (uint64_t)v;
    switch (MSG_KSIZE(f->kind)) {
    case 2: memcpy(dst, &u16, 2); break;
    case 4: memcpy(dst, &u32, 4); break;
    case 8: memcpy(dst, &u64, 8); break;
    default: memcpy(dst, &u8, 1); break;
    }
}

/* U64 fields hold values up to INT64_MAX; a wire value above that reads
 * as negative and fails the range check, as it should. */
static int msg_in_range(const msg_field *f, int64_t v)
{
    return f->kind == MSG_K_BYTES || (v >= f->min && v <= f->max);
}

static void msg_set_err(msg_err *e, const char *field, int64_t v)
{
    if (e) {
        e->field = field;
        e->value = v;
    }
}

int msg_encode(unsigned type, const void *s, uint8_t *buf, size_t cap, msg_err *e)
{
    const msg_desc *d = msg_desc_of(type);
    msg_set_err(e, NULL, 0);
    if (!d)
        return EK3_ETYPE;
    if (!s || !buf)
        return EK3_EINVAL;
    if (cap < d->len)
        return EK3_ENOSPC;
    uint8_t tmp[CFD_MAX_LEN];
    memset(tmp, 0, sizeof tmp);
    tmp[0] = MSG_VERSION;
    for (unsigned i = 0; i < d->nfields; i++) {
        const msg_field *f = &d->fields[i];
        unsigned sz = MSG_KSIZE(f->kind);
        for (unsigned j = 0; j < f->count; j++) {
            int64_t v = 0;
            if (f->soff != MSG_NOSTRUCT)
                v = msg_field_get(f, s, j);
            if (!msg_in_range(f, v)) {
                msg_set_err(e, f->name, v);
                return EK3_ERANGE;
            }
            msg_put_le(tmp + f->off + j * sz, (uint64_t)v, sz);
        }
    }
    memcpy(buf, tmp, d->len);
    return d->len;
}

int msg_decode(unsigned type, const uint8_t *buf, size_t len, void *s, msg_err *e)
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
    /* check every field before writing anything */
    for (unsigned i = 0; i < d->nfields; i++) {
        const msg_field *f = &d->fields[i];
        unsigned sz = MSG_KSIZE(f->kind);
        for (unsigned j = 0; j < f->count; j++) {
            int64_t v = msg_wire_to_raw(f->kind, msg_get_le(buf + f->off + j * sz, sz));
            if (!msg_in_range(f, v)) {
                msg_set_err(e, f->name, v);
                return EK3_ERANGE;
            }
        }
    }
    for (unsigned i = 0; i < d->nfields; i++) {
        const msg_field *f = &d->fields[i];
        unsigned sz = MSG_KSIZE(f->kind);
        if (f->soff == MSG_NOSTRUCT)
            continue;
        for (unsigned j = 0; j < f->count; j++)
            msg_field_set(f, s, j, msg_wire_to_raw(f->kind, msg_get_le(buf + f->off + j * sz, sz)));
    }
    return EK3_OK;
}
