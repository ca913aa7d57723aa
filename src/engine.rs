//! From segments to masks: compiles every requested segment (and those they
//! refer to) over one feature table, then evaluates all masks in one query.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use anyhow::{anyhow, Result};
use polars::prelude::*;

use crate::exec::run_in_memory;
use crate::features::{member_column, Plan};
use crate::load::{read_key_list, Dataset, FieldType, KEY};
use crate::masks::{Mask, Program};
use crate::project::Project;
use crate::rfm_fields;
use crate::segment::ast::{Channel, KeyList, Preset, Purpose, Segment};
use crate::segment::compile::CompileError;
use crate::types::columns::{ADDRESS, PHONE};
use crate::types::group_column;
pub use crate::types::recipient_column;

/// A compile problem and the file it is in (None: the project file).
pub type Located = (Option<PathBuf>, CompileError);

pub enum EvalError {
    Compile(Vec<Located>),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for EvalError {
    fn from(e: anyhow::Error) -> Self {
        EvalError::Other(e)
    }
}

impl From<PolarsError> for EvalError {
    fn from(e: PolarsError) -> Self {
        EvalError::Other(anyhow!(e))
    }
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Counts {
    pub members: u64,
    pub recipients: u64,
    pub suppressed: u64,
    pub no_consent: u64,
    pub invalid_email: u64,
    /// SMS segments: no number, or not a valid mobile.
    pub invalid_phone: Option<u64>,
    /// SMS segments: a number an earlier recipient already has.
    pub duplicate_phone: Option<u64>,
    /// E-mail segments of a project with `contacts.email`: an address an
    /// earlier recipient already has.
    pub duplicate_email: Option<u64>,
}

/// One output column: its header and what gives it.
pub struct OutCol {
    pub header: String,
    pub value: OutValue,
}

pub enum OutValue {
    /// A column over the evaluation's frame.
    Expr(Expr),
    /// One JSON object per row of these columns, as text (listmonk's
    /// `attributes`).
    Json(Vec<OutCol>),
    /// The texts of these columns joined by a space, missing ones left out
    /// (a full name from first and last names).
    Joined(Vec<OutCol>),
}

impl OutCol {
    fn expr(header: String, expr: Expr) -> OutCol {
        OutCol { header, value: OutValue::Expr(expr) }
    }
}

pub struct SegmentResult {
    pub alias: String,
    pub counts: Counts,
    pub member_col: String,
    pub recipient_col: String,
    pub columns: Vec<OutCol>,
    /// `export.split_by`: the field whose values name the files.
    pub split: Option<Expr>,
    /// `export.groups`: the frame's column naming each contact's group.
    pub group_col: Option<String>,
}

pub struct Evaluation {
    /// Features plus the member and recipient columns of every requested segment.
    pub frame: DataFrame,
    pub results: Vec<SegmentResult>,
}

/// Orders `wanted` and everything they refer to so that a segment comes after
/// the ones it uses. A cycle is an error naming it.
pub fn dependency_order<'s>(all: &'s [Segment], wanted: &[&str]) -> Result<Vec<&'s Segment>, Vec<Located>> {
    let by_alias: HashMap<&str, &Segment> = all.iter().map(|s| (s.alias.as_str(), s)).collect();
    let mut order = Vec::new();
    let mut done: HashSet<&str> = HashSet::new();
    let mut errors = Vec::new();
    fn visit<'s>(
        s: &'s Segment,
        by_alias: &HashMap<&str, &'s Segment>,
        stack: &mut Vec<&'s str>,
        done: &mut HashSet<&'s str>,
        order: &mut Vec<&'s Segment>,
        errors: &mut Vec<Located>,
    ) {
        if done.contains(s.alias.as_str()) {
            return;
        }
        stack.push(&s.alias);
        for (alias, path) in s.references() {
            if let Some(pos) = stack.iter().position(|a| *a == alias) {
                // The reference that closes the loop is the one reported.
                let cycle = stack[pos..].iter().copied().chain([alias.as_str()]).collect::<Vec<_>>().join(" → ");
                errors.push((
                    s.file.clone(),
                    CompileError::new(&path, format!("segment references form a cycle: {cycle}"))
                        .hint("a segment cannot include itself through other segments; remove one reference"),
                ));
                continue;
            }
            match by_alias.get(alias.as_str()) {
                Some(r) => visit(r, by_alias, stack, done, order, errors),
                None => {
                    let names: Vec<&str> = by_alias.keys().copied().collect();
                    let hint = crate::diag::did_you_mean(&alias, names.iter().copied()).unwrap_or_else(|| "run `audience count` to list the segments".into());
                    errors.push((s.file.clone(), CompileError::new(&path, format!("no segment with alias `{alias}`")).hint(hint)));
                }
            }
        }
        stack.pop();
        if errors.is_empty() && done.insert(&s.alias) {
            order.push(s);
        }
    }
    for w in wanted {
        if let Some(s) = by_alias.get(w) {
            let mut stack = Vec::new();
            visit(s, &by_alias, &mut stack, &mut done, &mut order, &mut errors);
        }
    }
    if errors.is_empty() {
        Ok(order)
    } else {
        Err(errors)
    }
}

