/* vrd.c - verdict.json and verdict.txt of a scenario run. */
#include "vrd.h"
#include "cli.h"
#include "hst.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <mbedtls/sha256.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"

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

/* What replay reads beyond the summary: the scenario file's SHA-256,
 * the trace's columns and blocks. 0 or -1 (memory). */
static int vrd_json_more(json_t *j, const scn_result *r)
{
    char hex[65];
    scn_sha256_hex(r->script_sha256, hex);
    json_t *sc = json_object_get(j, "scenario"), *loads = json_array();
    json_t *helpers = json_array(); /* the helper modules it required, each with its bytes' SHA-256 */
    if (json_object_set_new(sc, "sha256", json_string(hex)) || json_object_set_new(sc, "helpers", helpers) ||
        json_object_set_new(sc, "gaps", vrd_list(r->m.gaps, '\n')) || json_object_set_new(j, "loads", loads))
        return -1;
    for (unsigned i = 0; i < r->nhelper; i++) {
        scn_sha256_hex(r->helper_sha256[i], hex);
        if (json_array_append_new(helpers, json_pack("{s:s, s:s}", "path", r->helper[i], "sha256", hex)))
            return -1;
    }
    for (unsigned i = 0; i < r->nload; i++) { /* the script's set_load{} calls */
        const scn_load_rec *l = &r->load[i];
        if (json_array_append_new(loads, json_pack("{s:s, s:o, s:o, s:f, s:f, s:s}", "load", l->text, "power_W",
                                                   vrd_num(l->power_w), "ohm", vrd_num(l->ohm), "at_s", l->at_s,
                                                   "ramp_s", l->ramp_s, "where", l->where)))
            return -1;
    }
    json_t *t = json_object_get(j, "trace"), *cols = json_array(), *blocks = json_array();
    if (!cols || !blocks || json_object_set_new(t, "columns", cols) || json_object_set_new(t, "blocks", blocks) ||
        json_object_set_new(t, "block_rows", json_integer((json_int_t)r->block_rows)))
        return -1;
    for (unsigned c = 0; c < r->ncol; c++)
        if (json_array_append_new(cols, json_string(scn_col_name(r, c))))
            return -1;
    char *fp = malloc((size_t)r->ncol * 8 + 1);
    if (!fp)
        return -1;
    int rc = 0;
    for (unsigned i = 0; i < r->nblock && !rc; i++) {
        const scn_block *b = &r->block[i];
        for (unsigned c = 0; c < r->ncol; c++)
            snprintf(fp + 8 * c, 9, "%08" PRIx32, b->col[c]);
        fp[8 * r->ncol] = 0;
        scn_sha256_hex(b->sha256, hex);
        rc = json_array_append_new(blocks, json_pack("{s:I, s:f, s:f, s:s, s:s}", "rows_end", (json_int_t)b->rows_end,
                                                     "t0_s", b->t0_s, "t1_s", b->t1_s, "sha256", hex, "columns", fp));
    }
    free(fp);
    return rc ? -1 : 0;
}

/* The verdict as the files write it: a run a stop cut is INTERRUPTED
 * (scn_result.stopped), no verdict, though it counts as an ERROR. */
static const char *vrd_word(const scn_result *r)
{
    return r->stopped && r->verdict == SCN_ERROR ? "INTERRUPTED" : scn_verdict_name((unsigned)r->verdict);
}

