/* stnapi.c - the station's API over UDP: throttle, authenticate, parse,
 * check, carry out, reply (the wire form: stnapi.h, docs/bridge.md). */
#define _GNU_SOURCE
#include "stnapi.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>

#include "can_id.h"
#include "ek3_err.h"

#define SAPI_WORDS 8   /* request words at most */
#define SAPI_TOKENS 32 /* words of a datagram read at most */

/* ---- the MAC ---------------------------------------------------------------- */

static const char sapi_salt[] = "EK3 station API";

/* K = HKDF-SHA-256(IKM = the API key, salt, info), 32 bytes (RFC 5869). */
static int sapi_derive(const char *key, const char *info, uint8_t out[32])
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (!md || !key)
        return EK3_EINVAL;
    return mbedtls_hkdf(md, (const uint8_t *)sapi_salt, sizeof sapi_salt - 1, (const uint8_t *)key, strlen(key),
                        (const uint8_t *)info, strlen(info), out, 32)
               ? EK3_ECRYPTO
               : EK3_OK;
}

/* HMAC-SHA-256 of the parts a, b (b may be NULL), as 64 lowercase hex digits. */
static int sapi_mac(const uint8_t k[32], const char *a, size_t al, const char *b, size_t bl, char hex[SAPI_MAC_HEX + 1])
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    mbedtls_md_context_t c;
    uint8_t tag[32];
    mbedtls_md_init(&c);
    int bad = !md || mbedtls_md_setup(&c, md, 1) || mbedtls_md_hmac_starts(&c, k, 32) ||
              mbedtls_md_hmac_update(&c, (const uint8_t *)a, al) ||
              (b && mbedtls_md_hmac_update(&c, (const uint8_t *)b, bl)) || mbedtls_md_hmac_finish(&c, tag);
    mbedtls_md_free(&c);
    if (bad)
        return EK3_ECRYPTO;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", tag[i]);
    return EK3_OK;
}

/* Equal, in time that does not depend on where they differ. Case of hex digits is folded. */
static int sapi_hex_eq(const char *x, const char *y, size_t n)
{
    unsigned d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned)((unsigned char)x[i] | 0x20) ^ (unsigned)((unsigned char)y[i] | 0x20);
    return d == 0;
}

static int64_t sapi_realtime_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- replies ------------------------------------------------------------------- */

static int sapi_reply(char *reply, size_t cap, int rc, const char *fmt, ...)
{
    int n = rc == EK3_OK ? snprintf(reply, cap, "ok ") : snprintf(reply, cap, "error %s: ", ek3_errname(rc));
    if (n < 0 || (size_t)n >= cap)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reply + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
    return rc;
}

/* A number that is the whole word and finite. */
static int sapi_num(const char *w, double *x)
{
    char *end;
    *x = strtod(w, &end);
    return *w && !*end && isfinite(*x);
}

/* A slot number; whether the module exists is the station's to say. */
static int sapi_slot(const char *w, unsigned *slot)
{
    double x;
    if (!sapi_num(w, &x) || x != floor(x) || x < 1 || x > 65535)
        return 0;
    *slot = (unsigned)x;
    return 1;
}

static const char *sapi_station_why(int rc)
{
    switch (rc) {
    case EK3_EPERM: return "bad API key";
    case EK3_EBUSY: return "rate limit: try later";
    case EK3_ENOENT: return "no such module online";
    case EK3_ERANGE: return "outside the module's limits (0..3300 W, 200..920 V, 4.0 A) or the rack's";
    default: return ek3_strerror(rc);
    }
}

