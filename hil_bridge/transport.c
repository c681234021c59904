/* transport.c - the transport interface, the in-process rings and UDP. */
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ek3_err.h"

int tp_socketcan_open(tp *t, const char *ifname); /* tp_socketcan.c */
int tp_cannelloni_open(tp *t, const char *spec);  /* tp_cannelloni.c */

/* ---- common ------------------------------------------------------------ */

static int tp_frame_ok(const cfd_frame *f)
{
    int fd = (f->flags & CFD_FLAG_FD) != 0;
    /* Data frames only, as every receiver here takes them: no remote
     * requests or error frames, no BRS or ESI on a classical frame. */
    if ((f->flags & (CFD_FLAG_RTR | CFD_FLAG_ERR)) || (!fd && (f->flags & (CFD_FLAG_BRS | CFD_FLAG_ESI))))
        return EK3_ERANGE;
    if (cfd_len_to_dlc(f->len, fd) < 0)
        return EK3_EDLC;
    if (f->id > ((f->flags & CFD_FLAG_EFF) ? 0x1FFFFFFFu : 0x7FFu))
        return EK3_ERANGE;
    return EK3_OK;
}

int tp_send(tp *t, const cfd_frame *f)
{
    int rc = tp_frame_ok(f);
    if (rc)
        return rc;
    rc = t->ops->send(t, f);
    if (rc == EK3_OK) {
        t->st.tx_frames++;
        t->st.tx_bytes += f->len;
    } else if (rc == EK3_EFULL) {
        t->st.tx_full++;
    }
    return rc;
}

int tp_recv(tp *t, cfd_frame *f)
{
    int rc = t->ops->recv(t, f);
    if (rc == EK3_OK) {
        t->st.rx_frames++;
        t->st.rx_bytes += f->len;
    }
    return rc;
}

int tp_poll(tp *t, int timeout_ms)
{
    return t->ops->poll(t, timeout_ms);
}

void tp_close(tp *t)
{
    if (t->ops && t->ops->close)
        t->ops->close(t);
    t->ops = NULL;
}

static int64_t tp_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Poll a file descriptor for input: a short busy wait first (a lockstep
 * partner usually answers within microseconds, and a sleeping wake-up
 * costs tens of them), then a blocking poll. */
static int tp_fd_poll(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (timeout_ms != 0) {
        int64_t until = tp_now_ns() + 30000;
        do {
            int n = poll(&p, 1, 0);
            if (n > 0)
                return 1;
        } while (tp_now_ns() < until);
    }
    for (;;) {
        int n = poll(&p, 1, timeout_ms);
        if (n >= 0)
            return n > 0;
        if (errno != EINTR)
            return EK3_EIO;
    }
}

/* ---- mem: two single-producer single-consumer rings ------------------- */

typedef struct tp_ring {
    _Atomic uint32_t head, tail; /* head: next to write; tail: next to read */
    uint32_t mask;
    cfd_frame *slot;
} tp_ring;

typedef struct tp_mem_shared {
    tp_ring ring[2];   /* ring[0]: a -> b, ring[1]: b -> a */
    _Atomic int refs;
} tp_mem_shared;

typedef struct tp_mem_end {
    tp_mem_shared *sh;
    int side;          /* 0: a, 1: b */
} tp_mem_end;

static int tp_mem_send(tp *t, const cfd_frame *f)
{
    tp_mem_end *e = t->ctx;
    tp_ring *r = &e->sh->ring[e->side];
    uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t tl = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (h - tl > r->mask)
        return EK3_EFULL;
    r->slot[h & r->mask] = *f;
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    return EK3_OK;
}

static int tp_mem_recv(tp *t, cfd_frame *f)
{
    tp_mem_end *e = t->ctx;
    tp_ring *r = &e->sh->ring[1 - e->side];
    uint32_t tl = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    if (h == tl)
        return EK3_EAGAIN;
    *f = r->slot[tl & r->mask];
    atomic_store_explicit(&r->tail, tl + 1, memory_order_release);
    return EK3_OK;
}

