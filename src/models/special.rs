//! Special functions the models need: log-gamma and the Gauss hypergeometric function.

/// ln Γ(x) for x > 0.
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// ln B(a, b).
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// ₂F₁(a, b; c; z) for 0 ≤ z < 1 by its power series. The term ratio tends to z, so the series
/// converges geometrically; it stops when a term no longer changes the sum.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    if z == 0.0 {
        return 1.0;
    }
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 0..200_000 {
        let n = f64::from(n);
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if term.abs() <= 1e-16 * sum.abs() || !sum.is_finite() {
            break;
        }
    }
    sum
}

/// ln ₂F₁(a, b; a + 1; z) for 0 ≤ z < 1 and b < a + 1, the form Pareto/NBD needs, through Euler's
/// transformation ₂F₁(a, b; c; z) = (1 − z)^(c−a−b) ₂F₁(c − a, c − b; c; z). With c − a = 1 the
/// transformed series has positive terms whose ratio stays below z: no overflow, no cancellation.
pub fn ln_hyp2f1_c_eq_a_plus_1(a: f64, b: f64, z: f64) -> f64 {
    let c = a + 1.0;
    let cb = c - b;
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    for n in 0..1_000_000 {
        let n = f64::from(n);
        term *= (cb + n) / (c + n) * z;
        sum += term;
        if term <= 1e-17 * sum {
            break;
        }
    }
    (1.0 - b) * (1.0 - z).ln() + sum.ln()
}

/// ln(e^x + e^y) without overflow.
pub fn log_add_exp(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY {
        return y;
    }
    if y == f64::NEG_INFINITY {
        return x;
    }
    let m = x.max(y);
    m + ((x - m).exp() + (y - m).exp()).ln()
}

/// ln(e^x − e^y) for x > y.
pub fn log_sub_exp(x: f64, y: f64) -> f64 {
    x + (-(y - x).exp()).ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        // ₂F₁(1, 1; 2; z) = −ln(1 − z)/z
        let z = 0.6;
        assert!((hyp2f1(1.0, 1.0, 2.0, z) - (-(1.0f64 - z).ln() / z)).abs() < 1e-12);
        assert!((ln_hyp2f1_c_eq_a_plus_1(1.0, 1.0, z) - (-(1.0f64 - z).ln() / z).ln()).abs() < 1e-12);
        // ₂F₁(a, b; a+1; z) against the direct series where both converge.
        for (a, b, z) in [(3.5, 2.0, 0.3), (12.0, 4.2, 0.7), (0.8, 1.5, 0.95)] {
            let direct = hyp2f1(a, b, a + 1.0, z).ln();
            let euler = ln_hyp2f1_c_eq_a_plus_1(a, b, z);
            assert!((direct - euler).abs() < 1e-9, "{a} {b} {z}: {direct} vs {euler}");
        }
        assert!((log_add_exp(1.0f64.ln(), 2.0f64.ln()) - 3.0f64.ln()).abs() < 1e-12);
        assert!((log_sub_exp(3.0f64.ln(), 1.0f64.ln()) - 2.0f64.ln()).abs() < 1e-12);
    }
}
