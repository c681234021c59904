/* sco.c - the live scope's model: ring, history, trigger, statistics,
 * math channels, layout, colours, and the tap on the session's thread. */
#include "sco.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "can_id.h"
#include "ek3_err.h"

static const sco_chinfo sco_chs[SCO_NCH] = {
    [SCO_C_VBUS] = {"bus.v", "V", 255, 220, 60},
    [SCO_C_IBUS] = {"bus.i", "A", 120, 200, 255},
    [SCO_C_PLOAD] = {"load.p", "W", 255, 140, 40},
    [SCO_C_PIN] = {"rack.pin", "W", 200, 120, 255},
    [SCO_C_SHARE] = {"sharing.err", "", 255, 100, 180},
    [SCO_C_BUSLOAD] = {"canbus.load", "", 80, 220, 220},
    [SCO_C_TEC] = {"canbus.tec", "", 255, 90, 90},
    [SCO_C_REC] = {"canbus.rec", "", 255, 170, 90},
    [SCO_C_FRAMES] = {"canbus.frames", "", 160, 160, 160},
    [SCO_C_ERRORS] = {"canbus.errors", "", 220, 80, 80},
    [SCO_C_SEL0 + 0] = {"sel1.iout", "A", 90, 255, 120},
    [SCO_C_SEL0 + 1] = {"sel1.tj", "C", 255, 80, 200},
    [SCO_C_SEL0 + 2] = {"sel2.iout", "A", 100, 160, 255},
    [SCO_C_SEL0 + 3] = {"sel2.tj", "C", 240, 60, 60},
    [SCO_C_SEL0 + 4] = {"sel3.iout", "A", 255, 255, 255},
    [SCO_C_SEL0 + 5] = {"sel3.tj", "C", 0, 200, 170},
    [SCO_C_SEL0 + 6] = {"sel4.iout", "A", 190, 120, 255},
    [SCO_C_SEL0 + 7] = {"sel4.tj", "C", 200, 160, 100},
    [SCO_CH_POWER] = {"math.VxI", "W", 255, 200, 150},
    [SCO_CH_EFF] = {"math.eff", "", 150, 255, 200},
};

const sco_chinfo *sco_ch(unsigned ch)
{
    return ch < SCO_NCH ? &sco_chs[ch] : NULL;
}

double sco_power(double v, double i)
{
    return v * i;
}

double sco_eff(double pout, double pin)
{
    if (isnan(pout) || isnan(pin) || !(pin > 1.0))
        return NAN;
    return pout / pin;
}

double sco_sharing(const double *i, const uint8_t *on, unsigned n)
{
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    unsigned m = 0;
    for (unsigned k = 0; k < n; k++) {
        if (on && !on[k])
            continue;
        lo = fmin(lo, i[k]);
        hi = fmax(hi, i[k]);
        sum += i[k];
        m++;
    }
    if (!m || !(sum / m > 0))
        return 0;
    return (hi - lo) / (sum / m);
}

double sco_chan(const sco_row *r, unsigned ch)
{
    if (ch < SCO_NCOL)
        return r->v[ch];
    if (ch == SCO_CH_POWER)
        return sco_power(r->v[SCO_C_VBUS], r->v[SCO_C_IBUS]);
    if (ch == SCO_CH_EFF)
        return sco_eff(r->v[SCO_C_PLOAD], r->v[SCO_C_PIN]);
    return NAN;
}

/* ---- the ring ---- */

int sco_ring_init(sco_ring *r, size_t cap, size_t elem)
{
    memset(r, 0, sizeof *r);
    if (!elem || cap > (1u << 24))
        return EK3_EINVAL;
    size_t c = 2;
    while (c < cap)
        c <<= 1;
    r->buf = calloc(c, elem);
    if (!r->buf)
        return EK3_ENOSPC;
    r->cap = c;
    r->elem = elem;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    atomic_init(&r->dropped, 0);
    return 0;
}

void sco_ring_free(sco_ring *r)
{
    free(r->buf);
    r->buf = NULL;
}

