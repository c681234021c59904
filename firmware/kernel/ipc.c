/* ipc.c - JEZGRO message passing: send, broadcast, notify, sendrec. */
#include <string.h>

#include "ek3_assert.h"
#include "ek3_err.h"
#include "jz.h"

EK3_DEFINE_MODULE("ipc"); /* contracts 100-199 (docs/architecture.md) */

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), a byte at a time: the
 * table is crc16(i << 8) for i = 0..255 (512 bytes of flash; every IPC
 * message is checked twice, on post and on receive). */
static const uint16_t ipc_crc16_t[256] = {
    0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50A5, 0x60C6, 0x70E7,
    0x8108, 0x9129, 0xA14A, 0xB16B, 0xC18C, 0xD1AD, 0xE1CE, 0xF1EF,
    0x1231, 0x0210, 0x3273, 0x2252, 0x52B5, 0x4294, 0x72F7, 0x62D6,
    0x9339, 0x8318, 0xB37B, 0xA35A, 0xD3BD, 0xC39C, 0xF3FF, 0xE3DE,
    0x2462, 0x3443, 0x0420, 0x1401, 0x64E6, 0x74C7, 0x44A4, 0x5485,
    0xA56A, 0xB54B, 0x8528, 0x9509, 0xE5EE, 0xF5CF, 0xC5AC, 0xD58D,
    0x3653, 0x2672, 0x1611, 0x0630, 0x76D7, 0x66F6, 0x5695, 0x46B4,
    0xB75B, 0xA77A, 0x9719, 0x8738, 0xF7DF, 0xE7FE, 0xD79D, 0xC7BC,
    0x48C4, 0x58E5, 0x6886, 0x78A7, 0x0840, 0x1861, 0x2802, 0x3823,
    0xC9CC, 0xD9ED, 0xE98E, 0xF9AF, 0x8948, 0x9969, 0xA90A, 0xB92B,
    0x5AF5, 0x4AD4, 0x7AB7, 0x6A96, 0x1A71, 0x0A50, 0x3A33, 0x2A12,
    0xDBFD, 0xCBDC, 0xFBBF, 0xEB9E, 0x9B79, 0x8B58, 0xBB3B, 0xAB1A,
    0x6CA6, 0x7C87, 0x4CE4, 0x5CC5, 0x2C22, 0x3C03, 0x0C60, 0x1C41,
    0xEDAE, 0xFD8F, 0xCDEC, 0xDDCD, 0xAD2A, 0xBD0B, 0x8D68, 0x9D49,
    0x7E97, 0x6EB6, 0x5ED5, 0x4EF4, 0x3E13, 0x2E32, 0x1E51, 0x0E70,
    0xFF9F, 0xEFBE, 0xDFDD, 0xCFFC, 0xBF1B, 0xAF3A, 0x9F59, 0x8F78,
    0x9188, 0x81A9, 0xB1CA, 0xA1EB, 0xD10C, 0xC12D, 0xF14E, 0xE16F,
    0x1080, 0x00A1, 0x30C2, 0x20E3, 0x5004, 0x4025, 0x7046, 0x6067,
    0x83B9, 0x9398, 0xA3FB, 0xB3DA, 0xC33D, 0xD31C, 0xE37F, 0xF35E,
    0x02B1, 0x1290, 0x22F3, 0x32D2, 0x4235, 0x5214, 0x6277, 0x7256,
    0xB5EA, 0xA5CB, 0x95A8, 0x8589, 0xF56E, 0xE54F, 0xD52C, 0xC50D,
    0x34E2, 0x24C3, 0x14A0, 0x0481, 0x7466, 0x6447, 0x5424, 0x4405,
    0xA7DB, 0xB7FA, 0x8799, 0x97B8, 0xE75F, 0xF77E, 0xC71D, 0xD73C,
    0x26D3, 0x36F2, 0x0691, 0x16B0, 0x6657, 0x7676, 0x4615, 0x5634,
    0xD94C, 0xC96D, 0xF90E, 0xE92F, 0x99C8, 0x89E9, 0xB98A, 0xA9AB,
    0x5844, 0x4865, 0x7806, 0x6827, 0x18C0, 0x08E1, 0x3882, 0x28A3,
    0xCB7D, 0xDB5C, 0xEB3F, 0xFB1E, 0x8BF9, 0x9BD8, 0xABBB, 0xBB9A,
    0x4A75, 0x5A54, 0x6A37, 0x7A16, 0x0AF1, 0x1AD0, 0x2AB3, 0x3A92,
    0xFD2E, 0xED0F, 0xDD6C, 0xCD4D, 0xBDAA, 0xAD8B, 0x9DE8, 0x8DC9,
    0x7C26, 0x6C07, 0x5C64, 0x4C45, 0x3CA2, 0x2C83, 0x1CE0, 0x0CC1,
    0xEF1F, 0xFF3E, 0xCF5D, 0xDF7C, 0xAF9B, 0xBFBA, 0x8FD9, 0x9FF8,
    0x6E17, 0x7E36, 0x4E55, 0x5E74, 0x2E93, 0x3EB2, 0x0ED1, 0x1EF0,
};

uint16_t ipc_crc16(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++)
        crc = (uint16_t)((crc << 8) ^ ipc_crc16_t[(crc >> 8) ^ b[i]]);
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
