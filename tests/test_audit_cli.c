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
    cr_assert_eq(count(out, "EVENTS"), 2u, "a crash's INJECT and CRASH (one tick) in one record: %s", out);
    cr_assert_eq(count(out, "          event "), 7u, "each event listed, of a batch or alone (0 BOOT .. 6 RESTART): %s", out);
    cr_assert_eq(count(out, "every tag checked"), 1u, "%s", out);
    cr_assert_eq(count(out, "its end NOT checked"), 0u, "with --head its end is checked: %s", out);
    cr_assert_eq(count(out, "log.bin: its end checked: the station's head is the last record's ("), 1u,
                 "and says so: %s", out);
    /* the 4 bytes the station's DIAG reports: a match on 32 bits, said */
    char h4[9];
    memcpy(h4, head, 8);
    h4[8] = 0;
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 5 --slot 2 --head %s", EK3_BIN, path("log.bin"), h4),
                 0, "%s", out);
    cr_assert_eq(count(out, "'s (3) on the 4 bytes given (a 32-bit match; a dump's 8 bytes match on 64)\n"), 1u, "%s",
                 out);
}

/* Where record i of the dump's first page starts (records are 16 bytes
 * of header, the payload rounded up to 8, 8 of commit; a batch of kernel
 * events is longer than a lone event). */
static size_t rec_off(const unsigned char *img, int i)
{
    size_t o = 32;
    for (int k = 0; k < i; k++)
        o += 16 + (((size_t)img[o + 7] + 7) & ~(size_t)7) + 8;
    return o;
}

/* Rewrite the dump with byte `off` of record `rec` xored with x, or
 * records a and a+1 swapped, or records from `cut` on erased. Returns
 * the offset of record `rec` (or a, or cut). */
