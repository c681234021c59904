/* test_candump.c - can-utils log lines: exact round trips, and every
 * malformed line refused with a reason and a column. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "candump.h"
#include "ek3_err.h"

static void roundtrip(const char *line)
{
    cdl_record r;
    const char *why = NULL;
    char out[CDL_LINE_MAX];
    cr_assert_eq(cdl_parse(line, &r, &why, NULL), EK3_OK, "'%s': %s", line, why ? why : "");
    cr_assert_gt(cdl_format(&r, out, sizeof out), 0);
    cr_assert_str_eq(out, line);
}

Test(candump, canonical_lines_roundtrip_exactly)
{
    roundtrip("(1436509052.249713) vcan0 123#11223344");
    roundtrip("(1436509052.249713) vcan0 7FF#");
    roundtrip("(0000000000.000000) can0 0260002A#0102030405060708");
    roundtrip("(1700000000.123456) can0 12345678#R");
    roundtrip("(1700000000.123456) can0 123#R3");
    roundtrip("(1700000000.123456) can0 0260002A##0");
    roundtrip("(1700000000.123456) can0 0260002A##1" "0102030405060708090A0B0C");
    roundtrip("(1700000000.123456) can0 0260002A##3"
              "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"
              "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF");
    roundtrip("(1700000000.123456) can0 20000080#0000000000000000");
    roundtrip("(1700000000.123456) can0 123#1122334455667788_C");
    roundtrip("(1795605333.561804) can0 0260002A##100 R");
}

Test(candump, fields_are_parsed)
{
    cdl_record r;
    cr_assert_eq(cdl_parse("(1700000000.000042) vcan3 0260002A##2DEAD\n", &r, NULL, NULL), EK3_OK);
    cr_assert_eq(r.sec, 1700000000);
    cr_assert_eq(r.usec, 42u);
    cr_assert_str_eq(r.ifname, "vcan3");
    cr_assert_eq(r.frame.id, 0x0260002Au);
    cr_assert_eq(r.frame.flags, CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_ESI);
    cr_assert_eq(r.frame.len, 2);
    cr_assert_eq(r.frame.data[0], 0xDE);
    cr_assert_eq(cdl_time_ns(&r), 1700000000000042000LL);
    cr_assert_eq(cdl_parse("(1.000000) can0 123#11.22.33", &r, NULL, NULL), EK3_OK, "dot separators");
    cr_assert_eq(r.frame.len, 3);
    cr_assert_eq(cdl_parse("(1.000000) can0 123#abcd", &r, NULL, NULL), EK3_OK, "lower-case hex");
    cr_assert_eq(r.frame.data[1], 0xCD);
}

static void refused(const char *line, int want, const char *why_part, unsigned want_col)
{
    cdl_record r;
    const char *why = NULL;
    unsigned col = 999;
    cr_assert_eq(cdl_parse(line, &r, &why, &col), want, "'%s'", line);
    cr_assert_not_null(why);
    cr_assert(strstr(why, why_part), "'%s': reason '%s' lacks '%s'", line, why, why_part);
    cr_assert_eq(col, want_col, "'%s': column %u, expected %u", line, col, want_col);
}

Test(candump, malformed_lines_are_refused_with_reason_and_column)
{
    refused("1700000000.000000) can0 123#00", EK3_EPARSE, "'('", 0);
    refused("(1700000000.00000) can0 123#00", EK3_EPARSE, "6 fraction", 17);
    refused("(1700000000.0000001) can0 123#00", EK3_EPARSE, "more than 6", 18);
    refused("(1700000000.000000)can0 123#00", EK3_EPARSE, "space", 19);
    refused("(1700000000.000000) can0 1234#00", EK3_EPARSE, "3 or 8", 25);
    refused("(1700000000.000000) can0 800#00", EK3_EPARSE, "0x7FF", 25);
    refused("(1700000000.000000) can0 123#0", EK3_EPARSE, "odd number", 30);
    refused("(1700000000.000000) can0 123#001122334455667788", EK3_EPARSE, "more than 8", 45);
    refused("(1700000000.000000) can0 12345678##G00", EK3_EPARSE, "flags", 35);
    refused("(1700000000.000000) can0 12345678##4", EK3_EPARSE, "unknown CAN-FD flag", 35);
    refused("(1700000000.000000) can0 12345678##1001122334455667788", EK3_EDLC, "CAN-FD data length", 54);
    refused("(1700000000.000000) can0 123#00 garbage", EK3_EPARSE, "unexpected", 32);
    refused("(1700000000.000000) can0 123", EK3_EPARSE, "'#'", 28);
    refused("(1700000000.000000) averyveryverylongname 123#00", EK3_EPARSE, "longer than 15", 20);
    refused("(1700000000.000000) can0 123#1122_9", EK3_EPARSE, "len8_dlc", 33);
    refused("(1700000000.000000) can0 20000080##0", EK3_EPARSE, "error frame", 34);
    refused("", EK3_EPARSE, "'('", 0);
}

Test(candump, format_refuses_what_has_no_line_form)
{
    cdl_record r;
    char out[CDL_LINE_MAX];
    memset(&r, 0, sizeof r);
    cr_assert_eq(cdl_format(&r, out, sizeof out), EK3_EINVAL, "no interface");
    strcpy(r.ifname, "can0");
    r.usec = 1000000;
    cr_assert_eq(cdl_format(&r, out, sizeof out), EK3_EINVAL, "usec out of range");
    r.usec = 0;
    r.frame.len = 9; /* classical with 9 bytes */
    cr_assert_eq(cdl_format(&r, out, sizeof out), EK3_EINVAL);
    r.frame.len = 8;
    cr_assert_eq(cdl_format(&r, out, 10), EK3_ENOSPC);
    cr_assert_str_eq(out, "");
}

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

