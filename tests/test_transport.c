/* test_transport.c - every transport delivers frames in order and whole,
 * with its statistics; UDP refuses malformed datagrams with a count.
 * (SocketCAN on a real vcan: tests/vm/vcan_test.c inside a VM.) */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ek3_err.h"
#include "transport.h"
#include "frames.h"


static void same(const cfd_frame *a, const cfd_frame *b, unsigned k)
{
    cr_assert_eq(a->id, b->id, "frame %u: id %x vs %x", k, a->id, b->id);
    cr_assert_eq(a->flags, b->flags, "frame %u: flags", k);
    cr_assert_eq(a->len, b->len, "frame %u: len", k);
    cr_assert_eq(memcmp(a->data, b->data, a->len), 0, "frame %u: payload", k);
}

Test(transport, mem_in_order_whole_and_counted)
{
    tp a, b;
    cr_assert_eq(tp_mem_pair(&a, &b, 64), EK3_OK);
    cr_assert_eq(tp_mem_pair(&a, &b, 48), EK3_EINVAL, "capacity must be a power of two");
    unsigned sent = 0, got = 0;
    uint64_t bytes = 0;
    while (got < 1000) {
        while (sent < 1000) {
            cfd_frame f = frame_k(sent);
            int rc = tp_send(&a, &f);
            if (rc == EK3_EFULL)
                break;
            cr_assert_eq(rc, EK3_OK);
            bytes += f.len;
            sent++;
        }
        cfd_frame r;
        while (tp_recv(&b, &r) == EK3_OK) {
            cfd_frame want = frame_k(got);
            same(&r, &want, got);
            got++;
        }
    }
    cfd_frame r;
    cr_assert_eq(tp_recv(&b, &r), EK3_EAGAIN);
    cr_assert_eq(tp_poll(&b, 0), 0);
    cr_assert_eq(a.st.tx_frames, 1000);
    cr_assert_eq(b.st.rx_frames, 1000);
    cr_assert_eq(a.st.tx_bytes, bytes);
    cr_assert_eq(b.st.rx_bytes, bytes);
    cr_assert_gt(a.st.tx_full, 0, "a 64-frame ring fills up and says so");
    /* The other direction is its own ring. */
    cfd_frame back = frame_k(5);
    cr_assert_eq(tp_send(&b, &back), EK3_OK);
    cr_assert_eq(tp_poll(&a, 10), 1);
    cr_assert_eq(tp_recv(&a, &r), EK3_OK);
    same(&r, &back, 5);
    cfd_frame bad = frame_k(1);
    bad.len = 9; /* not a CAN FD length */
    cr_assert_eq(tp_send(&a, &bad), EK3_EDLC);
    tp_close(&a);
    tp_close(&b);
}

/* A listening endpoint on an ephemeral port and its port number. */
static int udp_pair(tp *srv, tp *cli)
{
    cr_assert_eq(tp_open(srv, "udp:@0"), EK3_OK);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    cr_assert_eq(getsockname(srv->fd, (struct sockaddr *)&sa, &sl), 0);
    int port = ntohs(sa.sin_port);
    char spec[64];
    snprintf(spec, sizeof spec, "udp:127.0.0.1:%d", port);
    cr_assert_eq(tp_open(cli, spec), EK3_OK);
    return port;
}

Test(transport, udp_in_order_whole_and_counted)
{
    tp srv, cli;
    udp_pair(&srv, &cli);
    for (unsigned k = 0; k < 500; k++) {
        cfd_frame f = frame_k(k);
        cr_assert_eq(tp_send(&cli, &f), EK3_OK);
        if (k % 50 == 49) { /* drain as we go: loopback buffers are finite */
            for (unsigned j = k - 49; j <= k; j++) {
                cfd_frame r, want = frame_k(j);
                cr_assert_eq(tp_poll(&srv, 1000), 1);
                cr_assert_eq(tp_recv(&srv, &r), EK3_OK, "frame %u", j);
                same(&r, &want, j);
            }
        }
    }
    cr_assert_eq(srv.st.rx_frames, 500);
    cr_assert_eq(srv.st.malformed, 0);
    cr_assert_eq(srv.st.dropped, 0);
    /* The listener answers whoever spoke. */
    cfd_frame back = frame_k(9), r;
    cr_assert_eq(tp_send(&srv, &back), EK3_OK);
    cr_assert_eq(tp_poll(&cli, 1000), 1);
    cr_assert_eq(tp_recv(&cli, &r), EK3_OK);
    same(&r, &back, 9);
    tp_close(&srv);
    tp_close(&cli);
}