int sco_ring_push(sco_ring *r, const void *e)
{
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    int dropped = 0;
    while (h - t >= r->cap) {
        /* full: take the oldest away from the consumer, unless it just took it */
        if (atomic_compare_exchange_weak_explicit(&r->tail, &t, t + 1, memory_order_acq_rel, memory_order_acquire)) {
            atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
            dropped = 1;
            break;
        }
    }
    memcpy(r->buf + (h & (r->cap - 1)) * r->elem, e, r->elem);
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    return dropped;
}

int sco_ring_pop(sco_ring *r, void *e)
{
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    for (;;) {
        uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
        if (t == h)
            return 0;
        memcpy(e, r->buf + (t & (r->cap - 1)) * r->elem, r->elem);
        /* kept only if the producer did not drop it meanwhile (then t is reloaded) */
        if (atomic_compare_exchange_strong_explicit(&r->tail, &t, t + 1, memory_order_acq_rel, memory_order_acquire))
            return 1;
    }
}

uint64_t sco_ring_dropped(const sco_ring *r)
{
    return atomic_load_explicit(&((sco_ring *)r)->dropped, memory_order_relaxed);
}

/* ---- the history ---- */

int sco_hist_init(sco_hist *h, size_t cap)
{
    memset(h, 0, sizeof *h);
    if (!cap)
        return EK3_EINVAL;
    h->row = malloc(cap * sizeof *h->row);
    if (!h->row)
        return EK3_ENOSPC;
    h->cap = cap;
    return 0;
}

void sco_hist_free(sco_hist *h)
{
    free(h->row);
    h->row = NULL;
}

void sco_hist_push(sco_hist *h, const sco_row *r)
{
    h->row[h->head] = *r;
    h->head = (h->head + 1) % h->cap;
    if (h->n < h->cap)
        h->n++;
}

const sco_row *sco_hist_at(const sco_hist *h, size_t i)
{
    return &h->row[(h->head + h->cap - h->n + i) % h->cap];
}

size_t sco_hist_find(const sco_hist *h, double t)
{
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sco_hist_at(h, mid)->t < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- trigger ---- */

int sco_trig_fires(sco_trig_kind k, double level, double prev, double cur)
{
    if (isnan(cur) || isnan(level))
        return 0;
    if (k == SCO_T_LEVEL)
        return cur >= level;
    if (isnan(prev))
        return 0;
    int up = prev < level && cur >= level, down = prev > level && cur <= level;
    return k == SCO_T_RISING ? up : k == SCO_T_FALLING ? down : up || down;
}

long sco_trig_find(const double *v, size_t n, sco_trig_kind k, double level, size_t pre, size_t post)
{
    if (!v || n == 0 || post >= n)
        return -1;
    size_t first = pre > 1 ? pre : 1;
    for (size_t i = n - 1 - post + 1; i-- > first;) {
        if (k == SCO_T_LEVEL) {
            if (sco_trig_fires(k, level, 0, v[i]) && !sco_trig_fires(k, level, 0, v[i - 1]))
                return (long)i;
        } else if (sco_trig_fires(k, level, v[i - 1], v[i])) {
            return (long)i;
        }
    }
    /* a level run that began before the first sample counted */
    if (k == SCO_T_LEVEL && pre == 0 && n - post > 0 && sco_trig_fires(k, level, 0, v[0]))
        return 0;
    return -1;
}

int sco_stats(const double *t, const double *v, size_t n, sco_stat *out)
{
    if (!t || !v || !out || !n)
        return EK3_EINVAL;
    double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue;
        sum += v[i];
        sq += v[i] * v[i];
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
        m++;
    }
    out->dt = t[n - 1] - t[0];
    out->n_used = m;
    if (!m) {
        out->mean = out->rms = out->p2p = out->min = out->max = NAN;
        return EK3_ENOENT;
    }
    out->mean = sum / m;
    out->rms = sqrt(sq / m);
    out->min = lo;
    out->max = hi;
    out->p2p = hi - lo;
    return 0;
}

/* ---- layout ---- */

