//! Stage 1: the command line. clap types live here and nowhere else; `///` comments are the help.

use std::ffi::OsString;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Exit codes:
  0    ok
  1    ran fine, and a condition holds (alerts listed, rows rejected, files not imported)
  2    usage or data error: nothing was changed
  3    `scudo check` only: a check could not run
  130  interrupted: the step under way was rolled back

Start with `scudo demo`, or `scudo init` then `scudo ingest EXPORTS...` then `scudo dashboard`.";

const CHECK_AFTER_HELP: &str = "\
Checks are SQL files in queries/checks/ (built-in, and the workspace's own, which add to and
override them by name); each returns the rows that fail. Its header says how many are too many:
  -- severity: error        (or warn: a failure is at most a warning)
  -- warn_if: > 0           (the default)
  -- error_if: > 1%         (a percentage needs `-- denominator: orders`)
They run read-only; each run is recorded (`scudo check history`), the dashboard shows the latest.

Exit codes:
  0  every check passed
  1  warnings only (2 with --fail-on warn)
  2  a check failed at error level
  3  a check could not run (bad header, SQL error, missing table, a statement that writes);
     the others still ran and are reported

Examples:
  scudo check
  scudo check --select 'orders_*' --junit checks.xml
  scudo check --store-failures && scudo check show orders_amounts";

const INGEST_AFTER_HELP: &str = "\
Several files (a directory, a glob): every usable file is imported, each in its own transaction,
and each is reported; a file that cannot be imported (unreadable, unknown kind, every row
rejected) is listed as failed and changes nothing. Exit 0: all imported cleanly · 1: rows were
rejected, or some files failed and the others were imported · 2: no file could be imported,
nothing was changed · 130: interrupted, the file under way was rolled back.";

const REPORT_AFTER_HELP: &str = "\
Templates: weekly-digest, segment-report (--param segment=NAME), customer (--param customer=ID|EMAIL|NAME),
at-risk, models; a workspace's report-templates/NAME.hbs adds or overrides one (docs/reports.md).
Examples:
  scudo report weekly-digest --out weekly.html
  scudo report segment-report --param segment=VIP_HIGH_VALUE --out vip.html
  scudo report at-risk --format json";

const DIGEST_AFTER_HELP: &str = "\
SMTP settings: [smtp] in scudo.toml or SCUDO_SMTP_* variables; the password only in SCUDO_SMTP_PASSWORD.
Each (template, as-of date, recipient) is sent once: running the same line again sends nothing
unless --resend; a message that failed is retried by the next run. Exit 0: every message sent (or
already sent) · 2: a message could not be sent (it is kept and retried next time), or an error.
Examples:
  scudo digest --to owner@example.com
  scudo digest weekly-digest --to owner@example.com --dry-run --save digest.eml";

