//! `audience show`: a segment's counts, its first recipients, and with
//! `--explain` what each top-level condition keeps.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Common, TableFormat};
use crate::engine::{Context, Want};
use crate::segment::ast::{Cond, KeyList, Segment};
use crate::session::Session;

pub fn run(common: &Common, alias: &str, limit: usize, explain: bool, format: TableFormat) -> Result<ExitCode> {
    if explain && format != TableFormat::Table {
        return Err(crate::session::UsageError("--explain prints a table; use it without --format".into()).into());
    }
    let session = Session::open(common)?;
    let seg = session.select(&[alias.to_string()])?[0];
    let data = session.load_data()?;
    data.notes.print();
    let eval = session.evaluate(&data, &[seg], Want { export_columns: true, ..Want::default() })?;
    let res = &eval.results[0];
    let df = super::run::select_recipients(&eval, &res.recipient_col, &res.columns)?;
    let mut first = df.head(Some(limit));
    if format != TableFormat::Table {
        // Machine-readable: the rows alone on stdout, the rest on stderr.
        let c = &res.counts;
        eprintln!("{}: {} member(s), {} recipient(s); {} shown", seg.alias, c.members, c.recipients, first.height());
        match format {
            TableFormat::Csv => crate::output::write_stdout(&mut first, None, &crate::output::CsvStyle::PLAIN)?,
            _ => println!("{}", serde_json::to_string_pretty(&crate::output::json_rows(&first)?)?),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let category = seg.category.as_ref().map(|c| format!(" [{c}]")).unwrap_or_default();
    println!("{}: {}{category}", seg.alias, seg.name);
    if let Some(d) = &seg.description {
        println!("{d}");
    }
    super::CountTable::new(&session, &eval.results).print(TableFormat::Table)?;

    // A table of recipients only when there are some to show: `--limit 0`
    // asks for the counts alone, and an empty list has no rows.
    if first.height() > 0 {
        let headers: Vec<String> = res.columns.iter().map(|c| c.header.clone()).collect();
        let mut t = crate::output::Grid::new(headers);
        t.rows = crate::output::text_rows(&first, limit)?;
        println!("{}", t.render());
    }
    if df.height() == 0 {
        println!("no recipients");
    } else if limit == 0 {
        println!("{} recipient(s) not shown (--limit N shows the first N)", df.height());
    } else if df.height() > limit {
        println!("… and {} more recipient(s) (--limit to see more)", df.height() - limit);
    }

    if explain {
        explain_conditions(&session, &data, seg)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Counts, for each top-level condition, the contacts it keeps alone and the
/// members left once it is added to the ones before it.
fn explain_conditions(session: &Session, data: &crate::load::Dataset, seg: &Segment) -> Result<()> {
    let parts: Vec<Cond> = match &seg.filter {
        Some(Cond::All(cs, _)) => cs.clone(),
        Some(c) => vec![c.clone()],
        None => vec![],
    };
    let mut probes: Vec<Segment> = Vec::new();
    for (i, c) in parts.iter().enumerate() {
        let alone = Segment { alias: format!("__alone{i}"), filter: Some(c.clone()), include: KeyList::None, exclude: KeyList::None, ..seg.clone() };
        let upto = Segment {
            alias: format!("__upto{i}"),
            filter: Some(Cond::All(parts[..=i].to_vec(), "where.all".into())),
            include: KeyList::None,
            exclude: KeyList::None,
            ..seg.clone()
        };
        probes.push(alone);
        probes.push(upto);
    }
    let mut all = session.segments.clone();
    all.extend(probes.iter().cloned());
    let ctx = Context { project: &session.project, data, segments: &all };
    let refs: Vec<&Segment> = probes.iter().collect();
    let mut notes = Vec::new();
    // The segment itself compiled above, so its parts compile too.
    let eval = match ctx.evaluate(&refs, Want::default(), &mut notes) {
        Ok(e) => e,
        Err(crate::engine::EvalError::Other(e)) => return Err(e),
        Err(crate::engine::EvalError::Compile(_)) => anyhow::bail!("internal: a condition of `{}` did not compile on its own", seg.alias),
    };
    let mut t = crate::output::Grid::new(vec!["#".into(), "condition".into(), "keeps alone".into(), "members so far".into()]);
    let total = data.contacts.height();
    t.row(vec!["".into(), format!("every contact{}", if seg.scope.is_some() { " (within scope)" } else { "" }), total.to_string(), total.to_string()]);
    for (i, c) in parts.iter().enumerate() {
        let alone = eval.results[2 * i].counts.members;
        let upto = eval.results[2 * i + 1].counts.members;
        t.row(vec![(i + 1).to_string(), describe(c), alone.to_string(), upto.to_string()]);
    }
    println!("{}", t.render());
    Ok(())
}

/// A condition in one short line.
pub fn describe(c: &Cond) -> String {
    use crate::yamldoc::scalar_text;
    let value = |v: &Option<serde_yaml::Value>| match v {
        Some(serde_yaml::Value::Sequence(s)) => format!(" [{}]", s.iter().filter_map(scalar_text).collect::<Vec<_>>().join(", ")),
        Some(v) => format!(" {}", scalar_text(v).unwrap_or_default()),
        None => String::new(),
    };
    match c {
        Cond::All(cs, _) => format!("all of {} conditions", cs.len()),
        Cond::Any(cs, _) => format!("any of {} conditions", cs.len()),
        Cond::Not(c, _) => format!("not ({})", describe(c)),
        Cond::Field(l) => format!("{} {}{}", l.field, l.op.name(), value(&l.value)),
        Cond::Table(a, l) => {
            let filter = if a.filter.is_some() { " where …" } else { "" };
            format!(
                "{} of {}{}{} {}{}",
                a.agg.name(),
                a.table,
                a.field.as_ref().map(|f| format!(".{f}")).unwrap_or_default(),
                filter,
                l.op.name(),
                value(&l.value)
            )
        }
        Cond::Segment(a, _) => format!("member of {a}"),
    }
}
