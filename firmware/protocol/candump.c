/* candump.c - parse, write and read can-utils log lines. */
#include "candump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"

#define CDL_ERR_FLAG 0x20000000u /* SocketCAN CAN_ERR_FLAG */
#define CDL_NS_MAX INT64_MAX     /* timestamps are int64 ns */

static int cdl_hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int cdl_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* End of a line: NUL, or "\n", "\r\n", "\r" and then the NUL. */
static int cdl_eol(const char *p)
{
    if (*p == '\r')
        p++;
    if (*p == '\n')
        p++;
    return *p == '\0';
}

static int cdl_fail(const char **why, unsigned *col, const char *reason, const char *line,
                    const char *at, int rc)
{
    if (why)
        *why = reason;
    if (col)
        *col = (unsigned)(at - line);
    return rc;
}

/* "(seconds.fraction)": 6 or 9 fraction digits (log2asc.c). */
static const char *cdl_parse_time(const char *line, const char *p, cdl_record *r, const char **why, unsigned *col,
                                  int *rc)
{
    *rc = EK3_EPARSE;
    if (*p != '(') {
        cdl_fail(why, col, "expected '(' starting the timestamp", line, p, EK3_EPARSE);
        return NULL;
    }
    const char *ts = ++p;
    int64_t sec = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        sec = sec * 10 + (*p - '0');
        if (sec > CDL_NS_MAX / 1000000000) {
            cdl_fail(why, col, "timestamp beyond 2^63 ns (the year 2262)", line, ts, EK3_EPARSE);
            return NULL;
        }
    }
    if (p == ts || *p != '.') {
        cdl_fail(why, col, "timestamp must be seconds.fraction", line, p, EK3_EPARSE);
        return NULL;
    }
    const char *fs = ++p;
    uint32_t frac = 0;
    for (; *p >= '0' && *p <= '9' && p - fs < 9; p++)
        frac = frac * 10 + (uint32_t)(*p - '0');
    unsigned nd = (unsigned)(p - fs);
    if ((nd != 6 && nd != 9) || (*p >= '0' && *p <= '9')) {
        cdl_fail(why, col, "timestamp needs 6 or 9 fraction digits (micro- or nanoseconds)", line, fs, EK3_EPARSE);
        return NULL;
    }
    uint32_t nsec = nd == 6 ? frac * 1000u : frac;
    if (sec > (CDL_NS_MAX - (int64_t)nsec) / 1000000000) {
        cdl_fail(why, col, "timestamp beyond 2^63 ns (the year 2262)", line, ts, EK3_EPARSE);
        return NULL;
    }
    if (*p != ')') {
        cdl_fail(why, col, "expected ')' after the timestamp", line, p, EK3_EPARSE);
        return NULL;
    }
    r->sec = sec;
    r->nsec = nsec;
    r->frac = (uint8_t)nd;
    *rc = EK3_OK;
    return p + 1;
}

