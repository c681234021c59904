/* kernel.c - JEZGRO's core: service table, timers, priority dispatch. */
#include <string.h>

#include "ek3_assert.h"
#include "ek3_err.h"
#include "ek3_rng.h"
#include "jz.h"
#include "mpu.h"
#include "rs.h"

EK3_DEFINE_MODULE("kernel"); /* contracts 200-299 (docs/architecture.md) */

void jz_ready_update(jz_kernel *k, unsigned id)
{
    EK3_REQUIRE_ID(201, id > 0 && id < k->n); /* a service of the table */
    jz_svc *s = &k->svc[id];
    EK3_INVARIANT_ID(202, s->rank < 32u && k->by_rank[s->rank] == id); /* the ready bitmap's rank is its own */
    uint32_t bit = 1u << s->rank;
    if (s->status == JZ_SVC_RUNNING && !s->hung && (s->qcount || s->notify))
        k->ready |= bit;
    else
        k->ready &= ~bit;
}

static void jz_write_guard(jz_svc *s)
{
    uint32_t g = JZ_GUARD;
    uint8_t *end = (uint8_t *)s->region.base + s->def->state_size;
    for (unsigned i = 0; i < JZ_GUARD_BYTES; i += 4)
        memcpy(end + i, &g, 4);
}

static int jz_guard_ok(const jz_svc *s)
{
    uint32_t g;
    const uint8_t *end = (const uint8_t *)s->region.base + s->def->state_size;
    for (unsigned i = 0; i < JZ_GUARD_BYTES; i += 4) {
        memcpy(&g, end + i, 4);
        if (g != JZ_GUARD)
            return 0;
    }
    return 1;
}

uint64_t jz_random(jz_kernel *k)
{
    return ek3_rng_xorshift64s(&k->rng);
}

/* ---- calling into a service --------------------------------------------- */

typedef struct {
    jz_kernel *k;
    unsigned id;
    const ipc_msg *m;
} jz_call_arg;

static int jz_thunk_init(void *arg)
{
    jz_call_arg *a = arg;
    jz_svc *s = &a->k->svc[a->id];
    return s->def->init ? s->def->init((void *)s->region.base, a->k, a->id) : 0;
}

static int jz_thunk_handle(void *arg)
{
    jz_call_arg *a = arg;
    jz_svc *s = &a->k->svc[a->id];
    if (s->stray_to) { /* injected: a wild pointer into another service's state */
        volatile uint8_t *victim = (volatile uint8_t *)a->k->svc[s->stray_to].region.base;
        s->stray_to = 0;
        victim[0] ^= 0xA5;
    }
    return s->def->handle((void *)s->region.base, a->k, a->id, a->m);
}

/* Run fn inside service id's context: its region open (strict mode),
 * memory faults trapped, guard words checked afterwards. A failure of
 * any kind is that service's crash. */
static void jz_call(jz_kernel *k, unsigned id, int (*fn)(void *), const ipc_msg *m, jz_crash_reason on_error)
{
    const hal_ops *o = k->hw.ops;
    jz_call_arg a = {k, id, m};
    int rc = 0, trapped = 0;
    k->in_dispatch = (uint8_t)id;
    if (k->cfg.strict && o->mpu_open)
        o->mpu_open(k->hw.ctx, (int)id - 1);
    if (o->run_guarded)
        trapped = o->run_guarded(k->hw.ctx, fn, &a, &rc) != EK3_OK;
    else
        rc = fn(&a);
    if (k->cfg.strict && o->mpu_open)
        o->mpu_open(k->hw.ctx, -1);
    k->in_dispatch = 0;
    if (trapped)
        rs_crash(k, id, JZ_CRASH_MEMORY);
    else if (!jz_guard_ok(&k->svc[id]))
        rs_crash(k, id, JZ_CRASH_OVERFLOW);
    else if (rc < 0)
        rs_crash(k, id, on_error);
}

void jz_flush(jz_kernel *k, unsigned id)
{
    jz_svc *s = &k->svc[id];
    s->qhead = s->qcount = 0;
    s->notify = 0;
    s->tick_queued = 0;
    s->ping_pending = 0;
    k->rs_due_ns = 0;
    memset(s->pending, 0, sizeof s->pending);
    jz_ready_update(k, id);
}

