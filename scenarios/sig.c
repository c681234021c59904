/* sig.c - the rig's signals by path: one table, resolve, read, print
 * (sig.h). */
#include "sig.h"
#include "fwinst.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "can_id.h"
#include "cli.h"
#include "ek3_err.h"
#include "fault.h"
#include "fwroll.h"
#include "msg.h"
#include "raft.h"
#include "services.h"
#include "swarm.h"
#include "swarmobs.h"

/* The families of paths: how a row is indexed. FAM_KMOD: a module's
 * figure its in-process kernel keeps (not for an external module). */
enum { FAM_RACK, FAM_MOD, FAM_KMOD, FAM_NODE, FAM_SVC };
/* Enum signals: where their names come from. */
enum { EN_NONE, EN_MSTATE, EN_FAULT, EN_CBUS, EN_SVC, EN_ROLE, EN_UPDATE, EN_FWWHY };
/* The load kind a row needs (rack.h rack_load_kind + 1; 0: any). */
enum { LD_ANY, LD_R = RACK_LOAD_R + 1, LD_CP = RACK_LOAD_CP + 1, LD_BAT = RACK_LOAD_BATTERY + 1 };

/* The signal table: id, path pattern, unit, family, enum, load kind,
 * meaning. The one place a signal is added (and one case in sig_read). */
