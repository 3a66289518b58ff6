//! Stage settings files (`stages/<stage>.yaml`), parsed with serde. An unknown key, a wrong type
//! or a bad value is an error naming the file, the line and the key.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// A settings file that could not be read or parsed.
#[derive(Debug, thiserror::Error)]
pub struct SettingsError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong (names the key).
    pub message: String,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// Parses settings text; `file` names it in errors.
pub fn parse<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, SettingsError> {
    serde_yaml::from_str(text).map_err(|e| {
        let location = e.location();
        // serde_yaml appends " at line L column C"; the location is reported separately.
        let message = e.to_string();
        let message = match message.find(" at line ") {
            Some(i) => excerpt(&message[..i]),
            None => excerpt(&message),
        };
        SettingsError {
            file: file.to_path_buf(),
            line: location.as_ref().map(|l| l.line()),
            column: location.as_ref().map(|l| l.column()),
            message,
        }
    })
}

/// The longest quoted value an error message shows whole; longer ones are cut.
const QUOTED_MAX: usize = 60;

/// The parser's message with every long quoted value (serde echoes the offending value, which
/// may be a whole file of junk) cut to a short excerpt that says how long it was.
fn excerpt(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('"') else {
            rest = after;
            break;
        };
        let value = &after[..close];
        let chars = value.chars().count();
        if chars > QUOTED_MAX {
            out.extend(value.chars().take(QUOTED_MAX / 2));
            out.push_str(&format!("…\" ({chars} characters)"));
        } else {
            out.push_str(value);
            out.push('"');
        }
        rest = &after[close + 1..];
    }
    // An unclosed quote: the tail is the value.
    let chars = rest.chars().count();
    if chars > QUOTED_MAX * 2 {
        out.extend(rest.chars().take(QUOTED_MAX));
        out.push_str(&format!("… ({chars} characters)"));
    } else {
        out.push_str(rest);
    }
    out
}

/// Reads and parses a settings file.
pub fn load<T: DeserializeOwned>(file: &Path) -> Result<T, SettingsError> {
    let text = std::fs::read_to_string(file).map_err(|e| SettingsError {
        file: file.to_path_buf(),
        line: None,
        column: None,
        message: format!("cannot read: {e}"),
    })?;
    parse(file, &text)
}

/// The stage names of a settings directory: the `*.yaml` files in it, sorted.
pub fn stage_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, SettingsError> {
    let entries = std::fs::read_dir(dir).map_err(|e| SettingsError {
        file: dir.to_path_buf(),
        line: None,
        column: None,
        message: format!("cannot read the stage settings directory: {e} (run pantri from the project root, or pass --stages-dir DIR)"),
    })?;
    let mut out: Vec<(String, PathBuf)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .filter_map(|p| Some((p.file_stem()?.to_string_lossy().into_owned(), p)))
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Demo {
        name: String,
        size: u32,
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = parse::<Demo>(
            Path::new("stages/dev.yaml"),
            "name: a\nsize: 2\ncolour: red\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("stages/dev.yaml:3:"), "{text}");
        assert!(text.contains("colour"), "{text}");
    }

    #[test]
    fn a_huge_bad_value_is_quoted_as_a_short_excerpt() {
        let junk = "x".repeat(3_000_000);
        let err = parse::<Demo>(Path::new("dev.yaml"), &junk).unwrap_err();
        let text = err.to_string();
        assert!(
            text.len() < 300,
            "{} characters: {}",
            text.len(),
            &text[..300]
        );
        assert!(text.contains("3000000 characters"), "{text}");
        assert!(text.contains("expected struct Demo"), "{text}");
    }

    #[test]
    fn short_values_are_quoted_whole() {
        assert_eq!(
            excerpt(r#"invalid type: string "big", expected u32"#),
            r#"invalid type: string "big", expected u32"#
        );
    }

    #[test]
    fn wrong_type_names_the_key() {
        let err = parse::<Demo>(Path::new("prod.yaml"), "name: a\nsize: big\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("size"), "{}", err.message);
    }
}
