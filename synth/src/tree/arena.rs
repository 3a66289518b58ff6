//! The nodes of an app, in shards, and building parts of an app on every core.
//!
//! A [`NodeId`] names a shard (its high [`SHARD_BITS`] bits) and a node in it. An app starts
//! with one shard holding the root. [`App::build_in_parallel`] gives each chunk of its items a
//! fork of the app (the root and a shard of its own), builds the forks on every core, and joins
//! them: each fork's shard becomes the app's, unchanged. Nothing is renumbered, so the ids
//! that constructs keep in their values stay valid. Shards are numbered in item order and nodes
//! in a shard in the order they were added, so ids sort in the order a serial build would have
//! given them.

use std::ops::Range;

use rayon::prelude::*;

use super::{App, Node, NodeId, NodeKind};
use crate::error::Problem;

/// The bits of a [`NodeId`] that name its shard.
const SHARD_BITS: u32 = 8;
/// The bits of a [`NodeId`] that name the node in its shard (16 M nodes).
const LOCAL_BITS: u32 = 32 - SHARD_BITS;
const MAX_SHARDS: usize = 1 << SHARD_BITS;
const MAX_LOCAL: usize = 1 << LOCAL_BITS;
/// At most this many forks per [`App::build_in_parallel`]: enough to keep every core busy when
/// items take unequal time, few enough to leave shards for more calls.
const MAX_FORKS: usize = 32;

impl NodeId {
    fn new(shard: usize, local: usize) -> NodeId {
        debug_assert!(shard < MAX_SHARDS && local < MAX_LOCAL);
        NodeId(((shard as u32) << LOCAL_BITS) | local as u32)
    }

    fn shard(self) -> usize {
        (self.0 >> LOCAL_BITS) as usize
    }

    fn local(self) -> usize {
        (self.0 as usize) & (MAX_LOCAL - 1)
    }
}

/// The nodes of an app.
#[derive(Debug)]
pub(super) struct Arena {
    shards: Vec<Vec<Node>>,
    /// The shard new nodes go to: the last one, so that ids keep the order of their adding.
    current: usize,
}

impl Arena {
    /// An arena of the root alone.
    pub(super) fn with_root(root: Node) -> Arena {
        Arena {
            shards: vec![vec![root]],
            current: 0,
        }
    }

    pub(super) fn get(&self, id: NodeId) -> Option<&Node> {
        self.shards.get(id.shard())?.get(id.local())
    }

    pub(super) fn get_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        self.shards.get_mut(id.shard())?.get_mut(id.local())
    }

    pub(super) fn push(&mut self, node: Node) -> NodeId {
        let shard = &mut self.shards[self.current];
        assert!(
            shard.len() < MAX_LOCAL,
            "more than {MAX_LOCAL} constructs built in one part of the app"
        );
        shard.push(node);
        NodeId::new(self.current, shard.len() - 1)
    }

    fn root(&self) -> &Node {
        &self.shards[0][0]
    }

    fn root_mut(&mut self) -> &mut Node {
        &mut self.shards[0][0]
    }
}

