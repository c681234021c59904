/* candump.c - parse and write can-utils log lines. */
#include "candump.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ek3_err.h"

#define CDL_ERR_FLAG 0x20000000u /* SocketCAN CAN_ERR_FLAG */

static int cdl_hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
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

int cdl_parse(const char *line, cdl_record *r, const char **why, unsigned *col)
{
    const char *p = line;
    if (!line || !r)
        return EK3_EINVAL;
    memset(r, 0, sizeof *r);

    /* (seconds.micros) */
    if (*p != '(')
        return cdl_fail(why, col, "expected '(' starting the timestamp", line, p, EK3_EPARSE);
    p++;
    int64_t sec = 0;
    unsigned nd = 0;
    for (; *p >= '0' && *p <= '9'; p++, nd++) {
        if (nd >= 18)
            return cdl_fail(why, col, "timestamp seconds too long", line, p, EK3_EPARSE);
        sec = sec * 10 + (*p - '0');
    }
    if (nd == 0 || *p != '.')
        return cdl_fail(why, col, "timestamp must be seconds.microseconds", line, p, EK3_EPARSE);
    p++;
    uint32_t usec = 0;
    for (nd = 0; *p >= '0' && *p <= '9'; p++, nd++) {
        if (nd >= 6)
            return cdl_fail(why, col, "timestamp has more than 6 fraction digits", line, p, EK3_EPARSE);
        usec = usec * 10 + (uint32_t)(*p - '0');
    }
    if (nd != 6)
        return cdl_fail(why, col, "timestamp needs exactly 6 fraction digits", line, p, EK3_EPARSE);
    if (*p != ')')
        return cdl_fail(why, col, "expected ')' after the timestamp", line, p, EK3_EPARSE);
    p++;
    if (*p != ' ')
        return cdl_fail(why, col, "expected a space before the interface", line, p, EK3_EPARSE);
    while (*p == ' ')
        p++;

    /* interface */
    const char *ifs = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
        p++;
    size_t iflen = (size_t)(p - ifs);
    if (iflen == 0)
        return cdl_fail(why, col, "missing interface name", line, p, EK3_EPARSE);
    if (iflen >= CDL_IFNAME_MAX)
        return cdl_fail(why, col, "interface name longer than 15 characters", line, ifs, EK3_EPARSE);
    memcpy(r->ifname, ifs, iflen);
    while (*p == ' ')
        p++;

    /* identifier: 3 or 8 hex digits then '#' */
    const char *ids = p;
    uint32_t id = 0;
    unsigned nh = 0;
    for (; cdl_hex(*p) >= 0; p++, nh++) {
        if (nh >= 8)
            return cdl_fail(why, col, "identifier longer than 8 hex digits", line, p, EK3_EPARSE);
        id = id << 4 | (uint32_t)cdl_hex(*p);
    }
    if (*p != '#')
        return cdl_fail(why, col, "expected '#' after the identifier", line, p, EK3_EPARSE);
    cfd_frame *f = &r->frame;
    if (nh == 3) {
        if (id > 0x7FF)
            return cdl_fail(why, col, "11-bit identifier above 0x7FF", line, ids, EK3_EPARSE);
    } else if (nh == 8) {
        if (id & CDL_ERR_FLAG) {
            f->flags |= CFD_FLAG_ERR;
            id &= ~CDL_ERR_FLAG;
        } else {
            f->flags |= CFD_FLAG_EFF;
        }
        if (id > 0x1FFFFFFF)
            return cdl_fail(why, col, "identifier above 29 bits", line, ids, EK3_EPARSE);
    } else {
        return cdl_fail(why, col, "identifier must have 3 or 8 hex digits", line, ids, EK3_EPARSE);
    }
    f->id = id;
    p++;

    unsigned maxlen = CFD_CC_MAX_LEN;
    if (*p == 'R' || *p == 'r') {
        if (f->flags & CFD_FLAG_ERR)
            return cdl_fail(why, col, "error frame cannot be a remote request", line, p, EK3_EPARSE);
        f->flags |= CFD_FLAG_RTR;
        p++;
        if (*p >= '0' && *p <= '8')
            f->len = (uint8_t)(*p++ - '0');
    } else {
        if (*p == '#') {
            int fl = cdl_hex(p[1]);
            if (fl < 0)
                return cdl_fail(why, col, "CAN-FD flags must be one hex digit after '##'", line, p + 1, EK3_EPARSE);
            if (f->flags & CFD_FLAG_ERR)
                return cdl_fail(why, col, "error frame cannot be CAN-FD", line, p, EK3_EPARSE);
            f->flags |= CFD_FLAG_FD;
            if (fl & 1) f->flags |= CFD_FLAG_BRS;
            if (fl & 2) f->flags |= CFD_FLAG_ESI;
            if (fl & ~3)
                return cdl_fail(why, col, "unknown CAN-FD flag bits", line, p + 1, EK3_EPARSE);
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
            if (lo < 0)
                return cdl_fail(why, col, "odd number of hex digits in data", line, p + 1, EK3_EPARSE);
            if (n >= maxlen)
                return cdl_fail(why, col, maxlen == CFD_MAX_LEN ? "more than 64 data bytes"
                                                                : "more than 8 data bytes in a classical frame",
                                line, p, EK3_EPARSE);
            f->data[n++] = (uint8_t)(hi << 4 | lo);
            p += 2;
        }
        if ((f->flags & CFD_FLAG_FD) && cfd_len_to_dlc(n, 1) < 0)
            return cdl_fail(why, col, "CAN-FD data length is not 0-8, 12, 16, 20, 24, 32, 48 or 64", line, p,
                            EK3_EDLC);
        f->len = (uint8_t)n;
        if (*p == '_') {
            int d = cdl_hex(p[1]);
            if ((f->flags & CFD_FLAG_FD) || n != 8 || d < 9)
                return cdl_fail(why, col, "len8_dlc '_X' needs 8 data bytes and X in 9..F", line, p, EK3_EPARSE);
            r->raw_dlc = (uint8_t)d;
            p += 2;
        }
    }

    /* optional direction, then only white space */
    while (*p == ' ' || *p == '\t')
        p++;
    if ((*p == 'R' || *p == 'T') && (p[1] == '\0' || p[1] == '\n' || p[1] == '\r' || p[1] == ' ')) {
        r->dir = *p++;
        while (*p == ' ' || *p == '\t')
            p++;
    }
    if (*p == '\r')
        p++;
    if (*p == '\n')
        p++;
    if (*p != '\0')
        return cdl_fail(why, col, "unexpected characters after the frame", line, p, EK3_EPARSE);
    r->sec = sec;
    r->usec = usec;
    return EK3_OK;
}

