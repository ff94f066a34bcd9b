//! `scudo generate`: a synthetic shop's exports for tests and benchmarks.

use anyhow::Result;

use crate::cli::{Format, GenerateArgs, GlobalArgs};
use crate::error::{Exit, user};
use crate::generate::{Spec, generate};
use crate::output;

pub fn run(args: &GenerateArgs, g: &GlobalArgs) -> Result<Exit> {
    if !(0.0..=1.0).contains(&args.stripe_share) {
        return Err(user(format!("--stripe-share {} must be between 0 and 1", args.stripe_share)));
    }
    let spec = Spec {
        customers: args.customers,
        seed: args.seed,
        years: args.years,
        end: args.end,
        stripe_share: args.stripe_share,
        out: args.out.clone(),
    };
    let bar = if g.quiet || args.customers < 50_000 {
        None
    } else {
        let b = indicatif::ProgressBar::with_draw_target(Some(args.customers), indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("generating [{bar:30}] {pos}/{len} customers ({eta})")
        {
            b.set_style(style.progress_chars("=> "));
        }
        Some(b)
    };
    let started = std::time::Instant::now();
    let truth = generate(&spec, |n| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let text = match args.output.format {
        Format::Json => output::json::to_string(&serde_json::to_value(&truth)?),
        Format::Csv => {
            use crate::store::{Cell, ResultSet};
            let n = |v: u64| Cell::Int(i128::from(v));
            output::csv::render(&ResultSet {
                columns: [
                    "out",
                    "customers",
                    "buyers",
                    "purchases",
                    "cancelled_orders",
                    "shopify_rows",
                    "stripe_payments",
                ]
                .map(String::from)
                .to_vec(),
                rows: vec![vec![
                    Cell::Text(spec.out.display().to_string()),
                    n(truth.customers),
                    n(truth.buyers),
                    n(truth.purchases),
                    n(truth.cancelled_orders),
                    n(truth.shopify_rows),
                    n(truth.stripe_payments),
                ]],
            })
        }
        Format::Table => format!(
            "wrote {}: {} customers ({} buyers), {} purchases, {} cancelled, {} Shopify rows, {} Stripe payments in {:.1}s\n",
            spec.out.display(),
            truth.customers,
            truth.buyers,
            truth.purchases,
            truth.cancelled_orders,
            truth.shopify_rows,
            truth.stripe_payments,
            started.elapsed().as_secs_f64()
        ),
    };
    output::emit(&text)?;
    Ok(Exit::Ok)
}