static int tp_mem_poll(tp *t, int timeout_ms)
{
    tp_mem_end *e = t->ctx;
    tp_ring *r = &e->sh->ring[1 - e->side];
    int64_t start = tp_now_ns();
    struct timespec ts = {0, 50000};
    for (;;) {
        if (atomic_load_explicit(&r->head, memory_order_acquire) != atomic_load_explicit(&r->tail, memory_order_relaxed))
            return 1;
        int64_t el = tp_now_ns() - start;
        if (timeout_ms >= 0 && el >= (int64_t)timeout_ms * 1000000)
            return 0;
        if (el > 50000) /* spin 50 us, then sleep between looks */
            nanosleep(&ts, NULL);
    }
}

static void tp_mem_close(tp *t)
{
    tp_mem_end *e = t->ctx;
    if (atomic_fetch_sub(&e->sh->refs, 1) == 1) {
        free(e->sh->ring[0].slot);
        free(e->sh->ring[1].slot);
        free(e->sh);
    }
    free(e);
    t->ctx = NULL;
}

static const tp_ops tp_mem_ops = {"mem", tp_mem_send, tp_mem_recv, tp_mem_poll, tp_mem_close};

int tp_mem_pair(tp *a, tp *b, unsigned capacity)
{
    if (capacity < 2 || capacity > 65536 || (capacity & (capacity - 1)))
        return EK3_EINVAL;
    tp_mem_shared *sh = calloc(1, sizeof *sh);
    tp_mem_end *ea = calloc(1, sizeof *ea), *eb = calloc(1, sizeof *eb);
    if (sh) {
        for (int k = 0; k < 2; k++) {
            sh->ring[k].mask = capacity - 1;
            sh->ring[k].slot = calloc(capacity, sizeof(cfd_frame));
        }
    }
    if (!sh || !ea || !eb || !sh->ring[0].slot || !sh->ring[1].slot) {
        if (sh) {
            free(sh->ring[0].slot);
            free(sh->ring[1].slot);
        }
        free(sh);
        free(ea);
        free(eb);
        return EK3_ENOSPC;
    }
    atomic_init(&sh->refs, 2);
    ea->sh = eb->sh = sh;
    ea->side = 0;
    eb->side = 1;
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    *a = (tp){&tp_mem_ops, ea, -1, {0}, "mem:a"};
    *b = (tp){&tp_mem_ops, eb, -1, {0}, "mem:b"};
    return EK3_OK;
}

/* ---- udp ------------------------------------------------------------------- */

static void tp_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static uint32_t tp_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define TP_FLAGS_KNOWN (CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS | CFD_FLAG_ESI)

size_t tp_udp_encode(uint8_t out[TP_UDP_MAX], const cfd_frame *f, uint32_t seq)
{
    tp_put32(out, TP_UDP_MAGIC);
    out[4] = TP_UDP_VERSION;
    out[5] = f->flags;
    out[6] = f->len;
    out[7] = 0;
    tp_put32(out + 8, seq);
    tp_put32(out + 12, f->id);
    memcpy(out + TP_UDP_HEADER, f->data, f->len);
    return TP_UDP_HEADER + f->len;
}

int tp_udp_decode(const uint8_t *buf, size_t n, cfd_frame *f, uint32_t *seq)
{
    if (n < TP_UDP_HEADER || tp_get32(buf) != TP_UDP_MAGIC || buf[4] != TP_UDP_VERSION || buf[7] != 0)
        return EK3_EPARSE;
    if (n != TP_UDP_HEADER + buf[6])
        return EK3_EPARSE;
    if (buf[5] & ~TP_FLAGS_KNOWN)
        return EK3_ERANGE;
    memset(f, 0, sizeof *f);
    f->flags = buf[5];
    f->len = buf[6];
    f->id = tp_get32(buf + 12);
    *seq = tp_get32(buf + 8);
    if (cfd_len_to_dlc(f->len, (f->flags & CFD_FLAG_FD) != 0) < 0)
        return EK3_EDLC;
    if ((f->flags & CFD_FLAG_BRS) && !(f->flags & CFD_FLAG_FD))
        return EK3_ERANGE;
    if (f->id > ((f->flags & CFD_FLAG_EFF) ? 0x1FFFFFFFu : 0x7FFu))
        return EK3_ERANGE;
    memcpy(f->data, buf + TP_UDP_HEADER, f->len);
    return EK3_OK;
}