void jz_start(jz_kernel *k, unsigned id)
{
    jz_svc *s = &k->svc[id];
    int64_t now = k->now_ns;
    memset((void *)s->region.base, 0, s->region.size);
    jz_write_guard(s);
    jz_flush(k, id);
    s->hung = s->corrupt_next = s->stray_to = 0;
    s->status = JZ_SVC_RUNNING;
    s->started_ns = s->alive_ns = s->ping_sent_ns = now;
    s->next_tick_ns = now + (int64_t)s->def->period_us * 1000;
    k->tick_due_ns = k->rs_due_ns = 0;
    jz_call(k, id, jz_thunk_init, NULL, JZ_CRASH_INIT);
}

/* ---- queues ---------------------------------------------------------------- */

int jz_post(jz_kernel *k, unsigned to, const ipc_msg *m)
{
    EK3_REQUIRE_ID(210, to > 0 && to < k->n); /* the kernel (0) has no queue */
    jz_svc *s = &k->svc[to];
    unsigned depth = s->def->queue_depth;
    EK3_INVARIANT_ID(211, depth > 0 && depth <= JZ_QUEUE_DEPTH && s->qhead < depth && s->qcount <= depth);
    if (s->qcount >= depth) {
        s->st.full++;
        rs_crash(k, to, JZ_CRASH_QUEUE);
        return EK3_EFULL;
    }
    unsigned at;
    if (m->prio == 0) { /* CRITICAL: to the head, as QP's LIFO post */
        s->qhead = (uint8_t)((s->qhead + depth - 1) % depth);
        at = s->qhead;
    } else {
        at = (s->qhead + s->qcount) % depth;
    }
    ipc_msg *q = &s->q[at];
    size_t len = m->len <= IPC_PAYLOAD ? m->len : IPC_PAYLOAD;
    /* only the used bytes: a slot never carries the sender's stale stack
     * (the whole slot cleared, a fixed size, then the used bytes copied) */
    memset(q, 0, sizeof *q);
    memcpy(q, m, offsetof(ipc_msg, payload) + len);
    q->len = (uint8_t)len;
    q->check = 0;
    q->check = ipc_crc16(q, offsetof(ipc_msg, payload) + q->len);
    if (s->corrupt_next) { /* injected: a bit flips in RAM */
        uint64_t r = jz_random(k);
        size_t nbytes = offsetof(ipc_msg, payload) + q->len;
        ((uint8_t *)q)[r % nbytes] ^= (uint8_t)(1u << ((r >> 32) & 7));
        s->corrupt_next = 0;
    }
    if (m->type == IPC_T_TICK)
        s->tick_queued = 1;
    s->qcount++;
    jz_ready_update(k, to);
    return EK3_OK;
}

/* Take the oldest message; 0, EK3_EAGAIN, or EK3_EIO for a corrupt one
 * (dropped and counted). */
static int jz_pop(jz_kernel *k, unsigned id, ipc_msg *out)
{
    jz_svc *s = &k->svc[id];
    EK3_INVARIANT_ID(212, s->qhead < s->def->queue_depth && s->qcount <= s->def->queue_depth);
    if (!s->qcount)
        return EK3_EAGAIN;
    *out = s->q[s->qhead];
    s->qhead = (uint8_t)((s->qhead + 1) % s->def->queue_depth);
    s->qcount--;
    jz_ready_update(k, id);
    uint16_t c = out->check;
    out->check = 0;
    size_t n = offsetof(ipc_msg, payload) + (out->len <= IPC_PAYLOAD ? out->len : IPC_PAYLOAD);
    if (out->len > IPC_PAYLOAD || ipc_crc16(out, n) != c) {
        s->st.corrupt++;
        audit_record(&k->audit, k->now_ns, AUDIT_CORRUPT, id, 0, out->type);
        return EK3_EIO;
    }
    out->check = c;
    if (out->type == IPC_T_TICK)
        s->tick_queued = 0;
    return EK3_OK;
}

int ipc_receive(jz_kernel *k, unsigned me, ipc_msg *out)
{
    if (!k || me == 0 || me >= k->n || !out)
        return EK3_EINVAL;
    int rc;
    while ((rc = jz_pop(k, me, out)) == EK3_EIO)
        ;
    return rc;
}

/* ---- dispatch ---------------------------------------------------------------- */

