//! UserPool: dev and prod snapshots, plus the intent a reviewer checks (public PKCE client with
//! code grant only, TOTP only, threat protection and its plan, outputs for JWT checks).

use pantri_constructs::auth::{Mfa, ThreatProtection, UserPool, UserPoolProps};
use pantri_constructs::testing::{app_with_stack, errors, resources_of_type, template};
use pantri_constructs::Naming;
use pantri_synth::App;
use serde_json::{json, Value};

/// With `PANTRI_LINT_OUT` set, writes the app's cloud assembly to `$PANTRI_LINT_OUT/<name>`
/// for `scripts/lint-templates`.
fn write_for_lint(name: &str, app: &App) {
    if let Ok(dir) = std::env::var("PANTRI_LINT_OUT") {
        let synthesis = pantri_synth::synthesize(app, &Default::default()).expect("synth");
        synthesis
            .assembly
            .write(&std::path::Path::new(&dir).join(name))
            .expect("write assembly");
    }
}

/// A pool of app `pantri` in `stage`.
fn pool_app(stage: &str, domain_name: &str, props: UserPoolProps) -> App {
    let naming = Naming::new("pantri", stage).expect("a valid stage");
    app_with_stack("ap-northeast-1", |s| {
        UserPool::new(s, "UserPool", &naming, domain_name, props);
    })
}

fn prod() -> UserPoolProps {
    UserPoolProps::default()
}

fn only<'a>(t: &'a Value, type_name: &str) -> &'a Value {
    let found = resources_of_type(t, type_name);
    assert_eq!(found.len(), 1, "{type_name}");
    &found[0].1["Properties"]
}

#[test]
fn prod_user_pool_snapshot() {
    // GIVEN the prod defaults for example.com
    let app = pool_app("prod", "example.com", prod());
    // WHEN synthesized
    let t = template(&app);
    write_for_lint("auth-prod", &app);
    // THEN the template is as reviewed
    insta::assert_json_snapshot!("user_pool_prod", t);
}

#[test]
fn dev_user_pool_snapshot() {
    // GIVEN the dev choices, with a localhost callback for local runs
    let app = pool_app(
        "dev",
        "dev.example.com",
        UserPoolProps {
            extra_origins: vec!["http://localhost:3000".to_owned()],
            ..UserPoolProps::dev()
        },
    );
    // WHEN synthesized
    let t = template(&app);
    write_for_lint("auth-dev", &app);
    // THEN the template is as reviewed
    insta::assert_json_snapshot!("user_pool_dev", t);
}

#[test]
fn web_client_is_public_with_code_grant_only() {
    let t = template(&pool_app("prod", "example.com", prod()));
    let c = only(&t, "AWS::Cognito::UserPoolClient");
    assert_eq!(c["GenerateSecret"], false);
    assert_eq!(c["AllowedOAuthFlows"], json!(["code"]));
    assert_eq!(
        c["AllowedOAuthScopes"],
        json!(["openid", "email", "profile"])
    );
    assert_eq!(c["SupportedIdentityProviders"], json!(["COGNITO"]));
    assert_eq!(
        c["CallbackURLs"],
        json!(["https://example.com/api/auth/callback/cognito"])
    );
    assert_eq!(c["LogoutURLs"], json!(["https://example.com/"]));
    assert_eq!(c["PreventUserExistenceErrors"], "ENABLED");
    assert_eq!(c["EnableTokenRevocation"], true);
    assert_eq!(
        (
            &c["AccessTokenValidity"],
            &c["IdTokenValidity"],
            &c["RefreshTokenValidity"]
        ),
        (&json!(60), &json!(60), &json!(30))
    );
    assert_eq!(
        c["TokenValidityUnits"],
        json!({"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"})
    );
}

