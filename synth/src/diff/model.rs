//! The result types of the diff engine.
//!
//! They derive `Serialize` with camelCase field names; that serialization is the `stacks` part
//! of the stable JSON shape documented on [`crate::diff::render::json`]. Adding a field is a
//! compatible change; renaming or removing one bumps `schemaVersion`.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What a change does to a deployed resource, from least to most disruptive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Impact {
    /// An in-place update.
    Update,
    /// The schema says the change replaces the resource depending on the values.
    MayReplace,
    /// CloudFormation creates a new physical resource and deletes the old one.
    Replace,
}

impl Impact {
    /// The wording used by the renderers.
    pub fn label(self) -> &'static str {
        match self {
            Impact::Update => "update",
            Impact::MayReplace => "may replace",
            Impact::Replace => "requires replacement",
        }
    }
}

/// What happens to a resource as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ResourceChangeKind {
    /// A new logical ID.
    Added,
    /// The logical ID disappears and CloudFormation deletes the physical resource.
    Removed,
    /// The logical ID disappears but its `DeletionPolicy` keeps the physical resource.
    Orphaned,
    /// Properties or attributes change; see `impact` for update or replacement.
    Modified,
    /// The type changes: always a replacement.
    TypeChanged,
    /// The logical ID changed while the construct path stayed (see [`Move`]): a replacement.
    Moved,
    /// Only `Metadata` changed: not a change of the stack, never counted.
    MetadataOnly,
}

/// One property (or nested value) that changes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyChange {
    /// The path inside `Properties`, e.g. `ContainerDefinitions[0].Cpu`.
    pub path: String,
    /// The old value; `None` when the property is added.
    pub old: Option<Value>,
    /// The new value; `None` when the property is removed.
    pub new: Option<Value>,
    /// What this change does to the resource.
    pub impact: Impact,
    /// Set when the value changes only because a referenced resource is replaced
    /// (the logical ID of that resource).
    pub caused_by: Option<String>,
}

/// A change of a resource attribute other than `Properties` (`DependsOn`, `DeletionPolicy`,
/// `UpdateReplacePolicy`, `Condition`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeChange {
    /// The attribute name.
    pub name: String,
    /// Old value, if any.
    pub old: Option<Value>,
    /// New value, if any.
    pub new: Option<Value>,
}

/// Everything that changes about one logical ID.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceChange {
    /// The logical ID (the new one for a move).
    pub logical_id: String,
    /// The resource type (the new one for a type change).
    pub resource_type: String,
    /// The old type, when it changed.
    pub old_type: Option<String>,
    /// The construct path from `Metadata."aws:cdk:path"`, if known.
    pub construct_path: Option<String>,
    /// What happens to the resource.
    pub kind: ResourceChangeKind,
    /// The worst impact of its changes; `None` for added, removed, orphaned and metadata-only.
    pub impact: Option<Impact>,
    /// For a move: the old logical ID.
    pub moved_from: Option<String>,
    /// Property-level changes, in template order.
    pub properties: Vec<PropertyChange>,
    /// Changes of the other resource attributes.
    pub attributes: Vec<AttributeChange>,
    /// True when the resource is stateful (see [`crate::diff::is_stateful`]).
    pub stateful: bool,
}

/// A resource whose logical ID changed while its construct path stayed the same.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Move {
    /// The logical ID that disappears.
    pub from: String,
    /// The logical ID that appears.
    pub to: String,
    /// The construct path both share.
    pub construct_path: String,
    /// The resource type.
    pub resource_type: String,
    /// True when the old resource's `DeletionPolicy` keeps it after the move.
    pub old_retained: bool,
}

/// Why a stateful resource is at risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StatefulRisk {
    /// Replaced in place (new physical resource, data not carried over).
    Replaced,
    /// Deleted.
    Destroyed,
    /// Its logical ID changes: CloudFormation creates a new one.
    Moved,
}

/// A stateful resource that would be replaced or destroyed: shown first, loudly.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatefulChange {
    /// The logical ID (the old one for a move).
    pub logical_id: String,
    /// The resource type.
    pub resource_type: String,
    /// The construct path, if known.
    pub construct_path: Option<String>,
    /// What happens to it.
    pub risk: StatefulRisk,
    /// Why, in words (e.g. `BucketName requires replacement`).
    pub reason: String,
}

/// A change of a Parameters/Conditions/Mappings/Outputs entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryChange {
    /// The entry name.
    pub name: String,
    /// Old value; `None` when added.
    pub old: Option<Value>,
    /// New value; `None` when removed.
    pub new: Option<Value>,
}

