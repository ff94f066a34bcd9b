//! Integration tests: the real `scudo` binary against temporary workspaces and real DuckDB files.

mod harness;

mod analytics;
mod automations;
mod browser;
mod campaign_crash;
mod checks;
mod corpus;
mod data_end;
mod details;
mod digest;
mod encryption;
mod excel;
mod exit_codes;
mod export;
mod foundation;
mod ingest;
mod insights;
mod maintained;
mod mrr;
mod numbers;
mod operations;
mod privacy;
mod queries;
mod readme;
mod recovery;
mod report;
mod router;
mod scale;
mod scores;
mod serve;
mod smtp;
mod spark;
mod upkeep;