#[test]
fn prod_requires_totp_and_enforces_threat_protection_dev_relaxes_both() {
    let t = template(&pool_app("prod", "example.com", prod()));
    let p = only(&t, "AWS::Cognito::UserPool");
    assert_eq!(p["MfaConfiguration"], "ON");
    assert_eq!(p["EnabledMfas"], json!(["SOFTWARE_TOKEN_MFA"]));
    assert_eq!(p["UserPoolAddOns"]["AdvancedSecurityMode"], "ENFORCED");
    assert_eq!(p["UserPoolTier"], "PLUS");
    assert_eq!(p["DeletionProtection"], "ACTIVE");
    assert_eq!(p["UsernameAttributes"], json!(["email"]));
    assert_eq!(p["UsernameConfiguration"]["CaseSensitive"], false);
    assert_eq!(
        p["AccountRecoverySetting"]["RecoveryMechanisms"],
        json!([{"Name": "verified_email", "Priority": 1}])
    );
    let pw = &p["Policies"]["PasswordPolicy"];
    assert_eq!(pw["MinimumLength"], 12);
    for k in [
        "RequireUppercase",
        "RequireLowercase",
        "RequireNumbers",
        "RequireSymbols",
    ] {
        assert_eq!(pw[k], true, "{k}");
    }

    let t = template(&pool_app("dev", "dev.example.com", UserPoolProps::dev()));
    let p = only(&t, "AWS::Cognito::UserPool");
    assert_eq!(p["MfaConfiguration"], "OPTIONAL");
    assert_eq!(p["EnabledMfas"], json!(["SOFTWARE_TOKEN_MFA"]));
    assert_eq!(p["UserPoolAddOns"]["AdvancedSecurityMode"], "AUDIT");
    assert_eq!(p["DeletionProtection"], "INACTIVE");

    let t = template(&pool_app(
        "dev",
        "dev.example.com",
        UserPoolProps {
            threat_protection: ThreatProtection::Off,
            mfa: Mfa::Required,
            ..UserPoolProps::dev()
        },
    ));
    let p = only(&t, "AWS::Cognito::UserPool");
    assert_eq!(p["UserPoolTier"], "ESSENTIALS");
    assert_eq!(p["MfaConfiguration"], "ON");
}

#[test]
fn outputs_give_the_app_what_its_jwt_checks_need() {
    let t = template(&pool_app("prod", "example.com", prod()));
    let outputs = t["Outputs"].as_object().expect("outputs");
    let by_suffix = |suffix: &str| {
        outputs
            .iter()
            .find(|(k, _)| k.starts_with(&format!("UserPool{suffix}")))
            .unwrap_or_else(|| panic!("output {suffix}"))
            .1["Value"]
            .clone()
    };
    let issuer = by_suffix("IssuerUrl");
    assert_eq!(
        issuer["Fn::Sub"][0],
        "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${UserPoolId}"
    );
    let jwks = by_suffix("JwksUrl");
    assert_eq!(
        jwks["Fn::Sub"][0],
        "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${UserPoolId}/.well-known/jwks.json"
    );
    assert_eq!(jwks["Fn::Sub"][1], issuer["Fn::Sub"][1]);
    assert!(by_suffix("UserPoolId")["Ref"].is_string());
    assert!(by_suffix("ClientId")["Fn::GetAtt"].is_array());
}

#[test]
fn hosted_domain_prefix_is_stable_and_named_after_app_and_stage() {
    let domain = |app: App| {
        only(&template(&app), "AWS::Cognito::UserPoolDomain")["Domain"]
            .as_str()
            .expect("domain")
            .to_owned()
    };
    let first = domain(pool_app("prod", "example.com", prod()));
    assert!(first.starts_with("pantri-prod-"), "{first}");
    assert_eq!(first.len(), "pantri-prod-".len() + 8);
    assert_eq!(
        first,
        domain(pool_app("prod", "example.com", prod())),
        "stable across synths"
    );
}

#[test]
fn malformed_domains_and_prefixes_are_errors_naming_the_construct_path() {
    for bad in ["bad domain", "-x.com", ""] {
        let errs = errors(&pool_app("prod", bad, UserPoolProps::default()));
        assert!(
            errs.iter()
                .any(|e| e.starts_with("[test/Stack/UserPool] ") && e.contains("domain name")),
            "{bad:?}: {errs:?}"
        );
    }
    let errs = errors(&pool_app(
        "prod",
        "example.com",
        UserPoolProps {
            domain_prefix: Some("my-cognito-login".to_owned()),
            ..prod()
        },
    ));
    assert!(
        errs.len() == 1
            && errs[0].starts_with("[test/Stack/UserPool] ")
            && errs[0].contains("reserves"),
        "{errs:?}"
    );
}