#define SIG_ROWS(X)                                                                                                    \
    X(T, "t", "s", FAM_RACK, EN_NONE, LD_ANY, "simulated time since the run began")                                    \
    X(BUS_V, "bus.v", "V", FAM_RACK, EN_NONE, LD_ANY, "the DC bus voltage at the load")                                \
    X(BUS_I, "bus.i", "A", FAM_RACK, EN_NONE, LD_ANY, "the current the bus delivers to its load (and to a short)")     \
    X(BUS_P, "bus.p", "W", FAM_RACK, EN_NONE, LD_ANY, "the power the bus delivers to its load (and to a short)")       \
    X(LOAD_P, "load.p", "W", FAM_RACK, EN_NONE, LD_CP, "the constant-power load's demand (0 until the load is on)")    \
    X(LOAD_OHM, "load.ohm", "ohm", FAM_RACK, EN_NONE, LD_R,                                                            \
      "the load resistor (the bleed resistor until the load is on)")                                                   \
    X(LOAD_SOC, "load.soc", "", FAM_RACK, EN_NONE, LD_BAT, "the battery's state of charge, 0..1")                      \
    X(RACK_ONLINE, "rack.online", "", FAM_RACK, EN_NONE, LD_ANY, "modules the station heard within the last 3 s")      \
    X(RACK_RUNNING, "rack.running", "", FAM_RACK, EN_NONE, LD_ANY,                                                     \
      "modules running: in their slots, and LLC_CONTROL in RUN (regulating, or held at its current limit: the "        \
      "rack report's headline counts those apart) or external and answering")                                          \
    X(RACK_PRESENT, "rack.present", "", FAM_RACK, EN_NONE, LD_ANY, "modules in their slots")                           \
    X(RACK_STARTED, "rack.started", "", FAM_RACK, EN_NONE, LD_ANY, "1 once the station has started the rack")          \
    X(RACK_I_MIN, "rack.i_min", "A", FAM_RACK, EN_NONE, LD_ANY,                                                        \
      "the lowest output current of the modules in their slots, parked ones left out")                                 \
    X(RACK_I_MEAN, "rack.i_mean", "A", FAM_RACK, EN_NONE, LD_ANY,                                                      \
      "the mean output current of the modules in their slots, parked ones left out")                                   \
    X(RACK_I_MAX, "rack.i_max", "A", FAM_RACK, EN_NONE, LD_ANY,                                                        \
      "the highest output current of the modules in their slots, parked ones left out")                                \
    X(RACK_I_SPREAD, "rack.i_spread", "", FAM_RACK, EN_NONE, LD_ANY,                                                   \
      "current-sharing spread: (i_max - i_min) / i_mean, a fraction (0 while i_mean is 0): 0.02 is "                   \
      "sharing_spread's 2 (%)")                                                                                        \
    X(RACK_PARKED, "rack.parked", "", FAM_RACK, EN_NONE, LD_ANY,                                                       \
      "modules in standby by SWARM_COORD's thin provisioning (drv_park)")                                              \
    X(RACK_TJ_MAX, "rack.tj_max", "C", FAM_RACK, EN_NONE, LD_ANY,                                                      \
      "the hottest junction of the modules in their slots")                                                            \
    X(RACK_COLLAPSED, "rack.collapsed", "", FAM_RACK, EN_NONE, LD_ANY,                                                 \
      "1 when the started rack fails its load: every module tripped, or the bus under half its set point")             \
    X(RACK_SAGGING, "rack.sagging", "", FAM_RACK, EN_NONE, LD_ANY,                                                     \
      "1 when the started rack's bus, up once, is under its droop band (V_set - R_droop x i_max, less 1 % of V_set) "  \
      "for 10 ms, falling (the load takes more than the modules give; not collapsed yet) or held there (a resistor)")  \
    X(M_IOUT, "module[K].iout", "A", FAM_MOD, EN_NONE, LD_ANY, "its output current into the bus")                      \
    X(M_VOUT, "module[K].vout", "V", FAM_MOD, EN_NONE, LD_ANY, "its output capacitor's voltage")                       \
    X(M_PIN, "module[K].pin", "W", FAM_MOD, EN_NONE, LD_ANY, "its input power")                                        \
    X(M_TJ_A, "module[K].tj_a", "C", FAM_MOD, EN_NONE, LD_ANY, "junction temperature of half-bridge leg A")            \
    X(M_TJ_B, "module[K].tj_b", "C", FAM_MOD, EN_NONE, LD_ANY, "junction temperature of half-bridge leg B")            \
    X(M_T_CASE, "module[K].t_case", "C", FAM_MOD, EN_NONE, LD_ANY,                                                     \
      "case temperature of the hotter leg (what its NTCs sense)")                                                      \
    X(M_T_HS, "module[K].t_hs", "C", FAM_MOD, EN_NONE, LD_ANY, "heatsink temperature")                                 \
    X(M_T_AMB, "module[K].t_amb", "C", FAM_MOD, EN_NONE, LD_ANY, "the ambient air it draws")                           \
    X(M_FAN, "module[K].fan", "", FAM_MOD, EN_NONE, LD_ANY, "fan speed, a fraction of full speed")                     \
    X(M_FSW, "module[K].fsw", "Hz", FAM_MOD, EN_NONE, LD_ANY, "the switching frequency its bridge runs at")            \
    X(M_STATE, "module[K].state", "", FAM_MOD, EN_MSTATE, LD_ANY, "what it is doing")                                  \
    X(M_RUNNING, "module[K].running", "", FAM_MOD, EN_NONE, LD_ANY,                                                    \
      "1 while it runs (LLC_CONTROL in RUN: regulating or at its limit)")                                              \
    X(M_PRESENT, "module[K].present", "", FAM_MOD, EN_NONE, LD_ANY, "1 while it is in its slot")                       \
    X(M_RELAY, "module[K].relay", "", FAM_MOD, EN_NONE, LD_ANY,                                                        \
      "1 while its output relay is closed (its firmware's line, no `open` fault) and it is in its slot")               \
    X(M_LOST, "module[K].lost", "", FAM_MOD, EN_NONE, LD_ANY, "1 once its external firmware was given up")             \
    X(M_TRIM, "module[K].trim", "V", FAM_KMOD, EN_NONE, LD_ANY,                                                        \
      "the balancing trim on its droop reference (SWARM_COORD, drv_trim; within +-6 V)")                               \
    X(M_PARKED, "module[K].parked", "", FAM_KMOD, EN_NONE, LD_ANY,                                                     \
      "1 while parked in standby by SWARM_COORD's provisioning (drv_park)")                                            \
    X(M_RESETS, "module[K].resets", "", FAM_MOD, EN_NONE, LD_ANY, "firmware resets: the watchdog's and reboots")       \
    X(M_ISR_MISSED, "module[K].isr_missed", "", FAM_KMOD, EN_NONE, LD_ANY,                                             \
      "control periods its control interrupt missed (an overrun), all told")                                           \
    X(M_FAULT_CODE, "module[K].fault_code", "", FAM_MOD, EN_FAULT, LD_ANY,                                             \
      "the code of its last FAULT_ALERT the station received (NONE: none yet)")                                        \
    X(M_FAULT_CAUSE, "module[K].fault_cause", "", FAM_MOD, EN_FAULT, LD_ANY,                                           \
      "the code of its first FAULT_ALERT of the highest severity, not a clearing one: the trip's cause (NONE: none)")  \
    X(M_ONLINE, "module[K].online", "", FAM_MOD, EN_NONE, LD_ANY,                                                      \
      "1 while the station hears it: a HEARTBEAT within the last 3 s")                                                 \
    X(M_HEARD, "module[K].heard", "s", FAM_MOD, EN_NONE, LD_ANY,                                                       \
      "when the station last received its HEARTBEAT (-1: never)")                                                      \
    X(M_HEALTH, "module[K].health", "", FAM_MOD, EN_NONE, LD_ANY,                                                      \
      "the health byte of its last HEARTBEAT at the station: bits 1 SENSOR_STUCK, 2 SENSOR_RANGE, "                    \
      "4 SENSOR_IMPLAUSIBLE, 8 FAULT_LATCHED, 16 WEAR (0: healthy)")                                                   \
    X(M_HW_TRIP, "module[K].hw_trip", "", FAM_MOD, EN_NONE, LD_ANY,                                                    \
      "1 while its Level-0 protection holds the gates off")                                                            \
    X(M_TRIP_CODE, "module[K].trip_code", "", FAM_MOD, EN_FAULT, LD_ANY,                                               \
      "the first fault its Level-0 protection latched (NONE: not tripped)")                                            \
    X(C_CMDS, "module[K].can.cmds", "", FAM_KMOD, EN_NONE, LD_ANY,                                                     \
      "station-only frames (POWER_CMD, DIAG, ...) its CAN_HANDLER read")                                               \
    X(C_ACCEPTED, "module[K].can.accepted", "", FAM_KMOD, EN_NONE, LD_ANY, "POWER_CMDs it accepted as asked")          \
    X(C_CLAMPED, "module[K].can.clamped", "", FAM_KMOD, EN_NONE, LD_ANY, "POWER_CMDs it clamped to its limits")        \
    X(C_REFUSED, "module[K].can.refused", "", FAM_KMOD, EN_NONE, LD_ANY,                                               \
      "station-only frames it refused: forged, replayed, stale, unauthenticated or a bad payload")                     \
    X(C_FORGED, "module[K].can.forged", "", FAM_KMOD, EN_NONE, LD_ANY, "refused: the authentication tag is wrong")     \
    X(C_REPLAYED, "module[K].can.replayed", "", FAM_KMOD, EN_NONE, LD_ANY,                                             \
      "refused: a freshness counter it had already accepted")                                                          \
    X(C_STALE, "module[K].can.stale", "", FAM_KMOD, EN_NONE, LD_ANY,                                                   \
      "refused: a freshness counter older than the replay window")                                                     \
    X(C_UNAUTH, "module[K].can.unauthenticated", "", FAM_KMOD, EN_NONE, LD_ANY,                                        \
      "refused: not authenticated, or not from the station")                                                           \
    X(C_COMM_LOSSES, "module[K].can.comm_losses", "", FAM_KMOD, EN_NONE, LD_ANY,                                       \
      "times it lost the station while on (COMM_LOSS: no keepalive or SYNC for 2.5 s)")                                \
    X(S_STATE, "module[K].svc.NAME.state", "", FAM_SVC, EN_SVC, LD_ANY,                                                \
      "the service's status in its kernel (RESET: its MCU runs no kernel)")                                            \
    X(S_RESTARTS, "module[K].svc.NAME.restarts", "", FAM_SVC, EN_NONE, LD_ANY,                                         \
      "restarts of the service by the Reincarnation Server")                                                           \
    X(S_CRASHES, "module[K].svc.NAME.crashes", "", FAM_SVC, EN_NONE, LD_ANY, "crashes of the service")                 \
    X(S_RESTART_S, "module[K].svc.NAME.restart_s", "s", FAM_SVC, EN_NONE, LD_ANY,                                      \
      "how long its last restart took, from the crash to the fresh start (0 before its first)")                        \
    X(BUS_LOAD, "canbus.load", "", FAM_RACK, EN_NONE, LD_ANY, "the rack bus's load since the start, 0..1")             \
    X(BUS_FRAMES, "canbus.frames", "", FAM_RACK, EN_NONE, LD_ANY, "frames delivered on the rack bus")                  \
    X(BUS_ERRORS, "canbus.errors", "", FAM_RACK, EN_NONE, LD_ANY, "error frames on the rack bus")                      \
    X(N_TEC, "canbus.node[K].tec", "", FAM_NODE, EN_NONE, LD_ANY, "the node's transmit error counter")                 \
    X(N_REC, "canbus.node[K].rec", "", FAM_NODE, EN_NONE, LD_ANY, "the node's receive error counter")                  \
    X(N_STATE, "canbus.node[K].state", "", FAM_NODE, EN_CBUS, LD_ANY, "the node's fault-confinement state")            \
    X(N_BUS_OFFS, "canbus.node[K].bus_offs", "", FAM_NODE, EN_NONE, LD_ANY, "times the node went bus-off")             \
    X(SW_LEADER, "swarm.leader", "", FAM_RACK, EN_NONE, LD_ANY,                                                        \
      "the slot of the rack's SWARM_COORD leader: the live leader of the highest term (0: none)")                      \
    X(SW_TERM, "swarm.term", "", FAM_RACK, EN_NONE, LD_ANY, "the leader's Raft term (the last leader's while none)")   \
    X(SW_LEADERS, "swarm.leaders", "", FAM_RACK, EN_NONE, LD_ANY, "leaders elected so far, one per term")              \
    X(SW_VIOLATIONS, "swarm.violations", "", FAM_RACK, EN_NONE, LD_ANY,                                                \
      "breaches of election safety, log matching or a committed decision, checked every quantum (swarmobs.h)")         \
    X(SW_FAILOVERS, "swarm.failovers", "", FAM_RACK, EN_NONE, LD_ANY,                                                  \
      "times the rack lost its leader and got one back")                                                               \
    X(SW_LEADERLESS, "swarm.leaderless", "s", FAM_RACK, EN_NONE, LD_ANY,                                               \
      "how long the rack has been without a leader now (0 with one)")                                                  \
    X(SW_FIRST, "swarm.first_leader", "s", FAM_RACK, EN_NONE, LD_ANY,                                                  \
      "when the rack first had a leader (NaN: not yet)")                                                               \
    X(SW_FO_P50, "swarm.failover_p50", "s", FAM_RACK, EN_NONE, LD_ANY,                                                 \
      "median time from losing the leader to having one again (NaN: no failover yet)")                                 \
    X(SW_FO_P99, "swarm.failover_p99", "s", FAM_RACK, EN_NONE, LD_ANY,                                                 \
      "99th percentile (nearest rank) of the failover times")                                                          \
    X(SW_FO_MAX, "swarm.failover_max", "s", FAM_RACK, EN_NONE, LD_ANY, "the longest failover")                         \
    X(UPD_VERSION, "update.version", "", FAM_RACK, EN_NONE, LD_ANY,                                                    \
      "the version of the image the firmware update rolls out, major x 65536 + minor x 256 + patch (0: no update)")    \
    X(UPD_STAGED, "update.staged", "", FAM_RACK, EN_NONE, LD_ANY,                                                      \
      "modules of the update that staged and verified the image (whatever came after)")                                \
    X(UPD_OUT, "update.out", "", FAM_RACK, EN_NONE, LD_ANY,                                                            \
      "modules of the update handing off, rebooting, on trial or reverting now (not yet confirmed)")                   \
    X(UPD_DONE, "update.done", "", FAM_RACK, EN_NONE, LD_ANY, "modules confirmed on the new version")                  \
    X(UPD_REVERTED, "update.reverted", "", FAM_RACK, EN_NONE, LD_ANY, "modules back on their old version")             \
    X(UPD_REFUSED, "update.refused", "", FAM_RACK, EN_NONE, LD_ANY, "modules that refused the image")                  \
    X(UPD_LOST, "update.lost", "", FAM_RACK, EN_NONE, LD_ANY, "modules that stopped answering the update")             \
    X(UPD_HELD, "update.held", "", FAM_RACK, EN_NONE, LD_ANY, "modules staged but held: the canary failed")            \
    X(UPD_WAVES, "update.waves", "", FAM_RACK, EN_NONE, LD_ANY, "waves of the roll started (the canary is the first)") \
    X(UPD_WAITING, "update.waiting", "", FAM_RACK, EN_NONE, LD_ANY,                                                    \
      "1 while staged modules wait for the rack to spare capacity (the demand must stay within 90 % of what the rest " \
      "give)")                                                                                                         \
    X(UPD_HALTED, "update.halted", "", FAM_RACK, EN_NONE, LD_ANY, "1 once a failed canary halted the roll")            \
    X(UPD_FINISHED, "update.finished", "", FAM_RACK, EN_NONE, LD_ANY,                                                  \
      "1 once every module of the update is done, reverted, refused, lost or held (0 while none runs)")                \
    X(M_FW_VERSION, "module[K].fw_version", "", FAM_KMOD, EN_NONE, LD_ANY,                                             \
      "the version of the image it runs, major x 65536 + minor x 256 + patch (its bootloader's choice at its last "    \
      "reset)")                                                                                                        \
    X(M_UPDATE, "module[K].update", "", FAM_MOD, EN_UPDATE, LD_ANY, "its phase in the firmware update (skip: none)")   \
    X(M_UPDATE_WHY, "module[K].update_why", "", FAM_MOD, EN_FWWHY, LD_ANY,                                             \
      "the last refusal it reported in the firmware update (none: none)")                                              \
    X(M_SW_ROLE, "module[K].swarm.role", "", FAM_KMOD, EN_ROLE, LD_ANY,                                                \
      "its SWARM_COORD's Raft role by name: FOLLOWER, PRECANDIDATE, CANDIDATE, LEADER (\"?\" while the service is "    \
      "not running)")                                                                                                  \
    X(M_SW_TERM, "module[K].swarm.term", "", FAM_KMOD, EN_NONE, LD_ANY, "its SWARM_COORD's Raft term")                 \
    X(M_SW_COMMIT, "module[K].swarm.commit", "", FAM_KMOD, EN_NONE, LD_ANY,                                            \
      "its SWARM_COORD's commit index: the rack decisions it holds committed")                                         \
    X(M_SW_FORGED, "module[K].swarm.forged", "", FAM_KMOD, EN_NONE, LD_ANY,                                            \
      "swarm frames it refused: the group key's tag is wrong")                                                         \
    X(M_SW_REPLAYED, "module[K].swarm.replayed", "", FAM_KMOD, EN_NONE, LD_ANY,                                        \
      "swarm frames it refused: the sender's counter was already used or is below its window")                         \
    X(STN_SENT, "station.sent", "", FAM_RACK, EN_NONE, LD_ANY, "POWER_CMD frames the station sent")                    \
    X(STN_RETRIES, "station.retries", "", FAM_RACK, EN_NONE, LD_ANY, "POWER_CMD frames sent again after a timeout")    \
    X(STN_ACKED, "station.acked", "", FAM_RACK, EN_NONE, LD_ANY, "commands the modules acknowledged")                  \
    X(STN_CLAMPED, "station.clamped", "", FAM_RACK, EN_NONE, LD_ANY, "commands a module acknowledged clamped")         \
    X(STN_REFUSED, "station.refused", "", FAM_RACK, EN_NONE, LD_ANY, "commands a module refused")                      \
    X(STN_GAVE_UP, "station.gave_up", "", FAM_RACK, EN_NONE, LD_ANY, "commands given up after every retry")            \
    X(STN_FAULTS, "station.faults", "", FAM_RACK, EN_NONE, LD_ANY, "FAULT_ALERT frames the station received")          \
    X(STN_IMPLAUSIBLE, "station.implausible", "", FAM_RACK, EN_NONE, LD_ANY,                                           \
      "modules the station stopped for a VOUT reading implausible against their running peers'")                       \
    X(STN_RESPLITS, "station.resplits", "", FAM_RACK, EN_NONE, LD_ANY,                                                 \
      "times the station split its rack demand again over a changed set of modules")                                   \
    X(STN_SHARE, "station.share", "W", FAM_RACK, EN_NONE, LD_ANY,                                                      \
      "each module's share of the rack demand at the last split")                                                      \
    X(STN_API_OK, "station.api_ok", "", FAM_RACK, EN_NONE, LD_ANY, "API requests accepted")                            \
    X(STN_API_BAD_KEY, "station.api_bad_key", "", FAM_RACK, EN_NONE, LD_ANY, "API requests refused: wrong key")        \
    X(STN_API_RATE, "station.api_rate", "", FAM_RACK, EN_NONE, LD_ANY, "API requests refused: rate limit")             \
    X(STN_API_RANGE, "station.api_range", "", FAM_RACK, EN_NONE, LD_ANY,                                               \
      "API requests refused: outside a module's limits")                                                               \
    X(STN_API_UNKNOWN, "station.api_unknown", "", FAM_RACK, EN_NONE, LD_ANY,                                           \
      "API requests refused: no such module, or not online")

