//! `interlock explain KIND` (in progress).
use clap::Args;
use super::Failure;
pub const AFTER_HELP: &str = "";
#[derive(Args, Debug)]
pub struct ExplainArgs { pub kind: String }
pub fn run(_args: &ExplainArgs) -> Result<i32, Failure> { Ok(0) }
