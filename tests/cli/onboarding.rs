//! From exports to a first list: `init`, `values`, the literal warnings of
//! `check`, the JSON Schemas, the project reference, completions, the man
//! page, and tables sized for the terminal.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::util::{sample, Work};

/// A copy of the sample's exports alone: no audience.yaml, no segments.
fn exports_only() -> Work {
    let w = Work::new();
    w.copy_from_repo("sample-data");
    w
}

#[test]
fn init_on_the_sample_exports_guesses_the_project_and_run_writes_lists() {
    let w = exports_only();
    let out = w.run(&["init"]);
    out.ok().stdout_has("contacts: sample-data/participants.csv (key `email`").stdout_has("table orders: sample-data/orders.csv");
    let yaml = w.read("audience.yaml");
    for line in [
        "path: sample-data/participants.csv",
        "key: email",
        "consent: {email: newsletter, sms: sms_optin}",
        "phone: mobile",
        "path: sample-data/orders.csv",
        "date: ordered_at",
        "amount: amount",
        "id: order_id",
        "- sample-data/bounces.csv",
        "- {file: sample-data/unsubscribed.csv, purpose: marketing}",
    ] {
        assert!(yaml.contains(line), "audience.yaml lacks {line:?}:\n{yaml}");
    }
    // Every guess is explained on its line.
    assert!(yaml.lines().filter(|l| l.contains("key: ")).all(|l| l.contains('#')), "{yaml}");

    w.run(&["check"]).ok();
    w.run(&["run"]).ok().stderr_has("wrote 3 list(s)");
    // The starter segments mean what their names say: the subscribers are
    // the sample's own newsletter segment, the buyers hold only contacts
    // with an order that counts.
    let subscribers = w.list_keys("out/subscribers.csv");
    let sample = sample();
    sample.run(&["run", "newsletter"]).ok();
    assert_eq!(subscribers, sample.list_keys("out/newsletter.csv"));
    let buyers = w.list_keys("out/buyers.csv");
    let counts = w.counts(&["buyers", "top-spenders"]);
    assert_eq!(counts[0]["recipients"], buyers.len());
    assert!(buyers.len() > 1000, "{} buyers", buyers.len());
    let top = w.list_keys("out/top-spenders.csv");
    assert!(!top.is_empty() && top.len() < buyers.len() && top.iter().all(|k| buyers.contains(k)));
}

#[test]
fn init_on_the_generator_output_runs_without_edits() {
    let w = Work::new();
    let generated = Command::new(env!("CARGO_BIN_EXE_audience-gen")).args(["--contacts", "300", "--out"]).arg(w.path("exports")).output().unwrap();
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    w.run(&["init", "exports"]).ok().stdout_has("wrote exports/audience.yaml");
    assert!(w.exists("exports/segments/buyers.yaml"));
    w.run(&["check", "--project", "exports"]).ok();
    w.run(&["run", "--project", "exports"]).ok();
    for list in ["subscribers", "buyers", "top-spenders"] {
        assert!(!w.list_keys(&format!("exports/out/{list}.csv")).is_empty(), "{list} is empty");
    }
}

/// Exports as a French ticketing or shop tool writes them: `;`, headers
/// with accents and spaces, day-first dates, amounts with a comma and a
/// euro sign, yes/no in French.
fn french_exports() -> Work {
    let w = Work::new();
    w.file(
        "exports/clients.csv",
        "Adresse e-mail;Prénom;Nom;Accepte la newsletter;Ville\n\
         Anne.Martin@Example.fr;Anne;Martin;oui;Lyon\n\
         bob@example.fr;Bob;Durand;non;Paris\n\
         chloe@example.fr;Chloé;Petit;oui;Lyon\n\
         david@example.fr;David;Roux;oui;Nantes\n\
         emma@example.fr;Emma;Blanc;oui;Paris\n",
    );
    w.file(
        "exports/commandes.csv",
        "N° commande;Adresse e-mail;Date de commande;Montant TTC;Statut\n\
         C001;anne.martin@example.fr;03/02/2025;45,50 €;Payée\n\
         C002;bob@example.fr;15/03/2025;120,00 €;Payée\n\
         C003;chloe@example.fr;20/04/2025;12,00 €;Payée\n\
         C003;chloe@example.fr;20/04/2025;8,00 €;Payée\n\
         C004;anne.martin@example.fr;01/05/2025;80,00 €;Payée\n",
    );
    w
}

