//! The `audience` library: everything the binary runs, layered as
//! ARCHITECTURE.md describes. Its API serves the binary and the tests; it
//! makes no stability promise to other crates.

pub mod backend;
pub mod catalog;
pub mod cli;
pub mod cluster;
pub mod cluster_plot;
pub mod cmd;
pub mod dates;
pub mod diag;
pub mod engine;
pub mod exec;
pub mod groups;
pub mod load;
pub mod output;
pub mod par;
pub mod phone;
pub mod plan;
pub mod project;
pub mod rfm;
pub mod rfm_plot;
pub mod schema;
pub mod segment;
pub mod session;
pub mod text;
pub mod types;
pub mod yamldoc;
pub mod yamlpos;
pub mod yamlvalue;
