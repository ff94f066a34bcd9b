//! Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"): a customer's transaction
//! values are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers; fitted on repeat buyers' average
//! repeat-transaction value.

use super::optimize::fit_positive;
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

    /// Σ ln L over data grouped by x: the log-gamma terms, which depend on x alone, once per x.
    fn grouped_ln_likelihood(&self, groups: &[(f64, Vec<(f64, f64)>)]) -> f64 {
        let GammaGamma { p, q, gamma } = *self;
        let (lg_q, ln_gamma_) = (ln_gamma(q), gamma.ln());
        let mut total = 0.0;
        for (x, rows) in groups {
            let px = p * x;
            let head = ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_gamma_ + px * x.ln();
            for (m, ln_m) in rows {
                total += head + (px - 1.0) * ln_m - (px + q) * (gamma + m * x).ln();
            }
        }
        total
    }

    pub fn fit(data: &[(f64, f64)]) -> (GammaGamma, f64) {
        let n = data.len() as f64;
        let mut groups: Vec<(f64, Vec<(f64, f64)>)> = Vec::new();
        let mut sorted = data.to_vec();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (x, m) in sorted {
            match groups.last_mut() {
                Some((gx, rows)) if *gx == x => rows.push((m, m.ln())),
                _ => groups.push((x, vec![(m, m.ln())])),
            }
        }
        let at = |p: &[f64]| GammaGamma { p: p[0], q: p[1], gamma: p[2] };
        let m = at(&fit_positive(3, n, |p| at(p).grouped_ln_likelihood(&groups)));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_likelihood_equals_the_plain_sum() {
        let m = GammaGamma { p: 6.25, q: 3.74, gamma: 15.44 };
        let data = [(1.0, 20.0), (3.0, 35.5), (1.0, 12.25), (7.0, 80.0)];
        let mut groups: Vec<(f64, Vec<(f64, f64)>)> = vec![];
        for (x, v) in [(1.0, vec![20.0, 12.25]), (3.0, vec![35.5]), (7.0, vec![80.0])] {
            groups.push((x, v.into_iter().map(|m: f64| (m, m.ln())).collect()));
        }
        assert!((m.grouped_ln_likelihood(&groups) - m.total_ln_likelihood(&data)).abs() < 1e-9);
    }
}