typedef struct tp_udp {
    struct sockaddr_storage peer;
    socklen_t peer_len;
    uint32_t tx_seq, rx_seq;
    uint8_t have_rx;
} tp_udp;

static int tp_udp_send(tp *t, const cfd_frame *f)
{
    tp_udp *u = t->ctx;
    if (!u->peer_len)
        return EK3_EAGAIN; /* nobody to send to yet (listening, no datagram seen) */
    uint8_t buf[TP_UDP_MAX];
    size_t n = tp_udp_encode(buf, f, u->tx_seq);
    ssize_t w = sendto(t->fd, buf, n, 0, (struct sockaddr *)&u->peer, u->peer_len);
    if (w < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ? EK3_EFULL : EK3_EIO;
    u->tx_seq++;
    return EK3_OK;
}

static int tp_udp_recv(tp *t, cfd_frame *f)
{
    tp_udp *u = t->ctx;
    for (;;) {
        uint8_t buf[TP_UDP_MAX + 1];
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(t->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return EK3_EAGAIN;
            if (errno == EINTR)
                continue;
            t->st.errors++;
            return EK3_EIO;
        }
        uint32_t seq;
        if (tp_udp_decode(buf, (size_t)n, f, &seq) != EK3_OK) {
            t->st.malformed++;
            continue;
        }
        if (u->have_rx && seq != u->rx_seq)
            t->st.dropped += (uint32_t)(seq - u->rx_seq) < 0x80000000u ? seq - u->rx_seq : 0;
        u->rx_seq = seq + 1;
        u->have_rx = 1;
        if (!u->peer_len) { /* a listener answers whoever spoke first */
            memcpy(&u->peer, &from, fl);
            u->peer_len = fl;
        }
        return EK3_OK;
    }
}

static int tp_udp_poll(tp *t, int timeout_ms)
{
    return tp_fd_poll(t->fd, timeout_ms);
}

static void tp_udp_close(tp *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    free(t->ctx);
    t->ctx = NULL;
}

static const tp_ops tp_udp_ops = {"udp", tp_udp_send, tp_udp_recv, tp_udp_poll, tp_udp_close};

/* "HOST:PORT@LOCAL", "HOST:PORT", "@LOCAL"; HOST may be [v6]. */
static int tp_udp_open(tp *t, const char *spec)
{
    char host[256] = "", port[16] = "", local[16] = "0";
    const char *at = strchr(spec, '@');
    size_t hp = at ? (size_t)(at - spec) : strlen(spec);
    if (at && (strlen(at + 1) == 0 || strlen(at + 1) >= sizeof local ||
               strspn(at + 1, "0123456789") != strlen(at + 1) || strtoul(at + 1, NULL, 10) > 65535))
        return EK3_EPARSE;
    if (at)
        strcpy(local, at + 1);
    if (hp) {
        const char *colon = NULL;
        if (spec[0] == '[') {
            const char *close = memchr(spec, ']', hp);
            if (!close || close[1] != ':')
                return EK3_EPARSE;
            if ((size_t)(close - spec - 1) >= sizeof host)
                return EK3_EPARSE;
            memcpy(host, spec + 1, (size_t)(close - spec - 1));
            colon = close + 1;
        } else {
            for (size_t i = 0; i < hp; i++)
                if (spec[i] == ':')
                    colon = spec + i;
            if (!colon || (size_t)(colon - spec) >= sizeof host)
                return EK3_EPARSE;
            memcpy(host, spec, (size_t)(colon - spec));
        }
        size_t pl = hp - (size_t)(colon + 1 - spec);
        if (pl == 0 || pl >= sizeof port)
            return EK3_EPARSE;
        memcpy(port, colon + 1, pl);
        if (strspn(port, "0123456789") != pl)
            return EK3_EPARSE;
        if (strtoul(port, NULL, 10) > 65535 || strtoul(port, NULL, 10) == 0)
            return EK3_ERANGE; /* a port above 65535 would wrap in getaddrinfo */
    }
    tp_udp *u = calloc(1, sizeof *u);
    if (!u)
        return EK3_ENOSPC;
    int family = AF_INET;
    if (hp) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res = NULL;
        if (getaddrinfo(host[0] ? host : "127.0.0.1", port, &hints, &res) || !res) {
            free(u);
            return EK3_ENOENT;
        }
        memcpy(&u->peer, res->ai_addr, res->ai_addrlen);
        u->peer_len = res->ai_addrlen;
        family = res->ai_family;
        freeaddrinfo(res);
    }
    if (atoi(local) > 65535) {
        free(u);
        return EK3_ERANGE;
    }
    int fd = tp_dgram_bind(family, (unsigned)atoi(local));
    if (fd < 0) {
        free(u);
        return fd;
    }
    *t = (tp){&tp_udp_ops, u, fd, {0}, ""};
    snprintf(t->name, sizeof t->name, "udp:%.40s", spec);
    return EK3_OK;
}

