/*
 * test_scope.c - the live scope (scopes/sco.h, scowin.h; ek3 rack --scope).
 *
 * scope_tap: the tap on a running 2-module session: paused, the run
 * waits; three single steps run three quanta; the ring keeps the newest
 * rows and counts the rest; a fault's marker at its time and slot (also
 * for a fault flt_inject puts in outside the session, as a scenario does); one
 * frame marker per frame on the rack bus; the bus's delivery restored.
 * scope_cli: the flags refused without --scope or with a bad value;
 * --scope-select past the rack or twice named; no display refused
 * (naming xvfb-run, an existing --scope-shot file kept) unless
 * SDL_VIDEODRIVER is chosen.
 *
 * scope_logic: the pure parts without a screen: the ring drops the oldest
 * and counts when full (and loses nothing under a producer and a consumer
 * on two threads), the trigger fires at the right sample with its
 * pre-trigger, the cursor figures against analytic values, the math
 * channels, the layout (slot K's rectangle and the slot under a pixel).
 *
 * scope_window: under Xvfb (xvfb-run; skipped with a message when it is
 * missing) an 8-module rack with a ground fault on slot 3 runs with
 * --scope --scope-shot; the PNG is read back and checked for what a person
 * sees: slot 3 red in the rack map, the others green, the bus voltage's
 * trace spanning many rows, the trip's marker a vertical line. The
 * screenshot stays in the build tree (scope-shot.png). And: --scope-hold
 * prints the report before holding, SIGTERM ends the hold; a shot to
 * /dev/full is told and exits 1; a scenario's shot after its end makes its
 * line ERROR.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <png.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "ek3_err.h"
#include "fault.h"
#include "sco.h"
#include "scowin.h"

Test(scope_logic, ring_drops_the_oldest_and_counts)
{
    sco_ring r;
    cr_assert_eq(sco_ring_init(&r, 4, sizeof(int)), 0);
    cr_assert_eq(r.cap, 4);
    int x;
    cr_assert_eq(sco_ring_pop(&r, &x), 0, "an empty ring gives nothing");
    int drops = 0;
    for (int i = 1; i <= 6; i++)
        drops += sco_ring_push(&r, &i);
    cr_assert_eq(drops, 2);
    cr_assert_eq(sco_ring_dropped(&r), 2);
    for (int want = 3; want <= 6; want++) {
        cr_assert_eq(sco_ring_pop(&r, &x), 1);
        cr_assert_eq(x, want, "oldest kept first: got %d, want %d", x, want);
    }
    cr_assert_eq(sco_ring_pop(&r, &x), 0);
    sco_ring_free(&r);
    cr_assert_eq(sco_ring_init(&r, 4, 0), EK3_EINVAL);
}

typedef struct ring_run {
    sco_ring r;
    long n;
} ring_run;

static void *ring_producer(void *p)
{
    ring_run *rr = p;
    for (long i = 1; i <= rr->n; i++)
        sco_ring_push(&rr->r, &i);
    return NULL;
}

Test(scope_logic, ring_two_threads_in_order_none_lost_uncounted)
{
    ring_run rr = {.n = 2000000};
    cr_assert_eq(sco_ring_init(&rr.r, 1024, sizeof(long)), 0);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, ring_producer, &rr), 0);
    long last = 0, got = 0, v;
    for (;;) {
        if (sco_ring_pop(&rr.r, &v)) {
            cr_assert_gt(v, last, "out of order: %ld after %ld", v, last);
            last = v;
            got++;
            if (v == rr.n)
                break;
        }
    }
    pthread_join(th, NULL);
    while (sco_ring_pop(&rr.r, &v))
        got++;
    cr_assert_eq(got + (long)sco_ring_dropped(&rr.r), rr.n, "popped %ld + dropped %llu != pushed %ld", got,
                 (unsigned long long)sco_ring_dropped(&rr.r), rr.n);
    sco_ring_free(&rr.r);
}

Test(scope_logic, trigger_edge_with_pre_and_post)
{
    enum { N = 1000 };
    double v[N];
    /* a square wave: low 0, high 10, rising at 200 and 700, falling at 450 */
    for (int i = 0; i < N; i++)
        v[i] = (i >= 200 && i < 450) || i >= 700 ? 10 : 0;
    cr_assert_eq(sco_trig_find(v, N, SCO_T_RISING, 5, 100, 100), 700);
    cr_assert_eq(sco_trig_find(v, N, SCO_T_RISING, 5, 100, 400), 200, "700 has no 400 samples after it");
    cr_assert_eq(sco_trig_find(v, N, SCO_T_RISING, 5, 250, 400), -1, "200 has no 250 samples before it");
    cr_assert_eq(sco_trig_find(v, N, SCO_T_FALLING, 5, 100, 100), 450);
    cr_assert_eq(sco_trig_find(v, N, SCO_T_EITHER, 5, 0, 400), 450);
    cr_assert_eq(sco_trig_find(v, N, SCO_T_LEVEL, 5, 0, 100), 700);
    cr_assert_eq(sco_trig_find(v, N, SCO_T_RISING, 20, 0, 0), -1, "never reaches the level");
    /* a ramp crosses 3.5 between samples 3 and 4: it fires at 4 */
    double ramp[10];
    for (int i = 0; i < 10; i++)
        ramp[i] = i;
    cr_assert_eq(sco_trig_find(ramp, 10, SCO_T_RISING, 3.5, 2, 2), 4);
    cr_assert_eq(sco_trig_find(ramp, 10, SCO_T_RISING, 4, 2, 2), 4, "at the level counts");
    cr_assert_not(sco_trig_fires(SCO_T_RISING, 1, NAN, 2));
    cr_assert_not(sco_trig_fires(SCO_T_RISING, 1, 0, NAN));
}

