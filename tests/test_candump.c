/* test_candump.c - can-utils log lines as current can-utils writes them
 * and canplayer reads them: every kind of line, exact round trips, every
 * malformed line refused with a reason and a column, and the one reader
 * of whole logs (non-frame lines, CRLF, NUL bytes, lines of any length). */
#define _GNU_SOURCE /* fmemopen */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candump.h"
#include "ek3_err.h"

static void roundtrip(const char *line)
{
    cdl_record r;
    const char *why = NULL;
    char out[CDL_LINE_MAX];
    cr_assert_eq(cdl_parse(line, &r, &why, NULL), EK3_OK, "'%s': %s", line, why ? why : "");
    cr_assert_gt(cdl_format(&r, out, sizeof out), 0, "'%s'", line);
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

/* Linux >= 6.0 sets CANFD_FDF (0x4) on every FD frame, and candump writes
 * the whole nibble: the issue's line is `0260002A##5...`. Every nibble
 * 0..F is read: bit 0 BRS, bit 1 ESI, bits 2 and 3 kept as written. */
Test(candump, every_fd_flag_nibble_is_read_and_kept)
{
    cdl_record r;
    const char *why = NULL;
    cr_assert_eq(cdl_parse("(1700000000.000100) can0 0260002A##5DEADBEEF", &r, &why, NULL), EK3_OK, "%s", why);
    cr_assert_eq(r.frame.flags, CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS);
    cr_assert_eq(r.fd_extra, CDL_FD_FDF);
    cr_assert_eq(r.frame.id, 0x0260002Au);
    cr_assert_eq(r.frame.len, 4);
    cr_assert_eq(r.frame.data[3], 0xEF);
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned nib = 0; nib < 16; nib++) {
        char line[64];
        snprintf(line, sizeof line, "(1700000000.000100) can0 0260002A##%c00112233", hex[nib]);
        cr_assert_eq(cdl_parse(line, &r, &why, NULL), EK3_OK, "nibble %X: %s", nib, why);
        cr_assert_eq(r.frame.flags & (CFD_FLAG_BRS | CFD_FLAG_ESI),
                     ((nib & 1) ? CFD_FLAG_BRS : 0) | ((nib & 2) ? CFD_FLAG_ESI : 0), "nibble %X", nib);
        cr_assert_eq(r.fd_extra, nib & 0xC, "nibble %X", nib);
        roundtrip(line);
    }
    cr_assert_eq(cdl_parse("(1700000000.000100) can0 0260002a##f00", &r, NULL, NULL), EK3_OK, "lower-case nibble");
    cr_assert_eq(r.fd_extra, CDL_FD_FDF | CDL_FD_RES);
}

/* log2asc.c takes 6 or 9 fraction digits (micro- or nanoseconds). */
Test(candump, nanosecond_timestamps_are_read_and_kept)
{
    cdl_record r;
    cr_assert_eq(cdl_parse("(1700000000.123456789) can0 123#00", &r, NULL, NULL), EK3_OK);
    cr_assert_eq(r.sec, 1700000000);
    cr_assert_eq(r.nsec, 123456789u);
    cr_assert_eq(r.frac, 9);
    cr_assert_eq(cdl_time_ns(&r), 1700000000123456789LL);
    roundtrip("(1700000000.123456789) can0 123#00");
    roundtrip("(1700000000.000000001) can0 0260002A##4");
    cr_assert_eq(cdl_parse("(1700000000.123456) can0 123#00", &r, NULL, NULL), EK3_OK);
    cr_assert_eq(r.nsec, 123456000u);
    cr_assert_eq(r.frac, 6);
    /* zero-based timestamps as `candump -tz -l` writes them, unpadded ones as old candump did */
    cr_assert_eq(cdl_parse("(000.200074) vcan0 05F541AB#", &r, NULL, NULL), EK3_OK);
    cr_assert_eq(cdl_time_ns(&r), 200074000LL);
    cr_assert_eq(cdl_parse("(5.000100) vcan0 123#", &r, NULL, NULL), EK3_OK);
    cr_assert_eq(cdl_time_ns(&r), 5000100000LL);
}

