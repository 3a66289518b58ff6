//! Checks of a synthesized tree against CloudFormation's rules and limits. Each adds problems
//! with the construct path (or stack path) they concern; none stops at the first.

use crate::value::FastMap;
use std::collections::{BTreeMap, BTreeSet};

use crate::json::JsonValue as Json;

use crate::error::Problem;
use crate::resolve::StackInfo;
use crate::tree::{App, Environment, NodeId};

/// CloudFormation's per-template limits.
pub const MAX_RESOURCES: usize = 500;
/// Outputs per template.
pub const MAX_OUTPUTS: usize = 200;
/// Parameters per template.
pub const MAX_PARAMETERS: usize = 200;
/// Mappings per template.
pub const MAX_MAPPINGS: usize = 200;
/// Largest template body passed inline; larger ones go through S3.
pub const MAX_INLINE_TEMPLATE_BYTES: usize = 51_200;
/// Largest template body CloudFormation accepts (through S3).
pub const MAX_TEMPLATE_BYTES: usize = 1_000_000;

pub(crate) fn environment(path: &str, env: &Environment, problems: &mut Vec<Problem>) {
    if env.account.len() != 12 || !env.account.chars().all(|c| c.is_ascii_digit()) {
        problems.push(Problem::error(
            path,
            format!("account {:?} is not a 12-digit AWS account id", env.account),
        ));
    }
    let parts: Vec<&str> = env.region.split('-').collect();
    let region_ok = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if !region_ok {
        problems.push(Problem::error(
            path,
            format!(
                "region {:?} is not an AWS region name such as eu-west-1",
                env.region
            ),
        ));
    }
}

pub(crate) fn stack_name(path: &str, name: &str, problems: &mut Vec<Problem>) {
    let ok = name.len() <= 128
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        problems.push(Problem::error(
            path,
            format!("stack name {name:?} is invalid: it must start with a letter and hold at most 128 letters, digits and hyphens"),
        ));
    }
}

/// What the checks that span the whole app have seen in the batches of stacks before (an app
/// whose stages are built a batch at a time, [`App::defer_in_parallel`], is synthesized batch
/// by batch): the first holder of each stack name, artifact id and export name, by path. The
/// batches come in tree order, as the stacks in a batch do, so the first is the same whatever
/// the batches are.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// (account, region) → stack name → the path of the first stack of that name.
    stack_names: FastMap<(String, String), FastMap<String, String>>,
    /// Artifact id → the path of the first stack with it.
    artifact_ids: FastMap<String, String>,
    /// Environment → export name → the first exporter (`stack path/output`).
    exports: FastMap<Option<Environment>, FastMap<String, String>>,
}

/// Two stacks of one name in one account and region cannot both be deployed.
pub(crate) fn unique_stack_names(
    app: &App,
    stacks: &FastMap<NodeId, StackInfo>,
    seen: &mut Seen,
    problems: &mut Vec<Problem>,
) {
    for node in sorted_keys(stacks) {
        let info = &stacks[&node];
        let env = (info.account.clone(), info.region.clone());
        let names = seen.stack_names.entry(env).or_default();
        match names.get(&info.stack_name) {
            Some(other) => problems.push(Problem::error(
                app.path(node),
                format!(
                    "stack name {} is also used by {other} in the same account and region: give one of them another name",
                    info.stack_name,
                ),
            )),
            None => {
                names.insert(info.stack_name.clone(), app.path(node).to_owned());
            }
        }
    }
}

/// Two stacks whose artifact ids (`stage-stack`, other characters than letters, digits and
/// hyphens made hyphens) are the same would write the same template file: one would silently
/// replace the other.
pub(crate) fn unique_artifact_ids(
    app: &App,
    stacks: &FastMap<NodeId, StackInfo>,
    seen: &mut Seen,
    problems: &mut Vec<Problem>,
) {
    for node in sorted_keys(stacks) {
        let id = stacks[&node].artifact_id.as_str();
        match seen.artifact_ids.get(id) {
            Some(other) => problems.push(Problem::error(
                app.path(node),
                format!(
                    "the stack's artifact id {id} (its file {id}.template.json) is also {other}'s: give one of the stacks another id",
                ),
            )),
            None => {
                seen.artifact_ids
                    .insert(id.to_owned(), app.path(node).to_owned());
            }
        }
    }
}

fn sorted_keys(stacks: &FastMap<NodeId, StackInfo>) -> Vec<NodeId> {
    let mut nodes: Vec<NodeId> = stacks.keys().copied().collect();
    nodes.sort();
    nodes
}

