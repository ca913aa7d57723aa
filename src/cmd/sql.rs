//! `audience sql`: the segments compiled to SQL for a warehouse, one
//! statement per segment (or one of counts), printed or written per file.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::backend::sql::{dialect, relations, Compiler, Unsupported};
use crate::cli::{Common, SqlDialect};
use crate::engine::{Context, Want};
use crate::segment::ast::{Cond, Segment};
use crate::segment::Report;
use crate::session::Session;

pub struct Options<'a> {
    pub counts: bool,
    pub materialize: Option<&'a str>,
    pub out_dir: Option<&'a Path>,
    pub dbt: Option<&'a Path>,
    pub relations: Option<&'a Path>,
}

pub fn run(common: &Common, aliases: &[String], which: SqlDialect, opts: Options) -> Result<ExitCode> {
    let Options { counts, materialize, out_dir, dbt, relations: relations_dir } = opts;
    let d = dialect::by_name(which.name()).expect("every dialect of the command line has a table");
    let session = Session::open(common)?;
    let requested = session.select(aliases)?;
    let data = session.load_data()?;
    data.notes.print();
    let project = &session.project;
    if let Some(dir) = relations_dir {
        write_relations(&data, project, dir)?;
    }
    let ctx = Context { project, data: &data, segments: &session.segments };
    let mut models: Vec<DbtModel> = Vec::new();
    let mut report = Report::default();
    let mut statements: Vec<(String, String)> = Vec::new();
    let mut notes = Vec::new();
    let failed = |report: &mut Report, s: &Segment, e: Unsupported| {
        let file = s.file.clone().unwrap_or_else(|| project.file.clone());
        let path = e.field.as_deref().and_then(|f| field_path(s, f)).unwrap_or_else(|| "name".into());
        report.push_at(&file, &path, &format!("segment `{}` cannot be compiled for {}: {}", s.alias, d.name, e.what), None);
    };
    if counts {
        let plan = match ctx.plan(&requested, Want { export_columns: false, compile_only: false }, &mut notes) {
            Ok(p) => p,
            Err(errs) => {
                session.report(&errs);
                return Err(crate::diag::Reported.into());
            }
        };
        let c = Compiler::new(&plan, &data, project, d, relations(project));
        match c.counts() {
            Ok(sql) => statements.push(("counts".into(), sql)),
            Err(e) => {
                // The first segment that fails names the place.
                let culprit = requested.iter().find(|s| e.field.as_deref().is_some_and(|f| field_path(s, f).is_some())).or(requested.first());
                if let Some(s) = culprit {
                    failed(&mut report, s, e);
                }
            }
        }
    } else {
        for s in &requested {
            let plan = match ctx.plan(&[s], Want { export_columns: true, compile_only: false }, &mut notes) {
                Ok(p) => p,
                Err(errs) => {
                    session.report(&errs);
                    return Err(crate::diag::Reported.into());
                }
            };
            let mut c = Compiler::new(&plan, &data, project, d, relations(project));
            if dbt.is_some() {
                c.dbt_source = Some(DBT_SOURCE);
            }
            let Some(sp) = plan.requested().next() else { continue };
            match c.segment(sp) {
                Ok(sql) if dbt.is_some() => {
                    let key = sp.export.as_ref().and_then(|e| e.columns.first()).map(|c| c.header.clone()).unwrap_or_else(|| data.key_column.clone());
                    models.push(DbtModel { name: s.alias.replace('-', "_"), alias: s.alias.clone(), sql, key, min: s.expect.min, max: s.expect.max });
                }
                Ok(sql) => {
                    let sql = match materialize {
                        Some(prefix) => (d.materialize)(&c.table_name(prefix, &s.alias), &sql),
                        None => sql,
                    };
                    statements.push((s.alias.clone(), sql));
                }
                Err(e) => failed(&mut report, s, e),
            }
        }
    }
    for n in notes {
        crate::session::data_note(&n);
    }
    if let Some(dir) = dbt {
        write_dbt(dir, &models, project, &data)?;
        eprintln!("wrote {} dbt model(s) for {} to {}", models.len(), d.name, dir.join("models/audience").display());
    } else {
        print_statements(&statements, out_dir, counts, d.name)?;
    }
    if !report.is_empty() {
        eprintln!("{}", report.render());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_statements(statements: &[(String, String)], out_dir: Option<&Path>, counts: bool, dialect: &str) -> Result<()> {
    match out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{}: cannot create the folder: {e}", dir.display()))?;
            for (alias, sql) in statements {
                let path = dir.join(format!("{alias}.sql"));
                crate::output::write_bytes_atomic(&path, statement(alias, sql, counts).as_bytes())?;
            }
            eprintln!("wrote {} statement(s) for {dialect} to {}", statements.len(), dir.display());
        }
        None => {
            let text: String = statements.iter().map(|(alias, sql)| statement(alias, sql, counts)).collect();
            print!("{text}");
        }
    }
    Ok(())
}

/// The name of the dbt source the models read.
const DBT_SOURCE: &str = "audience";

struct DbtModel {
    /// The model's name: the alias with underscores (dbt names relations after models).
    name: String,
    alias: String,
    sql: String,
    /// The list's first column, the key.
    key: String,
    min: Option<u64>,
    max: Option<u64>,
}

