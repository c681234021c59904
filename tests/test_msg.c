/* test_msg.c - every payload codec: layout integrity, round trips, and
 * each malformed input rejected with its own error. */
#include <criterion/criterion.h>
#include <string.h>

#include "auth.h"
#include "can_frame.h"
#include "can_id.h"
#include "ek3_err.h"
#include "msg.h"


static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

/* A valid payload of type t: every field at a value inside its range,
 * varied by `salt`. */
static size_t valid_payload(unsigned t, uint8_t *buf, unsigned salt)
{
    const msg_desc *d = msg_desc_of(t);
    memset(buf, 0, 64);
    buf[0] = MSG_VERSION;
    for (unsigned i = 0; i < d->nfields; i++) {
        const msg_field *f = &d->fields[i];
        for (unsigned j = 0; j < f->count; j++) {
            int64_t span = f->max - f->min;
            int64_t v = f->kind == MSG_K_BYTES ? (int64_t)((salt * 31 + j) & 0xFF)
                        : f->min + (span > 0 ? (int64_t)((salt * 2654435761u + j * 40503u) % ((uint64_t)span + 1)) : 0);
            put_le(buf + f->off + j * msg_kind_size(f->kind), (uint64_t)v, msg_kind_size(f->kind));
        }
    }
    if (t == CID_TYPE_FW_UPDATE) { /* its rules across fields, per op (msg_fw_check) */
        msg_fw_update u;
        memset(&u, 0, sizeof u);
        u.op = (uint8_t)(salt % MSG_FW_OP_COUNT_);
        u.xfer = (uint8_t)(1 + salt % 255);
        if (u.op == MSG_FW_BEGIN) {
            u.offset = 1 + salt * 97u % MSG_FW_IMAGE_MAX, u.arg = salt * 2654435761u, u.len = MSG_FW_BEGIN_LEN;
            put_le(u.data, salt * 7u, 4);
            u.data[4] = (uint8_t)(salt & MSG_FW_F_RESUME);
        } else if (u.op == MSG_FW_CHUNK) {
            u.len = (uint8_t)(8 * (1 + salt % 5)), u.offset = 8u * (salt * 131u % 1000u);
            for (unsigned j = 0; j < u.len; j++)
                u.data[j] = (uint8_t)(salt * 31 + j);
            u.arg = msg_crc32(0, u.data, u.len);
        } else if (u.op == MSG_FW_END) {
            u.offset = 1 + salt;
        } else if (u.op == MSG_FW_STATUS) {
            msg_fw_status st = {(uint8_t)(salt % MSG_FWS_COUNT_), (uint8_t)(salt % MSG_FWW_COUNT_),
                                (uint8_t)(salt & 1), (uint8_t)(salt >> 1 & 1), salt, {0}};
            for (unsigned w = 0; w < MSG_FWW_COUNT_; w++)
                st.refusals[w] = (uint8_t)(salt + w);
            u.xfer = (uint8_t)salt, u.offset = 8u * salt, u.arg = salt * 40503u;
            msg_fw_status_put(&u, &st);
        }
        cr_assert_eq(msg_encode(t, &u, buf, 64, NULL), (int)d->len, "a valid FW_UPDATE, salt %u", salt);
    }
    return d->len;
}

