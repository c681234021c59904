/* bench.c - timing and output helpers shared by the benchmark suites. */
#include "bench.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

int bench_callgrind(FILE *out, const char *self, const char *suite, const char *const *names,
                    const long *ops, unsigned n)
{
    char dir[] = "/tmp/ek3-callgrind-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char outfile[128], cmd[1024];
    snprintf(outfile, sizeof outfile, "%s/cg.out", dir);
    snprintf(cmd, sizeof cmd,
             "valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=%s '%s' bench %s --under-callgrind >/dev/null 2>&1",
             outfile, self, suite);
    int st = system(cmd);
    int rc = 0;
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "ek3 bench: callgrind run failed (is valgrind installed?)\n");
        rc = 1;
    }
    /* dumps are cg.out.1, cg.out.2, ...: "desc: Trigger: Client Request: NAME"
     * then "summary: IR" (or "totals: IR") */
    for (int part = 1; rc == 0 && part < 64; part++) {
        char path[160], line[512], name[128] = "";
        long long ir = -1;
        snprintf(path, sizeof path, "%s.%d", outfile, part);
        FILE *f = fopen(path, "r");
        if (!f)
            break;
        while (fgets(line, sizeof line, f)) {
            char *p = strstr(line, "Client Request: ");
            if (!strncmp(line, "desc: Trigger:", 14) && p)
                sscanf(p + 16, "%127s", name);
            if (!strncmp(line, "summary: ", 9) || !strncmp(line, "totals: ", 8))
                ir = atoll(strchr(line, ':') + 1);
        }
        fclose(f);
        for (unsigned i = 0; i < n; i++)
            if (ir >= 0 && !strcmp(name, names[i]))
                fprintf(out, "%s.instructions %.1f instr\n", names[i], (double)ir / (double)ops[i]);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
