/* test_station.c - the station controller and the modules' CAN_HANDLER,
 * through the rack bus: commands are authenticated, fresh and within the
 * limits at every layer; the API refuses bad keys and excess rates;
 * unanswered commands are retried and then given up. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <math.h>
#include <netinet/in.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "can_handler.h"
#include "can_id.h"
#include "ek3_err.h"
#include "fault.h"
#include "host_crypto.h"
#include "rig.h"
#include "services.h"
#include "stnapi.h"

static rig g;

static void setup(void)
{
    rig_opts o;
    rig_default_opts(&o, 3, 11, 3000);
    o.via_station = 1;
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
}

static void teardown(void)
{
    rig_free(&g);
}

static void run_ms(double ms)
{
    for (long q = 0; q < (long)(ms * 10 + 0.5); q++)
        rig_quantum(&g);
}

static canh_state *canh_of_rig(rig *r, unsigned slot)
{
    jz_kernel *k = &r->m[slot - 1].fw.k;
    int id = jz_find(k, "CAN_HANDLER");
    cr_assert_gt(id, 0);
    return jz_state(k, (unsigned)id);
}

static canh_state *canh_of(unsigned slot)
{
    jz_kernel *k = &g.m[slot - 1].fw.k;
    int id = jz_find(k, "CAN_HANDLER");
    cr_assert_gt(id, 0);
    return jz_state(k, (unsigned)id);
}

/* A POWER_CMD to `slot`, signed with `key` at counter fv, onto the bus as the station. */
static void inject_cmd(unsigned slot, const uint8_t key[16], uint32_t fv, double power_w, double vset)
{
    msg_power_cmd c = {MSG_POWER_SET, (uint16_t)power_w, (uint16_t)(vset * 10), 4000, 0};
    cfd_frame f;
    memset(&f, 0, sizeof f);
    f.flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS;
    cid_fields cf = {CID_PRIO_HIGH, CID_TYPE_POWER_CMD, CID_NODE_STATION, (uint16_t)slot};
    cr_assert_eq(cid_encode(&cf, &f.id), EK3_OK);
    msg_err e;
    f.len = (uint8_t)msg_encode(CID_TYPE_POWER_CMD, &c, f.data, sizeof f.data, &e);
    auth_crypto cr = hostcrypto_auth();
    cr_assert_eq(auth_sign_with(&cr, key, fv, &f), EK3_OK);
    cr_assert_eq(cbus_send(&g.bus, 0, &f, g.t_ns), EK3_OK);
}

Test(station, starts_every_module_with_authenticated_commands, .init = setup, .fini = teardown)
{
    run_ms(10);
    cr_assert_eq(stn_online(&g.stn, g.t_ns), 3, "heartbeats from every module");
    cr_assert_eq(stn_api_rack(&g.stn, g.t_ns, RIG_API_KEY, 3 * 2500.0, 750), EK3_OK);
    run_ms(20);
    cr_assert_eq(g.stn.st.sent, 3);
    cr_assert_eq(g.stn.st.acked, 3);
    for (unsigned s = 1; s <= 3; s++) {
        cr_assert_eq(canh_of(s)->st.accepted, 1);
        cr_assert_eq(g.m[s - 1].fw.drv.ctl.enable, 1);
        cr_assert_eq(g.m[s - 1].fw.drv.ctl.p_lim, 2500.0f);
    }
    run_ms(1500);
    cr_assert(fabs(g.plant.vbus - 740) < 12, "the bus is up: %.1f V", g.plant.vbus);
}

/* A module the transport gave up (an external module that stopped
 * answering: rig.c's rig_lose) is offline at once, not 3 s later when its
 * last heartbeat ages out: the online count and a rack request's split
 * leave it out (issue 10). */
Test(station, a_module_given_up_is_not_online_and_gets_no_share, .init = setup, .fini = teardown)
{
    run_ms(10);
    cr_assert_eq(stn_online(&g.stn, g.t_ns), 3);
    cr_assert_eq(stn_lost(&g.stn, 2), EK3_OK);
    cr_assert_eq(stn_lost(&g.stn, 0), EK3_ERANGE);
    cr_assert_eq(stn_lost(&g.stn, 4), EK3_ERANGE);
    cr_assert_eq(stn_online(&g.stn, g.t_ns), 2, "slot 2 was heard 10 ms ago but is given up");
    cr_assert_eq(stn_api_module(&g.stn, g.t_ns, RIG_API_KEY, 2, 2000, 750), EK3_ENOENT);
    cr_assert_eq(stn_api_rack(&g.stn, g.t_ns, RIG_API_KEY, 2 * 2500.0, 750), EK3_OK, "two modules carry 5 kW");
    run_ms(20);
    cr_assert_eq(g.stn.st.sent, 2, "the split is over the two online modules");
    cr_assert_eq(g.m[0].fw.drv.ctl.p_lim, 2500.0f);
    cr_assert_eq(g.m[2].fw.drv.ctl.p_lim, 2500.0f);
    cr_assert_eq(g.m[1].fw.drv.ctl.enable, 0, "the given-up module got no command");
}

