/* can_id.c - encode, decode and validate the 29-bit identifier. */
#include "can_id.h"

#include "ek3_err.h"

static const char *const cid_prio_names[16] = {
    [CID_PRIO_CRITICAL] = "CRITICAL", [CID_PRIO_HIGH] = "HIGH",
    [CID_PRIO_MEDIUM] = "MEDIUM",     [CID_PRIO_LOW] = "LOW",
    [CID_PRIO_BACKGROUND] = "BACKGROUND",
};

static const char *const cid_type_names[16] = {
    [CID_TYPE_SYNC] = "SYNC",           [CID_TYPE_ELECTION] = "ELECTION",
    [CID_TYPE_HEARTBEAT] = "HEARTBEAT", [CID_TYPE_POWER_CMD] = "POWER_CMD",
    [CID_TYPE_THERMAL] = "THERMAL",     [CID_TYPE_POWER_ACK] = "POWER_ACK",
    [CID_TYPE_STATION] = "STATION",     [CID_TYPE_FAULT] = "FAULT",
    [CID_TYPE_DIAG] = "DIAG",           [CID_TYPE_HIL_ADC] = "HIL_ADC",
    [CID_TYPE_HIL_PWM] = "HIL_PWM",
    [CID_TYPE_HIL_TICK] = "HIL_TICK",   [CID_TYPE_FW_UPDATE] = "FW_UPDATE",
};

int cid_encode(const cid_fields *f, uint32_t *id)
{
    if (!f || !id)
        return EK3_EINVAL;
    if (f->prio > CID_PRIO_MAX || f->type > CID_TYPE_MAX ||
        f->src > CID_SRC_MAX || f->dst > CID_DST_MAX)
        return EK3_ERANGE;
    *id = ((uint32_t)f->prio << CID_PRIO_SHIFT) |
          ((uint32_t)f->type << CID_TYPE_SHIFT) |
          ((uint32_t)f->src << CID_SRC_SHIFT) | (uint32_t)f->dst;
    return EK3_OK;
}

int cid_decode(uint32_t id, cid_fields *f)
{
    if (!f)
        return EK3_EINVAL;
    if (id & ~CID_MASK)
        return EK3_ERANGE;
    f->prio = (uint8_t)((id >> CID_PRIO_SHIFT) & CID_PRIO_MAX);
    f->type = (uint8_t)((id >> CID_TYPE_SHIFT) & CID_TYPE_MAX);
    f->src = (uint16_t)((id >> CID_SRC_SHIFT) & CID_SRC_MAX);
    f->dst = (uint16_t)(id & CID_DST_MAX);
    return EK3_OK;
}

int cid_validate(uint32_t id)
{
    cid_fields f;
    int rc = cid_decode(id, &f);
    if (rc)
        return rc;
    if (!cid_prio_names[f.prio])
        return EK3_EPRIO;
    if (!cid_type_names[f.type])
        return EK3_ETYPE;
    return EK3_OK;
}

const char *cid_prio_name(unsigned prio)
{
    return prio < 16 ? cid_prio_names[prio] : 0;
}

const char *cid_type_name(unsigned type)
{
    return type < 16 ? cid_type_names[type] : 0;
}

static int cid_streq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = (*a >= 'a' && *a <= 'z') ? (char)(*a - 32) : *a;
        char cb = (*b >= 'a' && *b <= 'z') ? (char)(*b - 32) : *b;
        if (ca != cb)
            return 0;
    }
    return *a == *b;
}

static int cid_lookup(const char *const names[16], const char *name,
                      unsigned *out)
{
    if (!name || !out)
        return EK3_EINVAL;
    for (unsigned i = 0; i < 16; i++) {
        if (names[i] && cid_streq_nocase(names[i], name)) {
            *out = i;
            return EK3_OK;
        }
    }
    return EK3_ENOENT;
}

int cid_prio_parse(const char *name, unsigned *prio)
{
    return cid_lookup(cid_prio_names, name, prio);
}

int cid_type_parse(const char *name, unsigned *type)
{
    return cid_lookup(cid_type_names, name, type);
}
