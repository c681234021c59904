/* station.c - API in, authenticated POWER_CMD out, with timeouts and retries. */
#include "station.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "can_id.h"
#include "cli.h"
#include "ek3_err.h"

static void stn_log(station *s, int64_t now, const char *fmt, const char *what, unsigned slot, double a, double b)
{
    if (s->log) {
        fprintf(s->log, "%.6f station: ", now * 1e-9);
        fprintf(s->log, fmt, what, slot, a, b);
        fputc('\n', s->log);
    }
}

int stn_init(station *s, unsigned n, auth_crypto cr, const uint8_t rack_key[AUTH_KEY_LEN], const char *api_key,
             double rate_per_s, double burst, int (*send)(void *, const cfd_frame *), void *send_ctx)
{
    memset(s, 0, sizeof *s);
    if (n < 1 || n > CID_NODE_MODULE_MAX || !api_key || strlen(api_key) < 8 || strlen(api_key) >= sizeof s->api_key ||
        !(rate_per_s > 0) || !(burst >= 1) || !send)
        return EK3_EINVAL;
    s->m = calloc(n, sizeof *s->m);
    if (!s->m)
        return EK3_ENOSPC;
    s->n = n;
    s->cr = cr;
    memcpy(s->rack_key, rack_key, AUTH_KEY_LEN);
    strcpy(s->api_key, api_key);
    s->rate = rate_per_s;
    s->burst = s->tokens = burst;
    s->tok_ns = 0;
    s->send = send;
    s->send_ctx = send_ctx;
    for (unsigned k = 0; k < n; k++) {
        s->m[k].hb_ns = -1;
        s->m[k].fault_ns = -1;
        s->m[k].cause_ns = -1;
        s->m[k].first_ns = -1;
        s->m[k].latched_ns = -1;
        s->m[k].diag_ns = -1;
        s->m[k].tx.next = 1;
    }
    s->group_tx.next = 1;
    return EK3_OK;
}

void stn_free(station *s)
{
    free(s->m);
    s->m = NULL;
}

/* Slot k + 1 heard within STN_ONLINE_NS (and not given up since). */
static int stn_is_online(const station *s, unsigned k, int64_t now)
{
    return s->m[k].hb_ns >= 0 && now - s->m[k].hb_ns <= STN_ONLINE_NS;
}

int stn_heard(const station *s, unsigned slot, int64_t now)
{
    return slot >= 1 && slot <= s->n && stn_is_online(s, slot - 1, now);
}

unsigned stn_online(const station *s, int64_t now)
{
    unsigned c = 0;
    for (unsigned k = 0; k < s->n; k++)
        c += stn_is_online(s, k, now);
    return c;
}

int stn_lost(station *s, unsigned slot)
{
    if (slot < 1 || slot > s->n)
        return EK3_ERANGE;
    s->m[slot - 1].hb_ns = -1;
    s->m[slot - 1].judge = 0;
    s->dem_dirty = 1;
    return EK3_OK;
}

/* Constant-time comparison: the key's prefix must not leak by timing. */
static int stn_key_ok(const station *s, const char *key)
{
    size_t a = strlen(s->api_key), b = key ? strlen(key) : 0;
    unsigned diff = (unsigned)(a ^ b);
    for (size_t i = 0; i < a; i++)
        diff |= (unsigned char)s->api_key[i] ^ (unsigned char)(i < b ? key[i] : 0);
    return diff == 0;
}

/* One line for a burst of refusals (why), then start counting anew. */
static void stn_burst_log(station *s, stn_burst *b, const char *why)
{
    if (b->n && s->log)
        fprintf(s->log, "%.6f station: refused %u API request%s in %.3f s: %s\n", b->last_ns * 1e-9, b->n,
                b->n == 1 ? "" : "s", (b->last_ns - b->first_ns) * 1e-9, why);
    b->n = 0;
}

static void stn_burst_add(stn_burst *b, int64_t now)
{
    if (!b->n++)
        b->first_ns = now;
    b->last_ns = now;
}

static int stn_gate(station *s, int64_t now, const char *key)
{
    if (!stn_key_ok(s, key)) {
        s->st.api_bad_key++;
        stn_burst_add(&s->bad_key_burst, now);
        return EK3_EPERM;
    }
    s->tokens += (now - s->tok_ns) * 1e-9 * s->rate;
    if (s->tokens > s->burst)
        s->tokens = s->burst;
    s->tok_ns = now;
    if (s->tokens < 1) {
        s->st.api_rate++;
        stn_burst_add(&s->rate_burst, now);
        return EK3_EBUSY;
    }
    s->tokens -= 1;
    stn_burst_log(s, &s->rate_burst, "rate limit"); /* a request got through: that burst is over */
    return EK3_OK;
}

int stn_api_check(station *s, int64_t now, const char *api_key)
{
    return stn_gate(s, now, api_key);
}