Test(station, forged_replayed_and_unauthenticated_commands_are_refused_and_counted, .init = setup, .fini = teardown)
{
    run_ms(10);
    uint8_t rk[16], key[16], wrong[16];
    fwi_rack_key(11, rk);
    auth_crypto cr = hostcrypto_auth();
    cr_assert_eq(auth_derive_key(&cr, rk, 2, key), EK3_OK);
    memcpy(wrong, key, 16);
    wrong[0] ^= 1;
    inject_cmd(2, wrong, 1, 2000, 750); /* forged */
    run_ms(2);
    canh_state *c = canh_of(2);
    cr_assert_eq(c->st.forged, 1);
    cr_assert_eq(g.m[1].fw.drv.ctl.enable, 0, "a forged command does nothing");
    inject_cmd(2, key, 5, 2000, 750); /* genuine */
    run_ms(2);
    cr_assert_eq(c->st.accepted, 1);
    cr_assert_eq(g.m[1].fw.drv.ctl.enable, 1);
    inject_cmd(2, key, 5, 100, 750); /* the same counter again: a replay */
    run_ms(2);
    cr_assert_eq(c->st.replayed, 1);
    cr_assert_eq(g.m[1].fw.drv.ctl.p_lim, 2000.0f, "the replay changed nothing");
    /* An unauthenticated frame: a POWER_CMD without its trailer. */
    cfd_frame f;
    memset(&f, 0, sizeof f);
    f.flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS;
    cid_fields cf = {CID_PRIO_HIGH, CID_TYPE_POWER_CMD, CID_NODE_STATION, 2};
    cid_encode(&cf, &f.id);
    msg_power_cmd cmd = {MSG_POWER_STOP, 0, 7500, 4000, 0};
    msg_err e;
    f.len = (uint8_t)msg_encode(CID_TYPE_POWER_CMD, &cmd, f.data, sizeof f.data, &e);
    cr_assert_eq(cbus_send(&g.bus, 0, &f, g.t_ns), EK3_OK);
    run_ms(2);
    cr_assert_eq(c->st.forged + c->st.unauthenticated + c->st.stale, 2, "refused (%u forged, %u unauth, %u stale)",
                 c->st.forged, c->st.unauthenticated, c->st.stale);
    cr_assert_eq(g.m[1].fw.drv.ctl.enable, 1, "and it did not stop the module");
    cr_assert_eq(c->st.refused, 3);
    /* A POWER_CMD STOP from module 3's slot: only the station commands (auth_rule). */
    cf = (cid_fields){CID_PRIO_HIGH, CID_TYPE_POWER_CMD, 3, 2};
    cid_encode(&cf, &f.id);
    cr_assert_eq(cbus_send(&g.bus, 3, &f, g.t_ns), EK3_OK);
    run_ms(2);
    cr_assert_eq(c->st.refused, 4, "refused unread");
    cr_assert_eq(c->st.cmds, 4, "and not taken for a command");
    cr_assert_eq(g.m[1].fw.drv.ctl.enable, 1, "the module runs on");
    /* A self-test request from module 3: only the station asks for one. */
    msg_diag dq = {MSG_DIAG_REQUEST, MSG_DIAG_FAN, MSG_DIAG_RUNNING, 0};
    cf = (cid_fields){CID_PRIO_LOW, CID_TYPE_DIAG, 3, 2};
    cid_encode(&cf, &f.id);
    f.len = (uint8_t)msg_encode(CID_TYPE_DIAG, &dq, f.data, sizeof f.data, &e);
    cr_assert_eq(cbus_send(&g.bus, 3, &f, g.t_ns), EK3_OK);
    run_ms(2);
    cr_assert_eq(c->st.refused, 5, "refused unread");
    cr_assert_eq(c->st.diags, 0, "no self-test ran");
}

Test(station, limits_hold_at_every_layer, .init = setup, .fini = teardown)
{
    run_ms(10);
    /* The station refuses what a module cannot do. */
    cr_assert_eq(stn_api_module(&g.stn, g.t_ns, RIG_API_KEY, 1, 3500, 750), EK3_ERANGE);
    cr_assert_eq(stn_api_module(&g.stn, g.t_ns, RIG_API_KEY, 1, 2000, 1000), EK3_ERANGE);
    cr_assert_eq(stn_api_module(&g.stn, g.t_ns, RIG_API_KEY, 1, 3100, 750), EK3_ERANGE, "4.0 A at 750 V is 3.0 kW");
    cr_assert_eq(stn_api_rack(&g.stn, g.t_ns, RIG_API_KEY, 10000, 750), EK3_ERANGE, "3 modules cannot carry 10 kW");
    cr_assert_eq(stn_api_module(&g.stn, g.t_ns, RIG_API_KEY, 9, 1000, 750), EK3_ENOENT);
    cr_assert_eq(g.stn.st.api_range, 4);
    /* A command past the limits that reaches a module anyway (signed with
     * its key, bypassing the station) is clamped by CAN_HANDLER. */
    uint8_t rk[16], key[16];
    fwi_rack_key(11, rk);
    auth_crypto cr = hostcrypto_auth();
    auth_derive_key(&cr, rk, 3, key);
    inject_cmd(3, key, 1, 3300, 920); /* within the payload's ranges, but 3.3 kW > 4.0 A at 920 V? no: 3.58 A */
    run_ms(2);
    cr_assert_eq(canh_of(3)->st.accepted, 1);
    msg_power_cmd big = {MSG_POWER_SET, 3300, 2000, 4000, 0}; /* 200.0 V: 4.0 A allows 800 W */
    cfd_frame f;
    memset(&f, 0, sizeof f);
    f.flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS;
    cid_fields cf = {CID_PRIO_HIGH, CID_TYPE_POWER_CMD, CID_NODE_STATION, 3};
    cid_encode(&cf, &f.id);
    msg_err e;
    f.len = (uint8_t)msg_encode(CID_TYPE_POWER_CMD, &big, f.data, sizeof f.data, &e);
    auth_sign_with(&cr, key, 2, &f);
    cbus_send(&g.bus, 0, &f, g.t_ns);
    run_ms(2);
    cr_assert_eq(canh_of(3)->st.clamped, 1);
    cr_assert(g.m[2].fw.drv.ctl.p_lim <= 800.0f + 1e-3f, "clamped to 4.0 A x 200 V: %.1f W", g.m[2].fw.drv.ctl.p_lim);
    cr_assert(g.m[2].fw.drv.ctl.cfg.i_max < 4.0f, "and LLC_CONTROL keeps its own 4.0 A limit");
}

