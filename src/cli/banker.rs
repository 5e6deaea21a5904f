//! `interlock banker FILE.toml` (in progress).
use clap::Args;
use super::Failure;
pub const AFTER_HELP: &str = "";
#[derive(Args, Debug)]
pub struct BankerArgs { pub file: std::path::PathBuf }
pub fn run(_args: &BankerArgs) -> Result<i32, Failure> { Ok(0) }