Test(scope_logic, cursor_statistics_analytic)
{
    enum { N = 4000 };
    static double t[N], v[N];
    const double dc = 3, a = 2;
    for (int i = 0; i < N; i++) { /* 8 whole periods of a sine over a DC level, 1 us apart */
        t[i] = i * 1e-6;
        v[i] = dc + a * sin(2 * M_PI * 8 * i / N);
    }
    sco_stat st;
    cr_assert_eq(sco_stats(t, v, N, &st), 0);
    cr_assert_float_eq(st.dt, (N - 1) * 1e-6, 1e-12);
    cr_assert_float_eq(st.mean, dc, 1e-9);
    cr_assert_float_eq(st.rms, sqrt(dc * dc + a * a / 2), 1e-9);
    cr_assert_float_eq(st.p2p, 2 * a, 1e-6);
    cr_assert_eq(st.n_used, N);
    v[7] = NAN;
    cr_assert_eq(sco_stats(t, v, N, &st), 0);
    cr_assert_eq(st.n_used, N - 1, "a NaN is left out");
    double nan1[2] = {NAN, NAN};
    cr_assert_eq(sco_stats(t, nan1, 2, &st), EK3_ENOENT);
    cr_assert_eq(sco_stats(t, v, 0, &st), EK3_EINVAL);
}

Test(scope_logic, math_channels)
{
    cr_assert_float_eq(sco_power(750, 20), 15000, 1e-9);
    cr_assert_float_eq(sco_eff(9800, 10000), 0.98, 1e-12);
    cr_assert(isnan(sco_eff(100, 0)), "no input power: no efficiency");
    double i[4] = {2, 3, 4, 100};
    uint8_t on[4] = {1, 1, 1, 0};
    cr_assert_float_eq(sco_sharing(i, on, 4), (4.0 - 2.0) / 3.0, 1e-12);
    cr_assert_float_eq(sco_sharing(i, NULL, 3), (4.0 - 2.0) / 3.0, 1e-12);
    cr_assert_eq(sco_sharing(i, on, 0), 0);
    sco_row r = {.t = 0};
    r.v[SCO_C_VBUS] = 750;
    r.v[SCO_C_IBUS] = 10;
    r.v[SCO_C_PLOAD] = 7400;
    r.v[SCO_C_PIN] = 7500;
    cr_assert_float_eq(sco_chan(&r, SCO_CH_POWER), 7500, 1e-6);
    cr_assert_float_eq(sco_chan(&r, SCO_CH_EFF), 7400.0 / 7500.0, 1e-6);
    cr_assert(isnan(sco_chan(&r, SCO_NCH)));
    cr_assert_not_null(sco_ch(SCO_CH_EFF));
    cr_assert_null(sco_ch(SCO_NCH));
}

