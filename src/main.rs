//! The `pathshala` command: parse the command line and hand over to the library.

fn main() -> std::process::ExitCode {
    pathshala::cli::main()
}
