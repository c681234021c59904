/* tp_cannelloni.c - the cannelloni transport: CAN frames over UDP in the
 * format of cannelloni (github.com/mguentner/cannelloni, doc/udp_format.md
 * and parser.cpp), so that a rack can span SocketCAN hosts tunnelled
 * with it. Format version 2, network byte order:
 *   header  version u8 (2), op u8 (0 = DATA), sequence u8, count u16
 *   frame   can_id u32 (Linux: EFF 0x80000000, RTR 0x40000000, ERR 0x20000000),
 *           len u8 (bit 7: CAN FD), FD only: flags u8 (BRS 0x01, ESI 0x02, FDF 0x04),
 *           then len data bytes (none for a remote frame)
 * Several frames per datagram; at most 1472 bytes sent (cannelloni's
 * UDP_PAYLOAD_SIZE), up to 1500 read (its RECEIVE_BUFFER_SIZE). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ek3_err.h"
#include "transport.h"

int tp_cannelloni_open(tp *t, const char *spec);

/* ---- the datagram ------------------------------------------------------------- */

size_t tp_cnl_encode(uint8_t *out, size_t cap, const cfd_frame *f, size_t n, uint8_t seq)
{
    if (cap < TP_CNL_HEADER || n > 0xFFFF)
        return 0;
    size_t p = TP_CNL_HEADER;
    for (size_t i = 0; i < n; i++) {
        int fd = (f[i].flags & CFD_FLAG_FD) != 0, rtr = (f[i].flags & CFD_FLAG_RTR) != 0;
        size_t need = TP_CNL_FRAME_HEADER + (size_t)fd + (rtr ? 0 : f[i].len);
        if (p + need > cap)
            return 0;
        uint32_t id = f[i].id | ((f[i].flags & CFD_FLAG_EFF) ? TP_CAN_EFF_FLAG : 0) | (rtr ? TP_CAN_RTR_FLAG : 0) |
                      ((f[i].flags & CFD_FLAG_ERR) ? TP_CAN_ERR_FLAG : 0);
        out[p++] = (uint8_t)(id >> 24), out[p++] = (uint8_t)(id >> 16), out[p++] = (uint8_t)(id >> 8), out[p++] = (uint8_t)id;
        out[p++] = (uint8_t)(f[i].len | (fd ? TP_CNL_LEN_FD : 0));
        if (fd)
            out[p++] = (uint8_t)(((f[i].flags & CFD_FLAG_BRS) ? TP_CANFD_BRS : 0) |
                                 ((f[i].flags & CFD_FLAG_ESI) ? TP_CANFD_ESI : 0));
        if (!rtr) {
            memcpy(out + p, f[i].data, f[i].len);
            p += f[i].len;
        }
    }
    out[0] = TP_CNL_VERSION;
    out[1] = TP_CNL_OP_DATA;
    out[2] = seq;
    out[3] = (uint8_t)(n >> 8);
    out[4] = (uint8_t)n;
    return p;
}

