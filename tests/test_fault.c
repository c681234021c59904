/* test_fault.c - the fault vocabulary (hil_bridge/fault.h): the table is
 * whole and its text form reads back; a bad spec is refused naming the
 * part and why; and every fault, injected through the table into a
 * running rack, has its effect on the plant, the firmware or the bus
 * (and its clear undoes it). docs/faults.md is the table's output. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "board.h"
#include "ek3_err.h"
#include "fault.h"
#include "msg.h"
#include "rig.h"
#include "rtlprot.h"

#include "fault_rig.h"

static void setup(void)
{
    fault_rig_start();
    cr_assert_gt(g.plant.mod[1].io, 0.5, "running before the fault");
}

/* ---- the table and its text form ---- */

Test(fault, the_table_is_whole_and_each_spec_reads_back)
{
    cr_assert_eq(flt_count, (unsigned)FLT_COUNT_);
    for (unsigned i = 0; i < flt_count; i++) {
        const flt_def *d = &flt_table[i];
        cr_assert(d->name && d->models && *d->models, "row %u", i);
        cr_assert(d->expects && *d->expects, "%s: the reaction it expects", d->name);
        cr_assert_eq(flt_find(d->name), (int)i, "%s found by name", d->name);
        for (unsigned j = i + 1; j < flt_count; j++)
            cr_assert_str_neq(d->name, flt_table[j].name);
        cr_assert_leq(d->np, FLT_PARAMS);
        for (unsigned j = 0; j < d->np; j++)
            cr_assert(d->p[j].def >= d->p[j].min && d->p[j].def <= d->p[j].max, "%s.%s default in its range",
                      d->name, d->p[j].name);
        flt_spec s, back;
        cr_assert_eq(flt_spec_init(&s, i, 2, 3), EK3_OK);
        s.t = 0.25;
        char text[256], err[256] = "";
        cr_assert_eq(flt_format(&s, text, sizeof text), EK3_OK);
        cr_assert_eq(flt_parse(text, &back, err, sizeof err), EK3_OK, "%s: %s", text, err);
        cr_assert_eq(back.id, i, "%s", text);
        cr_assert_eq(back.t, 0.25, "%s", text);
        if (d->target == FLT_T_SLOT || d->target == FLT_T_NODE || d->target == FLT_T_SERVICE)
            cr_assert_eq(back.target, 2u, "%s", text);
        if (d->target == FLT_T_SERVICE)
            cr_assert_eq(back.svc, 3u, "%s", text);
        for (unsigned j = 0; j < d->np; j++)
            cr_assert_eq(back.p[j], s.p[j], "%s", text);
    }
    cr_assert_eq(flt_find("no-such-fault"), EK3_ENOENT);
    /* A parameter reads back as the user wrote it: with its SI prefix,
     * where its unit takes one and the prefixed text is exact. */
    static const char *const same[] = {"igf:5@1.2s:i=40mA", "igf:5@1s:i=2.5A", "igf:5@1s:i=100mA", "igf:5@1s:i=1uA"};
    for (unsigned i = 0; i < sizeof same / sizeof same[0]; i++) {
        flt_spec s, back;
        char text[256], err[256] = "";
        cr_assert_eq(flt_parse(same[i], &s, err, sizeof err), EK3_OK, "%s: %s", same[i], err);
        cr_assert_eq(flt_format(&s, text, sizeof text), EK3_OK);
        cr_assert_str_eq(text, same[i]);
        cr_assert_eq(flt_parse(text, &back, err, sizeof err), EK3_OK, "%s", err);
        cr_assert_eq(back.p[0], s.p[0], "%s", text);
    }
    /* -0 is 0, echoed without its sign */
    flt_spec z;
    char zt[256];
    cr_assert_eq(flt_parse("igf:5@1s:i=-0mA", &z, NULL, 0), EK3_OK);
    cr_assert_eq(flt_format(&z, zt, sizeof zt), EK3_OK);
    cr_assert_str_eq(zt, "igf:5@1s:i=0A");
}

Test(fault, a_spec_with_units_and_prefixes)
{
    flt_spec s;
    cr_assert_eq(flt_parse("igf:3@1.5ms:i=40mA", &s, NULL, 0), EK3_OK);
    cr_assert_eq(s.id, (unsigned)FLT_IGF);
    cr_assert_eq(s.target, 3u);
    cr_assert_float_eq(s.t, 1.5e-3, 1e-15);
    cr_assert_float_eq(s.p[0], 0.040, 1e-15);
    cr_assert_eq(flt_parse("adc-stuck:2@0:code=4095", &s, NULL, 0), EK3_OK);
    cr_assert_eq(s.p[0], 0.0, "ch takes its default");
    cr_assert_eq(s.p[1], 4095.0);
    cr_assert_eq(flt_parse("svc-crash:7.2@1s", &s, NULL, 0), EK3_OK);
    cr_assert(s.target == 7 && s.svc == 2);
    cr_assert_eq(flt_parse("svc-crash:7.THERMAL_MGR@1s", &s, NULL, 0), EK3_OK, "a service by its name");
    cr_assert(s.target == 7 && s.svc == 3);
    cr_assert_eq(flt_parse("svc-hang:leader.health_monitor@1s", &s, NULL, 0), EK3_OK, "case ignored");
    cr_assert(s.leader && s.svc == 4);
    cr_assert_eq(flt_parse("bus-errors:bus@0s:drop=0.5", &s, NULL, 0), EK3_OK);
    cr_assert(s.p[0] == 0.01 && s.p[1] == 0.5);
}

static void refused(const char *text, int rc, const char *why)
{
    flt_spec s;
    char err[256] = "";
    cr_assert_eq(flt_parse(text, &s, err, sizeof err), rc, "%s: %s", text, err);
    cr_assert(strstr(err, why), "%s: '%s' says '%s'", text, err, why);
}

