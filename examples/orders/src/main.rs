//! `orders`: the pantri command line over this app (`cargo run -p orders -- synth`).

#[global_allocator]
static ALLOCATOR: pantri::Allocator = pantri::Allocator;

fn main() -> std::process::ExitCode {
    pantri::cli::main_with(orders::build)
}