Test(scope_logic, layout_slot_rectangles)
{
    static const unsigned ns[] = {1, 8, 84, 85, 200, 510};
    for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++) {
        sco_layout l;
        cr_assert_eq(sco_layout_of(1280, 800, ns[j], &l), 0, "n %u", ns[j]);
        cr_assert_geq(l.cols * l.rows, ns[j]);
        for (unsigned k = 1; k <= ns[j]; k++) {
            sco_rect r;
            cr_assert_eq(sco_slot_rect(&l, k, &r), 0);
            cr_assert(r.w >= 1 && r.h >= 1);
            cr_assert(r.x >= l.map.x && r.y >= l.map.y && r.x + r.w <= l.map.x + l.map.w &&
                          r.y + r.h <= l.map.y + l.map.h,
                      "slot %u of %u outside the map", k, ns[j]);
            cr_assert(r.x + r.w <= l.wave.x, "slot %u over the waveforms", k);
            cr_assert_eq(sco_slot_at(&l, r.x + r.w / 2, r.y + r.h / 2), k, "n %u: the slot under slot %u's centre",
                         ns[j], k);
        }
        cr_assert_eq(sco_slot_at(&l, l.wave.x + 5, l.wave.y + 5), 0);
        sco_rect r;
        cr_assert_eq(sco_slot_rect(&l, ns[j] + 1, &r), EK3_EINVAL);
    }
    sco_layout l;
    cr_assert_eq(sco_layout_of(1280, 800, 84, &l), 0);
    sco_rect a, b;
    sco_slot_rect(&l, 1, &a);
    sco_slot_rect(&l, 2, &b);
    cr_assert_eq(b.x - a.x, l.cell, "slot 2 is right of slot 1");
    cr_assert_eq(sco_layout_of(100, 100, 84, &l), EK3_EINVAL);
    cr_assert_eq(sco_layout_of(1280, 800, 0, &l), EK3_EINVAL);
}

Test(scope_logic, slot_colours)
{
    ses_mod_snap m = {.present = 1, .state = SES_M_FAULT, .io = 3, .tja = 100, .tjb = 90};
    sco_rgb red = sco_state_rgb(SES_M_FAULT);
    for (int mode = 0; mode < SCO_NMODES; mode++) {
        sco_rgb c = sco_slot_rgb((sco_color_mode)mode, &m, 4);
        cr_assert(c.r == red.r && c.g == red.g && c.b == red.b, "a faulted module is red by %s",
                  sco_mode_name((sco_color_mode)mode));
    }
    m.state = SES_M_RUN;
    sco_rgb cold = sco_slot_rgb(SCO_BY_CURRENT, &m, 30), hot = sco_slot_rgb(SCO_BY_CURRENT, &m, 3);
    cr_assert_gt(hot.r, cold.r, "more current: towards yellow");
    cr_assert_lt(hot.b, cold.b + 1);
    for (int a = 0; a <= 40; a++) { /* the ramp never looks like FAULT: green always above a third of red */
        m.io = a * 0.1;
        sco_rgb c = sco_slot_rgb(SCO_BY_CURRENT, &m, 4);
        cr_assert_gt(3 * c.g, c.r, "%.1f A: (%d, %d, %d) too red", m.io, c.r, c.g, c.b);
    }
}

/* ---- the tap on a running session: pause, single steps, rows ---- */

static ses tap_s;

static void *tap_runner(void *p)
{
    ses_run_to(p, 20 * RIG_PERIOD_NS);
    return NULL;
}

/* Wait (no deadline: ctest's timeout is the guard) until the tap has seen q quanta. */
static void tap_wait_q(sco_tap *t, long q)
{
    while (atomic_load(&t->q_now) < q)
        sched_yield();
}

