//! The Customer 360's shared steps (`scudo customer` and `scudo serve`'s page).

use super::{Catalog, QueryContext};
use crate::store::{Param, Store};

const PROFILE_CALL: &str = "customer_profile($customer_id, $as_of, $currency, $at_risk_days, $dormant_days, \
                            $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor)";

/// One customer's RFM from the latest scoring run *for this date that saw today's data* (its
/// data_version is the current one): the run ranked every buyer on the same data, so its scores
/// are the ones `customer_rfm` would count again over every buyer.
const RFM_FROM_RUN: &str = "CREATE OR REPLACE TEMP MACRO customer_rfm(id, day, currency) AS TABLE
    SELECT customer_id, recency_score, frequency_score, monetary_score, rfm, rfm_group
    FROM customer_scores
    WHERE customer_id = id AND recency_score IS NOT NULL AND run_id = (
        SELECT run_id FROM score_runs
        WHERE score_runs.as_of = CAST(day AS DATE) AND data_version = (SELECT max(version) FROM data_version)
        ORDER BY run_id DESC LIMIT 1)";

/// Whether a scoring run for `as_of` saw the current data.
fn current_run(store: &Store, ctx: &QueryContext) -> bool {
    store
        .query(
            "SELECT 1 FROM score_runs WHERE as_of = CAST($as_of AS DATE)
               AND data_version = (SELECT max(version) FROM data_version) LIMIT 1",
            &[("as_of", Param::Text(ctx.as_of.to_string()))],
            "the Customer 360",
        )
        .is_ok_and(|rs| !rs.rows.is_empty())
}

/// The 360 and its actions both read `customer_profile(...)`: computes this customer's row once
/// into a temp table and points the macro at it. With a current scoring run for the date, the
/// RFM scores are read from it instead of counting every buyer (docs/data-model.md, "Maintained
/// views"). Best effort: a workspace whose profile.sql has another signature computes it twice.
/// True when the macro was replaced.
pub fn memoize_profile(store: &Store, catalog: &Catalog, ctx: &QueryContext, extra: &[(&str, Param)]) -> bool {
    let cache = format!("CREATE OR REPLACE TEMP TABLE _profile AS SELECT * FROM {PROFILE_CALL}");
    let mut params = ctx.params();
    params.extend(extra.iter().cloned());
    if catalog.prepare(store, &cache).is_err() {
        return false;
    }
    // Only over the built-in RFM: a workspace's own customer_rfm.sql is what it says.
    let builtin_rfm = catalog.files.iter().any(|f| f.id == "base.customer_rfm" && f.origin == super::Origin::Builtin);
    // On an error the macro is left as it was: RFM is counted over every buyer.
    if builtin_rfm && current_run(store, ctx) {
        let _ = store.execute(RFM_FROM_RUN, &[], "RFM from the scoring run for this date");
    }
    store.execute(&cache, &params, "the Customer 360").is_ok()
        && store
            .execute(
                "CREATE OR REPLACE TEMP MACRO customer_profile(id, as_of, currency, at_risk_days, dormant_days, \
                 lost_days, new_days, vip_min_revenue, at_risk_gap_factor := 1.2) AS TABLE \
                 SELECT * FROM temp._profile WHERE customer_id = id",
                &[],
                "the Customer 360",
            )
            .is_ok()
}
