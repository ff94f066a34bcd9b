//! Pareto/NBD (Schmittlein, Morrison & Colombo 1987): purchases at rate λ ~ Gamma(r, α) while
//! alive; lifetimes are exponential with rate μ ~ Gamma(s, β). The likelihood follows Fader &
//! Hardie's note, in log space.

use super::data::{Grouped, Part, sum_on_two_threads, sum_on_two_threads_n};
use super::optimize::fit_grouped_with_gradient;
use super::special::{
    digamma, ln_gamma, ln_hyp2f1_c_eq_a_plus_1, ln_hyp2f1_c_eq_a_plus_1_grad, log_add_exp, log_sub_exp,
};

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

    /// [`Self::ln_a0`] and its gradient (∂/∂r, ∂/∂α, ∂/∂s, ∂/∂β), through the series' own
    /// derivatives ([`ln_hyp2f1_c_eq_a_plus_1_grad`]).
    fn ln_a0_and_gradient(&self, x: f64, t_x: f64, t: f64) -> (f64, [f64; 4]) {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let alpha_low = alpha < beta;
        let (lo, hi, second) = if alpha_low { (alpha, beta, r + x) } else { (beta, alpha, s + 1.0) };
        let rsx = r + s + x;
        let gap = hi - lo;
        // term(age) and its derivatives by (rsx, second, gap, hi).
        let term = |age: f64| {
            let at = hi + age;
            let z = gap / at;
            let (f, [fa, fb, fz]) = ln_hyp2f1_c_eq_a_plus_1_grad(rsx, second, z);
            (f - rsx * at.ln(), [fa - at.ln(), fb, fz / at, -fz * z / at - rsx / at])
        };
        let ((at_tx, d_tx), (at_t, d_t)) = (term(t_x), term(t));
        if at_tx <= at_t {
            return (f64::NEG_INFINITY, [0.0; 4]);
        }
        // ln(e^A − e^B): ∂ = (∂A − e^(B−A) ∂B)/(1 − e^(B−A)).
        let e = (at_t - at_tx).exp();
        let d: Vec<f64> = (0..4).map(|i| (d_tx[i] - e * d_t[i]) / (1.0 - e)).collect();
        // Chain (rsx, second, gap, hi) to (r, α, s, β).
        let grad = if alpha_low {
            // second = r + x, gap = β − α, hi = β.
            [d[0] + d[1], -d[2], d[0], d[2] + d[3]]
        } else {
            // second = s + 1, gap = α − β, hi = α.
            [d[0], d[2] + d[3], d[0] + d[1], -d[2]]
        };
        (log_sub_exp(at_tx, at_t), grad)
    }

    /// ln L for one customer and its gradient (∂/∂r, ∂/∂α, ∂/∂s, ∂/∂β).
    pub fn ln_likelihood_and_gradient(&self, x: f64, t_x: f64, t: f64) -> (f64, [f64; 4]) {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let (ln_alpha, ln_beta) = (alpha.ln(), beta.ln());
        let head = ln_gamma(r + x) - ln_gamma(r) + r * ln_alpha + s * ln_beta;
        let d_head = [digamma(r + x) - digamma(r) + ln_alpha, r / alpha, ln_beta, s / beta];
        let (ln_at, ln_bt) = ((alpha + t).ln(), (beta + t).ln());
        let survive = -(r + x) * ln_at - s * ln_bt;
        let d_survive = [-ln_at, -(r + x) / (alpha + t), -ln_bt, -s / (beta + t)];
        let rsx = r + s + x;
        let (a0, d_a0) = self.ln_a0_and_gradient(x, t_x, t);
        let died = s.ln() - rsx.ln() + a0;
        let d_died = [-1.0 / rsx + d_a0[0], d_a0[1], 1.0 / s - 1.0 / rsx + d_a0[2], d_a0[3]];
        let total = log_add_exp(survive, died);
        let w_died = if died == f64::NEG_INFINITY { 0.0 } else { (died - total).exp() };
        let w_survive = 1.0 - w_died;
        let mut g = [0.0; 4];
        for i in 0..4 {
            g[i] = d_head[i] + w_survive * d_survive[i] + w_died * d_died[i];
        }
        (head + total, g)
    }

    /// [`Self::total_ln_likelihood`] and its gradient.
    pub fn total_ln_likelihood_and_gradient(&self, data: &Grouped) -> (f64, [f64; 4]) {
        let s = sum_on_two_threads_n(data.len(), 5_000, |part: Part| {
            let mut s = [0.0f64; 5];
            for (x, rows) in &data.by_x {
                for (t_x, t, w) in part.of(rows) {
                    let (v, g) = self.ln_likelihood_and_gradient(*x, *t_x, *t);
                    s[0] += w * v;
                    for i in 0..4 {
                        s[i + 1] += w * g[i];
                    }
                }
            }
            s
        });
        (s[0], [s[1], s[2], s[3], s[4]])
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

    /// Maximum-likelihood fit (BFGS with the gradient); returns the parameters and the
    /// log-likelihood. Large data is fitted on a sample of about 20,000 groups first, then in
    /// full from there.
    pub fn fit(data: &Grouped) -> (ParetoNbd, f64) {
        let at = |p: &[f64]| ParetoNbd { r: p[0], alpha: p[1], s: p[2], beta: p[3] };
        let m = at(&fit_grouped_with_gradient(4, data, |p, d| {
            let (ll, g) = at(p).total_ln_likelihood_and_gradient(d);
            (ll, g.to_vec())
        }));
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
