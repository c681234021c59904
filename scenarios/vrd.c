/* vrd.c - verdict.json and verdict.txt of a scenario run. */
#include "vrd.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "ek3_err.h"

#ifndef EK3_RIG_VERSION
#define EK3_RIG_VERSION "unknown"
#endif

const char vrd_rig_version[] = EK3_RIG_VERSION;

static json_t *vrd_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *vrd_time(double v)
{
    return v >= 0 ? json_real(v) : json_null();
}

/* "a,b" (sep) as a JSON array of strings */
static json_t *vrd_list(const char *s, char sep)
{
    json_t *a = json_array();
    while (a && s && *s) {
        const char *e = strchr(s, sep);
        size_t n = e ? (size_t)(e - s) : strlen(s);
        json_array_append_new(a, json_stringn(s, n));
        s = e ? e + 1 : s + n;
    }
    return a;
}

int vrd_json(FILE *f, const scn_result *r)
{
    char hex[65];
    scn_sha256_hex(r->trace_sha256, hex);
    json_t *checks = json_array(), *faults = json_array();
    for (unsigned i = 0; checks && i < r->nfig; i++) {
        const scn_fig *g = &r->fig[i];
        json_array_append_new(checks, json_pack("{s:s, s:o, s:s, s:s, s:b, s:f, s:s}", "name", g->name, "value",
                                                vrd_num(g->value), "unit", g->unit, "limit", g->limit, "pass",
                                                g->pass, "t_s", g->t_s, "where", g->where));
    }
    for (unsigned i = 0; faults && i < r->nfault; i++) {
        const scn_fault *g = &r->fault[i];
        json_array_append_new(faults, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:i}", "spec", g->text, "where",
                                                g->where, "at_s", vrd_time(g->spec.t), "onset_s",
                                                vrd_time(g->onset_s), "clear_s", vrd_time(g->clear_s), "cleared_s",
                                                vrd_time(g->cleared_s), "error", g->error));
    }
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:o, s:o, s:f}, s:I, s:i, s:{s:i, s:s},"
                          " s:o, s:o, s:o, s:{s:s, s:I}, s:f, s:f, s:f}",
                          "format", "ek3-verdict/1", "rig_version", vrd_rig_version, "verdict",
                          scn_verdict_name((unsigned)r->verdict), "error", r->error, "scenario", "path", r->m.path,
                          "name", r->m.name, "level", r->m.level, "tags", vrd_list(r->m.tags, ','), "requirements",
                          vrd_list(r->m.requirements, ';'), "timeout_s", r->m.timeout_s, "seed",
                          (json_int_t)r->seed, "threads", (int)r->threads, "rack", "modules", (int)r->modules,
                          "flags", r->rack_text, "checks", checks ? checks : json_array(), "first_failed",
                          r->first_fail >= 0 ? json_integer(r->first_fail) : json_null(), "faults",
                          faults ? faults : json_array(), "trace", "sha256", hex, "rows",
                          (json_int_t)r->trace_rows, "sim_s", r->sim_s, "wall_s", r->wall_s, "init_s", r->init_s);
    if (!j)
        return EK3_ENOSPC;
    int rc = json_dumpf(j, f, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(j);
    if (rc || fputc('\n', f) == EOF || ferror(f))
        return EK3_EIO;
    return 0;
}

int vrd_text(FILE *f, const scn_result *r)
{
    char hex[65];
    scn_sha256_hex(r->trace_sha256, hex);
    fprintf(f, "scenario %s (%s), seed %llu: %s\n", r->m.name, r->m.path, (unsigned long long)r->seed,
            scn_verdict_name((unsigned)r->verdict));
    fprintf(f, "level %s; tags %s; requirements %s\n", r->m.level, r->m.tags[0] ? r->m.tags : "-",
            r->m.requirements[0] ? r->m.requirements : "-");
    if (r->verdict == SCN_ERROR)
        fprintf(f, "error: %s\n", r->error);
    fprintf(f, "rack: %s\n", r->rack_text[0] ? r->rack_text : "(none)");
    fprintf(f, "simulated %.6f s in %.3f s of wall-clock time (set-up %.3f s); rig %s\n", r->sim_s, r->wall_s,
            r->init_s, vrd_rig_version);
    fprintf(f, "trace: %llu probe rows, SHA-256 %s\n\nchecks (%u):\n", (unsigned long long)r->trace_rows, hex,
            r->nfig);
    for (unsigned i = 0; i < r->nfig; i++) {
        const scn_fig *g = &r->fig[i];
        char fig[80] = "";
        if (!isnan(g->value))
            snprintf(fig, sizeof fig, " = %.6g%s%s", g->value, g->unit[0] ? " " : "", g->unit);
        fprintf(f, "  %s %10.6f s  %s%s  (limit %s)  %s%s\n", g->pass ? "pass" : "FAIL", g->t_s, g->name, fig,
                g->limit, g->where, (int)i == r->first_fail ? "  <- first failure" : "");
    }
    fprintf(f, "\nfaults (%u):\n", r->nfault);
    for (unsigned i = 0; i < r->nfault; i++) {
        const scn_fault *g = &r->fault[i];
        fprintf(f, "  %s  onset %s", g->text, g->onset_s >= 0 ? "" : "never");
        if (g->onset_s >= 0)
            fprintf(f, "%.6f s", g->onset_s);
        if (g->cleared_s >= 0)
            fprintf(f, ", cleared %.6f s", g->cleared_s);
        if (g->error)
            fprintf(f, ", NOT injected: %s", ek3_strerror(g->error));
        fprintf(f, "  (%s)\n", g->where);
    }
    return ferror(f) ? EK3_EIO : 0;
}

int vrd_write(const char *dir, const scn_result *r, char *err, size_t cap)
{
    static const char *const names[2] = {"verdict.json", "verdict.txt"};
    for (int k = 0; k < 2; k++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        FILE *f = fopen(path, "w");
        if (!f) {
            snprintf(err, cap, "%s: %s", path, strerror(errno));
            return EK3_EIO;
        }
        int rc = k ? vrd_text(f, r) : vrd_json(f, r);
        int e = rc ? EIO : 0;
        if (fclose(f) && !e)
            e = errno;
        if (rc || e) {
            snprintf(err, cap, "%s: write error: %s", path, strerror(e ? e : EIO));
            return EK3_EIO;
        }
    }
    return 0;
}
