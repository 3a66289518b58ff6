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
            Some(i) => message[..i].to_owned(),
            None => message,
        };
        SettingsError {
            file: file.to_path_buf(),
            line: location.as_ref().map(|l| l.line()),
            column: location.as_ref().map(|l| l.column()),
            message,
        }
    })
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
    fn wrong_type_names_the_key() {
        let err = parse::<Demo>(Path::new("prod.yaml"), "name: a\nsize: big\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("size"), "{}", err.message);
    }
}
