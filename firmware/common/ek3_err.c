/* ek3_err.c - text for the error codes of ek3_err.h. */
#include "ek3_err.h"

typedef struct {
    const char *name;
    const char *text;
} ek3_errinfo;

static const ek3_errinfo ek3_errtab[EK3_ERR_COUNT_] = {
    {"EK3_OK", "success"},
    {"EK3_EINVAL", "invalid argument"},
    {"EK3_ERANGE", "value out of range"},
    {"EK3_ESHORT", "payload too short"},
    {"EK3_ELONG", "payload too long"},
    {"EK3_EVERSION", "unsupported payload version"},
    {"EK3_ETYPE", "unknown or reserved message type"},
    {"EK3_EPRIO", "undefined priority"},
    {"EK3_EDLC", "not a CAN-FD data length"},
    {"EK3_EPARSE", "syntax error"},
    {"EK3_EFORGED", "authentication tag mismatch (forged or corrupted)"},
    {"EK3_EREPLAY", "replayed freshness counter"},
    {"EK3_ESTALE", "stale freshness counter (outside replay window)"},
    {"EK3_EWRAP", "freshness counter exhausted or wrapped"},
    {"EK3_ENOAUTH", "authentication required but missing"},
    {"EK3_ECRYPTO", "crypto backend failure"},
    {"EK3_ENOSPC", "no space left in buffer or table"},
    {"EK3_EIO", "input/output error"},
    {"EK3_ETIMEDOUT", "timed out"},
    {"EK3_EPERM", "not permitted"},
    {"EK3_EFULL", "queue full"},
    {"EK3_EAGAIN", "nothing available, try again"},
    {"EK3_ENOENT", "no such entity"},
    {"EK3_EBUSY", "busy or wrong state"},
    {"EK3_EFAULT", "fault: service or module crashed"},
    {"EK3_EREFUSED", "refused: nothing listens there"},
};

static const ek3_errinfo *ek3_errinfo_of(int err)
{
    if (err > 0 || err <= -EK3_ERR_COUNT_)
        return 0;
    return &ek3_errtab[-err];
}

const char *ek3_strerror(int err)
{
    const ek3_errinfo *e = ek3_errinfo_of(err);
    return e ? e->text : "unknown error";
}

const char *ek3_errname(int err)
{
    const ek3_errinfo *e = ek3_errinfo_of(err);
    return e ? e->name : "EK3_E?";
}
