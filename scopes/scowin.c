/* scowin.c - the live scope's SDL2 window: rack map, waveforms, the bus
 * strip, event markers, cursors, the keys, screenshots (libpng). */
#include "scowin.h"
#include "splot.h"
#include "hst.h"

#include <SDL.h>
#include <SDL_ttf.h>
#include <errno.h>
#include <math.h>
#include <png.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ek3_err.h"

#define SCW_EV_MAX 4096u
#define SCW_HIST_S 30.0 /* seconds of rows kept (at one row per quantum) */
#define SCW_FRAMES 65536u /* bus frames kept for their markers */

enum { SCW_ROLL = -1 }; /* trig_kind: roll mode, else a sco_trig_kind */
#define SCW_TEXTS 192u   /* text textures kept between frames */
#define SCW_TEXT_LEN 240

typedef struct scw_tex {
    SDL_Texture *tx;
    int w, h;
    sco_rgb c;
    long used;            /* the frame that last drew it */
    char s[SCW_TEXT_LEN];
} scw_tex;

struct scw {
    scw_opts o;
    SDL_Window *win;
    SDL_Renderer *ren;
    TTF_Font *font;
    int fh;
    sco_layout lay;
    pthread_mutex_t smu;  /* guards s against its end (scw_detach) */
    ses *s;
    sco_tap tap;
    int tapped;
    _Atomic int quit;     /* the window asked the run to stop */
    int closed;           /* closed by the user (q, Escape, the close button) */
    char why[200];        /* scw_attach's refusal (scw_why) */
    unsigned n;
    double i_rated;       /* a module's current limit, A (the map's scale by current) */
    sco_hist hist;
    sco_ev ev[SCW_EV_MAX];
    size_t nev;
    sco_frame *fr;        /* the rack bus's frames: a ring of SCW_FRAMES */
    size_t fr_head, fr_n;
    ses_snap snap;
    ses_mod_snap *mods;
    int have_snap;
    /* the view */
    int paused, trig_kind;
    double span, pan, level;
    int level_set;
    unsigned active;      /* the channel of the trigger and the cursor figures */
    uint64_t shown;       /* channels drawn, a bit each */
    sco_color_mode cmode;
    int sel[SCO_SEL];
    double cur[2];        /* cursor times, s (NaN: none) */
    double x0, x1;        /* the time window drawn */
    /* the run */
    _Atomic int done;
    int rc;
    long frames, shots;
    double loop_s, busy_s; /* the loop's wall time; of it, draining and drawing */
    int shot_state;       /* 0 none asked, 1 pending, 2 written, -1 failed */
    char shot_err[300];
    scw_tex tex[SCW_TEXTS];
};

static FILE *scw_notes(const scw *w)
{
    return w->o.notes ? w->o.notes : stderr;
}

int scw_open(scw **out, const scw_opts *o, char *err, size_t cap)
{
    *out = NULL;
    scw *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, cap, "out of memory");
        return EK3_ENOSPC;
    }
    w->o = *o;
    if (!w->o.w || !w->o.h) {
        w->o.w = 1280;
        w->o.h = 800;
    }
    if (!w->o.font)
        w->o.font = SCW_FONT;
    if (!(w->o.span_s > 0))
        w->o.span_s = 0.5;
    if (w->o.fps <= 0)
        w->o.fps = 60;
    w->span = w->o.span_s;
    w->trig_kind = SCW_ROLL;
    w->active = SCO_C_VBUS;
    w->shown = 1u << SCO_C_VBUS | 1u << SCO_C_PLOAD | 1u << SCO_C_SEL0 | 1u << (SCO_C_SEL0 + 1) |
               1u << (SCO_C_SEL0 + 2) | 1u << (SCO_C_SEL0 + 3) | 1u << (SCO_C_SEL0 + 4) | 1u << (SCO_C_SEL0 + 5) |
               1u << (SCO_C_SEL0 + 6) | 1u << (SCO_C_SEL0 + 7);
    w->cur[0] = w->cur[1] = NAN;
    w->shot_state = o->shot_path ? 1 : 0;
    pthread_mutex_init(&w->smu, NULL);
    w->fr = malloc(SCW_FRAMES * sizeof *w->fr);
    if (!w->fr || sco_hist_init(&w->hist, (size_t)(SCW_HIST_S / (RIG_PERIOD_NS * 1e-9)))) {
        free(w->fr);
        free(w);
        snprintf(err, cap, "out of memory for the scope's history");
        return EK3_ENOSPC;
    }
    /* Ctrl-C stays the caller's: the session's stop sees it */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    /* the software renderer's frames go to the window as they are: no GL
     * (llvmpipe's threads would take the rack's CPUs) */
    SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
    if (SDL_Init(SDL_INIT_VIDEO)) {
        snprintf(err, cap, "cannot open the scope window: %s (no display? run under xvfb-run -a, or set "
                           "SDL_VIDEODRIVER=dummy)", SDL_GetError());
        sco_hist_free(&w->hist);
        free(w->fr);
        free(w);
        return EK3_EIO;
    }
    /* No display: SDL falls back on a driver that shows nothing (offscreen,
     * dummy) and the user sees no window. That is refused unless the user
     * chose the driver (SDL_VIDEODRIVER: a bench, a test). */
    const char *drv = SDL_GetCurrentVideoDriver(), *asked = getenv("SDL_VIDEODRIVER");
    if (!(asked && *asked) && drv && strcmp(drv, "x11") && strcmp(drv, "wayland")) {
        const char *d = getenv("DISPLAY");
        snprintf(err, cap, "cannot open the scope window: no display (%s%s%s; SDL took its '%s' driver, which shows "
                           "nothing): run under xvfb-run -a, or set SDL_VIDEODRIVER=dummy to run without a window",
                 d ? "DISPLAY=" : "DISPLAY is not set", d ? d : "", d ? " answers not" : "", drv);
        SDL_Quit();
        sco_hist_free(&w->hist);
        free(w->fr);
        free(w);
        return EK3_EIO;
    }
    if (TTF_Init()) {
        snprintf(err, cap, "SDL2_ttf: %s", TTF_GetError());
        goto fail;
    }
    w->font = TTF_OpenFont(w->o.font, 13);
    if (!w->font) {
        snprintf(err, cap, "the scope's font %s: %s (Debian: fonts-dejavu-core)", w->o.font, TTF_GetError());
        goto fail;
    }
    w->fh = TTF_FontLineSkip(w->font);
    w->win = SDL_CreateWindow("ek3 scope", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, w->o.w, w->o.h, 0);
    if (w->win)
        w->ren = SDL_CreateRenderer(w->win, -1, SDL_RENDERER_SOFTWARE);
    if (!w->win || !w->ren) {
        snprintf(err, cap, "cannot open the scope window: %s", SDL_GetError());
        goto fail;
    }
    *out = w;
    return 0;