int tp_cnl_decode(const uint8_t *buf, size_t n, cfd_frame *f, size_t max, size_t *count, uint8_t *seq)
{
    *count = 0;
    if (n < TP_CNL_HEADER)
        return EK3_EPARSE;
    if (buf[0] != TP_CNL_VERSION)
        return EK3_EVERSION;
    if (buf[1] != TP_CNL_OP_DATA)
        return EK3_ETYPE;
    *seq = buf[2];
    size_t c = (size_t)buf[3] << 8 | buf[4], p = TP_CNL_HEADER;
    if (c > max)
        return EK3_ENOSPC;
    for (size_t i = 0; i < c; i++) {
        if (p + TP_CNL_FRAME_HEADER > n)
            return EK3_EPARSE; /* fewer frames than the count says */
        uint32_t id = (uint32_t)buf[p] << 24 | (uint32_t)buf[p + 1] << 16 | (uint32_t)buf[p + 2] << 8 | buf[p + 3];
        uint8_t lb = buf[p + 4], fl = 0;
        p += TP_CNL_FRAME_HEADER;
        int fd = (lb & TP_CNL_LEN_FD) != 0, rtr = (id & TP_CAN_RTR_FLAG) != 0, err = (id & TP_CAN_ERR_FLAG) != 0;
        unsigned len = lb & 0x7Fu;
        if (fd) {
            if (p >= n)
                return EK3_EPARSE;
            fl = buf[p++];
            if (fl & ~(TP_CANFD_BRS | TP_CANFD_ESI | TP_CANFD_FDF))
                return EK3_ERANGE;
        }
        if (fd ? cfd_len_to_dlc(len, 1) < 0 : len > CFD_CC_MAX_LEN)
            return EK3_EDLC;
        if (fd && (rtr || err))
            return EK3_ERANGE; /* CAN FD has no remote frames; error frames are classical */
        cfd_frame *o = &f[i];
        memset(o, 0, sizeof *o);
        if (err) {
            o->id = id & 0x1FFFFFFFu;
            o->flags = CFD_FLAG_ERR;
        } else if (id & TP_CAN_EFF_FLAG) {
            o->id = id & 0x1FFFFFFFu;
            o->flags = CFD_FLAG_EFF;
        } else {
            if (id & ~(TP_CAN_RTR_FLAG | 0x7FFu))
                return EK3_ERANGE; /* an 11-bit identifier with more bits set */
            o->id = id & 0x7FFu;
        }
        o->flags |= (uint8_t)((fd ? CFD_FLAG_FD : 0) | (rtr ? CFD_FLAG_RTR : 0) |
                              (fd && (fl & TP_CANFD_BRS) ? CFD_FLAG_BRS : 0) | (fd && (fl & TP_CANFD_ESI) ? CFD_FLAG_ESI : 0));
        o->len = (uint8_t)len;
        if (!rtr) { /* a remote frame has a length but no data */
            if (p + len > n)
                return EK3_EPARSE;
            memcpy(o->data, buf + p, len);
            p += len;
        }
    }
    if (p != n)
        return EK3_EPARSE; /* bytes after the last frame the count names */
    *count = c;
    return EK3_OK;
}

/* ---- the transport ----------------------------------------------------------------- */

typedef struct tp_cnl {
    struct sockaddr_storage peer;
    socklen_t peer_len;
    uint8_t tx_seq, rx_seq, have_rx;
    size_t q_len, q_next;          /* frames of the last datagram not yet taken */
    cfd_frame q[TP_CNL_FRAMES_MAX];
} tp_cnl;

static int tp_cnl_send(tp *t, const cfd_frame *f)
{
    tp_cnl *u = t->ctx;
    uint8_t buf[TP_CNL_HEADER + TP_CNL_FRAME_HEADER + 1 + CFD_MAX_LEN];
    size_t n = tp_cnl_encode(buf, sizeof buf, f, 1, u->tx_seq);
    if (!n)
        return EK3_EDLC;
    ssize_t w = sendto(t->fd, buf, n, 0, (struct sockaddr *)&u->peer, u->peer_len);
    if (w < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ? EK3_EFULL : EK3_EIO;
    u->tx_seq++;
    return EK3_OK;
}

/* The same host as the peer (cannelloni checks the address, not the port). */
static int tp_cnl_from_peer(const tp_cnl *u, const struct sockaddr_storage *a)
{
    if (a->ss_family != u->peer.ss_family)
        return 0;
    if (a->ss_family == AF_INET6)
        return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)&u->peer)->sin6_addr,
                       sizeof(struct in6_addr));
    return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)&u->peer)->sin_addr.s_addr;
}

static int tp_cnl_recv(tp *t, cfd_frame *f)
{
    tp_cnl *u = t->ctx;
    for (;;) {
        while (u->q_next < u->q_len) {
            const cfd_frame *q = &u->q[u->q_next++];
            if (q->flags & CFD_FLAG_ERR) { /* a bus error frame from the far side's controller */
                t->st.errors++;
                continue;
            }
            if (q->flags & CFD_FLAG_RTR) { /* EK3 never sends remote frames: as socketcan */
                t->st.malformed++;
                continue;
            }
            *f = *q;
            return EK3_OK;
        }
        uint8_t buf[TP_CNL_RX_MAX + 1];
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(t->fd, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return EK3_EAGAIN;
            if (errno == EINTR)
                continue;
            t->st.errors++;
            return EK3_EIO;
        }
        uint8_t seq = 0;
        size_t c = 0;
        if (n > TP_CNL_RX_MAX || !tp_cnl_from_peer(u, &from) ||
            tp_cnl_decode(buf, (size_t)n, u->q, TP_CNL_FRAMES_MAX, &c, &seq) != EK3_OK) {
            t->st.malformed++;
            continue;
        }
        /* A gap ahead in the 8-bit sequence: that many datagrams lost
         * (each at least one frame); behind it: late, counted nowhere. */
        uint8_t gap = (uint8_t)(seq - u->rx_seq);
        if (u->have_rx && gap && gap < 128)
            t->st.dropped += gap;
        u->rx_seq = (uint8_t)(seq + 1);
        u->have_rx = 1;
        u->q_len = c;
        u->q_next = 0;
    }
}

