/* test_rs.c - the Reincarnation Server and the watchdog: restart within
 * 50 ms while the control interrupt keeps its period, safe shutdown for
 * a critical service, growing backoff, hang and flood detection, strict
 * mode trapping a stray write, the kernel watchdog, and 84 kernels in
 * one process. */
#include "kernel_rig.h"

typedef struct {
    uint32_t ticks;      /* IPC_T_TICKs handled since its last (re)start */
    uint32_t inits;
    uint32_t victim_word;
} svc_state;

enum { T_WRITE_OTHER = IPC_T_USER, T_OVERRUN };

static int s_init(void *st, jz_kernel *k, unsigned me)
{
    (void)k;
    (void)me;
    ((svc_state *)st)->inits++;
    return 0;
}

static int s_handle(void *st, jz_kernel *k, unsigned me, const ipc_msg *m)
{
    svc_state *s = st;
    (void)me;
    if (m->type == IPC_T_TICK)
        s->ticks++;
    if (m->type == T_WRITE_OTHER) { /* a wild pointer into service 2's state */
        svc_state *other = jz_state(k, 2);
        other->victim_word = 0xDEADBEEF;
    }
    if (m->type == T_OVERRUN) /* writes one word past its own state */
        ((uint32_t *)(s + 1))[0] = 0x12345678;
    return 0;
}

/* 1 llc_control (critical), 2 thermal (100 Hz, watched), 3 health (10 Hz, watched), 4 audit */
static const jz_service_def defs[] = {
    {"llc_control", 20, 1, 4, 1000, 20, 0, sizeof(svc_state), s_init, s_handle},
    {"thermal", 12, 0, 4, 10000, 20, 0, sizeof(svc_state), s_init, s_handle},
    {"health", 10, 0, 4, 100000, 50, 1u << 2, sizeof(svc_state), s_init, s_handle},
    {"audit", 2, 0, 8, 0, 0, 0, sizeof(svc_state), s_init, s_handle},
};

static void send(rig *r, unsigned to, uint16_t type)
{
    ipc_msg m;
    ipc_msg_init(&m, type, 2, NULL, 0);
    cr_assert_eq(ipc_send(&r->k, IPC_KERNEL, to, &m), EK3_OK);
}

Test(rs, crashed_service_restarts_within_50ms_while_control_keeps_its_period)
{
    rig *r = rig_new(defs, 4, 0, 7);
    rig_ms(r, 100);
    svc_state *th = jz_state(&r->k, 2);
    cr_assert_geq(th->ticks, 9u);
    int64_t t_crash = r->h.now_ns;
    uint32_t isr_before = r->control_calls;
    cr_assert_eq(inj_fault(&r->k, INJ_CRASH, 2, 0), EK3_OK);
    cr_assert_eq(r->k.svc[2].status, JZ_SVC_CRASHED);
    rig_ms(r, 100);
    const audit_event *rs = rig_last(r, AUDIT_RESTART, 2);
    cr_assert_not_null(rs, "thermal was restarted");
    cr_assert_leq(rs->t_ns - t_crash, 50000000, "restart %lld ns after the crash", (long long)(rs->t_ns - t_crash));
    cr_assert_eq(rs->arg, (int32_t)((rs->t_ns - t_crash) / 1000), "the event carries its latency");
    cr_assert_eq(r->control_calls - isr_before, 1000u, "the control interrupt ran every one of 1000 periods");
    cr_assert_eq(r->k.svc[2].status, JZ_SVC_RUNNING);
    cr_assert_eq(th->inits, 1u, "a fresh state: the old init count is gone");
    cr_assert_geq(th->ticks, 9u, "and it ticks again at 100 Hz");
    cr_assert_eq(r->h.shutdowns, 0u, "power kept flowing");
    cr_assert_eq(r->k.state, JZ_RUNNING);
    const audit_event *c = rig_last(r, AUDIT_CRASH, 2);
    cr_assert_not_null(c);
    cr_assert_eq(c->reason, JZ_CRASH_FAULT);
    rig_free(r);
}