/// Customer intelligence on your shop's own data: import Shopify, Stripe, HubSpot, Salesforce and
/// CSV exports into a local DuckDB workspace, then see who your customers are and who you are losing.
#[derive(Debug, Parser)]
#[command(name = "scudo", version, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Workspace directory; default: the nearest directory upward holding scudo.toml
    #[arg(long, short = 'w', global = true, env = "SCUDO_WORKSPACE", value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// No progress bars or notes on stderr (errors are still printed)
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Print each SQL statement's wall time on stderr (for profiling a workspace or a query file)
    #[arg(long, global = true)]
    pub timings: bool,
    /// When another scudo is writing to the workspace, wait up to this many seconds for it
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 10)]
    pub wait: u64,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a workspace: scudo.toml, queries/, report-templates/ and the database
    Init(InitArgs),
    /// Build the bundled demo shop in a workspace and print its dashboard
    Demo(DemoArgs),
    /// Print the customer dashboard: KPIs, lifecycle health, alerts and segments
    Dashboard(DashboardArgs),
    /// Import exports (files, directories or globs; .gz is read directly)
    #[command(after_help = INGEST_AFTER_HELP)]
    Ingest(IngestArgs),
    /// Headline KPIs for a period, next to the previous period, with the change
    Kpis(KpisArgs),
    /// Lifecycle stages with customers and revenue per stage
    Health(AnalysisArgs),
    /// Segments: performance, one segment's customers, or two side by side
    Segments(SegmentsArgs),
    /// Customers needing attention, each with the reason
    Alerts(AlertsArgs),
    /// Monthly acquisition cohorts: retention and cumulative revenue per customer
    Cohorts(AnalysisArgs),
    /// Subscription revenue per month: MRR, new, expansion, contraction, churned and reactivated
    /// MRR, logo churn and net revenue retention (from Stripe's subscriptions export)
    Mrr(MrrArgs),
    /// Find customers by name, email, phone or id (prefix and fuzzy)
    Customers(CustomersArgs),
    /// Customer 360: profile, history, behaviour, scores and next best actions
    Customer(CustomerArgs),
    /// The shop's narrative: what changed, who needs attention and why, what to do (scudo's own,
    /// or a language model's from [llm] with every number checked)
    Insights(InsightsArgs),
    /// Ask in plain language: "which customers are at risk?", "analyse Mike Johnson", "what should I
    /// do about at-risk customers?"; other questions become one read-only SQL query (needs [llm])
    Ask(AskArgs),
    /// Score every customer (stage, segments, RFM, churn, CLV) and store the scores in the history;
    /// or score a Spark job's per-customer statistics into Parquet (--from-parquet, no workspace)
    #[command(after_help = SCORE_AFTER_HELP)]
    Score(ScoreArgs),
    /// Customers by churn risk, from the latest scoring run
    Churn(ListArgs),
    /// Customers by forecast lifetime value, from the latest scoring run
    Clv(ListArgs),
    /// Fit the customer models, or backtest them on a holdout period
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Run the data checks (built-in and the workspace's): a table, JUnit or JSON, and an exit code for CI
    #[command(after_help = CHECK_AFTER_HELP)]
    Check(CheckArgs),
    /// List, show, run and create the SQL queries (built-in and the workspace's own)
    #[command(subcommand)]
    Query(QueryCommand),
    /// A query in another engine's SQL (Spark): table macros inlined, parameters bound as literals
    #[command(after_help = SQL_AFTER_HELP)]
    Sql(SqlArgs),
    /// Exchange rates: import the ECB's reference rates or your own, and see what is known
    #[command(subcommand)]
    Rates(RatesCommand),
    /// Export customers for a CRM (HubSpot, Salesforce) or a spreadsheet
    #[command(subcommand)]
    Export(ExportCommand),
    /// Render a report template as one self-contained HTML file (or its data as JSON)
    #[command(after_help = REPORT_AFTER_HELP)]
    Report(ReportArgs),
    /// Email a report (default: the weekly digest) to ADDR...; made for cron: nothing on stdout unless asked
    #[command(after_help = DIGEST_AFTER_HELP)]
    Digest(DigestArgs),
    /// Write a synthetic shop's exports (Shopify, Stripe) with known model parameters, for tests and benchmarks
    Generate(GenerateArgs),
    /// Serve the live dashboard, its JSON API and live events (127.0.0.1 only by default)
    Serve(ServeArgs),
    /// Users of `scudo serve` and their roles (admin, analyst, viewer)
    #[command(subcommand)]
    Users(UsersCommand),
    /// API tokens for `scudo serve` (stored hashed; shown once)
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// The activity log: sign-ins, customer views, exports and every change (who, when, what)
    Audit(AuditArgs),
    /// Privacy requests: everything held about a person (export), or erase them for good
    #[command(subcommand, after_help = PRIVACY_AFTER_HELP)]
    Privacy(PrivacyCommand),
    /// Write a consistent snapshot of the workspace to a new folder, with a manifest of checksums and row counts
    Backup(BackupArgs),
    /// Rebuild a workspace from a backup folder, after verifying every file and row count
    Restore(RestoreArgs),
    /// The workspace's health: schema, size, free disk, ages, checks, row counts, orphans, and what to do
    Doctor(DoctorArgs),
    /// Automations: run one now (or see who it would reach), and their run history
    #[command(subcommand, after_help = AUTOMATION_AFTER_HELP)]
    Automation(AutomationCommand),
    /// The scheduler: every automation's next runs, or run the scheduler (without `scudo serve`)
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Action plugins: the built-in actions and the `scudo-action-*` programs on PATH
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// Put addresses on the suppression list (no marketing email ever), take them off, or list it
    Unsubscribe(UnsubscribeArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// `scudo NAME ARGS…` runs `scudo-NAME ARGS…` from PATH when NAME is not a command of its own
    #[command(external_subcommand)]
    External(Vec<OsString>),
}

const SCORE_AFTER_HELP: &str = "\
--from-parquet reads what examples/spark/job.py writes (docs/scale-out.md): models.grouped (BG/NBD),
models.summary (Gamma-Gamma) and models.customers (statistics and churn features, streamed), with
results.json for the date, the time unit and the [models] settings of the exported workspace. It
writes OUT/customer_scores/part-0.parquet (the model columns of customer_scores) and OUT/models.json.
Examples:
  scudo score --as-of 2024-10-01
  scudo score --from-parquet RESULTS --out SCORES --format json";

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// A Spark job's results folder: fit and score its statistics, no workspace needed
    #[arg(long, value_name = "RESULTS", requires = "out", conflicts_with = "as_of")]
    pub from_parquet: Option<PathBuf>,
    /// Where --from-parquet writes the scores (customer_scores/part-0.parquet, models.json)
    #[arg(long, value_name = "DIR", requires = "from_parquet")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

const SQL_AFTER_HELP: &str = "\
The tables are read by their own names (customers, orders, order_items, customer_summary, …), as
`scudo export parquet DIR` writes them. Queries that have no faithful Spark spelling (fuzzy search)
are listed by --all with the reason, never dropped silently. docs/queries.md lists the rewrites.
Examples:
  scudo sql --dialect spark health.distribution --as-of 2024-10-01
  scudo sql --dialect spark models.summary --param until=2024-10-01 --param unit_days=7
  scudo sql --dialect spark --all --out spark-sql/";

/// Engines `scudo sql` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dialect {
    /// Apache Spark SQL (4.x)
    Spark,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// Query id, e.g. health.distribution
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub name: Option<String>,
    /// The engine to write SQL for
    #[arg(long, value_enum)]
    pub dialect: Dialect,
    /// Every query (built-in and the workspace's), one file each in --out, with queries.json
    /// (parameters bound, queries skipped and why)
    #[arg(long, requires = "out")]
    pub all: bool,
    /// The folder --all writes to
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// A parameter value, NAME=VALUE (repeatable); overrides the standard ones
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    #[command(flatten)]
    pub as_of: AsOfArgs,
}

