/* cmd_fw.c - `ek3 fw`: one module's firmware as a process of its own,
 * on a bus to the plant (`ek3 rack --external`, `ek3 plant serve`). */
#include <stdio.h>
#include <string.h>

#include "can_id.h"
#include "cli.h"
#include "cmd.h"
#include "ek3_err.h"
#include "fwinst.h"
#include "msg.h"
#include "transport.h"

int cmd_fw(int argc, char **argv)
{
    const char *w = "fw", *bus = NULL;
    int64_t slot = 0;
    uint64_t seed = 1;
    double vset = 750, silence = 5.0, stop_after = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            puts("usage: ek3 fw --module N --bus SPEC [--seed 1] [--vset 750] [--silence 5s]\n"
                 "              [--stop-after QUANTA]\n\n"
                 "Run module N's firmware (JEZGRO, its services, LLC_CONTROL) as its own process.\n"
                 "It says HELLO on the bus, then runs one control period per HIL_TICK SYNC\n"
                 "from the plant (the time master): the HIL_ADC frame in, HIL_PWM and its CAN\n"
                 "frames out, then DONE. It exits on BYE, or when the plant has been silent\n"
                 "for --silence. The same --seed as the rack gives the same firmware as an\n"
                 "in-process module. --stop-after makes it vanish without a word after that\n"
                 "many periods (a crash, for tests). SPEC: udp:HOST:PORT (the plant listens\n"
                 "on BASE + N for module N), or a SocketCAN interface.");
            return CLI_OK;
        } else if (!strcmp(a, "--module") && v) {
            if (cli_parse_i64(v, 1, 510, &slot))
                return cli_usage_error(w, "--module '%s': 1 to 510", v);
        } else if (!strcmp(a, "--bus") && v) {
            bus = v;
        } else if (!strcmp(a, "--seed") && v) {
            if (cli_parse_u64(v, UINT64_MAX, &seed))
                return cli_usage_error(w, "--seed '%s': a number", v);
        } else if (!strcmp(a, "--vset") && v) {
            if (cli_parse_quantity(v, "V", &vset) || !(vset >= 200 && vset <= 920))
                return cli_usage_error(w, "--vset '%s': 200 to 920 V", v);
        } else if (!strcmp(a, "--silence") && v) {
            if (cli_parse_quantity(v, "s", &silence) || !(silence > 0 && silence <= 3600))
                return cli_usage_error(w, "--silence '%s': a time above 0", v);
        } else if (!strcmp(a, "--stop-after") && v) {
            int64_t n;
            if (cli_parse_i64(v, 0, INT32_MAX, &n))
                return cli_usage_error(w, "--stop-after '%s': a number of periods", v);
            stop_after = (double)n;
        } else {
            return cli_usage_error(w, "unknown argument '%s'", a);
        }
        i++;
    }
    if (!slot || !bus)
        return cli_usage_error(w, "--module and --bus are required");
    tp t;
    int rc = tp_open(&t, bus);
    if (rc)
        return cli_fail(w, "%s: %s", bus, ek3_strerror(rc));
    static fwi f;
    llcc_cfg cc;
    llcc_default_cfg(&cc);
    if ((rc = fwi_init(&f, (unsigned)slot, seed, &cc, (float)vset))) {
        tp_close(&t);
        return cli_fail(w, "module %lld: %s", (long long)slot, ek3_strerror(rc));
    }
    cfd_frame fr;
    msg_hil_tick hello = {MSG_TICK_HELLO, 0, 0};
    if (fwi_hil_frame(CID_TYPE_HIL_TICK, (unsigned)slot, CID_NODE_BROADCAST, &hello, &fr) || tp_send(&t, &fr)) {
        fwi_free(&f);
        tp_close(&t);
        return cli_fail(w, "%s: cannot say HELLO", bus);
    }
    cfd_frame adc, hello_frame = fr;
    int have_adc = 0, result = CLI_OK;
    uint32_t periods = 0;
    /* Until the plant's first SYNC, say HELLO every 100 ms (it may start later). */
    int synced = 0;
    double quiet = 0;
    for (;;) {
        int p = tp_poll(&t, synced ? (int)(silence * 1000) : 100);
        if (p != 1) {
            quiet += synced ? silence : 0.1;
            if (quiet >= silence) {
                result = cli_fail(w, "module %lld: the plant has been silent for %g s; stopping", (long long)slot,
                                  silence);
                break;
            }
            if (!synced)
                tp_send(&t, &hello_frame);
            continue;
        }
        quiet = 0;
        int bye = 0;
        while (!bye && tp_recv(&t, &fr) == EK3_OK) {
            int type = fwi_frame_type(&fr);
            cid_fields cf;
            cid_decode(fr.id, &cf);
            if (type == CID_TYPE_HIL_ADC && cf.dst == slot) {
                adc = fr;
                have_adc = 1;
            } else if (type == CID_TYPE_HIL_TICK && cf.dst == slot) {
                msg_hil_tick tick;
                msg_err e;
                if (msg_decode(CID_TYPE_HIL_TICK, fr.data, fr.len, &tick, &e) != EK3_OK)
                    continue;
                if (tick.kind == MSG_TICK_BYE) {
                    bye = 1;
                    break;
                }
                if (tick.kind != MSG_TICK_SYNC)
                    continue;
                synced = 1;
                if (stop_after >= 0 && periods >= stop_after) { /* vanish: no DONE, no BYE */
                    fwi_free(&f);
                    tp_close(&t);
                    return CLI_OK;
                }
                cfd_frame pwm, out;
                fwi_period(&f, have_adc ? &adc : NULL, tick.quantum, &pwm);
                have_adc = 0;
                periods++;
                tp_send(&t, &pwm);
                while (hhal_can_take(&f.h, &out) == EK3_OK)
                    tp_send(&t, &out);
                msg_hil_tick done = {MSG_TICK_DONE, tick.quantum, tick.time_ns};
                if (fwi_hil_frame(CID_TYPE_HIL_TICK, (unsigned)slot, CID_NODE_BROADCAST, &done, &out) == EK3_OK)
                    tp_send(&t, &out);
            } else if (type >= 0 && type < CID_TYPE_HIL_ADC) {
                hhal_can_deliver(&f.h, &fr); /* the rack bus */
            }
        }
        if (bye)
            break;
    }
    fprintf(stderr, "ek3 fw: module %lld ran %u periods (%u resets, %u bad frames; %s: %llu frames in, %llu out)\n",
            (long long)slot, periods, f.resets, f.bad_frames, t.name, (unsigned long long)t.st.rx_frames,
            (unsigned long long)t.st.tx_frames);
    fwi_free(&f);
    tp_close(&t);
    return result;
}
