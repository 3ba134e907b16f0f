//! `cfinv statemachine`: the definition with its placeholders filled, for validators and for
//! deploying it by hand (the SAM template fills the same placeholders through
//! `DefinitionSubstitutions`).

use std::collections::BTreeMap;

use cfinv_pipeline::statemachine::{render, RenderError, DEFINITION};
use clap::Args;

#[derive(Args, Debug)]
pub struct StatemachineArgs {
    /// A placeholder's value, as NAME=VALUE (repeatable); the function ARNs are required, the
    /// numbers have defaults (see statemachine/README.md).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StatemachineError {
    #[error("--set {0:?}: expected NAME=VALUE")]
    BadSet(String),
    #[error("{0}")]
    Render(#[from] RenderError),
}

pub fn run(args: &StatemachineArgs) -> Result<(), StatemachineError> {
    let mut values = BTreeMap::new();
    for s in &args.set {
        let (k, v) =
            s.split_once('=').filter(|(k, _)| !k.is_empty()).ok_or_else(|| StatemachineError::BadSet(s.clone()))?;
        values.insert(k.to_owned(), v.to_owned());
    }
    println!("{}", render(DEFINITION, &values)?);
    Ok(())
}
