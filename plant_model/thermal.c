/* thermal.c - the Cauer star network, one Crank-Nicolson step at a time. */
#include "thermal.h"

#include <math.h>

void th_node_rc(const th_params *p, double r[TH_LEAVES], double c[TH_NODES])
{
    r[TH_JA] = r[TH_JB] = 0.5 * (p->rth_jc + p->rth_cs);
    c[TH_JA] = c[TH_JB] = 2.0 * p->cth_j;
    r[TH_XFMR] = p->rth_x;
    c[TH_XFMR] = p->cth_x;
    r[TH_LR] = p->rth_l;
    c[TH_LR] = p->cth_l;
    c[TH_HS] = p->cth_hs;
}

double th_r_ha(const th_params *p, double a)
{
    if (a < 0)
        a = 0;
    if (a > 1)
        a = 1;
    /* Convective conductance grows with airflow^0.8 (turbulent flow over fins). */
    double g = 1.0 / p->r_ha_nat + (1.0 / p->r_ha_fan - 1.0 / p->r_ha_nat) * pow(a, 0.8);
    return 1.0 / g;
}

void th_init(th_state *s, const th_params *p)
{
    for (int i = 0; i < TH_NODES; i++)
        s->t[i] = p->t_amb;
    s->fan_speed = 0;
    s->fan_health = 1;
}

void th_step(th_state *s, const th_params *p, const double p_w[TH_NODES], double fan_duty, double dt)
{
    /* The fan: first-order spin toward duty x health. */
    double target = fan_duty * s->fan_health;
    s->fan_speed = target + (s->fan_speed - target) * exp(-dt / p->fan_tau);
    double r[TH_LEAVES], c[TH_NODES];
    th_node_rc(p, r, c);
    double rha = th_r_ha(p, s->fan_speed);
    /* Leaf i (trapezoidal): T1 = a_i + b_i * H1, with H the sink. */
    double th0 = s->t[TH_HS], a[TH_LEAVES], b[TH_LEAVES];
    double num = c[TH_HS] / dt * th0 + p_w[TH_HS] + (p->t_amb - 0.5 * th0) / rha;
    double den = c[TH_HS] / dt + 0.5 / rha;
    for (int i = 0; i < TH_LEAVES; i++) {
        double g = 1.0 / r[i], k = c[i] / dt;
        double d = k + 0.5 * g;
        a[i] = ((k - 0.5 * g) * s->t[i] + p_w[i] + 0.5 * g * th0) / d;
        b[i] = 0.5 * g / d;
        /* Sink side: + g/2 (T0 - H0) + g/2 (T1 - H1) */
        num += 0.5 * g * (s->t[i] - th0) + 0.5 * g * a[i];
        den += 0.5 * g * (1.0 - b[i]);
    }
    double th1 = num / den;
    for (int i = 0; i < TH_LEAVES; i++)
        s->t[i] = a[i] + b[i] * th1;
    s->t[TH_HS] = th1;
}
