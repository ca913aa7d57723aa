//! Campaign operations (spec section 11): ranking operators, standard
//! output, guards, changes since the last run, exclusive lists, overlap,
//! presets, splits, test groups and the SMS channel.

use crate::util::Work;

/// Eleven contacts; `score` is missing for d, so N = 10 for it. Sorted from
/// the highest: j 90, i 80, h 70, g 60, b 50, c 50, e 30, f 20, a 10, k 5.
const RANKED: &str = "email,score,joined,city\n\
a@x.io,10,2024-01-01,Lyon\n\
b@x.io,50,2024-03-01,Paris\n\
c@x.io,50,,Paris\n\
d@x.io,,2024-02-01,Lyon\n\
e@x.io,30,2024-05-01,\n\
f@x.io,20,,Nice\n\
g@x.io,60,,Nice\n\
h@x.io,70,2024-04-01,Lyon\n\
i@x.io,80,,Paris\n\
j@x.io,90,,Paris\n\
k@x.io,5,2024-03-01,Lyon\n";

/// a and b spent 100 each, c 30 (in one order below 50), nobody else.
const RANKED_ORDERS: &str = "order_id,email,ordered_at,amount\n\
1,a@x.io,2025-01-01,100\n\
2,b@x.io,2025-01-02,40\n\
3,b@x.io,2025-01-03,60\n\
4,c@x.io,2025-01-04,30\n";

fn ranked(segments: &[(&str, &str)]) -> Work {
    let files: Vec<(String, String)> = segments.iter().map(|(a, w)| (a.to_string(), format!("name: {a}\nwhere: {w}\n"))).collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, y)| (a.as_str(), y.as_str())).collect();
    Work::project(RANKED, RANKED_ORDERS, &refs)
}

#[test]
fn top_and_bottom_keep_a_share_or_a_number_with_ties_at_the_boundary_all_in() {
    let cases: &[(&str, &str, &[&str])] = &[
        // ⌈30 % × 10⌉ = 3 exactly (0.3 × 10 in floating point is above 3).
        ("top-30pct", "{field: score, op: top, value: 30%}", &["h@x.io", "i@x.io", "j@x.io"]),
        // The 5th highest is 50, which b and c share: both are in.
        ("top-50pct", "{field: score, op: top, value: 50%}", &["b@x.io", "c@x.io", "g@x.io", "h@x.io", "i@x.io", "j@x.io"]),
        ("top-1", "{field: score, op: top, value: 1}", &["j@x.io"]),
        ("top-6", "{field: score, op: top, value: \"6\"}", &["b@x.io", "c@x.io", "g@x.io", "h@x.io", "i@x.io", "j@x.io"]),
        ("bottom-20pct", "{field: score, op: bottom, value: 20%}", &["a@x.io", "k@x.io"]),
        // ⌈12.5 % × 10⌉ = 2.
        ("bottom-12-5pct", "{field: score, op: bottom, value: 12.5%}", &["a@x.io", "k@x.io"]),
        // More than there are values: every contact with one, never d.
        (
            "bottom-100",
            "{field: score, op: bottom, value: 100}",
            &["a@x.io", "b@x.io", "c@x.io", "e@x.io", "f@x.io", "g@x.io", "h@x.io", "i@x.io", "j@x.io", "k@x.io"],
        ),
        (
            "top-all",
            "{field: score, op: top, value: 100%}",
            &["a@x.io", "b@x.io", "c@x.io", "e@x.io", "f@x.io", "g@x.io", "h@x.io", "i@x.io", "j@x.io", "k@x.io"],
        ),
        // Dates: the two latest of six dates (2024-05-01, 2024-04-01).
        ("latest-2", "{field: joined, op: top, value: 2}", &["e@x.io", "h@x.io"]),
        // The two earliest: 2024-01-01, 2024-02-01.
        ("earliest-2", "{field: joined, op: bottom, value: 2}", &["a@x.io", "d@x.io"]),
        // A metric: total_spent is 0 without orders, so N = 11; a and b tie at 100.
        ("top-spender", "{field: total_spent, op: top, value: 1}", &["a@x.io", "b@x.io"]),
        // A table condition's aggregate ranks too.
        ("top-order", "{table: orders, agg: max, field: amount, op: top, value: 1}", &["a@x.io"]),
        // Combined with other conditions: ranking is over every contact, then ANDed.
        ("top-in-lyon", "{all: [{field: city, op: eq, value: Lyon}, {field: score, op: top, value: 40%}]}", &["h@x.io"]),
        ("not-top", "{not: {field: score, op: top, value: 80%}}", &["a@x.io", "d@x.io", "k@x.io"]),
    ];
    let w = ranked(&cases.iter().map(|(a, c, _)| (*a, *c)).collect::<Vec<_>>());
    let out = w.run(&["run"]);
    out.ok();
    let mut bad = Vec::new();
    for (alias, cond, want) in cases {
        let got = w.list_keys(&format!("out/{alias}.csv"));
        if got != *want {
            bad.push(format!("{alias}: {cond}\n    want {want:?}\n    got  {got:?}"));
        }
    }
    assert!(bad.is_empty(), "{} segments differ:\n{}\n--- stderr\n{}", bad.len(), bad.join("\n"), out.stderr);
}

