/* report.c - the report of a rack run from a session's record and
 * snapshot (report.h). */
#include "report.h"

#include "raft.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "can_id.h"
#include "cli.h"
#include "ek3_err.h"
#include "fwinst.h"
#include "msg.h"
#include "sig.h"
#include "splot.h"
#include "trc.h"

static int rep_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The last snapshot, into an array the caller frees (NULL: memory). */
static ses_mod_snap *rep_snap(ses *s, ses_snap *sn)
{
    memset(sn, 0, sizeof *sn);
    sn->mod = calloc(s->g.o.modules ? s->g.o.modules : 1, sizeof *sn->mod);
    if (sn->mod)
        ses_snapshot(s, sn);
    return sn->mod;
}

/* The slots k + 1 with in[k] set, as ranges ("1-3,5,7-9") into buf
 * (cap bytes; "..." when cut). Returns buf. */
static char *rep_slot_ranges(char *buf, size_t cap, const unsigned char *in, unsigned n)
{
    size_t o = 0;
    buf[0] = 0;
    for (unsigned k = 0; k < n; k++) {
        if (!in[k])
            continue;
        unsigned e = k;
        while (e + 1 < n && in[e + 1])
            e++;
        int w = e > k ? snprintf(buf + o, cap - o, "%s%u-%u", o ? "," : "", k + 1, e + 1)
                      : snprintf(buf + o, cap - o, "%s%u", o ? "," : "", k + 1);
        if (w < 0 || (size_t)w >= cap - o) {
            if (cap > 4)
                snprintf(buf + (o + 4 < cap ? o : cap - 4), 4, "...");
            break;
        }
        o += (size_t)w;
        k = e;
    }
    return buf;
}

/* A spread in per cent of a mean current says something only once the
 * mean is a few per cent of a module's rated current: at a soft start or
 * without a load, 0.07 A mean and one module at 0.75 A read 1 100 %. */
#define REP_SPREAD_MIN 0.02 /* of llcc_cfg.i_max */
#define REP_TRIM_MOVING_V 0.1 /* V a balancing trim moves in the window: past it, the swarm is still balancing */
#define REP_APART_V 5.0      /* V: a module not regulating whose V out is this far from the bus's is off it */
#define REP_SPREAD_WHY "the mean is under 2 % of a module's rated current"
#define REP_PREEMPT_MIN 200 /* involuntary switches of the rack's threads in a run: under this, no note */
static int rep_spread_says(const ses *s, double mean_a)
{
    return mean_a >= REP_SPREAD_MIN * s->kc.i_max;
}

/* The swarm's lines: the leader and its checkers, the balancing (the
 * spread droop alone would leave: each module's current less what its
 * trim moved, (trim - mean trim) / R_droop against a stiff bus), the
 * parked modules. */
static int rep_delivers_none(const ses *s, const ses_snap *sn, const ses_mod_snap *m);
static int rep_droop_share(const ses *s, const ses_snap *sn, const ses_mod_snap *m);

/* The means over the run's last SES_WINDOW_NS (or what ran of it: a run
 * stopped inside it), from the snapshot taken at its start (ses.win)
 * and the last (sn): the power out, in, to the load and into the bus
 * node's capacitance, and the spread of the modules sharing by droop at
 * both its ends, the same module throughout (no reset between), when
 * nothing of the run's timeline changed inside it. A run stopped before
 * the window began says so; one planned no longer than it has none. */
static void rep_window(FILE *f, const ses *s, const ses_snap *sn)
{
    const ses_snap *w = &s->win;
    if (!w->seq || sn->t_ns <= w->t_ns || w->n != sn->n) {
        if (s->win_q > 0 && (s->stop_sig || s->stop_why[0]))
            fprintf(f,
                    "over the last %.0f ms: no means: the run stopped at %.4f s, before that window of the planned "
                    "run began (%.4f s)\n",
                    SES_WINDOW_NS * 1e-6, sn->t_ns * 1e-9, s->win_q * (RIG_PERIOD_NS * 1e-9));
        return;
    }
    double t = (sn->t_ns - w->t_ns) * 1e-9, eo = 0, ei = 0, imin = 1e9, imax = 0, isum = 0;
    double v0 = w->vbus, v1 = sn->vbus;
    /* the bus node's stored energy (the bus's capacitance and the outputs on it, as the rack's step lumps them); an
     * output that left the bus inside the window took its energy with it (at its own voltage at the end); one that
     * joined is taken to have joined at the end's voltage (its relay closes once its output is at the bus's) */
    double de = 0.5 * s->g.plant.p.c_bus * (v1 * v1 - v0 * v0);
    unsigned nd = 0, left = 0, present = 0, lim = 0, parked = 0, other = 0;
    double dtrim = 0; /* the most a sharing module's balancing trim moved in the window, V */
    for (unsigned k = 0; k < sn->n; k++) {
        const ses_mod_snap *a = &w->mod[k], *b = &sn->mod[k];
        double cout = s->g.plant.mod[k].p.llc.cout;
        eo += b->e_out - a->e_out, ei += b->e_in - a->e_in;
        present += b->present;
        if (a->on_bus)
            de += 0.5 * cout * ((b->on_bus ? v1 * v1 : b->vo * b->vo) - v0 * v0);
        left += a->on_bus && !b->on_bus;
        if (!rep_droop_share(s, w, a) || !rep_droop_share(s, sn, b) || a->resets != b->resets) {
            /* why not (in its slot at the end): a limit, parked, or else (starting, tripped, reset, off the bus) */
            if (b->present)
                a->limited || b->limited ? lim++ : a->parked || b->parked ? parked++ : other++;
            continue;
        }
        double i = (b->q_out - a->q_out) / t;
        nd++, imin = fmin(imin, i), imax = fmax(imax, i), isum += i;
        dtrim = fmax(dtrim, fabs((double)b->trim - a->trim));
    }
    double pl = (sn->e_load - w->e_load) / t, pc = de / t, ps = (sn->e_step - w->e_step) / t;
    fprintf(f,
            "over the last %.0f ms (means; the lines above are the last quantum's): modules deliver %.2f kW from "
            "%.2f kW in, the load takes %.2f kW",
            t * 1e3, eo / t / 1e3, ei / t / 1e3, pl / 1e3);
    if (fabs(pc) >= 5.0 || fabs(eo / t - pl) >= 10.0) /* shown once it shows at 10 W, or the two differ */
        fprintf(f, ", the bus capacitance %.2f kW%s", pc / 1e3,
                left == 1 ? " (with what the output that left the bus took)"
                : left    ? " (with what the outputs that left the bus took)"
                          : "");
    if (ps >= 5.0) /* the bus moved faster than its step resolves: what the step lost, said (rack.h e_step) */
        fprintf(f,
                ", the bus step %.2f kW (the bus moved faster than a %.0f us step resolves: backward Euler loses C "
                "dV^2 / 2 a step)",
                ps / 1e3, RIG_PERIOD_NS * 1e-3);
    /* a change of the timeline inside it (a pull, a fault, a load step or its ramp): not a steady state's means */
    unsigned changes = 0;
    double first = 0;
    for (unsigned i = 0; i < s->nev; i++) {
        const ses_event *e = &s->ev[i];
        int64_t end = e->done_ns + (int64_t)(ses_event_ramp_s(e) * 1e9);
        if (e->done_ns >= 0 && e->done_ns <= sn->t_ns && end > w->t_ns && changes++ == 0)
            first = fmax(e->done_ns, w->t_ns) * 1e-9;
    }
    if (changes) /* a spread across a change mixes two operating points: none given */
        fprintf(f, "; not a steady state's, no sharing spread: %u change%s of the run's timeline in it (from %.4f s)",
                changes, changes == 1 ? "" : "s", first);
    else if (nd >= 2 && rep_spread_says(s, isum / nd)) {
        fprintf(f, "; the %u sharing by droop throughout: %.3f .. %.3f A, spread %.1f %% of mean", nd, imin, imax,
                100 * (imax - imin) / (isum / nd));
        /* the swarm still balancing (after a change before the window): the spread is a drift's mean */
        if (dtrim >= REP_TRIM_MOVING_V)
            fprintf(f, ", the balancing still moving (a trim moved %.2f V in it: %.3f A of droop share)", dtrim,
                    dtrim / s->kc.r_droop);
    } else if (nd >= 2)
        fprintf(f, "; no sharing spread (%s)", REP_SPREAD_WHY);
    else if (present >= 2) {
        char why[96] = "";
        size_t at = 0;
        if (lim)
            at += (size_t)snprintf(why + at, sizeof why - at, "%u at a limit", lim);
        if (parked)
            at += (size_t)snprintf(why + at, sizeof why - at, "%s%u parked", at ? ", " : "", parked);
        if (other)
            snprintf(why + at, sizeof why - at, "%s%u starting, tripped, reset or off the bus", at ? ", " : "", other);
        fprintf(f, "; no sharing spread: %u of the %u in their slots shared by droop throughout (%s at either end)", nd,
                present, why);
    }
    fputc('\n', f);
}

/* Sharing by its droop: in its slot, running, not parked, delivering,
 * not at a limit (a module at one gives what the limit lets it). */
static int rep_droop_share(const ses *s, const ses_snap *sn, const ses_mod_snap *m)
{
    return m->present && m->running && !m->parked && !m->limited && !rep_delivers_none(s, sn, m);
}

