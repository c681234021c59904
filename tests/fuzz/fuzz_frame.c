/* fuzz_frame.c - libFuzzer: a received frame as the firmware and the
 * decoder see it: identifier checks, the trust rule, authentication, payload decoding,
 * printing. Accepted payloads must re-encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "can_id.h"
#include "ek3_err.h"
#include "ek3_rng.h"
#include "host_crypto.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    cfd_frame f = {.flags = CFD_FLAG_EFF | CFD_FLAG_FD};
    f.id = ((uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24) & CID_MASK;
    size_t n = size - 4 > CFD_MAX_LEN ? CFD_MAX_LEN : size - 4;
    memcpy(f.data, data + 4, n);
    f.len = (uint8_t)n;

    cid_fields id;
    if (cid_decode(f.id, &id) != EK3_OK)
        abort();
    (void)cid_validate(f.id);
    /* The trust rule: the station's frames are signed, and a module's
     * swarm frames (ELECTION, SYNC, THERMAL: the group key), and only those. */
    int swarm = id.type == CID_TYPE_ELECTION || id.type == CID_TYPE_SYNC || id.type == CID_TYPE_THERMAL;
    if ((auth_rule(&f) == AUTH_RULE_SIGNED) != (id.src == CID_NODE_STATION || swarm))
        abort();

    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    auth_crypto cr = hostcrypto_auth();
    auth_rx rx = {data[4], (uint64_t)data[4] * EK3_RNG_GAMMA};
    size_t plen = f.len;
    int rc = auth_verify(&cr, key, &rx, &f, &plen, NULL);
    if (rc == EK3_OK && plen + AUTH_TRAILER_LEN != f.len)
        abort();

    msg_any m;
    msg_err e;
    if (msg_decode(id.type, f.data, f.len, &m, &e) == EK3_OK) {
        uint8_t back[CFD_MAX_LEN];
        int k = msg_encode(id.type, &m, back, sizeof back, NULL);
        if (k != f.len || memcmp(back, f.data, f.len))
            abort();
        char text[2048];
        msg_format(msg_desc_of(id.type), &m, text, sizeof text);
    }
    return 0;
}