/* Node `slot`'s key (auth_derive_key), derived once: it is a function of
 * the crypto, the rack key and the node alone. 0 or auth_derive_key's
 * error (nothing cached then). */
static int stn_key(station *s, unsigned slot, uint8_t key[AUTH_KEY_LEN])
{
    if (s->key_cr.cmac != s->cr.cmac || s->key_cr.ctx != s->cr.ctx ||
        memcmp(s->key_rack, s->rack_key, AUTH_KEY_LEN)) {
        for (unsigned k = 0; k < s->n; k++)
            s->m[k].key_ok = 0;
        s->bkey_ok = 0;
        s->key_cr = s->cr;
        memcpy(s->key_rack, s->rack_key, AUTH_KEY_LEN);
    }
    uint8_t *c, *ok;
    if (slot >= 1 && slot <= s->n) {
        c = s->m[slot - 1].key;
        ok = &s->m[slot - 1].key_ok;
    } else if (slot == CID_NODE_BROADCAST) {
        c = s->bkey;
        ok = &s->bkey_ok;
    } else {
        return auth_derive_key(&s->cr, s->rack_key, (uint16_t)slot, key);
    }
    if (!*ok) {
        int rc = auth_derive_key(&s->cr, s->rack_key, (uint16_t)slot, c);
        if (rc)
            return rc;
        *ok = 1;
    }
    memcpy(key, c, AUTH_KEY_LEN);
    return EK3_OK;
}

/* The unsigned frame of payload[0..len) from the station to `slot`, and
 * that module's key. 0, EK3_EDLC or the identifier's or key's error. */
static int stn_frame(station *s, unsigned slot, unsigned type, unsigned prio, const uint8_t *payload,
                     size_t len, cfd_frame *f, uint8_t key[AUTH_KEY_LEN])
{
    cid_fields cf = {(uint8_t)prio, (uint8_t)type, CID_NODE_STATION, (uint16_t)slot};
    memset(f, 0, sizeof *f);
    f->flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS;
    if (len > sizeof f->data)
        return EK3_EDLC;
    memcpy(f->data, payload, len);
    f->len = (uint8_t)len;
    int rc = cid_encode(&cf, &f->id);
    return rc ? rc : stn_key(s, slot, key);
}

/* Sign payload[0..len) and send it to `slot`; *fv gets its freshness
 * counter. A POWER_CMD on the wire is recorded, as an eavesdropper would
 * (stn_fault_replay). */
static int stn_sign_send_raw(station *s, unsigned slot, unsigned type, unsigned prio, const uint8_t *payload,
                             size_t len, uint32_t *fv)
{
    stn_module *m = &s->m[slot - 1];
    cfd_frame f;
    uint8_t key[AUTH_KEY_LEN];
    int rc = stn_frame(s, slot, type, prio, payload, len, &f, key);
    if (!rc && s->full && s->full(s->send_ctx)) { /* refused whatever its tag: not signed, its counter spent */
        rc = auth_spend(&m->tx, f.len, fv);
        return rc ? rc : EK3_EFULL;
    }
    if (!rc)
        rc = auth_sign(&s->cr, key, &m->tx, &f, fv);
    if (!rc)
        rc = s->send(s->send_ctx, &f);
    if (!rc && type == CID_TYPE_POWER_CMD) {
        m->last_cmd = f;
        m->has_last = 1;
    }
    return rc;
}

/* Encode, sign with the module's key and send one frame to `slot`;
 * *fv gets its freshness counter. */
static int stn_sign_send(station *s, unsigned slot, unsigned type, unsigned prio, const void *payload, uint32_t *fv)
{
    uint8_t buf[CFD_MAX_LEN];
    msg_err e;
    int n = msg_encode(type, payload, buf, sizeof buf, &e);
    if (n < 0)
        return n;
    return stn_sign_send_raw(s, slot, type, prio, buf, (size_t)n, fv);
}

int stn_send_fw(station *s, unsigned dst, const msg_fw_update *u)
{
    uint8_t buf[CFD_MAX_LEN];
    msg_err e;
    int n = msg_encode(CID_TYPE_FW_UPDATE, u, buf, sizeof buf, &e);
    if (n < 0)
        return n;
    if (dst != CID_NODE_BROADCAST) {
        if (dst < 1 || dst > s->n)
            return EK3_ENOENT;
        return stn_sign_send_raw(s, dst, CID_TYPE_FW_UPDATE, CID_PRIO_BACKGROUND, buf, (size_t)n, NULL);
    }
    cfd_frame f;
    uint8_t key[AUTH_KEY_LEN];
    int rc = stn_frame(s, CID_NODE_BROADCAST, CID_TYPE_FW_UPDATE, CID_PRIO_BACKGROUND, buf, (size_t)n, &f, key);
    if (!rc)
        rc = auth_sign(&s->cr, key, &s->group_tx, &f, NULL);
    return rc ? rc : s->send(s->send_ctx, &f);
}