Test(transport, udp_refuses_malformed_datagrams_with_a_count)
{
    tp srv, cli;
    int port = udp_pair(&srv, &cli);
    int raw = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    to.sin_addr.s_addr = htonl(0x7F000001);
    uint8_t good[TP_UDP_MAX];
    cfd_frame f = frame_k(4);
    size_t n = tp_udp_encode(good, &f, 0);
    uint8_t bad[6][TP_UDP_MAX];
    size_t bl[6];
    for (int i = 0; i < 6; i++) {
        memcpy(bad[i], good, n);
        bl[i] = n;
    }
    bad[0][0] ^= 1;          /* magic */
    bad[1][4] = 9;           /* version */
    bl[2] = n - 1;           /* truncated */
    bad[3][6] = 9;           /* length 9: no such DLC (size fixed to match) */
    bl[3] = TP_UDP_HEADER + 9;
    bad[4][5] |= 0x80;       /* unknown flag */
    bad[5][15] = 0xFF;       /* identifier over 29 bits */
    for (int i = 0; i < 6; i++)
        cr_assert_eq(sendto(raw, bad[i], bl[i], 0, (struct sockaddr *)&to, sizeof to), (ssize_t)bl[i]);
    cr_assert_eq(sendto(raw, good, n, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)n);
    cfd_frame r;
    cr_assert_eq(tp_poll(&srv, 1000), 1);
    usleep(20000);
    cr_assert_eq(tp_recv(&srv, &r), EK3_OK, "the good datagram after six bad ones");
    same(&r, &f, 4);
    cr_assert_eq(srv.st.malformed, 6);
    cr_assert_eq(tp_recv(&srv, &r), EK3_EAGAIN);
    /* A gap in the sequence is counted as dropped. */
    uint8_t later[TP_UDP_MAX];
    size_t m = tp_udp_encode(later, &f, 5);
    cr_assert_eq(sendto(raw, later, m, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)m);
    cr_assert_eq(tp_poll(&srv, 1000), 1);
    cr_assert_eq(tp_recv(&srv, &r), EK3_OK);
    cr_assert_eq(srv.st.dropped, 4, "sequence 0 then 5: four lost");
    close(raw);
    tp_close(&srv);
    tp_close(&cli);
}

Test(transport, specs_are_checked)
{
    tp t;
    cr_assert_eq(tp_open(&t, ""), EK3_EPARSE);
    cr_assert_eq(tp_open(&t, "udp:localhost"), EK3_EPARSE);
    cr_assert_eq(tp_open(&t, "udp:127.0.0.1:x1"), EK3_EPARSE);
    cr_assert_eq(tp_open(&t, "udp:@port"), EK3_EPARSE);
    cr_assert_eq(tp_open(&t, "tcp:1.2.3.4:5"), EK3_EPARSE);
    cr_assert_eq(tp_open(&t, "mem:x"), EK3_EPARSE);
    cr_assert_eq(tp_open(&t, "udp:no-such-host.invalid:5000"), EK3_ENOENT);
    int rc = tp_open(&t, "socketcan:ek3nosuch0");
    cr_assert(rc == EK3_ENOENT || rc == EK3_EIO, "no such interface (or no CAN in this kernel): %d", rc);
    cr_assert_eq(tp_open(&t, "socketcan:waytoolonginterfacename0"), EK3_EPARSE);
}

/* ---- cannelloni (github.com/mguentner/cannelloni, doc/udp_format.md) --------------------- */

