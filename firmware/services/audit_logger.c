/* audit_logger.c - the audit trail, from RAM into a flash ring. */
#include "audit_logger.h"

#include <string.h>

#include "ek3_err.h"

#define ALOG_PER_PAGE (ALOG_PAGE / ALOG_RECORD)

unsigned alog_slots(hal hw)
{
    size_t size = hw.ops->flash_size;
    return size > ALOG_FIRST_PAGE * ALOG_PAGE ? (unsigned)((size - ALOG_FIRST_PAGE * ALOG_PAGE) / ALOG_RECORD) : 0;
}

static uint32_t alog_off(unsigned slot)
{
    return ALOG_FIRST_PAGE * ALOG_PAGE + slot * ALOG_RECORD;
}

static int alog_erased(const alog_record *r)
{
    const uint8_t *b = (const uint8_t *)r;
    for (unsigned i = 0; i < ALOG_RECORD; i++)
        if (b[i] != 0xFF)
            return 0;
    return 1;
}

int alog_read(hal hw, unsigned i, alog_record *out)
{
    if (i >= alog_slots(hw))
        return EK3_ERANGE;
    int rc = hal_flash_read(hw, alog_off(i), out, sizeof *out);
    if (rc)
        return rc;
    if (alog_erased(out) || ipc_crc16(out, offsetof(alog_record, crc)) != out->crc)
        return EK3_ENOENT;
    return EK3_OK;
}

/* Find the place to continue: after the record with the highest number;
 * past any torn slots. Returns the last good record's slot or -1. */
static int alog_scan(alog_state *s, hal hw, alog_record *last)
{
    unsigned n = alog_slots(hw);
    int best = -1;
    alog_record r;
    for (unsigned i = 0; i < n; i++)
        if (alog_read(hw, i, &r) == EK3_OK && (best < 0 || r.seq - last->seq < 0x80000000u)) {
            *last = r;
            best = (int)i;
        }
    unsigned at = best < 0 ? 0 : (unsigned)best + 1;
    s->next_seq = best < 0 ? 0 : last->seq + 1;
    /* Skip what a power loss left half-written, up to the page's end. */
    while (at < n && at % ALOG_PER_PAGE) {
        if (hal_flash_read(hw, alog_off(at), &r, sizeof r) == EK3_OK && alog_erased(&r))
            break;
        at++;
    }
    s->write_off = alog_off(at % n);
    return best;
}

int alog_init(void *state, jz_kernel *k, unsigned me)
{
    (void)me;
    alog_state *s = state;
    if (alog_slots(k->hw) < 2 * ALOG_PER_PAGE)
        return EK3_ENOSPC;
    alog_record last;
    memset(&last, 0, sizeof last);
    int found = alog_scan(s, k->hw, &last);
    const audit_log *a = &k->audit;
    uint32_t oldest = a->total - audit_count(a);
    s->next_ev = oldest;
    /* The same event still in RAM (a service restart, or the rig's
     * reset, which keeps the ring): continue after it. After a real
     * power cycle the ring is new and everything in it is written. */
    if (found >= 0 && last.ev_no >= oldest && last.ev_no < a->total) {
        const audit_event *e = audit_get(a, last.ev_no - oldest);
        if (e->t_ns == last.t_ns && e->kind == last.kind && e->svc == last.svc)
            s->next_ev = last.ev_no + 1;
    }
    return EK3_OK;
}

static int alog_write(alog_state *s, jz_kernel *k, const audit_event *e, uint32_t ev_no)
{
    hal hw = k->hw;
    uint32_t end = alog_off(alog_slots(hw));
    if (s->write_off >= end)
        s->write_off = alog_off(0);
    if ((s->write_off - ALOG_FIRST_PAGE * ALOG_PAGE) % ALOG_PAGE == 0) {
        alog_record probe;
        int rc = hal_flash_read(hw, s->write_off, &probe, sizeof probe);
        if (rc == EK3_OK && !alog_erased(&probe)) /* the oldest page gives way */
            rc = hal_flash_erase(hw, s->write_off, ALOG_PAGE);
        if (rc)
            return rc;
    }
    alog_record r;
    memset(&r, 0, sizeof r);
    r.seq = s->next_seq;
    r.ev_no = ev_no;
    r.t_ns = e->t_ns;
    r.arg = e->arg;
    r.resets = k->resets;
    r.kind = e->kind;
    r.svc = e->svc;
    r.reason = e->reason;
    r.crc = ipc_crc16(&r, offsetof(alog_record, crc));
    int rc = hal_flash_write(hw, s->write_off, &r, sizeof r);
    s->write_off += ALOG_RECORD; /* a failed slot is skipped, not retried */
    if (rc)
        return rc;
    s->next_seq++;
    s->written++;
    return EK3_OK;
}

int alog_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m)
{
    (void)me;
    alog_state *s = state;
    if (m->type != IPC_T_TICK)
        return EK3_OK;
    const audit_log *a = &k->audit;
    uint32_t oldest = a->total - audit_count(a);
    if (s->next_ev - oldest > a->total - oldest) { /* overtaken: events lost */
        s->lost += oldest - s->next_ev;
        s->next_ev = oldest;
    }
    for (unsigned n = 0; n < ALOG_PER_TICK && s->next_ev < a->total; n++) {
        if (alog_write(s, k, audit_get(a, s->next_ev - oldest), s->next_ev) != EK3_OK) {
            s->errors++;
            if (s->errors % 16u == 0)
                return EK3_EIO; /* the flash keeps failing: let the RS restart us */
        }
        s->next_ev++;
    }
    return EK3_OK;
}
