/* test_kernel.c - JEZGRO dispatch and IPC: priority order, queue bounds,
 * the allow-list, sendrec with reply and with timeout, notify,
 * broadcast, corrupted messages. */
#include "kernel_rig.h"
#include "ek3_rng.h"

/* Every handler appends "<service id>:<type>" here. */
static char trace[4096];

static void note(unsigned me, uint16_t type)
{
    char b[32];
    snprintf(b, sizeof b, "%s%u:%u", trace[0] ? " " : "", me, type);
    strncat(trace, b, sizeof trace - strlen(trace) - 1);
}

typedef struct {
    int reply_to_requests; /* answer IPC_F_REQUEST messages */
    int seq;               /* last sendrec number */
    int got_reply, got_timeout;
    int8_t status;
    uint8_t reply_payload;
    ipc_msg saved_req;
    int have_req;
} svc_state;

enum { T_GO = IPC_T_USER, T_ASK, T_SEND_TO_3, T_BCAST, T_NOTIFY2, T_REPLY_LATE };

static int h_record(void *st, jz_kernel *k, unsigned me, const ipc_msg *m)
{
    svc_state *s = st;
    note(me, m->type);
    if ((m->flags & IPC_F_REQUEST) && s->reply_to_requests) {
        ipc_msg r;
        uint8_t v = (uint8_t)(m->payload[0] + 1);
        ipc_msg_init(&r, T_GO, 2, &v, 1);
        cr_assert_eq(ipc_reply(k, me, m, &r), EK3_OK);
    } else if (m->flags & IPC_F_REQUEST) {
        s->saved_req = *m;
        s->have_req = 1;
    }
    if (m->flags & IPC_F_REPLY) {
        if (m->type == IPC_T_TIMEOUT)
            s->got_timeout = m->seq;
        else
            s->got_reply = m->seq;
        s->status = m->status;
        s->reply_payload = m->payload[0];
    }
    ipc_msg out;
    switch (m->type) {
    case T_ASK: {
        uint8_t v = 41;
        ipc_msg_init(&out, T_ASK, 2, &v, 1);
        s->seq = ipc_sendrec(k, me, m->payload[0], &out, 10);
        break;
    }
    case T_SEND_TO_3:
        ipc_msg_init(&out, T_GO, 2, NULL, 0);
        ipc_send(k, me, 3, &out);
        break;
    case T_BCAST:
        ipc_msg_init(&out, T_GO, 2, NULL, 0);
        s->seq = ipc_broadcast(k, me, &out);
        break;
    case T_NOTIFY2:
        ipc_notify(k, me, 2);
        ipc_notify(k, me, 2);
        break;
    case T_REPLY_LATE:
        if (s->have_req) {
            ipc_msg r;
            ipc_msg_init(&r, T_GO, 2, NULL, 0);
            s->status = (int8_t)ipc_reply(k, me, &s->saved_req, &r);
        }
        break;
    }
    return 0;
}

/* ids: 1 low (prio 3), 2 high (prio 9), 3 middle (prio 5), 4 lowest (prio 1) */
static const jz_service_def defs[] = {
    {"low", 3, 0, 4, 0, 0, (1u << 2) | (1u << 3), sizeof(svc_state), NULL, h_record},
    {"high", 9, 0, 8, 0, 0, (1u << 1) | (1u << 3), sizeof(svc_state), NULL, h_record},
    {"mid", 5, 0, 8, 0, 0, (1u << 1) | (1u << 2) | (1u << 4), sizeof(svc_state), NULL, h_record},
    {"lowest", 1, 0, 8, 0, 0, 0, sizeof(svc_state), NULL, h_record},
};

static rig *r;

static void setup(void)
{
    trace[0] = '\0';
    r = rig_new(defs, 4, 0, 1);
}

static void teardown(void)
{
    rig_free(r);
}

TestSuite(kernel, .init = setup, .fini = teardown);

static void post(unsigned to, uint16_t type, uint8_t arg)
{
    ipc_msg m;
    ipc_msg_init(&m, type, 2, &arg, 1);
    cr_assert_eq(ipc_send(&r->k, IPC_KERNEL, to, &m), EK3_OK);
}

