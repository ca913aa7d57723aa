//! One evaluation, end to end: the requested segments (and those they refer
//! to) resolved into a plan, then the plan run on the polars backend.

use crate::backend;
use crate::load::Dataset;
use crate::plan::{self, Plan, Request};
use crate::project::Project;
use crate::segment::ast::Segment;

pub use crate::backend::polars::{Counts, Evaluation, OutCol, OutValue, SegmentResult};
pub use crate::plan::{dependency_order, Located};
pub use crate::types::{member_column, recipient_column};

pub enum EvalError {
    /// Problems in the definitions, each at its place.
    Compile(Vec<Located>),
    Other(anyhow::Error),
}

/// What to compute beyond counts.
#[derive(Default, Clone, Copy)]
pub struct Want {
    pub export_columns: bool,
    /// Stop once the plan resolves: `check` wants the errors, not the data.
    pub compile_only: bool,
}

pub struct Context<'a> {
    pub project: &'a Project,
    pub data: &'a Dataset,
    /// Every segment a reference may name.
    pub segments: &'a [Segment],
}

impl Context<'_> {
    /// The plan of the requested segments.
    pub fn plan(&self, requested: &[&Segment], want: Want, notes: &mut Vec<String>) -> Result<Plan, Vec<Located>> {
        let request = Request { export_columns: want.export_columns, suppress: !want.compile_only };
        plan::resolve(self.project, self.data, self.segments, requested, request, notes)
    }

    /// Resolves and evaluates the requested segments together.
    pub fn evaluate(&self, requested: &[&Segment], want: Want, notes: &mut Vec<String>) -> Result<Evaluation, EvalError> {
        let plan = self.plan(requested, want, notes).map_err(EvalError::Compile)?;
        if want.compile_only {
            return Ok(Evaluation { frame: polars::prelude::DataFrame::empty(), results: Vec::new() });
        }
        backend::polars::evaluate(&plan, self.data, self.project).map_err(EvalError::Other)
    }
}