/// What to compute beyond counts.
#[derive(Default, Clone, Copy)]
pub struct Want {
    pub export_columns: bool,
    /// Stop after compiling: `check` wants the errors, not the data.
    pub compile_only: bool,
}

fn key_mask(keys: &[String]) -> Expr {
    if keys.is_empty() {
        lit(false)
    } else {
        crate::segment::compile::in_set(col(KEY), keys.to_vec()).fill_null(lit(false))
    }
}

pub struct Context<'a> {
    pub project: &'a Project,
    pub data: &'a Dataset,
    pub segments: &'a [Segment],
}

impl<'a> Context<'a> {
    /// The keys of an `include` or `exclude`; a list file that cannot be
    /// read is an error at its `file:` entry.
    fn keys(&self, list: &KeyList, notes: &mut Vec<String>, what: &str, alias: &str) -> Result<Vec<String>, CompileError> {
        let keys = match list {
            KeyList::None => vec![],
            KeyList::Inline(k) => k.iter().map(|k| self.data.normalize_key(k)).collect(),
            KeyList::File(p) => read_key_list(p, self.data, &self.project.csv).map_err(|e| {
                CompileError::new(&format!("{what}.file"), format!("cannot read the `{what}` list: {e:#}"))
                    .hint("the path is relative to the segment file's folder")
            })?,
        };
        if what == "include" && !keys.is_empty() {
            let missing = self.data.unknown_keys(&keys);
            if missing > 0 {
                notes.push(format!("segment `{alias}`: {missing} `include` key(s) are no contact and were ignored"));
            }
        }
        Ok(keys)
    }

