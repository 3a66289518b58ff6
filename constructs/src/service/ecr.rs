//! The image repository: scanned on push, immutable tags, KMS-encrypted, bounded by a
//! lifecycle policy.

use pantri_synth::cfn::ecr::repository::{
    EncryptionConfiguration, EncryptionConfigurationEncryptionType, ImageScanningConfiguration,
    ImageTagMutability, LifecyclePolicy,
};
use pantri_synth::cfn::ecr::CfnRepository;
use pantri_synth::{Res, Scope};
use serde_json::json;

use super::{Names, NextJsServiceProps};
use crate::Removal;

/// The lifecycle policy: untagged layers (failed or superseded pushes) go after a week, and
/// only the newest `keep` images stay, so storage stays bounded while rollbacks remain possible.
fn lifecycle_policy_text(keep: u32) -> String {
    json!({
        "rules": [
            {
                "rulePriority": 1,
                "description": "Expire untagged images after 7 days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 7
                },
                "action": {"type": "expire"}
            },
            {
                "rulePriority": 2,
                "description": format!("Keep the newest {keep} images"),
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": keep
                },
                "action": {"type": "expire"}
            }
        ]
    })
    .to_string()
}

pub(super) fn repository(
    s: &mut Scope<'_>,
    names: &Names,
    props: &NextJsServiceProps,
) -> Res<CfnRepository> {
    let repo = s.resource(
        "Repository",
        CfnRepository::new()
            .repository_name(names.base.clone())
            .image_scanning_configuration(ImageScanningConfiguration::new().scan_on_push(true))
            .image_tag_mutability(ImageTagMutability::Immutable)
            // KMS with the AWS-managed `aws/ecr` key: envelope encryption audited in
            // CloudTrail, and pulls need no key policy or kms:Decrypt grant on the roles.
            .encryption_configuration(EncryptionConfiguration::new(
                EncryptionConfigurationEncryptionType::Kms,
            ))
            .lifecycle_policy(
                LifecyclePolicy::new()
                    .lifecycle_policy_text(lifecycle_policy_text(props.keep_images)),
            )
            // A destroyed (dev) repository still holds images; without this the delete fails.
            .empty_on_delete(props.removal == Removal::Destroy),
    );
    if let Some(o) = s.app().options_mut(repo) {
        o.removal_policy(props.removal.policy());
    }
    repo
}