fail:
    if (w->font)
        TTF_CloseFont(w->font);
    if (w->ren)
        SDL_DestroyRenderer(w->ren);
    if (w->win)
        SDL_DestroyWindow(w->win);
    if (TTF_WasInit())
        TTF_Quit();
    SDL_Quit();
    sco_hist_free(&w->hist);
    free(w->fr);
    free(w);
    return EK3_EIO;
}

int scw_attach(scw *w, ses *s)
{
    if (!s) { /* the session is about to end (a scenario's): the window keeps what it has */
        pthread_mutex_lock(&w->smu);
        w->s = NULL;
        pthread_mutex_unlock(&w->smu);
        if (w->tapped) /* the session is freed next: scw_close must not touch it */
            sco_tap_detach(&w->tap);
        return 0;
    }
    if (w->tapped)
        return EK3_EBUSY;
    unsigned n = s->g.o.modules;
    if (scw_sel_check(w->o.sel, n, w->why, sizeof w->why))
        return EK3_ERANGE;
    ses_mod_snap *m = calloc(n, sizeof *m);
    if (!m)
        return EK3_ENOSPC;
    int rc = sco_tap_init(&w->tap, s, 0, w->o.every);
    rc = rc ? rc : sco_tap_attach(&w->tap);
    if (rc) {
        free(m);
        return rc;
    }
    if (w->o.shot_path) {
        w->tap.shot_t = w->o.shot_t;
        atomic_store(&w->tap.shot_wait, 1);
    }
    sco_layout_of(w->o.w, w->o.h, n, &w->lay);
    w->i_rated = s->kc.i_max > 0 ? s->kc.i_max : 4.0;
    for (unsigned j = 0; j < SCO_SEL; j++) {
        w->sel[j] = w->o.sel[j] >= 1 && (unsigned)w->o.sel[j] <= n ? w->o.sel[j] : 0;
        atomic_store(&w->tap.sel[j], w->sel[j]);
    }
    pthread_mutex_lock(&w->smu);
    w->mods = m;
    w->n = n;
    w->tapped = 1;
    w->s = s;
    pthread_mutex_unlock(&w->smu);
    if (w->quit) /* closed before the rack was built */
        sco_tap_quit(&w->tap);
    return 0;
}

int scw_sel_check(const int *sel, unsigned modules, char *err, size_t cap)
{
    for (unsigned j = 0; j < SCO_SEL; j++)
        if (sel[j] && (sel[j] < 1 || (unsigned)sel[j] > modules)) {
            snprintf(err, cap, "--scope-select: slot %d is not in the rack: it has %u module%s (slots 1 to %u)", sel[j],
                     modules, modules == 1 ? "" : "s", modules);
            return EK3_ERANGE;
        }
    return 0;
}

const char *scw_why(const scw *w)
{
    return w->why;
}

/* ---- drawing helpers ---- */

static void scw_color(scw *w, sco_rgb c)
{
    SDL_SetRenderDrawColor(w->ren, c.r, c.g, c.b, 255);
}

static void scw_fill(scw *w, sco_rect r, sco_rgb c)
{
    scw_color(w, c);
    SDL_Rect q = {r.x, r.y, r.w, r.h};
    SDL_RenderFillRect(w->ren, &q);
}

static void scw_frame(scw *w, sco_rect r, sco_rgb c)
{
    scw_color(w, c);
    SDL_Rect q = {r.x, r.y, r.w, r.h};
    SDL_RenderDrawRect(w->ren, &q);
}

/* Text at (x, y) in colour c; returns its width. Textures are kept
 * between frames (most text does not change) and dropped when a frame
 * went by without them. */
__attribute__((format(printf, 5, 6))) static int scw_text(scw *w, int x, int y, sco_rgb c, const char *fmt, ...)
{
    char buf[SCW_TEXT_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!buf[0])
        return 0;
    scw_tex *hit = NULL, *free_slot = NULL;
    for (unsigned i = 0; i < SCW_TEXTS && !hit; i++) {
        scw_tex *e = &w->tex[i];
        if (!e->tx)
            free_slot = free_slot ? free_slot : e;
        else if (e->c.r == c.r && e->c.g == c.g && e->c.b == c.b && !strcmp(e->s, buf))
            hit = e;
    }
    if (!hit) {
        SDL_Surface *sf = TTF_RenderUTF8_Blended(w->font, buf, (SDL_Color){c.r, c.g, c.b, 255});
        if (!sf)
            return 0;
        SDL_Texture *tx = SDL_CreateTextureFromSurface(w->ren, sf);
        int tw = sf->w, th = sf->h;
        SDL_FreeSurface(sf);
        if (!tx)
            return 0;
        if (!free_slot) { /* full: drawn once and let go */
            SDL_Rect d = {x, y, tw, th};
            SDL_RenderCopy(w->ren, tx, NULL, &d);
            SDL_DestroyTexture(tx);
            return tw;
        }
        hit = free_slot;
        *hit = (scw_tex){.tx = tx, .w = tw, .h = th, .c = c};
        snprintf(hit->s, sizeof hit->s, "%s", buf);
    }
    hit->used = w->frames;
    SDL_Rect d = {x, y, hit->w, hit->h};
    SDL_RenderCopy(w->ren, hit->tx, NULL, &d);
    return hit->w;
}

/* Let go of the texts the last frame did not draw. */
static void scw_text_sweep(scw *w)
{
    for (unsigned i = 0; i < SCW_TEXTS; i++)
        if (w->tex[i].tx && w->tex[i].used + 1 < w->frames) {
            SDL_DestroyTexture(w->tex[i].tx);
            w->tex[i].tx = NULL;
        }
}

/* ---- the data ---- */

static void scw_drain(scw *w)
{
    if (!w->tapped)
        return;
    sco_row r;
    while (sco_ring_pop(&w->tap.rows, &r))
        sco_hist_push(&w->hist, &r);
    sco_frame f;
    while (sco_ring_pop(&w->tap.frames, &f)) {
        w->fr[w->fr_head] = f;
        w->fr_head = (w->fr_head + 1) % SCW_FRAMES;
        if (w->fr_n < SCW_FRAMES)
            w->fr_n++;
    }
    sco_ev e;
    while (sco_ring_pop(&w->tap.evs, &e)) {
        if (w->nev == SCW_EV_MAX) {
            memmove(w->ev, w->ev + 1, (SCW_EV_MAX - 1) * sizeof *w->ev);
            w->nev--;
        }
        w->ev[w->nev++] = e;
    }
    pthread_mutex_lock(&w->smu);
    if (w->s) {
        w->snap.mod = w->mods;
        if (ses_snapshot(w->s, &w->snap))
            w->have_snap = 1;
    }
    pthread_mutex_unlock(&w->smu);
}

/* The newest time held, s (0: none). */
static double scw_newest(const scw *w)
{
    return w->hist.n ? sco_hist_at(&w->hist, w->hist.n - 1)->t : 0;
}

/* The time window to draw: roll (the newest, less the pan) or the last
 * trigger with its whole window held (a quarter of it before). */