#[test]
fn top_within_a_scope_ranks_the_metric_as_the_scope_sees_it() {
    let w = ranked(&[]);
    // Over orders below 50 only, b spent 40 and c 30.
    w.file(
        "segments/scoped.yaml",
        "name: scoped\nscope: {table: orders, where: {field: amount, op: lt, value: 50}}\nwhere: {field: total_spent, op: top, value: 1}\n",
    );
    w.run(&["run", "scoped"]).ok();
    assert_eq!(w.list_keys("out/scoped.csv"), ["b@x.io"]);
}

#[test]
fn check_rejects_top_on_text_bad_amounts_and_top_over_a_tables_rows() {
    let w = ranked(&[
        ("on-text", "{field: city, op: top, value: 10%}"),
        ("zero", "{field: score, op: top, value: 0%}"),
        ("too-much", "{field: score, op: bottom, value: 150%}"),
        ("words", "{field: score, op: top, value: many}"),
        ("negative", "{field: score, op: top, value: -3}"),
        ("in-rows", "{table: orders, where: {field: amount, op: top, value: 10%}}"),
    ]);
    let out = w.run(&["check"]);
    out.code(1)
        .stderr_has("segments/on-text.yaml:2:38: `city` is a text field; operator `top` ranks numbers or dates")
        .stderr_has("`contacts: columns: {city: float}`")
        .stderr_has("segments/zero.yaml:2:39: a share for `top` or `bottom` is above 0% and at most 100%, found `0%`")
        .stderr_has("segments/too-much.yaml:2:42: a share for `top` or `bottom` is above 0% and at most 100%, found `150%`")
        .stderr_has("segments/words.yaml:2:39: `top` and `bottom` take a share such as 10% or a number of contacts such as 100, found `many`")
        .stderr_has("segments/negative.yaml:2:39: `top` and `bottom` take a share such as 10% or a number of contacts such as 100, found `-3`")
        .stderr_has("segments/in-rows.yaml:2:51: `top` ranks contacts, not a table's rows; it cannot stand inside a `where` over `orders`")
        .stderr_has("6 error(s) in 6 file(s)");
}

/// Six contacts for the sending tests. Recipients of `news`: a b c e f.
const PEOPLE: &str = "email,newsletter,city,language,first_name,last_name,prenom\n\
a@x.io,yes,Lyon,FR,Ann,Arnaud,Annie\n\
b@x.io,yes,Paris,fr,Bob,Bernard,Bobby\n\
c@x.io,yes,Lyon,en,Cléo,,\n\
d@x.io,no,Lyon,,Dan,Durand,\n\
e@x.io,yes,Nice,Pt-BR,,Eymard,\n\
f@x.io,yes,Lyon,Français,Fay,Faure,\n";

