//! Stage 6: customer models, fitted by maximum likelihood on sufficient statistics.
//!
//! BG/NBD and Pareto/NBD for purchase counts, Gamma-Gamma for spend; from them per customer the
//! probability of being alive, expected purchases, churn probability over a horizon, the expected
//! next order and CLV. Churn reasons and the rule-based fallback live in [`churn`].

pub mod bgnbd;
pub mod churn;
pub mod data;
pub mod gamma_gamma;
pub mod optimize;
pub mod pareto;
pub mod parquet;
pub mod scoring;
pub mod special;

use anyhow::Result;
use chrono::NaiveDate;

use crate::queries::{Catalog, QueryContext};
use crate::store::{Param, Store};
pub use data::{Grouped, Summary};

/// The time unit the models count in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Day,
    Week,
}

impl Unit {
    pub fn days(self) -> f64 {
        match self {
            Unit::Day => 1.0,
            Unit::Week => 7.0,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Unit::Day => "day",
            Unit::Week => "week",
        }
    }
}

/// Per-customer sufficient statistics at `until`, from `models.summary`.
pub fn summaries(
    store: &Store,
    catalog: &Catalog,
    ctx: &QueryContext,
    until: NaiveDate,
    unit: Unit,
) -> Result<Vec<(String, Summary)>> {
    let cols = catalog.columns_with(
        store,
        "models.summary",
        ctx,
        &[("until", Param::Text(until.to_string())), ("unit_days", Param::Float(unit.days()))],
    )?;
    let origin = "models.summary";
    let (ids, x, t_x, t, m) = (
        cols.texts("customer_id", origin)?,
        cols.floats("x", origin)?,
        cols.floats("t_x", origin)?,
        cols.floats("T", origin)?,
        cols.floats("m", origin)?,
    );
    Ok(ids
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            let f = |c: &[Option<f64>]| c[i].unwrap_or(0.0);
            (id, Summary { x: f(&x), t_x: f(&t_x), t: f(&t), m: m[i].filter(|m| *m > 0.0) })
        })
        .collect())
}