/* Keep pend_due at or before the first poll that has something to do
 * for m (station.h): a command waiting for room at once, one awaiting
 * its answer at its timeout. */
static void stn_pend_due(station *s, const stn_module *m)
{
    if (!m->pending)
        return;
    int64_t due = m->queued ? INT64_MIN : m->sent_ns + STN_TIMEOUT_NS;
    if (due < s->pend_due)
        s->pend_due = due;
}

unsigned stn_awaiting(const station *s)
{
    unsigned n = 0;
    for (unsigned k = 0; k < s->n; k++)
        n += s->m[k].pending && !s->m[k].queued;
    return n;
}

/* Send the module's current command (again: a new counter each time). */
static int stn_transmit(station *s, unsigned slot, int64_t now)
{
    stn_module *m = &s->m[slot - 1];
    int rc = stn_sign_send(s, slot, CID_TYPE_POWER_CMD, CID_PRIO_HIGH, &m->cmd, &m->fv);
    if (rc == EK3_EFULL) { /* the controller's queue is full: again next period */
        m->pending = m->queued = 1;
        stn_pend_due(s, m);
        return EK3_OK;
    }
    if (rc && rc != EK3_EBUSY)
        return rc;
    /* sent; or refused by its own controller (the station cut off the bus, bus-off): a frame lost on the wire to
     * it, counted sent and answered by none, so retried after its timeout and given up */
    if (rc && s->log)
        fprintf(s->log,
                "%.6f station: command to module %u not sent: the station is off the bus (cut off or bus-off)\n",
                now * 1e-9, slot);
    m->sent_ns = now;
    m->pending = 1;
    m->queued = 0;
    s->st.sent++;
    stn_pend_due(s, m);
    return EK3_OK;
}

/* restart: START even to a module in FAULT (the module then clears its
 * latches if the fault is gone); otherwise START from standby, SET when
 * running, STOP for 0 W. */
/* A POWER_CMD to slot: op as given (power_w 0: STOP). */
static int stn_command_op(station *s, int64_t now, unsigned slot, unsigned op, double power_w, double vset_v)
{
    stn_module *m = &s->m[slot - 1];
    msg_power_cmd c = {(uint8_t)(power_w > 0 ? op : MSG_POWER_STOP), (uint16_t)(power_w + 0.5),
                       (uint16_t)(vset_v * 10 + 0.5), 4000, 0};
    if (m->pending && !m->queued) /* sent, unanswered: its answer will not count (the counter moves on) */
        s->st.superseded++;
    m->cmd = c;
    m->tries = 0;
    m->acked = 0;
    stn_log(s, now, "%s module %u: %.0f W at %.1f V", "command", slot, power_w, vset_v);
    return stn_transmit(s, slot, now);
}

/* START (a restart: it clears a latched fault) or, for a module already
 * past standby, SET. */
static int stn_command(station *s, int64_t now, unsigned slot, double power_w, double vset_v, int restart)
{
    unsigned op = restart || s->m[slot - 1].hb.state <= MSG_STATE_STANDBY ? MSG_POWER_START : MSG_POWER_SET;
    return stn_command_op(s, now, slot, op, power_w, vset_v);
}

int stn_restore(station *s, int64_t now, unsigned slot)
{
    if (slot < 1 || slot > s->n)
        return EK3_ENOENT;
    const msg_power_cmd *c = &s->m[slot - 1].cmd;
    if ((c->op != MSG_POWER_START && c->op != MSG_POWER_SET) || c->power_w == 0)
        return EK3_OK; /* it was not running by the station's command: it boots as configured */
    return stn_command(s, now, slot, c->power_w, c->vset_dv / 10.0, 1);
}

static int stn_api_one(station *s, int64_t now, const char *api_key, unsigned slot, double power_w, double vset_v,
                       int restart)
{
    int rc = stn_gate(s, now, api_key);
    if (rc)
        return rc;
    if (slot < 1 || slot > s->n || !stn_is_online(s, slot - 1, now)) {
        s->st.api_unknown++;
        stn_log(s, now, "refused request: %s (slot %u, %g W, %g V)", "no such module online", slot, power_w, vset_v);
        return EK3_ENOENT;
    }
    if (!(vset_v >= 200 && vset_v <= 920) || !(power_w >= 0 && power_w <= stn_module_cap(vset_v) + 1e-9)) {
        s->st.api_range++;
        stn_log(s, now, "refused request: %s (slot %u, %g W, %g V)", "outside the module's limits", slot, power_w,
                vset_v);
        return EK3_ERANGE;
    }
    s->st.api_ok++;
    return stn_command(s, now, slot, power_w, vset_v, restart);
}