/// Added or removed, for security table rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RowChange {
    /// In the new template only.
    Added,
    /// In the old template only.
    Removed,
}

/// An IAM statement that appears or disappears.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IamStatementChange {
    /// Added or removed.
    pub change: RowChange,
    /// The logical ID of the resource that holds the statement.
    pub source: String,
    /// `Allow` or `Deny`.
    pub effect: String,
    /// Actions (`NotAction` entries are prefixed with `NOT `), sorted.
    pub actions: Vec<String>,
    /// Resources, or for a resource policy the resource it is attached to, sorted.
    pub resources: Vec<String>,
    /// Principals (`AWS:arn`, `Service:ecs-tasks.amazonaws.com`), or for an identity policy the
    /// identities it is attached to, sorted.
    pub principals: Vec<String>,
    /// The `Condition` block as compact JSON, if any.
    pub condition: Option<String>,
}

impl IamStatementChange {
    /// True when this row grants more: an added Allow or a removed Deny, or any change of a
    /// policy pantri cannot read (effect `Unknown`).
    pub fn is_broadening(&self) -> bool {
        match self.change {
            _ if self.effect == "Unknown" => true,
            RowChange::Added => self.effect == "Allow",
            RowChange::Removed => self.effect == "Deny",
        }
    }
}

/// Ingress or egress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    /// Inbound.
    Ingress,
    /// Outbound.
    Egress,
}

/// A security-group rule that appears or disappears.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroupRuleChange {
    /// Added or removed.
    pub change: RowChange,
    /// The logical ID of the resource that holds the rule (the group, or a standalone rule).
    pub source: String,
    /// The security group (`${LogicalId.GroupId}` style when it is a reference).
    pub group: String,
    /// Ingress or egress.
    pub direction: Direction,
    /// `tcp`, `udp`, `icmp`, `all` or a protocol number.
    pub protocol: String,
    /// `443`, `1024-65535` or `all`.
    pub ports: String,
    /// The other side: a CIDR, an IPv6 CIDR, a security group or a prefix list.
    pub peer: String,
}

/// A change that grants or exposes without being a statement or a rule: a permissions boundary,
/// a new IAM user or access key, a public access block, a web ACL, a listener rule, MFA.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessChange {
    /// The logical ID of the resource.
    pub source: String,
    /// Its type.
    pub resource_type: String,
    /// What changes, in words.
    pub what: String,
    /// True when it widens access (or pantri cannot tell that it does not).
    pub broadening: bool,
}

impl SecurityGroupRuleChange {
    /// True when this row opens more: every added rule but the CDK's "disallow all" placeholder
    /// (`255.255.255.255/32`, which matches no address).
    pub fn is_broadening(&self) -> bool {
        self.change == RowChange::Added && self.peer != "255.255.255.255/32"
    }
}

/// Which side of a cross-stack use a [`CrossStackChange`] is shown on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CrossStackRole {
    /// This stack exports the value: the change fails while another stack imports it.
    Producer,
    /// This stack imports the value that changes in another stack.
    Consumer,
}

/// A value another stack uses, removed or changed by this change.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossStackChange {
    /// Producer (the update fails) or consumer (what it imports changes).
    pub role: CrossStackRole,
    /// `export NAME`, or `output NAME (parameter P)`.
    pub value: String,
    /// The importing stack (producer side) or the exporting stack (consumer side).
    pub other_stack: String,
    /// What happens and what to do, in words.
    pub reason: String,
}

/// Whether the stack itself appears, disappears or stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StackStatus {
    /// The stack does not exist yet.
    Created,
    /// The stack would be deleted.
    Deleted,
    /// The stack exists before and after, and something about it changes.
    Updated,
    /// The stack exists before and after, and nothing but metadata changes.
    Unchanged,
}

/// Counts by impact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Resources added.
    pub added: usize,
    /// Resources destroyed.
    pub removed: usize,
    /// Resources removed from the stack but kept by their `DeletionPolicy`.
    pub orphaned: usize,
    /// Resources updated in place.
    pub updated: usize,
    /// Resources that may be replaced.
    pub may_replace: usize,
    /// Resources replaced (including type changes).
    pub replaced: usize,
    /// Resources whose logical ID moved.
    pub moved: usize,
}

impl Counts {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Counts) {
        self.added += other.added;
        self.removed += other.removed;
        self.orphaned += other.orphaned;
        self.updated += other.updated;
        self.may_replace += other.may_replace;
        self.replaced += other.replaced;
        self.moved += other.moved;
    }
}

