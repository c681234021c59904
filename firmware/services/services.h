/*
 * services.h - the module's services, their ids and who may send to
 * whom: one table for the target and the rig (EK3_SERVICES), the only
 * place a service is added. IPC between them, and the allow-lists that
 * permit it (named by service id, JZ_ALLOW, never by bit position):
 *   HEALTH_MONITOR -> CAN_HANDLER   the health byte for HEARTBEAT (SVC_MSG_HEALTH)
 *   CAN_HANDLER -> DIAGNOSTICS      a self-test request from the station (SVC_MSG_DIAG_REQ)
 *   DIAGNOSTICS -> CAN_HANDLER      its result, for the station (SVC_MSG_DIAG_RES)
 *   THERMAL_MGR -> CAN_HANDLER      a fan fault raised or cleared, for FAULT_ALERT (SVC_MSG_FAULT)
 *   CAN_HANDLER -> SWARM_COORD      a swarm frame, raw (SWM_MSG_FRAME: ELECTION, SYNC, THERMAL)
 *   SWARM_COORD -> CAN_HANDLER      pass THERMAL shares on or not (SWM_MSG_WANT_THERMAL: it leads);
 *                                   the current leader's SYNC taken, for COMM_LOSS (SWM_MSG_LEADER)
 *   CAN_HANDLER -> UPDATE_MGR       a checked FW_UPDATE frame, decoded (SVC_MSG_FW: msg_fw_update)
 *   UPDATE_MGR -> CAN_HANDLER       its STATUS, for the station (SVC_MSG_FW_STATUS: msg_fw_update)
 *   UPDATE_MGR -> AUDIT_LOGGER      a refusal or an update step to log (SVC_MSG_AUDIT: type, payload)
 *   SWARM_COORD -> UPDATE_MGR       the rack's mean current from the leader's SYNC, 10 Hz (SVC_MSG_RACK_MEAN)
 *
 * Adding a service: its id in the enum below (ids are the table's order,
 * 1 up), its entry in EK3_SERVICES with the ids it may send to, its IPC
 * message types here; a CAN message type it answers goes in CAN_HANDLER's
 * route table (can_handler.c, canh_routes).
 */
#ifndef SERVICES_H
#define SERVICES_H

#include "audit_logger.h"
#include "can_handler.h"
#include "diagnostics.h"
#include "fw_update.h"
#include "health_monitor.h"
#include "swarm.h"
#include "thermal_mgr.h"

/* SWARM_COORD stays last: a rack without the swarm runs the table less its last entry (fwinst.c). */
enum { SVC_AUDIT = 1, SVC_CAN = 2, SVC_THERMAL = 3, SVC_HEALTH = 4, SVC_DIAG = 5, SVC_UPDATE = 6, SVC_SWARM = 7,
       SVC_COUNT = 7 };
enum {
    SVC_MSG_HEALTH = IPC_T_USER + 1,   /* 1 byte: the health byte (HLTH_*) */
    SVC_MSG_DIAG_REQ = IPC_T_USER + 2, /* a msg_diag request */
    SVC_MSG_DIAG_RES = IPC_T_USER + 3, /* a msg_diag result */
    SVC_MSG_FAULT = IPC_T_USER + 4,    /* a msg_fault to send as FAULT_ALERT (CAN_HANDLER fills in the module) */
    SVC_MSG_FW = IPC_T_USER + 5,       /* a msg_fw_update from the station, tag checked */
    SVC_MSG_FW_STATUS = IPC_T_USER + 6, /* a msg_fw_update STATUS to send to the station */
    SVC_MSG_AUDIT = IPC_T_USER + 7,    /* a record for the audit log: type (ALOG_T_*), then its payload */
    SVC_MSG_RACK_MEAN = IPC_T_USER + 10 /* u32: the rack's mean output current per module, mA (SWARM's SYNC) */
};

/* The table: each service at its id (an initializer for a jz_service_def
 * array; services[i] gets id i + 1), with the services it may send to. */
#define EK3_SERVICES                                                                                        \
    {                                                                                                       \
        [SVC_AUDIT - 1] = ALOG_SERVICE(0),                                                                  \
        [SVC_CAN - 1] = CANH_SERVICE(JZ_ALLOW(SVC_DIAG) | JZ_ALLOW(SVC_SWARM) | JZ_ALLOW(SVC_UPDATE)),      \
        [SVC_THERMAL - 1] = THM_SERVICE(JZ_ALLOW(SVC_CAN)),                                                 \
        [SVC_HEALTH - 1] = HLTH_SERVICE(JZ_ALLOW(SVC_CAN)),                                                 \
        [SVC_DIAG - 1] = DIAG_SERVICE(JZ_ALLOW(SVC_CAN)),                                                   \
        [SVC_UPDATE - 1] = FWU_SERVICE(JZ_ALLOW(SVC_CAN) | JZ_ALLOW(SVC_AUDIT)),                            \
        [SVC_SWARM - 1] = SWM_SERVICE(JZ_ALLOW(SVC_CAN) | JZ_ALLOW(SVC_UPDATE)),                            \
    }

#endif /* SERVICES_H */