Test(rs, crashed_critical_service_causes_safe_shutdown)
{
    rig *r = rig_new(defs, 4, 0, 7);
    r->h.pwm.enable = 1;
    r->h.gpio_out |= HAL_OUT_RELAY;
    rig_ms(r, 10);
    inj_fault(&r->k, INJ_CRASH, 1, 0);
    cr_assert_eq(r->h.shutdowns, 1u);
    cr_assert_eq(r->h.pwm.enable, 0, "gates off");
    cr_assert_eq(r->h.gpio_out & HAL_OUT_RELAY, 0u, "output disconnected");
    cr_assert_eq(r->k.state, JZ_SHUTDOWN);
    rig_ms(r, 1000);
    cr_assert_eq(r->k.svc[1].status, JZ_SVC_DEAD, "a critical service is not restarted");
    cr_assert_null(rig_last(r, AUDIT_RESTART, 1));
    cr_assert_not_null(rig_last(r, AUDIT_SAFE_SHUTDOWN, 1));
    cr_assert_eq(r->k.svc[2].status, JZ_SVC_RUNNING, "the other services still run (to report the fault)");
    rig_free(r);
}

Test(rs, backoff_doubles_for_a_service_that_keeps_crashing)
{
    rig *r = rig_new(defs, 4, 0, 7);
    rig_ms(r, 10);
    int64_t delays[6];
    for (int i = 0; i < 6; i++) {
        int64_t t0 = r->h.now_ns;
        inj_fault(&r->k, INJ_CRASH, 3, 0);
        while (r->k.svc[3].status != JZ_SVC_RUNNING)
            rig_period(r);
        delays[i] = r->h.now_ns - t0;
    }
    /* first restart at the next pass; then 2, 4, 8, 16, 32 ms */
    cr_assert_leq(delays[0], RIG_PERIOD_NS);
    for (int i = 1; i < 6; i++) {
        int64_t want = (int64_t)RS_BACKOFF_BASE_MS << (i - 1);
        cr_assert(delays[i] >= want * 1000000 && delays[i] <= want * 1000000 + RIG_PERIOD_NS,
                  "restart %d after %lld ns, expected %lld ms", i, (long long)delays[i], (long long)want);
    }
    cr_assert_eq(r->k.svc[3].restarts, 6u);
    /* a service that stays up for RS_STABLE_MS is forgiven */
    rig_ms(r, RS_STABLE_MS + 10);
    int64_t t0 = r->h.now_ns;
    inj_fault(&r->k, INJ_CRASH, 3, 0);
    rig_period(r);
    cr_assert_eq(r->k.svc[3].status, JZ_SVC_RUNNING);
    cr_assert_leq(r->h.now_ns - t0, RIG_PERIOD_NS);
    rig_free(r);
}

Test(rs, hung_service_is_detected_by_its_missed_heartbeat)
{
    rig *r = rig_new(defs, 4, 0, 7);
    rig_ms(r, 50);
    int64_t t0 = r->h.now_ns;
    inj_fault(&r->k, INJ_HANG, 3, 0);
    rig_ms(r, 300);
    const audit_event *c = rig_last(r, AUDIT_CRASH, 3);
    cr_assert_not_null(c);
    cr_assert_eq(c->reason, JZ_CRASH_HANG);
    /* pinged at most 50 ms after it hung, declared hung 100 ms after the ping */
    cr_assert_gt(c->t_ns - t0, 100000000);
    cr_assert_leq(c->t_ns - t0, 150000000 + 2 * RIG_PERIOD_NS);
    cr_assert_not_null(rig_last(r, AUDIT_RESTART, 3));
    cr_assert_eq(r->k.svc[3].status, JZ_SVC_RUNNING);
    rig_free(r);
}

/* The server pings each watched service once per heartbeat and the rate
 * timers keep their rate, also across a restart: the kernel skips the
 * passes where nothing is due (rs_due_ns, tick_due_ns), and a pong or a
 * restart must bring the next one forward. */
