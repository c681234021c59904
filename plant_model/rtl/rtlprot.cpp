// rtlprot.cpp - the Verilated protection block behind a C interface.
#include "rtlprot.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <memory>
#include <new>

#include "Vek3_prot.h"
#include "verilated.h"
#include "verilated_vcd_c.h"
#include <unistd.h>

namespace {
const double kClock = 100e-9;          // 10 MHz
// The block's thresholds in its input units (ek3_prot.v's parameters):
// on above kOn, off below kOn - kOn * 20 / 1000 (integer arithmetic, as
// the RTL elaborates it). test_rtl checks the fast path against the
// clocked one across these values, so the two cannot drift apart.
const unsigned kOn[4] = {9200, 4000, 1050, 500};
const unsigned kHystPm = 20;
const double kScale[4] = {10.0, 1000.0, 10.0, 10000.0};

unsigned to_u16(double x)
{
    if (!(x > 0))
        return 0;
    return x >= 65535.0 ? 65535u : static_cast<unsigned>(x + 0.5);
}

// The four analog inputs in the block's units (0.1 V, mA, 0.1 C, 0.1 mA),
// unrounded.
struct scaled {
    double v[4];
};

scaled scale_of(const rtlp_in &x)
{
    return {{x.vout * kScale[0], x.iout * kScale[1], x.tj * kScale[2], x.igf * kScale[3]}};
}
} // namespace

// The VCD's file: Verilator's own, except that a failed write is
// recorded (the first errno) instead of ending in VL_FATAL_MT, which on a
// full disk stops the process from inside the model (or deadlocks on its
// mutex). After a failure the rest of the trace is dropped; the caller
// reads the error with rtlp_trace_error and stops.
class rtlp_vcd_file final : public VerilatedVcdFile {
public:
    int err = 0;
    ssize_t write(const char *bufp, ssize_t len) override
    {
        if (err)
            return len;
        ssize_t done = 0;
        while (done < len) {
            ssize_t got = VerilatedVcdFile::write(bufp + done, len - done);
            if (got > 0) {
                done += got;
            } else if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
                if (errno == EAGAIN) // Verilator opens O_NONBLOCK: a pipe may be full
                    usleep(1000);
                continue;
            } else {
                err = got < 0 && errno ? errno : EIO;
                break;
            }
        }
        return len;
    }
};

// The sensing path's memory: the inputs at the ends of recent intervals,
// so that the value at t - delay can be read back however many intervals
// the delay spans (up to kHist - 2).
const unsigned kHist = 256; // a power of two
struct rtlp_pt {
    double t;
    scaled x;
};

struct rtlp {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vek3_prot> top;
    std::unique_ptr<rtlp_vcd_file> vcd_file; // declared first: destroyed after vcd
    std::unique_ptr<VerilatedVcdC> vcd;
    int vcd_err;            // the trace's first write error (errno), 0 when none
    double delay;
    double now;             // the block's time, s
    rtlp_pt hist[kHist];    // a ring, oldest at head
    unsigned head, n;
    unsigned below;         // the newest points in a row (up to n) with every input under its on threshold
    unsigned long long cycles;
    uint64_t t_ns;
    uint64_t end_in[4];     // the last interval's end inputs (vout, iout, tj, igf) as bits: the last point's source
};

// The analog inputs of x as bits (rtlp_in's four doubles).
static void rtlp_bits(const rtlp_in &x, uint64_t bits[4])
{
    const double v[4] = {x.vout, x.iout, x.tj, x.igf};
    std::memcpy(bits, v, sizeof v);
}

static void rtlp_apply(rtlp *p, const scaled &x, const rtlp_in &digital)
{
    p->top->vout_dv = to_u16(x.v[0]);
    p->top->iout_ma = to_u16(x.v[1]);
    p->top->tj_dc = to_u16(x.v[2]);
    p->top->igf_ua = to_u16(x.v[3]);
    p->top->gate_req = digital.gate_req ? 1 : 0;
    p->top->fault_clear = digital.clear ? 1 : 0;
}

static const rtlp_pt &rtlp_at(const rtlp *p, unsigned i)
{
    return p->hist[(p->head + i) & (kHist - 1)];
}

static void rtlp_push(rtlp *p, double t, const scaled &x)
{
    if (p->n == kHist) {
        p->head = (p->head + 1) & (kHist - 1);
        p->n--;
    }
    rtlp_pt &q = p->hist[(p->head + p->n) & (kHist - 1)];
    q.t = t;
    q.x = x;
    p->n++;
    // Under every on threshold (a NaN is not): rtlp_steady with every
    // comparator off asks this of each point it spans.
    bool under = x.v[0] < kOn[0] && x.v[1] < kOn[1] && x.v[2] < kOn[2] && x.v[3] < kOn[3];
    p->below = under ? (p->below < p->n ? p->below + 1 : p->n) : 0;
}