Test(station, the_api_refuses_bad_keys_and_excess_rates, .init = setup, .fini = teardown)
{
    FILE *log = tmpfile();
    cr_assert_not_null(log);
    g.stn.log = log;
    run_ms(10);
    cr_assert_eq(stn_api_module(&g.stn, g.t_ns, "not-the-key", 1, 1000, 750), EK3_EPERM);
    cr_assert_eq(stn_api_module(&g.stn, g.t_ns, RIG_API_KEY "x", 1, 1000, 750), EK3_EPERM);
    cr_assert_eq(stn_api_module(&g.stn, g.t_ns, NULL, 1, 1000, 750), EK3_EPERM);
    cr_assert_eq(g.stn.st.api_bad_key, 3);
    unsigned ok = 0, busy = 0;
    for (int i = 0; i < 30; i++) { /* 30 requests in one instant: the burst is 10 */
        int rc = stn_api_module(&g.stn, g.t_ns, RIG_API_KEY, 1, 1000, 750);
        ok += rc == EK3_OK;
        busy += rc == EK3_EBUSY;
    }
    cr_assert_eq(ok, 10, "the burst");
    cr_assert_eq(busy, 20);
    run_ms(500); /* 20 per second refill: 10 more after half a second */
    ok = 0;
    for (int i = 0; i < 30; i++)
        ok += stn_api_module(&g.stn, g.t_ns, RIG_API_KEY, 1, 1000, 750) == EK3_OK;
    cr_assert_eq(ok, 10);
    run_ms(1100); /* quiet: the bursts are over */
    /* Each burst of refusals is one log line with its count, not a line each. */
    rewind(log);
    char line[256];
    unsigned refusals = 0, bad_key = 0, rate = 0;
    while (fgets(line, sizeof line, log))
        if (strstr(line, "refused")) {
            refusals++;
            bad_key += strstr(line, "station: refused 3 API requests in 0.000 s: bad API key") != NULL;
            rate += strstr(line, "station: refused 20 API requests in 0.000 s: rate limit") != NULL;
        }
    cr_assert_eq(bad_key, 1);
    cr_assert_eq(rate, 2, "20 refused in each of the two instants");
    cr_assert_eq(refusals, 3, "and nothing else");
    g.stn.log = NULL;
    fclose(log);
}

Test(station, an_unanswered_command_is_retried_three_times_then_given_up, .init = setup, .fini = teardown)
{
    run_ms(10);
    flt_spec cut;
    cr_assert_eq(flt_parse("bus-cut:2@0s", &cut, NULL, 0), EK3_OK);
    cr_assert_eq(flt_inject(&g, &cut), EK3_OK); /* module 2 off the bus */
    cr_assert_eq(stn_api_module(&g.stn, g.t_ns, RIG_API_KEY, 2, 1000, 750), EK3_OK);
    run_ms(450);
    cr_assert_eq(g.stn.st.retries, 3);
    cr_assert_eq(g.stn.st.gave_up, 1);
    cr_assert_eq(g.stn.st.gave_up_last, 2, "the report names the module given up on");
    cr_assert_eq(g.stn.st.sent, 4);
    cr_assert_eq(flt_clear(&g, &cut), EK3_OK);
    cr_assert_eq(stn_api_module(&g.stn, g.t_ns, RIG_API_KEY, 2, 1000, 750), EK3_OK);
    run_ms(20);
    cr_assert_eq(g.stn.st.acked, 1, "answered once it is back");
}

/* The station itself cut off: its controller refuses the retries; they
 * still come a timeout (100 ms) apart, not one a quantum. */
Test(station, a_refused_retry_waits_its_timeout, .init = setup, .fini = teardown)
{
    run_ms(10);
    cr_assert_eq(stn_api_module(&g.stn, g.t_ns, RIG_API_KEY, 2, 1000, 750), EK3_OK);
    flt_spec cut;
    cr_assert_eq(flt_parse("bus-cut:0@0s", &cut, NULL, 0), EK3_OK);
    cr_assert_eq(flt_inject(&g, &cut), EK3_OK); /* the command queued; the station off the bus */
    run_ms(150);
    cr_assert_eq(g.stn.st.retries, 1, "one retry by 160 ms: %u", g.stn.st.retries);
    cr_assert_eq(g.stn.st.gave_up, 0);
    run_ms(300);
    cr_assert_eq(g.stn.st.retries, 3);
    cr_assert_eq(g.stn.st.gave_up, 1, "given up after its three retries, 400 ms on");
    /* a command given while it is cut off: counted sent, lost on the wire, retried, given up */
    unsigned sent = g.stn.st.sent;
    cr_assert_eq(stn_api_module(&g.stn, g.t_ns, RIG_API_KEY, 2, 1500, 750), EK3_OK);
    cr_assert_eq(g.stn.st.sent, sent + 1);
    run_ms(450);
    cr_assert_eq(g.stn.st.retries, 6);
    cr_assert_eq(g.stn.st.gave_up, 2);
}

