/*
 * ek3_err.h - the one error enum of the EK3 rig and firmware.
 *
 * Contract: every function that can fail returns 0 (EK3_OK) or one of
 * these negative codes; a broken invariant is an assertion, not a code.
 * Codes are stable: they are logged, printed and compared in tests.
 */
#ifndef EK3_ERR_H
#define EK3_ERR_H

typedef enum ek3_err {
    EK3_OK = 0,
    EK3_EINVAL = -1,     /* invalid argument (NULL, bad size, bad mode) */
    EK3_ERANGE = -2,     /* a field or value outside its allowed range */
    EK3_ESHORT = -3,     /* payload shorter than its layout */
    EK3_ELONG = -4,      /* payload longer than its layout */
    EK3_EVERSION = -5,   /* payload version byte not supported */
    EK3_ETYPE = -6,      /* unknown or reserved message type */
    EK3_EPRIO = -7,      /* priority value not defined */
    EK3_EDLC = -8,       /* length is not a CAN / CAN-FD data length */
    EK3_EPARSE = -9,     /* text input does not follow its syntax */
    EK3_EFORGED = -10,   /* authentication tag does not match */
    EK3_EREPLAY = -11,   /* freshness counter already accepted */
    EK3_ESTALE = -12,    /* freshness counter older than the replay window */
    EK3_EWRAP = -13,     /* freshness counter exhausted or wrapped */
    EK3_ENOAUTH = -14,   /* frame must be authenticated and is not */
    EK3_ECRYPTO = -15,   /* the crypto backend failed */
    EK3_ENOSPC = -16,    /* output buffer or table too small */
    EK3_EIO = -17,       /* I/O error on a file, socket or device */
    EK3_ETIMEDOUT = -18, /* a deadline passed without an answer */
    EK3_EPERM = -19,     /* refused by a policy (allow-list, trust level) */
    EK3_EFULL = -20,     /* a bounded queue is full */
    EK3_EAGAIN = -21,    /* nothing available now; try later */
    EK3_ENOENT = -22,    /* no such module, service, name or file */
    EK3_EBUSY = -23,     /* resource in use or in the wrong state */
    EK3_EFAULT = -24,    /* a service or module crashed */
    EK3_EREFUSED = -25,  /* the peer's host refused: nothing listens there */
    EK3_ERR_COUNT_ = 26  /* number of codes, for tables */
} ek3_err;

/* Short, stable, human-readable text for a code; never NULL.
 * An unknown code gives "unknown error". */
const char *ek3_strerror(int err);

/* Stable identifier of a code ("EK3_ERANGE"); never NULL. */
const char *ek3_errname(int err);

#endif /* EK3_ERR_H */
