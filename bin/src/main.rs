//! The `pantri` binary: the CLI over the Pantri reference app.

#[global_allocator]
static ALLOCATOR: pantri::Allocator = pantri::Allocator;

fn main() -> std::process::ExitCode {
    pantri::cli::main_with(pantri::app::build)
}