int sco_layout_of(int w, int h, unsigned n, sco_layout *l)
{
    if (!l || w < 320 || h < 400 || n < 1 || n > 510)
        return EK3_EINVAL;
    memset(l, 0, sizeof *l);
    l->w = w;
    l->h = h;
    l->n = n;
    int status_h = 44, pad = 6;
    l->status = (sco_rect){0, h - status_h, w, status_h};
    int avail_h = h - status_h - 2 * pad;
    /* the map takes about a third of the width; its grid as square as it fits */
    int map_w = w * 32 / 100, map_h = avail_h - 18 - SCO_LEGEND_H;
    unsigned best_cols = 1;
    int best = 0;
    for (unsigned c = 1; c <= n; c++) {
        unsigned r = (n + c - 1) / c;
        int cell = map_w / (int)c < map_h / (int)r ? map_w / (int)c : map_h / (int)r;
        if (cell > SCO_CELL_MAX)
            cell = SCO_CELL_MAX;
        if (cell > best || (cell == best && c <= r)) { /* ties: the squarer grid */
            best = cell;
            best_cols = c;
        }
    }
    if (best < 3)
        return EK3_EINVAL;
    l->cols = best_cols;
    l->rows = (n + best_cols - 1) / best_cols;
    l->cell = best;
    l->map = (sco_rect){pad, pad + 18, best * (int)l->cols, best * (int)l->rows};
    int wx = pad + map_w + 2 * pad;
    int bus_h = avail_h / 5;
    l->wave = (sco_rect){wx, pad, w - wx - pad, avail_h - bus_h - pad};
    l->bus = (sco_rect){wx, pad + l->wave.h + pad, w - wx - pad, bus_h};
    return 0;
}

int sco_slot_rect(const sco_layout *l, unsigned k, sco_rect *out)
{
    if (!l || !out || k < 1 || k > l->n)
        return EK3_EINVAL;
    unsigned c = (k - 1) % l->cols, r = (k - 1) / l->cols;
    *out = (sco_rect){l->map.x + (int)c * l->cell + 1, l->map.y + (int)r * l->cell + 1, l->cell - 2, l->cell - 2};
    return 0;
}

unsigned sco_slot_at(const sco_layout *l, int x, int y)
{
    if (x < l->map.x || y < l->map.y || x >= l->map.x + l->map.w || y >= l->map.y + l->map.h)
        return 0;
    unsigned c = (unsigned)((x - l->map.x) / l->cell), r = (unsigned)((y - l->map.y) / l->cell);
    unsigned k = r * l->cols + c + 1;
    return c < l->cols && k <= l->n ? k : 0;
}

/* ---- colours ---- */

const char *sco_mode_name(sco_color_mode m)
{
    return m == SCO_BY_STATE ? "state" : m == SCO_BY_CURRENT ? "current" : m == SCO_BY_TEMP ? "temperature" : "?";
}

sco_rgb sco_state_rgb(unsigned st)
{
    switch (st) {
    case SES_M_FAULT: return (sco_rgb){220, 30, 30};
    case SES_M_RUN: return (sco_rgb){40, 170, 60};
    case SES_M_START: return (sco_rgb){220, 200, 40};
    case SES_M_OFF: return (sco_rgb){90, 90, 90};
    case SES_M_PULLED: return (sco_rgb){30, 30, 30};
    case SES_M_LOST: return (sco_rgb){60, 30, 60};
    case SES_M_EXT: return (sco_rgb){40, 170, 170};
    case SES_M_EXT_OFF: return (sco_rgb){30, 90, 90};
    case SES_M_PARKED: return (sco_rgb){50, 90, 200};
    default: return (sco_rgb){255, 0, 255};
    }
}

/* dark blue (0) through teal and green to yellow (1): no red, which is
 * FAULT's alone */
static sco_rgb sco_ramp(double f)
{
    if (!(f > 0))
        f = 0;
    if (f > 1)
        f = 1;
    if (f < 0.5)
        return (sco_rgb){(uint8_t)(30 + 40 * f), (uint8_t)(40 + 300 * f), (uint8_t)(160 - 40 * f)};
    return (sco_rgb){(uint8_t)(50 + 400 * (f - 0.5)), (uint8_t)(190 + 110 * (f - 0.5)), (uint8_t)(140 - 220 * (f - 0.5))};
}

sco_rgb sco_slot_rgb(sco_color_mode m, const ses_mod_snap *ms, double i_max)
{
    if (ms->state == SES_M_FAULT || ms->state == SES_M_PULLED || ms->state == SES_M_LOST || m == SCO_BY_STATE)
        return sco_state_rgb(ms->state);
    if (m == SCO_BY_CURRENT)
        return sco_ramp(i_max > 0 ? ms->io / i_max : 0);
    return sco_ramp((fmax(ms->tja, ms->tjb) - 25.0) / 100.0);
}

