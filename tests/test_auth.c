/* test_auth.c - AES-CMAC against RFC 4493, and the SecOC-style frame
 * authentication: fresh, forged, replayed, stale and wrapped frames. */
#include <criterion/criterion.h>
#include <string.h>

#include "auth.h"
#include "can_id.h"
#include "ek3_err.h"
#include "host_crypto.h"
#include "msg.h"
#include "soft_aes.h"

static const uint8_t rfc_key[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                    0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
static const uint8_t rfc_msg[64] = {
    0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96, 0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a,
    0xae, 0x2d, 0x8a, 0x57, 0x1e, 0x03, 0xac, 0x9c, 0x9e, 0xb7, 0x6f, 0xac, 0x45, 0xaf, 0x8e, 0x51,
    0x30, 0xc8, 0x1c, 0x46, 0xa3, 0x5c, 0xe4, 0x11, 0xe5, 0xfb, 0xc1, 0x19, 0x1a, 0x0a, 0x52, 0xef,
    0xf6, 0x9f, 0x24, 0x45, 0xdf, 0x4f, 0x9b, 0x17, 0xad, 0x2b, 0x41, 0x7b, 0xe6, 0x6c, 0x37, 0x10};

/* Both implementations: mbedTLS (host) and soft_aes (target). */
static void check_rfc(size_t len, const uint8_t want[16])
{
    uint8_t tag[16];
    cr_assert_eq(hostcrypto_cmac(NULL, rfc_key, rfc_msg, len, tag), EK3_OK);
    cr_assert_arr_eq(tag, want, 16, "mbedTLS, RFC 4493 example with %zu bytes", len);
    memset(tag, 0, sizeof tag);
    cr_assert_eq(saes_cmac(NULL, rfc_key, rfc_msg, len, tag), 0);
    cr_assert_arr_eq(tag, want, 16, "soft_aes, RFC 4493 example with %zu bytes", len);
}

/* FIPS 197 appendix C.1: AES-128 of 00112233...eeff under 000102...0f */
Test(rfc4493, fips197_aes128_block)
{
    static const uint8_t key[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    static const uint8_t pt[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    static const uint8_t ct[16] = {0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
                                   0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a};
    saes_key k;
    uint8_t out[16];
    saes_setkey(&k, key);
    saes_encrypt(&k, pt, out);
    cr_assert_arr_eq(out, ct, 16);
}

Test(rfc4493, soft_aes_agrees_with_mbedtls_on_every_length)
{
    uint8_t key[16], msg[200], a[16], b[16];
    uint32_t s = 1;
    for (int trial = 0; trial < 400; trial++) {
        for (unsigned i = 0; i < sizeof key; i++)
            key[i] = (uint8_t)((s = s * 1103515245u + 12345u) >> 16);
        size_t len = (size_t)trial % sizeof msg;
        for (size_t i = 0; i < len; i++)
            msg[i] = (uint8_t)((s = s * 1103515245u + 12345u) >> 16);
        hostcrypto_cmac(NULL, key, msg, len, a);
        saes_cmac(NULL, key, msg, len, b);
        cr_assert_arr_eq(a, b, 16, "length %zu", len);
    }
}

Test(rfc4493, example1_empty)
{
    static const uint8_t t[16] = {0xbb, 0x1d, 0x69, 0x29, 0xe9, 0x59, 0x37, 0x28,
                                  0x7f, 0xa3, 0x7d, 0x12, 0x9b, 0x75, 0x67, 0x46};
    check_rfc(0, t);
}
Test(rfc4493, example2_16_bytes)
{
    static const uint8_t t[16] = {0x07, 0x0a, 0x16, 0xb4, 0x6b, 0x4d, 0x41, 0x44,
                                  0xf7, 0x9b, 0xdd, 0x9d, 0xd0, 0x4a, 0x28, 0x7c};
    check_rfc(16, t);
}
Test(rfc4493, example3_40_bytes)
{
    static const uint8_t t[16] = {0xdf, 0xa6, 0x67, 0x47, 0xde, 0x9a, 0xe6, 0x30,
                                  0x30, 0xca, 0x32, 0x61, 0x14, 0x97, 0xc8, 0x27};
    check_rfc(40, t);
}
Test(rfc4493, example4_64_bytes)
{
    static const uint8_t t[16] = {0x51, 0xf0, 0xbe, 0xbf, 0x7e, 0x3b, 0x9d, 0x92,
                                  0xfc, 0x49, 0x74, 0x17, 0x79, 0x36, 0x3c, 0xfe};
    check_rfc(64, t);
}

/* ---- frames ------------------------------------------------------------ */

static auth_crypto cr;
static uint8_t key42[16];

static void setup(void)
{
    cr = hostcrypto_auth();
    cr_assert_eq(auth_derive_key(&cr, rfc_key, 42, key42), EK3_OK);
}

static cfd_frame power_cmd(uint16_t watts)
{
    cfd_frame f = {.flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS};
    cid_encode(&(cid_fields){CID_PRIO_HIGH, CID_TYPE_POWER_CMD, CID_NODE_STATION, 42}, &f.id);
    msg_power_cmd pc = {MSG_POWER_SET, watts, 7500, 4000, 0};
    f.len = (uint8_t)msg_encode(CID_TYPE_POWER_CMD, &pc, f.data, sizeof f.data, NULL);
    return f;
}

TestSuite(auth, .init = setup);

Test(auth, node_keys_differ_and_are_deterministic)
{
    uint8_t a[16], b[16], c[16];
    auth_derive_key(&cr, rfc_key, 41, a);
    auth_derive_key(&cr, rfc_key, 41, b);
    auth_derive_key(&cr, rfc_key, 42, c);
    cr_assert_arr_eq(a, b, 16);
    cr_assert_arr_neq(a, c, 16);
    cr_assert_arr_neq(a, rfc_key, 16);
    /* K_node = CMAC(K_rack, 01 || "EK3 node key" || 00 || node BE16 || 0080) */
    uint8_t in[] = {0x01, 'E', 'K', '3', ' ', 'n', 'o', 'd', 'e', ' ', 'k', 'e', 'y', 0x00, 0x00, 41, 0x00, 0x80};
    uint8_t want[16];
    hostcrypto_cmac(NULL, rfc_key, in, sizeof in, want);
    cr_assert_arr_eq(a, want, 16, "derivation follows SP 800-108 counter mode as documented");
}

Test(auth, fresh_frame_passes_and_carries_its_counter)
{
    auth_tx tx;
    auth_rx rx = {0, 0};
    auth_tx_init(&tx);
    cfd_frame f = power_cmd(3000);
    uint32_t fv = 0, got = 0;
    size_t plen = 0;
    cr_assert_eq(auth_sign(&cr, key42, &tx, &f, &fv), EK3_OK);
    cr_assert_eq(fv, 1u);
    cr_assert_eq(f.len, 24);
    cr_assert_eq(auth_verify(&cr, key42, &rx, &f, &plen, &got), EK3_OK);
    cr_assert_eq(plen, 12u);
    cr_assert_eq(got, 1u);
    /* the tag is CMAC(id LE || fv LE || payload), truncated to 8 bytes */
    uint8_t in[20], tag[16];
    in[0] = (uint8_t)f.id; in[1] = (uint8_t)(f.id >> 8); in[2] = (uint8_t)(f.id >> 16); in[3] = (uint8_t)(f.id >> 24);
    in[4] = 1; in[5] = in[6] = in[7] = 0;
    memcpy(in + 8, f.data, 12);
    hostcrypto_cmac(NULL, key42, in, sizeof in, tag);
    cr_assert_arr_eq(f.data + 16, tag, 8);
}

Test(auth, forged_tag_payload_or_identifier_is_rejected)
{
    auth_tx tx;
    auth_tx_init(&tx);
    cfd_frame good = power_cmd(3000);
    auth_sign(&cr, key42, &tx, &good, NULL);
    for (unsigned byte = 0; byte < good.len; byte++) {
        auth_rx rx = {0, 0};
        cfd_frame f = good;
        f.data[byte] ^= 0x01;
        int rc = auth_verify(&cr, key42, &rx, &f, NULL, NULL);
        cr_assert_eq(rc, EK3_EFORGED, "flipped byte %u gave %s", byte, ek3_errname(rc));
        cr_assert_eq(rx.top, 0u, "a forged frame never moves the window");
    }
    auth_rx rx = {0, 0};
    cfd_frame f = good;
    f.id ^= 1; /* same payload, sent to module 43 */
    cr_assert_eq(auth_verify(&cr, key42, &rx, &f, NULL, NULL), EK3_EFORGED);
    uint8_t key43[16];
    auth_derive_key(&cr, rfc_key, 43, key43);
    cr_assert_eq(auth_verify(&cr, key43, &rx, &good, NULL, NULL), EK3_EFORGED, "another node's key");
}

Test(auth, replayed_and_stale_counters_are_rejected)
{
    auth_tx tx;
    auth_rx rx = {0, 0};
    auth_tx_init(&tx);
    cfd_frame frames[100];
    for (int i = 0; i < 100; i++) {
        frames[i] = power_cmd((uint16_t)(i * 10));
        auth_sign(&cr, key42, &tx, &frames[i], NULL);
    }
    cr_assert_eq(auth_verify(&cr, key42, &rx, &frames[0], NULL, NULL), EK3_OK);
    cr_assert_eq(auth_verify(&cr, key42, &rx, &frames[0], NULL, NULL), EK3_EREPLAY);
    cr_assert_eq(auth_verify(&cr, key42, &rx, &frames[99], NULL, NULL), EK3_OK);
    /* counter 100 accepted: 36..99 lie in the window and may arrive late */
    cr_assert_eq(auth_verify(&cr, key42, &rx, &frames[50], NULL, NULL), EK3_OK);
    cr_assert_eq(auth_verify(&cr, key42, &rx, &frames[50], NULL, NULL), EK3_EREPLAY);
    cr_assert_eq(auth_verify(&cr, key42, &rx, &frames[36], NULL, NULL), EK3_OK, "oldest in the window");
    cr_assert_eq(auth_verify(&cr, key42, &rx, &frames[35], NULL, NULL), EK3_ESTALE, "just below the window");
    cr_assert_eq(auth_verify(&cr, key42, &rx, &frames[1], NULL, NULL), EK3_ESTALE);
    cr_assert_eq(auth_verify(&cr, key42, &rx, &frames[99], NULL, NULL), EK3_EREPLAY);
}

Test(auth, counter_wrap_is_refused_by_sender_and_receiver)
{
    auth_tx tx = {UINT32_MAX - 1, 0};
    cfd_frame a = power_cmd(1), b = power_cmd(2), c = power_cmd(3);
    cr_assert_eq(auth_sign(&cr, key42, &tx, &a, NULL), EK3_OK);
    cr_assert_eq(auth_sign(&cr, key42, &tx, &b, NULL), EK3_OK); /* 0xFFFFFFFF: the last one */
    cr_assert_eq(auth_sign(&cr, key42, &tx, &c, NULL), EK3_EWRAP);
    cr_assert_eq(c.len, 12, "frame untouched");

    auth_rx rx = {0, 0};
    cr_assert_eq(auth_verify(&cr, key42, &rx, &a, NULL, NULL), EK3_OK);
    cr_assert_eq(auth_verify(&cr, key42, &rx, &b, NULL, NULL), EK3_OK);
    /* a correctly signed frame whose counter started over at 0 or 1 */
    cfd_frame w0 = power_cmd(4), w1 = power_cmd(5);
    auth_sign_with(&cr, key42, 0, &w0);
    auth_sign_with(&cr, key42, 1, &w1);
    cr_assert_eq(auth_verify(&cr, key42, &rx, &w0, NULL, NULL), EK3_EWRAP);
    cr_assert_eq(auth_verify(&cr, key42, &rx, &w1, NULL, NULL), EK3_EWRAP);
    auth_rx fresh = {0, 0};
    cr_assert_eq(auth_verify(&cr, key42, &fresh, &w0, NULL, NULL), EK3_ESTALE, "counter 0 is never valid");
}

Test(auth, spending_a_counter_unsigned_moves_the_sender_as_signing_would)
{
    auth_tx signer, spender;
    auth_tx_init(&signer);
    auth_tx_init(&spender);
    uint32_t fs = 0, fp = 0;
    for (int i = 0; i < 3; i++) {
        cfd_frame f = power_cmd(i);
        cr_assert_eq(auth_sign(&cr, key42, &signer, &f, &fs), EK3_OK);
        cr_assert_eq(auth_spend(&spender, 12, &fp), EK3_OK);
        cr_assert_eq(fp, fs, "frame %d: counter %u spent, %u signed", i, fp, fs);
    }
    cr_assert_eq(spender.next, signer.next);
    /* the refusals come before the counter moves */
    cr_assert_eq(auth_spend(&spender, 64, &fp), EK3_EDLC);
    cr_assert_eq(auth_spend(&spender, 13, &fp), EK3_EDLC, "13 + 12 = 25: no such length");
    cr_assert_eq(spender.next, signer.next, "a refused spend left the counter where it was");
    cr_assert_eq(auth_spend(NULL, 12, &fp), EK3_EINVAL);
    auth_tx last = {UINT32_MAX, 0};
    cr_assert_eq(auth_spend(&last, 12, &fp), EK3_OK);
    cr_assert_eq(fp, UINT32_MAX);
    cr_assert_eq(auth_spend(&last, 12, &fp), EK3_EWRAP, "2^32-1 was the last");
    /* the receiver takes the next signed frame across the spent gap */
    auth_rx rx = {0, 0};
    cfd_frame next = power_cmd(9);
    cr_assert_eq(auth_sign(&cr, key42, &spender, &next, NULL), EK3_OK);
    cr_assert_eq(auth_verify(&cr, key42, &rx, &next, NULL, NULL), EK3_OK);
}

Test(auth, frames_too_short_or_too_long_are_refused)
{
    auth_rx rx = {0, 0};
    cfd_frame f = power_cmd(1);
    f.len = 8;
    cr_assert_eq(auth_verify(&cr, key42, &rx, &f, NULL, NULL), EK3_ENOAUTH);
    cfd_frame big = {.flags = CFD_FLAG_FD, .len = 64};
    cr_assert_eq(auth_sign_with(&cr, key42, 1, &big), EK3_EDLC);
    cfd_frame odd = {.flags = CFD_FLAG_FD, .len = 13}; /* 13 + 12 = 25: no such length */
    cr_assert_eq(auth_sign_with(&cr, key42, 1, &odd), EK3_EDLC);
}

Test(auth, only_station_and_swarm_frames_need_a_tag)
{
    uint32_t id;
    cid_encode(&(cid_fields){CID_PRIO_HIGH, CID_TYPE_POWER_CMD, CID_NODE_STATION, 42}, &id);
    cr_assert(auth_required(id));
    cr_assert_eq(auth_key_node(id), 42);
    cid_encode(&(cid_fields){CID_PRIO_MEDIUM, CID_TYPE_HEARTBEAT, 42, CID_NODE_BROADCAST}, &id);
    cr_assert_not(auth_required(id));
    /* a swarm frame from a module: the group key, also when it goes to one module */
    cid_encode(&(cid_fields){CID_PRIO_MEDIUM, CID_TYPE_ELECTION, 42, 7}, &id);
    cr_assert(auth_required(id));
    cr_assert_eq(auth_key_node(id), CID_NODE_BROADCAST);
    cid_encode(&(cid_fields){CID_PRIO_MEDIUM, CID_TYPE_THERMAL, 42, CID_NODE_BROADCAST}, &id);
    cr_assert(auth_required(id));
    cr_assert_eq(auth_key_node(id), CID_NODE_BROADCAST);
}

/* seed 3.2: only the station commands. The rule the module's CAN_HANDLER
 * and `ek3 can decode` share. */
Test(auth, a_command_only_the_station_gives_is_refused_from_any_other_node)
{
    static const struct {
        unsigned type, src, dst, op; /* op: a DIAG's REQUEST (0) or RESULT (1) */
        int rule;
    } c[] = {
        {CID_TYPE_POWER_CMD, CID_NODE_STATION, 42, 0, AUTH_RULE_SIGNED},
        {CID_TYPE_POWER_CMD, 5, 42, 0, AUTH_RULE_STATION_ONLY},
        {CID_TYPE_POWER_CMD, CID_NODE_PLANT, 42, 0, AUTH_RULE_STATION_ONLY},
        {CID_TYPE_STATION, 7, CID_NODE_BROADCAST, 0, AUTH_RULE_STATION_ONLY},
        {CID_TYPE_FW_UPDATE, 7, 8, 0, AUTH_RULE_STATION_ONLY},
        {CID_TYPE_DIAG, CID_NODE_STATION, 3, MSG_DIAG_REQUEST, AUTH_RULE_SIGNED},
        {CID_TYPE_DIAG, 4, 3, MSG_DIAG_REQUEST, AUTH_RULE_STATION_ONLY}, /* a module asks another */
        {CID_TYPE_DIAG, 3, CID_NODE_STATION, MSG_DIAG_RESULT, AUTH_RULE_OPEN}, /* a module's result */
        {CID_TYPE_HEARTBEAT, 42, CID_NODE_BROADCAST, 0, AUTH_RULE_OPEN},
        {CID_TYPE_POWER_ACK, 42, CID_NODE_STATION, 0, AUTH_RULE_OPEN},
        {CID_TYPE_ELECTION, 42, CID_NODE_BROADCAST, 0, AUTH_RULE_SIGNED}, /* the swarm's: group key */
        {CID_TYPE_ELECTION, 42, 7, 0, AUTH_RULE_SIGNED},
        {CID_TYPE_SYNC, 3, CID_NODE_BROADCAST, 0, AUTH_RULE_SIGNED},
        {CID_TYPE_THERMAL, 3, CID_NODE_BROADCAST, 0, AUTH_RULE_SIGNED},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        cfd_frame f = {.flags = CFD_FLAG_EFF | CFD_FLAG_FD};
        cr_assert_eq(cid_encode(&(cid_fields){CID_PRIO_HIGH, (uint8_t)c[i].type, (uint16_t)c[i].src, (uint16_t)c[i].dst},
                                &f.id),
                     EK3_OK);
        if (c[i].type == CID_TYPE_DIAG) {
            msg_diag d = {(uint8_t)c[i].op, MSG_DIAG_FAN, MSG_DIAG_RUNNING, 0};
            f.len = (uint8_t)msg_encode(CID_TYPE_DIAG, &d, f.data, sizeof f.data, NULL);
        }
        cr_assert_eq(auth_rule(&f), c[i].rule, "type %u from %u to %u", c[i].type, c[i].src, c[i].dst);
    }
    cfd_frame sff = {.id = 0x3, .len = 0}; /* an 11-bit frame is no EK3 frame: open */
    cr_assert_eq(auth_rule(&sff), AUTH_RULE_OPEN);
}
