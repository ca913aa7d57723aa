//! Integration tests: the real `audience` binary on fixtures written inline.

mod util;

mod architecture;
mod campaign;

mod clusters;
mod commands;
mod corpus;
mod differential;
mod fuzz;
mod loader;
mod onboarding;
mod rfm;
mod robust_load;
mod robust_run;
mod robust_yaml;
mod segments;
mod sql;
mod transcripts;
