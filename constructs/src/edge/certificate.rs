//! The CloudFront certificate, which must live in us-east-1.

use pantri_synth::cfn::certificatemanager::certificate::DomainValidationOption;
use pantri_synth::cfn::certificatemanager::CfnCertificate;
use pantri_synth::{Res, Scope, Str};

use crate::dns::check_domain_name;
use crate::HostedZoneRef;

/// The only region whose ACM certificates and WAF web ACLs CloudFront uses.
pub const CLOUDFRONT_REGION: &str = "us-east-1";

/// The tuning of a [`GlobalCertificate`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GlobalCertificateProps {
    /// Further names (each in the hosted zone). Default none: no wildcard, so a leaked key
    /// covers only the names the edge serves (checkov CKV2_AWS_71).
    pub subject_alternative_names: Vec<String>,
}

/// An ACM certificate for CloudFront, validated by DNS records in the stage's hosted zone.
///
/// Place it in a us-east-1 stack whatever the stage's region: when the distribution's stack is
/// elsewhere, pantri synth turns the ARN reference into an output of the certificate's stack and
/// a parameter of the distribution's.
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "us-east-1"));
/// # let mut stack = stage.stack("Global", StackProps::default());
/// # let zone = pantri_constructs::HostedZoneRef { zone_id: "Z0123456789ABC".into(), zone_name: "example.com".into() };
/// use pantri_constructs::edge::{GlobalCertificate, GlobalCertificateProps};
/// // In a us-east-1 stack: CloudFront reads certificates from there only.
/// let certificate = GlobalCertificate::new(
///     &mut stack,
///     "Certificate",
///     "example.com",
///     &zone,
///     GlobalCertificateProps::default(),
/// );
/// let _arn = certificate.arn();
/// # assert!(pantri_constructs::testing::errors(&app).is_empty());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct GlobalCertificate {
    certificate: Res<CfnCertificate>,
}

/// Checks that `name` is a valid domain inside `zone`; the error says what to do.
pub(crate) fn check_in_zone(name: &str, zone: &str) -> Result<(), String> {
    check_domain_name(name)?;
    if name == zone || name.ends_with(&format!(".{zone}")) {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not in the hosted zone {zone:?}: use a name ending in {zone:?} or the \
             zone of that name"
        ))
    }
}

/// Records an error when the scope's stack is not in us-east-1.
pub(crate) fn require_cloudfront_region(scope: &mut Scope<'_>, what: &str) {
    let region = scope.env().map(|e| e.region.clone());
    if region.as_deref() != Some(CLOUDFRONT_REGION) {
        scope.error(format!(
            "{what} is in {}, but CloudFront only uses ones in {CLOUDFRONT_REGION}: add it to a \
             stack whose environment is {CLOUDFRONT_REGION}",
            region.as_deref().unwrap_or("no region")
        ));
    }
}

impl GlobalCertificate {
    /// Adds the certificate for `domain_name` (`example.com`), validated by DNS records in
    /// `hosted_zone`, which holds it; an error unless the stack is in us-east-1.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        domain_name: &str,
        hosted_zone: &HostedZoneRef,
        props: GlobalCertificateProps,
    ) -> GlobalCertificate {
        let mut s = scope.construct(id, "pantri.GlobalCertificate");
        require_cloudfront_region(&mut s, "the CloudFront certificate");
        let mut names = vec![domain_name.to_owned()];
        names.extend(props.subject_alternative_names.iter().cloned());
        for name in &names {
            if let Err(e) = check_in_zone(name, &hosted_zone.zone_name) {
                s.error(e);
            }
        }
        let validation: Vec<DomainValidationOption> = names
            .iter()
            .map(|n| {
                DomainValidationOption::new()
                    .domain_name(n.as_str())
                    .hosted_zone_id(hosted_zone.zone_id.clone())
            })
            .collect();
        let mut cert = CfnCertificate::new(domain_name)
            .validation_method("DNS")
            .domain_validation_options(validation)
            // Browsers reject certificates missing from the public CT logs.
            .certificate_transparency_logging_preference("ENABLED");
        if !props.subject_alternative_names.is_empty() {
            cert = cert.subject_alternative_names(props.subject_alternative_names);
        }
        let certificate = s.resource("Resource", cert);
        GlobalCertificate { certificate }
    }

    /// The certificate ARN, for [`crate::edge::EdgeInputs::certificate_arn`].
    pub fn arn(&self) -> Str {
        self.certificate.ref_()
    }

    /// The underlying certificate (escape hatch).
    pub fn certificate(&self) -> Res<CfnCertificate> {
        self.certificate
    }
}