static int sapi_status(sapi *a, int64_t now, unsigned slot, char *reply, size_t cap)
{
    station *s = a->stn;
    if (!slot)
        return sapi_reply(reply, cap, EK3_OK,
                          "rack %u modules, %u online; sent %u acked %u clamped %u refused %u retries %u gave-up %u "
                          "faults %u; api ok %u rate %u range %u unknown %u; requests %u malformed %u bad-mac %u "
                          "stale %u replayed %u throttled %u bursts %u",
                          s->n, stn_online(s, now), s->st.sent, s->st.acked, s->st.clamped, s->st.refused,
                          s->st.retries, s->st.gave_up, s->st.faults, s->st.api_ok, s->st.api_rate, s->st.api_range,
                          s->st.api_unknown, a->st.requests, a->st.malformed, a->st.bad_mac, a->st.stale,
                          a->st.replayed, a->st.throttled, a->st.bursts);
    const stn_module *m = &s->m[slot - 1];
    if (m->hb_ns < 0)
        return sapi_reply(reply, cap, EK3_OK, "module %u silent", slot);
    const msg_desc *d = msg_desc_of(CID_TYPE_HEARTBEAT), *dg = msg_desc_of(CID_TYPE_DIAG);
    const char *state = msg_enum_name(&d->fields[0], m->hb.state);
    /* the last self-test's answer (diag SLOT TEST asks; the answer comes later): the audit log's head as
     * `ek3 audit verify --head` takes it, its first 4 bytes in order (msg.h: MSG_DIAG_AUDIT) */
    char last[96] = "; no self-test answered";
    if (m->diag_ns >= 0) {
        const char *t = msg_enum_name(&dg->fields[1], m->diag.test),
                   *res = msg_enum_name(&dg->fields[2], m->diag.result);
        uint32_t v = m->diag.value;
        if (m->diag.test == MSG_DIAG_AUDIT)
            snprintf(last, sizeof last, "; self-test %s %s head %02x%02x%02x%02x %.3f s ago", t ? t : "?",
                     res ? res : "?", (unsigned)(v & 0xFF), (unsigned)(v >> 8 & 0xFF), (unsigned)(v >> 16 & 0xFF),
                     (unsigned)(v >> 24), (now - m->diag_ns) * 1e-9);
        else
            snprintf(last, sizeof last, "; self-test %s %s value %lu %.3f s ago", t ? t : "?", res ? res : "?",
                     (unsigned long)v, (now - m->diag_ns) * 1e-9);
    }
    return sapi_reply(
        reply, cap, EK3_OK, "module %u %s %u W %.1f V %.3f A %.1f C health 0x%02x heard %.3f s ago; last ack %s %u W%s",
        slot, state ? state : "?", m->hb.power_w, m->hb.vout_dv / 10.0, m->hb.iout_ma / 1000.0, m->hb.temp_dc / 10.0,
        m->hb.health, (now - m->hb_ns) * 1e-9, m->acked ? "yes" : "none", m->ack.target_w, last);
}

/* The request words parsed: what sapi_carry_out runs, and what `ek3 api`
 * checks before it sends. */
typedef struct sapi_cmd {
    enum { SAPI_MODULE, SAPI_RESTART, SAPI_RACK, SAPI_DIAG, SAPI_STATUS } verb;
    unsigned slot;       /* 0: none (rack, status of the rack) */
    double watts, volts; /* volts < 0: the rack's set point */
    unsigned test;       /* DIAG: the msg_diag_test */
} sapi_cmd;

