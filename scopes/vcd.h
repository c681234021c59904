/*
 * vcd.h - a Value Change Dump writer (prefix vcd_): IEEE 1364-2005
 * section 18 (the four-state VCD), IEEE 1800-2017 21.7, for GTKWave,
 * its vcd2fst and sigrok. Only value CHANGES are written: a variable's
 * value goes out when it differs from the last one written (a real by
 * its bits), under a `#TIME` line written only when something changed
 * at that time.
 *
 * Variables are named by dotted paths ("bus.v", "module[3].iout",
 * "module[3].svc.THERMAL_MGR.restarts"). The full flavour declares one
 * $scope per path prefix inside a top scope `rig` (rig > module[3] > svc
 * > THERMAL_MGR > restarts), scopes in path order, module[2] before
 * module[10]. Names keep their brackets: GTKWave's loader and vcd2fst
 * take `module[3]` as a scope name as Icarus writes arrays of instances
 * (checked: vcd2fst exits 0 with no warning and fst2vcd gives the names
 * back), so a path in the VCD reads as the probe that asked for it.
 *   VCD_REAL: `$var real 64`, values `r%.17g` (round-trip exact; NaN as
 *             `rnan`);
 *   VCD_VEC:  `$var wire W id name [W-1:0]`, values `bBITS` (leading
 *             zeros dropped, as 18.2.3.1 allows); a value that is not a
 *             whole number 0 .. 2^W - 1 (NaN, negative, too large) is
 *             written all `x`;
 *   VCD_WIRE: `$var wire 1`, 0 for 0.0 and 1 for any other value (`x`
 *             for NaN).
 *
 * The sigrok flavour (vcd_opts.sigrok) is for Debian bookworm's
 * libsigrok 0.5.2, whose VCD input takes 1-bit wires only, ignores
 * scopes and stops at the first vector or real value line ("Unexpected
 * vector format"): one flat scope `rig`, each variable a wire named by
 * its whole path, each vector one wire per bit named PATH.bK (bit K,
 * K = 0 the least significant: "module[3].state.b0"), NaN as 0; reals
 * are left out, named in a $comment of the header.
 *
 * Time: the caller gives nanoseconds; the file's `$timescale` is 1 ns
 * or 1 us (vcd_opts.unit_ns) and every `#TIME` is in that unit, rounded
 * to the nearest. Times must not go back.
 *
 * Errors: negative codes from ek3_err.h. A write error is never silent:
 * the first one's errno is kept (vcd_errno), every later call returns
 * EK3_EIO at once, and vcd_why says "PATH: write error: <strerror>".
 */
#ifndef VCD_H
#define VCD_H

#include <stdint.h>
#include <stdio.h>

typedef enum vcd_kind { VCD_REAL, VCD_VEC, VCD_WIRE } vcd_kind;

typedef struct vcd_opts {
    unsigned unit_ns;     /* $timescale: 1 (1ns) or 1000 (1us); 0: 1000 */
    int sigrok;           /* 1-bit wires only (see above) */
    const char *version;  /* the $version text (NULL: "ek3") */
    const char *date;     /* the $date text (NULL: none written; a fixed text keeps files comparable) */
} vcd_opts;

typedef struct vcd_var {
    char *path;           /* as added ("module[3].iout") */
    vcd_kind kind;
    unsigned width;       /* VEC: 1..64; WIRE: 1; REAL: 64 */
    unsigned id;          /* its first identifier code's number (sigrok: one per bit, in a row) */
    int left_out;         /* a real in the sigrok flavour: not in the file */
    int have;             /* a value was written */
    uint64_t last;        /* the last value written: a double's bits, or the integer (all ones: x) */
} vcd_var;

typedef struct vcd {
    FILE *f;
    char path[512];
    vcd_opts o;
    vcd_var *var;
    unsigned n, cap;
    unsigned nid;         /* identifier codes given out */
    int begun;            /* the header is out */
    int64_t t_now;        /* the time of the values being set, in the file's unit (-1: none yet) */
    int64_t t_out;        /* the last #TIME written (-1: none) */
    int err;              /* the first write error's errno, or 0 */
    int not_created;      /* err is fopen's */
    uint64_t changes;     /* value lines written */
} vcd;

/* Create (truncate) the file at path and set *v up; nothing is written
 * until vcd_begin. 0, or EK3_EINVAL (a NULL, a unit other than 1 or
 * 1000), EK3_EIO (errno: the file cannot be created; vcd_why says so). */
int vcd_open(vcd *v, const char *path, const vcd_opts *o);

/* Declare a variable (before vcd_begin): path a dotted path of at most
 * 255 characters with no whitespace, width 1..64 for VCD_VEC (ignored
 * otherwise). Returns its index (>= 0), or EK3_EINVAL (a bad path or
 * width, after vcd_begin), EK3_EBUSY (the path twice), EK3_ENOSPC
 * (memory). In the sigrok flavour a real is kept as left out (its
 * index is valid; vcd_set on it does nothing). */
int vcd_add(vcd *v, const char *path, vcd_kind kind, unsigned width);

/* Write the header: $date (if given), $version, $timescale, the scopes
 * and variables, $enddefinitions. 0, or EK3_EIO, EK3_EINVAL (twice). */
int vcd_begin(vcd *v);

/* The time of the values set next, ns since the run began (>= 0, not
 * before the last). 0, or EK3_EINVAL (a time that goes back), EK3_EIO. */
int vcd_time(vcd *v, int64_t t_ns);

/* Variable i's value at the current time, in its unit (an integer for
 * VEC, 0 / non-zero for WIRE): written only if it changed. 0, or
 * EK3_EINVAL (no vcd_time yet, a bad index), EK3_EIO. */
int vcd_set(vcd *v, unsigned i, double x);

/* End the file: a last `#TIME` at t_end_ns (when later than the last
 * written, so a viewer shows how long the last values held), flush and
 * close, free. 0, or EK3_EIO (the first write error or the close's:
 * vcd_why). *v may be closed once; a NULL or never-opened v is 0. */
int vcd_close(vcd *v, int64_t t_end_ns);

/* Flush what is buffered (the file then ends on a whole line). 0 or EK3_EIO. */
int vcd_flush(vcd *v);

/* The first write error's errno, or 0. */
int vcd_errno(const vcd *v);

/* "PATH: write error: <strerror>" (or "PATH: <strerror>" when the file
 * could not be created) into buf[cap]; returns buf. */
const char *vcd_why(const vcd *v, char *buf, size_t cap);

/* The text of a real value line (after its `r`): printf's "%.17g" (the
 * double reads back bit for bit; C11 7.21.6.1), into buf[32]. Returns the
 * length. */
int vcd_real_text(double x, char buf[32]);

/* The width in bits of a vector that holds 0..max (1 for max <= 1, at most 64). */
unsigned vcd_width_of(uint64_t max);

#endif /* VCD_H */