const AUTOMATION_AFTER_HELP: &str = "\
Automations are [[automation]] tables in scudo.toml or automations/*.toml (docs/automations.md).
Each (automation, customer, period) is sent once: running it again in the same period sends nothing.
Examples:
  scudo automation run at-risk --dry-run
  scudo automation run at-risk
  scudo automation history --limit 10";

/// `scudo automation …`
#[derive(Debug, Subcommand)]
pub enum AutomationCommand {
    /// Run one automation now, for the period now (or --as-of's) falls in; enabled or not
    Run(AutomationRunArgs),
    /// The runs: when, why, outcome, counts, duration, errors (newest first)
    History {
        /// Only this automation's runs
        name: Option<String>,
        /// How many runs; 0 lists every one
        #[arg(long, short = 'n', default_value_t = 20)]
        limit: usize,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// (for the scheduler) Send what the outbox holds, resume interrupted runs, catch up missed ones
    #[command(hide = true)]
    Resume,
    /// (for the scheduler) Run the automations whose `after` or `when` trigger holds
    #[command(hide = true)]
    Poll,
}

/// `scudo automation run`
#[derive(Debug, Args)]
pub struct AutomationRunArgs {
    /// The automation's name (`scudo schedule list` shows them)
    pub name: String,
    /// Show who would receive what; nothing is recorded or sent
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub as_of: AsOfArgs,
    /// Run for the period of this instant (RFC 3339), as the scheduler does
    #[arg(long, value_name = "INSTANT", conflicts_with = "as_of")]
    pub at: Option<String>,
    /// What started the run (recorded in the history)
    #[arg(long, hide = true, default_value = "manual")]
    pub trigger: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `scudo schedule …`
#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Every automation with its next run times, in its own time zone and in UTC
    List {
        /// Count from this instant (RFC 3339, e.g. 2024-10-01T12:00:00Z); default: now
        #[arg(long, value_name = "INSTANT")]
        from: Option<String>,
        /// How many next runs per automation
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
        count: u32,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run the scheduler in the foreground, without HTTP (`scudo serve` schedules too); stops on SIGTERM or Ctrl-C
    Run,
}

/// `scudo plugins …`
#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// The built-in actions, the action plugins (`scudo-action-*`) and commands (`scudo-*`) on PATH
    List(OutputArgs),
}

/// `scudo unsubscribe`
#[derive(Debug, Args)]
pub struct UnsubscribeArgs {
    /// Email addresses
    #[arg(value_name = "EMAIL", required_unless_present = "list")]
    pub emails: Vec<String>,
    /// Take the addresses off the list instead (they asked to hear from you again)
    #[arg(long)]
    pub remove: bool,
    /// Print the suppression list
    #[arg(long, conflicts_with = "remove")]
    pub list: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `scudo backup DIR`
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// A new (or empty) folder to write the backup to; never overwritten
    pub dir: PathBuf,
    /// Rewrite the database into the backup (COPY FROM DATABASE: smaller, leaves behind the bytes
    /// of deleted and erased rows; about 10× slower than the default checkpoint-and-copy)
    #[arg(long)]
    pub compact: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `scudo restore DIR`
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup folder (written by `scudo backup`)
    pub dir: PathBuf,
    /// The workspace to rebuild (created if missing); default: the current workspace
    #[arg(long, value_name = "WS")]
    pub into: Option<PathBuf>,
    /// Replace a workspace database that exists (it is kept beside, renamed *.before-restore-…)
    #[arg(long)]
    pub force: bool,
    /// Write the restored database encrypted with the key in SCUDO_ENCRYPTION_KEY (how an existing
    /// workspace becomes encrypted: back it up, then restore it --into a new folder --encrypt)
    #[arg(long)]
    pub encrypt: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `scudo doctor`
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Apply the score-history retention, remove orphaned rows, and checkpoint
    #[arg(long)]
    pub fix: bool,
    /// Recompute every derived table (local times, values, tag segments, search index, summaries)
    /// from customers and orders, in one transaction; imports keep them current incrementally
    #[arg(long)]
    pub rebuild: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

const PRIVACY_AFTER_HELP: &str = "\
Erasure removes the person from every table in one transaction and keeps only salted one-way
hashes of their identifiers, so that importing an old export again leaves them out (`suppressed`
in the import summary). Without --yes it only lists what would go. docs/privacy.md.
Examples:
  scudo privacy export \"Mike Johnson\" --out mike.json
  scudo privacy export mike.johnson@example.com --zip mike.zip
  scudo privacy erase cust-000007            # what would go
  scudo privacy erase cust-000007 --yes";

/// `scudo privacy …`
#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Every record held about one customer (profile, source records, orders and items, scores
    /// over time, segments, notes and tags, messages, activity-log entries) as one JSON document
    Export {
        /// Customer id, email or name (an exact match)
        who: String,
        /// Write the JSON document to FILE instead of stdout
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
        /// Also write a ZIP of CSV files, one per section, to FILE
        #[arg(long, value_name = "FILE.zip")]
        zip: Option<PathBuf>,
    },
    /// Erase one customer everywhere and keep hashes of their identifiers so imports leave them out
    Erase {
        /// Customer id, email or name (an exact match)
        who: String,
        /// Erase; without it nothing is changed and the rows that would go are listed
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
}

/// `scudo serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; beyond loopback it needs tokens (`scudo tokens create`) or single sign-on
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub bind: std::net::SocketAddr,
    /// Open the page in the default browser
    #[arg(long)]
    pub open: bool,
    /// Do not run the enabled automations on their schedule (when `scudo schedule run` runs them elsewhere)
    #[arg(long)]
    pub no_schedule: bool,
}

/// `scudo users …`
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user with a role: admin (everything), analyst (read, notes and tags), viewer (read)
    Add {
        name: String,
        #[arg(long)]
        role: String,
    },
    /// The users, their roles and how many live tokens each has
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Remove a user and revoke their tokens
    Remove { name: String },
}