typedef enum sig_id {
#define SIG_ENUM(id, path, unit, fam, en, ld, meaning) SIG_##id,
    SIG_ROWS(SIG_ENUM)
#undef SIG_ENUM
        SIG_COUNT_
} sig_id;

typedef struct sig_row {
    const char *path, *unit;
    unsigned char fam, en, ld;
    const char *meaning;
} sig_row;

static const sig_row sig_rows[SIG_COUNT_] = {
#define SIG_ROW(id, path, unit, fam, en, ld, meaning) [SIG_##id] = {path, unit, fam, en, ld, meaning},
    SIG_ROWS(SIG_ROW)
#undef SIG_ROW
};

/* The module's services (ids 1.., as every kernel of the rig has them). */
/* The service of a name as the table spells it (fwinst.h), 1.., or 0. */
static unsigned sig_svc_find(const char *name)
{
    unsigned id = fwi_service_id(name);
    return id && !strcmp(fwi_service_name(id), name) ? id : 0;
}
#define SIG_NSVC SVC_COUNT

/* jz_svc_status names (the kernel has none). A service's state: its
 * kernel's status, or RESET while its MCU runs no
 * kernel (held in reset at power-on, fwi_hold; or down in the bootloader
 * with no image to boot), where the kernel's last status would read on. */