impl App {
    /// Builds a part of the app for each item on every core: `build` gets an app to add to (its
    /// root is this app's root) and one item. The result is the app a loop over the items would
    /// have built, in the same order: the nodes, their ids' order, the problems and the assets.
    ///
    /// `build` may add nodes anywhere below the root and use the nodes it adds; it must not use
    /// the nodes this app had before the call (their ids are not in the app it gets; using one
    /// panics), nor change the root itself (its tags or dependencies: that is reported as an
    /// error at synthesis). Stages are the natural items: each is a world of its own.
    pub fn build_in_parallel<T: Sync>(&mut self, items: &[T], build: impl Fn(&mut App, &T) + Sync) {
        let free = MAX_SHARDS - self.nodes.shards.len();
        let forks = items.len().min(free).min(MAX_FORKS);
        if forks < 2 {
            for item in items {
                build(self, item);
            }
            return;
        }
        let first = self.nodes.shards.len();
        let root = self.nodes.root();
        let chunk = items.len().div_ceil(forks);
        let built: Vec<App> = items
            .par_chunks(chunk)
            .enumerate()
            .map(|(i, chunk)| {
                let mut fork = App {
                    nodes: Arena {
                        shards: (0..=first + i).map(|_| Vec::new()).collect(),
                        current: first + i,
                    },
                    problems: Vec::new(),
                    assets: Vec::new(),
                    deferred: Vec::new(),
                };
                fork.nodes.shards[0].push(root_copy(root));
                for item in chunk {
                    build(&mut fork, item);
                }
                fork
            })
            .collect();
        // The ids below the root, to find a fork's child that repeats one (a fork cannot see
        // the others' children, nor the root's earlier ones).
        let mut root_ids: std::collections::HashSet<String> = self
            .children(self.root_id())
            .iter()
            .map(|c| self.id(*c).to_owned())
            .collect();
        for mut fork in built {
            let shard = fork.nodes.current;
            debug_assert_eq!(shard, self.nodes.shards.len());
            let nodes = std::mem::take(&mut fork.nodes.shards[shard]);
            self.nodes.shards.push(nodes);
            self.nodes.current = shard;
            let fork_root = &mut fork.nodes.shards[0][0];
            let children = std::mem::take(&mut fork_root.children);
            if !same_root(fork_root, self.nodes.root()) {
                self.problems.push(Problem::error(
                    "",
                    "a builder given to App::build_in_parallel changed the app's root (its tags, \
                     dependencies or type): make app-wide changes before or after the parallel build",
                ));
            }
            // Repeats within the fork were reported as it added them.
            let mut ids = Vec::with_capacity(children.len());
            for child in &children {
                let id = self.id(*child).to_owned();
                if root_ids.contains(&id) {
                    let message =
                        format!("duplicate construct id {id:?}: siblings need distinct ids");
                    self.problems
                        .push(Problem::error(self.path(*child).to_owned(), message));
                }
                ids.push(id);
            }
            root_ids.extend(ids);
            self.nodes.root_mut().children.extend(children);
            self.problems.append(&mut fork.problems);
            self.assets.append(&mut fork.assets);
            self.deferred.append(&mut fork.deferred);
        }
    }

