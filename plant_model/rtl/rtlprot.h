/*
 * rtlprot.h - the Level-0 protection RTL (ek3_prot.v, Verilated), as the
 * plant steps it (prefix rtlp_). C callers see only this header; the
 * C++ of the Verilated model stays behind it.
 *
 * The block is clocked at 10 MHz. Its analog inputs reach it through the
 * sensing path, modelled here as a pure delay (sense_delay) over a
 * history of interval ends, so the delay may span many intervals.
 * rtlp_run advances an interval with the inputs moving linearly between
 * its two ends; when no register can change over it (every comparator
 * steady for the sensed extremes, its trip latched, no clear asked),
 * the interval costs at most one evaluation instead of a clock per
 * 100 ns. A VCD trace clocks every interval.
 */
#ifndef RTLPROT_H
#define RTLPROT_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rtlp rtlp;

/* The block's fault codes (ek3_prot.v first_code; bit code - 1 of
 * latched). The protocol numbers the same faults differently (msg.h
 * msg_fault_code): flt_msg_code (hil_bridge/fault.h) maps them. */
typedef enum rtlp_code { RTLP_NONE, RTLP_OVP, RTLP_OCP, RTLP_OTP, RTLP_GFI, RTLP_CODE_COUNT_ } rtlp_code;

typedef struct rtlp_in {
    double vout, iout, tj, igf; /* V, A, C, A */
    int gate_req, clear;
} rtlp_in;

typedef struct rtlp_out {
    int gate_en;          /* the gate drivers may switch */
    unsigned latched;     /* bit (rtlp_code - 1): bit 0 OVP, 1 OCP, 2 OTP, 3 GFI */
    unsigned first_code;  /* rtlp_code of the first fault latched */
    int clear_refused;
    double trip_time;     /* seconds into the last interval the gates went off, or -1 */
} rtlp_out;

/* A block at rest (reset released), sensing delay in seconds. NULL when
 * out of memory. */
rtlp *rtlp_new(double sense_delay_s);
void rtlp_free(rtlp *p);
/* A power-on reset, as a new board's block comes up (a module put in a
 * slot): every latch and first_code cleared, the sensing history
 * dropped; its time and its trace (if any) go on, the reset's own clocks
 * untraced. */
void rtlp_reset(rtlp *p);

/* Write every signal of the block to a VCD file from now on, times in
 * nanoseconds ($timescale 1ns; IEEE 1800-2017 21.7.2.1). 0, or -1 with
 * errno set when the file cannot be opened. */
int rtlp_trace(rtlp *p, const char *vcd_path);

/* The trace's first write error (an errno value such as ENOSPC), or 0.
 * A write error never stops the process: the rest of the trace is
 * dropped and the caller decides (ek3 rack stops the run). */
int rtlp_trace_error(const rtlp *p);

/* Flush and close the trace (rtlp_free also does): 0, or the errno of
 * its first write error. Without a trace, 0. */
int rtlp_trace_close(rtlp *p);

/* Advance dt seconds; inputs go linearly from *a to *b. */
void rtlp_run(rtlp *p, double dt, const rtlp_in *a, const rtlp_in *b, rtlp_out *out);

/* Clock cycles actually evaluated since rtlp_new (the fast path's effect). */
unsigned long long rtlp_cycles(const rtlp *p);

#ifdef __cplusplus
}
#endif

#endif /* RTLPROT_H */