int stn_api_module(station *s, int64_t now, const char *api_key, unsigned slot, double power_w, double vset_v)
{
    int rc = stn_api_one(s, now, api_key, slot, power_w, vset_v, 0);
    if (rc == EK3_OK) {
        s->m[slot - 1].own = 1; /* out of the rack's split: the next stn_poll splits without it */
        s->dem_dirty = 1;
    }
    return rc;
}

int stn_api_restart(station *s, int64_t now, const char *api_key, unsigned slot, double power_w, double vset_v)
{
    if (!(power_w > 0)) /* a restart to 0 W is no restart */
        power_w = -1;
    return stn_api_one(s, now, api_key, slot, power_w, vset_v, 1);
}

double stn_module_cap(double vset_v)
{
    double c = STN_MODULE_I_A * vset_v;
    return c < STN_MODULE_W ? c : STN_MODULE_W;
}

/* Can module m carry a share of the rack's demand now (station.h)? */
static int stn_member(const station *s, unsigned k, int64_t now)
{
    const stn_module *m = &s->m[k];
    return !m->own && stn_is_online(s, k, now) && m->hb.state != MSG_STATE_FAULT && m->latched_ns < m->hb_ns &&
           !m->implausible;
}

static int stn_rack(station *s, int64_t now, const char *api_key, double total_w, double vset_v, int full);

double stn_demand_short(const station *s, int64_t now, unsigned *members)
{
    unsigned n = 0;
    for (unsigned k = 0; k < s->n; k++)
        n += (unsigned)stn_member(s, k, now);
    *members = n;
    if (!(s->dem_w > 0) || s->dem_full)
        return 0;
    double carried = stn_module_cap(s->dem_v) * n;
    return s->dem_w > carried ? s->dem_w - carried : 0;
}

int stn_api_rack(station *s, int64_t now, const char *api_key, double total_w, double vset_v)
{
    return stn_rack(s, now, api_key, total_w, vset_v, 0);
}

int stn_api_rack_full(station *s, int64_t now, const char *api_key, double vset_v)
{
    return stn_rack(s, now, api_key, 0, vset_v, 1);
}

static int stn_rack(station *s, int64_t now, const char *api_key, double total_w, double vset_v, int full)
{
    int rc = stn_gate(s, now, api_key);
    if (rc)
        return rc;
    unsigned on = stn_online(s, now);
    if (full)
        total_w = stn_module_cap(vset_v) * on;
    if (on == 0) {
        s->st.api_unknown++;
        stn_log(s, now, "refused request: %s (rack of %u, %g W, %g V)", "no module online", on, total_w, vset_v);
        return EK3_ENOENT;
    }
    double each = total_w / on;
    if (!(total_w >= 0) || !(vset_v >= 200 && vset_v <= 920) || each > stn_module_cap(vset_v) + 1e-9) {
        s->st.api_range++;
        stn_log(s, now, "refused request: %s (rack of %u, %g W, %g V)", "beyond the online modules", on, total_w,
                vset_v);
        return EK3_ERANGE;
    }
    s->st.api_ok++;
    if (s->log) { /* the rack's demand, and the slots it goes without (the first 8) */
        char miss[120] = "";
        size_t at = 0;
        unsigned n = 0;
        for (unsigned k = 0; k < s->n; k++)
            if (!stn_is_online(s, k, now))
                cli_list_add(miss, sizeof miss, &at, &n, 8, k + 1);
        fprintf(s->log, "%.6f station: rack demand: %.0f W at %.1f V%s over the %u of %u modules online%s%s%s\n",
                now * 1e-9, total_w, vset_v, full ? " (each module's full capacity)" : "", on, s->n,
                n == 0   ? ""
                : n == 1 ? " (not online: slot "
                         : " (not online: slots ",
                miss, n ? ")" : "");
    }
    s->dem = total_w > 0;
    s->dem_full = (uint8_t)(full != 0);
    s->dem_w = total_w;
    s->dem_v = vset_v;
    s->dem_each = each;
    s->dem_n = 0;
    s->dem_dirty = 1;
    for (unsigned k = 0; k < s->n; k++) {
        stn_module *m = &s->m[k];
        m->own = 0;
        m->rebooted = 0;
        m->share = (uint8_t)stn_member(s, k, now);
        s->dem_n += m->share;
        if (stn_is_online(s, k, now))
            stn_command(s, now, k + 1, each, vset_v, 0);
    }
    return EK3_OK;
}