int vrd_json(FILE *f, const scn_result *r)
{
    char hex[65];
    scn_sha256_hex(r->trace_sha256, hex);
    json_t *checks = json_array(), *faults = json_array();
    for (unsigned i = 0; checks && i < r->nfig; i++) {
        const scn_fig *g = &r->fig[i];
        json_t *c = json_pack("{s:s, s:o, s:s, s:s, s:b, s:f, s:s}", "name", g->name, "value", vrd_num(g->value),
                              "unit", g->unit, "limit", g->limit, "pass", g->pass, "t_s", g->t_s, "where", g->where);
        if (c && g->plot[0]) /* the check's plot, in the report directory */
            json_object_set_new(c, "plot", json_string(g->plot));
        json_array_append_new(checks, c);
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
                          vrd_word(r), "error", r->error, "scenario", "path", r->m.path,
                          "name", r->m.name, "level", r->m.level, "tags", vrd_list(r->m.tags, ','), "requirements",
                          vrd_list(r->m.requirements, ';'), "timeout_s", r->m.timeout_s, "seed",
                          (json_int_t)r->seed, "threads", (int)r->threads, "rack", "modules", (int)r->modules,
                          "flags", r->rack_text, "checks", checks ? checks : json_array(), "first_failed",
                          r->first_fail >= 0 ? json_integer(r->first_fail) : json_null(), "faults",
                          faults ? faults : json_array(), "trace", "sha256", hex, "rows",
                          (json_int_t)r->trace_rows, "sim_s", r->sim_s, "wall_s", r->wall_s, "init_s", r->init_s);
    if (!j)
        return EK3_ENOSPC;
    if (vrd_json_more(j, r)) {
        json_decref(j);
        return EK3_ENOSPC;
    }
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
    if (r->m.name[0])
        fprintf(f, "scenario %s (%s), seed %llu: %s\n", r->m.name, r->m.path, (unsigned long long)r->seed, vrd_word(r));
    else /* its manifest did not read (the error below says why) */
        fprintf(f, "scenario %s (no manifest read), seed %llu: %s\n", r->m.path, (unsigned long long)r->seed,
                vrd_word(r));
    fprintf(f, "level %s; tags %s; requirements %s\n", r->m.level[0] ? r->m.level : "-", r->m.tags[0] ? r->m.tags : "-",
            r->m.requirements[0] ? r->m.requirements : "-");
    for (const char *g = r->m.gaps; *g;) {
        const char *e = strchr(g, '\n');
        int n = e ? (int)(e - g) : (int)strlen(g);
        fprintf(f, "gap (a claim the rig cannot hold): %.*s\n", n, g);
        g += n + (e != NULL);
    }
    if (r->verdict == SCN_ERROR)
        fprintf(f, "error: %s\n", r->error);
    fprintf(f, "rack: %s\n", r->rack_text[0] ? r->rack_text : "(none)");
    if (r->rack_text[0] && r->nload) /* the flags' load is the rack's first; the script's follow */
        fprintf(f, "  (its --load is the rack{} load, from --load-at; then the script set the load %u time%s: "
                   "loads set, below)\n",
                r->nload, r->nload == 1 ? "" : "s");
    fprintf(f, "simulated %.6f s in %.3f s of wall-clock time (set-up %.3f s); rig %s\n", r->sim_s, r->wall_s,
            r->init_s, vrd_rig_version);
    fprintf(f, "trace: %llu probe rows, SHA-256 %s\n\nchecks (%u):\n", (unsigned long long)r->trace_rows, hex,
            r->nfig);
    for (unsigned i = 0; i < r->nfig; i++) {
        const scn_fig *g = &r->fig[i];
        char fig[80], lim[80];
        fprintf(f, "  %s %10.6f s  %s%s  (%s)  %s%s%s%s\n", g->pass ? "pass" : "FAIL", g->t_s, g->name,
                scn_fig_result(g, fig, sizeof fig), scn_fig_limit(g, lim, sizeof lim), g->where,
                g->plot[0] ? "  plot " : "", g->plot, (int)i == r->first_fail ? "  <- first failure" : "");
    }
    fprintf(f, "\nfaults (%u):\n", r->nfault);
    for (unsigned i = 0; i < r->nfault; i++) {
        const scn_fault *g = &r->fault[i];
        if (g->error) /* tried at onset_s and refused: its failed check says why */
            fprintf(f, "  %s  NOT injected at %.6f s: %s (its failed check says why)", g->text, g->onset_s,
                    ek3_strerror(g->error));
        else if (g->onset_s >= 0)
            fprintf(f, "  %s  onset %.6f s", g->text, g->onset_s);
        else
            fprintf(f, "  %s  onset never", g->text);
        if (g->cleared_s >= 0)
            fprintf(f, ", cleared %.6f s", g->cleared_s);
        fprintf(f, "  (%s)\n", g->where);
    }
    if (r->nload) /* none: the rack{} load (the "rack:" line) throughout */
        fprintf(f, "\nloads set (%u):\n", r->nload);
    for (unsigned i = 0; i < r->nload; i++) {
        const scn_load_rec *l = &r->load[i];
        char ramp[48] = ", a step", v[32];
        if (l->ramp_s > 0)
            snprintf(ramp, sizeof ramp, ", ramp %s", cli_si(v, sizeof v, l->ramp_s, "s"));
        fprintf(f, "  %s at %.6f s%s  (%s)\n", l->text, l->at_s, ramp, l->where);
    }
    return ferror(f) ? EK3_EIO : 0;
}

/* How many of the other failed checks a FAIL line names, and how much
 * of each name it shows. */
#define VRD_ALSO_MAX 3
#define VRD_ALSO_NAME 60

void vrd_line(FILE *o, const scn_result *r)
{
    const char *name = r->m.name[0] ? r->m.name : r->m.path;
    if (r->verdict == SCN_PASS) {
        fprintf(o, "PASS   %-28s seed %-4llu %3u %-6s  %8.3f s sim  %7.2f s wall\n", name,
                (unsigned long long)r->seed, r->nfig, r->nfig == 1 ? "check" : "checks", r->sim_s, r->wall_s);
    } else if (r->verdict == SCN_FAIL && r->first_fail >= 0 && (unsigned)r->first_fail < r->nfig) {
        const scn_fig *f = &r->fig[r->first_fail];
        char fig[120];
        scn_fig_result(f, fig, sizeof fig);
        unsigned more = 0; /* the first failure may follow from a later one ("fault ... never took effect") */
        for (unsigned i = 0; i < r->nfig; i++)
            more += !r->fig[i].pass && i != (unsigned)r->first_fail;
        /* The others by name, the first VRD_ALSO_MAX of them, each name cut
         * at VRD_ALSO_NAME characters; verdict.txt lists them all. */
        char also[VRD_ALSO_MAX * (VRD_ALSO_NAME + 200) + 96] = "";
        if (more) {
            size_t n = (size_t)snprintf(also, sizeof also, "; %u more check%s failed:", more, more == 1 ? "" : "s");
            unsigned named = 0;
            for (unsigned i = 0; i < r->nfig && named < VRD_ALSO_MAX; i++) {
                const scn_fig *g = &r->fig[i];
                if (g->pass || i == (unsigned)r->first_fail)
                    continue;
                int cut = strlen(g->name) > VRD_ALSO_NAME;
                n += (size_t)snprintf(also + n, sizeof also - n, "%s %.*s%s (%s)", named ? "," : "", VRD_ALSO_NAME,
                                      g->name, cut ? "..." : "", g->where);
                named++;
            }
            if (more > named)
                snprintf(also + n, sizeof also - n, " and %u more, in verdict.txt", more - named);
        }
        char lim[80];
        fprintf(o, "FAIL   %-28s seed %-4llu at %.6f s: %s%s, %s (%s)%s\n", name, (unsigned long long)r->seed, f->t_s,
                f->name, fig, scn_fig_limit(f, lim, sizeof lim), f->where, also);
    } else if (r->stopped) {
        fprintf(o, "NOTRUN %-28s seed %-4llu stopped while it ran, at %.3f s simulated: no verdict\n", name,
                (unsigned long long)r->seed, r->sim_s);
    } else {
        fprintf(o, "%-6s %-28s seed %-4llu %s\n", scn_verdict_name((unsigned)r->verdict), name,
                (unsigned long long)r->seed, r->error);
    }
}