// Drop the points no read at or after time t can need (one is kept
// before t, as the start of its interval).
static void rtlp_trim(rtlp *p, double t)
{
    while (p->n > 2 && rtlp_at(p, 1).t <= t) {
        p->head = (p->head + 1) & (kHist - 1);
        p->n--;
    }
}

// The analog inputs at time t, linear between the points; before the
// first point, the first point's value. *cursor walks forward with t.
static scaled rtlp_value_at(const rtlp *p, double t, unsigned *cursor)
{
    unsigned i = *cursor;
    while (i + 1 < p->n && rtlp_at(p, i + 1).t <= t)
        i++;
    *cursor = i;
    const rtlp_pt &u = rtlp_at(p, i);
    if (i + 1 >= p->n || t <= u.t)
        return u.x;
    const rtlp_pt &w = rtlp_at(p, i + 1);
    double f = (t - u.t) / (w.t - u.t);
    scaled r;
    for (int k = 0; k < 4; k++)
        r.v[k] = u.x.v[k] + (w.x.v[k] - u.x.v[k]) * f;
    return r;
}

static void rtlp_edge(rtlp *p)
{
    p->top->clk = 0;
    p->top->eval();
    if (p->vcd)
        p->vcd->dump(p->t_ns);
    p->t_ns += 50;
    p->top->clk = 1;
    p->top->eval();
    if (p->vcd)
        p->vcd->dump(p->t_ns);
    p->t_ns += 50;
    p->cycles++;
}

extern "C" rtlp *rtlp_new(double sense_delay_s)
{
    rtlp *p = new (std::nothrow) rtlp();
    if (!p)
        return nullptr;
    p->ctx.reset(new VerilatedContext);
    p->top.reset(new Vek3_prot(p->ctx.get()));
    p->delay = sense_delay_s > 0 ? sense_delay_s : 0;
    p->now = 0;
    p->head = p->n = 0;
    p->top->rst_n = 0;
    rtlp_edge(p);
    p->top->rst_n = 1;
    rtlp_edge(p);
    return p;
}

extern "C" void rtlp_reset(rtlp *p)
{
    std::unique_ptr<VerilatedVcdC> vcd = std::move(p->vcd); // the reset's own clocks are not traced
    const uint64_t t_ns = p->t_ns;
    rtlp_apply(p, scale_of(rtlp_in{}), rtlp_in{}); // a board at rest: nothing sensed, no gate asked
    p->top->rst_n = 0;
    rtlp_edge(p);
    p->top->rst_n = 1;
    rtlp_edge(p);
    p->t_ns = t_ns;
    p->vcd = std::move(vcd);
    p->head = p->n = 0;
    p->below = 0;
    std::memset(p->end_in, 0, sizeof p->end_in);
}

extern "C" void rtlp_free(rtlp *p)
{
    if (!p)
        return;
    rtlp_trace_close(p);
    p->top->final();
    delete p;
}

extern "C" int rtlp_trace(rtlp *p, const char *vcd_path)
{
    p->ctx->traceEverOn(true);
    p->vcd_file.reset(new rtlp_vcd_file);
    p->vcd.reset(new VerilatedVcdC(p->vcd_file.get()));
    p->top->trace(p->vcd.get(), 99);
    // The dump times are nanoseconds (rtlp_edge: a 100 ns clock), so the
    // file's $timescale says 1ns, whatever the RTL's `timescale precision.
    p->vcd->set_time_resolution("1ns");
    p->vcd->set_time_unit("1ns");
    errno = 0;
    p->vcd->open(vcd_path);
    if (!p->vcd->isOpen()) {
        int e = errno;
        p->vcd.reset();
        p->vcd_file.reset();
        errno = e ? e : EIO;
        return -1;
    }
    return 0;
}

extern "C" int rtlp_trace_error(const rtlp *p)
{
    if (!p || !p->vcd_file)
        return p ? p->vcd_err : 0;
    return p->vcd_file->err;
}

extern "C" int rtlp_trace_close(rtlp *p)
{
    if (!p || !p->vcd)
        return p ? p->vcd_err : 0;
    p->vcd->close(); // flushes through rtlp_vcd_file::write
    int e = p->vcd_file->err;
    p->vcd.reset();
    p->vcd_file.reset();
    p->vcd_err = e;
    return e;
}

