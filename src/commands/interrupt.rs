//! Ctrl-C while a command writes: the first press asks the step under way to stop (the import is
//! rolled back and the command says so, exit 130); a second press ends the process at once.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the first Ctrl-C.
pub(crate) static REQUESTED: AtomicBool = AtomicBool::new(false);

type Stopper = Box<dyn Fn() + Send>;

/// Stops the statement running in the database (DuckDB's interrupt), when one is registered.
static STOP_QUERY: Mutex<Option<Stopper>> = Mutex::new(None);

/// Installs the handler (once per process; a second call is harmless).
pub(crate) fn install() {
    let _ = ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        if let Ok(stop) = STOP_QUERY.lock()
            && let Some(f) = stop.as_ref()
        {
            f();
        }
    });
}

/// True once Ctrl-C was pressed.
pub(crate) fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// What to call on Ctrl-C to stop the running statement.
pub(crate) fn on_interrupt(stop: impl Fn() + Send + 'static) {
    if let Ok(mut slot) = STOP_QUERY.lock() {
        *slot = Some(Box::new(stop));
    }
}