/* The rack's demand split again when its members changed (station.h). */
static void stn_resplit(station *s, int64_t now)
{
    unsigned n = 0;
    int change = 0;
    int64_t expiry = INT64_MAX;
    for (unsigned k = 0; k < s->n; k++) {
        const stn_module *m = &s->m[k];
        int in = stn_member(s, k, now);
        n += (unsigned)in;
        change |= in != m->share || (in && m->rebooted);
        if (in && m->hb_ns + STN_ONLINE_NS < expiry)
            expiry = m->hb_ns + STN_ONLINE_NS;
    }
    s->dem_dirty = 0;
    s->dem_expiry_ns = expiry;
    if (!change)
        return;
    double cap = stn_module_cap(s->dem_v);
    if (s->dem_full) /* the rack's full capacity: whoever its members are now */
        s->dem_w = cap * n;
    double each = n ? s->dem_w / n : 0;
    s->st.resplits++;
    const char *mods = n == 1 ? "module" : "modules";
    if (s->log)
        fprintf(s->log, "%.6f station: rack demand split over %u %s: %.0f W, %.0f W each\n", now * 1e-9, n, mods,
                s->dem_w, each > cap ? cap : each);
    if (each > cap && s->log)
        fprintf(s->log, "%.6f station: rack demand: %u %s at %s most, %.0f W of %.0f W not carried\n", now * 1e-9, n,
                mods, n == 1 ? "its" : "their", s->dem_w - cap * n, s->dem_w);
    each = each > cap ? cap : each;
    double was = s->dem_each;
    s->dem_each = each;
    s->dem_n = n;
    for (unsigned k = 0; k < s->n; k++) {
        stn_module *m = &s->m[k];
        int in = stn_member(s, k, now), joins = in && (!m->share || m->rebooted);
        if (s->log && (joins || (!in && m->share)))
            fprintf(s->log, "%.6f station: rack split: module %u: %s%.0f W\n", now * 1e-9, k + 1,
                    !joins ? "leaves, its share was "
                    : m->rebooted && m->share
                        ? "back from a reset or a swap (its heartbeat count started again), starts with "
                        : "joins, starts with ",
                    !joins ? was : each);
        /* SET, never START: it starts a module in standby as START does,
         * but never clears a latched fault (only the API's restart does:
         * a module reset with its hardware latched stays off). */
        if (in)
            stn_command_op(s, now, k + 1, MSG_POWER_SET, each, s->dem_v);
        m->share = (uint8_t)in;
        m->rebooted = 0;
    }
}

int stn_api_diag(station *s, int64_t now, const char *api_key, unsigned slot, unsigned test)
{
    int rc = stn_gate(s, now, api_key);
    if (rc)
        return rc;
    if (slot < 1 || slot > s->n || !stn_is_online(s, slot - 1, now)) {
        s->st.api_unknown++;
        return EK3_ENOENT;
    }
    if (test >= MSG_DIAG_TEST_COUNT_) {
        s->st.api_range++;
        return EK3_ERANGE;
    }
    msg_diag req = {MSG_DIAG_REQUEST, (uint8_t)test, MSG_DIAG_RUNNING, 0};
    rc = stn_sign_send(s, slot, CID_TYPE_DIAG, CID_PRIO_LOW, &req, NULL);
    s->st.api_ok += rc == EK3_OK;
    stn_log(s, now, "%s module %u: test %.0f%.0s", "self-test requested of", slot, test, 0);
    return rc;
}

static int stn_cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int stn_running(const msg_heartbeat *hb)
{
    return hb->state == MSG_STATE_ACTIVE || hb->state == MSG_STATE_DERATED;
}

/* The peer check of slot's VOUT reading, STN_PLAUS_LAG after its
 * heartbeat, against the peers heard within STN_PLAUS_NEAR of it: the
 * readings of one moment, as the bus moves (station.h). */
static void stn_plausible(station *s, unsigned slot, int64_t now)
{
    stn_module *m = &s->m[slot - 1];
    m->judge = 0;
    if (!stn_running(&m->hb)) {
        m->vout_strikes = 0;
        return;
    }
    uint16_t v[512];
    unsigned n = 0;
    for (unsigned k = 0; k < s->n && n < sizeof v / sizeof v[0]; k++) {
        const stn_module *p = &s->m[k];
        int64_t dt = p->hb_ns - m->hb_ns;
        if (k != slot - 1 && p->hb_ns >= 0 && dt <= STN_PLAUS_NEAR && dt >= -STN_PLAUS_NEAR && stn_running(&p->hb) &&
            !p->implausible)
            v[n++] = p->hb.vout_dv;
    }
    if (n < STN_PLAUS_PEERS)
        return;
    qsort(v, n, sizeof v[0], stn_cmp_u16);
    double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    double iqr = v[(3 * n) / 4] - v[n / 4];
    if (!(med > 0) || iqr > STN_PLAUS_STEADY * med)
        return; /* the peers disagree among themselves: a transient, judge nothing */
    double off = m->hb.vout_dv - med;
    if (fabs(off) <= fmax(STN_PLAUS_FRAC * med, 4 * iqr)) {
        m->vout_strikes = 0;
        s->dem_dirty |= m->implausible;
        m->implausible = 0;
        return;
    }
    if (m->implausible || ++m->vout_strikes < STN_PLAUS_STRIKES)
        return;
    m->implausible = 1;
    s->dem_dirty = 1;
    s->st.implausible++;
    stn_log(s, now, "%s module %u: its VOUT reads %.1f V, its running peers' median %.1f V: stopped", "implausible",
            slot, m->hb.vout_dv / 10.0, med / 10.0);
    stn_command(s, now, slot, 0, m->cmd.vset_dv / 10.0, 0);
}