/// `scudo tokens …`
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token and print it alone on stdout, once (only its hash is kept)
    Create {
        /// The token's role: admin, analyst or viewer
        #[arg(long)]
        role: String,
        /// The user it belongs to (`scudo users add`); none: a service token
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a token (its id, as `scudo tokens list` shows it, or the whole token)
    Revoke { token: String },
    /// The tokens: id, user, role, created, revoked (never the secret)
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
}

/// `scudo audit`
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// How many of the newest entries; 0 lists every one
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Aligned text for people
    #[default]
    Table,
    /// One JSON document with a documented shape
    Json,
    /// Comma-separated values, cells guarded against spreadsheet formulas
    Csv,
}

/// `--format` for commands that print data.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `--as-of` for commands that look at a point in time.
#[derive(Debug, Args)]
pub struct AsOfArgs {
    /// Look at the shop as it was on this date (YYYY-MM-DD); default: today
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
}

/// `--as-of` and `--format`, for analytics commands.
#[derive(Debug, Args)]
pub struct AnalysisArgs {
    #[command(flatten)]
    pub as_of: AsOfArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// List the N largest (by revenue) of each kind of alert; 0 lists every one
    #[arg(long, short = 'n', default_value_t = 25, value_parser = clap::value_parser!(i64).range(0..=10_000_000))]
    pub limit: i64,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// How many customers to list; 0 lists every one
    #[arg(long, short = 'n', default_value_t = 20, value_parser = clap::value_parser!(i64).range(0..=10_000_000))]
    pub limit: i64,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// Which purchase model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    Bgnbd,
    ParetoNbd,
    GammaGamma,
    All,
}

