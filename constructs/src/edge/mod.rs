//! CloudFront in front of the load balancer: [`Edge`] (distribution, static-files origin with
//! Origin Access Control, security headers, DNS aliases), and the two us-east-1 pieces it uses,
//! [`GlobalCertificate`] and [`EdgeWebAcl`].

mod certificate;
mod rotation;
mod waf;

pub use certificate::{GlobalCertificate, GlobalCertificateProps, CLOUDFRONT_REGION};
pub use rotation::{OriginSecretRotation, OriginSecretRotationProps, ROTATION_SOURCE};
pub use waf::{EdgeWebAcl, EdgeWebAclProps};

use pantri_synth::cfn::cloudfront::cache_policy::{
    CachePolicyConfig, CookiesConfig, HeadersConfig, ParametersInCacheKeyAndForwardedToOrigin,
    QueryStringsConfig,
};
use pantri_synth::cfn::cloudfront::distribution::{
    CacheBehavior, CustomOriginConfig, DefaultCacheBehavior, DistributionConfig, Logging, Origin,
    OriginCustomHeader, S3OriginConfig, ViewerCertificate,
};
use pantri_synth::cfn::cloudfront::origin_access_control::OriginAccessControlConfig;
use pantri_synth::cfn::cloudfront::response_headers_policy::{
    ContentSecurityPolicy, ContentTypeOptions, FrameOptions, ReferrerPolicy,
    ResponseHeadersPolicyConfig, SecurityHeadersConfig, StrictTransportSecurity, XSSProtection,
};
use pantri_synth::cfn::cloudfront::{
    CfnCachePolicy, CfnDistribution, CfnOriginAccessControl, CfnResponseHeadersPolicy,
};
use pantri_synth::cfn::route53::record_set::AliasTarget;
use pantri_synth::cfn::route53::CfnRecordSet;
use pantri_synth::cfn::s3::CfnBucketPolicy;
use pantri_synth::fns::{self, dynamic};
use pantri_synth::{Output, Res, Scope, Str};

use crate::policy::{document, Principal, Statement};
use crate::storage::deny_insecure_transport;
use crate::{BucketRef, HostedZoneRef, Naming, SecretRef};

use certificate::check_in_zone;

/// AWS managed cache policy `CachingDisabled`: the app's responses are per user.
pub const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
/// AWS managed cache policy `CachingOptimized`: long TTLs, compressed variants in the key.
pub const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
/// AWS managed origin request policy `AllViewerExceptHostHeader`: every viewer header, cookie and
/// query string except Host, so the origin sees its own name (the one its certificate covers).
pub const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
/// The hosted zone id of every CloudFront distribution, for Route 53 alias records.
pub const CLOUDFRONT_HOSTED_ZONE_ID: &str = "Z2FDTNDATAQYW2";
/// The header the load balancer checks to accept only requests that came through CloudFront.
pub const ORIGIN_VERIFY_HEADER: &str = "X-Origin-Verify";
/// The header that carries the public host name to the origin. CloudFront sends the origin's own
/// name as `Host` (the name the load balancer's certificate covers), and sets this one to the
/// name viewers used, overwriting whatever a viewer sent: the app builds redirect and OAuth URLs
/// from it (Next.js and Auth.js read `X-Forwarded-Host` behind a proxy).
pub const FORWARDED_HOST_HEADER: &str = "X-Forwarded-Host";
/// Next.js's image optimizer: answered by the app, cached per URL (the query string names the
/// image, width and quality) and per `Accept` (WebP or AVIF).
pub const IMAGE_PATH: &str = "/_next/image*";
/// The path patterns served from the static-files bucket.
pub const STATIC_PATHS: [&str; 2] = ["/_next/static/*", "/static/*"];

/// Which edge locations serve the distribution (cost against latency).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PriceClass {
    /// Every edge location. The default: CloudFront's own, and the lowest latency everywhere.
    #[default]
    All,
    /// North America, Europe, Asia (Japan included), Middle East, Africa.
    Class200,
    /// North America and Europe only.
    Class100,
}

impl PriceClass {
    fn name(self) -> &'static str {
        match self {
            PriceClass::All => "PriceClass_All",
            PriceClass::Class200 => "PriceClass_200",
            PriceClass::Class100 => "PriceClass_100",
        }
    }
}

