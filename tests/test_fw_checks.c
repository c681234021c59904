/* test_fw_checks.c - the build's firmware checks can fail: a planted
 * writable global fails check-globals.sh, constant data passes, and the
 * real firmware archives pass. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int sh(const char *fmt, const char *a, const char *b)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Compile one line of C into an object; returns its path. */
static const char *object_of(const char *src, const char *name)
{
    static char obj[256];
    char c[256];
    snprintf(c, sizeof c, "/tmp/ek3_fwcheck_%d_%s.c", (int)getpid(), name);
    snprintf(obj, sizeof obj, "/tmp/ek3_fwcheck_%d_%s.o", (int)getpid(), name);
    FILE *f = fopen(c, "w");
    cr_assert_not_null(f);
    fputs(src, f);
    fclose(f);
    cr_assert_eq(sh(EK3_CC " -fno-pie -fno-common -c -o %s %s", obj, c), 0);
    remove(c);
    return obj;
}

static int check(const char *obj)
{
    return sh(EK3_SOURCE_DIR "/firmware/check-globals.sh " EK3_NM " %s%s >/dev/null 2>&1", obj, "");
}

Test(check_globals, a_writable_global_fails)
{
    const char *o = object_of("int ek3_planted_counter;\n", "bss");
    cr_assert_eq(check(o), 1, "a .bss global must fail the build");
    remove(o);
    o = object_of("int ek3_planted_value = 3;\n", "data");
    cr_assert_eq(check(o), 1, "a .data global must fail the build");
    remove(o);
    o = object_of("int ek3_fn(void); int ek3_fn(void) { static int n; return ++n; }\n", "static");
    cr_assert_eq(check(o), 1, "a function-static counter is state too");
    remove(o);
}

Test(check_globals, constants_pass)
{
    const char *o = object_of("extern const int ek3_table[3]; const int ek3_table[3] = {1, 2, 3};\n"
                              "int ek3_get(int i); int ek3_get(int i) { return ek3_table[i]; }\n",
                              "rodata");
    cr_assert_eq(check(o), 0);
    remove(o);
}

Test(check_globals, the_firmware_passes)
{
    cr_assert_eq(check(EK3_FW_ARCHIVES), 0);
}

/* A linker map in the GNU ld format, with a kernel of `kernel_bytes`. */
static const char *write_map(unsigned kernel_bytes)
{
    static char path[256];
    snprintf(path, sizeof path, "/tmp/ek3_fwcheck_%d.map", (int)getpid());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "Memory Configuration\n\nLinker script and memory map\n\n"
               ".isr_vector     0x08000000      0x1d8\n"
               " .isr_vector    0x08000000      0x1d8 libek3_hal_g4.a(startup.c.obj)\n\n"
               ".text           0x080001d8     0x%x\n"
               " .text.jz_run\n                0x080001d8     0x%x ../../libek3_kernel.a(kernel.c.obj)\n"
               " *fill*         0x08010000        0x2 \n"
               " .text.alog_handle\n                0x08010002      0x100 ../../libek3_services.a(audit_logger.c.obj)\n"
               " .text.memcpy   0x08010102       0x40 /usr/lib/arm-none-eabi/newlib/libc_nano.a(libc_a-memcpy.o)\n"
               /* The image check and mbedTLS: apart from the kernel (16 KiB
                * of them in the kernel's total would break its budget). */
               " .text.fwimg_verify\n                0x08010142      0x100 ../../libek3_fwimg.a(fwimg.c.obj)\n"
               " .text.mbedtls_ecp_muladd\n                0x08010242     0x4000 ../../libek3_mbedcrypto.a(ecp.c.obj)\n\n"
               ".jz_pool        0x20000000     0x8000\n"
               " *fill*         0x20000000     0x8000 \n\n"
               "/DISCARD/\n *(.ek3_probe)\n",
            kernel_bytes + 0x142, kernel_bytes);
    fclose(f);
    return path;
}

static int size_report(unsigned kernel_bytes)
{
    char elf[256], probe[256], cmd[2048];
    snprintf(elf, sizeof elf, "%s", object_of("__asm__(\".globl __jz_pool_size\\n.set __jz_pool_size, 0x8000\\n"
                                              ".globl __main_stack_size\\n.set __main_stack_size, 0x6000\");\n",
                                              "elf"));
    snprintf(probe, sizeof probe, "%s",
             object_of("const unsigned char ek3_size_kernel[5000] = {0};\n"
                       "const unsigned char ek3_size_hal[200] = {0};\n"
                       "const unsigned char ek3_size_drivers[100] = {0};\n"
                       "const unsigned char ek3_size_svc_a[24] = {0};\n",
                       "probe"));
    const char *map = write_map(kernel_bytes);
    snprintf(cmd, sizeof cmd, EK3_SOURCE_DIR "/firmware/size-report.sh " EK3_NM " %s %s %s %s.txt >%s.out 2>&1", elf,
             map, probe, map, map);
    int rc = system(cmd);
    char out[300];
    snprintf(out, sizeof out, "%s.txt", map);
    FILE *f = fopen(out, "r");
    cr_assert_not_null(f, "the report is written");
    char text[4096] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    char want[64];
    snprintf(want, sizeof want, "kernel/ (JEZGRO) %u 0", kernel_bytes + 2); /* with the fill after it */
    /* Collapse runs of spaces so the check does not depend on column widths. */
    char flat[4096];
    size_t j = 0;
    for (size_t i = 0; text[i] && j < sizeof flat - 1; i++)
        if (!(text[i] == ' ' && j > 0 && flat[j - 1] == ' '))
            flat[j++] = text[i];
    flat[j] = 0;
    cr_assert(strstr(flat, want), "report lacks '%s':\n%s", want, text);
    cr_assert(strstr(flat, "kernel context (jz_kernel) 0 5000"), "%s", text);
    cr_assert(strstr(flat, "boot/fwimg (image check) 256 0"), "%s", text);
    cr_assert(strstr(flat, "mbedTLS (SHA-256, ECDSA; heap) 16384 0"), "%s", text);
    remove(elf), remove(probe), remove(map), remove(out);
    snprintf(out, sizeof out, "%s.out", map);
    remove(out);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Test(size_report, a_kernel_within_budget_passes)
{
    cr_assert_eq(size_report(20000), 0);
}

Test(size_report, a_kernel_over_budget_fails_the_build)
{
    cr_assert_eq(size_report(40000), 1);
}
