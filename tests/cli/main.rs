//! Integration tests: the real `audience` binary on fixtures written inline.

mod util;

mod commands;
mod loader;
mod rfm;
mod robust_yaml;
mod segments;
