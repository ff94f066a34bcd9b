//! Special functions the models need: log-gamma and the Gauss hypergeometric function.

/// ln Γ(x) for x > 0.
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// ψ(x) = d/dx ln Γ(x) for x > 0: the recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 10, then the
/// asymptotic series to x⁻¹⁴ (its error is below 1e-16 there).
pub fn digamma(x: f64) -> f64 {
    let mut x = x;
    let mut shift = 0.0;
    while x < 10.0 {
        shift -= 1.0 / x;
        x += 1.0;
    }
    let i2 = 1.0 / (x * x);
    let series = i2
        * (1.0 / 12.0
            - i2 * (1.0 / 120.0
                - i2 * (1.0 / 252.0 - i2 * (1.0 / 240.0 - i2 * (1.0 / 132.0 - i2 * (691.0 / 32760.0 - i2 / 12.0))))));
    shift + x.ln() - 0.5 / x - series
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

/// [`ln_hyp2f1_c_eq_a_plus_1`] and its partial derivatives (∂/∂a, ∂/∂b, ∂/∂z), from the same
/// series: with tₙ = Πₖ₍ₖ<ₙ₎ (c − b + k)/(c + k) · z, ∂ ln tₙ/∂a = Σₖ 1/(c − b + k) − 1/(c + k),
/// ∂ ln tₙ/∂b = −Σₖ 1/(c − b + k) and ∂ ln tₙ/∂z = n/z, so each derivative is one more running sum.
pub fn ln_hyp2f1_c_eq_a_plus_1_grad(a: f64, b: f64, z: f64) -> (f64, [f64; 3]) {
    let c = a + 1.0;
    let cb = c - b;
    let (mut term, mut sum) = (1.0f64, 1.0f64);
    // Running ∂ ln tₙ/∂a, ∂ ln tₙ/∂b; sums of tₙ·(those) and of n·tₙ.
    let (mut da, mut db) = (0.0f64, 0.0f64);
    let (mut sa, mut sb, mut sn) = (0.0f64, 0.0f64, 0.0f64);
    if z > 0.0 {
        for n in 0..1_000_000 {
            let n = f64::from(n);
            let (icb, ic) = (1.0 / (cb + n), 1.0 / (c + n));
            da += icb - ic;
            db -= icb;
            term *= (cb + n) * ic * z;
            sum += term;
            sa += term * da;
            sb += term * db;
            sn += term * (n + 1.0);
            // The derivative sums carry factors growing like n (and ln n): stop on n·tₙ.
            if term * (n + 2.0) <= 1e-17 * sum {
                break;
            }
        }
    }
    let ln_1mz = (1.0 - z).ln();
    let value = (1.0 - b) * ln_1mz + sum.ln();
    let d_z = -(1.0 - b) / (1.0 - z) + if z > 0.0 { sn / (z * sum) } else { (c - b) / c };
    (value, [sa / sum, -ln_1mz + sb / sum, d_z])
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
    use proptest::prelude::*;

    proptest! {
        /// ψ against a central difference of ln Γ.
        #[test]
        fn digamma_is_the_derivative_of_ln_gamma(x in 0.05f64..200.0) {
            let h = 1e-5 * x.max(1.0);
            let numeric = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            prop_assert!((digamma(x) - numeric).abs() <= 1e-6 * (1.0 + digamma(x).abs()), "{} vs {}", digamma(x), numeric);
        }

        /// The series' derivatives against central differences of its value.
        #[test]
        fn hyp2f1_gradient_matches_finite_differences(a in 0.2f64..60.0, b in 0.2f64..30.0, z in 0.0f64..0.98) {
            prop_assume!(b < a + 1.0);
            let (v, g) = ln_hyp2f1_c_eq_a_plus_1_grad(a, b, z);
            prop_assert!((v - ln_hyp2f1_c_eq_a_plus_1(a, b, z)).abs() <= 1e-12 * (1.0 + v.abs()));
            let f = |a: f64, b: f64, z: f64| ln_hyp2f1_c_eq_a_plus_1(a, b, z);
            let (ha, hb) = (1e-6 * a, 1e-6 * b);
            let hz = 1e-6 * z.max(1e-3).min(1.0 - z);
            let numeric = [
                (f(a + ha, b, z) - f(a - ha, b, z)) / (2.0 * ha),
                (f(a, b + hb, z) - f(a, b - hb, z)) / (2.0 * hb),
                if z > hz { (f(a, b, z + hz) - f(a, b, z - hz)) / (2.0 * hz) } else { (f(a, b, z + hz) - f(a, b, z)) / hz },
            ];
            for i in 0..3 {
                prop_assert!((g[i] - numeric[i]).abs() <= 1e-5 * (1.0 + g[i].abs()), "∂{}: {} vs {}", i, g[i], numeric[i]);
            }
        }
    }

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
        // ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2, ψ(x + 1) = ψ(x) + 1/x.
        let euler = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + euler).abs() < 1e-13);
        assert!((digamma(0.5) + euler + 2.0 * 2f64.ln()).abs() < 1e-13);
        assert!((digamma(37.3) - digamma(36.3) - 1.0 / 36.3).abs() < 1e-13);
        assert!((log_add_exp(1.0f64.ln(), 2.0f64.ln()) - 3.0f64.ln()).abs() < 1e-12);
        assert!((log_sub_exp(3.0f64.ln(), 1.0f64.ln()) - 2.0f64.ln()).abs() < 1e-12);
    }
}