static void rep_swarm(FILE *f, const ses *s, const ses_snap *sn)
{
    if (s->g.o.no_swarm) {
        if (s->o.r.no_swarm)
            fprintf(f, "swarm: off (--no-swarm): droop alone, no leader, no balancing, nobody parked\n");
        else
            fprintf(f, "swarm: off: %u modules are more voters than a swarm holds (RAFT_MAX_NODES %u, a rack is "
                       "84): droop alone\n",
                    s->g.o.modules, RAFT_MAX_NODES);
        return;
    }
    const swo_sum *w = &sn->swarm;
    unsigned present = 0;
    for (unsigned k = 0; k < sn->n; k++)
        present += sn->mod[k].present;
    if (w->leader)
        fprintf(f, "swarm: leader module %u, term %u; %u leader%s elected, the first at %.3f s", w->leader, w->term,
                w->leaders, w->leaders == 1 ? "" : "s", w->first_leader_s);
    else if (w->leaders)
        fprintf(f, "swarm: NO LEADER for the last %.3f s (term %u was the last); %u leader%s elected, the first at "
                   "%.3f s",
                w->leaderless_s, w->term, w->leaders, w->leaders == 1 ? "" : "s", w->first_leader_s);
    else
        fprintf(f, present ? "swarm: no leader elected yet" : "swarm: no leader elected (no module in its slot)");
    if (w->failovers == 1) /* one sample: no percentiles */
        fprintf(f, "; 1 failover, %.3f s", w->failover_max_s);
    else if (w->failovers)
        fprintf(f, "; %u failovers, p50 %.3f s, p99 %.3f s, max %.3f s", w->failovers, w->failover_p50_s,
                w->failover_p99_s, w->failover_max_s);
    fprintf(f, "; %u breach%s of election safety, log matching or a committed decision%s%s\n", w->violations,
            w->violations == 1 ? "" : "es", w->first[0] ? ": FIRST " : "", w->first);
    double tsum = 0, tmin = 1e9, tmax = -1e9;
    unsigned n = 0, parked = 0;
    for (unsigned k = 0; k < sn->n; k++) {
        const ses_mod_snap *m = &sn->mod[k];
        if (!m->present || m->external)
            continue;
        if (m->parked) {
            parked++;
            continue;
        }
        if (!m->running || rep_delivers_none(s, sn, m)) /* starting, tripped, or no current: no share to balance */
            continue;
        tsum += m->trim, n++;
        tmin = m->trim < tmin ? m->trim : tmin, tmax = m->trim > tmax ? m->trim : tmax;
    }
    if (n) {
        double tmean = tsum / n, r = s->kc.r_droop > 0 ? s->kc.r_droop : 1, dmin = 1e9, dmax = -1e9, dsum = 0;
        double imin = 1e9, imax = -1e9, isum = 0;
        unsigned nd = 0; /* not at a limit: a module at one gives what it lets, whatever its trim */
        for (unsigned k = 0; k < sn->n; k++) {
            const ses_mod_snap *m = &sn->mod[k];
            if (!m->present || m->external || m->parked || !m->running || rep_delivers_none(s, sn, m) || m->limited)
                continue;
            double d = m->io - (m->trim - tmean) / r;
            dmin = d < dmin ? d : dmin, dmax = d > dmax ? d : dmax, dsum += d;
            imin = m->io < imin ? m->io : imin, imax = m->io > imax ? m->io : imax, isum += m->io;
            nd++;
        }
        double dmean = nd ? dsum / nd : 0, imean = nd ? isum / nd : 0;
        char of[64] = ""; /* the modules the spreads are over, when not all */
        if (nd < n)
            snprintf(of, sizeof of, " over the %u not at a limit", nd);
        if (nd < 2 && nd < n) /* a lone module not at a limit has its spread of 0, as before */
            fprintf(f, "balancing: trims %.2f .. %.2f V; no spread (%u of %u at a limit: no droop share)\n", tmin, tmax,
                    n - nd, n);
        else if (rep_spread_says(s, imean) && rep_spread_says(s, dmean))
            fprintf(f,
                    "balancing: trims %.2f .. %.2f V; spread%s %.1f %% of mean with them, %.1f %% without (droop "
                    "alone: %.3f .. %.3f A, each module's current less its trim's share)\n",
                    tmin, tmax, of, 100 * (imax - imin) / imean, 100 * (dmax - dmin) / dmean, dmin, dmax);
        else
            fprintf(f, "balancing: trims %.2f .. %.2f V; no spread (%s)\n", tmin, tmax, REP_SPREAD_WHY);
    }
    if (parked) {
        char list[400];
        unsigned char *in = calloc(sn->n ? sn->n : 1, 1);
        for (unsigned k = 0; in && k < sn->n; k++)
            in[k] = sn->mod[k].present && sn->mod[k].parked;
        if (in)
            rep_slot_ranges(list, sizeof list, in, sn->n);
        else
            snprintf(list, sizeof list, "(out of memory for the list)");
        free(in);
        fprintf(f, "provisioning: %u module%s parked (standby, N-1 headroom kept): %s\n", parked,
                parked == 1 ? "" : "s", list);
    }
}

/* Where to break line p (n bytes) to fit `width` columns: the last "; "
 * that fits in its second half, else the last ", ", else the last " (",
 * else the last space; *next is where the rest starts. 0: no break. */
static size_t rep_break(const char *p, size_t n, size_t width, size_t *next)
{
    static const char *const seps[] = {"; ", ", ", " ("};
    size_t top = width < n - 1 ? width : n - 1; /* p[top] exists; a cut at i keeps i columns at most */
    for (unsigned j = 0; j < sizeof seps / sizeof seps[0]; j++)
        for (size_t i = top; i >= width / 2 && i > 1; i--)
            if (p[i - 1] == seps[j][0] && p[i] == seps[j][1]) {
                int paren = seps[j][0] == ' '; /* " (": the parenthesis starts the next line */
                *next = paren ? i : i + 1;
                return paren ? i - 1 : i;
            }
    for (size_t i = top; i > 0; i--)
        if (p[i] == ' ') {
            *next = i + 1;
            return i;
        }
    return 0;
}

/* How far rep_fold indents the rest of a line s (len bytes) folded to
 * width: as the line itself is indented (up to half the width), else past
 * its label ("timing: ", a colon before any parenthesis), else 4. */
static size_t rep_indent(const char *s, size_t len, size_t width)
{
    size_t lead = 0;
    while (lead < len && s[lead] == ' ')
        lead++;
    if (lead > 0 && lead <= width / 2)
        return lead;
    const char *c = memchr(s, ':', len), *paren = memchr(s, '(', len);
    if (c && c - s < 24 && (!paren || paren > c) && (size_t)(c - s) + 1 < len && c[1] == ' ')
        return (size_t)(c - s) + 2;
    return 4;
}

/* A table's row or header (two spaces in a row after its indent, as its
 * columns align): folded it would no longer line up, so it stays whole. */
static int rep_table_row(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && s[i] == ' ')
        i++;
    for (; i + 1 < len; i++)
        if (s[i] == ' ' && s[i + 1] == ' ')
            return 1;
    return 0;
}

void rep_fold(FILE *f, const char *s, size_t n, size_t width0)
{
    if (width0 < REP_WIDTH_MIN)
        width0 = REP_WIDTH_MIN;
    const char *end = s + n;
    while (s < end) {
        const char *e = memchr(s, '\n', (size_t)(end - s));
        size_t len = e ? (size_t)(e - s) : (size_t)(end - s);
        size_t ind = rep_indent(s, len, width0), width = width0, at;
        const char *p = s;
        size_t left = len;
        while (left > width && !rep_table_row(s, len)) {
            size_t cut = rep_break(p, left, width, &at);
            if (cut == 0)
                break;
            fwrite(p, 1, cut, f);
            fprintf(f, "\n%*s", (int)ind, "");
            p += at, left -= at;
            width = width0 - ind;
        }
        fwrite(p, 1, left, f);
        if (e)
            fputc('\n', f);
        s += len + (e != NULL);
    }
}

int rep_folded(FILE *f, unsigned width, int (*body)(FILE *out, void *ctx), void *ctx)
{
    if (width == 0)
        return body(f, ctx);
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    if (!m)
        return EK3_ENOSPC;
    int rc = body(m, ctx);
    if (fclose(m) != 0 && !rc)
        rc = EK3_ENOSPC;
    if (!rc)
        rep_fold(f, buf, n, width);
    free(buf);
    return rc;
}

static int rep_text_body(FILE *f, ses *s);

/* A module's time of something (its pull, its FAULT_ALERT), for listing by time. */
typedef struct rep_at {
    int64_t t;
    unsigned k;
} rep_at;

static int rep_at_cmp(const void *a, const void *b)
{
    const rep_at *x = a, *y = b;
    return x->t != y->t ? (x->t < y->t ? -1 : 1) : (x->k > y->k) - (x->k < y->k);
}

/* The modules of sn whose int64_t at byte `off` of ses_mod_snap (pulled_ns,
 * first.ns) is set (>= 0), into at[] (sn->n entries), by time then slot.
 * Returns how many. */
static unsigned rep_by_time(const ses_snap *sn, size_t off, rep_at *at)
{
    unsigned n = 0;
    for (unsigned k = 0; k < sn->n; k++) {
        int64_t t;
        memcpy(&t, (const char *)&sn->mod[k] + off, sizeof t);
        if (t >= 0)
            at[n++] = (rep_at){t, k};
    }
    qsort(at, n, sizeof *at, rep_at_cmp);
    return n;
}

/* One FAULT_ALERT as the report reads it: its code's name and its value
 * as what it is for the code (msg_fault_value_of): "GFI, 40 mA",
 * "SENSOR, flags 0x6 (RANGE, IMPLAUSIBLE)", "SERVICE_CRASH, service 3
 * THERMAL_MGR, restarted", "HW_TRIP, comparator GFI"; ", cleared" when
 * it says so.
 * Into buf (cap bytes); returns buf. */
static const char *rep_alert_text(char *buf, size_t cap, const ses_alert *a)
{
    const msg_field *fc = &msg_desc_of(CID_TYPE_FAULT)->fields[0];
    const msg_fault_value *mv = msg_fault_value_of(a->code);
    const char *name = msg_enum_name(fc, a->code);
    char val[100] = "", q[48];
    if (mv && mv->unit[0])
        snprintf(val, sizeof val, ", %s", cli_si(q, sizeof q, a->value, mv->unit));
    else if (mv && mv->bits) {
        unsigned long b = (unsigned long)a->value;
        size_t n = (size_t)snprintf(val, sizeof val, ", flags 0x%lx", b);
        for (unsigned k = 0, first = 1; k < 4 && mv->bit_name[k] && n < sizeof val; k++)
            if (b >> k & 1) {
                n += (size_t)snprintf(val + n, sizeof val - n, "%s%s", first ? " (" : ", ", mv->bit_name[k]);
                first = 0;
            }
        if (b && n < sizeof val)
            snprintf(val + n, sizeof val - n, ")");
    } else if (mv && mv->code) { /* a fault code: HW_TRIP's comparator */
        const char *c = msg_enum_name(fc, (int64_t)a->value);
        snprintf(val, sizeof val, ", %s %s", mv->what, a->value > 0 && c ? c : "not told");
    } else if (mv && a->code == MSG_FAULT_SERVICE_CRASH) /* the service by name, and what became of it */
        snprintf(val, sizeof val, ", service %.0f %s, %s", a->value,
                 fwi_service_name((unsigned)a->value) ? fwi_service_name((unsigned)a->value) : "?",
                 a->sev == MSG_SEV_NOTICE ? "restarted" : "critical: the module stopped");
    else if (mv)
        snprintf(val, sizeof val, ", %s %.0f", mv->what, a->value);
    snprintf(buf, cap, "%s%s%s", name ? name : "?", val, a->flags & MSG_FAULT_F_CLEARED ? ", cleared" : "");
    return buf;
}

/* One timeline event's line, as the report lists pulls and faults: a
 * pull as the module it took out (one put back since is still told), a
 * fault as given, either with when it went in; nothing for the rest. */
static void rep_event_line(FILE *f, const ses_event *e, const ses_snap *sn)
{
    unsigned slot = ses_pull_slot(e);
    if (slot >= 1 && slot <= sn->n && e->done_ns >= 0) {
        fprintf(f, "module %u %spulled at %.4f s\n", slot,
                e->kind == SES_EV_FAULT && e->at_leader ? "(the swarm's leader then) " : "",
                e->done_ns * 1e-9); /* as the faults below */
        return;
    }
    if (e->kind == SES_EV_PULL && e->refused) { /* as a fault refused below */
        char as[96];
        fprintf(f, "pull refused at %.4f s: %s: %s\n", e->refused_ns * 1e-9, ses_event_as(e, as, sizeof as), e->why);
        return;
    }
    if (e->kind != SES_EV_FAULT || (e->fault.id == FLT_PULL && e->refused_ns < 0))
        return; /* a pull done is told above; one refused (a leader's with no leader then) below */
    /* as asked ("--pull leader@1.55s"; a fault's text without "--fault ", a leader target as "leader") */
    char as[300];
    const char *text = ses_event_as(e, as, sizeof as);
    text += strncmp(text, "--fault ", 8) ? 0 : 8;
    if (e->done_ns >= 0 && e->at_leader) /* the module it went into beside it */
        fprintf(f, "fault injected at %.4f s: %s (module %u, the swarm's leader then)\n", e->done_ns * 1e-9, text,
                e->fault.target);
    else if (e->done_ns >= 0)
        fprintf(f, "fault injected at %.4f s: %s\n", e->done_ns * 1e-9, text);
    else if (e->refused_ns >= 0) /* the reason without the fault's name again (ses_event.why) */
        fprintf(f, "%s refused at %.4f s: %s: %s\n", e->fault.id == FLT_PULL ? "pull" : "fault", e->refused_ns * 1e-9,
                text, e->why); /* a pull as the pulls above say it, --pull or --fault pull */
    else
        fprintf(f, "fault not injected (%s): %s\n",
                sn->t_ns * 1e-9 < e->at_s ? "the run ended before it" : "refused: told on stderr", text);
}