Test(rs, pings_keep_their_heartbeat_and_ticks_their_rate)
{
    rig *r = rig_new(defs, 4, 0, 7);
    rig_ms(r, 10);
    unsigned pings[5] = {0};
    int64_t last[5];
    for (unsigned id = 1; id <= 4; id++)
        last[id] = r->k.svc[id].ping_sent_ns;
    uint32_t ticks0 = r->k.svc[2].ticks;
    for (int q = 0; q < 10000; q++) { /* 1 s */
        rig_period(r);
        for (unsigned id = 1; id <= 4; id++)
            if (r->k.svc[id].ping_sent_ns != last[id]) {
                pings[id]++;
                last[id] = r->k.svc[id].ping_sent_ns;
            }
    }
    cr_assert_eq(pings[2], 50, "thermal: heartbeat 20 ms, %u pings in 1 s", pings[2]);
    cr_assert_eq(pings[3], 20, "health: heartbeat 50 ms, %u pings in 1 s", pings[3]);
    cr_assert_eq(pings[4], 0, "audit is not watched");
    cr_assert_eq(r->k.svc[2].ticks - ticks0, 100, "thermal: 100 Hz");
    /* A crash and a restart: the ticks and pings start again from it. */
    inj_fault(&r->k, INJ_CRASH, 2, 0);
    rig_ms(r, 100);
    cr_assert_not_null(rig_last(r, AUDIT_RESTART, 2));
    uint32_t t1 = r->k.svc[2].ticks;
    unsigned p2 = 0;
    last[2] = r->k.svc[2].ping_sent_ns;
    for (int q = 0; q < 10000; q++) {
        rig_period(r);
        if (r->k.svc[2].ping_sent_ns != last[2]) {
            p2++;
            last[2] = r->k.svc[2].ping_sent_ns;
        }
    }
    cr_assert_eq(r->k.svc[2].ticks - t1, 100, "thermal after its restart: 100 Hz");
    cr_assert_eq(p2, 50, "thermal after its restart: %u pings in 1 s", p2);
    rig_free(r);
}

Test(rs, flooded_queue_is_a_crash_and_a_restart)
{
    rig *r = rig_new(defs, 4, 0, 7);
    rig_ms(r, 5);
    cr_assert_eq(inj_fault(&r->k, INJ_FLOOD, 4, 50), EK3_OK);
    cr_assert_eq(r->k.svc[4].last_crash, JZ_CRASH_QUEUE);
    rig_ms(r, 1);
    cr_assert_eq(r->k.svc[4].status, JZ_SVC_RUNNING);
    rig_free(r);
}

Test(rs, overrun_of_its_own_region_is_caught_by_the_guard_words)
{
    rig *r = rig_new(defs, 4, 0, 7);
    send(r, 4, T_OVERRUN);
    rig_period(r);
    const audit_event *c = rig_last(r, AUDIT_CRASH, 4);
    cr_assert_not_null(c);
    cr_assert_eq(c->reason, JZ_CRASH_OVERFLOW);
    rig_free(r);
}

Test(rs, strict_mode_traps_a_stray_write_and_restarts_only_the_writer)
{
    rig *r = rig_new(defs, 4, 1, 7);
    rig_ms(r, 10);
    svc_state *thermal = jz_state(&r->k, 2);
    uint32_t thermal_ticks = thermal->ticks;
    send(r, 3, T_WRITE_OTHER); /* health writes into thermal's state */
    rig_period(r);
    const audit_event *c = rig_last(r, AUDIT_CRASH, 0);
    cr_assert_not_null(c, "the stray write was caught");
    cr_assert_eq(c->svc, 3, "as the writer's crash");
    cr_assert_eq(c->reason, JZ_CRASH_MEMORY);
    cr_assert_eq(r->h.faults, 1u);
    cr_assert_eq(thermal->victim_word, 0u, "the victim's state is intact");
    cr_assert_null(rig_last(r, AUDIT_CRASH, 2), "the victim did not crash");
    rig_ms(r, 20);
    cr_assert_geq(thermal->ticks, thermal_ticks + 2, "and keeps running");
    cr_assert_eq(r->k.svc[3].status, JZ_SVC_RUNNING, "the writer was restarted");
    cr_assert_eq(rig_count(r, AUDIT_RESTART, 0), 1u, "only the writer restarted");

    /* the injected form does the same */
    cr_assert_eq(inj_fault(&r->k, INJ_STRAY, 4, 2), EK3_OK);
    send(r, 4, IPC_T_USER + 9);
    rig_period(r);
    c = rig_last(r, AUDIT_CRASH, 4);
    cr_assert_not_null(c);
    cr_assert_eq(c->reason, JZ_CRASH_MEMORY);
    cr_assert_eq(r->h.faults, 2u);
    rig_free(r);
}

Test(rs, without_strict_mode_the_same_write_lands)
{
    rig *r = rig_new(defs, 4, 0, 7);
    send(r, 3, T_WRITE_OTHER);
    rig_period(r);
    cr_assert_eq(((svc_state *)jz_state(&r->k, 2))->victim_word, 0xDEADBEEFu);
    cr_assert_null(rig_last(r, AUDIT_CRASH, 3));
    rig_free(r);
}

