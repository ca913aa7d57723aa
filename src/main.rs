//! `audience`: segments in YAML over marketing exports, to recipient lists.

mod cli;
mod cmd;
mod dates;
mod diag;
mod engine;
mod features;
mod load;
mod output;
mod par;
mod project;
mod rfm;
mod rfm_fields;
mod rfm_plot;
mod segment;
mod session;
mod text;
mod yamldoc;
mod yamlpos;

use std::process::ExitCode;

use clap::Parser;

use session::{Reported, UsageError};

// Reading a CSV export makes one small string per cell; the system allocator
// spent a third of the load time on them, mimalloc a fraction of that.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
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