static int rep_same_alert(const ses_alert *a, const ses_alert *b)
{
    return a->ns == b->ns && a->code == b->code;
}

/* Module k's FAULT_ALERT line, at its first alert: the first; the cause
 * (the first of the highest severity, not a clearing one) when it is
 * another; the last when another came after them. */
static void rep_alert_line(FILE *f, const ses_snap *sn, unsigned k)
{
    const ses_mod_snap *m = &sn->mod[k];
    char first[160], cause[200] = "", last[160] = "", text[120];
    rep_alert_text(first, sizeof first, &m->first);
    if (m->cause.ns >= 0 && !rep_same_alert(&m->cause, &m->first))
        snprintf(cause, sizeof cause, "; the cause at %.4f s: %s", m->cause.ns * 1e-9,
                 rep_alert_text(text, sizeof text, &m->cause));
    if (!rep_same_alert(&m->fault, &m->first) && !(m->cause.ns >= 0 && rep_same_alert(&m->fault, &m->cause)))
        snprintf(last, sizeof last, "; the last at %.4f s: %s", m->fault.ns * 1e-9,
                 rep_alert_text(text, sizeof text, &m->fault));
    fprintf(f, "module %u FAULT_ALERT at %.4f s: %s%s%s", k + 1, m->first.ns * 1e-9, first, cause, last);
    if (m->alerts > 1)
        fprintf(f, " (%u alerts)", m->alerts);
    const ses_alert *c = m->cause.ns >= 0 ? &m->cause : &m->first; /* the highest: a warning, none latched */
    if (!(c->flags & MSG_FAULT_F_LATCHED) && c->sev == MSG_SEV_WARNING)
        fputs("; a warning, not a trip", f);
    fputc('\n', f);
}

static int rep_text_cb(FILE *f, void *s)
{
    return rep_text_body(f, s);
}

int rep_text(FILE *f, ses *s, unsigned width)
{
    return rep_folded(f, width, rep_text_cb, s);
}

/* A module at its current limit (the snapshot's limited) whose output
 * current is under this fraction of the limit delivers nothing: its
 * control asks all it may, its power stage gives none. */
#define REP_NO_CURRENT_FRAC 0.1

/* Whether running module m delivers nothing to the bus: at the limit
 * with no current (its control asks all it may, its power stage gives
 * none), or running apart from the bus (its output open: it regulates
 * its own capacitor). */
static int rep_delivers_none(const ses *s, const ses_snap *sn, const ses_mod_snap *m)
{
    return m->running &&
           ((m->limited && m->io < REP_NO_CURRENT_FRAC * s->kc.i_max) || fabs(m->vo - sn->vbus) > REP_APART_V);
}

/* ", X ms after the fault SPEC went in at T s" or ", X ms after module K was
 * pulled at T s" for fault or pull e before t1 (ns), into buf; 0 (buf
 * untouched) for another event. */
static int rep_after(char *buf, size_t cap, const ses_event *e, int64_t t1)
{
    char spec[300] = "";
    if (e->kind == SES_EV_FAULT && e->fault.id != FLT_PULL && !flt_format(&e->fault, spec, sizeof spec))
        snprintf(buf, cap, ", %.1f ms after the fault %.60s went in at %g s", (t1 - e->done_ns) * 1e-6, spec,
                 e->done_ns * 1e-9);
    else if (ses_pull_slot(e) >= 1)
        snprintf(buf, cap, ", %.1f ms after module %u was pulled at %g s", (t1 - e->done_ns) * 1e-6, ses_pull_slot(e),
                 e->done_ns * 1e-9);
    else
        return 0;
    return 1;
}

/* When slot's module was last put in (an insert that went in, ns), or -1. */
static int64_t rep_inserted_ns(const ses *s, unsigned slot)
{
    int64_t t = -1;
    for (unsigned i = 0; i < s->nev; i++) {
        const ses_event *e = &s->ev[i];
        if (ses_insert_slot(e) == slot && e->done_ns > t)
            t = e->done_ns;
    }
    return t;
}

/* The module (slot 1..N) fault or pull e acted on, or 0: one that acts
 * on the bus or the rack as a whole, or the station (node 0). */
static unsigned rep_event_module(const ses_event *e)
{
    if (ses_pull_slot(e))
        return ses_pull_slot(e);
    if (e->kind != SES_EV_FAULT)
        return 0;
    unsigned tg = flt_table[e->fault.id].target;
    return tg == FLT_T_SLOT || tg == FLT_T_SERVICE || tg == FLT_T_NODE ? e->fault.target : 0;
}

/* Whether e acted on a module that runs but delivers nothing (rep_delivers_none), or was a gate-off or
 * open (ses_holds_off) into one pulled since: it delivered nothing until its pull. */
static int rep_event_dead(const ses *s, const ses_snap *sn, const ses_event *e)
{
    unsigned k = e ? rep_event_module(e) : 0;
    if (!(k >= 1 && k <= sn->n))
        return 0;
    const ses_mod_snap *m = &sn->mod[k - 1];
    return rep_delivers_none(s, sn, m) || (!m->present && ses_holds_off(e) && m->pulled_ns >= e->done_ns);
}

/* "; LABEL: slot 3" or "; LABEL: slots 3, 5" after what buf holds, for n slots in list. */
static void rep_add_slots(char *buf, size_t cap, const char *label, unsigned n, const char *list)
{
    size_t l = strlen(buf);
    if (n && l < cap)
        snprintf(buf + l, cap - l, "; %s: slot%s %s", label, n == 1 ? "" : "s", list);
}

/* What the load asked at t_ns of its full demand (W, ses_capacity's): 0
 * before the first LOAD event acts, on its ramp in proportion (a
 * resistor's conductance ramps: its demand at one voltage too), then
 * the full demand (a battery's at once). */
static double rep_demand_at(const ses *s, double demand, int64_t t_ns)
{
    for (unsigned i = 0; i < s->nev; i++) {
        const ses_event *e = &s->ev[i];
        if (e->kind != SES_EV_LOAD)
            continue;
        int64_t t0 = ses_act_ns(e->at_s);
        if (t_ns < t0)
            return 0;
        double ramp = ses_event_ramp_s(e);
        return ramp > 0 && (t_ns - t0) * 1e-9 < ramp ? demand * (t_ns - t0) * 1e-9 / ramp : demand;
    }
    return demand;
}

/* When module m tripped: its SAFETY_MONITOR's latch (the trace's FAULT),
 * else, for an external module, when the station heard its cause (its
 * FAULT_ALERT comes a frame or more after the trip); -1: not known. */
static int64_t rep_trip_ns(const ses_mod_snap *m)
{
    return m->trip_ns >= 0 ? m->trip_ns : m->cause.ns;
}

/* rep_trip_ns of a module that tripped: in FAULT in its slot, or pulled
 * after it tripped; else -1. */
static int64_t rep_tripped_ns(const ses_mod_snap *m)
{
    if (m->present)
        return m->state == SES_M_FAULT ? rep_trip_ns(m) : -1;
    return m->trip_ns >= 0 && m->pulled_ns >= m->trip_ns ? m->trip_ns : -1;
}

/* Why a rack collapsed, as the verdict's parenthesis (" (...)", or ""
 * when none of these): the bus shorted; a load above what the rack's
 * modules give (ses_capacity); every module tripped before the load came
 * on (the soft start's own currents); a load above what the modules the
 * station started give, the rest never started (OFF at the end); else,
 * with every module tripped, the first to trip, when (from the load's
 * coming on) and why, and the last trip's time. */
