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

/// An orders file with one row, for fixtures that do not look at orders.
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
        ("text-eq-float", "{field: cp, op: eq, value: 75001.0}", &["b@x.io"]),
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

/// An `any` of many equalities, `in` lists and prefixes on one field is
/// computed as one set lookup per kind of test: the members must be those
/// of the tests taken one by one, folding, negation and missing values
/// included.
#[test]
fn long_any_lists_of_equalities_and_prefixes_keep_their_meaning() {
    let cases: &[Case] = &[
        ("cities", "{any: [{field: city, op: eq, value: lyon}, {field: city, op: in, value: [PARIS, nice]}, {field: city, op: eq, value: saint-etienne}]}", &["a@x.io", "b@x.io", "c@x.io", "e@x.io"]),
        ("cities_exact", "{any: [{field: city, op: eq, value: Lyon, case_sensitive: true}, {field: city, op: eq, value: lyon}]}", &["a@x.io", "b@x.io"]),
        ("prefixes", "{any: [{field: dept, op: starts_with, value: '69'}, {field: dept, op: starts_with, value: '130'}, {field: dept, op: starts_with, value: '7500'}]}", &["a@x.io", "b@x.io", "c@x.io", "f@x.io"]),
        ("suffixes", "{any: [{field: city, op: ends_with, value: NAIS}, {field: city, op: ends_with, value: ienne}]}", &["c@x.io", "f@x.io"]),
        ("none_of", "{not: {any: [{field: dept, op: starts_with, value: '69'}, {field: dept, op: starts_with, value: '75'}]}}", &["c@x.io", "d@x.io"]),
        ("mixed", "{any: [{field: dept, op: starts_with, value: '69'}, {field: city, op: eq, value: paris}, {field: dept, op: starts_with, value: '1'}, {field: age, op: gt, value: 40}]}", &["b@x.io", "c@x.io", "e@x.io", "f@x.io"]),
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
        (
            "not-in-date",
            "{field: day, op: not_in, value: [today, 29/11/2025]}",
            &["c@x.io", "d@x.io", "e@x.io", "f@x.io", "g@x.io", "h@x.io", "i@x.io", "j@x.io"],
        ),
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

// a: four rows, three orders (ids 1, 2, 2 and one without id), a tie on 2025-06-10
//    whose later row has no event; b: one undated row and one after as_of (2025-06-30);
// c: one order of 0; d: two VIP orders; e: none.
const AGG_ORDERS: &str = "order_id,email,ordered_at,amount,tariff,event\n\
1,a@x.io,2025-06-01,10,VIP,Fest\n\
2,a@x.io,2025-06-10,20,Std,fest\n\
2,a@x.io,2025-06-10,5,Std,\n\
,a@x.io,2025-05-01,7,Std,Fest\n\
3,b@x.io,,100,VIP,Fest\n\
4,b@x.io,2025-07-15,50,Std,Fest\n\
5,b@x.io,2025-06-20,30,VIP,Jazz\n\
6,c@x.io,2025-01-10,0,Std,Fest\n\
7,d@x.io,2024-06-30,40,VIP,Fest\n\
8,d@x.io,2024-12-31,61,VIP,Fest\n";

const AGG_CONTACTS: &str = "email,name\na@x.io,Ann\nb@x.io,Bob\nc@x.io,Cyd\nd@x.io,Dan\ne@x.io,Eve\n";

const VIP: &str = "{field: tariff, op: eq, value: vip}";

#[test]
fn table_conditions_every_agg_and_the_defaults() {
    let any_vip = format!("{{table: orders, where: {VIP}}}");
    let no_vip = format!("{{table: orders, where: {VIP}, op: eq, value: 0}}");
    let sum_vip = format!("{{table: orders, where: {VIP}, agg: sum, field: amount, op: gte, value: 100}}");
    let first_vip = format!("{{table: orders, where: {VIP}, agg: first, field: event, op: eq, value: jazz}}");
    let cases: &[Case] = &[
        ("any", "{table: orders}", &["a@x.io", "b@x.io", "c@x.io", "d@x.io"]),
        ("any-vip", &any_vip, &["a@x.io", "b@x.io", "d@x.io"]),
        ("no-vip", &no_vip, &["c@x.io", "e@x.io"]),
        ("not-any", "{not: {table: orders}}", &["e@x.io"]),
        // count counts rows, not orders.
        ("count-gte3", "{table: orders, op: gte, value: 3}", &["a@x.io", "b@x.io"]),
        ("count-eq4", "{table: orders, op: eq, value: 4}", &["a@x.io"]),
        ("count-eq0", "{table: orders, agg: count, op: eq, value: 0}", &["e@x.io"]),
        // op and value defaults are independent.
        ("count-op-only", "{table: orders, op: lt}", &["e@x.io"]),
        ("count-value-only", "{table: orders, value: 2}", &["a@x.io", "b@x.io", "d@x.io"]),
        // count_distinct: case matters, missing values are not counted.
        ("cd-2", "{table: orders, agg: count_distinct, field: event, op: eq, value: 2}", &["a@x.io", "b@x.io"]),
        ("cd-1", "{table: orders, agg: count_distinct, field: event, op: eq, value: 1}", &["c@x.io", "d@x.io"]),
        ("cd-0", "{table: orders, agg: count_distinct, field: event, op: eq, value: 0}", &["e@x.io"]),
        ("cd-default-op", "{table: orders, agg: count_distinct, field: event, value: 2}", &["a@x.io", "b@x.io"]),
        ("sum-0", "{table: orders, agg: sum, field: amount, op: eq, value: 0}", &["c@x.io", "e@x.io"]),
        ("sum-gt100", "{table: orders, agg: sum, field: amount, op: gt, value: 100}", &["b@x.io", "d@x.io"]),
        ("sum-vip", &sum_vip, &["b@x.io", "d@x.io"]),
        ("avg", "{table: orders, agg: avg, field: amount, op: eq, value: 10.5}", &["a@x.io"]),
        ("avg-empty", "{table: orders, agg: avg, field: amount, op: is_empty}", &["e@x.io"]),
        ("avg-lt1", "{table: orders, agg: avg, field: amount, op: lt, value: 1}", &["c@x.io"]),
        ("min-lt10", "{table: orders, agg: min, field: amount, op: lt, value: 10}", &["a@x.io", "c@x.io"]),
        ("min-empty", "{table: orders, agg: min, field: amount, op: is_empty}", &["e@x.io"]),
        ("max-eq100", "{table: orders, agg: max, field: amount, op: eq, value: 100}", &["b@x.io"]),
        ("max-empty", "{table: orders, agg: max, field: amount, op: is_empty}", &["e@x.io"]),
        ("max-not-empty", "{table: orders, agg: max, field: amount, op: is_not_empty}", &["a@x.io", "b@x.io", "c@x.io", "d@x.io"]),
        // Text min/max in byte order: "Std" < "VIP", "Jazz" < "fest".
        ("min-text", "{table: orders, agg: min, field: tariff, op: eq, value: VIP, case_sensitive: true}", &["d@x.io"]),
        ("max-text", "{table: orders, agg: max, field: event, op: eq, value: fest, case_sensitive: true}", &["a@x.io"]),
        ("min-date", "{table: orders, agg: min, field: ordered_at, op: on, value: 2025-05-01}", &["a@x.io"]),
        ("max-date", "{table: orders, agg: max, field: ordered_at, op: after, value: today}", &["b@x.io"]),
        // first/last: by date, only dated rows, ties by file order.
        ("first-7", "{table: orders, agg: first, field: amount, op: eq, value: 7}", &["a@x.io"]),
        ("first-dated-only", "{table: orders, agg: first, field: amount, op: eq, value: 30}", &["b@x.io"]),
        ("last-tie", "{table: orders, agg: last, field: amount, op: eq, value: 5}", &["a@x.io"]),
        ("last-50", "{table: orders, agg: last, field: amount, op: eq, value: 50}", &["b@x.io"]),
        ("last-event-empty", "{table: orders, agg: last, field: event, op: is_empty}", &["a@x.io", "e@x.io"]),
        ("first-empty", "{table: orders, agg: first, field: amount, op: is_empty}", &["e@x.io"]),
        ("first-where", &first_vip, &["b@x.io"]),
        // A table's where: neq holds for missing values; relative dates; rows after as_of.
        ("where-neq", "{table: orders, where: {field: event, op: neq, value: FEST}, op: eq, value: 1}", &["a@x.io", "b@x.io"]),
        ("where-empty", "{table: orders, where: {field: event, op: is_empty}}", &["a@x.io"]),
        ("where-in-last", "{table: orders, where: {field: ordered_at, op: in_last, value: 30d}}", &["a@x.io", "b@x.io"]),
        ("where-in-last-count", "{table: orders, where: {field: ordered_at, op: in_last, value: 30d}, op: eq, value: 1}", &["b@x.io"]),
        ("where-after", "{table: orders, where: {field: ordered_at, op: after, value: today}}", &["b@x.io"]),
        ("where-any-all", "{table: orders, where: {any: [{all: [{field: tariff, op: eq, value: std}, {field: amount, op: gte, value: 50}]}, {field: event, op: eq, value: jazz}]}}", &["b@x.io"]),
    ];
    let w = project_with(AGG_CONTACTS, AGG_ORDERS, cases);
    check(&w, cases);
}

#[test]
fn built_in_metrics_as_conditions_and_exports() {
    let cases: &[Case] = &[
        // order_count: distinct ids, an id-less row is an order of its own (a: 3 orders, 4 rows).
        ("oc-3", "{field: order_count, op: eq, value: 3}", &["a@x.io", "b@x.io"]),
        ("oc-2", "{field: order_count, op: eq, value: 2}", &["d@x.io"]),
        ("oc-0", "{field: order_count, op: eq, value: 0}", &["e@x.io"]),
        ("ts-42", "{field: total_spent, op: eq, value: 42}", &["a@x.io"]),
        ("ts-0", "{field: total_spent, op: eq, value: 0}", &["c@x.io", "e@x.io"]),
        ("aov-14", "{field: avg_order_value, op: eq, value: 14}", &["a@x.io"]),
        ("aov-50-5", "{field: avg_order_value, op: eq, value: 50.5}", &["d@x.io"]),
        ("aov-0", "{field: avg_order_value, op: eq, value: 0}", &["c@x.io"]),
        ("aov-empty", "{field: avg_order_value, op: is_empty}", &["e@x.io"]),
        ("fod", "{field: first_order_date, op: on, value: 2025-06-20}", &["b@x.io"]),
        ("fod-empty", "{field: first_order_date, op: is_empty}", &["e@x.io"]),
        ("lod-after", "{field: last_order_date, op: after, value: today}", &["b@x.io"]),
        // b's last order is after as_of: never in in_last.
        ("lod-in-last", "{field: last_order_date, op: in_last, value: 30d}", &["a@x.io"]),
        ("lod-not-in-last", "{not: {field: last_order_date, op: in_last, value: 1y}}", &["b@x.io", "e@x.io"]),
        ("dslo-neg", "{field: days_since_last_order, op: lt, value: 0}", &["b@x.io"]),
        ("dslo-20", "{field: days_since_last_order, op: eq, value: 20}", &["a@x.io"]),
        ("dslo-171", "{field: days_since_last_order, op: eq, value: 171}", &["c@x.io"]),
        ("dslo-181", "{field: days_since_last_order, op: eq, value: 181}", &["d@x.io"]),
        ("dslo-empty", "{field: days_since_last_order, op: is_empty}", &["e@x.io"]),
        ("dslo-neq", "{field: days_since_last_order, op: neq, value: 20}", &["b@x.io", "c@x.io", "d@x.io", "e@x.io"]),
        ("empty-all", "{all: []}", &["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io"]),
        ("empty-any", "{any: []}", &[]),
        ("not-empty-any", "{not: {any: []}}", &["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io"]),
        (
            "nested",
            "{any: [{all: [{field: order_count, op: gte, value: 2}, {not: {field: total_spent, op: gt, value: 100}}]}, {field: name, op: eq, value: eve}]}",
            &["a@x.io", "e@x.io"],
        ),
    ];
    let w = project_with(AGG_CONTACTS, AGG_ORDERS, cases);
    w.file(
        "segments/builtins.yaml",
        "name: Built-ins\nwhere: {all: []}\nexport:\n  columns: [email, order_count, total_spent, avg_order_value, first_order_date, last_order_date, days_since_last_order]\n",
    );
    check(&w, cases);
    assert_eq!(
        w.read("out/builtins.csv"),
        "email,order_count,total_spent,avg_order_value,first_order_date,last_order_date,days_since_last_order\n\
a@x.io,3,42,14,2025-05-01,2025-06-10,20\n\
b@x.io,3,180,60,2025-06-20,2025-07-15,-15\n\
c@x.io,1,0,0,2025-01-10,2025-01-10,171\n\
d@x.io,2,101,50.5,2024-06-30,2024-12-31,181\n\
e@x.io,0,0,,,,\n"
    );
}

const METRICS_PROJECT: &str = "contacts: {path: contacts.csv, key: email}\n\
tables:\n\
\x20 orders: {path: orders.csv, key: email, date: ordered_at, amount: amount, id: order_id, where: {field: status, op: neq, value: refunded}}\n\
\x20 visits: {path: visits.csv, key: email, date: at}\n\
metrics:\n\
\x20 vip_orders: {table: orders, where: {field: tariff, op: eq, value: VIP}, agg: count}\n\
\x20 spent: {table: orders, agg: sum, field: amount}\n\
\x20 last_event: {table: orders, agg: last, field: event}\n\
\x20 pages: {table: visits, agg: count_distinct, field: page}\n\
segments: segments\noutput: out\nas_of: 2025-06-30\ntimezone: Europe/Paris\n";

#[test]
fn metrics_and_a_table_where_filter_rows_everywhere() {
    // Refunded rows (any case) do not count; a missing status does (neq holds).
    let orders = "order_id,email,ordered_at,amount,tariff,event,status\n\
1,a@x.io,2025-06-01,10,VIP,Fest,paid\n\
2,a@x.io,2025-06-02,90,VIP,Jazz,refunded\n\
3,b@x.io,2025-05-01,20,Std,Jazz,\n\
4,b@x.io,2025-05-02,30,VIP,Fest,REFUNDED\n\
5,c@x.io,2025-04-01,15,Std,Fest,refunded\n";
    let visits = "email,at,page\na@x.io,2025-06-01,home\na@x.io,2025-06-02,Home\nb@x.io,2025-06-03,home\nb@x.io,2025-06-04,home\n";
    let contacts = "email,name\na@x.io,Ann\nb@x.io,Bob\nc@x.io,Cyd\nd@x.io,Dan\n";
    let cases: &[Case] = &[
        ("m-vip", "{field: vip_orders, op: gte, value: 1}", &["a@x.io"]),
        ("m-vip-0", "{field: vip_orders, op: eq, value: 0}", &["b@x.io", "c@x.io", "d@x.io"]),
        ("m-spent-0", "{field: spent, op: eq, value: 0}", &["c@x.io", "d@x.io"]),
        ("m-spent-20", "{field: spent, op: eq, value: 20}", &["b@x.io"]),
        ("m-last", "{field: last_event, op: eq, value: jazz}", &["b@x.io"]),
        ("m-last-empty", "{field: last_event, op: is_empty}", &["c@x.io", "d@x.io"]),
        ("m-pages-2", "{field: pages, op: eq, value: 2}", &["a@x.io"]),
        ("m-pages-0", "{field: pages, op: eq, value: 0}", &["c@x.io", "d@x.io"]),
        ("b-oc-0", "{field: order_count, op: eq, value: 0}", &["c@x.io", "d@x.io"]),
        ("b-ts-10", "{field: total_spent, op: eq, value: 10}", &["a@x.io"]),
        ("b-lod", "{field: last_order_date, op: on, value: 2025-05-01}", &["b@x.io"]),
        ("t-any", "{table: orders}", &["a@x.io", "b@x.io"]),
        ("t-refunded", "{table: orders, where: {field: status, op: eq, value: refunded}}", &[]),
        ("everyone", "{all: []}", &["a@x.io", "b@x.io", "c@x.io", "d@x.io"]),
    ];
    let w = project_with(contacts, orders, cases);
    w.file("audience.yaml", METRICS_PROJECT);
    w.file("visits.csv", visits);
    w.file("segments/m-export.yaml", "name: x\nwhere: {all: []}\nexport: {columns: [email, vip_orders, spent, last_event, pages, order_count]}\n");
    check(&w, cases);
    assert_eq!(
        w.read("out/m-export.csv"),
        "email,vip_orders,spent,last_event,pages,order_count\na@x.io,1,10,Fest,2,1\nb@x.io,0,20,Jazz,1,1\nc@x.io,0,0,,0,0\nd@x.io,0,0,,0,0\n"
    );
}

const SCOPE_PROJECT: &str = "contacts: {path: contacts.csv, key: email}\n\
tables:\n\
\x20 orders: {path: orders.csv, key: email, date: ordered_at, amount: amount, id: order_id}\n\
\x20 visits: {path: visits.csv, key: email, date: at}\n\
metrics:\n\
\x20 spent: {table: orders, agg: sum, field: amount}\n\
segments: segments\noutput: out\nas_of: 2025-06-30\ntimezone: Europe/Paris\n";

#[test]
fn scope_candidates_scoped_aggregates_and_references() {
    // a: 2 Fest + 1 Jazz orders; b: 2 Jazz; c: 1 Fest; d: 3 Jazz; e: none.
    let orders = "order_id,email,ordered_at,amount,event\n\
1,a@x.io,2025-06-01,10,Fest\n\
2,a@x.io,2025-06-02,20,fest\n\
3,a@x.io,2025-06-03,30,Jazz\n\
4,b@x.io,2025-06-01,40,Jazz\n\
5,b@x.io,2025-06-05,50,Jazz\n\
6,c@x.io,2025-06-01,5,Fest\n\
7,d@x.io,2025-06-01,5,Jazz\n\
8,d@x.io,2025-06-02,5,Jazz\n\
9,d@x.io,2025-06-03,5,Jazz\n";
    let contacts = "email,name\na@x.io,Ann\nb@x.io,Bob\nc@x.io,Cyd\nd@x.io,Dan\ne@x.io,Eve\n";
    let visits = "email,at\na@x.io,2025-06-01\nc@x.io,2025-06-01\nc@x.io,2025-06-02\n";
    let w = Work::project(contacts, orders, &[]);
    w.file("audience.yaml", SCOPE_PROJECT);
    w.file("visits.csv", visits);
    let fest = "scope: {table: orders, where: {field: event, op: eq, value: FEST}}\n";
    let seg = |alias: &str, body: &str| {
        w.file(&format!("segments/{alias}.yaml"), &format!("name: {alias}\n{body}"));
    };
    seg("fest-all", fest);
    seg(
        "fest-2",
        &format!("{fest}where: {{field: order_count, op: gte, value: 2}}\nexport: {{columns: [email, order_count, total_spent, last_order_date, spent]}}\n"),
    );
    seg("fest-spent", &format!("{fest}where: {{field: total_spent, op: eq, value: 30}}\n"));
    seg("fest-last", &format!("{fest}where: {{field: last_order_date, op: on, value: 2025-06-02}}\n"));
    seg("fest-table", &format!("{fest}where: {{table: orders, op: eq, value: 2}}\n"));
    seg("fest-metric", &format!("{fest}where: {{field: spent, op: eq, value: 30}}\n"));
    // The scope restricts only its own table.
    seg("fest-visits", &format!("{fest}where: {{table: visits, op: gte, value: 2}}\n"));
    // A scope without where: every contact with at least one row.
    seg("any-order", "scope: {table: orders}\n");
    seg("fest-exclude", &format!("{fest}exclude: [C@X.IO]\n"));
    // Segment references: the referenced segment keeps its own scope (or none).
    seg("many", "where: {field: order_count, op: gte, value: 3}\n");
    seg("fest-ref-many", &format!("{fest}where: {{segment: many}}\n"));
    seg("ref-fest-2", "where: {segment: fest-2}\n");
    seg("jazz-ref-fest-2", "scope: {table: orders, where: {field: event, op: eq, value: jazz}}\nwhere: {segment: fest-2}\n");
    seg("not-many", "where: {not: {segment: many}}\n");
    seg("chain", "where: {any: [{segment: not-many}, {segment: fest-all}]}\n");
    // No where, no scope: only include − exclude.
    seg("include-only", "include: [b@x.io, e@x.io]\nexclude: [e@x.io]\n");
    seg("no-scope-table", "where: {table: orders, op: eq, value: 3}\n");
    seg("ref-include", "where: {any: [{segment: include-only}, {segment: fest-exclude}]}\n");
    seg("visits-scope", "scope: {table: visits}\nwhere: {field: order_count, op: eq, value: 3}\n");
    let out = w.run(&["run"]);
    out.ok();
    let want: &[(&str, &[&str])] = &[
        ("fest-all", &["a@x.io", "c@x.io"]),
        ("fest-2", &["a@x.io"]),
        ("fest-spent", &["a@x.io"]),
        ("fest-last", &["a@x.io"]),
        ("fest-table", &["a@x.io"]),
        ("fest-metric", &["a@x.io"]),
        ("fest-visits", &["c@x.io"]),
        ("any-order", &["a@x.io", "b@x.io", "c@x.io", "d@x.io"]),
        ("fest-exclude", &["a@x.io"]),
        ("many", &["a@x.io", "d@x.io"]),
        ("fest-ref-many", &["a@x.io"]),
        ("ref-fest-2", &["a@x.io"]),
        ("jazz-ref-fest-2", &["a@x.io"]),
        ("not-many", &["b@x.io", "c@x.io", "e@x.io"]),
        ("chain", &["a@x.io", "b@x.io", "c@x.io", "e@x.io"]),
        ("include-only", &["b@x.io"]),
        ("no-scope-table", &["a@x.io", "d@x.io"]),
        ("visits-scope", &["a@x.io"]),
        // A reference sees the other segment's include and exclude.
        ("ref-include", &["a@x.io", "b@x.io"]),
    ];
    let bad: Vec<String> = want
        .iter()
        .filter_map(|(alias, keys_want)| {
            let got = keys(&w, alias);
            (got != *keys_want).then(|| format!("{alias}: want {keys_want:?}, got {got:?}"))
        })
        .collect();
    assert!(bad.is_empty(), "{}\n--- stderr\n{}", bad.join("\n"), out.stderr);
    // Exported built-ins and metrics of a scoped segment see only the scoped rows.
    assert_eq!(w.read("out/fest-2.csv"), "email,order_count,total_spent,last_order_date,spent\na@x.io,2,30,2025-06-02,30\n");
}

#[test]
fn a_cycle_of_segment_references_is_an_error_naming_it() {
    let contacts = "email\na@x.io\n";
    let w = Work::project(
        contacts,
        ONE_ORDER,
        &[
            ("x", "name: x\nwhere: {any: [{field: email, op: is_empty}, {segment: y}]}\n"),
            ("y", "name: y\nwhere: {not: {segment: z}}\n"),
            ("z", "name: z\nwhere: {all: [{segment: x}]}\n"),
            ("selfish", "name: s\nwhere: {segment: selfish}\n"),
            ("fine", "name: fine\nwhere: {all: []}\n"),
        ],
    );
    let out = w.run(&["count", "x"]);
    out.code(1).stderr_has("cycle").stderr_has("x → y → z → x");
    let out = w.run(&["count", "selfish"]);
    out.code(1).stderr_has("cycle").stderr_has("selfish → selfish");
    // Unrelated segments still work.
    assert_eq!(count_tuples(&w, &["fine"]), vec![("fine".to_string(), 1, 1, 0, 0, 0)]);
}

const CONSENT_PROJECT: &str = "contacts: {path: contacts.csv, key: email, consent: optin}\n\
tables:\n\
\x20 orders: {path: orders.csv, key: email, date: ordered_at, amount: amount, id: order_id}\n\
suppress:\n\
\x20 - bounces.csv\n\
\x20 - {file: unsub.csv, purpose: marketing}\n\
segments: segments\noutput: out\nas_of: 2025-06-30\ntimezone: Europe/Paris\n";

#[test]
fn members_recipients_and_exclusive_reasons() {
    // Consent words (case and spaces ignored); h and i bounced (i also without
    // consent: counted once, as suppressed); j unsubscribed from marketing only;
    // bad@nowhere is no valid address (bad2 also lacks consent: counted as no_consent).
    let contacts = "email,optin,city\n\
a@x.io,oui,Lyon\n\
b@x.io,\" Vrai \",Lyon\n\
c@x.io,x,Lyon\n\
d@x.io,1,Lyon\n\
e@x.io,non,Lyon\n\
f@x.io,maybe,Lyon\n\
g@x.io,,Lyon\n\
h@x.io,TRUE,Lyon\n\
i@x.io,non,Lyon\n\
bad@nowhere,oui,Lyon\n\
bad2@nowhere,non,Lyon\n\
j@x.io,Y,Lyon\n\
\" K@X.IO \",yes,Paris\n";
    let w = Work::project(
        contacts,
        ONE_ORDER,
        &[
            ("lyon", "name: Lyon\nwhere: {field: city, op: eq, value: lyon}\n"),
            ("lyon-info", "name: Lyon (info)\npurpose: informational\nwhere: {field: city, op: eq, value: lyon}\n"),
            ("key-field", "name: Key\nwhere: {field: email, op: eq, value: k@x.io, case_sensitive: true}\n"),
            ("key-field-raw", "name: Key raw\nwhere: {field: email, op: starts_with, value: ' K', case_sensitive: true}\n"),
        ],
    );
    w.file("audience.yaml", CONSENT_PROJECT);
    w.file("bounces.csv", "Email\nH@X.io\n i@x.io\nzz@x.io\n");
    w.file("unsub.csv", "j@x.io\n");
    let got = count_tuples(&w, &["lyon", "lyon-info", "all", "key-field"]);
    let t = |a: &str, m, r, s, n, i| (a.to_string(), m, r, s, n, i);
    assert_eq!(got, vec![t("lyon", 12, 4, 3, 4, 1), t("lyon-info", 12, 8, 2, 0, 2), t("all", 13, 5, 3, 4, 1), t("key-field", 1, 1, 0, 0, 0)]);
    // The JSON objects carry exactly the documented keys.
    let raw = w.counts(&["lyon"]);
    let mut names: Vec<&str> = raw[0].as_object().expect("object").keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["alias", "invalid_email", "members", "name", "no_consent", "recipients", "suppressed"]);
    assert_eq!(raw[0]["name"], "Lyon");

    w.run(&["run", "lyon", "lyon-info", "all", "key-field", "key-field-raw"]).ok();
    assert_eq!(keys(&w, "lyon"), ["a@x.io", "b@x.io", "c@x.io", "d@x.io"]);
    assert_eq!(keys(&w, "lyon-info"), ["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io", "f@x.io", "g@x.io", "j@x.io"]);
    assert_eq!(keys(&w, "all"), ["a@x.io", "b@x.io", "c@x.io", "d@x.io", "k@x.io"]);
    // The key field sees (and exports) the normalised key.
    assert_eq!(w.read("out/key-field.csv"), "email,optin,city\nk@x.io,yes,Paris\n");
    assert_eq!(keys(&w, "key-field-raw"), Vec::<String>::new());
}

#[test]
fn include_and_exclude_inline_and_from_files() {
    let contacts = "email,n\na@x.io,1\nb@x.io,2\nc@x.io,3\nd@x.io,4\ne@x.io,5\nf@x.io,6\n";
    let w = Work::project(
        contacts,
        ONE_ORDER,
        &[
            ("inc", "name: inc\nwhere: {field: n, op: gte, value: 5}\ninclude: [' A@X.IO ', b@x.io, ghost@x.io]\nexclude: [F@x.io]\n"),
            ("inc-only", "name: inc-only\ninclude: [d@x.io]\n"),
            ("exclude-wins", "name: ex\ninclude: [a@x.io]\nexclude: [' A@x.io']\n"),
        ],
    );
    // List files are relative to the segment file; the key column is found by
    // name (case ignored), and a file starting with an address has no header.
    w.file(
        "segments/sub/inc-file.yaml",
        "name: inc-file\nwhere: {field: n, op: gte, value: 5}\ninclude: {file: lists/vip.csv}\nexclude: {file: lists/staff.csv}\n",
    );
    w.file("segments/sub/lists/vip.csv", "name,EMAIL\nCyd,C@X.IO\nGhost,nobody@x.io\n");
    w.file("segments/sub/lists/staff.csv", "e@x.io\n");
    let out = w.run(&["run"]);
    out.ok();
    assert_eq!(keys(&w, "inc"), ["a@x.io", "b@x.io", "e@x.io"]);
    assert_eq!(keys(&w, "inc-file"), ["c@x.io", "f@x.io"]);
    assert_eq!(keys(&w, "inc-only"), ["d@x.io"]);
    assert_eq!(keys(&w, "exclude-wins"), Vec::<String>::new());
    // Include keys that are no contact are reported in the data notes.
    out.stderr_has("data note").stderr_has("`inc`").stderr_has("`inc-file`");
    let notes: Vec<&str> = out.stderr.lines().filter(|l| l.contains("include")).collect();
    assert_eq!(notes.len(), 2, "one note per segment with unknown include keys:\n{}", out.stderr);
    assert_eq!(count_tuples(&w, &["inc"]), vec![("inc".to_string(), 3, 3, 0, 0, 0)]);
}

#[test]
fn the_built_in_all_segment() {
    let w = Work::project("email,optin\nb@x.io,oui\na@x.io,non\nc@x.io,\n", ONE_ORDER, &[("one", "name: one\nwhere: {any: []}\n")]);
    w.file("audience.yaml", &CONSENT_PROJECT.replace("suppress:\n  - bounces.csv\n  - {file: unsub.csv, purpose: marketing}\n", ""));
    // Without an alias, count takes the segment files only.
    let got = count_tuples(&w, &[]);
    assert_eq!(got, vec![("one".to_string(), 0, 0, 0, 0, 0)]);
    // `all` is a marketing segment: no_consent applies.
    assert_eq!(count_tuples(&w, &["all"]), vec![("all".to_string(), 3, 1, 0, 2, 0)]);
    w.run(&["run", "all"]).ok();
    assert_eq!(w.read("out/all.csv"), "email,optin\nb@x.io,oui\n");
}

#[test]
fn exports_keep_contacts_order_and_format_values() {
    // Unsorted contacts, a duplicate key (the first row is kept), orders listed
    // in another order than the contacts.
    let contacts = "email,first_name,score,joined,city\n\
Z@X.io,Zoé,12.50,2025-01-05,Paris\n\
m@x.io,Marc,3,,\"Lyon, 2e\"\n\
a@x.io,Ann,,2024-12-31,\n\
z@x.io,Dup,1,2020-01-01,Nice\n\
q@x.io,Quinn,1234567.25,2025-06-30,Nice\n";
    let orders = "order_id,email,ordered_at,amount\n1,a@x.io,2025-01-01,2.25\n2,a@x.io,2025-01-02,1\n3,z@x.io,2025-01-03,10\n";
    let w = Work::project(
        contacts,
        orders,
        &[
            ("ex-default", "name: d\nwhere: {all: []}\n"),
            ("ex-buyers", "name: b\nwhere: {table: orders}\nexport: {columns: [email, total_spent]}\n"),
            (
                "ex-cols",
                "name: c\nwhere: {field: city, op: is_not_empty}\nexport:\n  columns: [first_name, email, score, city]\n  rename: {email: Email Address}\n  csv: {separator: \";\", bom: true}\n",
            ),
            ("ex-tab", "name: t\nwhere: {field: score, op: gt, value: 100}\nexport: {columns: [email, city], csv: {separator: \"\\t\"}}\n"),
            ("ex-jsonl", "name: j\nwhere: {all: []}\nexport: {columns: [email, score, joined, total_spent], format: jsonl}\n"),
            ("ex-parquet", "name: p\nwhere: {all: []}\nexport: {format: parquet}\n"),
        ],
    );
    w.run(&["run"]).ok();
    assert_eq!(
        w.read("out/ex-default.csv"),
        "email,first_name,score,joined,city\n\
z@x.io,Zoé,12.5,2025-01-05,Paris\n\
m@x.io,Marc,3,,\"Lyon, 2e\"\n\
a@x.io,Ann,,2024-12-31,\n\
q@x.io,Quinn,1234567.25,2025-06-30,Nice\n"
    );
    assert_eq!(w.read("out/ex-buyers.csv"), "email,total_spent\nz@x.io,10\na@x.io,3.25\n");
    assert_eq!(
        w.read("out/ex-cols.csv"),
        "\u{feff}first_name;Email Address;score;city\nZoé;z@x.io;12.5;Paris\nMarc;m@x.io;3;Lyon, 2e\nQuinn;q@x.io;1234567.25;Nice\n"
    );
    assert_eq!(w.read("out/ex-tab.csv"), "email\tcity\nq@x.io\tNice\n");
    let lines: Vec<serde_json::Value> = w.read("out/ex-jsonl.jsonl").lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    assert_eq!(
        lines,
        vec![
            serde_json::json!({"email": "z@x.io", "score": 12.5, "joined": "2025-01-05", "total_spent": 10}),
            serde_json::json!({"email": "m@x.io", "score": 3, "joined": null, "total_spent": 0}),
            serde_json::json!({"email": "a@x.io", "score": null, "joined": "2024-12-31", "total_spent": 3.25}),
            serde_json::json!({"email": "q@x.io", "score": 1234567.25, "joined": "2025-06-30", "total_spent": 0}),
        ]
    );
    assert!(!w.exists("out/ex-jsonl.csv"));
    assert!(w.exists("out/ex-parquet.parquet"));
    assert!(!w.exists("out/ex-parquet.csv"));
}

#[test]
fn check_rejects_reversed_between_and_values_of_the_wrong_kind() {
    let contacts = "email,day,n,city\na@x.io,2025-01-01,3,Lyon\n";
    let w = Work::project(
        contacts,
        ONE_ORDER,
        &[
            ("rev-num", "name: a\nwhere: {field: n, op: between, value: [5, 1]}\n"),
            ("rev-date", "name: b\nwhere: {field: day, op: between, value: [2025-02-01, 2025-01-01]}\n"),
            // Relative bounds are reversed whatever the as_of.
            ("rev-relative", "name: c\nwhere: {field: day, op: between, value: [today, -3m]}\n"),
            ("text-gt", "name: d\nwhere: {field: city, op: gt, value: 18}\n"),
            ("num-before", "name: e\nwhere: {field: n, op: before, value: today}\n"),
            ("fine", "name: f\nwhere: {field: day, op: between, value: [-1y, today]}\n"),
        ],
    );
    let out = w.run(&["check"]);
    out.code(1);
    let all = format!("{}{}", out.stdout, out.stderr);
    for bad in ["rev-num.yaml:2:", "rev-date.yaml:2:", "rev-relative.yaml:2:", "text-gt.yaml:2:", "num-before.yaml:2:"] {
        assert!(all.contains(bad), "check does not report {bad}\n{all}");
    }
    assert!(!all.contains("fine.yaml"), "a valid segment is reported:\n{all}");
    assert_eq!(all.matches("reversed").count(), 3, "{all}");
    // The wrong kind names the field's type and how to declare another.
    let line = all.lines().find(|l| l.contains("text-gt.yaml")).expect("text-gt line");
    assert!(line.contains("text"), "{line}");
    assert!(all.contains("`city: float`"), "{all}");
}

/// first/last over datetimes: order within a second, ties by file order,
/// undated rows left out, dates before 1970; once with milliseconds in the
/// table and once with whole seconds only (the two ways the rows' order is
/// packed into one number).
#[test]
fn first_and_last_order_datetimes_to_the_millisecond_and_ties_by_file_order() {
    let tail = "3,b@x.io,2025-06-10 10:00:00,3\n\
                4,b@x.io,2025-06-10 10:00:00,4\n\
                5,c@x.io,2025-06-11 09:00:00,5\n\
                6,c@x.io,,6\n\
                7,d@x.io,1950-01-01 00:00:00,7\n\
                8,d@x.io,2025-01-01 00:00:00,8\n";
    let millis = format!("order_id,email,ordered_at,amount\n1,a@x.io,2025-06-10 10:00:00.900,1\n2,a@x.io,2025-06-10 10:00:00.100,2\n{tail}");
    let seconds = format!("order_id,email,ordered_at,amount\n1,a@x.io,2025-06-10 10:00:01,1\n2,a@x.io,2025-06-10 10:00:00,2\n{tail}");
    let cases: &[Case] = &[
        ("first-2", "{table: orders, agg: first, field: amount, op: eq, value: 2}", &["a@x.io"]),
        ("last-1", "{table: orders, agg: last, field: amount, op: eq, value: 1}", &["a@x.io"]),
        ("first-3", "{table: orders, agg: first, field: amount, op: eq, value: 3}", &["b@x.io"]),
        ("last-4", "{table: orders, agg: last, field: amount, op: eq, value: 4}", &["b@x.io"]),
        ("last-5", "{table: orders, agg: last, field: amount, op: eq, value: 5}", &["c@x.io"]),
        ("first-7", "{table: orders, agg: first, field: amount, op: eq, value: 7}", &["d@x.io"]),
        ("last-8", "{table: orders, agg: last, field: amount, op: eq, value: 8}", &["d@x.io"]),
        ("first-empty", "{table: orders, agg: first, field: amount, op: is_empty}", &["e@x.io"]),
    ];
    for orders in [millis, seconds] {
        let w = project_with(AGG_CONTACTS, &orders, cases);
        check(&w, cases);
    }
}