Test(msg, layouts_cover_every_byte_exactly_once)
{
    unsigned n = 0;
    for (unsigned t = 0; t < 16; t++) {
        const msg_desc *d = msg_desc_of(t);
        if (!d)
            continue;
        n++;
        uint8_t owner[64] = {0};
        owner[0] = 1; /* version */
        for (unsigned i = 0; i < d->nfields; i++) {
            const msg_field *f = &d->fields[i];
            unsigned sz = msg_kind_size(f->kind) * f->count;
            cr_assert_leq(f->off + sz, d->len, "%s.%s runs past the payload", d->name, f->name);
            for (unsigned b = f->off; b < f->off + sz; b++) {
                cr_assert_eq(owner[b], 0, "%s byte %u claimed twice (%s)", d->name, b, f->name);
                owner[b] = 1;
            }
            cr_assert_leq(f->min, f->max, "%s.%s", d->name, f->name);
        }
        for (unsigned b = 0; b < d->len; b++)
            cr_assert_eq(owner[b], 1, "%s byte %u belongs to no field", d->name, b);
        /* FW_UPDATE: a module's STATUS keeps the trailer's room, zeroed (docs/update.md) */
        if (d->auth != MSG_AUTH_ALWAYS && d->auth != MSG_AUTH_GROUP && t != CID_TYPE_FW_UPDATE)
            cr_assert_geq(cfd_len_to_dlc(d->len, 1), 0, "%s length %u is not a CAN-FD length", d->name, d->len);
        if (d->auth != MSG_AUTH_NEVER)
            cr_assert_geq(cfd_len_to_dlc(d->len + AUTH_TRAILER_LEN, 1), 0, "%s + auth trailer", d->name);
        cr_assert_eq(d->type, t);
        cr_assert_not_null(cid_prio_name(d->prio));
    }
    cr_assert_eq(n, 13u, "every defined type has a layout");
}

Test(msg, station_commands_are_always_signed)
{
    cr_assert_eq(msg_desc_of(CID_TYPE_POWER_CMD)->auth, MSG_AUTH_ALWAYS);
    cr_assert_eq(msg_desc_of(CID_TYPE_FW_UPDATE)->auth, MSG_AUTH_STATION); /* a module sends STATUS */
    cr_assert_eq(msg_desc_of(CID_TYPE_HEARTBEAT)->auth, MSG_AUTH_NEVER);
    cr_assert_eq(msg_desc_of(CID_TYPE_HIL_PWM)->auth, MSG_AUTH_NEVER);
}

Test(msg, every_codec_roundtrips)
{
    for (unsigned t = 0; t < 16; t++) {
        if (!msg_desc_of(t))
            continue;
        for (unsigned salt = 0; salt < 200; salt++) {
            uint8_t in[64], out[64];
            msg_any m;
            size_t n = valid_payload(t, in, salt);
            cr_assert_eq(msg_decode(t, in, n, &m, NULL), EK3_OK, "type %u salt %u", t, salt);
            cr_assert_eq(msg_encode(t, &m, out, sizeof out, NULL), (int)n);
            cr_assert_arr_eq(in, out, n, "type %u salt %u: bytes differ after decode+encode", t, salt);
        }
    }
}