#define SIG_SVC_RESET (JZ_SVC_DEAD + 1)
static const char *const sig_svc_status[] = {[JZ_SVC_EMPTY] = "EMPTY",     [JZ_SVC_RUNNING] = "RUNNING",
                                             [JZ_SVC_CRASHED] = "CRASHED", [JZ_SVC_DEAD] = "DEAD",
                                             [SIG_SVC_RESET] = "RESET"};

/* raft_role names (raft.h has none). */
static const char *const sig_roles[] = {[RAFT_FOLLOWER] = "FOLLOWER", [RAFT_PRECANDIDATE] = "PRECANDIDATE",
                                        [RAFT_CANDIDATE] = "CANDIDATE", [RAFT_LEADER] = "LEADER"};

#define SIG_PATH_MAX 128u /* longest path resolved */
#define SIG_NAME_MAX 32u  /* longest service name */

/* ---- reading ---- */

double sig_read(const ses *s, const sig_ref *r)
{
    if (!s || !r || r->id >= SIG_COUNT_)
        return NAN;
    const rig *g = &s->g;
    unsigned fam = sig_rows[r->id].fam;
    if ((fam == FAM_MOD || fam == FAM_KMOD || fam == FAM_SVC) && (r->slot < 1 || r->slot > g->o.modules))
        return NAN;
    if (fam == FAM_NODE && r->slot >= g->bus.n)
        return NAN;
    if (fam == FAM_SVC && (r->sub < 1 || r->sub >= JZ_MAX_SERVICES))
        return NAN;
    /* Indexed rows only read their own: module 1, node 0, service 0 stand in for the others. */
    unsigned k = fam == FAM_MOD || fam == FAM_KMOD || fam == FAM_SVC ? r->slot - 1 : 0;
    const pmod *pm = &g->plant.mod[k];
    const cbus_node *nd = &g->bus.node[fam == FAM_NODE ? r->slot : 0];
    const jz_svc *sv = &g->m[k].fw.k.svc[fam == FAM_SVC ? r->sub : 0];
    ses_sharing sh;
    switch ((sig_id)r->id) {
    case SIG_T:
        return g->t_ns * 1e-9;
    case SIG_BUS_V:
        return g->plant.vbus;
    case SIG_BUS_I:
        return g->plant.i_load;
    case SIG_BUS_P:
        return g->plant.p_load;
    case SIG_LOAD_P:
        return g->plant.load.p_w;
    case SIG_LOAD_OHM:
        return g->plant.load.r;
    case SIG_LOAD_SOC:
        return g->plant.load.soc;
    case SIG_RACK_ONLINE:
        return stn_online(&g->stn, g->t_ns);
    case SIG_RACK_RUNNING: {
        unsigned n = 0;
        for (unsigned j = 0; j < g->o.modules; j++)
            n += (unsigned)ses_mod_running(g, j);
        return n;
    }
    case SIG_RACK_PRESENT:
    case SIG_RACK_I_MIN:
    case SIG_RACK_I_MEAN:
    case SIG_RACK_I_MAX:
    case SIG_RACK_I_SPREAD:
    case SIG_RACK_TJ_MAX:
    case SIG_RACK_PARKED:
        ses_sharing_of(g, &sh);
        return r->id == SIG_RACK_PRESENT ? sh.present
               : r->id == SIG_RACK_I_MIN ? sh.i_min
               : r->id == SIG_RACK_I_MEAN ? sh.i_mean
               : r->id == SIG_RACK_I_MAX ? sh.i_max
               : r->id == SIG_RACK_I_SPREAD ? sh.i_spread
               : r->id == SIG_RACK_PARKED   ? sh.parked
                                            : sh.tj_max;
    case SIG_RACK_STARTED:
        return s->started;
    case SIG_RACK_COLLAPSED:
        return ses_collapsed(s) != 0;
    case SIG_RACK_SAGGING:
        return ses_sagging(s, NULL) != 0;
    case SIG_M_IOUT:
        return pm->io;
    case SIG_M_VOUT:
        return pm->vo;
    case SIG_M_PIN:
        return pm->pin;
    case SIG_M_TJ_A:
        return pm->th.t[TH_JA];
    case SIG_M_TJ_B:
        return pm->th.t[TH_JB];
    case SIG_M_T_CASE:
        return fmax(pmod_t_case(pm, 0), pmod_t_case(pm, 1));
    case SIG_M_T_HS:
        return pm->th.t[TH_HS];
    case SIG_M_T_AMB:
        return pm->p.th.t_amb;
    case SIG_M_FAN:
        return pm->th.fan_speed;
    case SIG_M_FSW:
        return pm->cmd.fsw;
    case SIG_M_STATE:
        return ses_mod_state(g, k);
    case SIG_M_RUNNING:
        return ses_mod_running(g, k);
    case SIG_M_PRESENT:
        return pm->present;
    case SIG_M_RELAY:
        return pm->relay && pm->present; /* a pulled module is off the bus whatever its relay */
    case SIG_M_LOST:
        return g->m[k].lost;
    case SIG_M_TRIM:
        return g->m[k].fw.drv.ctl.trim;
    case SIG_M_PARKED:
        return g->m[k].fw.drv.ctl.parked;
    case SIG_M_RESETS:
        return g->m[k].fw.resets;
    case SIG_M_ISR_MISSED:
        return g->m[k].fw.isr_missed;
    case SIG_M_FAULT_CODE:
        return g->stn.m[k].fault.code;
    case SIG_M_FAULT_CAUSE:
        return g->stn.m[k].cause_ns >= 0 ? g->stn.m[k].cause.code : MSG_FAULT_NONE;
    case SIG_M_ONLINE:
        return g->stn.m[k].hb_ns >= 0 && g->t_ns - g->stn.m[k].hb_ns <= STN_ONLINE_NS;
    case SIG_M_HEARD:
        return g->stn.m[k].hb_ns >= 0 ? g->stn.m[k].hb_ns * 1e-9 : -1;
    case SIG_M_HEALTH:
        return g->stn.m[k].hb_ns >= 0 ? g->stn.m[k].hb.health : 0;
    case SIG_M_HW_TRIP:
        return pm->hw_trip;
    case SIG_M_TRIP_CODE:
        return pm->hw_trip ? flt_msg_code(pm->prot_first) : MSG_FAULT_NONE;
    case SIG_C_CMDS:
    case SIG_C_ACCEPTED:
    case SIG_C_CLAMPED:
    case SIG_C_REFUSED:
    case SIG_C_FORGED:
    case SIG_C_REPLAYED:
    case SIG_C_STALE:
    case SIG_C_COMM_LOSSES:
    case SIG_C_UNAUTH: {
        /* CAN_HANDLER's counters, in its state region (closed between
         * dispatches in strict mode: not readable then). */
        const jz_kernel *kn = &g->m[k].fw.k;
        if (kn->cfg.strict || SVC_CAN >= kn->n || !kn->svc[SVC_CAN].region.base)
            return NAN;
        const canh_stats *c = &((const canh_state *)kn->svc[SVC_CAN].region.base)->st;
        return r->id == SIG_C_CMDS       ? c->cmds
               : r->id == SIG_C_ACCEPTED ? c->accepted
               : r->id == SIG_C_CLAMPED  ? c->clamped
               : r->id == SIG_C_REFUSED  ? c->refused
               : r->id == SIG_C_FORGED   ? c->forged
               : r->id == SIG_C_REPLAYED ? c->replayed
               : r->id == SIG_C_STALE    ? c->stale
               : r->id == SIG_C_COMM_LOSSES ? c->comm_losses
                                         : c->unauthenticated;
    }
    case SIG_S_STATE:
        return !fwi_running(&g->m[k].fw) && sv->status != JZ_SVC_EMPTY ? SIG_SVC_RESET : sv->status;
    case SIG_S_RESTARTS:
        return sv->restarts;
    case SIG_S_CRASHES:
        return sv->crashes;
    case SIG_S_RESTART_S:
        return sv->restarts && sv->started_ns >= sv->crashed_ns ? (sv->started_ns - sv->crashed_ns) * 1e-9 : 0;
    case SIG_BUS_LOAD:
        return cbus_load(&g->bus);
    case SIG_BUS_FRAMES:
        return (double)g->bus.frames;
    case SIG_BUS_ERRORS:
        return (double)g->bus.error_frames;
    case SIG_N_TEC:
        return nd->tec;
    case SIG_N_REC:
        return nd->rec;
    case SIG_N_STATE:
        return nd->state;
    case SIG_N_BUS_OFFS:
        return (double)nd->bus_offs;
    case SIG_SW_LEADER:
    case SIG_SW_TERM:
    case SIG_SW_LEADERS:
    case SIG_SW_VIOLATIONS:
    case SIG_SW_FAILOVERS:
    case SIG_SW_LEADERLESS:
    case SIG_SW_FIRST:
    case SIG_SW_FO_P50:
    case SIG_SW_FO_P99:
    case SIG_SW_FO_MAX: {
        swo_sum sw;
        swo_summary(&g->obs, g->t_ns, &sw);
        return r->id == SIG_SW_LEADER       ? sw.leader
               : r->id == SIG_SW_TERM       ? sw.term
               : r->id == SIG_SW_LEADERS    ? sw.leaders
               : r->id == SIG_SW_VIOLATIONS ? sw.violations
               : r->id == SIG_SW_FAILOVERS  ? sw.failovers
               : r->id == SIG_SW_FIRST      ? sw.first_leader_s
               : r->id == SIG_SW_FO_P50     ? sw.failover_p50_s
               : r->id == SIG_SW_FO_P99     ? sw.failover_p99_s
               : r->id == SIG_SW_FO_MAX     ? sw.failover_max_s
                                            : sw.leaderless_s;
    }
    case SIG_M_SW_ROLE:
    case SIG_M_SW_TERM:
    case SIG_M_SW_COMMIT:
    case SIG_M_SW_FORGED:
    case SIG_M_SW_REPLAYED: {
        const void *st = swo_state(g, k + 1);
        if (!st)
            return NAN;
        swm_view v;
        swm_view_of(st, &v);
        return r->id == SIG_M_SW_ROLE     ? v.role
               : r->id == SIG_M_SW_TERM   ? v.term
               : r->id == SIG_M_SW_COMMIT ? v.commit
               : r->id == SIG_M_SW_FORGED ? v.forged
                                          : v.replayed + v.stale;
    }
    case SIG_UPD_VERSION:
        return g->upd ? g->upd->version : 0;
    case SIG_UPD_STAGED:
    case SIG_UPD_OUT:
    case SIG_UPD_DONE:
    case SIG_UPD_REVERTED:
    case SIG_UPD_REFUSED:
    case SIG_UPD_LOST:
    case SIG_UPD_HELD: {
        if (!g->upd)
            return 0;
        unsigned c[FWR_P_COUNT_];
        fwr_count(g->upd, c);
        unsigned out = c[FWR_P_ACTIVATE] + c[FWR_P_TRIAL] + c[FWR_P_REVERT];
        return r->id == SIG_UPD_STAGED     ? c[FWR_P_STAGED] + out + c[FWR_P_DONE] + c[FWR_P_REVERTED] + c[FWR_P_HELD]
               : r->id == SIG_UPD_OUT      ? out
               : r->id == SIG_UPD_DONE     ? c[FWR_P_DONE]
               : r->id == SIG_UPD_REVERTED ? c[FWR_P_REVERTED]
               : r->id == SIG_UPD_REFUSED  ? c[FWR_P_REFUSED]
               : r->id == SIG_UPD_LOST     ? c[FWR_P_LOST]
                                           : c[FWR_P_HELD];
    }
    case SIG_UPD_WAVES:
        return g->upd ? g->upd->st.waves : 0;
    case SIG_UPD_HALTED:
        return g->upd ? g->upd->halted : 0;
    case SIG_UPD_WAITING:
        return g->upd ? g->upd->waiting : 0;
    case SIG_UPD_FINISHED:
        return g->upd ? fwr_finished(g->upd) : 0;
    case SIG_M_FW_VERSION:
        return g->m[k].fw.boot.version;
    case SIG_M_UPDATE:
        return g->upd && k < g->upd->n ? g->upd->m[k].phase : FWR_P_SKIP;
    case SIG_M_UPDATE_WHY:
        return g->upd && k < g->upd->n ? g->upd->m[k].why : MSG_FWW_NONE;
    case SIG_STN_SENT:
        return g->stn.st.sent;
    case SIG_STN_RETRIES:
        return g->stn.st.retries;
    case SIG_STN_ACKED:
        return g->stn.st.acked;
    case SIG_STN_CLAMPED:
        return g->stn.st.clamped;
    case SIG_STN_REFUSED:
        return g->stn.st.refused;
    case SIG_STN_GAVE_UP:
        return g->stn.st.gave_up;
    case SIG_STN_FAULTS:
        return g->stn.st.faults;
    case SIG_STN_IMPLAUSIBLE:
        return g->stn.st.implausible;
    case SIG_STN_RESPLITS:
        return g->stn.st.resplits;
    case SIG_STN_SHARE:
        return g->stn.dem_each;
    case SIG_STN_API_OK:
        return g->stn.st.api_ok;
    case SIG_STN_API_BAD_KEY:
        return g->stn.st.api_bad_key;
    case SIG_STN_API_RATE:
        return g->stn.st.api_rate;
    case SIG_STN_API_RANGE:
        return g->stn.st.api_range;
    case SIG_STN_API_UNKNOWN:
        return g->stn.st.api_unknown;
    case SIG_COUNT_:
        break;
    }
    return NAN;
}

