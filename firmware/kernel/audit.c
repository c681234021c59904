/* audit.c - fixed ring of audit events. */
#include "audit.h"

void audit_record(audit_log *a, int64_t t_ns, audit_kind kind, unsigned svc, unsigned reason, int32_t arg)
{
    audit_event *e = &a->ev[a->total % AUDIT_DEPTH];
    e->t_ns = t_ns;
    e->kind = (uint8_t)kind;
    e->svc = (uint8_t)svc;
    e->reason = (uint8_t)reason;
    e->arg = arg;
    a->total++;
}

uint32_t audit_count(const audit_log *a)
{
    return a->total < AUDIT_DEPTH ? a->total : AUDIT_DEPTH;
}

const audit_event *audit_get(const audit_log *a, uint32_t i)
{
    uint32_t n = audit_count(a);
    if (i >= n)
        return 0;
    return &a->ev[(a->total - n + i) % AUDIT_DEPTH];
}

const char *audit_kind_name(unsigned kind)
{
    static const char *const names[AUDIT_KIND_COUNT_] = {
        "BOOT", "CRASH", "RESTART", "SAFE_SHUTDOWN", "DENIED", "CORRUPT", "LATE_REPLY", "INJECT", "WATCHDOG"};
    return kind < AUDIT_KIND_COUNT_ ? names[kind] : "?";
}