sco_rgb sco_ev_rgb(sco_ev_kind k)
{
    switch (k) {
    case SCO_E_FAULT: return (sco_rgb){255, 128, 0};
    case SCO_E_TRIP: return (sco_rgb){255, 0, 64};
    case SCO_E_RESTART: return (sco_rgb){255, 255, 0};
    case SCO_E_ELECTION: return (sco_rgb){0, 255, 255};
    default: return (sco_rgb){255, 255, 255};
    }
}

char sco_ev_letter(sco_ev_kind k)
{
    return k == SCO_E_FAULT ? 'F' : k == SCO_E_TRIP ? 'T' : k == SCO_E_RESTART ? 'R' : k == SCO_E_ELECTION ? 'E' : '?';
}

void sco_plain_rack(ses_opts *so, unsigned n, rack_load load, unsigned threads)
{
    memset(so, 0, sizeof *so);
    so->quanta = 1;
    so->r.modules = n;
    so->r.fidelity = PMOD_AVERAGED;
    so->r.seed = 1;
    so->r.v_set = 750;
    so->r.r_droop = 5;
    so->r.load = load;
    so->r.via_station = 1;
    so->r.threads = threads;
    prm_defaults(&so->r.plant);
}

static const struct {
    const char *name;
    sco_rgb c;
} sco_frame_tab[SCO_FRAME_ERROR + 1] = {
    [0x0] = {"SYNC", {200, 200, 200}},   [0x1] = {"ELECT", {0, 255, 255}},  [0x2] = {"HB", {60, 200, 60}},
    [0x3] = {"CMD", {255, 200, 0}},      [0x4] = {"THERM", {255, 120, 60}}, [0x5] = {"ACK", {180, 180, 60}},
    [0x6] = {"STN", {120, 160, 255}},    [0x7] = {"FAULT", {255, 0, 64}},   [0x8] = {"DIAG", {200, 120, 255}},
    [0x9] = {"ADC", {100, 100, 100}},    [0xA] = {"PWM", {100, 100, 100}},  [0xB] = {"?B", {100, 100, 100}},
    [0xC] = {"TICK", {100, 100, 100}},   [0xD] = {"?D", {100, 100, 100}},   [0xE] = {"?E", {100, 100, 100}},
    [0xF] = {"FWUP", {255, 255, 255}},   [SCO_FRAME_ERROR] = {"ERR", {255, 0, 0}},
};

sco_rgb sco_frame_rgb(unsigned type)
{
    return type <= SCO_FRAME_ERROR ? sco_frame_tab[type].c : (sco_rgb){255, 0, 255};
}

const char *sco_frame_name(unsigned type)
{
    return type <= SCO_FRAME_ERROR ? sco_frame_tab[type].name : "?";
}

/* ---- the tap ---- */

static int sco_resolve(ses *s, const char *fmt, unsigned k, sig_ref *out)
{
    char path[64], err[200];
    snprintf(path, sizeof path, fmt, k);
    return sig_resolve(s, path, out, err, sizeof err);
}

