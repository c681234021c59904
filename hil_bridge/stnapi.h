/*
 * stnapi.h - the station controller's external (Level 3) API over the
 * network (prefix sapi_): one request per UDP datagram, one text line,
 * one reply datagram. Every request carries the API key; the station
 * checks it, its rate limit, the module and the limits (station.h) and
 * the modules check again.
 *
 *   KEY module SLOT WATTS [VOLTS]   set one module (0 W stops it)
 *   KEY restart SLOT WATTS [VOLTS]  restart a module after a fault (it
 *                                   clears its latches if the fault is gone)
 *   KEY rack WATTS [VOLTS]          share WATTS over the online modules
 *   KEY diag SLOT TEST              a self-test (all adc pwm fan ntc flash crypto can)
 *   KEY status [SLOT]               the rack's, or one module's, last state
 *
 * Replies start with "ok" or "error NAME: reason" (NAME from ek3_errname).
 * VOLTS defaults to the rack's set point.
 */
#ifndef STNAPI_H
#define STNAPI_H

#include <stddef.h>
#include <stdint.h>

#include "station.h"

#define SAPI_LINE_MAX 256 /* longest request or reply, bytes */

typedef struct sapi_stats {
    uint32_t requests, ok, refused, malformed, io_errors;
} sapi_stats;

typedef struct sapi {
    int fd;            /* the bound UDP socket, or -1 */
    station *stn;
    double vset_v;     /* the default set point */
    sapi_stats st;
} sapi;

/* Parse and carry out one request (len bytes, no terminator needed) at
 * time now; the reply, NUL-terminated, goes into reply (cap bytes, at
 * least SAPI_LINE_MAX). Returns 0 when the station accepted it, else the
 * negative code the reply names: EK3_EPARSE for a malformed request, or
 * the station's (EK3_EPERM, EK3_EBUSY, EK3_ENOENT, EK3_ERANGE). Never
 * reads past len; any bytes are safe. */
int sapi_handle(station *s, double vset_v, int64_t now, const char *req, size_t len, char *reply, size_t cap);

/* Bind "udp:PORT" (loopback), "udp:HOST:PORT" or "udp:[V6]:PORT"; PORT 0
 * picks a free one (sapi_port says which). 0, or EK3_EPARSE (bad spec),
 * EK3_ENOENT (unknown host), EK3_EIO (socket or bind failed). */
int sapi_open(sapi *a, station *s, double vset_v, const char *spec);

/* The bound port, or -1. */
int sapi_port(const sapi *a);

/* Answer every request waiting on the socket, without blocking. The
 * number answered, or EK3_EIO. */
int sapi_poll(sapi *a, int64_t now);

void sapi_close(sapi *a);

/* A client's exchange: send req to "udp:HOST:PORT" and wait up to
 * timeout_ms for the reply (NUL-terminated into reply). 0, or EK3_EPARSE,
 * EK3_ENOENT, EK3_EIO, EK3_ETIMEDOUT. */
int sapi_request(const char *spec, const char *req, int timeout_ms, char *reply, size_t cap);

#endif /* STNAPI_H */