static void scw_window(scw *w)
{
    double end = scw_newest(w) - w->pan;
    w->x0 = end - w->span;
    w->x1 = end;
    if (w->trig_kind == SCW_ROLL || !w->hist.n)
        return;
    /* search the last four spans */
    size_t i0 = sco_hist_find(&w->hist, end - 4 * w->span), n = w->hist.n - i0;
    if (n < 3)
        return;
    double *v = malloc(n * sizeof *v);
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        v[i] = sco_chan(sco_hist_at(&w->hist, i0 + i), w->active);
    double dt = RIG_PERIOD_NS * 1e-9 * (w->o.every ? w->o.every : 1);
    size_t pre = (size_t)(w->span * 0.25 / dt), post = (size_t)(w->span * 0.75 / dt);
    long k = sco_trig_find(v, n, (sco_trig_kind)w->trig_kind, w->level, pre, post < n ? post : n - 1);
    free(v);
    if (k >= 0) {
        double tt = sco_hist_at(&w->hist, i0 + (size_t)k)->t;
        w->x0 = tt - 0.25 * w->span;
        w->x1 = tt + 0.75 * w->span;
    }
}

/* The range of channel ch over the window to draw it in: lo, hi (its
 * data's, 5 % wider each side, a span of at least a little); *dlo, *dhi
 * (when not NULL) the data's own extremes, what the legend says (it read
 * a 0 W load as -1u .. 1u W and a bus from 0 V as -12.7 V). 0, or -1
 * when it has no number there. */
static int scw_range(const scw *w, unsigned ch, double *lo, double *hi, double *dlo, double *dhi)
{
    size_t a = sco_hist_find(&w->hist, w->x0), b = sco_hist_find(&w->hist, w->x1 + 1e-12);
    double l = INFINITY, h = -INFINITY;
    for (size_t i = a; i < b; i++) {
        double v = sco_chan(sco_hist_at(&w->hist, i), ch);
        if (!isnan(v)) {
            l = fmin(l, v);
            h = fmax(h, v);
        }
    }
    if (!(l <= h))
        return -1;
    double pad = fmax((h - l) * 0.05, fmax(fabs(h) * 1e-3, 1e-6));
    *lo = l - pad;
    *hi = h + pad;
    if (dlo)
        *dlo = l, *dhi = h;
    return 0;
}

static int scw_tx(const scw *w, sco_rect r, double t)
{
    return r.x + (int)lround((t - w->x0) / (w->x1 - w->x0) * (r.w - 1));
}

static int scw_vy(sco_rect r, double v, double lo, double hi)
{
    double f = (v - lo) / (hi - lo);
    return r.y + r.h - 1 - (int)lround(f * (r.h - 1));
}

/* One channel as a trace: per pixel column its min..max, joined. */
static void scw_trace(scw *w, sco_rect r, unsigned ch, double lo, double hi)
{
    const sco_chinfo *ci = sco_ch(ch);
    scw_color(w, (sco_rgb){ci->r, ci->g, ci->b});
    size_t i = sco_hist_find(&w->hist, w->x0), b = sco_hist_find(&w->hist, w->x1 + 1e-12);
    int px = -1, py = 0;
    while (i < b) {
        int x = scw_tx(w, r, sco_hist_at(&w->hist, i)->t);
        double mn = INFINITY, mx = -INFINITY, last = NAN;
        for (; i < b && scw_tx(w, r, sco_hist_at(&w->hist, i)->t) == x; i++) {
            double v = sco_chan(sco_hist_at(&w->hist, i), ch);
            if (isnan(v))
                continue;
            mn = fmin(mn, v);
            mx = fmax(mx, v);
            last = v;
        }
        if (isnan(last)) {
            px = -1;
            continue;
        }
        int y0 = scw_vy(r, mn, lo, hi), y1 = scw_vy(r, mx, lo, hi), yl = scw_vy(r, last, lo, hi);
        if (px >= 0)
            SDL_RenderDrawLine(w->ren, px, py, x, y0 < py ? y0 : y1 > py ? y1 : py);
        SDL_RenderDrawLine(w->ren, x, y0, x, y1);
        px = x;
        py = yl;
    }
}

static void scw_markers(scw *w, sco_rect r, int labels)
{
    /* the labels of markers close together (six faults at one instant)
     * stack upwards, one row each, up to half the panel's height */
    int px = -1000, row = 0, rows = w->fh > 0 ? r.h / 2 / w->fh : 1;
    for (size_t j = 0; j < w->nev; j++) {
        const sco_ev *e = &w->ev[j];
        if (e->t < w->x0 || e->t > w->x1)
            continue;
        int x = scw_tx(w, r, e->t);
        row = abs(x - px) < 40 ? row + 1 : 0;
        px = x;
        sco_rgb c = sco_ev_rgb((sco_ev_kind)e->kind);
        scw_color(w, c);
        SDL_RenderDrawLine(w->ren, x, r.y, x, r.y + r.h - 1);
        if (!labels || row >= rows)
            continue;
        int y = r.y + r.h - w->fh - 2 - row * w->fh;
        if (e->slot)
            scw_text(w, x + 2, y, c, "%c%u", sco_ev_letter((sco_ev_kind)e->kind), e->slot);
        else
            scw_text(w, x + 2, y, c, "%c", sco_ev_letter((sco_ev_kind)e->kind));
    }
}

static const sco_rgb scw_fg = {210, 210, 210}, scw_dim = {120, 120, 130}, scw_panel = {24, 24, 30},
                     scw_bg = {12, 12, 16}, scw_grid = {45, 45, 55};

static void scw_grid_lines(scw *w, sco_rect r)
{
    scw_color(w, scw_grid);
    for (int k = 1; k < 10; k++) {
        int x = r.x + r.w * k / 10;
        SDL_RenderDrawLine(w->ren, x, r.y, x, r.y + r.h - 1);
    }
    for (int k = 1; k < 8; k++) {
        int y = r.y + r.h * k / 8;
        SDL_RenderDrawLine(w->ren, r.x, y, r.x + r.w - 1, y);
    }
}

static const char *scw_trig_name(int k)
{
    return k == SCO_T_RISING ? "rising" : k == SCO_T_FALLING ? "falling" : k == SCO_T_EITHER ? "either" : "level";
}

