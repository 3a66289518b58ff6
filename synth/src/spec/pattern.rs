//! The schemas' `pattern` constraints, compiled once per process.
//!
//! The patterns are ECMAScript regular expressions (JSON Schema says so), where `\w`, `\d` and
//! `\b` are ASCII. They compile with `regex-lite` first: its classes are ASCII as ECMAScript's
//! are, and it compiles to a small automaton over characters. The `regex` crate spells out
//! every Unicode class as UTF-8 byte sequences and a counted repetition as that many copies, so
//! `[\w+=,.@-]{1,512}` took it tens of milliseconds and some patterns went over its size limit;
//! compiling the reference app's patterns was a quarter of its synthesis. Only the patterns
//! `regex-lite` cannot read, those with Unicode classes (`\p{L}`, `\P{C}`), take another way:
//! `regex-syntax` (the `regex` crate's parser) reads them, classes meaning what ECMAScript's `u`
//! flag makes them mean, and prints them back with every class spelled out as character ranges,
//! which `regex-lite` compiles twenty times faster than `regex`'s engine builds its automaton
//! (about 0.2 ms a pattern instead of 4; a test checks the two agree on every such pattern).
//! What `regex-lite` would read differently (a Unicode word boundary: its `\b` is ASCII) or
//! cannot read goes to `regex`'s engine (`regex-automata`, without its lazy DFA).

use super::class_run::ClassRun;
use crate::value::FastMap;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

/// A compiled schema pattern.
#[derive(Debug)]
pub enum Pattern {
    /// One class repeated from start to end (`^[a-z0-9-]{1,63}$`), checked a character at a
    /// time ([`ClassRun`]).
    Run(ClassRun),
    /// ASCII classes, as ECMAScript has them (almost every pattern).
    Ascii(regex_lite::Regex),
    /// A pattern with Unicode classes (`\p{L}`), which `regex-lite` does not have, with the
    /// classes spelled out as ranges.
    Expanded(regex_lite::Regex),
    /// A pattern with Unicode classes that `regex-lite` cannot take even spelled out.
    Unicode(regex_automata::meta::Regex),
}

impl Pattern {
    /// Compiles `pattern`, or `None` when neither engine reads it (look-around, back-references,
    /// UTF-16 surrogates): such a constraint is skipped.
    pub fn new(pattern: &str) -> Option<Pattern> {
        ClassRun::parse(pattern)
            .map(Pattern::Run)
            .or_else(|| Pattern::engine(pattern))
    }

    /// The pattern compiled by the first engine that reads it, [`ClassRun`] aside.
    pub(super) fn engine(pattern: &str) -> Option<Pattern> {
        match regex_lite::Regex::new(pattern) {
            Ok(re) => Some(Pattern::Ascii(re)),
            Err(_) => match expanded(pattern) {
                Some(re) => Some(Pattern::Expanded(re)),
                None => unicode_engine(pattern).map(Pattern::Unicode),
            },
        }
    }

    /// True when the pattern matches somewhere in `s` (JSON Schema patterns are not anchored).
    pub fn is_match(&self, s: &str) -> bool {
        match self {
            Pattern::Run(run) => run.is_match(s),
            Pattern::Ascii(re) | Pattern::Expanded(re) => re.is_match(s),
            Pattern::Unicode(re) => re.is_match(s),
        }
    }
}

/// `regex`'s engine with its lazy DFA off: the DFA needs a second, reversed automaton, and
/// building both for a Unicode class (`\p{L}` is hundreds of UTF-8 byte ranges) cost more than
/// the app's few short matches save. The same syntax and size limit as `regex::Regex::new`.
/// `pattern` read by `regex-syntax` and printed back with its classes as explicit ranges, for
/// `regex-lite`; `None` when the printed form would not mean the same there.
fn expanded(pattern: &str) -> Option<regex_lite::Regex> {
    use regex_syntax::hir::Look;
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let looks = hir.properties().look_set();
    // regex-lite's word boundaries are ASCII; these are Unicode ones.
    let unicode_word = [
        Look::WordUnicode,
        Look::WordUnicodeNegate,
        Look::WordStartUnicode,
        Look::WordEndUnicode,
        Look::WordStartHalfUnicode,
        Look::WordEndHalfUnicode,
    ];
    if unicode_word.into_iter().any(|l| looks.contains(l)) {
        return None;
    }
    regex_lite::Regex::new(&hir.to_string()).ok()
}

