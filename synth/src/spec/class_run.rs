//! Patterns that are one character class repeated from start to end (`^[a-zA-Z0-9-]{1,63}$`,
//! `^[\w+=,.@-]+$`): most name and identifier patterns of the schemas. They are checked here a
//! character at a time, without an automaton.
//!
//! `regex-lite` spells a counted repetition out as that many states, so `[...]{1,512}` is an
//! automaton of 512 copies of the class. Compiling one took about 25,000 instructions, and its
//! simulation about 16,000 for a short name. Together they were two thirds of the schema
//! checks' pattern cost in the reference app.
//!
//! The shapes read are `^C*$`, `^C+$`, `^C?$`, `^C{n}$`, `^C{n,}$` and `^C{n,m}$`, each also
//! anchored as `\A…\z` (the form `regex-syntax` prints, as in `cfn/ascii_patterns.txt`). `C` is
//! a bracket class of literal characters, ranges, and the escapes `regex-lite` gives the same
//! meaning: `\w`, `\d` and `\s` and their negations, which are ASCII as in ECMAScript;
//! `\t \n \r \f \v`; `\xHH`; `\uHHHH`; and escaped punctuation. Anything else is left to
//! [`super::pattern::Pattern`]'s engines. A test checks every vendored pattern read here
//! against those engines, on values chosen to reach the class's edges and the repetition's
//! bounds.

/// A class repeated between `min` and `max` times, from the start of a value to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRun {
    /// The class's characters as sorted, non-overlapping inclusive ranges (negation applied).
    ranges: Vec<(u32, u32)>,
    /// The ASCII characters of the class, a bit each.
    ascii: u128,
    min: usize,
    max: Option<usize>,
}

impl ClassRun {
    /// The run `pattern` is, if it has one of the shapes above.
    pub fn parse(pattern: &str) -> Option<ClassRun> {
        let body = pattern
            .strip_prefix("(?:\\A")
            .and_then(|p| p.strip_suffix("\\z)"))
            .or_else(|| pattern.strip_prefix("\\A")?.strip_suffix("\\z"))
            .or_else(|| pattern.strip_prefix('^')?.strip_suffix('$'))?;
        // `$` escaped (`\$`) is a literal, not the anchor: the class would end in a backslash.
        if body.ends_with('\\') {
            return None;
        }
        let mut chars = body.chars().peekable();
        if chars.next() != Some('[') {
            return None;
        }
        let negated = chars.next_if_eq(&'^').is_some();
        // A `]` first is a literal in some engines and an error in others.
        if chars.peek() == Some(&']') {
            return None;
        }
        let mut ranges: Vec<(u32, u32)> = Vec::new();
        let mut pending: Option<u32> = None;
        loop {
            let item = match chars.next()? {
                ']' => break,
                // Nested classes, POSIX classes and set operations are not read here.
                '[' => return None,
                '&' | '~' if chars.peek() == Some(&'&') || chars.peek() == Some(&'~') => {
                    return None
                }
                '\\' => escape(&mut chars)?,
                // `--` is a set difference in `regex-syntax`.
                '-' if chars.peek() == Some(&'-') => return None,
                '-' if pending.is_some() && chars.peek().is_some_and(|c| *c != ']') => {
                    let low = pending.take()?;
                    let high = match chars.next()? {
                        '\\' => match escape(&mut chars)? {
                            Item::Char(c) => c,
                            Item::Set(_) => return None,
                        },
                        '[' => return None,
                        '-' => return None,
                        c => u32::from(c),
                    };
                    if high < low {
                        return None;
                    }
                    ranges.push((low, high));
                    continue;
                }
                c => Item::Char(u32::from(c)),
            };
            if let Some(c) = pending.take() {
                ranges.push((c, c));
            }
            match item {
                Item::Char(c) => pending = Some(c),
                Item::Set(set) => {
                    // `a-\d` and `\d-z` are errors, not ranges.
                    if chars.peek() == Some(&'-') {
                        let mut ahead = chars.clone();
                        ahead.next();
                        if ahead.peek().is_some_and(|c| *c != ']') {
                            return None;
                        }
                    }
                    ranges.extend(set);
                }
            }
        }
        if let Some(c) = pending {
            ranges.push((c, c));
        }
        if ranges.is_empty() {
            return None;
        }
        let (min, max) = repetition(&chars.collect::<String>())?;
        let mut ranges = normalized(ranges);
        if negated {
            ranges = complement(&ranges);
        }
        let ascii = ranges
            .iter()
            .filter(|(lo, _)| *lo < 128)
            .fold(0u128, |bits, &(lo, hi)| {
                (lo..=hi.min(127)).fold(bits, |b, c| b | 1 << c)
            });
        Some(ClassRun {
            ranges,
            ascii,
            min,
            max,
        })
    }