#[test]
fn init_reads_french_headed_exports() {
    let w = french_exports();
    w.run(&["init", "exports"]).ok().stdout_has("contacts: clients.csv (key `Adresse e-mail`").stdout_has("table orders: commandes.csv");
    let yaml = w.read("exports/audience.yaml");
    for line in
        [r#"key: "Adresse e-mail""#, r#"consent: "Accepte la newsletter""#, r#"date: "Date de commande""#, r#"amount: "Montant TTC""#, r#"id: "N° commande""#]
    {
        assert!(yaml.contains(line), "audience.yaml lacks {line:?}:\n{yaml}");
    }
    w.run(&["run", "--project", "exports"]).ok();
    // Buyers with consent: Bob said no; Anne's key is lowercased.
    assert_eq!(w.list_keys("exports/out/buyers.csv"), ["anne.martin@example.fr", "chloe@example.fr"]);
    assert_eq!(w.list_keys("exports/out/subscribers.csv"), ["anne.martin@example.fr", "chloe@example.fr", "david@example.fr", "emma@example.fr"]);
    // Amounts read as numbers, orders grouped by their number.
    let out = w.run(&["values", "order_count", "--format", "json", "--project", "exports"]);
    out.ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let counts: BTreeMap<String, u64> =
        v.as_array().unwrap().iter().map(|r| (r["value"].as_str().unwrap().to_string(), r["count"].as_u64().unwrap())).collect();
    assert_eq!(counts, BTreeMap::from([("0".into(), 2), ("1".into(), 2), ("2".into(), 1)]));
}

#[test]
fn init_never_overwrites_and_says_why_it_cannot_start() {
    let w = exports_only();
    w.file("audience.yaml", "# mine\n");
    w.run(&["init"]).code(1).stderr_has("audience.yaml: already exists; `init` never overwrites a file");
    assert_eq!(w.read("audience.yaml"), "# mine\n");
    assert!(!w.exists("segments"));

    // An existing starter segment is kept as it was.
    let w = exports_only();
    w.file("segments/buyers.yaml", "name: Mine\n");
    w.run(&["init"]).ok().stdout_has("kept the existing segments/buyers.yaml");
    assert_eq!(w.read("segments/buyers.yaml"), "name: Mine\n");

    let empty = Work::new();
    empty.file("notes.md", "nothing to see\n");
    empty.run(&["init"]).code(1).stderr_has("no export found (init looks for .csv, .tsv, .txt and .parquet files");

    let no_email = Work::new();
    no_email.file("stock.csv", "sku,qty\nA1,3\n");
    no_email.run(&["init"]).code(1).stderr_has("none of the 1 export(s) has a column of e-mail addresses (stock.csv)");

    Work::new().run(&["init", "--project", "x"]).code(2);
}

#[test]
fn values_lists_a_table_columns_values_over_the_rows_that_count() {
    let w = sample();
    let out = w.run(&["values", "orders.event", "--format", "json", "--limit", "0"]);
    out.ok().stderr_has("orders.event: 10 distinct value(s) over 13372 rows of orders");
    // The same counts straight from the export, with the table's `where`
    // (refunded and unvalidated tickets left out).
    let text = std::fs::read_to_string(w.path("sample-data/orders.csv")).unwrap();
    let mut rdr = csv::ReaderBuilder::new().delimiter(b';').from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let (event, status) = (headers.iter().position(|h| h == "event").unwrap(), headers.iter().position(|h| h == "status").unwrap());
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for r in rdr.records() {
        let r = r.unwrap();
        if !["refunded", "not validated"].contains(&r[status].trim()) {
            *want.entry(r[event].to_string()).or_default() += 1;
        }
    }
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    let got: BTreeMap<String, u64> = rows.iter().map(|r| (r["value"].as_str().unwrap().to_string(), r["count"].as_u64().unwrap())).collect();
    assert_eq!(got, want);
    let order: Vec<u64> = rows.iter().map(|r| r["count"].as_u64().unwrap()).collect();
    assert!(order.windows(2).all(|p| p[0] >= p[1]), "not most frequent first: {order:?}");
    assert_eq!(rows[0]["value"], "Festival Lumières 2025");

    // The default limit is 20, and a table goes to the terminal.
    w.run(&["values", "orders.event"]).ok().stdout_has("│ Jazz au Parc 2025      ┆  1264 ┆  9.5 │");
    // A table column named without its table is a usage error that says how.
    w.run(&["values", "tariff"]).code(2).stderr_has("`orders.tariff`");
    w.run(&["values", "nope"]).code(2);
}

#[test]
fn values_groups_spellings_that_differ_by_case_or_accents() {
    let w = Work::project("email,city\na@x.fr,Paris\nb@x.fr,paris\nc@x.fr,PARIS\nd@x.fr,Évry\ne@x.fr,Evry\nf@x.fr,Lyon\ng@x.fr,\n", "", &[]);
    let out = w.run(&["values", "city", "--format", "json"]);
    out.ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let rows: Vec<(String, u64, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["value"].as_str().unwrap().into(), r["count"].as_u64().unwrap(), r["spellings"].as_str().unwrap().into()))
        .collect();
    assert_eq!(rows[0].1, 3);
    assert!(rows[0].2.contains("Paris") && rows[0].2.contains("paris") && rows[0].2.contains("PARIS"), "{rows:?}");
    assert_eq!(rows[1].1, 2);
    assert!(rows[1].2.contains("Évry") && rows[1].2.contains("Evry"), "{rows:?}");
    assert_eq!((rows[2].0.as_str(), rows[2].1), ("Lyon", 1));
}

