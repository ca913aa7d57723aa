//! Exports as they break in the wild (spec section 8, "Inputs"): Parquet
//! types CSV does not have, files cut short or still being written, pipes
//! and devices given as files, mixed encodings, UTF-16, numbers that
//! overflow, a bad date among thousands. Each is an error naming the file
//! (and line) or a value read as the contract says, never a crash or a hang.
//!
//! The Parquet files are in tests/fixtures, made by make_parquet.py there.

use std::path::Path;

use crate::util::{Out, Work};

const TAIL: &str = "segments: segments\noutput: out\nas_of: 2025-06-30\ntimezone: Europe/Paris\n";

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The small project of `Work::project`, with audience.yaml replaced by
/// `head` + [`TAIL`] and the given fixtures copied in.
fn with_fixtures(head: &str, fixtures: &[&str], segments: &[(&str, &str)]) -> Work {
    let w = Work::project("", "", segments);
    w.file("audience.yaml", &format!("{head}{TAIL}"));
    for f in fixtures {
        w.bytes(f, &fixture(f));
    }
    w
}

/// An exported CSV as header + rows.
fn csv_rows(w: &Work, rel: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = w.read(rel);
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr.headers().expect("header").iter().map(str::to_string).collect();
    let rows = rdr.records().map(|r| r.expect("row").iter().map(str::to_string).collect()).collect();
    (header, rows)
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Exit 1, every needle on stderr, and no panic.
fn fails(out: &Out, needles: &[&str]) {
    out.code(1);
    for n in needles {
        out.stderr_has(n);
    }
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

// ---------------------------------------------------------------- Parquet types

const SPENT: &str = "name: spent\nwhere: {field: total_spent, op: gt, value: 0}\nexport: {columns: [email, total_spent, order_count]}\n";

fn decimal_orders(file: &str) {
    let head = format!("tables:\n  orders: {{path: {file}, key: email, date: ordered_at, amount: amount, id: order_id}}\n");
    let w = with_fixtures(&head, &[file], &[("spent", SPENT)]);
    w.run(&["run", "spent"]).ok();
    let (header, rows) = csv_rows(&w, "out/spent.csv");
    assert_eq!(header, s(&["email", "total_spent", "order_count"]));
    assert_eq!(rows, vec![s(&["a@x.fr", "30.75", "2"]), s(&["b@x.fr", "12345678901.75", "2"])]);
}

#[test]
fn robust_load_parquet_decimal128_amounts_are_floats() {
    decimal_orders("orders_decimal128.parquet");
}

#[test]
fn robust_load_parquet_decimal256_amounts_are_floats() {
    decimal_orders("orders_decimal256.parquet");
}

#[test]
fn robust_load_parquet_decimal_wider_than_38_digits_is_an_error() {
    let w = with_fixtures("contacts: {path: contacts_decimal_wide.parquet, key: email}\n", &["contacts_decimal_wide.parquet"], &[]);
    fails(&w.run(&["count"]), &["contacts_decimal_wide.parquet", "column `balance` is a decimal of 40 digits", "decimal(38, 2)"]);
}

#[test]
fn robust_load_parquet_cut_in_half_is_an_error_naming_it() {
    let w = with_fixtures("contacts: {path: truncated.parquet, key: email}\n", &["truncated.parquet"], &[]);
    fails(&w.run(&["run", "all"]), &["truncated.parquet", "not a readable Parquet file", "export or copy it again"]);
    assert!(!w.exists("out/all.csv"));
}

#[test]
fn robust_load_parquet_whose_data_is_cut_short_is_an_error_naming_it() {
    // The footer is whole but the column chunks run past the end of the
    // file: polars read out of bounds and aborted.
    for head in ["contacts: {path: cut_data.parquet, key: email}\n", "tables:\n  orders: {path: cut_data.parquet, key: email}\n"] {
        let w = with_fixtures(head, &["cut_data.parquet"], &[]);
        fails(&w.run(&["run", "all"]), &["cut_data.parquet: the Parquet file is cut short", "export or copy it again"]);
    }
}

#[test]
fn robust_load_parquet_timestamps_with_a_zone_are_local_time() {
    let seg = "name: on2\nwhere: {field: t, op: on, value: 2025-01-02}\n";
    let seg_ny = "name: on2ny\nwhere: {field: t_ny, op: on, value: 2025-01-02}\n";
    let w = with_fixtures("contacts: {path: contacts_tz.parquet, key: email}\n", &["contacts_tz.parquet"], &[("on2", seg), ("on2ny", seg_ny)]);
    w.run(&["run"]).ok();
    // 2025-01-01T23:30Z is 00:30 the next day in Paris; 10:00Z in July is 12:00.
    let (header, rows) = csv_rows(&w, "out/on2.csv");
    assert_eq!(header, s(&["email", "t", "t_ny"]));
    assert_eq!(rows, vec![s(&["a@x.fr", "2025-01-02T00:30:00", "2025-01-02T00:30:00"])]);
    assert_eq!(w.list_keys("out/on2ny.csv"), s(&["a@x.fr"]));
    w.run(&["run", "all"]).ok();
    let (_, rows) = csv_rows(&w, "out/all.csv");
    assert_eq!(rows[1], s(&["b@x.fr", "2025-07-01T12:00:00", "2025-07-01T12:00:00"]));
    assert_eq!(rows[2], s(&["c@x.fr", "", ""]));
}

#[test]
fn robust_load_parquet_uint64_above_i64_is_exact_text_with_a_note() {
    let seg = "name: big\nwhere: {field: big, op: eq, value: \"18446744073709551615\"}\n";
    let small = "name: small\nwhere: {field: small, op: gt, value: 1}\n";
    let w = with_fixtures("contacts: {path: contacts_uint64.parquet, key: email}\n", &["contacts_uint64.parquet"], &[("big", seg), ("small", small)]);
    let out = w.run(&["run"]);
    out.ok().stderr_has("contacts: column `big` holds unsigned numbers too large for an int (above 9223372036854775807); it is read as text");
    assert!(!out.stderr.contains("column `small`"), "{}", out.stderr);
    assert_eq!(w.list_keys("out/big.csv"), s(&["b@x.fr"]));
    // A column whose values fit stays a number.
    assert_eq!(w.list_keys("out/small.csv"), s(&["b@x.fr"]));
    w.run(&["run", "all"]).ok();
    let (_, rows) = csv_rows(&w, "out/all.csv");
    assert_eq!(rows, vec![s(&["a@x.fr", "1", "1"]), s(&["b@x.fr", "18446744073709551615", "2"]), s(&["c@x.fr", "", ""])]);
}
