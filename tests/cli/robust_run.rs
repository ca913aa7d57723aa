//! `run` under faults: lists replaced all or nothing, the audit trail whole,
//! one run per output folder, temporary files nobody can plant, recovery
//! from a run killed at any point, and exports that are safe to open.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::Work;

const CONTACTS: &str = "email,first_name,city\nann@example.com,Ann,Lyon\nbob@example.com,Bob,Paris\ncid@example.com,Cid,Nice\n";
/// The same people a day later: every list changes.
const CONTACTS_NEXT: &str = "email,first_name,city\nann@example.com,Ann,Paris\nbob@example.com,Bob,Nice\ncid@example.com,Cid,Lyon\ndan@example.com,Dan,Lyon\n";

fn three() -> Work {
    Work::project(
        CONTACTS,
        "",
        &[
            ("lyon", "name: Lyon\nwhere: {field: city, op: eq, value: Lyon}\n"),
            ("nice", "name: Nice\nwhere: {field: city, op: eq, value: Nice}\n"),
            ("paris", "name: Paris\nwhere: {field: city, op: eq, value: Paris}\n"),
        ],
    )
}

const LISTS: [&str; 3] = ["out/lyon.csv", "out/nice.csv", "out/paris.csv"];

fn lists(w: &Work) -> Vec<String> {
    LISTS.iter().map(|l| w.read(l)).collect()
}

/// Every file under `dir` whose name marks it as temporary.
fn temporaries(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for sub in [dir.to_path_buf(), dir.join(".audience")] {
        if let Ok(entries) = std::fs::read_dir(&sub) {
            for e in entries.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if n.contains("tmp") {
                    found.push(n);
                }
            }
        }
    }
    found
}

fn audit(w: &Work) -> Vec<serde_json::Value> {
    w.read("out/.audience/runs.jsonl").lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("torn audit line {l:?}: {e}"))).collect()
}

/// Item 1: a list that cannot be replaced fails the run before any list
/// changes; a rename failing half-way puts back those already replaced.
#[test]
fn a_list_that_cannot_be_replaced_changes_no_list() {
    let w = three();
    w.run(&["run"]).ok();
    let before = lists(&w);
    w.file("contacts.csv", CONTACTS_NEXT);
    std::fs::remove_file(w.path("out/paris.csv")).unwrap();
    std::fs::create_dir(w.path("out/paris.csv")).unwrap();
    w.run(&["run"]).code(1).stderr_has("paris.csv").stderr_has("is a folder");
    assert_eq!(w.read("out/lyon.csv"), before[0]);
    assert_eq!(w.read("out/nice.csv"), before[1]);
    assert!(temporaries(&w.path("out")).is_empty(), "{:?}", temporaries(&w.path("out")));
    let last = audit(&w).pop().unwrap();
    assert_eq!(last["status"], "failed");
    assert!(last["error"].as_str().unwrap().contains("is a folder"), "{last}");

    std::fs::remove_dir(w.path("out/paris.csv")).unwrap();
    std::fs::write(w.path("out/paris.csv"), &before[2]).unwrap();
    let out = w.run_env(&[("AUDIENCE_FAIL_AT", "rename:3")], &["run"]);
    out.code(1).stderr_has("paris.csv").stderr_has("every list was left as it was before this run");
    assert_eq!(lists(&w), before);
    assert!(temporaries(&w.path("out")).is_empty(), "{:?}", temporaries(&w.path("out")));
}

/// Item 2: a full disk while appending the audit record puts every list
/// back and leaves no torn line.
#[test]
fn a_full_disk_at_the_audit_record_puts_every_list_back() {
    let w = three();
    w.run(&["run"]).ok();
    let before = lists(&w);
    let trail = w.read("out/.audience/runs.jsonl");
    std::fs::rename(w.path("out/.audience/runs.jsonl"), w.path("runs.saved")).unwrap();
    std::os::unix::fs::symlink("/dev/full", w.path("out/.audience/runs.jsonl")).unwrap();
    w.file("contacts.csv", CONTACTS_NEXT);
    w.run(&["run"]).code(1).stderr_has("runs.jsonl").stderr_has("No space left on device").stderr_has("every list was left as it was");
    assert_eq!(lists(&w), before);
    assert!(temporaries(&w.path("out")).is_empty());
    // With room again, the next run replaces them and the trail goes on.
    std::fs::remove_file(w.path("out/.audience/runs.jsonl")).unwrap();
    std::fs::write(w.path("out/.audience/runs.jsonl"), trail).unwrap();
    w.run(&["run"]).ok();
    assert_eq!(w.list_keys("out/lyon.csv"), ["cid@example.com", "dan@example.com"]);
    assert_eq!(audit(&w).len(), 6);
}

