/* test_audit_logger.c - the AUDIT_LOGGER service: every audit event
 * reaches flash exactly once, across its own crashes, kernel resets and
 * power cycles; torn records are skipped; the ring wraps by erasing the
 * oldest page. */
#include "audit_logger.h"
#include "kernel_rig.h"
#include "flashemu.h"

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

/* One kernel event in a committed record as the tests see it (seq: the
 * record's number; a batch's events share it). */
typedef struct trec {
    uint32_t seq, ev_no;
    int64_t t_ns;
    uint8_t kind, svc, batched;
} trec;

typedef struct tlog {
    trec *out;
    unsigned n, max, batches;
} tlog;

static void collect(void *ctx, const alog_rec *r)
{
    tlog *t = ctx;
    if (ALOG_IS_CARRY(r->type))
        return;
    int n = alog_event_count(r);
    cr_assert_gt(n, 0, "record %u (type 0x%x, %u bytes) holds kernel events", r->seq, r->type, r->len);
    t->batches += r->type == ALOG_T_EVENTS;
    for (int i = 0; i < n && t->n < t->max; i++) {
        alog_ev ev;
        cr_assert_eq(alog_event(r, (unsigned)i, &ev), EK3_OK);
        cr_assert(r->type != ALOG_T_EVENTS || !alog_critical(ev.kind), "a critical event in a batch");
        trec x = {r->seq, ev.ev_no, ev.t_ns, ev.kind, ev.svc, r->type == ALOG_T_EVENTS};
        t->out[t->n++] = x;
    }
}

static const uint8_t zero_key[16];

static unsigned last_batches; /* batch records in the last read_log */

/* Every kernel event in flash, in log order; the dump verifies. */
static unsigned read_log(rig *r, trec *out, unsigned max)
{
    static uint8_t img[ALOG_AREA];
    size_t n;
    cr_assert_eq(alog_dump(hhal_hal(&r->h), img, sizeof img, &n), EK3_OK);
    alog_verdict v;
    tlog t = {out, 0, max, 0};
    cr_assert_eq(alog_verify(&hhal_hal(&r->h).ops->crypto, zero_key, img, n, &v, collect, &t), EK3_OK);
    cr_assert_eq(v.bad, 0, "the log verifies: %s at 0x%x", v.why ? v.why : "", v.bad_off);
    last_batches = t.batches;
    return t.n;
}

/* The records are numbered without gaps (a batch's events share one
 * number), and no audit event (by number and time) appears twice. */
static void assert_log_sound(const trec *rec, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        cr_assert(i == 0 || rec[i].seq - rec[i - 1].seq <= 1u, "event %u in record %u after record %u", i,
                  rec[i].seq, rec[i - 1].seq);
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
    trec rec[64];
    unsigned n = read_log(r, rec, 64);
    /* BOOT, then per crash: INJECT, CRASH, RESTART. */
    cr_assert_eq(n, r->k.audit.total, "%u events written of %u", n, r->k.audit.total);
    assert_log_sound(rec, n);
    cr_assert_gt(last_batches, 0u, "the events of one tick (INJECT, CRASH) share a record");
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
    trec rec[64];
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
    trec rec[128];
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
    trec rec[64];
    unsigned n = read_log(r, rec, 64);
    cr_assert_eq(n, 1u); /* BOOT */
    /* The power goes while the next record's second double word is programmed. */
    r->h.fl.cfg.cut_at = r->h.fl.st.ops + 2;
    crash_victim(r, 1);
    rig_ms(r, 200);
    cr_assert(fle_is_off(&r->h.fl), "the cut happened");
    fle_power_on(&r->h.fl);
    jz_config cfg = r->k.cfg;
    cr_assert_eq(jz_init(&r->k, &cfg, hhal_hal(&r->h)), EK3_OK);
    rig_ms(r, 200);
    n = read_log(r, rec, 64);
    cr_assert_eq(n, 2u, "the first boot's record and the second boot's: %u", n);
    assert_log_sound(rec, n);
    cr_assert_eq(rec[1].kind, AUDIT_BOOT);
    static uint8_t img[ALOG_AREA];
    size_t len;
    alog_verdict v;
    cr_assert_eq(alog_dump(hhal_hal(&r->h), img, sizeof img, &len), EK3_OK);
    cr_assert_eq(alog_verify(&hhal_hal(&r->h).ops->crypto, zero_key, img, len, &v, NULL, NULL), EK3_OK);
    cr_assert_eq(v.torn, 1u, "the torn record is counted, not bad");
    cr_assert_eq(v.pages, 1u, "the record after it went after it, in the same page");
    rig_free(r);
}

Test(audit_logger, ring_wraps_erasing_the_oldest_page)
{
    rig *r = rig_new(services, 2, 0, 11);
    unsigned pages = ALOG_AREA / ALOG_PAGE;
    /* Events per page: batches of ALOG_PER_TICK events. */
    unsigned per_page = (ALOG_PAGE - ALOG_PAGE_HDR) / (ALOG_REC_HDR + ALOG_EVS_HDR + ALOG_PER_TICK * ALOG_EV_SIZE + 8u) *
                        ALOG_PER_TICK;
    /* More events than the ring holds, as fast as the logger drains them. */
    for (unsigned i = 0; i < pages * per_page + 5; i += ALOG_PER_TICK) {
        for (unsigned j = 0; j < ALOG_PER_TICK; j++)
            audit_record(&r->k.audit, jz_now(&r->k), AUDIT_INJECT, VICTIM, 0, (int32_t)(i + j));
        rig_ms(r, 100);
    }
    rig_ms(r, 200);
    static trec rec[1024];
    unsigned n = read_log(r, rec, 1024);
    cr_assert_lt(n, pages * per_page, "one page is always erased ahead");
    cr_assert_geq(n, (pages - 2) * per_page);
    assert_log_sound(rec, n);
    cr_assert_eq(r->k.svc[LOGGER].restarts, 0u);
    cr_assert_eq(rec[n - 1].ev_no, r->k.audit.total - 1, "the newest event is the last one written");
    for (unsigned i = 1; i < n; i++)
        cr_assert_eq(rec[i].ev_no, rec[0].ev_no + i, "the log is the newest events, without a gap");
    rig_free(r);
}

