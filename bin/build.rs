//! Links the pantri binaries on Linux as position-dependent executables (`-no-pie`).
//!
//! A position-independent executable is relocated by the loader at every start: pantri's
//! 86,000 relative relocations touched about 450 pages and took 1.1 M instructions, 1.5 ms of
//! the reference app's 12 ms synthesis on a 2-core machine (README, Performance). Linked at
//! a fixed address, the binary has none. The cost is that its own code and data do not move
//! between runs (the heap, the stack and the shared libraries still do): pantri is safe Rust
//! run on its user's own files and AWS's answers. `PANTRI_PIE=1` at build time links a PIE
//! as usual, for a distribution or a scanner that requires one.

fn main() {
    println!("cargo::rerun-if-env-changed=PANTRI_PIE");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if linux && std::env::var_os("PANTRI_PIE").is_none() {
        // The binaries only: the libraries and tests link as usual.
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