static void scw_draw_map(scw *w)
{
    const sco_layout *l = &w->lay;
    scw_text(w, l->map.x, l->map.y - 18, scw_fg, "rack: %u modules, by %s (c)", w->n, sco_mode_name(w->cmode));
    if (!w->have_snap) {
        scw_text(w, l->map.x, l->map.y + 4, scw_dim, "waiting for the rack...");
        return;
    }
    double imax = w->i_rated;
    for (unsigned k = 1; k <= w->n; k++) {
        sco_rect r;
        sco_slot_rect(l, k, &r);
        const ses_mod_snap *m = &w->mods[k - 1];
        scw_fill(w, r, sco_slot_rgb(w->cmode, m, imax));
        if (m->fault.ns >= 0 && m->state != SES_M_FAULT && r.w >= 6) /* a FAULT_ALERT seen: a red corner */
            scw_fill(w, (sco_rect){r.x + r.w - 4, r.y, 4, 4}, sco_state_rgb(SES_M_FAULT));
        if (w->snap.swarm.leader == k)
            scw_frame(w, (sco_rect){r.x - 1, r.y - 1, r.w + 2, r.h + 2}, (sco_rgb){255, 255, 255});
        for (unsigned j = 0; j < SCO_SEL; j++)
            if (w->sel[j] == (int)k)
                scw_frame(w, (sco_rect){r.x + 1, r.y + 1, r.w - 2, r.h - 2}, (sco_rgb){255, 255, 0});
    }
    /* the key and the selected modules */
    int y = l->map.y + l->map.h + 8, x = l->map.x;
    static const unsigned keyst[] = {SES_M_RUN, SES_M_START, SES_M_OFF, SES_M_FAULT, SES_M_PARKED, SES_M_PULLED};
    for (size_t j = 0; j < sizeof keyst / sizeof keyst[0]; j++) {
        scw_fill(w, (sco_rect){x, y + 3, 9, 9}, sco_state_rgb(keyst[j]));
        x += 12 + scw_text(w, x + 12, y, scw_fg, "%s", ses_mstate_name(keyst[j])) + 6;
        if (x > l->map.x + l->map.w - 60 && j + 1 < sizeof keyst / sizeof keyst[0]) {
            x = l->map.x;
            y += w->fh;
        }
    }
    if (w->cmode != SCO_BY_STATE) { /* the ramp's ends */
        y += w->fh;
        ses_mod_snap lo = {.present = 1, .state = SES_M_RUN, .io = 0, .tja = 25, .tjb = 25}, hi = lo;
        hi.io = imax;
        hi.tja = hi.tjb = 125;
        x = l->map.x;
        scw_fill(w, (sco_rect){x, y + 3, 9, 9}, sco_slot_rgb(w->cmode, &lo, imax));
        x += 12 + scw_text(w, x + 12, y, scw_fg, w->cmode == SCO_BY_CURRENT ? "0 A" : "25 C") + 6;
        scw_fill(w, (sco_rect){x, y + 3, 9, 9}, sco_slot_rgb(w->cmode, &hi, imax));
        if (w->cmode == SCO_BY_CURRENT)
            scw_text(w, x + 12, y, scw_fg, "%.2f A (the limit)", imax);
        else
            scw_text(w, x + 12, y, scw_fg, "125 C (Tj, the hotter)");
    }
    y += w->fh + 4;
    if (w->snap.swarm.leader)
        scw_text(w, l->map.x, y, scw_fg, "leader: slot %u (white frame), term %u", w->snap.swarm.leader,
                 w->snap.swarm.term);
    else /* it read "none 0 (white frame)": no slot has the frame */
        scw_text(w, l->map.x, y, scw_fg, "leader: none yet, term %u", w->snap.swarm.term);
    y += w->fh;
    unsigned faulted = 0, parked = 0, running = 0;
    for (unsigned k = 0; k < w->n; k++) {
        faulted += w->mods[k].state == SES_M_FAULT;
        parked += w->mods[k].parked;
        running += w->mods[k].running;
    }
    scw_text(w, l->map.x, y, scw_fg, "running %u  faulted %u  parked %u  online %u", running, faulted, parked,
             w->snap.online);
    y += w->fh + 4;
    for (unsigned j = 0; j < SCO_SEL; j++) {
        if (!w->sel[j])
            continue;
        const ses_mod_snap *m = &w->mods[w->sel[j] - 1];
        const sco_chinfo *ci = sco_ch(SCO_C_SEL0 + 2 * j);
        scw_text(w, l->map.x, y, (sco_rgb){ci->r, ci->g, ci->b}, "sel%u slot %d: %s %.1f A %.1f V Tj %.1f C rst %u",
                 j + 1, w->sel[j], ses_mstate_name(m->state), m->io, m->vo, fmax(m->tja, m->tjb), m->resets);
        y += w->fh;
    }
    if (!w->sel[0])
        scw_text(w, l->map.x, y, scw_dim, "click a slot: its current and Tj join the waveforms");
}

static void scw_draw_wave(scw *w)
{
    sco_rect full = w->lay.wave;
    scw_fill(w, full, scw_panel);
    double lo[SCO_NCH], hi[SCO_NCH], dlo[SCO_NCH], dhi[SCO_NCH];
    int has[SCO_NCH], nleg = 0;
    for (unsigned ch = 0; ch < SCO_NCH; ch++) {
        has[ch] = (w->shown >> ch & 1) && !scw_range(w, ch, &lo[ch], &hi[ch], &dlo[ch], &dhi[ch]);
        nleg += has[ch];
    }
    /* the legend in a strip of its own above the plot (columns of 330 px
     * left of the time span's label), the traces below it */
    int cols = full.w > 570 ? (full.w - 240) / 330 : 1, rows = (nleg + cols - 1) / cols;
    int strip = (rows ? rows : 1) * w->fh + 4;
    if (strip > full.h / 2)
        strip = full.h / 2;
    sco_rect r = {full.x, full.y + strip, full.w, full.h - strip};
    scw_color(w, scw_grid);
    SDL_RenderDrawLine(w->ren, r.x, r.y, r.x + r.w - 1, r.y);
    scw_grid_lines(w, r);
    for (unsigned ch = 0; ch < SCO_NCH; ch++) {
        if (!has[ch])
            continue;
        scw_trace(w, r, ch, lo[ch], hi[ch]);
        const sco_chinfo *ci = sco_ch(ch);
        if (ch == w->active && w->trig_kind != SCW_ROLL) { /* the trigger level */
            int y = scw_vy(r, w->level, lo[ch], hi[ch]);
            if (y >= r.y && y < r.y + r.h) {
                scw_color(w, (sco_rgb){ci->r, ci->g, ci->b});
                for (int x = r.x; x < r.x + r.w; x += 6)
                    SDL_RenderDrawLine(w->ren, x, y, x + 2, y);
            }
        }
    }
    int k = 0;
    for (unsigned ch = 0; ch < SCO_NCH; ch++) {
        if (!has[ch])
            continue;
        const sco_chinfo *ci = sco_ch(ch);
        /* the range with an SI prefix (154.5k W, not 1.545e+05) */
        char a[32], b[32];
        double st = splot_step(dlo[ch], dhi[ch], 1000), mag = fmax(fabs(dlo[ch]), fabs(dhi[ch]));
        splot_tick_label(a, sizeof a, dlo[ch], st, mag);
        splot_tick_label(b, sizeof b, dhi[ch], st, mag);
        scw_text(w, full.x + 4 + (k / rows) * 330, full.y + 2 + (k % rows) * w->fh, (sco_rgb){ci->r, ci->g, ci->b},
                 "%s%s  %s .. %s %s", ch == w->active ? "> " : "  ", ci->name, a, b, ci->unit);
        k++;
    }
    scw_markers(w, r, 1);
    if (w->trig_kind != SCW_ROLL) { /* the trigger instant */
        int x = r.x + r.w / 4;
        scw_color(w, scw_fg);
        SDL_RenderDrawLine(w->ren, x, r.y, x, r.y + 6);
    }
    for (int c = 0; c < 2; c++) {
        if (isnan(w->cur[c]) || w->cur[c] < w->x0 || w->cur[c] > w->x1)
            continue;
        int x = scw_tx(w, r, w->cur[c]);
        scw_color(w, (sco_rgb){230, 230, 230});
        for (int y = r.y; y < r.y + r.h; y += 4)
            SDL_RenderDrawLine(w->ren, x, y, x, y + 1);
        scw_text(w, x + 2, r.y + r.h / 2, scw_fg, "%c", 'A' + c);
    }
    scw_text(w, full.x + full.w - 230, full.y + 2, scw_dim, "%.6f .. %.6f s", w->x0, w->x1);
    scw_frame(w, full, scw_grid);
}