static void count_carried_denied(void *ctx, const alog_rec *r)
{
    if (ALOG_IS_CARRY(r->type) && r->payload[6] == AUDIT_DENIED)
        (*(unsigned *)ctx)++;
}

Test(audit_logger, critical_records_outlive_the_rollover)
{
    rig *r = rig_new(services, 2, 0, 12);
    for (int j = 0; j < 3; j++)
        audit_record(&r->k.audit, jz_now(&r->k), AUDIT_DENIED, VICTIM, 0, j); /* refused: critical */
    rig_ms(r, 100);
    unsigned pages = ALOG_AREA / ALOG_PAGE;
    unsigned per_page = (ALOG_PAGE - ALOG_PAGE_HDR) / (ALOG_REC_HDR + ALOG_EVS_HDR + ALOG_PER_TICK * ALOG_EV_SIZE + 8u) *
                        ALOG_PER_TICK;
    for (unsigned i = 0; i < 2 * pages * per_page; i += ALOG_PER_TICK) { /* the ring turns twice */
        for (unsigned j = 0; j < ALOG_PER_TICK; j++)
            audit_record(&r->k.audit, jz_now(&r->k), AUDIT_INJECT, VICTIM, 0, (int32_t)(i + j));
        rig_ms(r, 100);
    }
    static uint8_t img[ALOG_AREA];
    size_t len;
    alog_verdict v;
    unsigned denied = 0;
    cr_assert_eq(alog_dump(hhal_hal(&r->h), img, sizeof img, &len), EK3_OK);
    cr_assert_eq(alog_verify(&hhal_hal(&r->h).ops->crypto, zero_key, img, len, &v, count_carried_denied, &denied),
                 EK3_OK);
    cr_assert_eq(v.bad, 0);
    cr_assert_gt(v.first_seq, 100u, "the plain records of that time are gone");
    cr_assert_eq(denied, 3u, "the three refusals are still there, carried forward");
    rig_free(r);
}

/* One record of the log as the batch test sees it. */
typedef struct trecs {
    uint8_t type[64], n[64];
    unsigned count;
} trecs;

static void each_record(void *ctx, const alog_rec *r)
{
    trecs *t = ctx;
    if (t->count < 64) {
        t->type[t->count] = r->type;
        t->n[t->count++] = (uint8_t)alog_event_count(r);
    }
}

/* The events drained in one tick share a record; a critical one stands
 * alone (so that rollover carries exactly the critical ones) and splits
 * the batch; a service restart goes on after a batch's last event. */
Test(audit_logger, batches_a_tick_keeping_critical_events_apart)
{
    rig *r = rig_new(services, 2, 0, 13);
    rig_ms(r, 200);
    for (int j = 0; j < 5; j++)
        audit_record(&r->k.audit, jz_now(&r->k) + j, AUDIT_INJECT, VICTIM, 1, j);
    audit_record(&r->k.audit, jz_now(&r->k) + 5, AUDIT_DENIED, VICTIM, 0, 7);
    for (int j = 0; j < 3; j++)
        audit_record(&r->k.audit, jz_now(&r->k) + 6 + j, AUDIT_LATE_REPLY, VICTIM, 0, 10 + j);
    rig_ms(r, 200);
    cr_assert_eq(inj_fault(&r->k, INJ_CRASH, LOGGER, 0), EK3_OK); /* its restart reads the batch back */
    rig_ms(r, 300);
    static uint8_t img[ALOG_AREA];
    size_t len;
    alog_verdict v;
    trecs t = {0};
    cr_assert_eq(alog_dump(hhal_hal(&r->h), img, sizeof img, &len), EK3_OK);
    cr_assert_eq(alog_verify(&hhal_hal(&r->h).ops->crypto, zero_key, img, len, &v, each_record, &t), EK3_OK);
    cr_assert_eq(v.bad, 0);
    cr_assert_geq(t.count, 4u);
    cr_assert_eq(t.type[0], AUDIT_BOOT, "a lone event: a record of its own");
    cr_assert_eq(t.type[1], ALOG_T_EVENTS);
    cr_assert_eq(t.n[1], 5u, "the five events before the refusal");
    cr_assert_eq(t.type[2], AUDIT_DENIED, "the refusal alone");
    cr_assert_eq(t.type[3], ALOG_T_EVENTS);
    cr_assert_eq(t.n[3], 3u);
    trec rec[64];
    unsigned n = read_log(r, rec, 64);
    cr_assert_eq(n, r->k.audit.total, "%u events written of %u: nothing twice after the restart", n, r->k.audit.total);
    assert_log_sound(rec, n);
    for (unsigned i = 0; i < n; i++) {
        const audit_event *e = audit_get(&r->k.audit, rec[i].ev_no);
        cr_assert_eq(rec[i].t_ns, e->t_ns, "event %u's time", i);
        cr_assert_eq(rec[i].kind, e->kind);
        cr_assert_eq(rec[i].svc, e->svc);
    }
    rig_free(r);
}
