/* stnapi.c - the station's API over UDP: parse, check, carry out, reply. */
#define _GNU_SOURCE
#include "stnapi.h"

#include <ctype.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "can_id.h"
#include "ek3_err.h"

#define SAPI_WORDS 8

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

static int sapi_status(station *s, int64_t now, unsigned slot, char *reply, size_t cap)
{
    if (!slot)
        return sapi_reply(reply, cap, EK3_OK,
                          "rack %u modules, %u online; sent %u acked %u clamped %u refused %u retries %u gave-up %u "
                          "faults %u; api ok %u bad-key %u rate %u range %u unknown %u",
                          s->n, stn_online(s, now), s->st.sent, s->st.acked, s->st.clamped, s->st.refused,
                          s->st.retries, s->st.gave_up, s->st.faults, s->st.api_ok, s->st.api_bad_key, s->st.api_rate,
                          s->st.api_range, s->st.api_unknown);
    const stn_module *m = &s->m[slot - 1];
    if (m->hb_ns < 0)
        return sapi_reply(reply, cap, EK3_OK, "module %u silent", slot);
    const msg_desc *d = msg_desc_of(CID_TYPE_HEARTBEAT);
    const char *state = msg_enum_name(&d->fields[0], m->hb.state);
    return sapi_reply(reply, cap, EK3_OK,
                      "module %u %s %u W %.1f V %.3f A %.1f C health 0x%02x heard %.3f s ago; last ack %s %u W", slot,
                      state ? state : "?", m->hb.power_w, m->hb.vout_dv / 10.0, m->hb.iout_ma / 1000.0,
                      m->hb.temp_dc / 10.0, m->hb.health, (now - m->hb_ns) * 1e-9, m->acked ? "yes" : "none",
                      m->ack.target_w);
}

int sapi_handle(station *s, double vset_v, int64_t now, const char *req, size_t len, char *reply, size_t cap)
{
    char line[SAPI_LINE_MAX];
    if (len >= sizeof line)
        return sapi_reply(reply, cap, EK3_EPARSE, "request of %zu bytes (at most %d)", len, SAPI_LINE_MAX - 1);
    while (len && (req[len - 1] == '\n' || req[len - 1] == '\r'))
        len--;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)req[i];
        if (c < 0x20 && c != '\t')
            return sapi_reply(reply, cap, EK3_EPARSE, "control byte 0x%02x at column %zu", c, i + 1);
        if (c >= 0x7F)
            return sapi_reply(reply, cap, EK3_EPARSE, "byte 0x%02x at column %zu (ASCII only)", c, i + 1);
    }
    memcpy(line, req, len);
    line[len] = 0;
    char *w[SAPI_WORDS], *save = NULL;
    int n = 0;
    for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (n == SAPI_WORDS)
            return sapi_reply(reply, cap, EK3_EPARSE, "more than %d words", SAPI_WORDS);
        w[n++] = t;
    }
    if (n < 2)
        return sapi_reply(reply, cap, EK3_EPARSE, "expected: KEY module|rack|diag|status ...");
    const char *key = w[0], *verb = w[1];
    double watts, volts = vset_v;
    unsigned slot = 0;
    int rc;
    if (!strcmp(verb, "module") || !strcmp(verb, "restart")) {
        int restart = verb[0] == 'r';
        if (n < 4 || n > 5 || !sapi_slot(w[2], &slot) || !sapi_num(w[3], &watts) || (n == 5 && !sapi_num(w[4], &volts)))
            return sapi_reply(reply, cap, EK3_EPARSE, "expected: KEY %s SLOT WATTS [VOLTS]", verb);
        rc = restart ? stn_api_restart(s, now, key, slot, watts, volts) : stn_api_module(s, now, key, slot, watts, volts);
        if (rc)
            return sapi_reply(reply, cap, rc, "%s", sapi_station_why(rc));
        return sapi_reply(reply, cap, rc, "module %u %s %.0f W at %.1f V: POWER_CMD sent", slot,
                          restart ? "restarting to" : "to", watts, volts);
    }
    if (!strcmp(verb, "rack")) {
        if (n < 3 || n > 4 || !sapi_num(w[2], &watts) || (n == 4 && !sapi_num(w[3], &volts)))
            return sapi_reply(reply, cap, EK3_EPARSE, "expected: KEY rack WATTS [VOLTS]");
        rc = stn_api_rack(s, now, key, watts, volts);
        if (rc)
            return sapi_reply(reply, cap, rc, "%s", sapi_station_why(rc));
        return sapi_reply(reply, cap, rc, "rack to %.0f W at %.1f V over %u online modules", watts, volts,
                          stn_online(s, now));
    }
    if (!strcmp(verb, "diag")) {
        const msg_field *f = &msg_desc_of(CID_TYPE_DIAG)->fields[1];
        int test = -1;
        for (int v = 0; n == 4 && v <= f->max; v++)
            if (!strcasecmp(w[3], msg_enum_name(f, v)))
                test = v;
        if (n != 4 || !sapi_slot(w[2], &slot) || test < 0)
            return sapi_reply(reply, cap, EK3_EPARSE, "expected: KEY diag SLOT all|adc|pwm|fan|ntc|flash|crypto|can");
        rc = stn_api_diag(s, now, key, slot, (unsigned)test);
        if (rc)
            return sapi_reply(reply, cap, rc, "%s", sapi_station_why(rc));
        return sapi_reply(reply, cap, rc, "module %u self-test %s requested", slot, msg_enum_name(f, test));
    }
    if (!strcmp(verb, "status")) {
        if (n > 3 || (n == 3 && !sapi_slot(w[2], &slot)))
            return sapi_reply(reply, cap, EK3_EPARSE, "expected: KEY status [SLOT]");
        /* Reading is a request too: the key and the rate limit apply. */
        rc = stn_api_check(s, now, key);
        if (rc)
            return sapi_reply(reply, cap, rc, "%s", sapi_station_why(rc));
        if (slot > s->n)
            return sapi_reply(reply, cap, EK3_ENOENT, "no module %u in a rack of %u", slot, s->n);
        return sapi_status(s, now, slot, reply, cap);
    }
    return sapi_reply(reply, cap, EK3_EPARSE, "unknown request '%.32s' (module, restart, rack, diag, status)", verb);
}

