//! Robustness of the YAML side: odd files, deep nesting, long reference
//! chains, messages in our own words.

use crate::util::Work;

const CONTACTS: &str = "email,city,sms_optin\na@x.io,Lyon,true\nb@x.io,Paris,false\nc@x.io,,\n";
const ORDERS: &str = "order_id,email,ordered_at,amount\n1,a@x.io,2025-06-01,10\n";

#[test]
fn as_of_takes_a_negative_offset_as_a_separate_argument() {
    // The order of 2025-06-01 is before any as_of a month before today.
    let w = Work::project(CONTACTS, ORDERS, &[("before", "name: before\nwhere: {field: last_order_date, op: before, value: today}\n")]);
    let c = w.counts(&["before", "--as-of", "-1m"]);
    assert_eq!(c[0]["members"], 1);
}

const CITY: &str = "name: lyon\nwhere: {field: city, op: eq, value: Lyon}\n";

#[test]
fn a_segment_file_that_is_a_fifo_or_a_device_is_an_error_naming_it() {
    let w = Work::project(CONTACTS, ORDERS, &[("lyon", CITY)]);
    let status = std::process::Command::new("mkfifo").arg(w.path("segments/pipe.yaml")).status().expect("mkfifo");
    assert!(status.success());
    std::os::unix::fs::symlink("/dev/zero", w.path("segments/zero.yaml")).expect("symlink");
    for args in [&["check"][..], &["count"], &["check", "segments/pipe.yaml"]] {
        let out = w.run(args);
        out.code(1).stderr_has("segments/pipe.yaml:1:1: cannot read the file: it is a FIFO (named pipe), not a regular file");
        if args.len() == 1 {
            out.stderr_has("segments/zero.yaml:1:1: cannot read the file: it is a device, not a regular file");
        }
    }
}

#[test]
fn a_project_file_that_is_a_fifo_is_an_error_naming_it() {
    let w = Work::new();
    let status = std::process::Command::new("mkfifo").arg(w.path("audience.yaml")).status().expect("mkfifo");
    assert!(status.success());
    w.run(&["count"]).code(1).stderr_has("audience.yaml: cannot read the file: it is a FIFO (named pipe), not a regular file");
}

#[test]
fn a_bom_at_the_start_of_a_yaml_file_is_ignored() {
    let w = Work::project(CONTACTS, ORDERS, &[("lyon", &format!("\u{feff}{CITY}"))]);
    let project = w.read("audience.yaml");
    w.file("audience.yaml", &format!("\u{feff}{project}"));
    w.run(&["check"]).ok();
    assert_eq!(w.members("lyon"), ["a@x.io"]);
    // Positions after a BOM are those an editor shows.
    w.file("segments/bad.yaml", "\u{feff}name: bad\nwhere: {field: city, op: eqq, value: Lyon}\n");
    w.run(&["check", "--no-data"]).code(1).stderr_has("segments/bad.yaml:2:26: unknown operator `eqq`");
}

#[test]
fn in_and_not_in_on_a_bool_field_take_true_and_false() {
    // sms_optin is read as bool: a true, b false, c missing.
    let seg = |alias: &str, cond: &str| (alias.to_string(), format!("name: {alias}\nwhere: {cond}\n"));
    let files = [
        seg("in-true", "{field: sms_optin, op: in, value: [true]}"),
        seg("in-false", "{field: sms_optin, op: in, value: [false]}"),
        seg("in-both", "{field: sms_optin, op: in, value: [true, false]}"),
        seg("not-in-true", "{field: sms_optin, op: not_in, value: [true]}"),
        seg("in-words", "{field: sms_optin, op: in, value: [yes]}"),
        seg("in-empty", "{field: sms_optin, op: in, value: []}"),
    ];
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, y)| (a.as_str(), y.as_str())).collect();
    let w = Work::project(CONTACTS, ORDERS, &refs);
    w.run(&["check"]).ok();
    w.run(&["run"]).ok();
    assert_eq!(w.list_keys("out/in-true.csv"), ["a@x.io"]);
    assert_eq!(w.list_keys("out/in-false.csv"), ["b@x.io"]);
    assert_eq!(w.list_keys("out/in-both.csv"), ["a@x.io", "b@x.io"]);
    assert_eq!(w.list_keys("out/not-in-true.csv"), ["b@x.io", "c@x.io"]);
    assert_eq!(w.list_keys("out/in-words.csv"), ["a@x.io"]);
    assert!(w.list_keys("out/in-empty.csv").is_empty());
    w.file("segments/bad.yaml", "name: bad\nwhere: {field: sms_optin, op: in, value: [true, maybe]}\n");
    w.run(&["check"]).code(1).stderr_has("segments/bad.yaml:2:42: `sms_optin` is a bool field; operator `in` takes true and false here, not `maybe`");
}