Test(station, self_tests_on_request_and_the_health_byte, .init = setup, .fini = teardown)
{
    run_ms(10);
    cr_assert_eq(stn_api_diag(&g.stn, g.t_ns, RIG_API_KEY, 2, MSG_DIAG_FAN), EK3_OK);
    run_ms(5);
    cr_assert_eq(g.stn.m[1].diag.result, MSG_DIAG_FAIL, "10 ms after power-on the fan has not spun up");
    run_ms(5000);
    cr_assert_eq(stn_api_diag(&g.stn, g.t_ns, RIG_API_KEY, 2, MSG_DIAG_ALL), EK3_OK);
    run_ms(5);
    cr_assert_geq(g.stn.m[1].diag_ns, 0, "an answer came");
    cr_assert_eq(g.stn.m[1].diag.op, MSG_DIAG_RESULT);
    cr_assert_eq(g.stn.m[1].diag.result, MSG_DIAG_PASS, "all self-tests pass (first failure: %u)", g.stn.m[1].diag.value);
    cr_assert_eq(stn_api_diag(&g.stn, g.t_ns, RIG_API_KEY, 2, MSG_DIAG_FLASH), EK3_OK);
    run_ms(5);
    cr_assert_eq(g.stn.m[1].diag.test, MSG_DIAG_FLASH);
    cr_assert_eq(g.stn.m[1].diag.value, 2, "the configuration names slot 2");
    /* The audit log's head reaches the station: the chain value after the
     * last record module 2 committed (its BOOT at least). */
    cr_assert_eq(stn_api_diag(&g.stn, g.t_ns, RIG_API_KEY, 2, MSG_DIAG_AUDIT), EK3_OK);
    run_ms(5);
    cr_assert_eq(g.stn.m[1].diag.test, MSG_DIAG_AUDIT);
    cr_assert_eq(g.stn.m[1].diag.result, MSG_DIAG_PASS);
    {
        hal hw = hhal_hal(&g.m[1].fw.h);
        canh_config c;
        uint8_t head[8];
        uint32_t next;
        cr_assert_eq(canh_config_read(hw, &c), EK3_OK);
        cr_assert_eq(alog_head_read(hw, c.key, head, &next), EK3_OK);
        cr_assert_geq(next, 1u, "records in the log");
        uint32_t want = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 24;
        cr_assert_eq(g.stn.m[1].diag.value, want, "the station heard the head 0x%08x", want);
        cr_assert_neq(want, 0u);
    }
    cr_assert_eq(stn_api_diag(&g.stn, g.t_ns, "wrong", 2, MSG_DIAG_ALL), EK3_EPERM);
    /* A stuck temperature sensor on module 3: HEALTH_MONITOR flags it in
     * the heartbeat. The plant's NTC noise keeps a good channel moving. */
    g.plant.mod[2].p.adc_noise_lsb = 0; /* every channel of module 3 stops moving */
    run_ms(8000);
    cr_assert(g.stn.m[2].hb.health & 1u, "health byte 0x%02x: sensor stuck", g.stn.m[2].hb.health);
    cr_assert_eq(g.stn.m[0].hb.health & 1u, 0, "module 1 is healthy (0x%02x)", g.stn.m[0].hb.health);
}

/* ---- the API over the network (stnapi.h) ----------------------------------- */

static int64_t fake_us = 1700000000000000LL; /* the station's wall clock in these tests */

static int64_t fake_clock(void)
{
    return fake_us;
}

static sapi *api_new(void)
{
    static sapi a;
    fake_us = 1700000000000000LL;
    cr_assert_eq(sapi_init(&a, &g.stn, 750, fake_clock), EK3_OK);
    return &a;
}

/* Sign `words` with `key` at the fake clock plus dt_us and hand it to the
 * API from address src; the reply's MAC is checked, r gets its TEXT. */
static int api_as(sapi *a, const char *key, const char *src, int64_t dt_us, const char *words, char *r)
{
    static uint64_t nonce = 1;
    char req[SAPI_LINE_MAX];
    int64_t t = fake_us + dt_us;
    uint64_t nc = nonce++;
    cr_assert_eq(sapi_sign(key, t, nc, words, req, sizeof req), EK3_OK);
    int rc = sapi_handle(a, g.t_ns, src, req, strlen(req), r, SAPI_LINE_MAX);
    if (rc != 1)
        cr_assert_eq(sapi_reply_check(RIG_API_KEY, t, nc, r), EK3_OK, "the reply verifies: %s", r);
    return rc;
}

static int api(sapi *a, const char *words, char *r)
{
    return api_as(a, RIG_API_KEY, "192.0.2.1", 0, words, r);
}

/* The wire form, checked against HMAC-SHA-256 and HKDF computed apart
 * from this code (Python's hmac and hashlib, RFC 5869 by hand):
 * K_req = HKDF(salt "EK3 station API", IKM RIG_API_KEY, info "request MAC v1"). */
Test(station_api, the_wire_form_is_hmac_sha256_under_an_hkdf_key, .init = setup, .fini = teardown)
{
    static const char want[] = "EK3A1 1700000000000000 0123456789abcdef module 2 1500 "
                               "652bf8cd68ed47e1bf14ea3940b03f48144b2baa5526efd35a4e26be104444fc";
    char req[SAPI_LINE_MAX], r[SAPI_LINE_MAX];
    cr_assert_eq(sapi_sign(RIG_API_KEY, 1700000000000000LL, 0x0123456789abcdefull, "module 2 1500", req, sizeof req),
                 EK3_OK);
    cr_assert_str_eq(req, want);
    cr_assert_null(strstr(req, RIG_API_KEY), "the key is not in the request");
    sapi *a = api_new();
    a->start_us = fake_us - 1000000;
    run_ms(30);
    cr_assert_eq(sapi_handle(a, g.t_ns, "192.0.2.1", want, sizeof want - 1, r, sizeof r), EK3_OK, "%s", r);
    /* The reply's MAC: K_rep (info "reply MAC v1") over "TIME NONCE TEXT". */
    cr_assert_str_eq(r, "ok module 2 to 1500 W at 750.0 V: POWER_CMD sent\n"
                        "762d92683e30d2b5d77ba779cb7e5b5f74b34cbc065318afb025acbc620d7fe0");
    cr_assert_eq(g.stn.m[1].cmd.power_w, 1500);
}