Test(fault, a_bad_spec_is_refused_naming_the_part_and_why)
{
    refused("pull", EK3_EPARSE, "NAME:TARGET@TIME");
    refused("yank:3@1s", EK3_ENOENT, "no fault named 'yank'");
    refused("igff:3@1s", EK3_ENOENT, "no fault named 'igff' (closest: igf");
    /* the words the other way round, and a name that is one of its words (no suggestion before) */
    refused("igf-trip:3@1s", EK3_ENOENT, "no fault named 'igf-trip' (closest: igf, trip-gfi; ek3 faults lists them)");
    refused("gfi-trip:3@1s", EK3_ENOENT, "no fault named 'gfi-trip' (closest: trip-gfi; ek3 faults lists them)");
    refused("nosuch:3@1s", EK3_ENOENT, "no fault named 'nosuch' (ek3 faults lists them)"); /* none near: no list */
    refused("igf:3@1s:i=40mA:i=1A", EK3_EPARSE, "parameters are separated by ','");
    refused("short:rack@1s:r=2.5KOhm", EK3_EPARSE, "r='2.5KOhm': kilo is a lower-case k (2.5kohm)");
    refused("igf:3@1s:i=40ma", EK3_EPARSE, "i='40ma': the unit is A (40mA is milli, 40MA mega)");
    refused("igf:3@1s:i=1a", EK3_EPARSE, "i='1a': the unit is A (1A)");
    refused("pull:3", EK3_EPARSE, "no @TIME");
    refused("pull:0@1s", EK3_EPARSE, "target '0' must be a slot 1 to the rack's modules, or leader");
    refused("bus-cut:511@1s", EK3_EPARSE,
            "bus node 0 (the station) to the rack's modules, or leader (a whole number; the rack's modules are 510 at "
            "most)");
    refused("short:3@1s", EK3_EPARSE, "target '3' must be 'rack'");
    refused("svc-hang:3@1s", EK3_EPARSE, "SLOT.SERVICE");
    refused("svc-hang:3.0@1s", EK3_EPARSE,
            "service '0' is neither an id (1 to 31 a kernel may hold; the rig's firmware has 1 to 7) nor a name");
    refused("svc-hang:3.THERMAL@1s", EK3_EPARSE, "did you mean THERMAL_MGR? the services are AUDIT_LOGGER");
    refused("bus-split:bus@1s:at=2", EK3_ENOENT, "(it takes from=N; the onset is the @TIME after the target)");
    refused("pull:3@soon", EK3_EPARSE, "time 'soon'");
    refused("pull:3@-1s", EK3_EPARSE, "time '-1s'");
    refused("igf:3@1s:i=20A", EK3_ERANGE, "igf: parameter i=20 A is out of range 0 A to 10 A");
    refused("igf:3@1s:i=40MA", EK3_ERANGE, "igf: parameter i=40 MA is out of range 0 A to 10 A"); /* the prefix shown */
    refused("IGF:3@1s", EK3_ENOENT, "no fault named 'IGF': fault names are lower case (igf)");
    refused("fan:3@1s:health=1.5", EK3_ERANGE, "fan: parameter health=1.5 is out of range 0 to 1");
    refused("adc-offset:3@1s:ch=12", EK3_ERANGE, "adc-offset: parameter ch=12 is out of range 0 to 11");
    refused("adc-offset:3@1s:ch=1.5", EK3_ERANGE, "ch=1.5 must be a whole number");
    refused("igf:3@1s:i=5V", EK3_EPARSE, "i='5V': the unit 'V' is not i's (i takes A: e.g. 50mA)");
    refused("igf:3@1s:i=5 mV", EK3_EPARSE, "the unit 'mV' is not i's");
    refused("igf:3@1s:i=lots", EK3_EPARSE, "i='lots' is not a number of A");
    refused("vdc-sag:3@1s:frac=5%", EK3_EPARSE, "frac='5%': a fraction, written 0.05 (not a percentage)");
    refused("vdc-sag:3@1s:t=5m", EK3_EPARSE, "t='5m': milliseconds or minutes? write 5ms or 5min");
    refused("adc-offset:3@1s:lsb=5V", EK3_EPARSE, "lsb takes a plain number (no unit), e.g. 100");
    refused("short@1s:r=1", EK3_EPARSE, "no target before '@' (NAME:TARGET@TIME; short's target is rack, e.g. "
                                        "short:rack@1s)");
    refused("igf@1s", EK3_EPARSE, "igf's target is SLOT, e.g. igf:3@1s)");
    refused("igf", EK3_EPARSE,
            "fault 'igf': no target and no time (NAME:TARGET@TIME; igf's target is SLOT, e.g. "
            "igf:3@1s)");
    refused("svc-crash", EK3_EPARSE, "svc-crash's target is SLOT.SERVICE, e.g. svc-crash:7.THERMAL_MGR@1s)");
    refused("nosuch", EK3_ENOENT, "'nosuch': no fault named 'nosuch' (");
    refused("nosuch@1s", EK3_ENOENT, "'nosuch@1s': no fault named 'nosuch' (");
    refused("igg", EK3_ENOENT, "no fault named 'igg' (closest: igf");
    refused("", EK3_EPARSE, "fault '': empty (NAME:TARGET@TIME[:P=V,...], e.g. pull:42@1s)");
    refused("@1s", EK3_EPARSE,
            "fault '@1s': no fault name before the '@' (NAME:TARGET@TIME[:P=V,...], e.g. pull:42@1s");
    refused(":3@1s", EK3_EPARSE, "fault ':3@1s': no fault name before the ':' (");
    refused("igf:", EK3_EPARSE, "fault 'igf:': no target and no time (NAME:TARGET@TIME; igf's target is SLOT");
    flt_spec ok;
    cr_assert_eq(flt_parse("short:rack@1s:r=2Ohm", &ok, NULL, 0), EK3_OK, "the ohm in any case");
    cr_assert_eq(ok.p[0], 2.0);
    refused("igf:3@1s:amps=1", EK3_ENOENT, "no parameter 'amps' (it takes i=A)");
    refused("igf:3@1s:i=1mA,i=2mA", EK3_EPARSE, "given twice");
    refused("igf:3@1s:i", EK3_EPARSE, "'i' is not P=V");
    refused("pull:3@1s:x=1", EK3_ENOENT, "it takes none");
}

Test(fault, a_spec_is_checked_against_the_rack, .init = setup, .fini = teardown)
{
    flt_spec s;
    char err[256] = "";
    cr_assert_eq(flt_parse("pull:5@1s", &s, NULL, 0), EK3_OK);
    cr_assert_eq(flt_check(&g, &s, err, sizeof err), EK3_ENOENT);
    cr_assert_str_eq(err, "pull: slot 5 is not in a rack of 4");
    cr_assert_eq(flt_inject(&g, &s), EK3_ENOENT, "and not injected");
    cr_assert_eq(flt_parse("igf:2@1s:i=0.5", &s, NULL, 0), EK3_OK);
    cr_assert_eq(flt_check(&g, &s, err, sizeof err), EK3_ERANGE);
    cr_assert(strstr(err, "above the channel's full scale fs_igf=0.1 A"), "%s", err);
    cr_assert_eq(flt_parse("svc-crash:2.31@1s", &s, NULL, 0), EK3_OK);
    cr_assert_eq(flt_check(&g, &s, err, sizeof err), EK3_ENOENT);
    cr_assert(strstr(err, "slot 2's kernel has no service 31"), "%s", err);
    cr_assert_eq(flt_parse("svc-crash:2.1@1s", &s, NULL, 0), EK3_OK);
    cr_assert_eq(flt_clear(&g, &s), EK3_EINVAL, "a crash cannot be undone");
}

/* A kernel fault timed before every MCU has left the rack's power-on
 * reset (FWI_BOOT_SPREAD_NS) is refused on every seed and slot, not only
 * where this seed's draw holds the slot past it (a scenario of several
 * seeds would pass on some and ERROR on others); one timed before a
 * module's own later start (held again, as an inserted module is) is
 * refused naming when it starts; bad-image, which waits for a trial, is
 * taken. */