int sco_tap_init(sco_tap *t, ses *s, size_t ring_rows, unsigned every)
{
    memset(t, 0, sizeof *t);
    t->s = s;
    t->n = s->g.o.modules;
    t->every = every ? every : 1;
    t->shot_t = -1;
    unsigned n = t->n;
    int rc = sco_ring_init(&t->rows, ring_rows ? ring_rows : 65536, sizeof(sco_row));
    rc = rc ? rc : sco_ring_init(&t->evs, 4096, sizeof(sco_ev));
    rc = rc ? rc : sco_ring_init(&t->frames, 16384, sizeof(sco_frame));
    if (rc)
        goto fail;
    t->r_iout = calloc(n, sizeof *t->r_iout);
    t->r_pin = calloc(n, sizeof *t->r_pin);
    t->r_tja = calloc(n, sizeof *t->r_tja);
    t->r_tjb = calloc(n, sizeof *t->r_tjb);
    t->r_state = calloc(n, sizeof *t->r_state);
    t->r_resets = calloc(n, sizeof *t->r_resets);
    t->r_tec = calloc(n + 1, sizeof *t->r_tec);
    t->r_rec = calloc(n + 1, sizeof *t->r_rec);
    t->io = calloc(n, sizeof *t->io);
    t->on = calloc(n, 1);
    t->prev_state = calloc(n, 1);
    t->prev_resets = calloc(n, sizeof *t->prev_resets);
    if (!t->r_iout || !t->r_pin || !t->r_tja || !t->r_tjb || !t->r_state || !t->r_resets || !t->r_tec ||
        !t->r_rec || !t->io || !t->on || !t->prev_state || !t->prev_resets) {
        rc = EK3_ENOSPC;
        goto fail;
    }
    char err[200];
    rc = sig_resolve(s, "bus.v", &t->r_vbus, err, sizeof err);
    rc = rc ? rc : sig_resolve(s, "bus.i", &t->r_ibus, err, sizeof err);
    rc = rc ? rc : sig_resolve(s, "bus.p", &t->r_pbus, err, sizeof err);
    rc = rc ? rc : sig_resolve(s, "canbus.load", &t->r_busload, err, sizeof err);
    rc = rc ? rc : sig_resolve(s, "canbus.frames", &t->r_frames, err, sizeof err);
    rc = rc ? rc : sig_resolve(s, "canbus.errors", &t->r_errors, err, sizeof err);
    rc = rc ? rc : sig_resolve(s, "swarm.term", &t->r_term, err, sizeof err);
    for (unsigned k = 1; k <= n && !rc; k++) {
        rc = sco_resolve(s, "module[%u].iout", k, &t->r_iout[k - 1]);
        rc = rc ? rc : sco_resolve(s, "module[%u].pin", k, &t->r_pin[k - 1]);
        rc = rc ? rc : sco_resolve(s, "module[%u].tj_a", k, &t->r_tja[k - 1]);
        rc = rc ? rc : sco_resolve(s, "module[%u].tj_b", k, &t->r_tjb[k - 1]);
        rc = rc ? rc : sco_resolve(s, "module[%u].state", k, &t->r_state[k - 1]);
        rc = rc ? rc : sco_resolve(s, "module[%u].resets", k, &t->r_resets[k - 1]);
    }
    for (unsigned k = 0; k <= n && !rc; k++) {
        rc = sco_resolve(s, "canbus.node[%u].tec", k, &t->r_tec[k]);
        rc = rc ? rc : sco_resolve(s, "canbus.node[%u].rec", k, &t->r_rec[k]);
    }
    if (rc)
        goto fail;
    for (unsigned k = 0; k < n; k++) {
        t->prev_state[k] = (uint8_t)sig_read(s, &t->r_state[k]);
        t->prev_resets[k] = (uint32_t)sig_read(s, &t->r_resets[k]);
    }
    t->prev_term = sig_read(s, &t->r_term);
    t->prev_flt = s->g.flt_n;
    t->prev_errors = s->g.bus.error_frames;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    return 0;
fail:
    sco_tap_free(t);
    return rc;
}

void sco_tap_detach(sco_tap *t)
{
    if (t->deliver0 && t->s && t->s->g.bus.ctx == t) { /* the bus's own delivery back */
        t->s->g.bus.deliver = t->deliver0;
        t->s->g.bus.ctx = t->deliver0_ctx;
    }
    t->deliver0 = NULL;
    t->s = NULL;
}

void sco_tap_free(sco_tap *t)
{
    sco_tap_detach(t);
    sco_ring_free(&t->frames);
    sco_ring_free(&t->rows);
    sco_ring_free(&t->evs);
    free(t->r_iout);
    free(t->r_pin);
    free(t->r_tja);
    free(t->r_tjb);
    free(t->r_state);
    free(t->r_resets);
    free(t->r_tec);
    free(t->r_rec);
    free(t->io);
    free(t->on);
    free(t->prev_state);
    free(t->prev_resets);
    t->r_iout = t->r_pin = t->r_tja = t->r_tjb = t->r_state = t->r_resets = t->r_tec = t->r_rec = NULL;
    t->io = NULL;
    t->on = t->prev_state = NULL;
    t->prev_resets = NULL;
}