Test(msg, typed_struct_roundtrips_with_values_intact)
{
    msg_heartbeat hb = {MSG_STATE_ACTIVE, 42, 2980, 620, 7500, 3970, 0x05, 65535}, hb2;
    uint8_t buf[64];
    cr_assert_eq(msg_encode(CID_TYPE_HEARTBEAT, &hb, buf, sizeof buf, NULL), 16);
    cr_assert_eq(buf[0], MSG_VERSION);
    cr_assert_eq(buf[2] | buf[3] << 8, 42, "little-endian module id at byte 2");
    cr_assert_eq(msg_decode(CID_TYPE_HEARTBEAT, buf, 16, &hb2, NULL), EK3_OK);
    cr_assert(hb.state == hb2.state && hb.module == hb2.module && hb.power_w == hb2.power_w &&
              hb.temp_dc == hb2.temp_dc && hb.vout_dv == hb2.vout_dv && hb.iout_ma == hb2.iout_ma &&
              hb.health == hb2.health && hb.seq == hb2.seq);

    msg_fault fa = {MSG_FAULT_OTP_WARNING, MSG_SEV_WARNING, MSG_FAULT_F_LATCHED, -98000, 0x12345678u, 42}, fa2;
    cr_assert_eq(msg_encode(CID_TYPE_FAULT, &fa, buf, sizeof buf, NULL), 16);
    cr_assert_eq(msg_decode(CID_TYPE_FAULT, buf, 16, &fa2, NULL), EK3_OK);
    cr_assert_eq(fa2.value, -98000, "signed value survives");
    cr_assert_eq(fa2.time_ms, 0x12345678u);

    msg_hil_adc adc = {0x1, 77, {4095, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}, adc2;
    cr_assert_eq(msg_encode(CID_TYPE_HIL_ADC, &adc, buf, sizeof buf, NULL), 32);
    cr_assert_eq(msg_decode(CID_TYPE_HIL_ADC, buf, 32, &adc2, NULL), EK3_OK);
    cr_assert_arr_eq(adc.ch, adc2.ch, sizeof adc.ch);

    msg_sync sy = {MSG_SYNC_F_COMMITTED, 84, 3, 7, (uint64_t)1 << 62, 2500, 853}, sy2;
    cr_assert_eq(msg_encode(CID_TYPE_SYNC, &sy, buf, sizeof buf, NULL), 36);
    cr_assert_eq(msg_decode(CID_TYPE_SYNC, buf, 36, &sy2, NULL), EK3_OK);
    cr_assert_eq(sy2.time_us, (uint64_t)1 << 62);
    cr_assert(sy2.flags == sy.flags && sy2.modules == 84 && sy2.term == 3 && sy2.seq == 7 && sy2.i_mean_ma == 2500 &&
              sy2.t_mean_dc == 853);

    msg_thermal th = {80, 42, 951, 802, 603, -104, 4200, 3999, 7500, MSG_STATE_DERATED, 1}, th2;
    cr_assert_eq(msg_encode(CID_TYPE_THERMAL, &th, buf, sizeof buf, NULL), 20);
    cr_assert_eq(msg_decode(CID_TYPE_THERMAL, buf, 20, &th2, NULL), EK3_OK);
    /* field by field: the struct has padding, which neither side defines */
    cr_assert(th2.derate_pct == th.derate_pct && th2.module == th.module && th2.tj_dc == th.tj_dc &&
                  th2.tmag_dc == th.tmag_dc && th2.ths_dc == th.ths_dc && th2.tamb_dc == th.tamb_dc &&
                  th2.fan_rpm == th.fan_rpm && th2.iout_ma == th.iout_ma && th2.vout_dv == th.vout_dv &&
                  th2.state == th.state && th2.flags == th.flags,
              "every THERMAL field survives");

    msg_election el, el2;
    memset(&el, 0, sizeof el);
    el.kind = MSG_ELECT_APPEND, el.ok = 0, el.n = 1, el.term = 9, el.index = 41, el.log_term = 8, el.commit = 40;
    el.eterm = 9, el.elen = 32, el.frag = 30;
    el.data[0] = 0xA5, el.data[9] = 0x5A;
    memset(&el2, 0xEE, sizeof el2);
    cr_assert_eq(msg_encode(CID_TYPE_ELECTION, &el, buf, sizeof buf, NULL), 36);
    cr_assert_eq(msg_decode(CID_TYPE_ELECTION, buf, 36, &el2, NULL), EK3_OK);
    cr_assert(el2.kind == el.kind && el2.n == 1 && el2.term == 9 && el2.index == 41 && el2.log_term == 8 &&
              el2.commit == 40 && el2.eterm == 9 && el2.elen == 32 && el2.frag == 30);
    cr_assert_arr_eq(el2.data, el.data, MSG_ELECT_CHUNK);
}

Test(msg, short_long_and_wrong_version_are_distinct_errors)
{
    for (unsigned t = 0; t < 16; t++) {
        if (!msg_desc_of(t))
            continue;
        uint8_t b[64];
        msg_any m;
        size_t n = valid_payload(t, b, 3);
        cr_assert_eq(msg_decode(t, b, n - 1, &m, NULL), EK3_ESHORT);
        cr_assert_eq(msg_decode(t, b, 0, &m, NULL), EK3_ESHORT);
        cr_assert_eq(msg_decode(t, b, n + 1, &m, NULL), EK3_ELONG);
        msg_err e;
        b[0] = 0;
        cr_assert_eq(msg_decode(t, b, n, &m, &e), EK3_EVERSION);
        cr_assert_str_eq(e.field, "version");
        b[0] = MSG_VERSION + 1;
        cr_assert_eq(msg_decode(t, b, n, &m, NULL), EK3_EVERSION);
    }
    uint8_t b[8] = {1};
    msg_any m;
    cr_assert_eq(msg_decode(0xD, b, 8, &m, NULL), EK3_ETYPE);
}

Test(msg, every_field_rejects_values_just_outside_its_range)
{
    unsigned checked = 0;
    for (unsigned t = 0; t < 16; t++) {
        const msg_desc *d = msg_desc_of(t);
        if (!d)
            continue;
        for (unsigned i = 0; i < d->nfields; i++) {
            const msg_field *f = &d->fields[i];
            if (f->kind == MSG_K_BYTES)
                continue;
            unsigned sz = msg_kind_size(f->kind);
            int sgn = f->kind == MSG_K_I16 || f->kind == MSG_K_I32;
            int64_t lo = sgn ? -((int64_t)1 << (sz * 8 - 1)) : 0;
            int64_t hi = sz == 8 ? INT64_MAX : sgn ? ((int64_t)1 << (sz * 8 - 1)) - 1 : ((int64_t)1 << (sz * 8)) - 1;
            for (int k = 0; k < 2; k++) {
                uint64_t wire;
                if (k == 0) {
                    if (f->min == lo)
                        continue; /* the whole range of the type is allowed */
                    wire = (uint64_t)(f->min - 1);
                } else if (sz == 8) {
                    wire = (uint64_t)f->max + 1; /* above INT64_MAX reads as negative */
                } else {
                    if (f->max == hi)
                        continue;
                    wire = (uint64_t)(f->max + 1);
                }
                uint8_t b[64];
                msg_any m;
                msg_err e;
                size_t n = valid_payload(t, b, 1);
                put_le(b + f->off + (f->count - 1) * sz, wire, sz);
                cr_assert_eq(msg_decode(t, b, n, &m, &e), EK3_ERANGE, "%s.%s = 0x%llx", d->name, f->name,
                             (unsigned long long)wire);
                cr_assert_str_eq(e.field, f->name);
                checked++;
            }
        }
    }
    cr_assert_gt(checked, 60u);
}

Test(msg, encoder_refuses_out_of_range_so_it_never_reaches_the_bus)
{
    uint8_t b[64];
    msg_err e;
    msg_power_cmd over = {MSG_POWER_SET, 3301, 7500, 4000, 0};
    cr_assert_eq(msg_encode(CID_TYPE_POWER_CMD, &over, b, sizeof b, &e), EK3_ERANGE);
    cr_assert_str_eq(e.field, "power_w");
    msg_power_cmd lowv = {MSG_POWER_SET, 1000, 1999, 4000, 0};
    cr_assert_eq(msg_encode(CID_TYPE_POWER_CMD, &lowv, b, sizeof b, &e), EK3_ERANGE);
    cr_assert_str_eq(e.field, "vset_dv");
    msg_power_cmd amps = {MSG_POWER_SET, 1000, 7500, 4001, 0};
    cr_assert_eq(msg_encode(CID_TYPE_POWER_CMD, &amps, b, sizeof b, &e), EK3_ERANGE);
    cr_assert_str_eq(e.field, "ilim_ma");
    msg_power_cmd ok = {MSG_POWER_SET, 3300, 9200, 4000, 0};
    cr_assert_eq(msg_encode(CID_TYPE_POWER_CMD, &ok, b, 11, NULL), EK3_ENOSPC);
    cr_assert_eq(msg_encode(CID_TYPE_POWER_CMD, &ok, b, 12, NULL), 12);
}

Test(msg, reserved_bytes_must_be_zero)
{
    uint8_t b[64];
    msg_any m;
    msg_err e;
    size_t n = valid_payload(CID_TYPE_POWER_CMD, b, 5);
    b[10] = 1;
    cr_assert_eq(msg_decode(CID_TYPE_POWER_CMD, b, n, &m, &e), EK3_ERANGE);
    cr_assert_str_eq(e.field, "reserved");
}

Test(msg, format_prints_scaled_values_and_names)
{
    msg_heartbeat hb = {MSG_STATE_ACTIVE, 42, 2980, -125, 7500, 3970, 0, 9};
    char out[256];
    msg_format(msg_desc_of(CID_TYPE_HEARTBEAT), &hb, out, sizeof out);
    cr_assert_str_eq(out, "state=ACTIVE module=42 power=2980W temp=-12.5C vout=750.0V iout=3.970A health=0x0 seq=9");
    char tiny[8];
    int n = msg_format(msg_desc_of(CID_TYPE_HEARTBEAT), &hb, tiny, sizeof tiny);
    cr_assert_eq(n, (int)strlen(out), "returns the full length, like snprintf");
    cr_assert_str_eq(tiny, "state=A");
}

/* The compiled codecs (HIL_ADC, HIL_PWM) against the field table: the
 * same bytes, the same struct, the same error and the same field and
 * value named, on valid payloads and on payloads with one field (or
 * reserved word) pushed anywhere, and on structs likewise. */
Test(msg, the_compiled_codecs_agree_with_the_table)
{
    static const unsigned types[] = {CID_TYPE_HIL_ADC, CID_TYPE_HIL_PWM};
    unsigned checked = 0, errors = 0;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        unsigned t = types[ti];
        const msg_desc *d = msg_desc_of(t);
        cr_assert(d->enc && d->dec, "%s has a compiled codec", d->name);
        uint32_t seed = 99 + t;
        for (unsigned salt = 0; salt < 3000; salt++) {
            uint8_t buf[64];
            size_t len = valid_payload(t, buf, salt);
            /* Two times in three, one byte anywhere after the version set at random. */
            seed = seed * 1664525u + 1013904223u;
            if (seed % 3)
                buf[1 + (seed >> 8) % (len - 1)] = (uint8_t)(seed >> 20);
            uint8_t a[256], b[256];
            memset(a, 0xA5, sizeof a);
            memset(b, 0xA5, sizeof b);
            msg_err ea, eb;
            int ra = msg_decode(t, buf, len, a, &ea), rb = msg_decode_table(t, buf, len, b, &eb);
            cr_assert_eq(ra, rb, "%s decode, salt %u: %d vs the table's %d", d->name, salt, ra, rb);
            cr_assert_eq(memcmp(a, b, d->ssize), 0, "%s decode, salt %u: the structs differ", d->name, salt);
            cr_assert((!ea.field && !eb.field) || (ea.field && eb.field && !strcmp(ea.field, eb.field)),
                      "%s decode, salt %u: error in %s vs %s", d->name, salt, ea.field ? ea.field : "-",
                      eb.field ? eb.field : "-");
            cr_assert_eq(ea.value, eb.value);
            errors += ra != EK3_OK;
            /* Encoding: the decoded struct (table's on an error, so fields
             * may be anything), with one 16-bit word of it set at random. */
            if (seed & 1) {
                uint16_t x = (uint16_t)(seed >> 4);
                memcpy(b + 2 * ((seed >> 9) % (d->ssize / 2)), &x, 2);
            }
            uint8_t wa[64], wb[64];
            memset(wa, 0, sizeof wa);
            memset(wb, 0, sizeof wb);
            ra = msg_encode(t, b, wa, sizeof wa, &ea);
            rb = msg_encode_table(t, b, wb, sizeof wb, &eb);
            cr_assert_eq(ra, rb, "%s encode, salt %u: %d vs the table's %d", d->name, salt, ra, rb);
            cr_assert_eq(memcmp(wa, wb, sizeof wa), 0, "%s encode, salt %u: the bytes differ", d->name, salt);
            cr_assert((!ea.field && !eb.field) || (ea.field && eb.field && !strcmp(ea.field, eb.field)),
                      "%s encode, salt %u: error in %s vs %s", d->name, salt, ea.field ? ea.field : "-",
                      eb.field ? eb.field : "-");
            cr_assert_eq(ea.value, eb.value);
            errors += ra < 0;
            checked++;
        }
    }
    cr_assert_gt(errors, checked / 4, "out-of-range cases were exercised (%u of %u)", errors, checked);
    cr_assert_lt(errors, checked * 2, "and valid ones too");
}
