//! Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"): a customer's transaction
//! values are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers; fitted on repeat buyers' average
//! repeat-transaction value.

use super::optimize::{bounded, nelder_mead};
use super::special::ln_gamma;

/// Fitted Gamma-Gamma parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

impl GammaGamma {
    /// ln L of `x` repeat transactions averaging `m`.
    pub fn ln_likelihood(&self, x: f64, m: f64) -> f64 {
        let GammaGamma { p, q, gamma } = *self;
        ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q) + q * gamma.ln() + (p * x - 1.0) * m.ln() + p * x * x.ln()
            - (p * x + q) * (gamma + m * x).ln()
    }

    /// Σ ln L over (x, m) pairs of customers with x ≥ 1 and m > 0.
    pub fn total_ln_likelihood(&self, data: &[(f64, f64)]) -> f64 {
        data.iter().map(|(x, m)| self.ln_likelihood(*x, *m)).sum()
    }

    pub fn fit(data: &[(f64, f64)]) -> (GammaGamma, f64) {
        let n = data.len().max(1) as f64;
        let objective = |v: &[f64]| {
            let m = GammaGamma { p: v[0].exp(), q: v[1].exp(), gamma: v[2].exp() };
            bounded(v, -m.total_ln_likelihood(data) / n)
        };
        let (v, _) = nelder_mead(&objective, &[0.0, 0.0, 0.0]);
        let m = GammaGamma { p: v[0].exp(), q: v[1].exp(), gamma: v[2].exp() };
        (m, m.total_ln_likelihood(data))
    }

    /// E[average transaction value | x, m]: a weighted mean of the population mean and the
    /// customer's own average. Without repeats (`m` None) it is the population mean.
    pub fn expected_average(&self, x: f64, m: Option<f64>) -> f64 {
        let GammaGamma { p, q, gamma } = *self;
        match m {
            Some(m) if x > 0.0 => p * (gamma + x * m) / (p * x + q - 1.0),
            _ => p * gamma / (q - 1.0),
        }
    }
}
