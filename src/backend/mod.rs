//! Backends: a [`crate::plan::Plan`] lowered to an engine that computes it.
//! Polars runs it here, in the process; `sql` prints it for a warehouse.

pub mod polars;
pub mod sql;