static void rep_collapse_cause(const ses *s, const ses_snap *sn, double cap, double demand, unsigned n_cap, char *why,
                               size_t n)
{
    unsigned present = 0, tripped = 0, before = 0, off = 0, cut = 0, stopped = 0, stopped_cut = 0, dead = 0;
    unsigned fresh = 0, starting = 0, running = 0, pre = 0, fresh_cap = 0;
    char offs[80] = "", cuts[80] = "", stops[80] = "", deads[80] = "", freshs[80] = "", starts[80] = "", runs[80] = "";
    char pres[80] = "";
    size_t at = 0, cat = 0, sat = 0, dat = 0, fat = 0, stt = 0, rnt = 0, pat = 0;
    int64_t ready = ses_insert_ready_ns(s), end_ns = s->q * RIG_PERIOD_NS;
    int first = -1; /* the first to trip, and the last trip's time */
    int64_t last_ns = -1, t_trip = -1;
    for (unsigned k = 0; k < sn->n; k++) { /* the first to trip, one pulled since too; in one control period the
                                              one the station heard first (the order in it is not kept) */
        const ses_mod_snap *m = &sn->mod[k];
        int64_t tk = rep_tripped_ns(m), tf = first >= 0 ? rep_tripped_ns(&sn->mod[first]) : -1;
        if (tk >= 0 &&
            (first < 0 || tk < tf ||
             (tk == tf && m->cause.ns >= 0 && (sn->mod[first].cause.ns < 0 || m->cause.ns < sn->mod[first].cause.ns))))
            first = (int)k;
    }
    int first_out = first >= 0 && !sn->mod[first].present;      /* pulled after it tripped */
    t_trip = first >= 0 ? rep_tripped_ns(&sn->mod[first]) : -1; /* before which one put in later was not there */
    if (t_trip < 0)
        t_trip = s->collapse_ns;
    for (unsigned k = 0; k < sn->n; k++) {
        const ses_mod_snap *m = &sn->mod[k];
        if (!m->present)
            continue;
        int64_t ins = rep_inserted_ns(s, k + 1);
        if (t_trip >= 0 && ins >= 0 && ins + ready > t_trip) { /* put in after, or still pre-charging then: not part
                                                                  of the cause (ses_insert_ready_ns) */
            if (ins > t_trip)
                cli_list_add(freshs, sizeof freshs, &fat, &fresh, 4, k + 1);
            else
                cli_list_add(pres, sizeof pres, &pat, &pre, 4, k + 1);
            fresh_cap += ins + ready <= end_ns; /* ses_capacity counts it at the end */
            continue;
        }
        present++;
        if (m->state == SES_M_OFF && s->g.stn.m && s->g.stn.m[k].acked) { /* started, then turned off */
            cli_list_add(stops, sizeof stops, &sat, &stopped, 4, k + 1);
            stopped_cut += ses_cut_since_ns(s, k + 1) >= 0;
        } else if (m->state == SES_M_OFF) {
            cli_list_add(offs, sizeof offs, &at, &off, 4, k + 1);
            unsigned c = 0; /* never started and cut off: the cut came before its START (else it would run) */
            for (unsigned i = 0; i < s->nev && !c; i++)
                c = s->ev[i].kind == SES_EV_FAULT && s->ev[i].fault.id == FLT_BUS_CUT && !s->ev[i].fault.leader &&
                    s->ev[i].fault.target == k + 1 && s->ev[i].done_ns >= 0;
            if (c)
                cli_list_add(cuts, sizeof cuts, &cat, &cut, 4, k + 1);
        }
        if (rep_delivers_none(s, sn, m))
            cli_list_add(deads, sizeof deads, &dat, &dead, 4, k + 1);
        else if (m->state == SES_M_START) /* in its soft start at the end: not yet delivering (put in late) */
            cli_list_add(starts, sizeof starts, &stt, &starting, 4, k + 1);
        else if (m->state != SES_M_FAULT && m->state != SES_M_OFF) /* running into the fallen bus */
            cli_list_add(runs, sizeof runs, &rnt, &running, 4, k + 1);
        if (m->state != SES_M_FAULT)
            continue;
        tripped++;
        int64_t tk = rep_trip_ns(m);
        if (tk < 0)
            continue;
        before += s->load_on_ns >= 0 && tk < s->load_on_ns;
        last_ns = tk > last_ns ? tk : last_ns;
    }
    double each = n_cap ? cap / n_cap : 0;
    /* pulls after the first trip (or the collapse) are not its cause: the rack they leave may be short of the load
     * at the end without having been so before */
    unsigned late = 0, late_dead = 0; /* late_dead: of them, delivering nothing then (a gate-off or open before) */
    int64_t t_ref = first >= 0 ? t_trip : s->collapse_ns;
    for (unsigned i = 0; i < s->nev && t_ref >= 0; i++) {
        unsigned k = ses_pull_slot(&s->ev[i]);
        if (!(k >= 1 && s->ev[i].done_ns > t_ref))
            continue;
        late++;
        int held = 0;
        for (unsigned j = 0; j < s->nev && !held; j++) {
            const ses_event *f = &s->ev[j];
            held = ses_holds_off(f) && f->fault.target == k && f->done_ns >= 0 && f->done_ns <= t_ref;
        }
        late_dead += held;
    }
    char later[200] = ""; /* the modules not delivering at the first trip for having just gone in */
    rep_add_slots(later, sizeof later, "put in after", fresh, freshs);
    rep_add_slots(later, sizeof later, "still pre-charging then", pre, pres);
    /* the pulls by the first trip (or the collapse) that took the rack under the load it asked then (without them
     * it gave enough), named: one whose module was put back by then is not counted (nor its insert) */
    char after_pulls[200] = "";
    if (t_ref >= 0 || s->collapse_ns >= 0) {
        int64_t t_c = t_ref >= 0 ? t_ref : s->collapse_ns, last_pull = -1; /* pulls after it: counted in late */
        unsigned early = 0;
        char pulled[80] = "";
        size_t pat2 = 0;
        for (unsigned i = 0; i < s->nev; i++) {
            unsigned k = ses_pull_slot(&s->ev[i]);
            if (!(k >= 1 && s->ev[i].done_ns >= 0 && s->ev[i].done_ns <= t_c))
                continue;
            int back = 0;
            for (unsigned j = 0; j < s->nev && !back; j++)
                back =
                    ses_insert_slot(&s->ev[j]) == k && s->ev[j].done_ns > s->ev[i].done_ns && s->ev[j].done_ns <= t_c;
            if (back)
                continue;
            cli_list_add(pulled, sizeof pulled, &pat2, &early, 4, k);
            last_pull = s->ev[i].done_ns > last_pull ? s->ev[i].done_ns : last_pull;
        }
        /* in their slots then: the end's, those pulled after, not those put in after (counted at the end) */
        unsigned left = n_cap + late > fresh_cap ? n_cap + late - fresh_cap : 0;
        double d_c = rep_demand_at(s, demand, t_c); /* the load then, on its ramp */
        if (early && left && d_c > each * left && d_c <= each * (left + early))
            snprintf(after_pulls, sizeof after_pulls,
                     "the %u module%s left after module%s %s %s pulled %s %.4f s %s deliver, %.0f W%s", left,
                     left == 1 ? "" : "s", early == 1 ? "" : "s", pulled, early == 1 ? "was" : "were",
                     early == 1 ? "at" : "by", last_pull * 1e-9, fresh || pre ? "could" : "can", each,
                     left == 1 ? "" : " each");
    }
    int64_t cut0 = ses_cut_since_ns(s, 0);
    if (ses_short_caused(s)) /* a short after the first trip did not cause it */
        snprintf(why, n, " (the bus is shorted: fault 'short')");
    else if (cut0 >= 0 && off) /* its START went nowhere */
        snprintf(why, n,
                 " (never started: slot%s %s: the station is cut off the rack bus since %.4f s (bus-cut:0), before "
                 "its START reached %s)",
                 off == 1 ? "" : "s", offs, cut0 * 1e-9, off == 1 ? "it" : "them");
    else if (stopped && present > off + stopped && demand > each * (present - off - stopped)) {
        char by[200] = ""; /* a node cut off the bus: CAN_HANDLER's COMM_LOSS hold turns it off */
        if (stopped_cut)
            snprintf(by, sizeof by,
                     "%s cut off the rack bus: a module turns itself off %g s after it last heard the station "
                     "(CAN_HANDLER's COMM_LOSS hold)",
                     stopped_cut == stopped ? "," : "; of them", BRD_COMM_HOLD_MS * 1e-3);
        snprintf(why, n,
                 " (the load asked more than the %u module%s left can deliver, %.0f W%s; started, then turned "
                 "off: slot%s %s%s%s%s)",
                 present - off - stopped, present - off - stopped == 1 ? "" : "s", each,
                 present - off - stopped == 1 ? "" : " each", stopped == 1 ? "" : "s", stops, by,
                 off ? "; never started: " : "", off ? offs : "");
    } else if (off && present > off && demand > each * (present - off)) {
        char by[200] = ""; /* why: a node cut off the bus before the start never hears START */
        if (cut == off)
            snprintf(by, sizeof by, ", cut off the rack bus before the station's START reached %s (bus-cut)",
                     off == 1 ? "it" : "them");
        else if (cut)
            snprintf(by, sizeof by, "; cut off the rack bus before the station's START reached it (bus-cut): slot%s %s",
                     cut == 1 ? "" : "s", cuts);
        snprintf(why, n,
                 " (the load asked more than the %u module%s the station started can deliver, %.0f W%s; "
                 "never started: slot%s %s%s)",
                 present - off, present - off == 1 ? "" : "s", each, present - off == 1 ? "" : " each",
                 off == 1 ? "" : "s", offs, by);
    } else if (tripped && before == tripped && tripped == present) /* whatever the load asked later */
        snprintf(why, n,
                 " (every module tripped before the load came on at %g s: in the soft start, by its own "
                 "currents)",
                 s->load_on_ns * 1e-9);
    else if (rep_demand_at(s, demand, s->collapse_ns >= 0 ? s->collapse_ns : t_ref) > cap &&
             !(late && demand <= each * (n_cap + late))) { /* asked by the collapse (the ramp's start asks little) */
        if (after_pulls[0])
            snprintf(why, n, " (the load asked more than %s%s)", after_pulls, later);
        else
            snprintf(why, n, " (the load asked more than the rack %s%s)",
                     fresh || pre ? "could deliver then" : "can deliver", later);
    } else if (fresh_cap && n_cap + late > fresh_cap && demand > each * (n_cap + late - fresh_cap)) {
        if (after_pulls[0])
            snprintf(why, n, " (the load asked more than %s%s)", after_pulls, later);
        else
            snprintf(why, n, " (the load asked more than the rack could deliver then%s)", later);
    } else if (first >= 0 && tripped + dead + starting + running == present && tripped + first_out > 1 &&
               last_ns > t_trip) {
        char a[120] = "no FAULT_ALERT heard from it", after[300] = "";
        if (sn->mod[first].cause.ns >= 0)
            rep_alert_text(a, sizeof a, &sn->mod[first].cause);
        int64_t t1 = t_trip;
        /* the last fault or pull before the first trip, after the load came on: of those that bear on it (a pull,
         * one into the module that tripped first or into one that delivers nothing, one into the bus or the rack)
         * if any, else of all (an NTC opened in another module a moment later is not the cause) */
        const ses_event *by = NULL, *any = NULL, *prev = NULL; /* prev: the one that bears on it before by */
        for (unsigned i = 0; i < s->nev; i++) {
            const ses_event *e = &s->ev[i];
            if (!((e->kind == SES_EV_FAULT || e->kind == SES_EV_PULL) && e->done_ns >= 0 && e->done_ns <= t1 &&
                  e->done_ns >= s->load_on_ns && s->load_on_ns >= 0))
                continue;
            unsigned k = rep_event_module(e);
            int bears = ses_pull_slot(e) || k == 0 || k == (unsigned)first + 1 || rep_event_dead(s, sn, e);
            if (!any || e->done_ns >= any->done_ns)
                any = e;
            if (bears && (!by || e->done_ns >= by->done_ns))
                prev = by, by = e;
        }
        if (!by)
            by = any;
        /* one into a module that delivers nothing explains a loss of delivery: named first, unless the later is a
         * pull (a loss of its own, the trip's trigger) */
        if (rep_event_dead(s, sn, prev) && !rep_event_dead(s, sn, by) && !ses_pull_slot(by)) {
            const ses_event *t = by;
            by = prev, prev = t;
        }
        if (by && rep_after(after, sizeof after, by, t1)) {
            /* two that bear on it within 100 ms: both named, the trip comes after each (which caused it, the
             * report cannot tell: an NTC opened in the module that trips on OCP a moment later did not) */
            char also[140];
            if (prev && t1 - prev->done_ns <= 100000000 && rep_after(also, sizeof also, prev, t1))
                snprintf(after + strlen(after), sizeof after - strlen(after), " (and %s)", also + 2); /* ", " off */
        } else if (s->load_on_ns >= 0 && t1 >= s->load_on_ns)
            snprintf(after, sizeof after, ", %.1f ms after the load came on at %g s", (t1 - s->load_on_ns) * 1e-6,
                     s->load_on_ns * 1e-9);
        else if (s->load_on_ns >= 0) /* some in the soft start, the rest under the load */
            snprintf(after, sizeof after, ", in the soft start (%u of %u before the load came on at %g s)", before,
                     tripped, s->load_on_ns * 1e-9);
        char none[240] = ""; /* the ones left running deliver nothing (the note under the sharing line) */
        if (dead)
            snprintf(none, sizeof none, "; module%s %s run%s but deliver%s nothing", dead == 1 ? "" : "s", deads,
                     dead == 1 ? "s" : "", dead == 1 ? "s" : "");
        snprintf(none + strlen(none), sizeof none - strlen(none), "%s", later); /* after the trips */
        rep_add_slots(none, sizeof none, "still starting", starting, starts); /* put in, in their soft start */
        rep_add_slots(none, sizeof none, "still running", running, runs);     /* not enough to hold the bus */
        char over[160] = ""; /* the ones that deliver nothing leave the rest short of the load */
        unsigned gone = dead + late_dead; /* at the first trip: a later pull's in, delivering or not */
        unsigned live = present + late > gone ? present + late - gone : 0;
        if (gone && live && demand > each * live)
            snprintf(over, sizeof over, "the load asked more than the %u module%s still delivering can, %.0f W%s; ",
                     live, live == 1 ? "" : "s", each, live == 1 ? "" : " each");
        char ties[80] = "", outs[80] = "", with[400] = ""; /* tripped in the same control period as the first;
                                                               of them, pulled since */
        size_t tat = 0, oat = 0;
        unsigned tie = 0, out = 0;
        for (unsigned k = 0; k < sn->n; k++)
            if (k != (unsigned)first && rep_tripped_ns(&sn->mod[k]) == t1) {
                cli_list_add(ties, sizeof ties, &tat, &tie, 4, k + 1);
                if (!sn->mod[k].present)
                    cli_list_add(outs, sizeof outs, &oat, &out, 4, k + 1);
            }
        /* the others that tripped, counted (not the first nor those named with it), those pulled since too */
        unsigned other = 0, other_out = 0;
        char oouts[80] = "", rest[40];
        size_t ooat = 0;
        for (unsigned k = 0; k < sn->n; k++) {
            const ses_mod_snap *m = &sn->mod[k];
            int64_t tk = rep_tripped_ns(m);
            if (k == (unsigned)first || tk == t1 || (m->present ? m->state != SES_M_FAULT : tk < 0))
                continue;
            other++;
            last_ns = tk > last_ns ? tk : last_ns;
            if (!m->present)
                cli_list_add(oouts, sizeof oouts, &ooat, &other_out, 4, k + 1);
        }
        snprintf(rest, sizeof rest, "the other %u", other);
        char by_out[120] = "";
        if (other_out)
            snprintf(by_out, sizeof by_out, " (of them, module%s %s pulled since)", other_out == 1 ? "" : "s", oouts);
        if (first_out) /* not among those in their slots */
            snprintf(with, sizeof with, "pulled since, at %.4f s", sn->mod[first].pulled_ns * 1e-9);
        if (tie) { /* one parenthesis with the above: the list counted once cut ("1, 2, 3, 4, ..."), those pulled */
            char all[32] = "", pulled[120] = "";
            if (tie > 4)
                snprintf(all, sizeof all, ", %u in all", tie);
            if (out && out == tie)
                snprintf(pulled, sizeof pulled, ", %spulled since", tie == 1 ? "" : "all ");
            else if (out)
                snprintf(pulled, sizeof pulled, "; of them, module%s %s pulled since", out == 1 ? "" : "s", outs);
            snprintf(with + strlen(with), sizeof with - strlen(with),
                     "%smodule%s %s too%s, in the same control period%s", first_out ? "; " : "", tie == 1 ? "" : "s",
                     ties, all, pulled);
        }
        snprintf(why, n, " (%smodule %d tripped first, at %.4f s%s%s%s%s: %.60s; %s tripped by %.4f s%s%.200s)", over,
                 first + 1, t1 * 1e-9, with[0] ? " (" : "", with, with[0] ? ")" : "", after, a, rest, last_ns * 1e-9,
                 by_out, none);
    }
}