/// Time unit of the models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnitArg {
    Day,
    Week,
}

/// `scudo models …`
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Fit by maximum likelihood and print the parameters, log-likelihood and fit time
    Fit {
        #[arg(long, value_enum, default_value_t = ModelArg::All)]
        model: ModelArg,
        /// End of the calibration period (default: the last purchase in the data, on or before --as-of)
        #[arg(long, value_name = "DATE")]
        until: Option<NaiveDate>,
        /// Time unit (default: [models] unit in scudo.toml)
        #[arg(long, value_enum)]
        unit: Option<UnitArg>,
        /// Fit on a Spark job's statistics instead of the workspace's (its results folder:
        /// models.grouped and models.summary; the date and unit are the ones the job used)
        #[arg(long, value_name = "RESULTS", conflicts_with_all = ["until", "unit", "as_of"])]
        from_parquet: Option<PathBuf>,
        #[command(flatten)]
        analysis: AnalysisArgs,
    },
    /// Fit on the history up to --split, predict the repeat purchases after it, compare with what happened
    Backtest {
        /// End of the calibration period
        #[arg(long, value_name = "DATE")]
        split: NaiveDate,
        /// End of the holdout period (default: the last purchase in the data, on or before --as-of)
        #[arg(long, value_name = "DATE")]
        until: Option<NaiveDate>,
        #[arg(long, value_enum)]
        unit: Option<UnitArg>,
        #[command(flatten)]
        analysis: AnalysisArgs,
    },
}

#[derive(Debug, Args)]
pub struct KpisArgs {
    /// Length of the period in days, ending on --as-of
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(i64).range(1..=3660))]
    pub period_days: i64,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

#[derive(Debug, Args)]
pub struct MrrArgs {
    /// How many calendar months to show, ending with the --as-of date's month
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(i64).range(1..=600))]
    pub months: i64,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

