/*
 * rs.h - the Reincarnation Server of JEZGRO (prefix rs_), after MINIX's.
 *
 * Per service: a heartbeat period, the time of the last ping and of the
 * last sign of life. A service has crashed when its handler fails, a
 * memory fault stops it, its guard words are overwritten, its queue
 * overflows, or it leaves a ping unanswered for more than RS_HANG_MS.
 * A non-critical service is restarted with a fresh state: at once the
 * first time, then after a delay that doubles for each crash that comes
 * within RS_STABLE_MS of its last restart (up to RS_BACKOFF_MAX_MS). A
 * critical service (LLC control, safety monitor) is not restarted: the
 * kernel performs the safe shutdown. Every crash and restart is an
 * audit event.
 */
#ifndef RS_H
#define RS_H

#include "jz.h"

#define RS_HANG_MS 100u        /* seed 5.2: service watchdog */
#define RS_BACKOFF_BASE_MS 2u  /* second crash in a row waits this long */
#define RS_BACKOFF_MAX_MS 2000u
#define RS_STABLE_MS 1000u     /* alive this long: the backoff is forgiven */

/* Declare service `id` crashed now, for `reason`. A no-op for a service
 * that is not running. */
void rs_crash(jz_kernel *k, unsigned id, jz_crash_reason reason);

/* Restarts that are due, pings that are due, missed heartbeats. Called
 * by jz_run at the start of every pass. */
void rs_poll(jz_kernel *k);

/* Restart service id now with a fresh state (used by rs_poll). */
void rs_restart(jz_kernel *k, unsigned id);

/* Name of a crash reason ("QUEUE"). */
const char *rs_reason_name(unsigned reason);

#endif /* RS_H */