// Whether a clock in the interval [t0, t1] can change the block's state.
// The sensed inputs are the history read at t - delay: between the
// extremes of the points from the one at or before t0 - delay on. A
// comparator that is off stays off while its input is not over the
// threshold; one that is on past its deglitch window (held) stays so
// while its input is not under the off threshold; with every comparator
// steady, its trip already latched and no clear asked or just refused,
// every register keeps its value.
static bool rtlp_steady(const rtlp *p, double t0, const rtlp_in &b)
{
    if (b.clear || p->top->clear_refused)
        return false;
    unsigned on = p->top->cmp_on, held = p->top->held;
    if ((p->top->latched & on) != on || (on & ~held))
        return false;
    unsigned i0 = 0;
    while (i0 + 1 < p->n && rtlp_at(p, i0 + 1).t <= t0 - p->delay)
        i0++;
    // Quantizing rounds to nearest and is monotonic, so comparing the
    // unrounded values with the integer thresholds is sufficient (x < on
    // gives a code <= on; x >= off gives a code >= off); a NaN fails both
    // and goes to the clocked path. Every comparator off (the usual
    // case): each point from i0 on under every on threshold, which the
    // count of such points at the history's end tells (rtlp_push; a trim
    // drops only the oldest).
    if (on == 0)
        return p->below >= p->n - i0;
    double lim[4];
    for (int k = 0; k < 4; k++)
        lim[k] = (on >> k & 1) ? kOn[k] - kOn[k] * kHystPm / 1000 : kOn[k];
    for (unsigned i = i0; i < p->n; i++) {
        const double *x = rtlp_at(p, i).x.v;
        for (int k = 0; k < 4; k++)
            if ((on >> k & 1) ? !(x[k] >= lim[k]) : !(x[k] < lim[k]))
                return false;
    }
    return true;
}

extern "C" void rtlp_run(rtlp *p, double dt, const rtlp_in *a, const rtlp_in *b, rtlp_out *out)
{
    out->trip_time = -1;
    double t0 = p->now, t1 = t0 + dt;
    // The interval's inputs into the history: a at its start (a step
    // when it differs from where the last interval ended), b at its end.
    // An a that is, bit for bit, the last end's inputs scales to the last
    // point (the usual case: the caller's inputs go on from there).
    uint64_t ab[4];
    rtlp_bits(*a, ab);
    if (p->n == 0 || ((ab[0] ^ p->end_in[0]) | (ab[1] ^ p->end_in[1]) | (ab[2] ^ p->end_in[2]) | (ab[3] ^ p->end_in[3]))) {
        scaled xa = scale_of(*a);
        if (p->n == 0 || std::memcmp(&rtlp_at(p, p->n - 1).x, &xa, sizeof xa) != 0)
            rtlp_push(p, t0, xa);
    }
    scaled xb = scale_of(*b);
    rtlp_push(p, t1, xb);
    rtlp_bits(*b, p->end_in);
    int was_en = p->top->gate_en;
    // rtlp_steady's first answer inline (the usual quantum): every
    // comparator off, no clear, every point of the history under.
    const Vek3_prot *top = p->top.get();
    bool quiet = !b->clear && !top->clear_refused && top->cmp_on == 0 && p->below >= p->n;
    if (!p->vcd && (quiet || rtlp_steady(p, t0, *b))) {
        // No register can change: the gate enable follows the request
        // (one evaluation, none when the request is as it was).
        if (p->top->gate_req != (b->gate_req ? 1 : 0)) {
            rtlp_apply(p, xb, *b);
            p->top->eval();
        }
        p->t_ns += static_cast<uint64_t>(dt * 1e9);
    } else {
        long n = static_cast<long>(std::ceil(dt / kClock - 1e-9));
        unsigned cursor = 0;
        for (long c = 0; c < n; c++) {
            double t = (c + 1) * kClock;
            // Analog inputs through the delay; digital lines are not delayed.
            rtlp_apply(p, rtlp_value_at(p, t0 + t - p->delay, &cursor), *b);
            rtlp_edge(p);
            if (was_en && !p->top->gate_en && b->gate_req && out->trip_time < 0)
                out->trip_time = t;
            was_en = p->top->gate_en;
        }
    }
    p->now = t1;
    rtlp_trim(p, t1 - p->delay);
    out->gate_en = p->top->gate_en;
    out->latched = p->top->latched;
    out->first_code = p->top->first_code;
    out->clear_refused = p->top->clear_refused;
}

extern "C" unsigned long long rtlp_cycles(const rtlp *p)
{
    return p->cycles;
}
