//! The schemas' `pattern` constraints, compiled once per process.
//!
//! The patterns are ECMAScript regular expressions (JSON Schema says so), where `\w`, `\d` and
//! `\b` are ASCII. They compile with `regex-lite` first: its classes are ASCII as ECMAScript's
//! are, and it compiles to a small automaton over characters. The `regex` crate spells out
//! every Unicode class as UTF-8 byte sequences and a counted repetition as that many copies, so
//! `[\w+=,.@-]{1,512}` took it tens of milliseconds and some patterns went over its size limit;
//! compiling the reference app's patterns was a quarter of its synthesis. Only the patterns
//! `regex-lite` cannot read, those with Unicode classes (`\p{L}`, `\P{C}`), go to `regex`,
//! where those classes mean what ECMAScript's `u` flag makes them mean.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A compiled schema pattern.
#[derive(Debug)]
pub enum Pattern {
    /// ASCII classes, as ECMAScript has them (almost every pattern).
    Ascii(regex_lite::Regex),
    /// A pattern with Unicode classes (`\p{L}`), which `regex-lite` does not have.
    Unicode(regex::Regex),
}

impl Pattern {
    /// Compiles `pattern`, or `None` when neither engine reads it (look-around, back-references,
    /// UTF-16 surrogates): such a constraint is skipped.
    pub fn new(pattern: &str) -> Option<Pattern> {
        match regex_lite::Regex::new(pattern) {
            Ok(re) => Some(Pattern::Ascii(re)),
            Err(_) => regex::Regex::new(pattern).ok().map(Pattern::Unicode),
        }
    }

    /// True when the pattern matches somewhere in `s` (JSON Schema patterns are not anchored).
    pub fn is_match(&self, s: &str) -> bool {
        match self {
            Pattern::Ascii(re) => re.is_match(s),
            Pattern::Unicode(re) => re.is_match(s),
        }
    }
}

/// The compiled patterns, shared by every thread: a pattern is compiled once per process
/// (compiling them once per rendering thread was a third of the reference app's synthesis).
/// Bounded by the patterns of the vendored schemas.
static PATTERNS: OnceLock<Mutex<PatternCache>> = OnceLock::new();

type PatternCache = HashMap<&'static str, Option<Arc<Pattern>>>;

/// The compiled pattern, or `None` when it cannot be compiled ([`Pattern::new`]).
pub fn compile_pattern(pattern: &'static str) -> Option<Arc<Pattern>> {
    let cache = PATTERNS.get_or_init(Default::default);
    // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(pattern)
        .or_insert_with(|| Pattern::new(pattern).map(Arc::new))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn unicode_classes_go_to_the_unicode_engine() {
        // GIVEN the tag value pattern of many schemas
        let p = Pattern::new(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$").expect("compiles");
        // THEN letters of any script match, control characters do not
        assert!(matches!(p, Pattern::Unicode(_)));
        assert!(p.is_match("Café 東京 42"));
        assert!(!p.is_match("tab\there"));
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
}