    /// Whether all of `s` is the class repeated an allowed number of times.
    pub fn is_match(&self, s: &str) -> bool {
        let mut count = 0usize;
        for c in s.chars() {
            let c = u32::from(c);
            let inside = if c < 128 {
                self.ascii & (1 << c) != 0
            } else {
                self.ranges
                    .binary_search_by(|&(lo, hi)| {
                        if hi < c {
                            std::cmp::Ordering::Less
                        } else if lo > c {
                            std::cmp::Ordering::Greater
                        } else {
                            std::cmp::Ordering::Equal
                        }
                    })
                    .is_ok()
            };
            if !inside {
                return false;
            }
            count += 1;
            if self.max.is_some_and(|max| count > max) {
                return false;
            }
        }
        count >= self.min
    }
}

/// One item of a class: a character, or a set an escape names.
enum Item {
    Char(u32),
    Set(Vec<(u32, u32)>),
}

const DIGIT: &[(u32, u32)] = &[(0x30, 0x39)];
const WORD: &[(u32, u32)] = &[(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)];
const SPACE: &[(u32, u32)] = &[(0x09, 0x0D), (0x20, 0x20)];

/// The item an escape (after its `\`) stands for, when it is one read here.
fn escape(chars: &mut std::iter::Peekable<std::str::Chars>) -> Option<Item> {
    let hex = |chars: &mut std::iter::Peekable<std::str::Chars>, n: usize| {
        let digits: String = (0..n)
            .map_while(|_| chars.next_if(char::is_ascii_hexdigit))
            .collect();
        (digits.len() == n)
            .then(|| u32::from_str_radix(&digits, 16).ok())
            .flatten()
            .filter(|c| char::from_u32(*c).is_some())
    };
    Some(match chars.next()? {
        'd' => Item::Set(DIGIT.to_vec()),
        'w' => Item::Set(WORD.to_vec()),
        's' => Item::Set(SPACE.to_vec()),
        'D' => Item::Set(complement(DIGIT)),
        'W' => Item::Set(complement(WORD)),
        'S' => Item::Set(complement(SPACE)),
        't' => Item::Char(0x09),
        'n' => Item::Char(0x0A),
        'v' => Item::Char(0x0B),
        'f' => Item::Char(0x0C),
        'r' => Item::Char(0x0D),
        'x' if chars.peek() != Some(&'{') => Item::Char(hex(chars, 2)?),
        'u' if chars.peek() != Some(&'{') => Item::Char(hex(chars, 4)?),
        c if c.is_ascii_punctuation() => Item::Char(u32::from(c)),
        _ => return None,
    })
}

/// The bounds of a repetition: `*`, `+`, `?`, `{n}`, `{n,}` or `{n,m}`, and nothing after it.
fn repetition(rest: &str) -> Option<(usize, Option<usize>)> {
    match rest {
        "*" => return Some((0, None)),
        "+" => return Some((1, None)),
        "?" => return Some((0, Some(1))),
        _ => {}
    }
    let inner = rest.strip_prefix('{')?.strip_suffix('}')?;
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<usize>().ok())
            .flatten()
    };
    match inner.split_once(',') {
        None => number(inner).map(|n| (n, Some(n))),
        Some((low, "")) => number(low).map(|n| (n, None)),
        Some((low, high)) => {
            let (low, high) = (number(low)?, number(high)?);
            (low <= high).then_some((low, Some(high)))
        }
    }
}