/* The whole int64 range of ns is read; one ns beyond it is refused. */
Test(candump, timestamps_beyond_2_63_ns_are_refused)
{
    cdl_record r;
    cr_assert_eq(cdl_parse("(9223372036.854775807) can0 123#00", &r, NULL, NULL), EK3_OK);
    cr_assert_eq(cdl_time_ns(&r), INT64_MAX);
    cr_assert_eq(cdl_parse("(9223372036.854775) can0 123#00", &r, NULL, NULL), EK3_OK);
    cr_assert_eq(cdl_time_ns(&r), 9223372036854775000LL);
    const char *why = NULL;
    unsigned col = 99;
    cr_assert_eq(cdl_parse("(9223372036.854775808) can0 123#00", &r, &why, &col), EK3_EPARSE);
    cr_assert(strstr(why, "2^63"), "%s", why);
    cr_assert_eq(col, 1u);
    cr_assert_eq(cdl_parse("(9223372036.854776) can0 123#00", &r, &why, &col), EK3_EPARSE);
    cr_assert_eq(cdl_parse("(9223372037.000000) can0 123#00", &r, &why, &col), EK3_EPARSE);
    cr_assert_eq(cdl_parse("(99999999999999999999999.000000) can0 123#00", &r, &why, &col), EK3_EPARSE);
    cr_assert(strstr(why, "2^63"), "%s", why);
}

/* lib.c: 'R' takes an optional DLC 0..8, and after DLC 8 a raw DLC. */
Test(candump, remote_requests_with_dlc_and_raw_dlc)
{
    cdl_record r;
    cr_assert_eq(cdl_parse("(1700000000.000100) can0 123#R8_C", &r, NULL, NULL), EK3_OK);
    cr_assert_eq(r.frame.flags, CFD_FLAG_RTR);
    cr_assert_eq(r.frame.len, 8);
    cr_assert_eq(r.raw_dlc, 12);
    roundtrip("(1700000000.000100) can0 123#R8_C");
    roundtrip("(1700000000.000100) can0 0260002A#R8_F");
    cr_assert_eq(cdl_parse("(1700000000.000100) can0 0260002A#R0", &r, NULL, NULL), EK3_OK, "DLC 0 given");
    cr_assert_eq(r.frame.len, 0);
    cr_assert_eq(cdl_parse("(1700000000.000100) can0 0260002A#r5", &r, NULL, NULL), EK3_OK, "lower-case r");
    cr_assert_eq(r.frame.flags, CFD_FLAG_RTR | CFD_FLAG_EFF);
    cr_assert_eq(r.frame.len, 5);
}

/* A raw DLC 9..15 on a classical data frame with 8 bytes. */
Test(candump, raw_dlc_on_classical_frames)
{
    cdl_record r;
    cr_assert_eq(cdl_parse("(1700000000.000100) can0 0260002A#0011223344556677_9", &r, NULL, NULL), EK3_OK);
    cr_assert_eq(r.frame.len, 8);
    cr_assert_eq(r.raw_dlc, 9);
    cr_assert_eq(r.frame.data[7], 0x77);
    roundtrip("(1700000000.000100) can0 0260002A#0011223344556677_9");
}

Test(candump, error_frames_keep_their_class_and_data)
{
    cdl_record r;
    cr_assert_eq(cdl_parse("(1700000000.000100) can0 20000004#0004000000000000", &r, NULL, NULL), EK3_OK);
    cr_assert_eq(r.frame.flags, CFD_FLAG_ERR);
    cr_assert_eq(r.frame.id, 0x4u, "class CAN_ERR_CRTL");
    cr_assert_eq(r.frame.len, 8);
    cr_assert_eq(r.frame.data[1], 0x04, "CAN_ERR_CRTL_RX_WARNING");
    roundtrip("(1700000000.000100) can0 20000004#0004000000000000");
    roundtrip("(1700000000.000100) can0 200000C0#");
}

/* candump right-aligns the name to the longest one; tabs separate as in
 * canplayer's sscanf; -x adds a direction. */
