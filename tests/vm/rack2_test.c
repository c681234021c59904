/* rack2_test.c - a two-process rack on a real vcan, inside the VM of
 * ci/vcan-test: the plant (with modules 1 and 3 in process) drives
 * module 2's firmware in a child process over vcan0, and the run equals
 * an all-in-process run bit for bit; then a module process that vanishes
 * is reported lost and the rack runs on. Prints "VCAN-TEST PASS". */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ek3_err.h"
#include "rig.h"

static int failures;

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        printf((cond) ? "ok   " : "FAIL ");                                                                            \
        if (!(cond))                                                                                                   \
            failures++;                                                                                                \
        printf(__VA_ARGS__);                                                                                           \
        printf("\n");                                                                                                  \
        fflush(stdout);                                                                                                \
    } while (0)

static pid_t child(unsigned slot, long stop_after)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        uint32_t n;
        int rc = fwi_serve(slot, 3, "vcan0", 1, 750, 120.0, stop_after, &n);
        _exit(rc ? 1 : 0);
    }
    return pid;
}

static void opts(rig_opts *o, const uint8_t *ext)
{
    rig_default_opts(o, 3, 1, 6000);
    o->external = ext;
    strcpy(o->fw_bus, "vcan0");
    o->ext_timeout_ms = 10000; /* the first periods check the image (ECDSA) on the emulated CPU */
}

int main(void)
{
    int rc = tp_vcan_create("vcan0");
    CHECK(rc == EK3_OK || rc == EK3_EBUSY, "vcan0 up");
    static const uint8_t ext[3] = {0, 1, 0};
    static rig a, b;
    rig_opts o;
    long quanta = 1500;
    /* The signed factory image every module boots is built once per
     * process: build it before the children fork, so that they do not
     * each sign and verify it again on the VM's one emulated CPU. */
    uint32_t fimg;
    CHECK(fwi_factory_image(&fimg) != NULL && fimg > 0, "the factory image built");

    pid_t p = child(2, -1);
    opts(&o, ext);
    CHECK(rig_init(&a, &o) == EK3_OK, "plant with module 2 external over vcan0");
    CHECK(rig_wait_external(&a, 120000) == 1, "module 2's process said HELLO");
    for (long q = 0; q < quanta; q++)
        rig_quantum(&a);
    rig_bye(&a);
    int st = 0;
    waitpid(p, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "module 2's process ended on BYE");
    CHECK(!a.m[1].lost, "module 2 answered every quantum");

    opts(&o, NULL);
    CHECK(rig_init(&b, &o) == EK3_OK, "the same rack, all in process");
    for (long q = 0; q < quanta; q++)
        rig_quantum(&b);
    CHECK(memcmp(&a.plant.vbus, &b.plant.vbus, sizeof(double)) == 0, "bus %.9f V == %.9f V: bit for bit",
          a.plant.vbus, b.plant.vbus);
    CHECK(memcmp(&a.plant.mod[1].io, &b.plant.mod[1].io, sizeof(double)) == 0, "module 2 current %.9f == %.9f A",
          a.plant.mod[1].io, b.plant.mod[1].io);
    rig_free(&a);
    rig_free(&b);

    p = child(2, 300); /* vanishes after 300 periods */
    opts(&o, ext);
    o.ext_timeout_ms = 5000; /* its first periods check its image (ECDSA) on the emulated CPU */
    CHECK(rig_init(&a, &o) == EK3_OK && rig_wait_external(&a, 120000) == 1, "again, with a module that will die");
    for (long q = 0; q < 600; q++)
        rig_quantum(&a);
    waitpid(p, &st, 0);
    CHECK(a.m[1].lost && a.m[1].lost_ns >= 30000000 && a.m[1].lost_ns <= 30400000,
          "module 2 reported lost at %.4f s (it stopped at 0.0300 s)", a.m[1].lost_ns * 1e-9);
    CHECK(a.plant.mod[0].io > 0 && a.plant.mod[2].io > 0, "modules 1 and 3 carry the load on");
    rig_free(&a);
    printf("VCAN-TEST %s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
    return failures != 0;
}
