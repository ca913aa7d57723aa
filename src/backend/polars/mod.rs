//! The plan run on polars: the feature table (one aggregation pass per
//! export), the masks of every segment over bitmaps, then suppression,
//! consent and reachability, giving each requested segment its recipients,
//! counts and list columns.

pub mod cluster;
pub mod features;
pub mod lower;
pub mod masks;
pub mod rfm;

use std::collections::HashSet;

use polars::prelude::*;

use crate::exec::run_in_memory;
use crate::load::{Dataset, KEY};
use crate::plan::{Column as PlanColumn, ColumnValue, Plan, SegmentPlan, Suppress};
use crate::project::Project;
use crate::segment::ast::{Channel, Purpose};
use crate::types::columns::{ADDRESS, PHONE};
use crate::types::{group_column, member_column, recipient_column};
use lower::{in_set, key_mask, Lower};
use masks::Program;

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

/// The feature table of `plan`: the contacts, every aggregate, and the RFM
/// and cluster columns when the plan has their inputs.
pub fn feature_table(plan: &Plan, data: &Dataset, project: &Project, lower: &Lower) -> anyhow::Result<DataFrame> {
    let admitted = plan.clusters.as_ref().map(|c| cluster::admitted(c, lower)).transpose()?;
    let started = std::time::Instant::now();
    let mut df = run_in_memory(features::features(plan, data, lower)?)?;
    crate::exec::timing("features", started);
    if let Some(inputs) = plan.rfm {
        let started = std::time::Instant::now();
        df = rfm::add_columns(df, project, inputs)?;
        crate::exec::timing("rfm fields", started);
    }
    if let (Some(inputs), Some(cfg), Some(admitted)) = (&plan.clusters, &project.clusters, admitted) {
        let started = std::time::Instant::now();
        let clustered = cluster::fit(&df, inputs, cfg, lower, admitted)?;
        df = cluster::add_column(df, &clustered)?;
        crate::exec::timing("clusters", started);
    }
    Ok(df)
}

/// Runs `plan` over `data`.
pub fn evaluate(plan: &Plan, data: &Dataset, project: &Project) -> anyhow::Result<Evaluation> {
    let lower = Lower::new(plan);
    // Members first: their leaves name the folded columns the features need.
    let mut program = Program::default();
    for s in &plan.segments {
        program.push(&member_column(&s.alias), lower.mask(&s.members)?);
    }
    let consent_ok = consent(&lower, plan.consent.as_ref())?;
    let sms_consent_ok = consent(&lower, plan.sms_consent.as_ref())?;
    let mut df = feature_table(plan, data, project, &lower)?;
    let started = std::time::Instant::now();
    let members = program.evaluate(&df)?;
    let requested: Vec<&SegmentPlan> = plan.requested().collect();
    let member_cols: Vec<Column> = requested.iter().filter_map(|s| members.get(&member_column(&s.alias))).map(|m| m.clone().into_series().into()).collect();
    crate::exec::timing("members", started);

    // The channels' columns: numbers in E.164 (valid mobiles only) and
    // addresses normalised as keys are.
    let ch = &data.channels;
    let wants_phone = requested.iter().any(|s| s.channel == Channel::Sms || s.export.as_ref().is_some_and(|e| uses_phone(&e.columns)));
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
    let email_pattern = |c: &str| col(c).str().contains(lit(crate::text::EMAIL_PATTERN), true).fill_null(lit(false));
    let valid = match &ch.address {
        Some(_) => email_pattern(ADDRESS),
        None if data.email_key => email_pattern(KEY),
        None => lit(true),
    };
    let valid_phone = if wants_phone && ch.phone.is_some() { col(PHONE).is_not_null() } else { lit(false) };
    let supp = suppress_masks(&plan.suppress, data);
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
    for s in &requested {
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
        let group_col = (!s.groups.is_empty()).then(|| group_column(&s.alias));
        if let Some(name) = &group_col {
            recipient_cols.push(groups(&df, s, name)?);
        }
        let (columns, split) = match &s.export {
            Some(e) => (e.columns.iter().map(|c| out_col(&lower, &s.alias, c)).collect(), e.split.as_ref().map(|v| lower.value(v))),
            None => (Vec::new(), None),
        };
        results.push(SegmentResult {
            alias: s.alias.clone(),
            counts,
            member_col: member_column(&s.alias),
            recipient_col: recipient_column(&s.alias),
            columns,
            split,
            group_col,
        });
    }
    drop(members);
    df.hstack_mut(&member_cols)?;
    df.hstack_mut(&recipient_cols)?;
    crate::exec::timing("masks", started);
    Ok(Evaluation { frame: df, results })
}

