/*
 * candump.h - can-utils log files, `candump -l` format (prefix cdl_):
 * one line parsed and written, and the one reader of whole logs that
 * `ek3 can decode` and `ek3 replay` share. Host builds only.
 *
 *   (1700000000.123456) can0 123#DEADBEEF              classical, 11-bit
 *   (1700000000.123456) can0 0260002A#R                remote request
 *   (1700000000.123456) can0 123#R8_C                  remote, DLC 8, raw DLC 12
 *   (1700000000.123456) can0 0260002A##5112233...      CAN FD, flag nibble
 *   (1700000000.123456789) can0 0260002A##4...         nanosecond timestamp
 *   (1700000000.123456) can0 20000080#0000000000000000 error frame
 *   (1700000000.123456) can0 123#1122334455667788_C    classical, raw DLC 12
 *   DROPCOUNT: dropped 3 CAN frames on 'can0' socket (total drops 3)
 *
 * Sources: can-utils lib.c (parse_canframe, sprint_canframe: identifier,
 * 'R' with an optional DLC and '_X' raw DLC, '##' and one flag nibble,
 * '.' data separators), candump.c (the log line "(%010lu.%06lu) %*s %s",
 * the device name right-aligned to the longest one, an optional " R" or
 * " T" direction with -x, and its DROPCOUNT lines), log2asc.c (6 or 9
 * fraction digits), linux/can.h (the flag nibble: CANFD_BRS 0x1,
 * CANFD_ESI 0x2, CANFD_FDF 0x4, which Linux >= 6.0 sets on every FD
 * frame; 0x8 is not defined).
 *
 * Where canplayer is more lenient the reader refuses with a reason rather
 * than guess: data beyond 8 (64) bytes, which parse_canframe drops
 * silently; a remote DLC or raw DLC out of range, which it ignores; any
 * other line not starting with '(', which canplayer skips as a comment
 * (here only blank lines, '#' comments and DROPCOUNT notes are skipped).
 */
#ifndef CANDUMP_H
#define CANDUMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "can_frame.h"

#define CDL_IFNAME_MAX 16u  /* IFNAMSIZ: 15 characters and the NUL */
#define CDL_LINE_MAX 200u   /* longest line cdl_format writes (180), with margin */
#define CDL_READ_MAX 65536u /* longest line the reader takes (a CAN XL line is under 6400) */

/* The FD flag nibble's bits beyond BRS and ESI, kept as written. */
#define CDL_FD_FDF 0x4u /* CANFD_FDF: Linux >= 6.0 and current candump set it */
#define CDL_FD_RES 0x8u /* not defined by linux/can.h; canplayer passes it on */

typedef struct cdl_record {
    int64_t sec;                  /* timestamp, whole seconds (>= 0) */
    uint32_t nsec;                /* and nanoseconds, 0..999999999 */
    uint8_t frac;                 /* fraction digits written: 6 (or 0) or 9 */
    char ifname[CDL_IFNAME_MAX];  /* interface, NUL-terminated, no blanks */
    cfd_frame frame;
    uint8_t raw_dlc;              /* classical DLC 9..15 with 8 bytes ('_X'), or 0 */
    uint8_t fd_extra;             /* FD: CDL_FD_FDF and CDL_FD_RES as written */
    char dir;                     /* 'R', 'T', or 0 when absent */
} cdl_record;

/* Parse one frame line, NUL-terminated, with or without its "\n" or
 * "\r\n"; leading blanks and blanks or tabs between the fields are
 * taken. Returns 0, or EK3_EPARSE with *why (if not NULL) set to a
 * static reason and *col (if not NULL) to the 0-based column where the
 * problem starts, or EK3_EDLC for an FD payload whose length is not a
 * CAN FD length. A timestamp beyond 2^63-1 ns (year 2262) is refused. */
int cdl_parse(const char *line, cdl_record *r, const char **why, unsigned *col);

/* Format a record as a line without newline: "(%010lld.%06u) IF FRAME"
 * (9 fraction digits when r->frac is 9; with 6 the nanoseconds are
 * truncated to microseconds), upper-case hex, no separators. Returns the
 * length, or EK3_ENOSPC when cap is too small (out is then ""), or
 * EK3_EINVAL for a record that has no line form. */
int cdl_format(const cdl_record *r, char *out, size_t cap);

