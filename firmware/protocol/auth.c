/* auth.c - SecOC-style freshness and truncated AES-CMAC tags. */
#include "auth.h"

#include <string.h>

#include "can_id.h"
#include "ek3_err.h"
#include "msg.h"

#define AUTH_MAC_INPUT_MAX (8u + CFD_MAX_LEN)

/* A swarm frame (ELECTION, SYNC, THERMAL) from a module: signed with
 * the rack's group key. */
static int auth_group(const cid_fields *f)
{
    const msg_desc *d = msg_desc_of(f->type);
    return f->src != CID_NODE_STATION && d && d->auth == MSG_AUTH_GROUP;
}

int auth_required(uint32_t id)
{
    cid_fields f;
    return cid_decode(id, &f) == EK3_OK && (f.src == CID_NODE_STATION || auth_group(&f));
}

int auth_rule(const cfd_frame *f)
{
    cid_fields c;
    if (!(f->flags & CFD_FLAG_EFF) || cid_decode(f->id, &c) != EK3_OK)
        return AUTH_RULE_OPEN;
    if (c.src == CID_NODE_STATION || auth_group(&c))
        return AUTH_RULE_SIGNED;
    const msg_desc *d = msg_desc_of(c.type);
    if (d && d->auth == MSG_AUTH_ALWAYS)
        return AUTH_RULE_STATION_ONLY;
    msg_diag m;
    if (c.type == CID_TYPE_DIAG && msg_decode(CID_TYPE_DIAG, f->data, f->len, &m, NULL) == EK3_OK &&
        m.op == MSG_DIAG_REQUEST)
        return AUTH_RULE_STATION_ONLY;
    /* FW_UPDATE: a module sends only STATUS (its payload, then a zero
     * trailer in the tag's place: docs/update.md); every other op is the
     * station's. */
    msg_fw_update u;
    size_t ulen = d && f->len > d->len ? d->len : f->len;
    if (d && c.type == CID_TYPE_FW_UPDATE &&
        (msg_decode(CID_TYPE_FW_UPDATE, f->data, ulen, &u, NULL) != EK3_OK || u.op != MSG_FW_STATUS))
        return AUTH_RULE_STATION_ONLY;
    return AUTH_RULE_OPEN;
}

uint16_t auth_key_node(uint32_t id)
{
    cid_fields f;
    if (cid_decode(id, &f) == EK3_OK && auth_group(&f))
        return CID_NODE_BROADCAST;
    return (uint16_t)(id & CID_DST_MAX);
}

static void auth_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static uint32_t auth_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int auth_derive_key(const auth_crypto *c, const uint8_t rack_key[AUTH_KEY_LEN],
                    uint16_t node, uint8_t out[AUTH_KEY_LEN])
{
    static const char label[] = "EK3 node key";
    uint8_t in[1 + sizeof label - 1 + 1 + 2 + 2];
    size_t n = 0;
    if (!c || !c->cmac || !rack_key || !out)
        return EK3_EINVAL;
    in[n++] = 0x01; /* counter i = 1: one 128-bit block */
    memcpy(in + n, label, sizeof label - 1);
    n += sizeof label - 1;
    in[n++] = 0x00; /* separator */
    in[n++] = (uint8_t)(node >> 8); /* context: node, big-endian */
    in[n++] = (uint8_t)node;
    in[n++] = 0x00; /* L = 128 bits, big-endian */
    in[n++] = 0x80;
    uint8_t tag[16];
    if (c->cmac(c->ctx, rack_key, in, n, tag))
        return EK3_ECRYPTO;
    memcpy(out, tag, AUTH_KEY_LEN);
    return EK3_OK;
}

void auth_tx_init(auth_tx *tx)
{
    tx->next = 1;
    tx->spent = 0;
}

/* Whether a payload of n bytes and its trailer make a valid FD length. */
static int auth_room(size_t n)
{
    return n + AUTH_TRAILER_LEN <= CFD_MAX_LEN && cfd_len_to_dlc((unsigned)(n + AUTH_TRAILER_LEN), 1) >= 0;
}

/* Tag over id || fv || payload. */
static int auth_tag(const auth_crypto *c, const uint8_t key[AUTH_KEY_LEN], uint32_t id,
                    uint32_t fv, const uint8_t *payload, size_t n, uint8_t tag[16])
{
    uint8_t in[AUTH_MAC_INPUT_MAX];
    auth_put32(in, id);
    auth_put32(in + 4, fv);
    memcpy(in + 8, payload, n);
    return c->cmac(c->ctx, key, in, 8 + n, tag) ? EK3_ECRYPTO : EK3_OK;
}

