/* test_can_id.c - the 29-bit identifier: fields, ranges, arbitration. */
#include <criterion/criterion.h>

#include "can_id.h"
#include "ek3_err.h"

/* xorshift32: a fixed-seed generator for the sweeps */
static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void roundtrip(cid_fields in)
{
    uint32_t id;
    cid_fields out;
    cr_assert_eq(cid_encode(&in, &id), EK3_OK);
    cr_assert_eq(id & ~CID_MASK, 0u);
    cr_assert_eq(cid_decode(id, &out), EK3_OK);
    cr_assert(in.prio == out.prio && in.type == out.type && in.src == out.src && in.dst == out.dst,
              "fields %u/%u/%u/%u came back as %u/%u/%u/%u", in.prio, in.type, in.src, in.dst, out.prio,
              out.type, out.src, out.dst);
}

Test(can_id, seed_example_decodes)
{
    cid_fields f;
    cr_assert_eq(cid_decode(0x0260002Au, &f), EK3_OK);
    cr_assert_eq(f.prio, CID_PRIO_HIGH);
    cr_assert_eq(f.type, CID_TYPE_POWER_CMD);
    cr_assert_eq(f.src, CID_NODE_STATION);
    cr_assert_eq(f.dst, 42);
    cid_fields g = {CID_PRIO_HIGH, CID_TYPE_POWER_CMD, 0, 42};
    uint32_t id;
    cid_encode(&g, &id);
    cr_assert_eq(id, 0x0260002Au);
}

Test(can_id, every_value_of_every_field_roundtrips)
{
    uint32_t s = 12345;
    for (unsigned v = 0; v <= CID_SRC_MAX; v++) {
        cid_fields f = {(uint8_t)(rnd(&s) & 15), (uint8_t)(rnd(&s) & 15), (uint16_t)v, (uint16_t)(rnd(&s) & 0x1FF)};
        roundtrip(f);
    }
    for (unsigned v = 0; v <= CID_DST_MAX; v++) {
        cid_fields f = {(uint8_t)(rnd(&s) & 15), (uint8_t)(rnd(&s) & 15), (uint16_t)(rnd(&s) & 0xFFF), (uint16_t)v};
        roundtrip(f);
    }
    for (unsigned p = 0; p <= CID_PRIO_MAX; p++)
        for (unsigned t = 0; t <= CID_TYPE_MAX; t++) {
            roundtrip((cid_fields){(uint8_t)p, (uint8_t)t, 0, 0});
            roundtrip((cid_fields){(uint8_t)p, (uint8_t)t, CID_SRC_MAX, CID_DST_MAX});
        }
}

Test(can_id, every_identifier_decodes_and_reencodes)
{
    /* stride through the whole 29-bit space, all bit positions exercised */
    for (uint32_t id = 0; id <= CID_MASK; id += 7919) {
        cid_fields f;
        uint32_t back;
        cr_assert_eq(cid_decode(id, &f), EK3_OK);
        cr_assert_eq(cid_encode(&f, &back), EK3_OK);
        cr_assert_eq(back, id);
    }
}

Test(can_id, out_of_range_fields_are_refused)
{
    uint32_t id = 0xDEADBEEF;
    cr_assert_eq(cid_encode(&(cid_fields){16, 0, 0, 0}, &id), EK3_ERANGE);
    cr_assert_eq(cid_encode(&(cid_fields){0, 16, 0, 0}, &id), EK3_ERANGE);
    cr_assert_eq(cid_encode(&(cid_fields){0, 0, 0x1000, 0}, &id), EK3_ERANGE);
    cr_assert_eq(cid_encode(&(cid_fields){0, 0, 0, 0x200}, &id), EK3_ERANGE);
    cr_assert_eq(id, 0xDEADBEEF, "nothing written on error");
    cid_fields f;
    cr_assert_eq(cid_decode(0x20000000u, &f), EK3_ERANGE);
    cr_assert_eq(cid_validate(0x20000000u), EK3_ERANGE);
}

Test(can_id, validate_refuses_undefined_priorities_and_types)
{
    for (unsigned p = 0; p < 16; p++)
        for (unsigned t = 0; t < 16; t++) {
            uint32_t id;
            cid_encode(&(cid_fields){(uint8_t)p, (uint8_t)t, 1, 2}, &id);
            int want = !cid_prio_name(p) ? EK3_EPRIO : !cid_type_name(t) ? EK3_ETYPE : EK3_OK;
            cr_assert_eq(cid_validate(id), want, "prio %u type %u", p, t);
        }
    cr_assert_null(cid_prio_name(4));
    cr_assert_null(cid_type_name(0xD));
    cr_assert_str_eq(cid_type_name(CID_TYPE_FW_UPDATE), "FW_UPDATE");
}

Test(can_id, lower_priority_value_always_wins_arbitration)
{
    static const unsigned prios[] = {CID_PRIO_CRITICAL, CID_PRIO_HIGH, CID_PRIO_MEDIUM, CID_PRIO_LOW,
                                     CID_PRIO_BACKGROUND};
    uint32_t s = 99;
    for (int k = 0; k < 20000; k++) {
        unsigned i = rnd(&s) % 5, j = rnd(&s) % 5;
        if (i == j)
            continue;
        uint32_t a, b;
        cid_encode(&(cid_fields){(uint8_t)prios[i], (uint8_t)(rnd(&s) & 15), (uint16_t)(rnd(&s) & 0xFFF),
                                 (uint16_t)(rnd(&s) & 0x1FF)}, &a);
        cid_encode(&(cid_fields){(uint8_t)prios[j], (uint8_t)(rnd(&s) & 15), (uint16_t)(rnd(&s) & 0xFFF),
                                 (uint16_t)(rnd(&s) & 0x1FF)}, &b);
        cr_assert_eq(cid_wins(a, b), prios[i] < prios[j], "0x%08X vs 0x%08X", a, b);
    }
    /* same priority: the type decides, then the source */
    uint32_t fault, hb;
    cid_encode(&(cid_fields){CID_PRIO_MEDIUM, CID_TYPE_HEARTBEAT, 500, 0x1FF}, &hb);
    cid_encode(&(cid_fields){CID_PRIO_MEDIUM, CID_TYPE_THERMAL, 1, 0x1FF}, &fault);
    cr_assert(cid_wins(hb, fault));
}

Test(can_id, names_parse_case_insensitively)
{
    unsigned v;
    cr_assert_eq(cid_prio_parse("high", &v), EK3_OK);
    cr_assert_eq(v, CID_PRIO_HIGH);
    cr_assert_eq(cid_type_parse("Power_Cmd", &v), EK3_OK);
    cr_assert_eq(v, CID_TYPE_POWER_CMD);
    cr_assert_eq(cid_type_parse("POWER", &v), EK3_ENOENT);
    cr_assert_eq(cid_prio_parse("", &v), EK3_ENOENT);
}
