/* msg_text.c - human-readable forms of payloads and layouts (host only:
 * it uses snprintf; the target firmware never prints a payload). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"

/* A field with a unit is named <what>_<unit> (power_w, vout_dv); shown
 * with its value scaled, it is called <what>. */
static int msg_display_name(const msg_field *f, char *out, size_t cap)
{
    size_t n = strlen(f->name);
    const char *us = f->unit[0] ? strrchr(f->name, '_') : NULL;
    if (us)
        n = (size_t)(us - f->name);
    return snprintf(out, cap, "%.*s", (int)n, f->name);
}

static const char *const msg_kind_names[] = {"u8", "u16", "u32", "u64", "i16", "i32", "bytes"};
/* Append to a bounded buffer, tracking the would-be length. */
typedef struct {
    char *p;
    size_t cap, n;
} msg_sb;

static void msg_sb_put(msg_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg_sb_put(msg_sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->n < b->cap ? b->p + b->n : NULL, b->n < b->cap ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (k > 0)
        b->n += (size_t)k;
}

static void msg_put_value(msg_sb *b, const msg_field *f, int64_t v)
{
    const char *en = msg_enum_name(f, v);
    if (en) {
        msg_sb_put(b, "%s", en);
    } else if (f->hex) {
        msg_sb_put(b, "0x%" PRIX64, (uint64_t)v);
    } else if (f->dec) {
        int64_t div = f->dec == 1 ? 10 : f->dec == 2 ? 100 : 1000;
        int64_t a = v < 0 ? -v : v;
        msg_sb_put(b, "%s%" PRId64 ".%0*" PRId64 "%s", v < 0 ? "-" : "", a / div,
                   (int)f->dec, a % div, f->unit);
    } else {
        msg_sb_put(b, "%" PRId64 "%s", v, f->unit);
    }
}

int msg_format(const msg_desc *d, const void *s, char *out, size_t cap)
{
    msg_sb b = {out, cap, 0};
    if (cap)
        out[0] = '\0';
    for (unsigned i = 0; i < d->nfields; i++) {
        const msg_field *f = &d->fields[i];
        char name[32];
        if (f->soff == MSG_NOSTRUCT)
            continue;
        msg_display_name(f, name, sizeof name);
        msg_sb_put(&b, "%s%s=", b.n ? " " : "", name);
        if (f->kind == MSG_K_BYTES) {
            for (unsigned j = 0; j < f->count; j++)
                msg_sb_put(&b, "%02X", (unsigned)msg_field_get(f, s, j));
        } else if (f->count > 1) {
            for (unsigned j = 0; j < f->count; j++) {
                msg_sb_put(&b, j ? "," : "[");
                msg_put_value(&b, f, msg_field_get(f, s, j));
            }
            msg_sb_put(&b, "]");
        } else {
            msg_put_value(&b, f, msg_field_get(f, s, 0));
        }
    }
    return (int)b.n;
}

int msg_format_layout(const msg_desc *d, char *out, size_t cap)
{
    msg_sb b = {out, cap, 0};
    if (cap)
        out[0] = '\0';
    msg_sb_put(&b, "| bytes | field | type | range | scale, unit |\n");
    msg_sb_put(&b, "|---|---|---|---|---|\n");
    msg_sb_put(&b, "| 0 | version | u8 | %u | |\n", MSG_VERSION);
    for (unsigned i = 0; i < d->nfields; i++) {
        const msg_field *f = &d->fields[i];
        unsigned sz = msg_kind_size(f->kind) * f->count;
        msg_sb_put(&b, "| %u", f->off);
        if (sz > 1)
            msg_sb_put(&b, "-%u", f->off + sz - 1);
        if (f->count > 1)
            msg_sb_put(&b, " | %s[%u] | %s", f->name, f->count, msg_kind_names[f->kind]);
        else
            msg_sb_put(&b, " | %s | %s", f->name, msg_kind_names[f->kind]);
        if (f->kind == MSG_K_BYTES) {
            msg_sb_put(&b, " | any |");
        } else if (f->names) {
            msg_sb_put(&b, " |");
            for (int64_t v = f->min; v <= f->max; v++)
                msg_sb_put(&b, " %" PRId64 "=%s", v, f->names[v]);
            msg_sb_put(&b, " |");
        } else if (f->hex) {
            msg_sb_put(&b, " | 0x0..0x%" PRIX64 " |", (uint64_t)f->max);
        } else {
            msg_sb_put(&b, " | %" PRId64 "..%" PRId64 " |", f->min, f->max);
        }
        if (f->dec)
            msg_sb_put(&b, " %s%s |\n", f->dec == 1 ? "0.1 " : f->dec == 2 ? "0.01 " : "0.001 ",
                       f->unit[0] ? f->unit : "unit");
        else
            msg_sb_put(&b, " %s |\n", f->unit);
    }
    return (int)b.n;
}
