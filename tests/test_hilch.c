/* test_hilch.c - the HIL channel: both directions between plant and
 * firmware carry their values and units, and every frame type that is
 * not the channel's own (FW_UPDATE included) reaches an external
 * module's firmware as rack-bus traffic. */
#include <criterion/criterion.h>
#include <string.h>

#include "can_id.h"
#include "ek3_err.h"
#include "hilch.h"
#include "msg.h"

static cfd_frame frame(unsigned type, unsigned src, unsigned dst)
{
    cid_fields cf = {CID_PRIO_BACKGROUND, (uint8_t)type, (uint16_t)src, (uint16_t)dst};
    cfd_frame f = {.flags = CFD_FLAG_EFF | CFD_FLAG_FD, .len = 64};
    cr_assert_eq(cid_encode(&cf, &f.id), EK3_OK);
    return f;
}

/* `ek3 fw` routes with hch_route_fw: a FW_UPDATE chunk from the station
 * (type 0xF, above the HIL types) is the rack bus's, for its CAN FIFO. */
Test(hilch, an_external_module_takes_fw_update_from_the_rack_bus)
{
    cfd_frame up = frame(CID_TYPE_FW_UPDATE, CID_NODE_STATION, 3);
    cr_assert_eq(hch_route_fw(&up, 3), HCH_RACK, "FW_UPDATE to module 3");
    cfd_frame hb = frame(CID_TYPE_HEARTBEAT, 2, CID_NODE_BROADCAST);
    cr_assert_eq(hch_route_fw(&hb, 3), HCH_RACK, "another module's heartbeat");
    cr_assert_eq(hch_route_fw(&hb, 2), HCH_NONE, "its own frame back");
    cfd_frame adc = frame(CID_TYPE_HIL_ADC, CID_NODE_PLANT, 3);
    cr_assert_eq(hch_route_fw(&adc, 3), HCH_ADC);
    cr_assert_eq(hch_route_fw(&adc, 4), HCH_NONE, "another module's samples");
    cfd_frame tick = frame(CID_TYPE_HIL_TICK, CID_NODE_PLANT, 3);
    cr_assert_eq(hch_route_fw(&tick, 3), HCH_TICK);
    cfd_frame sff = up;
    sff.flags = 0;
    cr_assert_eq(hch_route_fw(&sff, 3), HCH_NONE, "an 11-bit identifier is not the rack's");
}

/* The plant forwards an external module's rack-bus frames, whatever the
 * type, and counts a HIL type the firmware has no business sending. */
Test(hilch, the_plant_forwards_every_rack_type_from_an_external_module)
{
    cfd_frame up = frame(CID_TYPE_FW_UPDATE, 5, CID_NODE_STATION);
    cr_assert_eq(hch_route_plant(&up, 5), HCH_RACK);
    cr_assert_eq(hch_route_plant(&up, 6), HCH_NONE, "module 5's frame at module 6's end");
    cfd_frame pwm = frame(CID_TYPE_HIL_PWM, 5, CID_NODE_BROADCAST);
    cr_assert_eq(hch_route_plant(&pwm, 5), HCH_PWM);
    cfd_frame adc = frame(CID_TYPE_HIL_ADC, 5, CID_NODE_BROADCAST);
    cr_assert_eq(hch_route_plant(&adc, 5), HCH_BAD);
    for (unsigned t = 0; t <= CID_TYPE_MAX; t++)
        cr_assert_eq(cid_is_hil(t), t >= CID_TYPE_HIL_ADC && t <= CID_TYPE_HIL_TICK, "type %u", t);
}

/* An averaged plant module at the defaults. */
static void plant_module(pmod *m)
{
    plant_params p;
    prm_defaults(&p);
    static lavg_table tab;
    lavg_build(&tab, &p.llc);
    pmod_init(m, &p, PMOD_AVERAGED, &tab, 11);
}

/* Plant -> firmware -> plant: the ADC codes and trip line arrive in the
 * HAL as the plant sampled them; the HAL's command arrives at the plant
 * in its units (Hz, s, duty fraction). */
Test(hilch, both_directions_carry_values_and_units)
{
    static pmod m;
    plant_module(&m);
    m.hw_trip = 1;
    static hhal h;
    hhal_init(&h, 1, 0);
    cfd_frame f;
    cr_assert_eq(hch_adc_send(&m, 7, 42, &f), EK3_OK);
    cr_assert_eq(hch_route_fw(&f, 7), HCH_ADC);
    cr_assert_eq(hch_adc_take(&h, &f), EK3_OK);
    msg_hil_adc a;
    msg_err e;
    cr_assert_eq(msg_decode(CID_TYPE_HIL_ADC, f.data, f.len, &a, &e), EK3_OK);
    cr_assert_eq(a.period, 42u);
    cr_assert_eq(memcmp(h.adc, a.ch, sizeof h.adc), 0);
    cr_assert(h.adc[BRD_ADC_T_AMB] > 0, "an NTC at 35 C reads mid-scale, not 0");
    cr_assert_eq(h.gpio_in & HAL_IN_HW_TRIP, HAL_IN_HW_TRIP, "the trip line");

    h.pwm = (hal_pwm){.fsw_hz = 180000, .deadtime_ns = 250, .burst_permille = 500, .fan_permille = 600, .enable = 1,
                      .half_bridge = 1};
    h.gpio_out = HAL_OUT_FAULT_CLEAR;
    cr_assert_eq(hch_pwm_send(&h, 7, 43, &f), EK3_OK);
    cr_assert_eq(hch_route_plant(&f, 7), HCH_PWM);
    cr_assert_eq(hch_pwm_take(&m, &f), EK3_OK);
    cr_assert_float_eq(m.cmd.fsw, 180e3, 1e-9);
    cr_assert_float_eq(m.cmd.deadtime, 250e-9, 1e-18);
    cr_assert_float_eq(m.cmd.burst, 0.5, 1e-12);
    cr_assert_eq(m.cmd.enable, 1);
    cr_assert_eq(m.cmd.half_bridge, 1);
    cr_assert_float_eq(m.fan_duty, 0.6, 1e-12);
    cr_assert_eq(m.fault_clear, 1);
    f.len = 2;
    cr_assert_eq(hch_pwm_take(&m, &f), EK3_EPARSE, "a short payload");
    cr_assert_eq(hch_adc_take(&h, &f), EK3_EPARSE);
}

