//! BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"): purchases follow a
//! Poisson process with rate λ ~ Gamma(r, α) while a customer is alive; after each purchase the
//! customer drops out with probability p ~ Beta(a, b).

use super::data::Grouped;
use super::optimize::fit_positive;
use super::special::{hyp2f1, ln_beta, ln_gamma, log_add_exp};

/// Per distinct x: x, the terms that depend on x alone (head, lead), and the customers' times.
type XTerms<'a> = (f64, f64, f64, &'a [(f64, f64, f64)]);

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

    /// Σ ln L over grouped data, with the x-only terms computed once per distinct x and the rows
    /// summed on two threads when there are many.
    pub fn total_ln_likelihood(&self, data: &Grouped) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let (ln_alpha, ln_a, lb_ab, lg_r) = (alpha.ln(), a.ln(), ln_beta(a, b), ln_gamma(r));
        // (x, head, lead, rows) per distinct x.
        let terms: Vec<XTerms<'_>> = data
            .by_x
            .iter()
            .map(|(x, rows)| {
                let x = *x;
                let head = ln_gamma(r + x) - lg_r + r * ln_alpha + ln_beta(a, b + x) - lb_ab;
                let lead = if x > 0.0 { ln_a - (b + x - 1.0).ln() } else { f64::NEG_INFINITY };
                (x, head, lead, rows.as_slice())
            })
            .collect();
        let sum = |part: &[XTerms<'_>], half: Option<bool>| -> f64 {
            let mut total = 0.0;
            for (x, head, lead, rows) in part {
                let (start, end) = match half {
                    None => (0, rows.len()),
                    Some(first) => {
                        if first {
                            (0, rows.len() / 2)
                        } else {
                            (rows.len() / 2, rows.len())
                        }
                    }
                };
                for (t_x, t, w) in &rows[start..end] {
                    let a3 = -(r + x) * (alpha + t).ln();
                    let a4 = lead - (r + x) * (alpha + t_x).ln();
                    total += w * (head + log_add_exp(a3, a4));
                }
            }
            total
        };
        if data.len() < 20_000 {
            return sum(&terms, None);
        }
        std::thread::scope(|scope| {
            let other = scope.spawn(|| sum(&terms, Some(false)));
            let mine = sum(&terms, Some(true));
            mine + other.join().unwrap_or(f64::NAN)
        })
    }

    /// Maximum-likelihood fit; returns the parameters and the log-likelihood.
    pub fn fit(data: &Grouped) -> (BgNbd, f64) {
        let at = |p: &[f64]| BgNbd { r: p[0], alpha: p[1], a: p[2], b: p[3] };
        let m = at(&fit_positive(4, data.customers, |p| at(p).total_ln_likelihood(data)));
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
        let BgNbd { r, alpha, a, b } = *self;
        let z = h / (alpha + t + h);
        let f = hyp2f1(r + x, b + x, a + b + x - 1.0, z);
        let num = (a + b + x - 1.0) / (a - 1.0) * (1.0 - ((alpha + t) / (alpha + t + h)).powf(r + x) * f);
        let den = if x > 0.0 { 1.0 + a / (b + x - 1.0) * ((alpha + t) / (alpha + t_x)).powf(r + x) } else { 1.0 };
        (num / den).max(0.0)
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