Test(station_api, requests_are_parsed_checked_and_answered, .init = setup, .fini = teardown)
{
    char r[SAPI_LINE_MAX];
    sapi *a = api_new();
    run_ms(30);
    cr_assert_eq(api(a, "module 2 1500", r), EK3_OK, "%s", r);
    cr_assert(!strncmp(r, "ok module 2 to 1500 W at 750.0 V", 32), "%s", r);
    cr_assert_eq(g.stn.m[1].cmd.power_w, 1500);
    cr_assert_eq(api(a, "rack 6000 700", r), EK3_OK, "%s", r);
    cr_assert_eq(g.stn.m[0].cmd.vset_dv, 7000);
    cr_assert_eq(api(a, "diag 3 FAN", r), EK3_OK, "%s", r);
    cr_assert_eq(api(a, "restart 3 1000", r), EK3_OK, "%s", r);
    cr_assert(!strncmp(r, "ok module 3 restarting to 1000 W", 32), "%s", r);
    cr_assert_eq(g.stn.m[2].cmd.op, MSG_POWER_START, "a restart is a START whatever the state");
    cr_assert_eq(api(a, "restart 3 0", r), EK3_ERANGE, "%s", r);
    run_ms(600); /* the rate limit refills */
    cr_assert_eq(api(a, "status", r), EK3_OK, "%s", r);
    cr_assert(strstr(r, "3 modules, 3 online"), "%s", r);
    /* a self-test's answer comes later: status SLOT says it, the audit log's head as audit verify --head takes it */
    cr_assert_eq(api(a, "status 2", r), EK3_OK, "%s", r);
    cr_assert(strstr(r, "; no self-test answered"), "%s", r);
    cr_assert_eq(api(a, "status 3", r), EK3_OK, "%s", r);
    cr_assert(strstr(r, "; self-test FAN ") && strstr(r, " value "), "%s", r); /* (the rig's fan is off: FAIL) */
    cr_assert_eq(api(a, "diag 1 audit", r), EK3_OK, "%s", r);
    run_ms(600);
    cr_assert_eq(api(a, "status 1", r), EK3_OK, "%s", r);
    const char *h = strstr(r, "; self-test AUDIT PASS head ");
    cr_assert(h && strspn(h + 28, "0123456789abcdef") == 8 && h[36] == ' ', "%s", r);
    /* Refusals name the reason; malformed requests name what was expected. */
    cr_assert_eq(api(a, "module 2 3400", r), EK3_ERANGE, "%s", r);
    cr_assert_eq(api(a, "module 2 1500 950", r), EK3_ERANGE, "%s", r);
    cr_assert_eq(api(a, "rack 20000", r), EK3_ERANGE, "three modules cannot carry 20 kW: %s", r);
    cr_assert_eq(api(a, "module 9 100", r), EK3_ENOENT, "%s", r);
    cr_assert_eq(api(a, "status 9", r), EK3_ENOENT, "%s", r);
    static const char *const bad[] = {"module", "module two 100", "module 2 100W", "module 2 nan", "module 2 1e999",
                                      "module 2.5 100", "module 0 100", "module 2 100 750 1", "diag 2 toaster",
                                      "launch 1", "status 1 2", "a b c d e f g h i"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(api(a, bad[i], r), EK3_EPARSE, "'%s' -> %s", bad[i], r);
        cr_assert(!strncmp(r, "error EK3_EPARSE: ", 18), "%s", r);
    }
    /* a slot that is not one says so (it gave only "expected: module SLOT WATTS [VOLTS]") */
    cr_assert_eq(api(a, "module 0 100", r), EK3_EPARSE, "%s", r);
    cr_assert(strstr(r, "module: SLOT '0' is not a slot: a whole number from 1"), "%s", r);
    cr_assert_eq(api(a, "diag -1 all", r), EK3_EPARSE, "%s", r);
    cr_assert(strstr(r, "diag: SLOT '-1' is not a slot"), "%s", r);
    /* a module taken out of the rack's split leaves the others more than they carry: the reply says so at once
     * (it said only "POWER_CMD sent"; the station's log knew) */
    run_ms(600);
    cr_assert_eq(api(a, "rack 5000 700", r), EK3_OK, "%s", r);
    cr_assert_eq(api(a, "module 1 2800 700", r), EK3_OK, "%s", r);
    cr_assert(!strstr(r, "warning"), "two carry 5.6 kW at 700 V: %s", r);
    cr_assert_eq(api(a, "module 3 0 700", r), EK3_OK, "%s", r);
    cr_assert(strstr(r,
                     "ok module 3 to 0 W at 700.0 V: POWER_CMD sent; warning: the rack's demand of 5000 W over the 1 "
                     "module left in its split: 2200 W not carried"),
              "%s", r);
    /* Every request, read or write, spends from the station's rate limit. */
    unsigned busy = 0;
    for (int i = 0; i < 30; i++)
        busy += api(a, "status", r) == EK3_EBUSY;
    cr_assert_geq(busy, 20, "%u refused", busy);
    cr_assert(!strcmp(r, "error EK3_EBUSY: rate limit: try later"), "%s", r);
    cr_assert_eq(a->st.ok + a->st.refused + a->st.malformed + a->st.throttled, a->st.requests);
    cr_assert_eq(a->st.malformed, sizeof bad / sizeof bad[0] + 2);
}