void stn_on_frame(station *s, const cfd_frame *f, int64_t now)
{
    cid_fields cf;
    if (!(f->flags & CFD_FLAG_EFF) || cid_decode(f->id, &cf) || cf.src < 1 || cf.src > s->n)
        return;
    stn_module *m = &s->m[cf.src - 1];
    msg_err e;
    if (cf.type == CID_TYPE_HEARTBEAT) {
        msg_heartbeat hb;
        if (msg_decode(CID_TYPE_HEARTBEAT, f->data, f->len, &hb, &e) == EK3_OK) {
            /* Its count started again: CAN_HANDLER came back from a reset
             * (not the count's wrap at 65535; a count heard again is a
             * reset too: heartbeats are never sent twice, and a module
             * reset before its second one sends 0 again). */
            if (m->hb_ns >= 0 && hb.seq <= m->hb.seq && hb.seq < STN_REBOOT_SEQ && m->hb.seq < 0xFFFFu - STN_REBOOT_SEQ)
                m->rebooted = 1;
            m->hb = hb;
            m->hb_ns = now;
            s->dem_dirty = 1; /* its state, or its reset: the split looks again */
            m->judge = 1; /* stn_poll judges it once its peers of the moment are heard */
            if (now + STN_PLAUS_LAG < s->judge_due)
                s->judge_due = now + STN_PLAUS_LAG;
        }
    } else if (cf.type == CID_TYPE_DIAG && cf.dst == CID_NODE_STATION) {
        if (msg_decode(CID_TYPE_DIAG, f->data, f->len, &m->diag, &e) == EK3_OK)
            m->diag_ns = now;
    } else if (cf.type == CID_TYPE_FAULT) {
        if (msg_decode(CID_TYPE_FAULT, f->data, f->len, &m->fault, &e) == EK3_OK) {
            m->fault_ns = now;
            if (!m->alerts++)
                m->first = m->fault, m->first_ns = now;
            s->st.faults++;
            if (!(m->fault.flags & MSG_FAULT_F_CLEARED) && (m->cause_ns < 0 || m->fault.severity > m->cause.severity))
                m->cause = m->fault, m->cause_ns = now;
            if ((m->fault.flags & (MSG_FAULT_F_LATCHED | MSG_FAULT_F_CLEARED)) == MSG_FAULT_F_LATCHED) {
                m->latched_ns = now; /* out of the split until a heartbeat after it */
                s->dem_dirty = 1;
            }
            const char *name = msg_enum_name(&msg_desc_of(CID_TYPE_FAULT)->fields[0], m->fault.code);
            if (s->log) /* as stn_log, the code by name */
                fprintf(s->log, "%.6f station: FAULT_ALERT from module %u: %s (code %u), value %.3f%s\n", now * 1e-9,
                        cf.src, name ? name : "?", (unsigned)m->fault.code, m->fault.value / 1000.0,
                        m->fault.flags & MSG_FAULT_F_CLEARED ? ", cleared" : "");
        }
    } else if (cf.type == CID_TYPE_POWER_ACK && cf.dst == CID_NODE_STATION) {
        msg_power_ack a;
        if (msg_decode(CID_TYPE_POWER_ACK, f->data, f->len, &a, &e) != EK3_OK)
            return;
        if (!m->pending || (a.counter != m->fv && a.result != MSG_ACK_REFUSED)) {
            /* an answer to an earlier attempt, or after the station gave up: counted and logged, not taken */
            s->st.late++;
            if (s->log) /* as stn_log, with the answer by name */
                fprintf(s->log,
                        "%.6f station: late answer from module %u (%s, ignored): target %.0f W, delivering %.0f W\n",
                        now * 1e-9, cf.src,
                        a.result == MSG_ACK_ACCEPTED  ? "accepted"
                        : a.result == MSG_ACK_CLAMPED ? "clamped"
                                                      : "REFUSED",
                        (double)a.target_w, (double)a.actual_w);
            return;
        }
        m->pending = 0;
        m->ack = a;
        m->acked = 1;
        s->st.acked++;
        if (a.result == MSG_ACK_CLAMPED)
            s->st.clamped++;
        if (a.result == MSG_ACK_REFUSED)
            s->st.refused++;
        stn_log(s, now, "%s from module %u: target %.0f W, delivering %.0f W",
                a.result == MSG_ACK_ACCEPTED ? "accepted" : a.result == MSG_ACK_CLAMPED ? "clamped" : "REFUSED",
                cf.src, a.target_w, a.actual_w);
    }
}

