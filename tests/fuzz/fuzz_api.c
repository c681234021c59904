/* fuzz_api.c - libFuzzer: one datagram to the station's network API
 * (stnapi.h). The first byte chooses: odd, the bytes after it arrive as
 * they are (the header, MAC and freshness checks); even, they are the
 * REQUEST words of a request signed with the right key (the request
 * parser and the station's checks behind it). Every answered input gets
 * a reply TEXT '\n' MAC whose TEXT starts "ok " or "error ", that fits
 * its buffer, and the station's limits stay intact. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "host_crypto.h"
#include "stnapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_NOW_US 1700000000000000LL

static int fz_send(void *ctx, const cfd_frame *f)
{
    (void)ctx;
    (void)f;
    return EK3_OK;
}

static int64_t fz_clock(void)
{
    return FZ_NOW_US;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static station s;
    static sapi a;
    static uint64_t nonce;
    static const uint8_t rack_key[AUTH_KEY_LEN] = {1, 2, 3};
    if (!s.m) {
        if (stn_init(&s, 4, hostcrypto_auth(), rack_key, "fuzz-key", 20.0, 10.0, fz_send, NULL))
            abort();
    }
    if (size < 1)
        return 0;
    /* A fresh API each time: no budget, replay cache or burst carries over. */
    if (sapi_init(&a, &s, 750, fz_clock))
        abort();
    a.start_us = FZ_NOW_US - 1000000;
    for (unsigned k = 0; k < s.n; k++)
        s.m[k].hb_ns = k < 3 ? 0 : -1; /* three online, one silent */
    s.tokens = s.burst;
    char req[2 * SAPI_LINE_MAX];
    size_t len = size - 1;
    if (data[0] & 1) {
        if (len > sizeof req)
            len = sizeof req;
        memcpy(req, data + 1, len);
    } else {
        char words[SAPI_LINE_MAX];
        if (len >= sizeof words)
            len = sizeof words - 1;
        memcpy(words, data + 1, len);
        words[len] = 0;
        if (sapi_sign("fuzz-key", FZ_NOW_US, ++nonce, words, req, sizeof req))
            return 0;
        len = strlen(req);
    }
    char reply[SAPI_LINE_MAX];
    memset(reply, 0x55, sizeof reply);
    int rc = sapi_handle(&a, 1000000, "192.0.2.1", req, len, reply, sizeof reply);
    if (!memchr(reply, 0, sizeof reply))
        abort();
    if (rc != 1) {
        if (rc == EK3_OK ? strncmp(reply, "ok ", 3) : strncmp(reply, "error ", 6))
            abort();
        if (!strchr(reply, '\n'))
            abort();
    }
    if (a.st.ok + a.st.refused + a.st.malformed + a.st.throttled != a.st.requests)
        abort();
    for (unsigned k = 0; k < s.n; k++)
        if (s.m[k].cmd.power_w > 3300 || (s.m[k].cmd.vset_dv && (s.m[k].cmd.vset_dv < 2000 || s.m[k].cmd.vset_dv > 9200)))
            abort();
    return 0;
}
