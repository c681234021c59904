/* fuzz_api.c - libFuzzer: one datagram to the station's network API
 * (stnapi.h). Every input gets a reply that starts "ok " or "error ",
 * fits its buffer, and leaves the station's limits intact. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "host_crypto.h"
#include "stnapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fz_send(void *ctx, const cfd_frame *f)
{
    (void)ctx;
    (void)f;
    return EK3_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static station s;
    static int ready;
    static const uint8_t rack_key[AUTH_KEY_LEN] = {1, 2, 3};
    if (!ready) {
        if (stn_init(&s, 4, hostcrypto_auth(), rack_key, "fuzz-key", 20.0, 10.0, fz_send, NULL))
            abort();
        ready = 1;
    }
    for (unsigned k = 0; k < s.n; k++)
        s.m[k].hb_ns = k < 3 ? 0 : -1; /* three online, one silent */
    s.tokens = s.burst;
    char reply[SAPI_LINE_MAX];
    memset(reply, 0x55, sizeof reply);
    int rc = sapi_handle(&s, 750, 1000000, (const char *)data, size, reply, sizeof reply);
    if (!memchr(reply, 0, sizeof reply))
        abort();
    if (rc == EK3_OK ? strncmp(reply, "ok ", 3) : strncmp(reply, "error ", 6))
        abort();
    for (unsigned k = 0; k < s.n; k++)
        if (s.m[k].cmd.power_w > 3300 || (s.m[k].cmd.vset_dv && (s.m[k].cmd.vset_dv < 2000 || s.m[k].cmd.vset_dv > 9200)))
            abort();
    return 0;
}
