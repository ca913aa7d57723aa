//! Running polars queries, and the execution options read from the
//! environment once (`AUDIENCE_ENGINE`, `AUDIENCE_TIMINGS`). Imports nothing
//! from the crate.

use polars::prelude::*;

/// Runs a query on polars' streaming engine (AUDIENCE_ENGINE=in-memory for the other).
pub fn run_query(lf: LazyFrame) -> PolarsResult<DataFrame> {
    Ok(lf.collect_with_engine(query_engine())?.unwrap_single())
}

fn query_engine() -> Engine {
    match std::env::var("AUDIENCE_ENGINE").as_deref() {
        Ok("in-memory") => Engine::InMemory,
        _ => Engine::Streaming,
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
    if std::env::var_os("AUDIENCE_TIMINGS").is_some() {
        // The resident set now and its peak so far, to see which phase
        // needs the memory and what it keeps.
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let get = |key: &str| status.lines().find(|l| l.starts_with(key)).map(|l| l[key.len()..].trim().to_string()).unwrap_or_default();
        eprintln!("timing: {phase} {:.3} s (RSS {}, peak so far {})", started.elapsed().as_secs_f64(), get("VmRSS:"), get("VmHWM:"));
    }
}
