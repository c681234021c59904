/* vcan_test.c - the SocketCAN transport on a real vcan, inside the VM that
 * ci/vcan-test boots (a static binary: no Criterion there). Prints one
 * line per check and "VCAN-TEST PASS" or "VCAN-TEST FAIL" at the end. */
#include <errno.h>
#include <linux/can.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ek3_err.h"
#include "transport.h"
#include "frames.h"

static int failures;

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (cond) {                                                                                                    \
            printf("ok   ");                                                                                           \
        } else {                                                                                                       \
            printf("FAIL ");                                                                                           \
            failures++;                                                                                                \
        }                                                                                                              \
        printf(__VA_ARGS__);                                                                                           \
        printf("\n");                                                                                                  \
    } while (0)


int main(void)
{
    int rc = tp_vcan_create("vcan0");
    CHECK(rc == EK3_OK || rc == EK3_EBUSY, "vcan0 created with the CAN FD MTU (%s)", ek3_errname(rc));
    tp a, b;
    CHECK(tp_open(&a, "socketcan:vcan0") == EK3_OK, "open socketcan:vcan0");
    CHECK(tp_open(&b, "vcan0") == EK3_OK, "open vcan0 (bare interface name)");
    if (failures) {
        printf("VCAN-TEST FAIL\n");
        return 1;
    }
    unsigned sent = 0, got = 0, bad = 0;
    uint64_t bytes = 0;
    while (got < 3000 && bad == 0) {
        while (sent < 3000 && sent - got < 200) {
            cfd_frame f = frame_k(sent);
            int s = tp_send(&a, &f);
            if (s == EK3_EFULL)
                break;
            if (s) {
                bad = 1;
                break;
            }
            bytes += f.len;
            sent++;
        }
        if (tp_poll(&b, 1000) != 1) {
            bad = 2;
            break;
        }
        cfd_frame r;
        while (tp_recv(&b, &r) == EK3_OK) {
            cfd_frame w = frame_k(got);
            if (r.id != w.id || r.flags != w.flags || r.len != w.len || memcmp(r.data, w.data, r.len)) {
                bad = 3;
                break;
            }
            got++;
        }
    }
    CHECK(bad == 0 && got == 3000, "3000 frames (classic and FD, 0..64 bytes) in order and whole (%u, code %u)", got,
          bad);
    CHECK(a.st.tx_frames == 3000 && b.st.rx_frames == 3000 && a.st.tx_bytes == bytes && b.st.rx_bytes == bytes,
          "statistics: %llu sent, %llu received, %llu bytes", (unsigned long long)a.st.tx_frames,
          (unsigned long long)b.st.rx_frames, (unsigned long long)b.st.rx_bytes);
    /* Frames EK3 never sends: a remote request, counted as malformed. */
    int raw = socket(PF_CAN, SOCK_RAW, CAN_RAW);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "vcan0");
    ioctl(raw, SIOCGIFINDEX, &ifr);
    struct sockaddr_can sa = {.can_family = AF_CAN, .can_ifindex = ifr.ifr_ifindex};
    bind(raw, (struct sockaddr *)&sa, sizeof sa);
    struct can_frame rtr = {.can_id = 0x123 | CAN_RTR_FLAG, .len = 0};
    struct can_frame ok = {.can_id = 0x1ABCDEF | CAN_EFF_FLAG, .len = 2, .data = {0xEE, 0x33}};
    CHECK(write(raw, &rtr, sizeof rtr) == sizeof rtr && write(raw, &ok, sizeof ok) == sizeof ok,
          "raw socket sent a remote frame and a data frame");
    cfd_frame r;
    int p = tp_poll(&b, 1000);
    usleep(10000);
    int got_ok = p == 1 && tp_recv(&b, &r) == EK3_OK && r.id == 0x1ABCDEF && r.len == 2 && r.data[0] == 0xEE;
    CHECK(got_ok && b.st.malformed == 1, "remote frame refused and counted (%llu), data frame delivered",
          (unsigned long long)b.st.malformed);
    CHECK(tp_recv(&b, &r) == EK3_EAGAIN, "nothing else waiting");
    int state;
    unsigned te, re;
    CHECK(tp_socketcan_state("vcan0", &state, &te, &re) == EK3_EIO,
          "libsocketcan: a vcan has no controller state (EK3_EIO)");
    close(raw);
    tp_close(&a);
    tp_close(&b);
    printf("VCAN-TEST %s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
    return failures != 0;
}