Test(candump, random_frames_roundtrip)
{
    static const unsigned fdlen[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64};
    uint32_t s = 2024;
    for (int i = 0; i < 5000; i++) {
        cdl_record a, b;
        memset(&a, 0, sizeof a);
        a.sec = rnd(&s) % 4000000000u;
        a.usec = rnd(&s) % 1000000;
        snprintf(a.ifname, sizeof a.ifname, "vcan%u", rnd(&s) % 100);
        unsigned kind = rnd(&s) % 4;
        a.frame.flags = kind == 0 ? 0 : kind == 1 ? CFD_FLAG_EFF : (uint8_t)(CFD_FLAG_EFF | CFD_FLAG_FD | (rnd(&s) & 1 ? CFD_FLAG_BRS : 0));
        a.frame.id = rnd(&s) & (kind == 0 ? 0x7FFu : 0x1FFFFFFFu);
        a.frame.len = (uint8_t)(kind >= 2 ? fdlen[rnd(&s) % 16] : rnd(&s) % 9);
        for (unsigned j = 0; j < a.frame.len; j++)
            a.frame.data[j] = (uint8_t)rnd(&s);
        char line[CDL_LINE_MAX];
        cr_assert_gt(cdl_format(&a, line, sizeof line), 0);
        cr_assert_eq(cdl_parse(line, &b, NULL, NULL), EK3_OK, "%s", line);
        cr_assert(a.sec == b.sec && a.usec == b.usec && !strcmp(a.ifname, b.ifname) && a.frame.id == b.frame.id &&
                  a.frame.flags == b.frame.flags && a.frame.len == b.frame.len &&
                  !memcmp(a.frame.data, b.frame.data, a.frame.len), "%s", line);
    }
}

/* Mutated lines never crash the parser, and whatever it accepts formats
 * back into a line that parses to the same record. */
Test(candump, mutated_lines_parse_safely)
{
    static const char *seeds[] = {
        "(1700000000.123456) can0 0260002A##1010BB80B81DA00F00000000010000005D2A3B4C5D6E7F80",
        "(1436509052.249713) vcan0 123#11223344", "(1700000000.123456) can0 12345678#R R"};
    static const char alphabet[] = "0123456789ABCDEFabcdef#R.()_ \tRT\n";
    uint32_t s = 7;
    for (int i = 0; i < 20000; i++) {
        char line[256];
        snprintf(line, sizeof line, "%s", seeds[i % 3]);
        size_t n = strlen(line);
        for (int k = 1 + (int)(rnd(&s) % 4); k > 0; k--) {
            size_t at = rnd(&s) % (n + 1);
            switch (rnd(&s) % 3) {
            case 0: if (at < n) line[at] = alphabet[rnd(&s) % (sizeof alphabet - 1)]; break;
            case 1: if (at < n) { memmove(line + at, line + at + 1, n - at); n--; } break;
            default:
                if (n + 1 < sizeof line) {
                    memmove(line + at + 1, line + at, n - at + 1);
                    line[at] = alphabet[rnd(&s) % (sizeof alphabet - 1)];
                    n++;
                }
            }
        }
        cdl_record a, b;
        const char *why = NULL;
        unsigned col = 0;
        int rc = cdl_parse(line, &a, &why, &col);
        if (rc) {
            cr_assert(rc == EK3_EPARSE || rc == EK3_EDLC);
            cr_assert_not_null(why);
            cr_assert_leq(col, strlen(line));
            continue;
        }
        char out[CDL_LINE_MAX];
        cr_assert_gt(cdl_format(&a, out, sizeof out), 0, "%s", line);
        cr_assert_eq(cdl_parse(out, &b, NULL, NULL), EK3_OK, "%s -> %s", line, out);
        cr_assert(!memcmp(&a.frame, &b.frame, sizeof a.frame) && a.sec == b.sec && a.usec == b.usec, "%s", line);
    }
}