#[test]
fn check_warns_of_literals_no_row_holds() {
    let w = sample();
    w.file("segments/vipp.yaml", "name: VIP typo\nwhere: {table: orders, where: {field: tariff, op: eq, value: VIPP}}\n");
    w.file("segments/champion.yaml", "name: Champion typo\nwhere: {field: rfm_class, op: in, value: [Champion, Lost]}\n");
    let out = w.run(&["check"]);
    out.ok()
        .stderr_has("segments/vipp.yaml:2:62: warning: no row of orders has `tariff` = `VIPP`")
        .stderr_has("did you mean `VIP`?")
        .stderr_has("segments/champion.yaml:2:")
        .stderr_has("did you mean `Champions`?")
        .stdout_has("no errors, 2 warning(s)");
    assert!(!out.stderr.contains("`Lost`"), "an existing class was flagged:\n{}", out.stderr);
    w.run(&["check", "--strict"]).code(1).stderr_has("did you mean `VIP`?");
    // JSON output says which diagnostics are warnings.
    let out = w.run(&["check", "--format", "json"]);
    out.ok();
    let d: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(d.as_array().unwrap().iter().all(|x| x["severity"] == "warning"), "{d}");
}

#[test]
fn a_key_of_the_wrong_file_says_where_it_belongs() {
    let w = sample();
    w.file("segments/with-metrics.yaml", "name: M\nmetrics:\n  vip: {table: orders}\nwhere: {field: order_count, op: gte, value: 1}\n");
    w.run(&["check", "--no-data", "segments/with-metrics.yaml"])
        .code(1)
        .stderr_has("segments/with-metrics.yaml:2:1: `metrics` does not belong in a segment file")
        .stderr_has("audience.yaml");
}

/// The JSON Schemas: committed files equal what the binary prints, and a
/// validator accepts every sample file and rejects broken ones.
#[test]
fn the_schemas_validate_the_sample_and_reject_mistakes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let w = Work::new();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    let mut index = BTreeMap::new();
    for kind in ["segment", "project"] {
        let out = w.run(&["schema", kind]);
        out.ok();
        let committed = std::fs::read_to_string(root.join(format!("schema/{kind}.schema.json"))).unwrap();
        assert_eq!(out.stdout, committed, "schema/{kind}.schema.json is stale: regenerate it with `audience schema {kind}`");
        let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let url = format!("file:///{kind}.schema.json");
        compiler.add_resource(&url, value).unwrap();
        index.insert(kind, compiler.compile(&url, &mut schemas).unwrap_or_else(|e| panic!("{kind} schema: {e:#}")));
    }
    let valid = |kind: &str, yaml: &str| -> bool {
        let v: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
        schemas.validate(&v, index[kind]).is_ok()
    };

    let mut files = vec![root.join("audience.yaml")];
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                out.push(p);
            }
        }
    }
    walk(&root.join("segments"), &mut files);
    assert!(files.len() > 20);
    for f in &files {
        let kind = if f.ends_with("audience.yaml") { "project" } else { "segment" };
        let text = std::fs::read_to_string(f).unwrap();
        let v: serde_json::Value = serde_yaml::from_str(&text).unwrap();
        if let Err(e) = schemas.validate(&v, index[kind]) {
            panic!("{} does not validate: {e:#}", f.display());
        }
    }
    assert!(!valid("segment", "name: x\nwhere: {field: a, op: equals, value: 1}\n"), "an unknown operator passed");
    assert!(!valid("segment", "name: x\nwher: {field: a, op: eq, value: 1}\n"), "a misspelt key passed");
    assert!(!valid("segment", "where: {field: a, op: eq, value: 1}\n"), "a segment without a name passed");
    assert!(!valid("segment", "name: x\nwhere: {all: [{field: a, op: eq, value: 1, extra: 2}]}\n"), "a condition with an unknown key passed");
    assert!(!valid("project", "contacts: {path: c.csv}\n"), "contacts without a key passed");
    assert!(!valid("project", "csv: {separator: \"#\"}\n"), "an unknown separator passed");
    assert!(valid("project", "contacts: {path: c.csv, key: email}\ncsv: {separator: \";\"}\n"));
}

