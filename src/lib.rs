//! scudo: customer intelligence on a shop's own data.
//!
//! The modules read in data-flow order: the command line is parsed (`cli`) and resolved into a
//! workspace and settings (`config`); exports are read into canonical records (`ingest`) and
//! written into the DuckDB workspace (`store`); SQL files answer questions (`queries`) and check the
//! data (`checks`); results are rendered for people and machines (`output`); `insights` turns
//! results into facts and narratives, and `llm` lets a language model phrase them, every number
//! checked; templates turn them into HTML reports and emails (`report`), and messages leave through
//! one outbox (`deliver`); automations run actions on a schedule (`automate`). `commands` is the
//! one place wiring them together.

pub mod automate;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod config;
pub mod deliver;
pub mod demo;
pub mod error;
pub mod generate;
pub mod ingest;
pub mod insights;
pub mod llm;
pub mod models;
pub mod output;
pub mod queries;
pub mod report;
pub mod server;
pub mod store;

pub use error::Exit;

/// Runs one parsed command line and returns the process exit code (see [`Exit`]).
pub fn run(cli: cli::Cli) -> u8 {
    match commands::dispatch(cli) {
        Ok(exit) => exit as u8,
        Err(err) => error::report(&err) as u8,
    }
}
