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