static int rep_text_body(FILE *f, ses *s)
{
    ses_snap sn;
    if (!rep_snap(s, &sn))
        return EK3_ENOSPC;
    const ses_opts *o = &s->o;
    double ptot = 0, pin = 0, imin = 1e9, imax = 0, isum = 0, tjmax = -1e9, ilim_sum = 0;
    unsigned present = 0, running = 0, tripped = 0, sharing = 0, starting = 0, limited = 0, dead = 0;
    char deads[40] = "", derates[40] = ""; /* the first 4 of them */
    size_t dat = 0, drat = 0;
    unsigned derated = 0; /* at a limit their THERMAL_MGR's derating set (llcc.derate < 1) */
    unsigned in_mean = 0; /* in their slots, not parked: rack.i_mean's, whose sum is isum_mean */
    unsigned droop = 0;   /* sharing and not at a limit: sharing by their droop, over dmin .. dmax, sum dsum */
    double dmin = 1e9, dmax = 0, dsum = 0;
    double isum_mean = 0;
    float derate_min = 1;
    for (unsigned k = 0; k < sn.n; k++) {
        const ses_mod_snap *m = &sn.mod[k];
        tripped += m->state == SES_M_FAULT;
        starting += m->present && m->state == SES_M_START;
        if (!m->present)
            continue;
        present++;
        running += m->running;
        /* at the limit with no current (its control asks all it may, its power stage gives none), or
         * running apart from the bus (its output open: it regulates its own capacitor) */
        int none = rep_delivers_none(s, &sn, m);
        limited += m->limited && !none;
        if (m->limited && !none && m->derate < 1) {
            cli_list_add(derates, sizeof derates, &drat, &derated, 4, k + 1);
            derate_min = m->derate < derate_min ? m->derate : derate_min;
        }
        if (none)
            cli_list_add(deads, sizeof deads, &dat, &dead, 4, k + 1);
        ptot += m->io * m->vo;
        pin += m->pin;
        tjmax = fmax(tjmax, fmax(m->tja, m->tjb));
        if (!m->parked) /* rack.i_mean's modules (sig.c: in their slots, parked ones left out) */
            in_mean++, isum_mean += m->io;
        if (m->parked || !m->running || none) /* standby, starting, tripped, or delivering nothing (told below) */
            continue;
        sharing++;
        imin = fmin(imin, m->io), imax = fmax(imax, m->io), isum += m->io;
        if (rep_droop_share(s, &sn, m))
            droop++, dmin = fmin(dmin, m->io), dmax = fmax(dmax, m->io), dsum += m->io;
        /* what it gives at its limit: the ceiling, or less (derating, a power command) */
        ilim_sum += m->i_lim > 0 && m->i_lim < s->kc.i_max ? m->i_lim : s->kc.i_max;
    }
    double imean = sharing ? isum / sharing : 0, cap, demand;
    unsigned n_cap = ses_capacity(s, &cap, &demand);
    int collapsed = ses_collapsed(s);
    char collapse_at[80] = "";
    if (!s->bus_up)
        snprintf(collapse_at, sizeof collapse_at, " (the bus never came up)");
    else if (s->collapse_ns >= 0)
        snprintf(collapse_at, sizeof collapse_at, " at %.4f s (the bus fell under %.1f V)", s->collapse_ns * 1e-9,
                 0.5 * o->r.v_set);
    else if (present && tripped == present) { /* every one tripped, the bus (its capacitance) not yet under half */
        int64_t last = -1;
        for (unsigned k = 0; k < sn.n; k++)
            if (sn.mod[k].present && rep_trip_ns(&sn.mod[k]) > last)
                last = rep_trip_ns(&sn.mod[k]);
        if (last >= 0)
            snprintf(collapse_at, sizeof collapse_at, " at %.4f s (the last module in its slot tripped)", last * 1e-9);
    }
    char lim[96] = ""; /* running at the current limit: the output voltage no longer held */
    if (limited > derated)
        snprintf(lim, sizeof lim, ", %u at the current limit", limited - derated);
    if (derated) /* a lower limit of their own: said apart (they were counted "at the current limit") */
        snprintf(lim + strlen(lim), sizeof lim - strlen(lim), ", %u at a derated limit", derated);
    if (dead)
        snprintf(lim + strlen(lim), sizeof lim - strlen(lim), ", %u delivering nothing", dead);
    char cut[96] = ""; /* a stopped run says so on its first line (a skimmed report.txt read as a whole short run) */
    if (s->stop_sig || s->stop_why[0])
        snprintf(cut, sizeof cut, " of %.4g s: INTERRUPTED (%s)", o->quanta * RIG_PERIOD_NS * 1e-9,
                 s->stop_sig == SIGINT    ? "SIGINT"
                 : s->stop_sig == SIGTERM ? "SIGTERM"
                                          : "an output failed");
    fprintf(f, "EK3 rack: %u module%s (%u in %s, %u regulating%s), %s plant, seed %llu, %.6g s simulated%s\n", sn.n,
            sn.n == 1 ? "" : "s", present, present == 1 ? "its slot" : "their slots", running - limited - dead, lim,
            o->r.fidelity == PMOD_AVERAGED ? "averaged" : "switching", (unsigned long long)o->r.seed, sn.t_ns * 1e-9,
            cut);
    int64_t cut0 = ses_cut_since_ns(s, 0);
    unsigned unstarted = 0; /* in their slots, OFF, never commanded */
    for (unsigned k = 0; k < sn.n; k++)
        unstarted += sn.mod[k].present && sn.mod[k].state == SES_M_OFF && !(s->g.stn.m && s->g.stn.m[k].acked);
    /* never up, the station cut off after it heard modules: its START went nowhere (not the soft start's load,
     * not a collapse; with none heard, the line below says so) */
    int stn_cut_down = collapsed && !s->bus_up && cut0 >= 0 && unstarted && !(s->started && s->start_on == 0);
    if (stn_cut_down)
        fprintf(f,
                "BUS NOT UP: the bus is at %.2f V (set point %.1f V)%s, never up: the station is cut off the rack bus "
                "since %.4f s (bus-cut:0), before its START reached the modules: %u of %u never started; %u running\n",
                sn.vbus, o->r.v_set, s->load_on_ns >= 0 ? ", the load connected" : "", cut0 * 1e-9, unstarted, sn.n,
                running);
    else if (collapsed == SES_NOT_UP)
        fprintf(f,
                "BUS NOT UP: the bus is at %.2f V (set point %.1f V) with the load on, never up and held down: the "
                "load came on at %.4g s, during the soft start (about %.2f s from the station's start), and takes "
                "all the current the modules can give; %u of %u modules running\n",
                sn.vbus, o->r.v_set, s->load_on_ns * 1e-9, ses_soft_start_s(s), running, sn.n);
    if (stn_cut_down)
        ;                                                              /* said above */
    else if (collapsed == SES_COLLAPSED && present == 0 && !s->bus_up) /* as BUS NOT UP says a bus never up */
        fprintf(f,
                "BUS NOT UP: the bus is at %.2f V (set point %.1f V)%s, never up: every module is pulled: nothing "
                "feeds the bus\n",
                sn.vbus, o->r.v_set, s->load_on_ns >= 0 ? ", the load connected" : "");
    else if (collapsed == SES_COLLAPSED && !s->bus_up && s->started && s->start_on == 0) {
        char off[96] = ""; /* it heard none: it is off the bus itself */
        if (cut0 >= 0)
            snprintf(off, sizeof off, ": it is cut off the rack bus itself, since %.4f s (bus-cut:0)", cut0 * 1e-9);
        fprintf(f,
                "BUS NOT UP: the bus is at %.2f V (set point %.1f V)%s, never up: the station heard none of its %u "
                "module%s and started none%s\n",
                sn.vbus, o->r.v_set, s->load_on_ns >= 0 ? ", the load connected" : "", sn.n, sn.n == 1 ? "" : "s", off);
    } else if (collapsed == SES_COLLAPSED && present == 0)
        fprintf(f,
                "RACK COLLAPSED%s: at the run's end it is at %.2f V (set point %.1f V)%s; every module is "
                "pulled: nothing feeds the bus\n",
                collapse_at, sn.vbus, o->r.v_set, s->load_on_ns >= 0 ? ", the load connected" : "");
    else if (collapsed == SES_COLLAPSED) {
        char why[2048] = "";
        rep_collapse_cause(s, &sn, cap, demand, n_cap, why, sizeof why);
        fprintf(
            f,
            "RACK COLLAPSED%s: at the run's end it is at %.2f V (set point %.1f V) with the load on; %u of %u module%s "
            "in %s tripped, %u still running%s\n",
            collapse_at, sn.vbus, o->r.v_set, tripped, present, present == 1 ? "" : "s",
            present == 1 ? "its slot" : "their slots", running, why);
    }
    ses_sag sag = {0};
    int sagging = collapsed ? 0 : ses_sagging(s, &sag);
    if (sagging == SES_SAG_HELD) {
        char derated_why[160] = ""; /* a module its THERMAL_MGR derates gives less: named, with how far */
        if (derated)
            snprintf(derated_why, sizeof derated_why, " (module%s %s derated by THERMAL_MGR, to %s%.2g of full power)",
                     derated == 1 ? "" : "s", derates, derated == 1 ? "" : "as little as ", derate_min);
        char end[400] = ""; /* a resistor (the load's present one, a short's beside it): where it settles */
        const rack *pl = &s->g.plant;
        int res = pl->load.kind == RACK_LOAD_R && !pl->load_open, shorted = pl->r_short > 0;
        if (res || (pl->load_open && shorted)) {
            double gs = (res ? 1.0 / pl->load.r : 0) + (shorted ? 1.0 / pl->r_short : 0);
            /* still on its ramp: the figure at the resistance of the run's end, and at the ramp's own */
            const ses_event *re = res && s->ramp >= 0 ? &s->ev[s->ramp] : NULL;
            char ramp[200] = "";
            if (re && re->load.kind == RACK_LOAD_R && re->load.r > 0 && pl->load.r != re->load.r) {
                double gr = 1.0 / re->load.r + (shorted ? 1.0 / pl->r_short : 0);
                snprintf(ramp, sizeof ramp,
                         " at the resistance of the run's end (%.4g ohm, on its ramp), near %.0f V once the ramp "
                         "ends (%.4g ohm)",
                         pl->load.r, ilim_sum / gr, re->load.r);
            }
            snprintf(end, sizeof end,
                     ": a resistor's current falls with the bus, so it settles where that limit meets it, near %.0f "
                     "V%s%s",
                     ilim_sum / gs, /* those delivering, each at its limit */
                     ramp, shorted ? (res ? " (the load and the short together)" : " (the short alone)") : "");
        }
        fprintf(f,
                "RACK OVERLOADED: at the run's end the bus is at %.2f V (set point %.1f V) with the load on, more "
                "than %.1f V under its droop band's foot (%.1f V: %.2f V/A droop at the %.2f A current limit) since "
                "%.4f s: the load takes all the current the modules give at their current limit%s%s\n",
                sag.v, o->r.v_set, sag.foot_v - sag.floor_v, sag.foot_v, s->kc.r_droop, s->kc.i_max, sag.since_s,
                derated_why, end);
    } else if (sagging)
        fprintf(f,
                "RACK SAGGING: at the run's end the bus is at %.2f V (set point %.1f V) with the load on, more than "
                "%.1f V under its droop band's foot (%.1f V: %.2f V/A droop at the %.2f A current limit) since %.4f "
                "s, and falling %.1f V/s: the load takes more than the modules give; at that rate it is under half "
                "its set point (%.1f V, a collapse) in %s%.1f s\n",
                sag.v, o->r.v_set, sag.foot_v - sag.floor_v, sag.foot_v, s->kc.r_droop, s->kc.i_max, sag.since_s,
                -sag.vps, 0.5 * o->r.v_set, o->r.load.kind == RACK_LOAD_CP ? "less than " : "about ",
                o->r.load.kind == RACK_LOAD_CP ? ceil(sag.to_half_s * 10) / 10 : sag.to_half_s); /* a bound: up */
    else if (sag.pending) /* a held sag withheld: said, so that no verdict is not read as a pass */
        fprintf(f,
                "note: no RACK OVERLOADED verdict yet: at the run's end the bus is at %.2f V (set point %.1f V) with "
                "the load on, more than %.1f V under its droop band's foot (%.1f V) since %.4f s, but the module put "
                "back in slot %u at %.4f s is still pre-charging (until %.4f s at the earliest) and may lift it; a "
                "longer run tells\n",
                sag.v, o->r.v_set, sag.foot_v - sag.floor_v, sag.foot_v, sag.since_s, sag.pending, sag.put_s,
                sag.ready_s);
    const char *lk = o->r.load.kind == RACK_LOAD_CP ? "constant power" : o->r.load.kind == RACK_LOAD_R ? "resistor"
                                                                                                      : "EV battery";
    fprintf(f, "load: %s%s; set point %.1f V, droop %.2f V/A\n", lk, s->load_on ? "" : ", not on during the run",
            o->r.v_set, s->kc.r_droop);
    char eff[32] = "no power in"; /* under a watt in: no efficiency to speak of */
    if (pin >= 1.0 && ptot < 1.0) /* a pause between bursts: what goes in, the losses */
        snprintf(eff, sizeof eff, "none out");
    else if (pin >= 1.0)
        snprintf(eff, sizeof eff, "%.2f %%", 100 * ptot / pin);
    fprintf(f, "bus at the run's end: %.2f V, load %.2f kW (%.2f A); modules deliver %.2f kW from %.2f kW in (%s)\n",
            sn.vbus, sn.p_load / 1e3, sn.i_load, ptot / 1e3, pin / 1e3, eff);
    /* Under 2 % of the running modules' rating the LLC control bursts
     * (llc_control.c: burst_permille): what the modules give, or take in,
     * at one instant is a burst or a pause, not the load. */
    int mismatch = fmax(fabs(ptot - sn.p_load), fabs(pin - sn.p_load)) > fmax(20.0, 0.2 * sn.p_load);
    if (starting && ptot > sn.p_load && mismatch && !collapsed) /* the soft start ramps the bus up: the capacitance
                                                                   takes the rest (not a fallen bus's) */
        fprintf(f,
                "note: the bus is still coming up (%u module%s in the soft start): of what they deliver, what the "
                "load does not take charges the bus capacitance\n",
                starting, starting == 1 ? "" : "s");
    else if (running && sn.p_load < REP_SPREAD_MIN * s->kc.i_max * sn.vbus * running && mismatch)
        fprintf(f,
                sn.p_load < 1.0 ? "note: no load: the modules hold the bus in bursts (burst mode); what they take "
                                  "in at the run's end goes to their losses and the bus capacitance\n"
                                : "note: a light load (%.0f W on %u running modules): they run in bursts (burst "
                                  "mode) and the bus capacitance carries the load between them, so at the run's "
                                  "end they deliver more or less than the load takes\n",
                sn.p_load, running);
    char over[240] = ""; /* the mean is over those sharing: said when rack.i_mean (a probe's) counts more */
    if (sharing && in_mean > sharing)
        snprintf(over, sizeof over,
                 "; over the %u sharing, where rack.i_mean counts the %u in their slots not parked: "
                 "%.3f A",
                 sharing, in_mean, isum_mean / in_mean);
    /* a module at a limit (the ceiling, a derating) gives what the limit lets it, not its droop's share: the spread
     * of those sharing by droop said apart, when both kinds are there */
    if (sharing && !droop) /* no droop share among them: the spread is what their limits let each give */
        snprintf(over + strlen(over), sizeof over - strlen(over), "; %s at a limit: no droop share",
                 sharing == 1   ? "it is"
                 : sharing == 2 ? "both are"
                                : "every one is");
    else if (sharing && droop >= 2 && droop < sharing && rep_spread_says(s, dsum / droop))
        snprintf(over + strlen(over), sizeof over - strlen(over),
                 "; the %u not at a limit: %.3f .. %.3f A, spread %.1f %%", droop, dmin, dmax,
                 100 * (dmax - dmin) / (dsum / droop));
    if (sharing)
        if (rep_spread_says(s, imean))
            fprintf(f, "sharing: %.3f A mean, %.3f .. %.3f A (spread %.1f %% of mean%s); hottest junction %.1f C\n",
                    imean, imin, imax, 100 * (imax - imin) / imean, over, tjmax);
        else
            fprintf(f, "sharing: %.3f A mean, %.3f .. %.3f A (no spread: %s%s); hottest junction %.1f C\n", imean, imin,
                    imax, REP_SPREAD_WHY, over, tjmax);
    else
        fprintf(f, "sharing: %s\n",
                !present   ? "no module in its slot"
                : !running ? "no module in its slot is running (each one starting, tripped or off)"
                : dead     ? "no module in its slot delivers (those running deliver nothing: below)"
                           : "no module in its slot is regulating (starting, parked or tripped)");
    rep_window(f, s, &sn);
    if (dead)
        fprintf(f,
                "note: module%s %s run%s but deliver%s nothing to the bus: at the current limit with no current "
                "(the power stage gives none: a dead gate driver, a broken tank), or regulating its own output "
                "apart from the bus (an open output relay or fuse)\n",
                dead == 1 ? "" : "s", deads, dead == 1 ? "s" : "", dead == 1 ? "s" : "");
    rep_swarm(f, s, &sn);
    if (s->stop_sig || s->stop_why[0])
        fprintf(f, "INTERRUPTED after %.4f s of %.4g s (%s): this report covers the time that ran\n", sn.t_ns * 1e-9,
                o->quanta * RIG_PERIOD_NS * 1e-9,
                s->stop_sig == SIGINT ? "SIGINT" : s->stop_sig == SIGTERM ? "SIGTERM" : s->stop_why);
    rep_at *when = malloc((sn.n ? sn.n : 1) * sizeof *when);
    if (!when) {
        free(sn.mod);
        return EK3_ENOSPC;
    }
    /* The timeline's pulls and faults (--pull, --fault), with when they
     * went in, and the modules' FAULT_ALERTs, all in one time order (an
     * alert at the time of the fault that caused it after the fault). */
    unsigned nw = rep_by_time(&sn, offsetof(ses_mod_snap, first.ns), when), ia = 0;
    for (unsigned i = 0; i <= s->nev; i++) {
        const ses_event *e = i < s->nev ? &s->ev[i] : NULL;
        double t = !e                   ? INFINITY
                   : e->done_ns >= 0    ? e->done_ns * 1e-9
                   : e->refused_ns >= 0 ? e->refused_ns * 1e-9
                                        : e->at_s;
        for (; ia < nw && sn.mod[when[ia].k].first.ns * 1e-9 < t; ia++)
            rep_alert_line(f, &sn, when[ia].k);
        if (i < s->nev)
            rep_event_line(f, &s->ev[i], &sn);
    }
    if (s->fault_errors)
        fprintf(f, "%u fault%s (--fault, --pull) could not be injected (each named above, with when and why)\n",
                s->fault_errors, s->fault_errors == 1 ? "" : "s");
    free(when);
    for (unsigned k = 0; k < sn.n; k++)
        if (sn.mod[k].external)
            fprintf(f, "module %u external (ek3 fw): %s\n", k + 1,
                    sn.mod[k].lost ? "LOST - no answer within the timeout" : "answered every quantum");
    char sup[64] = "", awaits[48] = "",
         gave[96] = ""; /* a command sent again before its answer (a re-split) replaces the first */
    if (sn.stn.gave_up)
        snprintf(gave, sizeof gave, sn.stn.gave_up == 1 ? " (on module %u)" : " (the last on module %u)",
                 sn.stn.gave_up_last);
    if (sn.stn.late) /* a module that answers late may well run the command: say its answers came */
        snprintf(gave + strlen(gave), sizeof gave - strlen(gave), ", %u late answer%s ignored", sn.stn.late,
                 sn.stn.late == 1 ? "" : "s");
    if (sn.stn.superseded)
        snprintf(sup, sizeof sup, ", %u replaced by a newer one before an answer", sn.stn.superseded);
    unsigned awaiting = stn_awaiting(&s->g.stn);
    if (awaiting)
        snprintf(awaits, sizeof awaits, ", %u awaiting an answer", awaiting);
    /* A pulled module stays online to the station until its last heartbeat is STN_ONLINE_NS old: say so. */
    unsigned stale = 0, stale_slot = 0;
    for (unsigned k = 0; k < sn.n; k++)
        if (sn.mod[k].state == SES_M_PULLED && stn_heard(&s->g.stn, k + 1, s->g.t_ns) && stale++ == 0)
            stale_slot = k + 1;
    char among[96] = "";
    if (stale == 1)
        snprintf(among, sizeof among, "; pulled module %u among them until its last heartbeat is %.0f s old",
                 stale_slot, STN_ONLINE_NS * 1e-9);
    else if (stale)
        snprintf(among, sizeof among, "; %u pulled modules among them until their last heartbeats are %.0f s old",
                 stale, STN_ONLINE_NS * 1e-9);
    char stn_cut[128] = ""; /* the station off the bus: it hears and reaches no one */
    if (cut0 >= 0)
        snprintf(stn_cut, sizeof stn_cut,
                 "; cut off the rack bus since %.4f s (bus-cut:0): it has heard no module since, and what it sends "
                 "reaches none",
                 cut0 * 1e-9);
    fprintf(f,
            "station: %u POWER_CMD sent, %u acknowledged (%u clamped, %u refused)%s, %u retries, %u gave up%s%s; "
            "%u module%s online (a heartbeat heard within %.0f s: the station's view%s)%s\n",
            sn.stn.sent, sn.stn.acked, sn.stn.clamped, sn.stn.refused, sup, sn.stn.retries, sn.stn.gave_up, gave,
            awaits, sn.online, sn.online == 1 ? "" : "s", STN_ONLINE_NS * 1e-9, among, stn_cut);
    if (s->api.fd >= 0) {
        const sapi_stats *a = &s->api.st;
        fprintf(f,
                "station API (%s): %u requests, %u carried out, %u refused, %u malformed, %u throttled "
                "(bad MAC %u, stale %u, replayed %u; %u bursts of failures logged)\n",
                o->api, a->requests, a->ok, a->refused, a->malformed, a->throttled, a->bad_mac, a->stale, a->replayed,
                a->bursts);
    }
    fprintf(f, "HIL frames %llu; rack bus: %llu frames, %llu error frames, load %.2f %%%s\n",
            (unsigned long long)sn.hil_frames, (unsigned long long)sn.bus_frames,
            (unsigned long long)sn.bus_error_frames, 100 * sn.bus_load,
            sn.bus_error_frames && present == 0 ? " (no module on the bus: the station's frames go unacknowledged, "
                                                  "each try an ACK error, ISO 11898-1)"
                                                : "");
    /* 79 columns: a row stays whole in an 80-column terminal */
    fprintf(f, "\n%4s %-7s %7s %6s %7s %6s %6s %7s %6s %6s %-6s\n", "slot", "state", "power", "I", "V out", "Tj A",
            "Tj B", "fsw", "resets", "trim", "swarm"); /* the names, then their units */
    fprintf(f, "%4s %-7s %7s %6s %7s %6s %6s %7s %6s %6s\n", "", "", "W", "A", "V", "deg C", "deg C", "kHz", "", "V");
    static const char *const role[] = {"follow", "pre", "cand", "LEADER"};
    for (unsigned k = 0; k < sn.n; k++) {
        const ses_mod_snap *m = &sn.mod[k];
        if (m->state == SES_M_PULLED) /* out of its slot: nothing of it to read */
            fprintf(f, "%4u %-7s %7s %6s %7s %6s %6s %7s %6u %6s %-6s\n", k + 1, ses_mstate_name(m->state), "-", "-",
                    "-", "-", "-", "-", m->resets, "-", "-");
        else
            fprintf(f, "%4u %-7s %7.1f %6.3f %7.2f %6.1f %6.1f %7.1f %6u %6.2f %-6s\n", k + 1,
                    ses_mstate_name(m->state), m->io * m->vo, m->io, m->vo, m->tja, m->tjb, m->fsw_hz / 1e3, m->resets,
                    m->trim, m->role >= 0 && m->role < 4 ? role[m->role] : "-");
    }
    int electing = 0; /* a role between follow and LEADER shown: name it */
    for (unsigned k = 0; k < sn.n; k++)
        electing |= sn.mod[k].state != SES_M_PULLED &&
                    (sn.mod[k].role == RAFT_PRECANDIDATE || sn.mod[k].role == RAFT_CANDIDATE);
    if (electing)
        fprintf(f, "swarm column: the module's Raft role; pre asks the others whether it could win before it stands "
                   "(pre-vote, Ongaro's thesis 9.6), cand stands for election\n");
    /* A module cut off the rack bus runs on alone: say which, since when, and what that leaves it. */
    unsigned n_cut = 0;
    char cuts[200] = "";
    size_t cat = 0;
    for (unsigned k = 0; k < sn.n; k++) {
        int64_t c = sn.mod[k].state == SES_M_PULLED ? -1 : ses_cut_since_ns(s, k + 1);
        if (c < 0)
            continue;
        if (n_cut++ < 4)
            cat += (size_t)snprintf(cuts + cat, cat < sizeof cuts ? sizeof cuts - cat : 0, "%sslot %u since %.4f s",
                                    n_cut > 1 ? ", " : "", k + 1, c * 1e-9);
        else if (n_cut == 5)
            cat += (size_t)snprintf(cuts + cat, cat < sizeof cuts ? sizeof cuts - cat : 0, " and more");
    }
    if (n_cut)
        fprintf(f,
                "cut off the rack bus (bus-cut): %s; %s no other node: %s swarm role cannot win an election, and "
                "a module running turns itself off %g s after it last heard the station (CAN_HANDLER's COMM_LOSS "
                "hold)\n",
                cuts, n_cut == 1 ? "it hears" : "they hear", n_cut == 1 ? "its" : "their", BRD_COMM_HOLD_MS * 1e-3);
    for (unsigned k = 0; n_cut && k < sn.n; k++) /* a leader cut off reads LEADER still: say whom it leads */
        if (sn.mod[k].state != SES_M_PULLED && sn.mod[k].role == RAFT_LEADER && ses_cut_since_ns(s, k + 1) >= 0)
            fprintf(f,
                    "swarm column: slot %u reads LEADER in its own term, cut off: it hears no follower, so nothing "
                    "tells it to step down yet; it leads no one (the swarm line counts the rack leaderless from the "
                    "cut)\n",
                    k + 1);
    /* A module off the bus (its relay open: a trip, a short's collapse) keeps its own charge: say so,
     * with each one's voltage for the first three. */
    unsigned apart = 0;
    char held[200] = "";
    size_t hat = 0;
    for (unsigned k = 0; k < sn.n; k++) {
        const ses_mod_snap *m = &sn.mod[k];
        if (m->state == SES_M_PULLED || m->running || !(fabs(m->vo - sn.vbus) > REP_APART_V) || apart++ >= 3)
            continue;
        hat += (size_t)snprintf(held + hat, sizeof held - hat, "%smodule %u (%s) %s%.2f V", apart > 1 ? ", " : "",
                                k + 1, ses_mstate_name(m->state), apart > 1 ? "" : "holds ", m->vo);
        if (hat >= sizeof held)
            hat = sizeof held - 1;
    }
    if (apart) {
        char more[80] = "";
        if (apart > 3)
            snprintf(more, sizeof more, ", and %u more module%s (the table gives each)", apart - 3,
                     apart == 4 ? "" : "s");
        fprintf(f,
                "note: V out is a module's own output capacitor, behind its relay; %s, isolated from the %.2f V "
                "bus%s\n",
                held, sn.vbus, more);
    }
    const rig *g = &s->g;
    long ran = s->q;
    char solo[200] = "";
    if (g->pool && g->solo_quanta > 0 && ran > 0) /* rig_adapt_next: the caller alone was faster for a while */
        snprintf(solo, sizeof solo, "%.1f %% of quanta ran on one thread, as %u threads measured slower there: a busy "
                 "CPU, or a rack too small to share",
                 100.0 * (double)g->solo_quanta / (double)ran, g->pool_threads);
    else if (g->pool && g->pool_threads > 1 && s->ivcsw_all > REP_PREEMPT_MIN && s->ivcsw_all > ran / 100)
        /* the threads wait for each other every quantum: one preempted holds them all */
        snprintf(solo, sizeof solo, "preempted %ld times by other work on the machine, and every thread waits each "
                 "quantum for the slowest: without --threads the rack measures and picks",
                 s->ivcsw_all);
    char split[160] = ""; /* the balanced ranges (rig_cuts_balance), for a few threads */
    if (g->pool && g->pool_threads > 1 && g->pool_threads <= 8) {
        int at = snprintf(split, sizeof split, "modules");
        for (unsigned i = 0; i < g->pool_threads && at > 0 && (size_t)at < sizeof split; i++)
            at += snprintf(split + at, sizeof split - (size_t)at, "%s%u", i ? "+" : " ", rig_thread_modules(g, i));
        if (at > 0 && (size_t)at < sizeof split) /* it follows the CPUs' speeds (every 128 quanta), so it varies */
            snprintf(split + at, sizeof split - (size_t)at, " per thread%s",
                     ran >= 128 ? ", balanced to this run's CPU speeds" : "");
    }
    char paren[380] = "";
    if (split[0] || solo[0])
        snprintf(paren, sizeof paren, " (%s%s%s)", split, split[0] && solo[0] ? "; " : "", solo);
    char wall[40];
    if (s->wall_s < 1.0)
        snprintf(wall, sizeof wall, "%.3f ms", s->wall_s * 1e3);
    else
        snprintf(wall, sizeof wall, "%.3f s", s->wall_s);
    fprintf(f, "\ntiming: %ld %s of 100 us in %s wall (%.2f x real time) on %u thread%s%s, set-up %.3f s\n", ran,
            ran == 1 ? "quantum" : "quanta", wall, sn.t_ns * 1e-9 / s->wall_s, g->pool ? g->pool_threads : 1,
            g->pool && g->pool_threads > 1 ? "s" : "", paren, s->init_s);
    if (o->realtime && ran > 0) {
        int64_t *late = malloc((size_t)ran * sizeof *late);
        if (late) {
            memcpy(late, s->late, (size_t)ran * sizeof *late);
            qsort(late, (size_t)ran, sizeof *late, rep_cmp);
            char workers[96] = "";
            if (g->pool && g->pool_threads > 1)
                snprintf(workers, sizeof workers, ", %u workers %s", s->fifo_workers, s->fifo ? "FIFO" : "pinned");
            else if (s->fifo && g->o.threads > 1 && !g->o.log)
                snprintf(workers, sizeof workers, ", 1 thread: workers could not all be FIFO with a CPU kept free");
            else if (!s->fifo && g->o.threads > 1 && !g->o.log && g->o.threads_adapt && rig_cpus() > 2)
                snprintf(workers, sizeof workers, ", 1 thread: the default when paced (--threads N for more)");
            else if (!s->fifo && g->o.threads > 1 && !g->o.log)
                snprintf(workers, sizeof workers, ", 1 thread: no CPU to spare for a worker");
            char wait[64];
            int64_t spin = o->rt_spin_ns ? o->rt_spin_ns : SES_RT_SPIN_NS;
            if (spin < 0)
                snprintf(wait, sizeof wait, "sleeping to each deadline");
            else
                snprintf(wait, sizeof wait, "spinning the last %.4g us of each quantum", spin / 1e3);
            fprintf(f,
                    "realtime (%s%s, %s, %s): lateness min %.1f us, median %.1f us, p99 %.1f us, p99.9 %.1f us, "
                    "max %.1f us; %ld quant%s late by more than %.3g us (%.3f %% of quanta late), %ld overrun%s (%.3f "
                    "%%)\n",
                    s->fifo ? "SCHED_FIFO"
                    : o->rt_spin_ns == 0 || o->rt_spin_ns >= RIG_PERIOD_NS
                        ? "SCHED_OTHER by choice: Linux stops a SCHED_FIFO thread that spins for 50 ms of each second"
                        : "SCHED_OTHER: no permission for FIFO",
                    workers, s->locked ? "memory locked" : "not locked", wait, late[0] / 1e3, late[ran / 2] / 1e3,
                    late[ran * 99 / 100] / 1e3, late[ran * 999 / 1000] / 1e3, late[ran - 1] / 1e3, s->late_n,
                    s->late_n == 1 ? "um" : "a", ses_rt_tol_ns(o) / 1e3, 100.0 * (double)s->late_n / (double)ran,
                    s->overruns, s->overruns == 1 ? "" : "s", 100.0 * (double)s->overruns / (double)ran);
            free(late);
            if (s->ivcsw >= 0)
                fprintf(f, "realtime: the host's scheduler took the CPU from the run %ld times (involuntary context "
                           "switches)%s\n",
                        s->ivcsw, s->ivcsw ? ": other work on the machine" : "");
            if (s->late_n * 1000 > ran) /* over 0.1 % */
            {
                char tol[80] = ""; /* the bench counts at the default tolerance */
                if (ses_rt_tol_ns(o) != SES_RT_TOL_NS)
                    snprintf(tol, sizeof tol, ", not this run's %.3g us", ses_rt_tol_ns(o) / 1e3);
                fprintf(f, "realtime: over 0.1 %% of quanta late: is it the host? `ek3 bench bridge` runs this rack %s "
                           "beside a bare %s loop, both late past %.3g us%s (bridge.realtime84.late_pct against "
                           "%s; docs/bridge.md, Real time)\n",
                        spin < 0 ? "spinning" : "as here", spin < 0 ? "sleep" : "spin", SES_RT_TOL_NS / 1e3, tol,
                        spin < 0 ? "bridge.host_floor.late_pct for a sleeping wait" : "bridge.realtime84.host_spin_late_pct");
            }
        }
    }
    free(sn.mod);
    return 0;
}