/// Finds one cycle in a directed graph, as the list of nodes around it.
fn find_cycle(edges: &BTreeMap<NodeId, BTreeSet<NodeId>>) -> Option<Vec<NodeId>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        n: NodeId,
        edges: &BTreeMap<NodeId, BTreeSet<NodeId>>,
        marks: &mut FastMap<NodeId, Mark>,
        path: &mut Vec<NodeId>,
    ) -> Option<Vec<NodeId>> {
        match marks.get(&n) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = path.iter().position(|p| *p == n).unwrap_or(0);
                return Some(path[start..].to_vec());
            }
            None => {}
        }
        marks.insert(n, Mark::Open);
        path.push(n);
        for next in edges.get(&n).into_iter().flatten() {
            if let Some(c) = visit(*next, edges, marks, path) {
                return Some(c);
            }
        }
        path.pop();
        marks.insert(n, Mark::Done);
        None
    }
    let mut marks = FastMap::default();
    for n in edges.keys() {
        if let Some(c) = visit(*n, edges, &mut marks, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

/// Reports one cycle of `edges`, if any, as a problem at its first node, with what to do.
fn report_cycle(
    app: &App,
    edges: &BTreeMap<NodeId, BTreeSet<NodeId>>,
    what: &str,
    todo: &str,
    problems: &mut Vec<Problem>,
) {
    if let Some(cycle) = find_cycle(edges) {
        let names: Vec<&str> = cycle
            .iter()
            .chain(cycle.first())
            .map(|n| app.path(*n))
            .collect();
        problems.push(Problem::error(
            app.path(cycle[0]),
            format!("{what}: {}; {todo}", names.join(" -> ")),
        ));
    }
}

pub(crate) fn depends_on_cycles(
    app: &App,
    edges: &BTreeMap<NodeId, BTreeSet<NodeId>>,
    problems: &mut Vec<Problem>,
) {
    report_cycle(
        app,
        edges,
        "dependency cycle (DependsOn and references)",
        "CloudFormation cannot order these: remove one dependency",
        problems,
    );
}

pub(crate) fn stack_dependency_cycles(
    app: &App,
    deps: &BTreeMap<NodeId, BTreeSet<NodeId>>,
    problems: &mut Vec<Problem>,
) {
    report_cycle(
        app,
        deps,
        "stacks depend on each other in a cycle",
        "move the shared resources into one stack or pass the value through a parameter",
        problems,
    );
}

pub(crate) fn duplicate_exports(
    app: &App,
    exports: &[(NodeId, &str, &Json)],
    seen: &mut Seen,
    problems: &mut Vec<Problem>,
) {
    for &(stack, output, name) in exports {
        let Some(literal) = name.as_str() else {
            continue;
        };
        // A few exports a stack: the key's copy costs little.
        let names = seen.exports.entry(app.env_of(stack).cloned()).or_default();
        match names.get(literal) {
            Some(other) => problems.push(Problem::error(
                format!("{}/{output}", app.path(stack)),
                format!("export name {literal} is also exported by {other}: export names are unique per account and region"),
            )),
            None => {
                names.insert(literal.to_owned(), format!("{}/{output}", app.path(stack)));
            }
        }
    }
}

impl PartialOrd for Environment {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Environment {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.account, &self.region).cmp(&(&other.account, &other.region))
    }
}

/// The number of entries of the template sections CloudFormation limits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SectionCounts {
    pub resources: usize,
    pub outputs: usize,
    pub parameters: usize,
    pub mappings: usize,
}

pub(crate) fn template_limits(
    path: &str,
    counts: SectionCounts,
    size: usize,
    problems: &mut Vec<Problem>,
) {
    for (section, n, max) in [
        ("Resources", counts.resources, MAX_RESOURCES),
        ("Outputs", counts.outputs, MAX_OUTPUTS),
        ("Parameters", counts.parameters, MAX_PARAMETERS),
        ("Mappings", counts.mappings, MAX_MAPPINGS),
    ] {
        if n > max {
            problems.push(Problem::error(
                path,
                format!("the template has {n} {section}, over CloudFormation's limit of {max}: split the stack"),
            ));
        }
    }
    if size > MAX_TEMPLATE_BYTES {
        problems.push(Problem::error(
            path,
            format!("the template is {size} bytes, over CloudFormation's limit of {MAX_TEMPLATE_BYTES}: split the stack"),
        ));
    } else if size > MAX_INLINE_TEMPLATE_BYTES {
        problems.push(Problem::warning(
            path,
            format!("the template is {size} bytes, over {MAX_INLINE_TEMPLATE_BYTES}: deploy uploads it to an S3 staging bucket"),
        ));
    }
}