/* The frame: identifier '#' then data, remote request or FD. */
static const char *cdl_parse_frame(const char *line, const char *p, cdl_record *r, const char **why, unsigned *col,
                                   int *rc)
{
    cfd_frame *f = &r->frame;
    *rc = EK3_EPARSE;
    const char *ids = p;
    uint32_t id = 0;
    unsigned nh = 0;
    for (; cdl_hex(*p) >= 0; p++, nh++) {
        if (nh >= 8) {
            cdl_fail(why, col, "identifier longer than 8 hex digits", line, p, EK3_EPARSE);
            return NULL;
        }
        id = id << 4 | (uint32_t)cdl_hex(*p);
    }
    if (*p != '#') {
        cdl_fail(why, col, nh ? "expected '#' after the identifier" : "expected a hex identifier", line, p,
                 EK3_EPARSE);
        return NULL;
    }
    if (nh == 3) {
        if (id > 0x7FF) {
            cdl_fail(why, col, "11-bit identifier above 0x7FF", line, ids, EK3_EPARSE);
            return NULL;
        }
    } else if (nh == 8) {
        if (id & CDL_ERR_FLAG) {
            f->flags |= CFD_FLAG_ERR;
            id &= ~CDL_ERR_FLAG;
        } else {
            f->flags |= CFD_FLAG_EFF;
        }
        if (id > 0x1FFFFFFF) {
            cdl_fail(why, col, "identifier above 29 bits", line, ids, EK3_EPARSE);
            return NULL;
        }
    } else if (nh == 5) {
        cdl_fail(why, col, "a CAN XL frame (5-digit priority and VCID): EK3 reads classical CAN and CAN FD only",
                 line, ids, EK3_EPARSE);
        return NULL;
    } else {
        cdl_fail(why, col, "identifier must have 3 or 8 hex digits", line, ids, EK3_EPARSE);
        return NULL;
    }
    f->id = id;
    p++;

    if (*p == 'R' || *p == 'r') {
        if (f->flags & CFD_FLAG_ERR) {
            cdl_fail(why, col, "error frame cannot be a remote request", line, p, EK3_EPARSE);
            return NULL;
        }
        f->flags |= CFD_FLAG_RTR;
        p++;
        int d = cdl_hex(*p);
        if (d > 8) {
            cdl_fail(why, col, "remote request DLC must be 0..8", line, p, EK3_EPARSE);
            return NULL;
        }
        if (d >= 0) {
            f->len = (uint8_t)d;
            p++;
        }
        if (*p == '_') {
            int x = cdl_hex(p[1]);
            if (f->len != 8 || x < 9) {
                cdl_fail(why, col, "raw DLC 'R8_X' needs DLC 8 and X in 9..F", line, p, EK3_EPARSE);
                return NULL;
            }
            r->raw_dlc = (uint8_t)x;
            p += 2;
        }
        *rc = EK3_OK;
        return p;
    }
    unsigned maxlen = CFD_CC_MAX_LEN;
    if (*p == '#') {
        int fl = cdl_hex(p[1]);
        if (fl < 0) {
            cdl_fail(why, col, "CAN FD flags must be one hex digit after '##'", line, p + 1, EK3_EPARSE);
            return NULL;
        }
        if (f->flags & CFD_FLAG_ERR) {
            cdl_fail(why, col, "error frame cannot be CAN FD", line, p, EK3_EPARSE);
            return NULL;
        }
        f->flags |= CFD_FLAG_FD;
        if (fl & 1)
            f->flags |= CFD_FLAG_BRS;
        if (fl & 2)
            f->flags |= CFD_FLAG_ESI;
        r->fd_extra = (uint8_t)(fl & (CDL_FD_FDF | CDL_FD_RES));
        maxlen = CFD_MAX_LEN;
        p += 2;
    }
    unsigned n = 0;
    for (;;) {
        if (*p == '.')
            p++;
        int hi = cdl_hex(p[0]);
        if (hi < 0)
            break;
        int lo = cdl_hex(p[1]);
        if (lo < 0) {
            cdl_fail(why, col, "odd number of hex digits in data", line, p + 1, EK3_EPARSE);
            return NULL;
        }
        if (n >= maxlen) {
            cdl_fail(why, col,
                     maxlen == CFD_MAX_LEN ? "more than 64 data bytes" : "more than 8 data bytes in a classical frame",
                     line, p, EK3_EPARSE);
            return NULL;
        }
        f->data[n++] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
    if ((f->flags & CFD_FLAG_FD) && cfd_len_to_dlc(n, 1) < 0) {
        *rc = cdl_fail(why, col, "CAN FD data length is not 0-8, 12, 16, 20, 24, 32, 48 or 64", line, p, EK3_EDLC);
        return NULL;
    }
    f->len = (uint8_t)n;
    if (*p == '_') {
        int d = cdl_hex(p[1]);
        if ((f->flags & (CFD_FLAG_FD | CFD_FLAG_ERR)) || n != 8 || d < 9) {
            cdl_fail(why, col, "raw DLC '_X' needs a classical frame with 8 data bytes and X in 9..F", line, p,
                     EK3_EPARSE);
            return NULL;
        }
        r->raw_dlc = (uint8_t)d;
        p += 2;
    }
    *rc = EK3_OK;
    return p;
}

int cdl_parse(const char *line, cdl_record *r, const char **why, unsigned *col)
{
    int rc;
    if (!line || !r)
        return EK3_EINVAL;
    memset(r, 0, sizeof *r);
    const char *p = line;
    while (cdl_blank(*p))
        p++;
    p = cdl_parse_time(line, p, r, why, col, &rc);
    if (!p)
        return rc;
    while (cdl_blank(*p)) /* canplayer's sscanf takes none, too */
        p++;

    /* interface: candump right-aligns it to the longest name */
    const char *ifs = p;
    while (*p && !cdl_blank(*p) && *p != '\n' && *p != '\r')
        p++;
    size_t iflen = (size_t)(p - ifs);
    if (iflen == 0)
        return cdl_fail(why, col, "missing interface name", line, p, EK3_EPARSE);
    if (iflen >= CDL_IFNAME_MAX)
        return cdl_fail(why, col, "interface name longer than 15 characters", line, ifs, EK3_EPARSE);
    memcpy(r->ifname, ifs, iflen);
    if (!cdl_blank(*p))
        return cdl_fail(why, col, "missing frame after the interface", line, p, EK3_EPARSE);
    while (cdl_blank(*p))
        p++;

    p = cdl_parse_frame(line, p, r, why, col, &rc);
    if (!p)
        return rc;

    /* optional direction (candump -x), then only blanks */
    const char *end = p;
    while (cdl_blank(*p))
        p++;
    if (p > end && (*p == 'R' || *p == 'T') && (cdl_blank(p[1]) || cdl_eol(p + 1))) {
        r->dir = *p++;
        while (cdl_blank(*p))
            p++;
    }
    if (!cdl_eol(p))
        return cdl_fail(why, col, "unexpected characters after the frame", line, p, EK3_EPARSE);
    return EK3_OK;
}

int cdl_format_time(const cdl_record *r, char *out, size_t cap)
{
    if (!r || !out || r->sec < 0 || r->nsec > 999999999u || (r->frac != 0 && r->frac != 6 && r->frac != 9))
        return EK3_EINVAL;
    int n = r->frac == 9 ? snprintf(out, cap, "(%010" PRId64 ".%09" PRIu32 ")", r->sec, r->nsec)
                         : snprintf(out, cap, "(%010" PRId64 ".%06" PRIu32 ")", r->sec, r->nsec / 1000u);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return EK3_ENOSPC;
    }
    return n;
}

