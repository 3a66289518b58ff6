//! The example app synthesizes from the public API alone, and says what it means: a public API
//! behind TLS, a worker nothing can reach, grants that name exactly the queue, table and key.

use pantri::cli::AppContext;
use pantri_synth::{synthesize, SynthOptions};
use serde_json::Value;

fn templates() -> Vec<(String, Value)> {
    let app = orders::build(&AppContext {
        stages_dir: "stages".into(),
    })
    .expect("build");
    let synthesis = synthesize(&app, &SynthOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    synthesis
        .assembly
        .stacks()
        .expect("stacks")
        .into_iter()
        .map(|s| (s.id, s.template))
        .collect()
}

fn of_type<'a>(t: &'a Value, type_name: &str) -> Vec<(&'a String, &'a Value)> {
    t["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == type_name)
        .collect()
}

#[test]
fn both_stages_synthesize_three_stacks_each() {
    let ids: Vec<String> = templates().into_iter().map(|(id, _)| id).collect();
    assert_eq!(
        ids,
        [
            "dev-Network",
            "dev-Data",
            "dev-Service",
            "prod-Network",
            "prod-Data",
            "prod-Service"
        ]
    );
}

#[test]
fn the_api_is_public_over_tls_and_the_worker_has_no_way_in() {
    for (id, t) in templates()
        .iter()
        .filter(|(id, _)| id.ends_with("-Service"))
    {
        // One load balancer (the API's), whose listener forwards HTTPS.
        assert_eq!(
            of_type(t, "AWS::ElasticLoadBalancingV2::LoadBalancer").len(),
            1,
            "{id}"
        );
        let listeners = of_type(t, "AWS::ElasticLoadBalancingV2::Listener");
        assert_eq!(listeners.len(), 1, "{id}");
        assert_eq!(listeners[0].1["Properties"]["Protocol"], "HTTPS");
        assert_eq!(
            listeners[0].1["Properties"]["DefaultActions"][0]["Type"],
            "forward"
        );
        // Two services; only the API's has a load balancer.
        let services = of_type(t, "AWS::ECS::Service");
        assert_eq!(services.len(), 2, "{id}");
        let behind_lb: Vec<&String> = services
            .iter()
            .filter(|(_, s)| !s["Properties"]["LoadBalancers"].is_null())
            .map(|(sid, _)| *sid)
            .collect();
        assert_eq!(behind_lb.len(), 1, "{id}");
        assert!(behind_lb[0].starts_with("Api"), "{behind_lb:?}");
        // The worker's group admits nothing, and no rule pair points at it.
        let (_, worker_sg) = of_type(t, "AWS::EC2::SecurityGroup")
            .into_iter()
            .find(|(sid, _)| sid.starts_with("Worker"))
            .expect("worker group");
        assert!(worker_sg["Properties"]["SecurityGroupIngress"].is_null());
        for (_, rule) in of_type(t, "AWS::EC2::SecurityGroupIngress") {
            let target = rule["Properties"]["GroupId"].to_string();
            assert!(!target.contains("Worker"), "{rule}");
        }
    }
}

#[test]
fn grants_name_the_queue_table_and_key_and_no_wildcard_action() {
    let all = templates();
    let (_, t) = all
        .iter()
        .find(|(id, _)| id == "prod-Service")
        .expect("prod-Service");
    let policies = of_type(t, "AWS::IAM::Policy");
    // One default policy per task role: the API's and the worker's.
    assert_eq!(policies.len(), 2);
    for (pid, p) in policies {
        let statements = p["Properties"]["PolicyDocument"]["Statement"]
            .as_array()
            .expect("statements");
        assert_eq!(statements.len(), 3, "{pid}");
        for st in statements {
            let text = st.to_string();
            assert!(!st["Action"].to_string().contains('*'), "{pid}: {text}");
            // Every resource is an import from the Data stack: nothing is "*".
            assert!(text.contains("Fn::ImportValue"), "{pid}: {text}");
            assert!(
                !st["Resource"].to_string().contains("\"*\""),
                "{pid}: {text}"
            );
        }
        let actions = p["Properties"]["PolicyDocument"].to_string();
        if pid.starts_with("Worker") {
            assert!(actions.contains("sqs:DeleteMessage") && actions.contains("dynamodb:PutItem"));
            assert!(!actions.contains("sqs:SendMessage"));
        } else {
            assert!(actions.contains("sqs:SendMessage") && actions.contains("dynamodb:GetItem"));
            assert!(
                !actions.contains("dynamodb:PutItem") && !actions.contains("sqs:DeleteMessage")
            );
        }
    }
}

/// The app's binary takes pantri's build script (Cargo.toml `build`), so it is linked at a fixed
/// address as `pantri` is: no relocations for the loader at every start.
#[cfg(target_os = "linux")]
#[test]
fn the_binary_is_linked_as_pantri_is() {
    let bytes = std::fs::read(env!("CARGO_BIN_EXE_orders")).expect("the orders binary");
    assert_eq!(&bytes[..4], b"\x7fELF");
    // e_type, at 16: 2 is an executable at a fixed address, 3 a shared object (a PIE).
    let kind = u16::from_le_bytes([bytes[16], bytes[17]]);
    let expected = if std::env::var_os("PANTRI_PIE").is_some() {
        3
    } else {
        2
    };
    assert_eq!(
        kind,
        expected,
        "PANTRI_PIE: {:?}",
        std::env::var_os("PANTRI_PIE")
    );
}
