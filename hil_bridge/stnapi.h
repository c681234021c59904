/*
 * stnapi.h - the station controller's external (Level 3) API over the
 * network (prefix sapi_): one request per UDP datagram, one text line,
 * one reply datagram. The API key never crosses the network: each
 * request carries a MAC made with it, a time and a nonce (seed 3.1:
 * level 3 is authenticated, rate-limited, logged and auditable).
 *
 * Request (docs/bridge.md, "The station's API on the wire"):
 *
 *   EK3A1 TIME NONCE REQUEST... MAC
 *
 *   TIME    the client's clock, microseconds since the Unix epoch (decimal)
 *   NONCE   16 hex digits, random, chosen by the client
 *   MAC     64 hex digits: HMAC-SHA-256 (RFC 2104, FIPS 180-4) under
 *           K_req over every byte before the space that precedes MAC
 *   K_req = HKDF-SHA-256 (RFC 5869) of the API key, salt "EK3 station API",
 *           info "request MAC v1", 32 bytes; K_rep the same with info
 *           "reply MAC v1"
 *
 *   module SLOT WATTS [VOLTS]   set one module (0 W stops it)
 *   restart SLOT WATTS [VOLTS]  restart a module after a fault (it
 *                               clears its latches if the fault is gone)
 *   rack WATTS [VOLTS]          share WATTS over the online modules
 *   diag SLOT TEST              a self-test (all adc pwm fan ntc flash crypto can)
 *   status [SLOT]               the rack's, or one module's, last state
 *
 * Reply: TEXT '\n' MAC, where TEXT starts with "ok" or "error NAME: reason"
 * (NAME from ek3_errname) and MAC is HMAC-SHA-256 under K_rep over
 * "TIME NONCE TEXT" (the request's TIME and NONCE, or "- -" when they
 * could not be read), so the client knows the station answered this request.
 *
 * The station checks, in this order: the source's failure budget (a
 * token bucket per source address: SAPI_FAIL_BURST failures, then one
 * per 1/SAPI_FAIL_RATE_HZ s; a source over it is not answered and not
 * checked), the form, the MAC (constant time), freshness (TIME within
 * SAPI_FRESH_US of the station's clock and not before the API opened),
 * replay (every accepted MAC is remembered while its TIME is fresh),
 * then the request and the station's own checks (station.h: rate limit,
 * module online, limits). A failed check of the first five is a failed
 * attempt: counted, and logged once per burst per source with the count.
 * VOLTS defaults to the rack's set point.
 */
#ifndef STNAPI_H
#define STNAPI_H

#include <stddef.h>
#include <stdint.h>

#include "station.h"

#define SAPI_LINE_MAX 512                /* longest request or reply, bytes */
#define SAPI_MAGIC "EK3A1"               /* the wire form's name and version */
#define SAPI_MAC_HEX 64                  /* HMAC-SHA-256 in hex */
#define SAPI_NONCE_HEX 16
#define SAPI_FRESH_US 30000000LL         /* a request's TIME within 30 s of the station's clock */
#define SAPI_REPLAY_MAX 1024             /* accepted requests remembered while fresh */
#define SAPI_SOURCES 64                  /* source addresses tracked for failures */
#define SAPI_FAIL_BURST 5.0              /* failed attempts a source may make at once */
#define SAPI_FAIL_RATE_HZ 1.0            /* and then one per second */
#define SAPI_BURST_GAP_US 2000000LL      /* a burst of failures ends after 2 s of quiet */
#define SAPI_BURST_LOG_US 60000000LL     /* a burst that goes on is logged every minute */

typedef struct sapi_stats {
    uint32_t requests;  /* datagrams received */
    uint32_t ok, refused, malformed;
    uint32_t bad_mac, stale, replayed; /* failed attempts, by reason (malformed ones are in malformed) */
    uint32_t throttled; /* datagrams dropped unanswered: their source was over its failure budget */
    uint32_t bursts;    /* burst log lines written */
    uint32_t io_errors;
} sapi_stats;

typedef struct sapi_source {
    char addr[48];      /* numeric address, "" = free */
    double tokens;      /* failure budget */
    int64_t tok_us, first_us, last_us;
    uint32_t fails, dropped, bad_mac, stale, replayed, malformed; /* in the current burst */
} sapi_source;

typedef struct sapi_seen {
    int64_t time_us;    /* the request's TIME (0: free) */
    uint8_t mac[16];    /* the leading half of its MAC */
} sapi_seen;

