/* test_powercut.c - the emulated flash behaves as RM0440's (flashemu.h),
 * and the audit log loses no committed record and keeps its chain
 * whatever flash operation the power is cut in (pcut.h): every program
 * and erase of a workload in turn, and sampled second cuts during the
 * recovery (records as the service writes them: lone events, critical
 * ones, batches). The long campaign (10 000 records) runs under the nightly
 * label (EK3_POWERCUT_NIGHTLY=1). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_logger.h"
#include "jz.h"
#include "ek3_err.h"
#include "flashemu.h"
#include "pcut.h"

/* ---- the device ------------------------------------------------------- */

static fle *dev_new(fle_config c)
{
    fle *f = malloc(sizeof *f);
    cr_assert_not_null(f);
    cr_assert_eq(fle_init(f, &c), EK3_OK);
    return f;
}

static const uint8_t dw_a[8] = {0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0};
static const uint8_t dw_zero[8] = {0};
static const uint8_t dw_ones[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

Test(flashemu, double_words_once_after_an_erase)
{
    fle *f = dev_new((fle_config){.seed = 1});
    uint8_t b[16];
    cr_assert_eq(fle_program(f, 8, dw_a, 8), EK3_OK);
    cr_assert_eq(fle_read(f, 8, b, 8), EK3_OK);
    cr_assert_eq(memcmp(b, dw_a, 8), 0);
    cr_assert_eq(fle_program(f, 8, dw_a, 8), EK3_EIO, "PROGERR: the same value again");
    cr_assert_eq(fle_program(f, 16, dw_ones, 8), EK3_OK, "all 1s is programmed too (its ECC bits set)");
    cr_assert_eq(fle_program(f, 16, dw_a, 8), EK3_EIO, "so it cannot be programmed again");
    cr_assert_eq(fle_program(f, 8, dw_zero, 8), EK3_OK, "all zeros over a programmed double word: allowed");
    cr_assert_eq(fle_read(f, 8, b, 8), EK3_OK);
    cr_assert_eq(memcmp(b, dw_zero, 8), 0);
    cr_assert_eq(f->st.progerr, 2u);
    cr_assert_eq(fle_program(f, 4, dw_a, 8), EK3_EINVAL, "not double-word aligned");
    cr_assert_eq(fle_program(f, 24, dw_a, 4), EK3_EINVAL, "not a whole double word");
    cr_assert_eq(fle_program(f, FLE_MAX_SIZE - 8, b, 16), EK3_ERANGE);
    cr_assert_eq(fle_erase(f, 1024, FLE_PAGE), EK3_EINVAL, "erase: whole pages");
    cr_assert_eq(fle_erase(f, 0, FLE_PAGE), EK3_OK);
    cr_assert_eq(fle_program(f, 8, dw_a, 8), EK3_OK, "erased: programmable again");
    cr_assert_eq(fle_bank(f, 0), 0u);
    cr_assert_eq(fle_bank(f, FLE_MAX_SIZE / 2), 1u, "dual bank: the upper half is bank 2");
    free(f);
}

Test(flashemu, a_cut_program_is_torn_and_the_device_goes_off)
{
    unsigned outcomes[4] = {0};
    for (uint64_t seed = 0; seed < 64; seed++) {
        fle *f = dev_new((fle_config){.seed = seed, .cut_at = 2});
        uint8_t two[16];
        memcpy(two, dw_a, 8);
        memcpy(two + 8, dw_zero, 8);
        cr_assert_eq(fle_program(f, 0, two, 16), EK3_EIO, "the cut fails the program");
        cr_assert(fle_is_off(f));
        uint8_t b[8];
        cr_assert_eq(fle_read(f, 0, b, 8), EK3_EIO, "off: nothing works");
        fle_power_on(f);
        cr_assert_eq(fle_read(f, 0, b, 8), EK3_OK, "the first double word was done");
        cr_assert_eq(memcmp(b, dw_a, 8), 0);
        int rc = fle_read(f, 8, b, 8);
        if (rc == EK3_EIO)
            outcomes[0]++; /* ECCD */
        else if (!memcmp(b, dw_ones, 8))
            outcomes[1]++; /* nothing */
        else if (!memcmp(b, dw_zero, 8))
            outcomes[2]++; /* all done */
        else
            outcomes[3]++; /* some bits */
        free(f);
    }
    for (int i = 0; i < 4; i++)
        cr_assert_gt(outcomes[i], 0u, "outcome %d drawn in 64 seeds", i);
}

Test(flashemu, a_cut_erase_leaves_the_page_partly_erased)
{
    fle *f = dev_new((fle_config){.seed = 3});
    static uint8_t page[FLE_PAGE];
    memset(page, 0x00, sizeof page);
    cr_assert_eq(fle_program(f, FLE_PAGE, page, FLE_PAGE), EK3_OK);
    f->cfg.cut_at = f->st.ops + 1;
    cr_assert_eq(fle_erase(f, FLE_PAGE, FLE_PAGE), EK3_EIO);
    fle_power_on(f);
    unsigned erased = 0, zero = 0, bad = 0;
    for (uint32_t o = FLE_PAGE; o < 2 * FLE_PAGE; o += 8) {
        uint8_t b[8];
        if (fle_read(f, o, b, 8) != EK3_OK)
            bad++;
        else if (!memcmp(b, dw_ones, 8))
            erased++;
        else if (!memcmp(b, dw_zero, 8))
            zero++;
    }
    cr_assert(erased > 0 && zero > 0 && bad > 0, "erased %u, untouched %u, ECCD %u", erased, zero, bad);
    free(f);
}

Test(flashemu, a_worn_page_keeps_bits_at_zero)
{
    fle *f = dev_new((fle_config){.seed = 4, .endurance = 50});
    for (int i = 0; i < 50; i++)
        cr_assert_eq(fle_erase(f, 0, FLE_PAGE), EK3_OK);
    static uint8_t b[FLE_PAGE];
    cr_assert_eq(fle_read(f, 0, b, FLE_PAGE), EK3_OK);
    for (unsigned i = 0; i < FLE_PAGE; i++)
        cr_assert_eq(b[i], 0xFF, "within its endurance: erased");
    cr_assert_eq(fle_erase(f, 0, FLE_PAGE), EK3_OK);
    cr_assert_eq(fle_read(f, 0, b, FLE_PAGE), EK3_OK);
    unsigned stuck = 0;
    for (unsigned i = 0; i < FLE_PAGE; i++)
        stuck += b[i] != 0xFF;
    cr_assert_eq(stuck, 1u, "the 51st erase leaves one bit at 0");
    cr_assert_eq(f->st.worn_pages, 1u);
    free(f);
}

Test(flashemu, read_disturb_is_corrected_once_then_fails)
{
    fle *f = dev_new((fle_config){.seed = 5, .disturb_reads = 10});
    cr_assert_eq(fle_program(f, 0, dw_a, 8), EK3_OK); /* the page's only programmed double word */
    uint8_t b[8];
    for (int i = 0; i < 10; i++)
        cr_assert_eq(fle_read(f, 0, b, 8), EK3_OK);
    cr_assert_eq(fle_read(f, 0, b, 8), EK3_OK, "one flip: corrected");
    cr_assert_eq(memcmp(b, dw_a, 8), 0);
    cr_assert_gt(f->st.ecc_corrected, 0u);
    for (int i = 0; i < 9; i++)
        fle_read(f, 0, b, 8);
    cr_assert_eq(fle_read(f, 0, b, 8), EK3_EIO, "two flips: ECCD");
    free(f);
}

/* ---- the audit log workload ------------------------------------------- */

static const uint8_t key[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};

#define MAX_STEPS 10000u

static unsigned crit_every = 97; /* a protection trip now and then: critical (0: none) */

static unsigned step_type(unsigned i)
{
    return crit_every && i % crit_every == 13u % crit_every ? ALOG_T_TRIP : AUDIT_INJECT;
}

static int wl_boot(void *st, hal hw, void *ctx)
{
    (void)ctx;
    return alog_open(st, hw, key);
}

static uint32_t rec_step(const alog_rec *r)
{
    const uint8_t *p = ALOG_IS_CARRY(r->type) ? r->payload + ALOG_REC_HDR : r->payload;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int wl_step(void *st, hal hw, unsigned i, void *ctx)
{
    (void)ctx;
    alog_log *l = st;
    /* Redone after a cut: the record in flight may have been committed. */
    if (l->have_last && !ALOG_IS_CARRY(l->last.type) && rec_step(&l->last) == i)
        return EK3_OK;
    /* The service's records: a lone kernel event (12 bytes), a critical
     * one, or a batch of 2..8 events (32..104 bytes). */
    uint8_t p[ALOG_MAX_USER];
    unsigned type = step_type(i), n = type == ALOG_T_TRIP ? 1u : 1u + (i * 5u) % 8u;
    unsigned len = n == 1 ? sizeof(alog_kev) : ALOG_EVS_HDR + n * ALOG_EV_SIZE;
    for (unsigned b = 4; b < len; b++)
        p[b] = (uint8_t)(i * 7u + b);
    for (unsigned b = 0; b < 4; b++)
        p[b] = (uint8_t)(i >> (8 * b));
    if (n > 1)
        type = ALOG_T_EVENTS, p[6] = (uint8_t)n, p[7] = 0;
    return alog_append(l, hw, type, (int64_t)i * 1000, p, len);
}

typedef struct steps {
    uint8_t seen[MAX_STEPS];
    uint8_t keep[MAX_STEPS]; /* a copy of it outlives the next reclaim of the oldest page */
    unsigned dup, n;
    uint32_t first_page;
} steps;

static void mark(void *ctx, const alog_rec *r)
{
    steps *s = ctx;
    uint32_t i = rec_step(r);
    if (i >= MAX_STEPS) {
        s->dup++;
        return;
    }
    if (s->seen[i] && !ALOG_IS_CARRY(r->type))
        s->dup++;
    if (!s->n++)
        s->first_page = r->off / ALOG_PAGE;
    /* In the oldest page, what its reclaim drops: plain records that are
     * not critical, and carries carried for the last time. A record is
     * kept when any copy of it is not one of those. */
    int last_carry = r->type == ALOG_T_CARRY + ALOG_CARRY_GENS - 1u;
    int drops = r->off / ALOG_PAGE == s->first_page &&
                (last_carry || (!ALOG_IS_CARRY(r->type) && !alog_critical(r->type)));
    if (!drops)
        s->keep[i] = 1;
    s->seen[i] |= ALOG_IS_CARRY(r->type) ? 2u : 1u;
}

static int scan(hal hw, steps *s, alog_verdict *v)
{
    static uint8_t img[FLE_MAX_SIZE];
    size_t n;
    memset(s, 0, sizeof *s);
    if (alog_dump(hw, img, sizeof img, &n))
        return EK3_ENOSPC;
    return alog_verify(&hw.ops->crypto, key, img, n, v, mark, s);
}

static uint64_t chain_breaks, early;

static int wl_check(const void *st, hal hw, hal golden, unsigned i, void *ctx, unsigned *lost, char *why,
                    size_t cap)
{
    (void)st, (void)ctx;
    static steps got, want;
    alog_verdict v, gv;
    if (scan(hw, &got, &v) || scan(golden, &want, &gv)) {
        snprintf(why, cap, "a dump did not verify");
        return -1;
    }
    if (v.bad) {
        chain_breaks++;
        snprintf(why, cap, "chain break: %s %u (offset 0x%x): %s", v.bad_page ? "page" : "record",
                 v.bad_page ? v.bad_page_no : v.bad_seq, v.bad_off, v.why);
        return -1;
    }
    if (got.dup) {
        snprintf(why, cap, "%u records twice", got.dup);
        return -1;
    }
    /* A torn record takes its place in the page, so the recovery may start
     * the next page (and reclaim the oldest) one record earlier than the
     * uncut run: the uncut run's oldest page may go, as it would at its
     * next page start. Everything else must be there. */
    for (unsigned s = 0; s <= i; s++)
        if (want.seen[s] && !got.seen[s]) {
            if (!want.keep[s])
                early++;
            else
                (*lost)++;
        }
    if (*lost) {
        unsigned a = 0;
        while (a <= i && !(want.seen[a] && !got.seen[a]))
            a++;
        snprintf(why, cap, "%u committed records lost (after step %u), the first step %u; log: pages %u, records %u..%u, torn %u, garbage pages %u; uncut: pages %u, records %u..%u",
                 *lost, i, a, v.pages, v.first_seq, v.next_seq, v.torn, v.garbage_pages, gv.pages, gv.first_seq, gv.next_seq);
        return -1;
    }
    return 0;
}

static const pcut_workload audit_workload = {sizeof(alog_log), wl_boot, wl_step, wl_check, NULL};

static void campaign(unsigned steps_n, unsigned pair_every, pcut_result *r)
{
    pcut_config c = {.steps = steps_n, .flash = {.seed = 16, .size = FLE_MAX_SIZE}, .seed = 77,
                     .pair_every = pair_every};
    chain_breaks = 0, early = 0;
    cr_assert_eq(pcut_run(&c, &audit_workload, r), EK3_OK, "%s", r->why);
    printf("power-cut campaign, %u records: %llu flash operations, %llu cut points, %llu second cuts, "
           "%llu committed records lost, %llu chain breaks, %llu failures (%llu records of the oldest page rolled over early)\n",
           steps_n, (unsigned long long)r->ops, (unsigned long long)r->cuts, (unsigned long long)r->pairs,
           (unsigned long long)r->lost, (unsigned long long)chain_breaks, (unsigned long long)r->failures,
           (unsigned long long)early);
    cr_assert_eq(r->failures, 0u, "first failure at step %u, cut at operation %llu (second %llu): %s", r->fail_step,
                 (unsigned long long)r->fail_op, (unsigned long long)r->fail_op2, r->why);
    cr_assert_eq(r->lost, 0u);
    cr_assert_eq(chain_breaks, 0u);
    cr_assert_geq(r->cuts, r->ops, "every operation cut");
}

Test(powercut, every_cut_of_300_records, .timeout = 300)
{
    pcut_result r;
    campaign(300, getenv("PAIRS") ? 0 : 7, &r);
    cr_assert_gt(r.pairs, 50u);
}

Test(powercut_nightly, every_cut_of_10000_records, .timeout = 3600)
{
    if (!getenv("EK3_POWERCUT_NIGHTLY"))
        cr_skip_test("the long campaign runs with EK3_POWERCUT_NIGHTLY=1 (ctest -L nightly)");
    pcut_result r;
    campaign(MAX_STEPS, 10, &r);
}

/* The figures, for the service's own workload: AUDIT_LOGGER's ticks
 * (alog_handle, 10 Hz) draining a kernel audit ring that gets a few
 * events a tick (1..8, 4.5 on average, seeded) and now and then a
 * critical one (a refusal, 1 in 100 ticks: a record of its own, carried
 * forward ALOG_CARRY_GENS times). Bytes programmed (everything: page
 * headers, record headers, commits, padding, carried copies, the zeros
 * of recovery) per byte of payload (what alog_append was given: a batch
 * or a lone alog_kev), per event, and the host's rate. per_tick: 0 for
 * the mix, else exactly that many events every tick. */
typedef struct figures {
    double per_payload, per_event, events_s, records_s;
    uint32_t events, records, batches, carried;
} figures;

static uint32_t fig_rand(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*x >> 33);
}

static void service_figures(unsigned per_tick, unsigned ticks, figures *g)
{
    fle *f = dev_new((fle_config){.seed = 9});
    jz_kernel *k = calloc(1, sizeof *k);
    alog_state *s = calloc(1, sizeof *s);
    cr_assert(k && s);
    k->hw = fle_hal(f);
    cr_assert_eq(alog_init(s, k, 1), EK3_OK);
    uint64_t x = 16, before = f->st.bytes_programmed;
    ipc_msg tick = {.type = IPC_T_TICK};
    double busy = 0;
    for (unsigned t = 0; t < ticks; t++) {
        int64_t t0 = (int64_t)t * ALOG_PERIOD_US * 1000;
        unsigned n = per_tick ? per_tick : 1u + fig_rand(&x) % 8u;
        for (unsigned j = 0; j < n; j++)
            audit_record(&k->audit, t0 + (int64_t)j * 1000 + fig_rand(&x) % 1000, AUDIT_INJECT, 2, 1, (int32_t)j);
        if (!per_tick && fig_rand(&x) % 100u == 0)
            audit_record(&k->audit, t0 + 99000000, AUDIT_DENIED, 3, 0, 5);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        cr_assert_eq(alog_handle(s, k, 1, &tick), EK3_OK);
        clock_gettime(CLOCK_MONOTONIC, &b);
        busy += (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    }
    for (unsigned t = 0; t < 100 && s->next_ev != k->audit.total; t++)
        cr_assert_eq(alog_handle(s, k, 1, &tick), EK3_OK); /* what is left */
    cr_assert_eq(s->written, k->audit.total, "every event written");
    cr_assert_eq(s->lost + s->errors, 0u);
    cr_assert_eq(s->log.st.crit_dropped, 0u);
    uint64_t programmed = f->st.bytes_programmed - before;
    g->events = s->written;
    g->records = s->log.st.records;
    g->batches = s->batches;
    g->carried = s->log.st.carried;
    g->per_payload = (double)programmed / (double)s->log.st.payload_bytes;
    g->per_event = (double)programmed / (double)s->written;
    g->events_s = s->written / busy;
    g->records_s = s->log.st.records / busy;
    free(s);
    free(k);
    free(f);
}

Test(powercut, bytes_programmed_per_byte_of_payload)
{
    figures mix, one, few[4];
    static const unsigned fixed[4] = {2, 3, 4, 8};
    service_figures(0, 3000, &mix);
    service_figures(1, 3000, &one);
    for (unsigned i = 0; i < 4; i++)
        service_figures(fixed[i], 1000, &few[i]);
    printf("audit log, the service's workload (1..8 events a tick, a critical one in 100 ticks): %u events in %u "
           "records (%u batches, %u critical carried): %.3f bytes programmed per byte of payload, %.1f per event; "
           "%.0f events/s, %.0f records/s (host)\n",
           mix.events, mix.records, mix.batches, mix.carried, mix.per_payload, mix.per_event, mix.events_s, mix.records_s);
    printf("  one event a tick (a record each): %.3f per payload byte, %.1f per event\n", one.per_payload, one.per_event);
    for (unsigned i = 0; i < 4; i++)
        printf("  %u events a tick: %.3f per payload byte, %.1f per event\n", fixed[i], few[i].per_payload,
               few[i].per_event);
    fflush(stdout); /* seen even when an assertion below fails */
    cr_assert_gt(mix.carried, 0u, "critical records were carried");
    cr_assert_lt(mix.batches, mix.records, "critical events are records of their own");
    cr_assert_leq(mix.per_payload, 1.5, "goal: at most 1.5 bytes programmed per byte of payload, got %.3f",
                  mix.per_payload);
}

/* Worn pages (endurance 5 erases here): stuck bits make programs fail
 * (PROGERR); the writer gives the page up and goes on, the log still
 * verifies, and what failed is counted, never silent. */
Test(powercut, worn_pages_fail_loudly_and_the_log_stays_sound)
{
    fle *f = dev_new((fle_config){.seed = 21, .endurance = 5});
    alog_log *l = calloc(1, sizeof *l);
    cr_assert_eq(alog_open(l, fle_hal(f), key), EK3_OK);
    unsigned ok = 0, failed = 0;
    for (unsigned i = 0; i < 3000; i++) {
        if (wl_step(l, fle_hal(f), i, NULL) == EK3_OK)
            ok++;
        else
            failed++;
    }
    cr_assert_gt(f->st.worn_pages, 0u, "pages wore out");
    cr_assert_gt(f->st.progerr, 0u, "and programs failed on them");
    cr_assert_gt(l->st.errors, 0u, "the log counted them");
    cr_assert_eq(ok + failed, 3000u);
    cr_assert_gt(ok, 2900u, "a failed page is given up, the record goes to the next: %u failed", failed);
    static steps got;
    alog_verdict v;
    cr_assert_eq(scan(fle_hal(f), &got, &v), EK3_OK);
    cr_assert_eq(v.bad, 0, "%s at 0x%x", v.why ? v.why : "", v.bad_off);
    cr_assert_eq(got.dup, 0u);
    free(l);
    free(f);
}