/// What an [`Edge`] cannot work without: the app's naming, its domain name, its zone, its two origins, its log bucket,
/// the origin secret and the certificate. Every field is required (there is no `Default`).
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeInputs {
    /// The app and stage: the access control and the headers policy are named
    /// `<app>-<stage>-…` (unique per account).
    pub naming: Naming,
    /// The name viewers use (`example.com`); must be in `hosted_zone`.
    pub domain_name: String,
    /// The zone for the A/AAAA alias records.
    pub hosted_zone: HostedZoneRef,
    /// The load balancer's name as CloudFront connects to it over HTTPS: a name its certificate
    /// covers, such as its alias `origin.<domain>` (the `*.elb.amazonaws.com` name fails TLS
    /// validation against the app's certificate).
    pub alb_domain_name: Str,
    /// The static-files bucket ([`crate::storage::StaticBucket`]). Its whole bucket policy is
    /// written here (see [`crate::storage::StaticBucketPolicy`]).
    pub static_bucket: BucketRef,
    /// The bucket for CloudFront access logs (prefix `cloudfront/`).
    pub log_bucket: BucketRef,
    /// The secret whose value CloudFront sends to the load balancer in `X-Origin-Verify`, as a
    /// dynamic reference (never in the template).
    pub origin_secret: SecretRef,
    /// The us-east-1 certificate ARN ([`GlobalCertificate::arn`]).
    pub certificate_arn: Str,
}

/// The tuning of an [`Edge`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EdgeProps {
    /// The us-east-1 WAF web ACL ARN ([`EdgeWebAcl::arn`]). Default none, which leaves the
    /// distribution unprotected and fails checkov CKV_AWS_68 on purpose: set it.
    pub web_acl_arn: Option<Str>,
    /// Edge locations. Default [`PriceClass::All`].
    pub price_class: PriceClass,
    /// A `Content-Security-Policy` header for every response. Default none: a Next.js app's
    /// policy depends on its inline scripts (nonces or hashes), so the app sets it itself; give
    /// one here when the app's policy is static.
    pub content_security_policy: Option<String>,
    /// Path patterns of the app's `public/` files (`/favicon.ico`, `/images/*`): answered by the
    /// app, cached like static files, without cookies or the query string in the key. Default
    /// none.
    pub public_paths: Vec<String>,
}

/// The CloudFront distribution of the app, its static bucket's policy and its DNS records.
///
/// What it cannot work without is [`EdgeInputs`], an argument with no default:
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "us-east-1"));
/// # let mut stack = stage.stack("Edge", StackProps::default());
/// # use pantri_constructs::testing::fixtures::{bucket, secret, zone};
/// use pantri_constructs::{edge::{Edge, EdgeInputs, EdgeProps}, Naming};
///
/// let inputs = EdgeInputs {
///     naming: Naming::new("shop", "dev").expect("lowercase names"),
///     domain_name: "example.com".into(),
///     hosted_zone: zone("example.com"),
///     alb_domain_name: "origin.example.com".into(),
///     static_bucket: bucket("static"),
///     log_bucket: bucket("logs"),
///     origin_secret: secret("origin-verify"),
///     certificate_arn: "arn:aws:acm:us-east-1:111111111111:certificate/abc".into(),
/// };
/// let edge = Edge::new(&mut stack, "Cdn", inputs, EdgeProps {
///     web_acl_arn: Some("arn:aws:wafv2:us-east-1:111111111111:global/webacl/acl/abc".into()),
///     ..EdgeProps::default()
/// });
/// assert_eq!(edge.url(), "https://example.com");
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
///
/// Without the inputs it does not compile (the same code as above, minus the `inputs` argument):
///
/// ```compile_fail,E0061
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "us-east-1"));
/// # let mut stack = stage.stack("Edge", StackProps::default());
/// # use pantri_constructs::testing::fixtures::{bucket, secret, zone};
/// # use pantri_constructs::{edge::{Edge, EdgeInputs, EdgeProps}, Naming};
/// #
/// # let inputs = EdgeInputs {
/// #     naming: Naming::new("shop", "dev").expect("lowercase names"),
/// #     domain_name: "example.com".into(),
/// #     hosted_zone: zone("example.com"),
/// #     alb_domain_name: "origin.example.com".into(),
/// #     static_bucket: bucket("static"),
/// #     log_bucket: bucket("logs"),
/// #     origin_secret: secret("origin-verify"),
/// #     certificate_arn: "arn:aws:acm:us-east-1:111111111111:certificate/abc".into(),
/// # };
/// let edge = Edge::new(&mut stack, "Cdn", EdgeProps {
///     web_acl_arn: Some("arn:aws:wafv2:us-east-1:111111111111:global/webacl/acl/abc".into()),
///     ..EdgeProps::default()
/// });
/// # assert_eq!(edge.url(), "https://example.com");
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
#[derive(Clone, Debug)]
pub struct Edge {
    distribution: Res<CfnDistribution>,
    static_bucket_policy: Res<CfnBucketPolicy>,
    response_headers_policy: Res<CfnResponseHeadersPolicy>,
    domain_name: String,
}

