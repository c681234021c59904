/* fuzz_candump.c - libFuzzer: candump log lines. Whatever the parser
 * accepts must format back to a line that parses to the same record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "candump.h"
#include "ek3_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char line[512];
    if (size >= sizeof line)
        size = sizeof line - 1;
    memcpy(line, data, size);
    line[size] = '\0';
    cdl_record a, b;
    const char *why = NULL;
    unsigned col = 0;
    int rc = cdl_parse(line, &a, &why, &col);
    if (rc) {
        if ((rc != EK3_EPARSE && rc != EK3_EDLC) || !why || col > strlen(line))
            abort();
        return 0;
    }
    char out[CDL_LINE_MAX];
    if (cdl_format(&a, out, sizeof out) <= 0)
        abort();
    if (cdl_parse(out, &b, NULL, NULL) != EK3_OK)
        abort();
    if (memcmp(&a.frame, &b.frame, sizeof a.frame) || a.sec != b.sec || a.usec != b.usec ||
        strcmp(a.ifname, b.ifname) || a.dir != b.dir || a.raw_dlc != b.raw_dlc)
        abort();
    return 0;
}
