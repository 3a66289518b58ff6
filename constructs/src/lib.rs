//! pantri's higher-level constructs, composed from the typed resources of
//! [`pantri_synth::cfn`]: each is a function of a scope, an id and props, with secure defaults.
//!
//! Constructs in other stacks refer to each other through the small `*Ref` value types below,
//! made of typed expressions; a value that crosses stacks becomes an export/import at synth time.

pub mod auth;
pub mod connections;
pub mod dns;
pub mod edge;
pub mod grants;
pub mod logs;
pub mod monitoring;
pub mod naming;
pub mod network;
pub mod policy;
pub mod secrets;
pub mod service;
pub mod storage;
#[doc(hidden)]
pub mod testing;

pub use naming::Naming;
use pantri_synth::{DeletionPolicy, ResourceOptions, Str};

/// What happens to stateful resources (buckets, user pools, log groups, repositories) when the
/// stack deletes or replaces them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Removal {
    /// Keep them (prod): DeletionPolicy `RetainExceptOnCreate` and UpdateReplacePolicy `Retain`.
    /// A resource whose creating operation rolls back is deleted, so a failed first deploy leaves
    /// no named leftover that makes the retry fail with "already exists".
    #[default]
    Retain,
    /// Delete them with the stack (dev).
    Destroy,
}

impl Removal {
    /// The `DeletionPolicy`. `UpdateReplacePolicy` has no `RetainExceptOnCreate` (a replacement
    /// is never a rolled-back create): [`Removal::apply`] sets both.
    pub fn policy(self) -> DeletionPolicy {
        match self {
            Removal::Retain => DeletionPolicy::RetainExceptOnCreate,
            Removal::Destroy => DeletionPolicy::Delete,
        }
    }

    /// Sets `DeletionPolicy` and `UpdateReplacePolicy` on a resource's options.
    pub fn apply(self, options: &mut ResourceOptions) {
        options.deletion_policy = Some(self.policy());
        options.update_replace_policy = Some(match self {
            Removal::Retain => DeletionPolicy::Retain,
            Removal::Destroy => DeletionPolicy::Delete,
        });
    }
}

/// A network, as other constructs need it.
#[derive(Clone, Debug, PartialEq)]
pub struct VpcRef {
    /// The VPC id.
    pub vpc_id: Str,
    /// The VPC's CIDR block.
    pub cidr_block: Str,
    /// Public subnets, one per availability zone, in zone order.
    pub public_subnet_ids: Vec<Str>,
    /// Private subnets (egress through NAT), one per availability zone, in zone order.
    pub private_subnet_ids: Vec<Str>,
}

/// An S3 bucket, as other constructs need it.
#[derive(Clone, Debug, PartialEq)]
pub struct BucketRef {
    /// The bucket name.
    pub name: Str,
    /// The bucket ARN.
    pub arn: Str,
    /// The regional domain name (`bucket.s3.region.amazonaws.com`), for CloudFront origins.
    pub regional_domain_name: Str,
}

/// A Route 53 hosted zone.
#[derive(Clone, Debug, PartialEq)]
pub struct HostedZoneRef {
    /// The zone id.
    pub zone_id: Str,
    /// The zone's domain name, without the final dot.
    pub zone_name: String,
}

/// A Cognito user pool.
#[derive(Clone, Debug, PartialEq)]
pub struct UserPoolRef {
    /// The pool id.
    pub id: Str,
    /// The pool ARN.
    pub arn: Str,
}

/// A Secrets Manager secret.
#[derive(Clone, Debug, PartialEq)]
pub struct SecretRef {
    /// The secret ARN.
    pub arn: Str,
    /// The secret name (literal, so that dynamic references can name it).
    pub name: String,
}