/// YAML text of a scalar, quoted.
fn yq(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// A dbt project fragment: one model per segment over `{{ source('audience', …) }}`,
/// the sources, and per model the key's tests and the `expect:` bounds.
fn write_dbt(dir: &Path, models: &[DbtModel], project: &crate::project::Project, data: &crate::load::Dataset) -> Result<()> {
    let base = dir.join("models").join("audience");
    std::fs::create_dir_all(&base).map_err(|e| anyhow::anyhow!("{}: cannot create the folder: {e}", base.display()))?;
    for m in models {
        let text = format!(
            "-- audience segment `{}`, compiled by `audience sql --dbt`; edit the segment file, not this one.\n{{{{ config(materialized='table') }}}}\n{}\n",
            m.alias, m.sql
        );
        crate::output::write_bytes_atomic(&base.join(format!("{}.sql", m.name)), text.as_bytes())?;
    }
    let rel = relations(project);
    let mut names: Vec<(String, String)> = vec![("contacts".into(), rel.contacts_name())];
    names.extend(data.tables.iter().map(|t| (t.cfg.name.clone(), rel.table_name(&t.cfg.name))));
    // One dbt source holds relations of one schema: the warehouse's, or
    // the target's when the relations are named without one.
    let split: Vec<(&str, Option<&str>, &str)> = names
        .iter()
        .map(|(logical, name)| match name.rsplit_once('.') {
            Some((schema, id)) => (logical.as_str(), Some(schema), id),
            None => (logical.as_str(), None, name.as_str()),
        })
        .collect();
    let mut schemas: Vec<Option<&str>> = split.iter().map(|(_, s, _)| *s).collect();
    schemas.dedup();
    if schemas.len() > 1 {
        let all: Vec<&str> = names.iter().map(|(_, n)| n.as_str()).collect();
        anyhow::bail!("--dbt: the relations of `warehouse:` are in several schemas ({}); a dbt source takes one", all.join(", "));
    }
    let schema = match schemas.first().copied().flatten() {
        Some(s) => yq(s),
        None => "\"{{ target.schema }}\"".into(),
    };
    let mut sources =
        format!("version: 2\n\nsources:\n  - name: {DBT_SOURCE}\n    description: The exports audience segments, as warehouse relations\n    schema: {schema}\n    tables:\n");
    for (logical, _, identifier) in &split {
        sources += &format!("      - name: {}\n        identifier: {}\n", yq(logical), yq(identifier));
    }
    crate::output::write_bytes_atomic(&base.join("sources.yml"), sources.as_bytes())?;
    let mut schema = String::from("version: 2\n\nmodels:\n");
    for m in models {
        schema += &format!("  - name: {}\n    description: {}\n", m.name, yq(&format!("Recipients of the audience segment `{}`", m.alias)));
        if m.min.is_some() || m.max.is_some() {
            let mut args = Vec::new();
            if let Some(min) = m.min {
                args.push(format!("min: {min}"));
            }
            if let Some(max) = m.max {
                args.push(format!("max: {max}"));
            }
            schema += &format!("    data_tests:\n      - audience_row_count: {{{}}}\n", args.join(", "));
        }
        // Quoted: list headers may hold spaces (`Email Address`).
        schema += &format!("    columns:\n      - name: {}\n        quote: true\n        data_tests: [unique, not_null]\n", yq(&m.key));
    }
    crate::output::write_bytes_atomic(&base.join("schema.yml"), schema.as_bytes())?;
    // The generic test of the bounds: rows returned mean failure.
    let generic = dir.join("macros");
    std::fs::create_dir_all(&generic).map_err(|e| anyhow::anyhow!("{}: cannot create the folder: {e}", generic.display()))?;
    let test = "{% test audience_row_count(model, min=none, max=none) %}\n\
                -- The recipients of an audience segment number between its expect: bounds.\n\
                select count(*) as recipients from {{ model }}\n\
                having {% if min is not none %}count(*) < {{ min }}{% else %}false{% endif %}\n\
                    or {% if max is not none %}count(*) > {{ max }}{% else %}false{% endif %}\n\
                {% endtest %}\n";
    crate::output::write_bytes_atomic(&generic.join("audience_row_count.sql"), test.as_bytes())?;
    Ok(())
}

/// The contacts and every table as loaded, without the working columns,
/// under the relation names the SQL uses.
fn write_relations(data: &crate::load::Dataset, project: &crate::project::Project, dir: &Path) -> Result<()> {
    use polars::prelude::*;
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{}: cannot create the folder: {e}", dir.display()))?;
    let rel = relations(project);
    let plain = |df: DataFrame| df.drop_many([crate::load::KEY, crate::load::ROW]);
    let mut written = vec![(rel.contacts_name(), plain(data.contacts.clone()))];
    for t in &data.tables {
        written.push((rel.table_name(&t.cfg.name), plain(t.lf.clone().collect()?)));
    }
    for (name, mut df) in written {
        let path = dir.join(format!("{name}.parquet"));
        crate::output::write_atomic(&mut df, &path, crate::segment::ast::Format::Parquet, &crate::output::CsvStyle::PLAIN)?;
    }
    eprintln!("wrote {} relation(s) to {}", data.tables.len() + 1, dir.display());
    Ok(())
}

fn statement(alias: &str, sql: &str, counts: bool) -> String {
    if counts {
        format!("-- counts\n{sql};\n")
    } else {
        format!("-- segment: {alias}\n{sql};\n")
    }
}

/// The YAML path of the first condition on `field` in the segment, for
/// the error's place.
fn field_path(s: &Segment, field: &str) -> Option<String> {
    let mut found = None;
    let mut visit = |c: &Cond| {
        if let (None, Cond::Field(l)) = (&found, c) {
            if l.field == field {
                found = Some(format!("{}.field", l.path));
            }
        }
    };
    if let Some(w) = &s.filter {
        w.walk(&mut visit);
    }
    found.or_else(|| s.export.columns.as_ref().and_then(|cols| cols.iter().find(|(n, _)| n == field).map(|(_, p)| p.clone())))
}