const char *sig_unit(const sig_ref *r)
{
    return r && r->id < SIG_COUNT_ ? sig_rows[r->id].unit : "";
}

/* Name of value v of enum kind en, or NULL past its end. */
static const char *sig_name_of(unsigned en, unsigned v)
{
    switch (en) {
    case EN_MSTATE: {
        const char *n = ses_mstate_name(v);
        return strcmp(n, "?") ? n : NULL;
    }
    case EN_FAULT: {
        const msg_desc *d = msg_desc_of(CID_TYPE_FAULT);
        for (unsigned i = 0; d && i < d->nfields; i++)
            if (!strcmp(d->fields[i].name, "code") && d->fields[i].names)
                return v <= (uint64_t)d->fields[i].max ? d->fields[i].names[v] : NULL;
        return NULL;
    }
    case EN_CBUS: {
        const char *n = cbus_state_name(v);
        return strcmp(n, "?") ? n : NULL;
    }
    case EN_SVC:
        return v < sizeof sig_svc_status / sizeof sig_svc_status[0] ? sig_svc_status[v] : NULL;
    case EN_ROLE:
        return v < sizeof sig_roles / sizeof sig_roles[0] ? sig_roles[v] : NULL;
    case EN_UPDATE:
        return v < FWR_P_COUNT_ ? fwr_phase_name(v) : NULL;
    case EN_FWWHY:
        return v < MSG_FWW_COUNT_ ? fwr_why_name(v) : NULL;
    }
    return NULL;
}

