/* fault.c - the fault table and the functions that apply it. */
#include "fault.h"

#include "raft.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "canbus.h"
#include "cli.h"
#include "fwinst.h"
#include "ek3_err.h"
#include "inject.h"
#include "msg.h"
#include "rtlprot.h"
#include "services.h"

#define NOP {0}
#define SVC_MODELS_NOTE "; the restart server's answer is the test"

const flt_def flt_table[] = {
    [FLT_PULL] = {"pull",
                  FLT_PLANT,
                  FLT_T_SLOT,
                  0,
                  1,
                  {NOP},
                  "hot swap: the module leaves its slot (no output, no load on the bus, off the rack bus); "
                  "cleared, it is put back as an insert (its firmware boots, its relay closes at its pre-charge)",
                  "the others take its share by droop, the bus stays in its droop band (EK-TECH-010 6.2: 'isolated, "
                  "others compensate'; 6.3)"},
    [FLT_INSERT] = {"insert",
                    FLT_PLANT,
                    FLT_T_SLOT,
                    0,
                    1,
                    {NOP},
                    "hot swap: a fresh module at rest goes into an empty slot, its firmware booting (in-process "
                    "modules), its output relay open until its firmware closes it (the HIL channel's relay line)",
                    "the others run on undisturbed; the station hears it and splits its rack demand again: "
                    "commanded on, the module pre-charges its output to the bus it reads beyond the relay, closes "
                    "the relay within 5 V of it (no inrush) and shares current (EK-TECH-010 6.1, 6.3)"},
    [FLT_IGF] = {"igf",
                 FLT_PLANT,
                 FLT_T_SLOT,
                 1,
                 1,
                 {{"i", "A", 0, 10, 0.05, 0}},
                 "ground fault: leakage current to the chassis, seen by the IGF channel and the GFI comparator "
                 "(up to the module's fs_igf)",
                 "above 30 mA SAFETY_MONITOR trips GFI: the module goes to FAULT (latched) and the station gets "
                 "FAULT_ALERT; the Level-0 comparator at 50 mA (EK-TECH-010 2.1: GFI < 10 ms)"},
    [FLT_FAN] = {"fan",
                 FLT_PLANT,
                 FLT_T_SLOT,
                 1,
                 1,
                 {{"health", "", 0, 1, 0, 0}},
                 "fan seized (health 0) or slowed: it reaches health x the commanded speed; the tachometer shows it",
                 "THERMAL_MGR raises FAN_FAIL once its tachometer has read under half the commanded speed for 1 s; "
                 "a seized fan first coasts down with the fan's time constant (fan_tau, 2 s), so FAN_FAIL comes "
                 "about 3-3.5 s after the fault; it derates from 80 C case instead of tripping where derating holds "
                 "it (EK-TECH-010 2.3: fan control, power derating)"},
    [FLT_SHORT] = {"short",
                   FLT_PLANT,
                   FLT_T_RACK,
                   1,
                   1,
                   {{"r", "ohm", 1e-3, 1e6, 0.1, 0}},
                   "output short: the DC bus shorted through r, in parallel with the load",
                   "the bus collapses: near resonance a module is almost a voltage source, so a bus that falls "
                   "faster than its 10 kHz current loop follows (a hard short, the default 0.1 ohm, within a period; "
                   "a deep resistive step within milliseconds) drives its current past 3.98 A and its OCP trips, "
                   "the firmware's or the Level-0 comparator's at 4.0 A; a bus that sags slowly is held at the "
                   "current limit (3.95 A as its own sensor reads it) (EK-TECH-010 2.1: OCP, hardware-backed)"},
    [FLT_ADC_OFFSET] = {"adc-offset",
                        FLT_PLANT,
                        FLT_T_SLOT,
                        2,
                        1,
                        {{"ch", "", 0, PMOD_ADC_CHANNELS - 1, 0, 1}, {"lsb", "", -4095, 4095, 100, 0}},
                        "sensor offset: ADC channel ch (msg_adc_ch order) reads lsb codes more",
                        "the firmware acts on the shifted reading (on VOUT its droop share moves, on IOUT its "
                        "current loop); a small offset is not flagged (EK-TECH-010 2.1: sensing in the HAL)"},
    [FLT_ADC_STUCK] = {"adc-stuck",
                       FLT_PLANT,
                       FLT_T_SLOT,
                       2,
                       1,
                       {{"ch", "", 0, PMOD_ADC_CHANNELS - 1, 0, 1}, {"code", "", 0, 4095, 0, 1}},
                       "sensor stuck or wire broken: ADC channel ch reads code whatever it senses",
                       "HEALTH_MONITOR flags SENSOR_STUCK after 5 s of one code (FAULT_ALERT SENSOR to the "
                       "station); a stuck reading past a limit "
                       "trips SAFETY_MONITOR (VOUT at 4095 reads 1000 V: OVP, FAULT) (EK-TECH-010 2.3)"},
    [FLT_OPEN] = {"open",
                  FLT_PLANT,
                  FLT_T_SLOT,
                  0,
                  1,
                  {NOP},
                  "open output: the module's output relay or fuse opens by a fault, whatever its firmware's relay "
                  "line commands; it stays in its slot and switches on into its own bleeder, delivering nothing to "
                  "the bus",
                  "its bus current is 0 and the others take its share by droop (EK-TECH-010 6.2); its firmware "
                  "holds its unloaded output above the bus and raises no fault; reclosed, that output meets the bus "
                  "unmatched and the Level-0 OCP trips"},
    [FLT_LOAD_DUMP] = {"load-dump",
                       FLT_PLANT,
                       FLT_T_RACK,
                       0,
                       1,
                       {NOP},
                       "load dump: the rack's load is disconnected at once (a contactor opens under load)",
                       "the bus rises until every module's droop loop takes its current to zero, and stays under "
                       "the firmware OVP (900 V): no trip (EK-TECH-010 2.1, 6.2 droop)"},
    [FLT_VDC_SAG] = {"vdc-sag",
                     FLT_PLANT,
                     FLT_T_SLOT,
                     2,
                     1,
                     {{"frac", "", 0, 0.9, 0.2, 0}, {"t", "s", 0, 10, 0.01, 0}},
                     "DC-link sag: the module's input DC link (from its PFC front end) falls to (1 - frac) x its "
                     "value in a ramp of t (its bulk capacitor; 0: a step); the VDC channel reads it",
                     "LLC_CONTROL lowers the switching frequency (more tank gain) and runs on at 5 %; from 10 % "
                     "(even in 10 ms) it drives past the tank's gain peak and the Level-0 OCP trips; no DC-link "
                     "undervoltage reaction"},
    [FLT_VDC_SURGE] = {"vdc-surge",
                       FLT_PLANT,
                       FLT_T_SLOT,
                       2,
                       1,
                       {{"frac", "", 0, 0.5, 0.1, 0}, {"t", "s", 0, 10, 0.01, 0}},
                       "DC-link surge: the module's input DC link rises to (1 + frac) x its value in a ramp of t "
                       "(0: a step); the VDC channel reads it",
                       "LLC_CONTROL raises the switching frequency (or bursts) and keeps its share; it has no "
                       "DC-link overvoltage reaction"},
    [FLT_AMBIENT] = {"ambient",
                     FLT_PLANT,
                     FLT_T_SLOT,
                     1,
                     1,
                     {{"t", "C", -40, 125, 55, 0}},
                     "ambient step: the module's inlet air at t (the thermal network's ambient and the T_AMB NTC)",
                     "the heatsink and junctions rise by the step; THERMAL_MGR speeds the fan from 40 C case and "
                     "derates from 80 C case, tripping only at 95 C (EK-TECH-010 2.3)"},
    [FLT_RACK_AMBIENT] = {"rack-ambient",
                          FLT_PLANT,
                          FLT_T_RACK,
                          1,
                          1,
                          {{"t", "C", -40, 125, 55, 0}},
                          "ambient step for the whole rack: every module's inlet air at t",
                          "every module's THERMAL_MGR speeds its fan and derates as for ambient; the rack's output "
                          "falls by the derating, not by trips (EK-TECH-010 2.3, 6.3)"},
    [FLT_NTC_OPEN] = {"ntc-open",
                      FLT_PLANT,
                      FLT_T_SLOT,
                      1,
                      1,
                      {{"ch", "", BRD_ADC_TJ_A, BRD_ADC_T_AMB, 3, 1}},
                      "NTC open: the thermistor on ADC channel ch (3 TJ_A, 4 TJ_B, 5 T_XFMR, 6 T_LR, 7 T_AMB) "
                      "open, its pull-up takes the input to full scale",
                      "the channel reads about -100 C: HEALTH_MONITOR flags SENSOR_RANGE (and SENSOR_IMPLAUSIBLE on a "
                      "leg) and the station gets FAULT_ALERT SENSOR; no derating and no trip: on a leg "
                      "SAFETY_MONITOR's OTP still sees the other leg"},
    [FLT_NTC_SHORT] = {"ntc-short",
                       FLT_PLANT,
                       FLT_T_SLOT,
                       1,
                       1,
                       {{"ch", "", BRD_ADC_TJ_A, BRD_ADC_T_AMB, 3, 1}},
                       "NTC shorted: the thermistor on ADC channel ch shorted, the input at 0 V (code 0)",
                       "the channel reads about 800 C: on a leg SAFETY_MONITOR trips OTP (95 C) and the module goes "
                       "to FAULT, latched; on T_XFMR/T_LR THERMAL_MGR derates to 20 %; HEALTH_MONITOR flags "
                       "SENSOR_RANGE (EK-TECH-010 2.1 'fail-safe defaults')"},
    [FLT_ADC_GAIN] = {"adc-gain",
                      FLT_PLANT,
                      FLT_T_SLOT,
                      2,
                      1,
                      {{"ch", "", 0, PMOD_ADC_CHANNELS - 1, 0, 1}, {"err", "", -0.5, 0.5, 0.05, 0}},
                      "sensor gain error: ADC channel ch reads (1 + err) x what it should (a drifted divider or "
                      "amplifier)",
                      "the firmware acts on the scaled reading: VOUT +err lowers the module's output and its droop "
                      "share, IOUT moves its current loop; a gain error is not flagged"},
    [FLT_ADC_NOISE] = {"adc-noise",
                       FLT_PLANT,
                       FLT_T_SLOT,
                       2,
                       1,
                       {{"ch", "", 0, PMOD_ADC_CHANNELS - 1, 0, 1}, {"lsb", "", 0, 1000, 20, 0}},
                       "extra sensor noise: ADC channel ch gets lsb codes rms more Gaussian noise (EMI, a failing "
                       "reference)",
                       "LLC_CONTROL's 1.6 kHz filter smooths it into output ripple; SAFETY_MONITOR's 3-sample "
                       "deglitch keeps it from tripping until the noise reaches the limits"},
    [FLT_GATE_OFF] = {"gate-off",
                      FLT_PLANT,
                      FLT_T_SLOT,
                      0,
                      1,
                      {NOP},
                      "one bridge leg's gate driver stuck off: that leg never switches, only its body diodes "
                      "conduct, so the bridge transfers no power (full or half bridge) whatever the firmware commands",
                      "its output current falls to 0 and the others take its share (EK-TECH-010 6.2); no trip line, "
                      "its firmware raises no fault and winds its drive to f_min, so on recovery the Level-0 OCP "
                      "trips"},
    [FLT_TANK_DRIFT] = {"tank-drift",
                        FLT_PLANT,
                        FLT_T_SLOT,
                        3,
                        1,
                        {{"lr", "", -0.5, 0.5, 0, 0}, {"cr", "", -0.5, 0.5, -0.1, 0}, {"lm", "", -0.5, 0.5, 0, 0}},
                        "ageing of the resonant tank: Lr, Cr, Lm at (1 + lr), (1 + cr), (1 + lm) x their values "
                        "(cr=-0.1: -10 %); Lm shows in the switching fidelity only",
                        "fr moves by 1 / sqrt((1 + lr)(1 + cr)); applied at 0 s (ageing is a state), LLC_CONTROL's "
                        "frequency loop follows and the module keeps its droop share"},
    [FLT_BUS_CORRUPT] = {"bus-corrupt",
                         FLT_BUS,
                         FLT_T_NODE,
                         1,
                         1,
                         {{"frames", "", 1, 1e6, 1, 1}},
                         "the node's next frames fail on the wire (error frame, TEC + 8, resent; ISO 11898-1)",
                         "each failed frame is resent; the node goes error passive past TEC 127 and bus-off past 255 "
                         "(ISO 11898-1; EK-TECH-010 4.1)"},
    [FLT_BUS_ERRORS] = {"bus-errors",
                        FLT_BUS,
                        FLT_T_BUS,
                        3,
                        1,
                        {{"corrupt", "", 0, 1, 0.01, 0}, {"drop", "", 0, 1, 0, 0}, {"type", "", -1, 15, -1, 1}},
                        "a noisy bus: each frame corrupted with probability corrupt, dropped at each receiver "
                        "(overrun) with probability drop; with type 0..15 only the frames of that message type "
                        "(1 ELECTION, 0 SYNC, 4 THERMAL: the swarm's), -1 every frame",
                        "corrupted frames are resent by the controllers; a dropped command is covered by the 100 ms "
                        "request timeout and 3 retries (EK-TECH-010 4.2); the swarm re-elects or keeps its leader, "
                        "and the modules share by droop meanwhile"},
    [FLT_BUS_CUT] = {"bus-cut",
                     FLT_BUS,
                     FLT_T_NODE,
                     0,
                     1,
                     {NOP},
                     "the node cut off the bus: it neither sends nor receives (a broken stub or transceiver)",
                     "the station stops hearing its HEARTBEAT (1 Hz); the other nodes talk on (EK-TECH-010 4.2)"},
    [FLT_BUS_BABBLE] = {"bus-babble",
                        FLT_BUS,
                        FLT_T_NODE,
                        1,
                        1,
                        {{"id", "", 0, 0x7FF, 0, 1}},
                        "a babbling idiot: the node sends one 11-bit frame id back to back, taking the bus from "
                        "every higher id",
                        "every frame with a higher id is starved, lower ids still win arbitration (ISO 11898-1; "
                        "EK-TECH-010 4.3 priorities)"},
    [FLT_BUS_SPLIT] =
        {"bus-split",
         FLT_BUS,
         FLT_T_BUS,
         1,
         1,
         {{"from", "", 1, 510, 1, 1}},
         "the bus split in two, a broken trunk before node from: nodes 0..from-1 and from..N hear and "
         "acknowledge only their own side (the halves share one timeline: their load adds up)",
         "the modules beyond the split lose the station: its POWER_CMDs no longer reach them and their "
         "heartbeats no longer reach it (offline after 3 s, seed 2.4); a node alone on its side gets no ACK "
         "and goes error passive, never bus-off (ISO 11898-1)"},
    [FLT_BUS_LATENCY] =
        {"bus-latency",
         FLT_BUS,
         FLT_T_NODE,
         1,
         1,
         {{"d", "s", 0, 1, 1e-3, 0}},
         "the node's frames enter arbitration d after they are queued, so they arrive d later "
         "(a slow controller or a store-and-forward gateway)",
         "the node's frames arrive d late; a module's heartbeats late by d and its POWER_ACKs too: past 100 ms "
         "the station retries (3 times) and gives up"},
    [FLT_SVC_CRASH] = {"svc-crash",
                       FLT_KERNEL,
                       FLT_T_SERVICE,
                       0,
                       0,
                       {NOP},
                       "the service faults now (inj crash)" SVC_MODELS_NOTE,
                       "the reincarnation server restarts it in under 50 ms; a non-critical one with no output dip; "
                       "the station gets FAULT_ALERT SERVICE_CRASH (EK-TECH-010 5.3, 8.5)"},
    [FLT_SVC_HANG] = {"svc-hang",
                      FLT_KERNEL,
                      FLT_T_SERVICE,
                      0,
                      0,
                      {NOP},
                      "the service stops taking messages, a deadlock (inj hang)" SVC_MODELS_NOTE,
                      "the service watchdog finds it 100 ms after a ping it leaves unanswered (pinged every "
                      "heartbeat: 100 ms to 1 s by service; DIAGNOSTICS is never pinged, its hang never found) and "
                      "the reincarnation server restarts it (EK-TECH-010 5.3, 8.5; scenario svc-hang-watchdog)"},
    [FLT_SVC_FLOOD] = {"svc-flood",
                       FLT_KERNEL,
                       FLT_T_SERVICE,
                       1,
                       0,
                       {{"n", "", 1, 1000, 50, 1}},
                       "n junk messages posted to the service (inj flood)" SVC_MODELS_NOTE,
                       "its queue overflows and it is restarted; the other services run on (EK-TECH-010 5.2, 5.3)"},
    [FLT_SVC_CORRUPT] = {"svc-corrupt",
                         FLT_KERNEL,
                         FLT_T_SERVICE,
                         0,
                         0,
                         {NOP},
                         "a random bit of the next message posted to the service flips (inj corrupt)",
                         "the message's CRC check fails: it is dropped and counted, the service runs on "
                         "(EK-TECH-010 4.1)"},
    [FLT_SVC_STALL] = {"svc-stall",
                       FLT_KERNEL,
                       FLT_T_SLOT,
                       1,
                       0,
                       {{"t", "s", 1e-3, 60, 0.5, 0}},
                       "the module's kernel loop stops for t, to the ms (inj stall): the watchdog's test",
                       "the watchdog resets the module's kernel after 100 ms (EK-TECH-010 5.3)"},
    [FLT_SVC_STRAY] = {"svc-stray",
                       FLT_KERNEL,
                       FLT_T_SERVICE,
                       1,
                       0,
                       {{"victim", "", 1, 31, 1, 1}},
                       "the service's next dispatch writes into service victim's memory (inj stray): a memory fault "
                       "in strict mode (the MPU's test), a corrupted victim without",
                       "strict mode: the MPU stops the write, the offender crashes and is restarted, the victim is "
                       "untouched (EK-TECH-010 8.3)"},
    [FLT_ISR_OVERRUN] =
        {"isr-overrun",
         FLT_KERNEL,
         FLT_T_SLOT,
         2,
         1,
         {{"n", "", 1, 1e6, 100, 1}, {"t", "s", 101e-6, 0.1, 150e-6, 0}},
         "the next n runs of the control interrupt take t each, over its 100 us period: it runs "
         "back to back (missing updates) and the kernel loop gets no time, no watchdog kick",
         "the seed's WCET budget (< 100 us, 5.1) broken: the control loop runs at 1/t, the kernel loop and its "
         "services starve; past 100 ms the watchdog resets the MCU (5.2 invariant 6); the Level-0 hardware "
         "protection still trips in 10 us"},
    [FLT_REBOOT] = {"module-reboot",
                    FLT_KERNEL,
                    FLT_T_SLOT,
                    0,
                    0,
                    {NOP},
                    "the module's MCU resets and boots again (a software reset: peripherals and drivers fresh, "
                    "output off, services restarted, the audit trail kept)",
                    "output off at once, the module boots (resets + 1), soft-starts and sends heartbeats again: it "
                    "rejoins the bus and the station sees it online"},
    [FLT_TRIP_OVP] = {"trip-ovp",
                      FLT_HARDWARE,
                      FLT_T_SLOT,
                      1,
                      1,
                      {{"step", "V", -1e4, 1e4, 500, 0}},
                      "a step on the output-voltage sensing path into the Level-0 protection (OVP at 920 V; the "
                      "firmware's at 900 V)",
                      "the comparator turns the gates off within 10 us whatever the firmware commands, and the "
                      "firmware sees the trip line (EK-TECH-010 2.1: OVP < 1 us, hardware trip)"},
    [FLT_TRIP_OCP] = {"trip-ocp",
                      FLT_HARDWARE,
                      FLT_T_SLOT,
                      1,
                      1,
                      {{"step", "A", -1e4, 1e4, 10, 0}},
                      "a step on the output-current sensing path into the Level-0 protection (OCP at 4 A; the "
                      "firmware's at 3.98 A)",
                      "the comparator turns the gates off within 10 us whatever the firmware commands, and the "
                      "firmware sees the trip line (EK-TECH-010 2.1: OCP, hardware trip)"},
    [FLT_TRIP_OTP] = {"trip-otp",
                      FLT_HARDWARE,
                      FLT_T_SLOT,
                      1,
                      1,
                      {{"step", "C", -1e4, 1e4, 150, 0}},
                      "a step on the junction-temperature sensing path into the Level-0 protection (OTP at 105 C "
                      "junction; the firmware's at 95 C case)",
                      "the comparator turns the gates off within 10 us whatever the firmware commands, and the "
                      "firmware sees the trip line (EK-TECH-010 2.1: OTP < 10 ms, hardware trip)"},
    [FLT_TRIP_GFI] = {"trip-gfi",
                      FLT_HARDWARE,
                      FLT_T_SLOT,
                      1,
                      1,
                      {{"step", "A", -1e4, 1e4, 0.1, 0}},
                      "a step on the ground-fault sensing path into the Level-0 protection (GFI at 50 mA)",
                      "the comparator turns the gates off within 10 us whatever the firmware commands, and the "
                      "firmware sees the trip line (EK-TECH-010 2.1: GFI < 10 ms, hardware trip)"},
    [FLT_FORGE] = {"forge-cmd",
                   FLT_TRUST,
                   FLT_T_SLOT,
                   2,
                   0,
                   {{"power", "W", 0, 3300, 0, 0}, {"vset", "V", 200, 920, 750, 0}},
                   "a forged POWER_CMD to the module (power 0: STOP) with a fresh counter and a tag under a wrong "
                   "key, as an attacker on the bus without the module's key sends it",
                   "refused (bad MAC, seed 3.3): the module's forged and refused counts + 1, a REFUSED POWER_ACK, its "
                   "output unchanged"},
    [FLT_REPLAY] =
        {"replay-cmd",
         FLT_TRUST,
         FLT_T_SLOT,
         0,
         0,
         {NOP},
         "the last POWER_CMD the station sent to the module, recorded off the bus, sent again byte for "
         "byte (the station must have sent it one)",
         "refused by the freshness counter (replayed, or stale below the 64-frame window, seed 3.3), counted; "
         "output unchanged"},
    [FLT_SWARM_FORGE] = {"swarm-forge",
                         FLT_TRUST,
                         FLT_T_SLOT,
                         1,
                         0,
                         {{"term", "", 1, 1e6, 100, 1}},
                         "a node at slot without the rack's group key sends an ELECTION vote request from that "
                         "slot that claims a term `term` above the highest any module holds and the longest log: "
                         "an attempt to take the swarm's leadership",
                         "every module refuses it on its tag (counted as forged, module[K].swarm.forged); no term "
                         "moves, the leader stays (EK-TECH-010 3.3; docs/swarm.md)"},
    [FLT_SWARM_REPLAY] = {"swarm-replay",
                          FLT_TRUST,
                          FLT_T_SLOT,
                          0,
                          0,
                          {NOP},
                          "a node at slot sends again the last broadcast ELECTION frame the bus carried (the "
                          "leader's heartbeat APPEND), as it was (a recorded frame played back)",
                          "its sender's freshness counter is already used: every module but its sender refuses "
                          "it (counted as replayed) and nothing changes (EK-TECH-010 3.3; AUTOSAR SecOC)"},
    [FLT_CMD_RANGE] =
        {"cmd-range",
         FLT_TRUST,
         FLT_T_SLOT,
         2,
         0,
         {{"power", "W", 0, 65535, 3300, 0}, {"vset", "V", 0, 6553.5, 750, 0}},
         "an authenticated POWER_CMD past the station's API check (a compromised client or a station "
         "defect), its values on the wire as given, beyond the protocol's field ranges too",
         "within the protocol's fields but beyond the module's limits: clamped (llcc_limit_cmd, POWER_ACK "
         "CLAMPED, counted by module and station); a field out of its range: refused (bad payload, REFUSED); "
         "never beyond 3.3 kW, 4 A, 920 V (seed 5.2)"},
    [FLT_API_FLOOD] = {"api-flood",
                       FLT_TRUST,
                       FLT_T_STATION,
                       1,
                       1,
                       {{"rate", "/s", 1, 1e6, 1000, 0}},
                       "requests at the station's API with the right key, rate a second (a client gone wild)",
                       "the token bucket (20/s, burst 10) passes 20 a second, refuses the rest (EK3_EBUSY), counted in "
                       "api_rate and logged once per burst; legitimate requests are refused too while it lasts"},
    [FLT_API_BAD_KEY] = {"api-bad-key",
                         FLT_TRUST,
                         FLT_T_STATION,
                         1,
                         1,
                         {{"rate", "/s", 1, 1e6, 10, 0}},
                         "requests at the station's API with a wrong key, rate a second (someone guessing)",
                         "each refused (EK3_EPERM) and counted in api_bad_key, no token spent, logged once per burst"},
    [FLT_BAD_IMAGE] = {"bad-image",
                       FLT_KERNEL,
                       FLT_T_SLOT,
                       0,
                       1,
                       {NOP},
                       "the module's next trial image is broken (signed and valid, but its output never starts): "
                       "an update's reboot into it brings the module up without power",
                       "it never shares current, so UPDATE_MGR never confirms it; the station reboots it after "
                       "FWR_CONFIRM_NS and the bootloader reverts to the old image; a canary's failure halts the "
                       "roll (docs/update.md)"},
};

