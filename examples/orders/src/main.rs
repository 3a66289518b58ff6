//! `orders`: the pantri command line over this app (`cargo run -p orders -- synth`).

fn main() -> std::process::ExitCode {
    pantri::cli::main_with(orders::build)
}