Test(fault, a_kernel_fault_before_the_mcu_starts_is_refused)
{
    static rig h;
    char text[64], err[256] = "", want[160];
    flt_spec s;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        rig_opts o;
        rig_default_opts(&o, 8, seed, 8000.0);
        cr_assert_eq(rig_init(&h, &o), EK3_OK);
        for (unsigned slot = 1; slot <= 8; slot++) {
            snprintf(text, sizeof text, "svc-crash:%u.1@5ms", slot);
            cr_assert_eq(flt_parse(text, &s, NULL, 0), EK3_OK);
            cr_assert_eq(flt_check(&h, &s, err, sizeof err), EK3_EBUSY, "seed %llu, %s (boot at %.1f ms): %s",
                         (unsigned long long)seed, text, fwi_boot_delay_ns(seed, slot) * 1e-6, err);
            snprintf(want, sizeof want, "slot %u's firmware may not run before 10 ms", slot);
            cr_assert(strstr(err, want) && strstr(err, "at 5.0 ms is refused on every seed"), "'%s'", err);
            snprintf(text, sizeof text, "module-reboot:%u@9.99ms", slot); /* not rounded up to the 10 ms allowed */
            cr_assert_eq(flt_parse(text, &s, NULL, 0), EK3_OK);
            cr_assert_eq(flt_check(&h, &s, err, sizeof err), EK3_EBUSY, "%s", text);
            cr_assert(strstr(err, "at 9.99 ms is refused on every seed"), "'%s'", err);
            snprintf(text, sizeof text, "module-reboot:%u@10ms", slot);
            cr_assert_eq(flt_parse(text, &s, NULL, 0), EK3_OK);
            cr_assert_eq(flt_check(&h, &s, err, sizeof err), EK3_OK, "%s, every MCU out of reset: %s", text, err);
            snprintf(text, sizeof text, "bad-image:%u@0s", slot);
            cr_assert_eq(flt_parse(text, &s, NULL, 0), EK3_OK);
            cr_assert_eq(flt_check(&h, &s, err, sizeof err), EK3_OK, "%s: %s", text, err);
        }
        if (seed < 6)
            rig_free(&h);
    }
    /* A module held again until 50 ms (as one inserted then is). */
    fwi_hold(&h.m[2].fw, 50000000);
    cr_assert_eq(flt_parse("svc-hang:3.1@20ms", &s, NULL, 0), EK3_OK);
    cr_assert_eq(flt_check(&h, &s, err, sizeof err), EK3_EBUSY);
    cr_assert(strstr(err, "slot 3's MCU is held in reset until 50.0 ms into the run: its firmware is not running at 20.0 ms"),
              "'%s'", err);
    cr_assert_eq(flt_parse("svc-hang:3.1@50ms", &s, NULL, 0), EK3_OK);
    cr_assert_eq(flt_check(&h, &s, err, sizeof err), EK3_OK, "%s", err);
    rig_free(&h);
}

/* A bus cut going in now, of a node cut off already, is refused: a
 * second cut would do nothing, yet read as injected. Once cleared, the
 * node may be cut again. */
Test(fault, a_second_cut_of_a_node_cut_off_is_refused)
{
    static rig h;
    rig_opts o;
    rig_default_opts(&o, 4, 1, 4000.0);
    cr_assert_eq(rig_init(&h, &o), EK3_OK);
    char err[256] = "";
    flt_spec cut, stn;
    cr_assert_eq(flt_parse("bus-cut:3@0s", &cut, NULL, 0), EK3_OK);
    cr_assert_eq(flt_go(&h, &cut, err, sizeof err), EK3_OK, "%s", err);
    cr_assert_eq(flt_go(&h, &cut, err, sizeof err), EK3_EBUSY);
    cr_assert(strstr(err, "bus-cut: slot 3 is cut off the rack bus already"), "%s", err);
    cr_assert_eq(flt_clear(&h, &cut), EK3_OK, "the cut undone");
    cr_assert_eq(flt_go(&h, &cut, err, sizeof err), EK3_OK, "cut again after its clear: %s", err);
    cr_assert_eq(flt_parse("bus-cut:0@0s", &stn, NULL, 0), EK3_OK);
    cr_assert_eq(flt_go(&h, &stn, err, sizeof err), EK3_OK, "%s", err);
    cr_assert_eq(flt_go(&h, &stn, err, sizeof err), EK3_EBUSY);
    cr_assert(strstr(err, "bus-cut: the station (node 0) is cut off the rack bus already"), "%s", err);
    /* a slot emptied (as a leader's pull may, known only in the run): no node on the bus, no module to take it */
    flt_spec pull, igf;
    cr_assert_eq(flt_parse("pull:2@0s", &pull, NULL, 0), EK3_OK);
    cr_assert_eq(flt_go(&h, &pull, err, sizeof err), EK3_OK, "%s", err);
    cr_assert_eq(flt_parse("bus-cut:2@0s", &cut, NULL, 0), EK3_OK);
    cr_assert_eq(flt_go(&h, &cut, err, sizeof err), EK3_EBUSY);
    cr_assert(strstr(err, "bus-cut: slot 2 is empty (its module pulled): no node on the rack bus there"), "%s", err);
    cr_assert_eq(flt_parse("igf:2@0s", &igf, NULL, 0), EK3_OK);
    cr_assert_eq(flt_go(&h, &igf, err, sizeof err), EK3_EBUSY);
    cr_assert(strstr(err, "igf: slot 2 is empty (its module pulled): no module there to take it"), "%s", err);
    rig_free(&h);
}

/* A slot's fault going in now is checked against the slot as it is: an
 * insert into a slot that holds a module, a pull of an empty one, are
 * refused naming why; one scheduled later is checked when it goes in;
 * a pull is undone (clear) though its slot is empty then. */
Test(fault, a_slot_fault_is_checked_against_the_slot_now)
{
    static rig h;
    rig_opts o;
    rig_default_opts(&o, 4, 1, 4000.0);
    cr_assert_eq(rig_init(&h, &o), EK3_OK);
    char err[256] = "";
    flt_spec ins, pull;
    cr_assert_eq(flt_parse("insert:2@0s", &ins, NULL, 0), EK3_OK);
    cr_assert_eq(flt_check(&h, &ins, err, sizeof err), EK3_EBUSY);
    cr_assert(strstr(err, "insert: slot 2 holds a module (pull it first)"), "%s", err);
    cr_assert_eq(flt_parse("insert:2@1s", &ins, NULL, 0), EK3_OK);
    cr_assert_eq(flt_check(&h, &ins, err, sizeof err), EK3_OK, "later: checked when it goes in: %s", err);
    cr_assert_eq(flt_inject(&h, &ins), EK3_EBUSY, "going in now, into a full slot");
    cr_assert_eq(flt_parse("pull:2@0s", &pull, NULL, 0), EK3_OK);
    cr_assert_eq(flt_inject(&h, &pull), EK3_OK);
    cr_assert_eq(flt_check(&h, &pull, err, sizeof err), EK3_EBUSY);
    cr_assert(strstr(err, "pull: slot 2 is empty (pulled already)"), "%s", err);
    /* A kernel fault into the pulled module: its firmware is not there. */
    flt_spec k;
    cr_assert_eq(flt_parse("svc-crash:2.1@0s", &k, NULL, 0), EK3_OK);
    h.t_ns = 20000000; /* past every MCU's power-on reset */
    cr_assert_eq(flt_check(&h, &k, err, sizeof err), EK3_EBUSY);
    cr_assert(strstr(err, "svc-crash: slot 2's module is pulled: its firmware is not running"), "%s", err);
    cr_assert_eq(flt_inject(&h, &k), EK3_EBUSY);
    cr_assert_eq(flt_parse("module-reboot:2@0s", &k, NULL, 0), EK3_OK);
    cr_assert_eq(flt_inject(&h, &k), EK3_EBUSY, "a pulled module does not reboot");
    cr_assert_eq(flt_clear(&h, &pull), EK3_OK, "the pull undone: the module back");
    cr_assert(h.plant.mod[1].present);
    rig_free(&h);
}

Test(fault, the_protection_codes_map_to_the_protocols)
{
    cr_assert_eq(flt_msg_code(RTLP_OVP), MSG_FAULT_OVP);
    cr_assert_eq(flt_msg_code(RTLP_OCP), MSG_FAULT_OCP);
    cr_assert_eq(flt_msg_code(RTLP_OTP), MSG_FAULT_OTP);
    cr_assert_eq(flt_msg_code(RTLP_GFI), MSG_FAULT_GFI);
    cr_assert_eq(flt_msg_code(RTLP_NONE), MSG_FAULT_NONE);
    cr_assert_eq(flt_msg_code(99), MSG_FAULT_NONE);
}

