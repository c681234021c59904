/* cmd_fw.c - `ek3 fw`: one module's firmware as a process of its own,
 * on a bus to the plant (`ek3 rack --external`, `ek3 plant serve`). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "transport.h"
#include "cmd.h"
#include "ek3_err.h"
#include "fwinst.h"

int cmd_fw(int argc, char **argv)
{
    const char *w = "fw", *bus = NULL;
    int64_t slot = 0, rack = FWI_RACK_DEFAULT;
    uint64_t seed = 1;
    double vset = 0, silence = 5.0, stop_after = -1;
    const char *miss = NULL;
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!cli_is_help(a) && cli_once(w, &seen, a, NULL))
            return CLI_USAGE;
        if (cli_is_help(a)) {
            puts("usage: ek3 fw --module N --bus SPEC [--seed 1] [--vset V] [--silence 5s]\n"
                 "              [--stop-after QUANTA] [--rack 84]\n\n"
                 "Run module N's firmware (JEZGRO, its services, LLC_CONTROL) as its own process.\n"
                 "It says HELLO on the bus, then runs one control period per HIL_TICK SYNC\n"
                 "from the plant (the time master): the HIL_ADC frame in, HIL_PWM and its CAN\n"
                 "frames out, then DONE. It exits on BYE, or when the plant has been silent\n"
                 "for --silence. The same --seed as the rack gives the same firmware as an\n"
                 "in-process module. The module boots off and waits for the station's\n"
                 "POWER_CMD, unless --vset gives it a set point to start with (a rig without\n"
                 "a station). --stop-after makes it vanish without a word after that\n"
                 "many periods (a crash, for tests). SPEC: udp:HOST:PORT (the plant listens\n"
                 "on BASE + N for module N), cannelloni:HOST:PORT[:LOCALPORT] (the same ports\n"
                 "in cannelloni's format), or a SocketCAN interface. --rack: the modules of\n"
                 "the rack (its slots 1..N vote in the swarm's elections; as `ek3 rack --modules`).");
            return CLI_OK;
        } else if (!strcmp(a, "--module") && cli_has_value(a, v, &miss)) {
            if (cli_parse_i64(v, 1, 510, &slot))
                return cli_usage_error(w, "--module '%s': a whole number, 1 to 510", v);
        } else if (!strcmp(a, "--rack") && cli_has_value(a, v, &miss)) {
            if (cli_parse_i64(v, 1, 510, &rack))
                return cli_usage_error(w, "--rack '%s': a whole number of modules, 1 to 510", v);
        } else if (!strcmp(a, "--bus") && cli_has_value(a, v, &miss)) {
            bus = v;
        } else if (!strcmp(a, "--seed") && cli_has_value(a, v, &miss)) {
            if (cli_parse_seed(v, &seed))
                return cli_usage_error(w, "--seed '%s': " CLI_SEED_RANGE, v);
        } else if (!strcmp(a, "--vset") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "V", &vset) || !(vset >= 200 && vset <= 920))
                return cli_usage_error(w, "--vset '%s': 200 to 920 V", v);
        } else if (!strcmp(a, "--silence") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "s", &silence) || !(silence > 0 && silence <= 3600))
                return cli_time_error(w, "--silence", v, "above 0", 3600);
        } else if (!strcmp(a, "--stop-after") && cli_has_value(a, v, &miss)) {
            int64_t n;
            if (cli_parse_i64(v, 0, INT32_MAX, &n))
                return cli_usage_error(w, "--stop-after '%s': a number of periods", v);
            stop_after = (double)n;
        } else {
            return cli_bad_arg(w, a, miss);
        }
        i++;
    }
    if (!slot || !bus)
        return cli_usage_error(w, "--module and --bus are required");
    if (slot > rack)
        return cli_usage_error(w, "--module %lld is not in a rack of --rack %lld", (long long)slot, (long long)rack);
    uint32_t periods = 0;
    int rc = fwi_serve((unsigned)slot, (unsigned)rack, bus, seed, (float)vset, silence, stop_after >= 0 ? (long)stop_after : -1,
                       &periods);
    if (rc == EK3_ETIMEDOUT)
        return cli_fail(w, "module %lld: the plant has been silent for %g s after %u periods; stopping",
                        (long long)slot, silence, periods);
    if (rc == EK3_EPARSE || rc == EK3_ERANGE || rc == EK3_EINVAL)
        return cli_usage_error(w, "--bus '%s': %s", bus, tp_spec_why(bus, rc));
    if (rc)
        return cli_fail(w, "module %lld on %s: %s", (long long)slot, bus, tp_spec_why(bus, rc));
    fprintf(stderr, "ek3 fw: module %lld ran %u periods\n", (long long)slot, periods);
    return CLI_OK;
}
