/* inject.c - deliberate, seeded faults for the rig's scenarios. */
#include <string.h>

#include "ek3_err.h"
#include "inject.h"
#include "rs.h"

static const char *const inj_names[INJ_KIND_COUNT_] = {"crash", "hang", "flood", "corrupt", "stall", "stray"};

const char *inj_name(unsigned kind)
{
    return kind < INJ_KIND_COUNT_ ? inj_names[kind] : "?";
}

int inj_parse(const char *name)
{
    for (unsigned i = 0; i < INJ_KIND_COUNT_; i++)
        if (!strcmp(name, inj_names[i]))
            return (int)i;
    return EK3_ENOENT;
}

int inj_fault(jz_kernel *k, inj_kind kind, unsigned svc, uint32_t param)
{
    if (!k || (unsigned)kind >= INJ_KIND_COUNT_)
        return EK3_EINVAL;
    if (kind != INJ_STALL && (svc == 0 || svc >= k->n))
        return EK3_ENOENT;
    jz_svc *s = &k->svc[svc];
    audit_record(&k->audit, k->now_ns, AUDIT_INJECT, svc, kind, (int32_t)param);
    switch (kind) {
    case INJ_CRASH:
        rs_crash(k, svc, JZ_CRASH_FAULT);
        break;
    case INJ_HANG:
        s->hung = 1;
        jz_ready_update(k, svc);
        break;
    case INJ_FLOOD: {
        ipc_msg m;
        ipc_msg_init(&m, IPC_T_JUNK, 3, NULL, 0);
        for (uint32_t i = 0; i < param && s->status == JZ_SVC_RUNNING; i++) {
            m.seq = (uint16_t)jz_random(k);
            jz_post(k, svc, &m);
        }
        break;
    }
    case INJ_CORRUPT:
        s->corrupt_next = 1;
        break;
    case INJ_STALL:
        if (param == 0)
            return EK3_EINVAL;
        k->stall_until_ns = k->now_ns + (int64_t)param * 1000000;
        break;
    case INJ_STRAY:
        if (param == 0 || param >= k->n || param == svc)
            return EK3_EINVAL;
        s->stray_to = (uint8_t)param;
        break;
    default:
        return EK3_EINVAL;
    }
    return EK3_OK;
}
