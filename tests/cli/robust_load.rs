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

// ---------------------------------------------------------------- inputs are regular files

/// Runs `audience ARGS` in the folder, killed after `secs` seconds: a run
/// that reads a pipe or a device would otherwise hang the test.
fn run_within(w: &Work, args: &[&str], secs: u64) -> Out {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_audience"))
        .args(args)
        .current_dir(w.root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run audience");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed().as_secs() >= secs {
            child.kill().ok();
            panic!("`audience {}` still runs after {secs}s", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn mkfifo(w: &Work, rel: &str) {
    let p = w.path(rel);
    std::fs::remove_file(&p).ok();
    let ok = std::process::Command::new("mkfifo").arg(&p).status().expect("mkfifo").success();
    assert!(ok, "mkfifo {}", p.display());
}

fn link_to_dev_zero(w: &Work, rel: &str) {
    let p = w.path(rel);
    std::fs::remove_file(&p).ok();
    std::os::unix::fs::symlink("/dev/zero", &p).expect("symlink");
}

const CONTACTS: &str = "email,city\na@x.fr,Lyon\nb@x.fr,Paris\n";
const ORDERS: &str = "order_id,email,ordered_at,amount\n1,a@x.fr,2025-01-01,10\n";

#[test]
fn robust_load_a_fifo_as_contacts_is_an_error_naming_it() {
    let w = Work::project(CONTACTS, ORDERS, &[]);
    mkfifo(&w, "contacts.csv");
    fails(&run_within(&w, &["run", "all"], 20), &["contacts.csv: not a regular file (it is a FIFO)", "give the path of an exported file"]);
}

#[test]
fn robust_load_a_link_to_a_device_as_a_table_is_an_error_naming_it() {
    let w = Work::project(CONTACTS, ORDERS, &[]);
    link_to_dev_zero(&w, "orders.csv");
    fails(&run_within(&w, &["count"], 20), &["orders.csv: not a regular file (it is a character device)"]);
    // Parquet too: it is read through the same door.
    w.file("audience.yaml", &format!("contacts: {{path: contacts.parquet, key: email}}\n{TAIL}"));
    link_to_dev_zero(&w, "contacts.parquet");
    fails(&run_within(&w, &["count"], 20), &["contacts.parquet: not a regular file (it is a character device)"]);
}

#[test]
fn robust_load_a_fifo_in_a_glob_is_an_error_naming_it() {
    let w = Work::project(CONTACTS, ORDERS, &[]);
    w.file("audience.yaml", &format!("contacts: {{path: \"parts/*.csv\", key: email}}\n{TAIL}"));
    w.file("parts/a.csv", CONTACTS);
    mkfifo(&w, "parts/b.csv");
    fails(&run_within(&w, &["count"], 20), &["b.csv: not a regular file (it is a FIFO)"]);
}

#[test]
fn robust_load_a_fifo_or_a_device_as_a_list_or_suppress_file_is_an_error_naming_it() {
    let seg = "name: vip\nwhere: {field: city, op: eq, value: Lyon}\ninclude: {file: vip.csv}\n";
    let w = Work::project(CONTACTS, ORDERS, &[("vip", seg)]);
    mkfifo(&w, "segments/vip.csv");
    fails(&run_within(&w, &["run", "vip"], 20), &["vip.csv: not a regular file (it is a FIFO)"]);
    assert!(!w.exists("out/vip.csv"));
    w.file("audience.yaml", &format!("contacts: {{path: contacts.csv, key: email}}\nsuppress: [bounces.csv]\n{TAIL}"));
    link_to_dev_zero(&w, "bounces.csv");
    fails(&run_within(&w, &["run", "all"], 20), &["bounces.csv: not a regular file (it is a character device)"]);
}

// ---------------------------------------------------------------- an export that changes while read

#[test]
fn robust_load_contacts_written_while_read_is_an_error() {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let w = Work::project("", "", &[]);
    let mut big = String::from("email,city\n");
    for i in 0..300_000 {
        big.push_str(&format!("u{i}@x.fr,Paris\n"));
    }
    w.file("contacts.csv", &big);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let path = w.path("contacts.csv");
        std::thread::spawn(move || {
            // The exporting tool, still appending rows: one write per row.
            let mut f = std::fs::OpenOptions::new().append(true).open(path).expect("open");
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                f.write_all(format!("late{i}@x.fr,Lyon\n").as_bytes()).expect("append");
                i += 1;
            }
        })
    };
    let out = run_within(&w, &["run", "all"], 120);
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
    fails(&out, &["contacts.csv changed while it was read; run again once it is complete"]);
    assert!(!w.exists("out/all.csv"));
}

// ---------------------------------------------------------------- encodings

#[test]
fn robust_load_a_stray_byte_in_utf8_is_an_error_naming_file_and_line() {
    let seg = "name: chy\nwhere: {field: city, op: eq, value: Chambéry, case_sensitive: true}\n";
    let w = Work::project("", "", &[("chy", seg)]);
    // UTF-8 throughout, but for one Windows-1252 dash on line 3.
    let bytes = [&b"email,city\n"[..], "a@x.fr,Chambéry\n".as_bytes(), b"b@x.fr,Lyon \x96 Part-Dieu\n", "c@x.fr,Chambéry\n".as_bytes()].concat();
    w.bytes("contacts.csv", &bytes);
    fails(&w.run(&["run", "chy"]), &["contacts.csv:3: the file mixes two encodings", "byte 0x96", "fix the file", "`csv.encoding`"]);
    assert!(!w.exists("out/chy.csv"));
    // Said to be Windows-1252, it is obeyed: the UTF-8 letters are mojibake.
    w.file("audience.yaml", &format!("contacts: {{path: contacts.csv, key: email}}\ncsv: {{encoding: windows-1252}}\n{TAIL}"));
    w.run(&["run", "chy"]).ok();
    assert!(w.list_keys("out/chy.csv").is_empty());
    // Said to be UTF-8, the stray byte is the error it always was.
    w.file("audience.yaml", &format!("contacts: {{path: contacts.csv, key: email}}\ncsv: {{encoding: utf-8}}\n{TAIL}"));
    fails(&w.run(&["run", "chy"]), &["contacts.csv:3: the file is not valid UTF-8"]);
}

#[test]
fn robust_load_pure_windows_1252_is_still_read_as_windows_1252() {
    let seg = "name: chy\nwhere: {field: city, op: eq, value: Chambéry, case_sensitive: true}\n";
    let w = Work::project("", "", &[("chy", seg)]);
    w.bytes("contacts.csv", b"email,city\na@x.fr,Chamb\xe9ry\nb@x.fr,Lyon \x96 Part-Dieu\n");
    w.run(&["run", "chy"]).ok().stderr_has("contacts.csv: read as Windows-1252");
    assert_eq!(w.list_keys("out/chy.csv"), s(&["a@x.fr"]));
}

#[test]
fn robust_load_utf16_with_its_bom_is_read_as_utf16() {
    let seg = "name: chy\nwhere: {field: city, op: eq, value: Chambéry, case_sensitive: true}\n";
    let text = "email;city\r\na@x.fr;Chambéry\r\nb@x.fr;Lyon\r\n";
    let le: Vec<u8> = [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let be: Vec<u8> = [0xFE, 0xFF].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect();
    for bytes in [le, be] {
        let w = Work::project("", "", &[("chy", seg)]);
        w.bytes("contacts.csv", &bytes);
        w.run(&["run", "chy"]).ok();
        assert_eq!(w.list_keys("out/chy.csv"), s(&["a@x.fr"]));
        assert_eq!(w.read("out/chy.csv"), "email,city\na@x.fr,Chambéry\n");
    }
}

// ---------------------------------------------------------------- numbers that overflow

#[test]
fn robust_load_a_number_that_overflows_is_not_a_number() {
    let contacts = "email,score,ratio\na@x.fr,1.5,1.5\nb@x.fr,1e309,2\nc@x.fr,-2.5,-1e400\n";
    let seg = "name: s\nwhere: {field: score, op: contains, value: \"e309\"}\n";
    let w = Work::project(contacts, "", &[("s", seg)]);
    // Inferred: `1e309` keeps the column text, exported as written.
    w.run(&["run", "s"]).ok();
    assert_eq!(w.read("out/s.csv"), "email,score,ratio\nb@x.fr,1e309,2\n");
    // Declared float: a failed cast, missing and counted.
    w.file("audience.yaml", &format!("contacts: {{path: contacts.csv, key: email, columns: {{score: float, ratio: float}}}}\n{TAIL}"));
    let out = w.run(&["run", "all"]);
    out.ok()
        .stderr_has("contacts: 1 value(s) of column `score` are not float and were read as missing, first `1e309` on line 3 of")
        .stderr_has("contacts: 1 value(s) of column `ratio` are not float and were read as missing, first `-1e400` on line 4 of");
    assert_eq!(w.read("out/all.csv"), "email,score,ratio\na@x.fr,1.5,1.5\nb@x.fr,,2\nc@x.fr,-2.5,\n");
    assert!(!out.stderr.contains("inf"), "{}", out.stderr);
}

// ---------------------------------------------------------------- a table's date column

/// 14,000 orders over two contacts, one a day from 1990 on; `bad` replaces
/// the dates of the rows for which it returns a value.
fn many_orders(bad: impl Fn(usize) -> Option<&'static str>) -> String {
    let start = chrono_days(1990, 1, 1);
    let mut text = String::from("order_id,email,ordered_at,amount\n");
    for i in 0..14_000 {
        let email = if i % 2 == 0 { "a@x.fr" } else { "b@x.fr" };
        let date = bad(i).map(str::to_string).unwrap_or_else(|| day_text(start + i as i64));
        text.push_str(&format!("{i},{email},{date},1\n"));
    }
    text
}

/// Days since 1970-01-01 of a date (civil calendar).
fn chrono_days(y: i64, m: i64, d: i64) -> i64 {
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn day_text(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[test]
fn robust_load_one_bad_date_among_14000_orders_is_a_counted_failure() {
    let contacts = "email\na@x.fr\nb@x.fr\n";
    // Row 7000 is on line 7002 of the file (after the header).
    let orders = many_orders(|i| (i == 7000).then_some("2025-02-30"));
    let seg = "name: recent\nwhere: {field: last_order_date, op: after, value: 2028-04-01}\nexport: {columns: [email, order_count, first_order_date, last_order_date]}\n";
    let w = Work::project(contacts, &orders, &[("recent", seg)]);
    let out = w.run(&["run", "recent"]);
    out.ok().stderr_has("orders: 1 value(s) of column `ordered_at` are not date and were read as missing, first `2025-02-30` on line 7002 of");
    // 1990-01-01 + 13,999 days = 2028-04-30 (b), + 13,998 = 2028-04-29 (a).
    assert_eq!(
        w.read("out/recent.csv"),
        "email,order_count,first_order_date,last_order_date\na@x.fr,7000,1990-01-01,2028-04-29\nb@x.fr,7000,1990-01-02,2028-04-30\n"
    );
}

#[test]
fn robust_load_a_date_column_of_mostly_other_things_names_the_first_and_its_line() {
    let contacts = "email\na@x.fr\nb@x.fr\n";
    // American dates: only those whose day is at most 12 read as dates.
    let orders = "order_id,email,ordered_at,amount\n1,a@x.fr,01/02/2025,1\n2,b@x.fr,03/25/2025,1\n3,a@x.fr,04/30/2025,1\n4,b@x.fr,12/31/2025,1\n";
    let w = Work::project(contacts, orders, &[]);
    fails(
        &w.run(&["run", "all"]),
        &[
            "table `orders`",
            "orders.csv:3: its `date` column `ordered_at` holds `03/25/2025`, which is not a date",
            "75% of its values are not dates",
            "`columns: {ordered_at: date}`",
        ],
    );
    // Declared, as the message says: the values that are not dates are missing.
    w.file(
        "audience.yaml",
        &format!("contacts: {{path: contacts.csv, key: email}}\ntables:\n  orders: {{path: orders.csv, key: email, date: ordered_at, amount: amount, id: order_id, columns: {{ordered_at: date}}}}\n{TAIL}"),
    );
    w.run(&["run", "all"]).ok().stderr_has("orders: 3 value(s) of column `ordered_at` are not date and were read as missing, first `03/25/2025` on line 3 of");
}

#[test]
fn robust_load_a_folder_as_contacts_is_an_error_naming_it() {
    let w = Work::project(CONTACTS, ORDERS, &[]);
    std::fs::remove_file(w.path("contacts.csv")).unwrap();
    std::fs::create_dir(w.path("contacts.csv")).unwrap();
    fails(&w.run(&["count"]), &["contacts.csv: not a regular file (it is a folder)"]);
}

#[test]
fn robust_load_large_parquet_files_are_mapped_and_checked_the_same() {
    // Files above AUDIENCE_PARQUET_IN_MEMORY_MAX bytes are mapped, not read
    // whole: the same checks and types apply.
    let mapped = [("AUDIENCE_PARQUET_IN_MEMORY_MAX", "0")];
    let head = "tables:\n  orders: {path: orders_decimal128.parquet, key: email, date: ordered_at, amount: amount, id: order_id}\n";
    let w = with_fixtures(head, &["orders_decimal128.parquet"], &[("spent", SPENT)]);
    w.run_env(&mapped, &["run", "spent"]).ok();
    assert_eq!(w.read("out/spent.csv"), "email,total_spent,order_count\na@x.fr,30.75,2\nb@x.fr,12345678901.75,2\n");
    let w = with_fixtures("contacts: {path: cut_data.parquet, key: email}\n", &["cut_data.parquet"], &[]);
    fails(&w.run_env(&mapped, &["run", "all"]), &["cut_data.parquet: the Parquet file is cut short"]);
    let w = with_fixtures("contacts: {path: truncated.parquet, key: email}\n", &["truncated.parquet"], &[]);
    fails(&w.run_env(&mapped, &["run", "all"]), &["truncated.parquet: not a readable Parquet file"]);
}