#[derive(Debug, Args)]
pub struct SegmentsArgs {
    #[command(subcommand)]
    pub action: Option<SegmentsAction>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

#[derive(Debug, Subcommand)]
pub enum SegmentsAction {
    /// The customers of one segment (id or name)
    Show {
        segment: String,
        #[command(flatten)]
        analysis: AnalysisArgs,
    },
    /// Two segments side by side, with the differences
    Compare {
        a: String,
        b: String,
        #[command(flatten)]
        analysis: AnalysisArgs,
    },
}

#[derive(Debug, Args)]
pub struct CustomersArgs {
    #[command(subcommand)]
    pub action: CustomersAction,
}

#[derive(Debug, Subcommand)]
pub enum CustomersAction {
    /// Best matches first: exact id or email, name, prefix, contained, then fuzzy
    Search {
        query: String,
        /// How many matches to show
        #[arg(long, short = 'n', default_value_t = 10, value_parser = clap::value_parser!(i64).range(1..=1000))]
        limit: i64,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Debug, Args)]
pub struct CustomerArgs {
    /// Customer id, email or name
    pub who: String,
    /// Annotate instead of showing: `note "TEXT"`, `note edit ID "TEXT"`, `note remove ID`,
    /// `tag add TAG`, `tag remove TAG`
    #[arg(trailing_var_arg = true, value_name = "note|tag ...")]
    pub change: Vec<String>,
    /// Add insights and recommendations in words (streamed from [llm] when configured, checked)
    #[arg(long)]
    pub insights: bool,
    #[command(flatten)]
    pub llm: LlmArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// How a narrative is written.
#[derive(Debug, Args)]
pub struct LlmArgs {
    /// Print exactly the request that would be sent to the model (JSON), and send nothing
    #[arg(long)]
    pub show_prompt: bool,
    /// Write scudo's own narrative even when [llm] is configured (no network)
    #[arg(long)]
    pub no_llm: bool,
}

#[derive(Debug, Args)]
pub struct InsightsArgs {
    /// Length of the period compared with the one before, in days, ending on --as-of
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(i64).range(1..=3660))]
    pub period_days: i64,
    /// Describe this segment's customers (id or name) instead of every segment
    #[arg(long, value_name = "ID")]
    pub segment: Option<String>,
    #[command(flatten)]
    pub llm: LlmArgs,
    #[command(flatten)]
    pub as_of: AsOfArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// The question, in quotes
    pub question: String,
    /// For a free question: show the SQL the model wrote (validated) and stop
    #[arg(long)]
    pub sql_only: bool,
    /// For a free question: at most this many rows of its query
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..=10_000))]
    pub limit: i64,
    #[command(flatten)]
    pub llm: LlmArgs,
    #[command(flatten)]
    pub as_of: AsOfArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create the workspace in (created if missing)
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Encrypt the database (AES-GCM) with the key in SCUDO_ENCRYPTION_KEY, which scudo never
    /// stores: every later command needs the same variable set
    #[arg(long)]
    pub encrypt: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory of the demo workspace (created or refreshed)
    #[arg(default_value = "scudo-demo")]
    pub dir: PathBuf,
    /// Encrypt the demo's database with the key in SCUDO_ENCRYPTION_KEY (see `scudo init --encrypt`)
    #[arg(long)]
    pub encrypt: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DashboardArgs {
    #[command(flatten)]
    pub as_of: AsOfArgs,
    /// Run the dashboard's queries even when the last import or scoring kept their results for
    /// this date (they are the same; this shows the time they take)
    #[arg(long)]
    pub recompute: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Export kinds `scudo ingest` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceArg {
    /// Detect the kind from the header
    Auto,
    ShopifyOrders,
    ShopifyCustomers,
    ShopifyProducts,
    StripePayments,
    StripeCustomers,
    StripeInvoices,
    StripeSubscriptions,
    HubspotContacts,
    HubspotDeals,
    SalesforceReport,
    /// Any CSV, described by a mapping file (--mapping)
    Csv,
}

/// Text encodings of input files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EncodingArg {
    /// UTF-8 or UTF-16 by byte-order mark, UTF-8 when valid, else Windows-1252
    Auto,
    Utf8,
    Utf16le,
    Utf16be,
    /// Windows-1252, a superset of Latin-1 as exported by Excel
    Windows1252,
    Latin1,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Export files, directories (every export in them) or glob patterns
    #[arg(value_name = "PATH", required_unless_present = "infer")]
    pub paths: Vec<PathBuf>,
    /// What the files are; `auto` detects each file from its header
    #[arg(long, value_enum, default_value_t = SourceArg::Auto)]
    pub source: SourceArg,
    /// Mapping file (TOML) for generic CSV; implies --source csv
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Read, check and count everything, then roll back: nothing is written
    #[arg(long)]
    pub dry_run: bool,
    /// Where to write rejected rows (CSV); default: rejects/<file>.rejects.csv in the workspace
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Text encoding of the files
    #[arg(long, value_enum, default_value_t = EncodingArg::Auto)]
    pub encoding: EncodingArg,
    /// Import even a file already imported with the same settings (normally reported as unchanged)
    #[arg(long)]
    pub force: bool,
    /// The worksheet of an Excel (.xlsx) file, by name; default: the first
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Propose a mapping file for a generic CSV file and print it (nothing is imported)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["paths", "mapping", "dry_run"])]
    pub infer: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `scudo rates …`