/// Item 3: an output folder that holds an input is refused before
/// anything is read or written.
#[test]
fn an_output_folder_holding_an_input_is_refused() {
    let w = Work::project(CONTACTS, "", &[("contacts", "name: Everyone in Lyon\nwhere: {field: city, op: eq, value: Lyon}\n")]);
    let project = w.read("audience.yaml").replace("output: out", "output: .");
    w.file("audience.yaml", &project);
    let out = w.run(&["run"]);
    out.code(1).stderr_has("`output` (").stderr_has("holds an input of the project").stderr_has("contacts.csv");
    assert_eq!(w.read("contacts.csv"), CONTACTS);
    assert!(!w.exists(".audience"));
    // Nor may a union overwrite an input.
    let w = three();
    w.run(&["run", "--union", "lyon", "nice", "-o", "contacts.csv"]).code(1).stderr_has("is an input of the project");
    assert_eq!(w.read("contacts.csv"), CONTACTS);
}

/// Item 4: a second run on the same output fails at once, naming the
/// first's process id; concurrent runs never tear the audit trail.
#[test]
fn a_second_run_on_one_output_fails_at_once() {
    let w = three();
    w.run(&["run"]).ok();
    let lock = std::fs::OpenOptions::new().read(true).write(true).open(w.path("out/.audience/lock")).unwrap();
    lock.try_lock().unwrap();
    std::fs::write(w.path("out/.audience/lock"), "4242").unwrap();
    w.run(&["run"]).code(1).stderr_has("another run (process 4242) is writing to this folder");
    drop(lock);
    w.run(&["run"]).ok();

    let runs: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_audience"))
                .arg("run")
                .current_dir(w.root())
                .stderr(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for r in runs {
        let out = r.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => {}
            Some(1) => assert!(stderr.contains("another run (process "), "{stderr}"),
            other => panic!("exit {other:?}: {stderr}"),
        }
    }
    assert!(audit(&w).len() >= 6 + 3, "every line is whole JSON");
}

/// Item 5: temporary names cannot be predicted, a link planted under an
/// old temporary name is never followed, and leftovers are removed.
#[test]
fn planted_links_are_never_followed_and_leftovers_are_removed() {
    let w = three();
    w.file("victim.txt", "precious\n");
    std::fs::create_dir_all(w.path("out")).unwrap();
    // The names earlier versions used, for the next thousands of pids.
    let me = std::process::id();
    for pid in me..me + 2000 {
        std::os::unix::fs::symlink(w.path("victim.txt"), w.path(&format!("out/.lyon.csv.tmp-{pid}"))).unwrap();
    }
    w.file("out/.audience-tmp-left-by-a-killed-run", "half a list");
    w.file("out/.nice.csv.tmp-99999999", "half a list");
    w.run(&["run"]).ok();
    assert_eq!(w.read("victim.txt"), "precious\n");
    assert_eq!(w.list_keys("out/lyon.csv"), ["ann@example.com"]);
    assert!(temporaries(&w.path("out")).is_empty(), "{:?}", temporaries(&w.path("out")));
}

/// Item 6: failed runs and unions are in the audit trail; an expectation
/// failure with no earlier list says so, before the summary.
#[test]
fn failures_and_unions_are_audited_and_messages_tell_the_truth() {
    let w = three();
    w.file("segments/nice.yaml", "name: Nice\nwhere: {field: city, op: eq, value: Nice}\nexpect: {min: 5}\n");
    let out = w.run(&["run"]);
    out.code(1).stderr_has("expectation failed: nice: 1 recipients, below the expected min of 5; no list was written (there was no earlier one)");
    let failure = out.stderr.find("expectation failed").unwrap();
    let summary = out.stderr.find("wrote 2 list(s)").expect("summary");
    assert!(failure < summary, "{}", out.stderr);
    out.stderr_has("1 segment(s) failed their expectations and were not replaced");
    assert!(!w.exists("out/nice.csv"));
    let lines = audit(&w);
    let nice = lines.iter().find(|l| l["alias"] == "nice").unwrap();
    assert_eq!((nice["status"].as_str(), nice["written"].as_bool()), (Some("kept"), Some(false)));

    w.run(&["run", "--union", "lyon", "paris", "-o", "campaign.csv"]).ok();
    let last = audit(&w).pop().unwrap();
    assert_eq!(last["status"], "written");
    assert_eq!(last["union"], serde_json::json!(["lyon", "paris"]));
    assert_eq!(last["recipients"], 2);
    assert_eq!(w.list_keys("campaign.csv"), ["ann@example.com", "bob@example.com"]);

    w.file("segments/paris.yaml", "name: Paris\nwhere: {field: town, op: eq, value: Paris}\n");
    w.run(&["run"]).code(1);
    let last = audit(&w).pop().unwrap();
    assert_eq!(last["status"], "failed");
    assert!(last["error"].is_string());
}

/// Item 15: JSON Lines objects keep the export's column order, key first.
#[test]
fn json_lines_keep_the_export_column_order() {
    let w = Work::project(
        "email,zip,age,city\nann@example.com,69001,31,Lyon\n",
        "",
        &[("all-jsonl", "name: All\nwhere: {all: []}\nexport: {format: jsonl, columns: [email, zip, city, age]}\n")],
    );
    w.run(&["run"]).ok();
    assert_eq!(w.read("out/all-jsonl.jsonl"), "{\"email\":\"ann@example.com\",\"zip\":\"69001\",\"city\":\"Lyon\",\"age\":31}\n");
}

