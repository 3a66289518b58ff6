//! Sign-in for the web app: a Cognito [`UserPool`] with a public browser client (authorization
//! code grant with PKCE) and a hosted sign-in domain.

use pantri_synth::cfn::cognito::user_pool::{
    AccountRecoverySetting, AdminCreateUserConfig, PasswordPolicy, Policies, RecoveryOption,
    UserPoolAddOns, UsernameConfiguration, VerificationMessageTemplate,
};
use pantri_synth::cfn::cognito::user_pool_client::TokenValidityUnits;
use pantri_synth::cfn::cognito::{CfnUserPool, CfnUserPoolClient, CfnUserPoolDomain};
use pantri_synth::fns;
use pantri_synth::{Output, Res, Scope, Str};

use crate::dns::check_domain_name;
use crate::{Naming, Removal, UserPoolRef};

/// Whether users must set up a second factor (TOTP: SMS is never offered).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mfa {
    /// Every user signs in with a TOTP code (`MfaConfiguration: ON`). The default (prod).
    #[default]
    Required,
    /// Users may add a TOTP app (`OPTIONAL`): for dev, where testers come and go.
    Optional,
}

/// Cognito threat protection (formerly advanced security): compromised-credential and adaptive
/// authentication checks. Anything but `Off` needs the PLUS feature plan, which costs per user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThreatProtection {
    /// Block risky sign-ins (`ENFORCED`, plan PLUS). The default (prod).
    #[default]
    Enforced,
    /// Score and log risky sign-ins without blocking (`AUDIT`, plan PLUS).
    Audit,
    /// No threat protection (plan ESSENTIALS): for dev, to save the PLUS price.
    Off,
}

impl ThreatProtection {
    fn mode(self) -> &'static str {
        match self {
            ThreatProtection::Enforced => "ENFORCED",
            ThreatProtection::Audit => "AUDIT",
            ThreatProtection::Off => "OFF",
        }
    }

    fn tier(self) -> &'static str {
        match self {
            ThreatProtection::Enforced | ThreatProtection::Audit => "PLUS",
            ThreatProtection::Off => "ESSENTIALS",
        }
    }
}

/// Props of [`UserPool`].
#[derive(Clone, Debug, PartialEq)]
pub struct UserPoolProps {
    /// The path the auth library receives the authorization code at. Default
    /// `/api/auth/callback/cognito` (Auth.js's Cognito provider).
    pub callback_path: String,
    /// The path Cognito's logout endpoint may return to. Default `/`.
    pub logout_path: String,
    /// Further origins allowed to receive codes and sign-outs with the same paths, such as
    /// `http://localhost:3000` for a developer's machine in dev. Default none.
    pub extra_origins: Vec<String>,
    /// MFA. Default [`Mfa::Required`].
    pub mfa: Mfa,
    /// Threat protection. Default [`ThreatProtection::Enforced`].
    pub threat_protection: ThreatProtection,
    /// Whether Cognito refuses to delete the pool. Default true.
    pub deletion_protection: bool,
    /// Days a temporary password (from an admin-created user) stays valid. Default 3.
    pub temporary_password_validity_days: u32,
    /// The hosted sign-in domain prefix (`<prefix>.auth.<region>.amazoncognito.com`), unique per
    /// region across AWS. Default `<app>-<stage>-<8 hex>`, the hex a hash of the account and
    /// region: stable across deploys, unlikely to collide, and not the account id itself.
    pub domain_prefix: Option<String>,
    /// Retain (prod, the default) or delete the pool with the stack.
    pub removal: Removal,
}

impl Default for UserPoolProps {
    fn default() -> Self {
        UserPoolProps {
            callback_path: "/api/auth/callback/cognito".to_owned(),
            logout_path: "/".to_owned(),
            extra_origins: Vec::new(),
            mfa: Mfa::Required,
            threat_protection: ThreatProtection::Enforced,
            deletion_protection: true,
            temporary_password_validity_days: 3,
            domain_prefix: None,
            removal: Removal::Retain,
        }
    }
}

impl UserPoolProps {
    /// The dev choices: optional MFA, threat protection in audit mode, no deletion protection,
    /// the pool deleted with the stack.
    pub fn dev() -> Self {
        UserPoolProps {
            mfa: Mfa::Optional,
            threat_protection: ThreatProtection::Audit,
            deletion_protection: false,
            removal: Removal::Destroy,
            ..UserPoolProps::default()
        }
    }
}