/* One datagram, written byte by byte from cannelloni's description:
 * version 2, op DATA 0, sequence 7, count 3 (big-endian), then
 *   a classical 11-bit frame 0x123, 2 bytes AA BB;
 *   an FD 29-bit frame 0x0260002A (EFF bit 0x80000000), len 12 | 0x80,
 *     flags BRS|ESI (0x03), 12 bytes 0..11;
 *   a remote 11-bit frame 0x7FF (RTR bit 0x40000000), DLC 8, no data. */
static const uint8_t cnl_dgram[] = {
    0x02, 0x00, 0x07, 0x00, 0x03,
    0x00, 0x00, 0x01, 0x23, 0x02, 0xAA, 0xBB,
    0x82, 0x60, 0x00, 0x2A, 0x8C, 0x03, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
    0x40, 0x00, 0x07, 0xFF, 0x08,
};

Test(transport, cannelloni_datagrams_as_cannelloni_writes_them)
{
    cfd_frame f[TP_CNL_FRAMES_MAX];
    size_t c = 0;
    uint8_t seq = 0;
    cr_assert_eq(tp_cnl_decode(cnl_dgram, sizeof cnl_dgram, f, TP_CNL_FRAMES_MAX, &c, &seq), EK3_OK);
    cr_assert_eq(c, 3);
    cr_assert_eq(seq, 7);
    cr_assert_eq(f[0].id, 0x123);
    cr_assert_eq(f[0].flags, 0, "classical, 11-bit");
    cr_assert_eq(f[0].len, 2);
    cr_assert_eq(f[0].data[0], 0xAA);
    cr_assert_eq(f[0].data[1], 0xBB);
    cr_assert_eq(f[1].id, 0x0260002A);
    cr_assert_eq(f[1].flags, CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS | CFD_FLAG_ESI);
    cr_assert_eq(f[1].len, 12);
    cr_assert_eq(f[1].data[11], 11);
    cr_assert_eq(f[2].id, 0x7FF);
    cr_assert_eq(f[2].flags, CFD_FLAG_RTR);
    cr_assert_eq(f[2].len, 8, "a remote frame's length is its DLC");
    /* The encoder writes the same bytes. */
    uint8_t out[TP_CNL_MTU];
    cr_assert_eq(tp_cnl_encode(out, sizeof out, f, 3, 7), sizeof cnl_dgram);
    cr_assert_eq(memcmp(out, cnl_dgram, sizeof cnl_dgram), 0);
    /* Linux >= 5.14 also sets CANFD_FDF (0x04) in an FD frame's flags. */
    uint8_t fdf[sizeof cnl_dgram];
    memcpy(fdf, cnl_dgram, sizeof fdf);
    fdf[17] = 0x05;
    cr_assert_eq(tp_cnl_decode(fdf, sizeof fdf, f, TP_CNL_FRAMES_MAX, &c, &seq), EK3_OK);
    cr_assert_eq(f[1].flags, CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS);
    /* An empty datagram is valid and holds nothing; it fits in 1472 bytes. */
    static const uint8_t empty[] = {2, 0, 9, 0, 0};
    cr_assert_eq(tp_cnl_decode(empty, sizeof empty, f, TP_CNL_FRAMES_MAX, &c, &seq), EK3_OK);
    cr_assert_eq(c, 0);
    cr_assert_eq(tp_cnl_encode(out, sizeof out, f, 0, 9), 5);
    cr_assert_eq(TP_CNL_FRAMES_MAX, 299, "1500 bytes of 5-byte remote frames");
}

