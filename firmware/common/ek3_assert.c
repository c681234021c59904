/* ek3_assert.c - the host's contract hook (ek3_assert.h): say which, abort. */
#include "ek3_assert.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void ek3_contract_failed(const char *module, unsigned id, const char *file, int line)
{
    fprintf(stderr, "ek3: contract broken: %s #%u at %s:%d\n", module, id, file ? file : "?", line);
    fflush(stderr);
    abort();
}