int vrd_run(const char *path, const scn_opts *o, char *line, size_t cap)
{
    scn_result *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(line, cap, "ERROR  %s: out of memory\n", path);
        return SCN_ERROR;
    }
    int v = scn_run_file(path, o, r);
    if (v == SCN_ERROR && r->stopped)
        v = VRD_STOPPED;
    FILE *mem = fmemopen(line, cap, "w");
    if (mem) {
        vrd_line(mem, r);
        fclose(mem);
    }
    if (o->report_dir) {
        char err[700];
        size_t n = strlen(line);
        if (vrd_write(o->report_dir, r, err, sizeof err)) {
            snprintf(line + n, cap - n, "ERROR  %-28s seed %-4llu %s\n", r->m.name, (unsigned long long)o->seed, err);
            v = SCN_ERROR;
        }
    }
    scn_result_free(r);
    free(r);
    return v;
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

/* ---- reading verdict.json back (replay, shrink) ---- */

typedef struct vrd_rd {
    const char *file;
    char *err;
    size_t cap;
    int bad;
} vrd_rd;

static int vrd_bad(vrd_rd *d, const char *field, const char *why)
{
    if (!d->bad)
        snprintf(d->err, d->cap, "%s: %s: %s", d->file, field, why);
    d->bad = 1;
    return -1;
}

/* Member k of object o (field names it in errors): must be there. */
static json_t *vrd_get(vrd_rd *d, json_t *o, const char *k, const char *field)
{
    json_t *v = json_is_object(o) ? json_object_get(o, k) : NULL;
    if (!v)
        vrd_bad(d, field, "missing");
    return v;
}

static int vrd_str(vrd_rd *d, json_t *o, const char *k, const char *field, char *dst, size_t cap)
{
    json_t *v = vrd_get(d, o, k, field);
    if (!v)
        return -1;
    if (!json_is_string(v))
        return vrd_bad(d, field, "not a string");
    if (json_string_length(v) >= cap || strlen(json_string_value(v)) != json_string_length(v)) {
        char why[80];
        snprintf(why, sizeof why, "longer than %zu characters or holds a NUL", cap - 1);
        return vrd_bad(d, field, why);
    }
    snprintf(dst, cap, "%s", json_string_value(v));
    return 0;
}

/* A list of strings at o.k joined by sep into dst (none may hold sep). */
static int vrd_strlist(vrd_rd *d, json_t *o, const char *k, const char *field, char sep, char *dst, size_t cap)
{
    json_t *a = vrd_get(d, o, k, field), *v;
    size_t i;
    if (!a)
        return -1;
    if (!json_is_array(a))
        return vrd_bad(d, field, "not a list");
    dst[0] = 0;
    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v);
        size_t used = strlen(dst);
        if (!s || strlen(s) != json_string_length(v) || strchr(s, sep))
            return vrd_bad(d, field, "holds an entry that is not a string, holds a NUL or its separator");
        if (used + strlen(s) + 2 > cap)
            return vrd_bad(d, field, "too long");
        snprintf(dst + used, cap - used, "%s%s", used ? (char[]){sep, 0} : "", s);
    }
    return 0;
}

static int vrd_int(vrd_rd *d, json_t *o, const char *k, const char *field, json_int_t lo, json_int_t hi,
                   json_int_t *out)
{
    json_t *v = vrd_get(d, o, k, field);
    if (!v)
        return -1;
    if (!json_is_integer(v))
        return vrd_bad(d, field, "not a whole number");
    json_int_t n = json_integer_value(v);
    if (n < lo || n > hi) {
        char why[96];
        snprintf(why, sizeof why, "%lld is out of range %lld to %lld", (long long)n, (long long)lo, (long long)hi);
        return vrd_bad(d, field, why);
    }
    *out = n;
    return 0;
}

/* A number (a real or an integer); null_val: what null reads as, or NAN
 * where null is not allowed. */
static int vrd_num_in(vrd_rd *d, json_t *o, const char *k, const char *field, double null_val, double *out)
{
    json_t *v = vrd_get(d, o, k, field);
    if (!v)
        return -1;
    if (json_is_null(v) && !isnan(null_val)) {
        *out = null_val;
        return 0;
    }
    if (!json_is_number(v))
        return vrd_bad(d, field, isnan(null_val) ? "not a number" : "not a number or null");
    *out = json_number_value(v);
    if (!isfinite(*out))
        return vrd_bad(d, field, "not a finite number");
    return 0;
}

static int vrd_hex(vrd_rd *d, const char *s, const char *field, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return vrd_bad(d, field, n == 32 ? "not 64 hexadecimal digits (a SHA-256)" : "wrong length");
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + (size_t)k];
            int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (h < 0)
                return vrd_bad(d, field, "not lowercase hexadecimal digits");
            v = v * 16 + (unsigned)h;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

static int vrd_sha(vrd_rd *d, json_t *o, const char *k, const char *field, uint8_t out[32])
{
    char s[80];
    if (vrd_str(d, o, k, field, s, sizeof s))
        return -1;
    return vrd_hex(d, s, field, out, 32);
}

