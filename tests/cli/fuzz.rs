//! Fuzzing: a working project with one file mutated (a segment, the
//! project file, the contacts or the orders export) goes through `check`
//! and `run`. Whatever the bytes, the tool exits 0, 1 or 2, never panics or
//! hangs, and a failed run leaves the earlier lists as they were.
//!
//! `cargo test --test cli fuzz` tries 200 mutated projects; a longer run:
//! `AUDIENCE_FUZZ_CASES=2000 cargo test --release --test cli fuzz`.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::util::Work;

const FILES: [(&str, &str); 5] = [
    ("audience.yaml", "contacts: {path: contacts.csv, key: email, consent: newsletter}\ntables:\n  orders: {path: orders.csv, key: email, date: ordered_at, amount: amount, id: order_id, where: {field: status, op: neq, value: refunded}}\nmetrics:\n  big: {table: orders, where: {field: amount, op: gt, value: 20}, agg: count}\nsegments: segments\noutput: out\nas_of: 2025-06-30\ntimezone: Europe/Paris\nsuppress: [bounces.csv]\n"),
    ("segments/lyon.yaml", "name: Lyon buyers\nwhere:\n  all:\n    - {field: city, op: eq, value: lyon}\n    - any:\n        - {field: total_spent, op: gte, value: 10}\n        - {table: orders, agg: count, op: gte, value: 2}\n    - not: {field: first_name, op: starts_with, value: Z}\nexport: {columns: [email, first_name, total_spent], rename: {email: Email}}\n"),
    ("segments/recent.yaml", "name: Recent\nscope: {table: orders, where: {field: ordered_at, op: in_last, value: 6m}}\nwhere: {field: birth_date, op: before, value: 2000-01-01}\ninclude: [cid@example.com]\nexport: {format: jsonl}\n"),
    ("contacts.csv", "email,first_name,city,newsletter,birth_date\nann@example.com,Ann,Lyon,oui,1990-05-01\nbob@example.com,Bob,Paris,non,1985-01-02\ncid@example.com,Cid,Lyon,oui,2001-12-31\n\"dan@example.com\",\"Dan, Jr\",Lyon,yes,1970-07-07\n"),
    ("orders.csv", "order_id,email,ordered_at,amount,status\n1,ann@example.com,2025-01-10,\"12,5\",paid\n2,bob@example.com,2025-02-11,30,refunded\n3,ann@example.com,2025-03-12 10:30,8,paid\n4,dan@example.com,15/04/2025,\"1 234,50\",paid\n"),
];

/// Fragments that tend to break parsers: YAML and CSV syntax, odd text.
const TOKENS: [&str; 32] = [
    ":",
    "-",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "'",
    ",",
    ";",
    "\t",
    "\n",
    "\r\n",
    " ",
    "#",
    "&a",
    "*a",
    "!!int",
    "---",
    "\u{feff}",
    "é",
    "\u{0}",
    "\u{ff}",
    "999999999999999999999",
    "-1e309",
    "NaN",
    "null",
    "~",
    "all:",
    "not:",
    "{segment: lyon}",
    "op: matches",
];

#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, token: usize },
    Byte { at: usize, byte: u8 },
    DuplicateLine { at: usize },
    Truncate { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..12).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, token)| Edit::Insert { at, token }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Byte { at, byte }),
        any::<usize>().prop_map(|at| Edit::DuplicateLine { at }),
        any::<usize>().prop_map(|at| Edit::Truncate { at }),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = bytes.len().max(1);
        match *e {
            Edit::Delete { at, len } => {
                let at = at % n;
                let end = (at + len).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Edit::Insert { at, token } => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, TOKENS[token].bytes());
            }
            Edit::Byte { at, byte } => {
                if !bytes.is_empty() {
                    let at = at % bytes.len();
                    bytes[at] = byte;
                }
            }
            Edit::DuplicateLine { at } => {
                let lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
                if !lines.is_empty() {
                    let i = at % lines.len();
                    let mut out = Vec::new();
                    for (j, l) in lines.iter().enumerate() {
                        out.extend_from_slice(l);
                        if j == i {
                            out.extend_from_slice(l);
                        }
                    }
                    bytes = out;
                }
            }
            Edit::Truncate { at } => {
                let at = at % n;
                bytes.truncate(at);
            }
        }
    }
    bytes
}

fn base() -> Work {
    let w = Work::new();
    for (name, text) in FILES {
        w.file(name, text);
    }
    w.file("bounces.csv", "email\nbob@example.com\n");
    w
}

/// Runs the binary with a time limit: a hang is a failure too.
fn run(w: &Work, args: &[&str]) -> Result<(i32, String), TestCaseError> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_audience"))
        .args(args)
        .current_dir(w.root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run audience");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            return Err(TestCaseError::fail(format!("`audience {}` hung for 60 s", args.join(" "))));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Ok((status.code().unwrap_or(-1), reader.join().unwrap_or_default()))
}

#[test]
fn mutated_projects_never_crash_and_failed_runs_touch_no_list() {
    let cases = std::env::var("AUDIENCE_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(200);
    let template = base();
    let (code, stderr) = run(&template, &["run"]).unwrap();
    assert_eq!(code, 0, "the unmutated project must run:\n{stderr}");
    let baseline = template.lists();
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let strategy = (0..FILES.len(), prop::collection::vec(edit(), 1..5));
    runner
        .run(&strategy, |(file, edits)| {
            let w = base();
            for (name, bytes) in &baseline {
                w.bytes(&format!("out/{name}"), bytes);
            }
            let (name, text) = FILES[file];
            w.bytes(name, &apply(text.as_bytes().to_vec(), &edits));
            for args in [&["check"][..], &["run"][..]] {
                let (code, stderr) = run(&w, args)?;
                prop_assert!(matches!(code, 0..=2), "`audience {}` exited {code} on mutated {name}:\n{stderr}", args.join(" "));
                prop_assert!(!stderr.contains("panicked"), "`audience {}` panicked on mutated {name}:\n{stderr}", args.join(" "));
                // A guard (an expectation, the empty-list guard) keeps its
                // segment's list and replaces the others, by design: the kept
                // ones must be untouched. Any other failure changes nothing.
                let kept: Vec<String> = stderr
                    .lines()
                    .filter_map(|l| l.strip_prefix("expectation failed: ").or_else(|| l.strip_prefix("empty list refused: ")))
                    .filter_map(|l| l.split_once(':').map(|(alias, _)| format!("{alias}.csv")))
                    .collect();
                if args == ["run"] && code != 0 && kept.is_empty() {
                    prop_assert!(w.lists() == baseline, "a failed run changed the lists (mutated {name}):\n{stderr}");
                }
                if args == ["run"] && code != 0 {
                    let now = w.lists();
                    for list in &kept {
                        let before = baseline.iter().find(|(n, _)| n == list);
                        prop_assert!(before == now.iter().find(|(n, _)| n == list), "{list} was kept, yet changed (mutated {name}):\n{stderr}");
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}