    /// Compiles and evaluates the requested segments together.
    pub fn evaluate(&self, requested: &[&Segment], want: Want, notes: &mut Vec<String>) -> Result<Evaluation, EvalError> {
        let wanted: Vec<&str> = requested.iter().map(|s| s.alias.as_str()).collect();
        let order = dependency_order(self.segments, &wanted).map_err(EvalError::Compile)?;
        let mut plan = Plan::new(self.data, self.project);
        let mut errors: Vec<Located> = Vec::new();
        let mut program = Program::default();
        let mut scopes: HashMap<String, Option<usize>> = HashMap::new();
        for s in &order {
            let scope = match &s.scope {
                Some(sc) => match plan.scope(sc) {
                    Ok((id, cand)) => Some((id, cand)),
                    Err(e) => {
                        errors.push((locate_file(s, &e), e));
                        continue;
                    }
                },
                None => None,
            };
            let filter = match &s.filter {
                Some(c) => match plan.cond(c, scope.as_ref().map(|(id, _)| *id)) {
                    Ok(e) => Some(e),
                    Err(e) => {
                        for e in std::iter::once(e).chain(plan.deferred.drain(..).collect::<Vec<_>>()) {
                            errors.push((locate_file(s, &e), e));
                        }
                        continue;
                    }
                },
                None => None,
            };
            let base = match (filter, &scope) {
                (Some(f), Some((_, cand))) => Mask::all(vec![f, Mask::Leaf(cand.clone())]),
                (Some(f), None) => f,
                (None, Some((_, cand))) => Mask::Leaf(cand.clone()),
                (None, None) => Mask::Const(false),
            };
            let mut list = |keys: &KeyList, what: &str| match self.keys(keys, notes, what, &s.alias) {
                Ok(k) => k,
                Err(e) => {
                    errors.push((s.file.clone(), e));
                    Vec::new()
                }
            };
            let include = list(&s.include, "include");
            let exclude = list(&s.exclude, "exclude");
            let keyed = |keys: &[String]| if keys.is_empty() { Mask::Const(false) } else { Mask::Leaf(key_mask(keys)) };
            let members = Mask::all(vec![Mask::any(vec![base, keyed(&include)]), Mask::not(keyed(&exclude))]);
            scopes.insert(s.alias.clone(), scope.map(|(id, _)| id));
            program.push(&member_column(&s.alias), members);
        }
        for s in requested.iter().filter(|s| s.channel == Channel::Sms && self.data.channels.phone.is_none()) {
            let e = CompileError::new("channel", "`channel: sms` needs the project's phone column, and audience.yaml names none")
                .hint("name it under contacts, such as `phone: mobile`, with `phone_region: FR` for numbers written without +");
            errors.push((locate_file(s, &e), e));
        }
        let mut columns: HashMap<String, Vec<OutCol>> = HashMap::new();
        let mut splits: HashMap<String, Expr> = HashMap::new();
        if want.export_columns {
            for s in requested {
                let scope = scopes.get(&s.alias).copied().flatten();
                match self.export_columns(&mut plan, s, scope) {
                    Ok(c) => {
                        columns.insert(s.alias.clone(), c);
                    }
                    Err(e) => errors.extend(e.into_iter().map(|e| (locate_file(s, &e), e))),
                }
                if let Some((field, path)) = &s.export.split_by {
                    match plan.field(field, scope, path) {
                        Ok(r) => {
                            splits.insert(s.alias.clone(), r.expr);
                        }
                        Err(e) => errors.push((locate_file(s, &e), e)),
                    }
                }
            }
        }
        // Unreadable suppress files are reported with the other mistakes.
        let supp = if want.compile_only {
            None
        } else {
            match self.suppress_masks() {
                Ok(s) => Some(s),
                Err(e) => {
                    errors.extend(e);
                    None
                }
            }
        };
        if !errors.is_empty() {
            return Err(EvalError::Compile(errors));
        }
        if want.compile_only {
            return Ok(Evaluation { frame: DataFrame::empty(), results: Vec::new() });
        }

        let started = std::time::Instant::now();
        let features = plan.features()?;
        let mut df = run_in_memory(features)?;
        crate::exec::timing("features", started);
        if plan.needs_rfm {
            let started = std::time::Instant::now();
            let (f, m, r) = plan.rfm_inputs().map_err(|e| EvalError::Compile(vec![(None, e)]))?;
            df = rfm_fields::add_columns(df, self.project, &f, &m, &r)?;
            crate::exec::timing("rfm fields", started);
        }
        let started = std::time::Instant::now();
        let members = program.evaluate(&df)?;
        let member_cols: Vec<Column> = requested.iter().filter_map(|s| members.get(&member_column(&s.alias))).map(|m| m.clone().into_series().into()).collect();
        crate::exec::timing("members", started);

        // The channels' columns: numbers in E.164 (valid mobiles only) and
        // addresses normalised as keys are.
        let ch = &self.data.channels;
        let wants_phone = requested.iter().any(|s| s.channel == Channel::Sms || (want.export_columns && s.export.preset == Some(Preset::Brevo)));
        if let (true, Some(phone)) = (wants_phone, &ch.phone) {
            let started = std::time::Instant::now();
            let region = crate::phone::region(&ch.phone_region).expect("checked with the project");
            let text = df.column(phone)?.cast(&DataType::String)?;
            let numbers: StringChunked = text.str()?.iter().map(|v| v.and_then(|v| crate::phone::mobile_e164(v, region))).collect();
            df.hstack_mut(&[numbers.with_name(PHONE.into()).into_column()])?;
            crate::exec::timing("phone numbers", started);
        }
        if let Some(address) = &ch.address {
            let text = df.column(address)?.cast(&DataType::String)?;
            let normal: StringChunked = text.str()?.iter().map(|v| v.map(crate::text::normalize_email).filter(|v| !v.is_empty())).collect();
            df.hstack_mut(&[normal.with_name(ADDRESS.into()).into_column()])?;
        }
        let consent_ok = self.consent_expr(notes, requested, Channel::Email);
        let sms_consent_ok = self.consent_expr(notes, requested, Channel::Sms);
        let email_pattern = |c: &str| col(c).str().contains(lit(crate::text::EMAIL_PATTERN), true).fill_null(lit(false));
        let valid = match &ch.address {
            Some(_) => email_pattern(ADDRESS),
            None if self.data.email_key => email_pattern(KEY),
            None => lit(true),
        };
        let valid_phone = if wants_phone && ch.phone.is_some() { col(PHONE).is_not_null() } else { lit(false) };
        let supp = match supp {
            Some(s) => s,
            None => self.suppress_masks().map_err(EvalError::Compile)?,
        };
        // Suppression, consent and address checks are the same for every
        // segment: computed once, then combined with each segment's members
        // over bitmaps (one polars expression per segment would cost more
        // to plan than to run when there are thousands).
        let shared = run_in_memory(df.clone().lazy().select([
            supp.all.fill_null(lit(false)).alias("all"),
            supp.marketing.fill_null(lit(false)).alias("marketing"),
            supp.informational.fill_null(lit(false)).alias("informational"),
            consent_ok.fill_null(lit(false)).alias("consent"),
            valid.fill_null(lit(false)).alias("valid"),
            sms_consent_ok.fill_null(lit(false)).alias("sms_consent"),
            valid_phone.fill_null(lit(false)).alias("valid_phone"),
        ]))?;
        let height = df.height();
        let mask = |name: &str| -> PolarsResult<BooleanChunked> {
            let c = shared.column(name)?.bool()?.clone();
            Ok(if c.len() == height { c } else { BooleanChunked::full("".into(), c.get(0).unwrap_or(false), height) })
        };
        let (supp_all, consent_ok, valid) = (mask("all")?, mask("consent")?, mask("valid")?);
        let (sms_consent_ok, valid_phone) = (mask("sms_consent")?, mask("valid_phone")?);
        let phones = df.column(PHONE).ok().map(|c| c.str().cloned()).transpose()?;
        let addresses = df.column(ADDRESS).ok().map(|c| c.str().cloned()).transpose()?;
        let suppressed_for = |p: Purpose| -> PolarsResult<BooleanChunked> {
            let by_purpose = mask(if p == Purpose::Marketing { "marketing" } else { "informational" })?;
            Ok(&supp_all | &by_purpose)
        };
        let (supp_marketing, supp_informational) = (suppressed_for(Purpose::Marketing)?, suppressed_for(Purpose::Informational)?);
        let all_true = BooleanChunked::full("".into(), true, height);
        let trues = |m: &BooleanChunked| m.sum().unwrap_or(0) as u64;
        let mut results = Vec::new();
        let mut recipient_cols = Vec::new();
        for s in requested {
            let Some(m) = members.get(&member_column(&s.alias)) else { continue };
            let sup = if s.purpose == Purpose::Marketing { &supp_marketing } else { &supp_informational };
            let sms = s.channel == Channel::Sms;
            let consent = match (s.purpose, sms) {
                (Purpose::Informational, _) => &all_true,
                (_, false) => &consent_ok,
                (_, true) => &sms_consent_ok,
            };
            let reachable = if sms { &valid_phone } else { &valid };
            let kept = m & &!sup;
            let consenting = &kept & consent;
            let mut rcp = &consenting & reachable;
            let unreachable = trues(&(&consenting & &!reachable));
            let mut counts = Counts {
                members: trues(m),
                suppressed: trues(&(m & sup)),
                no_consent: trues(&(&kept & &!consent)),
                invalid_email: if sms { 0 } else { unreachable },
                ..Counts::default()
            };
            // Recipients whose number (or address) an earlier recipient
            // already has: counted last, so the reasons still add up.
            let same = if sms { phones.as_ref() } else { addresses.as_ref() };
            if let Some(values) = same {
                let dups = repeated(values, &rcp);
                let n = trues(&dups);
                rcp = &rcp & &!&dups;
                if sms {
                    counts.duplicate_phone = Some(n);
                } else {
                    counts.duplicate_email = Some(n);
                }
            }
            if sms {
                counts.invalid_phone = Some(unreachable);
                counts.duplicate_phone.get_or_insert(0);
            }
            counts.recipients = trues(&rcp);
            rcp.rename(recipient_column(&s.alias).as_str().into());
            recipient_cols.push(rcp.into_series().into());
            let group_col = (!s.export.groups.is_empty()).then(|| group_column(&s.alias));
            if let Some(name) = &group_col {
                recipient_cols.push(self.groups(&df, s, name)?);
            }
            results.push(SegmentResult {
                alias: s.alias.clone(),
                counts,
                member_col: member_column(&s.alias),
                recipient_col: recipient_column(&s.alias),
                columns: columns.remove(&s.alias).unwrap_or_default(),
                split: splits.remove(&s.alias),
                group_col,
            });
        }
        drop(members);
        df.hstack_mut(&member_cols)?;
        df.hstack_mut(&recipient_cols)?;
        crate::exec::timing("masks", started);
        Ok(Evaluation { frame: df, results })
    }

