/* ek3.c - the rig's one executable: git-style subcommands. */
#include "cli.h"
#include "cmd.h"

static const cli_cmd ek3_cmds[] = {
    {"can", cmd_can, "CAN-FD identifiers, payloads, logs, bus load and CMAC"},
    {"scenario", cmd_scenario, "run Lua scenarios: rack, loads, faults, checks, a verdict per seed"},
    {"nightly", cmd_nightly, "the nightly regression: the scenario library in shards, JUnit, report, history"},
    {"rack", cmd_rack, "a rack in one process: plant and firmware in lockstep; report and plots"},
    {"fw", cmd_fw, "one module's firmware as its own process, on a bus to the plant"},
    {"replay", cmd_replay, "play a candump log back onto a bus"},
    {"api", cmd_api, "one request to a running rack's station controller (ek3 rack --api)"},
    {"faults", cmd_faults, "every fault the rig can inject: name, target, parameters, what it models"},
    {"plant", cmd_plant, "the plant model: parameters, one module's run, gain sweep"},
    {"bench", cmd_bench, "run benchmarks and print their figures"},
    {"audit", cmd_audit, "a module's audit log: dump it from a rig run, verify a dump"},
    {"fwimg", cmd_fwimg, "signed firmware images: make a key, build, inspect, verify"},
};

int main(int argc, char **argv)
{
    return cli_finish(cli_dispatch("", "ek3 - the EK3 hardware-in-the-loop rig.", ek3_cmds,
                                   sizeof ek3_cmds / sizeof ek3_cmds[0], argc, argv));
}