/// A Cognito user pool with email sign-in, TOTP MFA, a public web client and a hosted domain.
///
/// What it cannot work without are arguments: the app's [`Naming`] (the pool is named
/// `<app>-<stage>`) and the web app's domain (`example.com`): the client's callback is
/// `https://<domain><callback_path>`, its sign-out `https://<domain><logout_path>`.
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// use pantri_constructs::{auth::{UserPool, UserPoolProps}, Naming};
/// let naming = Naming::new("orders", "dev").expect("lowercase names");
/// let pool = UserPool::new(&mut stack, "Users", &naming, "orders.example.com", UserPoolProps::dev());
/// let _issuer_pool = pool.pool_ref();
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
///
/// Without the domain it does not compile (the same code as above, minus the domain argument):
///
/// ```compile_fail,E0061
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// # use pantri_constructs::{auth::{UserPool, UserPoolProps}, Naming};
/// # let naming = Naming::new("orders", "dev").expect("lowercase names");
/// let pool = UserPool::new(&mut stack, "Users", &naming, UserPoolProps::dev());
/// # let _issuer_pool = pool.pool_ref();
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
#[derive(Clone, Debug)]
pub struct UserPool {
    pool: Res<CfnUserPool>,
    client: Res<CfnUserPoolClient>,
    domain: Res<CfnUserPoolDomain>,
}

impl UserPool {
    /// Adds the pool, its web client and domain, and outputs of pool id, client id, issuer URL
    /// and JWKS URL.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        naming: &Naming,
        domain_name: &str,
        props: UserPoolProps,
    ) -> UserPool {
        let account_region = scope
            .env()
            .map(|e| format!("{}/{}", e.account, e.region))
            .unwrap_or_default();
        let mut s = scope.construct(id, "pantri.UserPool");
        if let Err(e) = check_domain_name(domain_name) {
            s.error(e);
        }
        if !(1..=365).contains(&props.temporary_password_validity_days) {
            s.error(format!(
                "temporary_password_validity_days {} is outside 1..=365: use a value in range",
                props.temporary_password_validity_days
            ));
        }
        for (what, path) in [
            ("callback_path", &props.callback_path),
            ("logout_path", &props.logout_path),
        ] {
            if !path.starts_with('/') || path.contains(char::is_whitespace) {
                s.error(format!(
                    "{what} {path:?} is not a URL path: start it with '/' and leave out spaces"
                ));
            }
        }
        for origin in &props.extra_origins {
            // Cognito takes plain http for localhost only.
            let ok = origin.starts_with("https://")
                || origin.starts_with("http://localhost")
                || origin.starts_with("http://127.0.0.1");
            if !ok || origin.ends_with('/') {
                s.error(format!(
                    "extra origin {origin:?} is not accepted by Cognito: use https://host[:port], \
                     or http://localhost:port, without a trailing '/'"
                ));
            }
        }
        let prefix = props.domain_prefix.clone().unwrap_or_else(|| {
            format!("{}-{:08x}", naming.prefix(), fnv1a(&account_region) as u32)
        });
        if let Err(e) = check_domain_prefix(&prefix) {
            s.error(e);
        }
        let name = naming.prefix();

        let pool = CfnUserPool::new()
            .user_pool_name(name.as_str())
            .username_attributes(["email"])
            .auto_verified_attributes(["email"])
            .username_configuration(UsernameConfiguration::new().case_sensitive(false))
            .policies(
                Policies::new().password_policy(
                    PasswordPolicy::new()
                        .minimum_length(12)
                        .require_uppercase(true)
                        .require_lowercase(true)
                        .require_numbers(true)
                        .require_symbols(true)
                        .temporary_password_validity_days(props.temporary_password_validity_days),
                ),
            )
            .mfa_configuration(match props.mfa {
                Mfa::Required => "ON",
                Mfa::Optional => "OPTIONAL",
            })
            // TOTP only: SMS codes can be intercepted (SIM swap) and need an SMS role and budget.
            .enabled_mfas(["SOFTWARE_TOKEN_MFA"])
            .account_recovery_setting(
                AccountRecoverySetting::new().recovery_mechanisms([RecoveryOption::new()
                    .name("verified_email")
                    .priority(1)]),
            )
            .admin_create_user_config(
                AdminCreateUserConfig::new().allow_admin_create_user_only(false),
            )
            .verification_message_template(
                VerificationMessageTemplate::new().default_email_option("CONFIRM_WITH_CODE"),
            )
            .user_pool_tier(props.threat_protection.tier())
            .user_pool_add_ons(
                UserPoolAddOns::new().advanced_security_mode(props.threat_protection.mode()),
            )
            .deletion_protection(if props.deletion_protection {
                "ACTIVE"
            } else {
                "INACTIVE"
            });
        let pool = s.resource("Resource", pool);
        if let Some(o) = s.app().options_mut(pool) {
            props.removal.apply(o);
        }

        let mut origins = vec![format!("https://{domain_name}")];
        origins.extend(props.extra_origins.iter().cloned());
        let callbacks: Vec<Str> = origins
            .iter()
            .map(|o| Str::from(format!("{o}{}", props.callback_path)))
            .collect();
        let logouts: Vec<Str> = origins
            .iter()
            .map(|o| Str::from(format!("{o}{}", props.logout_path)))
            .collect();
        let client = s.resource(
            "WebClient",
            CfnUserPoolClient::new(pool.ref_())
                .client_name(format!("{name}-web"))
                // A browser client cannot keep a secret: it proves itself with PKCE instead.
                .generate_secret(false)
                .allowed_o_auth_flows_user_pool_client(true)
                .allowed_o_auth_flows(["code"])
                .allowed_o_auth_scopes(["openid", "email", "profile"])
                .supported_identity_providers(["COGNITO"])
                .callback_urls(callbacks)
                .logout_urls(logouts)
                // Sign-in goes through the hosted pages only; the client just refreshes tokens.
                .explicit_auth_flows(["ALLOW_REFRESH_TOKEN_AUTH"])
                .access_token_validity(60)
                .id_token_validity(60)
                .refresh_token_validity(30)
                .token_validity_units(
                    TokenValidityUnits::new()
                        .access_token("minutes")
                        .id_token("minutes")
                        .refresh_token("days"),
                )
                .prevent_user_existence_errors("ENABLED")
                .enable_token_revocation(true),
        );
        let domain = s.resource(
            "Domain",
            CfnUserPoolDomain::new(prefix.as_str(), pool.ref_()),
        );

        let issuer = url(&pool.ref_(), "");
        s.output(
            "UserPoolId",
            Output::new(pool.ref_()).description("Cognito user pool id"),
        );
        s.output(
            "ClientId",
            Output::new(client.attr_client_id()).description("Web app client id (public, PKCE)"),
        );
        s.output(
            "IssuerUrl",
            Output::new(issuer.clone()).description("JWT issuer (iss) the app checks"),
        );
        s.output(
            "JwksUrl",
            Output::new(url(&pool.ref_(), "/.well-known/jwks.json"))
                .description("JSON Web Key Set the app verifies token signatures with"),
        );
        UserPool {
            pool,
            client,
            domain,
        }
    }

    /// The pool, as other constructs need it.
    pub fn pool_ref(&self) -> UserPoolRef {
        UserPoolRef {
            id: self.pool.ref_(),
            arn: self.pool.attr_arn(),
        }
    }

    /// The pool id.
    pub fn user_pool_id(&self) -> Str {
        self.pool.ref_()
    }

    /// The web client id.
    pub fn client_id(&self) -> Str {
        self.client.attr_client_id()
    }

    /// The token issuer, `https://cognito-idp.<region>.amazonaws.com/<pool id>`.
    pub fn issuer_url(&self) -> Str {
        url(&self.pool.ref_(), "")
    }

    /// The underlying pool (escape hatch).
    pub fn user_pool(&self) -> Res<CfnUserPool> {
        self.pool
    }

    /// The underlying web client (escape hatch).
    pub fn client(&self) -> Res<CfnUserPoolClient> {
        self.client
    }

    /// The underlying hosted domain (escape hatch).
    pub fn domain(&self) -> Res<CfnUserPoolDomain> {
        self.domain
    }
}

