/* audit_logger.c - the audit trail, from RAM into a chained flash log
 * that survives power cuts (formats: audit_logger.h, docs/flash.md). */
#include "audit_logger.h"
#include "services.h"

#include <string.h>

#include "can_handler.h"
#include "ek3_err.h"

/* What a read of the log comes from: the flash (through the hal) or a
 * dumped image. Offsets are relative to the log area. */
typedef struct alog_src {
    hal hw;
    const uint8_t *img;
    size_t n;
} alog_src;

static int alog_rd(const alog_src *s, uint32_t off, void *buf, size_t n)
{
    if (s->img) {
        if (off > s->n || n > s->n - off)
            return EK3_ERANGE;
        memcpy(buf, s->img + off, n);
        return EK3_OK;
    }
    return hal_flash_read(s->hw, ALOG_BASE + off, buf, n);
}

/* The log area's size on this hal: ALOG_AREA, or 0 when its flash does
 * not reach the configuration area's end. */
static size_t alog_area(hal hw)
{
    return hw.ops->flash_size >= (size_t)BRD_CFG_OFF + BRD_CFG_SIZE ? ALOG_AREA : 0;
}

static uint32_t alog_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void alog_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int alog_all(const uint8_t *p, size_t n, uint8_t v)
{
    /* Eight bytes a step (a blank page is 2 KiB of them), then the rest. */
    uint64_t w = 0x0101010101010101ull * v, x;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&x, p + i, 8);
        if (x != w)
            return 0;
    }
    for (; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

int alog_critical(unsigned type)
{
    return type == AUDIT_SAFE_SHUTDOWN || type == AUDIT_WATCHDOG || type == AUDIT_DENIED || type == ALOG_T_TRIP ||
           type == ALOG_T_REFUSED || type == ALOG_T_UPDATE;
}

static unsigned alog_size(unsigned len)
{
    return ALOG_REC_HDR + ((len + 7u) & ~7u) + 8u;
}

/* ---- page headers ------------------------------------------------------- */

typedef struct alog_phdr {
    uint8_t chain_in[16];
    uint32_t page_no, next_seq;
    uint16_t boot;
} alog_phdr;

enum { ALOG_P_BLANK, ALOG_P_VALID, ALOG_P_GARBAGE };

static void alog_phdr_encode(const alog_phdr *h, uint8_t b[ALOG_PAGE_HDR])
{
    memcpy(b, h->chain_in, 16);
    alog_put32(b + 16, h->page_no);
    alog_put32(b + 20, h->next_seq);
    b[24] = (uint8_t)h->boot, b[25] = (uint8_t)(h->boot >> 8);
    b[26] = (uint8_t)ALOG_PAGE_MAGIC, b[27] = (uint8_t)(ALOG_PAGE_MAGIC >> 8);
    alog_put32(b + 28, ipc_crc32(b, 28));
}

static int alog_phdr_read(const alog_src *s, unsigned page, alog_phdr *h)
{
    uint8_t b[ALOG_PAGE_HDR];
    if (alog_rd(s, page * ALOG_PAGE, b, sizeof b) != EK3_OK)
        return ALOG_P_GARBAGE;
    if (alog_all(b, sizeof b, 0xFF))
        return ALOG_P_BLANK;
    if ((b[26] | b[27] << 8) != ALOG_PAGE_MAGIC || alog_get32(b + 28) != ipc_crc32(b, 28))
        return ALOG_P_GARBAGE;
    memcpy(h->chain_in, b, 16);
    h->page_no = alog_get32(b + 16);
    h->next_seq = alog_get32(b + 20);
    h->boot = (uint16_t)(b[24] | b[25] << 8);
    return ALOG_P_VALID;
}

/* ---- records ------------------------------------------------------------ */

/* What is at a record's place: a committed record; erased (the end); a
 * double word of zeros (a torn header the writer wrote off: skip 8); a
 * header unreadable or out of shape (the cut was in its first double
 * word: nothing after it was programmed); a record torn after its
 * header (skipped by its length); one whose CRC or tag is wrong though
 * its commit was written (edited or corrupt). */
enum { ALOG_R_OK, ALOG_R_END, ALOG_R_SKIP8, ALOG_R_BADHDR, ALOG_R_TORN, ALOG_R_BADCRC, ALOG_R_BADTAG, ALOG_R_CRYPTO };

/* The chain value after a record: CMAC(key, chain || body). */
static int alog_chain(const auth_crypto *c, const uint8_t *key, const uint8_t chain[16], const uint8_t *body,
                      unsigned n, uint8_t out[16])
{
    uint8_t msg[16 + ALOG_REC_HDR + ALOG_MAX_PAYLOAD];
    memcpy(msg, chain, 16);
    memcpy(msg + 16, body, n);
    return c->cmac(c->ctx, key, msg, 16 + n, out) ? EK3_ECRYPTO : EK3_OK;
}

/* Read the record at `off` (area offset) of a page that has `room` bytes
 * left, and check it against `chain` (its tag too when key is not NULL).
 * ALOG_R_OK fills r, *size and next (the chain value after it). */
static int alog_rec_read(const alog_src *s, const auth_crypto *c, const uint8_t *key, const uint8_t chain[16],
                         uint32_t off, unsigned room, alog_rec *r, unsigned *size, uint8_t next[16])
{
    uint8_t b[ALOG_MAX_RECORD];
    if (room < 8u)
        return ALOG_R_END;
    if (alog_rd(s, off, b, 8) != EK3_OK)
        return ALOG_R_BADHDR;
    if (alog_all(b, 8, 0xFF))
        return ALOG_R_END;
    if (alog_all(b, 8, 0x00)) {
        *size = 8;
        return ALOG_R_SKIP8;
    }
    unsigned len = b[7], n = alog_size(len);
    if (len > ALOG_MAX_PAYLOAD || n > room)
        return ALOG_R_BADHDR;
    *size = n;
    if (alog_rd(s, off + 8, b + 8, n - 8) != EK3_OK)
        return ALOG_R_TORN;
    unsigned body = n - 8;
    uint8_t want[8];
    alog_put32(want, ipc_crc32(b, body));
    const uint8_t *commit = b + body;
    int crc_ok = !memcmp(commit, want, 4);
    if (key) {
        if (alog_chain(c, key, chain, b, body, next) != EK3_OK)
            return ALOG_R_CRYPTO;
        memcpy(want + 4, next, 4);
    } else {
        memcpy(want + 4, commit + 4, 4);
    }
    if (memcmp(commit, want, 8)) {
        /* A commit erased, or half-way to the right value (programming
         * only clears bits): the power went while it was written. */
        int partial = 1;
        for (unsigned i = 0; i < 8; i++)
            if ((commit[i] & want[i]) != want[i])
                partial = 0;
        if (partial)
            return ALOG_R_TORN;
        return crc_ok ? ALOG_R_BADTAG : ALOG_R_BADCRC;
    }
    r->seq = alog_get32(b);
    r->boot = (uint16_t)(b[4] | b[5] << 8);
    r->type = b[6];
    r->len = (uint8_t)len;
    uint64_t t = 0;
    for (int i = 7; i >= 0; i--)
        t = t << 8 | b[8 + i];
    r->t_ns = (int64_t)t;
    memcpy(r->payload, b + ALOG_REC_HDR, len);
    r->off = off;
    if (key)
        memcpy(r->chain, next, 16);
    else
        memset(r->chain, 0, 16);
    return ALOG_R_OK;
}

/* A walk over the records of one page. */
typedef struct alog_walk {
    const alog_src *s;
    const auth_crypto *c;
    const uint8_t *key;
    uint8_t chain[16];
    uint32_t base; /* the page's offset in the area */
    unsigned pos;  /* the place looked at next */
    unsigned size; /* the size of what stopped the walk (BADCRC, BADTAG) */
    unsigned torn;
} alog_walk;

static void alog_walk_init(alog_walk *w, const alog_src *s, const auth_crypto *c, const uint8_t *key,
                           const uint8_t chain[16], unsigned page)
{
    w->s = s, w->c = c, w->key = key;
    memcpy(w->chain, chain, 16);
    w->base = page * ALOG_PAGE;
    w->pos = ALOG_PAGE_HDR;
    w->size = 0;
    w->torn = 0;
}

/* The next committed record (ALOG_R_OK, the chain advanced), or what
 * stops the walk there: ALOG_R_END, BADHDR, BADCRC, BADTAG, CRYPTO.
 * Torn records and skip marks are passed over. */
static int alog_walk_next(alog_walk *w, alog_rec *r)
{
    for (;;) {
        unsigned n = 0;
        uint8_t next[16];
        int k = alog_rec_read(w->s, w->c, w->key, w->chain, w->base + w->pos, ALOG_PAGE - w->pos, r, &n, next);
        w->size = n;
        if (k == ALOG_R_SKIP8 || k == ALOG_R_TORN) {
            w->torn += k == ALOG_R_TORN;
            w->pos += n;
            continue;
        }
        if (k == ALOG_R_OK) {
            memcpy(w->chain, next, 16);
            w->pos += n;
        }
        return k;
    }
}

/* ---- the writer --------------------------------------------------------- */

static int alog_blank(hal hw, unsigned page)
{
    uint8_t b[64];
    for (unsigned o = 0; o < ALOG_PAGE; o += sizeof b)
        if (hal_flash_read(hw, ALOG_BASE + page * ALOG_PAGE + o, b, sizeof b) != EK3_OK ||
            !alog_all(b, sizeof b, 0xFF))
            return 0;
    return 1;
}

/* Program a record at the current position: body, then the commit. */
static int alog_put(alog_log *l, hal hw, unsigned type, int64_t t_ns, const uint8_t *payload, unsigned len)
{
    unsigned n = alog_size(len), body = n - 8;
    if (!l->have_page || l->pos + n > ALOG_PAGE)
        return EK3_ENOSPC;
    uint8_t b[ALOG_MAX_RECORD];
    memset(b, 0, sizeof b);
    alog_put32(b, l->next_seq);
    b[4] = (uint8_t)l->boot, b[5] = (uint8_t)(l->boot >> 8);
    b[6] = (uint8_t)type, b[7] = (uint8_t)len;
    for (int i = 0; i < 8; i++)
        b[8 + i] = (uint8_t)((uint64_t)t_ns >> (8 * i));
    memcpy(b + ALOG_REC_HDR, payload, len);
    uint8_t next[16];
    int rc = alog_chain(&hw.ops->crypto, l->key, l->chain, b, body, next);
    if (rc)
        return rc;
    alog_put32(b + body, ipc_crc32(b, body));
    memcpy(b + body + 4, next, 4);
    uint32_t off = ALOG_BASE + l->cur * ALOG_PAGE + l->pos;
    rc = hal_flash_write(hw, off, b, body);
    if (!rc)
        rc = hal_flash_write(hw, off + body, b + body, 8); /* the commit, last */
    if (rc) {
        l->pos = ALOG_PAGE; /* whatever is there now: never programmed again */
        l->st.errors++;
        return rc;
    }
    memcpy(l->chain, next, 16);
    l->last.seq = l->next_seq++;
    l->last.boot = l->boot;
    l->last.type = (uint8_t)type;
    l->last.len = (uint8_t)len;
    l->last.t_ns = t_ns;
    memcpy(l->last.payload, payload, len);
    l->last.off = off - ALOG_BASE;
    l->have_last = 1;
    l->pos = (uint16_t)(l->pos + n);
    return EK3_OK;
}

static alog_src alog_src_hw(hal hw)
{
    alog_src s = {hw, NULL, 0};
    return s;
}

/* Is the original record `seq` already carried in the current page?
 * *bytes: what the carries there take. */
static int alog_carried(const alog_log *l, hal hw, uint32_t seq, unsigned *bytes)
{
    alog_src s = alog_src_hw(hw);
    alog_phdr h;
    *bytes = 0;
    if (alog_phdr_read(&s, l->cur, &h) != ALOG_P_VALID)
        return 0;
    alog_walk w;
    alog_walk_init(&w, &s, &hw.ops->crypto, l->key, h.chain_in, l->cur);
    int found = 0;
    alog_rec r;
    for (;;) {
        int k = alog_walk_next(&w, &r);
        if ((k == ALOG_R_BADCRC || k == ALOG_R_BADTAG) && w.pos + w.size <= l->pos) {
            w.pos += w.size;
            continue;
        }
        if (k != ALOG_R_OK || w.pos > l->pos)
            break;
        if (!ALOG_IS_CARRY(r.type))
            continue;
        *bytes += alog_size(r.len);
        if (r.len >= ALOG_REC_HDR && alog_get32(r.payload) == seq)
            found = 1;
    }
    return found;
}

/* Reclaim page q (the oldest): copy its critical records forward, then
 * erase it. */
static int alog_reclaim(alog_log *l, hal hw, unsigned q)
{
    if (alog_blank(hw, q))
        return EK3_OK;
    alog_src s = alog_src_hw(hw);
    alog_phdr h;
    if (alog_phdr_read(&s, q, &h) == ALOG_P_VALID) {
        alog_walk w;
        alog_walk_init(&w, &s, &hw.ops->crypto, l->key, h.chain_in, q);
        for (;;) {
            alog_rec r;
            int k = alog_walk_next(&w, &r);
            if (k == ALOG_R_BADCRC || k == ALOG_R_BADTAG) {
                w.pos += w.size;
                continue;
            }
            if (k != ALOG_R_OK)
                break;
            uint8_t inner[ALOG_MAX_PAYLOAD];
            unsigned ilen, type = ALOG_T_CARRY;
            if (ALOG_IS_CARRY(r.type)) {
                type = r.type + 1u;
                if (r.len < ALOG_REC_HDR || !alog_critical(r.payload[6]) || !ALOG_IS_CARRY(type))
                    continue; /* carried often enough: it goes */
                memcpy(inner, r.payload, r.len);
                ilen = r.len;
            } else {
                if (!alog_critical(r.type) || r.len > ALOG_MAX_USER)
                    continue;
                alog_put32(inner, r.seq);
                inner[4] = (uint8_t)r.boot, inner[5] = (uint8_t)(r.boot >> 8);
                inner[6] = r.type, inner[7] = r.len;
                for (int i = 0; i < 8; i++)
                    inner[8 + i] = (uint8_t)((uint64_t)r.t_ns >> (8 * i));
                memcpy(inner + ALOG_REC_HDR, r.payload, r.len);
                ilen = ALOG_REC_HDR + r.len;
            }
            unsigned used;
            if (alog_carried(l, hw, alog_get32(inner), &used))
                continue;
            if (used + alog_size(ilen) > ALOG_CARRY_BUDGET || l->pos + alog_size(ilen) > ALOG_PAGE ||
                alog_put(l, hw, type, r.t_ns, inner, ilen) != EK3_OK) {
                l->st.crit_dropped++;
                continue;
            }
            l->st.carried++;
        }
    }
    int rc = hal_flash_erase(hw, ALOG_BASE + q * ALOG_PAGE, ALOG_PAGE);
    if (rc)
        l->st.errors++;
    return rc;
}

/* Start the page after the current one (the first: page 0). */
static int alog_start(alog_log *l, hal hw)
{
    unsigned p = l->have_page ? (l->cur + 1u) % l->pages : 0u;
    int rc = EK3_OK;
    if (!alog_blank(hw, p))
        rc = hal_flash_erase(hw, ALOG_BASE + p * ALOG_PAGE, ALOG_PAGE);
    alog_phdr h;
    memcpy(h.chain_in, l->chain, 16);
    h.page_no = l->have_page ? l->page_no + 1u : 0u;
    h.next_seq = l->next_seq;
    h.boot = l->boot;
    uint8_t b[ALOG_PAGE_HDR];
    alog_phdr_encode(&h, b);
    if (!rc)
        rc = hal_flash_write(hw, ALOG_BASE + p * ALOG_PAGE, b, sizeof b);
    if (rc) {
        l->st.errors++;
        return rc;
    }
    l->cur = (uint16_t)p;
    l->pos = ALOG_PAGE_HDR;
    l->page_no = h.page_no;
    l->have_page = 1;
    return alog_reclaim(l, hw, (p + 1u) % l->pages);
}

/* Find the newest page and the place after its last committed record;
 * fix: write zeros over a torn header (the writer's open) or stop there
 * (a reader's). 0, EK3_ENOSPC. */
static int alog_find(alog_log *l, hal hw, const uint8_t key[16], int fix)
{
    memset(l, 0, sizeof *l);
    memcpy(l->key, key, 16);
    l->pages = (uint16_t)(alog_area(hw) / ALOG_PAGE);
    if (l->pages < 3)
        return EK3_ENOSPC;
    alog_src s = alog_src_hw(hw);
    alog_phdr h, best;
    memset(&best, 0, sizeof best);
    for (unsigned p = 0; p < l->pages; p++) {
        int kind = alog_phdr_read(&s, p, &h);
        if (kind == ALOG_P_GARBAGE)
            l->st.torn++;
        if (kind == ALOG_P_VALID && (!l->have_page || (int32_t)(h.page_no - best.page_no) > 0)) {
            best = h;
            l->cur = (uint16_t)p;
            l->have_page = 1;
        }
    }
    l->boot = 1; /* never 0: a record's first double word is never all zeros (the skip mark) */
    if (!l->have_page)
        return EK3_ENOENT;
    memcpy(l->chain, best.chain_in, 16);
    l->page_no = best.page_no;
    l->next_seq = best.next_seq;
    unsigned boot = best.boot;
    alog_walk w;
    alog_walk_init(&w, &s, &hw.ops->crypto, l->key, best.chain_in, l->cur);
    for (;;) {
        int k = alog_walk_next(&w, &l->last);
        if (k == ALOG_R_OK) {
            l->next_seq = l->last.seq + 1u;
            boot = l->last.boot;
            l->have_last = 1;
            continue;
        }
        if (k == ALOG_R_BADCRC || k == ALOG_R_BADTAG) { /* corrupt: passed over like a torn one */
            w.torn++;
            w.pos += w.size;
            continue;
        }
        if (k == ALOG_R_BADHDR && fix) {
            /* The cut was in this header: nothing after it programmed.
             * Zeros over it (RM0440 allows them over anything) mark it
             * to be skipped. */
            static const uint8_t zeros[8] = {0};
            w.torn++;
            if (hal_flash_write(hw, ALOG_BASE + w.base + w.pos, zeros, 8) == EK3_OK) {
                w.pos += 8;
                continue;
            }
            l->st.errors++;
            w.pos = ALOG_PAGE; /* the page is given up */
        }
        break; /* the end, or the crypto failed */
    }
    memcpy(l->chain, w.chain, 16);
    l->pos = (uint16_t)w.pos;
    l->st.torn += w.torn;
    l->boot = (uint16_t)(boot + 1u);
    return EK3_OK;
}

int alog_open(alog_log *l, hal hw, const uint8_t key[16])
{
    int rc = alog_find(l, hw, key, 1);
    if (rc == EK3_ENOENT)
        return EK3_OK; /* an empty log: the first record starts page 0 */
    return rc ? rc : alog_reclaim(l, hw, (l->cur + 1u) % l->pages);
}

int alog_head_read(hal hw, const uint8_t key[16], uint8_t out[8], uint32_t *next_seq)
{
    alog_log l;
    int rc = alog_find(&l, hw, key, 0);
    alog_head(&l, out);
    *next_seq = l.next_seq;
    return rc;
}


int alog_append(alog_log *l, hal hw, unsigned type, int64_t t_ns, const void *payload, unsigned len)
{
    if (len > ALOG_MAX_USER || type >= ALOG_T_CARRY)
        return EK3_ERANGE;
    int rc = EK3_EIO;
    for (int attempt = 0; attempt < 2 && rc; attempt++) { /* a failed page is given up: once more on a new one */
        if (!l->have_page || l->pos + alog_size(len) > ALOG_PAGE) {
            rc = alog_start(l, hw);
            if (rc && rc != EK3_EIO)
                return rc;
            if (rc && (!l->have_page || l->pos >= ALOG_PAGE)) /* the page itself failed */
                continue;
        }
        rc = alog_put(l, hw, type, t_ns, payload, len);
    }
    if (!rc) {
        l->st.records++;
        l->st.content_bytes += ALOG_REC_HDR + len;
        l->st.payload_bytes += len;
    }
    return rc;
}

void alog_head(const alog_log *l, uint8_t out[8])
{
    memcpy(out, l->chain, 8);
}

int alog_dump(hal hw, uint8_t *img, size_t cap, size_t *n)
{
    size_t size = alog_area(hw);
    *n = 0;
    if (cap < size)
        return EK3_ENOSPC;
    for (size_t o = 0; o < size; o += 8)
        if (hal_flash_read(hw, (uint32_t)(ALOG_BASE + o), img + o, 8) != EK3_OK)
            memset(img + o, 0xFF, 8);
    *n = size;
    return EK3_OK;
}

/* ---- the off-line check ---------------------------------------------------- */

static void alog_bad(alog_verdict *v, int code, uint32_t off, uint32_t seq, int page, uint32_t page_no,
                     const char *why)
{
    v->bad = code;
    v->bad_off = off;
    v->bad_seq = seq;
    v->bad_page = page;
    v->bad_page_no = page_no;
    v->why = why;
}

int alog_verify(const auth_crypto *c, const uint8_t *key, const uint8_t *img, size_t n, alog_verdict *v,
                alog_each_fn each, void *ctx)
{
    memset(v, 0, sizeof *v);
    if (!n || n % ALOG_PAGE || n / ALOG_PAGE > 0xFFFFu)
        return EK3_EPARSE;
    alog_src s = {{NULL, NULL}, img, n};
    unsigned pages = (unsigned)(n / ALOG_PAGE);
    v->keyed = key != NULL;
    /* The oldest page: the smallest number. */
    int have = 0;
    uint32_t first = 0;
    alog_phdr h;
    unsigned blank = 0;
    for (unsigned p = 0; p < pages; p++) {
        int kind = alog_phdr_read(&s, p, &h);
        if (kind == ALOG_P_GARBAGE)
            v->garbage_pages++;
        blank += kind == ALOG_P_BLANK;
        if (kind == ALOG_P_VALID && (!have || h.page_no < first))
            first = h.page_no, have = 1;
        /* A header that is blank or fails its CRC (torn by a cut, or
         * written off with zeros) has no committed record after it:
         * records go into a page only after its header is committed, and
         * an erase clears the whole page (an interrupted one is finished
         * at boot). Worn cells may leave stray bits there, never a record
         * whose CRC holds. */
        if (kind != ALOG_P_VALID) {
            static const uint8_t zero[16];
            alog_walk w;
            alog_rec r;
            alog_walk_init(&w, &s, c, NULL, zero, p);
            if (alog_walk_next(&w, &r) == ALOG_R_OK) {
                alog_bad(v, EK3_EFORGED, p * ALOG_PAGE, r.seq, 1, p,
                         kind == ALOG_P_BLANK ? "(the dump's page at that offset) has a blank header but committed records "
                                                "after it: its header erased"
                                              : "(the dump's page at that offset) has a header that fails its CRC but "
                                                "committed records after it: its header edited");
                return EK3_OK;
            }
        }
    }
    if (!have)
        return EK3_OK; /* an empty log */
    /* The ring reclaims its oldest page only when it has wrapped: then at
     * most one page is blank (the one kept erased ahead). */
    if (first > 0 && blank > 1) {
        alog_bad(v, EK3_EFORGED, 0, 0, 1, 0,
                 "and the pages after it up to the first in the dump are missing while the area has blank pages "
                 "(the log never wrapped, so nothing was reclaimed): its oldest pages removed");
        return EK3_OK;
    }
    uint8_t chain[16];
    for (uint32_t no = first;; no++) {
        unsigned at = pages, count = 0, valid = 0;
        for (unsigned p = 0; p < pages; p++)
            if (alog_phdr_read(&s, p, &h) == ALOG_P_VALID) {
                valid++;
                if (h.page_no == no)
                    at = p, count++;
            }
        if (at == pages) {
            if (v->pages < valid)
                alog_bad(v, EK3_EPARSE, 0, v->next_seq, 1, no, "is missing, and later pages follow: pages removed");
            break;
        }
        alog_phdr_read(&s, at, &h);
        uint32_t hoff = at * ALOG_PAGE;
        if (count > 1) {
            alog_bad(v, EK3_EPARSE, hoff, h.next_seq, 1, no, "is the number of two pages: a page copied");
            break;
        }
        if (!v->pages) {
            memcpy(chain, h.chain_in, 16);
            v->first_seq = v->next_seq = h.next_seq;
            v->first_boot = h.boot;
        } else if (h.next_seq != v->next_seq || (key && memcmp(h.chain_in, chain, 16))) {
            alog_bad(v, EK3_EFORGED, hoff, v->next_seq, 1, no,
                     "does not continue the log before it: records removed, edited or reordered");
            break;
        }
        v->pages++;
        v->last_boot = h.boot;
        alog_walk w;
        alog_walk_init(&w, &s, c, key, chain, at);
        for (;;) {
            alog_rec r;
            int k = alog_walk_next(&w, &r);
            uint32_t off = hoff + w.pos;
            if (k == ALOG_R_END || k == ALOG_R_BADHDR) {
                v->torn += k == ALOG_R_BADHDR;
                break;
            }
            if (k == ALOG_R_CRYPTO)
                return EK3_ECRYPTO;

            if (k == ALOG_R_BADCRC) {
                alog_bad(v, EK3_EFORGED, off, v->next_seq, 0, no, "fails its CRC: edited or corrupt");
                break;
            }
            if (k == ALOG_R_BADTAG) {
                v->bad_tag = 1;
                alog_bad(v, EK3_EFORGED, off, v->next_seq, 0, no,
                         w.torn ? "does not continue the chain: it, or one before it, edited, removed or reordered "
                                  "(a record read as torn before it in this page may be the edited one)"
                                : "does not continue the chain: it, or one before it, edited, removed or reordered");
                break;
            }
            if (r.seq != v->next_seq) {
                alog_bad(v, EK3_EFORGED, r.off, v->next_seq, 0, no,
                         "expected here, another number found: records reordered or removed");
                break;
            }
            v->records++;
            v->next_seq++;
            v->last_boot = r.boot;
            if (ALOG_IS_CARRY(r.type))
                v->carried++;
            if (each)
                each(ctx, &r);
        }
        v->torn += w.torn;
        if (key)
            memcpy(chain, w.chain, 16);
        if (v->bad)
            break;
    }
    if (key)
        memcpy(v->head, chain, 16);
    return EK3_OK;
}

/* ---- kernel events in records ------------------------------------------- */

int alog_event_count(const alog_rec *r)
{
    if (r->type < AUDIT_KIND_COUNT_)
        return r->len == sizeof(alog_kev) ? 1 : EK3_EPARSE;
    if (r->type != ALOG_T_EVENTS)
        return 0;
    unsigned n = r->len >= ALOG_EVS_HDR ? r->payload[6] : 0u;
    if (n < 1u || n > ALOG_MAX_EVS || r->len != ALOG_EVS_HDR + n * ALOG_EV_SIZE || r->payload[7])
        return EK3_EPARSE;
    return (int)n;
}

int alog_event(const alog_rec *r, unsigned i, alog_ev *ev)
{
    int n = alog_event_count(r);
    if (n < 0)
        return n;
    if (i >= (unsigned)n)
        return EK3_ERANGE;
    memset(ev, 0, sizeof *ev);
    if (r->type < AUDIT_KIND_COUNT_) {
        alog_kev kev;
        memcpy(&kev, r->payload, sizeof kev);
        ev->ev_no = kev.ev_no, ev->t_ns = r->t_ns, ev->arg = kev.arg;
        ev->kind = r->type, ev->svc = kev.svc, ev->reason = kev.reason, ev->resets = kev.resets;
        return EK3_OK;
    }
    const uint8_t *p = r->payload, *e = p + ALOG_EVS_HDR + i * ALOG_EV_SIZE;
    if (e[11])
        return EK3_EPARSE;
    ev->ev_no = alog_get32(p) + i;
    ev->resets = (uint16_t)(p[4] | p[5] << 8);
    ev->t_ns = (int64_t)((uint64_t)r->t_ns + alog_get32(e));
    ev->arg = (int32_t)alog_get32(e + 4);
    ev->kind = e[8], ev->svc = e[9], ev->reason = e[10];
    return EK3_OK;
}

/* ---- the service -------------------------------------------------------- */

int alog_init(void *state, jz_kernel *k, unsigned me)
{
    (void)me;
    alog_state *s = state;
    memset(s, 0, sizeof *s);
    canh_config cfg;
    uint8_t key[16] = {0};
    if (canh_config_read(k->hw, &cfg) == EK3_OK)
        memcpy(key, cfg.key, sizeof key);
    int rc = alog_open(&s->log, k->hw, key);
    if (rc == EK3_ENOSPC)
        return rc;
    const audit_log *a = &k->audit;
    uint32_t oldest = a->total - audit_count(a);
    s->next_ev = oldest;
    /* The same event still in RAM (a service restart, or the rig's
     * reset, which keeps the ring): continue after it (a batch's last).
     * After a real power cycle the ring is new and everything in it is
     * written. */
    alog_ev ev;
    int n = s->log.have_last ? alog_event_count(&s->log.last) : 0;
    if (n > 0 && alog_event(&s->log.last, (unsigned)n - 1u, &ev) == EK3_OK && ev.ev_no - oldest < a->total - oldest) {
        const audit_event *e = audit_get(a, ev.ev_no - oldest);
        if (e->t_ns == ev.t_ns && e->kind == ev.kind && e->svc == ev.svc)
            s->next_ev = ev.ev_no + 1;
    }
    return EK3_OK;
}

/* How many events from ring index i on go in one record: 1 for a
 * critical one, else the run of non-critical ones (at most ALOG_MAX_EVS,
 * within a u32 of nanoseconds of the first). */
static unsigned alog_run(const audit_log *a, uint32_t i, uint32_t end)
{
    const audit_event *first = audit_get(a, i);
    if (alog_critical(first->kind))
        return 1;
    unsigned n = 1;
    while (n < ALOG_MAX_EVS && i + n < end) {
        const audit_event *e = audit_get(a, i + n);
        int64_t dt = e->t_ns - first->t_ns;
        if (alog_critical(e->kind) || dt < 0 || dt > (int64_t)UINT32_MAX)
            break;
        n++;
    }
    return n;
}

int alog_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m)
{
    (void)me;
    alog_state *s = state;
    if (m->type == SVC_MSG_AUDIT && m->len >= 1) {
        /* another service's record (UPDATE_MGR: a refusal, an update step) */
        unsigned type = m->payload[0];
        if (type != ALOG_T_TRIP && type != ALOG_T_REFUSED && type != ALOG_T_UPDATE)
            return EK3_OK;
        if (alog_append(&s->log, k->hw, type, jz_now(k), m->payload + 1, m->len - 1u) != EK3_OK)
            s->errors++;
        return EK3_OK;
    }
    if (m->type != IPC_T_TICK)
        return EK3_OK;
    const audit_log *a = &k->audit;
    uint32_t oldest = a->total - audit_count(a);
    if (s->next_ev - oldest > a->total - oldest) { /* overtaken: events lost */
        s->lost += oldest - s->next_ev;
        s->next_ev = oldest;
    }
    for (unsigned r = 0; r < ALOG_PER_TICK && s->next_ev < a->total; r++) {
        uint32_t i = s->next_ev - oldest;
        unsigned n = alog_run(a, i, a->total - oldest);
        const audit_event *e = audit_get(a, i);
        int rc;
        if (n == 1) {
            alog_kev kev = {s->next_ev, e->arg, e->svc, e->reason, (uint16_t)k->resets};
            rc = alog_append(&s->log, k->hw, e->kind, e->t_ns, &kev, sizeof kev);
        } else {
            uint8_t p[ALOG_MAX_USER];
            alog_put32(p, s->next_ev);
            p[4] = (uint8_t)k->resets, p[5] = (uint8_t)(k->resets >> 8);
            p[6] = (uint8_t)n, p[7] = 0;
            for (unsigned j = 0; j < n; j++) {
                const audit_event *x = audit_get(a, i + j);
                uint8_t *q = p + ALOG_EVS_HDR + j * ALOG_EV_SIZE;
                alog_put32(q, (uint32_t)(x->t_ns - e->t_ns));
                alog_put32(q + 4, (uint32_t)x->arg);
                q[8] = x->kind, q[9] = x->svc, q[10] = x->reason, q[11] = 0;
            }
            rc = alog_append(&s->log, k->hw, ALOG_T_EVENTS, e->t_ns, p, ALOG_EVS_HDR + n * ALOG_EV_SIZE);
            s->batches += rc == EK3_OK;
        }
        if (rc != EK3_OK) {
            s->errors++; /* its events are skipped, as a lone one was */
            if (s->errors % 16u == 0)
                return EK3_EIO; /* the flash keeps failing: let the RS restart us */
        } else {
            s->written += n;
        }
        s->next_ev += n;
    }
    return EK3_OK;
}