#[derive(Debug, Subcommand)]
pub enum RatesCommand {
    /// Import exchange rates: the European Central Bank's historical reference rates
    /// (eurofxref-hist.csv, unzipped) or a CSV `date,currency,rate[,base]` meaning
    /// 1 currency = rate base. Every order is then revalued in the reporting currency at the rate
    /// of its day (the latest at most 31 days before it).
    #[command(
        after_help = "Examples:\n  scudo rates import eurofxref-hist.csv\n  scudo rates import my-rates.csv --base USD"
    )]
    Import {
        /// The rates file (.csv, .gz)
        file: PathBuf,
        /// The base currency of a plain file without a `base` column (default: the reporting currency)
        #[arg(long, value_name = "CUR")]
        base: Option<String>,
        /// Where rejected rows go (default: the workspace's rejects directory)
        #[arg(long, value_name = "FILE")]
        rejects: Option<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The rates known: per currency pair, the first and last day and how many days
    List(OutputArgs),
}

/// Which importer an export is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportTo {
    /// scudo's own columns
    Csv,
    /// HubSpot contacts import (Email, First Name, …; scores as scudo_* properties)
    Hubspot,
    /// Salesforce Data Import Wizard, contacts (First Name, Last Name, …; scores as Scudo_*__c fields)
    Salesforce,
}

/// `scudo export …`
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Customers with contact details, stage, segments, RFM, churn band and CLV (from the latest
    /// `scudo score` run; stage and RFM on --as-of when never scored), as CSV in the columns the
    /// CRM's importer expects
    Customers(ExportCustomersArgs),
    /// The canonical model and the derived tables as Parquet, orders and items partitioned by
    /// month (Hive-style), with a manifest of tables, columns, row counts and the workspace's
    /// settings: for Spark or any other engine (docs/scale-out.md)
    Parquet(ExportParquetArgs),
}

#[derive(Debug, Args)]
pub struct ExportParquetArgs {
    /// The folder to write (created; must be empty or missing unless --force)
    pub dir: PathBuf,
    /// Replace a folder that already holds an export
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ExportCustomersArgs {
    /// Whose importer the columns are for
    #[arg(long, value_enum, default_value_t = ExportTo::Csv)]
    pub to: ExportTo,
    /// Only the customers of this segment (id or name)
    #[arg(long)]
    pub segment: Option<String>,
    /// Only the customers in this lifecycle stage (VIP, Active, New, At-Risk, Dormant, Lost, Prospect)
    #[arg(long)]
    pub stage: Option<String>,
    /// Write to this file instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub as_of: AsOfArgs,
}

/// `scudo check [OPTIONS]`, or one of its subcommands.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CheckArgs {
    #[command(subcommand)]
    pub command: Option<CheckCommand>,
    #[command(flatten)]
    pub run: CheckRunArgs,
}

/// The level of failure that fails the run (exit 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FailOn {
    /// Warnings fail the run too
    Warn,
    /// Only error-level failures fail the run; warnings exit 1
    #[default]
    Error,
}

