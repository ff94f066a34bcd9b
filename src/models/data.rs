//! The sufficient statistics the models run on: per customer, the number of repeat purchase days
//! x, the time of the last purchase t_x and the age T (from the first purchase), in model units,
//! and the average value m of the repeat purchases.

use std::collections::HashMap;

/// One customer's summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Repeat purchase days (purchase days after the first).
    pub x: f64,
    /// Time from the first to the last purchase.
    pub t_x: f64,
    /// Time from the first purchase to the end of calibration.
    pub t: f64,
    /// Average value of the repeat purchases (`None` without repeats).
    pub m: Option<f64>,
}

/// Customers sharing one x: (t_x, T, how many) sorted.
pub type Times = Vec<(f64, f64, f64)>;

/// Customers with the same (x, t_x, T) share one likelihood term: grouped by x, then by times.
#[derive(Debug, Clone, Default)]
pub struct Grouped {
    /// (x, [(t_x, T, count)]) sorted by x.
    pub by_x: Vec<(f64, Times)>,
    pub customers: f64,
}

impl Grouped {
    pub fn new(data: &[Summary]) -> Grouped {
        let mut map: HashMap<u64, HashMap<(u64, u64), f64>> = HashMap::new();
        for s in data {
            *map.entry(s.x.to_bits()).or_default().entry((s.t_x.to_bits(), s.t.to_bits())).or_default() += 1.0;
        }
        let mut by_x: Vec<(f64, Times)> = map
            .into_iter()
            .map(|(x, rows)| {
                let mut v: Vec<(f64, f64, f64)> =
                    rows.into_iter().map(|((a, b), w)| (f64::from_bits(a), f64::from_bits(b), w)).collect();
                v.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.total_cmp(&q.1)));
                (f64::from_bits(x), v)
            })
            .collect();
        by_x.sort_by(|a, b| a.0.total_cmp(&b.0));
        Grouped { by_x, customers: data.len() as f64 }
    }

    /// Distinct (x, t_x, T) combinations.
    pub fn len(&self) -> usize {
        self.by_x.iter().map(|(_, v)| v.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_x.is_empty()
    }
}