Test(scope_tap, pause_step_resume_rows_and_events, .timeout = 120)
{
    ses_opts so;
    sco_plain_rack(&so, 2, (rack_load){.kind = RACK_LOAD_R, .r = 1000}, 1);
    so.r.via_station = 0;
    cr_assert_eq(ses_init(&tap_s, &so), 0);
    ses_event ev = {.kind = SES_EV_FAULT, .at_s = 5 * RIG_PERIOD_NS * 1e-9};
    char err[200];
    cr_assert_eq(flt_parse("pull:2@0.0005s", &ev.fault, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ses_add_event(&tap_s, &ev), 0);
    static sco_tap t;
    cr_assert_eq(sco_tap_init(&t, &tap_s, 8, 1), 0);
    cr_assert_eq(sco_tap_attach(&t), 0);
    atomic_store(&t.sel[0], 1);
    sco_tap_pause(&t, 1); /* the first quantum's tap holds the run */
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, tap_runner, &tap_s), 0);
    tap_wait_q(&t, 1);
    for (int i = 0; i < 100; i++)
        sched_yield();
    cr_assert_eq(atomic_load(&t.q_now), 1, "paused: the run must wait");
    sco_tap_step(&t, 3);
    tap_wait_q(&t, 4);
    for (int i = 0; i < 100; i++)
        sched_yield();
    cr_assert_eq(atomic_load(&t.q_now), 4, "three single steps, no more");
    sco_tap_pause(&t, 0);
    pthread_join(th, NULL);
    cr_assert_eq(tap_s.q, 20);
    /* 20 rows pushed into a ring of 8: the 8 newest kept, 12 dropped and counted */
    cr_assert_eq(sco_ring_dropped(&t.rows), 12);
    sco_row r;
    double last = 0;
    int n = 0;
    while (sco_ring_pop(&t.rows, &r)) {
        cr_assert_gt(r.t, last);
        last = r.t;
        cr_assert(!isnan(r.v[SCO_C_SEL0]), "slot 1 selected: its current is in the row");
        cr_assert(isnan(r.v[SCO_C_SEL0 + 2]), "nothing selected second");
        n++;
    }
    cr_assert_eq(n, 8);
    cr_assert_float_eq(last, 20 * RIG_PERIOD_NS * 1e-9, 1e-12);
    /* the pull went in at 0.5 ms: a fault marker on slot 2 */
    sco_ev e;
    int faults = 0;
    while (sco_ring_pop(&t.evs, &e))
        if (e.kind == SCO_E_FAULT) {
            faults++;
            cr_assert_eq(e.slot, 2);
            cr_assert_float_eq(e.t, 5e-4, 1e-9);
        }
    cr_assert_eq(faults, 1);
    /* every frame on the rack bus once, whatever its receivers */
    sco_frame fr;
    uint64_t frames = 0;
    while (sco_ring_pop(&t.frames, &fr)) {
        cr_assert_leq(fr.type, 15);
        frames++;
    }
    cr_assert_gt(tap_s.g.bus.frames, 0, "the modules' first frames");
    cr_assert_eq(frames + sco_ring_dropped(&t.frames), tap_s.g.bus.frames, "%llu frame markers for %llu frames",
                 (unsigned long long)frames, (unsigned long long)tap_s.g.bus.frames);
    sco_tap_free(&t);
    cr_assert_neq((void *)tap_s.g.bus.deliver, (void *)NULL);
    cr_assert_neq(tap_s.g.bus.ctx, (void *)&t, "the bus's own delivery is back");
    ses_free(&tap_s);
}

/* A fault put in by flt_inject straight on the rig (as a scenario's
 * fault{} does, scenarios/scn.c), not by a session's event: the tap still
 * gives its marker, at the time it went in and on its slot. */
