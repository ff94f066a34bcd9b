//! The `scudo` binary: parse the command line, hand it to the library, return its exit code.
use std::process::ExitCode;

/// One allocator for the whole process: with the `override` feature mimalloc also serves
/// DuckDB's malloc and new, whose allocation churn dominated imports under glibc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = scudo::cli::parse();
    ExitCode::from(scudo::run(cli))
}