Test(rs, watchdog_resets_a_stalled_kernel)
{
    rig *r = rig_new(defs, 4, 0, 7);
    rig_ms(r, 20);
    int64_t last_kick = r->h.kick_ns;
    cr_assert_eq(inj_fault(&r->k, INJ_STALL, 0, 500), EK3_OK);
    rig_ms(r, 99);
    cr_assert_eq(r->resets, 0u, "not before 100 ms");
    rig_ms(r, 3);
    cr_assert_eq(r->resets, 1u, "reset once the kernel stalled for 100 ms");
    cr_assert_eq(r->k.resets, 1u);
    const audit_event *w = rig_last(r, AUDIT_WATCHDOG, 0);
    cr_assert_not_null(w, "the watchdog reset is in the audit trail");
    cr_assert_gt(w->t_ns - last_kick, 100000000);
    cr_assert_leq(w->t_ns - last_kick, 100000000 + RIG_PERIOD_NS);
    cr_assert_not_null(rig_last(r, AUDIT_INJECT, 0), "and so is what caused it");
    rig_ms(r, 30);
    cr_assert_eq(r->resets, 1u, "the fresh kernel runs and kicks again");
    cr_assert_geq(((svc_state *)jz_state(&r->k, 2))->ticks, 2u);
    rig_free(r);
}

Test(rs, eighty_four_kernels_keep_separate_state)
{
    rig *rack[84];
    for (int i = 0; i < 84; i++)
        rack[i] = rig_new(defs, 4, 0, 1000 + (uint64_t)i);
    for (int ms = 0; ms < 200; ms++) {
        if (ms == 20)
            inj_fault(&rack[41]->k, INJ_CRASH, 2, 0);
        if (ms == 25)
            inj_fault(&rack[7]->k, INJ_STALL, 0, 200);
        for (int i = 0; i < 84; i++)
            rig_ms(rack[i], 1);
    }
    for (int i = 0; i < 84; i++) {
        cr_assert_eq(rig_count(rack[i], AUDIT_CRASH, 0), i == 41 ? 1u : 0u, "module %d", i + 1);
        cr_assert_eq(rig_count(rack[i], AUDIT_INJECT, 0), i == 41 || i == 7 ? 1u : 0u, "module %d", i + 1);
        cr_assert_eq(rack[i]->resets, i == 7 ? 1u : 0u, "only module 8 stalled and was reset");
        cr_assert_eq(rack[i]->k.svc[2].restarts, i == 41 ? 1u : 0u);
        svc_state *th = jz_state(&rack[i]->k, 2);
        /* thermal ticks at 100 Hz since its last start: 200 ms, 180 ms after
         * module 42's crash, about 75 ms after module 8's reset */
        cr_assert_geq(th->ticks, i == 7 ? 6u : i == 41 ? 17u : 19u, "module %d: %u ticks", i + 1, th->ticks);
        for (int j = 0; j < i; j++)
            cr_assert_neq(jz_state(&rack[i]->k, 2), jz_state(&rack[j]->k, 2));
    }
    for (int i = 0; i < 84; i++)
        rig_free(rack[i]);
}

Test(rs, same_seed_same_trail)
{
    rig *a = rig_new(defs, 4, 0, 99), *b = rig_new(defs, 4, 0, 99);
    rig *runs[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        rig *r = runs[k];
        rig_ms(r, 10);
        inj_fault(&r->k, INJ_CORRUPT, 4, 0);
        send(r, 4, IPC_T_USER);
        inj_fault(&r->k, INJ_CRASH, 2, 0);
        rig_ms(r, 5);
        inj_fault(&r->k, INJ_HANG, 3, 0);
        rig_ms(r, 300);
    }
    cr_assert_eq(audit_count(&a->k.audit), audit_count(&b->k.audit));
    for (uint32_t i = 0; i < audit_count(&a->k.audit); i++)
        cr_assert_eq(memcmp(audit_get(&a->k.audit, i), audit_get(&b->k.audit, i), sizeof(audit_event)), 0);
    cr_assert_eq(memcmp(&a->k.svc[4].q, &b->k.svc[4].q, sizeof a->k.svc[4].q), 0);
    rig_free(a);
    rig_free(b);
}