/* The record's rack columns (session.h) and the signal each one holds
 * (scenarios/sig.h: the same value at the same instant), in the order
 * trace.csv gives them. */
static const struct {
    const char *col, *path;
} rep_cols[] = {{"vbus", "bus.v"},         {"i_load", "bus.i"},       {"p_load", "bus.p"},
                {"i_min", "rack.i_min"},   {"i_mean", "rack.i_mean"}, {"i_max", "rack.i_max"},
                {"tj_max", "rack.tj_max"}, {"online", "rack.online"}, {"stn_sent", "station.sent"},
                {"stn_acked", "station.acked"}};
enum { REP_COLS = sizeof rep_cols / sizeof rep_cols[0] };

int rep_trace_csv(FILE *f, const ses *s)
{
    sig_ref ref[REP_COLS];
    int col[REP_COLS], ct = ses_probe_find(s, "t");
    for (unsigned k = 0; k < REP_COLS; k++) {
        col[k] = ses_probe_find(s, rep_cols[k].col);
        if (col[k] < 0 || ct < 0 || sig_resolve(s, rep_cols[k].path, &ref[k], NULL, 0))
            return EK3_ENOENT;
    }
    trc_csv_head(f, ref, REP_COLS);
    for (long i = 0; i < ses_rec_rows(s); i++) {
        const double *r = ses_rec_row(s, i);
        double v[REP_COLS];
        for (unsigned k = 0; k < REP_COLS; k++)
            v[k] = r[col[k]];
        trc_csv_row(f, r[ct], v, REP_COLS);
    }
    return 0;
}