static int sco_stop(void *ctx)
{
    sco_tap *t = ctx;
    if (atomic_load(&t->quit))
        return SIGINT;
    return t->stop0 ? t->stop0(t->stop0_ctx) : 0;
}

/* The rack bus's delivery, chained: a frame is delivered once per
 * receiver, one after another with the same sender and end: counted once. */
static void sco_deliver(void *ctx, unsigned to, unsigned from, const cfd_frame *f, int64_t t_ns)
{
    sco_tap *t = ctx;
    if (from != t->last_from || t_ns != t->last_end) {
        t->last_from = from;
        t->last_end = t_ns;
        sco_frame fr = {t_ns * 1e-9, (uint8_t)((f->id >> CID_TYPE_SHIFT) & CID_TYPE_MAX)};
        sco_ring_push(&t->frames, &fr);
    }
    t->deliver0(t->deliver0_ctx, to, from, f, t_ns);
}

int sco_tap_attach(sco_tap *t)
{
    int rc = ses_tap_add(t->s, sco_tap_fn, t);
    if (rc)
        return rc;
    if (t->s->g.bus.deliver) {
        t->deliver0 = t->s->g.bus.deliver;
        t->deliver0_ctx = t->s->g.bus.ctx;
        t->last_from = ~0u;
        t->last_end = -1;
        t->s->g.bus.deliver = sco_deliver;
        t->s->g.bus.ctx = t;
    }
    t->stop0 = t->s->o.stop;
    t->stop0_ctx = t->s->o.stop_ctx;
    t->s->o.stop = sco_stop;
    t->s->o.stop_ctx = t;
    return 0;
}

static void sco_push_ev(sco_tap *t, double now, unsigned kind, unsigned slot)
{
    sco_ev e = {now, (uint16_t)kind, (uint16_t)slot};
    sco_ring_push(&t->evs, &e);
}

/* Wait while paused (or at the shot's time) unless asked to step, to quit,
 * or stopped by the session's own stop (Ctrl-C). */
static void sco_wait(sco_tap *t, double now)
{
    for (;;) {
        int shot = atomic_load(&t->shot_wait) && t->shot_t >= 0 && now >= t->shot_t;
        if (shot) /* tell the window: everything up to here is in the rings */
            atomic_store(&t->shot_wait, 2);
        int paused = atomic_load(&t->paused);
        if (atomic_load(&t->quit) || (t->stop0 && t->stop0(t->stop0_ctx)))
            return;
        if (!shot && !paused)
            return;
        if (!shot && atomic_load(&t->steps) > 0) {
            atomic_fetch_sub(&t->steps, 1);
            return;
        }
        pthread_mutex_lock(&t->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&t->cv, &t->mu, &ts);
        pthread_mutex_unlock(&t->mu);
    }
}

static void sco_tap_slow(sco_tap *t, ses *s, double now);