const NEWS: &str = "name: News\nwhere: {field: newsletter, op: is_true}\n";
const LYON: &str = "name: Lyon\nwhere: {field: city, op: eq, value: Lyon}\n";
const NICE: &str = "name: Nice\nwhere: {field: city, op: eq, value: Nice}\n";

fn people(segments: &[(&str, &str)]) -> Work {
    Work::project(PEOPLE, "", segments)
}

/// The last `n` lines of the audit trail, parsed.
fn audit_tail(w: &Work, n: usize) -> Vec<serde_json::Value> {
    let text = w.read("out/.audience/runs.jsonl");
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len() - n..].iter().map(|l| serde_json::from_str(l).expect("audit line")).collect()
}

#[test]
fn show_prints_the_first_recipients_as_csv_or_json_with_the_export_columns() {
    let w = people(&[("news", "name: News\nwhere: {field: newsletter, op: is_true}\nexport: {columns: [email, city], rename: {city: Ville}}\n")]);
    let out = w.run(&["show", "news", "--limit", "3", "--format", "csv"]);
    out.ok().stderr_has("news: 5 member(s), 5 recipient(s); 3 shown");
    assert_eq!(out.stdout, "email,Ville\na@x.io,Lyon\nb@x.io,Paris\nc@x.io,Lyon\n");
    let out = w.run(&["show", "news", "--limit", "2", "--format", "json"]);
    out.ok();
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(rows, serde_json::json!([{"email": "a@x.io", "Ville": "Lyon"}, {"email": "b@x.io", "Ville": "Paris"}]));
    // Keys in the export's column order, not sorted.
    assert!(out.stdout.find("\"email\"").unwrap() < out.stdout.find("\"Ville\"").unwrap(), "{}", out.stdout);
    w.run(&["show", "news", "--format", "json", "--explain"]).code(2).stderr_has("--explain prints a table");
}

#[test]
fn a_union_written_to_standard_output_is_the_list_alone() {
    let w = people(&[("news", NEWS), ("lyon", LYON)]);
    let out = w.run(&["run", "--union", "news", "lyon", "-o", "-"]);
    out.ok().stderr_has("wrote 6 recipient(s) of 2 segment(s) to standard output");
    assert_eq!(
        out.stdout,
        "email,newsletter,city,language,first_name,last_name,prenom\n\
         a@x.io,yes,Lyon,FR,Ann,Arnaud,Annie\n\
         b@x.io,yes,Paris,fr,Bob,Bernard,Bobby\n\
         c@x.io,yes,Lyon,en,Cléo,,\n\
         d@x.io,no,Lyon,,Dan,Durand,\n\
         e@x.io,yes,Nice,Pt-BR,,Eymard,\n\
         f@x.io,yes,Lyon,Français,Fay,Faure,\n"
    );
    assert!(!w.exists("-"), "a file named `-` was written");
    assert_eq!(audit_tail(&w, 1)[0]["file"], "(standard output)");
    w.run(&["run", "--union", "news"]).code(2).stderr_has("--union needs -o FILE, the list to write (or -o - for standard output)");
    w.run(&["run", "news", "-o", "x.csv"]).code(2).stderr_has("-o is for --union or --exclusive");
}

