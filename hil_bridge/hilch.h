/*
 * hilch.h - the HIL channel (prefix hch_): both directions of the
 * exchange between the plant and one module's firmware, each quantum
 * (one control period, board.h), in one place, for in-process modules
 * (rig.c) and external ones (`ek3 fw`, fwinst.c) alike.
 *
 *   plant -> firmware  HIL_ADC: the module's 12-bit ADC codes in the
 *                      board's channel map (board.h) and its discrete
 *                      input lines (bit 0: the hardware trip line, as
 *                      the HAL's HAL_IN_HW_TRIP shows it; bits 1-3
 *                      with it: the comparator that tripped first, the
 *                      protection block's first_code, HAL_IN_TRIP_SRC's
 *                      hal_trip_src); its VBUS
 *                      channel reads the bus beyond the module's output
 *                      relay (the pre-charge, drivers.h);
 *   firmware -> plant  HIL_PWM: the bridge command (switching frequency
 *                      in Hz, dead time in ns, burst on-time and fan
 *                      duty in permille, enable and half-bridge flags)
 *                      and the output lines (HAL_OUT_*: the
 *                      fault-clear request, the output relay: the
 *                      plant's pmod_relay);
 *   both ways          HIL_TICK: the lockstep of external modules
 *                      (HELLO, SYNC, DONE, BYE).
 * Payloads are the protocol's (msg.h, docs/can-protocol.md); identifiers
 * cid_encode's, priority HIGH. Whether a frame is the HIL channel's or
 * the rack bus's is cid_is_hil's answer, nowhere else.
 */
#ifndef HILCH_H
#define HILCH_H

#include <stdint.h>

#include "can_frame.h"
#include "hosthal.h"
#include "module.h"
#include "msg.h"

/* Build a HIL frame (HIL_ADC, HIL_PWM, HIL_TICK; payload: its msg_hil_*)
 * from node src to node dst: EFF, FD with bit-rate switch. 0, or
 * cid_encode's or msg_encode's error. */
int hch_frame(unsigned type, unsigned src, unsigned dst, const void *payload, cfd_frame *f);

/* Plant -> firmware, plant end: the ADC samples of plant module m in its
 * slot for quantum q, with the trip line, as a HIL_ADC frame from the
 * plant. Draws the module's sensor noise (pmod_adc). 0 or hch_frame's error. */
int hch_adc_send(pmod *m, unsigned slot, uint32_t q, cfd_frame *f);

/* Plant -> firmware, firmware end: a HIL_ADC frame into the host HAL (its
 * ADC device and the trip input line). 0, or EK3_EPARSE when it does not
 * decode (the HAL keeps its last samples). */
int hch_adc_take(hhal *h, const cfd_frame *f);

/* Firmware -> plant, firmware end: the HAL's PWM command and output
 * lines as the HIL_PWM frame of quantum q from slot. 0 or hch_frame's error. */
int hch_pwm_send(const hhal *h, unsigned slot, uint32_t q, cfd_frame *f);

/* Firmware -> plant, plant end: a HIL_PWM frame applied to plant module
 * m (frequency 0: 200 kHz; burst 0: continuous; the fault-clear line;
 * the relay line, pmod_relay).
 * 0, or EK3_EPARSE (does not decode), or pmod_command's EK3_ERANGE. */
int hch_pwm_take(pmod *m, const cfd_frame *f);

/* The same exchange without frames: the payload structs go straight
 * across, for an in-process module when nothing needs the frames (no
 * log; rig.c's fast path). Each pair gives the plant and the firmware
 * exactly what the frame path gives them (the HIL codec is lossless for
 * every payload it accepts; test `rig/frameless_exchange_gives_the_frame_run`
 * compares whole runs quantum by quantum):
 *   hch_adc_sample + hch_adc_apply  ==  hch_adc_send + hch_adc_take
 *   hch_pwm_read   + hch_pwm_apply  ==  hch_pwm_send + hch_pwm_take
 * hch_adc_sample: plant module m's samples for quantum q into *a (draws
 * its sensor noise). The codes are 0..4095 and the lines 0..15, which
 * HIL_ADC always carries. */
void hch_adc_sample(pmod *m, uint32_t q, msg_hil_adc *a);

/* hch_adc_take's effect, from the struct: the HAL's ADC device and its
 * trip input lines (HAL_IN_HW_TRIP, HAL_IN_TRIP_SRC). */
void hch_adc_apply(hhal *h, const msg_hil_adc *a);

/* hch_pwm_send's payload for quantum q into *p: 0, or the HIL_PWM
 * encoder's EK3_ERANGE for a field the frame could not carry (then, as
 * on the frame path, nothing reaches the plant). The range is checked
 * (msg_hil_pwm_check) without encoding: no frame is built (test
 * `hilch/frameless_pwm_read_agrees_with_the_frame`). */
int hch_pwm_read(const hhal *h, uint32_t q, msg_hil_pwm *p);

/* hch_pwm_take's effect, from the struct: 0 or pmod_command's
 * EK3_ERANGE. */
int hch_pwm_apply(pmod *m, const msg_hil_pwm *p);

/* What a frame heard on a module's bus is to one end of its channel. */
typedef enum hch_route {
    HCH_NONE,  /* not for this end (another module's, its own echo, not EFF, bad identifier) */
    HCH_ADC,   /* firmware end: the plant's HIL_ADC to this slot */
    HCH_PWM,   /* plant end: this module's HIL_PWM */
    HCH_TICK,  /* a HIL_TICK for this end (plant to slot, or slot to the plant) */
    HCH_RACK,  /* rack-bus traffic (every type that is not the HIL channel's) */
    HCH_BAD    /* plant end: a HIL type the firmware does not send (counted as an error) */
} hch_route;

/* At the firmware end of slot: a frame from the plant or the rack bus. */
hch_route hch_route_fw(const cfd_frame *f, unsigned slot);

/* At the plant end of slot: a frame from that module's firmware. */
hch_route hch_route_plant(const cfd_frame *f, unsigned slot);

#endif /* HILCH_H */
