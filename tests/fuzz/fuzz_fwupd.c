/* fuzz_fwupd.c - UPDATE_MGR's state machine: sequences of FW_UPDATE
 * operations as CAN_HANDLER passes them (SVC_MSG_FW), the service's ticks
 * and the resets it asks for, into one freshly provisioned module (its
 * flash, bootloader and kernel: fwinst.h). The input is 12-byte records
 * [kind u8][xfer u8][a u16 LE][b u32 LE][c u32 LE]; kind & 7:
 *   0 BEGIN: size b (a & 1: the test image's size), version c, security
 *     a >> 1, kind & 0x80 flags RESUME;
 *   1 CHUNK of the test image (a valid signed 1.1.0, security 2) at
 *     offset (a * 8) mod its size, 40 bytes or what is left; its CRC-32
 *     right unless kind & 0x80;
 *   2 CHUNK raw: offset b, arg c, a & 63 bytes (over 40: refused by the
 *     codec, as CAN_HANDLER would) taken from the input;
 *   3 END: offset b (a & 1: the test image's size);
 *   4 ACTIVATE, 5 QUERY, 6 REBOOT, 7 ABORT;
 * kind & 0x40: then (a % 150) + 1 ticks of the service (10 ms each),
 * the module reset whenever it asks (hal_reset: into the trial, or
 * back), as the rig does after the pass that asked. So the fuzzer reaches
 * staging, END's verify, the hand-off, the trial and its revert, with
 * any order and any transfer id. Nothing may crash, hang or read out of
 * bounds, and the service's own invariants hold after every record: a
 * known state, the extent within the transfer's size while receiving,
 * and a module that was never given a verified image still boots its
 * factory version. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "can_id.h"
#include "ek3_err.h"
#include "fw_update.h"
#include "fwinst.h"
#include "fwsign.h"
#include "msg.h"
#include "services.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

#define FZ_PAYLOAD 600u

static uint32_t fz_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fz_send(fwi *f, const msg_fw_update *u)
{
    /* through the codec, as CAN_HANDLER hands frames on: what it refuses never reaches the service */
    uint8_t buf[64];
    msg_err e;
    int len = msg_encode(CID_TYPE_FW_UPDATE, u, buf, sizeof buf, &e);
    if (len < 0)
        return;
    msg_fw_update back;
    memset(&back, 0, sizeof back);
    if (msg_decode(CID_TYPE_FW_UPDATE, buf, (size_t)len, &back, &e) != EK3_OK)
        return;
    fwu_state *s = jz_state(&f->k, SVC_UPDATE);
    if (!s)
        return;
    ipc_msg m;
    ipc_msg_init(&m, SVC_MSG_FW, SVC_CAN, &back, sizeof back);
    fwu_handle(s, &f->k, SVC_UPDATE, &m);
}

static void fz_ticks(fwi *f, unsigned n)
{
    for (unsigned i = 0; i < n && !f->down; i++) {
        fwu_state *s = jz_state(&f->k, SVC_UPDATE);
        if (!s)
            return;
        ipc_msg t;
        ipc_msg_init(&t, IPC_T_TICK, 0, NULL, 0);
        fwu_handle(s, &f->k, SVC_UPDATE, &t);
        cfd_frame out; /* what it sent goes nowhere */
        while (hhal_can_take(&f->h, &out) == EK3_OK)
            ;
        if (f->h.reset_req)
            fwi_fault_reboot(f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    static uint8_t img[FWSIGN_SIZE(FZ_PAYLOAD)];
    static size_t img_n;
    if (!img_n) {
        fwsign_meta m = {BRD_HW_ID, 0x010100, 2, 0};
        if (fwsign_dev_image(&m, FZ_PAYLOAD, 7, img, sizeof img, &img_n) != EK3_OK)
            abort();
    }
    fwi *f = calloc(1, sizeof *f);
    if (!f)
        return 0;
    llcc_cfg cc;
    llcc_default_cfg(&cc);
    if (fwi_init(f, 1, 0, 1, &cc, 0, NULL) != EK3_OK) {
        free(f);
        return 0;
    }
    int staged_ever = 0;
    while (n >= 12 && !f->down) {
        uint8_t kind = d[0], xfer = d[1];
        uint16_t a = (uint16_t)(d[2] | d[3] << 8);
        uint32_t b = fz_le32(d + 4), c = fz_le32(d + 8);
        d += 12, n -= 12;
        msg_fw_update u;
        memset(&u, 0, sizeof u);
        u.xfer = xfer;
        switch (kind & 7) {
        case 0:
            u.op = MSG_FW_BEGIN, u.len = MSG_FW_BEGIN_LEN;
            u.offset = a & 1 ? (uint32_t)img_n : b, u.arg = c;
            uint32_t sec = a >> 1;
            memcpy(u.data, &sec, 4);
            u.data[4] = kind & 0x80 ? MSG_FW_F_RESUME : 0;
            break;
        case 1: {
            u.op = MSG_FW_CHUNK;
            u.offset = (uint32_t)(((size_t)a * 8) % img_n) & ~7u;
            size_t left = img_n - u.offset;
            u.len = (uint8_t)(left < 40 ? left : 40);
            memcpy(u.data, img + u.offset, u.len);
            u.arg = msg_crc32(0, u.data, u.len) ^ (kind & 0x80 ? 1u : 0u);
            break;
        }
        case 2: {
            u.op = MSG_FW_CHUNK, u.offset = b, u.arg = c;
            size_t len = a & 63u;
            if (len > n)
                len = n;
            u.len = (uint8_t)len;
            memcpy(u.data, d, len > sizeof u.data ? sizeof u.data : len);
            d += len, n -= len;
            break;
        }
        case 3: u.op = MSG_FW_END, u.offset = a & 1 ? (uint32_t)img_n : b; break;
        case 4: u.op = MSG_FW_ACTIVATE; break;
        case 5: u.op = MSG_FW_QUERY; break;
        case 6: u.op = MSG_FW_REBOOT; break;
        default: u.op = MSG_FW_ABORT; break;
        }
        fz_send(f, &u);
        if (kind & 0x40)
            fz_ticks(f, (a % 150u) + 1u);
        const fwu_state *s = jz_state(&f->k, SVC_UPDATE);
        if (!s)
            continue;
        if (s->state >= MSG_FWS_COUNT_)
            abort(); /* a state no STATUS can say */
        if (s->state == MSG_FWS_RECEIVING && s->extent > s->size)
            abort(); /* staged past the image BEGIN announced */
        staged_ever |= s->state == MSG_FWS_STAGED || s->state == MSG_FWS_TRIAL || s->state == MSG_FWS_HANDOFF;
        if (!staged_ever && !f->down && f->boot.version != FWI_FACTORY_VERSION)
            abort(); /* booted an image that never verified */
    }
    fwi_free(f);
    free(f);
    return 0;
}
