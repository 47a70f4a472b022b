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

    /// Convert to a serde_json value (last duplicate wins); for printing only.
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

    /// Convert from a serde_json value (numbers keep their text).
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
        // serde_json with `arbitrary_precision` hands numbers over as a one-entry map.
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

/// Parse JSON text into the raw tree.
pub fn parse_text(text: &str) -> Result<Json, SyntaxError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = Json::deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    parsed.map_err(|e| SyntaxError {
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })
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

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Seg {
    Key(String),
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
    pub fn is_root(&self) -> bool {
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

/// Reject text nested deeper than [`MAX_DEPTH`], reporting the position where it happens.
pub fn check_depth(text: &str) -> Result<(), SyntaxError> {
    let (mut depth, mut line, mut col) = (0usize, 1usize, 0usize);
    let (mut in_str, mut escaped) = (false, false);
    for c in text.chars() {
        col += 1;
        if c == '\n' {
            line += 1;
            col = 0;
        }
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '[' | '{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(SyntaxError {
                        line,
                        column: col,
                        message: format!("nesting deeper than {MAX_DEPTH} levels"),
                    });
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Depth-checked parse.
pub fn parse(text: &str) -> Result<Json, SyntaxError> {
    check_depth(text)?;
    parse_text(text)
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
    fn path_display() {
        let p = JsonPath::root()
            .key("Statement")
            .index(2)
            .key("Condition")
            .key("StringEqualz");
        assert_eq!(p.to_string(), "Statement[2].Condition.StringEqualz");
    }
}
