//! Integration tests: the real `scudo` binary against temporary workspaces and real DuckDB files.

mod harness;

mod analytics;
mod corpus;
mod data_end;
mod foundation;
mod ingest;
mod numbers;
mod queries;
mod scale;
mod scores;
