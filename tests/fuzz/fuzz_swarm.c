/* fuzz_swarm.c - SWARM_COORD's input: swarm frames as CAN_HANDLER passes
 * them (SWM_MSG_FRAME), into a provisioned module's service. The input is
 * records [flags u8][identifier u32 LE][len u8][len bytes]: flags bit 0
 * signs the frame with the group key (a fresh counter), so the fuzzer
 * reaches the decoder, the join of fragments and the Raft core behind the
 * tag; bit 1 ticks the service after it. Nothing may crash, hang or read
 * out of bounds. */
#include <stdint.h>
#include <string.h>

#include "can_id.h"
#include "ek3_err.h"
#include "fwinst.h"
#include "host_crypto.h"
#include "services.h"
#include "swarm.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    static fwi f;
    static int ready;
    static uint32_t fv = 1;
    if (!ready) {
        llcc_cfg cc;
        llcc_default_cfg(&cc);
        if (fwi_init(&f, 1, 5, 1, &cc, 0, NULL) != EK3_OK)
            return 0;
        ready = 1;
    }
    swm_state *s = jz_state(&f.k, SVC_SWARM);
    if (!s)
        return 0;
    auth_crypto cr = hostcrypto_auth();
    while (n >= 6) {
        uint8_t flags = d[0];
        cfd_frame fr;
        memset(&fr, 0, sizeof fr);
        fr.id = ((uint32_t)d[1] | (uint32_t)d[2] << 8 | (uint32_t)d[3] << 16 | (uint32_t)d[4] << 24) & 0x1FFFFFFFu;
        fr.flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS;
        size_t len = d[5] % (SWM_FRAME_MAX + 1u);
        d += 6, n -= 6;
        if (len > n)
            len = n;
        memcpy(fr.data, d, len);
        fr.len = (uint8_t)len;
        d += len, n -= len;
        if (flags & 1)
            auth_sign_with(&cr, s->cfg.group_key, fv++, &fr); /* refused (too long) is input too */
        uint8_t b[IPC_PAYLOAD];
        b[0] = (uint8_t)fr.id, b[1] = (uint8_t)(fr.id >> 8), b[2] = (uint8_t)(fr.id >> 16), b[3] = (uint8_t)(fr.id >> 24);
        size_t m_len = fr.len > SWM_FRAME_MAX ? SWM_FRAME_MAX : fr.len;
        memcpy(b + 4, fr.data, m_len);
        ipc_msg m;
        ipc_msg_init(&m, SWM_MSG_FRAME, 3, b, 4 + m_len);
        swm_handle(s, &f.k, SVC_SWARM, &m);
        if (flags & 2) {
            ipc_msg t;
            ipc_msg_init(&t, IPC_T_TICK, 3, NULL, 0);
            swm_handle(s, &f.k, SVC_SWARM, &t);
            cfd_frame out; /* what it sent goes nowhere */
            while (hhal_can_take(&f.h, &out) == EK3_OK)
                ;
        }
    }
    return 0;
}