static void scw_draw_bus(scw *w)
{
    sco_rect r = w->lay.bus;
    scw_fill(w, r, scw_panel);
    scw_trace(w, r, SCO_C_BUSLOAD, 0, 1);
    scw_trace(w, r, SCO_C_TEC, 0, 256);
    scw_trace(w, r, SCO_C_REC, 0, 256);
    scw_markers(w, r, 0);
    /* the frames by type: a row of ticks per type, newest backwards to the window's start */
    static const uint8_t rows[] = {0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0xF, SCO_FRAME_ERROR};
    int row_of[SCO_FRAME_ERROR + 1], rh = 7, y0 = r.y + w->fh + 6;
    for (unsigned k = 0; k <= SCO_FRAME_ERROR; k++)
        row_of[k] = -1;
    for (unsigned k = 0; k < sizeof rows; k++)
        row_of[rows[k]] = (int)k;
    unsigned seen[SCO_FRAME_ERROR + 1] = {0};
    for (size_t j = 0; j < w->fr_n; j++) {
        const sco_frame *f = &w->fr[(w->fr_head + SCW_FRAMES - 1 - j) % SCW_FRAMES];
        if (f->t < w->x0)
            break;
        if (f->t > w->x1 || f->type > SCO_FRAME_ERROR || row_of[f->type] < 0)
            continue;
        seen[f->type]++;
        int x = scw_tx(w, r, f->t), y = y0 + row_of[f->type] * rh;
        scw_color(w, sco_frame_rgb(f->type));
        SDL_RenderDrawLine(w->ren, x, y, x, y + rh - 2);
    }
    int lx = r.x + r.w - 8 * 70;
    for (unsigned k = 0; k < sizeof rows; k++)
        if (seen[rows[k]] && lx < r.x + r.w - 60) {
            lx += scw_text(w, lx, r.y + r.h - w->fh - 2, sco_frame_rgb(rows[k]), "%s %u", sco_frame_name(rows[k]),
                           seen[rows[k]]) + 10;
        }
    if (w->hist.n) {
        const sco_row *z = sco_hist_at(&w->hist, w->hist.n - 1);
        size_t a = sco_hist_find(&w->hist, z->t - 0.1);
        const sco_row *y = sco_hist_at(&w->hist, a);
        double dt = z->t - y->t, fps = dt > 0 ? (z->v[SCO_C_FRAMES] - y->v[SCO_C_FRAMES]) / dt : 0;
        const sco_chinfo *bl = sco_ch(SCO_C_BUSLOAD), *te = sco_ch(SCO_C_TEC), *re = sco_ch(SCO_C_REC);
        int x = r.x + 4;
        x += scw_text(w, x, r.y + 2, scw_fg, "CAN-FD  ") ;
        x += scw_text(w, x, r.y + 2, (sco_rgb){bl->r, bl->g, bl->b}, "load %.1f %%  ", 100 * z->v[SCO_C_BUSLOAD]);
        x += scw_text(w, x, r.y + 2, (sco_rgb){te->r, te->g, te->b}, "TEC %.0f  ", z->v[SCO_C_TEC]);
        x += scw_text(w, x, r.y + 2, (sco_rgb){re->r, re->g, re->b}, "REC %.0f  ", z->v[SCO_C_REC]);
        scw_text(w, x, r.y + 2, scw_fg, "frames %.0f (%.0f/s)  error frames %.0f", z->v[SCO_C_FRAMES], fps,
                 z->v[SCO_C_ERRORS]);
    }
    scw_frame(w, r, scw_grid);
}

static void scw_draw_status(scw *w, double fps)
{
    sco_rect r = w->lay.status;
    int y = r.y + 2;
    const sco_chinfo *ac = sco_ch(w->active);
    char trig[120];
    if (w->trig_kind == SCW_ROLL)
        snprintf(trig, sizeof trig, "roll");
    else
        snprintf(trig, sizeof trig, "trig %s %s @ %.4g %s", scw_trig_name(w->trig_kind), ac->name, w->level, ac->unit);
    int ended = atomic_load(&w->done);
    char rate[24] = "fps --"; /* not measured yet (its first half second): not "0 fps" */
    if (fps >= 0)
        snprintf(rate, sizeof rate, "%.0f fps", fps);
    scw_text(w, 6, y, scw_fg, "t %.4f s  %s  %s  span %.4g ms%s  dropped %llu  %s", scw_newest(w),
             ended       ? "ENDED"
             : w->paused ? "PAUSED"
                         : "RUNNING",
             trig, w->span * 1e3, w->pan > 0 ? " (panned)" : "",
             w->tapped ? (unsigned long long)sco_ring_dropped(&w->tap.rows) : 0ull, rate);
    y += w->fh + 2;
    if (!isnan(w->cur[0]) && !isnan(w->cur[1])) {
        double a = fmin(w->cur[0], w->cur[1]), b = fmax(w->cur[0], w->cur[1]);
        size_t i0 = sco_hist_find(&w->hist, a), i1 = sco_hist_find(&w->hist, b + 1e-12);
        sco_stat st = {0};
        if (i1 > i0) {
            size_t m = i1 - i0;
            double *tt = malloc(m * sizeof *tt), *vv = malloc(m * sizeof *vv);
            if (tt && vv) {
                for (size_t i = 0; i < m; i++) {
                    tt[i] = sco_hist_at(&w->hist, i0 + i)->t;
                    vv[i] = sco_chan(sco_hist_at(&w->hist, i0 + i), w->active);
                }
                sco_stats(tt, vv, m, &st);
            }
            free(tt);
            free(vv);
        }
        scw_text(w, 6, y, scw_fg, "A..B dt %.4g ms  %s: mean %.5g  rms %.5g  p-p %.5g %s", (b - a) * 1e3, ac->name,
                 st.mean, st.rms, st.p2p, ac->unit);
    } else {
        scw_text(w, 6, y, scw_dim,
                 "space pause  n step  +/- zoom  <- -> pan  t trigger  [ ] level  a channel  1-0 traces  c colour  "
                 "click: slot / cursor A, B (right)  s shot  q quit");
    }
}

