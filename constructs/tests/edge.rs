//! Edge, GlobalCertificate and EdgeWebAcl: a one-region snapshot, the cross-region layout (stage
//! in ap-northeast-1, certificate and web ACL in us-east-1), and the intent a reviewer checks
//! (TLS everywhere, the static bucket readable by this distribution only, no plaintext secret).

use pantri_constructs::dns::{HostedZone, HostedZoneProps};
use pantri_constructs::edge::{
    Edge, EdgeInputs, EdgeProps, EdgeWebAcl, EdgeWebAclProps, GlobalCertificate,
    GlobalCertificateProps, PriceClass,
};
use pantri_constructs::storage::{LogBucket, LogBucketProps, StaticBucket, StaticBucketProps};
use pantri_constructs::testing::fixtures::bucket;
use pantri_constructs::testing::{
    app_with_stack, errors, resources_of_type, template, templates, ACCOUNT,
};
use pantri_constructs::{HostedZoneRef, Naming, Removal, SecretRef};
use pantri_synth::{synthesize, App, Environment, Scope, StackProps, Str};
use serde_json::{json, Value};

/// Stage `stage` of app `pantri`.
fn naming(stage: &str) -> Naming {
    Naming::new("pantri", stage).expect("a valid stage")
}

/// With `PANTRI_LINT_OUT` set, writes the app's cloud assembly to `$PANTRI_LINT_OUT/<name>`
/// for `scripts/lint-templates`.
fn write_for_lint(name: &str, app: &App) {
    if let Ok(dir) = std::env::var("PANTRI_LINT_OUT") {
        let synthesis = synthesize(app, &Default::default()).expect("synth");
        synthesis
            .assembly
            .write(&std::path::Path::new(&dir).join(name))
            .expect("write assembly");
    }
}

const SECRET_NAME: &str = "pantri/prod/origin-verify";

fn origin_secret() -> SecretRef {
    SecretRef {
        arn: Str::from(format!(
            "arn:aws:secretsmanager:ap-northeast-1:{ACCOUNT}:secret:{SECRET_NAME}-AbCdEf"
        )),
        name: SECRET_NAME.to_owned(),
    }
}

/// Adds buckets and the edge to `s`, given the zone and the us-east-1 pieces' ARNs.
fn buckets_and_edge(
    s: &mut Scope<'_>,
    zone: pantri_constructs::HostedZoneRef,
    certificate_arn: Str,
    web_acl_arn: Str,
    removal: Removal,
) -> Edge {
    let logs = LogBucket::new(
        s,
        "Logs",
        LogBucketProps {
            removal,
            ..LogBucketProps::default()
        },
    );
    let assets = StaticBucket::new(
        s,
        "Static",
        &logs.bucket_ref(),
        StaticBucketProps {
            removal,
            ..StaticBucketProps::default()
        },
    );
    Edge::new(
        s,
        "Edge",
        EdgeInputs {
            naming: naming("prod"),
            domain_name: "example.com".to_owned(),
            hosted_zone: zone,
            alb_domain_name: Str::from("origin.example.com"),
            static_bucket: assets.bucket_ref(),
            log_bucket: logs.bucket_ref(),
            origin_secret: origin_secret(),
            certificate_arn,
        },
        EdgeProps {
            web_acl_arn: Some(web_acl_arn),
            price_class: PriceClass::Class200,
            ..EdgeProps::default()
        },
    )
}

/// Everything in one us-east-1 stack.
fn one_region_app() -> App {
    app_with_stack("us-east-1", |s| {
        let zone = HostedZone::new(s, "Zone", "example.com", HostedZoneProps::default());
        let cert = GlobalCertificate::new(
            s,
            "Certificate",
            "example.com",
            &zone.zone_ref(),
            GlobalCertificateProps::default(),
        );
        let acl = EdgeWebAcl::new(s, "WebAcl", &naming("prod"), EdgeWebAclProps::default());
        buckets_and_edge(s, zone.zone_ref(), cert.arn(), acl.arn(), Removal::Retain);
    })
}

