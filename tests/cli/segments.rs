//! Segment language: operators, aggs, rules.
//!
//! Each test builds one small project holding many segments, runs
//! `audience run` once (every segment file is exported), then compares the
//! exported keys of each segment with the exact expected list, in contacts
//! file order. All mismatches of a test are reported together.

use crate::util::Work;

/// `(alias, where, expected members)`: a segment whose condition is `where`
/// (a YAML flow mapping), and the keys it must export, in file order.
type Case<'a> = (&'a str, &'a str, &'a [&'a str]);

fn segment_files(cases: &[Case]) -> Vec<(String, String)> {
    cases.iter().map(|(alias, cond, _)| (alias.to_string(), format!("name: {alias}\nwhere: {cond}\n"))).collect()
}

/// A project from `Work::project` with one segment file per case.
fn project_with(contacts: &str, orders: &str, cases: &[Case]) -> Work {
    let files = segment_files(cases);
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, y)| (a.as_str(), y.as_str())).collect();
    Work::project(contacts, orders, &refs)
}

/// Writes the segment files of `cases` under segments/.
fn add_cases(w: &Work, cases: &[Case]) {
    for (alias, yaml) in segment_files(cases) {
        w.file(&format!("segments/{alias}.yaml"), &yaml);
    }
}

/// Runs every segment once and checks the exported keys of each case.
fn check(w: &Work, cases: &[Case]) {
    let out = w.run(&["run"]);
    out.ok();
    let mut bad = Vec::new();
    for (alias, cond, want) in cases {
        let got = w.list_keys(&format!("out/{alias}.csv"));
        if got != *want {
            bad.push(format!("{alias}: {cond}\n    want {want:?}\n    got  {got:?}"));
        }
    }
    assert!(bad.is_empty(), "{} of {} segments differ:\n{}\n--- stderr\n{}", bad.len(), cases.len(), bad.join("\n"), out.stderr);
}

/// Members of one segment (by its CSV export) after a `run` already done.
fn keys(w: &Work, alias: &str) -> Vec<String> {
    w.list_keys(&format!("out/{alias}.csv"))
}

/// `count --format json` as (alias, members, recipients, suppressed, no_consent, invalid_email).
fn count_tuples(w: &Work, args: &[&str]) -> Vec<(String, u64, u64, u64, u64, u64)> {
    w.counts(args)
        .iter()
        .map(|o| {
            let n = |k: &str| o[k].as_u64().unwrap_or_else(|| panic!("`{k}` is not a count in {o}"));
            (o["alias"].as_str().expect("alias").to_string(), n("members"), n("recipients"), n("suppressed"), n("no_consent"), n("invalid_email"))
        })
        .collect()
}

/// An orders file with one row: a table with no row at all has no typed
/// `date` column (an all-empty column is text) and the project fails to load.
const ONE_ORDER: &str = "order_id,email,ordered_at,amount\n1,a@x.io,2025-01-01,1\n";

const ALL6: &[&str] = &["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io", "f@x.io"];

// d@x.io has every field missing.
const TEXT_CONTACTS: &str = "email,city,dept,price,cp,age\n\
a@x.io,Lyon,75001,12.0,06000,30\n\
b@x.io,LYON,69003,12.5,75001,17\n\
c@x.io,Saint-Étienne,13001,7,,45\n\
d@x.io,,,,,\n\
e@x.io,Paris,75015,120,,18\n\
f@x.io,Lyonnais,69001,3.25,,65\n";

