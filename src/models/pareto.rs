//! Pareto/NBD (Schmittlein, Morrison & Colombo 1987): purchases at rate λ ~ Gamma(r, α) while
//! alive; lifetimes are exponential with rate μ ~ Gamma(s, β). The likelihood follows Fader &
//! Hardie's note, in log space.

use super::data::{Grouped, Part, sum_on_two_threads};
use super::optimize::fit_grouped;
use super::special::{ln_gamma, ln_hyp2f1_c_eq_a_plus_1, log_add_exp, log_sub_exp};

/// Fitted Pareto/NBD parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParetoNbd {
    pub r: f64,
    pub alpha: f64,
    pub s: f64,
    pub beta: f64,
}

impl ParetoNbd {
    /// ln A₀ of the likelihood.
    fn ln_a0(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let (lo, hi, second) = if alpha < beta { (alpha, beta, r + x) } else { (beta, alpha, s + 1.0) };
        let rsx = r + s + x;
        let gap = hi - lo;
        let term = |age: f64| ln_hyp2f1_c_eq_a_plus_1(rsx, second, gap / (hi + age)) - rsx * (hi + age).ln();
        let (at_tx, at_t) = (term(t_x), term(t));
        if at_tx > at_t { log_sub_exp(at_tx, at_t) } else { f64::NEG_INFINITY }
    }

    /// ln L for one customer.
    pub fn ln_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let head = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln();
        let survive = -(r + x) * (alpha + t).ln() - s * (beta + t).ln();
        let died = s.ln() - (r + s + x).ln() + self.ln_a0(x, t_x, t);
        head + log_add_exp(survive, died)
    }

    /// Σ ln L over grouped data, on two threads when there are many rows.
    pub fn total_ln_likelihood(&self, data: &Grouped) -> f64 {
        sum_on_two_threads(data.len(), 5_000, |part: Part| {
            let mut total = 0.0;
            for (x, rows) in &data.by_x {
                for (t_x, t, w) in part.of(rows) {
                    total += w * self.ln_likelihood(*x, *t_x, *t);
                }
            }
            total
        })
    }

    /// Maximum-likelihood fit; returns the parameters and the log-likelihood. Large data is
    /// fitted on a sample of about 20,000 groups first, then in full from there.
    pub fn fit(data: &Grouped) -> (ParetoNbd, f64) {
        let at = |p: &[f64]| ParetoNbd { r: p[0], alpha: p[1], s: p[2], beta: p[3] };
        let m = at(&fit_grouped(4, data, |p, d| at(p).total_ln_likelihood(d)));
        (m, m.total_ln_likelihood(data))
    }

    /// P(alive at T | x, t_x, T).
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let survive = -(r + x) * (alpha + t).ln() - s * (beta + t).ln();
        let died = s.ln() - (r + s + x).ln() + self.ln_a0(x, t_x, t);
        (survive - log_add_exp(survive, died)).exp()
    }
}