Test(fault, docs_faults_md_is_the_tables_output)
{
    char *gen = NULL, *doc = NULL;
    size_t ng = 0;
    FILE *f = open_memstream(&gen, &ng);
    cr_assert_not_null(f);
    cr_assert_eq(flt_print(f, 1, NULL), EK3_OK);
    fclose(f);
    FILE *d = fopen(EK3_SOURCE_DIR "/docs/faults.md", "r");
    cr_assert_not_null(d, "docs/faults.md");
    fseek(d, 0, SEEK_END);
    long nd = ftell(d);
    rewind(d);
    doc = calloc(1, (size_t)nd + 1);
    cr_assert_eq(fread(doc, 1, (size_t)nd, d), (size_t)nd);
    fclose(d);
    cr_assert_not_null(strstr(doc, gen), "docs/faults.md holds `ek3 faults --markdown` as it is now");
    free(gen);
    free(doc);
}

/* ---- plant ---- */

Test(fault, pull_and_insert, .init = setup, .fini = teardown)
{
    inject("pull:2@0s");
    run_ms(200);
    cr_assert_eq(g.plant.mod[1].present, 0);
    cr_assert_eq(g.plant.mod[1].io, 0.0, "a pulled module gives nothing");
    double others = g.plant.mod[0].io + g.plant.mod[2].io + g.plant.mod[3].io;
    cr_assert(fabs(g.plant.i_load - others) < 0.02, "the other three carry the load (%.3f of %.3f A)", others,
              g.plant.i_load);
    flt_spec s;
    cr_assert_eq(flt_parse("pull:2@0s", &s, NULL, 0), EK3_OK);
    cr_assert_eq(flt_inject(&g, &s), EK3_EBUSY, "already out");
    uint32_t resets = g.m[1].fw.k.resets;
    inject("insert:2@0s");
    cr_assert_eq(g.plant.mod[1].present, 1);
    cr_assert_eq(g.plant.mod[1].vo, 0.0, "a fresh module, its output discharged");
    cr_assert_eq(g.plant.mod[1].relay, 0, "its output relay open");
    cr_assert_eq(g.m[1].fw.k.resets, resets + 1, "its firmware boots as it is powered");
    cr_assert_eq(g.m[1].fw.resets, 0u, "powered up, not reset: the report's resets column reads 0");
    /* this rig boots its modules on (rig_default_opts): a soft start from
     * zero into its bleeder, not the pulled firmware's wound-up drive */
    double vmax = 0;
    for (int ms = 0; ms < 300; ms++) {
        run_ms(1);
        vmax = fmax(vmax, g.plant.mod[1].vo);
    }
    cr_assert_lt(vmax, 760.0, "its output soft-starts to its set point, no higher (%.1f V)", vmax);
}

Test(fault, igf_trips_the_firmware_gfi_and_the_station_hears_it, .init = setup, .fini = teardown)
{
    inject("igf:2@0s:i=50mA");
    run_ms(2);
    cr_assert(g.m[1].fw.drv.safety.latched & 1u << MSG_FAULT_GFI, "GFI latched in module 2's firmware");
    cr_assert_eq(g.stn.m[1].fault.code, MSG_FAULT_GFI, "and the station has its FAULT_ALERT");
    cr_assert_eq(g.m[0].fw.drv.safety.latched, 0, "module 1 untouched");
}

Test(fault, fan_seized_stops_the_fan_and_clear_restarts_it)
{
    rig_opts o;
    rig_default_opts(&o, 2, 5, 5600.0);
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    pmod *m = &g.plant.mod[0];
    cr_assert_eq(pmod_command(m, &m->cmd, 1.0), EK3_OK);
    inject("fan:1@0s:health=0");
    for (int i = 0; i < 200; i++) /* 20 ms of plant, the fan at full duty */
        pmod_step(m, 1e-4, -1);
    cr_assert_eq(m->th.fan_speed, 0.0, "seized: it does not turn");
    clear("fan:1@0s");
    for (int i = 0; i < 20000; i++)
        pmod_step(m, 1e-4, -1);
    cr_assert_gt(m->th.fan_speed, 0.5, "cleared: it spins up (%.2f)", m->th.fan_speed);
    rig_free(&g);
}

Test(fault, output_short_collapses_the_bus, .init = setup, .fini = teardown)
{
    cr_assert_gt(g.plant.vbus, 700);
    inject("short:rack@0s:r=0.5ohm");
    run_ms(20);
    cr_assert_lt(g.plant.vbus, 100, "the bus collapsed (%.1f V)", g.plant.vbus);
    clear("short:rack@0s");
    cr_assert_eq(g.plant.r_short, 0.0);
}

/* The codes module `slot` would read now, from a copy (the rig's own
 * generator does not move). */
static void adc_now(unsigned slot, uint16_t c[PMOD_ADC_CHANNELS])
{
    pmod m = g.plant.mod[slot - 1];
    pmod_adc(&m, c);
}

Test(fault, adc_offset_moves_one_channel_by_its_codes, .init = setup, .fini = teardown)
{
    uint16_t a[PMOD_ADC_CHANNELS], b[PMOD_ADC_CHANNELS];
    adc_now(3, a);
    inject("adc-offset:3@0s:ch=1,lsb=-200");
    adc_now(3, b);
    for (int c = 0; c < PMOD_ADC_CHANNELS; c++)
        cr_assert_eq(b[c], c == 1 ? a[c] - 200 : a[c], "channel %d: %u -> %u", c, a[c], b[c]);
    clear("adc-offset:3@0s:ch=1");
    adc_now(3, b);
    cr_assert_eq(memcmp(a, b, sizeof a), 0, "cleared");
}

Test(fault, adc_stuck_vout_at_full_scale_trips_the_firmware_ovp, .init = setup, .fini = teardown)
{
    uint16_t a[PMOD_ADC_CHANNELS], b[PMOD_ADC_CHANNELS];
    adc_now(1, a);
    inject("adc-stuck:1@0s:ch=0,code=4095");
    adc_now(1, b);
    cr_assert_eq(b[0], 4095);
    cr_assert_eq(memcmp(a + 1, b + 1, sizeof a - sizeof a[0]), 0, "the others read as before");
    run_ms(2);
    cr_assert(g.m[0].fw.drv.safety.latched & 1u << MSG_FAULT_OVP, "OVP latched on a stuck 1000 V reading");
}

/* ---- rack bus ---- */

Test(fault, bus_corrupt_raises_the_nodes_tec, .init = setup, .fini = teardown)
{
    uint64_t err0 = g.bus.node[2].tx_errors, ok0 = g.bus.node[2].tx_ok;
    inject("bus-corrupt:2@0s:frames=5");
    run_ms(1500); /* five tries of its next frame fail, then the rest get through */
    cr_assert_eq(g.bus.node[2].tx_errors - err0, 5u, "5 of its transmissions failed");
    uint64_t ok = g.bus.node[2].tx_ok - ok0;
    cr_assert_gt(ok, 0u);
    cr_assert_eq(g.bus.node[2].tec, ok >= 5 * 8 ? 0u : 5 * 8 - ok,
                 "TEC + 8 each, - 1 for each of the %u frames that got through (%u)", (unsigned)ok, g.bus.node[2].tec);
    cr_assert_eq(g.bus.node[1].tx_errors, 0u);
}