#[test]
fn text_operators_fold_case_and_accents_and_missing_fails_positives() {
    let cases: &[Case] = &[
        ("eq", "{field: city, op: eq, value: Lyon}", &["a@x.io", "b@x.io"]),
        ("eq-cs", "{field: city, op: eq, value: Lyon, case_sensitive: true}", &["a@x.io"]),
        ("eq-accent", "{field: city, op: eq, value: saint-etienne}", &["c@x.io"]),
        ("eq-accent-cs", "{field: city, op: eq, value: Saint-Etienne, case_sensitive: true}", &[]),
        ("eq-accent-cs-exact", "{field: city, op: eq, value: Saint-Étienne, case_sensitive: true}", &["c@x.io"]),
        ("eq-value-accented", "{field: city, op: eq, value: SAINT-ÉTIENNE}", &["c@x.io"]),
        ("neq", "{field: city, op: neq, value: lyon}", &["c@x.io", "d@x.io", "e@x.io", "f@x.io"]),
        ("neq-cs", "{field: city, op: neq, value: Lyon, case_sensitive: true}", &["b@x.io", "c@x.io", "d@x.io", "e@x.io", "f@x.io"]),
        ("in", "{field: city, op: in, value: [lyon, PARIS]}", &["a@x.io", "b@x.io", "e@x.io"]),
        ("in-cs", "{field: city, op: in, value: [Lyon, paris], case_sensitive: true}", &["a@x.io"]),
        ("in-empty", "{field: city, op: in, value: []}", &[]),
        ("not-in", "{field: city, op: not_in, value: [lyon, paris]}", &["c@x.io", "d@x.io", "f@x.io"]),
        ("not-in-empty", "{field: city, op: not_in, value: []}", ALL6),
        ("contains", "{field: city, op: contains, value: YON}", &["a@x.io", "b@x.io", "f@x.io"]),
        ("contains-accent", "{field: city, op: contains, value: ÉTI}", &["c@x.io"]),
        ("contains-cs", "{field: city, op: contains, value: Lyon, case_sensitive: true}", &["a@x.io", "f@x.io"]),
        ("not-contains", "{field: city, op: not_contains, value: lyon}", &["c@x.io", "d@x.io", "e@x.io"]),
        ("not-contains-cs", "{field: city, op: not_contains, value: Lyon, case_sensitive: true}", &["b@x.io", "c@x.io", "d@x.io", "e@x.io"]),
        ("starts", "{field: city, op: starts_with, value: saint-é}", &["c@x.io"]),
        ("starts-cs", "{field: city, op: starts_with, value: LY, case_sensitive: true}", &["b@x.io"]),
        ("ends", "{field: city, op: ends_with, value: NAIS}", &["f@x.io"]),
        ("ends-cs", "{field: city, op: ends_with, value: ON, case_sensitive: true}", &["b@x.io"]),
        ("matches", "{field: city, op: matches, value: '^l.on$'}", &["a@x.io", "b@x.io"]),
        ("matches-anywhere", "{field: city, op: matches, value: 'yon'}", &["a@x.io", "b@x.io", "f@x.io"]),
        ("matches-accent", "{field: city, op: matches, value: 'sAINT-etienne'}", &["c@x.io"]),
        // The pattern is never rewritten: an accented pattern finds nothing in the accent-stripped value.
        ("matches-pattern-kept", "{field: city, op: matches, value: 'Étienne'}", &[]),
        ("matches-cs", "{field: city, op: matches, value: '^L[a-z]+$', case_sensitive: true}", &["a@x.io", "f@x.io"]),
        ("matches-cs-accent", "{field: city, op: matches, value: 'Étienne$', case_sensitive: true}", &["c@x.io"]),
        ("is-empty", "{field: city, op: is_empty}", &["d@x.io"]),
        ("is-not-empty", "{field: city, op: is_not_empty}", &["a@x.io", "b@x.io", "c@x.io", "e@x.io", "f@x.io"]),
        ("not-eq", "{not: {field: city, op: eq, value: lyon}}", &["c@x.io", "d@x.io", "e@x.io", "f@x.io"]),
        // Numbers under text tests: their shortest decimal text.
        ("num-starts", "{field: dept, op: starts_with, value: '75'}", &["a@x.io", "e@x.io"]),
        ("num-starts-int", "{field: dept, op: starts_with, value: 69}", &["b@x.io", "f@x.io"]),
        ("num-in", "{field: dept, op: in, value: [75001, '69003']}", &["a@x.io", "b@x.io"]),
        ("num-not-in", "{field: dept, op: not_in, value: [75001]}", &["b@x.io", "c@x.io", "d@x.io", "e@x.io", "f@x.io"]),
        ("num-contains", "{field: price, op: contains, value: '.5'}", &["b@x.io"]),
        ("num-not-contains", "{field: price, op: not_contains, value: '12'}", &["c@x.io", "d@x.io", "f@x.io"]),
        ("num-in-12", "{field: price, op: in, value: ['12']}", &["a@x.io"]),
        ("num-in-12-0", "{field: price, op: in, value: [12.0]}", &["a@x.io"]),
        ("num-ends", "{field: price, op: ends_with, value: '2'}", &["a@x.io"]),
        ("num-matches", "{field: price, op: matches, value: '^12(\\.5)?$'}", &["a@x.io", "b@x.io"]),
        ("num-eq", "{field: price, op: eq, value: 12}", &["a@x.io"]),
        ("num-eq-text", "{field: dept, op: eq, value: '75001'}", &["a@x.io"]),
        ("num-neq", "{field: price, op: neq, value: 12.0}", &["b@x.io", "c@x.io", "d@x.io", "e@x.io", "f@x.io"]),
        ("num-empty", "{field: price, op: is_empty}", &["d@x.io"]),
        // A text column compared with YAML numbers: their decimal text; 06000 stays text.
        ("text-eq-leading-zero", "{field: cp, op: eq, value: 06000}", &["a@x.io"]),
        ("text-eq-number", "{field: cp, op: eq, value: 75001}", &["b@x.io"]),
        ("text-in-number", "{field: cp, op: in, value: [75001, 6000]}", &["b@x.io"]),
        // Comparisons.
        ("lt", "{field: age, op: lt, value: 18}", &["b@x.io"]),
        ("lte", "{field: age, op: lte, value: 18}", &["b@x.io", "e@x.io"]),
        ("gt", "{field: age, op: gt, value: 30}", &["c@x.io", "f@x.io"]),
        ("gte", "{field: age, op: gte, value: 30}", &["a@x.io", "c@x.io", "f@x.io"]),
        ("between", "{field: age, op: between, value: [18, 45]}", &["a@x.io", "c@x.io", "e@x.io"]),
        ("not-gt", "{not: {field: age, op: gt, value: 18}}", &["b@x.io", "d@x.io", "e@x.io"]),
        ("float-lt", "{field: price, op: lt, value: 12.5}", &["a@x.io", "c@x.io", "f@x.io"]),
        ("float-between", "{field: price, op: between, value: [3.25, 12]}", &["a@x.io", "c@x.io", "f@x.io"]),
        ("float-gt-text", "{field: price, op: gt, value: '12'}", &["b@x.io", "e@x.io"]),
    ];
    let w = project_with(TEXT_CONTACTS, ONE_ORDER, cases);
    check(&w, cases);
}

