/* fuzz_audit.c - a dumped audit log (alog_verify, what `ek3 audit verify`
 * runs), keyed and keyless: never crash; the input is padded with erased
 * bytes to whole pages (at most 8); a sound verdict counts exactly the
 * records it handed out, numbered without gaps; a bad one names why and
 * where, inside the image; the kernel events of each record (a batch's
 * too: alog_event_count, alog_event) read without a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit_logger.h"
#include "ek3_err.h"
#include "host_crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
    uint32_t n, next;
    int gap;
} seen;

static void each(void *ctx, const alog_rec *r)
{
    seen *s = ctx;
    if (s->n && r->seq != s->next)
        s->gap = 1;
    if (r->len > ALOG_MAX_PAYLOAD)
        abort();
    s->next = r->seq + 1;
    s->n++;
    /* The events a record holds (what `--list` prints): a count in
     * range, each readable, nothing past it. */
    int n = alog_event_count(r);
    if (n > (int)ALOG_MAX_EVS || (n < 0 && n != EK3_EPARSE))
        abort();
    for (int i = 0; i < n; i++) {
        alog_ev ev;
        int rc = alog_event(r, (unsigned)i, &ev);
        if (rc != EK3_OK && rc != EK3_EPARSE)
            abort();
    }
    alog_ev ev;
    if (n >= 0 && alog_event(r, (unsigned)n, &ev) != EK3_ERANGE)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t img[8 * ALOG_PAGE];
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    if (size > sizeof img)
        size = sizeof img;
    size_t n = size ? (size + ALOG_PAGE - 1) / ALOG_PAGE * ALOG_PAGE : ALOG_PAGE;
    memset(img, 0xFF, n);
    memcpy(img, data, size);
    auth_crypto c = hostcrypto_auth();
    for (int keyed = 0; keyed < 2; keyed++) {
        alog_verdict v;
        seen s = {0, 0, 0};
        int rc = alog_verify(&c, keyed ? key : NULL, img, n, &v, each, &s);
        if (rc)
            abort(); /* whole pages: always a verdict */
        if (s.gap || s.n != v.records)
            abort();
        if (!v.bad && v.records && v.next_seq - v.first_seq != v.records)
            abort();
        if (v.bad && (!v.why || v.bad_off >= n))
            abort();
        if (!v.bad && v.why)
            abort();
    }
    if (alog_verify(&c, key, img, n - 1, &(alog_verdict){0}, NULL, NULL) != EK3_EPARSE)
        abort(); /* not whole pages */
    return 0;
}
