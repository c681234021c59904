/* bench.c - timing and output helpers shared by the benchmark suites. */
#include "bench.h"

#include <time.h>

int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void bench_line(FILE *out, const char *name, double value, const char *unit)
{
    fprintf(out, "%s %.6g %s\n", name, value, unit);
}