impl Edge {
    /// Adds the distribution, its Origin Access Control and response headers policy, the static
    /// bucket's policy, the alias records, and outputs of the distribution's id and domain name.
    pub fn new(scope: &mut Scope<'_>, id: &str, inputs: EdgeInputs, props: EdgeProps) -> Edge {
        let mut s = scope.construct(id, "pantri.Edge");
        if let Err(e) = check_in_zone(&inputs.domain_name, &inputs.hosted_zone.zone_name) {
            s.error(e);
        }
        let EdgeInputs {
            naming,
            domain_name,
            hosted_zone: zone,
            alb_domain_name: alb,
            static_bucket,
            log_bucket,
            origin_secret: secret,
            certificate_arn,
        } = inputs;
        let name = naming.prefix();
        let mut security_headers = SecurityHeadersConfig::new()
            // Two years, subdomains, preload: what the HSTS preload list asks.
            .strict_transport_security(
                StrictTransportSecurity::new(63_072_000, true)
                    .include_subdomains(true)
                    .preload(true),
            )
            .content_type_options(ContentTypeOptions::new(true))
            .frame_options(FrameOptions::new("DENY", true))
            .referrer_policy(ReferrerPolicy::new(true, "strict-origin-when-cross-origin"))
            // `0`: the legacy XSS auditor is off. Browsers that still have it can be made to
            // leak data through it; the Content-Security-Policy is the protection.
            .xss_protection(XSSProtection::new(true, false));
        if let Some(csp) = &props.content_security_policy {
            security_headers = security_headers
                .content_security_policy(ContentSecurityPolicy::new(csp.as_str(), true));
        }

        let oac = s.resource(
            "StaticOriginAccessControl",
            CfnOriginAccessControl::new(
                OriginAccessControlConfig::new(format!("{name}-static"), "s3", "always", "sigv4")
                    .description(format!("CloudFront reads the {name} static-files bucket")),
            ),
        );
        let headers = s.resource(
            "SecurityHeaders",
            CfnResponseHeadersPolicy::new(
                ResponseHeadersPolicyConfig::new(format!("{name}-security-headers"))
                    .comment(format!("Security headers on every response of {name}"))
                    .security_headers_config(security_headers),
            ),
        );

        let app_origin = Origin::new(alb, "App")
            .custom_origin_config(
                CustomOriginConfig::new("https-only").origin_ssl_protocols(["TLSv1.2"]),
            )
            .origin_custom_headers([
                OriginCustomHeader::new(
                    ORIGIN_VERIFY_HEADER,
                    dynamic::secretsmanager(&secret.name, ""),
                ),
                OriginCustomHeader::new(FORWARDED_HOST_HEADER, domain_name.as_str()),
            ]);
        let static_origin = Origin::new(static_bucket.regional_domain_name.clone(), "Static")
            .origin_access_control_id(oac.attr_id())
            // Empty: access goes through the Origin Access Control, not a legacy identity.
            .s3_origin_config(S3OriginConfig::new().origin_access_identity(""));

        let image_cache = s.resource(
            "ImageCachePolicy",
            CfnCachePolicy::new(
                CachePolicyConfig::new(
                    86_400,
                    31_536_000,
                    0,
                    format!("{name}-next-image"),
                    ParametersInCacheKeyAndForwardedToOrigin::new(
                        CookiesConfig::new("none"),
                        true,
                        HeadersConfig::new("whitelist").headers(["Accept"]),
                        QueryStringsConfig::new("whitelist").query_strings(["url", "w", "q"]),
                    )
                    .enable_accept_encoding_brotli(true),
                )
                .comment(format!("Next.js optimized images of {name}")),
            ),
        );
        let mut app_behaviors: Vec<CacheBehavior> =
            vec![CacheBehavior::new(IMAGE_PATH, "App", "redirect-to-https")
                .allowed_methods(["GET", "HEAD"])
                .cached_methods(["GET", "HEAD"])
                .cache_policy_id(image_cache.attr_id())
                .response_headers_policy_id(headers.attr_id())
                .compress(true)];
        app_behaviors.extend(props.public_paths.iter().map(|path| {
            CacheBehavior::new(path.as_str(), "App", "redirect-to-https")
                .allowed_methods(["GET", "HEAD"])
                .cached_methods(["GET", "HEAD"])
                .cache_policy_id(CACHING_OPTIMIZED)
                .response_headers_policy_id(headers.attr_id())
                .compress(true)
        }));
        let static_behaviors: Vec<CacheBehavior> = STATIC_PATHS
            .iter()
            .map(|path| {
                CacheBehavior::new(*path, "Static", "redirect-to-https")
                    .allowed_methods(["GET", "HEAD"])
                    .cached_methods(["GET", "HEAD"])
                    .cache_policy_id(CACHING_OPTIMIZED)
                    .response_headers_policy_id(headers.attr_id())
                    .compress(true)
            })
            .collect();
        let mut config = DistributionConfig::new(
            DefaultCacheBehavior::new("App", "redirect-to-https")
                .allowed_methods(["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"])
                .cached_methods(["GET", "HEAD"])
                .cache_policy_id(CACHING_DISABLED)
                .origin_request_policy_id(ALL_VIEWER_EXCEPT_HOST_HEADER)
                .response_headers_policy_id(headers.attr_id())
                .compress(true),
            true,
        )
        .comment(name.as_str())
        .aliases([domain_name.as_str()])
        .origins([app_origin, static_origin])
        .cache_behaviors(
            app_behaviors
                .into_iter()
                .chain(static_behaviors)
                .collect::<Vec<_>>(),
        )
        .viewer_certificate(
            ViewerCertificate::new()
                .acm_certificate_arn(certificate_arn)
                .ssl_support_method("sni-only")
                .minimum_protocol_version("TLSv1.2_2021"),
        )
        .http_version("http2and3")
        .ipv6_enabled(true)
        .price_class(props.price_class.name())
        .logging(
            Logging::new()
                .bucket(log_bucket.regional_domain_name.clone())
                .prefix("cloudfront/")
                .include_cookies(false),
        );
        if let Some(acl) = &props.web_acl_arn {
            config = config.web_acl_id(acl.clone());
        }
        let distribution = s.resource("Resource", CfnDistribution::new(config));

        let distribution_arn = fns::sub_with(
            "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}",
            [("Distribution", distribution.attr_id())],
        );
        let static_bucket_policy = s.resource(
            "StaticBucketPolicy",
            CfnBucketPolicy::new(
                static_bucket.name.clone(),
                document([
                    deny_insecure_transport(&static_bucket.arn),
                    Statement::allow()
                        .sid("CloudFrontReadsThisDistributionOnly")
                        .principal(Principal::service("cloudfront.amazonaws.com"))
                        .actions(["s3:GetObject"])
                        .resources([crate::storage::objects(&static_bucket.arn, "")])
                        .condition("StringEquals", "AWS:SourceArn", distribution_arn),
                ]),
            ),
        );

        for (record_id, record_type) in [("AliasA", "A"), ("AliasAAAA", "AAAA")] {
            s.resource(
                record_id,
                CfnRecordSet::new(format!("{}.", domain_name), record_type)
                    .hosted_zone_id(zone.zone_id.clone())
                    .alias_target(AliasTarget::new(
                        distribution.attr_domain_name(),
                        CLOUDFRONT_HOSTED_ZONE_ID,
                    )),
            );
        }

        s.output(
            "DistributionId",
            Output::new(distribution.attr_id()).description("CloudFront distribution id"),
        );
        s.output(
            "DistributionDomainName",
            Output::new(distribution.attr_domain_name())
                .description("CloudFront domain name (the alias records point at it)"),
        );
        Edge {
            distribution,
            static_bucket_policy,
            response_headers_policy: headers,
            domain_name,
        }
    }

    /// The distribution id (for cache invalidations).
    pub fn distribution_id(&self) -> Str {
        self.distribution.attr_id()
    }

    /// The distribution's `*.cloudfront.net` name.
    pub fn distribution_domain_name(&self) -> Str {
        self.distribution.attr_domain_name()
    }

    /// The app's public URL, `https://<domain>`.
    pub fn url(&self) -> String {
        format!("https://{}", self.domain_name)
    }

    /// The underlying distribution (escape hatch).
    pub fn distribution(&self) -> Res<CfnDistribution> {
        self.distribution
    }

    /// The static bucket's policy (escape hatch).
    pub fn static_bucket_policy(&self) -> Res<CfnBucketPolicy> {
        self.static_bucket_policy
    }

    /// The security-headers response policy (escape hatch).
    pub fn response_headers_policy(&self) -> Res<CfnResponseHeadersPolicy> {
        self.response_headers_policy
    }
}