/* Whether spec names a SocketCAN interface ("socketcan:NAME", or a name
 * without ':' that is not "mem"): tp_open's and tp_spec_why's one rule. */
static int tp_is_socketcan(const char *spec)
{
    return !strncmp(spec, "socketcan:", 10) || (!strchr(spec, ':') && strncmp(spec, "mem", 3));
}

int tp_open(tp *t, const char *spec)
{
    memset(t, 0, sizeof *t);
    t->fd = -1;
    if (!spec || !*spec)
        return EK3_EPARSE;
    if (!strncmp(spec, "udp:", 4))
        return tp_udp_open(t, spec + 4);
    if (!strncmp(spec, "socketcan:", 10))
        return tp_socketcan_open(t, spec + 10);
    if (!strncmp(spec, "cannelloni:", 11))
        return tp_cannelloni_open(t, spec + 11);
    if (!strncmp(spec, "mem", 3))
        return EK3_EPARSE; /* in-process pairs come from tp_mem_pair */
    return tp_is_socketcan(spec) ? tp_socketcan_open(t, spec) : EK3_EPARSE;
}

int tp_dgram_bind(int family, unsigned lport)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return EK3_EIO;
    int big = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    struct sockaddr_storage la;
    memset(&la, 0, sizeof la);
    socklen_t ll;
    if (family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&la;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)lport);
        ll = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&la;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)lport);
        ll = sizeof *s4;
    }
    if (bind(fd, (struct sockaddr *)&la, ll) < 0) {
        int busy = errno == EADDRINUSE;
        close(fd);
        return busy ? EK3_EBUSY : EK3_EIO;
    }
    return fd;
}

const char *tp_spec_why(const char *spec, int err)
{
    int can = spec && tp_is_socketcan(spec);
    if (can && err == EK3_EIO)
        return "this kernel has no SocketCAN (socket(PF_CAN) failed: modprobe can_raw, or run on a kernel with "
               "CAN; a udp:HOST:PORT or cannelloni: bus needs none)";
    if (can && err == EK3_ENOENT)
        return "no such CAN interface (a virtual one: ip link add dev vcan0 type vcan && ip link set up vcan0)";
    switch (err) {
    case EK3_EPARSE:
        return "not a bus: mem, udp:HOST:PORT[@LOCALPORT], cannelloni:HOST:PORT[:LOCALPORT] or a SocketCAN interface";
    case EK3_ERANGE:
        return "a port must be 1 to 65535";
    case EK3_EINVAL:
        return "the peer is this socket itself (on one host, give cannelloni a LOCALPORT other than PORT)";
    case EK3_EBUSY:
        return "the local port is already in use";
    case EK3_ENOENT:
        return "no such host or interface";
    default:
        return ek3_strerror(err);
    }
}