    /// Adds a part of the app for each item, as [`App::build_in_parallel`] does, but builds
    /// them only when the app is synthesized, a batch of items at a time: each batch is built,
    /// synthesized into the assembly and dropped before the next is built, so an app of a
    /// thousand stages is never whole in memory. The assembly is the one the app built at once
    /// would give, byte for byte.
    ///
    /// The parts come after everything else the app holds, in the order they were deferred,
    /// whenever that was. Until they are built (by [`crate::synthesize()`],
    /// [`crate::synthesize_into`], or [`App::build_deferred`]), the app's tree and problems do
    /// not include them: what reads the tree reads it a part at a time
    /// ([`App::try_for_each_part`], as `pantri ls` does) or builds it whole first. Stages are
    /// the natural items: each is a world of its own, and `build` may not refer to nodes
    /// outside its item's part, nor defer more items (an error).
    pub fn defer_in_parallel<T: Send + Sync + 'static>(
        &mut self,
        items: Vec<T>,
        build: impl Fn(&mut App, &T) + Send + Sync + 'static,
    ) {
        if !items.is_empty() {
            self.deferred.push(Box::new(Part { items, build }));
        }
    }

    /// Builds every part [`App::defer_in_parallel`] deferred, now: the app is then whole.
    pub fn build_deferred(&mut self) {
        for part in std::mem::take(&mut self.deferred) {
            part.build(self, 0..part.len());
        }
        self.refuse_nested_deferral();
    }

    /// Items deferred by a deferred part's builder would come after its batch when the app is
    /// synthesized a batch at a time, but after the whole part when it is built at once: the
    /// order would depend on the batches. They are an error, and dropped.
    fn refuse_nested_deferral(&mut self) {
        if !self.deferred.is_empty() {
            self.deferred.clear();
            self.problems.push(Problem::error(
                "",
                "a builder given to App::defer_in_parallel deferred more items: build them in \
                 place (App::build_in_parallel), or defer them with the others",
            ));
        }
    }

    /// The number of items whose parts are deferred, not yet built.
    pub fn deferred_items(&self) -> usize {
        self.deferred.iter().map(|p| p.len()).sum()
    }

    /// Calls `f` with each part of the app, each an app of its own: the part built already
    /// (unless it holds nothing and the rest is deferred), then each batch of the items
    /// [`App::defer_in_parallel`] deferred, built as synthesis builds them and freed once `f`
    /// is done with it (on the thread pool: nothing waits for it). What reads every stage once
    /// but never needs the whole tree (synthesis; a listing of the stacks) holds about two
    /// batches at a time. Stops at the first error `f` returns.
    pub fn try_for_each_part<E>(&self, mut f: impl FnMut(&App) -> Result<(), E>) -> Result<(), E> {
        let empty = self.children(self.root_id()).is_empty() && self.problems.is_empty();
        if !empty || self.deferred.is_empty() {
            f(self)?;
        }
        for (part, items) in self.deferred_batches(deferred_batch()) {
            let batch = self.build_batch(part, items);
            f(&batch)?;
            // Freed while the next batch is built: freeing a tree node by node takes a tenth of
            // the time building it does.
            rayon::spawn(move || drop(batch));
        }
        Ok(())
    }

    /// The deferred items in batches of at most `size`: (part, items), in order.
    fn deferred_batches(&self, size: usize) -> Vec<(usize, Range<usize>)> {
        let size = size.max(1);
        let mut out = Vec::new();
        for (i, part) in self.deferred.iter().enumerate() {
            let mut start = 0;
            while start < part.len() {
                let end = (start + size).min(part.len());
                out.push((i, start..end));
                start = end;
            }
        }
        out
    }

    /// An app of this app's root alone with a batch of a deferred part's items built into it.
    fn build_batch(&self, part: usize, items: Range<usize>) -> App {
        let mut batch = App {
            nodes: Arena::with_root(root_copy(self.nodes.root())),
            problems: Vec::new(),
            assets: Vec::new(),
            deferred: Vec::new(),
        };
        if let Some(part) = self.deferred.get(part) {
            part.build(&mut batch, items);
        }
        batch.refuse_nested_deferral();
        batch
    }
}

/// The deferred items built at a time ([`App::try_for_each_part`]): eight a thread, at least 16.
/// Each batch is freed while the next is built, so memory holds about two batches' trees (350
/// KB a stage of the reference app, against 200 KB of its output). On 2 cores, over 20
/// alternated runs of 100 stages, batches of 8, 16, 32 and 64 stages took 160, 165, 170 and
/// 178 ms with peaks of 34, 43, 54 and 64 MB: a small batch's memory is still in the cache, and
/// its pages mapped, when the next is built. Below 8 the fixed costs of a batch (joining its
/// forks, the serial parts of resolving) take over; at 1,000 stages 16 was the fastest.
fn deferred_batch() -> usize {
    (8 * rayon::current_num_threads()).max(16)
}

/// A part of an app built later: its items and their builder.
pub(super) trait DeferredPart: Send + Sync {
    fn len(&self) -> usize;
    /// Builds the items in `items` into `app`.
    fn build(&self, app: &mut App, items: Range<usize>);
}

impl std::fmt::Debug for dyn DeferredPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeferredPart({} items)", self.len())
    }
}

struct Part<T, F> {
    items: Vec<T>,
    build: F,
}

impl<T: Send + Sync, F: Fn(&mut App, &T) + Send + Sync> DeferredPart for Part<T, F> {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn build(&self, app: &mut App, items: Range<usize>) {
        app.build_in_parallel(&self.items[items], &self.build);
    }
}