/// `ranges` sorted, with overlapping and adjacent ranges merged.
fn normalized(mut ranges: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    ranges.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// Every character (Unicode scalar value) not in the sorted, merged `ranges`.
fn complement(ranges: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut next = 0u32;
    for &(lo, hi) in ranges {
        if lo > next {
            out.push((next, lo - 1));
        }
        next = hi + 1;
    }
    if next <= 0x10FFFF {
        out.push((next, 0x10FFFF));
    }
    // Surrogates are no characters: a `&str` never holds them, so whether they are "in" is moot.
    out
}

#[cfg(test)]
mod tests {
    use super::super::pattern::{Pattern, ASCII_FORMS};
    use super::*;

    /// Every vendored pattern (and ASCII form) read as a run matches what the engine that
    /// would read it otherwise matches: on every character up to U+017F and some beyond, alone
    /// and inside a word, on words, and on runs of characters at the repetition's bounds.
    #[test]
    fn every_vendored_run_agrees_with_the_engines() {
        let mut patterns: Vec<&str> = crate::spec::all()
            .flat_map(|spec| spec.constraints)
            .filter_map(|c| match c.kind {
                crate::spec::ConstraintKind::Pattern(p) => Some(p),
                _ => None,
            })
            .chain(ASCII_FORMS.iter().flat_map(|(p, f)| [*p, *f]))
            .collect();
        patterns.sort_unstable();
        patterns.dedup();
        let chars: Vec<char> = (0u32..0x180)
            .chain([0x2028, 0x3000, 0x6771, 0xFEFF, 0xFFFD, 0x1F600])
            .filter_map(char::from_u32)
            .collect();
        let mut read = 0;
        for pattern in patterns {
            let Some(run) = ClassRun::parse(pattern) else {
                continue;
            };
            let engine = Pattern::engine(pattern)
                .unwrap_or_else(|| panic!("{pattern:?} is read as a run but by no engine"));
            let mut samples: Vec<String> = vec![
                String::new(),
                "arn:aws:iam::123456789012:role/x".into(),
                "Hello, World!\n".into(),
                "a\nb".into(),
                "Café 東京".into(),
            ];
            let lengths = [Some(1), Some(2), Some(run.min), run.max]
                .into_iter()
                .flatten()
                .flat_map(|n| [n.saturating_sub(1), n, n + 1])
                .filter(|n| *n <= 2_000);
            for n in lengths.collect::<Vec<_>>() {
                for c in ['a', 'Z', '0', '-', '_', ' ', '.', 'é', '東'] {
                    samples.push(c.to_string().repeat(n));
                }
            }
            for c in &chars {
                samples.extend([c.to_string(), format!("a{c}b"), format!("{c}{c}")]);
            }
            for s in &samples {
                assert_eq!(run.is_match(s), engine.is_match(s), "{pattern:?} on {s:?}");
            }
            read += 1;
        }
        // Most name patterns are runs: the fast way is taken for them.
        assert!(read > 300, "only {read} patterns read as runs");
    }

    #[test]
    fn the_shapes_read_and_those_left_to_the_engines() {
        let run = ClassRun::parse(r"^[a-z0-9-]{1,5}$").expect("a run");
        assert!(run.is_match("ab-1") && run.is_match("abcde"));
        assert!(!run.is_match("") && !run.is_match("abcdef") && !run.is_match("aB"));
        assert!(!run.is_match("ab\n"), "`$` is the end of the value");
        let negated = ClassRun::parse(r"(?:\A[^\s:]+\z)").expect("a run");
        assert!(negated.is_match("héllo") && !negated.is_match("a b") && !negated.is_match("a:b"));
        let word = ClassRun::parse(r"^[\w+=,.@-]*$").expect("a run");
        assert!(word.is_match("") && word.is_match("role_1+x@y") && !word.is_match("é"));
        for other in [
            r"^[a-z]+",        // not anchored at the end
            r"[a-z]+$",        // nor at the start
            r"^[a-z][0-9]$",   // two classes
            r"^[a-z]+?$",      // lazy
            r"^[[:alpha:]]+$", // POSIX class
            r"^[a-z&&[^x]]+$", // set operation
            r"^[\p{L}]+$",     // Unicode class
            r"^[z-a]+$",       // an empty range
            r"^[a-\d]+$",      // a range to a set
            r"^[a-z]{2,1}$",   // bounds the wrong way round
            r"^(?i)[a-z]+$",   // flags
            r"^[a-z]+\$",      // an escaped dollar
            r"^[]a]+$",        // a bracket first
        ] {
            assert_eq!(ClassRun::parse(other), None, "{other}");
        }
    }
}