static json_t *vrd_arr(vrd_rd *d, json_t *o, const char *k, const char *field, size_t max)
{
    json_t *v = vrd_get(d, o, k, field);
    if (!v)
        return NULL;
    if (!json_is_array(v)) {
        vrd_bad(d, field, "not a list");
        return NULL;
    }
    if (json_array_size(v) > max) {
        char why[64];
        snprintf(why, sizeof why, "more than %zu entries", max);
        vrd_bad(d, field, why);
        return NULL;
    }
    return v;
}

/* scenario.helpers, when there: [{path, sha256}] into r->helper[]. */
static int vrd_helpers(vrd_rd *d, json_t *sc, scn_result *r)
{
    r->nhelper = 0;
    if (!json_object_get(sc, "helpers"))
        return 0;
    json_t *a = vrd_arr(d, sc, "helpers", "scenario.helpers", SCN_HELPERS_MAX);
    if (!a)
        return -1;
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *h = json_array_get(a, i);
        char field[64];
        snprintf(field, sizeof field, "scenario.helpers[%zu]", i);
        if (!json_is_object(h)) {
            vrd_bad(d, field, "not an object {path, sha256}");
            return -1;
        }
        snprintf(field, sizeof field, "scenario.helpers[%zu].path", i);
        if (vrd_str(d, h, "path", field, r->helper[i], sizeof r->helper[i]))
            return -1;
        snprintf(field, sizeof field, "scenario.helpers[%zu].sha256", i);
        if (vrd_sha(d, h, "sha256", field, r->helper_sha256[i]))
            return -1;
        r->nhelper = (unsigned)i + 1;
    }
    return 0;
}

static json_t *vrd_obj(vrd_rd *d, json_t *o, const char *k, const char *field)
{
    json_t *v = vrd_get(d, o, k, field);
    if (v && !json_is_object(v)) {
        vrd_bad(d, field, "not an object");
        return NULL;
    }
    return v;
}

static int vrd_checks(vrd_rd *d, json_t *j, scn_result *r)
{
    json_t *a = vrd_arr(d, j, "checks", "checks", 1u << 20);
    if (!a)
        return -1;
    size_t n = json_array_size(a);
    r->fig = calloc(n ? n : 1, sizeof *r->fig);
    r->capfig = n ? (unsigned)n : 1;
    if (!r->fig)
        return vrd_bad(d, "checks", "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(a, i);
        char f[96];
        scn_fig *g = &r->fig[i];
        snprintf(f, sizeof f, "checks[%zu]", i);
        if (!json_is_object(c))
            return vrd_bad(d, f, "not an object");
#define VRD_F(k) (snprintf(f, sizeof f, "checks[%zu].%s", i, k), f)
        if (vrd_str(d, c, "name", VRD_F("name"), g->name, sizeof g->name) ||
            vrd_num_in(d, c, "value", VRD_F("value"), -INFINITY, &g->value) ||
            vrd_str(d, c, "unit", VRD_F("unit"), g->unit, sizeof g->unit) ||
            vrd_str(d, c, "limit", VRD_F("limit"), g->limit, sizeof g->limit) ||
            vrd_num_in(d, c, "t_s", VRD_F("t_s"), NAN, &g->t_s) ||
            vrd_str(d, c, "where", VRD_F("where"), g->where, sizeof g->where) ||
            (json_object_get(c, "plot") && vrd_str(d, c, "plot", VRD_F("plot"), g->plot, sizeof g->plot)))
            return -1;
#undef VRD_F
        if (isinf(g->value))
            g->value = NAN;
        json_t *p = vrd_get(d, c, "pass", (snprintf(f, sizeof f, "checks[%zu].pass", i), f));
        if (!p)
            return -1;
        if (!json_is_boolean(p))
            return vrd_bad(d, f, "not true or false");
        g->pass = json_is_true(p);
        r->nfig++;
    }
    json_t *ff = vrd_get(d, j, "first_failed", "first_failed");
    if (!ff)
        return -1;
    r->first_fail = -1;
    if (!json_is_null(ff)) {
        json_int_t k;
        if (vrd_int(d, j, "first_failed", "first_failed", 0, n ? (json_int_t)n - 1 : -1, &k))
            return -1;
        if (r->fig[k].pass)
            return vrd_bad(d, "first_failed", "names a check that passed");
        r->first_fail = (int)k;
    }
    return 0;
}

static int vrd_faults(vrd_rd *d, json_t *j, scn_result *r)
{
    json_t *a = vrd_arr(d, j, "faults", "faults", SCN_FAULTS_MAX);
    if (!a)
        return -1;
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *c = json_array_get(a, i);
        char f[96];
        scn_fault *g = &r->fault[i];
        snprintf(f, sizeof f, "faults[%zu]", i);
        if (!json_is_object(c))
            return vrd_bad(d, f, "not an object");
        json_int_t e;
#define VRD_F(k) (snprintf(f, sizeof f, "faults[%zu].%s", i, k), f)
        if (vrd_str(d, c, "spec", VRD_F("spec"), g->text, sizeof g->text) ||
            vrd_str(d, c, "where", VRD_F("where"), g->where, sizeof g->where) ||
            vrd_num_in(d, c, "at_s", VRD_F("at_s"), -1, &g->spec.t) ||
            vrd_num_in(d, c, "onset_s", VRD_F("onset_s"), -1, &g->onset_s) ||
            vrd_num_in(d, c, "clear_s", VRD_F("clear_s"), -1, &g->clear_s) ||
            vrd_num_in(d, c, "cleared_s", VRD_F("cleared_s"), -1, &g->cleared_s) ||
            vrd_int(d, c, "error", VRD_F("error"), -1000, 0, &e))
            return -1;
#undef VRD_F
        g->error = (int)e;
        r->nfault++;
    }
    return 0;
}