int auth_sign_with(const auth_crypto *c, const uint8_t key[AUTH_KEY_LEN], uint32_t fv,
                   cfd_frame *f)
{
    if (!c || !c->cmac || !key || !f)
        return EK3_EINVAL;
    size_t n = f->len;
    if (!auth_room(n))
        return EK3_EDLC;
    uint8_t tag[16];
    int rc = auth_tag(c, key, f->id, fv, f->data, n, tag);
    if (rc)
        return rc;
    auth_put32(f->data + n, fv);
    memcpy(f->data + n + AUTH_FV_LEN, tag, AUTH_MAC_LEN);
    f->len = (uint8_t)(n + AUTH_TRAILER_LEN);
    return EK3_OK;
}

/* Hand out tx's next counter and move past it (the last one, 2^32-1,
 * leaves the sender spent). */
static void auth_tx_take(auth_tx *tx, uint32_t *fv)
{
    if (fv)
        *fv = tx->next;
    if (tx->next == UINT32_MAX)
        tx->spent = 1;
    else
        tx->next++;
}

int auth_sign(const auth_crypto *c, const uint8_t key[AUTH_KEY_LEN], auth_tx *tx,
              cfd_frame *f, uint32_t *fv)
{
    if (!tx)
        return EK3_EINVAL;
    if (tx->spent || tx->next == 0)
        return EK3_EWRAP;
    int rc = auth_sign_with(c, key, tx->next, f);
    if (rc)
        return rc;
    auth_tx_take(tx, fv);
    return EK3_OK;
}

int auth_spend(auth_tx *tx, size_t len, uint32_t *fv)
{
    if (!tx)
        return EK3_EINVAL;
    if (tx->spent || tx->next == 0)
        return EK3_EWRAP;
    if (!auth_room(len))
        return EK3_EDLC;
    auth_tx_take(tx, fv);
    return EK3_OK;
}

/* Constant-time comparison: the time does not tell how many bytes match. */
static int auth_tags_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (uint8_t)(a[i] ^ b[i]);
    return d == 0;
}

/* Freshness of fv against rx, without changing rx. */
static int auth_fresh(const auth_rx *rx, uint32_t fv)
{
    if (rx->top > UINT32_MAX - AUTH_WINDOW && fv < AUTH_WINDOW)
        return EK3_EWRAP; /* the sender went past 2^32-1 and started over */
    if (fv == 0)
        return EK3_ESTALE; /* counters start at 1 */
    if (fv > rx->top)
        return EK3_OK;
    uint32_t age = rx->top - fv;
    if (age >= AUTH_WINDOW)
        return EK3_ESTALE;
    return (rx->seen >> age) & 1u ? EK3_EREPLAY : EK3_OK;
}

static void auth_accept(auth_rx *rx, uint32_t fv)
{
    if (fv > rx->top) {
        uint32_t shift = fv - rx->top;
        rx->seen = shift >= 64 ? 0 : rx->seen << shift;
        rx->seen |= 1u;
        rx->top = fv;
    } else {
        rx->seen |= (uint64_t)1 << (rx->top - fv);
    }
}

int auth_verify(const auth_crypto *c, const uint8_t key[AUTH_KEY_LEN], auth_rx *rx,
                const cfd_frame *f, size_t *payload_len, uint32_t *fv)
{
    if (!c || !c->cmac || !key || !rx || !f)
        return EK3_EINVAL;
    if (f->len < AUTH_TRAILER_LEN)
        return EK3_ENOAUTH;
    size_t n = f->len - AUTH_TRAILER_LEN;
    uint32_t v = auth_get32(f->data + n);
    uint8_t tag[16];
    int rc = auth_tag(c, key, f->id, v, f->data, n, tag);
    if (rc)
        return rc;
    if (!auth_tags_equal(tag, f->data + n + AUTH_FV_LEN, AUTH_MAC_LEN))
        return EK3_EFORGED;
    rc = auth_fresh(rx, v);
    if (rc)
        return rc;
    auth_accept(rx, v);
    if (payload_len)
        *payload_len = n;
    if (fv)
        *fv = v;
    return EK3_OK;
}
