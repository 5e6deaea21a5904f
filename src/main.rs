fn main() {
    std::process::exit(interlock::cli::main(std::env::args_os()));
}