static void scw_render(scw *w, double fps)
{
    scw_color(w, scw_bg);
    SDL_RenderClear(w->ren);
    if (!w->tapped) {
        scw_text(w, 20, 20, scw_fg, "ek3 scope: waiting for the rack...");
        return;
    }
    scw_window(w);
    scw_draw_map(w);
    scw_draw_wave(w);
    scw_draw_bus(w);
    scw_draw_status(w, fps);
}

/* ---- screenshots ---- */

int scw_png_write(const char *path, const unsigned char *rgb, int wd, int ht, int stride)
{
    if (!path || !rgb || wd <= 0 || ht <= 0)
        return EK3_EINVAL;
    FILE *f = fopen(path, "wb");
    if (!f)
        return EK3_EIO;
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = p ? png_create_info_struct(p) : NULL;
    errno = 0;
    if (!p || !info || setjmp(png_jmpbuf(p))) {
        int e = errno; /* the write's own (ENOSPC on a full disk) */
        png_destroy_write_struct(&p, &info);
        fclose(f);
        errno = e ? e : EIO;
        return EK3_EIO;
    }
    png_init_io(p, f);
    png_set_IHDR(p, info, (png_uint_32)wd, (png_uint_32)ht, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(p, info);
    for (int y = 0; y < ht; y++)
        png_write_row(p, (png_const_bytep)(rgb + (size_t)y * (size_t)stride));
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    int bad = ferror(f);
    if (fclose(f) || bad)
        return EK3_EIO;
    return 0;
}

static int scw_shot(scw *w, const char *path)
{
    int wd = w->o.w, ht = w->o.h;
    unsigned char *px = malloc((size_t)wd * (size_t)ht * 3);
    if (!px) {
        snprintf(w->shot_err, sizeof w->shot_err, "%s: out of memory", path);
        return EK3_ENOSPC;
    }
    int rc = SDL_RenderReadPixels(w->ren, NULL, SDL_PIXELFORMAT_RGB24, px, wd * 3) ? EK3_EIO : 0;
    if (rc)
        snprintf(w->shot_err, sizeof w->shot_err, "%s: cannot read the window: %s", path, SDL_GetError());
    errno = 0;
    if (!rc && (rc = scw_png_write(path, px, wd, ht, wd * 3)))
        snprintf(w->shot_err, sizeof w->shot_err, "%s: %s", path, errno ? strerror(errno) : "write error");
    free(px);
    if (!rc)
        fprintf(scw_notes(w), "ek3 scope: screenshot %s at %.4f s\n", path, scw_newest(w));
    else
        fprintf(scw_notes(w), "ek3 scope: screenshot not written: %s\n", w->shot_err);
    return rc;
}

/* ---- keys and the mouse ---- */

static void scw_key(scw *w, SDL_Keycode k, Uint16 mod)
{
    switch (k) {
    case SDLK_SPACE:
        w->paused = !w->paused;
        if (w->tapped)
            sco_tap_pause(&w->tap, w->paused);
        break;
    case SDLK_n:
    case SDLK_PERIOD:
        if (w->paused && w->tapped)
            sco_tap_step(&w->tap, mod & KMOD_SHIFT ? 10 : 1);
        break;
    case SDLK_PLUS:
    case SDLK_EQUALS:
    case SDLK_KP_PLUS:
        w->span = fmax(w->span / 2, 10 * RIG_PERIOD_NS * 1e-9);
        break;
    case SDLK_MINUS:
    case SDLK_KP_MINUS:
        w->span = fmin(w->span * 2, SCW_HIST_S / 2);
        break;
    case SDLK_LEFT:
        w->pan = fmin(w->pan + w->span / 4, fmax(0, scw_newest(w) - w->span));
        break;
    case SDLK_RIGHT:
        w->pan = fmax(0, w->pan - w->span / 4);
        break;
    case SDLK_HOME:
        w->pan = 0;
        break;
    case SDLK_c:
        w->cmode = (sco_color_mode)((w->cmode + 1) % SCO_NMODES);
        break;
    case SDLK_t:
        w->trig_kind = w->trig_kind == SCW_ROLL ? SCO_T_RISING : w->trig_kind == SCO_T_LEVEL ? SCW_ROLL : w->trig_kind + 1;
        if (w->trig_kind != SCW_ROLL && !w->level_set) {
            double lo, hi;
            w->level = scw_range(w, w->active, &lo, &hi, NULL, NULL) ? 0 : (lo + hi) / 2;
            w->level_set = 1;
        }
        break;
    case SDLK_LEFTBRACKET:
    case SDLK_RIGHTBRACKET: {
        double lo, hi;
        double step = scw_range(w, w->active, &lo, &hi, NULL, NULL) ? 1 : (hi - lo) / 20;
        w->level += k == SDLK_RIGHTBRACKET ? step : -step;
        w->level_set = 1;
        break;
    }
    case SDLK_a: /* the next channel drawn */
        for (unsigned j = 1; j <= SCO_NCH; j++) {
            unsigned ch = (w->active + j) % SCO_NCH;
            if (w->shown >> ch & 1) {
                w->active = ch;
                break;
            }
        }
        w->level_set = 0;
        break;
    case SDLK_x:
        w->cur[0] = w->cur[1] = NAN;
        break;
    case SDLK_s:
    case SDLK_F12: {
        char path[64];
        snprintf(path, sizeof path, "scope-%03ld.png", ++w->shots);
        scw_render(w, 0);
        scw_shot(w, path);
        break;
    }
    case SDLK_q:
    case SDLK_ESCAPE:
        w->quit = 1;
        if (w->tapped)
            sco_tap_quit(&w->tap);
        break;
    default:
        if (k >= SDLK_0 && k <= SDLK_9) { /* the traces: 1..9, 0 */
            static const uint64_t bits[10] = {
                [1] = 1u << SCO_C_VBUS, [2] = 1u << SCO_C_IBUS, [3] = 1u << SCO_C_PLOAD, [4] = 1u << SCO_C_PIN,
                [5] = 1u << SCO_C_SHARE, [6] = 1ull << SCO_CH_POWER, [7] = 1ull << SCO_CH_EFF,
                [8] = 1u << SCO_C_SEL0 | 1u << (SCO_C_SEL0 + 2) | 1u << (SCO_C_SEL0 + 4) | 1u << (SCO_C_SEL0 + 6),
                [9] = 1u << (SCO_C_SEL0 + 1) | 1u << (SCO_C_SEL0 + 3) | 1u << (SCO_C_SEL0 + 5) | 1u << (SCO_C_SEL0 + 7),
                [0] = 1u << SCO_C_BUSLOAD};
            w->shown ^= bits[k - SDLK_0];
        }
        break;
    }
}

static void scw_click(scw *w, int x, int y, int right)
{
    unsigned k = sco_slot_at(&w->lay, x, y);
    if (k) {
        for (unsigned j = 0; j < SCO_SEL; j++)
            if (w->sel[j] == (int)k) { /* a second click lets it go */
                w->sel[j] = 0;
                atomic_store(&w->tap.sel[j], 0);
                return;
            }
        unsigned j = 0;
        while (j < SCO_SEL && w->sel[j])
            j++;
        if (j == SCO_SEL) { /* full: the oldest goes */
            memmove(w->sel, w->sel + 1, (SCO_SEL - 1) * sizeof *w->sel);
            j = SCO_SEL - 1;
        }
        w->sel[j] = (int)k;
        for (unsigned i = 0; i < SCO_SEL; i++)
            atomic_store(&w->tap.sel[i], w->sel[i]);
        return;
    }
    sco_rect r = w->lay.wave;
    if (x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h)
        w->cur[right] = w->x0 + (double)(x - r.x) / (r.w - 1) * (w->x1 - w->x0);
}

/* ---- the loop ---- */

typedef struct scw_job {
    scw *w;
    int (*fn)(void *);
    void *arg;
} scw_job;

static int scw_never(void)
{
    return 0;
}

static void *scw_worker(void *p)
{
    scw_job *j = p;
    j->w->rc = j->fn(j->arg);
    atomic_store(&j->w->done, 1);
    return NULL;
}

/* The frames until the run is done (fn non-NULL: the worker th runs it)
 * or, without one (the hold), until the window is closed or stop() says so. */
static void scw_frames(scw *w, int (*stop)(void))
{
    /* The window yields to the rack: this thread's nice value (Linux keeps
     * one per thread), not the run's, whose threads exist already. */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 5))
        fprintf(scw_notes(w), "ek3 scope: the window's thread keeps its priority: %s\n", strerror(errno));
    Uint64 f0 = SDL_GetPerformanceCounter(), hz = SDL_GetPerformanceFrequency();
    Uint64 frame_ticks = hz / (Uint64)w->o.fps, next = f0;
    double fps = -1; /* measured over each half second */
    int closed = w->closed;
    long fr0 = 0;
    Uint64 fps_t0 = f0;
    for (;;) {
        SDL_Event e;
        while (SDL_PollEvent(&e)) {
            if (e.type == SDL_QUIT || (e.type == SDL_WINDOWEVENT && e.window.event == SDL_WINDOWEVENT_CLOSE)) {
                closed = w->quit = 1;
                if (w->tapped)
                    sco_tap_quit(&w->tap);
            } else if (e.type == SDL_KEYDOWN) {
                if (e.key.keysym.sym == SDLK_q || e.key.keysym.sym == SDLK_ESCAPE)
                    closed = 1;
                scw_key(w, e.key.keysym.sym, e.key.keysym.mod);
            } else if (e.type == SDL_MOUSEBUTTONDOWN) {
                scw_click(w, e.button.x, e.button.y, e.button.button == SDL_BUTTON_RIGHT);
            }
        }
        int done = stop ? closed || stop() : atomic_load(&w->done);
        Uint64 b0 = SDL_GetPerformanceCounter();
        scw_drain(w);
        if (w->o.keys && w->tapped && w->hist.n) { /* the keys given, once there are rows */
            for (const char *k = w->o.keys; *k; k++)
                scw_key(w, (SDL_Keycode)(unsigned char)*k, 0);
            w->o.keys = NULL;
        }
        if (w->tapped && atomic_load(&w->tap.shot_wait) == 2) {
            scw_drain(w); /* everything up to the shot's quantum */
            scw_render(w, fps);
            w->shot_state = scw_shot(w, w->o.shot_path) ? -1 : 2;
            sco_tap_shot_done(&w->tap);
        } else {
            scw_render(w, fps);
        }
        SDL_RenderPresent(w->ren);
        w->frames++;
        scw_text_sweep(w);
        Uint64 now = SDL_GetPerformanceCounter();
        w->busy_s += (double)(now - b0) / (double)hz;
        if (now - fps_t0 >= hz / 2) {
            fps = (double)(w->frames - fr0) * (double)hz / (double)(now - fps_t0);
            fps_t0 = now;
            fr0 = w->frames;
        }
        if (done)
            break;
        next += frame_ticks;
        if (next > now)
            SDL_Delay((Uint32)((next - now) * 1000 / hz));
        else
            next = now;
    }
    w->closed = closed;
    w->loop_s += (double)(SDL_GetPerformanceCounter() - f0) / (double)hz;
}

