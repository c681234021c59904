/*
 * key.h - a run's key signals (prefix key_): a few signals sampled once
 * per quantum, kept decimated by min/max in at most KEY_BUCKETS buckets,
 * and written as keys.csv in the run's report directory, which the
 * nightly's HTML report (scopes/htm.h) plots.
 *
 * Decimation (min/max, so a dip of one quantum stays visible): each
 * bucket covers `width` consecutive samples (1 at first) and keeps, per
 * signal, the lowest and the highest value, and its first and last
 * sample times. When KEY_BUCKETS buckets are full, neighbours merge
 * pairwise and the width doubles: memory is fixed, the cost per sample
 * a few comparisons. A bucket of one sample is written as one row (its
 * value at its time); a bucket of more as two rows: every signal's
 * minimum at the bucket's first sample time, then every signal's
 * maximum at its last. So a short run is written sample for sample, a
 * long one in KEY_BUCKETS..2 x KEY_BUCKETS rows, each row's values being
 * extremes of their bucket (not simultaneous values).
 *
 * keys.csv ("ek3-keys/1"): one header line, "t_s" then each signal as
 * "PATH (UNIT)", or PATH alone when it has no unit (paths hold no space,
 * comma or parenthesis); then one line per row: the time in s and the
 * values (%.9g; "nan" for a value not available).
 */
#ifndef KEY_H
#define KEY_H

#include <stddef.h>
#include <stdio.h>

enum {
    KEY_MAX = 12,          /* signals of one recording: 3 defaults + up to 8 named */
    KEY_NAMED_MAX = 8,     /* signals a scenario may add with keys{} */
    KEY_BUCKETS = 1000,
    KEY_NAME_CAP = 64,
    KEY_UNIT_CAP = 8,
};

typedef struct key_rec {
    unsigned k;
    char name[KEY_MAX][KEY_NAME_CAP];
    char unit[KEY_MAX][KEY_UNIT_CAP];
    double *b;             /* KEY_BUCKETS buckets of 3 + 2k doubles: t_first, t_last, n, min[k], max[k] */
    size_t nb;             /* buckets in use (the last may be filling) */
    double width;          /* samples per full bucket */
} key_rec;

/* Set up a recording of k signals (1..KEY_MAX), names and units copied
 * (units NULL or "" for none; names must fit KEY_NAME_CAP and hold no
 * space, comma, parenthesis or newline). 0, EK3_EINVAL, EK3_ENOSPC. */
int key_init(key_rec *kr, unsigned k, const char *const *names, const char *const *units);
void key_free(key_rec *kr);

/* Add one sample at time t (s, later than the last) of the k values.
 * 0, or EK3_EINVAL (t not finite or not after the last sample). */
int key_push(key_rec *kr, double t, const double *v);

/* Rows the CSV will hold. */
size_t key_rows(const key_rec *kr);

/* The CSV into f. 0, or EK3_EIO when f's error indicator is set. */
int key_write_csv(const key_rec *kr, FILE *f);

/* keys.csv read back: ncol signals (name, unit) and nrow rows, column
 * major: t[i], v[c * nrow + i]. */
typedef struct key_data {
    unsigned ncol;
    char name[KEY_MAX][KEY_NAME_CAP];
    char unit[KEY_MAX][KEY_UNIT_CAP];
    size_t nrow;
    double *t, *v;
} key_data;

/* Read a keys.csv from f (path names it in messages) into *d. At most
 * KEY_MAX signals and 10^6 rows; a line of up to 4096 bytes. 0, or
 * EK3_EPARSE with err "path:LINE: why" (a bad header, a field that is
 * not a number, a row of the wrong width, times not rising), EK3_EIO,
 * EK3_ENOSPC. key_data_free releases it. */
int key_read_csv(FILE *f, const char *path, key_data *d, char *err, size_t cap);
void key_data_free(key_data *d);

#endif /* KEY_H */