/// Every key path of docs/project.md's tables is one the parser accepts,
/// and every key the parser accepts is documented there.
#[test]
fn the_project_reference_documents_every_key_the_parser_accepts() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/project.md")).unwrap();
    let documented: Vec<String> = doc.lines().filter_map(|l| l.strip_prefix("| `")).filter_map(|l| l.split_once("` |").map(|(k, _)| k.to_string())).collect();
    let accepted = audience::catalog::project_paths();
    let missing: Vec<&String> = accepted.iter().filter(|k| !documented.contains(k)).collect();
    let unknown: Vec<&String> = documented.iter().filter(|k| !accepted.contains(k)).collect();
    assert!(missing.is_empty() && unknown.is_empty(), "docs/project.md lacks {missing:?} and documents keys the parser refuses: {unknown:?}");
    assert!(accepted.len() > 40);
}

#[test]
fn completions_and_the_man_page() {
    let w = Work::new();
    let out = w.run(&["completions", "bash"]);
    out.ok().stdout_has("_audience()").stdout_has("complete -F _audience");
    assert!(out.stdout.contains("values") && out.stdout.contains("--strict"));
    w.run(&["completions", "fish"]).ok().stdout_has("complete -c audience");
    w.run(&["completions", "tcsh"]).code(2);
    let man = w.run(&["man"]);
    man.ok();
    assert!(man.stdout.starts_with(".ie") || man.stdout.starts_with(".TH"), "{}", &man.stdout[..200.min(man.stdout.len())]);
    assert!(man.stdout.contains(".TH audience 1"), "no title header");
    assert!(man.stdout.contains("values"));
}

#[test]
fn tables_fit_a_narrow_terminal_and_stay_whole_in_a_pipe() {
    let w = sample();
    // In a pipe: whole rows, names uncut.
    let piped = w.run(&["count", "newsletter", "at-risk-200"]);
    piped.ok().stdout_has("│ at-risk-200 ┆ À risque, plus de 200 € dépensés ┆");
    // A 100-column terminal: one line per segment, the name cut short.
    let out = w.run_env(&[("AUDIENCE_WIDTH", "100")], &["count", "newsletter", "at-risk-200"]);
    out.ok();
    assert!(out.stdout.lines().all(|l| l.chars().count() <= 100), "{}", out.stdout);
    assert!(out.stdout.lines().any(|l| l.starts_with("│ at-risk-200 ┆ ") && l.contains('…')), "{}", out.stdout);
    assert_eq!(out.stdout.lines().filter(|l| l.starts_with("│ ")).count(), 4, "rows wrapped:\n{}", out.stdout);
    // Narrower still: one block per segment.
    let out = w.run_env(&[("AUDIENCE_WIDTH", "50")], &["count", "newsletter", "at-risk-200"]);
    out.ok().stdout_has("segment         newsletter\nname            Abonnés newsletter\nmembers         1336\n");
    assert!(out.stdout.lines().all(|l| l.chars().count() <= 50), "{}", out.stdout);
    let out = w.run_env(&[("AUDIENCE_WIDTH", "100")], &["rfm"]);
    out.ok();
    assert!(out.stdout.lines().all(|l| l.chars().count() <= 100), "{}", out.stdout);
}

#[test]
fn show_with_limit_zero_prints_the_counts_alone() {
    let w = sample();
    let out = w.run(&["show", "vip-tariff", "--limit", "0"]);
    out.ok().stdout_has("173 recipient(s) not shown (--limit N shows the first N)");
    assert!(!out.stdout.contains("first_name"), "a recipients table was printed:\n{}", out.stdout);
}