int scw_loop(scw *w, int (*fn)(void *arg), void *arg)
{
    scw_job j = {w, fn, arg};
    pthread_t th;
    if (pthread_create(&th, NULL, scw_worker, &j))
        return fn(arg); /* no thread: the run without its window */
    scw_frames(w, NULL);
    pthread_join(th, NULL);
    return w->rc;
}

int scw_hold(scw *w, int (*stop)(void))
{
    if (!w || !w->o.hold || w->closed || (stop && stop()))
        return 0;
    fprintf(scw_notes(w), "ek3 scope: the run is over; the window stays open (--scope-hold) until closed or Ctrl-C\n");
    fflush(stdout); /* the report before the wait */
    fflush(scw_notes(w));
    scw_frames(w, stop ? stop : scw_never);
    return 1;
}

double scw_fps(const scw *w, long *frames, double *frame_s)
{
    if (frames)
        *frames = w->frames;
    if (frame_s)
        *frame_s = w->frames ? w->busy_s / w->frames : 0;
    return w->loop_s > 0 ? w->frames / w->loop_s : 0;
}

int scw_shot_check(scw *w)
{
    if (!w)
        return 0;
    if (w->shot_state == 1) {
        fprintf(scw_notes(w), "ek3 scope: --scope-shot %s: the run ended before %.4f s (at %.4f s); no screenshot\n",
                w->o.shot_path, w->o.shot_t, scw_newest(w));
        w->shot_state = -2; /* told */
    }
    return w->shot_state < 0 ? EK3_EIO : 0;
}

int scw_close(scw *w)
{
    if (!w)
        return 0;
    int rc = scw_shot_check(w);
    long fr;
    double fs, fps = scw_fps(w, &fr, &fs);
    fprintf(scw_notes(w), "ek3 scope: %ld frames, %.1f frames/s, %.2f ms each to draw, %llu rows dropped\n", fr, fps,
            fs * 1e3,
            w->tapped ? (unsigned long long)sco_ring_dropped(&w->tap.rows) : 0ull);
    if (w->tapped)
        sco_tap_free(&w->tap);
    free(w->mods);
    free(w->fr);
    sco_hist_free(&w->hist);
    for (unsigned i = 0; i < SCW_TEXTS; i++)
        if (w->tex[i].tx)
            SDL_DestroyTexture(w->tex[i].tx);
    TTF_CloseFont(w->font);
    SDL_DestroyRenderer(w->ren);
    SDL_DestroyWindow(w->win);
    TTF_Quit();
    SDL_Quit();
    pthread_mutex_destroy(&w->smu);
    free(w);
    return rc;
}