    fn consent_expr(&self, notes: &mut Vec<String>, requested: &[&Segment], channel: Channel) -> Expr {
        let column = if channel == Channel::Sms { &self.data.channels.sms_consent } else { &self.data.consent };
        let requested: Vec<&Segment> = requested.iter().copied().filter(|s| s.channel == channel).collect();
        let what = if channel == Channel::Sms {
            "no SMS consent column is set (contacts.consent: {sms: …}); marketing SMS segments are exported without a consent filter"
        } else {
            "no consent column is set (contacts.consent); marketing segments are exported without a consent filter"
        };
        match column {
            Some(c) => {
                let ty = self.data.column_type(c).unwrap_or(FieldType::Text);
                let leaf = crate::segment::ast::Leaf {
                    field: c.clone(),
                    op: crate::segment::ast::Op::IsTrue,
                    value: None,
                    case_sensitive: false,
                    path: String::new(),
                };
                crate::segment::compile::leaf_expr(col(c.as_str()), ty, c, &leaf, self.project.as_of).unwrap_or(lit(false))
            }
            None => {
                if requested.iter().any(|s| s.purpose == Purpose::Marketing) {
                    notes.push(what.into());
                }
                lit(true)
            }
        }
    }

    /// The keys of every suppress file; one that cannot be read is an error
    /// at its entry in audience.yaml.
    pub fn suppress_masks(&self) -> Result<SuppressMasks, Vec<Located>> {
        let mut all = Vec::new();
        let mut marketing = Vec::new();
        let mut informational = Vec::new();
        let mut errors = Vec::new();
        for s in &self.project.suppress {
            let keys = match read_key_list(&s.path, self.data, &self.project.csv) {
                Ok(k) => k,
                Err(e) => {
                    errors.push((
                        None,
                        CompileError::new(&s.at, format!("cannot read the suppress file: {e:#}")).hint("the path is relative to the folder of audience.yaml"),
                    ));
                    continue;
                }
            };
            match s.purpose {
                None => all.extend(keys),
                Some(Purpose::Marketing) => marketing.extend(keys),
                Some(Purpose::Informational) => informational.extend(keys),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mask = |keys: &[String]| match &self.data.channels.address {
            // Suppress files may list keys or addresses.
            Some(_) if !keys.is_empty() => {
                let addresses: Vec<String> = keys.iter().map(|k| crate::text::normalize_email(k)).collect();
                key_mask(keys).or(crate::segment::compile::in_set(col(ADDRESS), addresses).fill_null(lit(false)))
            }
            _ => key_mask(keys),
        };
        Ok(SuppressMasks { all: mask(&all), marketing: mask(&marketing), informational: mask(&informational) })
    }

    /// Each contact's test group, by the MD5 rule of [`crate::groups`].
    fn groups(&self, df: &DataFrame, s: &Segment, name: &str) -> PolarsResult<Column> {
        let salt = s.export.groups_salt.as_deref().unwrap_or(&s.alias);
        let shares: Vec<u32> = s.export.groups.iter().map(|g| g.basis_points).collect();
        let keys = df.column(KEY)?.str()?;
        let names: StringChunked =
            keys.iter().map(|k| k.map(|k| s.export.groups[crate::groups::pick(&shares, crate::groups::bucket(salt, k))].name.as_str())).collect();
        Ok(names.with_name(name.into()).into_column())
    }

    /// The columns of a segment's list, headed as exported: a preset's
    /// first, then `export.columns` (every contact column without it),
    /// then `rename` over the headers. Every problem is reported.
    fn export_columns(&self, plan: &mut Plan, s: &Segment, scope: Option<usize>) -> Result<Vec<OutCol>, Vec<CompileError>> {
        let ex = &s.export;
        let mut errors = Vec::new();
        let preset = match ex.preset {
            Some(p) => match self.preset_columns(p, s) {
                Ok(cols) => Some(cols),
                Err(e) => {
                    errors.extend(e);
                    None
                }
            },
            None => None,
        };
        let ch = &self.data.channels;
        let names: Vec<(String, String)> = match (&ex.columns, &preset) {
            (Some(c), _) => c.clone(),
            // A preset alone exports its own columns.
            (None, Some(_)) => Vec::new(),
            (None, None) => {
                let mut all: Vec<(String, String)> = self.data.columns.iter().map(|(n, _)| (n.clone(), String::new())).collect();
                // An address apart from the key comes right after it.
                if let Some(at) = ch.address.as_ref().and_then(|a| all.iter().position(|(n, _)| n == a)) {
                    let address = all.remove(at);
                    all.insert(1.min(all.len()), address);
                }
                all
            }
        };
        let mut out: Vec<OutCol> = Vec::new();
        let mut rest: Vec<OutCol> = Vec::new();
        let used: Vec<String> = preset.as_ref().map(|p| p.sources.clone()).unwrap_or_default();
        for (name, path) in &names {
            // A preset already carries the key and its name columns.
            if used.contains(name) {
                continue;
            }
            let expr = if name == "group" && !ex.groups.is_empty() {
                col(group_column(&s.alias).as_str())
            } else if s.channel == Channel::Sms && ch.phone.as_ref() == Some(name) {
                // SMS lists carry the number as the platform sends to it.
                col(PHONE)
            } else if ch.address.as_ref() == Some(name) {
                col(ADDRESS)
            } else {
                match plan.field(name, scope, path) {
                    Ok(r) => r.expr,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                }
            };
            rest.push(OutCol::expr(name.clone(), expr));
        }
        match preset {
            Some(p) if p.attributes => {
                out.extend(p.columns);
                out.push(OutCol { header: "attributes".into(), value: OutValue::Json(rest) });
            }
            Some(p) => {
                out.extend(p.columns);
                out.extend(rest);
            }
            None => out = rest,
        }
        for (from, to) in &ex.rename {
            match out.iter_mut().find(|c| c.header == *from) {
                Some(c) => c.header = to.clone(),
                None => errors.push(
                    CompileError::new(&format!("export.rename.{from}"), format!("`rename` names `{from}`, which is not an exported column"))
                        .hint("rename keys must be columns listed in export.columns (or contact columns when it is absent), or a preset's headers"),
                ),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    /// The columns a mailer preset puts first, and the contact columns they
    /// draw on. A name without a source is an error at `export.preset`.
    fn preset_columns(&self, preset: Preset, s: &Segment) -> Result<PresetColumns, Vec<CompileError>> {
        let ex = &s.export;
        let mut errors = Vec::new();
        let mut sources = vec![self.data.key_column.clone()];
        sources.extend(self.data.channels.address.clone());
        let mut source = |name: &str, required: bool, errors: &mut Vec<CompileError>| -> Option<Expr> {
            let (column, path) = match ex.preset_columns.iter().find(|(n, _, _)| n == name) {
                Some((_, c, p)) => (c.clone(), p.clone()),
                None => (name.to_string(), "export.preset".to_string()),
            };
            if self.data.column_type(&column).is_some() {
                sources.push(column.clone());
                return Some(col(column.as_str()));
            }
            if required {
                let said =
                    if path == "export.preset" { format!("no contacts column is called `{name}`") } else { format!("the contacts have no column `{column}`") };
                let names: Vec<&str> = self.data.columns.iter().map(|(n, _)| n.as_str()).collect();
                let hint = if path == "export.preset" {
                    format!("name the contacts column that holds it in `export.preset_columns: {{{name}: …}}`")
                } else {
                    crate::diag::did_you_mean(&column, names.iter().copied()).unwrap_or_else(|| format!("contacts columns: {}", names.join(", ")))
                };
                errors.push(CompileError::new(&path, format!("preset `{}` needs a {name} column, and {said}", preset_name(preset))).hint(hint));
            }
            None
        };
        let email = if self.data.channels.address.is_some() { col(ADDRESS) } else { col(self.data.key_column.as_str()) };
        let mut columns = Vec::new();
        let mut attributes = false;
        match preset {
            Preset::Mailchimp | Preset::Brevo => {
                let first = source("first_name", true, &mut errors);
                let last = source("last_name", true, &mut errors);
                let heads = if preset == Preset::Mailchimp { ["Email Address", "First Name", "Last Name"] } else { ["EMAIL", "FIRSTNAME", "LASTNAME"] };
                if let (Some(first), Some(last)) = (first, last) {
                    columns = vec![OutCol::expr(heads[0].into(), email), OutCol::expr(heads[1].into(), first), OutCol::expr(heads[2].into(), last)];
                    // Brevo takes the mobile number too, in E.164.
                    if let (Preset::Brevo, Some(phone)) = (preset, &self.data.channels.phone) {
                        columns.push(OutCol::expr("SMS".into(), col(PHONE)));
                        sources.push(phone.clone());
                    }
                }
            }
            Preset::Listmonk => {
                let name = match source("name", false, &mut errors) {
                    Some(n) => Some(OutValue::Expr(n)),
                    None => {
                        let first = source("first_name", true, &mut errors);
                        let last = source("last_name", true, &mut errors);
                        match (first, last) {
                            (Some(f), Some(l)) => Some(OutValue::Joined(vec![OutCol::expr("first".into(), f), OutCol::expr("last".into(), l)])),
                            _ => None,
                        }
                    }
                };
                if let Some(name) = name {
                    columns = vec![OutCol::expr("email".into(), email), OutCol { header: "name".into(), value: name }];
                }
                attributes = true;
            }
        }
        if errors.is_empty() {
            Ok(PresetColumns { columns, sources, attributes })
        } else {
            Err(errors)
        }
    }
}

/// A preset's leading columns, the contact columns behind them, and whether
/// the other columns go into one JSON `attributes` column.
struct PresetColumns {
    columns: Vec<OutCol>,
    sources: Vec<String>,
    attributes: bool,
}

fn preset_name(p: Preset) -> &'static str {
    crate::segment::ast::PRESETS.iter().find(|(_, q)| *q == p).map(|(n, _)| *n).unwrap_or("?")
}

pub struct SuppressMasks {
    all: Expr,
    marketing: Expr,
    informational: Expr,
}

/// Which file a compile error belongs to: project-level definitions (metrics,
/// tables, rfm) are in audience.yaml.
pub fn locate_file(s: &Segment, e: &CompileError) -> Option<PathBuf> {
    if ["metrics.", "tables.", "rfm."].iter().any(|p| e.path.starts_with(p)) {
        None
    } else {
        s.file.clone()
    }
}

/// Recipients whose value repeats an earlier recipient's, in contacts order.
fn repeated(values: &StringChunked, recipients: &BooleanChunked) -> BooleanChunked {
    let mut seen: HashSet<&str> = HashSet::new();
    values.iter().zip(recipients.iter()).map(|(v, r)| Some(r == Some(true) && v.is_some_and(|v| !seen.insert(v)))).collect()
}