/// Repeat buyers' (x, m) pairs for Gamma-Gamma.
pub fn spend_data(data: &[Summary]) -> Vec<(f64, f64)> {
    data.iter().filter_map(|s| s.m.filter(|_| s.x > 0.0).map(|m| (s.x, m))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CDNOW (Fader, Hardie & Lee 2005) published estimates, weekly units, calibration to 1997-09-30.
    fn cdnow() -> Option<Vec<Summary>> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/cdnow/CDNOW_sample.txt");
        let text = std::fs::read_to_string(path).ok()?;
        let end = NaiveDate::from_ymd_opt(1997, 9, 30)?;
        let mut days: std::collections::BTreeMap<u32, std::collections::BTreeMap<NaiveDate, f64>> = Default::default();
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() != 5 {
                continue;
            }
            let d = NaiveDate::parse_from_str(f[2], "%Y%m%d").ok()?;
            if d <= end {
                *days.entry(f[1].parse().ok()?).or_default().entry(d).or_default() += f[4].parse::<f64>().ok()?;
            }
        }
        Some(
            days.values()
                .map(|ds| {
                    let first = *ds.keys().next().unwrap();
                    let last = *ds.keys().last().unwrap();
                    let x = (ds.len() - 1) as f64;
                    let first_value = ds[&first];
                    let total: f64 = ds.values().sum();
                    Summary {
                        x,
                        t_x: (last - first).num_days() as f64 / 7.0,
                        t: (end - first).num_days() as f64 / 7.0,
                        m: (x > 0.0).then(|| (total - first_value) / x),
                    }
                })
                .collect(),
        )
    }

    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};
    use rand_distr::{Beta, Distribution, Exp, Gamma};

    /// Customers drawn from BG/NBD (and Gamma-Gamma spend) with known parameters.
    fn simulate_bgnbd(n: usize, (r, alpha, a, b): (f64, f64, f64, f64), seed: u64) -> Vec<Summary> {
        let mut rng = StdRng::seed_from_u64(seed);
        let (lam, drop) = (Gamma::new(r, 1.0 / alpha).unwrap(), Beta::new(a, b).unwrap());
        let (nu, p_spend) = (Gamma::new(4.0, 1.0 / 30.0).unwrap(), 6.0);
        (0..n)
            .map(|_| {
                let t_end: f64 = rng.random_range(5.0..150.0);
                let l: f64 = lam.sample(&mut rng);
                let p: f64 = drop.sample(&mut rng);
                let spend = Gamma::new(p_spend, 1.0 / nu.sample(&mut rng)).unwrap();
                let (mut t, mut x, mut t_x, mut total) = (0.0, 0.0, 0.0, 0.0);
                loop {
                    t += Exp::new(l.max(1e-9)).unwrap().sample(&mut rng);
                    if t >= t_end {
                        break;
                    }
                    x += 1.0;
                    t_x = t;
                    total += spend.sample(&mut rng);
                    if rng.random_bool(p) {
                        break;
                    }
                }
                Summary { x, t_x, t: t_end, m: (x > 0.0).then(|| total / x) }
            })
            .collect()
    }

    #[test]
    fn grouped_likelihoods_equal_the_sum_over_customers() {
        // 30k customers: the two-thread path; times continuous (every one distinct) and whole
        // days (shared), x = 0 and x > 0.
        let mut data = simulate_bgnbd(30_000, (0.8, 5.0, 0.6, 3.0), 5);
        for s in data.iter_mut().step_by(2) {
            s.t_x = (s.t_x * 7.0).round() / 7.0;
            s.t = (s.t * 7.0).round() / 7.0;
        }
        let g = Grouped::new(&data);
        for m in
            [bgnbd::BgNbd { r: 0.8, alpha: 5.0, a: 0.6, b: 3.0 }, bgnbd::BgNbd { r: 2.5, alpha: 0.3, a: 4.0, b: 0.9 }]
        {
            let each: f64 = data.iter().map(|s| m.ln_likelihood(s.x, s.t_x, s.t)).sum();
            let grouped = m.total_ln_likelihood(&g);
            assert!((each - grouped).abs() <= 1e-9 * each.abs(), "{each} vs {grouped}");
        }
    }

    /// Central differences of `f` at `params`, each step relative to its parameter.
    fn numeric_gradient(params: [f64; 4], f: impl Fn([f64; 4]) -> f64) -> [f64; 4] {
        let mut g = [0.0; 4];
        for i in 0..4 {
            let h = 1e-5 * params[i];
            let (mut up, mut down) = (params, params);
            up[i] += h;
            down[i] -= h;
            g[i] = (f(up) - f(down)) / (2.0 * h);
        }
        g
    }

    /// Customers for the gradient tests: BG/NBD draws, half of them on whole days (shared
    /// times), and 25,000 of them when `large` (the two-thread path).
    fn gradient_data(seed: u64, large: bool) -> Grouped {
        let mut data = simulate_bgnbd(if large { 25_000 } else { 400 }, (0.7, 4.0, 0.8, 2.5), seed);
        for s in data.iter_mut().step_by(2) {
            s.t_x = (s.t_x * 7.0).round() / 7.0;
            s.t = (s.t * 7.0).round() / 7.0;
        }
        Grouped::new(&data)
    }

    fn assert_gradient(name: &str, params: [f64; 4], value: f64, got: [f64; 4], numeric: [f64; 4]) {
        for i in 0..4 {
            // Relative to the size of ln L per unit of the parameter: central differences are
            // good to about 1e-9 of that here.
            let scale = value.abs() / params[i];
            assert!(
                (got[i] - numeric[i]).abs() <= 1e-6 * scale,
                "{name} at {params:?}: ∂{i} analytic {} vs numeric {}",
                got[i],
                numeric[i]
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        #[test]
        fn bgnbd_gradient_matches_finite_differences(
            r in 0.05f64..5.0, alpha in 0.1f64..50.0, a in 0.05f64..5.0, b in 0.1f64..20.0,
            seed in 0u64..1000, large in proptest::prelude::any::<bool>(),
        ) {
            let g = gradient_data(seed, large);
            let m = bgnbd::BgNbd { r, alpha, a, b };
            let (v, grad) = m.total_ln_likelihood_and_gradient(&g);
            let plain = m.total_ln_likelihood(&g);
            proptest::prop_assert!((v - plain).abs() <= 1e-9 * plain.abs(), "{} vs {}", v, plain);
            let numeric = numeric_gradient([r, alpha, a, b], |p| {
                bgnbd::BgNbd { r: p[0], alpha: p[1], a: p[2], b: p[3] }.total_ln_likelihood(&g)
            });
            assert_gradient("BG/NBD", [r, alpha, a, b], v, grad, numeric);
        }

        #[test]
        fn pareto_gradient_matches_finite_differences(
            r in 0.1f64..4.0, alpha in 0.5f64..40.0, s in 0.1f64..4.0, beta in 0.5f64..40.0,
            seed in 0u64..1000,
        ) {
            let g = gradient_data(seed, false);
            let m = pareto::ParetoNbd { r, alpha, s, beta };
            let (v, grad) = m.total_ln_likelihood_and_gradient(&g);
            let plain = m.total_ln_likelihood(&g);
            proptest::prop_assert!((v - plain).abs() <= 1e-9 * plain.abs(), "{} vs {}", v, plain);
            let numeric = numeric_gradient([r, alpha, s, beta], |p| {
                pareto::ParetoNbd { r: p[0], alpha: p[1], s: p[2], beta: p[3] }.total_ln_likelihood(&g)
            });
            assert_gradient("Pareto/NBD", [r, alpha, s, beta], v, grad, numeric);
        }
    }

    #[test]
    fn pareto_gradient_holds_where_alpha_equals_beta() {
        // The likelihood switches its hypergeometric form at α = β; both sides must agree.
        let g = gradient_data(3, false);
        for (alpha, beta) in [(5.0, 5.0), (5.0, 5.0 + 1e-9), (5.0 + 1e-9, 5.0)] {
            let p = [0.6, alpha, 0.9, beta];
            let m = pareto::ParetoNbd { r: p[0], alpha: p[1], s: p[2], beta: p[3] };
            let (v, grad) = m.total_ln_likelihood_and_gradient(&g);
            let numeric = numeric_gradient(p, |p| {
                pareto::ParetoNbd { r: p[0], alpha: p[1], s: p[2], beta: p[3] }.total_ln_likelihood(&g)
            });
            assert_gradient("Pareto/NBD", p, v, grad, numeric);
        }
    }

    #[test]
    fn quasi_newton_and_nelder_mead_find_the_same_optimum() {
        // BFGS with the gradients (each model's `fit`) against Nelder–Mead on the likelihood
        // alone, from the same start, on the same data.
        let data = simulate_bgnbd(20_000, (0.8, 5.0, 0.6, 3.0), 8);
        let g = Grouped::new(&data);
        let close = |a: f64, b: f64| (a - b).abs() <= 2e-4 * b.abs();
        let pareto_at = |p: &[f64]| pareto::ParetoNbd { r: p[0], alpha: p[1], s: p[2], beta: p[3] };
        let (pq, _) = pareto::ParetoNbd::fit(&g);
        let pn = pareto_at(&optimize::fit_positive(4, g.customers, |p| pareto_at(p).total_ln_likelihood(&g)));
        assert!(
            close(pq.r, pn.r) && close(pq.alpha, pn.alpha) && close(pq.s, pn.s) && close(pq.beta, pn.beta),
            "{pq:?} vs {pn:?}"
        );
        let spend = spend_data(&data);
        let gg_at = |p: &[f64]| gamma_gamma::GammaGamma { p: p[0], q: p[1], gamma: p[2] };
        let (gq, _) = gamma_gamma::GammaGamma::fit(&spend);
        let gn = gg_at(&optimize::fit_positive(3, spend.len() as f64, |p| gg_at(p).total_ln_likelihood(&spend)));
        assert!(close(gq.p, gn.p) && close(gq.q, gn.q) && close(gq.gamma, gn.gamma), "{gq:?} vs {gn:?}");
    }

    #[test]
    fn a_fit_started_from_a_sample_finds_the_same_optimum() {
        // 120,000 customers with continuous times: more than 100,000 groups, so BgNbd::fit starts
        // from a fit on a sample; the direct fit from the default start must agree.
        let data = simulate_bgnbd(120_000, (0.8, 5.0, 0.6, 3.0), 21);
        let g = Grouped::new(&data);
        assert!(g.len() > 100_000, "{} groups", g.len());
        let (sampled, ll_sampled) = bgnbd::BgNbd::fit(&g);
        let at = |p: &[f64]| bgnbd::BgNbd { r: p[0], alpha: p[1], a: p[2], b: p[3] };
        let direct = at(&optimize::fit_positive(4, g.customers, |p| at(p).total_ln_likelihood(&g)));
        for (a, b) in
            [(sampled.r, direct.r), (sampled.alpha, direct.alpha), (sampled.a, direct.a), (sampled.b, direct.b)]
        {
            assert!((a - b).abs() <= 1e-4 * b.abs(), "sampled {sampled:?} vs direct {direct:?}");
        }
        assert!(ll_sampled >= direct.total_ln_likelihood(&g) - 1e-6 * ll_sampled.abs());
    }

    #[test]
    fn bgnbd_and_gamma_gamma_recover_simulated_parameters() {
        let truth = (0.8, 5.0, 0.6, 3.0);
        let data = simulate_bgnbd(30_000, truth, 11);
        let (m, _) = bgnbd::BgNbd::fit(&Grouped::new(&data));
        for (got, want, name) in
            [(m.r, truth.0, "r"), (m.alpha, truth.1, "alpha"), (m.a, truth.2, "a"), (m.b, truth.3, "b")]
        {
            assert!((got - want).abs() <= 0.12 * want, "{name}: fitted {got}, true {want}");
        }
        let (gg, _) = gamma_gamma::GammaGamma::fit(&spend_data(&data));
        for (got, want, name) in [(gg.p, 6.0, "p"), (gg.q, 4.0, "q"), (gg.gamma, 30.0, "gamma")] {
            assert!((got - want).abs() <= 0.12 * want, "{name}: fitted {got}, true {want}");
        }
    }

    #[test]
    fn pareto_nbd_recovers_simulated_parameters() {
        let (r, alpha, s, beta) = (0.9, 6.0, 0.8, 12.0);
        let mut rng = StdRng::seed_from_u64(5);
        let (lam, mu) = (Gamma::new(r, 1.0 / alpha).unwrap(), Gamma::new(s, 1.0 / beta).unwrap());
        let data: Vec<Summary> = (0..20_000)
            .map(|_| {
                let t_end: f64 = rng.random_range(10.0..100.0);
                let l: f64 = lam.sample(&mut rng);
                let rate: f64 = mu.sample(&mut rng);
                let life: f64 = Exp::new(rate.max(1e-9)).unwrap().sample(&mut rng);
                let life = life.min(t_end);
                let (mut t, mut x, mut t_x) = (0.0, 0.0, 0.0);
                loop {
                    t += Exp::new(l.max(1e-9)).unwrap().sample(&mut rng);
                    if t >= life {
                        break;
                    }
                    x += 1.0;
                    t_x = t;
                }
                Summary { x, t_x, t: t_end, m: None }
            })
            .collect();
        let (m, _) = pareto::ParetoNbd::fit(&Grouped::new(&data));
        for (got, want, name) in [(m.r, r, "r"), (m.alpha, alpha, "alpha"), (m.s, s, "s"), (m.beta, beta, "beta")] {
            assert!((got - want).abs() <= 0.2 * want, "{name}: fitted {got}, true {want}");
        }
    }

    #[test]
    fn predictions_are_consistent() {
        let m = bgnbd::BgNbd { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
        // A customer who bought often and recently is more alive than one who stopped long ago.
        assert!(m.p_alive(10.0, 38.0, 39.0) > m.p_alive(10.0, 5.0, 39.0));
        assert_eq!(m.p_alive(0.0, 0.0, 39.0), 1.0);
        // More time, more expected purchases; churn and purchases move oppositely.
        let (e1, e2) = (m.expected_purchases(10.0, 3.0, 30.0, 39.0), m.expected_purchases(20.0, 3.0, 30.0, 39.0));
        assert!(e2 > e1 && e1 > 0.0);
        let p = m.p_no_purchase(13.0, 3.0, 30.0, 39.0);
        assert!((0.0..=1.0).contains(&p));
        assert!(m.p_no_purchase(13.0, 3.0, 5.0, 39.0) > p);
        // A new customer's expectation against the closed form at a small horizon: ≈ r/α · h.
        let small = m.population_expected(0.01);
        assert!((small - 0.243 / 4.414 * 0.01).abs() < 1e-4, "{small}");
        let gg = gamma_gamma::GammaGamma { p: 6.25, q: 3.74, gamma: 15.44 };
        assert!((gg.expected_average(0.0, None) - 6.25 * 15.44 / 2.74).abs() < 1e-9);
        // With many repeat purchases the estimate moves toward the customer's own average.
        assert!((gg.expected_average(100.0, Some(50.0)) - 50.0).abs() < 1.0);
    }

    #[test]
    #[ignore = "needs the ../shared corpus; run by .ci/run"]
    fn corpus_cdnow_matches_published_estimates() {
        let data = cdnow().expect("CDNOW sample in ../shared");
        assert_eq!(data.len(), 2357);
        let g = Grouped::new(&data);
        let (m, ll) = bgnbd::BgNbd::fit(&g);
        let (p, pll) = pareto::ParetoNbd::fit(&g);
        let (gg, _) = gamma_gamma::GammaGamma::fit(&spend_data(&data));
        eprintln!("BG/NBD {m:?} ln L {ll}\nPareto/NBD {p:?} ln L {pll}\nGamma-Gamma {gg:?}");
        let close = |got: f64, want: f64| (got - want).abs() <= 0.01 * want.abs();
        assert!(close(m.r, 0.243) && close(m.alpha, 4.414) && close(m.a, 0.793) && close(m.b, 2.426), "{m:?}");
        assert!(close(ll, -9582.4), "{ll}");
        assert!(close(p.r, 0.553) && close(p.alpha, 10.578) && close(p.s, 0.606) && close(p.beta, 11.669), "{p:?}");
        assert!(close(pll, -9595.0), "{pll}");
        assert!(close(gg.p, 6.25) && close(gg.q, 3.74) && close(gg.gamma, 15.44), "{gg:?}");
        // lifetimes 0.11.3 (BetaGeoFitter, ParetoNBDFitter, GammaGammaFitter) on the same
        // calibration data: within 0.1%.
        let near = |got: f64, want: f64| (got - want).abs() <= 0.001 * want.abs();
        let lifetimes = [
            (m.r, 0.242_594_543),
            (m.alpha, 4.413_602_716),
            (m.a, 0.792_921_833),
            (m.b, 2.425_905_729),
            (p.r, 0.553_274_323),
            (p.alpha, 10.577_792_069),
            (p.s, 0.606_262_863),
            (p.beta, 11.669_657_786),
            (gg.p, 6.249_572_278),
            (gg.q, 3.744_224_675),
            (gg.gamma, 15.443_521_018),
        ];
        for (i, (got, want)) in lifetimes.into_iter().enumerate() {
            assert!(near(got, want), "parameter {i}: {got} vs lifetimes' {want}");
        }
        // The quasi-Newton fits against Nelder–Mead on the likelihoods alone (the method before
        // the gradients): the same optimum to 1e-4.
        let same = |a: f64, b: f64| (a - b).abs() <= 1e-4 * b.abs();
        let bg_at = |p: &[f64]| bgnbd::BgNbd { r: p[0], alpha: p[1], a: p[2], b: p[3] };
        let n = bg_at(&optimize::fit_positive(4, g.customers, |p| bg_at(p).total_ln_likelihood(&g)));
        assert!(same(m.r, n.r) && same(m.alpha, n.alpha) && same(m.a, n.a) && same(m.b, n.b), "{m:?} vs {n:?}");
        let pa_at = |q: &[f64]| pareto::ParetoNbd { r: q[0], alpha: q[1], s: q[2], beta: q[3] };
        let n = pa_at(&optimize::fit_positive(4, g.customers, |q| pa_at(q).total_ln_likelihood(&g)));
        assert!(same(p.r, n.r) && same(p.alpha, n.alpha) && same(p.s, n.s) && same(p.beta, n.beta), "{p:?} vs {n:?}");
        let spend = spend_data(&data);
        let gg_at = |q: &[f64]| gamma_gamma::GammaGamma { p: q[0], q: q[1], gamma: q[2] };
        let n = gg_at(&optimize::fit_positive(3, spend.len() as f64, |q| gg_at(q).total_ln_likelihood(&spend)));
        assert!(same(gg.p, n.p) && same(gg.q, n.q) && same(gg.gamma, n.gamma), "{gg:?} vs {n:?}");
    }
}