static int vrd_trace(vrd_rd *d, json_t *j, scn_result *r)
{
    json_t *t = vrd_obj(d, j, "trace", "trace");
    json_int_t rows, brows;
    if (!t || vrd_sha(d, t, "sha256", "trace.sha256", r->trace_sha256) ||
        vrd_int(d, t, "rows", "trace.rows", 0, INT64_MAX, &rows) ||
        vrd_int(d, t, "block_rows", "trace.block_rows", 0, INT64_MAX, &brows))
        return -1;
    if (brows == 0 && rows > 0) /* 0 only without a trace: a run that ended before its rack */
        return vrd_bad(d, "trace.block_rows", "0 with rows in the trace");
    r->trace_rows = (uint64_t)rows;
    r->block_rows = (uint64_t)brows;
    json_t *cols = vrd_arr(d, t, "columns", "trace.columns", 100000);
    if (!cols)
        return -1;
    size_t nc = json_array_size(cols);
    r->colnames = calloc(nc ? nc : 1, 24);
    if (!r->colnames)
        return vrd_bad(d, "trace.columns", "out of memory");
    size_t off = 0;
    for (size_t c = 0; c < nc; c++) {
        json_t *s = json_array_get(cols, c);
        char f[64];
        snprintf(f, sizeof f, "trace.columns[%zu]", c);
        if (!json_is_string(s) || json_string_length(s) < 1 || json_string_length(s) > 23 ||
            strlen(json_string_value(s)) != json_string_length(s))
            return vrd_bad(d, f, "not a column name (a string of 1 to 23 characters)");
        memcpy(r->colnames + off, json_string_value(s), json_string_length(s) + 1);
        off += json_string_length(s) + 1;
    }
    r->ncol = (unsigned)nc;
    json_t *bl = vrd_arr(d, t, "blocks", "trace.blocks", SCN_BLOCKS_MAX);
    if (!bl)
        return -1;
    size_t nb = json_array_size(bl);
    r->block = calloc(nb ? nb : 1, sizeof *r->block);
    if (!r->block)
        return vrd_bad(d, "trace.blocks", "out of memory");
    uint64_t prev = 0;
    for (size_t i = 0; i < nb; i++) {
        json_t *b = json_array_get(bl, i);
        scn_block *k = &r->block[i];
        char f[96], fp[16];
        snprintf(f, sizeof f, "trace.blocks[%zu]", i);
        if (!json_is_object(b))
            return vrd_bad(d, f, "not an object");
        json_int_t end;
#define VRD_F(x) (snprintf(f, sizeof f, "trace.blocks[%zu].%s", i, x), f)
        if (vrd_int(d, b, "rows_end", VRD_F("rows_end"), (json_int_t)prev + 1, rows, &end) ||
            vrd_num_in(d, b, "t0_s", VRD_F("t0_s"), NAN, &k->t0_s) ||
            vrd_num_in(d, b, "t1_s", VRD_F("t1_s"), NAN, &k->t1_s) ||
            vrd_sha(d, b, "sha256", VRD_F("sha256"), k->sha256))
            return -1;
        json_t *cs = vrd_get(d, b, "columns", VRD_F("columns"));
        if (!cs)
            return -1;
        if (!json_is_string(cs) || json_string_length(cs) != 8 * nc)
            return vrd_bad(d, f, "not 8 hexadecimal digits per column of trace.columns");
#undef VRD_F
        k->rows_end = (uint64_t)end;
        prev = k->rows_end;
        k->col = malloc((nc ? nc : 1) * sizeof *k->col);
        r->nblock++; /* its col freed with the result from here on */
        if (!k->col)
            return vrd_bad(d, f, "out of memory");
        const char *s = json_string_value(cs);
        for (size_t c = 0; c < nc; c++) {
            uint8_t v[4];
            memcpy(fp, s + 8 * c, 8);
            fp[8] = 0;
            if (vrd_hex(d, fp, f, v, 4))
                return -1;
            k->col[c] = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
        }
    }
    if (nb && r->block[nb - 1].rows_end != r->trace_rows)
        return vrd_bad(d, "trace.blocks", "the last block does not end at trace.rows");
    if (nb && memcmp(r->block[nb - 1].sha256, r->trace_sha256, 32))
        return vrd_bad(d, "trace.blocks", "the last block's sha256 is not trace.sha256");
    if (!nb && r->trace_rows)
        return vrd_bad(d, "trace.blocks", "empty, but trace.rows is not 0");
    return 0;
}