Test(fault, bus_errors_drop_and_corrupt_at_their_rates, .init = setup, .fini = teardown)
{
    uint64_t ef0 = g.bus.error_frames, drop0 = g.bus.node[0].rx_dropped;
    inject("bus-errors:bus@0s:corrupt=0.3,drop=0.5");
    run_ms(3000);
    cr_assert_gt(g.bus.error_frames - ef0, 2u, "error frames on the wire");
    cr_assert_gt(g.bus.node[0].rx_dropped - drop0, 2u, "frames the station lost");
    clear("bus-errors:bus@0s");
    ef0 = g.bus.error_frames;
    drop0 = g.bus.node[0].rx_dropped;
    run_ms(3000);
    cr_assert_eq(g.bus.error_frames, ef0);
    cr_assert_eq(g.bus.node[0].rx_dropped, drop0);
}

/* "leader" names the rack's SWARM_COORD leader when the fault goes in:
 * read back as written, refused while the rack has none, and made
 * concrete by flt_resolve so that the clear undoes it where it went in. */
Test(fault, a_leader_target_is_the_swarm_leader_when_it_goes_in, .fini = teardown)
{
    rig_opts o;
    rig_default_opts(&o, 4, 3, 6000.0);
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    flt_spec s;
    char text[128], err[256] = "";
    cr_assert_eq(flt_parse("svc-crash:leader.7@1s", &s, err, sizeof err), EK3_OK, "%s", err);
    cr_assert(s.leader && s.svc == 7u);
    cr_assert_eq(flt_format(&s, text, sizeof text), EK3_OK);
    cr_assert_str_eq(text, "svc-crash:leader.7@1s");
    cr_assert_eq(flt_parse("module-reboot:leader@0s", &s, err, sizeof err), EK3_OK, "%s", err);
    cr_assert_eq(flt_format(&s, text, sizeof text), EK3_OK);
    cr_assert_str_eq(text, "module-reboot:leader@0s");
    cr_assert_eq(flt_parse("ambient:leader@0s:t=60", &s, err, sizeof err), EK3_OK, "%s", err);
    cr_assert_eq(flt_check(&g, &s, err, sizeof err), EK3_OK, "%s", err);
    /* no leader before the first election */
    cr_assert_eq(g.obs.leader, 0);
    cr_assert_eq(flt_resolve(&g, &s, err, sizeof err), EK3_ENOENT);
    cr_assert(strstr(err, "no swarm leader"), "%s", err);
    cr_assert_eq(flt_inject(&g, &s), EK3_ENOENT);
    for (int q = 0; q < 30000 && !g.obs.leader; q++)
        rig_quantum(&g);
    unsigned lead = g.obs.leader;
    cr_assert(lead >= 1 && lead <= 4, "a leader within 3 s (%u)", lead);
    cr_assert_eq(flt_resolve(&g, &s, err, sizeof err), EK3_OK, "%s", err);
    cr_assert(!s.leader && s.target == lead);
    cr_assert_eq(flt_inject(&g, &s), EK3_OK);
    cr_assert_eq(g.plant.mod[lead - 1].p.th.t_amb, 60.0, "the leader's inlet air");
    cr_assert_eq(flt_parse("svc-crash:leader.x@1s", &s, err, sizeof err), EK3_EPARSE);
    cr_assert_eq(flt_parse("bus-errors:leader@1s", &s, err, sizeof err), EK3_EPARSE, "the bus is no slot");
}

/* With type, the rates hit that message type's frames only: the swarm's
 * ELECTION frames can be corrupted while the rest of the bus is clean. */
Test(fault, bus_errors_of_one_type_hit_only_that_type, .init = setup, .fini = teardown)
{
    run_ms(1000);
    uint64_t ef0 = g.bus.error_frames, fr0 = g.bus.frames;
    inject("bus-errors:bus@0s:corrupt=1,type=7"); /* FAULT_ALERT: none in a healthy rack */
    run_ms(2500);
    cr_assert_eq(g.bus.error_frames, ef0, "no FAULT_ALERT frame, so no error frame");
    cr_assert_gt(g.bus.frames, fr0 + 4, "heartbeats and the rest pass");
    clear("bus-errors:bus@0s");
    inject("bus-errors:bus@0s:corrupt=0.5,type=2"); /* HEARTBEAT */
    ef0 = g.bus.error_frames;
    run_ms(2500);
    cr_assert_gt(g.bus.error_frames, ef0, "heartbeats fail on the wire");
    clear("bus-errors:bus@0s");
}

Test(fault, bus_cut_silences_the_node, .init = setup, .fini = teardown)
{
    uint64_t tx2 = g.bus.node[2].tx_ok, tx3 = g.bus.node[3].tx_ok;
    inject("bus-cut:2@0s");
    run_ms(2000);
    cr_assert_eq(g.bus.node[2].tx_ok, tx2, "nothing from node 2");
    cr_assert_gt(g.bus.node[3].tx_ok, tx3, "node 3 talks on");
    clear("bus-cut:2@0s");
    run_ms(2000);
    cr_assert_gt(g.bus.node[2].tx_ok, tx2, "back on the bus");
}

Test(fault, bus_babble_takes_the_bus, .init = setup, .fini = teardown)
{
    uint64_t tx1 = g.bus.node[1].tx_ok, tx3 = g.bus.node[3].tx_ok;
    int64_t busy0 = g.bus.busy_ns, t0 = g.bus.t_ns;
    inject("bus-babble:3@0s:id=0");
    run_ms(1500);
    cr_assert_eq(g.bus.node[1].tx_ok, tx1, "id 0 wins every arbitration: node 1 never gets through");
    double load = (double)(g.bus.busy_ns - busy0) / (double)(g.bus.t_ns - t0);
    cr_assert_gt(load, 0.99, "the bus busy all along (%.3f)", load);
    cr_assert_gt(g.bus.node[3].tx_ok - tx3, 10000u, "node 3 sent back to back");
    clear("bus-babble:3@0s");
    run_ms(1500);
    cr_assert_gt(g.bus.node[1].tx_ok, tx1, "quiet again: node 1 gets through");
}

/* ---- kernel ---- */

static int svc_id(unsigned slot, const char *name)
{
    int id = jz_find(&g.m[slot - 1].fw.k, name);
    cr_assert_gt(id, 0, "%s", name);
    return id;
}

static void inject_svc(const char *fault, unsigned slot, int svc, const char *params)
{
    char text[128];
    snprintf(text, sizeof text, "%s:%u.%d@0s%s", fault, slot, svc, params);
    inject(text);
}

Test(fault, svc_crash_and_the_restart, .init = setup, .fini = teardown)
{
    int id = svc_id(2, "THERMAL_MGR");
    const jz_svc *s = &g.m[1].fw.k.svc[id];
    uint32_t crashes = s->crashes, restarts = s->restarts;
    inject_svc("svc-crash", 2, id, "");
    cr_assert_eq(s->crashes, crashes + 1);
    cr_assert_eq(s->last_crash, JZ_CRASH_FAULT);
    run_ms(200);
    cr_assert_gt(s->restarts, restarts, "restarted");
    /* CAN_HANDLER tells the station: FAULT_ALERT SERVICE_CRASH, the service's id. */
    cr_assert_eq(g.stn.m[1].fault.code, MSG_FAULT_SERVICE_CRASH, "code %u", g.stn.m[1].fault.code);
    cr_assert_eq(g.stn.m[1].fault.severity, MSG_SEV_NOTICE, "a restarted, non-critical service");
    cr_assert_eq(g.stn.m[1].fault.value, id * 1000);
    cr_assert_neq(g.stn.m[0].fault.code, MSG_FAULT_SERVICE_CRASH, "slot 1 had no crash");
}

