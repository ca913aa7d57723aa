//! `audience count`: members, recipients and the reasons between them.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Common, TableFormat};
use crate::engine::Want;
use crate::session::Session;

pub fn run(common: &Common, aliases: &[String], format: TableFormat) -> Result<ExitCode> {
    let session = Session::open(common)?;
    let requested = session.select(aliases)?;
    let data = session.load_data()?;
    data.notes.print();
    let eval = session.evaluate(&data, &requested, Want::default())?;
    super::CountTable::new(&session, &eval.results).print(format)?;
    Ok(ExitCode::SUCCESS)
}
