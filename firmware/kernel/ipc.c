/* ipc.c - JEZGRO message passing: send, broadcast, notify, sendrec. */
#include <string.h>

#include "ek3_assert.h"
#include "ek3_err.h"
#include "jz.h"

EK3_DEFINE_MODULE("ipc"); /* contracts 100-199 (docs/architecture.md) */

uint16_t ipc_crc16(const void *p, size_t n)
{
    /* CRC-16/CCITT-FALSE, a nibble at a time (32-byte table) */
    static const uint16_t t[16] = {0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50A5, 0x60C6, 0x70E7,
                                   0x8108, 0x9129, 0xA14A, 0xB16B, 0xC18C, 0xD1AD, 0xE1CE, 0xF1EF};
    const uint8_t *b = p;
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        crc = (uint16_t)((crc << 4) ^ t[(crc >> 12) ^ (b[i] >> 4)]);
        crc = (uint16_t)((crc << 4) ^ t[(crc >> 12) ^ (b[i] & 0xF)]);
    }
    return crc;
}

uint32_t ipc_crc32(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= b[i];
        for (int j = 0; j < 8; j++)
            c = c >> 1 ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

void ipc_msg_init(ipc_msg *m, uint16_t type, uint8_t prio, const void *payload, size_t n)
{
    memset(m, 0, offsetof(ipc_msg, payload));
    m->type = type;
    m->prio = prio;
    if (n > IPC_PAYLOAD)
        n = IPC_PAYLOAD;
    if (n)
        memcpy(m->payload, payload, n);
    m->len = (uint8_t)n;
}

/* May `from` send to `to` now? Counts and audits refusals. */
static int ipc_check(jz_kernel *k, unsigned from, unsigned to)
{
    if (!k || from >= k->n)
        return EK3_ENOENT;
    if (to == 0 || to >= k->n)
        return EK3_ENOENT;
    if (from != IPC_KERNEL && !(k->svc[from].def->allow_to & (1u << to))) {
        k->svc[from].st.denied++;
        audit_record(&k->audit, k->now_ns, AUDIT_DENIED, from, 0, (int32_t)to);
        return EK3_EPERM;
    }
    if (k->svc[to].status != JZ_SVC_RUNNING)
        return EK3_EFAULT;
    return EK3_OK;
}

static int ipc_deliver(jz_kernel *k, unsigned from, unsigned to, const ipc_msg *m, uint8_t flags, uint16_t seq)
{
    EK3_REQUIRE_ID(101, from < k->n && to > 0 && to < k->n); /* checked by the caller */
    ipc_msg c = *m;
    c.src = (uint8_t)from;
    c.dst = (uint8_t)to;
    c.flags = flags;
    c.seq = seq;
    int rc = jz_post(k, to, &c);
    if (rc == EK3_OK && from != IPC_KERNEL)
        k->svc[from].st.sent++;
    return rc;
}

int ipc_send(jz_kernel *k, unsigned from, unsigned to, const ipc_msg *m)
{
    int rc = ipc_check(k, from, to);
    if (rc)
        return rc;
    return ipc_deliver(k, from, to, m, 0, 0);
}

int ipc_broadcast(jz_kernel *k, unsigned from, const ipc_msg *m)
{
    if (!k || from >= k->n || !m)
        return EK3_ENOENT;
    int n = 0;
    uint32_t allow = from == IPC_KERNEL ? 0xFFFFFFFFu : k->svc[from].def->allow_to;
    for (unsigned to = 1; to < k->n; to++)
        if (to != from && (allow & (1u << to)) && k->svc[to].status == JZ_SVC_RUNNING &&
            ipc_deliver(k, from, to, m, 0, 0) == EK3_OK)
            n++;
    return n;
}

int ipc_notify(jz_kernel *k, unsigned from, unsigned to)
{
    int rc = ipc_check(k, from, to);
    if (rc)
        return rc;
    k->svc[to].notify |= 1u << from;
    jz_ready_update(k, to);
    return EK3_OK;
}

int ipc_sendrec(jz_kernel *k, unsigned from, unsigned to, const ipc_msg *m, uint32_t timeout_ms)
{
    if (from == IPC_KERNEL)
        return EK3_EINVAL;
    int rc = ipc_check(k, from, to);
    if (rc)
        return rc;
    jz_pending *slot = NULL;
    for (unsigned i = 0; i < JZ_PENDING_MAX && !slot; i++)
        if (!k->svc[from].pending[i].seq)
            slot = &k->svc[from].pending[i];
    if (!slot)
        return EK3_EBUSY;
    if (++k->next_seq == 0)
        k->next_seq = 1;
    uint16_t seq = k->next_seq;
    rc = ipc_deliver(k, from, to, m, IPC_F_REQUEST, seq);
    if (rc)
        return rc;
    slot->seq = seq;
    slot->to = (uint8_t)to;
    slot->deadline_ns = k->now_ns + (int64_t)timeout_ms * 1000000;
    if (slot->deadline_ns < k->pending_due_ns)
        k->pending_due_ns = slot->deadline_ns;
    return seq;
}

int ipc_reply(jz_kernel *k, unsigned me, const ipc_msg *req, const ipc_msg *reply)
{
    if (!k || !req || !reply || me == 0 || me >= k->n || !(req->flags & IPC_F_REQUEST))
        return EK3_EINVAL;
    unsigned to = req->src;
    if (to == 0 || to >= k->n)
        return EK3_ENOENT;
    jz_pending *p = NULL;
    for (unsigned i = 0; i < JZ_PENDING_MAX && !p; i++)
        if (k->svc[to].pending[i].seq == req->seq && k->svc[to].pending[i].to == me)
            p = &k->svc[to].pending[i];
    if (!p) {
        k->svc[me].st.late_replies++;
        audit_record(&k->audit, k->now_ns, AUDIT_LATE_REPLY, me, 0, (int32_t)to);
        return EK3_ETIMEDOUT;
    }
    p->seq = 0;
    if (k->svc[to].status != JZ_SVC_RUNNING)
        return EK3_EFAULT;
    return ipc_deliver(k, me, to, reply, IPC_F_REPLY, req->seq);
}
