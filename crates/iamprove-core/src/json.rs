//! Raw JSON layer: an order-preserving JSON tree that keeps duplicate object keys (so the typed
//! layer can reject them with a location) and JSON paths for error messages.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A JSON value. Objects keep every entry in source order, duplicates included.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// The number's literal text, exactly as written (`10.50` stays `10.50`).
    Num(String),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object: every entry in source order, duplicates kept.
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// The value's type in words (`a string`), for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Num(_) => "a number",
            Json::Str(_) => "a string",
            Json::Arr(_) => "an array",
            Json::Obj(_) => "an object",
        }
    }

    /// First entry with this key in an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number of characters of the value written as compact JSON, white space outside
    /// strings not counted (how AWS measures policy sizes; escapes count as the characters
    /// they stand for, so this can be slightly below AWS's count).
    pub fn char_count(&self) -> usize {
        match self {
            Json::Null => 4,
            Json::Bool(b) => {
                if *b {
                    4
                } else {
                    5
                }
            }
            Json::Num(n) => n.chars().count(),
            Json::Str(s) => s.chars().count() + 2,
            // brackets and the commas between items
            Json::Arr(v) => {
                2 + v.len().saturating_sub(1) + v.iter().map(Json::char_count).sum::<usize>()
            }
            // braces, commas, and `"key":` per entry
            Json::Obj(v) => {
                2 + v.len().saturating_sub(1)
                    + v.iter()
                        .map(|(k, x)| k.chars().count() + 3 + x.char_count())
                        .sum::<usize>()
            }
        }
    }

    /// Convert to a serde_json value (last duplicate wins); for printing only. A number keeps its
    /// text only when serde_json is built with `arbitrary_precision` (the `iamprove` binary
    /// crate enables it); otherwise it is printed as serde_json's `f64`/integer.
    pub fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Num(n) => n
                .parse::<serde_json::Number>()
                .map(Value::Number)
                .unwrap_or_else(|_| Value::String(n.clone())),
            Json::Str(s) => Value::String(s.clone()),
            Json::Arr(a) => Value::Array(a.iter().map(Json::to_value).collect()),
            Json::Obj(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), v.to_value())).collect())
            }
        }
    }

    /// Convert from a serde_json value (numbers keep the text the value holds: exact with
    /// serde_json's `arbitrary_precision`, else as serde_json prints its `f64`/integer; text
    /// parsed with [`parse`] keeps every number exactly either way).
    pub fn from_value(v: &serde_json::Value) -> Json {
        use serde_json::Value;
        match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Num(n.to_string()),
            Value::String(s) => Json::Str(s.clone()),
            Value::Array(a) => Json::Arr(a.iter().map(Json::from_value).collect()),
            Value::Object(o) => Json::Obj(
                o.iter()
                    .map(|(k, v)| (k.clone(), Json::from_value(v)))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Num(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Num(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Num(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        Ok(Json::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Json, E> {
        Ok(Json::Str(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Json>()? {
            out.push(v);
        }
        Ok(Json::Arr(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        // serde_json with `arbitrary_precision` (if an embedder enables it) hands numbers over as
        // a one-entry map.
        let mut out: Vec<(String, Json)> = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            if k == "$serde_json::private::Number" {
                let s: String = map.next_value()?;
                return Ok(Json::Num(s));
            }
            let v: Json = map.next_value()?;
            out.push((k, v));
        }
        Ok(Json::Obj(out))
    }
}

/// What is wrong with one key of an input object (see [`key_problems`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProblem<'a> {
    /// Not a known key; `hint` is a known key equal to it ignoring ASCII case.
    Unknown {
        /// The key as written.
        key: &'a str,
        /// A known key equal to it ignoring ASCII case.
        hint: Option<&'a str>,
    },
    /// A known key given again (the raw tree keeps duplicates; reading the last would silently
    /// drop the first).
    Duplicate(&'a str),
}

/// The one unknown-key check of every input format (policies, scenarios, requests, account
/// dumps, specs): the problems of an object's keys, in document order. Callers word the message
/// (and may ignore duplicates where a format allows them).
pub fn key_problems<'a>(entries: &'a [(String, Json)], known: &[&'a str]) -> Vec<KeyProblem<'a>> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (k, _) in entries {
        let k = k.as_str();
        if !known.contains(&k) {
            let hint = known.iter().copied().find(|c| c.eq_ignore_ascii_case(k));
            out.push(KeyProblem::Unknown { key: k, hint });
        } else if !seen.insert(k) {
            out.push(KeyProblem::Duplicate(k));
        }
    }
    out
}

/// The first key of an object that is not known (for formats that stop at the first error).
pub fn first_unknown_key<'a>(entries: &'a [(String, Json)], known: &[&str]) -> Option<&'a str> {
    entries
        .iter()
        .map(|(k, _)| k.as_str())
        .find(|k| !known.contains(k))
}

/// A syntax error in JSON text, with its 1-based position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// serde_json's message, without its position.
    pub message: String,
}

/// Parse JSON text into the raw tree. Numbers keep their text exactly as written, whatever
/// serde_json's features: serde_json checks the syntax (and words its errors), then the number
/// literals are read from the text itself (see [`number_literals`]), so core does not need
/// serde_json's `arbitrary_precision` (ARCHITECTURE.md, "Embedding").
pub(crate) fn parse_text(text: &str) -> Result<Json, SyntaxError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = Json::deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    let mut v = parsed.map_err(|e| SyntaxError {
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })?;
    let literals = number_literals(text);
    if literals.len() == count_numbers(&v) {
        let mut it = literals.into_iter();
        restore_numbers(&mut v, &mut it);
    }
    Ok(v)
}

/// The number literals of JSON text, in document order (the text is valid JSON: outside
/// strings, a `-` or digit starts a number and only number characters follow it).
fn number_literals(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                // a string: skip to its closing quote (escapes skip one more byte; UTF-8
                // continuation bytes are never `"` or `\`)
                i += 1;
                while let Some(&d) = b.get(i) {
                    i += match d {
                        b'"' => break,
                        b'\\' => 2,
                        _ => 1,
                    };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while b
                    .get(i)
                    .is_some_and(|d| matches!(d, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                {
                    i += 1;
                }
                if let Some(lit) = text.get(start..i) {
                    out.push(lit);
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn count_numbers(v: &Json) -> usize {
    match v {
        Json::Num(_) => 1,
        Json::Arr(a) => a.iter().map(count_numbers).sum(),
        Json::Obj(o) => o.iter().map(|(_, x)| count_numbers(x)).sum(),
        _ => 0,
    }
}

/// Give the numbers of `v`, in document order, the texts of `lits`.
fn restore_numbers<'t>(v: &mut Json, lits: &mut impl Iterator<Item = &'t str>) {
    match v {
        Json::Num(n) => {
            if let Some(l) = lits.next() {
                l.clone_into(n);
            }
        }
        Json::Arr(a) => a.iter_mut().for_each(|x| restore_numbers(x, lits)),
        Json::Obj(o) => o.iter_mut().for_each(|(_, x)| restore_numbers(x, lits)),
        _ => {}
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// A location inside a JSON document, printed as `Statement[2].Condition.StringEqualz`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JsonPath(Vec<Seg>);

/// One step of a path: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    /// An object key.
    Key(String),
    /// An array index (0-based).
    Index(usize),
}

impl JsonPath {
    /// The document root (printed as an empty path).
    pub fn root() -> Self {
        JsonPath(Vec::new())
    }
    /// The path to object key `k` below this one.
    pub fn key(&self, k: &str) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Key(k.to_owned()));
        JsonPath(v)
    }
    /// The path to array index `i` below this one.
    pub fn index(&self, i: usize) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Index(i));
        JsonPath(v)
    }
    /// Whether this is the document root.
    pub(crate) fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document)");
        }
        let mut first = true;
        for s in &self.0 {
            match s {
                Seg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// Maximum nesting accepted; deeper documents are rejected before parsing (no stack overflow).
pub const MAX_DEPTH: usize = 64;

/// Reject text nested deeper than [`MAX_DEPTH`], reporting the position where it happens
/// (line, and column in characters).
pub(crate) fn check_depth(text: &str) -> Result<(), SyntaxError> {
    let mut s = Scanner::new(text, false);
    let mut depth = 0usize;
    while let Some(c) = s.peek() {
        match c {
            '"' => {
                if s.skip_string().is_none() {
                    break; // unterminated: the parser reports it
                }
            }
            '[' | '{' => {
                let at = s.pos();
                s.bump();
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(SyntaxError {
                        line: at.line,
                        column: at.column,
                        message: format!("nesting deeper than {MAX_DEPTH} levels"),
                    });
                }
            }
            ']' | '}' => {
                s.bump();
                depth = depth.saturating_sub(1);
            }
            _ => {
                s.bump();
            }
        }
    }
    Ok(())
}

/// Depth-checked parse.
pub fn parse(text: &str) -> Result<Json, SyntaxError> {
    check_depth(text)?;
    parse_text(text)
}

// ---------------------------------------------------------------------------------------------
// Positions in JSON text

/// A 1-based position in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// The one JSON text scanner: tracks line and column while walking text without building a
/// tree (no recursion on nesting). Used for depth checks before parsing ([`check_depth`]) and to
/// locate a path's value for reports ([`find`]).
struct Scanner<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
    column: usize,
    /// Columns count UTF-16 code units (SARIF) rather than characters (error messages).
    utf16: bool,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str, utf16: bool) -> Scanner<'a> {
        Scanner {
            chars: text.chars().peekable(),
            line: 1,
            column: 1,
            utf16,
        }
    }
    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += if self.utf16 { c.len_utf16() } else { 1 };
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
    /// Skip a string literal (the opening quote is next) without decoding escapes; `None` when
    /// it is not terminated.
    fn skip_string(&mut self) -> Option<()> {
        self.bump()?;
        loop {
            match self.bump()? {
                '"' => return Some(()),
                '\\' => {
                    self.bump()?;
                }
                _ => {}
            }
        }
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

/// Where the value at `path` starts in `text` (columns in UTF-16 code units); None when the path
/// is not in the text (the first of duplicate keys is followed).
pub fn find(text: &str, path: &[Seg]) -> Option<Pos> {
    Scanner::new(text, true).find(path)
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

    #[test]
    fn keeps_duplicates_and_number_text() {
        let j = parse(r#"{"a": 1, "a": 10.50}"#).unwrap();
        assert_eq!(
            j,
            Json::Obj(vec![
                ("a".into(), Json::Num("1".into())),
                ("a".into(), Json::Num("10.50".into()))
            ])
        );
    }

    #[test]
    fn syntax_error_has_position() {
        let e = parse("{\n  \"a\": [1,\n}").unwrap_err();
        assert_eq!(e.line, 3);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        assert!(parse(&text).is_err());
    }

    #[test]
    fn depth_errors_name_line_and_character_column() {
        // columns count characters here (UTF-16 units only for SARIF); brackets inside strings,
        // escaped quotes included, do not nest
        let text = String::from("{\"a\": \"[[\\\"[\",\n \"\u{1f600}\": ") + &"[".repeat(70);
        let e = check_depth(&text).unwrap_err();
        assert_eq!((e.line, e.column), (2, 7 + 63));
        assert!(check_depth("{\"a\": \"unterminated [[[").is_ok());
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(check_depth(&ok).is_ok());
    }

    #[test]
    fn path_display() {
        let p = JsonPath::root()
            .key("Statement")
            .index(2)
            .key("Condition")
            .key("StringEqualz");
        assert_eq!(p.to_string(), "Statement[2].Condition.StringEqualz");
    }
}