Test(candump, fields_are_parsed)
{
    cdl_record r;
    cr_assert_eq(cdl_parse("(1700000000.000042) vcan3 0260002A##2DEAD\n", &r, NULL, NULL), EK3_OK);
    cr_assert_eq(r.sec, 1700000000);
    cr_assert_eq(r.nsec, 42000u);
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
    cr_assert_eq(cdl_parse("(1.000000)   can0 123#00", &r, NULL, NULL), EK3_OK, "padded name");
    cr_assert_str_eq(r.ifname, "can0");
    cr_assert_eq(cdl_parse("(1.000000)\tcan0\t123#00\r\n", &r, NULL, NULL), EK3_OK, "tabs, CRLF");
    cr_assert_eq(cdl_parse("(1.000000)can0 123#00", &r, NULL, NULL), EK3_OK, "as canplayer's sscanf");
    cr_assert_eq(cdl_parse("(1.000000) can0 123#00 T\r\n", &r, NULL, NULL), EK3_OK);
    cr_assert_eq(r.dir, 'T');
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
    refused("(1700000000.00000) can0 123#00", EK3_EPARSE, "6 or 9 fraction", 12);
    refused("(1700000000.0000001) can0 123#00", EK3_EPARSE, "6 or 9 fraction", 12);
    refused("(1700000000.0000000001) can0 123#00", EK3_EPARSE, "6 or 9 fraction", 12);
    refused("(1700000000.000000) can0 1234#00", EK3_EPARSE, "3 or 8", 25);
    refused("(1700000000.000000) can0 800#00", EK3_EPARSE, "0x7FF", 25);
    refused("(1700000000.000000) can0 123#0", EK3_EPARSE, "odd number", 30);
    refused("(1700000000.000000) can0 123#001122334455667788", EK3_EPARSE, "more than 8", 45);
    refused("(1700000000.000000) can0 12345678##G00", EK3_EPARSE, "flags", 35);
    refused("(1700000000.000000) can0 12345678##1001122334455667788", EK3_EDLC, "CAN FD data length", 54);
    refused("(1700000000.000000) can0 123#00 garbage", EK3_EPARSE, "unexpected", 32);
    refused("(1700000000.000000) can0 123", EK3_EPARSE, "'#'", 28);
    refused("(1700000000.000000) can0", EK3_EPARSE, "missing frame", 24);
    refused("(1700000000.000000) averyveryverylongname 123#00", EK3_EPARSE, "longer than 15", 20);
    refused("(1700000000.000000) can0 123#1122_9", EK3_EPARSE, "raw DLC", 33);
    refused("(1700000000.000000) can0 123#1122334455667788_8", EK3_EPARSE, "raw DLC", 45);
    refused("(1700000000.000000) can0 123#R7_C", EK3_EPARSE, "raw DLC", 31);
    refused("(1700000000.000000) can0 123#R9", EK3_EPARSE, "remote request DLC", 30);
    refused("(1700000000.000000) can0 20000080##0", EK3_EPARSE, "error frame", 34);
    refused("(1700000000.000000) can0 20000080#R", EK3_EPARSE, "error frame", 34);
    refused("(1700000000.000000) can0 C0000123#00", EK3_EPARSE, "29 bits", 25);
    refused("(1700000000.000000) can0 00123#80:00:00000000#1122", EK3_EPARSE, "CAN XL", 25);
    refused("", EK3_EPARSE, "'('", 0);
}

Test(candump, format_refuses_what_has_no_line_form)
{
    cdl_record r;
    char out[CDL_LINE_MAX];
    memset(&r, 0, sizeof r);
    cr_assert_eq(cdl_format(&r, out, sizeof out), EK3_EINVAL, "no interface");
    strcpy(r.ifname, "can0");
    r.nsec = 1000000000;
    cr_assert_eq(cdl_format(&r, out, sizeof out), EK3_EINVAL, "nsec out of range");
    r.nsec = 0;
    r.frac = 7;
    cr_assert_eq(cdl_format(&r, out, sizeof out), EK3_EINVAL, "7 fraction digits");
    r.frac = 0;
    r.frame.len = 9; /* classical with 9 bytes */
    cr_assert_eq(cdl_format(&r, out, sizeof out), EK3_EINVAL);
    r.frame.len = 8;
    r.fd_extra = CDL_FD_FDF; /* FDF on a classical frame */
    cr_assert_eq(cdl_format(&r, out, sizeof out), EK3_EINVAL);
    r.fd_extra = 0;
    r.raw_dlc = 8;
    cr_assert_eq(cdl_format(&r, out, sizeof out), EK3_EINVAL, "raw DLC 8");
    r.raw_dlc = 0;
    strcpy(r.ifname, "can 0");
    cr_assert_eq(cdl_format(&r, out, sizeof out), EK3_EINVAL, "a blank in the name");
    strcpy(r.ifname, "can0");
    cr_assert_eq(cdl_format(&r, out, 10), EK3_ENOSPC);
    cr_assert_str_eq(out, "");
}