#[test]
fn boolean_words_ints_and_bools() {
    let contacts = "email,word,n,b\n\
a@x.io,oui,1,true\n\
b@x.io,\" Vrai \",0,false\n\
c@x.io,x,2,\n\
d@x.io,0,,true\n\
e@x.io,NON,1,false\n\
f@x.io,maybe,0,\n\
g@x.io,,,\n\
h@x.io,TRUE,,\n";
    let cases: &[Case] = &[
        ("w-true", "{field: word, op: is_true}", &["a@x.io", "b@x.io", "c@x.io", "h@x.io"]),
        ("w-false", "{field: word, op: is_false}", &["d@x.io", "e@x.io"]),
        ("w-eq-true", "{field: word, op: eq, value: true}", &["a@x.io", "b@x.io", "c@x.io", "h@x.io"]),
        ("w-eq-false", "{field: word, op: eq, value: false}", &["d@x.io", "e@x.io"]),
        ("w-neq-true", "{field: word, op: neq, value: true}", &["d@x.io", "e@x.io", "f@x.io", "g@x.io"]),
        ("w-neq-false", "{field: word, op: neq, value: false}", &["a@x.io", "b@x.io", "c@x.io", "f@x.io", "g@x.io", "h@x.io"]),
        ("w-not-true", "{not: {field: word, op: is_true}}", &["d@x.io", "e@x.io", "f@x.io", "g@x.io"]),
        ("n-true", "{field: n, op: is_true}", &["a@x.io", "e@x.io"]),
        ("n-false", "{field: n, op: is_false}", &["b@x.io", "f@x.io"]),
        ("n-eq-true", "{field: n, op: eq, value: true}", &["a@x.io", "e@x.io"]),
        ("n-neq-false", "{field: n, op: neq, value: false}", &["a@x.io", "c@x.io", "d@x.io", "e@x.io", "g@x.io", "h@x.io"]),
        ("b-true", "{field: b, op: is_true}", &["a@x.io", "d@x.io"]),
        ("b-false", "{field: b, op: is_false}", &["b@x.io", "e@x.io"]),
        ("b-eq-false", "{field: b, op: eq, value: false}", &["b@x.io", "e@x.io"]),
        ("b-neq-true", "{field: b, op: neq, value: true}", &["b@x.io", "c@x.io", "e@x.io", "f@x.io", "g@x.io", "h@x.io"]),
        ("b-empty", "{field: b, op: is_empty}", &["c@x.io", "f@x.io", "g@x.io", "h@x.io"]),
    ];
    let w = project_with(contacts, ONE_ORDER, cases);
    check(&w, cases);
}