fn unicode_engine(pattern: &str) -> Option<regex_automata::meta::Regex> {
    use regex_automata::meta;
    meta::Builder::new()
        .configure(meta::Config::new().hybrid(false).dfa(false).onepass(false))
        .build(pattern)
        .ok()
}

/// The compiled patterns, shared by every thread: a pattern is compiled once per process
/// (compiling them once per rendering thread was a third of the reference app's synthesis).
/// Bounded by the patterns of the vendored schemas.
static PATTERNS: OnceLock<Mutex<PatternCache>> = OnceLock::new();

type PatternCache = HashMap<&'static str, Option<Arc<Pattern>>>;

/// The compiled pattern, or `None` when it cannot be compiled ([`Pattern::new`]). The lock is
/// held while a pattern compiles: compiling in a slot of its own per pattern, so that a thread
/// waits only for the pattern it needs, was no faster for the reference app (150 runs of
/// each, alternated: the median 0.7 ms slower).
pub fn compile_pattern(pattern: &'static str) -> Option<Arc<Pattern>> {
    let cache = PATTERNS.get_or_init(Default::default);
    // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(pattern)
        .or_insert_with(|| Pattern::new(pattern).map(Arc::new))
        .clone()
}

/// Answers by pattern (address, length), then by value.
type Answers = FastMap<(usize, usize), FastMap<Box<str>, bool>>;

thread_local! {
    /// What each value checked on this thread gave, by pattern (its address and length) and value. The
    /// stages of an app are much alike, so the same values come back (three in four, at 100
    /// stages), and `regex-lite` spends hundreds of instructions a byte on the larger patterns.
    static MATCHED: RefCell<Answers> = RefCell::default();
}

/// The ASCII forms of the schema patterns `regex-lite` cannot read as written (generated by
/// `pantri-codegen`, `PATTERN<TAB>FORM` a line): the same pattern for an ASCII value, every class
/// cut to its ASCII characters, which `regex-lite` compiles in microseconds where spelling out
/// a pattern's Unicode classes takes a fifth of a millisecond (two such patterns were 0.34 ms of
/// the reference app's synthesis).
pub(super) static ASCII_FORMS: LazyLock<FastMap<&'static str, &'static str>> =
    LazyLock::new(|| {
        include_str!("../cfn/ascii_patterns.txt")
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .collect()
    });

