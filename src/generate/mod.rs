//! A synthetic shop for tests and benchmarks: Shopify orders and customers exports and Stripe
//! payments in their real shapes, written as a stream (memory does not grow with size).
//!
//! Customers arrive uniformly over the years and buy following a BG/NBD process (Fader, Hardie &
//! Lee 2005) with known parameters: each has a purchase rate λ ~ Gamma(r, α) per week and, after
//! every purchase, drops out with probability p ~ Beta(a, b). Order values follow the Gamma-Gamma
//! model: a customer's ν ~ Gamma(q, γ), each order ~ Gamma(p, ν), so spend is heavy-tailed. The
//! parameters and the true counts and totals go to `truth.json`, so models and imports can be
//! checked against them. Cancelled orders and failed Stripe attempts are extra rows (they are not
//! purchases); refunds are partial refunds of purchases. Same seed, same files.

mod shop;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Beta, Distribution, Exp, Gamma};
use serde::Serialize;

use crate::ingest::values::Money;
use shop::{ORDER_HEADER, Shop};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub customers: u64,
    pub seed: u64,
    pub years: u32,
    /// The last day of the generated history.
    pub end: NaiveDate,
    /// Share of customers who also pay through Stripe.
    pub stripe_share: f64,
    pub out: PathBuf,
}

/// The true parameters of the purchase and spend processes.
#[derive(Debug, Clone, Serialize)]
pub struct Params {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

/// About ten purchases per customer over three years (calibrated by simulation).
pub const DEFAULT_PARAMS: Params = Params { r: 1.2, alpha: 6.0, a: 0.5, b: 5.0, p: 6.0, q: 4.0, gamma: 30.0 };

/// What was written, for `truth.json` and the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Truth {
    pub seed: u64,
    pub start: String,
    pub end: String,
    pub unit: String,
    pub params: Option<Params>,
    pub customers: u64,
    pub buyers: u64,
    /// Purchases wherever recorded (Shopify or Stripe); they follow the BG/NBD process.
    pub purchases: u64,
    pub repeat_purchases: u64,
    pub shopify_purchases: u64,
    pub cancelled_orders: u64,
    pub shopify_rows: u64,
    /// Stripe rows, failed attempts included.
    pub stripe_payments: u64,
    pub stripe_paid_cents: i64,
    pub gross_cents: i64,
    pub refunded_cents: i64,
    pub files: Vec<String>,
}

struct Writers {
    orders: csv::Writer<BufWriter<File>>,
    customers: csv::Writer<BufWriter<File>>,
    stripe: csv::Writer<BufWriter<File>>,
}

fn writer(path: &Path) -> Result<csv::Writer<BufWriter<File>>> {
    let f = File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(csv::WriterBuilder::new().from_writer(BufWriter::with_capacity(1 << 20, f)))
}