Test(station_api, the_key_is_never_sent_and_a_wrong_or_changed_request_fails, .init = setup, .fini = teardown)
{
    char r[SAPI_LINE_MAX], req[SAPI_LINE_MAX];
    sapi *a = api_new();
    run_ms(30);
    cr_assert_eq(api_as(a, "not-the-key", "192.0.2.1", 0, "module 2 1500", r), EK3_EFORGED);
    cr_assert(!strncmp(r, "error EK3_EFORGED: bad MAC", 26), "%s", r);
    cr_assert_eq(g.stn.m[1].cmd.power_w, 0, "nothing was sent");
    /* One byte changed after signing: 1500 W becomes 2500 W. */
    cr_assert_eq(sapi_sign(RIG_API_KEY, fake_us, 7, "module 2 1500", req, sizeof req), EK3_OK);
    *strstr(req, "1500") = '2';
    cr_assert_eq(sapi_handle(a, g.t_ns, "192.0.2.1", req, strlen(req), r, sizeof r), EK3_EFORGED, "%s", r);
    /* The old form, the key in clear, is refused and says what is expected. */
    const char *old = RIG_API_KEY " module 2 1500";
    cr_assert_eq(sapi_handle(a, g.t_ns, "192.0.2.1", old, strlen(old), r, sizeof r), EK3_EPARSE, "%s", r);
    cr_assert(strstr(r, "EK3A1 TIME NONCE REQUEST... MAC"), "%s", r);
    static const char *const bad[] = {"", "EK3A1", "EK3A1 17 0123456789abcdef status",
                                      "EK3A1 x 0123456789abcdef status 00", "EK3A1 17 0123 status 00",
                                      "EK3A1 17 0123456789abcdef status\x01 00", "EK3A1 17 0123456789abcdef \xc3\xa9 00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char src[32];
        snprintf(src, sizeof src, "192.0.2.%zu", 100 + i); /* each its own source: five failures are a budget */
        cr_assert_eq(sapi_handle(a, g.t_ns, src, bad[i], strlen(bad[i]), r, sizeof r), EK3_EPARSE, "'%s' -> %s", bad[i], r);
        cr_assert(!strncmp(r, "error EK3_EPARSE: ", 18), "%s", r);
    }
    char longreq[600];
    memset(longreq, 'x', sizeof longreq);
    cr_assert_eq(sapi_handle(a, g.t_ns, "192.0.2.10", longreq, sizeof longreq, r, sizeof r), EK3_EPARSE);
    cr_assert(strstr(r, "600 bytes"), "%s", r);
    cr_assert_eq(a->st.bad_mac, 2);
    cr_assert_eq(g.stn.st.sent, 0, "no POWER_CMD went out");
}

Test(station_api, a_replayed_or_stale_request_is_refused, .init = setup, .fini = teardown)
{
    char r[SAPI_LINE_MAX], req[SAPI_LINE_MAX];
    sapi *a = api_new();
    a->start_us = fake_us - 1000000;
    run_ms(30);
    cr_assert_eq(sapi_sign(RIG_API_KEY, fake_us, 42, "module 2 1500", req, sizeof req), EK3_OK);
    cr_assert_eq(sapi_handle(a, g.t_ns, "192.0.2.1", req, strlen(req), r, sizeof r), EK3_OK, "%s", r);
    uint32_t sent = g.stn.st.sent;
    cr_assert_eq(sent, 1);
    fake_us += 5000000; /* 5 s later, the same datagram again: refused, not carried out */
    cr_assert_eq(sapi_handle(a, g.t_ns, "192.0.2.1", req, strlen(req), r, sizeof r), EK3_EREPLAY, "%s", r);
    cr_assert(!strncmp(r, "error EK3_EREPLAY: this request was carried out already", 55), "%s", r);
    strcat(req, "\r\n"); /* a line end added is the same request */
    cr_assert_eq(sapi_handle(a, g.t_ns, "192.0.2.77", req, strlen(req), r, sizeof r), EK3_EREPLAY, "%s", r);
    cr_assert_eq(g.stn.st.sent, sent, "the replay sent nothing");
    /* Outside the 30 s window, either way, and before the API opened. */
    cr_assert_eq(api_as(a, RIG_API_KEY, "192.0.2.1", -31000000, "module 2 1000", r), EK3_ESTALE, "%s", r);
    cr_assert_eq(api_as(a, RIG_API_KEY, "192.0.2.1", +31000000, "module 2 1000", r), EK3_ESTALE, "%s", r);
    cr_assert_eq(api_as(a, RIG_API_KEY, "192.0.2.1", -6500000, "module 2 1000", r), EK3_ESTALE, "%s", r);
    cr_assert(strstr(r, "before this station's API opened"), "%s", r);
    cr_assert_eq(api_as(a, RIG_API_KEY, "192.0.2.1", -5500000, "module 2 1000", r), EK3_OK, "%s", r);
    cr_assert_eq(a->st.replayed, 2);
    cr_assert_eq(a->st.stale, 3);
    run_ms(600);
    cr_assert_eq(api(a, "status", r), EK3_OK, "%s", r);
    cr_assert(strstr(r, "stale 3 replayed 2 throttled 0"), "the counters in status: %s", r);
}

Test(station_api, failures_are_throttled_per_source_and_logged_once_per_burst, .init = setup, .fini = teardown)
{
    char r[SAPI_LINE_MAX];
    FILE *log = tmpfile();
    cr_assert_not_null(log);
    g.stn.log = log;
    sapi *a = api_new();
    run_ms(30);
    /* 2700 guesses from one address within the same instant (the
     * report's 0.18 s): five are answered, the rest dropped unchecked. */
    unsigned answered = 0;
    for (int i = 0; i < 2700; i++)
        answered += api_as(a, "guess-the-key", "192.0.2.66", 0, "status", r) != 1;
    cr_assert_eq(answered, 5);
    cr_assert_eq(a->st.bad_mac, 5);
    cr_assert_eq(a->st.throttled, 2695);
    /* Another source, with the key, is served meanwhile. */
    cr_assert_eq(api(a, "module 2 1000", r), EK3_OK, "%s", r);
    /* A second later the guesser has one more try. */
    fake_us += 1000000;
    cr_assert_eq(api_as(a, "guess-the-key", "192.0.2.66", 0, "status", r), EK3_EFORGED, "%s", r);
    cr_assert_eq(api_as(a, "guess-the-key", "192.0.2.66", 0, "status", r), 1);
    cr_assert_eq(a->st.bursts, 0, "nothing logged while the burst goes on");
    fake_us += 2500000; /* quiet: the burst is over */
    sapi_poll(a, g.t_ns);
    cr_assert_eq(a->st.bursts, 1);
    rewind(log);
    char line[512];
    unsigned lines = 0;
    int found = 0;
    while (fgets(line, sizeof line, log))
        if (strstr(line, "api: "))
            lines++, found |= strstr(line, "api: 2702 failed requests from 192.0.2.66 in 1.000 s (bad MAC 6, stale 0, "
                                           "replayed 0, malformed 0); 6 answered, 2696 dropped unanswered") != NULL;
    cr_assert_eq(lines, 1, "one line for the burst");
    cr_assert(found, "the line counts the burst");
    g.stn.log = NULL;
    fclose(log);
}

