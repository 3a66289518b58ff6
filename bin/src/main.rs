//! The `pantri` binary: the CLI over the Pantri reference app.

fn main() -> std::process::ExitCode {
    pantri::cli::main_with(pantri::app::build)
}