/// The pattern that answers for `s`: `pattern`'s ASCII form when `s` is ASCII and it has one.
fn for_value(pattern: &'static str, s: &str) -> &'static str {
    if s.is_ascii() {
        if let Some(form) = ASCII_FORMS.get(pattern) {
            return form;
        }
    }
    pattern
}

/// Whether `s` matches `pattern` ([`Pattern::is_match`]), compiled once per process and each
/// answer kept for the thread; `None` when the pattern cannot be compiled.
pub fn matches(pattern: &'static str, s: &str) -> Option<bool> {
    let known = MATCHED.with_borrow(|m| {
        m.get(&(pattern.as_ptr() as usize, pattern.len()))?
            .get(s)
            .copied()
    });
    if known.is_some() {
        return known;
    }
    let matched = compile_pattern(for_value(pattern, s))?.is_match(s);
    MATCHED.with_borrow_mut(|m| {
        m.entry((pattern.as_ptr() as usize, pattern.len()))
            .or_default()
            .insert(s.into(), matched)
    });
    Some(matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_answer_is_the_pattern_s_own() {
        let pattern = r"^[a-z]{1,8}$";
        for _ in 0..2 {
            assert_eq!(matches(pattern, "abc"), Some(true));
            assert_eq!(matches(pattern, "ABC"), Some(false));
        }
        // The same text at another address, as another type's schema would have it, agrees.
        let copy: &'static str = String::from(pattern).leak();
        assert_eq!(matches(copy, "ABC"), Some(false));
        // A pattern no engine reads (a look-ahead) is no answer, however often asked.
        assert_eq!(matches(r"^(?=a)a$", "a"), None);
        assert_eq!(matches(r"^(?=a)a$", "a"), None);
    }

    #[test]
    fn word_and_digit_classes_are_ascii_as_in_ecmascript() {
        // GIVEN a pattern with \w and \d (an IAM role ARN's shape)
        let p = Pattern::new(r"^[\w+=,.@-]{1,64}:\d{12}$").expect("compiles");
        // THEN ASCII names match, and letters or digits outside ASCII do not
        assert!(matches!(p, Pattern::Ascii(_)));
        assert!(p.is_match("my-role_1@x:123456789012"));
        assert!(!p.is_match("rôle:123456789012"));
        assert!(!p.is_match("role:١٢٣٤٥٦٧٨٩٠١٢"));
    }

    #[test]
    fn unicode_classes_are_spelled_out_for_regex_lite() {
        // GIVEN the tag value pattern of many schemas
        let p = Pattern::new(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$").expect("compiles");
        // THEN letters of any script match, control characters do not
        assert!(matches!(p, Pattern::Expanded(_)));
        assert!(p.is_match("Café 東京 42"));
        assert!(!p.is_match("tab\there"));
    }

    #[test]
    fn a_unicode_word_boundary_goes_to_the_unicode_engine() {
        // A letter at a word's end. regex-lite's \b is ASCII: spelled out for it, the pattern
        // would find no boundary after "é", which is not an ASCII word character.
        let p = Pattern::new(r"\p{L}\b").expect("compiles");
        assert!(matches!(p, Pattern::Unicode(_)));
        assert!(p.is_match("éé"));
        assert!(p.is_match("é."));
        assert!(!p.is_match("1é2"));
    }

    /// Every vendored pattern that takes the spelled-out way matches what `regex`'s engine
    /// matches, on strings chosen to reach the classes' edges (scripts, marks, spaces, controls,
    /// surrogate neighbours, emoji).
    #[test]
    fn spelled_out_patterns_agree_with_the_unicode_engine() {
        let samples = [
            "",
            "abc",
            "ABC-123_.",
            "Café 東京 42",
            "tab\there",
            "a\nb",
            "x:y/z",
            "ß",
            "😀",
            "aws:foo",
            " ",
            "\u{0}",
            "\u{7f}",
            "\u{85}",
            "\u{a0}",
            "é",
            "e\u{301}",
            "\u{2028}",
            "\u{feff}",
            "\u{fffd}",
            "\u{d7ff}\u{e000}",
            "١٢٣",
            "ǅ",
            "Ⅻ",
            "a\u{200b}b",
            "key=value@host",
            "arn:aws:iam::123456789012:role/x",
            "ä-ö_ü.1",
        ];
        let mut checked = 0;
        for spec in crate::spec::all() {
            for c in spec.constraints {
                let crate::spec::ConstraintKind::Pattern(p) = c.kind else {
                    continue;
                };
                let Some(Pattern::Expanded(lite)) = Pattern::new(p) else {
                    continue;
                };
                let Some(engine) = unicode_engine(p) else {
                    continue;
                };
                for s in samples {
                    assert_eq!(
                        lite.is_match(s),
                        engine.is_match(s),
                        "{p:?} on {s:?} ({})",
                        spec.type_name
                    );
                }
                checked += 1;
            }
        }
        assert!(checked > 50, "only {checked} spelled-out patterns");
    }

    #[test]
    fn patterns_are_not_anchored_unless_they_say_so() {
        let p = Pattern::new("[0-9]{3}").expect("compiles");
        assert!(p.is_match("abc123def"));
        assert!(!p.is_match("ab12"));
    }

    #[test]
    fn look_around_does_not_compile() {
        assert!(Pattern::new("^(?!aws:).+$").is_none());
        assert!(compile_pattern("^(?!aws:).+$").is_none());
    }

    #[test]
    fn a_pattern_is_compiled_once_and_shared() {
        let a = compile_pattern("^[a-z]+$").expect("compiles");
        let b = compile_pattern("^[a-z]+$").expect("compiles");
        assert!(Arc::ptr_eq(&a, &b));
    }

    /// ASCII values for the agreement of a pattern and its ASCII form: every ASCII character
    /// alone and twice, words, and runs at the lengths the schemas bound (`{0,1024}`, `{1,256}`).
    fn ascii_samples() -> Vec<String> {
        let mut out: Vec<String> = (0u8..128)
            .flat_map(|b| {
                let c = char::from(b);
                [c.to_string(), format!("{c}{c}"), format!("a{c}b")]
            })
            .collect();
        for word in [
            "",
            "Hello, World!",
            "arn:aws:iam::123456789012:role/x",
            "key=value@host",
            "tab\there",
            "a\nb",
            "A_b-c.d:e/f=g+h@i",
        ] {
            out.push(word.to_owned());
        }
        for n in [63, 64, 65, 127, 128, 129, 255, 256, 257, 1023, 1024, 1025] {
            for c in ['a', ' ', '0', '-'] {
                out.push(c.to_string().repeat(n));
            }
        }
        out
    }

    #[test]
    fn a_pattern_and_its_ascii_form_agree_on_ascii_values() {
        let samples = ascii_samples();
        assert!(
            ASCII_FORMS.len() > 20,
            "only {} ASCII forms",
            ASCII_FORMS.len()
        );
        for (pattern, form) in ASCII_FORMS.iter() {
            let full = Pattern::new(pattern).expect("synth compiles the whole pattern");
            assert!(
                matches!(full, Pattern::Expanded(_) | Pattern::Unicode(_)),
                "{pattern:?} is read by regex-lite as written: it needs no ASCII form"
            );
            let cut = match Pattern::new(form) {
                Some(cut @ (Pattern::Ascii(_) | Pattern::Run(_))) => cut,
                _ => panic!("the ASCII form {form:?} of {pattern:?} is not read by regex-lite"),
            };
            for s in &samples {
                assert_eq!(
                    full.is_match(s),
                    cut.is_match(s),
                    "{pattern:?} and {form:?} on {s:?}"
                );
            }
        }
    }

    #[test]
    fn a_value_that_is_not_ascii_is_checked_against_the_whole_pattern() {
        let (pattern, form) = ASCII_FORMS
            .iter()
            .find(|(p, _)| p.contains(r"\p{L}"))
            .expect("a pattern with letters");
        assert_eq!(for_value(pattern, "abc"), *form);
        assert_eq!(for_value(pattern, "äbc"), *pattern);
        // A letter outside ASCII: the cut form would refuse it, the whole pattern takes it.
        assert_eq!(matches(pattern, "é"), Some(true), "{pattern:?}");
        assert_eq!(for_value("^[a-z]+$", "abc"), "^[a-z]+$");
    }

    #[test]
    fn threads_asking_at_once_share_one_compiled_pattern() {
        // Patterns no other test compiles, so that the threads race for the first compile: a
        // slow Unicode one and a quick one, asked for in opposite orders.
        let slow = "^[\\p{L}\\p{N}_.:/=+@-]{1,7}$";
        let quick = "^shared-[0-9]{2}$";
        let got: Vec<(Arc<Pattern>, Arc<Pattern>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    s.spawn(move || {
                        let (first, second) = if i % 2 == 0 {
                            (slow, quick)
                        } else {
                            (quick, slow)
                        };
                        let a = compile_pattern(first).expect("compiles");
                        let b = compile_pattern(second).expect("compiles");
                        if i % 2 == 0 {
                            (a, b)
                        } else {
                            (b, a)
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("no panic"))
                .collect()
        });
        let (slow0, quick0) = &got[0];
        assert!(slow0.is_match("a.b") && !slow0.is_match("a b"));
        assert!(quick0.is_match("shared-42"));
        for (s, q) in &got {
            assert!(Arc::ptr_eq(s, slow0) && Arc::ptr_eq(q, quick0));
        }
    }
}