/// The root as a fork starts with: all but its children.
fn root_copy(root: &Node) -> Node {
    let mut copy = Node::new(root.path.clone(), 0, None, NodeKind::App);
    copy.construct_type.clone_from(&root.construct_type);
    copy.set_more(root.more().cloned());
    copy
}

fn same_root(a: &Node, b: &Node) -> bool {
    a.more() == b.more() && a.construct_type == b.construct_type
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::RawResource;
    use crate::value::Value;

    /// Stage `i`: a stack with two resources, the second referring to the first.
    fn stage(app: &mut App, i: &usize) {
        let env = crate::Environment::new("123456789012", "eu-west-1");
        let mut root = app.root();
        let mut stage = root.stage(&format!("s{i}"), env);
        let mut stack = stage.stack("Stack", crate::StackProps::default());
        let first = stack.raw_resource("First", RawResource::new("AWS::SNS::Topic"));
        let arn = Value::from(crate::fns::ref_node::<crate::Str>(first.node()));
        stack.raw_resource(
            "Second",
            RawResource::new("AWS::SNS::Subscription")
                .prop("TopicArn", arn)
                .prop("Protocol", "email")
                .prop("Endpoint", "ops@example.com"),
        );
        if i.is_multiple_of(3) {
            stack.warning(format!("stage {i}"));
        }
    }

    fn shape(app: &App) -> Vec<(String, Option<String>, Vec<String>)> {
        app.descendants(app.root_id())
            .into_iter()
            .map(|n| {
                let parent = app.parent(n).map(|p| app.path(p).to_owned());
                let children = app
                    .children(n)
                    .iter()
                    .map(|c| app.path(*c).to_owned())
                    .collect();
                (app.path(n).to_owned(), parent, children)
            })
            .collect()
    }

    #[test]
    fn a_parallel_build_gives_the_app_a_loop_gives() {
        let items: Vec<usize> = (0..100).collect();
        let mut serial = App::new();
        for i in &items {
            stage(&mut serial, i);
        }
        let mut parallel = App::new();
        parallel.build_in_parallel(&items, stage);
        assert_eq!(shape(&parallel), shape(&serial));
        assert_eq!(parallel.problems(), serial.problems());
        // Ids sort in the order the nodes were added, as a serial build numbers them.
        let ids = parallel.descendants(parallel.root_id());
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        // References between nodes of a fork still name the same nodes.
        let a = crate::synthesize(&serial, &crate::SynthOptions::default()).expect("serial");
        let b = crate::synthesize(&parallel, &crate::SynthOptions::default()).expect("parallel");
        assert_eq!(a.assembly.files, b.assembly.files);
        assert!(a
            .assembly
            .files
            .keys()
            .any(|f| f.ends_with(".template.json")));
    }

    #[test]
    fn nodes_added_after_a_parallel_build_sort_after_it() {
        let mut app = App::new();
        app.build_in_parallel(&[1usize, 2, 3, 4], stage);
        let later = app.add_node(app.root_id(), "later", NodeKind::Construct);
        assert!(app.descendants(app.root_id()).iter().all(|n| *n <= later));
        assert_eq!(app.path(later), "later");
    }

    #[test]
    fn a_builder_that_changes_the_root_is_an_error() {
        let mut app = App::new();
        app.build_in_parallel(&[1usize, 2], |app, i| {
            stage(app, i);
            let root = app.root_id();
            app.tag(root, "team", "web");
        });
        let problem = app.problems().iter().find(|p| p.message.contains("root"));
        assert!(problem.is_some(), "{:?}", app.problems());
    }

    #[test]
    fn a_stage_id_used_twice_is_reported_as_a_loop_reports_it() {
        let build = |app: &mut App| {
            app.add_node(app.root_id(), "s1", NodeKind::Construct);
        };
        let mut serial = App::new();
        build(&mut serial);
        // 40 items make chunks of two: the two 2s meet in one fork, the two 7s in two.
        let items: Vec<usize> = (0..40)
            .map(|i| {
                if i == 3 {
                    2
                } else if i == 6 {
                    7
                } else {
                    i
                }
            })
            .collect();
        for i in &items {
            stage(&mut serial, i);
        }
        let mut parallel = App::new();
        build(&mut parallel);
        parallel.build_in_parallel(&items, stage);
        let duplicates = |app: &App| {
            let mut found: Vec<Problem> = app
                .problems()
                .iter()
                .filter(|p| p.message.contains("duplicate construct id"))
                .cloned()
                .collect();
            found.sort_by(|a, b| a.path.cmp(&b.path));
            found
        };
        assert_eq!(duplicates(&parallel).len(), 3, "{:?}", parallel.problems());
        assert_eq!(duplicates(&parallel), duplicates(&serial));
    }

    #[test]
    #[should_panic(expected = "is not a node of this app")]
    fn a_builder_cannot_reach_nodes_added_before_the_parallel_build() {
        let mut app = App::new();
        let before = app.add_node(app.root_id(), "before", NodeKind::Construct);
        app.build_in_parallel(&[1usize, 2], |app, _| {
            app.add_node(before, "child", NodeKind::Construct);
        });
    }

    /// The stage ids of each part `try_for_each_part` gives.
    fn parts(app: &App) -> Vec<Vec<String>> {
        let mut parts = Vec::new();
        app.try_for_each_part(|part| {
            parts.push(
                part.stages()
                    .iter()
                    .map(|s| part.id(*s).to_owned())
                    .collect(),
            );
            Ok::<_, ()>(())
        })
        .expect("no error");
        parts
    }

    #[test]
    fn an_app_s_parts_are_its_built_part_then_its_deferred_batches() {
        let batch = deferred_batch();
        let ids = |range: std::ops::Range<usize>| -> Vec<String> {
            range.map(|i| format!("s{i}")).collect()
        };
        let mut app = App::new();
        app.defer_in_parallel((0..batch + 3).collect(), stage);
        // Nothing is built yet: the built part is not a part.
        assert_eq!(parts(&app), [ids(0..batch), ids(batch..batch + 3)]);

        // A stage built before and one deferred after, each part in order.
        let mut app = App::new();
        stage(&mut app, &100);
        app.defer_in_parallel(vec![7usize], stage);
        app.defer_in_parallel((0..2).collect(), stage);
        assert_eq!(parts(&app), [vec!["s100".to_owned()], ids(7..8), ids(0..2)]);
        // Built whole, it is one part.
        app.build_deferred();
        assert_eq!(parts(&app), [["s100", "s7", "s0", "s1"].map(String::from)]);

        // The first error stops the parts.
        let mut app = App::new();
        app.defer_in_parallel((0..batch * 3).collect(), stage);
        let mut seen = 0;
        let stopped = app.try_for_each_part(|_| {
            seen += 1;
            if seen == 2 {
                Err("stop")
            } else {
                Ok(())
            }
        });
        assert_eq!((stopped, seen), (Err("stop"), 2));
    }

    #[test]
    fn a_deferred_builder_that_defers_is_an_error_however_the_app_is_built() {
        let app = || {
            let mut app = App::new();
            app.defer_in_parallel(vec![1usize, 2], |app, i| {
                stage(app, i);
                app.defer_in_parallel(vec![*i + 10], stage);
            });
            app
        };
        let message = "a builder given to App::defer_in_parallel deferred more items";
        match crate::synthesize(&app(), &crate::SynthOptions::default()) {
            Err(crate::SynthError::Invalid(problems)) => {
                let nested: Vec<_> = problems
                    .iter()
                    .filter(|p| p.message.starts_with(message))
                    .collect();
                assert_eq!(nested.len(), 1, "{problems:?}");
            }
            other => panic!("expected the error, got {other:?}"),
        }
        let mut whole = app();
        whole.build_deferred();
        assert_eq!(whole.deferred_items(), 0);
        assert!(whole
            .problems()
            .iter()
            .any(|p| p.message.starts_with(message)));
        assert_eq!(whole.stages().len(), 2, "the nested items are dropped");
    }
}
