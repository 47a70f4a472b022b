//! Input errors, located: what is wrong with a user's file and where (file, JSON path or line and
//! column), for every input format (policies, scenarios, requests, account dumps, specs). Bad
//! input is reported with these and exit status 2, never a panic. The unknown-key check all
//! formats share is [`crate::json::key_problems`].

use crate::json::{Json, JsonPath};
use std::fmt;
use std::path::Path;

/// One problem in a policy document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// JSON path of the offending element.
    pub path: JsonPath,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A located input problem: file, JSON path (or line/column), message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    /// The file (as given on the command line).
    pub file: String,
    /// JSON path inside the file, when known.
    pub path: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}: {}", self.file, p, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl InputError {
    /// An error in `file`, at JSON path `path` when known.
    pub fn new(file: &str, path: Option<String>, message: impl Into<String>) -> Self {
        InputError {
            file: file.to_owned(),
            path,
            message: message.into(),
        }
    }
}

/// Every input problem found (the CLI prints them all, then exits 2).
pub type Errors = Vec<InputError>;

/// Read and parse a JSON file, with a located syntax error.
pub fn read_json(path: &Path) -> Result<Json, Errors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![InputError::new(
            &file,
            None,
            format!("cannot read file: {e}"),
        )]
    })?;
    crate::json::parse(&text).map_err(|e| {
        vec![InputError::new(
            &file,
            None,
            format!(
                "invalid JSON at line {}, column {}: {}",
                e.line, e.column, e.message
            ),
        )]
    })
}

/// Turn parser errors into located input errors, with a path prefix for embedded documents.
pub fn locate(file: &str, prefix: &JsonPath, errs: Vec<ParseError>) -> Errors {
    errs.into_iter()
        .map(|e| {
            let path = if prefix.is_root() {
                e.path.to_string()
            } else if e.path.is_root() {
                prefix.to_string()
            } else {
                format!("{prefix}.{}", e.path)
            };
            InputError::new(file, Some(path), e.message)
        })
        .collect()
}