/* CAN_HANDLER looks at the services' crash counts only when the kernel's
 * sum of them moved (jz_crash_events): a second crash of the same
 * service, and then one of another, are each reported once. */
Test(fault, every_crash_is_reported_once_each, .init = setup, .fini = teardown)
{
    int th = svc_id(2, "THERMAL_MGR"), hm = svc_id(2, "HEALTH_MONITOR");
    uint32_t faults0 = g.stn.st.faults;
    inject_svc("svc-crash", 2, th, "");
    run_ms(200);
    cr_assert_eq(g.stn.st.faults, faults0 + 1);
    inject_svc("svc-crash", 2, th, "");
    run_ms(200);
    cr_assert_eq(g.stn.st.faults, faults0 + 2, "the second crash of the same service");
    cr_assert_eq(g.stn.m[1].fault.value, th * 1000);
    inject_svc("svc-crash", 2, hm, "");
    run_ms(200);
    cr_assert_eq(g.stn.st.faults, faults0 + 3, "another service's");
    cr_assert_eq(g.stn.m[1].fault.code, MSG_FAULT_SERVICE_CRASH);
    cr_assert_eq(g.stn.m[1].fault.value, hm * 1000);
}

/* CAN_HANDLER's own crash is reported by CAN_HANDLER once it is back. */
Test(fault, a_crash_of_can_handler_itself_is_reported_after_its_restart, .init = setup, .fini = teardown)
{
    int id = svc_id(2, "CAN_HANDLER");
    uint32_t faults0 = g.stn.st.faults;
    inject_svc("svc-crash", 2, id, "");
    run_ms(200);
    cr_assert_eq(g.stn.m[1].fault.code, MSG_FAULT_SERVICE_CRASH, "code %u", g.stn.m[1].fault.code);
    cr_assert_eq(g.stn.m[1].fault.value, id * 1000);
    cr_assert_eq(g.stn.st.faults, faults0 + 1, "once");
}

Test(fault, svc_hang_is_found_by_its_heartbeat, .init = setup, .fini = teardown)
{
    int id = svc_id(2, "THERMAL_MGR");
    const jz_svc *s = &g.m[1].fw.k.svc[id];
    uint32_t crashes = s->crashes;
    inject_svc("svc-hang", 2, id, "");
    run_ms(300);
    cr_assert_eq(s->crashes, crashes + 1);
    cr_assert_eq(s->last_crash, JZ_CRASH_HANG);
}

Test(fault, svc_flood_overflows_the_queue, .init = setup, .fini = teardown)
{
    int id = svc_id(2, "THERMAL_MGR");
    inject_svc("svc-flood", 2, id, ":n=50");
    cr_assert_eq(g.m[1].fw.k.svc[id].last_crash, JZ_CRASH_QUEUE);
}

Test(fault, svc_corrupt_drops_one_message, .init = setup, .fini = teardown)
{
    int id = svc_id(2, "CAN_HANDLER");
    const jz_svc *s = &g.m[1].fw.k.svc[id];
    uint32_t corrupt = s->st.corrupt;
    inject_svc("svc-corrupt", 2, id, "");
    run_ms(100);
    cr_assert_eq(s->st.corrupt, corrupt + 1, "the next message's CRC failed, once");
}

Test(fault, svc_stall_and_the_watchdog, .init = setup, .fini = teardown)
{
    uint32_t resets = g.m[1].fw.k.resets;
    inject("svc-stall:2@0s:t=500ms");
    run_ms(99);
    cr_assert_eq(g.m[1].fw.k.resets, resets, "not before 100 ms");
    run_ms(5);
    cr_assert_eq(g.m[1].fw.k.resets, resets + 1, "the watchdog reset the module's kernel");
}

Test(fault, svc_stray_write, .init = setup, .fini = teardown)
{
    /* The rig's kernels run without strict mode: the write lands (test_rs
     * has the strict kernel catching it). */
    int id = svc_id(2, "THERMAL_MGR"), victim = svc_id(2, "DIAGNOSTICS");
    const jz_svc *s = &g.m[1].fw.k.svc[id];
    const volatile uint8_t *vb = (const volatile uint8_t *)g.m[1].fw.k.svc[victim].region.base;
    uint8_t before = vb[0];
    char params[32];
    snprintf(params, sizeof params, ":victim=%d", victim);
    inject_svc("svc-stray", 2, id, params);
    cr_assert_eq(s->stray_to, victim);
    run_ms(200);
    cr_assert_eq(s->stray_to, 0, "its next dispatch wrote");
    cr_assert_eq(vb[0], before ^ 0xA5, "into the victim's first byte");
}

/* ---- hardware ---- */

static void trip(const char *fault, unsigned code)
{
    inject(fault);
    rig_quantum(&g);
    const pmod *m = &g.plant.mod[1];
    /* a step at the quantum's start: the block trips within the seed's
     * 10 us of it (5.2), its sensing delay (2 us) at least */
    cr_assert(m->prot_trip_t >= 2e-6 && m->prot_trip_t <= 10e-6, "%s: tripped %.2f us into the quantum", fault,
              m->prot_trip_t * 1e6);
    run_ms(1);
    cr_assert_eq(m->hw_trip, 1, "%s: the gates are off", fault);
    cr_assert_eq(m->prot_first, code, "%s: first code %u", fault, m->prot_first);
    run_ms(5);
    cr_assert_lt(m->io, 0.01, "%s: module 2 stopped", fault);
    cr_assert(g.m[1].fw.drv.safety.latched & 1u << MSG_FAULT_HW_TRIP, "%s: its firmware saw the trip line", fault);
    cr_assert_eq(g.plant.mod[0].hw_trip, 0, "%s: module 1 did not trip", fault);
}

Test(fault, trip_ovp, .init = setup, .fini = teardown)
{
    trip("trip-ovp:2@0s", RTLP_OVP);
}

Test(fault, trip_ocp, .init = setup, .fini = teardown)
{
    trip("trip-ocp:2@0s", RTLP_OCP);
}

Test(fault, trip_otp, .init = setup, .fini = teardown)
{
    trip("trip-otp:2@0s", RTLP_OTP);
}

Test(fault, trip_gfi, .init = setup, .fini = teardown)
{
    trip("trip-gfi:2@0s", RTLP_GFI);
}

Test(fault, a_small_step_does_not_trip, .init = setup, .fini = teardown)
{
    inject("trip-ovp:2@0s:step=50V"); /* 800 V sensed: under OVP's 920 V */
    run_ms(5);
    cr_assert_eq(g.plant.mod[1].hw_trip, 0);
    cr_assert_gt(g.plant.mod[1].io, 0.5);
}

/* ---- the command line ---- */

