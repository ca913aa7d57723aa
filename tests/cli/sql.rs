//! `audience sql`: the statements of every sample segment for every
//! dialect, compared byte for byte with tests/golden/sql/DIALECT/, and
//! parsed by sqlparser in that dialect. After a deliberate change of the
//! SQL, regenerate them with
//! `AUDIENCE_BLESS=1 cargo test --test cli sql::` and read the diff.
//! Running them on real engines is tests/engines/run.sh's work.

use std::path::{Path, PathBuf};

use crate::util::{sample, Work};

const DIALECTS: &[&str] = &["duckdb", "postgres", "spark", "clickhouse", "bigquery", "snowflake"];

fn golden_dir(dialect: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/sql").join(dialect)
}

fn sql_files(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
                .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).unwrap()))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn compile(w: &Work, dialect: &str) -> Vec<(String, String)> {
    // Segments SQL cannot express make the status 1; the others are written.
    w.run(&["sql", "--dialect", dialect, "-o", &format!("sql-{dialect}")]).code(1);
    sql_files(&w.path(&format!("sql-{dialect}")))
}

#[test]
fn the_sql_of_every_sample_segment_is_byte_identical_to_the_golden_one() {
    let w = sample();
    for d in DIALECTS {
        let got = compile(&w, d);
        assert!(got.len() >= 20, "{d}: only {} statements", got.len());
        let dir = golden_dir(d);
        if std::env::var_os("AUDIENCE_BLESS").is_some() {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for (name, text) in &got {
                std::fs::write(dir.join(name), text).unwrap();
            }
        }
        let want = sql_files(&dir);
        let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&got), names(&want), "{d}: the statements written differ from tests/golden/sql/{d}/");
        for ((name, a), (_, b)) in got.iter().zip(&want) {
            assert!(a == b, "{d}/{name} differs from its golden file (AUDIENCE_BLESS=1 regenerates them)");
        }
    }
}

#[test]
fn every_golden_statement_parses_in_its_dialect() {
    use sqlparser::dialect::{BigQueryDialect, ClickHouseDialect, DatabricksDialect, Dialect, DuckDbDialect, PostgreSqlDialect, SnowflakeDialect};
    use sqlparser::parser::Parser;
    let dialects: [(&str, &dyn Dialect); 6] = [
        ("duckdb", &DuckDbDialect {}),
        ("postgres", &PostgreSqlDialect {}),
        ("spark", &DatabricksDialect {}),
        ("clickhouse", &ClickHouseDialect {}),
        ("bigquery", &BigQueryDialect {}),
        ("snowflake", &SnowflakeDialect {}),
    ];
    let mut parsed = 0;
    for (name, dialect) in dialects {
        for (file, text) in sql_files(&golden_dir(name)) {
            let statements = Parser::parse_sql(dialect, &text).unwrap_or_else(|e| panic!("{name}/{file} does not parse: {e}"));
            assert_eq!(statements.len(), 1, "{name}/{file}: one statement");
            parsed += 1;
        }
    }
    assert!(parsed >= 6 * 23, "only {parsed} statements parsed");
}

#[test]
fn a_segment_sql_cannot_express_is_named_with_its_place_and_the_rest_is_printed() {
    let w = sample();
    let out = w.run(&["sql", "--dialect", "postgres", "high-value-cluster", "loyal-100"]);
    out.code(1)
        .stderr_has("segments/clusters/high-value-cluster.yaml:6:15: segment `high-value-cluster` cannot be compiled for postgres: the field `cluster`")
        .stdout_has("-- segment: loyal-100\nWITH ");
    assert!(!out.stdout.contains("-- segment: high-value-cluster"));
    assert!(out.stdout.trim_end().ends_with(';'));
}