Test(kernel, highest_priority_runs_first_and_each_runs_to_completion)
{
    post(1, T_GO, 0);
    post(4, T_GO, 0);
    post(3, T_GO, 0);
    post(2, T_GO, 0);
    post(1, T_SEND_TO_3, 0); /* low sends to mid: mid runs before low's next message */
    post(1, T_GO, 0);
    cr_assert_eq(jz_run(&r->k), 7);
    cr_assert_str_eq(trace, "2:16 3:16 1:16 1:18 3:16 1:16 4:16");
}

Test(kernel, a_critical_message_jumps_the_queue)
{
    ipc_msg m;
    post(3, T_GO, 0);
    ipc_msg_init(&m, T_ASK + 100, 0 /* CRITICAL */, NULL, 0);
    ipc_send(&r->k, IPC_KERNEL, 3, &m);
    jz_run(&r->k);
    cr_assert_str_eq(trace, "3:117 3:16");
}

Test(kernel, queue_is_bounded_and_overflow_is_a_crash)
{
    for (int i = 0; i < 4; i++)
        post(1, T_GO, 0);
    ipc_msg m;
    ipc_msg_init(&m, T_GO, 2, NULL, 0);
    cr_assert_eq(ipc_send(&r->k, IPC_KERNEL, 1, &m), EK3_EFULL);
    cr_assert_eq(r->k.svc[1].st.full, 1u);
    cr_assert_eq(r->k.svc[1].status, JZ_SVC_CRASHED);
    cr_assert_eq(r->k.svc[1].last_crash, JZ_CRASH_QUEUE);
    cr_assert_eq(ipc_send(&r->k, IPC_KERNEL, 1, &m), EK3_EFAULT, "nothing reaches a crashed service");
    jz_run(&r->k); /* restarted at once: first crash, no backoff */
    cr_assert_eq(r->k.svc[1].status, JZ_SVC_RUNNING);
    cr_assert_eq(r->k.svc[1].qcount, 0);
    cr_assert_str_eq(trace, "", "the flooded messages were dropped with the crash");
}

Test(kernel, allow_list_refuses_and_counts)
{
    ipc_msg m;
    ipc_msg_init(&m, T_GO, 2, NULL, 0);
    cr_assert_eq(ipc_send(&r->k, 1, 2, &m), EK3_OK);
    cr_assert_eq(ipc_send(&r->k, 1, 4, &m), EK3_EPERM);
    cr_assert_eq(ipc_send(&r->k, 4, 1, &m), EK3_EPERM);
    cr_assert_eq(ipc_notify(&r->k, 4, 1), EK3_EPERM);
    cr_assert_eq(ipc_send(&r->k, 1, 9, &m), EK3_ENOENT);
    cr_assert_eq(r->k.svc[1].st.denied, 1u);
    cr_assert_eq(r->k.svc[4].st.denied, 2u);
    const audit_event *e = rig_last(r, AUDIT_DENIED, 4);
    cr_assert_not_null(e);
    cr_assert_eq(e->arg, 1);
    jz_run(&r->k);
    cr_assert_str_eq(trace, "2:16");
}

Test(kernel, sendrec_gets_its_reply)
{
    ((svc_state *)jz_state(&r->k, 3))->reply_to_requests = 1;
    post(2, T_ASK, 3); /* high asks mid */
    jz_run(&r->k);
    svc_state *hi = jz_state(&r->k, 2);
    cr_assert_gt(hi->seq, 0);
    cr_assert_eq(hi->got_reply, hi->seq);
    cr_assert_eq(hi->reply_payload, 42);
    cr_assert_eq(hi->got_timeout, 0);
    cr_assert_str_eq(trace, "2:17 3:17 2:16");
    rig_ms(r, 20);
    cr_assert_eq(hi->got_timeout, 0, "a request answered never times out");
}

Test(kernel, sendrec_times_out_and_a_late_reply_is_dropped)
{
    post(2, T_ASK, 3); /* mid keeps the request without answering */
    jz_run(&r->k);
    svc_state *hi = jz_state(&r->k, 2);
    int seq = hi->seq;
    cr_assert_gt(seq, 0);
    rig_ms(r, 9);
    cr_assert_eq(hi->got_timeout, 0, "not before 10 ms");
    rig_ms(r, 2);
    cr_assert_eq(hi->got_timeout, seq);
    cr_assert_eq(hi->status, EK3_ETIMEDOUT);
    cr_assert_eq(r->k.svc[2].st.timeouts, 1u);
    post(3, T_REPLY_LATE, 0);
    jz_run(&r->k);
    svc_state *mid = jz_state(&r->k, 3);
    cr_assert_eq(mid->status, EK3_ETIMEDOUT);
    cr_assert_eq(r->k.svc[3].st.late_replies, 1u);
    cr_assert_eq(hi->got_reply, 0);
}