Test(scope_tap, fault_injected_outside_the_session_marked, .timeout = 120)
{
    static ses s;
    ses_opts so;
    sco_plain_rack(&so, 3, (rack_load){.kind = RACK_LOAD_R, .r = 1000}, 1);
    so.r.via_station = 0;
    cr_assert_eq(ses_init(&s, &so), 0);
    static sco_tap t;
    cr_assert_eq(sco_tap_init(&t, &s, 64, 1), 0);
    cr_assert_eq(sco_tap_attach(&t), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(ses_step(&s), 0);
    flt_spec f;
    char err[200];
    cr_assert_eq(flt_parse("igf:3@0.0003s:i=0.1", &f, err, sizeof err), 0, "%s", err);
    cr_assert_eq(flt_inject(&s.g, &f), 0);
    cr_assert_eq(ses_step(&s), 0);
    sco_ev e;
    int faults = 0;
    while (sco_ring_pop(&t.evs, &e))
        if (e.kind == SCO_E_FAULT) {
            faults++;
            cr_assert_eq(e.slot, 3);
            cr_assert_float_eq(e.t, 3 * RIG_PERIOD_NS * 1e-9, 1e-9);
        }
    cr_assert_eq(faults, 1, "the injected fault's marker");
    sco_tap_free(&t);
    ses_free(&s);
}

/* --scope-select against the rack: a slot past it named with the rack's size. */
Test(scope_logic, selected_slots_checked_against_the_rack)
{
    char err[200] = "";
    int sel[SCO_SEL] = {3, 4, 0, 0};
    cr_assert_eq(scw_sel_check(sel, 4, err, sizeof err), 0);
    sel[2] = 5;
    cr_assert_eq(scw_sel_check(sel, 4, err, sizeof err), EK3_ERANGE);
    cr_assert(strstr(err, "slot 5") && strstr(err, "4 modules"), "%s", err);
}

/* Run cmd (stderr joined), its output into out; the exit status. */
static int sc_cmd(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    return WEXITSTATUS(pclose(p));
}

Test(scope_cli, select_checked_shot_path_kept_no_display_refused)
{
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd, "%s rack --modules 4 --duration 1ms --scope --scope-select 2,5 2>&1", EK3_BIN);
    cr_assert_eq(sc_cmd(cmd, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "slot 5") && strstr(out, "4 modules"), "%s", out);
    snprintf(cmd, sizeof cmd, "%s rack --modules 4 --duration 1ms --scope --scope-select 3,3 2>&1", EK3_BIN);
    cr_assert_eq(sc_cmd(cmd, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "slot 3 is given twice"), "%s", out);
    /* an existing file named by --scope-shot (as /dev/full is) is neither
     * removed nor emptied by the check before the run */
    char keep[512];
    snprintf(keep, sizeof keep, "%s/scope-keep.txt", EK3_ARTEFACTS);
    FILE *f = fopen(keep, "w");
    cr_assert(f);
    fputs("kept\n", f);
    fclose(f);
    /* no display and no SDL_VIDEODRIVER chosen: refused before the run, naming xvfb-run */
    snprintf(cmd, sizeof cmd,
             "env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER %s rack --modules 2 --duration 1ms --scope "
             "--scope-shot %s@0.5ms 2>&1",
             EK3_BIN, keep);
    cr_assert_eq(sc_cmd(cmd, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "no display") && strstr(out, "xvfb-run"), "%s", out);
    cr_assert_null(strstr(out, "timing:"), "nothing ran: %s", out);
    f = fopen(keep, "r");
    cr_assert(f, "%s was removed", keep);
    char line[32] = "";
    cr_assert(fgets(line, sizeof line, f) && !strcmp(line, "kept\n"), "%s emptied", keep);
    fclose(f);
    /* the driver chosen on purpose (a bench): it runs */
    snprintf(cmd, sizeof cmd,
             "env -u DISPLAY -u WAYLAND_DISPLAY SDL_VIDEODRIVER=dummy %s rack --modules 2 --duration 1ms --scope 2>&1",
             EK3_BIN);
    cr_assert_eq(sc_cmd(cmd, out, sizeof out), 0, "%s", out);
    snprintf(cmd, sizeof cmd, "%s rack --modules 2 --duration 1ms --scope --scope-shot /nonexistent/x.png@0.5ms 2>&1",
             EK3_BIN);
    cr_assert_eq(sc_cmd(cmd, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "/nonexistent/x.png") && strstr(out, "No such file"), "%s", out);
}

Test(scope_cli, flags_refused_and_no_display_told)
{
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof cmd, "%s rack --modules 2 --duration 1ms --scope-shot x.png@1ms 2>&1", EK3_BIN);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int st = pclose(p);
    cr_assert_eq(WEXITSTATUS(st), 2, "%s", out);
    cr_assert(strstr(out, "--scope-shot") && strstr(out, "only --scope opens"), "%s", out);
    snprintf(cmd, sizeof cmd, "%s rack --modules 2 --duration 1ms --scope --scope-shot nowhere 2>&1", EK3_BIN);
    p = popen(cmd, "r");
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    st = pclose(p);
    cr_assert_eq(WEXITSTATUS(st), 2, "%s", out);
    cr_assert(strstr(out, "FILE@TIME"), "%s", out);
    snprintf(cmd, sizeof cmd, "env -u DISPLAY -u WAYLAND_DISPLAY SDL_VIDEODRIVER=x11 %s rack --modules 2 --duration 1ms --scope 2>&1",
             EK3_BIN);
    p = popen(cmd, "r");
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    st = pclose(p);
    cr_assert_eq(WEXITSTATUS(st), 1, "%s", out);
    cr_assert(strstr(out, "cannot open the scope window") && strstr(out, "xvfb-run"), "%s", out);
}

