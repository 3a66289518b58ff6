//! Reads one resource schema into a model of Rust types: the resource struct, the property
//! structs, the string enums and the attributes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value as J;

use crate::naming;

/// The Rust type of a property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    Str,
    Int,
    Num,
    Bool,
    Json,
    List(Box<Ty>),
    Map(Box<Ty>),
    /// A property struct of the resource's submodule, by index into `Resource::structs`.
    Struct(usize),
}

#[derive(Debug)]
pub struct Field {
    pub cfn_name: String,
    pub rust_name: String,
    pub ty: Ty,
    pub required: bool,
    /// Set after the model is built, for struct fields on a cycle.
    pub boxed: bool,
    pub doc: Option<String>,
}

#[derive(Debug)]
pub struct StructDef {
    pub name: String,
    pub doc: Option<String>,
    pub fields: Vec<Field>,
}

#[derive(Debug)]
pub struct EnumDef {
    pub name: String,
    pub doc: String,
    pub values: Vec<String>,
}

#[derive(Debug)]
pub struct Attribute {
    /// With dots for nested attributes.
    pub name: String,
    /// `None` when the attribute is an object (no typed accessor).
    pub ty: Option<Ty>,
}

/// One resource type, ready to emit. `structs[0]` is the resource struct itself.
#[derive(Debug)]
pub struct Resource {
    pub type_name: String,
    pub structs: Vec<StructDef>,
    pub enums: Vec<EnumDef>,
    pub attributes: Vec<Attribute>,
}

/// Follows `$ref`s (`#/definitions/X`, `resource-schema.json#/properties/X`) to the node they
/// point at; returns the definition name when the last hop was into `definitions`.
pub fn resolve<'a>(root: &'a J, mut node: &'a J) -> (Option<&'a str>, &'a J) {
    let mut def = None;
    for _ in 0..16 {
        let Some(r) = node.get("$ref").and_then(J::as_str) else {
            break;
        };
        let pointer = r.split_once('#').map_or(r, |(_, p)| p);
        match root.pointer(pointer) {
            Some(target) => {
                def = pointer.strip_prefix("/definitions/");
                node = target;
            }
            None => break,
        }
    }
    (def, node)
}

/// The single JSON-schema type of a node, if it has exactly one (besides `null`).
fn single_type(node: &J) -> Option<&str> {
    match node.get("type") {
        Some(J::String(s)) => Some(s),
        Some(J::Array(ts)) => {
            let ts: Vec<&str> = ts
                .iter()
                .filter_map(J::as_str)
                .filter(|t| *t != "null")
                .collect();
            (ts.len() == 1).then(|| ts[0])
        }
        _ => None,
    }
}

fn has_properties(node: &J) -> bool {
    node.get("properties")
        .and_then(J::as_object)
        .is_some_and(|p| !p.is_empty())
}

/// A trimmed, one-line doc string: the first paragraph, at most ~200 characters, backtick runs
/// collapsed (AWS writes ``code``), so that it never turns into a doc test or a code block.
pub fn doc_of(node: &J) -> Option<String> {
    let d = node.get("description")?.as_str()?;
    let para = d.split("\n\n").next().unwrap_or(d);
    let mut text = para.split_whitespace().collect::<Vec<_>>().join(" ");
    while text.contains("``") {
        text = text.replace("``", "`");
    }
    if text.is_empty() {
        return None;
    }
    const MAX: usize = 200;
    if text.chars().count() > MAX {
        let cut: String = text.chars().take(MAX).collect();
        text = match cut.rfind(". ") {
            Some(i) if i > 60 => cut[..=i].to_owned(),
            _ => format!("{}…", cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a)),
        };
    }
    // An odd number of backticks would open an inline code span across the next line.
    if text.matches('`').count() % 2 == 1 {
        text = text.replace('`', "'");
    }
    Some(escape_brackets(&text))
}

/// `[ALB]` in AWS's prose is not an intra-doc link: brackets outside code spans are escaped, so
/// rustdoc (`-D warnings`) reads them as text. A markdown link (`[Tag](https://...)`) stays one.
fn escape_brackets(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    let mut keep_close = 0usize;
    for (i, &c) in chars.iter().enumerate() {
        if c == '`' {
            in_code = !in_code;
        }
        if !in_code && c == '[' {
            let close = chars[i..].iter().position(|&x| x == ']').map(|p| i + p);
            if close.is_some_and(|j| chars.get(j + 1) == Some(&'(')) {
                keep_close += 1;
            } else {
                out.push('\\');
            }
        } else if !in_code && c == ']' {
            if keep_close > 0 {
                keep_close -= 1;
            } else {
                out.push('\\');
            }
        }
        out.push(c);
    }
    out
}

struct Builder<'a> {
    root: &'a J,
    structs: Vec<StructDef>,
    enums: Vec<EnumDef>,
    used: BTreeSet<String>,
    /// Schema location (definition name or inline pointer) → struct index.
    memo: HashMap<String, usize>,
}