/* User-given times: decimal (a leading zero is not octal: the issue's
 * `--time 1700000000.000100` printed .000064), up to 9 digits. */
Test(candump, stamps_given_by_users)
{
    int64_t ns;
    uint8_t frac;
    cr_assert_eq(cdl_parse_stamp("1700000000.000100", &ns, &frac), EK3_OK);
    cr_assert_eq(ns, 1700000000000100000LL);
    cr_assert_eq(frac, 6);
    cr_assert_eq(cdl_parse_stamp("0.5", &ns, &frac), EK3_OK);
    cr_assert_eq(ns, 500000000LL);
    cr_assert_eq(cdl_parse_stamp("010", &ns, &frac), EK3_OK);
    cr_assert_eq(ns, 10000000000LL);
    cr_assert_eq(cdl_parse_stamp("1.000000001", &ns, &frac), EK3_OK);
    cr_assert_eq(ns, 1000000001LL);
    cr_assert_eq(frac, 9);
    cr_assert_eq(cdl_parse_stamp("9223372036.854775807", &ns, NULL), EK3_OK);
    cr_assert_eq(ns, INT64_MAX);
    cr_assert_eq(cdl_parse_stamp("9223372036.854775808", &ns, NULL), EK3_ERANGE);
    cr_assert_eq(cdl_parse_stamp("1e9", &ns, NULL), EK3_EPARSE);
    cr_assert_eq(cdl_parse_stamp("", &ns, NULL), EK3_EPARSE);
    cr_assert_eq(cdl_parse_stamp("-1", &ns, NULL), EK3_EPARSE);
    cr_assert_eq(cdl_parse_stamp("1.0000000001", &ns, NULL), EK3_EPARSE);
    cdl_record r;
    memset(&r, 0, sizeof r);
    strcpy(r.ifname, "can0");
    cdl_parse_stamp("1700000000.000100", &ns, &frac);
    cdl_set_time(&r, ns, frac);
    char out[CDL_LINE_MAX];
    cr_assert_gt(cdl_format(&r, out, sizeof out), 0);
    cr_assert_str_eq(out, "(1700000000.000100) can0 000#");
}

/* ---- non-frame lines and the reader ---------------------------------- */

static cdl_line line_of(const char *s)
{
    cdl_line ln;
    cdl_parse_line(s, strlen(s), &ln);
    return ln;
}

