//! `scudo customer ID|EMAIL|NAME`: the Customer 360.

use anyhow::Result;

use super::Analysis;
use crate::cli::{CustomerArgs, GlobalArgs};
use crate::error::{Exit, user};
use crate::output;
use crate::store::Param;

/// The one customer `who` names: an exact id, email or name, or the single best match.
pub(crate) fn resolve(a: &Analysis, who: &str) -> Result<String> {
    // An id is that customer (what the advice for an ambiguous name says to pass).
    let exact = a.store.query(
        "SELECT customer_id FROM customers WHERE customer_id = $who",
        &[("who", Param::Text(who.to_string()))],
        "customers",
    )?;
    if let Some(row) = exact.rows.first() {
        return Ok(row[0].to_text());
    }
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
    crate::queries::customer::memoize_profile(&a.store, &a.catalog, &a.ctx, &extra);
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
    if args.insights {
        let mut f = crate::insights::facts::Facts::new(crate::insights::facts::Use::Customer, &a.ctx);
        crate::insights::facts::customer(&a.store, &a.catalog, &a.ctx, &id, &mut f)?;
        if args.analysis.output.format == crate::cli::Format::Table && !args.llm.show_prompt {
            output::emit(&output::customer::render(
                &profile,
                &actions,
                &orders,
                run.as_ref(),
                &a.ctx,
                args.analysis.output.format,
            ))?;
            output::emit("\nInsights\n")?;
        }
        return super::insights::narrate(&a, &f, None, &args.llm, args.analysis.output.format, g);
    }
    let text = output::customer::render(&profile, &actions, &orders, run.as_ref(), &a.ctx, args.analysis.output.format);
    output::emit(&text)?;
    Ok(Exit::Ok)
}