#[test]
fn changes_list_who_was_added_and_removed_since_the_last_export() {
    let w = people(&[("news", NEWS)]);
    let out = w.run(&["run", "--changes"]);
    out.ok().stdout_has("added").stdout_has("removed");
    // The first export: everyone is added, nobody removed.
    assert_eq!(w.list_keys("out/changes/news.added.csv"), ["a@x.io", "b@x.io", "c@x.io", "e@x.io", "f@x.io"]);
    assert_eq!(w.read("out/changes/news.removed.csv"), "email\n");
    assert_eq!((audit_tail(&w, 1)[0]["added"].as_u64(), audit_tail(&w, 1)[0]["removed"].as_u64()), (Some(5), Some(0)));
    // b leaves, c unsubscribes, g arrives.
    w.file(
        "contacts.csv",
        "email,newsletter,city,language,first_name,last_name,prenom\n\
         a@x.io,yes,Lyon,FR,Ann,Arnaud,Annie\n\
         c@x.io,no,Lyon,en,Cléo,,\n\
         e@x.io,yes,Nice,Pt-BR,,Eymard,\n\
         f@x.io,yes,Lyon,Français,Fay,Faure,\n\
         g@x.io,yes,Nice,fr,Gil,Gaudin,\n",
    );
    w.run(&["run", "--changes"]).ok();
    assert_eq!(w.read("out/changes/news.added.csv"), "email,newsletter,city,language,first_name,last_name,prenom\ng@x.io,yes,Nice,fr,Gil,Gaudin,\n");
    assert_eq!(w.read("out/changes/news.removed.csv"), "email\nb@x.io\nc@x.io\n");
    let line = &audit_tail(&w, 1)[0];
    assert_eq!((line["added"].as_u64(), line["removed"].as_u64()), (Some(1), Some(2)), "{line}");
    // A run without --changes moves the baseline too: nothing changed since.
    w.run(&["run"]).ok();
    w.run(&["run", "--changes"]).ok();
    assert_eq!(w.list_keys("out/changes/news.added.csv"), Vec::<String>::new());
    assert_eq!(w.read("out/changes/news.removed.csv"), "email\n");
}

#[test]
fn an_empty_export_never_replaces_a_list_unless_allowed() {
    let w = people(&[("news", NEWS), ("nobody", "name: Nobody\nwhere: {field: city, op: eq, value: Oslo}\n")]);
    w.run(&["run"]).ok();
    let before = w.read("out/news.csv");
    // The export arrived with its header only.
    w.file("contacts.csv", "email,newsletter,city,language,first_name,last_name,prenom\n");
    let out = w.run(&["run"]);
    out.code(1).stderr_has("empty list refused: news: 0 recipients where the last export had 5").stderr_has("--allow-empty");
    assert_eq!(w.read("out/news.csv"), before, "the list was replaced");
    // A list that was empty before may stay empty.
    assert!(!out.stderr.contains("nobody:"), "{}", out.stderr);
    assert_eq!(audit_tail(&w, 2)[0]["status"], "kept");
    // Said on purpose: the list becomes empty.
    w.run(&["run", "--allow-empty"]).ok();
    assert_eq!(w.read("out/news.csv"), "email,newsletter,city,language,first_name,last_name,prenom\n");
}

#[test]
fn expect_min_zero_lets_a_list_become_empty() {
    let w = people(&[("news", "name: News\nwhere: {field: newsletter, op: is_true}\nexpect: {min: 0}\n")]);
    w.run(&["run"]).ok();
    w.file("contacts.csv", "email,newsletter,city,language,first_name,last_name,prenom\n");
    w.run(&["run"]).ok();
    assert_eq!(w.list_keys("out/news.csv"), Vec::<String>::new());
}

#[test]
fn max_change_keeps_the_earlier_list_and_a_kept_list_is_no_baseline() {
    let guarded = |limit: &str| format!("name: News\nwhere: {{field: newsletter, op: is_true}}\nexpect: {{max_change: {limit}}}\n");
    let w = people(&[("news", &guarded("20%"))]);
    w.run(&["run"]).ok();
    let before = w.read("out/news.csv");
    // b and c leave: 2 changes of 5 is 40 %, above 20 % (1 recipient).
    w.file(
        "contacts.csv",
        "email,newsletter,city,language,first_name,last_name,prenom\na@x.io,yes,Lyon,FR,Ann,Arnaud,Annie\ne@x.io,yes,Nice,Pt-BR,,Eymard,\nf@x.io,yes,Lyon,Français,Fay,Faure,\n",
    );
    let out = w.run(&["run", "--changes"]);
    out.code(1).stderr_has(
        "expectation failed: news: 0 added and 2 removed since the last export of 5, above the expected max_change of 20%; its previous list was kept",
    );
    assert_eq!(w.read("out/news.csv"), before);
    // For the mailer nothing changed: the list was kept.
    assert_eq!(w.read("out/changes/news.removed.csv"), "email\n");
    // Still measured against the last list written, not the one refused.
    w.run(&["run"]).code(1).stderr_has("0 added and 2 removed since the last export of 5");
    // A number of recipients: 2 changes are within 2 (only more is refused).
    w.file("segments/news.yaml", &guarded("2"));
    w.run(&["run"]).ok();
    assert_eq!(w.list_keys("out/news.csv"), ["a@x.io", "e@x.io", "f@x.io"]);
}

