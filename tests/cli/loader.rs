//! The loader rules of the contract (spec section 1, and the loader bullets of
//! section 8), each seen from outside: `fields --format json` for types and
//! samples, `count --format json`, exported lists, data notes on stderr and
//! segment membership.

use std::collections::HashMap;

use serde_json::Value;

use crate::util::{Out, Work};

/// The end of every project file written here.
const TAIL: &str = "segments: segments\noutput: out\nas_of: 2025-06-30\ntimezone: Europe/Paris\n";

/// A project whose audience.yaml is `head` followed by [`TAIL`], with the
/// given files (text) and an empty segments folder.
fn project(head: &str, files: &[(&str, &str)]) -> Work {
    let w = Work::new();
    w.file("audience.yaml", &format!("{head}{TAIL}"));
    for (name, text) in files {
        w.file(name, text);
    }
    std::fs::create_dir_all(w.path("segments")).expect("mkdir");
    w
}

/// A project with only a contacts file `contacts.csv` keyed by `email`.
fn contacts_only(contacts: &str) -> Work {
    project("contacts: {path: contacts.csv, key: email}\n", &[("contacts.csv", contacts)])
}

/// Writes segments/ALIAS.yaml with the condition `cond` (YAML flow) as `where`.
fn seg(w: &Work, alias: &str, cond: &str) {
    w.file(&format!("segments/{alias}.yaml"), &format!("name: {alias}\nwhere: {cond}\n"));
}

/// Members of a one-condition segment written on the fly.
fn who(w: &Work, alias: &str, cond: &str) -> Vec<String> {
    seg(w, alias, cond);
    w.members(alias)
}

/// `fields --format json`: field -> (type, samples, source).
fn fields(w: &Work) -> HashMap<String, (String, String, String)> {
    let out = w.run(&["fields", "--format", "json"]);
    out.ok();
    let v: Vec<Value> = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out.stdout));
    v.into_iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("field"), (s("type"), s("samples"), s("source")))
        })
        .collect()
}

fn ty(f: &HashMap<String, (String, String, String)>, name: &str) -> String {
    f.get(name).unwrap_or_else(|| panic!("no field `{name}` in {:?}", f.keys().collect::<Vec<_>>())).0.clone()
}

fn samples(f: &HashMap<String, (String, String, String)>, name: &str) -> String {
    f.get(name).unwrap_or_else(|| panic!("no field `{name}`")).1.clone()
}

/// An exported CSV as header + rows.
fn csv_rows(w: &Work, rel: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = w.read(rel);
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr.headers().expect("header").iter().map(str::to_string).collect();
    let rows = rdr.records().map(|r| r.expect("row").iter().map(str::to_string).collect()).collect();
    (header, rows)
}

/// One column of an exported CSV.
fn column(w: &Work, rel: &str, name: &str) -> Vec<String> {
    let (h, rows) = csv_rows(w, rel);
    let i = h.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name} in {h:?}"));
    rows.into_iter().map(|r| r[i].clone()).collect()
}