const unsigned flt_count = sizeof flt_table / sizeof flt_table[0];

_Static_assert(sizeof flt_table / sizeof flt_table[0] == FLT_COUNT_, "one row per flt_id");

static const char *const flt_kind_name[] = {"plant", "bus", "kernel", "hardware",
                                            "trust"};
static const char *const flt_target_name[] = {"SLOT", "NODE", "SLOT.SERVICE", "bus", "rack",
                                              "station"};

int flt_of_module(int id)
{
    if (id < 0 || (size_t)id >= flt_count)
        return 0;
    const flt_def *d = &flt_table[id];
    if (d->kind == FLT_KERNEL || d->kind == FLT_HARDWARE)
        return 1;
    return d->kind == FLT_PLANT && d->target == FLT_T_SLOT && id != FLT_PULL && id != FLT_INSERT && id != FLT_VDC_SAG &&
           id != FLT_VDC_SURGE && id != FLT_AMBIENT;
}

const char *flt_target_text(int id)
{
    return id >= 0 && (size_t)id < flt_count ? flt_target_name[flt_table[id].target] : "?";
}

static int flt_err(char *err, size_t cap, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int flt_err(char *err, size_t cap, int rc, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int flt_find(const char *name)
{
    for (unsigned i = 0; name && i < flt_count; i++)
        if (!strcmp(flt_table[i].name, name))
            return (int)i;
    return EK3_ENOENT;
}

int flt_find_nocase(const char *name)
{
    for (unsigned i = 0; name && i < flt_count; i++)
        if (!strcasecmp(flt_table[i].name, name))
            return (int)i;
    return EK3_ENOENT;
}

int flt_spec_init(flt_spec *s, unsigned id, unsigned target, unsigned svc)
{
    if (id >= flt_count)
        return EK3_ENOENT;
    memset(s, 0, sizeof *s);
    s->id = id;
    s->target = target;
    s->svc = svc;
    for (unsigned i = 0; i < flt_table[id].np; i++)
        s->p[i] = flt_table[id].p[i].def;
    return EK3_OK;
}

/* The parameters against the table's ranges. */
static int flt_check_params(const flt_spec *s, char *err, size_t cap)
{
    const flt_def *d = &flt_table[s->id];
    for (unsigned i = 0; i < d->np; i++) {
        const flt_param *p = &d->p[i];
        double v = s->p[i];
        if (!(v >= p->min && v <= p->max)) { /* in the unit's prefixes: "i=40 MA is out of range 0 A to 10 A" */
            char a[32], lo[32], hi[32];
            return flt_err(err, cap, EK3_ERANGE, "%s: parameter %s=%s is out of range %s to %s", d->name, p->name,
                           cli_si(a, sizeof a, v, p->unit), cli_si(lo, sizeof lo, p->min, p->unit),
                           cli_si(hi, sizeof hi, p->max, p->unit));
        }
        if (p->integer && v != (double)(long long)v)
            return flt_err(err, cap, EK3_ERANGE, "%s: parameter %s=%g must be a whole number", d->name, p->name, v);
    }
    return EK3_OK;
}

/* A service of a target: an id 1..31 or a name of the module's services
 * (THERMAL_MGR, case ignored). */
static int flt_parse_svc(const flt_def *d, const char *t, const char *svc, flt_spec *out, char *err, size_t cap)
{
    int64_t n;
    unsigned id = fwi_service_id(svc);
    if (id) {
        out->svc = id;
        return EK3_OK;
    }
    if (cli_parse_i64(svc, 1, 31, &n)) {
        char hint[320];
        fwi_service_hint(svc, hint, sizeof hint);
        return flt_err(err, cap, EK3_EPARSE,
                       "%s: target '%s': service '%s' is neither an id (1 to 31 a kernel may hold; the rig's "
                       "firmware has 1 to %u) nor a name; %s",
                       d->name, t, svc, (unsigned)SVC_COUNT, hint);
    }
    out->svc = (unsigned)n;
    return EK3_OK;
}

static int flt_parse_target(const flt_def *d, const char *t, flt_spec *out, char *err, size_t cap)
{
    int64_t n;
    /* the swarm's leader, named when the fault goes in (flt_resolve) */
    if ((d->target == FLT_T_SLOT || d->target == FLT_T_NODE) && !strcmp(t, "leader")) {
        out->leader = 1;
        return EK3_OK;
    }
    if (d->target == FLT_T_SERVICE && !strncmp(t, "leader.", 7)) {
        out->leader = 1;
        return flt_parse_svc(d, t, t + 7, out, err, cap);
    }
    switch (d->target) {
    case FLT_T_BUS:
    case FLT_T_RACK:
    case FLT_T_STATION:
        if (strcmp(t, flt_target_name[d->target]))
            return flt_err(err, cap, EK3_EPARSE, "%s: target '%s' must be '%s'", d->name, t,
                           flt_target_name[d->target]);
        return EK3_OK;
    case FLT_T_SERVICE: {
        const char *dot = strchr(t, '.');
        char slot[16];
        if (!dot || (size_t)(dot - t) >= sizeof slot)
            return flt_err(err, cap, EK3_EPARSE,
                           "%s: target '%s' must be SLOT.SERVICE (or leader.SERVICE), e.g. 7.THERMAL_MGR or 7.3", d->name, t);
        memcpy(slot, t, (size_t)(dot - t));
        slot[dot - t] = 0;
        if (cli_parse_i64(slot, 1, 510, &n))
            return flt_err(err, cap, EK3_EPARSE,
                           "%s: target '%s': slot '%s' must be 1 to the rack's modules (a whole number; 510 at most)",
                           d->name, t, slot);
        out->target = (unsigned)n;
        return flt_parse_svc(d, t, dot + 1, out, err, cap);
    }
    default:
        if (cli_parse_i64(t, d->target == FLT_T_NODE ? 0 : 1, 510, &n))
            return flt_err(err, cap, EK3_EPARSE,
                           "%s: target '%s' must be a %s%s (a whole number; the rack's modules are 510 at most)",
                           d->name, t,
                           d->target == FLT_T_NODE ? "bus node 0 (the station) to the rack's modules"
                                                   : "slot 1 to the rack's modules",
                           d == &flt_table[FLT_INSERT] ? ", an empty one" : ", or leader"); /* the leader is in its
                                                                                              slot */
        out->target = (unsigned)n;
        return EK3_OK;
    }
}

static const char *flt_qty(char out[48], double v, const char *unit);

static const char *flt_name_of(size_t i, const void *ctx)
{
    (void)ctx;
    return flt_table[i].name;
}

/* Why v is not a value of parameter p of fault d: a number with another
 * unit ("i='40mV': the unit 'mV' is not i's (i takes A: e.g. 50mA)"), a
 * time in "m" (milli or minutes?), a percentage for a fraction ("a
 * fraction, written 0.05"), a unit where none is taken, or no number. */
static int flt_bad_param(const flt_def *d, const flt_param *p, const char *v, char *err, size_t cap)
{
    char *end;
    double x = strtod(v, &end);
    const char *huge = cli_range_why(v, p->unit);
    if (huge)
        return flt_err(err, cap, EK3_EPARSE, "%s: parameter %s='%s': %s", d->name, p->name, v, huge);
    if (end != v && isfinite(x)) {
        const char *u = end + (*end == ' ');
        if (!strcmp(u, "%") && !*p->unit)
            return flt_err(err, cap, EK3_EPARSE, "%s: parameter %s='%s': a fraction, written %g (not a percentage)",
                           d->name, p->name, v, x / 100);
        char q[48];
        if (strchr(u, ':'))
            return flt_err(err, cap, EK3_EPARSE, "%s: parameter %s='%s': parameters are separated by ',' "
                           "(NAME:TARGET@TIME:P=V,P=V)", d->name, p->name, v);
        char hint[96];
        if (*cli_quantity_hint(v, p->unit, hint, sizeof hint)) /* a capital K, or the unit's case */
            return flt_err(err, cap, EK3_EPARSE, "%s: parameter %s='%s': %s", d->name, p->name, v, hint);
        if (!strcmp(u, "m") && !strcmp(p->unit, "s"))
            return flt_err(err, cap, EK3_EPARSE, "%s: parameter %s='%s': milliseconds or minutes? write %gms or "
                           "%gmin", d->name, p->name, v, x, x);
        if (*u && *p->unit)
            return flt_err(err, cap, EK3_EPARSE, "%s: parameter %s='%s': the unit '%s' is not %s's (%s takes %s: "
                           "e.g. %s)", d->name, p->name, v, u, p->name, p->name, p->unit, flt_qty(q, p->def, p->unit));
        if (*u)
            return flt_err(err, cap, EK3_EPARSE, "%s: parameter %s='%s': %s takes a plain number (no unit), "
                           "e.g. %g", d->name, p->name, v, p->name, p->def);
    }
    return flt_err(err, cap, EK3_EPARSE, "%s: parameter %s='%s' is not a number%s%s", d->name, p->name, v,
                   *p->unit ? " of " : "", p->unit);
}

/* A fault named without its target (SPEC, fault `id`): `what` is missing;
 * the example puts the fault's kind of target before @TIME. EK3_EPARSE. */
static int flt_no_target(char *err, size_t cap, const char *spec, int id, const char *what, const char *time)
{
    unsigned tg = flt_table[id].target;
    const char *name = flt_table[id].name;
    return flt_err(err, cap, EK3_EPARSE, "fault '%s': %s (NAME:TARGET@TIME; %s's target is %s, e.g. %s:%s@%s)", spec,
                   what, name, flt_target_name[tg], name,
                   tg >= FLT_T_BUS       ? flt_target_name[tg]
                   : tg == FLT_T_SERVICE ? "7.THERMAL_MGR"
                                         : "3",
                   time);
}

int flt_parse(const char *s, flt_spec *out, char *err, size_t cap)
{
    char buf[256];
    if (!s || strlen(s) >= sizeof buf)
        return flt_err(err, cap, EK3_EPARSE, "fault '%.40s...': longer than %zu characters", s ? s : "",
                       sizeof buf - 1);
    strcpy(buf, s);
    char *colon = strchr(buf, ':'), *at0 = strchr(buf, '@');
    if (at0 && (!colon || at0 < colon)) { /* "short@1s:r=1": a fault's name, then no target */
        *at0 = 0;
        int id0 = flt_find(buf);
        if (id0 >= 0) {
            char *end = strchr(at0 + 1, ':');
            if (end)
                *end = 0;
            return flt_no_target(err, cap, s, id0, "no target before '@'", at0 + 1);
        }
        *at0 = '@';
    }
    int alone = colon ? -1 : flt_find(buf);
    if (alone >= 0) /* "igf": a fault's name alone */
        return flt_no_target(err, cap, s, alone, "no target and no time", "1s");
    if (!colon && buf[strcspn(buf, "@")] == '@') /* "nosuch@1s": the name before the '@' */
        buf[strcspn(buf, "@")] = 0;
    if (colon)
        *colon = 0;
    if (!s[0])
        return flt_err(err, cap, EK3_EPARSE, "fault '': empty (NAME:TARGET@TIME[:P=V,...], e.g. pull:42@1s)");
    if (!buf[0]) /* no name: "@1s", ":3@1s" */
        return flt_err(err, cap, EK3_EPARSE,
                       "fault '%s': no fault name before the '%c' (NAME:TARGET@TIME[:P=V,...], e.g. pull:42@1s; ek3 "
                       "faults lists them)",
                       s, s[0]);
    int id = flt_find(buf);
    if (id < 0) {
        char near[120];
        int lc = flt_find_nocase(buf);
        if (lc >= 0)
            return flt_err(err, cap, EK3_ENOENT, "'%s': no fault named '%s': fault names are lower case (%s)", s, buf,
                           flt_table[lc].name);
        cli_near(buf, flt_count, flt_name_of, NULL, 3, near, sizeof near);
        return flt_err(err, cap, EK3_ENOENT, "'%s': no fault named '%s' (%s%s%sek3 faults lists them)", s, buf,
                       near[0] ? "closest: " : "", near, near[0] ? "; " : "");
    }
    if (!colon) /* a fault's name, then '@' and no target (the names alone are said above) */
        return flt_err(err, cap, EK3_EPARSE, "fault '%s': NAME:TARGET@TIME[:P=V,...], e.g. pull:42@1s", s);
    const flt_def *d = &flt_table[id];
    flt_spec_init(out, (unsigned)id, 0, 0);
    char *tgt = colon + 1, *at = strchr(tgt, '@');
    if (!at && !*tgt) /* "svc-crash:" */
        return flt_no_target(err, cap, s, id, "no target and no time", "1s");
    if (!at)
        return flt_err(err, cap, EK3_EPARSE, "fault '%s': no @TIME after the target", s);
    *at = 0;
    int rc = flt_parse_target(d, tgt, out, err, cap);
    if (rc)
        return rc;
    char *time = at + 1, *params = strchr(time, ':');
    if (params)
        *params++ = 0;
    if (strchr(time, '@')) /* "pull:2@1s@2s" */
        return flt_err(err, cap, EK3_EPARSE, "fault '%s': one @TIME a fault ('%s' gives more): each time its own fault",
                       s, time);
    if (cli_parse_quantity(time, "s", &out->t) || !(out->t >= 0 && out->t <= 86400)) {
        char why[128];
        return flt_err(err, cap, EK3_EPARSE, "fault '%s': time '%s': " CLI_TIME " from 0 up to a day%s", s, time,
                       cli_time_why(time, why, sizeof why));
    }
    unsigned seen = 0;
    for (char *kv = params, *next; kv; kv = next) {
        next = strchr(kv, ',');
        if (next)
            *next++ = 0;
        char *eq = strchr(kv, '=');
        if (!eq)
            return flt_err(err, cap, EK3_EPARSE, "fault '%s': parameter '%s' is not P=V", s, kv);
        *eq = 0;
        unsigned i = 0;
        while (i < d->np && strcmp(d->p[i].name, kv))
            i++;
        if (i == d->np) {
            char took[160] = "it takes none";
            for (unsigned j = 0, o = 0; j < d->np && o < sizeof took; j++)
                o += (unsigned)snprintf(took + o, sizeof took - o, "%s%s=%s%s", j ? ", " : "it takes ", d->p[j].name,
                                        *d->p[j].unit ? "" : "N", d->p[j].unit);
            return flt_err(err, cap, EK3_ENOENT, "%s: no parameter '%s' (%s%s)", d->name, kv, took,
                           !strcmp(kv, "at") || !strcmp(kv, "t") ? "; the onset is the @TIME after the target" : "");
        }
        if (seen & 1u << i)
            return flt_err(err, cap, EK3_EPARSE, "%s: parameter %s given twice", d->name, kv);
        seen |= 1u << i;
        if (cli_parse_quantity(eq + 1, d->p[i].unit, &out->p[i]))
            return flt_bad_param(d, &d->p[i], eq + 1, err, cap);
        if (out->p[i] == 0) /* -0 is 0: echoed "i=0A", not "i=-0A" */
            out->p[i] = 0;
    }
    return flt_check_params(out, err, cap);
}

int flt_check(const rig *g, const flt_spec *s, char *err, size_t cap)
{
    if (s->id >= flt_count)
        return flt_err(err, cap, EK3_ENOENT, "fault %u: no such fault", s->id);
    const flt_def *d = &flt_table[s->id];
    int rc = flt_check_params(s, err, cap);
    if (rc)
        return rc;
    unsigned n = g->o.modules;
    if (s->leader) { /* checked against its module when it goes in (flt_resolve) */
        if (g->o.no_swarm)
            return flt_err(err, cap, EK3_EINVAL, "%s: target leader: this rack runs without the swarm (--no-swarm, "
                           "swarm=false, or more than %u modules): it never has a leader", d->name, RAFT_MAX_NODES);
        unsigned nsvc = n ? g->m[0].fw.k.n : JZ_MAX_SERVICES;
        if (d->target == FLT_T_SERVICE && (s->svc < 1 || s->svc >= nsvc))
            return flt_err(err, cap, EK3_ENOENT, "%s: the leader's kernel has no service %u (1 to %u)", d->name,
                           s->svc, nsvc - 1);
        return EK3_OK;
    }
    switch (d->target) {
    case FLT_T_NODE:
        if (s->target > n)
            return flt_err(err, cap, EK3_ENOENT, "%s: bus node %u is not in a rack of %u (0 to %u)", d->name,
                           s->target, n, n);
        break;
    case FLT_T_SLOT:
    case FLT_T_SERVICE:
        if (s->target < 1 || s->target > n)
            return flt_err(err, cap, EK3_ENOENT, "%s: slot %u is not in a rack of %u", d->name, s->target, n);
        break;
    default:
        break;
    }
    /* Going in now, a fault of the module (the kernel's say more, below) or of its node on the bus needs a module in
     * the slot: one a leader's pull took out is known only now. */
    if (s->t >= 0 && s->t * 1e9 <= (double)g->t_ns + 0.5 && s->target >= 1 && s->target <= n &&
        !g->plant.mod[s->target - 1].present &&
        ((flt_of_module((int)s->id) && d->kind != FLT_KERNEL) || d->target == FLT_T_NODE))
        return flt_err(err, cap, EK3_EBUSY, "%s: slot %u is empty (its module pulled): %s", d->name, s->target,
                       d->target == FLT_T_NODE ? "no node on the rack bus there" : "no module there to take it");
    /* A replay needs a frame to replay: known only as it goes in. */
    int now = s->t >= 0 && s->t * 1e9 <= (double)g->t_ns + 0.5;
    if (now && s->id == FLT_REPLAY && s->target >= 1 && s->target <= n && g->stn.m && !g->stn.m[s->target - 1].has_last)
        return flt_err(err, cap, EK3_ENOENT,
                       "%s: the station has sent module %u no POWER_CMD yet: nothing to replay "
                       "(its first is the rack's start, once the station has heard the module)",
                       d->name, s->target);
    if (now && s->id == FLT_SWARM_REPLAY && !g->sw_have)
        return flt_err(err, cap, EK3_ENOENT,
                       "%s: no swarm frame has crossed the rack bus yet: nothing to replay (the "
                       "first election is at about 0.63 s)",
                       d->name);
    if (d->kind == FLT_KERNEL) {
        const rig_module *m = &g->m[s->target - 1];
        if (m->external)
            return flt_err(err, cap, EK3_EBUSY, "%s: slot %u runs its firmware in its own process (ek3 fw)",
                           d->name, s->target);
        /* Before its MCU leaves reset the firmware is not there to take
         * it (bad-image excepted: it waits for the next trial). Every
         * MCU has left the power-on reset by FWI_BOOT_SPREAD_NS; before
         * that a fault is refused on every seed, not on the seeds whose
         * draw holds this slot past it. t < 0 (a condition's fault, its
         * time unknown): checked when it goes in (flt_inject). */
        /* It goes in at its time, or now when that has passed. */
        double t = s->t * 1e9 > (double)g->t_ns ? s->t : (double)g->t_ns / 1e9;
        if (s->id != FLT_BAD_IMAGE && s->t >= 0 && t * 1e9 < (double)FWI_BOOT_SPREAD_NS) {
            char ms[32]; /* 5.0, but 9.99 not rounded up to the 10 ms it is refused before */
            snprintf(ms, sizeof ms, "%.1f", t * 1e3);
            if (strtod(ms, NULL) >= FWI_BOOT_SPREAD_NS * 1e-6)
                snprintf(ms, sizeof ms, "%.9g", t * 1e3);
            return flt_err(err, cap, EK3_EBUSY,
                           "%s: slot %u's firmware may not run before %.0f ms (each MCU leaves reset 0-%.0f ms after "
                           "power-on, by seed and slot): a kernel fault at %s ms is refused on every seed",
                           d->name, s->target, FWI_BOOT_SPREAD_NS * 1e-6, FWI_BOOT_SPREAD_NS * 1e-6, ms);
        }
        if (s->id != FLT_BAD_IMAGE && s->t >= 0 && s->t * 1e9 <= (double)g->t_ns + 0.5 &&
            !g->plant.mod[s->target - 1].present) /* going in now, into a module out of its slot */
            return flt_err(err, cap, EK3_EBUSY, "%s: slot %u's module is pulled: its firmware is not running",
                           d->name, s->target);
        if (s->id != FLT_BAD_IMAGE && s->t >= 0 && m->fw.hold_ns > 0 && t * 1e9 < (double)m->fw.hold_ns)
            return flt_err(err, cap, EK3_EBUSY,
                           "%s: slot %u's MCU is held in reset until %.1f ms into the run: its firmware is not "
                           "running at %.1f ms",
                           d->name, s->target, m->fw.hold_ns * 1e-6, t * 1e3);
        if (d->target == FLT_T_SERVICE && (s->svc < 1 || s->svc >= m->fw.k.n))
            return flt_err(err, cap, EK3_ENOENT, "%s: slot %u's kernel has no service %u (1 to %u)", d->name,
                           s->target, s->svc, m->fw.k.n - 1);
        if (s->id == FLT_SVC_STRAY && (s->p[0] >= m->fw.k.n || (unsigned)s->p[0] == s->svc))
            return flt_err(err, cap, EK3_ERANGE, "%s: parameter victim=%g must be another service, 1 to %u", d->name,
                           s->p[0], m->fw.k.n - 1);
    }
    /* A slot's fault going in now (to the half ns: t is a double): the slot as it is now (one scheduled
     * later is checked when it goes in: flt_inject checks as of now). */
    if ((s->id == FLT_PULL || s->id == FLT_INSERT) && s->t >= 0 && s->t * 1e9 <= (double)g->t_ns + 0.5 &&
        s->target >= 1 && s->target <= n) {
        int in = g->plant.mod[s->target - 1].present;
        if (s->id == FLT_INSERT && in)
            return flt_err(err, cap, EK3_EBUSY, "insert: slot %u holds a module (pull it first)", s->target);
        if (s->id == FLT_PULL && !in)
            return flt_err(err, cap, EK3_EBUSY, "pull: slot %u is empty (pulled already)", s->target);
    }
    if (s->id == FLT_BUS_CUT && s->t >= 0 && s->t * 1e9 <= (double)g->t_ns + 0.5 && s->target < g->bus.n &&
        g->bus.node[s->target].cut) /* going in now: a second cut would do nothing */
        return flt_err(err, cap, EK3_EBUSY, "bus-cut: %s%u%s is cut off the rack bus already",
                       s->target ? "slot " : "the station (node ", s->target, s->target ? "" : ")");
    if (s->id == FLT_BUS_SPLIT && s->p[0] > n)
        return flt_err(err, cap, EK3_ERANGE, "%s: parameter from=%g must be a bus node 1 to %u", d->name, s->p[0], n);
    if (d->kind == FLT_HARDWARE && !g->plant.mod[s->target - 1].prot)
        return flt_err(err, cap, EK3_EBUSY, "%s: slot %u has no protection block", d->name, s->target);
    if (s->id == FLT_IGF && s->p[0] > g->plant.mod[s->target - 1].p.fs_igf)
        return flt_err(err, cap, EK3_ERANGE, "%s: parameter i=%g A is above the channel's full scale fs_igf=%g A",
                       d->name, s->p[0], g->plant.mod[s->target - 1].p.fs_igf);
    return EK3_OK;
}

static const unsigned flt_inj_kind[] = {
    [FLT_SVC_CRASH - FLT_SVC_CRASH] = INJ_CRASH, [FLT_SVC_HANG - FLT_SVC_CRASH] = INJ_HANG,
    [FLT_SVC_FLOOD - FLT_SVC_CRASH] = INJ_FLOOD, [FLT_SVC_CORRUPT - FLT_SVC_CRASH] = INJ_CORRUPT,
    [FLT_SVC_STALL - FLT_SVC_CRASH] = INJ_STALL, [FLT_SVC_STRAY - FLT_SVC_CRASH] = INJ_STRAY,
};

/* A module into slot (in) or out of it. Out of its slot is off the
 * rack bus too: its node neither sends nor hears. Into it, a module at
 * rest whose firmware boots as the board is powered (a pulled module
 * lost its power too; an external module's process is its own to
 * restart): its relay open until it pre-charges. */
static int flt_slot(rig *g, unsigned slot, int in)
{
    int rc = in ? rack_insert(&g->plant, slot - 1) : rack_remove(&g->plant, slot - 1);
    if (!rc)
        rc = cbus_fault_cut(&g->bus, slot, !in);
    if (!rc && in && !g->m[slot - 1].external)
        rc = fwi_power_cycle(&g->m[slot - 1].fw);
    return rc;
}

/* Apply (on) or undo (!on) through the owning module's function. */
static int flt_apply(rig *g, const flt_spec *s, int on)
{
    pmod *m = s->target >= 1 && s->target <= g->o.modules ? &g->plant.mod[s->target - 1] : NULL;
    switch ((flt_id)s->id) {
    case FLT_PULL: /* undone: put back, as an insert */
        return flt_slot(g, s->target, !on);
    case FLT_INSERT: /* undone: taken out, as a pull */
        return flt_slot(g, s->target, on);
    case FLT_IGF:
        return pmod_fault_igf(m, on ? s->p[0] : 0);
    case FLT_FAN:
        return pmod_fault_fan(m, on ? s->p[0] : 1);
    case FLT_SHORT:
        return rack_short(&g->plant, on ? s->p[0] : 0);
    case FLT_ADC_OFFSET:
        return pmod_fault_adc_offset(m, (unsigned)s->p[0], on ? s->p[1] : 0);
    case FLT_ADC_STUCK:
        return pmod_fault_adc_stuck(m, (unsigned)s->p[0], on ? (int)s->p[1] : -1);
    case FLT_OPEN:
        return pmod_fault_open(m, on);
    case FLT_LOAD_DUMP:
        return rack_load_dump(&g->plant, on);
    case FLT_VDC_SAG:
        return pmod_fault_vdc(m, on ? -s->p[0] : 0, s->p[1]);
    case FLT_VDC_SURGE:
        return pmod_fault_vdc(m, on ? s->p[0] : 0, s->p[1]);
    case FLT_AMBIENT:
        return pmod_fault_ambient(m, s->p[0], on);
    case FLT_RACK_AMBIENT:
        return rack_fault_ambient(&g->plant, s->p[0], on);
    case FLT_NTC_OPEN:
        return pmod_fault_ntc(m, (unsigned)s->p[0], on ? PMOD_NTC_OPEN : PMOD_NTC_SOUND);
    case FLT_NTC_SHORT:
        return pmod_fault_ntc(m, (unsigned)s->p[0], on ? PMOD_NTC_SHORT : PMOD_NTC_SOUND);
    case FLT_ADC_GAIN:
        return pmod_fault_adc_gain(m, (unsigned)s->p[0], on ? s->p[1] : 0);
    case FLT_ADC_NOISE:
        return pmod_fault_adc_noise(m, (unsigned)s->p[0], on ? s->p[1] : 0);
    case FLT_GATE_OFF:
        return pmod_fault_gate(m, on);
    case FLT_TANK_DRIFT:
        return on ? pmod_fault_tank(m, s->p[0], s->p[1], s->p[2]) : pmod_fault_tank(m, 0, 0, 0);
    case FLT_BUS_CORRUPT:
        return cbus_fault_corrupt(&g->bus, s->target, on ? (uint32_t)s->p[0] : 0);
    case FLT_BUS_ERRORS:
        cbus_fault_types(&g->bus, on && s->p[2] >= 0 ? (uint16_t)(1u << (unsigned)s->p[2]) : 0);
        return on ? cbus_fault_rates(&g->bus, s->p[0], s->p[1]) : cbus_fault_rates(&g->bus, 0, 0);
    case FLT_BUS_CUT:
        return cbus_fault_cut(&g->bus, s->target, on);
    case FLT_BUS_BABBLE: {
        cfd_frame f = {.id = (uint32_t)s->p[0], .flags = 0, .len = 8, .data = {0}};
        return cbus_fault_babble(&g->bus, s->target, on ? &f : NULL);
    }
    case FLT_BUS_SPLIT:
        return cbus_fault_split(&g->bus, on ? (unsigned)s->p[0] : 0);
    case FLT_BUS_LATENCY:
        return cbus_fault_latency(&g->bus, s->target, on ? (int64_t)(s->p[0] * 1e9 + 0.5) : 0);
    case FLT_ISR_OVERRUN:
        return fwi_fault_overrun(&g->m[s->target - 1].fw, on ? (uint32_t)s->p[0] : 0,
                                 (int64_t)(s->p[1] * 1e9 + 0.5));
    case FLT_REBOOT:
        return on ? fwi_fault_reboot(&g->m[s->target - 1].fw) : EK3_EINVAL;
    case FLT_FORGE:
        return on ? stn_fault_forge(&g->stn, s->target, s->p[0], s->p[1]) : EK3_EINVAL;
    case FLT_REPLAY:
        return on ? stn_fault_replay(&g->stn, s->target) : EK3_EINVAL;
    case FLT_SWARM_FORGE:
        return on ? rig_fault_swarm_forge(g, s->target, s->p[0]) : EK3_EINVAL;
    case FLT_SWARM_REPLAY:
        return on ? rig_fault_swarm_replay(g, s->target) : EK3_EINVAL;
    case FLT_CMD_RANGE:
        return on ? stn_fault_command(&g->stn, g->t_ns, s->target, s->p[0], s->p[1]) : EK3_EINVAL;
    case FLT_API_FLOOD:
    case FLT_API_BAD_KEY:
        return stn_fault_flood(&g->stn, g->t_ns, on ? s->p[0] : 0, s->id == FLT_API_BAD_KEY);
    case FLT_BAD_IMAGE:
        g->m[s->target - 1].fw.bad_trial = on != 0;
        return EK3_OK;
    case FLT_SVC_CRASH:
    case FLT_SVC_HANG:
    case FLT_SVC_FLOOD:
    case FLT_SVC_CORRUPT:
    case FLT_SVC_STALL:
    case FLT_SVC_STRAY: {
        if (!on)
            return EK3_EINVAL;
        uint32_t param = s->id == FLT_SVC_STALL ? (uint32_t)(s->p[0] * 1e3 + 0.5)
                         : flt_table[s->id].np ? (uint32_t)s->p[0]
                                               : 0;
        return inj_fault(&g->m[s->target - 1].fw.k, (inj_kind)flt_inj_kind[s->id - FLT_SVC_CRASH],
                         s->id == FLT_SVC_STALL ? 0 : s->svc, param);
    }
    case FLT_TRIP_OVP:
    case FLT_TRIP_OCP:
    case FLT_TRIP_OTP:
    case FLT_TRIP_GFI:
        return pmod_fault_prot_step(m, RTLP_OVP + (s->id - FLT_TRIP_OVP), on ? s->p[0] : 0);
    case FLT_COUNT_:
        break;
    }
    return EK3_ENOENT;
}

int flt_resolve(const rig *g, flt_spec *s, char *err, size_t cap)
{
    if (!s->leader)
        return EK3_OK;
    if (!g->obs.leader)
        return flt_err(err, cap, EK3_ENOENT, "%s: the rack has no swarm leader now",
                       s->id < flt_count ? flt_table[s->id].name : "?");
    s->target = g->obs.leader;
    s->leader = 0;
    return EK3_OK;
}

int flt_inject(rig *g, const flt_spec *s)
{
    flt_spec c = *s;
    c.t = (double)g->t_ns / 1e9; /* checked as of now (a module held in reset, a condition's fault) */
    int rc = flt_resolve(g, &c, NULL, 0);
    if (!rc)
        rc = flt_check(g, &c, NULL, 0);
    if (!rc && !(rc = flt_apply(g, &c, 1))) { /* the rig's log of faults applied (rig.h) */
        unsigned i = (unsigned)(g->flt_n++ % RIG_FLT_LOG);
        g->flt_log[i].t_ns = g->t_ns;
        g->flt_log[i].id = (uint16_t)c.id;
        g->flt_log[i].target = (uint16_t)c.target;
    }
    return rc;
}

int flt_go(rig *g, flt_spec *s, char *err, size_t cap)
{
    int rc = flt_resolve(g, s, err, cap);
    if (rc)
        return rc;
    flt_spec now = *s;
    now.t = (double)g->t_ns / 1e9;
    rc = flt_check(g, &now, err, cap);
    return rc ? rc : flt_inject(g, s);
}

int flt_clear(rig *g, const flt_spec *s)
{
    flt_spec c = *s;
    c.t = -1; /* it went in: the checks of its time (a slot's state, a module's reset) were made then */
    int rc = flt_resolve(g, &c, NULL, 0);
    if (!rc)
        rc = flt_check(g, &c, NULL, 0);
    if (rc)
        return rc;
    if (!flt_table[c.id].clearable)
        return EK3_EINVAL;
    return flt_apply(g, &c, 0);
}

const char *flt_num(char out[32], double v)
{
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    return out;
}

/* v with its unit, an SI prefix where the unit takes one (s, V, A, W,
 * ohm: "40mA", "2.5kW", "20ms") and the text reads back through
 * cli_parse_quantity as exactly v; else flt_num and the unit ("0.04A",
 * "85C", "3/s"). */
static const char *flt_qty(char out[48], double v, const char *unit)
{
    static const char *const si[] = {"s", "V", "A", "W", "ohm"};
    static const char prefix[] = "pnum kMG";
    static const double scale[] = {1e-12, 1e-9, 1e-6, 1e-3, 1, 1e3, 1e6, 1e9};
    char num[32];
    int takes = 0;
    for (size_t i = 0; i < sizeof si / sizeof si[0]; i++)
        takes |= !strcmp(unit, si[i]);
    double a = fabs(v);
    if (takes && isfinite(v) && a >= 1e-12 && a < 1e12) {
        int k = 0; /* the prefix with 1 <= |mantissa| < 1000 */
        while (k < 7 && a >= scale[k + 1])
            k++;
        if (k != 4 && !(k > 4 && !strcmp(unit, "s"))) { /* a prefix (seconds never scaled up): the shortest
                                                             * mantissa that reads back as v */
            for (int prec = 1; prec <= 6; prec++) {
                snprintf(num, sizeof num, "%.*g", prec, v / scale[k]);
                if (!strchr(num, 'e') && strtod(num, NULL) * scale[k] == v) { /* "40", never "4e+01" */
                    snprintf(out, 48, "%s%c%s", num, prefix[k], unit);
                    return out;
                }
            }
        }
    }
    snprintf(out, 48, "%s%s", flt_num(num, v), unit);
    return out;
}

int flt_format(const flt_spec *s, char *buf, size_t cap)
{
    char qty[48];
    char num[32];
    if (s->id >= flt_count)
        return EK3_ENOENT;
    const flt_def *d = &flt_table[s->id];
    char tgt[32];
    if (d->target == FLT_T_BUS || d->target == FLT_T_RACK || d->target == FLT_T_STATION)
        snprintf(tgt, sizeof tgt, "%s", flt_target_name[d->target]);
    else if (d->target == FLT_T_SERVICE && s->leader)
        snprintf(tgt, sizeof tgt, "leader.%u", s->svc);
    else if (d->target == FLT_T_SERVICE)
        snprintf(tgt, sizeof tgt, "%u.%u", s->target, s->svc);
    else if (s->leader)
        snprintf(tgt, sizeof tgt, "leader");
    else
        snprintf(tgt, sizeof tgt, "%u", s->target);
    size_t n = (size_t)snprintf(buf, cap, "%s:%s@%ss", d->name, tgt, flt_num(num, s->t)); /* reads back exactly */
    for (unsigned i = 0; i < d->np && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%c%s=%s", i ? ',' : ':', d->p[i].name,
                              flt_qty(qty, s->p[i], d->p[i].unit));
    return n < cap ? EK3_OK : EK3_ENOSPC;
}

int flt_print(FILE *f, int markdown, const unsigned char *only)
{
    if (markdown)
        fprintf(f, "| fault | kind | target | parameters (unit, range, default) | clear | models | expects |\n"
                   "|---|---|---|---|---|---|---|\n");
    int nw = 5; /* the name column: as wide as the longest name ("module-reboot") */
    for (unsigned i = 0; i < flt_count; i++)
        nw = strlen(flt_table[i].name) > (size_t)nw ? (int)strlen(flt_table[i].name) : nw;
    if (!markdown)
        fprintf(f, "%-*s %-8s %-12s %s\n", nw, "fault", "kind", "target", "parameters: name (unit) min..max, default");
    unsigned order[FLT_COUNT_], n_order = 0; /* the rows, in only[]'s order (ranks 1..flt_count) */
    for (unsigned r = only ? 1 : 0; r <= (only ? flt_count : 0u); r++)
        for (unsigned i = 0; i < flt_count; i++)
            if (!only || only[i] == r)
                order[n_order++] = i;
    for (unsigned k = 0; k < n_order; k++) {
        const flt_def *d = &flt_table[order[k]];
        char ps[256] = "";
        size_t n = 0;
        for (unsigned j = 0; j < d->np && n < sizeof ps; j++) {
            const flt_param *p = &d->p[j];
            n += (size_t)snprintf(ps + n, sizeof ps - n, "%s%s%s%s%s %.10g..%.10g, %.10g", j ? "; " : "", p->name,
                                  *p->unit ? " (" : "", p->unit, *p->unit ? ")" : "", p->min, p->max, p->def);
        }
        if (markdown)
            fprintf(f, "| `%s` | %s | %s | %s | %s | %s | %s |\n", d->name, flt_kind_name[d->kind],
                    flt_target_name[d->target], d->np ? ps : "-", d->clearable ? "yes" : "no", d->models, d->expects);
        else
            fprintf(f, "%-*s %-8s %-12s %s\n%*s %s%s\n%*s expects: %s\n", nw, d->name, flt_kind_name[d->kind],
                    flt_target_name[d->target], d->np ? ps : "-", nw, "", d->models,
                    d->clearable ? "" : " (cannot be cleared)", nw, "", d->expects);
    }
    if (!markdown && !only)
        fprintf(f, "\nA kernel fault needs its module's firmware running: each MCU leaves reset 0-10 ms after the\n"
                   "rack's power-on (by seed and slot), and a kernel fault timed before 10 ms, or before its\n"
                   "module's start (a module inserted later), is refused on every seed (bad-image excepted: it\n"
                   "waits for the next firmware trial).\n");
    return fflush(f) || ferror(f) ? EK3_EIO : EK3_OK;
}

unsigned flt_msg_code(unsigned code)
{
    switch (code) {
    case RTLP_OVP:
        return MSG_FAULT_OVP;
    case RTLP_OCP:
        return MSG_FAULT_OCP;
    case RTLP_OTP:
        return MSG_FAULT_OTP;
    case RTLP_GFI:
        return MSG_FAULT_GFI;
    default:
        return MSG_FAULT_NONE;
    }
}