#[test]
fn exclusive_lists_share_no_recipient_and_count_what_each_lost() {
    let w = people(&[("news", NEWS), ("lyon", LYON), ("nice", NICE)]);
    let out = w.run(&["run", "--exclusive", "lyon", "news", "nice", "-o", "campaign"]);
    out.ok().stdout_has("lost").stderr_has("wrote 3 exclusive list(s) to campaign");
    assert_eq!(w.list_keys("campaign/lyon.csv"), ["a@x.io", "c@x.io", "d@x.io", "f@x.io"]);
    assert_eq!(w.list_keys("campaign/news.csv"), ["b@x.io", "e@x.io"]);
    assert_eq!(w.list_keys("campaign/nice.csv"), Vec::<String>::new());
    let lost: Vec<(String, u64, u64)> =
        audit_tail(&w, 3).iter().map(|l| (l["alias"].as_str().unwrap().to_string(), l["recipients"].as_u64().unwrap(), l["lost"].as_u64().unwrap())).collect();
    assert_eq!(lost, [("lyon".to_string(), 4, 0), ("news".to_string(), 2, 3), ("nice".to_string(), 0, 1)]);
    // The project's own lists are not touched.
    assert!(!w.exists("out/lyon.csv"));
    w.run(&["run", "--exclusive", "lyon", "news"]).code(2).stderr_has("--exclusive needs -o DIR");
    w.run(&["run", "--exclusive", "lyon", "news", "-o", "out"]).code(1).stderr_has("give --exclusive a folder of its own");
}

#[test]
fn overlap_counts_the_recipients_each_pair_shares() {
    let w = people(&[("news", NEWS), ("lyon", LYON), ("nice", NICE)]);
    let out = w.run(&["overlap", "news", "lyon", "nice", "--format", "csv"]);
    out.ok();
    assert_eq!(out.stdout, "a,b,shared,a_recipients,b_recipients\nnews,lyon,3,5,4\nnews,nice,1,5,1\nlyon,nice,0,4,1\n");
    let out = w.run(&["overlap", "news", "lyon"]);
    // 3 of news's 5 recipients are in lyon; 3 of lyon's 4 are in news.
    out.ok().stdout_has("3 (60%)").stdout_has("3 (75%)");
    let json: serde_json::Value = serde_json::from_str(&w.run(&["overlap", "news", "nice", "--format", "json"]).stdout).expect("JSON");
    assert_eq!(json, serde_json::json!([{"a": "news", "b": "nice", "shared": 1, "a_recipients": 5, "b_recipients": 1}]));
}