/* ---- the window, under Xvfb ---- */

typedef struct img {
    int w, h;
    unsigned char *px; /* RGB */
} img;

static void img_read(const char *path, img *im)
{
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&pi, path), "%s: %s", path, pi.message);
    pi.format = PNG_FORMAT_RGB;
    im->w = (int)pi.width;
    im->h = (int)pi.height;
    im->px = malloc(PNG_IMAGE_SIZE(pi));
    cr_assert_not_null(im->px);
    cr_assert(png_image_finish_read(&pi, NULL, im->px, 0, NULL), "%s", pi.message);
}

static int px_is(const img *im, int x, int y, sco_rgb c)
{
    const unsigned char *p = im->px + ((size_t)y * (size_t)im->w + (size_t)x) * 3;
    return p[0] == c.r && p[1] == c.g && p[2] == c.b;
}

/* Whether slot k's centre in the rack map of an 8-module window is colour c. */
static int slot_is(const img *im, unsigned k, sco_rgb c)
{
    sco_layout l;
    sco_rect r;
    cr_assert_eq(sco_layout_of(im->w, im->h, 8, &l), 0);
    cr_assert_eq(sco_slot_rect(&l, k, &r), 0);
    return px_is(im, r.x + r.w / 2, r.y + r.h / 2, c);
}

/* Skips the test without xvfb-run. */
static void need_xvfb(void)
{
    if (system("command -v xvfb-run >/dev/null 2>&1"))
        cr_skip_test("xvfb-run is missing (Debian: xvfb): the scope's window test cannot run without a screen");
}

/* Run the shell command `inner` under xvfb-run (xargs: its own options)
 * and return inner's exit status, from a line it prints last; out gets
 * the output before that line. Not xvfb-run's status: that also reports
 * its own clean-up (5, "problem while cleaning up temporary directory",
 * seen beside another job), which is not the rig's. -1 without the line.
 * inner must not contain a single quote. */
static int xvfb_cmd(const char *xargs, const char *inner, char *out, size_t cap)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "xvfb-run -a %s sh -c '%s; echo \"[exit $?]\"'", xargs, inner);
    sc_cmd(cmd, out, cap);
    char *p = NULL, *q = out;
    while ((q = strstr(q, "[exit ")) != NULL)
        p = q++;
    if (!p)
        return -1;
    int st = atoi(p + 6);
    *p = 0;
    return st;
}

/* The 8-module rack with a ground fault on slot 3 at 0.9 s, slot 5
 * selected, its window saved at 1.1 s into EK3_ARTEFACTS/NAME, read into
 * *im; `extra`: more flags. Skips the test without xvfb-run. */
static void shot_of(const char *name, const char *extra, img *im)
{
    need_xvfb();
    char shot[512], cmd[2048], out[256];
    snprintf(shot, sizeof shot, "%s/%s", EK3_ARTEFACTS, name);
    remove(shot);
    snprintf(cmd, sizeof cmd,
             "%s rack --modules 8 --load 12kW --duration 1.2s --threads 1 "
             "--fault igf:3@0.9s:i=0.1 --scope --scope-select 5 --scope-shot %s@1.1s %s > %s.txt 2>&1",
             EK3_BIN, shot, extra, shot);
    int st = xvfb_cmd("-s \"-screen 0 1280x800x24\"", cmd, out, sizeof out);
    cr_assert_eq(st, 0, "%s: status %d (see %s.txt) %s", cmd, st, shot, out);
    img_read(shot, im);
}

Test(scope_window, colour_by_current_key, .timeout = 240)
{
    img im;
    shot_of("scope-shot-current.png", "--scope-keys c", &im);
    cr_assert(slot_is(&im, 3, sco_state_rgb(SES_M_FAULT)), "slot 3 stays FAULT red");
    cr_assert(!slot_is(&im, 6, sco_state_rgb(SES_M_RUN)), "by current, slot 6 is not the RUN green of the state colours");
    free(im.px);
}