/* A plot's result: 0, or 1 after saying which file and why. */
static int rep_plot(const char *who, const char *path, int rc)
{
    if (!rc)
        return 0;
    fprintf(stderr, "ek3 %s: %s: cannot write the plot: %s\n", who, path,
            rc == EK3_EIO && errno ? strerror(errno) : ek3_strerror(rc));
    return 1;
}

enum { REP_MARKS = 24 }; /* event markers on a plot at most (the first ones in time) */

/* The run's events as plot markers, in time order: the timeline's that
 * took effect (the station's start, load steps, pulls, faults injected),
 * the modules' FAULT_ALERTs (trips) and the collapse. Returns how many. */
static size_t rep_markers(const ses *s, const ses_snap *sn, splot_marker *mk, char (*lab)[64], size_t max)
{
    size_t n = 0;
    for (unsigned i = 0; i < s->nev && n < max; i++) {
        const ses_event *e = &s->ev[i];
        if (e->done_ns < 0)
            continue;
        const char *col = "gray40";
        switch (e->kind) {
        case SES_EV_START:
            snprintf(lab[n], sizeof lab[n], "station start");
            break;
        case SES_EV_LOAD:
            snprintf(lab[n], sizeof lab[n], e->ramp_s > 0 ? "load ramp" : "load step");
            break;
        case SES_EV_PULL:
            snprintf(lab[n], sizeof lab[n], "pull %u", e->slot);
            col = "purple";
            break;
        case SES_EV_INSERT:
            snprintf(lab[n], sizeof lab[n], "insert %u", e->slot);
            break;
        case SES_EV_FAULT: { /* as --fault writes it, to its target: "fault igf:3", "fault short:rack" */
            char spec[300];
            if (flt_format(&e->fault, spec, sizeof spec))
                snprintf(spec, sizeof spec, "?");
            spec[strcspn(spec, "@")] = 0;
            snprintf(lab[n], sizeof lab[n], "fault %.50s", spec);
            col = "purple";
            break;
        }
        }
        mk[n] = (splot_marker){e->done_ns * 1e-9, lab[n], col};
        n++;
    }
    /* Trips: one marker for the modules that tripped for one reason
     * within REP_TRIP_GROUP_NS of the first of them ("trip 1-2,4,6-8
     * HW_TRIP"), so that a rack tripping at once is one readable label. */
    const msg_field *fc = &msg_desc_of(CID_TYPE_FAULT)->fields[0];
    enum { REP_TRIP_GROUP_NS = 5000000 }; /* each module's cause (ses_mod_snap), not its last alert */
    unsigned char *done = calloc(sn->n ? sn->n : 1, 1), *in = calloc(sn->n ? sn->n : 1, 1);
    for (unsigned k = 0; done && in && k < sn->n && n < max; k++) {
        const ses_mod_snap *a = &sn->mod[k];
        if (a->cause.ns < 0 || done[k])
            continue;
        const msg_fault_value *mv = msg_fault_value_of(a->cause.code);
        int by_value = mv && mv->code; /* HW_TRIP: one group per comparator; a measurement is no reason */
        for (unsigned j = 0; j < sn->n; j++) { /* this group: not yet in one, the same reason, within the window */
            const ses_alert *c = &sn->mod[j].cause;
            in[j] = j >= k && !done[j] && c->ns >= 0 && c->code == a->cause.code &&
                    (!by_value || c->value == a->cause.value) && llabs(c->ns - a->cause.ns) < REP_TRIP_GROUP_NS;
            done[j] |= in[j];
        }
        const char *why = msg_enum_name(fc, a->cause.code);
        const char *cmp = by_value && a->cause.value > 0 ? msg_enum_name(fc, (int64_t)a->cause.value) : NULL;
        char slots[40];
        rep_slot_ranges(slots, sizeof slots, in, sn->n);
        /* a latched alert tripped the module; any other (a restarted service, a warning) did not */
        snprintf(lab[n], sizeof lab[n], "%s %s %s%s%s%s", a->cause.flags & MSG_FAULT_F_LATCHED ? "trip" : "alert", slots,
                 why ? why : "", cmp ? " (" : "", cmp ? cmp : "", cmp ? ")" : "");
        mk[n] = (splot_marker){a->cause.ns * 1e-9, lab[n], a->cause.flags & MSG_FAULT_F_LATCHED ? "red" : "orange"};
        n++;
    }
    free(done);
    free(in);
    if (s->collapse_ns >= 0 && n < max) {
        snprintf(lab[n], sizeof lab[n], "collapse");
        mk[n] = (splot_marker){s->collapse_ns * 1e-9, lab[n], "red"};
        n++;
    }
    return n;
}