static void stn_flood(station *s, int64_t now);

/* The keepalive (stn_poll): the rack's target as the station holds it. */
static void stn_keepalive(station *s, int64_t now)
{
    if (s->st.keepalives && now - s->keepalive_ns < (int64_t)BRD_KEEPALIVE_MS * 1000000)
        return;
    msg_station ka = {MSG_STATION_RACK_TARGET, (uint16_t)stn_online(s, now), 0, 0};
    uint32_t vset = 0;
    for (unsigned k = 0; k < s->n; k++) {
        const msg_power_cmd *c = &s->m[k].cmd;
        if (c->op != MSG_POWER_START && c->op != MSG_POWER_SET)
            continue;
        ka.rack_power_w += c->power_w;
        if (ka.rack_power_w > 2000000u) /* the field's range */
            ka.rack_power_w = 2000000u;
        if (c->vset_dv > vset)
            vset = c->vset_dv;
    }
    ka.bus_vset_dv = (uint16_t)(vset < 2000 ? 2000 : vset > 9200 ? 9200 : vset);
    uint8_t buf[CFD_MAX_LEN];
    msg_err e;
    int n = msg_encode(CID_TYPE_STATION, &ka, buf, sizeof buf, &e);
    cfd_frame f;
    uint8_t key[AUTH_KEY_LEN];
    int rc = n < 0 ? n : stn_frame(s, CID_NODE_BROADCAST, CID_TYPE_STATION, CID_PRIO_MEDIUM, buf, (size_t)n, &f, key);
    if (!rc)
        rc = auth_sign(&s->cr, key, &s->group_tx, &f, NULL);
    if (!rc)
        rc = s->send(s->send_ctx, &f);
    if (rc == EK3_OK) {
        s->keepalive_ns = now;
        s->st.keepalives++;
    } else if (rc != EK3_EFULL) { /* a full queue: again next period; else said, and again a period on */
        s->keepalive_ns = now;
        if (s->log)
            fprintf(s->log, "%.6f station: keepalive not sent: %s\n", now * 1e-9,
                    rc == EK3_EBUSY ? "the station is off the bus (cut off or bus-off)" : ek3_strerror(rc));
    }
}

/* Module k's command in stn_poll: sent once there is room, sent again
 * after its timeout, given up after its retries. */
static void stn_pending(station *s, unsigned k, int64_t now)
{
    stn_module *m = &s->m[k];
    if (m->pending && m->queued) {
        stn_transmit(s, k + 1, now);
        return;
    }
    if (!m->pending || now - m->sent_ns < STN_TIMEOUT_NS)
        return;
    if (m->tries >= STN_RETRIES) {
        m->pending = 0;
        s->st.gave_up++;
        s->st.gave_up_last = k + 1;
        stn_log(s, now, "%s module %u after %.0f retries (%.0f ms each)", "gave up on", k + 1, STN_RETRIES, 100);
        return;
    }
    m->tries++;
    s->st.retries++;
    stn_log(s, now, "%s module %u: attempt %.0f of %.0f", "no answer from", k + 1, m->tries + 1.0,
            STN_RETRIES + 1.0);
    if (stn_transmit(s, k + 1, now) != EK3_OK) /* a new counter: the old frame stays a replay */
        m->sent_ns = now; /* refused by its controller (cut off the bus, bus-off): the next try a timeout on, as
                             for a frame lost on the wire, not at once */
}

void stn_poll(station *s, int64_t now)
{
    stn_keepalive(s, now);
    if (s->flood_rate[0] > 0 || s->flood_rate[1] > 0)
        stn_flood(s, now);
    if (s->bad_key_burst.n && now - s->bad_key_burst.last_ns >= STN_BURST_GAP_NS)
        stn_burst_log(s, &s->bad_key_burst, "bad API key");
    if (s->rate_burst.n && now - s->rate_burst.last_ns >= STN_BURST_GAP_NS)
        stn_burst_log(s, &s->rate_burst, "rate limit");
    if (now >= s->judge_due) { /* else no heartbeat waits for its peer check yet */
        s->judge_due = INT64_MAX;
        for (unsigned k = 0; k < s->n; k++) {
            stn_module *m = &s->m[k];
            if (m->judge && now - m->hb_ns >= STN_PLAUS_LAG)
                stn_plausible(s, k + 1, now);
            if (m->judge && m->hb_ns + STN_PLAUS_LAG < s->judge_due)
                s->judge_due = m->hb_ns + STN_PLAUS_LAG;
        }
    }
    if (s->dem && (s->dem_dirty || now > s->dem_expiry_ns))
        stn_resplit(s, now);
    if (now >= s->pend_due) { /* else no command waits for room or has timed out */
        s->pend_due = INT64_MAX;
        for (unsigned k = 0; k < s->n; k++) {
            stn_pending(s, k, now);
            stn_pend_due(s, &s->m[k]);
        }
    }
}