/* Burst mode is one fact on the wire, burst_permille: the sender sets no
 * flag for it (bit 1 is reserved) and the plant reads the permille
 * alone, so a stray bit 1 does not put a continuous bridge in burst. */
Test(hilch, burst_mode_is_the_permille_alone)
{
    static pmod m;
    plant_module(&m);
    static hhal h;
    hhal_init(&h, 1, 0);
    h.pwm = (hal_pwm){.fsw_hz = 200000, .deadtime_ns = 300, .burst_permille = 400, .enable = 1};
    msg_hil_pwm pw;
    cr_assert_eq(hch_pwm_read(&h, 5, &pw), EK3_OK);
    cr_assert_eq(pw.flags, MSG_PWM_ENABLE, "only the enable bit: burst is not a flag (flags 0x%x)", pw.flags);
    cr_assert_eq(hch_pwm_apply(&m, &pw), EK3_OK);
    cr_assert_float_eq(m.cmd.burst, 0.4, 1e-12, "burst %g from 400 permille", m.cmd.burst);
    pw.flags = MSG_PWM_ENABLE | MSG_PWM_RESERVED_1;
    pw.burst_permille = 1000;
    cr_assert_eq(hch_pwm_apply(&m, &pw), EK3_OK);
    cr_assert_float_eq(m.cmd.burst, 1.0, 1e-12, "the reserved bit changes nothing: continuous");
}

/* The frameless read (hch_pwm_read: msg_hil_pwm_check, no payload built)
 * accepts and refuses exactly what the frame path's encoder does, and
 * what it accepts is what the frame carries: every HIL_PWM field at its
 * bounds and beyond, and pseudo-random commands. (Checked to fail with
 * msg.c's MSG_CHK_F bound raised by one: MSG_CHK1(lo, (hi) + 1, s->m).) */
Test(hilch, frameless_pwm_read_agrees_with_the_frame)
{
    static hhal h;
    hhal_init(&h, 1, 0);
    const uint32_t fsw[] = {0, 1, 200000, 1000000, 1000001, UINT32_MAX};
    const uint16_t dt[] = {0, 300, 5000, 5001, UINT16_MAX};
    const uint16_t pm[] = {0, 400, 1000, 1001, UINT16_MAX};
    const uint32_t lines[] = {0, HAL_OUT_FAULT_CLEAR, HAL_OUT_RELAY, 0xFFFFu, 0x1FFFFu};
    uint64_t z = 0x9E3779B97F4A7C15ull;
    unsigned ok = 0, refused = 0;
    for (unsigned i = 0; i < 6 * 5 * 5 * 5 + 4000; i++) {
        unsigned a = i % 6, b = i / 6 % 5, c = i / 30 % 5, d = i / 150 % 5;
        if (i < 750) {
            h.pwm = (hal_pwm){.fsw_hz = fsw[a], .deadtime_ns = dt[b], .burst_permille = pm[c],
                              .fan_permille = pm[d], .enable = (uint8_t)(i & 1), .half_bridge = (uint8_t)(i >> 1 & 1)};
            h.gpio_out = lines[i % 5];
        } else {
            z = z * 6364136223846793005ull + 1442695040888963407ull;
            uint64_t x = z ^ (z >> 29);
            h.pwm = (hal_pwm){.fsw_hz = (uint32_t)(x % 1100000), .deadtime_ns = (uint16_t)(x >> 20) % 5200,
                              .burst_permille = (uint16_t)((x >> 34) % 1050), .fan_permille = (uint16_t)((x >> 45) % 1050),
                              .enable = (uint8_t)(x >> 60 & 1), .half_bridge = (uint8_t)(x >> 61 & 1)};
            h.gpio_out = (uint32_t)(x >> 40) & 0xFFFFu;
        }
        msg_hil_pwm pw;
        cfd_frame f;
        int rd = hch_pwm_read(&h, i, &pw), fr = hch_pwm_send(&h, 9, i, &f);
        cr_assert_eq(rd, fr, "command %u: read %d, frame %d", i, rd, fr);
        if (rd != EK3_OK) {
            cr_assert_eq(rd, EK3_ERANGE);
            refused++;
            continue;
        }
        ok++;
        msg_hil_pwm got;
        msg_err e;
        memset(&got, 0, sizeof got);
        cr_assert_eq(msg_decode(CID_TYPE_HIL_PWM, f.data, f.len, &got, &e), EK3_OK);
        cr_assert(got.flags == pw.flags && got.deadtime_ns == pw.deadtime_ns && got.period == pw.period &&
                      got.fsw_hz == pw.fsw_hz && got.burst_permille == pw.burst_permille &&
                      got.fan_permille == pw.fan_permille && got.lines == pw.lines,
                  "command %u: the frame carries what the frameless read gives", i);
    }
    cr_assert(ok > 500 && refused > 500, "both outcomes exercised: %u accepted, %u refused", ok, refused);
}