const char *sig_enum_name(const sig_ref *r, double v)
{
    if (!r || r->id >= SIG_COUNT_ || sig_rows[r->id].en == EN_NONE)
        return NULL;
    const char *n = v >= 0 && v < 256 && v == floor(v) ? sig_name_of(sig_rows[r->id].en, (unsigned)v) : NULL;
    return n ? n : "?";
}

sig_kind sig_kind_of(const sig_ref *r, double *max)
{
    double m = 0;
    sig_kind k = SIG_K_REAL;
    if (r && r->id < SIG_COUNT_ && !sig_rows[r->id].unit[0]) {
        switch ((sig_id)r->id) {
        case SIG_LOAD_SOC: /* fractions */
        case SIG_RACK_I_SPREAD:
        case SIG_M_FAN:
        case SIG_BUS_LOAD:
            break;
        case SIG_RACK_STARTED:
        case SIG_RACK_COLLAPSED:
        case SIG_RACK_SAGGING:
        case SIG_M_RUNNING:
        case SIG_M_PRESENT:
        case SIG_M_RELAY:
        case SIG_M_LOST:
        case SIG_M_PARKED:
        case SIG_M_ONLINE:
        case SIG_M_HW_TRIP:
        case SIG_UPD_HALTED:
        case SIG_UPD_WAITING:
        case SIG_UPD_FINISHED:
            k = SIG_K_BOOL, m = 1;
            break;
        case SIG_M_HEALTH:
            k = SIG_K_COUNT, m = 255;
            break;
        case SIG_N_TEC: /* 8-bit counters that pass 255 on the way to bus-off */
        case SIG_N_REC:
            k = SIG_K_COUNT, m = 511;
            break;
        case SIG_BUS_FRAMES:
        case SIG_BUS_ERRORS:
        case SIG_N_BUS_OFFS:
            k = SIG_K_COUNT, m = 9007199254740991.0; /* 2^53 - 1: the whole numbers a double holds */
            break;
        default:
            if (sig_rows[r->id].en != EN_NONE) {
                k = SIG_K_ENUM;
                for (unsigned v = 0; v < 256; v++)
                    if (sig_name_of(sig_rows[r->id].en, v))
                        m = v;
            } else {
                k = SIG_K_COUNT, m = 4294967295.0; /* 32-bit counters, slots, terms */
            }
        }
    }
    if (max)
        *max = m;
    return k;
}