int vrd_parse(const char *text, size_t len, const char *file, scn_result *r, char *err, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->first_fail = -1;
    vrd_rd d = {file, err, cap, 0};
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        snprintf(err, cap, "%s:%d:%d: not JSON: %s", file, je.line, je.column, je.text);
        return EK3_EPARSE;
    }
    char s[64];
    json_int_t seed, threads, modules;
    json_t *sc, *rk;
    int rc = -1;
    if (!json_is_object(j)) {
        snprintf(err, cap, "%s: not a verdict (a JSON object is expected)", file);
        goto out;
    }
    if (vrd_str(&d, j, "format", "format", s, sizeof s))
        goto out;
    if (strcmp(s, "ek3-verdict/1")) {
        vrd_bad(&d, "format", "not \"ek3-verdict/1\" (a verdict of another format or rig)");
        goto out;
    }
    if (vrd_str(&d, j, "verdict", "verdict", s, sizeof s))
        goto out;
    r->stopped = !strcmp(s, "INTERRUPTED");
    r->verdict = !strcmp(s, "PASS")                    ? SCN_PASS
                 : !strcmp(s, "FAIL")                  ? SCN_FAIL
                 : !strcmp(s, "ERROR") || r->stopped ? SCN_ERROR
                                                       : -1;
    if (r->verdict < 0) {
        vrd_bad(&d, "verdict", "not PASS, FAIL, ERROR or INTERRUPTED");
        goto out;
    }
    if (vrd_str(&d, j, "error", "error", r->error, sizeof r->error) || !(sc = vrd_obj(&d, j, "scenario", "scenario")) ||
        vrd_str(&d, sc, "path", "scenario.path", r->m.path, sizeof r->m.path) ||
        vrd_str(&d, sc, "name", "scenario.name", r->m.name, sizeof r->m.name) ||
        vrd_str(&d, sc, "level", "scenario.level", r->m.level, sizeof r->m.level) ||
        vrd_strlist(&d, sc, "tags", "scenario.tags", ',', r->m.tags, sizeof r->m.tags) ||
        vrd_strlist(&d, sc, "requirements", "scenario.requirements", ';', r->m.requirements,
                    sizeof r->m.requirements) ||
        vrd_strlist(&d, sc, "gaps", "scenario.gaps", '\n', r->m.gaps, sizeof r->m.gaps) ||
        vrd_sha(&d, sc, "sha256", "scenario.sha256", r->script_sha256) ||
        vrd_num_in(&d, sc, "timeout_s", "scenario.timeout_s", NAN, &r->m.timeout_s) ||
        vrd_int(&d, j, "seed", "seed", 0, INT64_MAX, &seed) || vrd_int(&d, j, "threads", "threads", 0, 256, &threads) ||
        !(rk = vrd_obj(&d, j, "rack", "rack")) || vrd_int(&d, rk, "modules", "rack.modules", 0, 510, &modules) ||
        vrd_str(&d, rk, "flags", "rack.flags", r->rack_text, sizeof r->rack_text) || vrd_checks(&d, j, r) ||
        vrd_faults(&d, j, r) || vrd_trace(&d, j, r) || vrd_num_in(&d, j, "sim_s", "sim_s", NAN, &r->sim_s) ||
        vrd_num_in(&d, j, "wall_s", "wall_s", NAN, &r->wall_s) ||
        vrd_num_in(&d, j, "init_s", "init_s", NAN, &r->init_s))
        goto out;
    if (!r->m.path[0]) {
        vrd_bad(&d, "scenario.path", "empty");
        goto out;
    }
    if (vrd_helpers(&d, sc, r)) /* optional: a verdict written before they were recorded has none */
        goto out;
    if (r->verdict == SCN_FAIL && r->first_fail < 0) {
        vrd_bad(&d, "first_failed", "null in a FAIL verdict");
        goto out;
    }
    if (r->verdict != SCN_FAIL && r->verdict != SCN_ERROR && r->first_fail >= 0) {
        vrd_bad(&d, "first_failed", "names a check in a PASS verdict");
        goto out;
    }
    r->seed = (uint64_t)seed;
    r->threads = (unsigned)threads;
    r->modules = (unsigned)modules;
    rc = 0;
out:
    json_decref(j);
    if (rc) {
        scn_result_free(r);
        return EK3_EPARSE;
    }
    return 0;
}

int vrd_read(const char *path, scn_result *r, char *err, size_t cap)
{
    memset(r, 0, sizeof *r);
    char *buf;
    size_t len;
    int rc = scn_read_file(path, 256u << 20, &buf, &len, err, cap);
    if (rc)
        return rc == EK3_ENOSPC ? rc : EK3_EIO;
    rc = vrd_parse(buf, len, path, r, err, cap);
    free(buf);
    return rc;
}

int vrd_file_sha256(const char *path, uint8_t out[32], char *err, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return EK3_EIO;
    }
    mbedtls_sha256_context c;
    mbedtls_sha256_init(&c);
    mbedtls_sha256_starts_ret(&c, 0);
    unsigned char buf[1 << 14];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        mbedtls_sha256_update_ret(&c, buf, n);
    int bad = ferror(f);
    fclose(f);
    mbedtls_sha256_finish_ret(&c, out);
    mbedtls_sha256_free(&c);
    if (bad) {
        snprintf(err, cap, "%s: read error", path);
        return EK3_EIO;
    }
    return 0;
}

/* The first check that failed, as one line. */
static void vrd_fail_text(const scn_result *r, char *buf, size_t cap)
{
    if (r->verdict == SCN_ERROR) {
        snprintf(buf, cap, "%s", r->error);
    } else if (r->first_fail >= 0) {
        const scn_fig *f = &r->fig[r->first_fail];
        snprintf(buf, cap, "'%s' at %.6f s (%s)", f->name, f->t_s, f->where);
    } else {
        snprintf(buf, cap, "%u check%s passed", r->nfig, r->nfig == 1 ? "" : "s");
    }
}

/* The line part of "file:line" (the file differs between a scenario and
 * its copies). */
static const char *vrd_line_of(const char *where)
{
    const char *c = strrchr(where, ':');
    return c ? c + 1 : where;
}

/* s with each file:line's file cut to its name ("/opt/ek3/lib/ek3.lua:97" ->
 * "ek3.lua:97") into out[cap]: a helper's bytes are compared apart (replay
 * checks them), and the same helper from another folder (the rig's library
 * installed elsewhere, an identical lib/ copy) is the same place. */