int cdl_format(const cdl_record *r, char *out, size_t cap)
{
    char buf[CDL_LINE_MAX];
    if (!r || !out)
        return EK3_EINVAL;
    if (cap)
        out[0] = '\0';
    const cfd_frame *f = &r->frame;
    int fd = (f->flags & CFD_FLAG_FD) != 0;
    if (!r->ifname[0] || memchr(r->ifname, '\0', CDL_IFNAME_MAX) == NULL || strpbrk(r->ifname, " \t\r\n"))
        return EK3_EINVAL;
    if ((r->dir && r->dir != 'R' && r->dir != 'T') || (r->fd_extra & ~(CDL_FD_FDF | CDL_FD_RES)) ||
        (r->fd_extra && !fd))
        return EK3_EINVAL;
    if ((f->flags & CFD_FLAG_ERR) && (f->flags & (CFD_FLAG_FD | CFD_FLAG_RTR | CFD_FLAG_EFF)))
        return EK3_EINVAL;
    if (((f->flags & CFD_FLAG_RTR) && fd) || (!fd && (f->flags & (CFD_FLAG_BRS | CFD_FLAG_ESI))))
        return EK3_EINVAL;
    if (f->len > (fd ? CFD_MAX_LEN : CFD_CC_MAX_LEN) || (fd && cfd_len_to_dlc(f->len, 1) < 0))
        return EK3_EINVAL;
    if (r->raw_dlc && (fd || (f->flags & CFD_FLAG_ERR) || f->len != 8 || r->raw_dlc < 9 || r->raw_dlc > 15))
        return EK3_EINVAL;
    int n = cdl_format_time(r, buf, sizeof buf);
    if (n < 0)
        return n;
    n += snprintf(buf + n, sizeof buf - (size_t)n, " %s ", r->ifname);
    if (f->flags & CFD_FLAG_ERR)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%08" PRIX32 "#", (f->id & 0x1FFFFFFFu) | CDL_ERR_FLAG);
    else if (f->flags & CFD_FLAG_EFF)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%08" PRIX32 "#", f->id & 0x1FFFFFFFu);
    else
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%03" PRIX32 "#", f->id & 0x7FFu);
    if (f->flags & CFD_FLAG_RTR) {
        n += snprintf(buf + n, sizeof buf - (size_t)n, f->len ? "R%u" : "R", f->len);
    } else {
        if (fd)
            n += snprintf(buf + n, sizeof buf - (size_t)n, "#%X",
                          ((f->flags & CFD_FLAG_BRS) ? 1u : 0u) | ((f->flags & CFD_FLAG_ESI) ? 2u : 0u) |
                              r->fd_extra);
        for (unsigned i = 0; i < f->len; i++)
            n += snprintf(buf + n, sizeof buf - (size_t)n, "%02X", f->data[i]);
    }
    if (r->raw_dlc)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "_%X", r->raw_dlc);
    if (r->dir)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " %c", r->dir);
    if ((size_t)n >= cap)
        return EK3_ENOSPC;
    memcpy(out, buf, (size_t)n + 1);
    return n;
}

