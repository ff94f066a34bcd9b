//! BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"): purchases follow a
//! Poisson process with rate λ ~ Gamma(r, α) while a customer is alive; after each purchase the
//! customer drops out with probability p ~ Beta(a, b).

use super::data::{Grouped, IndexedTimes, Part, sum_on_two_threads, sum_on_two_threads_n};
use super::optimize::fit_grouped_with_gradient;
use super::special::{digamma, hyp2f1, ln_beta, ln_gamma, log_add_exp};

/// Fitted BG/NBD parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl BgNbd {
    /// ln L for one customer.
    pub fn ln_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_beta(a, b + x) - ln_beta(a, b);
        let a3 = -(r + x) * (alpha + t).ln();
        let a4 = if x > 0.0 { a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + t_x).ln() } else { f64::NEG_INFINITY };
        a1 + a2 + log_add_exp(a3, a4)
    }

    /// Σ ln L over grouped data: the x-only terms once per distinct x, ln(α + t) once per distinct
    /// time, and the rows summed on two threads when there are many.
    pub fn total_ln_likelihood(&self, data: &Grouped) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let (ln_alpha, ln_a, lb_ab, lg_r) = (alpha.ln(), a.ln(), ln_beta(a, b), ln_gamma(r));
        let ln_t: Vec<f64> = data.times.iter().map(|t| (alpha + t).ln()).collect();
        // (x, head, lead, rows) per distinct x.
        let terms: Vec<(f64, f64, f64, &IndexedTimes)> = data
            .indexed
            .iter()
            .map(|(x, rows)| {
                let x = *x;
                let head = ln_gamma(r + x) - lg_r + r * ln_alpha + ln_beta(a, b + x) - lb_ab;
                let lead = if x > 0.0 { ln_a - (b + x - 1.0).ln() } else { f64::NEG_INFINITY };
                (x, head, lead, rows)
            })
            .collect();
        sum_on_two_threads(data.len(), 20_000, |part: Part| {
            let mut total = 0.0;
            for &(x, head, lead, rows) in &terms {
                let rows = part.of(rows);
                let k = r + x;
                if lead == f64::NEG_INFINITY {
                    for &(_, t, w) in rows {
                        total += w * (head - k * ln_t[t as usize]);
                    }
                } else {
                    for &(t_x, t, w) in rows {
                        let a3 = -k * ln_t[t as usize];
                        let a4 = lead - k * ln_t[t_x as usize];
                        let (hi, lo) = if a3 > a4 { (a3, a4) } else { (a4, a3) };
                        total += w * (head + hi + (lo - hi).exp().ln_1p());
                    }
                }
            }
            total
        })
    }

    /// [`Self::total_ln_likelihood`] and its gradient (∂/∂r, ∂/∂α, ∂/∂a, ∂/∂b). With
    /// ln L = head(x) + ln(e^A₃ + e^A₄) per customer, the gradient is head's (digammas, once per
    /// x) plus the two terms' gradients weighted by their shares w₃ = e^A₃/(e^A₃ + e^A₄), w₄ = 1 − w₃.
    pub fn total_ln_likelihood_and_gradient(&self, data: &Grouped) -> (f64, [f64; 4]) {
        let BgNbd { r, alpha, a, b } = *self;
        let (ln_alpha, ln_a, lb_ab, lg_r) = (alpha.ln(), a.ln(), ln_beta(a, b), ln_gamma(r));
        let (dg_r, dg_b, dg_ab) = (digamma(r), digamma(b), digamma(a + b));
        let ln_t: Vec<f64> = data.times.iter().map(|t| (alpha + t).ln()).collect();
        let inv_t: Vec<f64> = data.times.iter().map(|t| 1.0 / (alpha + t)).collect();
        // Per distinct x: head and its gradient, the lead of A₄ (ln a − ln(b + x − 1)), the rows.
        struct Term<'a> {
            k: f64,
            head: f64,
            d_head: [f64; 4],
            lead: f64,
            d_lead_b: f64,
            rows: &'a IndexedTimes,
        }
        let terms: Vec<Term<'_>> = data
            .indexed
            .iter()
            .map(|(x, rows)| {
                let x = *x;
                let dg_abx = digamma(a + b + x);
                Term {
                    k: r + x,
                    head: ln_gamma(r + x) - lg_r + r * ln_alpha + ln_beta(a, b + x) - lb_ab,
                    d_head: [
                        digamma(r + x) - dg_r + ln_alpha,
                        r / alpha,
                        dg_ab - dg_abx,
                        digamma(b + x) - dg_abx - dg_b + dg_ab,
                    ],
                    lead: if x > 0.0 { ln_a - (b + x - 1.0).ln() } else { f64::NEG_INFINITY },
                    d_lead_b: if x > 0.0 { -1.0 / (b + x - 1.0) } else { 0.0 },
                    rows,
                }
            })
            .collect();
        let sums = sum_on_two_threads_n(data.len(), 20_000, |part: Part| {
            // [ln L, ∂r, ∂α, ∂a, ∂b]
            let mut s = [0.0f64; 5];
            for t in &terms {
                let rows = part.of(t.rows);
                // Σ w, Σ w·(row terms): the head's share is the number of customers.
                let (mut n, mut total, mut d_r, mut d_alpha, mut w4_sum) = (0.0, 0.0, 0.0, 0.0, 0.0);
                if t.lead == f64::NEG_INFINITY {
                    for &(_, ti, w) in rows {
                        let ti = ti as usize;
                        n += w;
                        total -= w * t.k * ln_t[ti];
                        d_r -= w * ln_t[ti];
                        d_alpha -= w * inv_t[ti];
                    }
                } else {
                    for &(txi, ti, w) in rows {
                        let (txi, ti) = (txi as usize, ti as usize);
                        let a3 = -t.k * ln_t[ti];
                        let a4 = t.lead - t.k * ln_t[txi];
                        // w₄ = 1/(1 + e^(A₃ − A₄)), ln(e^A₃ + e^A₄) = max + ln(1 + e^(−|A₃ − A₄|)).
                        let diff = a3 - a4;
                        let e = (-diff.abs()).exp();
                        let share_hi = 1.0 / (1.0 + e);
                        let w4 = if diff > 0.0 { 1.0 - share_hi } else { share_hi };
                        let w3 = 1.0 - w4;
                        n += w;
                        total += w * (a3.max(a4) + e.ln_1p());
                        d_r -= w * (w3 * ln_t[ti] + w4 * ln_t[txi]);
                        d_alpha -= w * (w3 * inv_t[ti] + w4 * inv_t[txi]);
                        w4_sum += w * w4;
                    }
                }
                s[0] += n * t.head + total;
                s[1] += n * t.d_head[0] + d_r;
                s[2] += n * t.d_head[1] + t.k * d_alpha;
                s[3] += n * t.d_head[2] + w4_sum / a;
                s[4] += n * t.d_head[3] + w4_sum * t.d_lead_b;
            }
            s
        });
        (sums[0], [sums[1], sums[2], sums[3], sums[4]])
    }

    /// Maximum-likelihood fit (BFGS with the analytic gradient); returns the parameters and the
    /// log-likelihood.
    pub fn fit(data: &Grouped) -> (BgNbd, f64) {
        let at = |p: &[f64]| BgNbd { r: p[0], alpha: p[1], a: p[2], b: p[3] };
        let m = at(&fit_grouped_with_gradient(4, data, |p, d| {
            let (ll, g) = at(p).total_ln_likelihood_and_gradient(d);
            (ll, g.to_vec())
        }));
        (m, m.total_ln_likelihood(data))
    }

    /// P(alive at T | x, t_x, T).
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if x == 0.0 {
            return 1.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        let odds = (a / (b + x - 1.0)).ln() + (r + x) * ((alpha + t) / (alpha + t_x)).ln();
        1.0 / (1.0 + odds.exp())
    }

    /// Expected purchases in (T, T + h] for a customer with history (x, t_x, T).
    pub fn expected_purchases(&self, h: f64, x: f64, t_x: f64, t: f64) -> f64 {
        if h <= 0.0 {
            return 0.0;
        }
        (self.expected_numerator(h, x, t) / self.expected_denominator(x, t_x, t)).max(0.0)
    }

    /// The part of [`Self::expected_purchases`] that holds the hypergeometric function; it depends
    /// on x and T alone, so customers sharing them (many, in whole days) can share it.
    pub fn expected_numerator(&self, h: f64, x: f64, t: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let z = h / (alpha + t + h);
        let f = hyp2f1(r + x, b + x, a + b + x - 1.0, z);
        (a + b + x - 1.0) / (a - 1.0) * (1.0 - ((alpha + t) / (alpha + t + h)).powf(r + x) * f)
    }

    /// The rest of [`Self::expected_purchases`]: 1 + P(dead)/P(alive) odds, from (x, t_x, T).
    pub fn expected_denominator(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        if x > 0.0 { 1.0 + a / (b + x - 1.0) * ((alpha + t) / (alpha + t_x)).powf(r + x) } else { 1.0 }
    }

    /// P(no purchase in (T, T + h]): dead, or alive and the Poisson clock did not tick.
    pub fn p_no_purchase(&self, h: f64, x: f64, t_x: f64, t: f64) -> f64 {
        let alive = self.p_alive(x, t_x, t);
        let quiet = ((self.alpha + t) / (self.alpha + t + h)).powf(self.r + x);
        1.0 - alive * (1.0 - quiet)
    }

    /// Expected time to the next purchase if alive: E[1/λ] under the posterior Gamma(r+x, α+T).
    pub fn expected_wait(&self, x: f64, t: f64) -> Option<f64> {
        let shape = self.r + x;
        (shape > 1.0).then(|| (self.alpha + t) / (shape - 1.0))
    }

    /// Expected purchases in (0, h] for a new customer.
    pub fn population_expected(&self, h: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let z = h / (alpha + h);
        (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + h)).powf(r) * hyp2f1(r, b, a + b - 1.0, z))
    }
}