/* Parse request words; 0, or EK3_EPARSE with the expected form in why. */
static int sapi_parse(char **w, int n, sapi_cmd *c, char *why, size_t cap)
{
    *c = (sapi_cmd){.volts = -1};
    const char *verb = n >= 1 ? w[0] : "";
    if (n >= 2 &&
        (!strcmp(verb, "module") || !strcmp(verb, "restart") || !strcmp(verb, "diag") || !strcmp(verb, "status")) &&
        !sapi_slot(w[1], &c->slot)) {
        snprintf(why, cap, "%s: SLOT '%.16s' is not a slot: a whole number from 1 (the rack's modules)", verb, w[1]);
        return EK3_EPARSE;
    }
    if (!strcmp(verb, "module") || !strcmp(verb, "restart")) {
        c->verb = verb[0] == 'r' ? SAPI_RESTART : SAPI_MODULE;
        if (n >= 3 && n <= 4 && sapi_slot(w[1], &c->slot) && sapi_num(w[2], &c->watts) &&
            (n == 3 || sapi_num(w[3], &c->volts)))
            return 0;
        snprintf(why, cap, "expected: %s SLOT WATTS [VOLTS]", verb);
        return EK3_EPARSE;
    }
    if (!strcmp(verb, "rack")) {
        c->verb = SAPI_RACK;
        if (n >= 2 && n <= 3 && sapi_num(w[1], &c->watts) && (n == 2 || sapi_num(w[2], &c->volts)))
            return 0;
        snprintf(why, cap, "expected: rack WATTS [VOLTS]");
        return EK3_EPARSE;
    }
    if (!strcmp(verb, "diag")) {
        const msg_field *f = &msg_desc_of(CID_TYPE_DIAG)->fields[1];
        int test = -1;
        for (int v = 0; n == 3 && v <= f->max; v++)
            if (!strcasecmp(w[2], msg_enum_name(f, v)))
                test = v;
        c->verb = SAPI_DIAG;
        if (n == 3 && sapi_slot(w[1], &c->slot) && test >= 0) {
            c->test = (unsigned)test;
            return 0;
        }
        snprintf(why, cap, "expected: diag SLOT all|adc|pwm|fan|ntc|flash|crypto|can|audit");
        return EK3_EPARSE;
    }
    if (!strcmp(verb, "status")) {
        c->verb = SAPI_STATUS;
        if (n <= 2 && (n < 2 || sapi_slot(w[1], &c->slot)))
            return 0;
        snprintf(why, cap, "expected: status [SLOT]");
        return EK3_EPARSE;
    }
    if (n < 1)
        snprintf(why, cap, "expected: module|restart|rack|diag|status ...");
    else
        snprintf(why, cap, "unknown request '%.32s' (module, restart, rack, diag, status)", verb);
    return EK3_EPARSE;
}

int sapi_req_check(const char *req, char *why, size_t cap)
{
    char line[SAPI_LINE_MAX], *w[SAPI_WORDS + 1], *save = NULL;
    int n = 0;
    if (strlen(req) >= sizeof line) {
        snprintf(why, cap, "longer than %d bytes", SAPI_LINE_MAX - 1);
        return EK3_EPARSE;
    }
    strcpy(line, req);
    for (char *t = strtok_r(line, " \t", &save); t && n <= SAPI_WORDS; t = strtok_r(NULL, " \t", &save))
        w[n++] = t;
    if (n > SAPI_WORDS) {
        snprintf(why, cap, "more than %d request words", SAPI_WORDS);
        return EK3_EPARSE;
    }
    sapi_cmd c;
    return sapi_parse(w, n, &c, why, cap);
}

/* The request words of an authenticated request, carried out. The key
 * has been proven by the MAC; the station still applies its rate limit
 * and its checks. */
