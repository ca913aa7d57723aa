//! Integration tests: the real `audience` binary on fixtures written inline.

mod util;

mod commands;
mod corpus;
mod fuzz;
mod loader;
mod robust_load;
mod rfm;
mod robust_run;
mod segments;