Test(station_api, over_udp_a_request_sets_a_running_module, .init = setup, .fini = teardown)
{
    static sapi a;
    cr_assert_eq(sapi_open(&a, &g.stn, 750, "udp:127.0.0.1:0"), EK3_OK);
    int port = sapi_port(&a);
    cr_assert_gt(port, 0);
    run_ms(10);
    cr_assert_eq(stn_api_rack(&g.stn, g.t_ns, RIG_API_KEY, 3 * 2500.0, 750), EK3_OK);
    run_ms(1000); /* the bus up, 1 kW per module */
    double p_before = g.plant.mod[1].io * g.plant.mod[1].vo;
    /* A client socket: the request out (twice: the second is a replay), the rack runs, the replies back. */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char req[SAPI_LINE_MAX];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t t = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    cr_assert_eq(sapi_sign(RIG_API_KEY, t, 99, "module 2 500", req, sizeof req), EK3_OK);
    for (int k = 0; k < 2; k++)
        cr_assert_eq(sendto(fd, req, strlen(req), 0, (struct sockaddr *)&to, sizeof to), (ssize_t)strlen(req));
    usleep(20000);
    cr_assert_eq(sapi_poll(&a, g.t_ns), 2);
    char r[SAPI_LINE_MAX];
    ssize_t n = recv(fd, r, sizeof r - 1, 0);
    cr_assert_gt(n, 0);
    r[n] = 0;
    cr_assert_eq(sapi_reply_check(RIG_API_KEY, t, 99, r), EK3_OK, "%s", r);
    cr_assert(!strncmp(r, "ok module 2 to 500 W", 20), "%s", r);
    n = recv(fd, r, sizeof r - 1, 0);
    cr_assert_gt(n, 0);
    r[n] = 0;
    cr_assert_eq(sapi_reply_check(RIG_API_KEY, t, 99, r), EK3_OK, "%s", r);
    cr_assert(!strncmp(r, "error EK3_EREPLAY", 17), "%s", r);
    cr_assert_eq(a.st.requests, 2);
    cr_assert_eq(a.st.ok, 1);
    cr_assert_eq(a.st.replayed, 1);
    run_ms(300);
    double p_after = g.plant.mod[1].io * g.plant.mod[1].vo;
    cr_assert_lt(p_after, 560, "module 2 limited to 500 W: %.0f W (was %.0f W)", p_after, p_before);
    cr_assert_gt(p_before, 700, "it was delivering more before (%.0f W)", p_before);
    close(fd);
    sapi_close(&a);
}

Test(station_api, bad_addresses_are_refused)
{
    static sapi a;
    static station s;
    memset(&s, 0, sizeof s);
    cr_assert_eq(sapi_open(&a, &s, 750, "tcp:127.0.0.1:1"), EK3_EPARSE);
    cr_assert_eq(sapi_open(&a, &s, 750, "udp:127.0.0.1:99999"), EK3_ERANGE, "a number, not a port");
    cr_assert_eq(sapi_open(&a, &s, 750, "udp:127.0.0.1:"), EK3_EPARSE);
    cr_assert_eq(sapi_open(&a, &s, 750, "udp:[::1"), EK3_EPARSE);
    cr_assert_eq(sapi_open(&a, &s, 750, "udp:no.such.host.invalid:7000"), EK3_ENOENT);
    cr_assert_eq(sapi_open(&a, &s, 750, "udp:127.0.0.1:0"), EK3_EINVAL, "a station without a key");
    /* A port nothing listens at (bound for a free number, then closed):
     * the host refuses at once, told apart from a silent station. */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
              getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    close(fd);
    char r[SAPI_LINE_MAX], spec[64];
    snprintf(spec, sizeof spec, "udp:127.0.0.1:%u", ntohs(sa.sin_port));
    cr_assert_eq(sapi_request(spec, RIG_API_KEY, "status", 5000, r, sizeof r), EK3_EREFUSED);
}

/* The peer check of VOUT readings (station.h, STN_PLAUS_*): a module
 * whose reading is stuck 1.5 % under the bus is stopped after three
 * heartbeats off its running peers' median; a sound rack, soft start and
 * load step included, has nobody stopped. */
static rig g5;

static void setup5(void)
{
    rig_opts o;
    rig_default_opts(&o, 5, 7, 5 * 1500);
    o.via_station = 1;
    cr_assert_eq(rig_init(&g5, &o), EK3_OK);
    for (int q = 0; q < 200; q++) /* 20 ms: every module booted (fwi_boot_delay_ns) and heard */
        rig_quantum(&g5);
    /* each module allowed 3 kW (the station does not split the rack's demand again when it stops one) */
    cr_assert_eq(stn_api_rack(&g5.stn, g5.t_ns, RIG_API_KEY, 5 * 3000, 750), EK3_OK);
}