#[test]
fn a_wrong_kind_hint_names_the_type_the_operator_needs_and_where_to_declare_it() {
    // `signup` has one bad value, so it is read as text.
    let contacts = "email,signup,score\na@x.io,2025-01-01,12\nb@x.io,oops,n/a\n";
    let w = Work::project(
        contacts,
        ORDERS,
        &[
            ("after", "name: after\nwhere: {field: signup, op: after, value: 2025-01-15}\n"),
            ("between-dates", "name: b\nwhere: {field: signup, op: between, value: [2025-01-01, 2025-02-01]}\n"),
            ("between-numbers", "name: c\nwhere: {field: score, op: between, value: [1, 20]}\n"),
            ("row", "name: d\nwhere: {table: orders, where: {field: order_id, op: before, value: today}}\n"),
        ],
    );
    let out = w.run(&["check"]);
    out.code(1)
        .stderr_has("segments/after.yaml:2:42: `signup` is a text field; operator `after` needs a date field")
        .stderr_has("hint: check the operator, or declare the column's type in audience.yaml: `contacts: columns: {signup: date}`")
        .stderr_has("segments/between-dates.yaml:2:44: `signup` is a text field; operator `between` compares numbers or dates")
        .stderr_has("segments/between-numbers.yaml:2:43: `score` is a text field")
        .stderr_has("segments/row.yaml:2:68: `order_id` is an int field; operator `before` needs a date field")
        .stderr_has("`contacts: columns: {score: float}`")
        .stderr_has("`tables: orders: columns: {order_id: date}`");
    assert_eq!(out.stderr.matches("{signup: date}").count(), 2, "{}", out.stderr);
}

#[test]
fn a_suppress_or_list_file_that_does_not_exist_is_a_check_error_at_its_entry() {
    let w = Work::project(CONTACTS, ORDERS, &[("lyon", "name: lyon\nwhere: {field: city, op: eq, value: Lyon}\nexclude: {file: staff.csv}\n")]);
    let project = w.read("audience.yaml");
    w.file("audience.yaml", &format!("{project}suppress:\n  - bounces.csv\n  - {{file: unsub.csv, purpose: marketing}}\n"));
    w.run(&["check"])
        .code(1)
        .stderr_has("audience.yaml:9:5: cannot read the suppress file:")
        .stderr_has("bounces.csv: list file not found")
        .stderr_has("audience.yaml:10:12: cannot read the suppress file:")
        .stderr_has("segments/lyon.yaml:3:17: cannot read the `exclude` list:");
    // The commands that evaluate report every unreadable list too, located.
    for args in [&["count"][..], &["run"], &["show", "lyon"]] {
        w.run(args)
            .code(1)
            .stderr_has("segments/lyon.yaml:3:17: cannot read the `exclude` list:")
            .stderr_has("staff.csv: list file not found")
            .stderr_has("audience.yaml:9:5: cannot read the suppress file:")
            .stderr_has("audience.yaml:10:12: cannot read the suppress file:");
    }
}