/* "PORT", "HOST:PORT" or "[V6]:PORT" after "udp:". */
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
    if (!pl || pl >= sizeof port || strspn(p, "0123456789") != pl || strtoul(p, NULL, 10) > 65535)
        return EK3_EPARSE;
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
    memset(a, 0, sizeof *a);
    a->fd = -1;
    a->stn = s;
    a->vset_v = vset_v;
    struct sockaddr_storage sa;
    socklen_t sl;
    int rc = sapi_addr(spec ? spec : "", 1, &sa, &sl);
    if (rc)
        return rc;
    int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return EK3_EIO;
    if (bind(fd, (struct sockaddr *)&sa, sl) < 0) {
        close(fd);
        return EK3_EIO;
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

int sapi_poll(sapi *a, int64_t now)
{
    int handled = 0;
    for (;;) {
        char req[SAPI_LINE_MAX + 1], reply[SAPI_LINE_MAX];
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(a->fd, req, sizeof req, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fl);
        if (n < 0)
            break;
        a->st.requests++;
        /* MSG_TRUNC: n is the datagram's whole length, so an oversized
         * one is refused as such rather than read in part. */
        int rc = sapi_handle(a->stn, a->vset_v, now, req, (size_t)n, reply, sizeof reply);
        if (rc == EK3_OK)
            a->st.ok++;
        else if (rc == EK3_EPARSE)
            a->st.malformed++;
        else
            a->st.refused++;
        if (sendto(a->fd, reply, strlen(reply), MSG_DONTWAIT, (struct sockaddr *)&from, fl) < 0)
            a->st.io_errors++;
        handled++;
    }
    return handled;
}

void sapi_close(sapi *a)
{
    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
}

int sapi_request(const char *spec, const char *req, int timeout_ms, char *reply, size_t cap)
{
    struct sockaddr_storage sa;
    socklen_t sl;
    int rc = sapi_addr(spec, 0, &sa, &sl);
    if (rc)
        return rc;
    int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return EK3_EIO;
    if (sendto(fd, req, strlen(req), 0, (struct sockaddr *)&sa, sl) < 0) {
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
        return EK3_EIO;
    reply[n] = 0;
    return EK3_OK;
}
