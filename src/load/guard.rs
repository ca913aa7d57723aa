//! Polars panics on some malformed or unsupported Parquet files (a column
//! chunk past the end of a truncated file, a data type it was built
//! without). An export is user input, which must never crash the run: calls
//! into polars over one are made through [`catch`], which turns a panic into
//! an error and keeps the panic's report off stderr.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

/// Calls under way through [`catch`]: while one is, panics are quiet (their
/// message is kept for the error instead). Counted across threads, because
/// polars panics on its own worker threads too.
static GUARDED: AtomicUsize = AtomicUsize::new(0);
static LAST: Mutex<Option<String>> = Mutex::new(None);
static HOOK: Once = Once::new();

fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            super::mapped::exit_if_changed();
            if GUARDED.load(Ordering::SeqCst) > 0 {
                let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
                last.get_or_insert_with(|| payload_text(info.payload()));
            } else {
                previous(info);
            }
        }));
    });
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "an internal error".to_string()
    }
}

/// Runs `f`; a panic inside becomes `Err` with the panic's message.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    if GUARDED.fetch_add(1, Ordering::SeqCst) == 0 {
        // A message left by a panic that polars turned into an error.
        LAST.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
    let out = std::panic::catch_unwind(AssertUnwindSafe(f));
    GUARDED.fetch_sub(1, Ordering::SeqCst);
    out.map_err(|payload| {
        let kept = LAST.lock().unwrap_or_else(|p| p.into_inner()).take();
        kept.unwrap_or_else(|| payload_text(payload.as_ref()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(catch(|| 1), Ok(1));
        let v: Vec<u8> = Vec::new();
        let e = catch(|| v[3]).unwrap_err();
        assert!(e.contains("index out of bounds"), "{e}");
        let e = catch(|| panic!("range end index 9 out of range")).unwrap_err();
        assert!(e.contains("range end index 9"), "{e}");
    }
}