#[test]
fn split_by_writes_one_file_per_folded_value_and_none_for_missing() {
    let w = people(&[("by-lang", "name: By language\nwhere: {all: []}\nexport: {columns: [email, language], split_by: language}\n")]);
    let out = w.run(&["run"]);
    out.ok();
    assert_eq!(w.read("out/by-lang/fr.csv"), "email,language\na@x.io,FR\nb@x.io,fr\n");
    assert_eq!(w.read("out/by-lang/en.csv"), "email,language\nc@x.io,en\n");
    assert_eq!(w.read("out/by-lang/pt-br.csv"), "email,language\ne@x.io,Pt-BR\n");
    assert_eq!(w.read("out/by-lang/francais.csv"), "email,language\nf@x.io,Français\n");
    assert_eq!(w.read("out/by-lang/_none.csv"), "email,language\nd@x.io,\n");
    assert!(!w.exists("out/by-lang.csv"), "a split segment writes no single list");
    let mut files: Vec<String> = std::fs::read_dir(w.path("out/by-lang")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    files.sort();
    assert_eq!(files, ["_none.csv", "en.csv", "fr.csv", "francais.csv", "pt-br.csv"]);
    // The counts show the segment once, with its total.
    assert_eq!(out.stdout.matches("by-lang").count(), 1, "{}", out.stdout);
    // A value that disappears leaves a file the run did not write: said.
    w.file("contacts.csv", &PEOPLE.replace("Pt-BR", "en"));
    w.run(&["run"]).ok().stderr_has("warning: ./out/by-lang/pt-br.csv holds no recipient of `by-lang` any more");
    assert_eq!(w.read("out/by-lang/en.csv"), "email,language\nc@x.io,en\ne@x.io,en\n");
}

/// The group the spec's rule gives, computed here from MD5 directly.
fn md5_group(salt: &str, key: &str, groups: &[(&str, u32)]) -> String {
    use md5::{Digest, Md5};
    let d = Md5::digest(format!("{salt}:{key}").as_bytes());
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    let bucket = u64::from_str_radix(&hex[..8], 16).unwrap() % 10_000;
    let mut sum = 0u64;
    for (name, bp) in groups {
        sum += u64::from(*bp);
        if bucket < sum {
            return name.to_string();
        }
    }
    unreachable!("shares add up to 10,000")
}

#[test]
fn test_groups_follow_the_md5_rule_and_stay_stable_across_runs() {
    let contacts: String = std::iter::once("email,n\n".to_string()).chain((0..300).map(|i| format!("c{i}@x.io,{i}\n"))).collect();
    let w = Work::project(&contacts, "", &[]);
    w.file(
        "segments/ab.yaml",
        "name: AB\nwhere: {all: []}\nexport:\n  columns: [email, group]\n  groups: [{name: a, share: 45}, {name: b, share: 45}, {name: control, share: 10}]\n",
    );
    w.file("segments/salted.yaml", "name: Salted\nwhere: {all: []}\nexport:\n  groups: [{name: a, share: 50}, {name: b, share: 50}]\n  groups_salt: spring\n");
    w.run(&["run"]).ok();
    let shares = [("a", 4500), ("b", 4500), ("control", 1000)];
    let mut sizes = Vec::new();
    for (g, _) in shares {
        let text = w.read(&format!("out/ab/{g}.csv"));
        let want: Vec<String> = (0..300).map(|i| format!("c{i}@x.io")).filter(|k| md5_group("ab", k, &shares) == g).collect();
        let mut expected = String::from("email,group\n");
        for k in &want {
            expected.push_str(&format!("{k},{g}\n"));
        }
        assert_eq!(text, expected, "group {g}");
        sizes.push(want.len());
    }
    assert_eq!(sizes.iter().sum::<usize>(), 300);
    assert!(sizes.iter().all(|n| *n > 0), "{sizes:?}");
    let salted: Vec<String> = (0..300).map(|i| format!("c{i}@x.io")).filter(|k| md5_group("spring", k, &[("a", 5000), ("b", 5000)]) == "a").collect();
    assert_eq!(w.list_keys("out/salted/a.csv"), salted);
    // The same contacts in the same groups on the next run.
    let first = w.read("out/ab/control.csv");
    w.run(&["run"]).ok();
    assert_eq!(w.read("out/ab/control.csv"), first);
}

#[test]
fn mailer_presets_name_and_order_the_columns() {
    let w = people(&[
        ("chimp", "name: Chimp\nwhere: {field: newsletter, op: is_true}\nexport: {preset: mailchimp, columns: [email, city]}\n"),
        (
            "brevo",
            "name: Brevo\nwhere: {field: newsletter, op: is_true}\nexport: {preset: brevo, preset_columns: {first_name: prenom}, rename: {EMAIL: email}}\n",
        ),
        ("monk", "name: Monk\nwhere: {field: newsletter, op: is_true}\nexport: {preset: listmonk, columns: [city, language]}\n"),
    ]);
    w.run(&["run"]).ok();
    assert_eq!(
        w.read("out/chimp.csv"),
        "Email Address,First Name,Last Name,city\na@x.io,Ann,Arnaud,Lyon\nb@x.io,Bob,Bernard,Paris\nc@x.io,Cléo,,Lyon\ne@x.io,,Eymard,Nice\nf@x.io,Fay,Faure,Lyon\n"
    );
    assert_eq!(w.read("out/brevo.csv"), "email,FIRSTNAME,LASTNAME\na@x.io,Annie,Arnaud\nb@x.io,Bobby,Bernard\nc@x.io,,\ne@x.io,,Eymard\nf@x.io,,Faure\n");
    assert_eq!(
        w.read("out/monk.csv"),
        "email,name,attributes\n\
         a@x.io,Ann Arnaud,\"{\"\"city\"\":\"\"Lyon\"\",\"\"language\"\":\"\"FR\"\"}\"\n\
         b@x.io,Bob Bernard,\"{\"\"city\"\":\"\"Paris\"\",\"\"language\"\":\"\"fr\"\"}\"\n\
         c@x.io,Cléo,\"{\"\"city\"\":\"\"Lyon\"\",\"\"language\"\":\"\"en\"\"}\"\n\
         e@x.io,Eymard,\"{\"\"city\"\":\"\"Nice\"\",\"\"language\"\":\"\"Pt-BR\"\"}\"\n\
         f@x.io,Fay Faure,\"{\"\"city\"\":\"\"Lyon\"\",\"\"language\"\":\"\"Français\"\"}\"\n"
    );
}

#[test]
fn check_rejects_bad_shares_a_missing_split_field_and_a_preset_without_its_columns() {
    let w = people(&[
        ("shares", "name: S\nwhere: {all: []}\nexport:\n  groups: [{name: a, share: 50}, {name: b, share: 40}]\n"),
        ("split", "name: Sp\nwhere: {all: []}\nexport: {split_by: langue}\n"),
        ("preset", "name: P\nwhere: {all: []}\nexport: {preset: mailchimp, preset_columns: {first_name: prenom2}}\n"),
        ("both", "name: B\nwhere: {all: []}\nexport: {split_by: city, groups: [{name: a, share: 100}]}\n"),
    ]);
    let out = w.run(&["check"]);
    out.code(1)
        .stderr_has("segments/shares.yaml:4:11: the groups' shares add up to 90%, not 100%")
        .stderr_has("segments/split.yaml:3:20: no field `langue`")
        .stderr_has("did you mean `language`?")
        .stderr_has("segments/preset.yaml:3:58: preset `mailchimp` needs a first_name column, and the contacts have no column `prenom2`")
        .stderr_has("hint: did you mean `prenom`?")
        .stderr_has("segments/both.yaml:3:34: `split_by` and `groups` both write one file per part under OUTPUT/ALIAS/; use one of them");
}

/// One French mobile written four ways (a b c d), a landline (e), a number
/// without SMS consent (f), no number (g) and another mobile (h).
const PHONES: &str = "email,newsletter,sms_optin,mobile\n\
a@x.io,yes,yes,06 12 34 56 78\n\
b@x.io,yes,yes,+33612345678\n\
c@x.io,no,yes,0033 6 12 34 56 78\n\
d@x.io,yes,yes,+33 (0)6 12 34 56 78\n\
e@x.io,yes,yes,01 42 68 53 00\n\
f@x.io,yes,no,07 11 22 33 44\n\
g@x.io,yes,yes,\n\
h@x.io,no,yes,0698765432\n";

fn sms_project() -> Work {
    let w = Work::new();
    w.file(
        "audience.yaml",
        "contacts:\n  path: contacts.csv\n  key: email\n  consent: {email: newsletter, sms: sms_optin}\n  phone: mobile\n  phone_region: FR\nsegments: segments\noutput: out\nas_of: 2025-06-30\n",
    );
    w.file("contacts.csv", PHONES);
    w.file("segments/sms.yaml", "name: SMS\nchannel: sms\nwhere: {all: []}\n");
    w.file("segments/news.yaml", "name: News\nwhere: {all: []}\n");
    w.file(
        "segments/brevo.yaml",
        "name: Brevo\nchannel: sms\nwhere: {all: []}\nexport: {preset: brevo, preset_columns: {first_name: newsletter, last_name: sms_optin}}\n",
    );
    w
}

#[test]
fn sms_segments_send_to_valid_mobiles_in_e164_once_each() {
    let w = sms_project();
    let out = w.run(&["run"]);
    out.ok().stdout_has("invalid phone").stdout_has("duplicate phone");
    assert_eq!(w.read("out/sms.csv"), "email,newsletter,sms_optin,mobile\na@x.io,yes,yes,+33612345678\nh@x.io,no,yes,+33698765432\n");
    // Brevo's SMS column is the number in E.164.
    assert_eq!(w.read("out/brevo.csv"), "EMAIL,FIRSTNAME,LASTNAME,SMS\na@x.io,yes,yes,+33612345678\nh@x.io,no,yes,+33698765432\n");
    // E-mail segments keep their own consent and keep the number as written.
    assert_eq!(w.list_keys("out/news.csv"), ["a@x.io", "b@x.io", "d@x.io", "e@x.io", "f@x.io", "g@x.io"]);
    let counts = w.counts(&["sms", "news"]);
    let pick = |o: &serde_json::Value| {
        ["members", "recipients", "suppressed", "no_consent", "invalid_email", "invalid_phone", "duplicate_phone"].map(|k| o[k].as_u64())
    };
    // 8 members: f has no SMS consent, e (a landline) and g (no number) no
    // valid mobile, b c d repeat a's number; a and h remain.
    assert_eq!(pick(&counts[0]), [8, 2, 0, 1, 0, 2, 3].map(Some));
    // The phone reasons do not apply to an e-mail segment: null.
    assert_eq!(pick(&counts[1]), [Some(8), Some(6), Some(0), Some(2), Some(0), None, None]);
    assert!(counts[1]["invalid_phone"].is_null(), "{}", counts[1]);
}

#[test]
fn check_rejects_an_sms_segment_in_a_project_without_phone() {
    let w = people(&[("sms", "name: SMS\nchannel: sms\nwhere: {all: []}\n")]);
    w.run(&["check"]).code(1).stderr_has("segments/sms.yaml:2:10: `channel: sms` needs the project's phone column, and audience.yaml names none");
    w.file("segments/sms.yaml", "name: SMS\nchannel: pigeon\nwhere: {all: []}\n");
    w.run(&["check"]).code(1).stderr_has("segments/sms.yaml:2:10: unknown channel `pigeon`");
}

#[test]
fn an_address_apart_from_the_key_is_checked_normalised_deduplicated_and_suppressible() {
    let w = Work::new();
    w.file("audience.yaml", "contacts: {path: contacts.csv, key: id, email: mail}\nsegments: segments\noutput: out\nsuppress: [bounces.csv]\n");
    w.file("contacts.csv", "id,name,mail\n1,Ann, Ann@X.io \n2,Ann again,ann@x.io\n3,Cy,not-an-address\n4,Di,\n5,Ed,e@x.io\n6,Fa,f@x.io\n");
    w.file("bounces.csv", "mail\nF@x.io\n");
    w.file("segments/all-mail.yaml", "name: All\nwhere: {all: []}\n");
    w.run(&["run"]).ok().stdout_has("duplicate e-mail");
    // The address follows the key, normalised; 2 repeats 1's address.
    assert_eq!(w.read("out/all-mail.csv"), "id,mail,name\n1,ann@x.io,Ann\n5,e@x.io,Ed\n");
    let c = &w.counts(&[])[0];
    let got = ["members", "recipients", "suppressed", "invalid_email", "duplicate_email"].map(|k| c[k].as_u64().unwrap());
    assert_eq!(got, [6, 2, 1, 2, 1], "{c}");
}
