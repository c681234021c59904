// rtlprot.cpp - the Verilated protection block behind a C interface.
#include "rtlprot.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <new>

#include "Vek3_prot.h"
#include "verilated.h"
#include "verilated_vcd_c.h"

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

double chan(const rtlp_in &x, int k)
{
    return k == 0 ? x.vout : k == 1 ? x.iout : k == 2 ? x.tj : x.igf;
}

unsigned quant(const rtlp_in &x, int k)
{
    return to_u16(chan(x, k) * kScale[k]);
}
} // namespace

struct rtlp {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vek3_prot> top;
    std::unique_ptr<VerilatedVcdC> vcd;
    double delay;
    // The sensing path: the last interval's inputs, so a delayed sample
    // can be read back (delays up to one interval).
    rtlp_in prev_a, prev_b;
    double prev_dt;
    unsigned long long cycles;
    uint64_t t_ns;
};

static void rtlp_apply(rtlp *p, const rtlp_in &x)
{
    p->top->vout_dv = quant(x, 0);
    p->top->iout_ma = quant(x, 1);
    p->top->tj_dc = quant(x, 2);
    p->top->igf_ua = quant(x, 3);
    p->top->gate_req = x.gate_req ? 1 : 0;
    p->top->fault_clear = x.clear ? 1 : 0;
}

static rtlp_in rtlp_lerp(const rtlp_in &a, const rtlp_in &b, double f)
{
    rtlp_in r = b;
    r.vout = a.vout + (b.vout - a.vout) * f;
    r.iout = a.iout + (b.iout - a.iout) * f;
    r.tj = a.tj + (b.tj - a.tj) * f;
    r.igf = a.igf + (b.igf - a.igf) * f;
    return r;
}

// The sensed value at time t into the current interval: t - delay, which
// may fall into the previous interval.
static rtlp_in rtlp_sensed(const rtlp *p, double t, double dt, const rtlp_in &a, const rtlp_in &b)
{
    double ts = t - p->delay;
    if (ts >= 0 || p->prev_dt <= 0)
        return rtlp_lerp(a, b, dt > 0 ? (ts < 0 ? 0 : ts / dt) : 1);
    double f = 1.0 + ts / p->prev_dt;
    rtlp_in r = rtlp_lerp(p->prev_a, p->prev_b, f < 0 ? 0 : f);
    r.gate_req = b.gate_req; // digital lines are not delayed
    r.clear = b.clear;
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
    p->top->rst_n = 0;
    rtlp_edge(p);
    p->top->rst_n = 1;
    rtlp_edge(p);
    return p;
}

extern "C" void rtlp_free(rtlp *p)
{
    if (!p)
        return;
    if (p->vcd)
        p->vcd->close();
    p->top->final();
    delete p;
}

extern "C" int rtlp_trace(rtlp *p, const char *vcd_path)
{
    p->ctx->traceEverOn(true);
    p->vcd.reset(new VerilatedVcdC);
    p->top->trace(p->vcd.get(), 99);
    p->vcd->open(vcd_path);
    return p->vcd->isOpen() ? 0 : -1;
}

// Whether a clock with any input in the interval can change the block's
// state. The sensed inputs move linearly between the ends of this
// interval and the last one (the delay reaches back into it), so each
// lies between the four ends' extremes. A comparator that is off stays
// off while its input is not over the threshold; one that is on and past
// its deglitch window (held) stays so while its input is not under the
// off threshold; with every comparator steady, its trip already latched
// and no clear asked or just refused, every register keeps its value.
static bool rtlp_steady(const rtlp *p, const rtlp_in &a, const rtlp_in &b)
{
    if (a.clear || b.clear || p->top->clear_refused)
        return false;
    unsigned on = p->top->cmp_on, held = p->top->held;
    if ((p->top->latched & on) != on)
        return false;
    const rtlp_in &c = p->prev_a, &d = p->prev_b;
    for (int k = 0; k < 4; k++) {
        double x[4] = {chan(a, k) * kScale[k], chan(b, k) * kScale[k], chan(c, k) * kScale[k], chan(d, k) * kScale[k]};
        // Quantizing rounds to nearest and is monotonic, so comparing the
        // unrounded values with the integer thresholds is sufficient
        // (x < on gives a code <= on; x >= off gives a code >= off); a NaN
        // fails both and goes to the clocked path.
        if (!(on >> k & 1)) {
            const double th = kOn[k];
            if (!(x[0] < th && x[1] < th && x[2] < th && x[3] < th))
                return false;
        } else {
            const double off = kOn[k] - kOn[k] * kHystPm / 1000;
            if (!(held >> k & 1) || !(x[0] >= off && x[1] >= off && x[2] >= off && x[3] >= off))
                return false;
        }
    }
    return true;
}

extern "C" void rtlp_run(rtlp *p, double dt, const rtlp_in *a, const rtlp_in *b, rtlp_out *out)
{
    out->trip_time = -1;
    int was_en = p->top->gate_en;
    if (!p->vcd && rtlp_steady(p, *a, *b)) {
        // No register can change: the gate enable follows the request
        // (one evaluation, none when the request is as it was).
        if (p->top->gate_req != (b->gate_req ? 1 : 0)) {
            rtlp_apply(p, *b);
            p->top->eval();
        }
        p->t_ns += static_cast<uint64_t>(dt * 1e9);
    } else {
        long n = static_cast<long>(std::ceil(dt / kClock - 1e-9));
        for (long c = 0; c < n; c++) {
            double t = (c + 1) * kClock;
            rtlp_apply(p, rtlp_sensed(p, t, dt, *a, *b));
            rtlp_edge(p);
            if (was_en && !p->top->gate_en && b->gate_req && out->trip_time < 0)
                out->trip_time = t;
            was_en = p->top->gate_en;
        }
    }
    p->prev_a = *a;
    p->prev_b = *b;
    p->prev_dt = dt;
    out->gate_en = p->top->gate_en;
    out->latched = p->top->latched;
    out->first_code = p->top->first_code;
    out->clear_refused = p->top->clear_refused;
}

extern "C" unsigned long long rtlp_cycles(const rtlp *p)
{
    return p->cycles;
}
