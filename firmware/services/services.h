/*
 * services.h - the module's services and their ids (the order of the
 * service table), one list for the target and the rig. IPC between
 * them, and the allow-lists that permit it:
 *   HEALTH_MONITOR -> CAN_HANDLER   the health byte for HEARTBEAT (SVC_MSG_HEALTH)
 *   CAN_HANDLER -> DIAGNOSTICS      a self-test request from the station (SVC_MSG_DIAG_REQ)
 *   DIAGNOSTICS -> CAN_HANDLER      its result, for the station (SVC_MSG_DIAG_RES)
 */
#ifndef SERVICES_H
#define SERVICES_H

#include "audit_logger.h"
#include "can_handler.h"
#include "diagnostics.h"
#include "health_monitor.h"
#include "thermal_mgr.h"

enum { SVC_AUDIT = 1, SVC_CAN = 2, SVC_THERMAL = 3, SVC_HEALTH = 4, SVC_DIAG = 5, SVC_COUNT = 5 };
enum { SVC_MSG_HEALTH = IPC_T_USER + 1, SVC_MSG_DIAG_REQ = IPC_T_USER + 2, SVC_MSG_DIAG_RES = IPC_T_USER + 3 };

/* The table, in id order (an initializer for a jz_service_def array). */
#define EK3_SERVICES { ALOG_SERVICE, CANH_SERVICE, THM_SERVICE, HLTH_SERVICE, DIAG_SERVICE }

#endif /* SERVICES_H */
