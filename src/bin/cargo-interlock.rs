//! `cargo interlock ...`: cargo runs this as `cargo-interlock interlock ...`.
fn main() {
    std::process::exit(interlock::cli::main(std::env::args_os()));
}
