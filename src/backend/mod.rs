//! Backends: a [`crate::plan::Plan`] lowered to an engine that computes it.
//! Polars runs it here, in the process.

pub mod polars;
