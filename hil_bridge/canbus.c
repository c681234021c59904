/* canbus.c - arbitration, time on the wire, fault confinement. */
#include "canbus.h"

#include <stdlib.h>
#include <string.h>

#include "can_id.h"
#include "ek3_err.h"
#include "ek3_rng.h"

/* Whether the rates (cbus_fault_rates) hit this frame: its message type
 * is among rate_types, or rate_types is 0. */
static int cbus_rated(const cbus *b, const cfd_frame *f)
{
    if (!b->rate_types)
        return 1;
    cid_fields cf;
    return (f->flags & CFD_FLAG_EFF) && cid_decode(f->id, &cf) == EK3_OK && ((b->rate_types >> cf.type) & 1u);
}

static double cbus_uniform(cbus *b)
{
    uint64_t z = ek3_rng_splitmix64(&b->rng);
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static int64_t cbus_bits_ns(const cbus *b, unsigned bits)
{
    return ((int64_t)bits * 1000000000 + b->arb_bps - 1) / b->arb_bps;
}

const char *cbus_state_name(unsigned state)
{
    static const char *const names[] = {"error-active", "error-passive", "bus-off"};
    return state <= CBUS_BUS_OFF ? names[state] : "?";
}

int cbus_init(cbus *b, unsigned n, uint32_t arb_bps, uint32_t data_bps, uint64_t seed)
{
    memset(b, 0, sizeof *b);
    if (n < 1 || n > 4096 || arb_bps == 0 || data_bps == 0)
        return EK3_EINVAL;
    b->node = calloc(n, sizeof *b->node);
    if (!b->node)
        return EK3_ENOSPC;
    b->n = n;
    b->arb_bps = arb_bps;
    b->data_bps = data_bps;
    b->rng = seed ? seed : 1;
    b->restart_ms = 100;
    return EK3_OK;
}

void cbus_free(cbus *b)
{
    free(b->node);
    b->node = NULL;
}

int cbus_send(cbus *b, unsigned from, const cfd_frame *f, int64_t t_ns)
{
    if (from >= b->n)
        return EK3_ENOENT;
    cbus_node *nd = &b->node[from];
    if (nd->state == CBUS_BUS_OFF || nd->cut)
        return EK3_EBUSY;
    if (cfd_len_to_dlc(f->len, (f->flags & CFD_FLAG_FD) != 0) < 0)
        return EK3_EDLC;
    if (nd->qn >= CBUS_QUEUE)
        return EK3_EFULL;
    nd->q[nd->qn] = *f;
    nd->q_t[nd->qn] = (t_ns > b->t_ns ? t_ns : b->t_ns) + nd->delay_ns;
    nd->qn++;
    b->queued++;
    return EK3_OK;
}

/* A bus-off node back on the bus. */
int cbus_full(const cbus *b, unsigned from)
{
    if (from >= b->n)
        return 0;
    const cbus_node *nd = &b->node[from];
    return nd->state != CBUS_BUS_OFF && !nd->cut && nd->qn >= CBUS_QUEUE; /* cbus_send's checks, in its order */
}

/* A bus-off node back on the bus. */
static void cbus_restart_at(cbus *b, cbus_node *nd, int64_t t)
{
    b->off--;
    nd->state = CBUS_ERROR_ACTIVE;
    nd->tec = nd->rec = 0;
    nd->ready_ns = t + cbus_bits_ns(b, 128u * 11u); /* 128 x 11 recessive bits */
}

int cbus_restart(cbus *b, unsigned node)
{
    if (node >= b->n)
        return EK3_ENOENT;
    cbus_node *nd = &b->node[node];
    if (nd->state != CBUS_BUS_OFF)
        return EK3_EBUSY;
    cbus_restart_at(b, nd, b->t_ns);
    return EK3_OK;
}

double cbus_load(const cbus *b)
{
    int64_t el = b->t_ns - b->start_ns;
    return el > 0 ? (double)b->busy_ns / (double)el : 0.0;
}

static void cbus_confine(cbus *b, cbus_node *nd, int64_t t)
{
    if (nd->state == CBUS_BUS_OFF)
        return;
    if (nd->tec > 255) {
        nd->state = CBUS_BUS_OFF;
        nd->busoff_ns = t;
        nd->bus_offs++;
        b->off++;
        b->queued -= nd->qn;
        nd->qn = 0; /* the controller drops what it held */
    } else if (nd->tec >= 128 || nd->rec >= 128) {
        nd->state = CBUS_ERROR_PASSIVE;
    } else {
        nd->state = CBUS_ERROR_ACTIVE;
    }
}

/* The frame a node would send now: the lowest identifier queued by t. */
static int cbus_head(const cbus_node *nd, int64_t t, int64_t *when)
{
    int best = -1;
    for (int i = 0; i < nd->qn; i++) {
        if (nd->q_t[i] > t)
            continue;
        if (best < 0 || cid_wins(nd->q[i].id, nd->q[best].id))
            best = i;
    }
    if (when) {
        int64_t w = INT64_MAX;
        for (int i = 0; i < nd->qn; i++)
            if (nd->q_t[i] < w)
                w = nd->q_t[i];
        *when = w;
    }
    return best;
}

static int cbus_connected(const cbus_node *nd)
{
    return !nd->cut && nd->state != CBUS_BUS_OFF;
}

/* Does node k hear node `from` (the same side of a split)? */
static int cbus_hears(const cbus *b, unsigned k, unsigned from)
{
    return !b->split || (k >= b->split) == (from >= b->split);
}

void cbus_run(cbus *b, int64_t t_end)
{
    /* Nothing queued, nobody babbling, nobody to restart: the loop below
     * would find no frame to start (t0 stays INT64_MAX) and go idle. */
    if (!b->queued && !b->babbling && !b->off) {
        if (b->t_ns < t_end)
            b->t_ns = t_end;
        return;
    }
    for (;;) {
        /* Automatic restarts of bus-off nodes, restart_ms after bus-off. */
        for (unsigned k = 0; b->off && k < b->n; k++) {
            cbus_node *nd = &b->node[k];
            int64_t at = nd->busoff_ns + (int64_t)b->restart_ms * 1000000;
            if (nd->state == CBUS_BUS_OFF && b->restart_ms && at <= t_end)
                cbus_restart_at(b, nd, at > b->t_ns ? at : b->t_ns);
        }
        /* When can the next frame start? */
        int64_t t0 = INT64_MAX;
        for (unsigned k = 0; k < b->n; k++) {
            cbus_node *nd = &b->node[k];
            if (!cbus_connected(nd) || (!nd->qn && !nd->babble))
                continue;
            int64_t w = INT64_MAX;
            if (nd->babble)
                w = b->t_ns;
            else
                cbus_head(nd, INT64_MAX, &w);
            if (w < nd->ready_ns)
                w = nd->ready_ns;
            if (w < t0)
                t0 = w;
        }
        if (t0 < b->t_ns)
            t0 = b->t_ns;
        if (t0 == INT64_MAX || t0 >= t_end)
            break;
        /* Arbitration among the nodes ready at t0: lowest identifier wins. */
        int win = -1, slot = -1;
        const cfd_frame *wf = NULL;
        for (unsigned k = 0; k < b->n; k++) {
            cbus_node *nd = &b->node[k];
            if (!cbus_connected(nd) || nd->ready_ns > t0)
                continue;
            const cfd_frame *f = NULL;
            int s = -1;
            if (nd->babble) {
                f = &nd->babble_frame;
            } else {
                s = cbus_head(nd, t0, NULL);
                if (s >= 0)
                    f = &nd->q[s];
            }
            if (f && (!wf || cid_wins(f->id, wf->id))) {
                wf = f;
                win = (int)k;
                slot = s;
            }
        }
        if (win < 0) { /* nobody ready at t0 after all: move on */
            b->t_ns = t0 + 1;
            continue;
        }
        cbus_node *tx = &b->node[win];
        cfd_frame f = *wf;
        int64_t dur = cfd_frame_ns(&f, b->arb_bps, b->data_bps), end = t0 + dur;
        int acked = 0;
        for (unsigned k = 0; k < b->n; k++)
            if ((int)k != win && cbus_connected(&b->node[k]) && cbus_hears(b, k, (unsigned)win)) {
                acked = 1;
                break;
            }
        int rated = cbus_rated(b, &f);
        int corrupt = tx->corrupt_next > 0 || (rated && b->p_corrupt > 0 && cbus_uniform(b) < b->p_corrupt);
        if (corrupt || !acked) {
            /* Error frame after the frame; the frame is sent again. */
            end += cbus_bits_ns(b, CBUS_ERROR_FRAME_BITS);
            b->error_frames++;
            tx->tx_errors++;
            if (tx->corrupt_next)
                tx->corrupt_next--;
            if (corrupt || tx->state != CBUS_ERROR_PASSIVE) /* ACK errors stop at passive */
                tx->tec = (uint16_t)(tx->tec + 8);
            if (corrupt)
                for (unsigned k = 0; k < b->n; k++)
                    if ((int)k != win && cbus_connected(&b->node[k]) && cbus_hears(b, k, (unsigned)win)) {
                        b->node[k].rec = (uint16_t)(b->node[k].rec + 1);
                        cbus_confine(b, &b->node[k], end);
                    }
        } else {
            for (unsigned k = 0; k < b->n; k++) {
                cbus_node *rx = &b->node[k];
                if ((int)k == win || !cbus_connected(rx) || !cbus_hears(b, k, (unsigned)win))
                    continue;
                rx->rec = rx->rec > 127 ? 127 : rx->rec > 0 ? (uint16_t)(rx->rec - 1) : 0;
                cbus_confine(b, rx, end);
                if (rated && b->p_drop > 0 && cbus_uniform(b) < b->p_drop) {
                    rx->rx_dropped++;
                    continue;
                }
                rx->rx_ok++;
                if (b->deliver)
                    b->deliver(b->ctx, k, (unsigned)win, &f, end);
            }
            if (tx->tec)
                tx->tec--;
            tx->tx_ok++;
            b->frames++;
            if (slot >= 0) {
                int64_t wait = end - tx->q_t[slot];
                if (b->on_sent)
                    b->on_sent(b->sent_ctx, (unsigned)win, &f, tx->q_t[slot], end);
                if (wait > tx->wait_max_ns)
                    tx->wait_max_ns = wait;
                /* the rest keep their order: frames of one identifier leave in the
                 * order they were queued (a controller's FIFO; fragments rely on it) */
                tx->qn--;
                b->queued--;
                memmove(&tx->q[slot], &tx->q[slot + 1], (size_t)(tx->qn - slot) * sizeof tx->q[0]);
                memmove(&tx->q_t[slot], &tx->q_t[slot + 1], (size_t)(tx->qn - slot) * sizeof tx->q_t[0]);
            }
        }
        cbus_confine(b, tx, end);
        if (tx->state == CBUS_ERROR_PASSIVE)
            tx->ready_ns = end + cbus_bits_ns(b, CBUS_SUSPEND_BITS);
        b->busy_ns += end - t0;
        b->t_ns = end;
    }
    if (b->t_ns < t_end)
        b->t_ns = t_end; /* idle until then */
}

int cbus_fault_corrupt(cbus *b, unsigned node, uint32_t frames)
{
    if (node >= b->n)
        return EK3_ENOENT;
    b->node[node].corrupt_next = frames;
    return EK3_OK;
}

int cbus_fault_rates(cbus *b, double p_corrupt, double p_drop)
{
    if (!(p_corrupt >= 0 && p_corrupt <= 1 && p_drop >= 0 && p_drop <= 1))
        return EK3_ERANGE;
    b->p_corrupt = p_corrupt;
    b->p_drop = p_drop;
    return EK3_OK;
}

int cbus_fault_types(cbus *b, uint16_t types)
{
    b->rate_types = types;
    return EK3_OK;
}

int cbus_fault_cut(cbus *b, unsigned node, int cut)
{
    if (node >= b->n)
        return EK3_ENOENT;
    b->node[node].cut = cut != 0;
    return EK3_OK;
}

int cbus_fault_babble(cbus *b, unsigned node, const cfd_frame *f)
{
    if (node >= b->n)
        return EK3_ENOENT;
    b->babbling = b->babbling - b->node[node].babble + (f != NULL);
    b->node[node].babble = f != NULL;
    if (f)
        b->node[node].babble_frame = *f;
    return EK3_OK;
}

int cbus_fault_split(cbus *b, unsigned at)
{
    if (at >= b->n)
        return EK3_ERANGE;
    b->split = at;
    return EK3_OK;
}

int cbus_fault_latency(cbus *b, unsigned node, int64_t delay_ns)
{
    if (node >= b->n)
        return EK3_ENOENT;
    if (delay_ns < 0 || delay_ns > 1000000000)
        return EK3_ERANGE;
    b->node[node].delay_ns = delay_ns;
    return EK3_OK;
}
