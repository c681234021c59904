/* test_contracts.c - the numbered contracts (firmware/common/ek3_assert.h):
 * a broken internal invariant of the kernel, the HIL channel or the plant
 * stops the program (abort, SIGABRT) with one line naming the module, the
 * contract's number and the file:line, and a sound call passes. Each
 * breakage runs in a child process; the parent reads its stderr. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hilch.h"
#include "kernel_rig.h"
#include "module.h"

static int h_nop(void *st, jz_kernel *k, unsigned me, const ipc_msg *m)
{
    (void)st, (void)k, (void)me, (void)m;
    return EK3_OK;
}

static const jz_service_def defs[] = {
    {"one", 3, 0, 4, 0, 0, 1u << 2, 16, NULL, h_nop},
    {"two", 5, 0, 4, 0, 0, 1u << 1, 16, NULL, h_nop},
};

/* Run fn(arg) in a child; its stderr into out; 1 when it died of SIGABRT. */
static int in_child(void (*fn)(void *), void *arg, char *out, size_t n)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        fn(arg);
        _exit(0); /* the contract held: no abort */
    }
    close(p[1]);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < n && (r = read(p[0], out + got, n - 1 - got)) > 0)
        got += (size_t)r;
    out[got] = '\0';
    close(p[0]);
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

static void expect_broken(void (*fn)(void *), void *arg, const char *what, const char *file)
{
    char err[512];
    int aborted = in_child(fn, arg, err, sizeof err);
    cr_assert(aborted, "the child did not abort on '%s' (stderr: %s)", what, err);
    char want[96];
    snprintf(want, sizeof want, "ek3: contract broken: %s at ", what);
    cr_assert_not_null(strstr(err, want), "stderr names the contract: want '%s', got '%s'", want, err);
    cr_assert_not_null(strstr(err, file), "and the file: want %s, got '%s'", file, err);
}

/* ---- the kernel ---- */

static void post_to_the_kernel(void *arg)
{
    (void)arg;
    rig *r = rig_new(defs, 2, 0, 1);
    ipc_msg m;
    ipc_msg_init(&m, IPC_T_USER, 2, NULL, 0);
    jz_post(&r->k, 0, &m); /* the kernel has no queue */
}

static void post_to_a_broken_queue(void *arg)
{
    (void)arg;
    rig *r = rig_new(defs, 2, 0, 1);
    ipc_msg m;
    ipc_msg_init(&m, IPC_T_USER, 2, NULL, 0);
    r->k.svc[1].qhead = 200; /* a queue index no queue of 4 has */
    jz_post(&r->k, 1, &m);
}

static void ready_bit_of_no_service(void *arg)
{
    (void)arg;
    rig *r = rig_new(defs, 2, 0, 1);
    r->k.ready |= 1u << 20; /* rank 20: two services have ranks 0 and 1 */
    r->k.stall_until_ns = 0;
    jz_run(&r->k);
}

static void sound_kernel(void *arg)
{
    (void)arg;
    rig *r = rig_new(defs, 2, 0, 1);
    ipc_msg m;
    ipc_msg_init(&m, IPC_T_USER, 2, NULL, 0);
    if (ipc_send(&r->k, 1, 2, &m) != EK3_OK || ipc_send(&r->k, 1, 0, &m) != EK3_ENOENT)
        abort(); /* outside input to the API gets its error, not a contract */
    for (int i = 0; i < 20; i++)
        rig_period(r);
    rig_free(r);
}

Test(contracts, the_kernel_names_the_broken_one)
{
    expect_broken(post_to_the_kernel, NULL, "kernel #210", "kernel.c:");
    expect_broken(post_to_a_broken_queue, NULL, "kernel #211", "kernel.c:");
    expect_broken(ready_bit_of_no_service, NULL, "kernel #220", "kernel.c:");
    char err[512];
    cr_assert_not(in_child(sound_kernel, NULL, err, sizeof err), "a sound kernel runs: %s", err);
    cr_assert_eq(err[0], '\0', "and says nothing (%s)", err);
}

/* ---- the HIL channel and the plant ---- */

static pmod *new_module(void)
{
    static plant_params p;
    prm_defaults(&p);
    static lavg_table tab;
    lavg_build(&tab, &p.llc);
    static pmod m;
    pmod_init(&m, &p, PMOD_AVERAGED, &tab, 11);
    return &m;
}

static void pwm_out_of_range(void *arg)
{
    msg_hil_pwm pw = {MSG_PWM_ENABLE, 300, 1, 200000, (uint16_t)(uintptr_t)arg, 0, 0};
    hch_pwm_apply(new_module(), &pw);
}

static void plant_nan_step(void *arg)
{
    (void)arg;
    pmod_step(new_module(), NAN, 750.0);
}

static void plant_sound_step(void *arg)
{
    (void)arg;
    pmod *m = new_module();
    msg_hil_pwm pw = {MSG_PWM_ENABLE, 300, 1, 200000, 1000, 500, 0};
    if (hch_pwm_apply(m, &pw) != EK3_OK)
        abort();
    for (int i = 0; i < 10; i++)
        pmod_step(m, 100e-6, 750.0);
}

Test(contracts, the_hil_channel_and_the_plant_name_the_broken_one)
{
    expect_broken(pwm_out_of_range, (void *)(uintptr_t)1001, "hilch #302", "hilch.c:");
    expect_broken(plant_nan_step, NULL, "plant #401", "module.c:");
    char err[512];
    cr_assert_not(in_child(pwm_out_of_range, (void *)(uintptr_t)1000, err, sizeof err), "1000 permille is sound: %s",
                  err);
    cr_assert_not(in_child(plant_sound_step, NULL, err, sizeof err), "a sound step runs: %s", err);
}