void sco_tap_fn(ses *s, void *ctx)
{
    sco_tap *t = ctx;
    t->q++;
    /* the quantum just run ends now (s->q counts it after the taps) */
    double now = (double)s->g.t_ns * 1e-9;
    atomic_store_explicit(&t->q_now, s->q + 1, memory_order_relaxed);
    /* the faults injected since (the rig's log: --fault, the session's
     * events and a scenario's fault{} alike, pulls and inserts too) */
    if (s->g.flt_n - t->prev_flt > RIG_FLT_LOG)
        t->prev_flt = s->g.flt_n - RIG_FLT_LOG; /* the oldest are gone */
    for (; t->prev_flt < s->g.flt_n; t->prev_flt++) {
        const unsigned i = (unsigned)(t->prev_flt % RIG_FLT_LOG);
        sco_push_ev(t, s->g.flt_log[i].t_ns * 1e-9, SCO_E_FAULT, s->g.flt_log[i].target);
    }
    if ((t->q - 1) % SCO_SLOW_EVERY == 0) /* the rack's sums and the module events: every ms */
        sco_tap_slow(t, s, now);
    if (t->q % t->every == 0) {
        sco_row r;
        r.t = now;
        r.v[SCO_C_VBUS] = (float)sig_read(s, &t->r_vbus);
        r.v[SCO_C_IBUS] = (float)sig_read(s, &t->r_ibus);
        r.v[SCO_C_PLOAD] = (float)sig_read(s, &t->r_pbus);
        r.v[SCO_C_BUSLOAD] = (float)sig_read(s, &t->r_busload);
        r.v[SCO_C_FRAMES] = (float)sig_read(s, &t->r_frames);
        r.v[SCO_C_ERRORS] = (float)sig_read(s, &t->r_errors);
        r.v[SCO_C_PIN] = (float)t->pin;
        r.v[SCO_C_SHARE] = (float)t->share;
        r.v[SCO_C_TEC] = (float)t->tec;
        r.v[SCO_C_REC] = (float)t->rec;
        for (unsigned j = 0; j < SCO_SEL; j++) {
            int k = atomic_load_explicit(&t->sel[j], memory_order_relaxed);
            if (k >= 1 && (unsigned)k <= t->n) {
                r.v[SCO_C_SEL0 + 2 * j] = (float)sig_read(s, &t->r_iout[k - 1]);
                r.v[SCO_C_SEL0 + 2 * j + 1] =
                    (float)fmax(sig_read(s, &t->r_tja[k - 1]), sig_read(s, &t->r_tjb[k - 1]));
            } else {
                r.v[SCO_C_SEL0 + 2 * j] = r.v[SCO_C_SEL0 + 2 * j + 1] = NAN;
            }
        }
        double term = sig_read(s, &t->r_term);
        if (term != t->prev_term && !isnan(term))
            sco_push_ev(t, now, SCO_E_ELECTION, 0);
        t->prev_term = term;
        sco_ring_push(&t->rows, &r);
    }
    sco_wait(t, now);
}

/* The figures over every module (and bus node) and the module events:
 * trips (state becoming FAULT), restarts (resets rising). */
static void sco_tap_slow(sco_tap *t, ses *s, double now)
{
    double pin = 0, tec = 0, rec = 0;
    for (unsigned k = 0; k < t->n; k++) {
        unsigned st = (unsigned)sig_read(s, &t->r_state[k]);
        uint32_t rs = (uint32_t)sig_read(s, &t->r_resets[k]);
        if (st == SES_M_FAULT && t->prev_state[k] != SES_M_FAULT)
            sco_push_ev(t, now, SCO_E_TRIP, k + 1);
        if (rs > t->prev_resets[k])
            sco_push_ev(t, now, SCO_E_RESTART, k + 1);
        t->prev_state[k] = (uint8_t)st;
        t->prev_resets[k] = rs;
        t->on[k] = st != SES_M_PULLED && st != SES_M_LOST && st != SES_M_PARKED;
        t->io[k] = sig_read(s, &t->r_iout[k]);
        pin += sig_read(s, &t->r_pin[k]);
    }
    for (unsigned k = 0; k <= t->n; k++) {
        tec = fmax(tec, sig_read(s, &t->r_tec[k]));
        rec = fmax(rec, sig_read(s, &t->r_rec[k]));
    }
    if (s->g.bus.error_frames > t->prev_errors) { /* error frames: a marker each (up to 16 a look) */
        for (uint64_t k = t->prev_errors; k < s->g.bus.error_frames && k < t->prev_errors + 16; k++) {
            sco_frame fr = {now, SCO_FRAME_ERROR};
            sco_ring_push(&t->frames, &fr);
        }
        t->prev_errors = s->g.bus.error_frames;
    }
    t->pin = pin;
    t->share = sco_sharing(t->io, t->on, t->n);
    t->tec = tec;
    t->rec = rec;
}


void sco_tap_pause(sco_tap *t, int paused)
{
    pthread_mutex_lock(&t->mu);
    atomic_store(&t->paused, paused);
    atomic_store(&t->steps, 0);
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

void sco_tap_step(sco_tap *t, long n)
{
    pthread_mutex_lock(&t->mu);
    atomic_fetch_add(&t->steps, n);
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

void sco_tap_quit(sco_tap *t)
{
    pthread_mutex_lock(&t->mu);
    atomic_store(&t->quit, 1);
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

void sco_tap_shot_done(sco_tap *t)
{
    pthread_mutex_lock(&t->mu);
    atomic_store(&t->shot_wait, 0);
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}
