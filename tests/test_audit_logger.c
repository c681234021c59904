/* test_audit_logger.c - the AUDIT_LOGGER service: every audit event
 * reaches flash exactly once, across its own crashes, kernel resets and
 * power cycles; torn records are skipped; the ring wraps by erasing the
 * oldest page. */
#include "audit_logger.h"
#include "kernel_rig.h"

static int victim_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m)
{
    (void)state, (void)k, (void)me, (void)m;
    return 0;
}

static const jz_service_def services[] = {
    ALOG_SERVICE(0),
    {.name = "VICTIM", .prio = 5, .queue_depth = 4, .period_us = 10000, .state_size = 16, .handle = victim_handle},
};
#define LOGGER 1u
#define VICTIM 2u

/* Every valid record in flash, in record-number order. */
static unsigned read_log(rig *r, alog_record *out, unsigned max)
{
    hal hw = hhal_hal(&r->h);
    unsigned n = 0;
    for (unsigned i = 0; i < alog_slots(hw) && n < max; i++)
        if (alog_read(hw, i, &out[n]) == EK3_OK)
            n++;
    for (unsigned i = 1; i < n; i++) /* insertion sort by seq */
        for (unsigned j = i; j > 0 && out[j - 1].seq > out[j].seq; j--) {
            alog_record t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

/* The records are numbered 0..n-1 without gaps, and no audit event
 * (by number and time) appears twice. */
static void assert_log_sound(const alog_record *rec, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        cr_assert_eq(rec[i].seq, rec[0].seq + i, "record %u has number %u", i, rec[i].seq);
        for (unsigned j = 0; j < i; j++)
            cr_assert(!(rec[j].ev_no == rec[i].ev_no && rec[j].t_ns == rec[i].t_ns),
                      "event %u written twice", rec[i].ev_no);
    }
}

static void crash_victim(rig *r, int times)
{
    for (int i = 0; i < times; i++) {
        cr_assert_eq(inj_fault(&r->k, INJ_CRASH, VICTIM, 0), EK3_OK);
        rig_ms(r, 30);
    }
}

Test(audit_logger, writes_every_event_once)
{
    rig *r = rig_new(services, 2, 0, 7);
    crash_victim(r, 3);
    rig_ms(r, 300);
    alog_record rec[64];
    unsigned n = read_log(r, rec, 64);
    /* BOOT, then per crash: INJECT, CRASH, RESTART. */
    cr_assert_eq(n, r->k.audit.total, "%u records for %u events", n, r->k.audit.total);
    assert_log_sound(rec, n);
    cr_assert_eq(rec[0].kind, AUDIT_BOOT);
    cr_assert_eq(rec[2].kind, AUDIT_CRASH);
    cr_assert_eq(rec[2].svc, VICTIM);
    cr_assert_eq(rec[3].kind, AUDIT_RESTART);
    for (unsigned i = 0; i < n; i++) {
        const audit_event *e = audit_get(&r->k.audit, rec[i].ev_no);
        cr_assert_eq(rec[i].t_ns, e->t_ns);
        cr_assert_eq(rec[i].kind, e->kind);
    }
    rig_free(r);
}

Test(audit_logger, its_own_crash_loses_and_repeats_nothing)
{
    rig *r = rig_new(services, 2, 0, 8);
    crash_victim(r, 2);
    rig_ms(r, 200);
    cr_assert_eq(inj_fault(&r->k, INJ_CRASH, LOGGER, 0), EK3_OK);
    crash_victim(r, 2);
    rig_ms(r, 300);
    cr_assert_geq(r->k.svc[LOGGER].restarts, 1u);
    alog_record rec[64];
    unsigned n = read_log(r, rec, 64);
    cr_assert_eq(n, r->k.audit.total);
    assert_log_sound(rec, n);
    rig_free(r);
}

Test(audit_logger, survives_a_reset_and_a_power_cycle)
{
    rig *r = rig_new(services, 2, 0, 9);
    crash_victim(r, 2);
    rig_ms(r, 200);
    uint32_t before = r->k.audit.total;
    cr_assert_eq(jz_reset(&r->k), EK3_OK); /* the rig's reset keeps the RAM ring */
    rig_ms(r, 200);
    alog_record rec[128];
    unsigned n = read_log(r, rec, 128);
    cr_assert_eq(n, r->k.audit.total, "after reset: %u records, %u events", n, r->k.audit.total);
    assert_log_sound(rec, n);

    /* Power cycle: a new kernel (fresh RAM) on the same flash. */
    jz_config cfg = r->k.cfg;
    cr_assert_eq(jz_init(&r->k, &cfg, hhal_hal(&r->h)), EK3_OK);
    crash_victim(r, 1);
    rig_ms(r, 200);
    unsigned m = read_log(r, rec, 128);
    cr_assert_eq(m, n + r->k.audit.total, "after power cycle: %u records, want %u", m, n + r->k.audit.total);
    assert_log_sound(rec, m);
    cr_assert_eq(rec[n].kind, AUDIT_BOOT);
    cr_assert_gt(before, 0u);
    rig_free(r);
}

Test(audit_logger, skips_a_torn_record)
{
    rig *r = rig_new(services, 2, 0, 10);
    rig_ms(r, 200);
    alog_record rec[64];
    unsigned n = read_log(r, rec, 64);
    cr_assert_eq(n, 1u); /* BOOT */
    /* A power loss halfway through the next record: some bytes programmed. */
    uint32_t torn = ALOG_FIRST_PAGE * ALOG_PAGE + ALOG_RECORD;
    memset(r->h.flash + torn, 0x00, 10);
    jz_config cfg = r->k.cfg;
    cr_assert_eq(jz_init(&r->k, &cfg, hhal_hal(&r->h)), EK3_OK);
    rig_ms(r, 200);
    n = read_log(r, rec, 64);
    cr_assert_eq(n, 2u);
    assert_log_sound(rec, n);
    hal hw = hhal_hal(&r->h);
    alog_record t;
    cr_assert_eq(alog_read(hw, 1, &t), EK3_ENOENT, "the torn slot stays invalid");
    cr_assert_eq(alog_read(hw, 2, &t), EK3_OK, "the next record goes after it");
    rig_free(r);
}

Test(audit_logger, ring_wraps_erasing_the_oldest_page)
{
    rig *r = rig_new(services, 2, 0, 11);
    hal hw = hhal_hal(&r->h);
    unsigned slots = alog_slots(hw), per_page = ALOG_PAGE / ALOG_RECORD;
    /* More events than the ring holds, as fast as the logger drains them. */
    for (unsigned i = 0; i < slots + per_page + 5; i += ALOG_PER_TICK) {
        for (unsigned j = 0; j < ALOG_PER_TICK; j++)
            audit_record(&r->k.audit, jz_now(&r->k), AUDIT_INJECT, VICTIM, 0, (int32_t)(i + j));
        rig_ms(r, 100);
    }
    rig_ms(r, 200);
    static alog_record rec[1024];
    unsigned n = read_log(r, rec, 1024);
    cr_assert_lt(n, slots, "one page is always erased ahead");
    cr_assert_geq(n, slots - per_page);
    assert_log_sound(rec, n);
    cr_assert_eq(r->k.svc[LOGGER].restarts, 0u);
    cr_assert_eq(rec[n - 1].seq, r->k.audit.total - 1, "the newest event is the last record");
    cr_assert_eq(rec[0].seq, r->k.audit.total - n, "the log is the newest events, without a gap");
    rig_free(r);
}