const DATE_PROJECT: &str = "contacts: {path: contacts.csv, key: email}\n\
tables:\n  orders: {path: orders.csv, key: email, date: ordered_at, amount: amount, id: order_id}\n\
segments: segments\noutput: out\nas_of: 2025-11-30\ntimezone: Europe/Paris\n";

#[test]
fn dates_relative_values_clamping_and_in_last() {
    // as_of 2025-11-30. h has no date; d and i are after as_of.
    let contacts = "email,day\n\
a@x.io,2025-11-30\n\
b@x.io,29/11/2025\n\
c@x.io,2025-10-31\n\
d@x.io,2025-12-14\n\
e@x.io,2025-08-30\n\
f@x.io,2025-02-28\n\
g@x.io,2024-11-30\n\
h@x.io,\n\
i@x.io,2025-12-01\n\
j@x.io,2025-03-01\n";
    let cases: &[Case] = &[
        ("on-today", "{field: day, op: on, value: today}", &["a@x.io"]),
        ("on-yesterday", "{field: day, op: on, value: yesterday}", &["b@x.io"]),
        ("on-tomorrow", "{field: day, op: on, value: tomorrow}", &["i@x.io"]),
        ("on-30d", "{field: day, op: on, value: -30d}", &["c@x.io"]),
        ("on-2w", "{field: day, op: on, value: +2w}", &["d@x.io"]),
        ("on-3m", "{field: day, op: on, value: -3m}", &["e@x.io"]),
        ("on-9m-clamped", "{field: day, op: on, value: -9m}", &["f@x.io"]),
        ("on-1y", "{field: day, op: on, value: -1y}", &["g@x.io"]),
        ("on-abs", "{field: day, op: on, value: 2025-02-28}", &["f@x.io"]),
        ("on-french", "{field: day, op: on, value: 28/02/2025}", &["f@x.io"]),
        ("before", "{field: day, op: before, value: -9m}", &["g@x.io"]),
        ("after", "{field: day, op: after, value: today}", &["d@x.io", "i@x.io"]),
        ("in-last-30d", "{field: day, op: in_last, value: 30d}", &["a@x.io", "b@x.io", "c@x.io"]),
        ("in-last-2w", "{field: day, op: in_last, value: 2w}", &["a@x.io", "b@x.io"]),
        ("in-last-9m", "{field: day, op: in_last, value: 9m}", &["a@x.io", "b@x.io", "c@x.io", "e@x.io", "f@x.io", "j@x.io"]),
        ("in-last-1y", "{field: day, op: in_last, value: 1y}", &["a@x.io", "b@x.io", "c@x.io", "e@x.io", "f@x.io", "g@x.io", "j@x.io"]),
        ("not-in-last-30d", "{not: {field: day, op: in_last, value: 30d}}", &["d@x.io", "e@x.io", "f@x.io", "g@x.io", "h@x.io", "i@x.io", "j@x.io"]),
        ("lt-date", "{field: day, op: lt, value: -30d}", &["e@x.io", "f@x.io", "g@x.io", "j@x.io"]),
        ("gte-date", "{field: day, op: gte, value: -30d}", &["a@x.io", "b@x.io", "c@x.io", "d@x.io", "i@x.io"]),
        ("lte-date", "{field: day, op: lte, value: 2025-03-01}", &["f@x.io", "g@x.io", "j@x.io"]),
        ("gt-date", "{field: day, op: gt, value: today}", &["d@x.io", "i@x.io"]),
        ("between-date", "{field: day, op: between, value: [-3m, today]}", &["a@x.io", "b@x.io", "c@x.io", "e@x.io"]),
        ("eq-date", "{field: day, op: eq, value: 2025-11-30}", &["a@x.io"]),
        ("neq-date", "{field: day, op: neq, value: today}", &["b@x.io", "c@x.io", "d@x.io", "e@x.io", "f@x.io", "g@x.io", "h@x.io", "i@x.io", "j@x.io"]),
        ("in-date", "{field: day, op: in, value: [today, yesterday]}", &["a@x.io", "b@x.io"]),
        ("not-in-date", "{field: day, op: not_in, value: [today, 29/11/2025]}", &["c@x.io", "d@x.io", "e@x.io", "f@x.io", "g@x.io", "h@x.io", "i@x.io", "j@x.io"]),
        ("empty-date", "{field: day, op: is_empty}", &["h@x.io"]),
    ];
    let w = project_with(contacts, ONE_ORDER, cases);
    w.file("audience.yaml", DATE_PROJECT);
    check(&w, cases);
}