/// The stage in ap-northeast-1: zone in its own stack, certificate and web ACL in a us-east-1
/// stack, buckets and distribution in the stage's region.
fn cross_region_app() -> App {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("test", Environment::new(ACCOUNT, "ap-northeast-1"));
    let zone = {
        let mut s = stage.stack("Zone", StackProps::default());
        HostedZone::new(
            &mut s,
            "Zone",
            "example.com",
            HostedZoneProps {
                removal: Removal::Destroy,
                ..HostedZoneProps::default()
            },
        )
        .zone_ref()
    };
    let (cert, acl) = {
        let mut s = stage.stack(
            "Global",
            StackProps {
                env: Some(Environment::new(ACCOUNT, "us-east-1")),
                ..StackProps::default()
            },
        );
        let cert = GlobalCertificate::new(
            &mut s,
            "Certificate",
            "example.com",
            &zone,
            GlobalCertificateProps::default(),
        );
        let acl = EdgeWebAcl::new(
            &mut s,
            "WebAcl",
            &naming("test"),
            EdgeWebAclProps::default(),
        );
        (cert.arn(), acl.arn())
    };
    let mut s = stage.stack("Edge", StackProps::default());
    buckets_and_edge(&mut s, zone, cert, acl, Removal::Destroy);
    app
}

fn distribution_config(t: &Value) -> Value {
    let found = resources_of_type(t, "AWS::CloudFront::Distribution");
    assert_eq!(found.len(), 1);
    found[0].1["Properties"]["DistributionConfig"].clone()
}

fn logical_id_with_prefix<'a>(t: &'a Value, prefix: &str) -> &'a str {
    t["Resources"]
        .as_object()
        .and_then(|m| m.keys().find(|k| k.starts_with(prefix)))
        .unwrap_or_else(|| panic!("no resource {prefix}*"))
}

#[test]
fn one_region_edge_snapshot() {
    // GIVEN zone, certificate, web ACL, buckets and edge in one us-east-1 stack
    let app = one_region_app();
    // WHEN synthesized
    let t = template(&app);
    write_for_lint("edge-one-region", &app);
    // THEN the template is as reviewed
    insta::assert_json_snapshot!("edge_one_region", t);
}

#[test]
fn cross_region_stage_puts_certificate_and_web_acl_in_us_east_1() {
    // GIVEN a stage in ap-northeast-1 with the certificate and web ACL in a us-east-1 stack
    let app = cross_region_app();
    // WHEN synthesized
    let synthesis = synthesize(&app, &Default::default()).expect("synth");
    write_for_lint("edge-cross-region", &app);
    let stacks = synthesis.assembly.stacks().expect("stacks");
    let stack = |id: &str| {
        stacks
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("stack {id}"))
    };
    let (global, edge) = (stack("test-Global"), stack("test-Edge"));
    // THEN the us-east-1 stack outputs the ARNs, the edge stack takes them as parameters
    assert_eq!(global.env.region, "us-east-1");
    assert_eq!(edge.env.region, "ap-northeast-1");
    let cert_id = logical_id_with_prefix(&global.template, "Certificate");
    let acl_id = logical_id_with_prefix(&global.template, "WebAcl");
    let cert_link = edge
        .cross_region
        .iter()
        .find(|l| global.template["Outputs"][&l.output]["Value"] == json!({"Ref": cert_id}))
        .expect("certificate link");
    let acl_link = edge
        .cross_region
        .iter()
        .find(|l| {
            global.template["Outputs"][&l.output]["Value"] == json!({"Fn::GetAtt": [acl_id, "Arn"]})
        })
        .expect("web ACL link");
    for link in [cert_link, acl_link] {
        assert_eq!(link.producer, "test-Global");
        assert!(global.template["Outputs"][&link.output]
            .get("Export")
            .is_none());
        assert_eq!(
            edge.template["Parameters"][&link.parameter]["Type"],
            "String"
        );
    }
    let config = distribution_config(&edge.template);
    assert_eq!(
        config["ViewerCertificate"]["AcmCertificateArn"],
        json!({"Ref": cert_link.parameter})
    );
    assert_eq!(config["WebACLId"], json!({"Ref": acl_link.parameter}));
    assert!(edge.dependencies.contains(&"test-Global".to_owned()));
    assert!(resources_of_type(&edge.template, "AWS::CertificateManager::Certificate").is_empty());
    insta::assert_json_snapshot!("edge_cross_region_global", global.template);
    insta::assert_json_snapshot!("edge_cross_region_edge", edge.template);
}