#[test]
fn check_compiles_a_regex_as_run_does_and_reports_it_once() {
    let w = Work::project(CONTACTS, ORDERS, &[("big", "name: big\nwhere: {field: city, op: matches, value: \"[ks]{50000}\"}\n")]);
    for args in [&["check"][..], &["check", "--no-data"], &["count"]] {
        let out = w.run(args);
        out.code(1).stderr_has("segments/big.yaml:2:42: the regular expression is too large: compiled with case ignored");
        assert_eq!(out.stderr.matches("too large").count(), 1, "{}", out.stderr);
    }
    // Case-sensitive, the same pattern fits, in check and in run.
    w.file("segments/big.yaml", "name: big\nwhere: {field: city, op: matches, value: \"^[ks]{50000}$\", case_sensitive: true}\n");
    w.run(&["check"]).ok();
    assert_eq!(w.counts(&["big"])[0]["members"], 0);
}

/// Item 18: export headers that would repeat, and an empty column list, are
/// errors from `check` at their entry, and stop every command alike.
#[test]
fn export_columns_that_would_repeat_are_check_errors() {
    let cases = [
        ("export: {columns: [email, city, city]}", "column `city` is listed twice"),
        (
            "export: {columns: [email, first_name, city], rename: {first_name: Name, city: Name}}",
            "columns `first_name` and `city` would both be exported as `Name`",
        ),
        ("export: {columns: [email, first_name, city], rename: {first_name: city}}", "columns `first_name` and `city` would both be exported as `city`"),
        ("export: {columns: []}", "`export.columns` is empty"),
    ];
    for (export, message) in cases {
        let w = Work::project(
            "email,first_name,city\na@x.io,Ann,Lyon\n",
            ORDERS,
            &[("lyon", &format!("name: lyon\nwhere: {{field: city, op: eq, value: Lyon}}\n{export}\n"))],
        );
        for args in [&["check", "--no-data"][..], &["check"], &["count"], &["show", "lyon"], &["run"]] {
            w.run(args).code(1).stderr_has("segments/lyon.yaml:3:").stderr_has(message);
        }
        assert!(!w.exists("out/lyon.csv"), "{export}");
    }
}

/// Item 22 (part): `rfm --scores` and `--plot` refuse extensions they
/// cannot write, as usage errors, and write nothing.
#[test]
fn rfm_outputs_refuse_extensions_they_cannot_write() {
    let w = Work::project(CONTACTS, ORDERS, &[]);
    w.run(&["rfm", "--scores", "x.xlsx"]).code(2).stderr_has("--scores x.xlsx").stderr_has(".csv, .parquet or .jsonl");
    w.run(&["rfm", "--plot", "x.png"]).code(2).stderr_has("--plot x.png").stderr_has(".svg");
    assert!(!w.exists("x.xlsx") && !w.exists("x.png"));
    w.run(&["rfm", "--scores", "x.csv", "--plot", "x.svg"]).ok();
    assert!(w.exists("x.csv") && w.exists("x.svg"));
}

/// `{not: {not: … c …}}`, `depth` levels, in flow style (as a JSON generator
/// would write it) or in block style (one key per line).
fn nested_not(depth: usize, flow: bool, leaf: &str) -> String {
    if flow {
        format!("name: deep\nwhere: {}{leaf}{}\n", "{not: ".repeat(depth), "}".repeat(depth))
    } else {
        let mut s = String::from("name: deep\nwhere:\n");
        for i in 0..depth {
            s.push_str(&format!("{}not:\n", "  ".repeat(i + 1)));
        }
        s.push_str(&format!("{}{leaf}\n", "  ".repeat(depth + 1)));
        s
    }
}

