//! Where a JSON path starts in a file's text: a tiny position-tracking JSON scanner.
//!
//! `serde_json` (and the raw tree of `json.rs`) keep no spans, and SARIF consumers such as GitHub
//! code scanning need a line. The scanner walks the text along a path (`Statement[1].Action[2]`)
//! without building a tree and returns the 1-based line and column where the value starts.
//! Columns count UTF-16 code units, SARIF's default `columnKind`.

/// One step of a path: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A 1-based position in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Parse a printed `JsonPath` (`Document.Statement[0].Condition`, `scps[0][1]`; `(document)` or
/// the empty string is the root). Keys containing `.` or `[` cannot be told apart from the path
/// syntax; build such paths from [`Seg`]s directly.
pub fn parse_path(path: &str) -> Vec<Seg> {
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

struct Scanner<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
    column: usize,
}

impl Scanner<'_> {
    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += c.len_utf16();
        }
        Some(c)
    }
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.column,
        }
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\r' | '\n' | '\u{feff}')) {
            self.bump();
        }
    }
    fn eat(&mut self, c: char) -> Option<()> {
        self.ws();
        (self.peek() == Some(c)).then(|| {
            self.bump();
        })
    }
    /// A string literal (the opening quote is next), decoded.
    fn string(&mut self) -> Option<String> {
        if self.bump()? != '"' {
            return None;
        }
        let mut s = String::new();
        loop {
            match self.bump()? {
                '"' => return Some(s),
                '\\' => match self.bump()? {
                    'u' => {
                        let mut code = 0u32;
                        for _ in 0..4 {
                            code = code * 16 + self.bump()?.to_digit(16)?;
                        }
                        // surrogate pairs decode to a replacement; keys that need them are rare
                        s.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                    'n' => s.push('\n'),
                    't' => s.push('\t'),
                    'r' => s.push('\r'),
                    'b' => s.push('\u{8}'),
                    'f' => s.push('\u{c}'),
                    other => s.push(other),
                },
                c => s.push(c),
            }
        }
    }
    /// Skip one value (iteratively: no recursion on deep input).
    fn skip_value(&mut self) -> Option<()> {
        self.ws();
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                '"' => {
                    self.string()?;
                }
                '{' | '[' => {
                    self.bump();
                    depth += 1;
                }
                '}' | ']' => {
                    if depth == 0 {
                        return Some(()); // an empty container's end: nothing to skip
                    }
                    self.bump();
                    depth -= 1;
                }
                ',' | ':' if depth > 0 => {
                    self.bump();
                }
                ' ' | '\t' | '\r' | '\n' => {
                    self.bump();
                }
                _ => {
                    // a scalar: up to the next delimiter
                    while !matches!(
                        self.peek(),
                        None | Some(',' | '}' | ']' | ' ' | '\t' | '\r' | '\n')
                    ) {
                        self.bump();
                    }
                    if depth == 0 {
                        return Some(());
                    }
                }
            }
            if depth == 0 {
                return Some(());
            }
        }
    }
    /// Walk `path` from the value that starts here.
    fn find(&mut self, path: &[Seg]) -> Option<Pos> {
        self.ws();
        let Some((first, rest)) = path.split_first() else {
            return Some(self.pos());
        };
        match first {
            Seg::Key(want) => {
                self.eat('{')?;
                loop {
                    self.ws();
                    if self.peek()? == '}' {
                        return None;
                    }
                    let key = self.string()?;
                    self.eat(':')?;
                    if &key == want {
                        return self.find(rest);
                    }
                    self.skip_value()?;
                    self.ws();
                    match self.bump()? {
                        ',' => {}
                        _ => return None,
                    }
                }
            }
            Seg::Index(want) => {
                self.eat('[')?;
                let mut i = 0;
                loop {
                    self.ws();
                    if self.peek()? == ']' {
                        return None;
                    }
                    if i == *want {
                        return self.find(rest);
                    }
                    self.skip_value()?;
                    self.ws();
                    match self.bump()? {
                        ',' => i += 1,
                        _ => return None,
                    }
                }
            }
        }
    }
}

/// Where the value at `path` starts in `text`; None when the path is not in the text (the first
/// of duplicate keys is followed).
pub fn find(text: &str, path: &[Seg]) -> Option<Pos> {
    let mut s = Scanner {
        chars: text.chars().peekable(),
        line: 1,
        column: 1,
    };
    s.find(path)
}

/// Where the longest prefix of `path` that exists in `text` starts, with the number of segments
/// found: a statement inside a policy stored as a string is located at that string.
pub fn find_longest(text: &str, path: &[Seg]) -> Option<(Pos, usize)> {
    (0..=path.len())
        .rev()
        .find_map(|n| find(text, &path[..n]).map(|p| (p, n)))
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
pub fn find_yaml_keys(text: &str, keys: &[&str]) -> Option<Pos> {
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