Test(candump, candumps_non_frame_lines)
{
    cdl_line ln = line_of("DROPCOUNT: dropped 3 CAN frames on 'can0' socket (total drops 7)\n");
    cr_assert_eq(ln.kind, CDL_DROPCOUNT, "%s", ln.why ? ln.why : "");
    cr_assert_eq(ln.rc, EK3_OK);
    cr_assert_eq(ln.dropped, 3u);
    cr_assert_eq(ln.total, 7u);
    cr_assert_eq(ln.drop_if_len, 4u);
    cr_assert(!strncmp(ln.drop_if, "can0", 4));
    ln = line_of("DROPCOUNT: dropped 1 CAN frame on 'any,0:0,#FFFFFFFF' socket (total drops 1)\r\n");
    cr_assert_eq(ln.kind, CDL_DROPCOUNT, "singular, a name with filters");
    cr_assert_eq(ln.drop_if_len, 17u);
    /* older candump printed the __u32 with %d */
    ln = line_of("DROPCOUNT: dropped -2 CAN frames on 'can0' socket (total drops -1)");
    cr_assert_eq(ln.kind, CDL_DROPCOUNT);
    cr_assert_eq(ln.dropped, 0xFFFFFFFEu);
    cr_assert_eq(ln.total, 0xFFFFFFFFu);
    ln = line_of("DROPCOUNT: lost some");
    cr_assert_eq(ln.kind, CDL_BAD);
    cr_assert(strstr(ln.why, "DROPCOUNT"));
    cr_assert_eq(line_of("\r\n").kind, CDL_BLANK);
    cr_assert_eq(line_of("  \t \r\n").kind, CDL_BLANK);
    cr_assert_eq(line_of("").kind, CDL_BLANK);
    cr_assert_eq(line_of("# a comment (1.000000) can0 123#\r\n").kind, CDL_COMMENT);
    ln = line_of("(1700000000.000100) can0 0260002A##500\r\n");
    cr_assert_eq(ln.kind, CDL_FRAME);
    cr_assert_eq(ln.rec.frame.len, 1);
    ln = line_of("candump: garbage\n");
    cr_assert_eq(ln.kind, CDL_BAD);
    cr_assert_eq(ln.rc, EK3_EPARSE);
    cr_assert_eq(ln.col, 0u);
    /* a NUL byte is named, with its column, whatever follows it */
    static const char nul[] = "(1700000000.000100) can0 123#00\0 junk\n";
    cr_assert_eq(cdl_parse_line(nul, sizeof nul - 1, &ln), EK3_EPARSE);
    cr_assert_eq(ln.kind, CDL_BAD);
    cr_assert(strstr(ln.why, "NUL"), "%s", ln.why);
    cr_assert_eq(ln.col, 31u);
    static const char nul2[] = "\0\n";
    cr_assert_eq(cdl_parse_line(nul2, 2, &ln), EK3_EPARSE, "a NUL alone is not a blank line");
}

/* Lines of any length are read whole, and the numbers of the lines after
 * a long one stay right (replay cut at 511 and counted the rest as a
 * line of its own). */
