//! `audience`: segments in YAML over marketing exports, to recipient lists.
//! The binary parses the command line and maps errors to exit statuses; the
//! work is in the library (`src/lib.rs`).

use std::process::ExitCode;

use clap::Parser;

use audience::diag::{Reported, UsageError};
use audience::{cli, cmd};

// Reading a CSV export makes one small string per cell; the system allocator
// spent a third of the load time on them, mimalloc a fraction of that.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Conditions nest without a depth limit, and walking them recurses; the work
/// runs on a thread whose stack (address space, committed only as used) is
/// large enough for any file that fits in memory.
const MAIN_STACK: usize = 4 << 30;
/// Polars' worker threads evaluate expressions recursively too.
const WORKER_STACK: usize = 256 << 20;

fn main() -> ExitCode {
    if std::env::var_os("RUST_MIN_STACK").is_none() {
        // Read by std when polars starts its threads, all after this line.
        std::env::set_var("RUST_MIN_STACK", WORKER_STACK.to_string());
    }
    match std::thread::Builder::new().name("audience".into()).stack_size(MAIN_STACK).spawn(run) {
        Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        // No room for the large stack (a tight ulimit -v): run here.
        Err(_) => run(),
    }
}

fn run() -> ExitCode {
    let cli = cli::Cli::parse();
    match audience::exec::Options::from_env() {
        Ok(options) => options.install(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    match cmd::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            if e.downcast_ref::<Reported>().is_some() {
                return ExitCode::from(1);
            }
            if let Some(u) = e.downcast_ref::<UsageError>() {
                eprintln!("error: {u}");
                return ExitCode::from(2);
            }
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