/* A time chart of the run with its event markers. */
static int rep_chart(const char *path, const char *title, const char *ylabel, const splot_series *sr, size_t ns,
                     const splot_marker *mk, size_t nm)
{
    splot_chart ch = {.title = title, .xlabel = "time (s)", .ylabel = ylabel, .s = sr, .ns = ns, .mk = mk,
                      .nmk = nm, .span0 = NAN, .span1 = NAN, .x0 = NAN, .x1 = NAN};
    return splot_draw(path, &ch);
}

int rep_plots(const char *dir, ses *s, const char *who)
{
    long n = ses_rec_rows(s);
    if (n < 2) { /* the rack at 0 s alone: nothing to draw against time */
        fprintf(stderr, "ek3 %s: stopped before the first quantum: no plots\n", who);
        return 0;
    }
    static const char *const names[6] = {"t", "vbus", "p_load", "i_min", "i_mean", "i_max"};
    double *col[6] = {0};
    ses_snap sn;
    int bad = !rep_snap(s, &sn);
    for (int j = 0; j < 6; j++) {
        int c = ses_probe_find(s, names[j]);
        col[j] = malloc((size_t)n * sizeof(double));
        bad |= !col[j];
        for (long i = 0; col[j] && i < n; i++)
            col[j][i] = ses_rec_row(s, i)[c] / (j == 2 ? 1e3 : 1);
    }
    double *bars = malloc((sn.n ? sn.n : 1) * sizeof *bars);
    if (!bad && bars) {
        double isum = 0;
        unsigned present = 0;
        for (unsigned k = 0; k < sn.n; k++) {
            bars[k] = sn.mod[k].io;
            if (sn.mod[k].present)
                isum += sn.mod[k].io, present++;
        }
        double imean = present ? isum / present : 0;
        double *t = col[0];
        char path[600], lab[REP_MARKS][64];
        splot_marker mk[REP_MARKS];
        size_t nm = rep_markers(s, &sn, mk, lab, REP_MARKS);
        static const char *const ext[2] = {"png", "svg"};
        for (int e = 0; e < 2; e++) {
            splot_series vb = {"bus voltage", "blue", t, col[1], (size_t)n};
            snprintf(path, sizeof path, "%s/bus_voltage.%s", dir, ext[e]);
            errno = 0;
            bad |= rep_plot(who, path, rep_chart(path, "Rack DC bus", "bus voltage (V)", &vb, 1, mk, nm));
            splot_series pl = {"load power", "darkgreen", t, col[2], (size_t)n};
            snprintf(path, sizeof path, "%s/load_power.%s", dir, ext[e]);
            errno = 0;
            bad |= rep_plot(who, path, rep_chart(path, "Load power", "load power (kW)", &pl, 1, mk, nm));
            splot_series cur[3] = {{"min", "red", t, col[3], (size_t)n},
                                   {"mean", "black", t, col[4], (size_t)n},
                                   {"max", "blue", t, col[5], (size_t)n}};
            snprintf(path, sizeof path, "%s/module_current.%s", dir, ext[e]);
            errno = 0;
            bad |= rep_plot(who, path,
                            rep_chart(path, "Module output current: min, mean, max", "module output current (A)",
                                      cur, 3, mk, nm));
            snprintf(path, sizeof path, "%s/current_sharing.%s", dir, ext[e]);
            errno = 0;
            bad |= rep_plot(who, path,
                            splot_bars(path, "Current sharing at the end (droop)", "slot", "module output current (A)",
                                       bars, sn.n, imean));
        }
    } else {
        bad = 1;
    }
    for (int j = 0; j < 6; j++)
        free(col[j]);
    free(bars);
    free(sn.mod);
    return bad;
}
