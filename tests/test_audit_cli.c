/* test_audit_cli.c - `ek3 audit`: a dump from a rig run verifies, with
 * the head the module reports; an edited, reordered or truncated dump is
 * refused and its first bad record named; bad input exits 2. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cli_run.h"

CLI_RUN_SUITE(audit_cli, "ek3-audit");

static char out[16384];

/* Dump module 2's log of a 3-module rack; its head into head[17]. */
static void dump(char head[17])
{
    cr_assert_eq(run(out, sizeof out, "%s audit dump %s --modules 3 --slot 2 --seed 5 --duration 1.5s --crashes 2",
                     EK3_BIN, path("log.bin")),
                 0, "%s", out);
    const char *h = strstr(out, "; head ");
    cr_assert_not_null(h, "%s", out);
    memcpy(head, h + 7, 16);
    head[16] = 0;
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 5 --slot 2 --head %s --list", EK3_BIN, path("log.bin"),
                     head),
                 0, "%s", out);
    cr_assert_eq(count(out, "CRASH"), 2u, "%s", out);
    cr_assert_eq(count(out, "every tag checked"), 1u, "%s", out);
}

/* Rewrite the dump with byte `off` xored with x, or records a and b
 * (40 bytes each from offset 32) swapped, or records from `cut` on erased. */
static void tamper(long off, int x, int a, int b, int cut)
{
    static unsigned char img[1 << 16];
    FILE *f = fopen(path("log.bin"), "rb");
    cr_assert_not_null(f);
    size_t n = fread(img, 1, sizeof img, f);
    fclose(f);
    if (off >= 0)
        img[off] ^= (unsigned char)x;
    if (a >= 0) {
        unsigned char t[40];
        memcpy(t, img + 32 + 40 * a, 40);
        memcpy(img + 32 + 40 * a, img + 32 + 40 * b, 40);
        memcpy(img + 32 + 40 * b, t, 40);
    }
    if (cut >= 0)
        memset(img + 32 + 40 * cut, 0xFF, 2048 - 32 - 40 * (size_t)cut);
    f = fopen(path("bad.bin"), "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(img, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

Test(audit_cli, a_sound_dump_and_three_tamperings)
{
    char head[17];
    dump(head);
    tamper(32 + 40 * 3 + 18, 0x01, -1, -1, -1); /* record 3's payload */
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 5 --slot 2", EK3_BIN, path("bad.bin")), 1, "%s", out);
    cr_assert_eq(count(out, "BAD: record 3 (offset 0x98"), 1u, "%s", out);
    tamper(-1, 0, 1, 2, -1); /* records 1 and 2 swapped */
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 5 --slot 2", EK3_BIN, path("bad.bin")), 1, "%s", out);
    cr_assert_eq(count(out, "BAD: record 1 "), 1u, "%s", out);
    cr_assert_eq(count(out, "does not continue the chain"), 1u, "%s", out);
    tamper(-1, 0, -1, -1, 4); /* the newest records removed */
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 5 --slot 2", EK3_BIN, path("bad.bin")), 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 5 --slot 2 --head %s", EK3_BIN, path("bad.bin"), head), 1,
                 "%s", out);
    cr_assert_eq(count(out, "ends before the head the station holds"), 1u, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 6 --slot 2", EK3_BIN, path("log.bin")), 1, "%s", out);
    cr_assert_eq(count(out, "a wrong --key, --seed or --slot"), 1u, "%s", out);
}

Test(audit_cli, bad_input_exits_2)
{
    cr_assert_eq(run(out, sizeof out, "%s audit verify", EK3_BIN), 2, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s", EK3_BIN, path("none.bin")), 2, "%s", out);
    cr_assert_eq(run(out, sizeof out, "head -c 100 /dev/zero > %s; %s audit verify %s", path("short.bin"), EK3_BIN,
                     path("short.bin")),
                 2, "%s", out);
    cr_assert_eq(count(out, "whole 2048-byte pages"), 1u, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s audit verify x.bin --key 00112233", EK3_BIN), 2, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s audit verify x.bin --seed 1", EK3_BIN), 2, "%s", out);
    cr_assert_eq(count(out, "--slot"), 1u, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s audit verify x.bin --slot 1 --head 00112233", EK3_BIN), 2, "%s", out);
    cr_assert_eq(count(out, "--head needs --key or --seed"), 1u, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s audit dump %s --modules 2 --slot 3", EK3_BIN, path("x.bin")), 2, "%s", out);
}