static void jz_dispatch(jz_kernel *k, unsigned id)
{
    jz_svc *s = &k->svc[id];
    ipc_msg m;
    if (s->notify) { /* notifications first, as MINIX delivers them */
        unsigned src = (unsigned)__builtin_ctz(s->notify);
        s->notify &= ~(1u << src);
        jz_ready_update(k, id);
        ipc_msg_init(&m, IPC_T_NOTIFY, 2, NULL, 0);
        m.src = (uint8_t)src;
        m.dst = (uint8_t)id;
    } else if (jz_pop(k, id, &m) != EK3_OK) {
        return;
    }
    s->alive_ns = k->now_ns;
    if (m.type == IPC_T_PING) { /* the kernel answers for it: it was dispatchable */
        s->ping_pending = 0;
        k->rs_due_ns = 0;
        return;
    }
    s->st.dispatched++;
    jz_call(k, id, jz_thunk_handle, &m, JZ_CRASH_FAULT);
    jz_ready_update(k, id);
}

/* Sendrec deadlines: the open requests are scanned only once the
 * earliest of them is due (pending_due_ns, lowered by every new
 * deadline), and the next earliest is found on the way. */
static void jz_deadlines(jz_kernel *k)
{
    int64_t now = k->now_ns, next = INT64_MAX;
    if (now < k->pending_due_ns)
        return;
    for (unsigned id = 1; id < k->n; id++) {
        jz_svc *s = &k->svc[id];
        for (unsigned i = 0; i < JZ_PENDING_MAX; i++) {
            jz_pending *p = &s->pending[i];
            if (!p->seq)
                continue;
            if (s->status != JZ_SVC_RUNNING || now < p->deadline_ns) {
                next = p->deadline_ns < next ? p->deadline_ns : next;
            } else {
                ipc_msg t;
                ipc_msg_init(&t, IPC_T_TIMEOUT, 1, NULL, 0);
                t.flags = IPC_F_REPLY;
                t.seq = p->seq;
                t.src = p->to;
                t.dst = (uint8_t)id;
                t.status = EK3_ETIMEDOUT;
                p->seq = 0;
                s->st.timeouts++;
                jz_post(k, id, &t);
            }
        }
    }
    k->pending_due_ns = next;
}

/* Rate timers and sendrec deadlines. */
static void jz_timers(jz_kernel *k)
{
    int64_t now = k->now_ns, next = INT64_MAX;
    jz_deadlines(k);
    if (now < k->tick_due_ns) /* no rate timer is due (jz_start resets it) */
        return;
    for (unsigned id = 1; id < k->n; id++) {
        jz_svc *s = &k->svc[id];
        if (s->status != JZ_SVC_RUNNING)
            continue;
        uint32_t period = s->def->period_us;
        if (!period)
            continue;
        if (now >= s->next_tick_ns) {
            if (s->tick_queued) {
                s->st.ticks_missed++;
            } else {
                ipc_msg t;
                uint32_t n = ++s->ticks;
                ipc_msg_init(&t, IPC_T_TICK, 2, &n, sizeof n);
                jz_post(k, id, &t);
            }
            s->next_tick_ns += (int64_t)period * 1000;
            if (s->next_tick_ns <= now) /* fell behind: skip, do not burst */
                s->next_tick_ns = now + (int64_t)period * 1000;
        }
        next = s->next_tick_ns < next ? s->next_tick_ns : next;
    }
    k->tick_due_ns = next;
}

/* The pass's work once something is due or ready (jz_run). */
static __attribute__((noinline)) int jz_run_due(jz_kernel *k)
{
    rs_poll(k);
    jz_timers(k);
    int n = 0;
    while (k->ready && n < (int)JZ_DISPATCH_BUDGET) {
        unsigned rank = (unsigned)__builtin_ctz(k->ready);
        EK3_INVARIANT_ID(220, rank < k->n && k->by_rank[rank] > 0 && k->by_rank[rank] < k->n); /* a ready bit is a service */
        jz_dispatch(k, k->by_rank[rank]);
        n++;
    }
    return n;
}

int jz_run(jz_kernel *k)
{
    const hal_ops *o = k->hw.ops;
    int64_t now = k->now_ns = o->clock_ns(k->hw.ctx);
    k->passes++;
    if (k->stall_until_ns > now)
        return 0; /* injected stall: no kick, no work */
    if (o->watchdog_kick)
        o->watchdog_kick(k->hw.ctx);
    /* Most passes find nothing: no service ready, and neither the
     * reincarnation server (rs_due_ns), a sendrec deadline
     * (pending_due_ns) nor a rate timer (tick_due_ns) due, each of which
     * would only compare its time and return. */
    if (!k->ready && now < k->rs_due_ns && now < k->pending_due_ns && now < k->tick_due_ns)
        return 0;
    return jz_run_due(k);
}