Test(kernel, sendrec_to_a_service_that_crashes_times_out_at_once)
{
    post(2, T_ASK, 3);
    jz_run(&r->k);
    inj_fault(&r->k, INJ_CRASH, 3, 0);
    rig_period(r);
    svc_state *hi = jz_state(&r->k, 2);
    cr_assert_eq(hi->got_timeout, hi->seq);
}

Test(kernel, notify_is_coalesced_and_delivered_first)
{
    post(2, T_GO, 0);
    post(3, T_NOTIFY2, 0);
    jz_run(&r->k);
    cr_assert_str_eq(trace, "2:16 3:20 2:4");
    cr_assert_eq(r->k.svc[2].st.dispatched, 2u);
}

Test(kernel, broadcast_reaches_only_the_allowed)
{
    post(3, T_BCAST, 0);
    jz_run(&r->k);
    svc_state *mid = jz_state(&r->k, 3);
    cr_assert_eq(mid->seq, 3, "low, high and lowest");
    cr_assert_str_eq(trace, "3:19 2:16 1:16 4:16");
    trace[0] = '\0';
    post(2, T_BCAST, 0);
    jz_run(&r->k);
    cr_assert_eq(((svc_state *)jz_state(&r->k, 2))->seq, 2, "low and mid");
}

Test(kernel, corrupted_message_is_dropped_not_handled)
{
    cr_assert_eq(inj_fault(&r->k, INJ_CORRUPT, 3, 0), EK3_OK);
    post(3, T_GO, 0);
    post(3, T_GO, 0);
    jz_run(&r->k);
    cr_assert_str_eq(trace, "3:16", "only the intact message arrived");
    cr_assert_eq(r->k.svc[3].st.corrupt, 1u);
    cr_assert_not_null(rig_last(r, AUDIT_CORRUPT, 3));
}

Test(kernel, crc16_check_value)
{
    cr_assert_eq(ipc_crc16("123456789", 9), 0x29B1);
}

/* ipc_crc16 takes four bytes a step (ipc.c): it must equal the bit-wise
 * CRC-16/CCITT-FALSE for every length, odd ones included, on any bytes. */
Test(kernel, crc16_four_bytes_a_step_is_the_bitwise_crc)
{
    uint8_t b[80];
    uint64_t z = 12345;
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (uint8_t)(ek3_rng_splitmix64(&z) >> 56);
        for (size_t n = 0; n <= sizeof b; n++) {
            uint16_t c = 0xFFFF;
            for (size_t i = 0; i < n; i++) {
                c ^= (uint16_t)(b[i] << 8);
                for (int j = 0; j < 8; j++)
                    c = (uint16_t)(c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1);
            }
            cr_assert_eq(ipc_crc16(b, n), c, "%zu bytes, round %d", n, round);
        }
    }
}

Test(kernel, bad_configurations_are_refused)
{
    jz_kernel k;
    static hhal h;
    hhal_init(&h, 1, 0);
    static _Alignas(4096) uint8_t pool[4096];
    jz_service_def twins[2] = {defs[0], defs[1]};
    twins[1].prio = twins[0].prio;
    jz_config cfg = {twins, 2, NULL, NULL, 1, pool, sizeof pool, 64, 0, 0, 0, NULL};
    cr_assert_eq(jz_init(&k, &cfg, hhal_hal(&h)), EK3_EBUSY);
    jz_service_def deep = defs[0];
    deep.queue_depth = JZ_QUEUE_DEPTH + 1;
    cfg.services = &deep;
    cfg.nservices = 1;
    cr_assert_eq(jz_init(&k, &cfg, hhal_hal(&h)), EK3_EINVAL);
    jz_service_def big = defs[0];
    big.state_size = 8192;
    cfg.services = &big;
    cr_assert_eq(jz_init(&k, &cfg, hhal_hal(&h)), EK3_ENOSPC);
}