impl<'a> Builder<'a> {
    fn alloc_name(&mut self, wanted: &str) -> String {
        let mut name = wanted.to_owned();
        let mut n = 2;
        while self.used.contains(&name) {
            name = format!("{wanted}{n}");
            n += 1;
        }
        self.used.insert(name.clone());
        name
    }

    fn enum_for(&mut self, owner: &str, prop: &str, node: &J) -> Option<()> {
        let values: Vec<String> = node
            .get("enum")?
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()?;
        if values.is_empty() {
            return None;
        }
        let wanted = naming::type_ident(&format!("{owner}{}", naming::type_ident(prop)));
        if let Some(e) = self.enums.iter().find(|e| e.name == wanted) {
            if e.values == values {
                return Some(());
            }
        }
        let name = self.alloc_name(&wanted);
        let doc = format!("The values CloudFormation accepts for `{prop}`.");
        self.enums.push(EnumDef { name, doc, values });
        Some(())
    }

    /// The type of a schema node. `owner` is the struct it belongs to (empty at the root),
    /// `prop` its property name, `at` its location for naming inline structs.
    fn ty_of(&mut self, node: &'a J, owner: &str, prop: &str, at: &str) -> Ty {
        let (def, node) = resolve(self.root, node);
        let ty = single_type(node);
        let structish = has_properties(node) && matches!(ty, None | Some("object"));
        if structish {
            let key = def.map_or_else(|| at.to_owned(), |d| format!("#{d}"));
            let wanted = match def {
                Some(d) => naming::type_ident(d),
                None => naming::type_ident(prop),
            };
            return Ty::Struct(self.struct_for(&key, &wanted, node));
        }
        match ty {
            Some("string") => {
                self.enum_for(owner, prop, node);
                Ty::Str
            }
            Some("integer") => Ty::Int,
            Some("number") => Ty::Num,
            Some("boolean") => Ty::Bool,
            Some("array") => match node.get("items") {
                Some(items) => {
                    let item = self.ty_of(items, owner, prop, &format!("{at}/items"));
                    Ty::List(Box::new(item))
                }
                None => Ty::List(Box::new(Ty::Json)),
            },
            Some("object") => self.map_of(node, owner, prop, at),
            None if node.get("items").is_some() && node.get("oneOf").is_none() => {
                let item = self.ty_of(&node["items"], owner, prop, &format!("{at}/items"));
                Ty::List(Box::new(item))
            }
            None if node.get("enum").is_some() => {
                self.enum_for(owner, prop, node);
                Ty::Str
            }
            _ => Ty::Json,
        }
    }

    /// `Map<X>` for an object whose values all have one shape; `Json` otherwise.
    fn map_of(&mut self, node: &'a J, owner: &str, prop: &str, at: &str) -> Ty {
        let mut value_tys = Vec::new();
        if let Some(pp) = node.get("patternProperties").and_then(J::as_object) {
            for (i, v) in pp.values().enumerate() {
                value_tys.push(self.ty_of(v, owner, prop, &format!("{at}/pp{i}")));
            }
        }
        if let Some(ap) = node.get("additionalProperties").filter(|a| a.is_object()) {
            value_tys.push(self.ty_of(ap, owner, prop, &format!("{at}/ap")));
        }
        match value_tys.split_first() {
            Some((first, rest)) if rest.iter().all(|t| t == first) && *first != Ty::Json => {
                Ty::Map(Box::new(first.clone()))
            }
            _ => Ty::Json,
        }
    }

    fn struct_for(&mut self, key: &str, wanted: &str, node: &'a J) -> usize {
        if let Some(&i) = self.memo.get(key) {
            return i;
        }
        let name = self.alloc_name(wanted);
        let index = self.structs.len();
        self.memo.insert(key.to_owned(), index);
        self.structs.push(StructDef {
            name: name.clone(),
            doc: doc_of(node),
            fields: Vec::new(),
        });
        let fields = self.fields_of(node, &name, key, &[]);
        self.structs[index].fields = fields;
        index
    }

    fn fields_of(&mut self, node: &'a J, owner: &str, at: &str, skip: &[&str]) -> Vec<Field> {
        let required: Vec<&str> = node
            .get("required")
            .and_then(J::as_array)
            .map(|r| r.iter().filter_map(J::as_str).collect())
            .unwrap_or_default();
        let mut fields = Vec::new();
        let mut taken = BTreeSet::new();
        let Some(props) = node.get("properties").and_then(J::as_object) else {
            return fields;
        };
        for (name, p) in props {
            if skip.contains(&name.as_str()) {
                continue;
            }
            let ty = self.ty_of(p, owner, name, &format!("{at}/{name}"));
            let mut rust_name = naming::field_name(name);
            while !taken.insert(rust_name.clone()) {
                rust_name.push('_');
            }
            let (_, resolved) = resolve(self.root, p);
            fields.push(Field {
                cfn_name: name.clone(),
                rust_name,
                ty,
                required: required.contains(&name.as_str()),
                boxed: false,
                doc: doc_of(p).or_else(|| doc_of(resolved)),
            });
        }
        fields
    }

