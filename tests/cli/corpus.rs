//! The bad-input corpus: one file per kind of broken export, segment or
//! project file under `tests/corpus/`, each swapped into a small working
//! project, with the exit status and the essentials of the message it must
//! give listed in `tests/corpus/expect.tsv`. Every case also holds the
//! promises no input may break: no panic, and a failed `run` leaves the
//! earlier lists byte for byte.
//!
//! `AUDIENCE_CORPUS_SHOW=1 cargo test --test cli corpus -- --nocapture`
//! prints what each case does instead of checking it (to write new lines).

use std::path::{Path, PathBuf};

use crate::util::{Out, Work};

const CONTACTS: &str = "email,first_name,city,newsletter,birth_date,optin\n\
ann@example.com,Ann,Lyon,oui,1990-05-01,true\n\
bob@example.com,Bob,Paris,non,1985-01-02,false\n\
cid@example.com,Cid,Lyon,oui,2001-12-31,true\n";

const ORDERS: &str = "order_id,email,ordered_at,amount\n\
1,ann@example.com,2025-01-10,12.5\n\
2,bob@example.com,2025-02-11,30\n\
3,ann@example.com,2025-03-12,8\n";

const BASE_SEGMENT: &str = "name: Lyon\nwhere: {field: city, op: eq, value: Lyon}\n";

fn project_file(contacts: &str, orders: &str) -> String {
    format!(
        "contacts: {{path: {contacts}, key: email, consent: newsletter}}\n\
         tables:\n  orders: {{path: {orders}, key: email, date: ordered_at, amount: amount, id: order_id}}\n\
         segments: segments\noutput: out\nas_of: 2025-06-30\ntimezone: Europe/Paris\n"
    )
}

struct Case {
    file: String,
    args: Vec<String>,
    status: i32,
    essentials: Vec<String>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus_dir().join("expect.tsv")).expect("tests/corpus/expect.tsv");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(f.len() >= 3, "expect.tsv: a line needs file, command and status: {l:?}");
            Case {
                file: f[0].to_string(),
                args: f[1].split_whitespace().map(str::to_string).collect(),
                status: f[2].parse().unwrap_or_else(|_| panic!("expect.tsv: bad status in {l:?}")),
                essentials: f.get(3).map(|e| e.split(" | ").map(str::to_string).filter(|s| !s.is_empty()).collect()).unwrap_or_default(),
            }
        })
        .collect()
}

/// A working project with `file` in its role (the folder it sits in), and
/// the lists of a clean run already in out/.
fn project_with(file: &str) -> Work {
    let w = Work::new();
    w.file("contacts.csv", CONTACTS).file("orders.csv", ORDERS).file("segments/lyon.yaml", BASE_SEGMENT);
    w.file("audience.yaml", &project_file("contacts.csv", "orders.csv"));
    w.run(&["run"]).ok();
    let bytes = std::fs::read(corpus_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let (role, name) = file.split_once('/').expect("role/name");
    match role {
        "contacts" => {
            w.bytes(&format!("data/{name}"), &bytes);
            w.file("audience.yaml", &project_file(&format!("data/{name}"), "orders.csv"));
        }
        "orders" => {
            w.bytes(&format!("data/{name}"), &bytes);
            w.file("audience.yaml", &project_file("contacts.csv", &format!("data/{name}")));
        }
        "segments" => {
            w.bytes(&format!("segments/{name}"), &bytes);
        }
        "project" => {
            w.bytes("audience.yaml", &bytes);
        }
        "suppress" => {
            w.bytes(&format!("data/{name}"), &bytes);
            w.file("audience.yaml", &format!("{}suppress: [data/{name}]\n", project_file("contacts.csv", "orders.csv")));
        }
        other => panic!("{file}: unknown role `{other}` (contacts, orders, segments, project, suppress)"),
    }
    w
}

fn check(case: &Case, out: &Out) -> Vec<String> {
    let mut wrong = Vec::new();
    if out.code != case.status {
        wrong.push(format!("exit status {} (wanted {})", out.code, case.status));
    }
    for e in &case.essentials {
        if !out.stderr.contains(e.as_str()) && !out.stdout.contains(e.as_str()) {
            wrong.push(format!("the output lacks {e:?}"));
        }
    }
    for bad in ["panicked", "RUST_BACKTRACE", "polars", "serde"] {
        if out.stderr.contains(bad) {
            wrong.push(format!("the message shows {bad:?}, not our own words"));
        }
    }
    wrong
}

#[test]
fn every_kind_of_bad_input_gets_its_status_and_message() {
    let show = std::env::var_os("AUDIENCE_CORPUS_SHOW").is_some();
    let cases = cases();
    let mut failures = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for case in &cases {
        kinds.insert(case.file.clone());
        let w = project_with(&case.file);
        let before = w.lists();
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let out = w.run(&args);
        if show {
            println!("=== {} ({}) -> {}\n{}{}", case.file, case.args.join(" "), out.code, out.stdout, out.stderr);
            continue;
        }
        let mut wrong = check(case, &out);
        if out.code != 0 && w.lists() != before {
            wrong.push("a failed command changed the lists in out/".to_string());
        }
        if !wrong.is_empty() {
            failures.push(format!("{} ({}):\n  {}\n--- stderr\n{}", case.file, case.args.join(" "), wrong.join("\n  "), out.stderr));
        }
    }
    assert!(failures.is_empty(), "{} of {} case(s) failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    // Every file of the corpus has its line, and there are enough kinds.
    let mut files = Vec::new();
    // `pending/` holds kinds whose defects are not fixed yet: they get a
    // line here once their message is right.
    for role in std::fs::read_dir(corpus_dir()).unwrap().flatten().filter(|e| e.path().is_dir() && e.file_name() != "pending") {
        for f in std::fs::read_dir(role.path()).unwrap().flatten() {
            files.push(format!("{}/{}", role.file_name().to_string_lossy(), f.file_name().to_string_lossy()));
        }
    }
    let missing: Vec<&String> = files.iter().filter(|f| !kinds.contains(*f)).collect();
    assert!(missing.is_empty(), "corpus files without a line in expect.tsv: {missing:?}");
    assert!(kinds.len() >= 60, "the corpus has {} kinds; it should have at least 60", kinds.len());
}