int cdl_parse_stamp(const char *s, int64_t *ns, uint8_t *frac)
{
    if (!s || !ns)
        return EK3_EINVAL;
    const char *p = s;
    int64_t sec = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        sec = sec * 10 + (*p - '0');
        if (sec > CDL_NS_MAX / 1000000000)
            return EK3_ERANGE;
    }
    if (p == s)
        return EK3_EPARSE;
    uint32_t nsec = 0, scale = 100000000u;
    int fine = 0;
    if (*p == '.') {
        const char *fs = ++p;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (p - fs >= 9)
                return EK3_EPARSE;
            nsec += (uint32_t)(*p - '0') * scale;
            fine |= p - fs >= 6 && *p != '0';
            scale /= 10;
        }
    }
    if (*p)
        return EK3_EPARSE;
    if (sec > (CDL_NS_MAX - (int64_t)nsec) / 1000000000)
        return EK3_ERANGE;
    *ns = sec * 1000000000 + nsec;
    if (frac)
        *frac = fine ? 9 : 6;
    return EK3_OK;
}

void cdl_set_time(cdl_record *r, int64_t t_ns, uint8_t frac)
{
    r->sec = t_ns / 1000000000;
    r->nsec = (uint32_t)(t_ns % 1000000000);
    r->frac = frac;
}

/* ---- whole logs ----------------------------------------------------- */

/* A decimal that candump printed from a __u32 with %u or %d. */
static const char *cdl_count(const char *p, const char *end, uint32_t *v)
{
    int neg = p < end && *p == '-';
    p += neg;
    uint64_t x = 0;
    const char *s = p;
    for (; p < end && *p >= '0' && *p <= '9' && p - s < 10; p++)
        x = x * 10 + (uint64_t)(*p - '0');
    if (p == s || x > (neg ? 0x80000000u : 0xFFFFFFFFu) || (p < end && *p >= '0' && *p <= '9'))
        return NULL;
    *v = neg ? (uint32_t)(0u - (uint32_t)x) : (uint32_t)x;
    return p;
}

static int cdl_match(const char **p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(end - *p) < n || memcmp(*p, lit, n))
        return 0;
    *p += n;
    return 1;
}

/* candump.c: "DROPCOUNT: dropped %u CAN frame%s on '%s' socket (total drops %u)". */
static int cdl_dropcount(const char *line, const char *p, const char *end, cdl_line *ln)
{
    const char *q;
    if (!cdl_match(&p, end, "DROPCOUNT: dropped ") || !(q = cdl_count(p, end, &ln->dropped)))
        goto bad;
    p = q;
    if (!cdl_match(&p, end, " CAN frame"))
        goto bad;
    cdl_match(&p, end, "s");
    if (!cdl_match(&p, end, " on '"))
        goto bad;
    ln->drop_if = p;
    for (q = p; q < end && !(*q == '\'' && (size_t)(end - q) >= 22 && !memcmp(q, "' socket (total drops ", 22)); q++)
        ;
    ln->drop_if_len = (size_t)(q - p);
    p = q;
    if (!cdl_match(&p, end, "' socket (total drops ") || !(q = cdl_count(p, end, &ln->total)))
        goto bad;
    p = q;
    if (!cdl_match(&p, end, ")"))
        goto bad;
    while (p < end && cdl_blank(*p))
        p++;
    if (p != end)
        goto bad;
    ln->kind = CDL_DROPCOUNT;
    return ln->rc = EK3_OK;
bad:
    ln->kind = CDL_BAD;
    ln->why = "a DROPCOUNT line not in candump's form";
    ln->col = (unsigned)(p - line);
    return ln->rc = EK3_EPARSE;
}

