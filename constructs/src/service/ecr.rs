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
    build(
        s,
        "Repository",
        &names.base,
        props.keep_images,
        props.removal,
    )
}

fn build(
    s: &mut Scope<'_>,
    id: &str,
    name: &str,
    keep_images: u32,
    removal: Removal,
) -> Res<CfnRepository> {
    let repo = s.resource(
        id,
        CfnRepository::new()
            .repository_name(name)
            .image_scanning_configuration(ImageScanningConfiguration::new().scan_on_push(true))
            .image_tag_mutability(ImageTagMutability::Immutable)
            // KMS with the AWS-managed `aws/ecr` key: envelope encryption audited in
            // CloudTrail, and pulls need no key policy or kms:Decrypt grant on the roles.
            .encryption_configuration(EncryptionConfiguration::new(
                EncryptionConfigurationEncryptionType::Kms,
            ))
            .lifecycle_policy(
                LifecyclePolicy::new().lifecycle_policy_text(lifecycle_policy_text(keep_images)),
            )
            // A destroyed (dev) repository still holds images; without this the delete fails.
            .empty_on_delete(removal == Removal::Destroy),
    );
    if let Some(o) = s.app().options_mut(repo) {
        removal.apply(o);
    }
    repo
}

/// The tuning of an [`ImageRepository`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRepositoryProps {
    /// Images kept; older ones expire. Default 30.
    pub keep_images: u32,
    /// Whether the repository (and its images) outlive the stack. Default Retain.
    pub removal: Removal,
}

impl Default for ImageRepositoryProps {
    fn default() -> Self {
        ImageRepositoryProps {
            keep_images: 30,
            removal: Removal::Retain,
        }
    }
}

/// The service's image repository on its own, for a stack deployed before the service: the
/// first image must be pushed before the service can start, so the repository belongs with the
/// stateful resources rather than with the service that pulls from it.
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// use pantri_constructs::service::{ImageRepository, ImageRepositoryProps};
/// let repository = ImageRepository::new(
///     &mut stack,
///     "Repository",
///     "orders-dev",
///     ImageRepositoryProps::default(),
/// );
/// let _push_to = repository.uri();
/// # assert!(pantri_constructs::testing::errors(&app).is_empty());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ImageRepository {
    repo: Res<CfnRepository>,
}

impl ImageRepository {
    /// Adds the repository `name` (`orders-dev`): scanned on push, immutable tags, KMS,
    /// lifecycle-bounded.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        name: &str,
        props: ImageRepositoryProps,
    ) -> ImageRepository {
        let mut s = scope.construct(id, "pantri.ImageRepository");
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_./".contains(c))
        {
            s.error(format!(
                "repository name {name:?} is invalid: use lower-case letters, digits and - _ . /"
            ));
        }
        if props.keep_images == 0 {
            s.error("keep_images is 0: keep at least one image (the running one)");
        }
        let repo = build(&mut s, "Resource", name, props.keep_images, props.removal);
        ImageRepository { repo }
    }

    /// The repository, to pass as [`NextJsServiceProps::repository`].
    pub fn resource(&self) -> Res<CfnRepository> {
        self.repo
    }

    /// The URI to push images to.
    pub fn uri(&self) -> pantri_synth::Str {
        self.repo.attr_repository_uri()
    }
}
