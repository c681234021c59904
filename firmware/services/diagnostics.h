/*
 * diagnostics.h - the DIAGNOSTICS service (seed 2.3; prefix diag_):
 * on-demand self-tests, requested by the station over DIAG (through
 * CAN_HANDLER, which checked its authentication) and answered the same
 * way: ADC (every channel converts, within its range), PWM (the bridge
 * accepts the command in force), FAN (the tachometer follows the duty),
 * NTC (the temperatures read plausibly), FLASH (the configuration record
 * is intact), CRYPTO (AES-CMAC gives RFC 4493's tag), CAN (the transmit
 * path takes a frame), or ALL of them.
 */
#ifndef DIAGNOSTICS_H
#define DIAGNOSTICS_H

#include <stdint.h>

#include "jz.h"

typedef struct diag_state {
    uint32_t runs, failures;
    uint8_t last_test, last_result;
} diag_state;

int diag_init(void *state, jz_kernel *k, unsigned me);
int diag_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m);

/* Run one self-test (msg_diag_test); the result (msg_diag_result) and a
 * test-specific value. */
unsigned diag_run(jz_kernel *k, unsigned test, uint32_t *value);

#define DIAG_SERVICE(allow)                                                                                    \
    {                                                                                                           \
        .name = "DIAGNOSTICS", .prio = 4, .critical = 0, .queue_depth = 4, .period_us = 0, .heartbeat_ms = 0,  \
        .allow_to = (allow), .state_size = sizeof(diag_state), .init = diag_init, .handle = diag_handle         \
    }

#endif /* DIAGNOSTICS_H */