static int sapi_carry_out(sapi *a, int64_t now, char **w, int n, char *reply, size_t cap)
{
    station *s = a->stn;
    const char *key = s->api_key;
    sapi_cmd c;
    char why[128];
    if (sapi_parse(w, n, &c, why, sizeof why))
        return sapi_reply(reply, cap, EK3_EPARSE, "%s", why);
    double volts = c.volts >= 0 ? c.volts : a->vset_v;
    const msg_field *f = &msg_desc_of(CID_TYPE_DIAG)->fields[1];
    int rc;
    switch (c.verb) {
    case SAPI_MODULE:
    case SAPI_RESTART:
        rc = c.verb == SAPI_RESTART ? stn_api_restart(s, now, key, c.slot, c.watts, volts)
                                    : stn_api_module(s, now, key, c.slot, c.watts, volts);
        if (rc)
            return sapi_reply(reply, cap, rc, "%s", sapi_station_why(rc));
        unsigned members;
        double shortw = c.verb == SAPI_MODULE ? stn_demand_short(s, now, &members) : 0;
        if (shortw > 0) /* out of the split: the others' share grows past what they carry */
            return sapi_reply(reply, cap, rc,
                              "module %u to %.0f W at %.1f V: POWER_CMD sent; warning: the rack's demand of %.0f W "
                              "over the %u module%s left in its split: %.0f W not carried",
                              c.slot, c.watts, volts, s->dem_w, members, members == 1 ? "" : "s", shortw);
        return sapi_reply(reply, cap, rc, "module %u %s %.0f W at %.1f V: POWER_CMD sent", c.slot,
                          c.verb == SAPI_RESTART ? "restarting to" : "to", c.watts, volts);
    case SAPI_RACK:
        rc = stn_api_rack(s, now, key, c.watts, volts);
        if (rc)
            return sapi_reply(reply, cap, rc, "%s", sapi_station_why(rc));
        return sapi_reply(reply, cap, rc, "rack to %.0f W at %.1f V over %u online modules", c.watts, volts,
                          stn_online(s, now));
    case SAPI_DIAG:
        rc = stn_api_diag(s, now, key, c.slot, c.test);
        if (rc)
            return sapi_reply(reply, cap, rc, "%s", sapi_station_why(rc));
        return sapi_reply(reply, cap, rc, "module %u self-test %s requested", c.slot, msg_enum_name(f, (int)c.test));
    case SAPI_STATUS:
    default:
        /* Reading is a request too: the rate limit applies. */
        rc = stn_api_check(s, now, key);
        if (rc)
            return sapi_reply(reply, cap, rc, "%s", sapi_station_why(rc));
        if (c.slot > s->n)
            return sapi_reply(reply, cap, EK3_ENOENT, "no module %u in a rack of %u", c.slot, s->n);
        return sapi_status(a, now, c.slot, reply, cap);
    }
}

static int sapi_addr(const char *spec, int passive, struct sockaddr_storage *sa, socklen_t *len)
{
    if (strncmp(spec, "udp:", 4))
        return EK3_EPARSE;
    spec += 4;
    char host[128] = "127.0.0.1", port[8];
    const char *p = spec;
    if (*spec == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':' || (size_t)(close - spec - 1) >= sizeof host)
            return EK3_EPARSE;
        memcpy(host, spec + 1, (size_t)(close - spec - 1));
        host[close - spec - 1] = 0;
        p = close + 2;
    } else if (strrchr(spec, ':')) {
        const char *colon = strrchr(spec, ':');
        if ((size_t)(colon - spec) >= sizeof host || colon == spec)
            return EK3_EPARSE;
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = 0;
        p = colon + 1;
    }
    size_t pl = strlen(p);
    if (!pl || strspn(p, "0123456789") != pl)
        return EK3_EPARSE;
    unsigned long n = pl < sizeof port ? strtoul(p, NULL, 10) : 65536;
    if (n > 65535 || (n == 0 && !passive))
        return EK3_ERANGE; /* a number, but not a port (0 is one only to bind: any free port) */
    memcpy(port, p, pl + 1);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = passive ? AI_PASSIVE : 0};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) || !res)
        return EK3_ENOENT;
    memcpy(sa, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return EK3_OK;
}

int sapi_open(sapi *a, station *s, double vset_v, const char *spec)
{
    a->fd = -1;
    struct sockaddr_storage sa;
    socklen_t sl;
    int rc = sapi_addr(spec ? spec : "", 1, &sa, &sl);
    if (!rc)
        rc = sapi_init(a, s, vset_v, NULL);
    if (rc)
        return rc;
    int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return EK3_EIO;
    if (bind(fd, (struct sockaddr *)&sa, sl) < 0) {
        int busy = errno == EADDRINUSE;
        close(fd);
        return busy ? EK3_EBUSY : EK3_EIO;
    }
    a->fd = fd;
    return EK3_OK;
}

int sapi_port(const sapi *a)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    if (a->fd < 0 || getsockname(a->fd, (struct sockaddr *)&sa, &sl) < 0)
        return -1;
    if (sa.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
    return ntohs(((struct sockaddr_in *)&sa)->sin_port);
}