/* ---- paths ---- */

/* A row's pattern made concrete: K -> idx, NAME -> name. Returns the
 * length, or -1 when it does not fit cap. */
static int sig_fill(const char *pat, const char *idx, const char *name, char *buf, size_t cap)
{
    size_t o = 0;
    for (const char *p = pat; *p;) {
        const char *put = NULL;
        size_t n = 1;
        if (!strncmp(p, "[K]", 3))
            put = idx, n = 3;
        else if (!strncmp(p, "NAME", 4))
            put = name, n = 4;
        if (put) {
            size_t l = strlen(put);
            if (o + l + 2 >= cap)
                return -1;
            if (n == 3)
                buf[o++] = '[';
            memcpy(buf + o, put, l), o += l;
            if (n == 3)
                buf[o++] = ']';
        } else {
            if (o + 1 >= cap)
                return -1;
            buf[o++] = *p;
        }
        p += n;
    }
    buf[o] = '\0';
    return (int)o;
}

const char *sig_path(const sig_ref *r, char *buf, size_t cap)
{
    if (!r || r->id >= SIG_COUNT_ || !buf || !cap)
        return NULL;
    const sig_row *w = &sig_rows[r->id];
    char idx[16];
    snprintf(idx, sizeof idx, "%u", r->slot);
    const char *name = "";
    if (w->fam == FAM_SVC) {
        if (!(name = fwi_service_name(r->sub)))
            return NULL;
    }
    return sig_fill(w->path, idx, name, buf, cap) < 0 ? NULL : buf;
}