    /// Boxes every struct-typed field whose struct leads back to its owner without passing
    /// through a list or a map (which already allocate).
    fn box_cycles(&mut self) {
        let edges: Vec<Vec<usize>> = self
            .structs
            .iter()
            .map(|s| {
                s.fields
                    .iter()
                    .filter_map(|f| match f.ty {
                        Ty::Struct(i) => Some(i),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let reaches = |from: usize, to: usize| {
            let mut seen = vec![false; edges.len()];
            let mut stack = vec![from];
            while let Some(n) = stack.pop() {
                if n == to {
                    return true;
                }
                if !std::mem::replace(&mut seen[n], true) {
                    stack.extend(&edges[n]);
                }
            }
            false
        };
        let mut to_box = Vec::new();
        for (si, s) in self.structs.iter().enumerate() {
            for (fi, f) in s.fields.iter().enumerate() {
                if let Ty::Struct(t) = f.ty {
                    if reaches(t, si) {
                        to_box.push((si, fi));
                    }
                }
            }
        }
        for (si, fi) in to_box {
            self.structs[si].fields[fi].boxed = true;
        }
    }
}

/// The JSON-schema node at a `/properties/A/B` pointer, through `$ref`s.
pub fn property_at<'a>(root: &'a J, pointer: &str) -> Option<&'a J> {
    let mut node = root;
    for seg in pointer.strip_prefix("/properties/")?.split('/') {
        let (_, resolved) = resolve(root, node);
        node = resolved.get("properties")?.get(seg)?;
    }
    Some(resolve(root, node).1)
}

/// Top-level property names that are read-only (outputs, not inputs).
pub fn read_only_top_level(schema: &J) -> Vec<String> {
    pointers(schema, "readOnlyProperties")
        .into_iter()
        .filter_map(|p| p.strip_prefix("/properties/").map(str::to_owned))
        .filter(|p| !p.contains('/'))
        .collect()
}

/// The JSON pointers of a schema's list field (`createOnlyProperties`, ...).
pub fn pointers(schema: &J, key: &str) -> Vec<String> {
    schema
        .get(key)
        .and_then(J::as_array)
        .map(|a| a.iter().filter_map(J::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// `Fn::GetAtt` attributes: the read-only properties that are not inside a list.
pub fn attributes(schema: &J) -> Vec<(String, Option<Ty>)> {
    let mut seen = BTreeMap::new();
    for p in pointers(schema, "readOnlyProperties") {
        let Some(rest) = p.strip_prefix("/properties/") else {
            continue;
        };
        if rest.split('/').any(|s| s == "*") {
            continue;
        }
        let name = rest.replace('/', ".");
        let ty = match property_at(schema, &p) {
            None => Some(Ty::Str),
            Some(node) => match single_type(node) {
                Some("array") => Some(Ty::List(Box::new(Ty::Str))),
                Some("integer") => Some(Ty::Int),
                Some("number") => Some(Ty::Num),
                Some("boolean") => Some(Ty::Bool),
                Some("object") => None,
                _ if has_properties(node) => None,
                _ => Some(Ty::Str),
            },
        };
        seen.entry(name.clone()).or_insert((name, ty));
    }
    // Keep the schema's order, not the map's.
    let mut out: Vec<(String, Option<Ty>)> = Vec::new();
    for p in pointers(schema, "readOnlyProperties") {
        let name = p.trim_start_matches("/properties/").replace('/', ".");
        if let Some(entry) = seen.remove(&name) {
            out.push(entry);
        }
    }
    out
}

/// Builds the model of one resource schema.
pub fn build(schema: &J) -> anyhow::Result<Resource> {
    let type_name = schema
        .get("typeName")
        .and_then(J::as_str)
        .ok_or_else(|| anyhow::anyhow!("schema without typeName"))?
        .to_owned();
    let root_name = naming::resource_struct(&type_name);
    let mut b = Builder {
        root: schema,
        structs: Vec::new(),
        enums: Vec::new(),
        used: BTreeSet::from([root_name.clone()]),
        memo: HashMap::new(),
    };
    b.structs.push(StructDef {
        name: root_name,
        doc: doc_of(schema),
        fields: Vec::new(),
    });
    let read_only = read_only_top_level(schema);
    let skip: Vec<&str> = read_only.iter().map(String::as_str).collect();
    let fields = b.fields_of(schema, "", "", &skip);
    b.structs[0].fields = fields;
    b.box_cycles();
    let attributes = attributes(schema)
        .into_iter()
        .map(|(name, ty)| Attribute { name, ty })
        .collect();
    Ok(Resource {
        type_name,
        structs: b.structs,
        enums: b.enums,
        attributes,
    })
}

#[cfg(test)]
mod doc_tests {
    use super::escape_brackets;

    #[test]
    fn brackets_in_prose_are_text_and_code_spans_stay_as_they_are() {
        assert_eq!(
            escape_brackets("+ `http-header` – [ALB] Matches `a[0]`"),
            "+ `http-header` – \\[ALB\\] Matches `a[0]`"
        );
        assert_eq!(
            escape_brackets("see [Tag](https://docs.aws.amazon.com/x.html) and [ALB]"),
            "see [Tag](https://docs.aws.amazon.com/x.html) and \\[ALB\\]"
        );
    }
}
