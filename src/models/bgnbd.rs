//! BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"): purchases follow a
//! Poisson process with rate λ ~ Gamma(r, α) while a customer is alive; after each purchase the
//! customer drops out with probability p ~ Beta(a, b).

use super::data::{Grouped, IndexedTimes, Part, sum_on_two_threads};
use super::optimize::fit_grouped;
use super::special::{hyp2f1, ln_beta, ln_gamma, log_add_exp};

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

    /// Maximum-likelihood fit; returns the parameters and the log-likelihood.
    pub fn fit(data: &Grouped) -> (BgNbd, f64) {
        let at = |p: &[f64]| BgNbd { r: p[0], alpha: p[1], a: p[2], b: p[3] };
        let m = at(&fit_grouped(4, data, |p, d| at(p).total_ln_likelihood(d)));
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