Test(candump, reader_takes_lines_of_any_length)
{
    size_t big = 200000;
    char *text = malloc(big + 4096);
    cr_assert_not_null(text);
    size_t n = 0;
    n += (size_t)sprintf(text + n, "(1700000000.000001) can0 123#01\n");
    text[n++] = '#';
    memset(text + n, 'x', 100000); /* a 100 001-byte comment: longer than CDL_READ_MAX */
    n += 100000;
    text[n++] = '\n';
    n += (size_t)sprintf(text + n, "(1700000000.000003) can0 123#03");
    memset(text + n, ' ', 600); /* 631 bytes: more than the 511 replay cut at */
    n += 600;
    n += (size_t)sprintf(text + n, "\r\n\r\n(1700000000.000005) can0 123#05");
    FILE *f = fmemopen(text, n, "r");
    cr_assert_not_null(f);
    cdl_reader rd;
    cr_assert_eq(cdl_reader_init(&rd, f), EK3_OK);
    cdl_line ln;
    cr_assert_eq(cdl_read(&rd, &ln), 1);
    cr_assert_eq(ln.kind, CDL_FRAME);
    cr_assert_eq(rd.lineno, 1ul);
    cr_assert_eq(cdl_read(&rd, &ln), 1);
    cr_assert_eq(ln.kind, CDL_BAD);
    cr_assert(strstr(ln.why, "longer than"), "%s", ln.why);
    cr_assert_eq(rd.lineno, 2ul);
    cr_assert_eq(cdl_read(&rd, &ln), 1);
    cr_assert_eq(ln.kind, CDL_FRAME, "%s", ln.why ? ln.why : "");
    cr_assert_eq(ln.rec.frame.data[0], 0x03);
    cr_assert_eq(rd.lineno, 3ul);
    cr_assert_eq(cdl_read(&rd, &ln), 1);
    cr_assert_eq(ln.kind, CDL_BLANK);
    cr_assert_eq(cdl_read(&rd, &ln), 1);
    cr_assert_eq(ln.kind, CDL_FRAME, "the last line needs no newline");
    cr_assert_eq(ln.rec.frame.data[0], 0x05);
    cr_assert_eq(rd.lineno, 5ul);
    cr_assert_eq(cdl_read(&rd, &ln), 0);
    cdl_reader_free(&rd);
    fclose(f);
    free(text);
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
        a.frac = rnd(&s) & 1 ? 9 : 6;
        a.nsec = rnd(&s) % 1000000000u;
        if (a.frac == 6)
            a.nsec -= a.nsec % 1000;
        snprintf(a.ifname, sizeof a.ifname, "vcan%u", rnd(&s) % 100);
        unsigned kind = rnd(&s) % 6;
        a.frame.flags = kind == 0   ? 0
                        : kind == 1 ? CFD_FLAG_EFF
                        : kind == 4 ? CFD_FLAG_RTR | (rnd(&s) & 1 ? CFD_FLAG_EFF : 0)
                        : kind == 5 ? CFD_FLAG_ERR
                                    : (uint8_t)(CFD_FLAG_EFF | CFD_FLAG_FD | (rnd(&s) & 1 ? CFD_FLAG_BRS : 0) |
                                                (rnd(&s) & 1 ? CFD_FLAG_ESI : 0));
        a.frame.id = rnd(&s) & (kind == 0 || (kind == 4 && !(a.frame.flags & CFD_FLAG_EFF)) ? 0x7FFu : 0x1FFFFFFFu);
        a.frame.len = (uint8_t)(kind == 2 || kind == 3 ? fdlen[rnd(&s) % 16] : rnd(&s) % 9);
        if (kind == 2 || kind == 3)
            a.fd_extra = (uint8_t)(rnd(&s) & 0xC);
        if (kind != 4)
            for (unsigned j = 0; j < a.frame.len; j++)
                a.frame.data[j] = (uint8_t)rnd(&s);
        if (a.frame.len == 8 && kind != 2 && kind != 3 && kind != 5 && rnd(&s) % 3 == 0)
            a.raw_dlc = (uint8_t)(9 + rnd(&s) % 7);
        a.dir = "\0RT"[rnd(&s) % 3];
        char line[CDL_LINE_MAX];
        cr_assert_gt(cdl_format(&a, line, sizeof line), 0, "kind %u", kind);
        cr_assert_eq(cdl_parse(line, &b, NULL, NULL), EK3_OK, "%s", line);
        cr_assert(!memcmp(&a, &b, sizeof a), "%s", line);
    }
}

/* Mutated lines never crash the parser, and whatever it accepts formats
 * back into a line that parses to the same record. */
Test(candump, mutated_lines_parse_safely)
{
    static const char *seeds[] = {
        "(1700000000.123456) can0 0260002A##5010BB80B81DA00F00000000010000005D2A3B4C5D6E7F80",
        "(1436509052.249713) vcan0 123#1122334455667788_C", "(1700000000.123456789) can0 12345678#R8_A R",
        "DROPCOUNT: dropped 3 CAN frames on 'can0' socket (total drops 3)"};
    static const char alphabet[] = "0123456789ABCDEFabcdef#R.()_ \tRT\n\r:'-";
    uint32_t s = 7;
    for (int i = 0; i < 20000; i++) {
        char line[256];
        snprintf(line, sizeof line, "%s", seeds[i % 4]);
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
        cdl_line ln;
        int rc = cdl_parse_line(line, strlen(line), &ln);
        if (rc) {
            cr_assert(rc == EK3_EPARSE || rc == EK3_EDLC);
            cr_assert_eq(ln.kind, CDL_BAD);
            cr_assert_not_null(ln.why);
            cr_assert_leq(ln.col, strlen(line));
            continue;
        }
        if (ln.kind != CDL_FRAME)
            continue;
        cdl_record b;
        char out[CDL_LINE_MAX];
        cr_assert_gt(cdl_format(&ln.rec, out, sizeof out), 0, "%s", line);
        cr_assert_eq(cdl_parse(out, &b, NULL, NULL), EK3_OK, "%s -> %s", line, out);
        cr_assert(!memcmp(&ln.rec, &b, sizeof b), "%s", line);
    }
}
