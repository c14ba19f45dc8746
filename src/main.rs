//! The `searchlight` binary: parse arguments, run, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    searchlight::cli::main()
}