static const char *vrd_files_named(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *c = s; *c && o + 1 < cap; c++) {
        out[o++] = *c;
        if (*c != '/')
            continue;
        const char *e = c + 1; /* a path's last '/': a name with ".lua:" follows */
        while (*e && *e != '/' && *e != ' ' && *e != '(' && *e != ',' && strncmp(e, ".lua:", 5))
            e++;
        if (!strncmp(e, ".lua:", 5)) {
            size_t k = o; /* back to the path's start */
            while (k > 0 && out[k - 1] != ' ' && out[k - 1] != '(' && out[k - 1] != ',')
                k--;
            o = k;
        }
    }
    out[o] = 0;
    return out;
}

int vrd_same_check(const char *a, const char *b)
{
    const char *ca = strstr(a, ": "), *cb = strstr(b, ": ");
    size_t na = ca ? (size_t)(ca - a) : strlen(a), nb = cb ? (size_t)(cb - b) : strlen(b);
    return na == nb && !memcmp(a, b, na) && hst_same_figure(a + na, b + nb);
}

int vrd_same_failure(const scn_result *a, const scn_result *b, int line_only)
{
    if (a->verdict != b->verdict)
        return 0;
    char x[sizeof a->error], y[sizeof a->error];
    if (a->verdict == SCN_ERROR)
        return !strcmp(vrd_files_named(a->error, x, sizeof x), vrd_files_named(b->error, y, sizeof y));
    if (a->verdict != SCN_FAIL)
        return 1;
    const scn_fig *f = &a->fig[a->first_fail], *g = &b->fig[b->first_fail];
    return vrd_same_check(f->name, g->name) &&
           !strcmp(line_only ? vrd_line_of(f->where) : vrd_files_named(f->where, x, sizeof x),
                   line_only ? vrd_line_of(g->where) : vrd_files_named(g->where, y, sizeof y));
}

/* Rows (prev, end] of r's blocks: the XOR of their fingerprints into fp,
 * and the time span. */
static void vrd_span(const scn_result *r, uint64_t prev, uint64_t end, uint32_t *fp, double *t0, double *t1)
{
    memset(fp, 0, r->ncol * sizeof *fp);
    *t0 = NAN;
    for (unsigned i = 0; i < r->nblock; i++) {
        const scn_block *b = &r->block[i];
        if (b->rows_end <= prev || b->rows_end > end)
            continue;
        if (isnan(*t0))
            *t0 = b->t0_s;
        *t1 = b->t1_s;
        for (unsigned c = 0; c < r->ncol; c++)
            fp[c] ^= b->col[c];
    }
}

/* One fault of a schedule as a replay names it: "pull:3@1.5s (long.lua:3) in at 1.500000 s". */
static void vrd_fault_text(const scn_fault *f, char *buf, size_t cap)
{
    char when[64];
    if (f->onset_s < 0)
        snprintf(when, sizeof when, "never in");
    else if (f->error)
        snprintf(when, sizeof when, "refused at %.6f s (%s)", f->onset_s, ek3_errname(f->error));
    else if (f->cleared_s >= 0)
        snprintf(when, sizeof when, "in at %.6f s, cleared at %.6f s", f->onset_s, f->cleared_s);
    else
        snprintf(when, sizeof when, "in at %.6f s", f->onset_s);
    snprintf(buf, cap, "%s (%s) %s", f->text, f->where, when);
}

static int vrd_fault_same(const scn_fault *a, const scn_fault *b)
{
    return !strcmp(a->text, b->text) && !strcmp(a->where, b->where) && a->onset_s == b->onset_s &&
           a->cleared_s == b->cleared_s && a->error == b->error;
}

/* The fault schedules compared, fault by fault in the order of their
 * fault() calls; 1 when they differ. Said only when either has one. */
static int vrd_compare_faults(FILE *out, const scn_result *want, const scn_result *got)
{
    unsigned n = want->nfault > got->nfault ? want->nfault : got->nfault, same = want->nfault == got->nfault;
    for (unsigned i = 0; same && i < n; i++)
        same = vrd_fault_same(&want->fault[i], &got->fault[i]);
    if (same) {
        if (n)
            fprintf(out, "faults: %u, as recorded\n", n);
        return 0;
    }
    fprintf(out, "faults: %u\n  recorded %u; where they differ:\n", got->nfault, want->nfault);
    char a[400], b[400];
    for (unsigned i = 0; i < n; i++) {
        int w = i < want->nfault, g = i < got->nfault;
        if (w && g && vrd_fault_same(&want->fault[i], &got->fault[i]))
            continue;
        if (g)
            vrd_fault_text(&got->fault[i], b, sizeof b);
        if (w)
            vrd_fault_text(&want->fault[i], a, sizeof a);
        if (w && g)
            fprintf(out, "  fault %u: %s\n    recorded %s\n", i + 1, b, a);
        else if (g)
            fprintf(out, "  fault %u: %s; not in the recorded run\n", i + 1, b);
        else
            fprintf(out, "  fault %u: recorded %s; not in this run\n", i + 1, a);
    }
    return 1;
}