#[test]
fn counts_and_materialize_wrap_the_statements() {
    let w = sample();
    let out = w.run(&["sql", "--dialect", "duckdb", "--counts", "loyal-100", "gmail"]);
    out.ok().stdout_has("-- counts\nWITH ");
    for column in ["\"alias\"", "\"members\"", "\"recipients\"", "\"suppressed\"", "\"no_consent\"", "\"invalid_email\""] {
        assert!(out.stdout.contains(&format!("AS {column}")), "no column {column}");
    }
    assert_eq!(out.stdout.matches("UNION ALL").count(), 1);
    let out = w.run(&["sql", "--dialect", "duckdb", "--materialize", "aud_", "loyal-100"]);
    out.ok().stdout_has("-- segment: loyal-100\nCREATE OR REPLACE TABLE \"aud_loyal_100\" AS\nWITH ");
    let out = w.run(&["sql", "--dialect", "postgres", "--materialize", "aud_", "loyal-100"]);
    out.ok().stdout_has("DROP TABLE IF EXISTS \"aud_loyal_100\";\nCREATE TABLE \"aud_loyal_100\" AS\nWITH ");
    w.run(&["sql", "--dialect", "oracle"]).code(2);
}

#[test]
fn warehouse_names_the_relations() {
    let w = sample();
    let project = w.read("audience.yaml");
    w.file("audience.yaml", &format!("{project}warehouse:\n  contacts: crm.contacts\n  tables: {{orders: sales.orders}}\n"));
    let out = w.run(&["sql", "--dialect", "duckdb", "loyal-100"]);
    out.ok().stdout_has("FROM \"crm\".\"contacts\"").stdout_has("FROM \"sales\".\"orders\"");
    w.file("audience.yaml", &format!("{project}warehouse:\n  tables: {{ordres: sales.orders}}\n"));
    w.run(&["check", "--no-data"]).code(1).stderr_has("no table `ordres` under `tables:`").stderr_has("`orders`");
}

#[test]
fn dbt_writes_models_over_sources_with_the_key_and_bounds_tested() {
    let w = sample();
    w.run(&["sql", "--dialect", "duckdb", "--dbt", "dbt", "loyal-100", "gmail"]).ok();
    let model = w.read("dbt/models/audience/loyal_100.sql");
    assert!(model.starts_with("-- audience segment `loyal-100`"), "{model}");
    assert!(model.contains("{{ config(materialized='table') }}"));
    assert!(model.contains("FROM {{ source('audience', 'contacts') }}") && model.contains("FROM {{ source('audience', 'orders') }}"));
    assert!(!model.trim_end().ends_with(';'), "a dbt model is a bare SELECT");
    let sources = w.read("dbt/models/audience/sources.yml");
    assert!(sources.contains("  - name: audience\n") && sources.contains("      - name: \"orders\"\n        identifier: \"orders\"\n"), "{sources}");
    let schema = w.read("dbt/models/audience/schema.yml");
    assert!(schema.contains("  - name: loyal_100\n"), "{schema}");
    assert!(schema.contains("      - name: \"email\"\n        quote: true\n        data_tests: [unique, not_null]\n"), "{schema}");
    // loyal-100 declares `expect: {min: …, max: …}`: its bounds become a test.
    assert!(schema.contains("      - audience_row_count: {min: "), "{schema}");
    assert!(w.read("dbt/macros/audience_row_count.sql").contains("{% test audience_row_count(model, min=none, max=none) %}"));
}