static void teardown5(void)
{
    rig_free(&g5);
}

static void run5_ms(double ms)
{
    for (long q = 0; q < (long)(ms * 10 + 0.5); q++)
        rig_quantum(&g5);
}

Test(station, a_vout_reading_off_its_peers_is_stopped, .init = setup5, .fini = teardown5)
{
    run5_ms(1500);
    cr_assert_eq(g5.stn.st.implausible, 0u);
    double v = g5.plant.vbus;
    char text[96];
    snprintf(text, sizeof text, "adc-stuck:2@0s:ch=0,code=%d", (int)(v * 0.985 / 1000 * 4095));
    flt_spec s;
    char err[200];
    cr_assert_eq(flt_parse(text, &s, err, sizeof err), EK3_OK, "%s", err);
    cr_assert_eq(flt_inject(&g5, &s), EK3_OK);
    run5_ms(1500);
    cr_assert_eq(g5.stn.st.implausible, 0u, "not at its first heartbeat off");
    run5_ms(2500);
    cr_assert_eq(g5.stn.st.implausible, 1u);
    cr_assert(g5.stn.m[1].implausible, "slot 2");
    for (unsigned k = 0; k < 5; k++)
        if (k != 1)
            cr_assert_not(g5.stn.m[k].implausible, "slot %u sound", k + 1);
    run5_ms(100);
    cr_assert_lt(g5.plant.mod[1].io, 0.05, "slot 2 stopped: %g A", g5.plant.mod[1].io);
    run5_ms(400);
    cr_assert_gt(g5.plant.vbus, v * 0.98, "the others hold the bus: %g V, was %g V", g5.plant.vbus, v);
}

Test(station, a_sound_rack_has_no_implausible_reading, .init = setup5, .fini = teardown5)
{
    run5_ms(6000);
    cr_assert_eq(g5.stn.st.implausible, 0u);
}

/* The station's shortcuts against its plain path, in two racks side by
 * side: one as the rig builds it (a command the full controller queue
 * would refuse is not signed: stn.full; the passes over the modules skip
 * until something is due: judge_due, pend_due), one with none of them
 * (full NULL, both due times forced every quantum). 40 modules started
 * at once overfill the 32-frame queue; heartbeats bring peer checks. The
 * same station log, counters, freshness counters and module state.
 * (Checked to fail with auth_spend's counter left unspent, and with
 * stn_poll's heartbeat line `now + STN_PLAUS_LAG` made `+ 2 * ...`.) */
Test(station, its_shortcuts_give_the_plain_run)
{
    static rig a, b;
    rig_opts o;
    rig_default_opts(&o, 40, 11, 40 * 2500.0);
    o.via_station = 1;
    char la[1 << 15] = "", lb[1 << 15] = "";
    FILE *fa = fmemopen(la, sizeof la - 1, "w"), *fb = fmemopen(lb, sizeof lb - 1, "w");
    cr_assert(fa && fb);
    o.station_log = fa;
    cr_assert_eq(rig_init(&a, &o), EK3_OK);
    o.station_log = fb;
    cr_assert_eq(rig_init(&b, &o), EK3_OK);
    b.stn.full = NULL;
    unsigned full = 0, judged = 0;
    for (long q = 0; q < 3000; q++) {
        if (q == 100) {
            cr_assert_eq(stn_api_rack(&a.stn, a.t_ns, RIG_API_KEY, 40 * 2000.0, 750), EK3_OK);
            cr_assert_eq(stn_api_rack(&b.stn, b.t_ns, RIG_API_KEY, 40 * 2000.0, 750), EK3_OK);
        }
        full += (unsigned)cbus_full(&a.bus, 0);
        b.stn.judge_due = b.stn.pend_due = INT64_MIN;
        rig_quantum(&a);
        rig_quantum(&b);
        for (unsigned k = 0; k < 40; k++) {
            judged += a.stn.m[k].judge;
            cr_assert(a.stn.m[k].judge == b.stn.m[k].judge && a.stn.m[k].pending == b.stn.m[k].pending,
                      "quantum %ld, module %u: peer check waiting %d/%d, command pending %d/%d", q, k + 1,
                      a.stn.m[k].judge, b.stn.m[k].judge, a.stn.m[k].pending, b.stn.m[k].pending);
        }
    }
    cr_assert_gt(judged, 0u, "heartbeats waited for their peer checks");
    fflush(fa);
    fflush(fb);
    cr_assert_gt(full, 0u, "the station's queue was full at times");
    cr_assert_geq(a.stn.st.sent, 40u);
    cr_assert_eq(memcmp(&a.stn.st, &b.stn.st, sizeof a.stn.st), 0, "the same counters (sent %u/%u, acked %u/%u)",
                 a.stn.st.sent, b.stn.st.sent, a.stn.st.acked, b.stn.st.acked);
    for (unsigned k = 0; k < 40; k++) {
        const stn_module *x = &a.stn.m[k], *y = &b.stn.m[k];
        cr_assert(x->tx.next == y->tx.next && x->fv == y->fv && x->pending == y->pending && x->queued == y->queued &&
                      x->sent_ns == y->sent_ns && x->acked == y->acked && x->tries == y->tries,
                  "module %u: counter %u/%u", k + 1, x->tx.next, y->tx.next);
        cr_assert_eq(canh_of_rig(&a, k + 1)->st.accepted, canh_of_rig(&b, k + 1)->st.accepted);
    }
    cr_assert_str_eq(la, lb, "the same station log");
    cr_assert(a.plant.vbus == b.plant.vbus, "the same bus: %.17g, %.17g V", a.plant.vbus, b.plant.vbus);
    rig_free(&a);
    rig_free(&b);
    fclose(fa);
    fclose(fb);
}