#[test]
fn datetimes_compare_by_calendar_date_in_the_timezone() {
    // Europe/Paris is UTC+1 in November. a: 2025-12-01 00:30 in Paris; b: 2025-11-30 00:30;
    // c: no offset, already local; d: missing.
    let contacts = "email,seen\n\
a@x.io,2025-11-30T23:30:00Z\n\
b@x.io,2025-11-29T23:30:00Z\n\
c@x.io,2025-11-30 08:00\n\
d@x.io,\n\
e@x.io,2025-11-28T12:00:00+01:00\n";
    let cases: &[Case] = &[
        ("dt-on-today", "{field: seen, op: on, value: today}", &["b@x.io", "c@x.io"]),
        ("dt-on-tomorrow", "{field: seen, op: on, value: tomorrow}", &["a@x.io"]),
        ("dt-eq-today", "{field: seen, op: eq, value: today}", &["b@x.io", "c@x.io"]),
        ("dt-in", "{field: seen, op: in, value: [2025-11-28, 2025-12-01]}", &["a@x.io", "e@x.io"]),
        ("dt-in-last-1d", "{field: seen, op: in_last, value: 1d}", &["b@x.io", "c@x.io"]),
        ("dt-lte-today", "{field: seen, op: lte, value: today}", &["b@x.io", "c@x.io", "e@x.io"]),
        ("dt-before-today", "{field: seen, op: before, value: today}", &["e@x.io"]),
        ("dt-after-yesterday", "{field: seen, op: after, value: yesterday}", &["a@x.io", "b@x.io", "c@x.io"]),
        ("dt-neq-today", "{field: seen, op: neq, value: today}", &["a@x.io", "d@x.io", "e@x.io"]),
        ("dt-empty", "{field: seen, op: is_empty}", &["d@x.io"]),
    ];
    let w = project_with(contacts, ONE_ORDER, cases);
    w.file("audience.yaml", DATE_PROJECT);
    w.file("segments/dt-export.yaml", "name: x\nwhere: {all: []}\n");
    check(&w, cases);
    // Exported datetimes are in the project's zone, without offset; missing is an empty cell.
    assert_eq!(
        w.read("out/dt-export.csv"),
        "email,seen\na@x.io,2025-12-01T00:30:00\nb@x.io,2025-11-30T00:30:00\nc@x.io,2025-11-30T08:00:00\nd@x.io,\ne@x.io,2025-11-28T12:00:00\n"
    );
}
