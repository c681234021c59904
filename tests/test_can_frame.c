/* test_can_frame.c - data lengths and bits on the wire, against
 * hand-checked values and the published worst cases. */
#include <criterion/criterion.h>

#include "can_frame.h"
#include "ek3_err.h"

Test(can_frame, dlc_maps_both_ways)
{
    static const unsigned lens[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64};
    for (unsigned dlc = 0; dlc < 16; dlc++) {
        cr_assert_eq(cfd_dlc_to_len(dlc, 1), lens[dlc]);
        cr_assert_eq(cfd_dlc_to_len(dlc, 0), lens[dlc] > 8 ? 8u : lens[dlc]);
        cr_assert_eq(cfd_len_to_dlc(lens[dlc], 1), (int)dlc);
    }
    for (unsigned len = 0; len <= 70; len++) {
        int valid = 0;
        for (unsigned d = 0; d < 16; d++)
            valid |= lens[d] == len;
        cr_assert_eq(cfd_len_to_dlc(len, 1) >= 0, valid, "len %u", len);
        cr_assert_eq(cfd_len_to_dlc(len, 0) >= 0, len <= 8, "classical len %u", len);
    }
    cr_assert_eq(cfd_len_to_dlc(9, 1), EK3_EDLC);
}

Test(can_frame, payload_is_padded_to_the_next_length)
{
    cfd_frame f = {.flags = CFD_FLAG_FD};
    uint8_t p[13];
    for (unsigned i = 0; i < sizeof p; i++)
        p[i] = (uint8_t)(i + 1);
    cr_assert_eq(cfd_set_payload(&f, p, 13, 0xCC), EK3_OK);
    cr_assert_eq(f.len, 16);
    cr_assert_eq(f.data[12], 13);
    cr_assert_eq(f.data[13], 0xCC);
    cr_assert_eq(f.data[15], 0xCC);
    cr_assert_eq(cfd_round_len(49), 64u);
    cr_assert_eq(cfd_round_len(65), 0u);
    cfd_frame cc = {.flags = 0};
    cr_assert_eq(cfd_set_payload(&cc, p, 9, 0), EK3_EDLC);
    cr_assert_eq(cfd_set_payload(&cc, p, 5, 0), EK3_OK);
    cr_assert_eq(cc.len, 5);
}

/* Classical worst cases are the published ones (Davis, Burns, Bril,
 * Lukkien 2007: 135 bits standard, 160 bits extended with 8 bytes). */
Test(can_frame, classical_bits_match_published_worst_cases)
{
    cr_assert_eq(cfd_frame_bits(0, 0, 1, 1, 8), 135u);
    cr_assert_eq(cfd_frame_bits(0, 1, 1, 1, 8), 160u);
    cr_assert_eq(cfd_frame_bits(0, 1, 0, 1, 8), 131u); /* no stuffing: 54 + 64 + 13 */
    cr_assert_eq(cfd_frame_bits(0, 0, 0, 1, 0), 47u);  /* the classic 47-bit empty frame */
    /* Linux's CAN_FRAME_LEN_MAX: DIV_ROUND_UP(bits of EFF 8 bytes unstuffed, 8) */
    cr_assert_eq((cfd_frame_bits(0, 1, 0, 1, 8) + 7) / 8, 17u);
}

/* CAN-FD by hand from the field table of include/linux/can/length.h:
 * EFF header 41, SFF header 22, CRC17 field 28 (len <= 16), CRC21 field
 * 33, footer 9, intermission 3; stuffing adds (n - 1) / 4 over header
 * and data. */
Test(can_frame, fd_bits_match_hand_counts_for_both_crc_lengths)
{
    cr_assert_eq(cfd_frame_bits(1, 1, 0, 1, 16), 41u + 128 + 28 + 9 + 3);
    cr_assert_eq(cfd_frame_bits(1, 1, 0, 1, 20), 41u + 160 + 33 + 9 + 3);
    cr_assert_eq(cfd_frame_bits(1, 1, 1, 1, 16), 169u + 42 + 28 + 9 + 3); /* 251 */
    cr_assert_eq(cfd_frame_bits(1, 1, 1, 1, 64), 553u + 138 + 33 + 9 + 3); /* 736 */
    cr_assert_eq(cfd_frame_bits(1, 0, 1, 1, 0), 22u + 5 + 28 + 9 + 3);
    cr_assert_eq(cfd_frame_bits(1, 0, 1, 0, 0), 22u + 5 + 28 + 9);
    /* Linux's CANFD_FRAME_LEN_MAX: EFF 64 bytes, no dynamic stuffing */
    cr_assert_eq((cfd_frame_bits(1, 1, 0, 1, 64) + 7) / 8, 75u);
}

Test(can_frame, brs_splits_bits_between_rates)
{
    cfd_frame f = {.flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS, .len = 64};
    cfd_bits b = cfd_phase_bits(&f, 1);
    /* arbitration: 36 bits up to BRS stuffed to 44, plus footer and intermission */
    cr_assert_eq(b.arb, 44u + 12);
    cr_assert_eq(b.arb + b.data, 736u);
    cr_assert_eq(cfd_frame_ns(&f, 1000000, 5000000), 56000 + 136000);
    f.flags &= (uint8_t)~CFD_FLAG_BRS;
    b = cfd_phase_bits(&f, 1);
    cr_assert_eq(b.data, 0u);
    cr_assert_eq(cfd_frame_ns(&f, 1000000, 5000000), 736000);
    cfd_frame cc = {.flags = CFD_FLAG_EFF, .len = 8};
    cr_assert_eq(cfd_frame_ns(&cc, 500000, 500000), 320000); /* 160 bits at 500 kbit/s */
    cr_assert_eq(cfd_frame_ns(&cc, 0, 1), -1);
}

Test(can_frame, remote_frames_carry_no_data_bits)
{
    cfd_frame r = {.flags = CFD_FLAG_EFF | CFD_FLAG_RTR, .len = 8};
    cr_assert_eq(cfd_phase_bits(&r, 1).arb, cfd_frame_bits(0, 1, 1, 1, 0));
}
