//! `ascii_patterns.txt`: for each schema pattern that `regex-lite` cannot read as written (its
//! Unicode classes, `\p{L}`), the same pattern for values that are ASCII, which `regex-lite`
//! reads: every class cut down to its ASCII characters.
//!
//! At synth, such a pattern is otherwise read by `regex-syntax` and printed back with each
//! Unicode class spelled out as ranges (`spec::pattern`), a fifth of a millisecond a pattern; the
//! values checked against it are almost always ASCII, and for an ASCII value a class matches
//! exactly what its ASCII part matches, so this form gives the same answer and compiles in
//! microseconds. A pattern is left out when the cut would change what it means for ASCII values
//! (a literal that is not ASCII, a class with no ASCII character, a Unicode word boundary), and
//! when synth cannot compile it whole (`^[^\p{C}]{1,2048}$` is too large for both engines):
//! synth skips such a constraint, and its form would check what synth never checked. A test in
//! `pantri-synth` (`spec::pattern`) checks both against synth's own engines.
//!
//! The format: a header line, then `PATTERN<TAB>ASCII FORM` per line, sorted, each pattern as it
//! is written in `specs.txt` (control characters escaped).

use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Look};

/// The file's text: the header, then a line per pattern of `patterns` that has an ASCII form.
pub fn file(head: &str, patterns: impl IntoIterator<Item = String>) -> String {
    let mut lines: Vec<String> = patterns
        .into_iter()
        .filter_map(|p| ascii_form(&p).map(|a| format!("{p}\t{a}\n")))
        .collect();
    lines.sort();
    lines.dedup();
    let mut out = head.to_owned();
    out.extend(lines);
    out
}

/// The ASCII form of `pattern`, when `regex-lite` cannot read `pattern` itself and can read the
/// form, and the form means the same for every ASCII value.
pub fn ascii_form(pattern: &str) -> Option<String> {
    if regex_lite::Regex::new(pattern).is_ok() {
        return None;
    }
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    if !compiles_whole(pattern, &hir) {
        return None;
    }
    // Written as `specs.txt` writes patterns: a control character the cut class keeps
    // (`\x00`) as its regex escape, so that the line holds it and a reviewer reads it.
    let form = crate::spec_table::escape_controls(&ascii_only(&hir)?.to_string());
    regex_lite::Regex::new(&form).ok()?;
    Some(form)
}

/// Whether synth compiles `pattern` whole, as `pantri_synth::spec::Pattern::new` does after
/// `regex-lite` refused it: spelled out for `regex-lite`, or by `regex-automata` without its DFAs.
fn compiles_whole(pattern: &str, hir: &Hir) -> bool {
    use regex_automata::meta;
    regex_lite::Regex::new(&hir.to_string()).is_ok()
        || meta::Builder::new()
            .configure(meta::Config::new().hybrid(false).dfa(false).onepass(false))
            .build(pattern)
            .is_ok()
}

/// `hir` with every class cut to its ASCII characters; `None` where that would change the
/// meaning for an ASCII value.
fn ascii_only(hir: &Hir) -> Option<Hir> {
    Some(match hir.kind() {
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(lit) => {
            if !lit.0.is_ascii() {
                return None;
            }
            hir.clone()
        }
        HirKind::Class(Class::Unicode(class)) => {
            let mut cut = class.clone();
            cut.intersect(&ClassUnicode::new([ClassUnicodeRange::new('\0', '\x7f')]));
            if cut.ranges().is_empty() {
                return None;
            }
            Hir::class(Class::Unicode(cut))
        }
        HirKind::Class(Class::Bytes(class)) => {
            if !class.is_ascii() {
                return None;
            }
            hir.clone()
        }
        HirKind::Look(look) => match look {
            Look::WordUnicode
            | Look::WordUnicodeNegate
            | Look::WordStartUnicode
            | Look::WordEndUnicode
            | Look::WordStartHalfUnicode
            | Look::WordEndHalfUnicode => return None,
            _ => hir.clone(),
        },
        HirKind::Repetition(rep) => {
            let mut rep = rep.clone();
            rep.sub = Box::new(ascii_only(&rep.sub)?);
            Hir::repetition(rep)
        }
        HirKind::Capture(cap) => {
            let mut cap = cap.clone();
            cap.sub = Box::new(ascii_only(&cap.sub)?);
            Hir::capture(cap)
        }
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(ascii_only).collect::<Option<_>>()?),
        HirKind::Alternation(subs) => {
            Hir::alternation(subs.iter().map(ascii_only).collect::<Option<_>>()?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_control_character_the_cut_keeps_is_written_as_its_escape() {
        let form = ascii_form(r"^\p{ASCII}+$").expect("a form");
        assert!(!form.chars().any(|c| c.is_ascii_control()), "{form:?}");
        assert!(form.contains(r"\x00"), "{form:?}");
        let re = regex_lite::Regex::new(&form).expect("regex-lite reads it");
        assert!(re.is_match("a\u{0}\tb\u{7f}"));
    }

    #[test]
    fn a_unicode_class_is_cut_to_ascii() {
        let form = ascii_form(r"^[\p{L}\p{N}]+$").expect("a form");
        let re = regex_lite::Regex::new(&form).expect("regex-lite reads it");
        assert!(re.is_match("abcXYZ019"));
        assert!(!re.is_match("a b") && !re.is_match("a-b") && !re.is_match(""));
    }

    #[test]
    fn what_regex_lite_reads_or_the_cut_would_change_has_no_form() {
        assert_eq!(
            ascii_form("^[a-z]+$"),
            None,
            "regex-lite reads it as written"
        );
        assert_eq!(ascii_form(r"^\p{L}é$"), None, "a literal that is not ASCII");
        assert_eq!(
            ascii_form(r"^\p{Han}+$"),
            None,
            "a class with no ASCII character"
        );
        assert_eq!(ascii_form(r"\b\p{L}+"), None, "a Unicode word boundary");
        assert_eq!(
            ascii_form(r"^(?!a)\p{L}$"),
            None,
            "look-around: no engine reads it"
        );
        assert_eq!(
            ascii_form(r"^[^\p{C}]{1,2048}$"),
            None,
            "too large to compile whole"
        );
    }

    #[test]
    fn the_file_is_sorted_and_keeps_only_patterns_with_a_form() {
        let text = file(
            "// head\n",
            [r"^\p{N}+$", "^[a-z]+$", r"^\p{L}+$", r"^\p{N}+$"].map(String::from),
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0], "// head");
        assert_eq!(lines[1].split('\t').next(), Some(r"^\p{L}+$"), "{text}");
        assert_eq!(lines[2].split('\t').next(), Some(r"^\p{N}+$"), "{text}");
    }
}
