/* cmd_api.c - `ek3 api`: one request to a running rack's station API. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "ek3_err.h"
#include "rig.h"
#include "stnapi.h"

int cmd_api(int argc, char **argv)
{
    const char *w = "api", *spec = NULL, *key = RIG_API_KEY;
    double timeout = 1.0;
    char req[SAPI_LINE_MAX];
    size_t n = 0;
    int words = 0;
    const char *miss = NULL;
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!cli_is_help(a) && cli_once(w, &seen, a, NULL))
            return CLI_USAGE;
        if (cli_is_help(a)) {
            puts("usage: ek3 api udp:HOST:PORT [--key KEY] [--timeout 1s] REQUEST...\n\n"
                 "Send one request to the station controller of a rack started with\n"
                 "`ek3 rack --api udp:HOST:PORT` and print its reply. Requests:\n"
                 "  module SLOT WATTS [VOLTS]   set one module (0 W stops it)\n"
                 "  restart SLOT WATTS [VOLTS]  restart a module after a fault, if it is gone\n"
                 "  rack WATTS [VOLTS]          share WATTS over the online modules\n"
                 "  diag SLOT TEST              self-test: all adc pwm fan ntc flash crypto can audit\n"
                 "  status [SLOT]               the rack's, or one module's, last state\n"
                 "--key is the station's API key (default: the rig's development key). It\n"
                 "is never sent: the request carries this machine's time, a random nonce\n"
                 "and an HMAC-SHA-256 made with the key, and the reply's MAC is checked\n"
                 "(docs/bridge.md). The clocks of both machines must agree within 30 s.\n"
                 "Exit code 0 when the station carried it out, 1 when it refused it,\n"
                 "did not answer within --timeout, or its reply did not verify, or when\n"
                 "HOST does not resolve or its host says nothing listens at PORT; 2 for\n"
                 "a bad command line.");
            return CLI_OK;
        } else if (!strcmp(a, "--key") && cli_has_value(a, v, &miss)) {
            key = v, i++;
        } else if (!strcmp(a, "--timeout") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "s", &timeout) || !(timeout > 0 && timeout <= 3600))
                return cli_time_error(w, "--timeout", v, "above 0 and up to an hour", 3600);
            i++;
        } else if (a[0] == '-' && a[1] == '-') {
            return cli_bad_arg(w, a, miss); /* an option, unknown or without its value */
        } else if (!spec) {
            spec = a;
        } else {
            int k = snprintf(req + n, sizeof req - n, "%s%s", words ? " " : "", a);
            if (k < 0 || (size_t)k >= sizeof req - n)
                return cli_usage_error(w, "the request is longer than %d bytes", SAPI_LINE_MAX - 1);
            n += (size_t)k;
            words++;
        }
    }
    if (!spec || strncmp(spec, "udp:", 4))
        return cli_usage_error(w, "expected udp:HOST:PORT, then the request");
    if (!words)
        return cli_usage_error(w, "no request after %s (module, rack, diag or status)", spec);
    char why[160];
    if (sapi_req_check(req, why, sizeof why))
        return cli_usage_error(w, "'%s': %s", req, why);
    if (!*key)
        return cli_usage_error(w, "--key: an empty key");
    char reply[SAPI_LINE_MAX];
    int rc = sapi_request(spec, key, req, (int)(timeout * 1000), reply, sizeof reply);
    if (rc == EK3_EPARSE)
        return cli_usage_error(w, "'%s': expected udp:HOST:PORT or udp:[V6]:PORT", spec);
    if (rc == EK3_ERANGE)
        return cli_usage_error(w, "'%s': the station's port must be 1 to 65535", spec);
    if (rc == EK3_ENOSPC)
        return cli_usage_error(w, "the signed request is longer than %d bytes", SAPI_LINE_MAX - 1);
    if (rc == EK3_EFORGED) {
        printf("%s\n", reply);
        return cli_fail(w, "%s: the reply's MAC does not verify: a wrong --key, or not the station", spec);
    }
    if (rc == EK3_ETIMEDOUT)
        return cli_fail(w, "%s: no answer in %g s (is `ek3 rack --api` running there? after failed attempts from "
                           "this address it answers none for a while)",
                        spec, timeout);
    if (rc == EK3_EREFUSED)
        return cli_fail(w, "%s: refused: nothing listens at that port (is `ek3 rack --api %s` running?)", spec, spec);
    if (rc == EK3_ENOENT)
        return cli_fail(w, "%s: the host does not resolve (a name or an address: udp:127.0.0.1:PORT)", spec);
    if (rc)
        return cli_fail(w, "%s: %s", spec, ek3_strerror(rc));
    if (puts(reply) == EOF || fflush(stdout))
        return cli_stdout_error(w);
    return strncmp(reply, "ok", 2) ? CLI_FAIL : CLI_OK;
}