Test(scope_window, fault_seen_in_the_screenshot, .timeout = 240)
{
    img im;
    shot_of("scope-shot.png", "", &im);
    cr_assert_eq(im.w, 1280);
    cr_assert_eq(im.h, 800);
    sco_layout l;
    cr_assert_eq(sco_layout_of(im.w, im.h, 8, &l), 0);
    /* the faulted slot red, a running one green: their centres */
    cr_assert(slot_is(&im, 3, sco_state_rgb(SES_M_FAULT)), "slot 3 is not FAULT red");
    cr_assert(slot_is(&im, 6, sco_state_rgb(SES_M_RUN)), "slot 6 is not RUN green");
    /* the bus voltage's trace moved: its colour on many rows of the waveforms */
    const sco_chinfo *bv = sco_ch(SCO_C_VBUS), *s1 = sco_ch(SCO_C_SEL0);
    int rows_v = 0, rows_s = 0;
    for (int y = l.wave.y; y < l.wave.y + l.wave.h; y++) {
        int hit_v = 0, hit_s = 0;
        for (int x = l.wave.x + 340; x < l.wave.x + l.wave.w; x++) { /* right of the legend */
            hit_v |= px_is(&im, x, y, (sco_rgb){bv->r, bv->g, bv->b});
            hit_s |= px_is(&im, x, y, (sco_rgb){s1->r, s1->g, s1->b});
        }
        rows_v += hit_v;
        rows_s += hit_s;
    }
    cr_assert_gt(rows_v, l.wave.h / 4, "bus.v's trace spans %d rows of %d", rows_v, l.wave.h);
    cr_assert_gt(rows_s, 20, "the selected module's current spans %d rows", rows_s);
    /* the trip's marker: a vertical line of its colour in one column */
    sco_rgb tc = sco_ev_rgb(SCO_E_TRIP);
    int best = 0;
    for (int x = l.wave.x; x < l.wave.x + l.wave.w; x++) {
        int n = 0;
        for (int y = l.wave.y; y < l.wave.y + l.wave.h; y++)
            n += px_is(&im, x, y, tc);
        best = n > best ? n : best;
    }
    cr_assert_gt(best, l.wave.h / 2, "no trip marker (a column of %d pixels at most)", best);
    free(im.px);
}

/* --scope-hold: the report is printed when the run ends, before the hold;
 * SIGTERM then ends the hold (as killed by it, cli_finish). */
Test(scope_window, hold_prints_the_report_then_a_signal_ends_it, .timeout = 240)
{
    need_xvfb();
    char cmd[2048], out[8192], txt[512];
    snprintf(txt, sizeof txt, "%s/scope-hold.txt", EK3_ARTEFACTS);
    remove(txt); /* a last run's report would be read as this one's */
    snprintf(cmd, sizeof cmd,
             "xvfb-run -a sh -c '%s rack --modules 4 --load 5kW --duration 0.05s --scope --scope-hold > %s 2>&1 & p=$!; "
             "i=0; while ! grep -qs timing: %s && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done; "
             "grep -c timing: %s; kill -TERM $p; wait $p; echo status $?' 2>&1",
             EK3_BIN, txt, txt, txt);
    sc_cmd(cmd, out, sizeof out);
    cr_assert(!strncmp(out, "1\n", 2) && strstr(out, "status 143"), "the report before the hold, SIGTERM ends it: %s",
              out);
}

/* A screenshot that cannot be written (a full disk) is an error of the run. */
Test(scope_window, shot_write_error_told_and_fails, .timeout = 240)
{
    need_xvfb();
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd, "%s rack --modules 4 --load 5kW --duration 0.05s --scope --scope-shot /dev/full@0.01s 2>&1",
             EK3_BIN);
    int st = xvfb_cmd("", cmd, out, sizeof out);
    cr_assert_eq(st, 1, "status %d: %s", st, out);
    cr_assert(strstr(out, "/dev/full: No space left on device"), "%s", out);
}

/* A scenario that ends before --scope-shot's time: its line says ERROR, as the summary counts it. */
Test(scope_window, scenario_shot_after_the_end_is_an_error_line, .timeout = 240)
{
    need_xvfb();
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd,
             "cd %s && %s scenario run %s/scenarios/svc-crash-restart.lua --seed 1 --scope "
             "--scope-shot scope-late.png@9s 2>/dev/null",
             EK3_ARTEFACTS, EK3_BIN, EK3_SOURCE_DIR);
    int st = xvfb_cmd("", cmd, out, sizeof out);
    cr_assert_eq(st, 2, "status %d: %s", st, out);
    cr_assert(strstr(out, "ERROR  svc-crash-restart") && strstr(out, "0 passed, 0 failed, 1 error"), "%s", out);
    cr_assert_null(strstr(out, "PASS"), "%s", out);
}