/* ---- start ----------------------------------------------------------------- */

/* Start from scratch, keeping an audit trail and a reset count when
 * `keep` is given (SRAM survives a watchdog reset). */
static int jz_boot(jz_kernel *k, const jz_config *cfg, hal hw, const audit_log *keep, uint32_t resets)
{
    if (!k || !cfg || !hw.ops || !hw.ops->clock_ns || !cfg->pool || cfg->nservices >= JZ_MAX_SERVICES ||
        (cfg->nservices && !cfg->services))
        return EK3_EINVAL;
    for (unsigned i = 0; i < cfg->nservices; i++) {
        const jz_service_def *d = &cfg->services[i];
        if (!d->handle || d->prio < 1 || d->prio > 31 || d->queue_depth < 2 || d->queue_depth > JZ_QUEUE_DEPTH)
            return EK3_EINVAL;
        for (unsigned j = 0; j < i; j++)
            if (cfg->services[j].prio == d->prio)
                return EK3_EBUSY;
    }
    size_t sizes[JZ_MAX_SERVICES];
    hal_region regions[JZ_MAX_SERVICES];
    for (unsigned i = 0; i < cfg->nservices; i++)
        sizes[i] = cfg->services[i].state_size + JZ_GUARD_BYTES;
    long used = mpu_plan(sizes, cfg->nservices, (uintptr_t)cfg->pool, cfg->pool_size,
                         cfg->granule ? cfg->granule : 8, cfg->pow2, regions);
    if (used < 0)
        return (int)used;
    if (hw.ops->mpu_setup && hw.ops->mpu_setup(hw.ctx, regions, cfg->nservices))
        return EK3_ERANGE;

    memset(k, 0, sizeof *k);
    if (keep)
        k->audit = *keep;
    k->resets = resets;
    k->cfg = *cfg;
    k->hw = hw;
    k->n = cfg->nservices + 1;
    k->rng = cfg->seed ? cfg->seed : EK3_RNG_GAMMA;
    k->now_ns = hal_clock_ns(hw);
    k->pending_due_ns = INT64_MAX;
    for (unsigned id = 1; id < k->n; id++) { /* rank 0 = highest priority */
        unsigned rank = 0;
        for (unsigned j = 0; j < cfg->nservices; j++)
            rank += cfg->services[j].prio > cfg->services[id - 1].prio;
        k->svc[id].def = &cfg->services[id - 1];
        k->svc[id].rank = (uint8_t)rank;
        k->svc[id].region = regions[id - 1];
        k->by_rank[rank] = (uint8_t)id;
    }
    audit_record(&k->audit, k->now_ns, AUDIT_BOOT, 0, 0, (int32_t)resets);
    for (unsigned id = 1; id < k->n; id++)
        jz_start(k, id);
    return EK3_OK;
}

int jz_init(jz_kernel *k, const jz_config *cfg, hal hw)
{
    return jz_boot(k, cfg, hw, NULL, 0);
}

int jz_reset(jz_kernel *k)
{
    jz_config cfg = k->cfg;
    audit_log keep = k->audit;
    uint32_t resets = k->resets + 1;
    audit_record(&keep, hal_clock_ns(k->hw), AUDIT_WATCHDOG, 0, 0, (int32_t)resets);
    cfg.reset_by_watchdog = 1;
    return jz_boot(k, &cfg, k->hw, &keep, resets);
}

int jz_reboot(jz_kernel *k)
{
    jz_config cfg = k->cfg;
    audit_log keep = k->audit;
    cfg.reset_by_watchdog = 0;
    return jz_boot(k, &cfg, k->hw, &keep, k->resets + 1);
}

int jz_find(const jz_kernel *k, const char *name)
{
    for (unsigned id = 1; id < k->n; id++)
        if (k->svc[id].def && !strcmp(k->svc[id].def->name, name))
            return (int)id;
    return EK3_ENOENT;
}

int jz_critical(const jz_kernel *k, unsigned id)
{
    return id == 0 || id >= k->n ? 0 : k->svc[id].def->critical;
}

void *jz_state(jz_kernel *k, unsigned id)
{
    if (id == 0 || id >= k->n)
        return NULL;
    return (void *)k->svc[id].region.base;
}