int cdl_format(const cdl_record *r, char *out, size_t cap)
{
    char buf[CDL_LINE_MAX];
    int n;
    if (!r || !out)
        return EK3_EINVAL;
    if (cap)
        out[0] = '\0';
    const cfd_frame *f = &r->frame;
    if (r->usec > 999999 || r->sec < 0 || !r->ifname[0] || memchr(r->ifname, '\0', CDL_IFNAME_MAX) == NULL)
        return EK3_EINVAL;
    n = snprintf(buf, sizeof buf, "(%010" PRId64 ".%06" PRIu32 ") %s ", r->sec, r->usec, r->ifname);
    if (f->flags & CFD_FLAG_ERR)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%08" PRIX32 "#", (f->id & 0x1FFFFFFFu) | CDL_ERR_FLAG);
    else if (f->flags & CFD_FLAG_EFF)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%08" PRIX32 "#", f->id & 0x1FFFFFFFu);
    else
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%03" PRIX32 "#", f->id & 0x7FFu);
    if (f->flags & CFD_FLAG_RTR) {
        n += snprintf(buf + n, sizeof buf - (size_t)n, f->len ? "R%u" : "R", f->len);
    } else {
        unsigned max = CFD_CC_MAX_LEN;
        if (f->flags & CFD_FLAG_FD) {
            n += snprintf(buf + n, sizeof buf - (size_t)n, "#%X",
                          ((f->flags & CFD_FLAG_BRS) ? 1u : 0u) | ((f->flags & CFD_FLAG_ESI) ? 2u : 0u));
            max = CFD_MAX_LEN;
        }
        if (f->len > max)
            return EK3_EINVAL;
        for (unsigned i = 0; i < f->len; i++)
            n += snprintf(buf + n, sizeof buf - (size_t)n, "%02X", f->data[i]);
        if (r->raw_dlc)
            n += snprintf(buf + n, sizeof buf - (size_t)n, "_%X", r->raw_dlc & 0xF);
    }
    if (r->dir)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " %c", r->dir);
    if ((size_t)n >= cap)
        return EK3_ENOSPC;
    memcpy(out, buf, (size_t)n + 1);
    return n;
}
