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
    let rs = catalog.run_with(
        store,
        "models.summary",
        ctx,
        &[("until", Param::Text(until.to_string())), ("unit_days", Param::Float(unit.days()))],
    )?;
    let col =
        |n: &str| rs.col(n).ok_or_else(|| crate::error::user(format!("models.summary must return a `{n}` column")));
    let (ci, xi, ti, ai, mi) = (col("customer_id")?, col("x")?, col("t_x")?, col("T")?, col("m")?);
    Ok(rs
        .rows
        .iter()
        .map(|r| {
            let f = |i: usize| r[i].as_f64().unwrap_or(0.0);
            (r[ci].to_text(), Summary { x: f(xi), t_x: f(ti), t: f(ai), m: r[mi].as_f64().filter(|m| *m > 0.0) })
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
        let epoch = NaiveDate::from_ymd_opt(1997, 1, 1)?;
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
        let _ = epoch;
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

    #[test]
    #[ignore = "needs the ../shared corpus; run by .ci/run"]
    fn corpus_cdnow_matches_published_estimates() {
        let data = cdnow().expect("CDNOW sample in ../shared");
        assert_eq!(data.len(), 2357);
        let g = Grouped::new(&data);
        let (m, ll) = bgnbd::BgNbd::fit(&g);
        eprintln!("BG/NBD {m:?} {ll}");
        let (p, pll) = pareto::ParetoNbd::fit(&g);
        eprintln!("Pareto {p:?} {pll}");
        let (gg, _) = gamma_gamma::GammaGamma::fit(&spend_data(&data));
        eprintln!("GG {gg:?}");
        let close = |got: f64, want: f64| (got - want).abs() <= 0.01 * want.abs();
        assert!(close(m.r, 0.243) && close(m.alpha, 4.414) && close(m.a, 0.793) && close(m.b, 2.426), "{m:?}");
        assert!(close(ll, -9582.4), "{ll}");
        assert!(close(p.r, 0.553) && close(p.alpha, 10.578) && close(p.s, 0.606) && close(p.beta, 11.669), "{p:?}");
        assert!(close(pll, -9595.0), "{pll}");
        assert!(close(gg.p, 6.25) && close(gg.q, 3.74) && close(gg.gamma, 15.44), "{gg:?}");
    }
}
