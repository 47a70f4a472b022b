//! Where a JSON path starts in a file's text, for SARIF (GitHub code scanning needs a line).
//!
//! `serde_json` (and the raw tree of `json.rs`) keep no spans; the position-tracking scanner of
//! [`crate::json`] ([`find`], [`find_longest`]) walks the text along a path
//! (`Statement[1].Action[2]`) and returns the 1-based line and column where the value starts,
//! columns in UTF-16 code units (SARIF's default `columnKind`). This module parses printed
//! paths and finds keys in YAML.

pub use crate::json::{find, find_longest, Pos, Seg};

/// Parse a printed `JsonPath` (`Document.Statement[0].Condition`, `scps[0][1]`; `(document)` or
/// the empty string is the root). Keys containing `.` or `[` cannot be told apart from the path
/// syntax; build such paths from [`Seg`]s directly.
pub(crate) fn parse_path(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    if path == "(document)" {
        return out;
    }
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Seg::Key(key.to_owned()));
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let Some(end) = stripped.find(']') else {
                // not an index after all: keep the text as part of a key
                out.push(Seg::Key(rest.to_owned()));
                break;
            };
            match stripped[..end].parse::<usize>() {
                Ok(i) => out.push(Seg::Index(i)),
                Err(_) => out.push(Seg::Key(stripped[..end].to_owned())),
            }
            rest = &stripped[end + 1..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject", "s3:Put\"x"], "Resource": "*"},
    {"Sid": "B",
     "Effect": "Deny", "Action": "s3:*", "Resource": "*",
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
  ]
}"#;

    fn at(text: &str, path: &str) -> Option<(usize, usize)> {
        find(text, &parse_path(path)).map(|p| (p.line, p.column))
    }

    #[test]
    fn parses_paths() {
        assert_eq!(
            parse_path("Statement[1].Action[2]"),
            vec![
                Seg::Key("Statement".into()),
                Seg::Index(1),
                Seg::Key("Action".into()),
                Seg::Index(2)
            ]
        );
        assert_eq!(
            parse_path("scps[0][1]"),
            vec![Seg::Key("scps".into()), Seg::Index(0), Seg::Index(1)]
        );
        assert_eq!(parse_path("(document)"), vec![]);
        assert_eq!(parse_path(""), vec![]);
    }

    #[test]
    fn finds_statements_and_elements() {
        assert_eq!(at(POLICY, ""), Some((1, 1)));
        assert_eq!(at(POLICY, "Statement"), Some((3, 16)));
        assert_eq!(at(POLICY, "Statement[0]"), Some((4, 5)));
        assert_eq!(at(POLICY, "Statement[0].Action[1]"), Some((4, 64)));
        assert_eq!(at(POLICY, "Statement[1]"), Some((5, 5)));
        assert_eq!(at(POLICY, "Statement[1].Effect"), Some((6, 16)));
        assert_eq!(at(POLICY, "Statement[1].Condition.Bool"), Some((7, 28)));
        assert_eq!(at(POLICY, "Statement[2]"), None);
        assert_eq!(at(POLICY, "Statement[1].Nope"), None);
    }

    #[test]
    fn nested_prefixes_and_fallback() {
        let text = "{\"identity_policies\": [\n  \"p.json\",\n  {\"Statement\": {\"Effect\": \"Allow\"}}\n]}";
        assert_eq!(at(text, "identity_policies[1].Statement"), Some((3, 17)));
        assert_eq!(at(text, "identity_policies[0]"), Some((2, 3)));
        let (p, n) = find_longest(text, &parse_path("identity_policies[0].Statement[3]")).unwrap();
        assert_eq!((p.line, p.column, n), (2, 3, 2));
    }

    #[test]
    fn columns_count_utf16_units_and_escaped_keys_match() {
        let text = "{\"k\u{e9}\u{1f600}\": 1, \"a\\u0062\": [true, null, {\"x\": 2}]}";
        assert_eq!(at(text, "ab[2].x"), Some((1, 43)));
        assert_eq!(at(text, "k\u{e9}\u{1f600}"), Some((1, 10)));
    }

    #[test]
    fn malformed_or_deep_text_gives_none_not_a_crash() {
        assert_eq!(at("{\"a\": [1, 2", "a[5]"), None);
        let deep = format!(
            "{{\"a\": {}1{}, \"b\": 2}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(at(&deep, "b"), Some((1, 200_015)));
    }
}

/// Where a chain of mapping keys (`Resources`, `LogicalId`) starts in a YAML text (block style):
/// the line and column of the last key. Flow-style or otherwise unusual YAML gives `None`.
pub(crate) fn find_yaml_keys(text: &str, keys: &[&str]) -> Option<Pos> {
    let mut want = 0usize;
    let mut min_indent = 0usize;
    let mut found: Option<(usize, usize)> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if want > 0 {
            if let Some((_, parent)) = found {
                if indent <= parent {
                    // left the parent mapping without finding the key
                    return None;
                }
            }
        }
        if indent < min_indent {
            continue;
        }
        let Some(key) = keys.get(want) else { break };
        let name = trimmed
            .split_once(':')
            .map(|(k, _)| k.trim().trim_matches(|c| c == '"' || c == '\''));
        if name == Some(*key) {
            let column = line[..indent].encode_utf16().count() + 1;
            found = Some((n + 1, indent));
            want += 1;
            min_indent = indent + 1;
            if want == keys.len() {
                return Some(Pos {
                    line: n + 1,
                    column,
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod yaml_tests {
    use super::*;

    #[test]
    fn yaml_keys_are_found_by_nesting() {
        let t = "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  Role:\n    Type: String\nResources:\n  # c\n  Role:\n    Type: AWS::IAM::Role\n  \"Queue\":\n    Type: AWS::SQS::Queue\n";
        assert_eq!(
            find_yaml_keys(t, &["Resources", "Role"]),
            Some(Pos { line: 7, column: 3 })
        );
        assert_eq!(
            find_yaml_keys(t, &["Resources", "Queue"]),
            Some(Pos { line: 9, column: 3 })
        );
        assert_eq!(find_yaml_keys(t, &["Resources", "Nope"]), None);
    }
}