/// `<issuer><path>`, the issuer being `https://cognito-idp.<region>.amazonaws.com/<pool id>`.
fn url(pool_id: &Str, path: &str) -> Str {
    fns::sub_with(
        &format!("https://cognito-idp.${{AWS::Region}}.${{AWS::URLSuffix}}/${{UserPoolId}}{path}"),
        [("UserPoolId", pool_id.clone())],
    )
}

/// Cognito's rule for a domain prefix: lowercase letters, digits and hyphens, 1 to 63
/// characters, no leading or trailing hyphen, and no reserved word.
fn check_domain_prefix(prefix: &str) -> Result<(), String> {
    let ok_chars = prefix
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if prefix.is_empty()
        || prefix.len() > 63
        || !ok_chars
        || prefix.starts_with('-')
        || prefix.ends_with('-')
    {
        return Err(format!(
            "domain prefix {prefix:?} is not valid: use 1 to 63 lowercase letters, digits or \
             hyphens (the app name and stage make the default prefix)"
        ));
    }
    if ["aws", "amazon", "cognito"]
        .iter()
        .any(|w| prefix.contains(w))
    {
        return Err(format!(
            "domain prefix {prefix:?} contains a word Cognito reserves (aws, amazon, cognito): \
             choose another domain_prefix"
        ));
    }
    Ok(())
}

/// FNV-1a, 64 bits: a stable hash (std's hasher may change between Rust releases).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