#[test]
fn conditions_nest_far_beyond_yaml_libraries_limits() {
    // serde_yaml stopped at 128 levels and saphyr's scanner at 255 flow levels.
    let leaf_flow = "{field: city, op: eq, value: Lyon}";
    let cases = [(3000, true, leaf_flow), (3001, true, leaf_flow), (400, false, "{field: city, op: eq, value: Lyon}")];
    for (depth, flow, leaf) in cases {
        let w = Work::project(CONTACTS, ORDERS, &[("deep", &nested_not(depth, flow, leaf))]);
        w.run(&["check", "--no-data"]).ok();
        // An even number of `not` is the leaf itself; an odd one its negation,
        // which holds for a missing city too.
        let want: &[&str] = if depth % 2 == 0 { &["a@x.io"] } else { &["b@x.io", "c@x.io"] };
        assert_eq!(w.members("deep"), want, "depth {depth}, flow {flow}");
    }
}

#[test]
fn a_chain_of_twenty_thousand_references_is_evaluated() {
    let w = Work::project(CONTACTS, ORDERS, &[("s0", CITY)]);
    let n = 20_000;
    for i in 1..n {
        w.file(&format!("segments/s{i}.yaml"), &format!("name: s{i}\nwhere: {{segment: s{}}}\n", i - 1));
    }
    let last = format!("s{}", n - 1);
    let c = w.counts(&[&last]);
    assert_eq!((c[0]["alias"].as_str(), c[0]["members"].as_u64()), (Some(last.as_str()), Some(1)));
    assert_eq!(w.members(&last), ["a@x.io"]);
    // A cycle at the end of a long chain is still named, not a crash.
    w.file("segments/s0.yaml", &format!("name: s0\nwhere: {{segment: {last}}}\n"));
    w.run(&["count", &last]).code(1).stderr_has("segment references form a cycle:");
}

#[test]
fn deep_conditions_on_table_rows_are_evaluated() {
    // Alternating all/any cannot be flattened: the row filter stays deep.
    let mut c = "{field: amount, op: gt, value: 5}".to_string();
    for i in 0..600 {
        c = if i % 2 == 0 { format!("{{any: [{c}, {{field: amount, op: lt, value: -5}}]}}") } else { format!("{{all: [{c}]}}") };
    }
    let seg = format!("name: buyers\nwhere: {{table: orders, where: {c}, agg: count, op: gte, value: 1}}\n");
    let w = Work::project(CONTACTS, ORDERS, &[("buyers", &seg)]);
    assert_eq!(w.members("buyers"), ["a@x.io"]);
}

#[test]
fn every_missing_data_file_is_reported_at_its_path_in_one_run() {
    let w = Work::project(CONTACTS, ORDERS, &[("lyon", CITY)]);
    let project = w.read("audience.yaml").replace("contacts.csv", "contacts-old.csv").replace("path: orders.csv", "path: orders-old.csv");
    w.file("audience.yaml", &project);
    let line = |needle: &str| project.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let (c, o) = (line("contacts-old.csv"), line("orders-old.csv"));
    for args in [&["check"][..], &["run"], &["count"]] {
        w.run(args)
            .code(1)
            .stderr_has(&format!("audience.yaml:{c}:"))
            .stderr_has("contacts: ./contacts-old.csv: file not found")
            .stderr_has(&format!("audience.yaml:{o}:"))
            .stderr_has("table `orders`: ./orders-old.csv: file not found");
    }
}

#[test]
fn check_reports_type_errors_beside_shape_errors_of_the_same_file() {
    let seg = "name: mixed\nwhere:\n  all:\n    - {field: city, opp: eq, value: Lyon}\n    - {field: city, op: gt, value: 3}\n";
    let w = Work::project(CONTACTS, ORDERS, &[("mixed", seg)]);
    w.run(&["check"])
        .code(1)
        .stderr_has("segments/mixed.yaml:4:21: unknown key `opp` in a field condition")
        .stderr_has("segments/mixed.yaml:5:36: `city` is a text field; operator `gt` compares numbers or dates");
    // The broken file is never evaluated.
    w.run(&["run"]).code(1).stderr_has("unknown key `opp`");
    assert!(!w.exists("out/mixed.csv"));
}
