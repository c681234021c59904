/* fuzz_candump.c - libFuzzer: the one reader of candump logs that `ek3 can
 * decode` and `ek3 replay` share. The input is a whole log (any bytes,
 * NULs and CRs included, lines of any length), read line by line through
 * cdl_read, and also taken whole as one line by cdl_parse_line. A bad
 * line must come with a reason and a column inside it; a frame must
 * format back to a line that parses to the same record. */
#define _GNU_SOURCE /* fmemopen */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candump.h"
#include "ek3_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const cdl_line *ln, size_t len)
{
    switch (ln->kind) {
    case CDL_BLANK:
    case CDL_COMMENT:
        if (ln->rc != EK3_OK)
            abort();
        return;
    case CDL_DROPCOUNT:
        if (ln->rc != EK3_OK || !ln->drop_if)
            abort();
        return;
    case CDL_BAD:
        if ((ln->rc != EK3_EPARSE && ln->rc != EK3_EDLC) || !ln->why || ln->col > len)
            abort();
        return;
    case CDL_FRAME:
        break;
    default:
        abort();
    }
    if (ln->rc != EK3_OK || cdl_time_ns(&ln->rec) < 0)
        abort();
    char out[CDL_LINE_MAX];
    cdl_record b;
    if (cdl_format(&ln->rec, out, sizeof out) <= 0)
        abort();
    if (cdl_parse(out, &b, NULL, NULL) != EK3_OK || memcmp(&ln->rec, &b, sizeof b))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cdl_line ln;
    cdl_parse_line((const char *)data, size, &ln);
    check(&ln, size);

    if (size == 0)
        return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    cdl_reader rd;
    if (cdl_reader_init(&rd, f) == EK3_OK) {
        unsigned long lines = 0;
        int rc;
        while ((rc = cdl_read(&rd, &ln)) == 1) {
            if (rd.lineno != ++lines)
                abort();
            check(&ln, CDL_READ_MAX);
        }
        if (rc != 0)
            abort();
        cdl_reader_free(&rd);
    }
    fclose(f);
    return 0;
}