fn uses_phone(columns: &[PlanColumn]) -> bool {
    columns.iter().any(|c| match &c.value {
        ColumnValue::Phone => true,
        ColumnValue::Json(cs) | ColumnValue::Joined(cs) => uses_phone(cs),
        _ => false,
    })
}

fn out_col(lower: &Lower, alias: &str, c: &PlanColumn) -> OutCol {
    let value = match &c.value {
        ColumnValue::Field(v) => OutValue::Expr(lower.value(v)),
        ColumnValue::Phone => OutValue::Expr(col(PHONE)),
        ColumnValue::Address => OutValue::Expr(col(ADDRESS)),
        ColumnValue::Group => OutValue::Expr(col(group_column(alias).as_str())),
        ColumnValue::Json(cs) => OutValue::Json(cs.iter().map(|c| out_col(lower, alias, c)).collect()),
        ColumnValue::Joined(cs) => OutValue::Joined(cs.iter().map(|c| out_col(lower, alias, c)).collect()),
    };
    OutCol { header: c.header.clone(), value }
}

/// A channel's consent over the contacts; everyone consents when the
/// project names no consent column.
fn consent(lower: &Lower, leaf: Option<&crate::plan::Leaf>) -> PolarsResult<Expr> {
    match leaf {
        Some(l) => lower.leaf(l, ""),
        None => Ok(lit(true)),
    }
}

struct SuppressMasks {
    all: Expr,
    marketing: Expr,
    informational: Expr,
}

fn suppress_masks(s: &Suppress, data: &Dataset) -> SuppressMasks {
    let mask = |sets: &[crate::plan::KeySet]| {
        let keys = crate::plan::all_keys(sets);
        match &data.channels.address {
            // Suppress files may list keys or addresses.
            Some(_) if !keys.is_empty() => {
                let addresses: Vec<String> = keys.iter().map(|k| crate::text::normalize_email(k)).collect();
                key_mask(&keys).or(in_set(col(ADDRESS), addresses).fill_null(lit(false)))
            }
            _ => key_mask(&keys),
        }
    };
    SuppressMasks { all: mask(&s.all), marketing: mask(&s.marketing), informational: mask(&s.informational) }
}

/// Each contact's test group, by the MD5 rule of [`crate::groups`].
fn groups(df: &DataFrame, s: &SegmentPlan, name: &str) -> PolarsResult<Column> {
    let shares: Vec<u32> = s.groups.iter().map(|g| g.basis_points).collect();
    let keys = df.column(KEY)?.str()?;
    let names: StringChunked =
        keys.iter().map(|k| k.map(|k| s.groups[crate::groups::pick(&shares, crate::groups::bucket(&s.groups_salt, k))].name.as_str())).collect();
    Ok(names.with_name(name.into()).into_column())
}

/// Recipients whose value repeats an earlier recipient's, in contacts order.
fn repeated(values: &StringChunked, recipients: &BooleanChunked) -> BooleanChunked {
    let mut seen: HashSet<&str> = HashSet::new();
    values.iter().zip(recipients.iter()).map(|(v, r)| Some(r == Some(true) && v.is_some_and(|v| !seen.insert(v)))).collect()
}
