//! Publishing a container image: skip when the repository has the tag, else build, log in and
//! push.

use std::path::Path;

use pantri_synth::asset::hash_image;
use pantri_synth::asset::schema::{ImageAssetEntry, ImageDestination};

use super::api::{BuildRequest, ContainerTool, ImageRegistry};
use super::{PublishError, SYNTHESIZE_AGAIN};

/// What publishing an image did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageOutcome {
    /// The tag was in the repository already: nothing built or pushed.
    Present(String),
    /// Built and pushed to this reference.
    Pushed(String),
}

/// Whether `host` is a real ECR registry: `<account>.dkr.ecr.<region>.amazonaws.com` (or
/// `.amazonaws.com.cn`).
pub fn is_ecr_host(host: &str) -> bool {
    let host = host
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let Some(rest) = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))
    else {
        return false;
    };
    rest.contains(".dkr.ecr.")
}

/// Why an image is not pushed to `host`, a real ECR registry, while AWS calls go to the
/// emulator at `endpoint`.
pub fn refusal(host: &str, endpoint: &str) -> PublishError {
    PublishError::Refused(format!(
        "not pushing to {host}, a real ECR registry, while AWS calls go to the emulator at {endpoint}: set PANTRI_IMAGE_REGISTRY=127.0.0.1:<port> to push to a local registry, or deploy with --no-publish"
    ))
}

/// Publishes one image: `DescribeImages` (or the registry's equivalent) first; only a missing
/// tag is built (after checking the context still has the hash the assembly recorded), the
/// CLI logged in with the registry's token, and pushed.
///
/// `emulator` names the endpoint override in effect when AWS calls go to this machine: then a
/// push to a real ECR host is refused before anything is built (the registry token came from
/// the emulator, and the image must not leave an emulated deploy).
pub async fn publish_image<R: ImageRegistry, T: ContainerTool>(
    registry: &R,
    tool: &T,
    entry: &ImageAssetEntry,
    dest: &ImageDestination,
    account: &str,
    context: &Path,
    emulator: Option<&str>,
) -> Result<ImageOutcome, PublishError> {
    let region = dest.region.as_deref().unwrap_or_default();
    let host = registry.host(account, region);
    let image = format!("{host}/{}:{}", dest.repository_name, dest.image_tag);
    let present = registry
        .has_tag(&dest.repository_name, &dest.image_tag)
        .await
        .map_err(|e| PublishError::api(&dest.repository_name, e))?;
    if present {
        return Ok(ImageOutcome::Present(image));
    }
    if let (Some(endpoint), true) = (emulator, is_ecr_host(&host)) {
        return Err(refusal(&host, endpoint));
    }
    let source = &entry.source;
    let dockerfile = source.docker_file.as_deref().unwrap_or("Dockerfile");
    let now = hash_image(context, source).map_err(|e| PublishError::Source(e.to_string()))?;
    if now != dest.image_tag {
        return Err(PublishError::Source(format!(
            "the build context {} changed since the assembly was synthesized: {SYNTHESIZE_AGAIN}",
            context.display()
        )));
    }
    let request = BuildRequest {
        context,
        dockerfile,
        build_args: &source.docker_build_args,
        target: source.docker_build_target.as_deref(),
        platform: source.platform.as_deref(),
        image: &image,
    };
    tool.build(&request).await.map_err(PublishError::Tool)?;
    if let Some(login) = registry
        .login()
        .await
        .map_err(|e| PublishError::api(&dest.repository_name, e))?
    {
        tool.login(&host, &login)
            .await
            .map_err(PublishError::Tool)?;
    }
    tool.push(&image).await.map_err(PublishError::Tool)?;
    Ok(ImageOutcome::Pushed(image))
}
