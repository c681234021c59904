/* size_probe.c - the sizes the size report cannot read from the map: the
 * module context lives on main's stack, so its parts are measured here
 * as symbol sizes (nm -S). Never linked into the image. */
#include "services.h"
#include "g4hal.h"
#include "jz.h"
#include "drivers.h"

#define EK3_PROBE(name, type) \
    const unsigned char ek3_size_##name[sizeof(type)] __attribute__((section(".ek3_probe"))) = {0}

EK3_PROBE(kernel, jz_kernel);
EK3_PROBE(hal, g4hal);
EK3_PROBE(drivers, drv_set);
EK3_PROBE(svc_audit_logger, alog_state);
EK3_PROBE(svc_can_handler, canh_state);
EK3_PROBE(svc_thermal_mgr, thm_state);
EK3_PROBE(svc_health_monitor, hlth_state);
EK3_PROBE(svc_diagnostics, diag_state);
EK3_PROBE(svc_swarm_coord, swm_state);
