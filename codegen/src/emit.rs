//! Renders the model of a resource as Rust source. The output is laid out the way rustfmt
//! would, but the generated modules are `#[rustfmt::skip]` so that formatting never makes them
//! stale.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::model::{Resource, StructDef, Ty};
use crate::naming;

/// The lint exceptions of every generated service file, each with its reason.
pub const LINT_ALLOWS: &str = "\
// The resource's required properties are the arguments of `new`; some types have many.
#![allow(clippy::too_many_arguments)]
// Setters are named after their property (`to_port`, `is_default`), not by Rust conventions.
#![allow(clippy::wrong_self_convention, clippy::should_implement_trait)]
";

/// Imports the body uses, so that no module has unused ones.
#[derive(Default)]
struct Uses(BTreeSet<&'static str>);

impl Uses {
    fn ty(&mut self, ty: &Ty) {
        match ty {
            Ty::Str => self.add("Str"),
            Ty::Int => self.add("Int"),
            Ty::Num => self.add("Num"),
            Ty::Bool => self.add("Bool"),
            Ty::Json => self.add("Json"),
            Ty::List(t) => {
                self.add("List");
                self.ty(t);
            }
            Ty::Map(t) => {
                self.add("Map");
                self.ty(t);
            }
            Ty::Struct(_) => {}
        }
    }
    fn add(&mut self, name: &'static str) {
        self.0.insert(name);
    }
}

fn rust_ty(res: &Resource, ty: &Ty) -> String {
    match ty {
        Ty::Str => "Str".into(),
        Ty::Int => "Int".into(),
        Ty::Num => "Num".into(),
        Ty::Bool => "Bool".into(),
        Ty::Json => "Json".into(),
        Ty::List(t) => format!("List<{}>", rust_ty(res, t)),
        Ty::Map(t) => format!("Map<{}>", rust_ty(res, t)),
        Ty::Struct(i) => res.structs[*i].name.clone(),
    }
}

fn doc(out: &mut String, indent: &str, text: Option<&str>) {
    if let Some(t) = text {
        let _ = writeln!(out, "{indent}/// {t}");
    }
}

fn emit_struct(out: &mut String, res: &Resource, s: &StructDef, uses: &mut Uses, is_root: bool) {
    let i = "    ";
    let default_doc = if is_root {
        format!("The properties of `{}`.", res.type_name)
    } else {
        format!("A property type of `{}`.", res.type_name)
    };
    doc(out, i, Some(s.doc.as_deref().unwrap_or(&default_doc)));
    let all_optional = s.fields.iter().all(|f| !f.required);
    let derives = if all_optional {
        "Clone, Debug, Default, PartialEq"
    } else {
        "Clone, Debug, PartialEq"
    };
    let _ = writeln!(out, "{i}#[derive({derives})]");
    let _ = writeln!(out, "{i}pub struct {} {{", s.name);
    for f in &s.fields {
        uses.ty(&f.ty);
        let mut t = rust_ty(res, &f.ty);
        if f.boxed {
            t = format!("Box<{t}>");
        }
        if !f.required {
            t = format!("Option<{t}>");
        }
        let fallback = format!("`{}`.", f.cfn_name);
        doc(out, "        ", Some(f.doc.as_deref().unwrap_or(&fallback)));
        let _ = writeln!(out, "        pub {}: {t},", f.rust_name);
    }
    let _ = writeln!(out, "{i}}}\n");

    // `new` with the required properties, in schema order; a setter per optional one.
    let _ = writeln!(out, "{i}impl {} {{", s.name);
    let required: Vec<_> = s.fields.iter().filter(|f| f.required).collect();
    let args: Vec<String> = required
        .iter()
        .map(|f| format!("{}: impl Into<{}>", f.rust_name, rust_ty(res, &f.ty)))
        .collect();
    let _ = writeln!(
        out,
        "        /// A value with the required properties set and every optional one unset."
    );
    let _ = writeln!(out, "        pub fn new({}) -> Self {{", args.join(", "));
    if all_optional {
        // By trait: a property named `Default` has a setter `default`.
        let _ = writeln!(out, "            <Self as Default>::default()");
    } else {
        emit_new_fields(out, s);
    }
    let _ = writeln!(out, "        }}");
    emit_setters(out, res, s);
    let _ = writeln!(out, "{i}}}\n");
    emit_to_value(out, s, uses);
}

fn emit_new_fields(out: &mut String, s: &StructDef) {
    let _ = writeln!(out, "            Self {{");
    for f in s.fields.iter() {
        let v = match (f.required, f.boxed) {
            (true, false) => format!("{}.into()", f.rust_name),
            (true, true) => format!("Box::new({}.into())", f.rust_name),
            (false, _) => "None".to_owned(),
        };
        if v == f.rust_name {
            let _ = writeln!(out, "                {v},");
        } else {
            let _ = writeln!(out, "                {}: {v},", f.rust_name);
        }
    }
    let _ = writeln!(out, "            }}");
}

fn emit_setters(out: &mut String, res: &Resource, s: &StructDef) {
    for f in s.fields.iter().filter(|f| !f.required) {
        let t = rust_ty(res, &f.ty);
        let v = if f.boxed {
            "Box::new(v.into())"
        } else {
            "v.into()"
        };
        let _ = writeln!(out, "\n        /// Sets `{}`.", f.cfn_name);
        let _ = writeln!(
            out,
            "        pub fn {}(mut self, v: impl Into<{t}>) -> Self {{",
            f.rust_name
        );
        let _ = writeln!(out, "            self.{} = Some({v});", f.rust_name);
        let _ = writeln!(out, "            self");
        let _ = writeln!(out, "        }}");
    }
}

fn emit_to_value(out: &mut String, s: &StructDef, uses: &mut Uses) {
    let i = "    ";

    uses.add("ToValue");
    uses.add("Value");
    let _ = writeln!(out, "{i}impl ToValue for {} {{", s.name);
    let _ = writeln!(out, "        fn to_value(&self) -> Value {{");
    if s.fields.is_empty() {
        let _ = writeln!(out, "            Props::new().done()");
    } else {
        let _ = writeln!(out, "            let mut p = Props::new();");
        for f in &s.fields {
            let m = if f.required { "req" } else { "opt" };
            let _ = writeln!(
                out,
                "            p.{m}({:?}, &self.{});",
                f.cfn_name, f.rust_name
            );
        }
        let _ = writeln!(out, "            p.done()");
    }
    let _ = writeln!(out, "        }}");
    let _ = writeln!(out, "{i}}}\n");
}

/// The submodule of one resource: structs, enums, trait impls, attribute accessors. (Its schema
/// facts are a record of `specs.txt`, [`crate::spec_table`].)
pub fn resource_module(res: &Resource) -> String {
    let mut body = String::new();
    let mut uses = Uses::default();
    for (idx, s) in res.structs.iter().enumerate() {
        emit_struct(&mut body, res, s, &mut uses, idx == 0);
    }
    let root = &res.structs[0].name;
    // By path: `AWS::ApiGateway::Resource` is a struct named `CfnResource`.
    let _ = writeln!(body, "    impl crate::resource::CfnResource for {root} {{");
    let _ = writeln!(
        body,
        "        const TYPE_NAME: &'static str = {:?};",
        res.type_name
    );
    let _ = writeln!(body, "    }}\n");

    let typed: Vec<_> = res
        .attributes
        .iter()
        .filter_map(|a| a.ty.as_ref().map(|t| (a, t)))
        .collect();
    let mut attr_uses = false;
    if !typed.is_empty() {
        attr_uses = true;
        let _ = writeln!(body, "    impl Res<{root}> {{");
        let mut seen = BTreeSet::new();
        let mut first = true;
        for (a, t) in typed {
            let method = naming::attr_method(&a.name);
            if !seen.insert(method.clone()) {
                continue;
            }
            uses.ty(t);
            if !first {
                body.push('\n');
            }
            first = false;
            let _ = writeln!(body, "        /// `Fn::GetAtt` of `{}`.", a.name);
            let _ = writeln!(
                body,
                "        pub fn {method}(&self) -> {} {{",
                rust_ty(res, t)
            );
            let _ = writeln!(body, "            self.get_att({:?})", a.name);
            let _ = writeln!(body, "        }}");
        }
        let _ = writeln!(body, "    }}\n");
    }

    for e in &res.enums {
        uses.add("Str");
        let _ = writeln!(body, "    /// {}", e.doc);
        let _ = writeln!(
            body,
            "    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]"
        );
        let _ = writeln!(body, "    pub enum {} {{", e.name);
        let mut variants = Vec::new();
        let mut seen = BTreeSet::new();
        for v in &e.values {
            let base = naming::enum_variant(v);
            let mut name = base.clone();
            let mut n = 2;
            while !seen.insert(name.clone()) {
                name = format!("{base}{n}");
                n += 1;
            }
            let _ = writeln!(body, "        /// `{}`", v.replace('`', "'"));
            let _ = writeln!(body, "        {name},");
            variants.push((name, v));
        }
        let _ = writeln!(body, "    }}\n");
        let _ = writeln!(body, "    impl {} {{", e.name);
        let _ = writeln!(body, "        /// The value as CloudFormation spells it.");
        let _ = writeln!(body, "        pub fn as_str(self) -> &'static str {{");
        let _ = writeln!(body, "            match self {{");
        for (name, v) in &variants {
            let _ = writeln!(body, "                Self::{name} => {v:?},");
        }
        let _ = writeln!(body, "            }}");
        let _ = writeln!(body, "        }}");
        let _ = writeln!(body, "    }}\n");
        let _ = writeln!(body, "    impl From<{}> for Str {{", e.name);
        let _ = writeln!(body, "        fn from(v: {}) -> Str {{", e.name);
        let _ = writeln!(body, "            Str::from(v.as_str())");
        let _ = writeln!(body, "        }}");
        let _ = writeln!(body, "    }}\n");
    }

    let value_uses: Vec<&str> = uses.0.iter().copied().collect();
    let mut head = String::new();
    let _ = writeln!(head, "    use crate::cfn::Props;");
    if attr_uses {
        let _ = writeln!(head, "    use crate::resource::Res;");
    }
    let _ = writeln!(
        head,
        "    use crate::value::{{{}}};\n",
        value_uses.join(", ")
    );
    head + &body
}