/* ---- failures per source, and their bursts ------------------------------------------ */

static void sapi_burst_log(sapi *a, sapi_source *so)
{
    a->st.bursts++;
    a->open_bursts--;
    station *s = a->stn;
    if (s && s->log)
        fprintf(s->log,
                "%.6f station: api: %" PRIu32 " failed request%s from %s in %.3f s (bad MAC %" PRIu32 ", stale %" PRIu32
                ", replayed %" PRIu32 ", malformed %" PRIu32 "); %" PRIu32 " answered, %" PRIu32
                " dropped unanswered\n",
                a->last_now * 1e-9, so->fails + so->dropped, so->fails + so->dropped == 1 ? "" : "s", so->addr,
                (so->last_us - so->first_us) * 1e-6, so->bad_mac, so->stale, so->replayed, so->malformed, so->fails,
                so->dropped);
    so->fails = so->dropped = so->bad_mac = so->stale = so->replayed = so->malformed = 0;
}

/* Log the bursts that have ended (quiet for SAPI_BURST_GAP_US), or
 * that have gone on for SAPI_BURST_LOG_US (all when now_us < 0). */
static void sapi_bursts_end(sapi *a, int64_t now_us)
{
    for (unsigned i = 0; i < SAPI_SOURCES && a->open_bursts; i++) {
        sapi_source *so = &a->src[i];
        if (!so->addr[0] || !(so->fails + so->dropped))
            continue;
        if (now_us < 0 || now_us - so->last_us >= SAPI_BURST_GAP_US || now_us - so->first_us >= SAPI_BURST_LOG_US) {
            sapi_burst_log(a, so);
            so->first_us = now_us;
        }
    }
}

/* The entry of a source address; with create, a new one (the entry
 * quiet for longest makes room). NULL when absent. */
static sapi_source *sapi_src(sapi *a, const char *addr, int64_t now_us, int create)
{
    sapi_source *free_one = NULL, *oldest = NULL;
    for (unsigned i = 0; i < SAPI_SOURCES; i++) {
        sapi_source *so = &a->src[i];
        if (so->addr[0] && !strcmp(so->addr, addr)) {
            so->tokens += (now_us - so->tok_us) * 1e-6 * SAPI_FAIL_RATE_HZ;
            if (so->tokens > SAPI_FAIL_BURST)
                so->tokens = SAPI_FAIL_BURST;
            so->tok_us = now_us;
            return so;
        }
        if (!so->addr[0] && !free_one)
            free_one = so;
        if (so->addr[0] && (!oldest || so->last_us < oldest->last_us))
            oldest = so;
    }
    if (!create)
        return NULL;
    sapi_source *so = free_one ? free_one : oldest;
    if (so->addr[0] && so->fails + so->dropped)
        sapi_burst_log(a, so);
    memset(so, 0, sizeof *so);
    snprintf(so->addr, sizeof so->addr, "%s", addr);
    so->tokens = SAPI_FAIL_BURST;
    so->tok_us = so->first_us = so->last_us = now_us;
    return so;
}

/* One more failed attempt (rc) or dropped datagram (rc 0) from so. */
static void sapi_src_fail(sapi *a, sapi_source *so, int64_t now_us, int rc)
{
    if (!(so->fails + so->dropped)) {
        so->first_us = now_us;
        a->open_bursts++;
    }
    so->last_us = now_us;
    if (!rc) {
        so->dropped++;
        return;
    }
    so->tokens -= 1;
    so->fails++;
    so->bad_mac += rc == EK3_EFORGED;
    so->stale += rc == EK3_ESTALE;
    so->replayed += rc == EK3_EREPLAY;
    so->malformed += rc == EK3_EPARSE;
}

/* ---- one request -------------------------------------------------------------- */