int cdl_parse_line(const char *line, size_t len, cdl_line *ln)
{
    if (!ln)
        return EK3_EINVAL;
    memset(ln, 0, sizeof *ln);
    if (!line) {
        ln->kind = CDL_BAD;
        ln->why = "no line";
        return ln->rc = EK3_EINVAL;
    }
    size_t n = len;
    if (n && line[n - 1] == '\n')
        n--;
    if (n && line[n - 1] == '\r')
        n--;
    const char *nul = memchr(line, '\0', n);
    const char *p = line, *end = line + n;
    while (p < end && cdl_blank(*p))
        p++;
    if (p == end && !nul) {
        ln->kind = CDL_BLANK;
        return EK3_OK;
    }
    if (p < end && *p == '#' && !nul) {
        ln->kind = CDL_COMMENT;
        return EK3_OK;
    }
    ln->kind = CDL_BAD;
    ln->rc = EK3_EPARSE;
    if (nul) {
        ln->why = "a NUL byte in the line";
        ln->col = (unsigned)(nul - line);
        return ln->rc;
    }
    if ((size_t)(end - p) >= 10 && !memcmp(p, "DROPCOUNT:", 10))
        return cdl_dropcount(line, p, end, ln);
    if (*p != '(') {
        ln->why = "not a candump line (a frame starts with '(', a comment with '#')";
        ln->col = (unsigned)(p - line);
        return ln->rc;
    }
    /* The frame parser wants a C string: the line has no NUL and is
     * ended at n, so parse a copy when it is not NUL-terminated there. */
    char small[CDL_LINE_MAX * 2];
    char *copy = small;
    if (n >= sizeof small) {
        copy = malloc(n + 1);
        if (!copy) {
            ln->why = "out of memory";
            return ln->rc = EK3_ENOSPC;
        }
    }
    memcpy(copy, line, n);
    copy[n] = '\0';
    ln->rc = cdl_parse(copy, &ln->rec, &ln->why, &ln->col);
    if (copy != small)
        free(copy);
    if (ln->rc == EK3_OK)
        ln->kind = CDL_FRAME;
    return ln->rc;
}

int cdl_reader_init(cdl_reader *rd, FILE *in)
{
    memset(rd, 0, sizeof *rd);
    rd->in = in;
    rd->buf = malloc(CDL_READ_MAX + 1);
    return rd->buf ? EK3_OK : EK3_ENOSPC;
}

int cdl_read(cdl_reader *rd, cdl_line *ln)
{
    size_t n = 0, total = 0;
    int c = EOF;
    while ((c = getc(rd->in)) != EOF) {
        if (n < CDL_READ_MAX)
            rd->buf[n++] = (char)c;
        total++;
        if (c == '\n')
            break;
    }
    if (c == EOF && ferror(rd->in)) {
        rd->err = errno;
        return EK3_EIO;
    }
    if (total == 0)
        return 0;
    rd->lineno++;
    rd->unterminated = c != '\n';
    if (total > CDL_READ_MAX) {
        memset(ln, 0, sizeof *ln);
        ln->kind = CDL_BAD;
        ln->rc = EK3_EPARSE;
        ln->why = "line longer than 65536 bytes";
        ln->col = CDL_READ_MAX;
        return 1;
    }
    rd->buf[n] = '\0';
    cdl_parse_line(rd->buf, n, ln);
    return 1;
}

const char *cdl_cut_note(const cdl_reader *rd)
{
    return rd && rd->unterminated ? " (the log's last line, without its newline: the log looks cut off here)" : "";
}

void cdl_reader_free(cdl_reader *rd)
{
    free(rd->buf);
    rd->buf = NULL;
}
