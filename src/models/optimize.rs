//! Maximum likelihood by Nelder–Mead on log-parameters (positivity for free), restarted from its
//! own optimum until the optimum stops moving, which guards against premature collapse.

/// The objective at log-parameters `v`: rejected (+∞) outside e^±12 or when not finite, so the
/// search never wanders into overflow where a likelihood can look infinitely good.
pub fn bounded(v: &[f64], objective: f64) -> f64 {
    if v.iter().any(|x| x.abs() > 12.0) || !objective.is_finite() { f64::INFINITY } else { objective }
}

use super::data::Grouped;

/// Maximum likelihood over `dims` positive parameters: minimises the mean negative log-likelihood
/// `-ll(params) / n` over log-parameters, starting from all ones. Returns the parameters.
pub fn fit_positive(dims: usize, n: f64, ll: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    fit_positive_from(&vec![1.0; dims], 0.5, n, ll)
}

/// Maximum likelihood on grouped data: more than 100,000 groups are first fitted on a sample
/// of about 20,000, and the full fit starts from there with a small simplex (the same optimum
/// in a fraction of the evaluations).
pub fn fit_grouped(dims: usize, data: &Grouped, ll: impl Fn(&[f64], &Grouped) -> f64) -> Vec<f64> {
    let sample = (data.len() > 100_000).then(|| {
        let sample = data.sample(20_000);
        let n = sample.customers;
        (sample, n)
    });
    fit_from_sample(dims, (data, data.customers), sample, ll)
}

/// Maximum likelihood over `data` (`n` customers), started from a fit on `sample` (of its own
/// size) when there is one.
pub fn fit_from_sample<D>(
    dims: usize,
    (data, n): (&D, f64),
    sample: Option<(D, f64)>,
    ll: impl Fn(&[f64], &D) -> f64,
) -> Vec<f64> {
    match sample {
        Some((sample, sample_n)) => {
            let start = fit_positive(dims, sample_n, |p| ll(p, &sample));
            fit_positive_from(&start, 0.05, n, |p| ll(p, data))
        }
        None => fit_positive(dims, n, |p| ll(p, data)),
    }
}

/// As [`fit_positive`], from the parameters `start` with a first simplex `step` wide (in log
/// space): a small step from a good start (a fit on a sample) saves most evaluations.
pub fn fit_positive_from(start: &[f64], step: f64, n: f64, ll: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let n = n.max(1.0);
    let objective = |v: &[f64]| {
        let p: Vec<f64> = v.iter().map(|x| x.exp()).collect();
        bounded(v, -ll(&p) / n)
    };
    let x0: Vec<f64> = start.iter().map(|p| p.ln()).collect();
    let (v, _) = nelder_mead_step(&objective, &x0, step);
    v.iter().map(|x| x.exp()).collect()
}

/// Minimises `f` from `x0`; returns the minimiser and the minimum.
pub fn nelder_mead(f: &dyn Fn(&[f64]) -> f64, x0: &[f64]) -> (Vec<f64>, f64) {
    nelder_mead_step(f, x0, 0.5)
}

/// Minimises `f` from `x0` with a first simplex `step` wide, restarted from its optimum with a
/// small simplex (2% in log space: enough to leave a collapsed simplex, cheap to re-converge)
/// until the optimum stops moving.
pub fn nelder_mead_step(f: &dyn Fn(&[f64]) -> f64, x0: &[f64], step: f64) -> (Vec<f64>, f64) {
    let mut best = x0.to_vec();
    let mut best_f = f(&best);
    for round in 0..8 {
        // The first run converges tightly; the restarts only need to show the optimum holds.
        let (x, fx) =
            if round == 0 { run(f, &best, step, (1e-11, 1e-7)) } else { run(f, &best, step.min(0.02), (1e-9, 1e-4)) };
        let moved = (best_f - fx).abs() > 1e-10 * (1.0 + fx.abs());
        if fx <= best_f {
            best = x;
            best_f = fx;
        }
        if !moved {
            break;
        }
    }
    (best, best_f)
}

/// One Nelder–Mead descent; stops when the values agree to `tolerance.0` (relative) and the
/// simplex is smaller than `tolerance.1`.
fn run(f: &dyn Fn(&[f64]) -> f64, x0: &[f64], step: f64, tolerance: (f64, f64)) -> (Vec<f64>, f64) {
    let n = x0.len();
    let value = |x: &[f64]| {
        let v = f(x);
        if v.is_nan() { f64::INFINITY } else { v }
    };
    let mut simplex: Vec<Vec<f64>> = vec![x0.to_vec()];
    for i in 0..n {
        let mut x = x0.to_vec();
        x[i] += step;
        simplex.push(x);
    }
    let mut fs: Vec<f64> = simplex.iter().map(|x| value(x)).collect();
    for _ in 0..20_000 {
        let mut order: Vec<usize> = (0..=n).collect();
        order.sort_by(|a, b| fs[*a].total_cmp(&fs[*b]));
        simplex = order.iter().map(|i| simplex[*i].clone()).collect();
        fs = order.iter().map(|i| fs[*i]).collect();
        let spread = (fs[n] - fs[0]).abs();
        let size = simplex
            .iter()
            .skip(1)
            .map(|x| x.iter().zip(&simplex[0]).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max))
            .fold(0.0, f64::max);
        if spread <= tolerance.0 * (1.0 + fs[0].abs()) && size < tolerance.1 {
            break;
        }
        let centroid: Vec<f64> = (0..n).map(|j| simplex[..n].iter().map(|x| x[j]).sum::<f64>() / n as f64).collect();
        let toward = |t: f64| -> Vec<f64> { (0..n).map(|j| centroid[j] + t * (simplex[n][j] - centroid[j])).collect() };
        let reflected = toward(-1.0);
        let fr = value(&reflected);
        if fr < fs[0] {
            let expanded = toward(-2.0);
            let fe = value(&expanded);
            if fe < fr {
                simplex[n] = expanded;
                fs[n] = fe;
            } else {
                simplex[n] = reflected;
                fs[n] = fr;
            }
        } else if fr < fs[n - 1] {
            simplex[n] = reflected;
            fs[n] = fr;
        } else {
            let contracted = if fr < fs[n] { toward(-0.5) } else { toward(0.5) };
            let fc = value(&contracted);
            if fc < fs[n].min(fr) {
                simplex[n] = contracted;
                fs[n] = fc;
            } else {
                for i in 1..=n {
                    simplex[i] = (0..n).map(|j| simplex[0][j] + 0.5 * (simplex[i][j] - simplex[0][j])).collect();
                    fs[i] = value(&simplex[i]);
                }
            }
        }
    }
    let i = (0..=n).min_by(|a, b| fs[*a].total_cmp(&fs[*b])).unwrap_or(0);
    (simplex[i].clone(), fs[i])
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_rosenbrock_minimum() {
        let f = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let (x, fx) = super::nelder_mead(&f, &[-1.2, 1.0]);
        assert!(fx < 1e-12 && (x[0] - 1.0).abs() < 1e-5 && (x[1] - 1.0).abs() < 1e-5, "{x:?} {fx}");
    }
}