#[test]
fn stage_computes_the_features_once_and_each_segment_reads_them() {
    use sqlparser::dialect::DuckDbDialect;
    use sqlparser::parser::Parser;
    let w = sample();
    let out = w.run(&["sql", "--dialect", "duckdb", "--stage", "mkt.audience_stage", "loyal-100", "champions-optin", "gmail"]);
    out.ok().stdout_has("-- stage: mkt.audience_stage\nCREATE OR REPLACE TABLE \"mkt\".\"audience_stage\" AS\nWITH ");
    let statements = Parser::parse_sql(&DuckDbDialect {}, &out.stdout).unwrap_or_else(|e| panic!("the staged SQL does not parse: {e}"));
    assert_eq!(statements.len(), 4, "the stage and three segments");
    // The segments read the stage alone: no CTE, no other relation.
    let (_, segments) = out.stdout.split_once("-- segment: ").unwrap();
    assert!(!segments.contains("WITH ") && !segments.contains("\"contacts\"") && !segments.contains("\"orders\""), "{segments}");
    assert_eq!(segments.matches("FROM \"mkt\".\"audience_stage\"").count(), 3);
    assert!(out.stdout.find("-- segment: loyal-100").unwrap() < out.stdout.find("-- segment: champions-optin").unwrap());

    // -o: the stage's file has a dot in its name, which no alias has.
    w.run(&["sql", "--dialect", "postgres", "--stage", "audience_stage", "-o", "staged", "loyal-100"])
        .ok()
        .stderr_has("run it before the segments' statements");
    assert!(w.read("staged/audience_stage.stage.sql").starts_with("-- stage: audience_stage\nDROP TABLE IF EXISTS \"audience_stage\";\nCREATE TABLE"));
    assert!(w.read("staged/loyal-100.sql").starts_with("-- segment: loyal-100\nSELECT "));

    // dbt: the stage is a model the segment models ref(), with no tests of its own.
    w.run(&["sql", "--dialect", "duckdb", "--stage", "audience_stage", "--dbt", "dbt", "loyal-100"]).ok();
    assert!(w.read("dbt/models/audience/audience_stage.sql").contains("FROM {{ source('audience', 'orders') }}"));
    assert!(w.read("dbt/models/audience/loyal_100.sql").contains("FROM {{ ref('audience_stage') }}"));
    assert!(!w.read("dbt/models/audience/schema.yml").contains("name: audience_stage"));

    w.run(&["sql", "--dialect", "duckdb", "--stage", "1st-stage"]).code(2).stderr_has("`1st-stage` is not a table name");
    w.run(&["sql", "--dialect", "duckdb", "--stage", "s", "--counts"]).code(2);
}

#[test]
fn a_list_named_under_warehouse_lists_is_read_from_its_relation() {
    let w = sample();
    let project = w.read("audience.yaml");
    // bounces.csv (suppressed for every purpose) is a relation; unsubscribed.csv stays inline.
    w.file("audience.yaml", &format!("{project}warehouse:\n  lists: {{sample-data/bounces.csv: mkt.bounces}}\n"));
    let out = w.run(&["sql", "--dialect", "duckdb", "loyal-100"]);
    out.ok().stdout_has("(\"__key\" IN (SELECT lower(trim(\"email\")) AS \"__key\"\n  FROM \"mkt\".\"bounces\"\n").stdout_has("'vidal.anne-sophie@gmail.com'");
    assert!(!out.stdout.contains("'anaismuller@hotmail.fr'"), "a bounced key is inlined: {}", out.stdout);

    // dbt reads it as a source table named after the relation's last part
    // (one dbt source holds one schema: here the target's).
    w.file("audience.yaml", &format!("{project}warehouse:\n  lists: {{sample-data/bounces.csv: bounces}}\n"));
    w.run(&["sql", "--dialect", "duckdb", "--dbt", "dbt", "loyal-100"]).ok();
    assert!(w.read("dbt/models/audience/loyal_100.sql").contains("FROM {{ source('audience', 'bounces') }}"));
    assert!(w.read("dbt/models/audience/sources.yml").contains("      - name: \"bounces\"\n        identifier: \"bounces\"\n"));

    // A path that is no list of the project is pointed out.
    w.file("audience.yaml", &format!("{project}warehouse:\n  lists: {{sample-data/bounce.csv: mkt.bounces}}\n"));
    w.run(&["sql", "--dialect", "duckdb", "loyal-100"])
        .ok()
        .stderr_has("bounce.csv is no suppress, include or exclude file of the project, so mkt.bounces is never read");
}
