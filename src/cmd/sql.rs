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
    /// `--stage NAME`: every aggregate computed once into the table NAME.
    pub stage: Option<&'a str>,
}

pub fn run(common: &Common, aliases: &[String], which: SqlDialect, opts: Options) -> Result<ExitCode> {
    let Options { counts, materialize, out_dir, dbt, relations: relations_dir, stage } = opts;
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
    let mut stage_statement: Option<String> = None;
    let wrap = |c: &Compiler, alias: &str, sql: String| match materialize {
        Some(prefix) => (d.materialize)(&c.table_name(prefix, alias), &sql),
        None => sql,
    };
    // Resolving stops at the first segment set that does not resolve: its
    // problems are reported and the command fails with nothing printed.
    let plan_of = |segs: &[&Segment], export_columns: bool, notes: &mut Vec<String>| {
        ctx.plan(segs, Want { export_columns, compile_only: false }, notes).map_err(|errs| {
            session.report(&errs);
            anyhow::Error::from(crate::diag::Reported)
        })
    };
    let failed = |report: &mut Report, s: &Segment, e: Unsupported| {
        let file = s.file.clone().unwrap_or_else(|| project.file.clone());
        let path = e.field.as_deref().and_then(|f| field_path(s, f)).unwrap_or_else(|| "name".into());
        report.push_at(&file, &path, &format!("segment `{}` cannot be compiled for {}: {}", s.alias, d.name, e.what), None);
    };
    if counts {
        let plan = plan_of(&requested, false, &mut notes)?;
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
    } else if let Some(stage) = stage {
        let plan = plan_of(&requested, true, &mut notes)?;
        let mut c = Compiler::new(&plan, &data, project, d, relations(project));
        if dbt.is_some() {
            c.dbt_source = Some(DBT_SOURCE);
        }
        // Segments that cannot compile are reported and left out of the stage.
        let mut good = Vec::new();
        for s in &requested {
            let Some(sp) = plan.segments.iter().find(|p| p.alias == s.alias) else { continue };
            match c.check_segment(sp) {
                Ok(()) => good.push((*s, sp)),
                Err(e) => failed(&mut report, s, e),
            }
        }
        let plans: Vec<&crate::plan::SegmentPlan> = good.iter().map(|(_, sp)| *sp).collect();
        match c.stage(&plans) {
            Ok(sql) if dbt.is_some() => {
                models.insert(0, DbtModel { name: stage.to_string(), alias: String::new(), sql, key: String::new(), min: None, max: None, stage: true })
            }
            Ok(sql) => stage_statement = Some((d.materialize)(&c.relation_name(stage), &sql)),
            Err(e) => {
                if let Some((s, _)) = good.first() {
                    failed(&mut report, s, e);
                }
                good.clear();
            }
        }
        for (s, sp) in good {
            match c.staged_segment(sp, stage) {
                Ok(sql) if dbt.is_some() => models.push(dbt_model(s, sp, sql, &data)),
                Ok(sql) => statements.push((s.alias.clone(), wrap(&c, &s.alias, sql))),
                Err(e) => failed(&mut report, s, e),
            }
        }
    } else {
        for s in &requested {
            let plan = plan_of(&[s], true, &mut notes)?;
            let mut c = Compiler::new(&plan, &data, project, d, relations(project));
            if dbt.is_some() {
                c.dbt_source = Some(DBT_SOURCE);
            }
            let Some(sp) = plan.requested().next() else { continue };
            match c.segment(sp) {
                Ok(sql) if dbt.is_some() => models.push(dbt_model(s, sp, sql, &data)),
                Ok(sql) => statements.push((s.alias.clone(), wrap(&c, &s.alias, sql))),
                Err(e) => failed(&mut report, s, e),
            }
        }
    }
    for n in notes {
        crate::session::data_note(&n);
    }
    unused_list_relations(project, &session.segments);
    if let Some(dir) = dbt {
        write_dbt(dir, &models, project, &data)?;
        eprintln!("wrote {} dbt model(s) for {} to {}", models.len(), d.name, dir.join("models/audience").display());
    } else {
        let stage = stage.zip(stage_statement.as_deref());
        print_statements(stage, &statements, out_dir, counts, d.name)?;
    }
    if !report.is_empty() {
        eprintln!("{}", report.render());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// A `warehouse.lists` entry that names no list of the project is most
/// likely a typo: its relation would silently never be read.
fn unused_list_relations(project: &crate::project::Project, segments: &[Segment]) {
    use crate::segment::ast::KeyList;
    let rel = relations(project);
    let mut files: Vec<&Path> = project.suppress.iter().map(|s| s.path.as_path()).collect();
    for s in segments {
        for list in [&s.include, &s.exclude] {
            if let KeyList::File(p) = list {
                files.push(p);
            }
        }
    }
    for (path, relation) in &rel.lists {
        let same = crate::backend::sql::same_file(path);
        if !files.iter().any(|f| crate::backend::sql::same_file(f) == same) {
            eprintln!("note: warehouse.lists: {} is no suppress, include or exclude file of the project, so {relation} is never read", path.display());
        }
    }
}

/// The dbt model of a segment's statement.
fn dbt_model(s: &Segment, sp: &crate::plan::SegmentPlan, sql: String, data: &crate::load::Dataset) -> DbtModel {
    let key = sp.export.as_ref().and_then(|e| e.columns.first()).map(|c| c.header.clone()).unwrap_or_else(|| data.key_column.clone());
    DbtModel { name: s.alias.replace('-', "_"), alias: s.alias.clone(), sql, key, min: s.expect.min, max: s.expect.max, stage: false }
}

/// The file of the stage statement under `-o DIR`: a dot is in no alias,
/// so it cannot overwrite a segment's file.
fn stage_file(name: &str) -> String {
    format!("{name}.stage.sql")
}

fn print_statements(stage: Option<(&str, &str)>, statements: &[(String, String)], out_dir: Option<&Path>, counts: bool, dialect: &str) -> Result<()> {
    let stage_text = |name: &str, sql: &str| format!("-- stage: {name}\n{sql};\n");
    match out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{}: cannot create the folder: {e}", dir.display()))?;
            if let Some((name, sql)) = stage {
                crate::output::write_bytes_atomic(&dir.join(stage_file(name)), stage_text(name, sql).as_bytes())?;
                eprintln!("wrote the stage {name} to {}: run it before the segments' statements", dir.join(stage_file(name)).display());
            }
            for (alias, sql) in statements {
                let path = dir.join(format!("{alias}.sql"));
                crate::output::write_bytes_atomic(&path, statement(alias, sql, counts).as_bytes())?;
            }
            eprintln!("wrote {} statement(s) for {dialect} to {}", statements.len(), dir.display());
        }
        None => {
            let mut text: String = stage.map(|(name, sql)| stage_text(name, sql)).unwrap_or_default();
            text.extend(statements.iter().map(|(alias, sql)| statement(alias, sql, counts)));
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
    /// The shared stage of `--stage`, which the segment models read.
    stage: bool,
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
        let what = if m.stage {
            "the stage every audience segment model reads, compiled by `audience sql --dbt`; edit the segment files".to_string()
        } else {
            format!("audience segment `{}`, compiled by `audience sql --dbt`; edit the segment file", m.alias)
        };
        let text = format!("-- {what}, not this one.\n{{{{ config(materialized='table') }}}}\n{}\n", m.sql);
        crate::output::write_bytes_atomic(&base.join(format!("{}.sql", m.name)), text.as_bytes())?;
    }
    let rel = relations(project);
    let mut names: Vec<(String, String)> = vec![("contacts".into(), rel.contacts_name())];
    names.extend(data.tables.iter().map(|t| (t.cfg.name.clone(), rel.table_name(&t.cfg.name))));
    for (_, relation) in &rel.lists {
        let logical = crate::backend::sql::list_logical(relation);
        if names.iter().any(|(l, _)| l == logical) {
            anyhow::bail!("--dbt: the list relation {relation} would be the dbt source table `{logical}`, which another relation already is; rename one under `warehouse:`");
        }
        names.push((logical.to_string(), relation.clone()));
    }
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
    for m in models.iter().filter(|m| !m.stage) {
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
    // A list kept as a relation holds its keys as `run` read them, under
    // the column they were read from.
    for (path, relation) in &rel.lists {
        if written.iter().any(|(n, _)| n == relation) {
            continue;
        }
        let (keys, column) = crate::load::read_key_list(path, data, &project.csv)?;
        written.push((relation.clone(), DataFrame::new(keys.len(), vec![Column::new(column.into(), keys)])?));
    }
    let count = written.len();
    for (name, mut df) in written {
        let path = dir.join(format!("{name}.parquet"));
        crate::output::write_atomic(&mut df, &path, crate::segment::ast::Format::Parquet, &crate::output::CsvStyle::PLAIN)?;
    }
    eprintln!("wrote {count} relation(s) to {}", dir.display());
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