static int run(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(fault, ek3_rack_fault_refuses_a_bad_spec_and_injects_a_good_one)
{
    static char out[65536];
    cr_assert_eq(run(EK3_BIN " rack --modules 2 --duration 0.1s --fault yank:1@0s 2>&1", out, sizeof out), 2);
    cr_assert(strstr(out, "--fault: 'yank:1@0s': no fault named 'yank'"), "%s", out);
    cr_assert_eq(run(EK3_BIN " rack --modules 2 --duration 0.1s --fault pull:2@0.2s 2>&1", out, sizeof out), 2);
    cr_assert(strstr(out, "--fault pull:2@0.2s: at or after the end of the run"), "%s", out);
    cr_assert_eq(run(EK3_BIN " rack --modules 4 --load 3kW --duration 0.7s --threads 1 --fault igf:2@0.6s:i=50mA "
                             "--fault pull:1@0.65s 2>&1",
                     out, sizeof out),
                 0, "%s", out);
    cr_assert(strstr(out, "\n   1 PULLED "), "%s", out);
    cr_assert(strstr(out, "\n   2 FAULT "), "%s", out);
    cr_assert_eq(run(EK3_BIN " rack --modules 2 --duration 0.1s --threads 1 --fault insert:1@0s 2>&1", out, sizeof out),
                 2, "inserting into a full slot now: refused before the run: %s", out);
    cr_assert(
        strstr(out, "--fault insert:1@0s: slot 1 holds a module then (pull it first: no --pull of it before 0 s)"),
        "%s", out);
    cr_assert_eq(
        run(EK3_BIN " rack --modules 2 --duration 0.1s --threads 1 --fault insert:1@50ms 2>&1", out, sizeof out), 2,
        "inserting into a full slot later, with no pull of it before: refused before the run: %s", out);
    cr_assert(strstr(out, "--fault insert:1@0.05s: slot 1 holds a module then (pull it first: no --pull of it before "
                          "0.05 s)"),
              "%s", out);
    /* a pull of it before, and the insert goes in */
    cr_assert_eq(run(EK3_BIN " rack --modules 2 --duration 0.1s --threads 1 --fault pull:1@20ms --fault insert:1@50ms "
                             "2>&1",
                     out, sizeof out),
                 0, "%s", out);
    cr_assert(strstr(out, "fault injected at 0.0500 s: insert:1@0.05s"), "%s", out);
    /* each slot's pulls and inserts in time order: a second pull of an
     * empty slot, a second insert into a refilled one, refused before the run */
    cr_assert_eq(run(EK3_BIN " rack --modules 4 --duration 2s --pull 3@1s --fault pull:3@1.5s 2>&1", out, sizeof out),
                 2, "%s", out);
    cr_assert(strstr(out, "ek3 rack: --fault pull:3@1.5s: slot 3 is empty then (--pull 3@1s took its module out, and "
                          "nothing put one back before 1.5 s)\n"),
              "%s", out);
    cr_assert_eq(run(EK3_BIN " rack --modules 4 --duration 2s --pull 3@0.5s --fault insert:3@1s --fault insert:3@1.5s "
                             "2>&1",
                     out, sizeof out),
                 2, "%s", out);
    cr_assert(strstr(out, "ek3 rack: --fault insert:3@1.5s: slot 3 holds a module then (--fault insert:3@1s put one "
                          "back)\n"),
              "%s", out);
    /* a second --pull of a slot: after an insert it runs, before one it is refused naming the first */
    cr_assert_eq(run(EK3_BIN " rack --modules 4 --duration 1.7s --load 3kW --pull 3@1s --fault insert:3@1.2s "
                             "--pull 3@1.5s 2>&1",
                     out, sizeof out),
                 0, "%s", out);
    cr_assert(
        strstr(
            out,
            "\nmodule 3 pulled at 1.0000 s\nfault injected at 1.2000 s: insert:3@1.2s\nmodule 3 pulled at 1.5000 s\n"),
        "in time order: %s", out);
    cr_assert_eq(run(EK3_BIN " rack --modules 4 --pull 3@1s --pull 3@0.5s 2>&1", out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "ek3 rack: --pull 3@1s: slot 3 is empty then (--pull 3@0.5s took its module out"), "%s", out);
    /* a pull of a slot the leader's pull emptied: said when it comes due, and exit 1 */
    cr_assert_eq(run(EK3_BIN " rack --modules 8 --duration 1.6s --load 5kW --pull leader@1s --pull 1@1.5s 2>&1", out,
                     sizeof out),
                 1, "%s", out);
    cr_assert(strstr(out, "ek3 rack: note: --pull leader@1s at 1.0000 s: the leader was module 1\n") &&
                  strstr(out, "ek3 rack: --pull 1@1.5s refused at 1.5000 s: slot 1 is empty: --pull leader@1s took its "
                              "module out at 1.0000 s\n") &&
                  strstr(out, "ek3 rack: 1 fault (--fault, --pull) could not be injected (named above)\n") &&
                  strstr(out,
                         "\npull refused at 1.5000 s: --pull 1@1.5s: slot 1 is empty: --pull leader@1s took its module "
                         "out at 1.0000 s\n") &&
                  strstr(out, "\nmodule 1 (the swarm's leader then) pulled at 1.0000 s\n"),
              "%s", out);
    /* a leader's pull with no leader then (the failover under way): named in the report (it counted it as "named
     * above" and named it on stderr alone) */
    cr_assert_eq(run(EK3_BIN " rack --modules 8 --load 18kW --duration 1.7s --pull leader@1s --pull leader@1.55s 2>&1",
                     out, sizeof out),
                 1, "%s", out);
    cr_assert(
        strstr(out, "\npull refused at 1.5500 s: --pull leader@1.55s: the rack has no swarm leader now\n1 fault "
                    "(--fault, --pull) could not be injected (each named above, with when and why)\n") &&
            strstr(out, "ek3 rack: --pull leader@1.55s refused at 1.5500 s: the rack has no swarm leader now\n") &&
            /* the warning before the run counted it (from 1.55 s 6 modules): overtaken, said */
            strstr(out, "ek3 rack: note: the warning before the run counted --pull leader@1.55s, which the run "
                        "refused at 1.5500 s: from then on the rack it warned of is not the run's (the report's "
                        "verdict is)\n"),
        "%s", out);
    /* an insert the warning counted (its window ends 37.5 ms after it), refused in the run: the leader was another
     * slot's */
    cr_assert_eq(run(EK3_BIN
                     " rack --modules 8 --load 22kW --duration 1.4s --pull leader@1s --fault insert:4@1.3s 2>&1",
                     out, sizeof out),
                 1, "%s", out);
    cr_assert(strstr(out, "ek3 rack: note: the warning before the run counted --fault insert:4@1.3s, which the run "
                          "refused at 1.3000 s: from then on the rack it warned of is not the run's (the report's "
                          "verdict is)\n"),
              "%s", out);
    /* a leader's pull the warning counted as one module more out took the leader gated off already: said after the
     * run (the warning reads "from 1.2 s 6 modules"; 7 deliver, the run holds 19 kW) */
    cr_assert_eq(run(EK3_BIN " rack --modules 8 --load 19kW --duration 1.3s --fault gate-off:1@1s --pull leader@1.2s "
                             "2>&1",
                     out, sizeof out),
                 0, "%s", out);
    cr_assert(strstr(out, "but from 1.2 s 6 modules ") &&
                  strstr(out, "ek3 rack: note: the warning before the run counted --pull leader@1.2s as one module "
                              "more out; the leader then was module 1, which --fault gate-off:1@1s held off since "
                              "1.0000 s: from 1.2000 s on the run's rack has one module more than the one it warned "
                              "of (the report's verdict is the run's)\n"),
              "%s", out);
    /* a gate-off the warning counted (from 1.3 s 6 modules), refused in the run (the leader's pull emptied its slot):
     * said after the run as a refused pull is (nothing said it) */
    cr_assert_eq(run(EK3_BIN " rack --modules 8 --load 19kW --duration 1.4s --pull leader@1.2s --fault gate-off:1@1.3s "
                             "2>&1",
                     out, sizeof out),
                 1, "%s", out);
    cr_assert(strstr(out, "but from 1.3 s 6 modules ") &&
                  strstr(out, "ek3 rack: note: the warning before the run counted --fault gate-off:1@1.3s, which the "
                              "run refused at 1.3000 s: from then on the rack it warned of is not the run's (the "
                              "report's verdict is)\n"),
              "%s", out);
    /* a leader's gate-off the same: named as asked, in the note and the report (they read gate-off:1@1.2s) */
    cr_assert_eq(run(EK3_BIN " rack --modules 8 --load 19kW --duration 1.3s --fault gate-off:1@1s --fault "
                             "gate-off:leader@1.2s 2>&1",
                     out, sizeof out),
                 0, "%s", out);
    cr_assert(strstr(out, "ek3 rack: note: the warning before the run counted --fault gate-off:leader@1.2s as one "
                          "module more out; the leader then was module 1, ") &&
                  strstr(out, "\nfault injected at 1.2000 s: gate-off:leader@1.2s (module 1, the swarm's leader "
                              "then)\n") &&
                  /* the sharing and balancing lines over the 7 that deliver (they counted module 1's 0 A: "3.253 A
                   * mean, 0.000 .. 3.856 A") */
                  strstr(out, "\nsharing: 3.714 A mean, 3.610 .. 3.797 A (spread 5.0 % of mean; over the 7 sharing, "
                              "where rack.i_mean counts the 8 in their slots not parked: 3.250 A); ") &&
                  strstr(out, "(droop alone: 3.462 .. 3.909 A, "),
              "%s", out);
    cr_assert_eq(run(EK3_BIN " rack --modules 4 --fault insert:leader@1s 2>&1", out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "--fault insert:leader@1s: the leader is a module in its slot"), "%s", out);
    cr_assert_eq(run(EK3_BIN " rack --modules 4 --duration 2s --pull leader@3s 2>&1", out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "ek3 rack: --pull leader@3s: at or after the end of the run"), "%s", out);
    /* a fault of the module leaves with it: the fresh one put back has none (pmod_renew) */
    cr_assert_eq(run(EK3_BIN " rack --modules 8 --duration 1.6s --fault igf:3@0.8s:i=40mA --pull 3@1s "
                             "--fault insert:3@1.2s 2>&1",
                     out, sizeof out),
                 0, "%s", out);
    cr_assert(strstr(out, "\nmodule 3 FAULT_ALERT at 0.8004 s: GFI, 40 mA\n") && strstr(out, "\n   3 RUN ") &&
                  strstr(out, "(8 in their slots, 8 regulating)"),
              "the replacement runs, without the leakage of the one pulled: %s", out);
    /* nor the Level-0 trip the one pulled latched: the new board's protection block comes up at rest (rtlp_reset;
     * it booted into FAULT, its HW_TRIP alerted at 0.801 s, and never ran) */
    cr_assert_eq(run(EK3_BIN " rack --modules 4 --load 6kW --duration 1.2s --fault trip-ocp:3@0.65s --pull 3@0.7s "
                             "--fault insert:3@0.8s 2>&1",
                     out, sizeof out),
                 0, "%s", out);
    cr_assert(strstr(out, "\nmodule 3 FAULT_ALERT at 0.6504 s: HW_TRIP, comparator OCP\n") &&
                  strstr(out, "\n   3 RUN ") && !strstr(out, "the last at"),
              "the replacement runs, without the trip of the one pulled: %s", out);
    /* and needs a module in the slot: into an empty one it is refused */
    cr_assert_eq(run(EK3_BIN " rack --modules 8 --pull 3@0.5s --fault gate-off:3@0.8s --fault insert:3@1s 2>&1", out,
                     sizeof out),
                 2, "%s", out);
    cr_assert(strstr(out, "ek3 rack: --fault gate-off:3@0.8s: slot 3 is empty then (--pull 3@0.5s took its module "
                          "out, and nothing put one back before 0.8 s): a fault of the module, or of its node on the "
                          "bus, needs one in "
                          "the slot\n"),
              "%s", out);
    /* a module that runs and delivers nothing is counted and named */
    cr_assert_eq(run(EK3_BIN " rack --modules 6 --duration 1.3s --fault gate-off:3@1s 2>&1", out, sizeof out), 0, "%s",
                 out);
    cr_assert(strstr(out, "(6 in their slots, 3 regulating, 2 at the current limit, 1 delivering nothing)") &&
                  /* the two at the limit give what it lets them: the spread of the three by droop said apart */
                  strstr(out, "(spread 3.3 % of mean; over the 5 sharing, where rack.i_mean counts the 6 in their "
                              "slots not parked: 3.258 A; the 3 not at a limit: 3.819 .. 3.926 A, spread 2.8 %)") &&
                  strstr(out, "\nnote: module 3 runs but delivers nothing to the bus: "),
              "%s", out);
    /* a leader fault before the swarm's first election timeout finds none */
    cr_assert_eq(run(EK3_BIN " rack --modules 4 --duration 1s --pull leader@0s 2>&1", out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "ek3 rack: --pull leader@0s: no module leads before 0.6 s, the swarm's first election "
                          "timeout (SWM_ELECTION_MIN_MS)"),
              "%s", out);
    cr_assert_eq(run(EK3_BIN " rack --modules 4 --duration 1s --fault svc-crash:leader.3@0.5s 2>&1", out, sizeof out),
                 2, "%s", out);
    cr_assert(strstr(out, "ek3 rack: --fault svc-crash:leader.3@0.5s: no module leads before 0.6 s"), "%s", out);
    cr_assert_eq(run(EK3_BIN " faults", out, sizeof out), 0);
    for (unsigned i = 0; i < flt_count; i++)
        cr_assert(strstr(out, flt_table[i].name), "ek3 faults lists %s", flt_table[i].name);
}

/* `ek3 faults NAME...` prints those rows alone; a name that is none says
 * the closest. */
Test(fault, ek3_faults_prints_the_named_faults)
{
    static char out[16384];
    cr_assert_eq(run(EK3_BIN " faults igf vdc-sag 2>&1", out, sizeof out), 0, "%s", out);
    cr_assert(
        !strncmp(out, "fault         kind     target       parameters: name (unit) min..max, default\nigf ", 82) &&
            strstr(out, "\nvdc-sag ") && !strstr(out, "\npull "),
        "a header, then the rows asked: %s", out);
    cr_assert(!strstr(out, "A kernel fault needs"), "the note is the whole table's: %s", out);
    /* the name column is as wide as the longest name: every row's kind under "kind" */
    cr_assert_eq(run(EK3_BIN " faults module-reboot pull 2>&1", out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "\npull          plant    SLOT ") && strstr(out, "\nmodule-reboot kernel   SLOT "), "%s",
              out);
    /* in the order named (the table has pull first), a name given twice once */
    cr_assert(strstr(out, "\nmodule-reboot ") < strstr(out, "\npull "), "%s", out);
    cr_assert_eq(run(EK3_BIN " faults short igf short 2>&1", out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "\nshort ") && strstr(out, "\nshort ") < strstr(out, "\nigf ") &&
                  !strstr(strstr(out, "\nshort ") + 1, "\nshort "),
              "%s", out);
    cr_assert_eq(run(EK3_BIN " faults ifg 2>&1", out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "ek3 faults: no fault named 'ifg' (closest: igf"), "%s", out);
    cr_assert_eq(run(EK3_BIN " faults short --markdown 2>&1", out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "|---|\n| `short` |") && !strstr(out, "`pull`"), "%s", out);
}