int sapi_init(sapi *a, station *s, double vset_v, int64_t (*clock_us)(void))
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    a->stn = s;
    a->vset_v = vset_v;
    a->clock_us = clock_us ? clock_us : sapi_realtime_us;
    a->start_us = a->clock_us();
    if (!s || !s->api_key[0])
        return EK3_EINVAL;
    int rc = sapi_derive(s->api_key, "request MAC v1", a->k_req);
    return rc ? rc : sapi_derive(s->api_key, "reply MAC v1", a->k_rep);
}

static int sapi_hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int sapi_is_hex(const char *w, size_t n)
{
    if (strlen(w) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (sapi_hexval((unsigned char)w[i]) < 0)
            return 0;
    return 1;
}

/* Check the request's form, MAC, freshness and novelty; the request
 * words go to w[0..*n). tn gets "TIME NONCE" for the reply's MAC. */
static int sapi_authenticate(sapi *a, int64_t now_us, const char *req, size_t len, char *line, char **w, int *n,
                             char *tn, size_t tncap, char *text, size_t cap)
{
    if (len >= SAPI_LINE_MAX)
        return sapi_reply(text, cap, EK3_EPARSE, "request of %zu bytes (at most %d)", len, SAPI_LINE_MAX - 1);
    while (len && (req[len - 1] == '\n' || req[len - 1] == '\r'))
        len--;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)req[i];
        if (c < 0x20 && c != '\t')
            return sapi_reply(text, cap, EK3_EPARSE, "control byte 0x%02x at column %zu", c, i + 1);
        if (c >= 0x7F)
            return sapi_reply(text, cap, EK3_EPARSE, "byte 0x%02x at column %zu (ASCII only)", c, i + 1);
    }
    memcpy(line, req, len);
    line[len] = 0;
    char *save = NULL, *words[SAPI_TOKENS];
    int k = 0;
    for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (k == SAPI_TOKENS)
            return sapi_reply(text, cap, EK3_EPARSE, "more than %d words", SAPI_TOKENS);
        words[k++] = t;
    }
    if (k < 4 || strcmp(words[0], SAPI_MAGIC))
        return sapi_reply(text, cap, EK3_EPARSE,
                          "expected: " SAPI_MAGIC " TIME NONCE REQUEST... MAC (the API key is never sent: `ek3 api` "
                          "signs requests)");
    const char *tw = words[1], *nw = words[2], *mac = words[k - 1];
    if (!*tw || strlen(tw) > 18 || strspn(tw, "0123456789") != strlen(tw))
        return sapi_reply(text, cap, EK3_EPARSE, "TIME '%.20s': microseconds since the epoch, decimal", tw);
    if (!sapi_is_hex(nw, SAPI_NONCE_HEX))
        return sapi_reply(text, cap, EK3_EPARSE, "NONCE '%.20s': %d hex digits", nw, SAPI_NONCE_HEX);
    snprintf(tn, tncap, "%s %s", tw, nw);
    if (!sapi_is_hex(mac, SAPI_MAC_HEX))
        return sapi_reply(text, cap, EK3_EPARSE, "the last word is the MAC: %d hex digits", SAPI_MAC_HEX);
    /* The MAC covers the request's bytes up to the space before it. */
    size_t signed_len = (size_t)(mac - line);
    while (signed_len && (req[signed_len - 1] == ' ' || req[signed_len - 1] == '\t'))
        signed_len--;
    char want[SAPI_MAC_HEX + 1];
    int rc = sapi_mac(a->k_req, req, signed_len, NULL, 0, want);
    if (rc)
        return sapi_reply(text, cap, rc, "the MAC could not be computed");
    if (!sapi_hex_eq(want, mac, SAPI_MAC_HEX))
        return sapi_reply(text, cap, EK3_EFORGED, "bad MAC (a wrong API key, or the request was changed)");
    int64_t t = strtoll(tw, NULL, 10);
    if (t < a->start_us)
        return sapi_reply(text, cap, EK3_ESTALE, "request made %.3f s before this station's API opened",
                          (a->start_us - t) * 1e-6);
    if (t < now_us - SAPI_FRESH_US || t > now_us + SAPI_FRESH_US)
        return sapi_reply(text, cap, EK3_ESTALE, "request time %+.3f s from the station's clock (at most %.0f s)",
                          (t - now_us) * 1e-6, SAPI_FRESH_US * 1e-6);
    uint8_t tag[16];
    for (int i = 0; i < 16; i++)
        tag[i] = (uint8_t)(sapi_hexval((unsigned char)mac[2 * i]) << 4 | sapi_hexval((unsigned char)mac[2 * i + 1]));
    sapi_seen *slot = NULL;
    for (unsigned i = 0; i < SAPI_REPLAY_MAX; i++) {
        sapi_seen *e = &a->seen[i];
        int live = e->time_us && e->time_us >= now_us - SAPI_FRESH_US;
        if (live && !memcmp(e->mac, tag, sizeof tag))
            return sapi_reply(text, cap, EK3_EREPLAY, "this request was carried out already");
        if (!live && !slot)
            slot = e;
    }
    if (!slot) /* not a failure: the key's holder is busy */
        return sapi_reply(text, cap, EK3_EBUSY, "more than %d requests within %.0f s", SAPI_REPLAY_MAX,
                          SAPI_FRESH_US * 1e-6);
    slot->time_us = t;
    memcpy(slot->mac, tag, sizeof tag);
    *n = 0;
    for (int i = 3; i < k - 1; i++)
        w[(*n)++] = words[i];
    return EK3_OK;
}

