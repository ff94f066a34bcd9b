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

/// [`Times`] with t_x and T as indexes into [`Grouped::times`].
pub type IndexedTimes = Vec<(u32, u32, f64)>;

/// Customers with the same (x, t_x, T) share one likelihood term: grouped by x, then by times.
#[derive(Debug, Clone, Default)]
pub struct Grouped {
    /// (x, [(t_x, T, count)]) sorted by x.
    pub by_x: Vec<(f64, Times)>,
    pub customers: f64,
    /// Every distinct time value (t_x or T), sorted. Times are whole days in model units, so there
    /// are a few thousand at most: a likelihood computes ln(α + t) once per value, not per row.
    pub times: Vec<f64>,
    /// by_x with t_x and T as indexes into `times`.
    pub indexed: Vec<(f64, IndexedTimes)>,
}

impl Grouped {
    pub fn new(data: &[Summary]) -> Grouped {
        Grouped::from_counts(data.iter().map(|s| (s.x, s.t_x, s.t, 1.0)))
    }

    /// Groups counted elsewhere (the Spark job's `models.grouped`): (x, t_x, T, customers) rows in
    /// any order; rows of the same triple are added. The same groups as [`Grouped::new`] on the
    /// customers they count, in the same order, so a fit on either gives the same parameters.
    pub fn from_counts(rows: impl IntoIterator<Item = (f64, f64, f64, f64)>) -> Grouped {
        let mut rows: Vec<(f64, f64, f64, f64)> = rows.into_iter().collect();
        let customers: f64 = rows.iter().map(|r| r.3).sum();
        // Sorted, equal triples are neighbours (total_cmp is equal exactly when the bits are), and
        // the sort is stable, so each group's count adds its rows in the order they came. (Two
        // levels of hash maps took 0.4 s for a million customers.)
        rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.total_cmp(&b.2)));
        let mut by_x: Vec<(f64, Times)> = Vec::new();
        for (x, t_x, t, w) in rows {
            match by_x.last_mut() {
                Some((last_x, v)) if last_x.to_bits() == x.to_bits() => match v.last_mut() {
                    Some(g) if g.0.to_bits() == t_x.to_bits() && g.1.to_bits() == t.to_bits() => g.2 += w,
                    _ => v.push((t_x, t, w)),
                },
                _ => by_x.push((x, vec![(t_x, t, w)])),
            }
        }
        Grouped::from_by_x(by_x, customers)
    }

    /// Every k-th group, so that about `rows` remain (with their counts): a cheap stand-in for the
    /// whole data set, to find a starting point for the fit on all of it.
    pub fn sample(&self, rows: usize) -> Grouped {
        let k = self.len().div_ceil(rows.max(1)).max(1);
        let mut i = 0usize;
        let mut customers = 0.0;
        let by_x = self
            .by_x
            .iter()
            .map(|(x, v)| {
                let kept: Times = v
                    .iter()
                    .filter(|_| {
                        i += 1;
                        (i - 1).is_multiple_of(k)
                    })
                    .copied()
                    .collect();
                customers += kept.iter().map(|r| r.2).sum::<f64>();
                (*x, kept)
            })
            .filter(|(_, v)| !v.is_empty())
            .collect();
        Grouped::from_by_x(by_x, customers)
    }

    fn from_by_x(by_x: Vec<(f64, Times)>, customers: f64) -> Grouped {
        let mut times: Vec<f64> = by_x.iter().flat_map(|(_, v)| v.iter().flat_map(|&(t_x, t, _)| [t_x, t])).collect();
        times.sort_by(f64::total_cmp);
        times.dedup_by(|a, b| a.to_bits() == b.to_bits());
        let slot: HashMap<u64, u32> = times.iter().enumerate().map(|(i, t)| (t.to_bits(), i as u32)).collect();
        let indexed = by_x
            .iter()
            .map(|(x, v)| (*x, v.iter().map(|&(t_x, t, w)| (slot[&t_x.to_bits()], slot[&t.to_bits()], w)).collect()))
            .collect();
        Grouped { by_x, customers, times, indexed }
    }

    /// Distinct (x, t_x, T) combinations.
    pub fn len(&self) -> usize {
        self.by_x.iter().map(|(_, v)| v.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_x.is_empty()
    }
}