typedef struct sapi {
    int fd;             /* the bound UDP socket, or -1 */
    station *stn;
    double vset_v;      /* the default set point */
    uint8_t k_req[32], k_rep[32];
    int64_t (*clock_us)(void); /* wall clock, us since the epoch */
    int64_t start_us;   /* when the API opened */
    int64_t last_now;   /* the rig's time at the last request (for the log) */
    unsigned open_bursts;
    sapi_stats st;
    sapi_source src[SAPI_SOURCES];
    sapi_seen seen[SAPI_REPLAY_MAX];
} sapi;

/* Set up an API without a socket (sapi_open does this, then binds):
 * keys derived from the station's API key, clock_us the wall clock
 * (NULL: CLOCK_REALTIME), opened now. 0, or EK3_EINVAL, EK3_ECRYPTO. */
int sapi_init(sapi *a, station *s, double vset_v, int64_t (*clock_us)(void));

/* Check and carry out one datagram (len bytes, no terminator needed)
 * from source address src (numeric, as text) at rig time now; the reply,
 * TEXT '\n' MAC and NUL-terminated, goes into reply (cap bytes, at least
 * SAPI_LINE_MAX). Returns 0 when the station accepted it, 1 when the
 * source is over its failure budget (no reply: reply is ""), else the
 * negative code the reply names: EK3_EPARSE (malformed), EK3_EFORGED
 * (bad MAC), EK3_ESTALE, EK3_EREPLAY, or the station's (EK3_EBUSY,
 * EK3_ENOENT, EK3_ERANGE). Never reads past len; any bytes are safe. */
int sapi_handle(sapi *a, int64_t now, const char *src, const char *req, size_t len, char *reply, size_t cap);

/* Bind "udp:PORT" (loopback), "udp:HOST:PORT" or "udp:[V6]:PORT"; PORT 0
 * picks a free one (sapi_port says which). 0, or EK3_EPARSE (bad spec),
 * EK3_ERANGE (a PORT above 65535), EK3_ENOENT (unknown host), EK3_EIO (socket or bind failed), EK3_EINVAL. */
int sapi_open(sapi *a, station *s, double vset_v, const char *spec);

/* The bound port, or -1. */
int sapi_port(const sapi *a);

/* Answer every request waiting on the socket, without blocking, and log
 * the bursts of failures that have ended. The number of datagrams read. */
int sapi_poll(sapi *a, int64_t now);

/* Log the bursts of failures still open (at the end of a run, before
 * its report). */
void sapi_flush(sapi *a);

/* sapi_flush, then close the socket. */
void sapi_close(sapi *a);

/* Whether req (the REQUEST words, space-separated) has the form the
 * station takes (module|restart SLOT WATTS [VOLTS], rack WATTS [VOLTS],
 * diag SLOT TEST, status [SLOT]): 0, or EK3_EPARSE with the expected form
 * in why[cap]. The station parses with the same function; whether the
 * values are within the module's limits is the station's to say. */
int sapi_req_check(const char *req, char *why, size_t cap);

/* The client's side: the signed request for `req` (the REQUEST words)
 * at time time_us with nonce, under API key `key`, NUL-terminated into
 * out. 0, or EK3_ENOSPC, EK3_EINVAL, EK3_ECRYPTO. */
int sapi_sign(const char *key, int64_t time_us, uint64_t nonce, const char *req, char *out, size_t cap);

/* The client's check of a reply to the request signed with time_us and
 * nonce: 0 and the TEXT alone left in reply, or EK3_EFORGED (the MAC does
 * not verify: a wrong key, or not the station), EK3_EPARSE (no MAC). */
int sapi_reply_check(const char *key, int64_t time_us, uint64_t nonce, char *reply);

/* A client's exchange: sign req with key (a fresh time and a random
 * nonce), send it to "udp:HOST:PORT", wait up to timeout_ms for the
 * reply, check its MAC; the TEXT, NUL-terminated, into reply. 0, or
 * EK3_EPARSE, EK3_ERANGE (a PORT of 0 or above 65535), EK3_ENOENT (HOST
 * does not resolve), EK3_EIO, EK3_EREFUSED (HOST answered that nothing
 * listens at PORT: an ICMP port unreachable, RFC 1122 4.1.3.1),
 * EK3_ETIMEDOUT (no reply in time), EK3_EFORGED (reply left as received,
 * its MAC cut off). */
int sapi_request(const char *spec, const char *key, const char *req, int timeout_ms, char *reply, size_t cap);

#endif /* STNAPI_H */