Test(transport, cannelloni_refuses_what_breaks_its_format)
{
    static const struct {
        int at, value; /* byte to change (-1: none), its new value */
        int cut;       /* bytes to take off the end (negative: add a zero) */
        int rc;
    } c[] = {
        {0, 1, 0, EK3_EVERSION},           /* version 1 */
        {1, 1, 0, EK3_ETYPE},              /* op ACK */
        {4, 4, 0, EK3_EPARSE},             /* four frames counted, three there */
        {4, 2, 0, EK3_EPARSE},             /* two counted: bytes left over */
        {-1, 0, -1, EK3_EPARSE},           /* a byte after the last frame */
        {-1, 0, 1, EK3_EPARSE},            /* the last frame's header cut */
        {9, 9, 0, EK3_EDLC},               /* a classical frame of 9 bytes */
        {16, 0x8D, 0, EK3_EDLC},           /* FD length 13 */
        {7, 0x09, 0, EK3_ERANGE},          /* 11-bit id 0x923: bit 11 set */
        {17, 0x0B, 0, EK3_ERANGE},         /* unknown FD flag 0x08 */
        {12, 0xC2, 0, EK3_ERANGE},         /* FD and RTR together */
        {34, 9, 0, EK3_EDLC},              /* a remote frame of DLC 9 */
        {-1, 0, 30, EK3_EPARSE},           /* the FD frame's data cut */
        {-1, 0, 32, EK3_EPARSE},           /* four bytes: less than a header */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        uint8_t b[sizeof cnl_dgram + 1] = {0};
        memcpy(b, cnl_dgram, sizeof cnl_dgram);
        if (c[i].at >= 0)
            b[c[i].at] = (uint8_t)c[i].value;
        size_t n = sizeof cnl_dgram - (size_t)c[i].cut;
        cfd_frame f[TP_CNL_FRAMES_MAX];
        size_t k = 9;
        uint8_t seq;
        cr_assert_eq(tp_cnl_decode(b, n, f, TP_CNL_FRAMES_MAX, &k, &seq), c[i].rc, "case %zu", i);
        cr_assert_eq(k, 0, "case %zu: nothing taken from a refused datagram", i);
    }
    cfd_frame f[2];
    size_t k;
    uint8_t seq;
    cr_assert_eq(tp_cnl_decode(cnl_dgram, sizeof cnl_dgram, f, 2, &k, &seq), EK3_ENOSPC);
}

/* A plain UDP socket on 127.0.0.1 (or another loopback address) and its port. */
static int cnl_raw(uint32_t addr, int *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(addr);
    socklen_t sl = sizeof sa;
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static int tp_local_port(const tp *t)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    cr_assert_eq(getsockname(t->fd, (struct sockaddr *)&sa, &sl), 0);
    return ntohs(sa.sin_port);
}