static void sig_err(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void sig_err(char *err, size_t cap, const char *fmt, ...)
{
    if (!err || !cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

/* Whether row i is a signal of this session's rig (its load kind). */
static int sig_row_fits(const ses *s, unsigned i)
{
    return !s || sig_rows[i].ld == LD_ANY || sig_rows[i].ld == s->load0.kind + 1;
}

/* The closest valid paths to `in`: the rows made concrete with the
 * input's index (or 1) and service name (or each service's): up to 3
 * of those nearest (ties in table order), within half the input's length. */
static void sig_suggest(const ses *s, const char *in, const char *idx, const char *name, char *out, size_t cap)
{
    enum { BEST = 3 };
    char best[BEST][SIG_PATH_MAX + SIG_NAME_MAX + 8];
    unsigned bd[BEST], nb = 0;
    size_t len = strlen(in);
    unsigned limit = (unsigned)(len / 2 > 2 ? len / 2 : 2);
    int name_ok = name[0] && sig_svc_find(name);
    for (unsigned i = 0; i < SIG_COUNT_; i++) {
        if (!sig_row_fits(s, i))
            continue;
        unsigned nn = sig_rows[i].fam == FAM_SVC && !name_ok ? SIG_NSVC : 1;
        for (unsigned j = 0; j < nn; j++) {
            char c[sizeof best[0]];
            const char *nm = sig_rows[i].fam != FAM_SVC ? "" : name_ok ? name : fwi_service_name(j + 1);
            if (sig_fill(sig_rows[i].path, idx[0] ? idx : "1", nm, c, sizeof c) < 0)
                continue;
            unsigned d = cli_edit_distance(in, c);
            if (d > limit)
                continue;
            unsigned at = nb;
            while (at > 0 && bd[at - 1] > d)
                at--;
            if (at >= BEST)
                continue;
            for (unsigned m = (nb < BEST ? nb : BEST - 1); m > at; m--)
                bd[m] = bd[m - 1], memcpy(best[m], best[m - 1], sizeof best[m]);
            bd[at] = d;
            memcpy(best[at], c, sizeof c);
            if (nb < BEST)
                nb++;
        }
    }
    out[0] = '\0';
    size_t o = 0;
    for (unsigned i = 0; i < nb && bd[i] == bd[0] && o < cap; i++) {
        int n = snprintf(out + o, cap - o, "%s%s", i ? ", " : "", best[i]);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

/* The path as it may be quoted in a message: unprintable bytes as '?'. */
static void sig_quote(const char *path, char *buf, size_t cap)
{
    size_t i = 0;
    for (; path[i] && i + 1 < cap; i++)
        buf[i] = (unsigned char)path[i] < 0x20 || (unsigned char)path[i] >= 0x7f ? '?' : path[i];
    buf[i] = '\0';
}

int sig_resolve(const ses *s, const char *path, sig_ref *out, char *err, size_t cap)
{
    if (err && cap)
        err[0] = '\0';
    if (!path || !out) {
        sig_err(err, cap, "no signal path");
        return EK3_EINVAL;
    }
    size_t len = strlen(path);
    char q[SIG_PATH_MAX + 1];
    sig_quote(path, q, sizeof q);
    if (len == 0) {
        sig_err(err, cap, "empty signal path");
        return EK3_ENOENT;
    }
    if (len > SIG_PATH_MAX) {
        sig_err(err, cap, "signal path '%.40s...' is too long (%zu characters; at most %u)", q, len, SIG_PATH_MAX);
        return EK3_ENOENT;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)path[i];
        if (ch <= ' ' || ch >= 0x7f) {
            sig_err(err, cap, "signal path '%s': %s at character %zu", q,
                    ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f'
                        ? "whitespace"
                        : "a byte that is not printable ASCII",
                    i + 1);
            return EK3_ENOENT;
        }
    }
    /* The pattern: the first [digits] becomes [K] (idx: its digits; with
     * a leading zero, "[007]", it stays and idx is "7" for the
     * suggestions); after "module[K].svc." the next segment is the NAME. */
    char pat[SIG_PATH_MAX + 8], idx[SIG_PATH_MAX + 1] = "", name[SIG_NAME_MAX + 1] = "";
    unsigned long k = 0;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (path[i] == '[' && !idx[0]) {
            size_t j = i + 1;
            while (j < len && path[j] >= '0' && path[j] <= '9')
                j++;
            if (j > i + 1 && j < len && path[j] == ']') {
                size_t nd = j - i - 1, z = 0;
                if (path[i + 1] == '0' && nd > 1) { /* not an index */
                    while (z + 1 < nd && path[i + 1 + z] == '0')
                        z++;
                    memcpy(idx, path + i + 1 + z, nd - z);
                    idx[nd - z] = '\0';
                    pat[o++] = path[i++];
                    continue;
                }
                memcpy(idx, path + i + 1, nd);
                idx[nd] = '\0';
                for (size_t d = i + 1; d < j; d++)
                    k = k > 100000000ul ? k : k * 10 + (unsigned long)(path[d] - '0');
                memcpy(pat + o, "[K]", 3), o += 3;
                i = j + 1;
                continue;
            }
        }
        pat[o++] = path[i++];
    }
    pat[o] = '\0';
    static const char svc_pre[] = "module[K].svc.";
    if (!strncmp(pat, svc_pre, sizeof svc_pre - 1)) {
        const char *nm = pat + sizeof svc_pre - 1, *dot = strchr(nm, '.');
        size_t nl = dot ? (size_t)(dot - nm) : strlen(nm);
        if (nl > 0 && nl <= SIG_NAME_MAX) {
            memcpy(name, nm, nl);
            name[nl] = '\0';
            memmove(pat + sizeof svc_pre - 1 + 4, nm + nl, strlen(nm + nl) + 1);
            memcpy(pat + sizeof svc_pre - 1, "NAME", 4);
        }
    }
    unsigned id = SIG_COUNT_;
    for (unsigned i = 0; i < SIG_COUNT_; i++)
        if (!strcmp(pat, sig_rows[i].path)) {
            id = i;
            break;
        }
    if (id == SIG_COUNT_ || !sig_row_fits(s, id)) {
        if (id != SIG_COUNT_) {
            static const char *const kinds[] = {"a resistor (load.ohm)", "a constant-power load (load.p)",
                                                "a battery (load.soc)"};
            sig_err(err, cap, "%s: the rack's load is %s", q, kinds[s->load0.kind < 3 ? s->load0.kind : 0]);
            return EK3_ENOENT;
        }
        char sug[3 * (SIG_PATH_MAX + SIG_NAME_MAX + 8) + 8];
        sig_suggest(s, path, idx, name, sug, sizeof sug);
        if (sug[0])
            sig_err(err, cap, "unknown signal '%s'; did you mean %s?", q, sug);
        else
            sig_err(err, cap, "unknown signal '%s' ('ek3 scenario signals' lists them)", q);
        return EK3_ENOENT;
    }
    const sig_row *w = &sig_rows[id];
    sig_ref r = {id, 0, 0};
    if (w->fam != FAM_RACK && !idx[0]) { /* "canbus.node[K].state" as the list writes it */
        sig_err(err, cap, "'%s': K stands for a number, e.g. %s", q,
                w->fam == FAM_NODE ? "canbus.node[0] (the station) to canbus.node[N]" : "module[1] to module[N]");
        return EK3_ENOENT;
    }
    if (w->fam != FAM_RACK) {
        /* Without a session, the most a rig can have: slots 1..510 (can_id.h). */
        unsigned n = s ? s->g.o.modules : CID_NODE_MODULE_MAX;
        if (w->fam == FAM_NODE && k > n) {
            sig_err(err, cap, "canbus.node[%s]: %s 0 to %u (0 is the station)", idx,
                    s ? "the bus has nodes" : "bus nodes are", n);
            return EK3_ERANGE;
        }
        if (w->fam != FAM_NODE && (k < 1 || k > n)) {
            sig_err(err, cap, "module[%s]: %s 1 to %u", idx, s ? "the rack has modules" : "slots are", n);
            return EK3_ERANGE;
        }
        r.slot = (unsigned)k;
    }
    if (w->fam == FAM_SVC || w->fam == FAM_KMOD) {
        r.sub = w->fam == FAM_SVC ? sig_svc_find(name) : 0;
        if (w->fam == FAM_SVC && !r.sub) {
            char hint[320];
            fwi_service_hint(name, hint, sizeof hint);
            sig_err(err, cap, "unknown service '%s' in '%s'; %s", name, q, hint);
            return EK3_ENOENT;
        }
        if (s && s->g.m[k - 1].external) {
            sig_err(err, cap, "%s: module %lu runs its firmware outside the rig (external); its kernel cannot be read",
                    q, k);
            return EK3_ENOENT;
        }
    }
    *out = r;
    return EK3_OK;
}

/* ---- the listing ---- */

int sig_print(FILE *f, int markdown)
{
    if (!f)
        return EK3_EINVAL;
    if (markdown)
        fprintf(f, "| Signal | Unit | Meaning |\n|---|---|---|\n");
    for (unsigned i = 0; i < SIG_COUNT_; i++) {
        const sig_row *w = &sig_rows[i];
        char names[256] = "";
        if (w->en != EN_NONE) {
            size_t o = 0;
            const char *n;
            for (unsigned v = 0; v < 64 && (n = sig_name_of(w->en, v)) != NULL && o < sizeof names; v++) {
                int m = snprintf(names + o, sizeof names - o, "%s%u %s", v ? ", " : ": ", v, n);
                if (m < 0)
                    break;
                o += (size_t)m;
            }
        }
        if (markdown)
            fprintf(f, "| `%s` | %s | %s%s |\n", w->path, w->unit, w->meaning, names);
        else
            fprintf(f, "%-30s %-4s %s%s\n", w->path, w->unit[0] ? w->unit : "-", w->meaning, names);
    }
    char list[320];
    fwi_service_hint(NULL, list, sizeof list);
    fprintf(f, "\nK: a module's slot, 1 to N; in canbus.node[K], a bus node, 0 to N (0 is the station).\n");
    fprintf(f, "%sNAME: a service of the module's kernel; %s.\n", markdown ? "\n" : "", list);
    fprintf(f, "%smodule[K].can.*: its CAN_HANDLER's counts since the service last started (a restart begins "
               "them at 0).\n", markdown ? "\n" : "");
    return fflush(f) || ferror(f) ? EK3_EIO : EK3_OK;
}