void scw_help(FILE *f)
{
    fputs("space        pause / resume the simulation (the run waits only while paused)\n"
          "n or .       one quantum (100 us) while paused; Shift: ten\n"
          "+ / -        zoom in / out in time (halve / double the span)\n"
          "<- / ->      pan back / forward in time; Home: back to live\n"
          "t            trigger: roll, rising, falling, either edge, level, roll ...\n"
          "[ / ]        trigger level down / up (a twentieth of the trace's range)\n"
          "a            the active channel (trigger source, cursor figures): the next trace shown\n"
          "1..9, 0      traces on / off: 1 bus.v, 2 bus.i, 3 load power, 4 rack input power,\n"
          "             5 sharing error, 6 math V x I, 7 math efficiency, 8 selected iout, 9 selected Tj,\n"
          "             0 CAN-FD bus load\n"
          "c            colour the rack map by state, current or temperature\n"
          "click        a slot: select it (up to 4; again: let it go); the waveforms: cursor A\n"
          "right click  the waveforms: cursor B (A..B: delta-t, mean, RMS, peak-to-peak of the active channel)\n"
          "x            clear the cursors\n"
          "s or F12     screenshot: scope-NNN.png in the working directory\n"
          "q, Escape    stop the run (as Ctrl-C: the report is written) and close\n",
          f);
}

/* ---- the cost to the rack (ek3 bench scope) ---- */

static ses scw_bench_s;

unsigned scw_threads(void)
{
    unsigned ncpu = rig_cpus();
    return ncpu > 1 ? ncpu - 1 : 1;
}

typedef struct scw_bench_run {
    ses *s;
    int64_t t_ns;
} scw_bench_run;

static int scw_bench_fn(void *p)
{
    scw_bench_run *b = p;
    return ses_run_to(b->s, b->t_ns);
}

typedef struct scw_timed {
    sco_tap *tap;
    double in_s;  /* wall seconds inside the tap */
} scw_timed;

static double scw_wall(void);

static void scw_timed_tap(ses *s, void *ctx)
{
    scw_timed *tt = ctx;
    double t0 = scw_wall();
    sco_tap_fn(s, tt->tap);
    tt->in_s += scw_wall() - t0;
}

static double scw_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One run of the 84-module rack to t_s: mode 0 bare, 1 the tap alone (its
 * rings never drained), 2 the tap and the window at 60 frames/s. The wall
 * seconds of the run (the rack's build left out), or -1 with err. */
static double scw_bench_one(int mode, double t_s, double *fig, char *err, size_t cap)
{
    ses *s = &scw_bench_s;
    ses_opts so;
    /* scw_threads() in all three, as ek3 rack --scope: the cost is the scope's alone */
    sco_plain_rack(&so, 84, (rack_load){.kind = RACK_LOAD_CP, .p_w = 150e3, .v_min = 100}, scw_threads());
    int rc = ses_init(s, &so);
    if (rc) {
        snprintf(err, cap, "cannot build the rack: %s", ek3_strerror(rc));
        return -1;
    }
    ses_event ev = {.kind = SES_EV_START, .at_s = SES_STATION_START_NS * 1e-9, .by_s = 0.1};
    ses_add_event(s, &ev);
    ev = (ses_event){.kind = SES_EV_LOAD, .at_s = 0.1, .load = so.r.load, .ramp_s = 0.05};
    ses_add_event(s, &ev);
    scw_bench_run b = {s, (int64_t)llround(t_s * 1e9)};
    sco_tap tap;
    scw *w = NULL;
    FILE *null = fopen("/dev/null", "w");
    double t0 = scw_wall(), wall = -1;
    if (mode == 0) {
        ses_run_to(s, b.t_ns);
        wall = scw_wall() - t0;
    } else if (mode == 1) {
        scw_timed tt = {&tap, 0};
        if (!(rc = sco_tap_init(&tap, s, 0, 1)) && !(rc = ses_tap_add(s, scw_timed_tap, &tt))) {
            t0 = scw_wall();
            ses_run_to(s, b.t_ns);
            wall = scw_wall() - t0;
            *fig = tt.in_s / (double)s->q; /* s per quantum in the tap */
        }
        if (rc)
            snprintf(err, cap, "the tap: %s", ek3_strerror(rc));
        else
            sco_tap_free(&tap);
    } else {
        scw_opts o = {.notes = null};
        if (!(rc = scw_open(&w, &o, err, cap)) && !(rc = scw_attach(w, s))) {
            t0 = scw_wall();
            scw_loop(w, scw_bench_fn, &b);
            wall = scw_wall() - t0;
            double fs;
            fig[0] = scw_fps(w, NULL, &fs);
            fig[1] = fs;
        } else if (w) {
            snprintf(err, cap, "the tap: %s", ek3_strerror(rc));
        }
        scw_close(w);
    }
    if (null)
        fclose(null);
    ses_finish(s);
    ses_free(s);
    return wall;
}

int scw_bench(FILE *out, double scale, char *err, size_t cap)
{
    /* no display: SDL's dummy driver (a framebuffer in memory) draws the same frames */
    if (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY") && !getenv("SDL_VIDEODRIVER"))
        setenv("SDL_VIDEODRIVER", "dummy", 1);
    enum { K = 5 };
    double t_s = fmax(0.1, 0.4 * scale), wall[3][K], fps[K], frame_s[K], tap_s[K], fig[2];
    for (int k = 0; k < K; k++) /* interleaved, so that the machine's load falls on all three */
        for (int m = 0; m < 3; m++) {
            if ((wall[m][k] = scw_bench_one(m, t_s, fig, err, cap)) < 0)
                return EK3_EIO;
            if (m == 1)
                tap_s[k] = fig[0];
            if (m == 2) {
                fps[k] = fig[0];
                frame_s[k] = fig[1];
            }
        }
    double bare = hst_median(wall[0], K), scoped = hst_median(wall[2], K), q = t_s / (RIG_PERIOD_NS * 1e-9);
    double tap = hst_median(tap_s, K);
    fprintf(out, "scope.rack84.bare_rtf %.6g x\n", t_s / bare);
    fprintf(out, "scope.rack84.scoped_rtf %.6g x\n", t_s / scoped);
    fprintf(out, "scope.tap_us %.6g us/quantum\n", tap * 1e6);
    fprintf(out, "scope.tap_cost %.6g %%\n", 100 * tap * q / bare);
    fprintf(out, "scope.cost %.6g %%\n", 100 * (scoped / bare - 1));
    fprintf(out, "scope.fps %.6g frames/s\n", hst_median(fps, K));
    fprintf(out, "scope.frame_ms %.6g ms\n", 1e3 * hst_median(frame_s, K));
    return 0;
}