int vrd_compare(FILE *out, const vrd_compare_in *in)
{
    const scn_result *want = in->want, *got = in->got;
    int diverged = 0;
    char a[800], b[800];
    vrd_fail_text(want, a, sizeof a);
    vrd_fail_text(got, b, sizeof b);
    /* a replay is the same run: the failed figure's name (its numbers too) and time as recorded */
    const scn_fig *ffw = want->verdict == SCN_FAIL ? &want->fig[want->first_fail] : NULL;
    const scn_fig *ffg = got->verdict == SCN_FAIL ? &got->fig[got->first_fail] : NULL;
    if (vrd_same_failure(want, got, 0) && !(ffw && ffg && (ffw->t_s != ffg->t_s || strcmp(ffw->name, ffg->name)))) {
        fprintf(out, "verdict: %s, as recorded: %s\n", scn_verdict_name((unsigned)got->verdict), b);
    } else {
        fprintf(out, "verdict: %s: %s\n  recorded %s: %s\n", scn_verdict_name((unsigned)got->verdict), b,
                scn_verdict_name((unsigned)want->verdict), a);
        diverged = 1;
    }
    diverged |= vrd_compare_faults(out, want, got);
    char hw[65], hg[65];
    scn_sha256_hex(want->trace_sha256, hw);
    scn_sha256_hex(got->trace_sha256, hg);
    if (want->trace_rows == got->trace_rows && !memcmp(want->trace_sha256, got->trace_sha256, 32)) {
        fprintf(out, "trace: %llu rows, SHA-256 %s, as recorded\n", (unsigned long long)got->trace_rows, hg);
        return diverged;
    }
    fprintf(out, "trace: %llu rows, SHA-256 %s\n  recorded %llu rows, SHA-256 %s\n",
            (unsigned long long)got->trace_rows, hg, (unsigned long long)want->trace_rows, hw);
    if (!got->ncol && got->verdict == SCN_ERROR) {
        fprintf(out, "  this run ended in ERROR before its trace began (its error above)\n");
        return 1;
    }
    if (want->ncol != got->ncol) {
        fprintf(out, "  diverged from the first row: the trace has %u columns, the verdict %u (another rig version "
                     "or rack)\n",
                got->ncol, want->ncol);
        return 1;
    }
    /* the first block boundary both runs have where their prefix hashes differ */
    uint64_t prev = 0, end = 0;
    int found = 0;
    for (unsigned i = 0, k = 0; i < want->nblock && k < got->nblock;) {
        const scn_block *x = &want->block[i], *y = &got->block[k];
        if (x->rows_end < y->rows_end) {
            i++;
        } else if (y->rows_end < x->rows_end) {
            k++;
        } else {
            if (memcmp(x->sha256, y->sha256, 32)) {
                end = x->rows_end;
                found = 1;
                break;
            }
            prev = x->rows_end;
            i++, k++;
        }
    }
    if (!found && got->has_prefix && got->trace_rows > want->trace_rows) {
        /* longer than the recorded: its first rows against the recorded trace whole (scn_opts.prefix_rows) */
        if (!memcmp(got->prefix_sha256, want->trace_sha256, 32))
            fprintf(out, "  the first %llu rows agree (the recorded trace whole); this run goes on %llu rows more\n",
                    (unsigned long long)want->trace_rows, (unsigned long long)(got->trace_rows - want->trace_rows));
        else
            fprintf(out,
                    "  diverged within the first %llu rows (rows %llu to %llu, the recorded trace's last block); "
                    "this run goes on %llu rows more\n",
                    (unsigned long long)want->trace_rows, (unsigned long long)prev + 1,
                    (unsigned long long)want->trace_rows, (unsigned long long)(got->trace_rows - want->trace_rows));
        return 1;
    }
    if (!found) {
        /* every common boundary agrees: one trace is a prefix of the other */
        double t = 0;
        for (unsigned k = 0; k < got->nblock; k++)
            if (got->block[k].rows_end == prev)
                t = got->block[k].t1_s;
        if (prev)
            fprintf(out, "  the first %llu rows agree (to %.6f s); the traces differ in length after them\n",
                    (unsigned long long)prev, t);
        else { /* the shorter ended before the longer's first block did: replay says where only at a block's end */
            const scn_result *sh = got->trace_rows < want->trace_rows ? got : want, *lo = sh == got ? want : got;
            fprintf(out,
                    "  the traces differ in length and share no block boundary to compare at: the shorter ends at "
                    "row %llu, before the longer's first block does (row %llu)\n",
                    (unsigned long long)sh->trace_rows, (unsigned long long)(lo->nblock ? lo->block[0].rows_end : 0));
        }
        return 1;
    }
    uint32_t *fw = calloc(want->ncol ? want->ncol : 1, sizeof *fw), *fg = calloc(want->ncol ? want->ncol : 1, sizeof *fg);
    if (!fw || !fg) {
        free(fw);
        free(fg);
        fprintf(out, "  diverged in rows %llu to %llu\n", (unsigned long long)prev + 1, (unsigned long long)end);
        return 1;
    }
    double t0w = 0, t1w = 0, t0g = 0, t1g = 0;
    vrd_span(want, prev, end, fw, &t0w, &t1w);
    vrd_span(got, prev, end, fg, &t0g, &t1g);
    fprintf(out, "  diverged in rows %llu to %llu (%.6f s to %.6f s): ", (unsigned long long)prev + 1,
            (unsigned long long)end, t0w, t1w);
    unsigned nd = 0;
    for (unsigned c = 0; c < want->ncol; c++) {
        if (fw[c] == fg[c])
            continue;
        if (nd < 8)
            fprintf(out, "%s%s", nd ? ", " : "columns ", scn_col_name(want, c));
        nd++;
    }
    if (nd > 8)
        fprintf(out, " and %u more", nd - 8);
    if (!nd)
        fprintf(out, "no single column's fingerprint differs (rows in another order?)");
    fprintf(out, "\n");
    free(fw);
    free(fg);
    return 1;
}
