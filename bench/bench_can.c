/* bench_can.c - cost of the protocol layer per frame. */
#include <string.h>

#include "auth.h"
#include "bench.h"
#include "can_id.h"
#include "candump.h"
#include "host_crypto.h"
#include "msg.h"

/* Keeps results alive so the compiler cannot drop the loops. */
static void bench_sink(volatile uint32_t *sink, uint32_t v)
{
    *sink ^= v;
}

/* n encodes and decodes of the struct at s (of message type), its
 * 16-bit field *vary set to the loop count each time. */
static void bench_roundtrip(FILE *out, const char *name, unsigned type, void *s, uint16_t *vary, long n,
                            volatile uint32_t *sink)
{
    uint8_t buf[64], back[256] = {0};
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        *vary = (uint16_t)i;
        int len = msg_encode(type, s, buf, sizeof buf, NULL);
        msg_decode(type, buf, (size_t)len, back, NULL);
        bench_sink(sink, back[0]);
    }
    bench_line(out, name, (double)(bench_now_ns() - t0) / (double)n, "ns");
}

int bench_can(FILE *out, double scale)
{
    volatile uint32_t sink = 0;
    long n = (long)(200000 * scale);
    if (n < 1000)
        n = 1000;
    int64_t t0, t1;

    /* identifier encode + decode */
    t0 = bench_now_ns();
    for (long i = 0; i < n * 10; i++) {
        cid_fields f = {CID_PRIO_HIGH, CID_TYPE_POWER_CMD, 0, (uint16_t)(1 + i % 84)}, g;
        uint32_t id;
        cid_encode(&f, &id);
        cid_decode(id, &g);
        bench_sink(&sink, id ^ g.dst);
    }
    t1 = bench_now_ns();
    bench_line(out, "can.id.encode_decode.ns", (double)(t1 - t0) / (double)(n * 10), "ns");

    /* encode + decode: a heartbeat (every module, 1 Hz) and HIL_ADC (twice
     * per module per control period); the first field of each changes */
    msg_heartbeat hb = {MSG_STATE_ACTIVE, 42, 2980, 620, 7500, 3970, 0, 0};
    msg_hil_adc adc = {0, 0, {3100, 2900, 2400, 1800, 1810, 1500, 1490, 900, 2100, 5, 0, 0}};
    bench_roundtrip(out, "can.msg.heartbeat.encode_decode.ns", CID_TYPE_HEARTBEAT, &hb, &hb.seq, n, &sink);
    bench_roundtrip(out, "can.msg.hil_adc.encode_decode.ns", CID_TYPE_HIL_ADC, &adc, &adc.lines, n, &sink);

    /* sign + verify one POWER_CMD (two AES-CMAC each way incl. key schedule) */
    auth_crypto cr = hostcrypto_auth();
    uint8_t key[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                       0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
    auth_tx tx;
    auth_rx rx = {0, 0};
    auth_tx_init(&tx);
    msg_power_cmd pc = {MSG_POWER_SET, 3000, 7500, 4000, 0};
    long na = n / 4 + 1;
    int64_t sign_ns = 0, verify_ns = 0;
    for (long i = 0; i < na; i++) {
        cfd_frame f = {.id = 0x0260002A, .flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS};
        f.len = (uint8_t)msg_encode(CID_TYPE_POWER_CMD, &pc, f.data, sizeof f.data, NULL);
        t0 = bench_now_ns();
        auth_sign(&cr, key, &tx, &f, NULL);
        t1 = bench_now_ns();
        size_t pl;
        bench_sink(&sink, (uint32_t)auth_verify(&cr, key, &rx, &f, &pl, NULL));
        sign_ns += t1 - t0;
        verify_ns += bench_now_ns() - t1;
    }
    bench_line(out, "can.auth.sign.ns", (double)sign_ns / (double)na, "ns");
    bench_line(out, "can.auth.verify.ns", (double)verify_ns / (double)na, "ns");

    /* candump line parse + format */
    const char *line = "(1700000000.123456) can0 0260002A##1010BB80B81DA00F00000000010000005D2A3B4C5D6E7F80";
    char outl[CDL_LINE_MAX];
    t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        cdl_record r;
        cdl_parse(line, &r, NULL, NULL);
        bench_sink(&sink, (uint32_t)cdl_format(&r, outl, sizeof outl));
    }
    t1 = bench_now_ns();
    double ns = (double)(t1 - t0) / (double)n;
    bench_line(out, "can.candump.parse_format.ns", ns, "ns");
    bench_line(out, "can.candump.lines_per_s", 1e9 / ns, "1/s");
    return sink == 0xFFFFFFFFu; /* practically never; keeps sink used */
}
