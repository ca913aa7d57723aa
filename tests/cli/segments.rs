//! Segment language: operators, aggs, rules.
