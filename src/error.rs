//! Exit codes and the one place errors are printed.
//!
//! Exit codes are a contract, documented in `--help` and the README:
//! 0 ok · 1 ran fine, and a condition holds (alerts listed, rows rejected, files not imported) ·
//! 2 usage or data error: nothing was changed · 130 interrupted: the step under way was rolled back.

use std::io;

/// The process exit codes scudo promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Everything worked.
    Ok = 0,
    /// The command ran, and a condition holds: `alerts` listed alerts, an import rejected rows or
    /// could not import some of its files (it imported the others).
    Condition = 1,
    /// Usage, data or environment error: nothing was changed (an import of several files: none
    /// could be imported).
    Error = 2,
    /// `scudo check`: a check could not run (bad SQL, a missing table, a bad header).
    Broken = 3,
    /// Interrupted (Ctrl-C): the step under way was rolled back.
    Interrupted = 130,
}

/// A user-facing error whose message already says what, where and what next.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

/// The command was interrupted (Ctrl-C); the message says what was rolled back.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub String);

/// Shorthand for building a [`UserError`] inside `anyhow` results.
pub fn user(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UserError(msg.into()))
}

/// Prints an error once on stderr and returns the exit code it maps to.
/// A closed pipe on stdout (`scudo ... | head`) is not an error.
pub fn report(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if let Some(io_err) = cause.downcast_ref::<io::Error>()
            && io_err.kind() == io::ErrorKind::BrokenPipe
        {
            return Exit::Ok;
        }
    }
    if let Some(i) = err.downcast_ref::<Interrupted>() {
        eprintln!("interrupted: {}", strip_control(&i.0));
        return Exit::Interrupted;
    }
    let text = format!("{err:#}");
    eprintln!("error: {}", strip_control(&text));
    if let Some(hint) = hint(&text) {
        eprintln!("hint: {hint}");
    }
    Exit::Error
}

/// What to do about errors whose message alone does not say it.
fn hint(text: &str) -> Option<&'static str> {
    text.contains("Out of Memory Error").then_some(
        "DuckDB reached its memory cap: raise `memory_limit` under [workspace] in scudo.toml (or set \
         SCUDO_WORKSPACE_MEMORY_LIMIT, e.g. 6GB) and run the command again; the step that failed changed nothing",
    )
}

/// Control characters from data (a file name, a cell) must not drive the terminal.
fn strip_control(s: &str) -> String {
    s.chars().map(|c| if c.is_control() && c != '\n' && c != '\t' { '?' } else { c }).collect()
}

/// The message of a user-facing error anywhere in `err`'s chain (`None` for internal errors).
pub fn user_message(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|c| c.downcast_ref::<UserError>()).map(|u| u.0.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_memory_gets_a_hint() {
        assert!(
            hint("writing order items: Out of Memory Error: could not allocate block")
                .unwrap()
                .contains("memory_limit")
        );
        assert_eq!(hint("no such table"), None);
    }

    #[test]
    fn broken_pipe_is_success() {
        let err = anyhow::Error::new(io::Error::new(io::ErrorKind::BrokenPipe, "pipe"));
        assert_eq!(report(&err), Exit::Ok);
    }

    #[test]
    fn control_characters_are_neutralised() {
        assert_eq!(strip_control("a\x1b[31mb"), "a?[31mb");
    }
}
