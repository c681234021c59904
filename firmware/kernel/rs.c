/* rs.c - the Reincarnation Server: crash detection, restart, backoff. */
#include "ek3_err.h"
#include "rs.h"

const char *rs_reason_name(unsigned reason)
{
    static const char *const names[JZ_CRASH_REASON_COUNT_] = {"FAULT", "MEMORY", "OVERFLOW", "QUEUE", "HANG", "INIT"};
    return reason < JZ_CRASH_REASON_COUNT_ ? names[reason] : "?";
}

void rs_crash(jz_kernel *k, unsigned id, jz_crash_reason reason)
{
    if (id == 0 || id >= k->n)
        return;
    jz_svc *s = &k->svc[id];
    if (s->status != JZ_SVC_RUNNING)
        return;
    int64_t now = k->now_ns;
    s->status = JZ_SVC_CRASHED;
    k->rs_due_ns = 0;
    s->crashes++;
    k->crash_events++;
    s->last_crash = (uint8_t)reason;
    s->crashed_ns = now;
    jz_flush(k, id);
    s->hung = 0;
    audit_record(&k->audit, now, AUDIT_CRASH, id, reason, (int32_t)s->crashes);

    /* requests others made to it will not be answered: say so at once */
    for (unsigned r = 1; r < k->n; r++) {
        for (unsigned i = 0; i < JZ_PENDING_MAX; i++) {
            jz_pending *p = &k->svc[r].pending[i];
            if (p->seq && p->to == id) {
                p->deadline_ns = now; /* jz_timers posts the IPC_T_TIMEOUT */
                k->pending_due_ns = now;
            }
        }
    }

    if (s->def->critical) {
        s->status = JZ_SVC_DEAD;
        if (k->hw.ops->safe_shutdown)
            hal_safe_shutdown(k->hw);
        k->state = JZ_SHUTDOWN;
        audit_record(&k->audit, now, AUDIT_SAFE_SHUTDOWN, id, reason, 0);
        return;
    }
    /* a crash soon after its last restart doubles the wait */
    if (s->restarts && now - s->started_ns < (int64_t)RS_STABLE_MS * 1000000)
        s->backoff_ms = s->backoff_ms ? (s->backoff_ms * 2 > RS_BACKOFF_MAX_MS ? RS_BACKOFF_MAX_MS : s->backoff_ms * 2)
                                      : RS_BACKOFF_BASE_MS;
    else
        s->backoff_ms = 0;
    s->restart_ns = now + (int64_t)s->backoff_ms * 1000000;
}

void rs_restart(jz_kernel *k, unsigned id)
{
    jz_svc *s = &k->svc[id];
    int64_t latency_us = (k->now_ns - s->crashed_ns) / 1000;
    s->restarts++;
    audit_record(&k->audit, k->now_ns, AUDIT_RESTART, id, s->last_crash,
                 latency_us > INT32_MAX ? INT32_MAX : (int32_t)latency_us);
    jz_start(k, id);
}

/* When the reincarnation server next has something to do for service s
 * (INT64_MAX: nothing until its status or ping changes). */
static int64_t rs_next_event(const jz_svc *s)
{
    if (s->status == JZ_SVC_CRASHED)
        return s->restart_ns;
    if (s->status != JZ_SVC_RUNNING || !s->def->heartbeat_ms)
        return INT64_MAX;
    return s->ping_pending ? s->ping_sent_ns + (int64_t)RS_HANG_MS * 1000000 + 1
                           : s->ping_sent_ns + (int64_t)s->def->heartbeat_ms * 1000000;
}

/* Every pass, but only a comparison until the earliest event of any
 * service (rs_due_ns, which every change of a status or a ping resets):
 * the passes in between would find nothing to do. */
void rs_poll(jz_kernel *k)
{
    int64_t now = k->now_ns;
    if (now < k->rs_due_ns)
        return;
    for (unsigned id = 1; id < k->n; id++) {
        jz_svc *s = &k->svc[id];
        if (s->status == JZ_SVC_CRASHED && now >= s->restart_ns) {
            rs_restart(k, id);
        } else if (s->status == JZ_SVC_RUNNING && s->def->heartbeat_ms) {
            if (s->ping_pending) {
                if (now - s->ping_sent_ns > (int64_t)RS_HANG_MS * 1000000)
                    rs_crash(k, id, JZ_CRASH_HANG);
            } else if (now - s->ping_sent_ns >= (int64_t)s->def->heartbeat_ms * 1000000) {
                ipc_msg ping;
                ipc_msg_init(&ping, IPC_T_PING, 1, NULL, 0);
                ping.src = IPC_KERNEL;
                ping.dst = (uint8_t)id;
                s->ping_sent_ns = now;
                if (jz_post(k, id, &ping) == EK3_OK)
                    s->ping_pending = 1;
            }
        }
    }
    int64_t next = INT64_MAX;
    for (unsigned id = 1; id < k->n; id++) {
        int64_t t = rs_next_event(&k->svc[id]);
        next = t < next ? t : next;
    }
    k->rs_due_ns = next;
}
