//! Case files: loading `cases/*.json`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One conformance case: a script, the files it starts with, and what real
/// GNU bash printed on stdout and exited with (recorded by `oracle.py`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Unique kebab-case name.
    pub name: String,
    /// The command or shell feature, plus `error`, `edge`, `syntax-error`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Files that exist before the script runs: absolute path under
    /// `/data/` → UTF-8 text. Parent directories exist implicitly.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// The shell input, run as one program (may be multi-line).
    pub script: String,
    /// The exact expected standard output.
    pub stdout: String,
    /// The exact expected standard error, or `None` (`null` or absent in
    /// the file) when it is not comparable; compared after the shell's name
    /// is normalised (see [`crate::stderr_matches`]).
    #[serde(default)]
    pub stderr: Option<String>,
    /// The expected exit status of the whole script.
    pub exit_code: i32,
    /// The name of the file the case came from (`cmd_grep_rg.json`); set by
    /// the loader, not part of the case format.
    #[serde(skip)]
    pub file: String,
}

/// Why case files could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// A file or directory could not be read.
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// A file is not a JSON array of cases.
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error (with line and column).
        error: serde_json::Error,
    },
    /// Two cases share a name.
    DuplicateName {
        /// The repeated name.
        name: String,
        /// The files holding the two cases.
        files: (String, String),
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            LoadError::Json { path, error } => write!(f, "{}: {error}", path.display()),
            LoadError::DuplicateName { name, files } => {
                write!(
                    f,
                    "case name {name:?} appears twice ({} and {})",
                    files.0, files.1
                )
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// Parses one case file (a JSON array of cases); `file` is recorded in each
/// case's [`Case::file`].
pub fn parse_cases(json: &str, file: &str) -> Result<Vec<Case>, serde_json::Error> {
    let mut cases: Vec<Case> = serde_json::from_str(json)?;
    for c in &mut cases {
        c.file = file.to_string();
    }
    Ok(cases)
}

/// Loads one case file.
pub fn load_file(path: &Path) -> Result<Vec<Case>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|error| LoadError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    parse_cases(&text, &file).map_err(|error| LoadError::Json {
        path: path.to_path_buf(),
        error,
    })
}

/// The case files a path names: the file itself, or every `*.json` directly
/// inside a directory, sorted by name.
pub fn case_files(path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let io = |error| LoadError::Io {
        path: path.to_path_buf(),
        error,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io)? {
        let entry = entry.map_err(io)?;
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "json") && p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// Loads every case from `paths` (files, or directories of `*.json` files),
/// in order, and checks that names are unique.
pub fn load_cases<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<Case>, LoadError> {
    let mut all = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for p in paths {
        for file in case_files(p.as_ref())? {
            for case in load_file(&file)? {
                if let Some(prev) = seen.insert(case.name.clone(), case.file.clone()) {
                    return Err(LoadError::DuplicateName {
                        name: case.name,
                        files: (prev, case.file),
                    });
                }
                all.push(case);
            }
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_case() {
        let json = r#"[{"name":"a","tags":["echo"],"files":{"/data/x":"1\n"},"script":"echo hi","stdout":"hi\n","exit_code":0}]"#;
        let cases = parse_cases(json, "f.json").unwrap();
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].file, "f.json");
        assert_eq!(cases[0].files["/data/x"], "1\n");
    }

    #[test]
    fn rejects_a_non_array() {
        assert!(parse_cases("{}", "f.json").is_err());
    }
}
