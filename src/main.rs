//! The `ivcd` binary: everything lives in the library; see `ivcd::cli`.

fn main() -> std::process::ExitCode {
    ivcd::cli::main()
}
