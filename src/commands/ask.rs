//! `scudo ask "QUESTION"`: the plan's demo questions go to the built-in uses (overview, at risk,
//! a customer, segments, what to do); any other question becomes one read-only SQL query written
//! by the model, validated against the known tables, shown, run with a row limit and explained.

use anyhow::Result;

use super::Analysis;
use crate::cli::{AskArgs, Format, GlobalArgs};
use crate::error::{Exit, user};
use crate::insights::facts::{self, Answer, Facts, Use};
use crate::insights::route::{Route, route};
use crate::llm::{self, client::Message, sql};
use crate::output;
use crate::store::Param;

pub fn run(args: &AskArgs, g: &GlobalArgs) -> Result<Exit> {
    let question = args.question.trim();
    if question.is_empty() {
        return Err(user("the question is empty: e.g. scudo ask \"which customers are at risk?\""));
    }
    let a = Analysis::open(g, args.as_of.as_of)?;
    let perf = a.run("segments.performance", &[])?;
    let names: Vec<String> =
        perf.col("segment").map(|i| perf.rows.iter().map(|r| r[i].to_text()).collect()).unwrap_or_default();
    let routed = route(question, &names);
    let mut f = match &routed {
        Route::Overview => super::insights::shop(&a, 30, None)?,
        Route::AtRisk | Route::Actions => {
            let mut f = Facts::new(if routed == Route::AtRisk { Use::AtRisk } else { Use::Actions }, &a.ctx);
            facts::attention(&a.store, &a.catalog, &a.ctx, &mut f)?;
            f
        }
        Route::Customer(who) => {
            let id = super::customer::resolve(&a, who)?;
            let mut f = Facts::new(Use::Customer, &a.ctx);
            if !facts::customer(&a.store, &a.catalog, &a.ctx, &id, &mut f)? {
                return Err(user(format!("customer {id} did not exist yet on {}", a.ctx.as_of)));
            }
            f
        }
        Route::Segments(one) => {
            let mut f = Facts::new(Use::Segments, &a.ctx);
            facts::segments(&a.store, &a.catalog, &a.ctx, one.as_deref(), &mut f)?;
            f
        }
        Route::Free => return free(a, question, args, g),
    };
    if args.sql_only {
        return Err(user(format!(
            "`{question}` is answered by scudo's built-in queries, not by SQL from the model; drop --sql-only"
        )));
    }
    f.question = Some(question.to_string());
    super::insights::narrate(&a, &f, None, &args.llm, args.output.format, g)
}

/// The tables a free question may read (the documented data model) with their columns.
const TABLES: &[&str] = &[
    "customers",
    "customer_sources",
    "orders",
    "order_items",
    "products",
    "segments",
    "segment_members",
    "customer_summary",
    "score_runs",
    "customer_scores",
    "exchange_rates",
];

fn free(a: Analysis, question: &str, args: &AskArgs, g: &GlobalArgs) -> Result<Exit> {
    let Some(ep) = (if args.llm.no_llm { None } else { llm::endpoint(&a.settings.llm)? }) else {
        return Err(user(format!(
            "`{question}` is not one of the questions scudo answers by itself (an overview, who is at risk, \
             `analyse NAME`, segments, what to do about at-risk customers); other questions need a model to \
             write the SQL: set [llm] in scudo.toml, or write it yourself with `scudo query run --sql`"
        )));
    };
    let schema = schema(&a)?;
    let dir = a.root.join("report-templates").join("llm");
    let as_of = a.ctx.as_of.to_string();
    let vars = [
        ("schema", schema.as_str()),
        ("question", question),
        ("as_of", as_of.as_str()),
        ("currency", a.ctx.currency.as_str()),
    ];
    let prompt = llm::prompts::render("sql", Some(&dir), &vars)?;
    let msgs = vec![Message { role: "user", content: prompt }];
    if args.llm.show_prompt {
        output::emit(&format!("{}\n", serde_json::to_string_pretty(&llm::client::body(&ep, &msgs, true))?))?;
        return Ok(Exit::Ok);
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let answer = rt.block_on(llm::complete(&ep, &msgs)).map_err(|e| user(e.to_string()))?;
    let query = sql::extract(&answer);
    let tables: Vec<String> = TABLES.iter().map(|t| t.to_string()).collect();
    let functions: Vec<String> = a.catalog.files.iter().filter_map(|q| q.defines.clone()).collect();
    if let Err(why) = sql::validate(&query, &tables, &functions) {
        return Err(user(format!("the model's query was refused: {why}\n{query}")));
    }
    if args.output.format == Format::Table || args.sql_only {
        output::emit(&format!("{query}\n"))?;
    }
    if args.sql_only {
        return Ok(Exit::Ok);
    }
    // Run it where it can neither write nor read files, with a row limit.
    drop(a);
    let ws = crate::config::Workspace::discover(g.workspace.as_deref())?;
    let store = crate::store::Store::open_sandboxed(&ws.database_path(), &ws.settings.reporting()?)?;
    let catalog = crate::queries::Catalog::load(Some(&ws.queries_dir()))?;
    let as_of = super::as_of(args.as_of.as_of, &ws)?;
    let ctx = crate::queries::QueryContext::new(&store, as_of, ws.settings.health.clone())?;
    catalog.prepare(&store, &query)?;
    let limited = format!("SELECT * FROM (\n{query}\n) AS _answer LIMIT {}", args.limit + 1);
    let params: Vec<(&str, Param)> = ctx.params();
    let mut rs = store.query(&limited, &params, "the model's query").map_err(|e| {
        user(format!(
            "the model's query does not fit the data: {}",
            format!("{e:#}").lines().next().unwrap_or("").trim()
        ))
    })?;
    let truncated = rs.rows.len() as i64 > args.limit;
    rs.rows.truncate(args.limit as usize);
    if args.output.format == Format::Table {
        output::emit(&output::analytics::results(&rs, &ctx, Format::Table))?;
        output::emit("\n")?;
    }
    let mut f = Facts::new(Use::Answer, &ctx);
    f.question = Some(question.to_string());
    f.answer = Some(Answer { sql: query.clone(), columns: rs.columns.clone(), rows: facts::rows(&rs, &[]), truncated });
    let a = Analysis { settings: ws.settings.clone(), store, catalog, ctx, root: ws.root.clone() };
    super::insights::narrate(&a, &f, Some(&query), &args.llm, args.output.format, g)
}

/// The tables and columns a free question may use, one line each.
fn schema(a: &Analysis) -> Result<String> {
    let rs = a.store.query(
        "SELECT table_name, string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) \
         FROM information_schema.columns WHERE table_schema = 'main' GROUP BY table_name ORDER BY table_name",
        &[],
        "the data model",
    )?;
    Ok(rs
        .rows
        .iter()
        .filter(|r| TABLES.contains(&r[0].to_text().as_str()))
        .map(|r| format!("{}({})", r[0].to_text(), r[1].to_text()))
        .collect::<Vec<_>>()
        .join("\n"))
}