Test(transport, cannelloni_both_ways_several_frames_per_datagram_and_gaps_counted)
{
    int peer_port, other_port;
    int peer = cnl_raw(0x7F000001, &peer_port);
    char spec[80];
    snprintf(spec, sizeof spec, "cannelloni:127.0.0.1:%d:0", peer_port);
    tp t;
    cr_assert_eq(tp_open(&t, spec), EK3_OK);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)tp_local_port(&t))};
    to.sin_addr.s_addr = htonl(0x7F000001);
    /* seq 7: three frames (the remote one is counted malformed); seq 8:
     * two frames and an error frame; seq 11: one frame (9 and 10 lost). */
    uint8_t d2[256], d3[128];
    cfd_frame two[3] = {frame_k(1), frame_k(2), {.id = 0x4, .flags = CFD_FLAG_ERR, .len = 8}};
    size_t n2 = tp_cnl_encode(d2, sizeof d2, two, 3, 8);
    cr_assert_gt(n2, 0);
    cfd_frame one = frame_k(7);
    size_t n3 = tp_cnl_encode(d3, sizeof d3, &one, 1, 11);
    cr_assert_gt(n3, 0);
    /* The same bytes from 127.0.0.2, which is not the peer: refused. */
    int other = cnl_raw(0x7F000002, &other_port);
    cr_assert_eq(sendto(other, cnl_dgram, sizeof cnl_dgram, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)sizeof cnl_dgram);
    cr_assert_eq(sendto(peer, cnl_dgram, sizeof cnl_dgram, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)sizeof cnl_dgram);
    cr_assert_eq(sendto(peer, d2, n2, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)n2);
    cr_assert_eq(sendto(peer, d3, n3, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)n3);
    cfd_frame r[5];
    unsigned got = 0;
    while (got < 5 && tp_poll(&t, 1000) == 1)
        while (got < 5 && tp_recv(&t, &r[got]) == EK3_OK)
            got++;
    cr_assert_eq(got, 5);
    cr_assert_eq(r[0].id, 0x123);
    cr_assert_eq(r[1].id, 0x0260002A);
    cr_assert_eq(r[1].flags, CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS | CFD_FLAG_ESI);
    same(&r[2], &two[0], 1);
    same(&r[3], &two[1], 2);
    same(&r[4], &one, 7);
    cr_assert_eq(t.st.rx_frames, 5);
    cr_assert_eq(t.st.malformed, 2, "the remote frame, and the datagram from another host");
    cr_assert_eq(t.st.errors, 1, "the error frame");
    cr_assert_eq(t.st.dropped, 2, "sequence 8 then 11: two datagrams lost");
    /* Out: one frame per datagram, sequence 0, 1, ... */
    cfd_frame fd = {.id = 0x0260002A, .flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS | CFD_FLAG_ESI, .len = 12};
    for (int i = 0; i < 12; i++)
        fd.data[i] = (uint8_t)i;
    cfd_frame cc = {.id = 0x123, .len = 2, .data = {0xAA, 0xBB}};
    cr_assert_eq(tp_send(&t, &cc), EK3_OK);
    cr_assert_eq(tp_send(&t, &fd), EK3_OK);
    uint8_t in[2048];
    ssize_t n = recv(peer, in, sizeof in, 0);
    static const uint8_t want0[] = {2, 0, 0, 0, 1, 0x00, 0x00, 0x01, 0x23, 0x02, 0xAA, 0xBB};
    cr_assert_eq(n, (ssize_t)sizeof want0);
    cr_assert_eq(memcmp(in, want0, sizeof want0), 0);
    n = recv(peer, in, sizeof in, 0);
    cr_assert_eq(n, 5 + 6 + 12);
    static const uint8_t want1[] = {2, 0, 1, 0, 1, 0x82, 0x60, 0x00, 0x2A, 0x8C, 0x03};
    cr_assert_eq(memcmp(in, want1, sizeof want1), 0);
    cr_assert_eq(memcmp(in + sizeof want1, fd.data, 12), 0);
    close(other);
    close(peer);
    tp_close(&t);
}

Test(transport, cannelloni_specs_are_checked)
{
    tp t;
    cr_assert_eq(tp_open(&t, "cannelloni:localhost"), EK3_EPARSE);
    cr_assert_eq(tp_open(&t, "cannelloni:127.0.0.1:70000"), EK3_EPARSE);
    cr_assert_eq(tp_open(&t, "cannelloni:127.0.0.1:0"), EK3_EPARSE, "a peer needs a port");
    cr_assert_eq(tp_open(&t, "cannelloni::5000"), EK3_EPARSE);
    cr_assert_eq(tp_open(&t, "cannelloni:127.0.0.1:5000:x"), EK3_EPARSE);
    cr_assert_eq(tp_open(&t, "cannelloni:127.0.0.1:5000:65536"), EK3_EPARSE);
    cr_assert_eq(tp_open(&t, "cannelloni:[::1:5000"), EK3_EPARSE);
    cr_assert_eq(tp_open(&t, "cannelloni:no-such-host.invalid:5000"), EK3_ENOENT);
    char s[96];
    cr_assert_eq(tp_cnl_offset("cannelloni:10.0.0.2:47100:48100", 2, s, sizeof s), EK3_OK);
    cr_assert_str_eq(s, "cannelloni:10.0.0.2:47102:48102");
    cr_assert_eq(tp_cnl_offset("cannelloni:[fe80::1]:47100", 1, s, sizeof s), EK3_OK);
    cr_assert_str_eq(s, "cannelloni:[fe80::1]:47101:47101", "LOCALPORT defaults to PORT");
    cr_assert_eq(tp_cnl_offset("cannelloni:h:65535", 1, s, sizeof s), EK3_ERANGE);
}