/* The "(seconds.fraction)" of a record as cdl_format writes it. Returns
 * the length, EK3_ENOSPC, or EK3_EINVAL. */
int cdl_format_time(const cdl_record *r, char *out, size_t cap);

/* A time given by a user, "SECONDS[.FRACTION]" since the epoch: decimal
 * digits only (a leading zero is not octal), 0 to 9 fraction digits.
 * *ns gets the time, *frac (if not NULL) 9 when the fraction has digits
 * below the microsecond, else 6. 0, or EK3_EPARSE (not that form) or
 * EK3_ERANGE (beyond 2^63-1 ns). */
int cdl_parse_stamp(const char *s, int64_t *ns, uint8_t *frac);

/* Set a record's sec, nsec and frac from a time in ns (>= 0). */
void cdl_set_time(cdl_record *r, int64_t t_ns, uint8_t frac);

/* Timestamp of a record in ns (cdl_parse guarantees it fits int64). */
static inline int64_t cdl_time_ns(const cdl_record *r)
{
    return r->sec * 1000000000 + (int64_t)r->nsec;
}

/* ---- whole logs ----------------------------------------------------- */

typedef enum cdl_kind {
    CDL_FRAME = 0, /* a frame line: rec */
    CDL_BLANK,     /* empty or blanks only (CRLF endings too) */
    CDL_COMMENT,   /* starts with '#' (canplayer skips every line not starting with '(') */
    CDL_DROPCOUNT, /* candump -d: frames the socket lost here: dropped, total, drop_if */
    CDL_BAD        /* not a line of a log: rc, why, col */
} cdl_kind;

typedef struct cdl_line {
    cdl_kind kind;
    int rc;                 /* 0, or the error of a CDL_BAD line */
    const char *why;        /* CDL_BAD: a static reason */
    unsigned col;           /* CDL_BAD: 0-based column */
    cdl_record rec;         /* CDL_FRAME */
    uint32_t dropped;       /* CDL_DROPCOUNT: frames lost since the last note */
    uint32_t total;         /* CDL_DROPCOUNT: frames lost on that socket so far */
    const char *drop_if;    /* CDL_DROPCOUNT: the socket's name, in the line */
    size_t drop_if_len;     /*   (valid until the next read), and its length */
} cdl_line;

/* Classify and parse one line of `len` bytes, which may hold NUL bytes
 * and end in "\n" or "\r\n". Returns ln->rc: 0 for a frame, blank,
 * comment or DROPCOUNT line, or EK3_EPARSE / EK3_EDLC for CDL_BAD. */
int cdl_parse_line(const char *line, size_t len, cdl_line *ln);

typedef struct cdl_reader {
    FILE *in;
    char *buf;              /* CDL_READ_MAX + 1 bytes */
    unsigned long lineno;   /* number of the line last read, from 1 */
    int unterminated;       /* 1 when that line ended at the input's end without its newline (a log cut off) */
    int err;                /* errno of a read error */
} cdl_reader;

/* Start reading a log from `in`. 0 or EK3_ENOSPC (out of memory). */
int cdl_reader_init(cdl_reader *rd, FILE *in);

/* Read and parse the next line, of any length: one longer than
 * CDL_READ_MAX is read to its end and given as CDL_BAD, so line numbers
 * stay right. Returns 1 with *ln filled, 0 at the end of the input, or
 * EK3_EIO on a read error (rd->err holds errno). */
int cdl_read(cdl_reader *rd, cdl_line *ln);

/* A log's bad lines shown one by one (FILE:LINE:COL: why); past this
 * many they are only counted (a binary file gave 31 719 lines of "a NUL
 * byte in the line"). */
#define CDL_BAD_SHOWN 20u

/* For the n-th bad line shown (1-based): "" or, at the last one shown
 * (CDL_BAD_SHOWN), a note that further ones are only counted. */
static inline const char *cdl_bad_more(unsigned long n)
{
    return n == CDL_BAD_SHOWN ? " (further bad lines are only counted)" : "";
}

/* For a bad line's message: "" or, when the line last read ended at the
 * input's end without its newline, a note that the log looks cut off
 * there (a capture stopped mid-write, a truncated copy). */
const char *cdl_cut_note(const cdl_reader *rd);

/* Free the reader's buffer (the FILE is the caller's). */
void cdl_reader_free(cdl_reader *rd);

#endif /* CANDUMP_H */
