//! Large Parquet exports are mapped into memory by polars rather than read
//! whole, and polars maps them again for each query. When such a file
//! shrinks while the run uses it (overwritten in place by the next export),
//! the process dies: SIGBUS on a page past the new end, or an abort when
//! polars slices a fresh, shorter mapping with the offsets of the footer it
//! read first. Both are turned here into the error an export that changes
//! while it is read gets, naming the file, with exit status 1.

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Mutex, Once};

use super::input::Snapshot;

/// The SIGBUS message: built beforehand, because a signal handler may not
/// allocate or lock, and swapped whole in one store.
static MESSAGE: AtomicPtr<&'static [u8]> = AtomicPtr::new(std::ptr::null_mut());
static FILES: Mutex<Vec<Snapshot>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

extern "C" fn on_sigbus(_: libc::c_int) {
    let message = MESSAGE.load(Ordering::SeqCst);
    // SAFETY: write(2) and _exit(2) are async-signal-safe; every message is
    // leaked, so the pointer stays valid.
    unsafe {
        if let Some(text) = message.as_ref() {
            libc::write(2, text.as_ptr() as *const libc::c_void, text.len());
        }
        libc::_exit(1);
    }
}

fn changed_message(paths: &str) -> String {
    format!("error: {paths} changed while it was read; run again once it is complete\n")
}

/// Notes that a file is about to be mapped, as it was when checked.
pub fn watch(snapshot: Snapshot) {
    let mut files = FILES.lock().unwrap_or_else(|p| p.into_inner());
    files.push(snapshot);
    let names: Vec<String> = files.iter().map(|s| s.path().display().to_string()).collect();
    // The previous message is leaked rather than freed: the handler may be
    // reading it. A run maps a handful of files at most.
    let bytes: &'static [u8] = Box::leak(changed_message(&names.join(" or ")).into_bytes().into_boxed_slice());
    MESSAGE.store(Box::leak(Box::new(bytes)), Ordering::SeqCst);
    INSTALL.call_once(|| {
        // SAFETY: the handler only calls async-signal-safe functions. Rust's
        // own handler for stack overflows is on SIGSEGV on Linux, left alone.
        unsafe {
            libc::signal(libc::SIGBUS, on_sigbus as extern "C" fn(libc::c_int) as libc::sighandler_t);
        }
    });
}

/// Called by the panic hook: when a mapped file has changed, a panic is
/// that change showing, and the run ends with the error saying so.
pub fn exit_if_changed() {
    let Ok(files) = FILES.try_lock() else { return };
    if let Some(s) = files.iter().find(|s| s.check().is_err()) {
        eprint!("{}", changed_message(&s.path().display().to_string()));
        std::process::exit(1);
    }
}