int sapi_handle(sapi *a, int64_t now, const char *src, const char *req, size_t len, char *reply, size_t cap)
{
    int64_t now_us = a->clock_us();
    a->st.requests++;
    a->last_now = now;
    reply[0] = 0;
    if (a->open_bursts)
        sapi_bursts_end(a, now_us);
    sapi_source *so = sapi_src(a, src ? src : "?", now_us, 0);
    if (so && so->tokens < 1) { /* over its failure budget: not answered, not checked */
        sapi_src_fail(a, so, now_us, 0);
        a->st.throttled++;
        return 1;
    }
    char line[SAPI_LINE_MAX], *w[SAPI_TOKENS], tn[48] = "- -", text[SAPI_LINE_MAX - SAPI_MAC_HEX - 1];
    int n = 0;
    int rc = sapi_authenticate(a, now_us, req, len, line, w, &n, tn, sizeof tn, text, sizeof text);
    if (rc && rc != EK3_EBUSY && rc != EK3_ECRYPTO) {
        sapi_src_fail(a, sapi_src(a, src ? src : "?", now_us, 1), now_us, rc);
        a->st.bad_mac += rc == EK3_EFORGED;
        a->st.stale += rc == EK3_ESTALE;
        a->st.replayed += rc == EK3_EREPLAY;
    } else if (!rc) {
        if (n > SAPI_WORDS)
            rc = sapi_reply(text, sizeof text, EK3_EPARSE, "more than %d request words", SAPI_WORDS);
        else
            rc = sapi_carry_out(a, now, w, n, text, sizeof text);
    }
    if (rc == EK3_OK)
        a->st.ok++;
    else if (rc == EK3_EPARSE)
        a->st.malformed++;
    else
        a->st.refused++;
    char mac[SAPI_MAC_HEX + 1];
    size_t tl = strlen(tn);
    tn[tl++] = ' ';
    if (sapi_mac(a->k_rep, tn, tl, text, strlen(text), mac))
        mac[0] = 0;
    snprintf(reply, cap, "%s\n%s", text, mac);
    return rc;
}

