//! `scudo customer ID|EMAIL|NAME`: the Customer 360.

use anyhow::Result;

use super::Analysis;
use crate::cli::{CustomerArgs, GlobalArgs};
use crate::error::{Exit, user};
use crate::output;
use crate::store::Param;

/// The one customer `who` names: an exact id, email or name, or the single best match.
pub(crate) fn resolve(a: &Analysis, who: &str) -> Result<String> {
    let rs = a.search(who, 5)?;
    let q = "customers.search";
    let (id, name, score) = (rs.require("customer_id", q)?, rs.require("name", q)?, rs.require("score", q)?);
    let best = rs
        .rows
        .first()
        .ok_or_else(|| user(format!("no customer matches `{who}`; try `scudo customers search {who}`")))?;
    let top = best[score].as_f64().unwrap_or(0.0);
    let tied: Vec<&Vec<crate::store::Cell>> =
        rs.rows.iter().filter(|r| r[score].as_f64().unwrap_or(0.0) >= top - 1e-9).collect();
    if tied.len() == 1 && (top >= 90.0 || rs.rows.len() == 1) {
        return Ok(best[id].to_text());
    }
    let options: Vec<String> = rs.rows.iter().map(|r| format!("{} ({})", r[name].to_text(), r[id].to_text())).collect();
    Err(user(format!("`{who}` could be several customers: {}; pass the id", options.join(", "))))
}

const PROFILE_CALL: &str = "customer_profile($customer_id, $as_of, $currency, $at_risk_days, $dormant_days, \
                            $lost_days, $new_days, $vip_min_revenue, at_risk_gap_factor := $at_risk_gap_factor)";

/// The 360 and the actions both read `customer_profile(...)`: compute this customer's profile
/// once into a temp table and point the macro at it for the rest of the command (half the time
/// of a 360 at a million customers). Best effort: a workspace whose profile.sql has another
/// signature simply computes it twice.
fn memoize_profile(a: &Analysis, extra: &[(&str, Param)]) {
    let cache = format!("CREATE OR REPLACE TEMP TABLE _profile AS SELECT * FROM {PROFILE_CALL}");
    let mut params = a.ctx.params();
    params.extend(extra.iter().cloned());
    let cached = a.catalog.prepare(&a.store, &cache).and_then(|_| a.store.execute(&cache, &params, "the Customer 360"));
    if cached.is_ok() {
        let _ = a.store.execute(
            "CREATE OR REPLACE TEMP MACRO customer_profile(id, as_of, currency, at_risk_days, dormant_days, lost_days, \
             new_days, vip_min_revenue, at_risk_gap_factor := 1.2) AS TABLE SELECT * FROM temp._profile WHERE customer_id = id",
            &[],
            "the Customer 360",
        );
    }
}

/// `scudo customer WHO note|tag …`: notes and tags, logged in the activity log.
fn annotate(args: &CustomerArgs, g: &GlobalArgs) -> Result<Exit> {
    let a = Analysis::open_for_writing(g, args.analysis.as_of.as_of)?;
    let id = resolve(&a, &args.who)?;
    let actor = crate::store::access::cli_actor();
    let words: Vec<&str> = args.change.iter().map(String::as_str).collect();
    let note_id = |s: &str| s.parse::<i64>().map_err(|_| user(format!("`{s}` is not a note id (a number)")));
    let (action, detail) = match words.as_slice() {
        ["note", "edit", n, text] => {
            if !a.store.edit_note(note_id(n)?, text)? {
                return Err(user(format!("no note {n}")));
            }
            ("note_edit", n.to_string())
        }
        ["note", "remove", n] => {
            if !a.store.remove_note(note_id(n)?)? {
                return Err(user(format!("no note {n}")));
            }
            ("note_remove", n.to_string())
        }
        ["note", text] => {
            let n = a.store.add_note(&id, text, &actor)?;
            eprintln!("note {n} added to {id}");
            ("note_add", n.to_string())
        }
        ["tag", "add", tag] => {
            a.store.add_tag(&id, tag, &actor)?;
            ("tag_add", tag.to_string())
        }
        ["tag", "remove", tag] => {
            if !a.store.remove_tag(&id, tag)? {
                return Err(user(format!("{id} has no tag `{tag}`")));
            }
            ("tag_remove", tag.to_string())
        }
        _ => {
            return Err(user(
                "expected `note \"TEXT\"`, `note edit ID \"TEXT\"`, `note remove ID`, `tag add TAG` or `tag remove TAG`"
                    .to_string(),
            ));
        }
    };
    crate::store::access::audit(a.store.path(), &actor, action, &id, &detail)?;
    a.store.announce(serde_json::json!({"source": "annotation", "what": action, "customer_id": id}));
    Ok(Exit::Ok)
}

pub fn run(args: &CustomerArgs, g: &GlobalArgs) -> Result<Exit> {
    if !args.change.is_empty() {
        return annotate(args, g);
    }
    let a = Analysis::open(g, args.analysis.as_of.as_of)?;
    let id = resolve(&a, &args.who)?;
    let extra = [("customer_id", Param::Text(id.clone()))];
    memoize_profile(&a, &extra);
    let profile = a.run("customers.360", &extra)?;
    if profile.rows.is_empty() {
        return Err(user(format!("customer {id} did not exist yet on {}", a.ctx.as_of)));
    }
    let actions = a.run("customers.actions", &extra)?;
    let orders = a.run("customers.orders", &extra)?;
    // The customer's scores come from the latest run that scored them: in practice the latest run.
    let scored_by = |c: &str| profile.col(c).map(|i| profile.rows[0][i].clone()).unwrap_or(crate::store::Cell::Null);
    let run = crate::queries::scores::latest_run(&a.store, &a.catalog, &a.ctx)?
        .filter(|r| scored_by("score_run_id").as_i64() == Some(r.run_id));
    if let (Some(id), Some(age)) = (scored_by("score_run_id").as_i64(), scored_by("score_age_days").as_i64())
        && let Some(w) = output::scores::stale_warning(id, &scored_by("scored_as_of").to_text(), age, a.ctx.as_of)
    {
        output::scores::warn(&w);
    }
    let text = output::customer::render(&profile, &actions, &orders, run.as_ref(), &a.ctx, args.analysis.output.format);
    output::emit(&text)?;
    Ok(Exit::Ok)
}