fn count_of(w: &Work, args: &[&str], alias: &str) -> Value {
    let c = w.counts(args);
    c.into_iter().find(|r| r["alias"] == alias).unwrap_or_else(|| panic!("no alias {alias}"))
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn fails(out: &Out, code: i32, needles: &[&str]) {
    out.code(code);
    for n in needles {
        out.stderr_has(n);
    }
}

// ---------------------------------------------------------------- BOM

#[test]
fn utf8_bom_is_ignored() {
    let w = Work::project("\u{feff}email,city\na@x.fr,Lyon\nb@x.fr,Paris\n", "\u{feff}order_id,email,ordered_at,amount\n1,a@x.fr,2025-01-02,10\n", &[]);
    let f = fields(&w);
    assert_eq!(ty(&f, "email"), "text");
    assert_eq!(f["email"].2, "contacts (key)");
    assert_eq!(ty(&f, "orders.order_id"), "int");
    assert!(f.keys().all(|k| !k.contains('\u{feff}')), "{:?}", f.keys());
    assert_eq!(who(&w, "lyon", "{field: city, op: eq, value: Lyon}"), s(&["a@x.fr"]));
    assert_eq!(who(&w, "buyers", "{field: total_spent, op: eq, value: 10}"), s(&["a@x.fr"]));
    // The exported header is clean too.
    assert_eq!(csv_rows(&w, "out/lyon.csv").0[0], "email");

    // With an explicit Windows-1252 encoding the BOM is still dropped.
    let w = project("contacts: {path: contacts.csv, key: email}\ncsv: {encoding: windows-1252}\n", &[("contacts.csv", "\u{feff}email;city\na@x.fr;Lyon\n")]);
    assert_eq!(who(&w, "lyon", "{field: city, op: eq, value: Lyon}"), s(&["a@x.fr"]));
}

#[test]
fn utf8_bom_bad_key_names_the_clean_header() {
    let w = project("contacts: {path: contacts.csv, key: mail}\n", &[("contacts.csv", "\u{feff}email,city\na@x.fr,Lyon\n")]);
    let out = w.run(&["count"]);
    fails(&out, 1, &["contacts.csv", "`mail`", "did you mean `email`?"]);
    assert!(!out.stderr.contains('\u{feff}'), "{}", out.stderr);
}

// ---------------------------------------------------------------- separators

#[test]
fn separator_is_detected_among_comma_semicolon_tab_pipe() {
    for sep in [",", ";", "\t", "|"] {
        let contacts = format!("email{sep}city{sep}score\na@x.fr{sep}Lyon{sep}3\nb@x.fr{sep}Paris{sep}4\n");
        let w = contacts_only(&contacts);
        let f = fields(&w);
        assert_eq!(ty(&f, "city"), "text", "sep {sep:?}");
        assert_eq!(ty(&f, "score"), "int", "sep {sep:?}");
        assert_eq!(who(&w, "paris", "{field: city, op: eq, value: Paris}"), s(&["b@x.fr"]), "sep {sep:?}");
    }
    // Separators inside quotes do not count: `;` wins over the quoted commas.
    let w = contacts_only("email;name;note\na@x.fr;\"Doe, J\";\"x,y,z\"\nb@x.fr;\"Roe, K\";\"p,q\"\n");
    let f = fields(&w);
    assert_eq!(samples(&f, "name"), "Doe, J, Roe, K");
    assert_eq!(who(&w, "doe", "{field: name, op: eq, value: \"Doe, J\"}"), s(&["a@x.fr"]));
}

#[test]
fn separator_explicit_and_wrong() {
    // `csv.separator` set to `;` on a comma file: one column named `email,city`.
    let w = project("contacts: {path: contacts.csv, key: email}\ncsv: {separator: \";\"}\n", &[("contacts.csv", "email,city\na@x.fr,Lyon\n")]);
    fails(&w.run(&["count"]), 1, &["contacts.csv", "no key column `email`"]);
    // Explicit `|` keeps commas inside values.
    let w = project("contacts: {path: contacts.csv, key: email}\ncsv: {separator: \"|\"}\n", &[("contacts.csv", "email|city\na@x.fr|Lyon, Rhône\n")]);
    assert_eq!(who(&w, "l", "{field: city, op: eq, value: \"Lyon, Rhône\"}"), s(&["a@x.fr"]));
    // An unknown separator is a project error.
    let w = project("contacts: {path: contacts.csv, key: email}\ncsv: {separator: \":\"}\n", &[("contacts.csv", "email\na@x.fr\n")]);
    fails(&w.run(&["count"]), 1, &["audience.yaml", "separator"]);
}

// ---------------------------------------------------------------- encoding

#[test]
fn windows_1252_fallback() {
    let w = Work::new();
    w.file("audience.yaml", &format!("contacts: {{path: contacts.csv, key: email}}\n{TAIL}"));
    w.bytes("contacts.csv", b"email;city\na@x.fr;Orl\xe9ans\nb@x.fr;Paris\n");
    std::fs::create_dir_all(w.path("segments")).unwrap();
    seg(&w, "orl", "{field: city, op: eq, value: Orléans, case_sensitive: true}");
    let out = w.run(&["run", "orl"]);
    out.ok().stderr_has("read as Windows-1252");
    assert_eq!(w.list_keys("out/orl.csv"), s(&["a@x.fr"]));
    // Exported as UTF-8.
    assert_eq!(column(&w, "out/orl.csv", "city"), s(&["Orléans"]));
    assert!(samples(&fields(&w), "city").contains("Orléans"));
}

#[test]
fn explicit_utf8_with_bad_bytes_is_an_error_naming_file_and_line() {
    let w = Work::new();
    w.file("audience.yaml", &format!("contacts: {{path: contacts.csv, key: email}}\ncsv: {{encoding: utf-8}}\n{TAIL}"));
    w.bytes("contacts.csv", b"email;city\na@x.fr;Lyon\nb@x.fr;Orl\xe9ans\n");
    std::fs::create_dir_all(w.path("segments")).unwrap();
    fails(&w.run(&["count"]), 1, &["contacts.csv:3", "not valid UTF-8", "windows-1252"]);
    // The same file read as Windows-1252 when said so.
    w.file("audience.yaml", &format!("contacts: {{path: contacts.csv, key: email}}\ncsv: {{encoding: windows-1252}}\n{TAIL}"));
    assert_eq!(who(&w, "orl", "{field: city, op: eq, value: Orléans}"), s(&["b@x.fr"]));
    let out = w.run(&["count"]);
    assert!(!out.stderr.contains("read as Windows-1252"), "{}", out.stderr);
}

// ---------------------------------------------------------------- decimal comma

#[test]
fn decimal_comma_auto() {
    let w = project(
        "contacts: {path: contacts.csv, key: email}\ntables:\n  orders: {path: orders.csv, key: email, date: ordered_at, amount: amount}\n",
        &[
            ("contacts.csv", "email;spent;tiny\na@x.fr;1\u{a0}234,50;0,5\nb@x.fr;12,5;3\nc@x.fr;-3;\nd@x.fr;1 000 000,25;1\ne@x.fr;1\u{202f}234;2\n"),
            ("orders.csv", "email;ordered_at;amount\na@x.fr;2025-01-01;12,50\na@x.fr;2025-01-02;12,50\nb@x.fr;2025-01-03;3\n"),
        ],
    );
    let f = fields(&w);
    assert_eq!(ty(&f, "spent"), "float");
    assert_eq!(ty(&f, "tiny"), "float");
    assert_eq!(ty(&f, "orders.amount"), "float");
    assert_eq!(who(&w, "big", "{field: spent, op: gt, value: 1000}"), s(&["a@x.fr", "d@x.fr", "e@x.fr"]));
    assert_eq!(who(&w, "neg", "{field: spent, op: lt, value: 0}"), s(&["c@x.fr"]));
    assert_eq!(who(&w, "t25", "{field: total_spent, op: eq, value: 25}"), s(&["a@x.fr"]));
    // Exported with a dot and no thousands separator.
    assert_eq!(column(&w, "out/big.csv", "spent"), s(&["1234.5", "1000000.25", "1234"]));
}

#[test]
fn decimal_comma_bad_forms_and_false() {
    // No comma anywhere: spaced thousands are not numbers; a dot and a comma
    // mixed, or groups not of three, are text.
    let w = contacts_only("email;spaced;mixed;groups\na@x.fr;1 234;1.5;12 34,5\nb@x.fr;2 000;2,5;1,5\n");
    let f = fields(&w);
    assert_eq!(ty(&f, "spaced"), "text");
    assert_eq!(ty(&f, "mixed"), "text");
    assert_eq!(ty(&f, "groups"), "text");

    // decimal_comma: false keeps comma numbers as text, and a table amount
    // in that form is refused.
    let w = project(
        "contacts: {path: contacts.csv, key: email}\ntables:\n  orders: {path: orders.csv, key: email, amount: amount}\ncsv: {decimal_comma: false}\n",
        &[("contacts.csv", "email;spent\na@x.fr;12,5\n"), ("orders.csv", "email;amount\na@x.fr;12,50\n")],
    );
    fails(&w.run(&["count"]), 1, &["orders", "`amount`", "not numeric"]);
    w.file("orders.csv", "email;amount\na@x.fr;12.50\n");
    let f = fields(&w);
    assert_eq!(ty(&f, "spent"), "text");
    assert_eq!(who(&w, "x", "{field: spent, op: eq, value: \"12,5\"}"), s(&["a@x.fr"]));
    assert_eq!(column(&w, "out/x.csv", "spent"), s(&["12,5"]));

    // decimal_comma: true reads dots and commas alike.
    let w = project("contacts: {path: contacts.csv, key: email}\ncsv: {decimal_comma: true}\n", &[("contacts.csv", "email;n\na@x.fr;12,5\nb@x.fr;3.25\n")]);
    assert_eq!(ty(&fields(&w), "n"), "float");
    assert_eq!(who(&w, "n", "{field: n, op: gt, value: 10}"), s(&["a@x.fr"]));
}

// ---------------------------------------------------------------- currency

#[test]
fn currency_signs_and_codes_are_ignored() {
    let w = project(
        "contacts: {path: contacts.csv, key: email}\ntables:\n  orders: {path: orders.csv, key: email, amount: amount}\n",
        &[
            ("contacts.csv", "email;eur;code;usd;after\na@x.fr;12,50 €;EUR 15;$9.99;15USD\nb@x.fr;3 €;EUR 1;$0.01;2 GBP\nc@x.fr;1 234,50€;CHF12;£3;4CAD\n"),
            ("orders.csv", "email;amount\na@x.fr;12,50 €\na@x.fr;€ 7,50\nb@x.fr;EUR 1\n"),
        ],
    );
    let f = fields(&w);
    assert_eq!(ty(&f, "eur"), "float");
    assert_eq!(ty(&f, "code"), "int");
    assert_eq!(ty(&f, "usd"), "float");
    assert_eq!(ty(&f, "after"), "int");
    assert_eq!(ty(&f, "orders.amount"), "float");
    assert_eq!(who(&w, "eur", "{field: eur, op: gt, value: 10}"), s(&["a@x.fr", "c@x.fr"]));
    assert_eq!(who(&w, "usd", "{field: usd, op: eq, value: 9.99}"), s(&["a@x.fr"]));
    assert_eq!(who(&w, "code", "{field: code, op: eq, value: 15}"), s(&["a@x.fr"]));
    assert_eq!(who(&w, "spent", "{field: total_spent, op: eq, value: 20}"), s(&["a@x.fr"]));
    assert_eq!(column(&w, "out/eur.csv", "eur"), s(&["12.5", "1234.5"]));
}

#[test]
fn currency_bad_forms_stay_text() {
    // Two currencies, a currency alone, an unknown code.
    let w = contacts_only("email;two;alone;other\na@x.fr;€12€;€;12 ABC\nb@x.fr;3;4;5\n");
    let f = fields(&w);
    assert_eq!(ty(&f, "two"), "text");
    assert_eq!(ty(&f, "alone"), "text");
    assert_eq!(ty(&f, "other"), "text");
}

// ---------------------------------------------------------------- dates

#[test]
fn date_and_datetime_formats_and_offsets() {
    let w = contacts_only(
        "email,d,dt,iso\n\
         a@x.fr,2024-03-05,2024-03-05 10:30,2024-07-01T10:00:00Z\n\
         b@x.fr,05/03/1990,05/03/1990 23:15:10,2024-07-01T23:30:00+02:00\n\
         c@x.fr,5/3/1990,2024-01-15 00:00,2024-01-15T23:30:00Z\n",
    );
    let f = fields(&w);
    assert_eq!(ty(&f, "d"), "date");
    assert_eq!(ty(&f, "dt"), "datetime");
    assert_eq!(ty(&f, "iso"), "datetime");
    assert_eq!(who(&w, "every", "{field: d, op: is_not_empty}"), s(&["a@x.fr", "b@x.fr", "c@x.fr"]));
    assert_eq!(column(&w, "out/every.csv", "d"), s(&["2024-03-05", "1990-03-05", "1990-03-05"]));
    assert_eq!(column(&w, "out/every.csv", "dt"), s(&["2024-03-05T10:30:00", "1990-03-05T23:15:10", "2024-01-15T00:00:00"]));
    // Z and offsets converted to Europe/Paris (summer +2, winter +1).
    assert_eq!(column(&w, "out/every.csv", "iso"), s(&["2024-07-01T12:00:00", "2024-07-01T23:30:00", "2024-01-16T00:30:00"]));
    // Dates compare by calendar day in the project's zone.
    assert_eq!(who(&w, "on16", "{field: iso, op: on, value: 2024-01-16}"), s(&["c@x.fr"]));
    assert_eq!(who(&w, "dd", "{field: d, op: on, value: 05/03/1990}"), s(&["b@x.fr", "c@x.fr"]));
}

#[test]
fn dates_bad_values_make_text() {
    // Month 13, 31 February, hour 25, an American date: not dates.
    let w = contacts_only(
        "email,m13,feb31,h25,us\na@x.fr,2024-13-01,31/02/2024,2024-03-05 25:00,03/25/2024\nb@x.fr,2024-01-01,01/02/2024,2024-03-05 10:00,01/01/2024\n",
    );
    let f = fields(&w);
    for c in ["m13", "feb31", "h25", "us"] {
        assert_eq!(ty(&f, c), "text", "{c}");
    }
}

#[test]
fn a_column_mixing_dates_and_datetimes_is_datetime() {
    let w = project(
        "contacts: {path: contacts.csv, key: email}\ntables:\n  orders: {path: orders.csv, key: email, date: ordered_at}\n",
        &[
            ("contacts.csv", "email,seen\na@x.fr,2024-03-05\nb@x.fr,06/03/2024 10:00\nc@x.fr,2024-03-07T08:00:00\n"),
            ("orders.csv", "email,ordered_at\na@x.fr,2025-01-01\na@x.fr,2025-02-01 10:00\nb@x.fr,2025-03-01T10:00:00Z\n"),
        ],
    );
    let f = fields(&w);
    assert_eq!(ty(&f, "seen"), "datetime");
    assert_eq!(ty(&f, "orders.ordered_at"), "datetime");
    assert_eq!(who(&w, "every", "{field: seen, op: is_not_empty}").len(), 3);
    assert_eq!(column(&w, "out/every.csv", "seen"), s(&["2024-03-05T00:00:00", "2024-03-06T10:00:00", "2024-03-07T08:00:00"]));
    assert_eq!(who(&w, "last", "{field: last_order_date, op: on, value: 2025-02-01}"), s(&["a@x.fr"]));
}

#[test]
fn zero_dates_are_missing() {
    let w = project(
        "contacts: {path: contacts.csv, key: email, columns: {decl: date}}\n",
        &[(
            "contacts.csv",
            "email,d,t,decl\na@x.fr,0000-00-00,0000-00-00 00:00:00,00/00/0000\nb@x.fr,00/00/0000,2024-01-01 10:00,2024-01-01\nc@x.fr,2024-01-02,00/00/0000 00:00,0000-00-00\n",
        )],
    );
    let f = fields(&w);
    assert_eq!(ty(&f, "d"), "date");
    assert_eq!(ty(&f, "t"), "datetime");
    assert_eq!(ty(&f, "decl"), "date");
    assert_eq!(who(&w, "nod", "{field: d, op: is_empty}"), s(&["a@x.fr", "b@x.fr"]));
    assert_eq!(who(&w, "not", "{field: t, op: is_empty}"), s(&["a@x.fr", "c@x.fr"]));
    assert_eq!(who(&w, "nodecl", "{field: decl, op: is_empty}"), s(&["a@x.fr", "c@x.fr"]));
    // Zero dates are missing on purpose, not failed casts.
    let out = w.run(&["count"]);
    out.ok();
    assert!(!out.stderr.contains("read as missing"), "{}", out.stderr);
    // Not a zero date: a month 00 in a real year keeps the column text.
    let w = contacts_only("email,d\na@x.fr,2024-00-10\nb@x.fr,2024-01-01\n");
    assert_eq!(ty(&fields(&w), "d"), "text");
}

// ---------------------------------------------------------------- leading zeros, code names

#[test]
fn leading_zeros_keep_text_but_not_dates() {
    let w = contacts_only("email,code,gsm,birth,n,f\na@x.fr,01000,0612345678,05/03/1990,0,0.5\nb@x.fr,75001,712345678,2024-01-01,10,0\n");
    let f = fields(&w);
    assert_eq!(ty(&f, "code"), "text");
    assert_eq!(ty(&f, "gsm"), "text");
    assert_eq!(ty(&f, "birth"), "date");
    assert_eq!(ty(&f, "n"), "int");
    assert_eq!(ty(&f, "f"), "float");
    assert_eq!(who(&w, "ain", "{field: code, op: starts_with, value: \"01\"}"), s(&["a@x.fr"]));
    // A YAML number with a leading zero is the text "01000".
    assert_eq!(who(&w, "eq", "{field: code, op: eq, value: 01000}"), s(&["a@x.fr"]));
    assert_eq!(column(&w, "out/ain.csv", "code"), s(&["01000"]));
    assert_eq!(column(&w, "out/ain.csv", "gsm"), s(&["0612345678"]));
    assert_eq!(column(&w, "out/ain.csv", "birth"), s(&["1990-03-05"]));
}

#[test]
fn code_names_stay_text() {
    let w = project(
        "contacts: {path: contacts.csv, key: email, columns: {siret_num: int}}\n",
        &[(
            "contacts.csv",
            "email,postal_code,ZIP,Phone,mobile_number,tel,siret,cp,CP,Zip Code,siret_num,cpu,cp2\n\
             a@x.fr,75001,75001,612345678,612345678,612345678,12345678901234,75001,75001,75001,123,1,1\n\
             b@x.fr,13002,13002,712345678,712345678,712345678,12345678901235,13002,13002,13002,456,2,2\n",
        )],
    );
    let f = fields(&w);
    for c in ["postal_code", "ZIP", "Phone", "mobile_number", "tel", "siret", "cp", "CP", "Zip Code"] {
        assert_eq!(ty(&f, c), "text", "{c}");
    }
    // A declared type wins over the name; other names are inferred.
    assert_eq!(ty(&f, "siret_num"), "int");
    assert_eq!(ty(&f, "cpu"), "int");
    assert_eq!(ty(&f, "cp2"), "int");
    assert_eq!(who(&w, "paris", "{field: postal_code, op: starts_with, value: \"75\"}"), s(&["a@x.fr"]));
    assert_eq!(who(&w, "cp", "{field: cp, op: eq, value: 13002}"), s(&["b@x.fr"]));
}

#[test]
fn an_all_empty_column_is_text() {
    let w = project(
        "contacts: {path: contacts.csv, key: email}\ntables:\n  orders: {path: orders.csv, key: email}\n",
        &[("contacts.csv", "email,note,n\na@x.fr,,\nb@x.fr,   ,\n"), ("orders.csv", "email,empty\na@x.fr,\n")],
    );
    let f = fields(&w);
    assert_eq!(ty(&f, "note"), "text");
    assert_eq!(ty(&f, "n"), "text");
    assert_eq!(ty(&f, "orders.empty"), "text");
    assert_eq!(who(&w, "e", "{field: note, op: is_empty}"), s(&["a@x.fr", "b@x.fr"]));
}

// ---------------------------------------------------------------- booleans

#[test]
fn bool_inference_is_true_false_only() {
    let w = contacts_only("email,flag,optin,yn,num,odd\na@x.fr,true,oui,yes,1,true\nb@x.fr,FALSE,non,no,0,maybe\nc@x.fr,,Oui ,,,false\n");
    let f = fields(&w);
    assert_eq!(ty(&f, "flag"), "bool");
    // Text (`fields` may add that the words read as booleans), never bool.
    assert!(ty(&f, "optin").starts_with("text"), "{}", ty(&f, "optin"));
    assert!(ty(&f, "yn").starts_with("text"), "{}", ty(&f, "yn"));
    assert_eq!(ty(&f, "num"), "int");
    assert!(ty(&f, "odd").starts_with("text"), "{}", ty(&f, "odd"));
    assert_eq!(who(&w, "flag", "{field: flag, op: is_true}"), s(&["a@x.fr"]));
    assert_eq!(who(&w, "flagf", "{field: flag, op: is_false}"), s(&["b@x.fr"]));
    // Text words still work with is_true / is_false.
    assert_eq!(who(&w, "oui", "{field: optin, op: is_true}"), s(&["a@x.fr", "c@x.fr"]));
    assert_eq!(who(&w, "non", "{field: optin, op: is_false}"), s(&["b@x.fr"]));
    assert_eq!(who(&w, "yes", "{field: yn, op: is_true}"), s(&["a@x.fr"]));
    assert_eq!(who(&w, "one", "{field: num, op: is_true}"), s(&["a@x.fr"]));
    // `maybe` is neither.
    assert_eq!(who(&w, "oddt", "{field: odd, op: is_true}"), s(&["a@x.fr"]));
    assert_eq!(who(&w, "oddf", "{field: odd, op: is_false}"), s(&["c@x.fr"]));
}

// ---------------------------------------------------------------- type overrides, failed casts

#[test]
fn type_overrides_and_failed_casts_counted() {
    let w = project(
        "contacts:\n  path: contacts.csv\n  key: email\n  columns: {qty: int, price: float, code: string, since: date, ok: bool, at: datetime, zip: int}\n",
        &[(
            "contacts.csv",
            "email;qty;price;code;since;ok;at;zip\n\
             a@x.fr;12;1 234,50 €;75001;2024-01-02;oui;2024-01-02;01000\n\
             b@x.fr;12,00;EUR 15;13002;05/03/1990;NON;2024-01-02 10:00;75001\n\
             c@x.fr;12,50;x;01000;never;maybe;later;\n\
             d@x.fr;abc;;;;;;\n",
        )],
    );
    let f = fields(&w);
    assert_eq!(ty(&f, "qty"), "int");
    assert_eq!(ty(&f, "price"), "float");
    assert_eq!(ty(&f, "code"), "text");
    assert_eq!(ty(&f, "since"), "date");
    assert_eq!(ty(&f, "ok"), "bool");
    assert_eq!(ty(&f, "at"), "datetime");
    assert_eq!(ty(&f, "zip"), "int");
    assert_eq!(who(&w, "q12", "{field: qty, op: eq, value: 12}"), s(&["a@x.fr", "b@x.fr"]));
    assert_eq!(who(&w, "qmiss", "{field: qty, op: is_empty}"), s(&["c@x.fr", "d@x.fr"]));
    assert_eq!(who(&w, "price", "{field: price, op: gt, value: 14}"), s(&["a@x.fr", "b@x.fr"]));
    assert_eq!(who(&w, "ok", "{field: ok, op: is_true}"), s(&["a@x.fr"]));
    assert_eq!(column(&w, "out/q12.csv", "qty"), s(&["12", "12"]));
    assert_eq!(column(&w, "out/q12.csv", "zip"), s(&["1000", "75001"]));
    // Each failed column counted in the data notes, with its first bad cell and line.
    let out = w.run(&["count"]);
    out.ok()
        .stderr_has("2 value(s) of column `qty` are not int")
        .stderr_has("first `12,50` on line 4")
        .stderr_has("1 value(s) of column `price` are not float")
        .stderr_has("1 value(s) of column `since` are not date")
        .stderr_has("1 value(s) of column `ok` are not bool")
        .stderr_has("1 value(s) of column `at` are not datetime");
    assert!(!out.stderr.contains("column `code`"), "{}", out.stderr);
    assert!(!out.stderr.contains("column `zip`"), "{}", out.stderr);
}

#[test]
fn type_override_unknown_type_is_rejected() {
    let w = project("contacts:\n  path: contacts.csv\n  key: email\n  columns:\n    qty: integer\n", &[("contacts.csv", "email,qty\na@x.fr,1\n")]);
    fails(&w.run(&["count"]), 1, &["audience.yaml:5:", "unknown type `integer`", "int"]);
}

#[test]
fn failed_casts_are_counted_per_column_over_every_row() {
    let w = project(
        "contacts: {path: contacts.csv, key: email, columns: {age: int, score: float}}\n\
         tables:\n  orders: {path: orders.csv, key: email, columns: {qty: int}}\n",
        &[
            // The duplicate row and the keyless row still count their bad cells.
            ("contacts.csv", "email,age,score\na@x.fr,30,1.5\nb@x.fr,old,n/a\na@x.fr,young,2\n,??,x\n"),
            ("orders.csv", "email,qty\na@x.fr,1\na@x.fr,two\nb@x.fr,3.5\n"),
        ],
    );
    let out = w.run(&["count"]);
    out.ok()
        .stderr_has("contacts: 3 value(s) of column `age` are not int and were read as missing, first `old` on line 3")
        .stderr_has("contacts: 2 value(s) of column `score` are not float and were read as missing, first `n/a` on line 3")
        .stderr_has("orders: 2 value(s) of column `qty` are not int and were read as missing, first `two` on line 3");
    // The loaded values: b has no age; a keeps its first row.
    assert_eq!(who(&w, "noage", "{field: age, op: is_empty}"), s(&["b@x.fr"]));
}

// ---------------------------------------------------------------- keys

#[test]
fn email_keys_are_normalised_on_every_side() {
    let w = project(
        "contacts: {path: contacts.csv, key: email}\n\
         tables:\n  orders: {path: orders.csv, key: email, date: ordered_at, amount: amount, id: order_id}\n\
         suppress: [bounces.csv]\n",
        &[
            ("contacts.csv", "email,city\n  Alice@Example.COM ,Lyon\nbob@x.fr,Paris\ncarol@x.fr,Nice\ndan@x.fr,Nice\n"),
            ("orders.csv", "order_id,email,ordered_at,amount\n1,ALICE@example.com,2025-01-01,10\n2, alice@EXAMPLE.com ,2025-02-01,5\n"),
            ("bounces.csv", " BOB@X.FR\nnobody@x.fr\n"),
            ("segments/lists/vip.csv", "EMAIL\n DAN@X.fr \n"),
        ],
    );
    w.file(
        "segments/towns.yaml",
        "name: towns\nwhere: {field: city, op: in, value: [Lyon, Paris]}\ninclude: {file: lists/vip.csv}\nexclude: [\" CAROL@X.FR\"]\n\
         expect: {includes: [ALICE@EXAMPLE.COM, Dan@X.FR], excludes: [Carol@X.fr]}\n",
    );
    assert_eq!(who(&w, "key", "{field: email, op: eq, value: alice@example.com, case_sensitive: true}"), s(&["alice@example.com"]));
    assert_eq!(who(&w, "spent", "{field: total_spent, op: eq, value: 15}"), s(&["alice@example.com"]));
    let out = w.run(&["count"]);
    assert!(!out.stderr.contains("belong to no contact"), "{}", out.stderr);
    let c = count_of(&w, &[], "towns");
    assert_eq!((c["members"].as_u64(), c["suppressed"].as_u64(), c["recipients"].as_u64()), (Some(3), Some(1), Some(2)));
    assert_eq!(w.members("towns"), s(&["alice@example.com", "dan@x.fr"]));
    w.run(&["test", "towns"]).ok();
    // An expectation that fails whatever the case it is written in.
    w.file("segments/towns.yaml", "name: towns\nwhere: {field: city, op: in, value: [Lyon, Paris]}\nexpect: {includes: [CAROL@X.FR]}\n");
    let out = w.run(&["test", "towns"]);
    out.code(1);
    assert!(format!("{}{}", out.stdout, out.stderr).contains("carol@x.fr"), "{}\n{}", out.stdout, out.stderr);
}

#[test]
fn email_key_false_keeps_keys_as_written() {
    let w = project(
        "contacts: {path: contacts.csv, key: email, email_key: false}\n\
         tables:\n  orders: {path: orders.csv, key: email}\n",
        &[("contacts.csv", "email,city\n  Alice@X.fr ,Lyon\nalice@x.fr,Paris\nnot-an-address,Nice\n"), ("orders.csv", "email\nAlice@X.fr\nALICE@X.FR\n")],
    );
    assert_eq!(who(&w, "all3", "{field: city, op: is_not_empty}"), s(&["Alice@X.fr", "alice@x.fr", "not-an-address"]));
    let c = count_of(&w, &[], "all3");
    assert_eq!((c["members"].as_u64(), c["invalid_email"].as_u64()), (Some(3), Some(0)));
    assert_eq!(who(&w, "bought", "{field: order_count, op: gt, value: 0}"), s(&["Alice@X.fr"]));
    w.run(&["count"]).ok().stderr_has("orders: 1 row(s) belong to no contact");

    // auto, on keys that are not addresses: kept as written (trimmed).
    let w = project("contacts: {path: contacts.csv, key: id}\n", &[("contacts.csv", "id,city\n AB-12 ,Lyon\nab-12,Paris\n")]);
    assert_eq!(who(&w, "ids", "{field: city, op: is_not_empty}"), s(&["AB-12", "ab-12"]));

    // true, on a column that mostly lacks `@`: normalised, and invalid ones counted.
    let w = project("contacts: {path: contacts.csv, key: id, email_key: true}\n", &[("contacts.csv", "id,city\n AB-12 ,Lyon\nAna@X.fr,Paris\nxyz,Nice\n")]);
    seg(&w, "ids", "{field: city, op: is_not_empty}");
    let c = count_of(&w, &[], "ids");
    assert_eq!((c["members"].as_u64(), c["invalid_email"].as_u64(), c["recipients"].as_u64()), (Some(3), Some(2), Some(1)));
    assert_eq!(w.members("ids"), s(&["ana@x.fr"]));
}

#[test]
fn the_key_is_an_email_column_by_its_values_never_its_name() {
    // Named `email`, holding ids: kept as written, no invalid_email.
    let w = contacts_only("email,city\nAB-1,Lyon\nab-1,Paris\n");
    assert_eq!(who(&w, "k", "{field: city, op: is_not_empty}"), s(&["AB-1", "ab-1"]));
    assert_eq!(count_of(&w, &[], "k")["invalid_email"].as_u64(), Some(0));
    // Named `id`, half of the values addresses: an e-mail key, normalised.
    let w = project("contacts: {path: contacts.csv, key: id}\n", &[("contacts.csv", "id,city\nAna@X.FR,Lyon\nXYZ,Paris\nBob@x.fr ,Nice\nQRS,Rome\n")]);
    seg(&w, "k", "{field: city, op: is_not_empty}");
    let c = count_of(&w, &[], "k");
    assert_eq!((c["members"].as_u64(), c["invalid_email"].as_u64()), (Some(4), Some(2)));
    assert_eq!(w.members("k"), s(&["ana@x.fr", "bob@x.fr"]));
    // Fewer than half: not an e-mail key, `XYZ` kept as written.
    let w = project("contacts: {path: contacts.csv, key: id}\n", &[("contacts.csv", "id,city\nAna@X.FR,Lyon\nXYZ,Paris\nQRS,Rome\n")]);
    assert_eq!(who(&w, "k", "{field: city, op: is_not_empty}"), s(&["Ana@X.FR", "XYZ", "QRS"]));
}

#[test]
fn key_list_files_find_their_key_column() {
    let w = project(
        "contacts: {path: contacts.csv, key: email}\nsuppress: [named.csv, first.csv, bare.csv]\n",
        &[
            ("contacts.csv", "email,city\na@x.fr,Lyon\nb@x.fr,Lyon\nc@x.fr,Lyon\nd@x.fr,Lyon\ne@x.fr,Lyon\n"),
            // The column named like the key, case ignored, wherever it is.
            ("named.csv", "name;EMAIL\nc@x.fr;A@X.FR\n"),
            // No such column: the first one.
            ("first.csv", "address,name\nB@x.fr,b@x.fr is not read\n"),
            // No header: the first cell is an address.
            ("bare.csv", "d@x.fr\n"),
        ],
    );
    assert_eq!(who(&w, "l", "{field: city, op: eq, value: Lyon}"), s(&["c@x.fr", "e@x.fr"]));
    assert_eq!(count_of(&w, &[], "l")["suppressed"].as_u64(), Some(3));
    // A suppress file that does not exist is named.
    w.file("audience.yaml", &format!("contacts: {{path: contacts.csv, key: email}}\nsuppress: [gone.csv]\n{TAIL}"));
    fails(&w.run(&["count"]), 1, &["gone.csv"]);
}

#[test]
fn text_cells_are_trimmed_and_blank_is_missing() {
    let w = contacts_only("email,city,n,d\na@x.fr,  Lyon ,\u{a0}12\u{a0}, 2024-01-02 \nb@x.fr,\u{a0} ,   ,\n");
    let f = fields(&w);
    assert_eq!(ty(&f, "n"), "int");
    assert_eq!(ty(&f, "d"), "date");
    assert_eq!(who(&w, "lyon", "{field: city, op: eq, value: Lyon, case_sensitive: true}"), s(&["a@x.fr"]));
    assert_eq!(who(&w, "blank", "{field: city, op: is_empty}"), s(&["b@x.fr"]));
    assert_eq!(column(&w, "out/lyon.csv", "city"), s(&["Lyon"]));
}

#[test]
fn inference_order_int_before_date_and_bool() {
    // `20240101` is an int; `1`/`0` is an int; a number and a date mixed is text.
    let w = contacts_only("email,compact,flag,mix\na@x.fr,20240101,1,2024-01-01\nb@x.fr,20240102,0,12\n");
    let f = fields(&w);
    assert_eq!(ty(&f, "compact"), "int");
    assert_eq!(ty(&f, "flag"), "int");
    assert!(ty(&f, "mix").starts_with("text"), "{}", ty(&f, "mix"));
}

#[test]
fn empty_keys_are_dropped_and_counted() {
    let w = Work::project(
        "email,city\na@x.fr,Lyon\n,Paris\n   ,Nice\n\"\",Rome\nb@x.fr,Nice\n",
        "order_id,email,ordered_at,amount\n1,a@x.fr,2025-01-01,10\n2,,2025-01-01,10\n",
        &[],
    );
    let out = w.run(&["count", "all"]);
    out.ok().stderr_has("contacts: 3 row(s) with an empty `email` were skipped").stderr_has("orders: 1 row(s) with an empty `email` were skipped");
    assert_eq!(w.members("all"), s(&["a@x.fr", "b@x.fr"]));
}

#[test]
fn duplicate_contact_keys_keep_the_first_row() {
    let w = Work::project("email,city\na@x.fr,Lyon\nb@x.fr,Paris\n A@X.FR ,Nice\nb@x.fr,Rome\n", "", &[]);
    w.run(&["count", "all"]).ok().stderr_has("contacts: 2 row(s) repeat an earlier `email`; the first row of each was kept");
    assert_eq!(w.members("all"), s(&["a@x.fr", "b@x.fr"]));
    assert_eq!(column(&w, "out/all.csv", "city"), s(&["Lyon", "Paris"]));
    assert_eq!(who(&w, "nice", "{field: city, op: in, value: [Nice, Rome]}"), Vec::<String>::new());
}

#[test]
fn orphan_table_rows_are_counted_and_left_out() {
    let w = Work::project(
        "email\na@x.fr\n",
        "order_id,email,ordered_at,amount\n1,a@x.fr,2025-01-01,10\n2,z@x.fr,2025-01-01,10\n3, Z@X.FR,2025-01-01,10\n4,y@x.fr,2025-01-01,10\n",
        &[],
    );
    w.run(&["count", "all"]).ok().stderr_has("orders: 3 row(s) belong to no contact");
    assert_eq!(w.members("all"), s(&["a@x.fr"]));
    assert_eq!(who(&w, "ten", "{field: total_spent, op: eq, value: 10}"), s(&["a@x.fr"]));
}

#[test]
fn the_key_column_comes_first_in_exports_and_an_empty_table_loads() {
    // Key not first in the file; an orders export with a header only.
    let w = Work::project("city,email\nLyon,a@x.fr\nParis,b@x.fr\n", "", &[]);
    assert_eq!(w.members("all"), s(&["a@x.fr", "b@x.fr"]));
    assert_eq!(csv_rows(&w, "out/all.csv").0, s(&["email", "city"]));
    assert_eq!(who(&w, "none", "{field: order_count, op: eq, value: 0}").len(), 2);
}

// ---------------------------------------------------------------- globs

#[test]
fn globs_join_files_with_the_same_columns_in_any_order() {
    let w = project(
        "contacts: {path: data/contacts-*.csv, key: email}\n\
         tables:\n  orders: {path: data/orders-*.csv, key: email, amount: amount}\n",
        &[
            // Written out of order: read in sorted path order.
            ("data/contacts-2.csv", "n;email;code;city\n2.5;b@x.fr;01000;Paris\n3;a@x.fr;13002;Rome\n"),
            ("data/contacts-1.csv", "email,city,n,code\na@x.fr,Lyon,1,75001\nc@x.fr,Nice,2,69001\n"),
            ("data/orders-a.csv", "email,amount\na@x.fr,10\n"),
            ("data/orders-b.csv", "amount,email\n2.5,b@x.fr\n"),
        ],
    );
    let f = fields(&w);
    // Types over all files together.
    assert_eq!(ty(&f, "n"), "float");
    assert_eq!(ty(&f, "code"), "text");
    assert_eq!(ty(&f, "orders.amount"), "float");
    assert_eq!(w.members("all"), s(&["a@x.fr", "c@x.fr", "b@x.fr"]));
    // The first file in sorted order wins a duplicate key.
    assert_eq!(column(&w, "out/all.csv", "city"), s(&["Lyon", "Nice", "Paris"]));
    assert_eq!(who(&w, "b", "{field: total_spent, op: eq, value: 2.5}"), s(&["b@x.fr"]));
}

#[test]
fn globs_with_other_columns_are_an_error() {
    let w = project(
        "contacts: {path: data/contacts-*.csv, key: email}\n",
        &[("data/contacts-1.csv", "email,city\na@x.fr,Lyon\n"), ("data/contacts-2.csv", "email,town\nb@x.fr,Paris\n")],
    );
    fails(&w.run(&["count"]), 1, &["contacts-2.csv", "lacks \"city\"", "\"town\"", "same column names"]);
    let w = project("contacts: {path: data/nothing-*.csv, key: email}\n", &[]);
    fails(&w.run(&["count"]), 1, &["nothing-*.csv"]);
}

// ---------------------------------------------------------------- contacts from orders

#[test]
fn contacts_from_orders_take_the_latest_row() {
    let w = project(
        "tables:\n  orders: {path: orders.csv, key: email, date: ordered_at, amount: amount, id: order_id, consent: newsletter}\n",
        &[(
            "orders.csv",
            "order_id,email,ordered_at,city,newsletter,amount\n\
             1,a@x.fr,2025-03-01,Paris,oui,10\n\
             2,a@x.fr,,Nice,non,10\n\
             3,A@x.fr,2025-01-01,Lyon,non,10\n\
             4,b@x.fr,2025-02-01,Rome,non,5\n\
             5,b@x.fr,2025-02-01,Oslo,oui,5\n\
             6,c@x.fr,,Bonn,oui,1\n\
             7,c@x.fr,,Kiev,non,1\n",
        )],
    );
    let f = fields(&w);
    assert_eq!(f["city"].2, "contacts");
    assert_eq!(f["email"].2, "contacts (key)");
    seg(&w, "everyone", "{field: city, op: is_not_empty}");
    let c = count_of(&w, &[], "everyone");
    assert_eq!((c["members"].as_u64(), c["no_consent"].as_u64(), c["recipients"].as_u64()), (Some(3), Some(1), Some(2)));
    assert_eq!(w.members("everyone"), s(&["a@x.fr", "b@x.fr"]));
    assert_eq!(column(&w, "out/everyone.csv", "city"), s(&["Paris", "Oslo"]));
    // Undated rows are the oldest; with no dated row, the last row wins.
    assert_eq!(who(&w, "kiev", "{field: city, op: eq, value: Kiev}").len(), 0);
    let c = count_of(&w, &[], "kiev");
    assert_eq!((c["members"].as_u64(), c["no_consent"].as_u64()), (Some(1), Some(1)));
    assert_eq!(who(&w, "three", "{field: order_count, op: eq, value: 3}"), s(&["a@x.fr"]));
}

#[test]
fn contacts_from_orders_bad_consent_column() {
    let w = project("tables:\n  orders: {path: orders.csv, key: email, consent: newsleter}\n", &[("orders.csv", "email,newsletter\na@x.fr,oui\n")]);
    fails(&w.run(&["count"]), 1, &["orders", "`newsleter`", "did you mean `newsletter`?"]);
    let w = project("tables:\n  events: {path: orders.csv, key: email}\n", &[("orders.csv", "email\na@x.fr\n")]);
    fails(&w.run(&["count"]), 1, &["audience.yaml", "no `contacts`", "`orders`"]);
}

// ---------------------------------------------------------------- table where

#[test]
fn table_where_filters_rows_never_contacts() {
    let orders = "order_id,email,ordered_at,amount,status\n1,a@x.fr,2025-01-01,10,paid\n2,a@x.fr,2025-01-02,100,refunded\n3,b@x.fr,2025-01-03,50,refunded\n";
    let tables =
        "tables:\n  orders: {path: orders.csv, key: email, date: ordered_at, amount: amount, id: order_id, where: {field: status, op: neq, value: refunded}}\n";
    let w = project(
        &format!("contacts: {{path: contacts.csv, key: email}}\n{tables}"),
        &[("contacts.csv", "email\na@x.fr\nb@x.fr\nc@x.fr\n"), ("orders.csv", orders)],
    );
    assert_eq!(w.members("all"), s(&["a@x.fr", "b@x.fr", "c@x.fr"]));
    assert_eq!(who(&w, "none", "{field: order_count, op: eq, value: 0}"), s(&["b@x.fr", "c@x.fr"]));
    assert_eq!(who(&w, "ten", "{field: total_spent, op: eq, value: 10}"), s(&["a@x.fr"]));
    assert_eq!(who(&w, "refund", "{table: orders, where: {field: status, op: eq, value: refunded}}"), Vec::<String>::new());

    // Contacts from orders: b's only row is refunded, b is still a contact.
    let w = project(tables, &[("orders.csv", orders)]);
    assert_eq!(w.members("all"), s(&["a@x.fr", "b@x.fr"]));
    assert_eq!(who(&w, "none", "{field: order_count, op: eq, value: 0}"), s(&["b@x.fr"]));
}

// ---------------------------------------------------------------- errors

#[test]
fn missing_file_is_an_error_naming_it() {
    let w = project("contacts: {path: data/missing.csv, key: email}\n", &[]);
    let out = w.run(&["run"]);
    fails(&out, 1, &["missing.csv", "not found"]);
    // No list on a load error; the audit trail records the failed run.
    let lists: Vec<_> = std::fs::read_dir(w.path("out")).unwrap().flatten().filter(|e| e.file_name() != ".audience").collect();
    assert!(lists.is_empty(), "no list on a load error: {lists:?}");
    let audit = w.read("out/.audience/runs.jsonl");
    assert!(audit.contains(r#""status":"failed""#) && audit.contains("missing.csv"), "{audit}");
    let w = project("contacts: {path: contacts.csv, key: email}\ntables:\n  orders: {path: nope.csv, key: email}\n", &[("contacts.csv", "email\na@x.fr\n")]);
    fails(&w.run(&["count"]), 1, &["nope.csv", "not found"]);
}

#[test]
fn missing_key_column_has_a_hint() {
    let w = contacts_only("emial,city\na@x.fr,Lyon\n");
    fails(&w.run(&["count"]), 1, &["contacts.csv", "no key column `email`", "did you mean `emial`?"]);
    let w = Work::project("email\na@x.fr\n", "order_id,e-mail,ordered_at,amount\n1,a@x.fr,2025-01-01,1\n", &[]);
    fails(&w.run(&["count"]), 1, &["orders.csv", "no key column `email`", "did you mean `e-mail`?"]);
    // Other named columns of a table too.
    let w = Work::project("email\na@x.fr\n", "order_id,email,ordered,amount\n1,a@x.fr,2025-01-01,1\n", &[]);
    fails(&w.run(&["count"]), 1, &["orders", "`ordered_at`", "did you mean `ordered`?"]);
}

#[test]
fn ragged_row_is_an_error_naming_file_and_line() {
    let w = contacts_only("email,city\na@x.fr,Lyon\nb@x.fr,Paris,extra\nc@x.fr\n");
    fails(&w.run(&["count"]), 1, &["contacts.csv:3: row has 3 fields but the header has 2", "lines 4"]);
    // A trailing empty field is tolerated.
    let w = contacts_only("email;city;\na@x.fr;Lyon;\nb@x.fr;Paris\n");
    assert_eq!(w.members("all"), s(&["a@x.fr", "b@x.fr"]));
}

#[test]
fn unterminated_quote_is_an_error_naming_file_and_line() {
    let w = Work::project("email\na@x.fr\n", "order_id,email,ordered_at,amount\n1,a@x.fr,2025-01-01,10\n2,\"a@x.fr,2025-01-02,5\n3,a@x.fr,2025-01-03,1\n", &[]);
    fails(&w.run(&["count"]), 1, &["orders.csv:3", "quote"]);
    // A quoted field over two lines is fine, and lines stay right after it.
    let w = project(
        "contacts: {path: contacts.csv, key: email, columns: {n: int}}\n",
        &[("contacts.csv", "email,note,n\na@x.fr,\"two\nlines\",1\nb@x.fr,x,bad\n")],
    );
    w.run(&["count"]).ok().stderr_has("first `bad` on line 4");
}

// ---------------------------------------------------------------- project file

#[test]
fn unknown_keys_in_the_project_file_are_rejected_with_a_hint() {
    let w = project("contacts:\n  path: contacts.csv\n  kye: email\ntimezon: Europe/Paris\ncsv:\n  seperator: \";\"\n", &[("contacts.csv", "email\na@x.fr\n")]);
    let out = w.run(&["check"]);
    fails(
        &out,
        1,
        &[
            "audience.yaml:3:3: unknown key `kye`",
            "did you mean `key`?",
            "audience.yaml:4:1: unknown key `timezon`",
            "did you mean `timezone`?",
            "audience.yaml:6:3: unknown key `seperator`",
            "did you mean `separator`?",
        ],
    );
    // Every command refuses such a file.
    fails(&w.run(&["count"]), 1, &["audience.yaml:4:1", "timezon"]);
    // Inside a table too.
    let w = project(
        "contacts: {path: contacts.csv, key: email}\ntables:\n  orders:\n    path: orders.csv\n    key: email\n    ammount: amount\n",
        &[("contacts.csv", "email\na@x.fr\n"), ("orders.csv", "email,amount\na@x.fr,1\n")],
    );
    fails(&w.run(&["check"]), 1, &["audience.yaml:6:5: unknown key `ammount`", "did you mean `amount`?"]);
}

#[test]
fn project_option_takes_a_file_or_a_folder_and_paths_are_relative_to_it() {
    let w = Work::new();
    w.file(
        "proj/audience.yaml",
        &format!(
            "contacts: {{path: data/contacts.csv, key: email}}\n\
             tables:\n  orders: {{path: data/orders.csv, key: email, amount: amount}}\n\
             suppress: [lists/bounces.csv]\n{TAIL}"
        ),
    );
    w.file("proj/data/contacts.csv", "email,city\na@x.fr,Lyon\nb@x.fr,Lyon\nc@x.fr,Paris\n");
    w.file("proj/data/orders.csv", "email,amount\na@x.fr,10\n");
    w.file("proj/lists/bounces.csv", "email\nb@x.fr\n");
    w.file("proj/segments/lyon.yaml", "name: Lyon\nwhere: {field: city, op: eq, value: Lyon}\n");
    // Run from the folder above: no audience.yaml there.
    let out = w.run(&["count"]);
    fails(&out, 1, &["audience.yaml", "--project"]);
    for p in ["proj", "proj/", "proj/audience.yaml"] {
        let c = count_of(&w, &["--project", p], "lyon");
        assert_eq!((c["members"].as_u64(), c["suppressed"].as_u64(), c["recipients"].as_u64()), (Some(2), Some(1), Some(1)), "{p}");
    }
    w.run(&["run", "--project", "proj", "lyon"]).ok();
    assert!(w.exists("proj/out/lyon.csv"));
    assert!(!w.exists("out"));
    assert_eq!(w.list_keys("proj/out/lyon.csv"), s(&["a@x.fr"]));
    // An absolute project path works as well.
    let abs = w.path("proj/audience.yaml").display().to_string();
    w.run(&["count", "--project", &abs]).ok();
    // A project path that does not exist is named.
    fails(&w.run(&["count", "--project", "proj/nope.yaml"]), 1, &["nope.yaml"]);
}

#[test]
fn as_of_option_overrides_the_project_file() {
    let w = Work::project(
        "email\na@x.fr\nb@x.fr\n",
        "order_id,email,ordered_at,amount\n1,a@x.fr,2025-06-01,10\n2,b@x.fr,2024-12-20,10\n",
        &[("recent", "name: recent\nwhere: {field: last_order_date, op: in_last, value: 30d}\n")],
    );
    // as_of 2025-06-30 in the file.
    assert_eq!(w.members("recent"), s(&["a@x.fr"]));
    w.run(&["run", "recent", "--as-of", "2025-01-10"]).ok();
    assert_eq!(w.list_keys("out/recent.csv"), s(&["b@x.fr"]));
    let c = count_of(&w, &["--as-of", "2025-01-10"], "recent");
    assert_eq!(c["members"].as_u64(), Some(1));
    seg(&w, "days", "{field: days_since_last_order, op: eq, value: -142}");
    let c = count_of(&w, &["--as-of", "2025-01-10"], "days");
    assert_eq!(c["members"].as_u64(), Some(1));
    // A date that is no date.
    // A date that is no date: a usage error about the option, not the file.
    let out = w.run(&["count", "--as-of", "2025-13-45"]);
    fails(&out, 2, &["--as-of", "2025-13-45"]);
    assert!(!out.stderr.contains("audience.yaml"), "{}", out.stderr);
}