int sapi_poll(sapi *a, int64_t now)
{
    int handled = 0;
    a->last_now = now;
    if (a->open_bursts)
        sapi_bursts_end(a, a->clock_us());
    for (;;) {
        char req[SAPI_LINE_MAX + 1], reply[SAPI_LINE_MAX], host[NI_MAXHOST];
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(a->fd, req, sizeof req, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                a->st.io_errors++;
            break;
        }
        if (getnameinfo((struct sockaddr *)&from, fl, host, sizeof host, NULL, 0, NI_NUMERICHOST))
            snprintf(host, sizeof host, "?");
        /* MSG_TRUNC: n is the datagram's whole length, so an oversized
         * one is refused as such rather than read in part. */
        int rc = sapi_handle(a, now, host, req, (size_t)n, reply, sizeof reply);
        if (rc != 1 && sendto(a->fd, reply, strlen(reply), MSG_DONTWAIT, (struct sockaddr *)&from, fl) < 0)
            a->st.io_errors++;
        handled++;
    }
    return handled;
}

void sapi_flush(sapi *a)
{
    if (a->open_bursts)
        sapi_bursts_end(a, -1);
}

void sapi_close(sapi *a)
{
    sapi_flush(a);
    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
}

/* ---- the client ------------------------------------------------------------------ */

int sapi_sign(const char *key, int64_t time_us, uint64_t nonce, const char *req, char *out, size_t cap)
{
    uint8_t k[32];
    if (!key || !*key || !req || time_us < 0)
        return EK3_EINVAL;
    int rc = sapi_derive(key, "request MAC v1", k);
    if (rc)
        return rc;
    int n = snprintf(out, cap, SAPI_MAGIC " %" PRId64 " %016" PRIx64 " %s", time_us, nonce, req);
    if (n < 0 || (size_t)n + 1 + SAPI_MAC_HEX >= cap || (size_t)n + 1 + SAPI_MAC_HEX >= SAPI_LINE_MAX)
        return EK3_ENOSPC;
    char mac[SAPI_MAC_HEX + 1];
    rc = sapi_mac(k, out, (size_t)n, NULL, 0, mac);
    if (rc)
        return rc;
    snprintf(out + n, cap - (size_t)n, " %s", mac);
    return EK3_OK;
}

int sapi_reply_check(const char *key, int64_t time_us, uint64_t nonce, char *reply)
{
    char *nl = strrchr(reply, '\n');
    if (!nl)
        return EK3_EPARSE;
    *nl = 0;
    const char *mac = nl + 1;
    if (!sapi_is_hex(mac, SAPI_MAC_HEX))
        return EK3_EPARSE;
    uint8_t k[32];
    char tn[48], want[SAPI_MAC_HEX + 1];
    int rc = sapi_derive(key, "reply MAC v1", k);
    if (rc)
        return rc;
    int tl = snprintf(tn, sizeof tn, "%" PRId64 " %016" PRIx64 " ", time_us, nonce);
    rc = sapi_mac(k, tn, (size_t)tl, reply, strlen(reply), want);
    if (rc)
        return rc;
    return sapi_hex_eq(want, mac, SAPI_MAC_HEX) ? EK3_OK : EK3_EFORGED;
}

int sapi_request(const char *spec, const char *key, const char *req, int timeout_ms, char *reply, size_t cap)
{
    struct sockaddr_storage sa;
    socklen_t sl;
    int rc = sapi_addr(spec, 0, &sa, &sl);
    if (rc)
        return rc;
    uint64_t nonce;
    if (getrandom(&nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
        return EK3_EIO;
    int64_t t = sapi_realtime_us();
    char line[SAPI_LINE_MAX];
    rc = sapi_sign(key, t, nonce, req, line, sizeof line);
    if (rc)
        return rc;
    int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return EK3_EIO;
    /* Connected: only the station's address can answer. */
    if (connect(fd, (struct sockaddr *)&sa, sl) < 0 || send(fd, line, strlen(line), 0) < 0) {
        close(fd);
        return EK3_EIO;
    }
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll(&pf, 1, timeout_ms) != 1) {
        close(fd);
        return EK3_ETIMEDOUT;
    }
    ssize_t n = recv(fd, reply, cap - 1, 0);
    close(fd);
    if (n < 0)
        return errno == ECONNREFUSED ? EK3_EREFUSED : EK3_EIO;
    reply[n] = 0;
    return sapi_reply_check(key, t, nonce, reply);
}