static size_t tamper(int rec, size_t off, int x, int a, int cut)
{
    static unsigned char img[1 << 16], t[2048];
    FILE *f = fopen(path("log.bin"), "rb");
    cr_assert_not_null(f);
    size_t n = fread(img, 1, sizeof img, f), at = 0;
    fclose(f);
    if (rec >= 0) {
        at = rec_off(img, rec);
        img[at + off] ^= (unsigned char)x;
    }
    if (a >= 0) {
        size_t p = rec_off(img, a), q = rec_off(img, a + 1), e = rec_off(img, a + 2);
        memcpy(t, img + q, e - q);
        memcpy(t + (e - q), img + p, q - p);
        memcpy(img + p, t, e - p);
        at = p;
    }
    if (cut >= 0) {
        at = rec_off(img, cut);
        memset(img + at, 0xFF, 2048 - at);
    }
    f = fopen(path("bad.bin"), "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(img, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
    return at;
}

Test(audit_cli, a_sound_dump_and_three_tamperings)
{
    char head[17];
    dump(head);
    char want[64];
    size_t at = tamper(3, 18, 0x01, -1, -1); /* record 3's payload */
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 5 --slot 2", EK3_BIN, path("bad.bin")), 1, "%s", out);
    snprintf(want, sizeof want, "BAD: record 3 (offset 0x%zx", at);
    cr_assert_eq(count(out, want), 1u, "%s", out);
    tamper(-1, 0, 0, 1, -1); /* records 1 and 2 (batches of events) swapped */
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 5 --slot 2", EK3_BIN, path("bad.bin")), 1, "%s", out);
    cr_assert_eq(count(out, "BAD: record 1 "), 1u, "%s", out);
    cr_assert_eq(count(out, "does not continue the chain"), 1u, "%s", out);
    tamper(-1, 0, 0, -1, 2); /* the newest records removed */
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 5 --slot 2", EK3_BIN, path("bad.bin")), 0, "%s", out);
    /* sound as far as a chain goes: without the head its end is not checked, and it says so (it said "sound") */
    cr_assert_eq(count(out, "bad.bin: its end NOT checked (no --head): records removed from its end leave a chain as "
                            "sound\n"),
                 1u, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s", EK3_BIN, path("bad.bin")), 0, "%s", out);
    cr_assert_eq(count(out, ", tags NOT checked (no key: the CRCs and numbering anyone can forge)\n"), 1u, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 5 --slot 2 --head %s", EK3_BIN, path("bad.bin"), head), 1,
                 "%s", out);
    cr_assert_eq(count(out, "no record of the log ends at the head the station holds"), 1u, "%s", out);
    cr_assert_eq(count(out, ": sound: "), 0u, "not 'sound' then BAD: %s", out);
    cr_assert_eq(count(out, ": chain intact: records"), 1u, "%s", out);
    /* a head read earlier: a record of the log has it (records written since) */
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 5 --slot 2", EK3_BIN, path("bad.bin")), 0, "%s", out);
    const char *h = strstr(out, ": head ");
    cr_assert_not_null(h, "%s", out);
    char older[17];
    memcpy(older, h + 7, 16);
    older[16] = 0;
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 5 --slot 2 --head %s", EK3_BIN, path("log.bin"), older),
                 0, "%s", out);
    cr_assert_eq(count(out, "the station's head is record 1's"), 1u, "%s", out);
    /* a page header edited: its records are not dropped silently */
    FILE *f = fopen(path("log.bin"), "rb");
    static unsigned char img[1 << 16];
    size_t n = fread(img, 1, sizeof img, f);
    fclose(f);
    img[0x1a] ^= 0x04;
    f = fopen(path("hdr.bin"), "wb");
    cr_assert_eq(fwrite(img, 1, n, f), n);
    fclose(f);
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 5 --slot 2", EK3_BIN, path("hdr.bin")), 1, "%s", out);
    cr_assert_eq(count(out, "a header that fails its CRC but committed records after it"), 1u, "%s", out);
    /* the whole log erased, the station holding a head */
    memset(img, 0xFF, n);
    f = fopen(path("ff.bin"), "wb");
    cr_assert_eq(fwrite(img, 1, n, f), n);
    fclose(f);
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 5 --slot 2 --head %s", EK3_BIN, path("ff.bin"), head), 1,
                 "%s", out);
    cr_assert_eq(count(out, "but the log has no record"), 1u, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 6 --slot 2", EK3_BIN, path("log.bin")), 1, "%s", out);
    cr_assert_eq(count(out, "a wrong --key, --seed or --slot"), 1u, "%s", out);
    /* record 0's CRC broken: no key fails a CRC, so no hint at one (it sent the user to check the key) */
    tamper(0, 18, 0x01, -1, -1);
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 5 --slot 2", EK3_BIN, path("bad.bin")), 1, "%s", out);
    cr_assert_eq(count(out, "BAD: record 0 "), 1u, "%s", out);
    cr_assert_eq(count(out, "fails its CRC"), 1u, "%s", out);
    cr_assert_eq(count(out, "a wrong --key"), 0u, "%s", out);
    /* a file of no log's pages is not an empty log (it passed, exit 0); one page torn at a log's first write
     * among erased ones still is */
    for (size_t i = 0; i < n; i++)
        img[i] = (unsigned char)i;
    f = fopen(path("junk.bin"), "wb");
    cr_assert_eq(fwrite(img, 1, n, f), n);
    fclose(f);
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s", EK3_BIN, path("junk.bin")), 1, "%s", out);
    cr_assert_eq(count(out, "junk.bin: BAD: not an audit log: "), 1u, "%s", out);
    memset(img + 2048, 0xFF, n - 2048);
    f = fopen(path("torn.bin"), "wb");
    cr_assert_eq(fwrite(img, 1, n, f), n);
    fclose(f);
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s", EK3_BIN, path("torn.bin")), 0, "%s", out);
    cr_assert_eq(count(out, "an empty log (1 page(s) neither blank nor valid)"), 1u, "%s", out);
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
    /* --head without a key names the key and the slot at once (alone it asked for --slot, which asked for a key) */
    static const char *const heads[] = {"--head 00112233", "--slot 1 --head 00112233"};
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(run(out, sizeof out, "%s audit verify x.bin %s", EK3_BIN, heads[k]), 2, "%s", out);
        cr_assert_eq(count(out, "--head needs the module's key: --key RACKKEY (or --seed N) and --slot S"), 1u, "%s",
                     out);
    }
    cr_assert_eq(run(out, sizeof out, "%s audit verify x.bin --slot 1", EK3_BIN), 2, "%s", out);
    cr_assert_eq(count(out, "--slot without --key or --seed"), 1u, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s audit dump %s --modules 2 --slot 3", EK3_BIN, path("x.bin")), 2, "%s", out);
    /* dump and verify take the same slots, a rack's 1..510 (dump said 1..84, verify 1..510) */
    cr_assert_eq(run(out, sizeof out, "%s audit dump %s --slot 0", EK3_BIN, path("x.bin")), 2, "%s", out);
    cr_assert_eq(count(out, "--slot '0': a module, 1..510"), 1u, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s audit verify x.bin --seed 1 --slot 0", EK3_BIN), 2, "%s", out);
    cr_assert_eq(count(out, "--slot '0': a module, 1..510"), 1u, "%s", out);
    cr_assert_eq(
        run(out, sizeof out, "%s audit dump %s --modules 90 --slot 90 --duration 0.2s", EK3_BIN, path("x.bin")), 0,
        "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s audit verify %s --seed 1 --slot 90", EK3_BIN, path("x.bin")), 0, "%s", out);
}
