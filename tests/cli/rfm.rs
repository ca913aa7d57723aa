//! RFM against the R package's reference data, and on hand-made cases.

use crate::util::Work;

fn reference_csv() -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/rfm-reference/orders.csv");
    p.exists().then_some(p)
}

/// The values the `rfm` package documents for its example data.
#[test]
fn reference_data_matches_the_r_package() {
    let Some(orders) = reference_csv() else {
        eprintln!("skipped: ../shared/rfm-reference/orders.csv is not here");
        return;
    };
    let w = Work::new();
    w.file(
        "audience.yaml",
        &format!(
            "tables:\n  orders: {{path: {}, key: customer_id, date: order_date, amount: revenue}}\nsegments: segments\nas_of: 2006-12-31\ntimezone: UTC\n",
            orders.display()
        ),
    );
    w.file("segments/champions.yaml", "name: Champions\nwhere: {field: rfm_class, op: eq, value: Champions}\nexport: {columns: [customer_id, rfm_score]}\n");
    let out = w.run(&["rfm", "--format", "json", "--scores", "scores.csv"]);
    out.ok();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).expect("json");
    let class = |name: &str| rows.iter().find(|r| r["class"] == name).unwrap_or_else(|| panic!("no class {name}"));
    for (name, customers, orders, revenue) in [
        ("Potential Loyalist", 342, 2211, 204856.0),
        ("Loyal Customers", 170, 799, 76562.0),
        ("Lost", 148, 393, 35324.0),
        ("New Customers", 104, 329, 28837.0),
        ("About To Sleep", 102, 283, 23449.0),
        ("Can't Lose Them", 47, 274, 32446.0),
        ("Champions", 35, 316, 31646.0),
        ("At Risk", 28, 216, 22227.0),
        ("Need Attention", 10, 57, 4562.0),
        ("Promising", 9, 28, 4249.0),
    ] {
        let r = class(name);
        assert_eq!(r["contacts"], customers, "{name} customers");
        assert_eq!(r["orders"].as_f64(), Some(orders as f64), "{name} orders");
        assert_eq!(r["revenue"].as_f64(), Some(revenue), "{name} revenue");
    }
    let total: u64 = rows.iter().map(|r| r["contacts"].as_u64().unwrap()).sum();
    let orders_total: f64 = rows.iter().map(|r| r["orders"].as_f64().unwrap()).sum();
    assert_eq!(total, 995);
    assert_eq!(orders_total, 4906.0);

    let scores = w.read("scores.csv");
    let mut lines = scores.lines();
    assert_eq!(lines.next(), Some("customer_id,recency_days,frequency,monetary,rfm_recency,rfm_frequency,rfm_monetary,rfm_score,rfm_class"));
    for want in [
        "Abbey O'Reilly,205,6,472,3,4,3,343,Potential Loyalist",
        "Add Senger,140,3,340,4,1,2,412,New Customers",
        "Aden Lesch,194,4,405,3,2,3,323,Loyal Customers",
        "Aden Murphy,98,7,596,5,4,4,544,Potential Loyalist",
        "Agness O'Keefe,90,9,843,5,5,5,555,Champions",
        "Aiyanna Bruen,246,4,157,3,2,1,321,About To Sleep",
    ] {
        assert!(scores.lines().any(|l| l == want), "scores.csv lacks {want:?}");
    }

    // A segment on rfm_class exports exactly the class's members.
    w.run(&["run", "champions"]).ok();
    let champions = w.list_keys("out/champions.csv");
    assert_eq!(champions.len(), 35);
    assert!(champions.contains(&"Agness O'Keefe".to_string()));
    assert!(w.read("out/champions.csv").lines().all(|l| l.ends_with(",555") || l.ends_with("rfm_score")));
}

#[test]
fn rfm_table_grid_and_plot_on_a_small_project() {
    let w = Work::project(
        "email\na@x.fr\nb@x.fr\nc@x.fr\nd@x.fr\n",
        "order_id,email,ordered_at,amount\n1,a@x.fr,2025-06-01,10\n2,a@x.fr,2025-06-20,30\n3,b@x.fr,2025-01-05,5\n4,c@x.fr,2024-06-30,100\n",
        &[],
    );
    w.file("audience.yaml", &format!("{}rfm: {{bins: 2, classes: [{{name: Best, r: [2, 2], f: [1, 2], m: [1, 2]}}]}}\n", w.read("audience.yaml")));
    let out = w.run(&["rfm", "--plot", "rfm.svg"]);
    out.ok().stdout_has("Best").stdout_has("No purchase").stdout_has("R2");
    assert!(w.read("rfm.svg").starts_with("<svg"));
    let csv = w.run(&["rfm", "--format", "csv"]);
    csv.ok();
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert!(lines[0].starts_with("class,contacts,"));
    // Best (recent buyers), Others (the rest of the buyers), No purchase (d).
    assert!(lines[1].starts_with("Best,"), "{}", csv.stdout);
    assert!(lines.iter().any(|l| l.starts_with("No purchase,1,")), "{}", csv.stdout);
    assert!(!csv.stdout.contains("R2"), "the grid is for the table format only");
}

#[test]
fn presets_need_five_bins() {
    let w = Work::project("email\na@x.fr\n", "order_id,email,ordered_at,amount\n1,a@x.fr,2025-06-01,10\n", &[]);
    w.file("audience.yaml", &format!("{}rfm: {{bins: 4}}\n", w.read("audience.yaml")));
    w.run(&["rfm"]).code(1).stderr_has("give `classes` as a list");
}