static int tp_cnl_poll(tp *t, int timeout_ms)
{
    tp_cnl *u = t->ctx;
    if (u->q_next < u->q_len)
        return 1;
    struct pollfd p = {.fd = t->fd, .events = POLLIN};
    for (;;) {
        int n = poll(&p, 1, timeout_ms);
        if (n >= 0)
            return n > 0;
        if (errno != EINTR)
            return EK3_EIO;
    }
}

static void tp_cnl_close(tp *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    free(t->ctx);
    t->ctx = NULL;
}

static const tp_ops tp_cnl_ops = {"cannelloni", tp_cnl_send, tp_cnl_recv, tp_cnl_poll, tp_cnl_close};

/* A port: 1 to 5 decimal digits, at most 65535 (0 only where zero_ok). */
static int tp_cnl_port(const char *s, size_t n, int zero_ok, unsigned *port)
{
    if (!n || n > 5)
        return EK3_EPARSE;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return EK3_EPARSE;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535 || (!v && !zero_ok))
        return EK3_EPARSE;
    *port = v;
    return EK3_OK;
}

int tp_cnl_parse(const char *spec, char host[256], unsigned *port, unsigned *local)
{
    const char *p;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':' || close == spec + 1 || (size_t)(close - spec - 1) >= 256)
            return EK3_EPARSE;
        memcpy(host, spec + 1, (size_t)(close - spec - 1));
        host[close - spec - 1] = 0;
        p = close + 2;
    } else {
        const char *colon = strchr(spec, ':');
        if (!colon || colon == spec || (size_t)(colon - spec) >= 256)
            return EK3_EPARSE;
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = 0;
        p = colon + 1;
    }
    const char *c2 = strchr(p, ':');
    int rc = tp_cnl_port(p, c2 ? (size_t)(c2 - p) : strlen(p), 0, port);
    if (rc)
        return rc;
    *local = *port; /* cannelloni's own default: the same port at both ends */
    return c2 ? tp_cnl_port(c2 + 1, strlen(c2 + 1), 1, local) : EK3_OK;
}

int tp_cannelloni_open(tp *t, const char *spec)
{
    char host[256], port[8];
    unsigned rport, lport;
    int rc = tp_cnl_parse(spec, host, &rport, &lport);
    if (rc)
        return rc;
    snprintf(port, sizeof port, "%u", rport);
    tp_cnl *u = calloc(1, sizeof *u);
    if (!u)
        return EK3_ENOSPC;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) || !res) {
        free(u);
        return EK3_ENOENT;
    }
    memcpy(&u->peer, res->ai_addr, res->ai_addrlen);
    u->peer_len = res->ai_addrlen;
    int family = res->ai_family;
    freeaddrinfo(res);
    /* A peer on this host at our own port is this socket: every frame
     * sent would come back as the peer's. */
    int loop = family == AF_INET ? (ntohl(((struct sockaddr_in *)&u->peer)->sin_addr.s_addr) >> 24) == 127
                                 : IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&u->peer)->sin6_addr);
    if (loop && lport == rport) {
        free(u);
        return EK3_EINVAL;
    }
    int fd = tp_dgram_bind(family, lport);
    if (fd < 0) {
        free(u);
        return fd;
    }
    *t = (tp){&tp_cnl_ops, u, fd, {0}, ""};
    snprintf(t->name, sizeof t->name, "cannelloni:%.40s", spec);
    return EK3_OK;
}

int tp_cnl_offset(const char *spec, unsigned add, char *out, size_t cap)
{
    char host[256];
    unsigned port, local;
    if (strncmp(spec, "cannelloni:", 11))
        return EK3_EPARSE;
    int rc = tp_cnl_parse(spec + 11, host, &port, &local);
    if (rc)
        return rc;
    if (port + add > 65535 || local + add > 65535 || !local)
        return EK3_ERANGE;
    int n = snprintf(out, cap, strchr(host, ':') ? "cannelloni:[%s]:%u:%u" : "cannelloni:%s:%u:%u", host, port + add,
                     local + add);
    return n < 0 || (size_t)n >= cap ? EK3_ENOSPC : EK3_OK;
}
