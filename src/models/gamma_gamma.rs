//! Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"): a customer's transaction
//! values are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers; fitted on repeat buyers' average
//! repeat-transaction value.

use super::data::{Part, sum_on_two_threads_n};
use super::optimize::fit_from_sample_with_gradient;
use super::special::{digamma, ln_gamma};

/// Repeat buyers with the same x: Σ ln m, and m·x per customer.
struct Group {
    x: f64,
    sum_ln_m: f64,
    mx: Vec<f64>,
}

impl Group {
    fn by_x(data: impl Iterator<Item = (f64, f64)>) -> Vec<Group> {
        let mut sorted: Vec<(f64, f64)> = data.collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut groups: Vec<Group> = Vec::new();
        for (x, m) in sorted {
            match groups.last_mut() {
                Some(g) if g.x == x => {
                    g.sum_ln_m += m.ln();
                    g.mx.push(m * x);
                }
                _ => groups.push(Group { x, sum_ln_m: m.ln(), mx: vec![m * x] }),
            }
        }
        groups
    }
}

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

    /// Σ ln L over data grouped by x: the terms of x alone (and Σ ln m) once per x, one logarithm
    /// per customer, summed on two threads when there are many.
    #[cfg(test)]
    fn grouped_ln_likelihood(&self, groups: &[Group]) -> f64 {
        let GammaGamma { p, q, gamma } = *self;
        let (lg_q, ln_gamma_) = (ln_gamma(q), gamma.ln());
        let rows = groups.iter().map(|g| g.mx.len()).sum::<usize>();
        super::data::sum_on_two_threads(rows, 20_000, |part: Part| {
            let mut total = 0.0;
            for g in groups {
                let px = p * g.x;
                // The per-group terms once, by the thread that sums the first half (or all).
                if part != Part::SecondHalf {
                    let n = g.mx.len() as f64;
                    total += n * (ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_gamma_ + px * g.x.ln())
                        + (px - 1.0) * g.sum_ln_m;
                }
                let logs: f64 = part.of(&g.mx).iter().map(|mx| (gamma + mx).ln()).sum();
                total -= (px + q) * logs;
            }
            total
        })
    }

    /// [`Self::grouped_ln_likelihood`] and its gradient (∂/∂p, ∂/∂q, ∂/∂γ): per customer
    /// ∂/∂p = x(ψ(px + q) − ψ(px) + ln m + ln x − ln(γ + mx)), ∂/∂q = ψ(px + q) − ψ(q) + ln γ −
    /// ln(γ + mx), ∂/∂γ = q/γ − (px + q)/(γ + mx); per x they need Σ ln(γ + mx) and Σ 1/(γ + mx).
    fn grouped_ln_likelihood_and_gradient(&self, groups: &[Group]) -> (f64, [f64; 3]) {
        let GammaGamma { p, q, gamma } = *self;
        let (lg_q, dg_q, ln_gamma_) = (ln_gamma(q), digamma(q), gamma.ln());
        let rows = groups.iter().map(|g| g.mx.len()).sum::<usize>();
        let s = sum_on_two_threads_n(rows, 20_000, |part: Part| {
            // [ln L, ∂p, ∂q, ∂γ]
            let mut s = [0.0f64; 4];
            for g in groups {
                let px = p * g.x;
                if part != Part::SecondHalf {
                    let n = g.mx.len() as f64;
                    let (dg_pxq, ln_x) = (digamma(px + q), g.x.ln());
                    s[0] += n * (ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_gamma_ + px * ln_x)
                        + (px - 1.0) * g.sum_ln_m;
                    s[1] += g.x * (n * (dg_pxq - digamma(px) + ln_x) + g.sum_ln_m);
                    s[2] += n * (dg_pxq - dg_q + ln_gamma_);
                    s[3] += n * q / gamma;
                }
                let (mut logs, mut inverses) = (0.0, 0.0);
                for mx in part.of(&g.mx) {
                    let v = gamma + mx;
                    logs += v.ln();
                    inverses += 1.0 / v;
                }
                s[0] -= (px + q) * logs;
                s[1] -= g.x * logs;
                s[2] -= logs;
                s[3] -= (px + q) * inverses;
            }
            s
        });
        (s[0], [s[1], s[2], s[3]])
    }

    pub fn fit(data: &[(f64, f64)]) -> (GammaGamma, f64) {
        let at = |p: &[f64]| GammaGamma { p: p[0], q: p[1], gamma: p[2] };
        let groups = Group::by_x(data.iter().copied());
        // More than 100,000 customers: every k-th of them, about 20,000, give the starting point.
        let sample = (data.len() > 100_000).then(|| {
            let sample = Group::by_x(data.iter().copied().step_by(data.len().div_ceil(20_000)));
            let n = sample.iter().map(|g| g.mx.len()).sum::<usize>() as f64;
            (sample, n)
        });
        let m = at(&fit_from_sample_with_gradient(3, (&groups, data.len() as f64), sample, |p, g| {
            let (ll, d) = at(p).grouped_ln_likelihood_and_gradient(g);
            (ll, d.to_vec())
        }));
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
    use proptest::prelude::*;

    proptest! {
        /// The gradient against central differences of the likelihood, on both summing paths.
        #[test]
        fn gradient_matches_finite_differences(
            p in 0.3f64..20.0, q in 1.1f64..15.0, gamma in 0.5f64..200.0, seed in 0u64..1000, large in any::<bool>(),
        ) {
            let n = if large { 25_000 } else { 40 };
            let data: Vec<(f64, f64)> = (0..n)
                .map(|i| {
                    let k = (i as u64).wrapping_mul(2_654_435_761).wrapping_add(seed * 97);
                    (1.0 + (k % 13) as f64, 1.0 + (k % 997) as f64 * 0.37)
                })
                .collect();
            let groups = Group::by_x(data.iter().copied());
            let m = GammaGamma { p, q, gamma };
            let (v, g) = m.grouped_ln_likelihood_and_gradient(&groups);
            prop_assert!((v - m.grouped_ln_likelihood(&groups)).abs() <= 1e-9 * v.abs());
            let params = [p, q, gamma];
            for i in 0..3 {
                let h = 1e-5 * params[i];
                let at = |d: f64| {
                    let mut x = params;
                    x[i] += d;
                    GammaGamma { p: x[0], q: x[1], gamma: x[2] }.grouped_ln_likelihood(&groups)
                };
                let numeric = (at(h) - at(-h)) / (2.0 * h);
                let scale = v.abs() / params[i];
                prop_assert!((g[i] - numeric).abs() <= 1e-6 * scale, "∂{}: {} vs {}", i, g[i], numeric);
            }
        }
    }

    #[test]
    fn grouped_likelihood_equals_the_plain_sum() {
        let m = GammaGamma { p: 6.25, q: 3.74, gamma: 15.44 };
        let small = [(1.0, 20.0), (3.0, 35.5), (1.0, 12.25), (7.0, 80.0)];
        // And 30,000 customers, which take the two-thread path.
        let large: Vec<(f64, f64)> = (0..30_000).map(|i| (1.0 + (i % 9) as f64, 5.0 + (i % 97) as f64 * 1.7)).collect();
        for data in [&small[..], &large[..]] {
            let grouped = m.grouped_ln_likelihood(&Group::by_x(data.iter().copied()));
            let plain = m.total_ln_likelihood(data);
            assert!((grouped - plain).abs() <= 1e-9 * plain.abs(), "{grouped} vs {plain}");
        }
    }
}
