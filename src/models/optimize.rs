//! Maximum likelihood on log-parameters (positivity for free): BFGS with the models' analytic
//! gradients ([`fit_grouped_with_gradient`]), and Nelder–Mead, restarted from its own optimum until
//! the optimum stops moving, for likelihoods without one.

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

/// A log-likelihood with its gradient: (ln L, ∂ ln L/∂ parameter) at the parameters.
pub type ValueAndGradient = (f64, Vec<f64>);

/// Maximum likelihood by BFGS on grouped data, with the gradient: more than 100,000 groups are
/// first fitted on a sample of about 20,000, and the full fit starts from there (the same optimum
/// in a fraction of the evaluations).
pub fn fit_grouped_with_gradient(
    dims: usize,
    data: &Grouped,
    llg: impl Fn(&[f64], &Grouped) -> ValueAndGradient,
) -> Vec<f64> {
    let sample = (data.len() > 100_000).then(|| {
        let sample = data.sample(20_000);
        let n = sample.customers;
        (sample, n)
    });
    fit_from_sample_with_gradient(dims, (data, data.customers), sample, llg)
}

/// Maximum likelihood by BFGS over `data` (`n` customers), started from a fit on `sample` (of its
/// own size) when there is one.
pub fn fit_from_sample_with_gradient<D>(
    dims: usize,
    (data, n): (&D, f64),
    sample: Option<(D, f64)>,
    llg: impl Fn(&[f64], &D) -> ValueAndGradient,
) -> Vec<f64> {
    let start = match sample {
        Some((sample, sample_n)) => fit_positive_with_gradient(&vec![1.0; dims], sample_n, |p| llg(p, &sample)),
        None => vec![1.0; dims],
    };
    fit_positive_with_gradient(&start, n, |p| llg(p, data))
}

/// Maximises `llg` (ln L and its gradient) over positive parameters from `start`: BFGS on the
/// mean negative log-likelihood over log-parameters, −ln L(eᵛ)/n, whose gradient is −(∂ ln L/∂p)·p/n.
pub fn fit_positive_with_gradient(start: &[f64], n: f64, llg: impl Fn(&[f64]) -> ValueAndGradient) -> Vec<f64> {
    let n = n.max(1.0);
    let objective = |v: &[f64]| -> ValueAndGradient {
        let p: Vec<f64> = v.iter().map(|x| x.exp()).collect();
        let (ll, g) = llg(&p);
        let f = bounded(v, -ll / n);
        let g: Vec<f64> = g.iter().zip(&p).map(|(g, p)| -g * p / n).collect();
        if f.is_finite() && g.iter().all(|g| g.is_finite()) { (f, g) } else { (f64::INFINITY, g) }
    };
    let x0: Vec<f64> = start.iter().map(|p| p.ln()).collect();
    let (v, _) = bfgs(&objective, &x0);
    v.iter().map(|x| x.exp()).collect()
}

/// Minimises `f` (value and gradient) from `x0` by BFGS with a backtracking (Armijo) line search;
/// stops when the gradient vanishes (largest component ≤ 1e-10, relative to the value) or no step
/// improves the value any more. Returns the minimiser and the minimum.
pub fn bfgs(f: &dyn Fn(&[f64]) -> ValueAndGradient, x0: &[f64]) -> (Vec<f64>, f64) {
    let n = x0.len();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
    let identity = |scale: f64| -> Vec<Vec<f64>> {
        (0..n).map(|i| (0..n).map(|j| if i == j { scale } else { 0.0 }).collect()).collect()
    };
    let mut x = x0.to_vec();
    let (mut fx, mut g) = f(&x);
    if !fx.is_finite() {
        return (x, fx);
    }
    // The inverse Hessian's estimate.
    let mut h = identity(1.0);
    let mut fresh = true;
    for _ in 0..500 {
        if g.iter().fold(0.0f64, |m, g| m.max(g.abs())) <= 1e-10 * (1.0 + fx.abs()) {
            break;
        }
        let mut d: Vec<f64> = (0..n).map(|i| -dot(&h[i], &g)).collect();
        let mut slope = dot(&g, &d);
        if slope >= 0.0 || !slope.is_finite() {
            // Not a descent direction: start the estimate afresh.
            h = identity(1.0);
            fresh = true;
            d = g.iter().map(|g| -g).collect();
            slope = dot(&g, &d);
        }
        // No step longer than 2 in log space (a factor e² in a parameter) on a fresh estimate.
        let longest = d.iter().fold(0.0f64, |m, d| m.max(d.abs()));
        let mut t = if fresh && longest > 2.0 { 2.0 / longest } else { 1.0 };
        let mut next = None;
        for _ in 0..60 {
            let trial: Vec<f64> = x.iter().zip(&d).map(|(x, d)| x + t * d).collect();
            let (ft, gt) = f(&trial);
            if ft.is_finite() && ft <= fx + 1e-4 * t * slope {
                next = Some((trial, ft, gt));
                break;
            }
            // A quadratic through f(x), its slope and f(x + t·d), kept within [t/10, t/2].
            let q = if ft.is_finite() { -slope * t * t / (2.0 * (ft - fx - slope * t)) } else { 0.1 * t };
            t = q.clamp(0.1 * t, 0.5 * t);
        }
        let Some((x1, f1, g1)) = next else {
            if fresh {
                break;
            }
            // The estimate led nowhere: once more along the gradient.
            h = identity(1.0);
            fresh = true;
            continue;
        };
        let s: Vec<f64> = x1.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g1.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        let stalled = (fx - f1).abs() <= 1e-16 * (1.0 + fx.abs()) && s.iter().all(|s| s.abs() <= 1e-12);
        (x, fx, g) = (x1, f1, g1);
        if stalled {
            break;
        }
        if sy > 1e-300 {
            if fresh {
                // Scale the first estimate to the curvature seen along the step.
                h = identity(sy / dot(&y, &y));
            }
            // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
            let rho = 1.0 / sy;
            let hy: Vec<f64> = (0..n).map(|i| dot(&h[i], &y)).collect();
            let yhy = dot(&y, &hy);
            for i in 0..n {
                for j in 0..n {
                    h[i][j] += -rho * (hy[i] * s[j] + s[i] * hy[j]) + (rho * rho * yhy + rho) * s[i] * s[j];
                }
            }
            fresh = false;
        }
    }
    (x, fx)
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
    fn bfgs_finds_the_rosenbrock_minimum() {
        let f = |x: &[f64]| {
            let v = (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
            let g = vec![-2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] * x[0]), 200.0 * (x[1] - x[0] * x[0])];
            (v, g)
        };
        let (x, fx) = super::bfgs(&f, &[-1.2, 1.0]);
        assert!(fx < 1e-16 && (x[0] - 1.0).abs() < 1e-7 && (x[1] - 1.0).abs() < 1e-7, "{x:?} {fx}");
    }

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let f = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let (x, fx) = super::nelder_mead(&f, &[-1.2, 1.0]);
        assert!(fx < 1e-12 && (x[0] - 1.0).abs() < 1e-5 && (x[1] - 1.0).abs() < 1e-5, "{x:?} {fx}");
    }
}