#[derive(Debug, Args)]
pub struct CheckRunArgs {
    /// Run only the checks whose name matches this glob (e.g. 'orders_*'); repeatable
    #[arg(long, value_name = "GLOB")]
    pub select: Vec<String>,
    /// Leave out the checks whose name matches this glob; repeatable
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    #[command(flatten)]
    pub as_of: AsOfArgs,
    /// Which failures make the run fail (exit 2)
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Also write a JUnit XML report (for GitHub, GitLab and Jenkins test reports) to FILE
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Keep every failing row (up to 100,000 per check) for `scudo check show NAME`
    #[arg(long)]
    pub store_failures: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `scudo check …`
#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Every check: name, severity, thresholds, owner, description and where it comes from
    List(OutputArgs),
    /// The failing rows a check kept (`scudo check --store-failures`), from its latest run that kept some
    Show {
        /// The check's name, e.g. orders_amounts
        name: String,
        /// The run to read (`scudo check history`); default: the latest that kept rows of this check
        #[arg(long, value_name = "ID")]
        run: Option<i64>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The recorded check runs, newest first, with their status and counts
    History {
        /// How many runs
        #[arg(long, short = 'n', default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        limit: i64,
        #[command(flatten)]
        output: OutputArgs,
    },
}

/// `scudo query …`
#[derive(Debug, Subcommand)]
pub enum QueryCommand {
    /// Every query: id, description, parameters and where it comes from
    List(OutputArgs),
    /// Print a query's SQL file
    Show {
        /// Query id, e.g. health.distribution
        name: String,
    },
    /// Run a query (read-only) with its parameters bound
    Run(QueryRunArgs),
    /// Create a query file in the workspace's queries/: a copy of the built-in file for a
    /// built-in id (your copy overrides it), else a commented template
    New {
        /// Query id, e.g. kpi.margin (becomes queries/kpi/margin.sql)
        name: String,
        /// Replace the file when it exists already
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct QueryRunArgs {
    /// Query id, e.g. alerts.attention
    #[arg(required_unless_present = "sql")]
    pub name: Option<String>,
    /// Run this SQL instead of a query file; anything that writes is refused
    #[arg(long, conflicts_with = "name")]
    pub sql: Option<String>,
    /// A parameter value, NAME=VALUE (repeatable); overrides the standard ones
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    #[command(flatten)]
    pub as_of: AsOfArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    let (k, v) = s.split_once('=').ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    let k = k.trim().trim_start_matches('$');
    if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("`{k}` is not a parameter name (letters, digits, _)"));
    }
    Ok((k.to_string(), v.to_string()))
}

/// What `scudo report` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ReportFormat {
    /// One self-contained HTML file
    #[default]
    Html,
    /// The data the template is rendered from (docs/json.md)
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The template: a built-in (weekly-digest, segment-report, customer, at-risk, models) or the workspace's own
    pub template: String,
    /// A template parameter, NAME=VALUE (repeatable), e.g. segment=VIP_HIGH_VALUE
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Write to this file instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub as_of: AsOfArgs,
}

/// What `scudo digest` prints on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DigestFormat {
    /// A summary of what was sent (docs/json.md)
    Json,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// The template (default: weekly-digest)
    #[arg(default_value = "weekly-digest")]
    pub template: String,
    /// Recipient address (repeatable, or several after one --to); each gets its own message
    #[arg(long, value_name = "ADDR", required = true, num_args = 1..)]
    pub to: Vec<String>,
    /// A template parameter, NAME=VALUE (repeatable)
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Build the message and check it, send nothing, record nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Write the exact message (RFC 5322) to this file (several recipients: FILE-1.eml, FILE-2.eml, …)
    #[arg(long, value_name = "FILE.eml")]
    pub save: Option<PathBuf>,
    /// Send again even to a recipient who was sent this digest for this date already
    #[arg(long)]
    pub resend: bool,
    /// Print a summary on stdout (default: nothing on stdout)
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<DigestFormat>,
    #[command(flatten)]
    pub as_of: AsOfArgs,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many customers
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub customers: u64,
    /// Random seed: the same seed writes the same files
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Years of history
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub years: u32,
    /// Last day of the history
    #[arg(long, default_value = "2025-12-31")]
    pub end: NaiveDate,
    /// Share of buyers who also pay through Stripe (0–1)
    #[arg(long, default_value_t = 0.15)]
    pub stripe_share: f64,
    /// Directory to write the exports and truth.json to
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Parses the process arguments; `--help`, `--version` and usage errors exit here, before any
/// workspace or database is touched.
pub fn parse() -> Cli {
    Cli::parse()
}

/// The clap command, for completions and tests.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_definition_is_consistent() {
        super::command().debug_assert();
    }
}
