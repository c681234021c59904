/*
 * board.h - the EK3 power board's sheet (prefix BRD_): the facts of the
 * board that the firmware and the plant model must both hold, written
 * once. The plant's defaults (plant_model/params.c, module.c's ADC), the
 * firmware's drivers and services (LLC_CONTROL, SAFETY_MONITOR,
 * THERMAL_MGR, DIAGNOSTICS), the STM32G474 HAL and the rig read them
 * from here. A run whose plant is set to another board is refused
 * (prm_check_board): the firmware was built for this one.
 *
 * Source: the EK3 power board (docs/plant-model.md, docs/firmware.md); the pin
 * map is in firmware/hal/stm32g474/g4hal.h.
 */
#ifndef BOARD_H
#define BOARD_H

/* ---- the ADC: 12 bits, one sequence of 12 channels per control period ---- */
#define BRD_ADC_FULL_CODE 4095.0 /* the code of a full-scale input */

/* The channel map: the order of the sequence (and of the HIL_ADC frame),
 * and the STM32G474 ADC1 input each channel is wired to. */
typedef enum brd_adc_ch {
    BRD_ADC_VOUT,     /* output voltage divider, ADC1 IN1 */
    BRD_ADC_IOUT,     /* output current shunt amplifier, IN2 */
    BRD_ADC_VDC,      /* DC link divider, IN3 */
    BRD_ADC_TJ_A,     /* NTC on bridge leg A's heatsink, IN4 */
    BRD_ADC_TJ_B,     /* NTC on bridge leg B's heatsink, IN5 */
    BRD_ADC_T_XFMR,   /* NTC on the transformer, IN10 */
    BRD_ADC_T_LR,     /* NTC on the resonant inductor, IN11 */
    BRD_ADC_T_AMB,    /* NTC at the air inlet, IN12 */
    BRD_ADC_FAN_TACH, /* fan tachometer, frequency to voltage, IN14 */
    BRD_ADC_IGF,      /* ground-fault (residual current) sensor, IN15 */
    BRD_ADC_VBUS,     /* bus side of the output relay (pre-charge), VOUT's divider and full scale, IN6 */
    BRD_ADC_SPARE1,   /* IN7 */
    BRD_ADC_COUNT
} brd_adc_ch;
#define BRD_ADC_INPUTS {1, 2, 3, 4, 5, 10, 11, 12, 14, 15, 6, 7} /* ADC1 input, brd_adc_ch order */

/* Full scales: the physical value at BRD_ADC_FULL_CODE. */
#define BRD_FS_VOUT_V 1000.0
#define BRD_FS_IOUT_A 5.0
#define BRD_FS_VDC_V 1000.0
#define BRD_FS_IGF_A 0.1

/* The NTCs: to ground, pull-up to the ADC reference; B-parameter model
 * R(T) = R25 exp(B (1/T - 1/298.15 K)). */
#define BRD_NTC_R25_OHM 10e3
#define BRD_NTC_BETA_K 3435.0
#define BRD_NTC_RPULL_OHM 10e3

/* The fan and its tachometer channel. */
#define BRD_FAN_RPM 12000.0     /* the fitted fan's full speed */
#define BRD_TACH_FS_RPM 15000.0 /* the tachometer channel's full scale */

/* The control period: PWM update, ADC sequence and control interrupt. */
#define BRD_PERIOD_NS 100000LL /* 100 us: 10 kHz */
#define BRD_PERIOD_S 100e-6    /* the same period in seconds */

/* Undervoltage (UVP), SAFETY_MONITOR's warning (docs/faults.md): the
 * output reads below the droop band's floor, V_set + trim - R_droop x
 * i_max, by more than BRD_UVP_MARGIN_FRAC of V_set, for BRD_UVP_PERIODS
 * control periods in a row, while LLC_CONTROL regulates (not soft
 * starting, parked or off) and its current is under BRD_UVP_ILIM_FRAC of
 * its limit (a module at its current, power or hand-off limit is not
 * under voltage: the load is beyond it). A warning, not a trip. */
#define BRD_UVP_MARGIN_FRAC 0.05
#define BRD_UVP_ILIM_FRAC 0.9
#define BRD_UVP_PERIODS 500u /* 50 ms */

/* Loss of communication (COMM_LOSS, CAN_HANDLER; docs/faults.md): a
 * running module that has heard no station frame (its 1 Hz STATION
 * keepalive, a command) and no SYNC of the current leader (SWARM_COORD's
 * SWM_MSG_LEADER) for BRD_COMM_LOSS_MS holds
 * its last command; silent for BRD_COMM_HOLD_MS, it stops (not latched:
 * the station's next START resumes it). Heard again, it sends FAULT_ALERT
 * COMM_LOSS. */
#define BRD_COMM_LOSS_MS 2500u  /* two and a half keepalives missed */
#define BRD_COMM_HOLD_MS 10000u /* then the safe output: off */
#define BRD_KEEPALIVE_MS 1000u  /* the station's STATION keepalive */

/* The board's hardware id in a firmware image's header (fwimg.h): an
 * image built for another board is refused. "G474" on the EK3 module. */
#define BRD_HW_ID 0x34373447u

/* The flash map (RM0440 3.3.1, STM32G474xE in dual-bank mode: 512 KiB,
 * two banks of 256 KiB, 2 KiB pages). Offsets in the HAL's flash area,
 * which is the whole flash: slot A at the start of bank 1, slot B at the
 * start of bank 2, each BRD_SLOT_SIZE; in bank 1 after slot A the boot
 * state's pages, then the configuration and log area (page 0:
 * configuration, page 1: SWARM_COORD's term and vote, then the audit
 * log: audit_logger.h). */
#define BRD_FLASH_SIZE (512u * 1024u)
#define BRD_FLASH_BANK (256u * 1024u)
#define BRD_FLASH_PAGE 2048u
#define BRD_SLOT_SIZE (224u * 1024u)
#define BRD_SLOT_A_OFF 0u
#define BRD_SLOT_B_OFF BRD_FLASH_BANK
#define BRD_BOOTST_OFF BRD_SLOT_SIZE               /* boot state: 4 pages */
#define BRD_BOOTST_SIZE (4u * BRD_FLASH_PAGE)
#define BRD_CFG_OFF (BRD_FLASH_BANK - 16u * 1024u) /* configuration and log area: the bank's last 16 KiB */
#define BRD_CFG_SIZE (16u * 1024u)
/* SWARM_COORD's second page of term-and-vote records, the page before the
 * configuration area (bank 1, page 119): its records' two pages take
 * turns, so one of them is always whole (swarm.h). */
#define BRD_SWM_ALT_OFF (BRD_CFG_OFF - BRD_FLASH_PAGE)

#endif /* BOARD_H */