/// Item 17: in the spreadsheet style, text cells a spreadsheet would run
/// as formulas get a leading `'`; numbers and other styles stay as they are.
#[test]
fn spreadsheet_exports_neutralise_formulas() {
    let contacts =
        "email,note,balance,phone\nann@example.com,=HYPERLINK(\"http://x\"),-5,+33612345678\nbob@example.com,@SUM(A1),3,\tx\ncid@example.com,plain,,-\n";
    let w = Work::project(
        contacts,
        "",
        &[
            ("excel", "name: Excel\nwhere: {all: []}\nexport: {csv: {separator: \";\", bom: true}}\n"),
            ("kept", "name: Kept\nwhere: {all: []}\nexport: {csv: {separator: \";\", bom: true, formulas: keep}}\n"),
            ("plain", "name: Plain\nwhere: {all: []}\n"),
            ("escaped", "name: Escaped\nwhere: {all: []}\nexport: {csv: {formulas: escape}}\n"),
        ],
    );
    w.run(&["run"]).ok();
    let bom = "\u{feff}";
    assert_eq!(w.read("out/excel.csv"), format!("{bom}email;note;balance;phone\nann@example.com;\"'=HYPERLINK(\"\"http://x\"\")\";-5;'+33612345678\nbob@example.com;'@SUM(A1);3;x\ncid@example.com;plain;;'-\n"));
    assert_eq!(w.read("out/kept.csv"), format!("{bom}email;note;balance;phone\nann@example.com;\"=HYPERLINK(\"\"http://x\"\")\";-5;+33612345678\nbob@example.com;@SUM(A1);3;x\ncid@example.com;plain;;-\n"));
    assert_eq!(
        w.read("out/plain.csv"),
        "email,note,balance,phone\nann@example.com,\"=HYPERLINK(\"\"http://x\"\")\",-5,+33612345678\nbob@example.com,@SUM(A1),3,x\ncid@example.com,plain,,-\n"
    );
    assert_eq!(w.read("out/escaped.csv"), "email,note,balance,phone\nann@example.com,\"'=HYPERLINK(\"\"http://x\"\")\",-5,'+33612345678\nbob@example.com,'@SUM(A1),3,x\ncid@example.com,plain,,'-\n");
    w.file("segments/bad.yaml", "name: Bad\nwhere: {all: []}\nexport: {csv: {formulas: kep}}\n");
    w.run(&["check", "--no-data"]).code(1).stderr_has("bad.yaml:3:").stderr_has("`formulas` is `keep` or `escape`").stderr_has("keep");
}

/// A run killed at every step of replacing its lists leaves each list old
/// or new, a mix only while its journal says so, and the next run
/// recovers, records what it did, and removes every temporary file.
#[test]
fn a_run_killed_anywhere_is_recovered_by_the_next() {
    let points = ["staged", "journal", "rename:1", "rename:2", "rename:3", "audit", "committed"];
    let fresh = three();
    fresh.file("contacts.csv", CONTACTS_NEXT);
    fresh.run(&["run"]).ok();
    let new = lists(&fresh);
    for point in points {
        let w = three();
        w.run(&["run"]).ok();
        let old = lists(&w);
        let trail_before = audit(&w).len();
        w.file("contacts.csv", CONTACTS_NEXT);
        let killed = w.run_env(&[("AUDIENCE_CRASH_AT", point)], &["run"]);
        assert!(killed.code != 0 && killed.code != 1, "{point}: the run was not killed (exit {})", killed.code);
        let now = lists(&w);
        let mut kinds = BTreeMap::new();
        for (i, l) in now.iter().enumerate() {
            let kind = if *l == old[i] {
                "old"
            } else if *l == new[i] {
                "new"
            } else {
                panic!("{point}: {} is neither the old nor the new list:\n{l}", LISTS[i])
            };
            *kinds.entry(kind).or_insert(0) += 1;
        }
        if kinds.len() > 1 {
            assert!(w.exists("out/.audience/journal.json"), "{point}: lists of two runs mixed with no journal");
        }
        let next = w.run(&["run"]);
        next.ok();
        let recovering = !matches!(point, "staged");
        if recovering {
            next.stderr_has("was interrupted");
        }
        assert_eq!(lists(&w), new, "{point}");
        assert!(temporaries(&w.path("out")).is_empty(), "{point}: {:?}", temporaries(&w.path("out")));
        assert!(!w.exists("out/.audience/journal.json"), "{point}");
        let trail = audit(&w);
        let recovered: Vec<_> = trail.iter().filter(|l| l["status"] == "recovered").collect();
        if recovering {
            assert_eq!(recovered.len(), 1, "{point}: {trail:?}");
            let action = if point == "committed" { "completed" } else { "undone" };
            assert_eq!(recovered[0]["action"], action, "{point}");
        } else {
            assert!(recovered.is_empty(), "{point}");
        }
        let written = if point == "committed" { 6 } else { 3 };
        assert_eq!(trail.iter().filter(|l| l["status"] == "written").count(), trail_before + written, "{point}: {trail:?}");
    }
}
