//! Writes the cloud assembly of a dev-like, a prod-like and a caller's-key `SecureNetwork` to a directory, for
//! `scripts/lint-templates` and for deploying to a CloudFormation emulator.
//!
//! Usage: `cargo run -p pantri-constructs --example network -- DIR`

use std::path::PathBuf;
use std::process::ExitCode;

use pantri_constructs::network::{self, InterfaceEndpoint, NatGateways, SecureNetworkProps};
use pantri_constructs::{Naming, Removal};
use pantri_synth::{synthesize, App, Environment, StackProps, SynthOptions};

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: network DIR");
        return ExitCode::from(2);
    };
    let mut app = App::new();
    let mut root = app.root();
    for (stage, zones, nat, endpoints, removal) in [
        (
            "dev",
            &["us-east-1a", "us-east-1b"][..],
            NatGateways::Single,
            Vec::new(),
            Removal::Destroy,
        ),
        (
            "prod",
            &["us-east-1a", "us-east-1b", "us-east-1c"][..],
            NatGateways::PerAz,
            InterfaceEndpoint::ALL.to_vec(),
            Removal::Retain,
        ),
    ] {
        let mut st = root.stage(stage, Environment::new("123456789012", "us-east-1"));
        let mut stack = st.stack("Network", StackProps::default());
        let Ok(naming) = Naming::new("pantri", stage) else {
            unreachable!("dev and prod are names");
        };
        network::SecureNetwork::new(
            &mut stack,
            "Network",
            &naming,
            zones,
            SecureNetworkProps {
                nat_gateways: nat,
                interface_endpoints: endpoints,
                removal,
                ..SecureNetworkProps::default()
            },
        );
    }
    // A network whose flow-log group uses a key of the caller's, not one of its own.
    let Ok(shared) = Naming::new("pantri", "shared-key") else {
        unreachable!("shared-key is a name");
    };
    let mut st = root.stage("shared-key", Environment::new("123456789012", "eu-west-1"));
    let mut stack = st.stack("Network", StackProps::default());
    network::SecureNetwork::new(
        &mut stack,
        "Network",
        &shared,
        &["eu-west-1a", "eu-west-1b"],
        SecureNetworkProps {
            flow_log_key_arn: Some(
                "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                    .into(),
            ),
            ..SecureNetworkProps::default()
        },
    );
    match synthesize(&app, &SynthOptions::default()).and_then(|s| s.assembly.write(&dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
