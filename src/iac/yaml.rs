//! YAML → the [`Json`] tree, for CloudFormation templates. CloudFormation's short-form tags
//! (`!Ref`, `!Sub`, `!GetAtt`, ...) become their long forms (`{"Ref": ...}`, `{"Fn::Sub": ...}`).

use crate::json::Json;
use serde_norway::Value;

/// Short-form tags whose long form is `Fn::<name>`.
const FN_TAGS: &[&str] = &[
    "Base64",
    "Cidr",
    "FindInMap",
    "ForEach",
    "GetAtt",
    "GetAZs",
    "ImportValue",
    "Join",
    "Length",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
    "If",
    "Equals",
    "And",
    "Or",
    "Not",
];

/// Deeper documents are rejected (the conversion is recursive).
const MAX_DEPTH: usize = 128;

/// Parse YAML text. The error message carries the line and column when the YAML parser gives them.
pub fn parse(text: &str) -> Result<Json, String> {
    let v: Value = serde_norway::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    convert(&v, 0, "")
}

fn scalar_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("null".into()),
        _ => None,
    }
}

/// `at` is a readable location for messages.
fn convert(v: &Value, depth: usize, at: &str) -> Result<Json, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "{}: nesting deeper than {MAX_DEPTH} levels",
            where_(at)
        ));
    }
    Ok(match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => match n.as_f64() {
            Some(f) if !f.is_finite() => Json::Str(n.to_string()),
            _ => Json::Num(n.to_string()),
        },
        Value::String(s) => Json::Str(s.clone()),
        Value::Sequence(items) => Json::Arr(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| convert(x, depth + 1, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Value::Mapping(m) => {
            let mut out = Vec::new();
            for (k, x) in m {
                let Some(key) = scalar_key(k) else {
                    return Err(format!("{}: a mapping key must be a scalar", where_(at)));
                };
                let here = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                out.push((key, convert(x, depth + 1, &here)?));
            }
            Json::Obj(out)
        }
        Value::Tagged(t) => {
            let full = t.tag.to_string();
            let name = full.trim_start_matches('!');
            let inner = convert(&t.value, depth + 1, at)?;
            if name.starts_with("tag:yaml.org,2002:") {
                inner
            } else if name == "Ref" || name == "Condition" {
                Json::Obj(vec![(name.to_owned(), inner)])
            } else if FN_TAGS.contains(&name) {
                let inner = match (name, inner) {
                    // `!GetAtt Resource.Attribute` is the long form's two-element list
                    ("GetAtt", Json::Str(s)) => match s.split_once('.') {
                        Some((r, a)) => {
                            Json::Arr(vec![Json::Str(r.to_owned()), Json::Str(a.to_owned())])
                        }
                        None => Json::Str(s),
                    },
                    (_, other) => other,
                };
                Json::Obj(vec![(format!("Fn::{name}"), inner)])
            } else {
                return Err(format!("{}: unknown tag `{full}` (CloudFormation short forms are !Ref, !Sub, !GetAtt, !Join, !If, ...)", where_(at)));
            }
        }
    })
}

fn where_(at: &str) -> &str {
    if at.is_empty() {
        "(document)"
    } else {
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms_become_long_forms() {
        let j = parse("a: !Ref X\nb: !GetAtt R.Arn\nc: !Sub 'arn:${AWS::Partition}:s3:::b'\nd: !If [C, 1, 2]\ne: !Condition C\n").unwrap();
        assert_eq!(
            j.get("a"),
            Some(&Json::Obj(vec![("Ref".into(), Json::Str("X".into()))]))
        );
        assert_eq!(
            j.get("b"),
            Some(&Json::Obj(vec![(
                "Fn::GetAtt".into(),
                Json::Arr(vec![Json::Str("R".into()), Json::Str("Arn".into())])
            )]))
        );
        assert!(matches!(j.get("c"), Some(Json::Obj(o)) if o[0].0 == "Fn::Sub"));
        assert!(matches!(j.get("d"), Some(Json::Obj(o)) if o[0].0 == "Fn::If"));
        assert!(matches!(j.get("e"), Some(Json::Obj(o)) if o[0].0 == "Condition"));
    }

    #[test]
    fn unknown_tags_and_bad_yaml_are_errors() {
        assert!(parse("a: !Nope x\n")
            .unwrap_err()
            .contains("unknown tag `!Nope`"));
        assert!(parse("a: [1,\n").unwrap_err().starts_with("invalid YAML"));
    }

    #[test]
    fn scalars_keep_their_types() {
        let j = parse("Version: '2012-10-17'\nn: 10\nb: true\n").unwrap();
        assert_eq!(j.get("n"), Some(&Json::Num("10".into())));
        assert_eq!(j.get("b"), Some(&Json::Bool(true)));
        assert_eq!(j.get("Version").and_then(Json::as_str), Some("2012-10-17"));
    }
}
