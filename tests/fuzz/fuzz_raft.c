/* fuzz_raft.c - the Raft core (raft.h) driven by a script of bytes on a
 * net of 3 nodes: tick, deliver, drop, duplicate, reorder, propose,
 * reboot, and raw messages from the bus. The net is a CAN bus's, loosened:
 * it delays, reorders, duplicates and drops without bound, except that a
 * node's reboot loses every message still on its way to it (a controller
 * in reset takes no frame, and what its queues held was RAM). raft.h's
 * quiet rule needs that much: a stale broadcast APPEND handed to a node
 * after its reboot would end its quiet with a log short of what it had
 * acknowledged (docs/swarm.md). Never crash or hang; the state
 * stays well formed after every operation (commit within the log, the
 * ring within RAFT_LOG_CAP, the outbox within its bound); and while the
 * script injects no raw message (Raft assumes honest nodes: forged frames
 * are the service's authentication's to stop), at most one leader per
 * term and no committed entry changed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "raft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N 3u
#define Q 64u

typedef struct fnet {
    raft r[N + 1];
    uint32_t pterm[N + 1];
    uint16_t pvote[N + 1];
    raft_msg q[Q];
    uint16_t qto[Q];
    unsigned nq;
    int forged;
    uint16_t term_leader[256];
    uint32_t cterm[64];
} fnet;

static void boot(fnet *w, unsigned i, uint64_t seed)
{
    raft_cfg c = {.me = (uint16_t)i,
                  .n_nodes = N,
                  .heartbeat_ms = 100,
                  .election_min_ms = 300,
                  .election_max_ms = 600,
                  .quiet_ms = UINT32_MAX}; /* quiet until caught up: no loss by a reboot */
    if (raft_init(&w->r[i], &c, w->pterm[i], w->pvote[i], seed) != 0)
        abort();
}

/* Message k off the net (the last one takes its place). */
static void take(fnet *w, unsigned k)
{
    w->q[k] = w->q[w->nq - 1], w->qto[k] = w->qto[w->nq - 1], w->nq--;
}

static void collect(fnet *w, unsigned i)
{
    uint32_t t;
    uint16_t v;
    if (raft_persist_needed(&w->r[i], &t, &v) == 1)
        w->pterm[i] = t, w->pvote[i] = v;
    raft_msg m;
    while (raft_take(&w->r[i], &m) == 0)
        for (unsigned j = 1; j <= N; j++)
            if (j != i && (m.to == 0 || m.to == j) && w->nq < Q) {
                w->q[w->nq] = m;
                w->qto[w->nq++] = (uint16_t)j;
            }
}

static void sound(fnet *w)
{
    for (unsigned i = 1; i <= N; i++) {
        const raft *r = &w->r[i];
        if (r->role > RAFT_LEADER || r->snap_index > r->commit || r->commit > r->last_index ||
            r->last_index - r->snap_index > RAFT_LOG_CAP || r->out_count > RAFT_OUTBOX_CAP || r->leader > N ||
            r->voted_for > N)
            abort();
        if (w->forged)
            continue;
        if (r->role == RAFT_LEADER && r->term < 256) {
            if (w->term_leader[r->term] && w->term_leader[r->term] != i)
                abort(); /* two leaders in one term */
            w->term_leader[r->term] = (uint16_t)i;
        }
        for (uint32_t k = r->snap_index + 1; k <= r->commit && k < 64; k++) {
            uint32_t t;
            if (raft_entry_at(r, k, &t, NULL) != 0)
                abort();
            if (w->cterm[k] && w->cterm[k] != t)
                abort(); /* a committed entry changed */
            w->cterm[k] = t;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fnet w;
    memset(&w, 0, sizeof w);
    for (unsigned i = 1; i <= N; i++)
        boot(&w, i, i);
    size_t p = 0;
    while (p < size) {
        uint8_t op = data[p++], arg = p < size ? data[p++] : 0;
        switch (op % 8u) {
        case 0: /* tick every node */
            for (unsigned i = 1; i <= N; i++) {
                raft_tick(&w.r[i], 1u + arg * 4u);
                collect(&w, i);
            }
            break;
        case 1: /* deliver one */
        case 2:
            if (w.nq) {
                unsigned k = arg % w.nq;
                raft_msg m = w.q[k];
                uint16_t to = w.qto[k];
                take(&w, k);
                (void)raft_step(&w.r[to], &m);
                collect(&w, to);
            }
            break;
        case 3: /* drop one, or duplicate it */
            if (w.nq) {
                unsigned k = arg % w.nq;
                if (arg & 0x80u && w.nq < Q)
                    w.q[w.nq] = w.q[k], w.qto[w.nq++] = w.qto[k];
                else
                    take(&w, k);
            }
            break;
        case 4: { /* propose on a leader */
            unsigned i = 1u + arg % N;
            uint8_t d[RAFT_ENTRY_MAX];
            memset(d, arg, sizeof d);
            (void)raft_propose(&w.r[i], d, 1u + arg % RAFT_ENTRY_MAX);
            collect(&w, i);
            break;
        }
        case 5: { /* reboot, with what flash kept, and nothing that was on its way to it */
            unsigned i = 1u + arg % N;
            boot(&w, i, arg);
            for (unsigned k = 0; k < w.nq;)
                if (w.qto[k] == i)
                    take(&w, k);
                else
                    k++;
            break;
        }
        case 6: { /* a raw message off the bus */
            raft_msg m;
            memset(&m, 0, sizeof m);
            size_t n = size - p < sizeof m ? size - p : sizeof m;
            memcpy(&m, data + p, n);
            p += n;
            unsigned to = 1u + arg % N;
            int rc = raft_step(&w.r[to], &m);
            if (rc != 0 && rc != EK3_EINVAL && rc != EK3_ESTALE)
                abort();
            if (rc != EK3_EINVAL)
                w.forged = 1;
            collect(&w, to);
            break;
        }
        default: { /* committed entries, in order */
            unsigned i = 1u + arg % N;
            raft_entry e;
            uint32_t idx, last = 0;
            while (raft_take_committed(&w.r[i], &e, &idx) == 0) {
                if (idx <= last || idx > w.r[i].commit || e.len > RAFT_ENTRY_MAX)
                    abort();
                last = idx;
            }
            break;
        }
        }
        sound(&w);
    }
    return 0;
}