#[test]
fn every_behavior_redirects_to_https_and_viewers_need_tls_1_2() {
    let config = distribution_config(&template(&one_region_app()));
    assert_eq!(
        config["ViewerCertificate"]["MinimumProtocolVersion"],
        "TLSv1.2_2021"
    );
    assert_eq!(config["ViewerCertificate"]["SslSupportMethod"], "sni-only");
    let mut behaviors = vec![config["DefaultCacheBehavior"].clone()];
    behaviors.extend(
        config["CacheBehaviors"]
            .as_array()
            .expect("behaviors")
            .clone(),
    );
    assert_eq!(behaviors.len(), 4);
    for b in &behaviors {
        assert_eq!(b["ViewerProtocolPolicy"], "redirect-to-https", "{b}");
        assert!(
            b["ResponseHeadersPolicyId"].is_object(),
            "security headers on {b}"
        );
    }
    let paths: Vec<&str> = behaviors[1..]
        .iter()
        .map(|b| b["PathPattern"].as_str().expect("path"))
        .collect();
    assert_eq!(paths, ["/_next/image*", "/_next/static/*", "/static/*"]);
    let app_origin = &config["Origins"][0];
    assert_eq!(
        app_origin["CustomOriginConfig"]["OriginProtocolPolicy"],
        "https-only"
    );
    assert_eq!(
        app_origin["CustomOriginConfig"]["OriginSSLProtocols"],
        json!(["TLSv1.2"])
    );
    assert_eq!(config["HttpVersion"], "http2and3");
    assert_eq!(config["IPV6Enabled"], true);
    assert_eq!(config["Aliases"], json!(["example.com"]));
    assert_eq!(config["Logging"]["Prefix"], "cloudfront/");
}

#[test]
fn static_bucket_is_readable_by_this_distribution_only() {
    let t = template(&one_region_app());
    let dist_id = resources_of_type(&t, "AWS::CloudFront::Distribution")[0]
        .0
        .clone();
    let static_id = logical_id_with_prefix(&t, "Static");
    let policy = resources_of_type(&t, "AWS::S3::BucketPolicy")
        .into_iter()
        .find(|(_, p)| p["Properties"]["Bucket"] == json!({"Ref": static_id}))
        .expect("static bucket policy")
        .1["Properties"]["PolicyDocument"]
        .clone();
    let statements = policy["Statement"].as_array().expect("statements");
    let allows: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .collect();
    assert_eq!(allows.len(), 1, "one reader: {policy}");
    let read = allows[0];
    assert_eq!(
        read["Principal"],
        json!({"Service": "cloudfront.amazonaws.com"})
    );
    assert_eq!(read["Action"], "s3:GetObject");
    let source = &read["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"];
    assert_eq!(
        source[0],
        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"
    );
    assert_eq!(
        source[1]["Distribution"],
        json!({"Fn::GetAtt": [dist_id, "Id"]})
    );
    assert!(
        statements
            .iter()
            .any(|s| s["Effect"] == "Deny"
                && s["Condition"]["Bool"]["aws:SecureTransport"] == "false")
    );
    // The S3 origin signs every request through an Origin Access Control.
    let oac = resources_of_type(&t, "AWS::CloudFront::OriginAccessControl");
    assert_eq!(
        oac[0].1["Properties"]["OriginAccessControlConfig"]["SigningBehavior"],
        "always"
    );
}

#[test]
fn no_plaintext_secret_in_any_template() {
    for (id, t) in templates(&cross_region_app())
        .into_iter()
        .chain(templates(&one_region_app()))
    {
        let text = t.to_string();
        for config in resources_of_type(&t, "AWS::CloudFront::Distribution") {
            let headers =
                &config.1["Properties"]["DistributionConfig"]["Origins"][0]["OriginCustomHeaders"];
            assert_eq!(headers[0]["HeaderName"], "X-Origin-Verify");
            assert_eq!(
                headers[0]["HeaderValue"],
                format!("{{{{resolve:secretsmanager:{SECRET_NAME}:SecretString:::}}}}"),
                "{id}"
            );
        }
        assert!(!text.to_lowercase().contains("password\":"), "{id}");
    }
}

#[test]
fn alias_records_point_at_the_distribution() {
    let t = template(&one_region_app());
    let records = resources_of_type(&t, "AWS::Route53::RecordSet");
    let types: Vec<&Value> = records
        .iter()
        .map(|(_, r)| &r["Properties"]["Type"])
        .collect();
    assert_eq!(types, [&json!("A"), &json!("AAAA")]);
    for (_, r) in records {
        assert_eq!(r["Properties"]["Name"], "example.com.");
        assert_eq!(
            r["Properties"]["AliasTarget"]["HostedZoneId"],
            "Z2FDTNDATAQYW2"
        );
    }
}

