//! Integration tests: the real `audience` binary on fixtures written inline.

mod util;

mod commands;
mod loader;
mod robust_load;
mod rfm;
mod segments;
