//! Integration tests: the real `scudo` binary against temporary workspaces and real DuckDB files.

mod harness;

mod analytics;
mod corpus;
mod details;
mod excel;
mod exit_codes;
mod export;
mod foundation;
mod ingest;
mod queries;
mod recovery;
mod scale;