#[test]
fn web_acl_blocks_with_managed_rules_and_a_rate_limit() {
    let t = template(&one_region_app());
    let acl = &resources_of_type(&t, "AWS::WAFv2::WebACL")[0].1["Properties"];
    assert_eq!(acl["Scope"], "CLOUDFRONT");
    let names: Vec<&str> = acl["Rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["Name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "RateLimitPerIp",
            "AWSManagedRulesAmazonIpReputationList",
            "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesCommonRuleSet"
        ]
    );
    assert_eq!(
        acl["Rules"][0]["Statement"]["RateBasedStatement"]["Limit"],
        2000
    );
}

fn edge_with_domain(domain: &str) -> App {
    app_with_stack("us-east-1", |s| {
        let zone = HostedZone::new(s, "Zone", "example.com", HostedZoneProps::default());
        Edge::new(
            s,
            "Edge",
            literal_inputs(domain, zone.zone_ref()),
            EdgeProps::default(),
        );
    })
}

/// Inputs for a distribution at `domain` in `zone`, the other stacks' values as literals.
fn literal_inputs(domain: &str, zone: HostedZoneRef) -> EdgeInputs {
    EdgeInputs {
        naming: naming("prod"),
        domain_name: domain.to_owned(),
        hosted_zone: zone,
        alb_domain_name: Str::from("origin.example.com"),
        static_bucket: bucket("static"),
        log_bucket: bucket("logs"),
        origin_secret: origin_secret(),
        certificate_arn: Str::from("arn:aws:acm:us-east-1:123456789012:certificate/x"),
    }
}

#[test]
fn malformed_or_foreign_domains_are_errors_naming_the_construct_path() {
    for bad in ["bad domain", "-x.com", "", "example.org"] {
        let errs = errors(&edge_with_domain(bad));
        assert!(
            errs.iter().any(|e| e.starts_with("[test/Stack/Edge] ")
                && (e.contains("domain name") || e.contains("hosted zone"))),
            "{bad:?}: {errs:?}"
        );
    }
    assert_eq!(
        errors(&edge_with_domain("example.com")),
        Vec::<String>::new()
    );
}

#[test]
fn certificate_and_web_acl_outside_us_east_1_are_errors() {
    let app = app_with_stack("ap-northeast-1", |s| {
        let zone = HostedZone::new(s, "Zone", "example.com", HostedZoneProps::default());
        GlobalCertificate::new(
            s,
            "Certificate",
            "www.example.com",
            &zone.zone_ref(),
            GlobalCertificateProps::default(),
        );
        EdgeWebAcl::new(s, "WebAcl", &naming("prod"), EdgeWebAclProps::default());
    });
    let errs = errors(&app);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].starts_with("[test/Stack/Certificate] ") && errs[0].contains("us-east-1"));
    assert!(errs[1].starts_with("[test/Stack/WebAcl] ") && errs[1].contains("us-east-1"));
}

#[test]
fn optional_csp_and_waf_count_overrides_render_as_asked() {
    let app = app_with_stack("us-east-1", |s| {
        let zone = HostedZone::new(s, "Zone", "example.com", HostedZoneProps::default());
        let acl = EdgeWebAcl::new(
            s,
            "WebAcl",
            &naming("prod"),
            EdgeWebAclProps {
                common_rules_to_count: vec!["SizeRestrictions_BODY".to_owned()],
                ..EdgeWebAclProps::default()
            },
        );
        Edge::new(
            s,
            "Edge",
            literal_inputs("example.com", zone.zone_ref()),
            EdgeProps {
                web_acl_arn: Some(acl.arn()),
                content_security_policy: Some("default-src 'self'".to_owned()),
                ..EdgeProps::default()
            },
        );
    });
    let t = template(&app);
    let headers = &resources_of_type(&t, "AWS::CloudFront::ResponseHeadersPolicy")[0].1
        ["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"];
    assert_eq!(
        headers["ContentSecurityPolicy"],
        json!({"ContentSecurityPolicy": "default-src 'self'", "Override": true})
    );
    let acl = &resources_of_type(&t, "AWS::WAFv2::WebACL")[0].1["Properties"];
    assert_eq!(
        acl["Rules"][3]["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"],
        json!([{"ActionToUse": {"Count": {}}, "Name": "SizeRestrictions_BODY"}])
    );
}