/// Writes the shop into `spec.out`; `progress` is called with the customers done so far.
pub fn generate(spec: &Spec, mut progress: impl FnMut(u64)) -> Result<Truth> {
    std::fs::create_dir_all(&spec.out).with_context(|| format!("cannot create {}", spec.out.display()))?;
    let params = DEFAULT_PARAMS;
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let start = spec.end - Duration::days(i64::from(spec.years) * 365);
    let horizon_weeks = (spec.end - start).num_days() as f64 / 7.0;
    let mut w = Writers {
        orders: writer(&spec.out.join("shopify_orders.csv"))?,
        customers: writer(&spec.out.join("shopify_customers.csv"))?,
        stripe: writer(&spec.out.join("stripe_payments.csv"))?,
    };
    w.orders.write_record(ORDER_HEADER)?;
    w.customers.write_record(shop::CUSTOMER_HEADER)?;
    w.stripe.write_record(shop::STRIPE_HEADER)?;
    let rate = Gamma::new(params.r, 1.0 / params.alpha).expect("valid gamma");
    let dropout = Beta::new(params.a, params.b).expect("valid beta");
    let nu = Gamma::new(params.q, 1.0 / params.gamma).expect("valid gamma");
    let mut truth = Truth {
        seed: spec.seed,
        start: start.to_string(),
        end: spec.end.to_string(),
        unit: "week".into(),
        params: Some(params.clone()),
        ..Truth::default()
    };
    let mut shop = Shop::new(&mut rng);
    let start_ts = start.and_hms_opt(0, 0, 0).expect("midnight");
    for n in 0..spec.customers {
        let person = shop.person(n, &mut rng);
        // 5% of the customer list never bought (newsletter sign-ups).
        let prospect = rng.random_bool(0.05);
        let mut purchases: Vec<(NaiveDateTime, i64)> = Vec::new();
        if !prospect {
            let birth = rng.random_range(0.0..horizon_weeks);
            let lambda: f64 = rate.sample(&mut rng).max(1e-9);
            let p_drop: f64 = dropout.sample(&mut rng);
            let spend = Gamma::new(params.p, 1.0 / nu.sample(&mut rng).max(1e-9)).expect("valid gamma");
            let between = Exp::new(lambda).expect("positive rate");
            // BG/NBD: alive after the first purchase; after each repeat purchase, drops out with p.
            let mut t = birth;
            loop {
                let value: f64 = spend.sample(&mut rng);
                let cents = ((value * 100.0).round() as i64).clamp(100, 99_999_999);
                let at = start_ts + Duration::seconds((t * 7.0 * 86400.0) as i64);
                purchases.push((at, cents));
                if purchases.len() > 1 && rng.random_bool(p_drop) {
                    break;
                }
                t += between.sample(&mut rng);
                if t >= horizon_weeks {
                    break;
                }
            }
        }
        let mut spent = 0i64;
        // A share of buyers also pays through Stripe (a booking site, say): some of their repeat
        // purchases are recorded there instead of in Shopify, so every purchase, wherever it is
        // recorded, follows the same process.
        let stripe_payer = !purchases.is_empty() && rng.random_bool(spec.stripe_share);
        for (i, (at, cents)) in purchases.iter().enumerate() {
            if stripe_payer && i > 0 && rng.random_bool(0.3) {
                truth.stripe_payments += shop.stripe(&person, *at, *cents, &mut rng, &mut w.stripe)?;
                truth.stripe_paid_cents += cents;
                spent += cents;
                continue;
            }
            let out = shop.order(&person, *at, *cents, &mut rng, &mut w.orders)?;
            truth.shopify_rows += out.rows;
            truth.shopify_purchases += 1;
            truth.gross_cents += cents;
            truth.refunded_cents += out.refunded;
            spent += cents - out.refunded;
            // An occasional cancelled order on top: not a purchase.
            if rng.random_bool(0.02) {
                let at = *at + Duration::hours(rng.random_range(1..48));
                truth.shopify_rows += shop.cancelled(&person, at, &mut rng, &mut w.orders)?;
                truth.cancelled_orders += 1;
            }
        }
        if !purchases.is_empty() {
            truth.buyers += 1;
            truth.purchases += purchases.len() as u64;
            truth.repeat_purchases += purchases.len() as u64 - 1;
        }
        shop.customer_row(&person, Money::from_cents(spent), purchases.len(), &mut rng, &mut w.customers)?;
        truth.customers += 1;
        if n % 10_000 == 0 {
            progress(n);
        }
    }
    for wr in [&mut w.orders, &mut w.customers, &mut w.stripe] {
        wr.flush()?;
    }
    truth.files = ["shopify_customers.csv", "shopify_orders.csv", "stripe_payments.csv"].map(String::from).to_vec();
    let mut f = File::create(spec.out.join("truth.json"))?;
    f.write_all(serde_json::to_string_pretty(&truth)?.as_bytes())?;
    f.write_all(b"\n")?;
    Ok(truth)
}
