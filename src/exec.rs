//! Running polars queries, and the execution options: every `AUDIENCE_*`
//! variable is read here, once, and a malformed one is a usage error before
//! any work starts. Imports nothing from the crate.

use std::sync::OnceLock;

use polars::prelude::*;

/// What the environment asked for (see ARCHITECTURE.md for the table).
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// `AUDIENCE_ENGINE=in-memory`: polars' in-memory engine for queries.
    pub in_memory_engine: bool,
    /// `AUDIENCE_TIMINGS`: time and memory of each phase on stderr.
    pub timings: bool,
    /// `AUDIENCE_PROFILE`: plan and profile of each aggregation query.
    pub profile: bool,
    /// `AUDIENCE_PART_ROWS`: rows per aggregation pass.
    pub part_rows: Option<u64>,
    /// `AUDIENCE_PARQUET_IN_MEMORY_MAX`: bytes up to which a Parquet file is read whole.
    pub parquet_in_memory_max: Option<u64>,
    /// `AUDIENCE_WIDTH`: the width terminal tables are fitted to, even in a
    /// pipe; 0 never narrows them.
    pub width: Option<u64>,
    /// `AUDIENCE_CRASH_AT`, `AUDIENCE_FAIL_AT`: test hooks of a run's commit.
    pub crash_at: Option<String>,
    pub fail_at: Option<String>,
}

static OPTIONS: OnceLock<Options> = OnceLock::new();

impl Options {
    /// Reads the variables; the message names the one that is malformed.
    pub fn from_env() -> Result<Options, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let number = |name: &str, min: u64| -> Result<Option<u64>, String> {
            match var(name) {
                None => Ok(None),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if n >= min => Ok(Some(n)),
                    _ => Err(format!("{name}={v}: expected a whole number of at least {min}")),
                },
            }
        };
        let in_memory_engine = match var("AUDIENCE_ENGINE").as_deref() {
            None | Some("streaming") => false,
            Some("in-memory") => true,
            Some(other) => return Err(format!("AUDIENCE_ENGINE={other}: expected `streaming` or `in-memory`")),
        };
        Ok(Options {
            in_memory_engine,
            timings: std::env::var_os("AUDIENCE_TIMINGS").is_some(),
            profile: std::env::var_os("AUDIENCE_PROFILE").is_some(),
            part_rows: number("AUDIENCE_PART_ROWS", 1)?,
            // 0 maps every Parquet file.
            parquet_in_memory_max: number("AUDIENCE_PARQUET_IN_MEMORY_MAX", 0)?,
            width: number("AUDIENCE_WIDTH", 0)?,
            crash_at: var("AUDIENCE_CRASH_AT"),
            fail_at: var("AUDIENCE_FAIL_AT"),
        })
    }

    /// Sets the options for the process (the first call wins).
    pub fn install(self) {
        let _ = OPTIONS.set(self);
    }
}

/// The options installed at start-up, or read now (tests calling the library).
pub fn options() -> &'static Options {
    OPTIONS.get_or_init(|| Options::from_env().unwrap_or_default())
}

/// Runs a query on polars' streaming engine (AUDIENCE_ENGINE=in-memory for the other).
pub fn run_query(lf: LazyFrame) -> PolarsResult<DataFrame> {
    Ok(lf.collect_with_engine(query_engine())?.unwrap_single())
}

fn query_engine() -> Engine {
    if options().in_memory_engine {
        Engine::InMemory
    } else {
        Engine::Streaming
    }
}

/// Runs a query over frames already in memory: new columns beside the
/// existing ones, which stay shared rather than copied (the streaming
/// engine reassembles every column of its result, a copy of the contacts).
pub fn run_in_memory(lf: LazyFrame) -> PolarsResult<DataFrame> {
    Ok(lf.collect_with_engine(Engine::InMemory)?.unwrap_single())
}

/// Runs queries together, so that the scans they share are read once.
pub fn run_queries(lfs: Vec<LazyFrame>) -> PolarsResult<Vec<DataFrame>> {
    let Some(first) = lfs.first() else { return Ok(Vec::new()) };
    let opts = first.get_current_optimizations();
    LazyFrame::collect_all_with_engine(lfs.into_iter().map(|lf| lf.logical_plan).collect(), query_engine(), opts)
}

/// With AUDIENCE_TIMINGS set, how long a phase took, on stderr (for profiling).
pub fn timing(phase: &str, started: std::time::Instant) {
    if options().timings {
        // The resident set now and its peak so far, to see which phase
        // needs the memory and what it keeps.
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let get = |key: &str| status.lines().find(|l| l.starts_with(key)).map(|l| l[key.len()..].trim().to_string()).unwrap_or_default();
        eprintln!("timing: {phase} {:.3} s (RSS {}, peak so far {})", started.elapsed().as_secs_f64(), get("VmRSS:"), get("VmHWM:"));
    }
}