/* ---- attacks on the trust boundaries (fault.h) ---- */

/* A POWER_CMD payload of power_w at vset_v as the wire carries it, the
 * values written as they are (a field out of the protocol's range too). */
static int stn_raw_cmd(const stn_module *m, double power_w, double vset_v, uint8_t *buf, size_t cap)
{
    if (!(power_w >= 0 && power_w <= 65535) || !(vset_v >= 0 && vset_v <= 6553.5))
        return EK3_ERANGE;
    msg_power_cmd c = {(uint8_t)(power_w > 0 ? (m->hb.state <= MSG_STATE_STANDBY ? MSG_POWER_START : MSG_POWER_SET)
                                             : MSG_POWER_STOP),
                       0, 2000, 4000, 0};
    msg_err e;
    int n = msg_encode(CID_TYPE_POWER_CMD, &c, buf, cap, &e);
    if (n < 6)
        return n < 0 ? n : EK3_EDLC;
    uint16_t p = (uint16_t)(power_w + 0.5), v = (uint16_t)(vset_v * 10 + 0.5);
    buf[2] = (uint8_t)p, buf[3] = (uint8_t)(p >> 8); /* power_w: u16 LE, bytes 2-3 (docs/can-protocol.md) */
    buf[4] = (uint8_t)v, buf[5] = (uint8_t)(v >> 8); /* vset_dv: bytes 4-5 */
    return n;
}

int stn_fault_forge(station *s, unsigned slot, double power_w, double vset_v)
{
    if (slot < 1 || slot > s->n)
        return EK3_ENOENT;
    stn_module *m = &s->m[slot - 1];
    uint8_t buf[CFD_MAX_LEN];
    int n = stn_raw_cmd(m, power_w, vset_v, buf, sizeof buf);
    if (n < 0)
        return n;
    cfd_frame f;
    uint8_t key[AUTH_KEY_LEN];
    int rc = stn_frame(s, slot, CID_TYPE_POWER_CMD, CID_PRIO_HIGH, buf, (size_t)n, &f, key);
    for (unsigned i = 0; i < AUTH_KEY_LEN; i++)
        key[i] ^= 0xA5; /* not the module's key */
    if (!rc)
        rc = auth_sign_with(&s->cr, key, m->tx.next, &f);
    return rc ? rc : s->send(s->send_ctx, &f);
}

int stn_fault_replay(station *s, unsigned slot)
{
    if (slot < 1 || slot > s->n || !s->m[slot - 1].has_last)
        return EK3_ENOENT;
    return s->send(s->send_ctx, &s->m[slot - 1].last_cmd);
}

int stn_fault_command(station *s, int64_t now, unsigned slot, double power_w, double vset_v)
{
    if (slot < 1 || slot > s->n)
        return EK3_ENOENT;
    stn_module *m = &s->m[slot - 1];
    uint8_t buf[CFD_MAX_LEN];
    int n = stn_raw_cmd(m, power_w, vset_v, buf, sizeof buf);
    if (n < 0)
        return n;
    uint32_t fv = 0;
    int rc = stn_sign_send_raw(s, slot, CID_TYPE_POWER_CMD, CID_PRIO_HIGH, buf, (size_t)n, &fv);
    if (rc)
        return rc;
    /* Awaits its answer like any command, but is not sent again. */
    m->fv = fv;
    m->sent_ns = now;
    m->pending = 1;
    m->queued = 0;
    stn_pend_due(s, m);
    m->tries = STN_RETRIES;
    m->acked = 0;
    s->st.sent++;
    stn_log(s, now, "%s module %u: %.0f W at %.1f V (injected, unchecked)", "command", slot, power_w, vset_v);
    return EK3_OK;
}

int stn_fault_flood(station *s, int64_t now, double rate_per_s, int bad_key)
{
    if (!(rate_per_s >= 0 && rate_per_s <= 1e6))
        return EK3_ERANGE;
    unsigned i = bad_key != 0;
    s->flood_rate[i] = rate_per_s;
    s->flood_t0[i] = now;
    s->flood_done[i] = 0;
    return EK3_OK;
}

/* The flood's requests due by now. */
static void stn_flood(station *s, int64_t now)
{
    for (unsigned i = 0; i < 2; i++) {
        if (!(s->flood_rate[i] > 0))
            continue;
        uint64_t due = (uint64_t)((double)(now - s->flood_t0[i]) * 1e-9 * s->flood_rate[i]);
        char wrong[sizeof s->api_key];
        memcpy(wrong, s->api_key, sizeof wrong);
        wrong[0] = (char)(wrong[0] == 'x' ? 'y' : 'x'); /* a key that is not the station's */
        for (; s->flood_done[i] < due; s->flood_done[i]++)
            stn_gate(s, now, i ? wrong : s->api_key);
    }
}