/// Which rows of each group one summing thread takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    All,
    FirstHalf,
    SecondHalf,
}

impl Part {
    pub fn of<T>(self, rows: &[T]) -> &[T] {
        match self {
            Part::All => rows,
            Part::FirstHalf => &rows[..rows.len() / 2],
            Part::SecondHalf => &rows[rows.len() / 2..],
        }
    }
}

/// `sum(Part::All)` for fewer than `threshold` rows; otherwise each half of every group on its
/// own thread, added. The likelihoods of all three models are summed this way.
pub fn sum_on_two_threads(rows: usize, threshold: usize, sum: impl Fn(Part) -> f64 + Sync) -> f64 {
    if rows < threshold {
        return sum(Part::All);
    }
    std::thread::scope(|scope| {
        let other = scope.spawn(|| sum(Part::SecondHalf));
        sum(Part::FirstHalf) + other.join().unwrap_or(f64::NAN)
    })
}

/// As [`sum_on_two_threads`], for sums of `N` numbers at once (a likelihood and its gradient).
pub fn sum_on_two_threads_n<const N: usize>(
    rows: usize,
    threshold: usize,
    sum: impl Fn(Part) -> [f64; N] + Sync,
) -> [f64; N] {
    if rows < threshold {
        return sum(Part::All);
    }
    std::thread::scope(|scope| {
        let other = scope.spawn(|| sum(Part::SecondHalf));
        let mut total = sum(Part::FirstHalf);
        let second = other.join().unwrap_or([f64::NAN; N]);
        for (t, s) in total.iter_mut().zip(second) {
            *t += s;
        }
        total
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The groups counted naively: every (x, t_x, T) with how many rows carry it, in order.
    fn naive(rows: &[(f64, f64, f64, f64)]) -> Vec<(f64, Times)> {
        let mut map: std::collections::BTreeMap<u64, std::collections::BTreeMap<(u64, u64), f64>> = Default::default();
        for &(x, t_x, t, w) in rows {
            *map.entry(x.to_bits()).or_default().entry((t_x.to_bits(), t.to_bits())).or_default() += w;
        }
        map.into_iter()
            .map(|(x, v)| {
                (
                    f64::from_bits(x),
                    v.into_iter().map(|((a, b), w)| (f64::from_bits(a), f64::from_bits(b), w)).collect(),
                )
            })
            .collect()
    }

    proptest! {
        /// Whole numbers of days or weeks (non-negative, so bit order is numeric order) and
        /// whole counts, as the models give them.
        #[test]
        fn groups_are_the_distinct_triples_with_their_counts(
            rows in prop::collection::vec((0u8..6, 0u8..5, 0u8..5, 1u8..4), 0..200)
        ) {
            let rows: Vec<(f64, f64, f64, f64)> =
                rows.into_iter().map(|(x, a, b, w)| (f64::from(x), f64::from(a), f64::from(a) + f64::from(b), f64::from(w))).collect();
            let g = Grouped::from_counts(rows.iter().copied());
            prop_assert_eq!(&g.by_x, &naive(&rows));
            prop_assert_eq!(g.customers, rows.iter().map(|r| r.3).sum::<f64>());
            let summaries: Vec<Summary> = rows.iter().map(|&(x, t_x, t, _)| Summary { x, t_x, t, m: None }).collect();
            let ones: Vec<(f64, f64, f64, f64)> = rows.iter().map(|&(x, t_x, t, _)| (x, t_x, t, 1.0)).collect();
            prop_assert_eq!(&Grouped::new(&summaries).by_x, &naive(&ones));
        }
    }
}