/// The diff of one stack.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StackDiff {
    /// Display name, e.g. `prod/App`.
    pub name: String,
    /// Created, deleted or updated.
    pub status: StackStatus,
    /// Parameters changes.
    pub parameters: Vec<EntryChange>,
    /// Conditions changes.
    pub conditions: Vec<EntryChange>,
    /// Mappings changes.
    pub mappings: Vec<EntryChange>,
    /// Outputs changes.
    pub outputs: Vec<EntryChange>,
    /// Resource changes: removed and modified in old template order, then added in new order.
    pub resources: Vec<ResourceChange>,
    /// Logical ID moves.
    pub moves: Vec<Move>,
    /// Stateful resources replaced or destroyed.
    pub stateful: Vec<StatefulChange>,
    /// IAM statements added or removed.
    pub iam: Vec<IamStatementChange>,
    /// Security-group rules added or removed.
    pub security_groups: Vec<SecurityGroupRuleChange>,
    /// Other changes of who may reach what (boundaries, identities, public access, web ACLs,
    /// listener rules, MFA).
    pub access: Vec<AccessChange>,
    /// Values other stacks import that this change removes or changes, and imported values that
    /// change in other stacks.
    pub cross_stack: Vec<CrossStackChange>,
    /// Stack tag changes (name → (old, new)).
    pub tags: BTreeMap<String, (Option<String>, Option<String>)>,
    /// Termination protection (old, new), when it changes.
    pub termination_protection: Option<(bool, bool)>,
    /// Counts by impact (metadata-only changes are not counted).
    pub counts: Counts,
}

impl StackDiff {
    /// True when nothing but metadata changes.
    pub fn is_empty(&self) -> bool {
        self.parameters.is_empty()
            && self.conditions.is_empty()
            && self.mappings.is_empty()
            && self.outputs.is_empty()
            && self
                .resources
                .iter()
                .all(|r| r.kind == ResourceChangeKind::MetadataOnly)
            && self.tags.is_empty()
            && self.cross_stack.is_empty()
            && self.termination_protection.is_none()
            && matches!(self.status, StackStatus::Updated | StackStatus::Unchanged)
    }

    /// True when an IAM statement, security-group rule or access change grants more than before.
    pub fn has_security_broadening(&self) -> bool {
        !self.broadening().is_empty()
    }

    /// True when there are security changes at all.
    pub fn has_security_changes(&self) -> bool {
        !self.iam.is_empty() || !self.security_groups.is_empty() || !self.access.is_empty()
    }

    /// Every broadening finding as (logical ID of the resource, why in words): what deploy's
    /// approval asks about.
    pub fn broadening(&self) -> Vec<(&str, String)> {
        let mut out = Vec::new();
        for s in self.iam.iter().filter(|s| s.is_broadening()) {
            let verb = match s.change {
                RowChange::Added => "adds",
                RowChange::Removed => "removes",
            };
            out.push((
                s.source.as_str(),
                format!("{verb} {} {}", s.effect, s.actions.join(", ")),
            ));
        }
        for r in self.security_groups.iter().filter(|r| r.is_broadening()) {
            let dir = match r.direction {
                Direction::Ingress => "ingress from",
                Direction::Egress => "egress to",
            };
            out.push((
                r.source.as_str(),
                format!("opens {} {} {dir} {}", r.protocol, r.ports, r.peer),
            ));
        }
        for a in self.access.iter().filter(|a| a.broadening) {
            out.push((a.source.as_str(), a.what.clone()));
        }
        out
    }
}

/// The diff of every stack of an assembly.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssemblyDiff {
    /// One entry per input stack, in input order (including unchanged ones).
    pub stacks: Vec<StackDiff>,
}

impl AssemblyDiff {
    /// True when no stack has differences.
    pub fn is_empty(&self) -> bool {
        self.stacks.iter().all(StackDiff::is_empty)
    }

    /// True when any stack broadens IAM or security-group access.
    pub fn has_security_broadening(&self) -> bool {
        self.stacks.iter().any(StackDiff::has_security_broadening)
    }

    /// The stacks that have differences.
    pub fn changed_stacks(&self) -> impl Iterator<Item = &StackDiff> {
        self.stacks.iter().filter(|s| !s.is_empty())
    }

    /// Counts summed over all stacks.
    pub fn counts(&self) -> Counts {
        let mut total = Counts::default();
        for s in &self.stacks {
            total.add(&s.counts);
        }
        total
    }
}
