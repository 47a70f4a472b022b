//! Values not known from the input, kept symbolic.
//!
//! A CloudFormation intrinsic that cannot be resolved (a parameter without `--parameter`, a
//! pseudo-parameter without `--account-id`/`--region`/`--partition`, `Fn::GetAtt`, ...) becomes a
//! *marker* inside the string that holds it: `MARK name MARK`. The same expression gives the same
//! marker in OLD and NEW (they stand for the same deployed value).
//!
//! A policy with markers is bounded from both sides, for every value the markers may take:
//! the *upper* bound allows at least what the policy allows for any value, the *lower* bound at
//! most what it allows for any value. A marked pattern becomes `*` where matching more helps the
//! bound and is dropped where matching less helps; a marked condition is dropped (the statement
//! then applies more often) or drops its statement (applies never). The comparison of a part is
//! then (`super::compare_part`):
//! - no widening from lower(OLD) to upper(NEW): proved for every value;
//! - a widening from upper(OLD) to lower(NEW): a widening for every value (the finding is
//!   replayed against those two bounds);
//! - otherwise `unknown`, naming the values the verdict depends on.

use crate::json::Json;
use std::collections::BTreeSet;

/// Delimits an unresolved value inside a string (a control character no policy contains).
pub const MARK: char = '\u{1f}';

/// A marker for the unresolved expression `name`.
pub fn marker(name: &str) -> String {
    format!("{MARK}{name}{MARK}")
}

/// Does any string (or key) in `j` hold a marker?
pub fn has_mark(j: &Json) -> bool {
    match j {
        Json::Str(s) => s.contains(MARK),
        Json::Arr(a) => a.iter().any(has_mark),
        Json::Obj(o) => o.iter().any(|(k, v)| k.contains(MARK) || has_mark(v)),
        _ => false,
    }
}

/// `s` with every marker replaced: `f` gets the marker's name and the output to write its
/// replacement into; the text between markers is copied as it is.
fn replace_marks(s: &str, mut f: impl FnMut(&str, &mut String)) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, piece) in s.split(MARK).enumerate() {
        if i % 2 == 0 {
            out.push_str(piece);
        } else {
            f(piece, &mut out);
        }
    }
    out
}

/// The names of the markers in `j`.
pub fn marks(j: &Json, out: &mut BTreeSet<String>) {
    fn one(s: &str, out: &mut BTreeSet<String>) {
        let mut parts = s.split(MARK);
        parts.next();
        while let Some(name) = parts.next() {
            out.insert(name.to_owned());
            parts.next();
        }
    }
    match j {
        Json::Str(s) => one(s, out),
        Json::Arr(a) => a.iter().for_each(|x| marks(x, out)),
        Json::Obj(o) => o.iter().for_each(|(k, v)| {
            one(k, out);
            marks(v, out)
        }),
        _ => {}
    }
}

/// A generic value for a marker: unlike every other value in the policies, and valid where
/// the marker stands (an account ID, a partition, a region, or a plain name).
pub fn token(name: &str) -> String {
    let mut h: u64 = 1469598103934665603;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(1099511628211);
    }
    if name.contains("AccountId") {
        format!("9{:011}", h % 100_000_000_000)
    } else if name == "AWS::Partition" {
        "aws".into()
    } else if name == "AWS::Region" {
        "xx-unresolved-1".into()
    } else if name == "AWS::URLSuffix" {
        "amazonaws.com".into()
    } else {
        format!("unresolved-{:08x}", h & 0xffff_ffff)
    }
}

/// `doc` with every marker replaced by its generic value (`token`): the policy for one value
/// of each unresolved expression, the same in OLD and NEW.
pub fn instantiate(j: &Json) -> Json {
    fn s(x: &str) -> String {
        replace_marks(x, |name, out| out.push_str(&token(name)))
    }
    match j {
        // a whole value (`!GetAtt Queue.Arn`, `!Ref Param`): an ARN-shaped generic value
        Json::Str(x)
            if x.starts_with(MARK)
                && x.ends_with(MARK)
                && x.matches(MARK).count() == 2
                && !x[1..].starts_with("AWS::") =>
        {
            Json::Str(format!("arn:aws:iamprove:::{}", s(x)))
        }
        Json::Str(x) if x.contains(MARK) => Json::Str(s(x)),
        Json::Arr(a) => Json::Arr(a.iter().map(instantiate).collect()),
        Json::Obj(o) => Json::Obj(o.iter().map(|(k, v)| (s(k), instantiate(v))).collect()),
        other => other.clone(),
    }
}

/// `doc` with the marked values of conditions on the keys `absent` accepts replaced by their
/// generic values (`instantiate`); everything else as it was. For a request without those
/// keys, such a condition decides the same whatever the values are (a positive operator
/// fails, a negated one or `IfExists` passes).
pub fn instantiate_conditions_on(doc: &Json, absent: &dyn Fn(&str) -> bool) -> Json {
    let stmts = statements(doc)
        .into_iter()
        .map(|st| match &st {
            Json::Obj(o) => Json::Obj(
                o.iter()
                    .map(|(k, v)| match (k.as_str(), v) {
                        ("Condition", Json::Obj(ops)) => (
                            k.clone(),
                            Json::Obj(
                                ops.iter()
                                    .map(|(op, keys)| match keys {
                                        Json::Obj(ks) if !op.contains(MARK) => (
                                            op.clone(),
                                            Json::Obj(
                                                ks.iter()
                                                    .map(|(key, vals)| {
                                                        if !key.contains(MARK) && absent(key) {
                                                            (key.clone(), instantiate(vals))
                                                        } else {
                                                            (key.clone(), vals.clone())
                                                        }
                                                    })
                                                    .collect(),
                                            ),
                                        ),
                                        _ => (op.clone(), keys.clone()),
                                    })
                                    .collect(),
                            ),
                        ),
                        _ => (k.clone(), v.clone()),
                    })
                    .collect(),
            ),
            other => other.clone(),
        })
        .collect();
    with_statements(doc, stmts)
}

/// Does any string or key of `j` contain `t`?
pub fn contains_text(j: &Json, t: &str) -> bool {
    match j {
        Json::Str(x) => x.contains(t),
        Json::Arr(a) => a.iter().any(|x| contains_text(x, t)),
        Json::Obj(o) => o.iter().any(|(k, v)| k.contains(t) || contains_text(v, t)),
        _ => false,
    }
}

/// `j` with the markers named in `values` replaced by those values (in strings and keys);
/// other markers stay.
pub fn substitute(j: &Json, values: &std::collections::BTreeMap<String, String>) -> Json {
    let s = |x: &str| -> String {
        let mut out = x.to_owned();
        for (n, v) in values {
            out = out.replace(&marker(n), v);
        }
        out
    };
    match j {
        Json::Str(x) if x.contains(MARK) => Json::Str(s(x)),
        Json::Arr(a) => Json::Arr(a.iter().map(|x| substitute(x, values)).collect()),
        Json::Obj(o) => Json::Obj(
            o.iter()
                .map(|(k, v)| (s(k), substitute(v, values)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Does `j` hold the string `s` as a whole value (not as a key)?
pub fn holds_string(j: &Json, s: &str) -> bool {
    match j {
        Json::Str(x) => x == s,
        Json::Arr(a) => a.iter().any(|x| holds_string(x, s)),
        Json::Obj(o) => o.iter().any(|(_, v)| holds_string(v, s)),
        _ => false,
    }
}

/// `doc` with each marker named in `values` replaced by that value (as a literal, whole or in
/// part) and every other marker by its generic value (`instantiate`): the policy for one
/// assignment of the unresolved expressions, the same in OLD and NEW.
pub fn instantiate_with(j: &Json, values: &std::collections::BTreeMap<String, String>) -> Json {
    fn s(x: &str, values: &std::collections::BTreeMap<String, String>) -> String {
        replace_marks(x, |name, out| match values.get(name) {
            Some(v) => out.push_str(v),
            None => out.push_str(&token(name)),
        })
    }
    match j {
        Json::Str(x)
            if x.starts_with(MARK)
                && x.ends_with(MARK)
                && x.matches(MARK).count() == 2
                && values.contains_key(&x[1..x.len() - 1]) =>
        {
            Json::Str(s(x, values))
        }
        Json::Str(x) if x.contains(MARK) => match instantiate(j) {
            Json::Str(generic) if x.starts_with(MARK) && x.matches(MARK).count() == 2 => {
                Json::Str(generic)
            }
            _ => Json::Str(s(x, values)),
        },
        Json::Arr(a) => Json::Arr(a.iter().map(|x| instantiate_with(x, values)).collect()),
        Json::Obj(o) => Json::Obj(
            o.iter()
                .map(|(k, v)| (s(k, values), instantiate_with(v, values)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Marker-free strings of `doc` in the places an unresolved value may stand (`Resource`/
/// `NotResource` entries and condition values; a pattern as one string it matches): values an
/// unresolved expression may take for the verdict to change (a topic the template names
/// literally).
pub fn literal_candidates(doc: &Json, out: &mut BTreeSet<String>) {
    fn strings(v: &Json, out: &mut BTreeSet<String>) {
        match v {
            // a pattern stands for one string it matches (`…/*` → `…/example`)
            Json::Str(s) if !s.contains(MARK) && !s.contains("${") && !s.is_empty() => {
                out.insert(s.replace('*', "example").replace('?', "x"));
            }
            Json::Arr(a) => a.iter().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    for st in statements(doc) {
        for k in ["Resource", "NotResource"] {
            if let Some(v) = st.get(k) {
                strings(v, out);
            }
        }
        if let Some(Json::Obj(ops)) = st.get("Condition") {
            for (_, keys) in ops {
                if let Json::Obj(keys) = keys {
                    for (_, vals) in keys {
                        strings(vals, out);
                    }
                }
            }
        }
    }
}

/// The generic values used for the markers of `j`, for messages (`name = value`).
pub fn tokens(j: &BTreeSet<String>) -> String {
    j.iter()
        .map(|n| format!("`{n}` = `{}`", token(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every marker replaced by `*`.
fn starred(s: &str) -> String {
    // `**` and `*x*` runs stay valid glob patterns
    replace_marks(s, |_, out| out.push('*'))
}

fn statements(doc: &Json) -> Vec<Json> {
    match doc.get("Statement") {
        Some(Json::Arr(a)) => a.clone(),
        Some(s @ Json::Obj(_)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn with_statements(doc: &Json, stmts: Vec<Json>) -> Json {
    match doc {
        Json::Obj(o) => {
            let mut out: Vec<(String, Json)> = o
                .iter()
                .filter(|(k, _)| k != "Statement")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            out.push(("Statement".into(), Json::Arr(stmts)));
            Json::Obj(out)
        }
        other => other.clone(),
    }
}

/// Number of statements of a document (after bounding: zero means the empty policy).
pub fn statement_count(doc: &Json) -> usize {
    statements(doc).len()
}

fn is_allow(stmt: &Json) -> bool {
    stmt.get("Effect").and_then(Json::as_str) == Some("Allow")
}

/// The statements of `doc` that are Allow statements holding a marker.
pub fn marked_allows(doc: &Json) -> Vec<Json> {
    statements(doc)
        .into_iter()
        .filter(|s| is_allow(s) && has_mark(s))
        .collect()
}

/// `doc` without the statements in `drop`.
pub fn without(doc: &Json, drop: &[Json]) -> Json {
    let kept = statements(doc)
        .into_iter()
        .filter(|s| !drop.contains(s))
        .collect();
    with_statements(doc, kept)
}

/// The Deny statements of `doc` as Allow statements (with `Principal: *` where none is named):
/// the requests the document denies, as a resource policy. `None` when it has no Deny statement.
pub fn denies_as_allows(doc: &Json) -> Option<Json> {
    let mut out = Vec::new();
    for s in statements(doc) {
        let Json::Obj(o) = &s else { continue };
        if s.get("Effect").and_then(Json::as_str) != Some("Deny") {
            continue;
        }
        let mut o: Vec<(String, Json)> = o
            .iter()
            .map(|(k, v)| {
                if k == "Effect" {
                    (k.clone(), Json::Str("Allow".into()))
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect();
        if !o
            .iter()
            .any(|(k, _)| k == "Principal" || k == "NotPrincipal")
        {
            o.push(("Principal".into(), Json::Str("*".into())));
        }
        out.push(Json::Obj(o));
    }
    (!out.is_empty()).then(|| with_statements(doc, out))
}

/// The upper (`upper`) or lower bound of a document over every value of its markers. `Err` names
/// a marker in a place that cannot be bounded (a whole statement, an effect, ...).
pub fn bound(doc: &Json, upper: bool) -> Result<Json, String> {
    if !has_mark(doc) {
        return Ok(doc.clone());
    }
    if let Json::Obj(o) = doc {
        for (k, v) in o {
            if k != "Statement" && has_mark(v) {
                return Err(format!("`{k}`"));
            }
        }
    }
    let mut out = Vec::new();
    for s in statements(doc) {
        if let Some(b) = bound_statement(&s, upper)? {
            out.push(b);
        }
    }
    Ok(with_statements(doc, out))
}

/// One statement; `None` when it applies to nothing in this bound.
fn bound_statement(s: &Json, upper: bool) -> Result<Option<Json>, String> {
    let Json::Obj(o) = s else {
        return if has_mark(s) {
            Err("a whole statement".into())
        } else {
            Ok(Some(s.clone()))
        };
    };
    if !has_mark(s) {
        return Ok(Some(s.clone()));
    }
    let effect = match s.get("Effect").and_then(Json::as_str) {
        Some(e) if !e.contains(MARK) => e,
        _ => return Err("`Effect`".into()),
    };
    // the statement should match more when that enlarges the bound
    let more = (effect == "Allow") == upper;
    let mut out: Vec<(String, Json)> = Vec::new();
    for (k, v) in o {
        if !has_mark(v) {
            out.push((k.clone(), v.clone()));
            continue;
        }
        match k.as_str() {
            "Action" | "Resource" | "Principal" => {
                let star = k == "Principal";
                match element(v, more, star)? {
                    Some(v) => out.push((k.clone(), v)),
                    None => return Ok(None),
                }
            }
            "NotAction" | "NotResource" | "NotPrincipal" => {
                // matching more means excluding less
                match element(v, !more, k == "NotPrincipal")? {
                    Some(v) => out.push((k.clone(), v)),
                    None => {
                        // excludes nothing: the positive element `*`
                        let pos = k.trim_start_matches("Not").to_owned();
                        out.push((pos, Json::Str("*".into())));
                    }
                }
            }
            "Condition" => {
                if !more {
                    // a condition on an unknown value may be false: the statement may not apply
                    return Ok(None);
                }
                // drop every condition entry that mentions a marker: conditions are a conjunction
                let Json::Obj(ops) = v else {
                    return Err("`Condition`".into());
                };
                let mut kept_ops = Vec::new();
                for (op, keys) in ops {
                    if op.contains(MARK) {
                        continue;
                    }
                    let Json::Obj(keys) = keys else {
                        return Err(format!("`Condition.{op}`"));
                    };
                    let kept: Vec<(String, Json)> = keys
                        .iter()
                        .filter(|(key, vals)| !key.contains(MARK) && !has_mark(vals))
                        .cloned()
                        .collect();
                    if !kept.is_empty() {
                        kept_ops.push((op.clone(), Json::Obj(kept)));
                    }
                }
                if !kept_ops.is_empty() {
                    out.push((k.clone(), Json::Obj(kept_ops)));
                }
            }
            "Sid" => out.push((k.clone(), Json::Str(starred(v.as_str().unwrap_or(""))))),
            _ => return Err(format!("`{k}`")),
        }
    }
    Ok(Some(Json::Obj(out)))
}

/// A string element (Action, Resource, Principal or their negations) bounded to match more
/// (`more`) or less. `None`: matches nothing.
fn element(v: &Json, more: bool, principal: bool) -> Result<Option<Json>, String> {
    let one = |s: &str| -> Option<Json> {
        if !s.contains(MARK) {
            Some(Json::Str(s.to_owned()))
        } else if more {
            Some(Json::Str(if principal { "*".into() } else { starred(s) }))
        } else {
            None
        }
    };
    match v {
        Json::Str(s) => Ok(one(s)),
        Json::Arr(items) => {
            let mut out = Vec::new();
            for x in items {
                match x {
                    Json::Str(s) => out.extend(one(s)),
                    other if has_mark(other) => return Err("a list entry".into()),
                    other => out.push(other.clone()),
                }
            }
            Ok((!out.is_empty()).then_some(Json::Arr(out)))
        }
        Json::Obj(map) if principal => {
            // {"AWS": [...], "Service": ...}
            let mut out = Vec::new();
            for (k, x) in map {
                if k.contains(MARK) {
                    return Err("a principal type".into());
                }
                if let Some(b) = element(x, more, true)? {
                    out.push((k.clone(), b));
                }
            }
            Ok((!out.is_empty()).then_some(Json::Obj(out)))
        }
        _ => Err("an element".into()),
    }
}

/// Does the Allow statement `new` grant, for every value of the markers, only what the Allow
/// statement `old` grants (the same markers taking the same values)? A sufficient test: the two
/// are equal except for `Sid` and `Resource`, and every resource pattern of `new` equals one of
/// `old` or extends a pattern `A*` of `old` (`A` followed by more text; a trailing `*` in a
/// `Resource` matches any run, colons included, and `A` reads the same in both, markers
/// included, whatever they stand for).
pub fn subsumed_by(new: &Json, old: &Json) -> bool {
    let (Json::Obj(n), Json::Obj(o)) = (new, old) else {
        return false;
    };
    if !is_allow(new) || !is_allow(old) {
        return false;
    }
    let rest = |m: &[(String, Json)]| -> Vec<(String, Json)> {
        let mut v: Vec<(String, Json)> = m
            .iter()
            .filter(|(k, _)| k != "Sid" && k != "Resource")
            .cloned()
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    if rest(n) != rest(o) {
        return false;
    }
    let list = |j: Option<&Json>| -> Option<Vec<String>> {
        match j? {
            Json::Str(s) => Some(vec![s.clone()]),
            Json::Arr(a) => a.iter().map(|x| x.as_str().map(str::to_owned)).collect(),
            _ => None,
        }
    };
    let (Some(np), Some(op)) = (list(new.get("Resource")), list(old.get("Resource"))) else {
        return false;
    };
    np.iter().all(|p2| {
        op.iter().any(|p| {
            p == p2
                || p.strip_suffix('*').is_some_and(|a| {
                    !a.is_empty()
                        && !a.ends_with(['*', '?'])
                        && !a.contains("${")
                        && p2.starts_with(a)
                })
        })
    })
}

/// `doc` reduced to its Allow statements, each on every resource (`Resource: *`): it allows at
/// least what `doc` allows, on any resource.
pub fn allows_anywhere(doc: &Json) -> Json {
    let stmts = statements(doc)
        .into_iter()
        .filter(is_allow)
        .map(|s| match s {
            Json::Obj(o) => {
                let mut o: Vec<(String, Json)> = o
                    .into_iter()
                    .filter(|(k, _)| k != "Resource" && k != "NotResource")
                    .collect();
                o.push(("Resource".into(), Json::Str("*".into())));
                Json::Obj(o)
            }
            other => other,
        })
        .collect();
    with_statements(doc, stmts)
}

/// `doc` without the condition entries on the keys in `keys` (lowercase): its Allow statements
/// then apply at least as often.
pub fn without_condition_keys(doc: &Json, keys: &[String]) -> Json {
    let stmts = statements(doc)
        .into_iter()
        .map(|s| match s {
            Json::Obj(o) => Json::Obj(
                o.into_iter()
                    .filter_map(|(k, v)| {
                        if k != "Condition" {
                            return Some((k, v));
                        }
                        let Json::Obj(ops) = v else {
                            return Some((k, v));
                        };
                        let ops: Vec<(String, Json)> = ops
                            .into_iter()
                            .filter_map(|(op, entries)| match entries {
                                Json::Obj(e) => {
                                    let e: Vec<(String, Json)> = e
                                        .into_iter()
                                        .filter(|(key, _)| !keys.contains(&key.to_lowercase()))
                                        .collect();
                                    (!e.is_empty()).then_some((op, Json::Obj(e)))
                                }
                                other => Some((op, other)),
                            })
                            .collect();
                        (!ops.is_empty()).then_some((k, Json::Obj(ops)))
                    })
                    .collect(),
            ),
            other => other,
        })
        .collect();
    with_statements(doc, stmts)
}

/// The policy variable that stands for the unresolved expression `name` in the shared-value
/// comparison (`to_variables`): `iamprove:cfn/GetAtt/Queue.Arn`, `iamprove:tf/ADDRESS.PATH`.
/// Characters a variable name cannot hold (white space, `{`, `}`, `,`, `'`, `$`) become `/` or `_`.
pub fn variable_key(name: &str) -> String {
    let terraform = name.contains("statement[")
        || name.starts_with("data.")
        || name.starts_with("module.")
        || name.starts_with("aws_");
    let body = if terraform {
        format!("tf/{name}")
    } else if let Some(rest) = name.strip_prefix("Fn::") {
        format!("cfn/{rest}")
    } else if name.contains(' ') {
        format!("cfn/{name}")
    } else {
        format!("cfn/Ref/{name}")
    };
    let clean: String = body
        .chars()
        .map(|c| match c {
            c if c.is_whitespace() => '/',
            '{' | '}' | ',' | '\'' | '$' => '_',
            c => c,
        })
        .collect();
    format!("iamprove:{clean}")
}

/// Every marker in `s` replaced by its policy variable `${iamprove:…}`.
fn as_variables(s: &str) -> String {
    replace_marks(s, |name, out| {
        out.push_str("${");
        out.push_str(&variable_key(name));
        out.push('}');
    })
}

/// Does a condition operator substitute policy variables in its values (string and ARN
/// operators, with or without a set prefix and `IfExists`)?
fn substitutes_variables(op: &str) -> bool {
    let base = op
        .strip_prefix("ForAllValues:")
        .or_else(|| op.strip_prefix("ForAnyValue:"))
        .unwrap_or(op);
    base.starts_with("String") || base.starts_with("Arn")
}

/// `doc` with every marker replaced by a policy variable (`${iamprove:…}`, `variable_key`): one
/// free value per unresolved expression, the same in OLD and NEW, substituted literally (no
/// wildcard meaning) by the evaluator and the encoder. `None` when a marker stands where a
/// policy variable is not substituted (an action, a principal, an effect, a condition key or a
/// non-string operator, a policy without `Version: 2012-10-17`): then only the bounds apply.
pub fn to_variables(doc: &Json) -> Option<Json> {
    if !has_mark(doc) {
        return Some(doc.clone());
    }
    let Json::Obj(o) = doc else { return None };
    if doc.get("Version").and_then(Json::as_str) != Some("2012-10-17") {
        return None;
    }
    for (k, v) in o {
        if k != "Statement" && has_mark(v) {
            return None;
        }
    }
    let strings = |v: &Json| -> Option<Json> {
        match v {
            Json::Str(s) => Some(Json::Str(as_variables(s))),
            Json::Arr(a) => a
                .iter()
                .map(|x| match x {
                    Json::Str(s) => Some(Json::Str(as_variables(s))),
                    other if has_mark(other) => None,
                    other => Some(other.clone()),
                })
                .collect::<Option<Vec<_>>>()
                .map(Json::Arr),
            _ => None,
        }
    };
    let mut stmts = Vec::new();
    let mut appended = Vec::new();
    for s in statements(doc) {
        if !has_mark(&s) {
            stmts.push(s);
            continue;
        }
        let Json::Obj(so) = &s else { return None };
        let mut out = Vec::new();
        // an unresolved `Principal: {AWS: X}`: `Principal: "*"` plus a shared Boolean
        // "the request's principal is X" (`principal_is_key`) added to the conditions; an
        // unresolved `Action` entry likewise (`action_is_key`). Next to literal entries
        // (`AWS: [X, "arn:…"]`), the statement keeps the literal ones and a copy of it,
        // appended after every statement, has X: a statement's principals are a union
        // (element, its entries without markers, the Boolean keys of its unresolved entries)
        let mut split: Vec<(&str, Option<Json>, Vec<String>)> = Vec::new();
        for (k, v) in so {
            if !has_mark(v) {
                out.push((k.clone(), v.clone()));
                continue;
            }
            let nv = match k.as_str() {
                "Principal" => {
                    let (rest, names) = split_marked_aws_principal(v)?;
                    let keys = names.iter().map(|n| principal_is_key(n)).collect();
                    split.push(("Principal", rest, keys));
                    Json::Str("*".into())
                }
                "Action" => {
                    let (rest, names) = split_marked_actions(v)?;
                    let keys = names.iter().map(|n| action_is_key(n)).collect();
                    split.push(("Action", rest, keys));
                    Json::Str("*".into())
                }
                "Resource" | "NotResource" => strings(v)?,
                "Sid" => Json::Str(starred(v.as_str()?).replace('*', "")),
                "Condition" => {
                    let Json::Obj(ops) = v else { return None };
                    let mut nops = Vec::new();
                    for (op, keys) in ops {
                        if !has_mark(keys) {
                            nops.push((op.clone(), keys.clone()));
                            continue;
                        }
                        if op.contains(MARK) || !substitutes_variables(op) {
                            return None;
                        }
                        let Json::Obj(keys) = keys else { return None };
                        let mut nkeys = Vec::new();
                        for (key, vals) in keys {
                            if key.contains(MARK) {
                                return None;
                            }
                            nkeys.push((key.clone(), strings(vals)?));
                        }
                        nops.push((op.clone(), Json::Obj(nkeys)));
                    }
                    Json::Obj(nops)
                }
                _ => return None,
            };
            out.push((k.clone(), nv));
        }
        // one statement per choice of a part of each split element (a statement's principals,
        // and its actions, are a union): the first in place, the others appended last
        // (a statement's fields, the Boolean keys it requires)
        type Variant = (Vec<(String, Json)>, Vec<String>);
        let mut variants: Vec<Variant> = vec![(out, Vec::new())];
        for (elem, rest, keys) in &split {
            let mut options: Vec<(Json, Option<&String>)> = Vec::new();
            if let Some(r) = rest {
                options.push((r.clone(), None));
            }
            options.extend(keys.iter().map(|k| (Json::Str("*".into()), Some(k))));
            let mut next = Vec::new();
            for (fields, ks) in &variants {
                for (val, key) in &options {
                    let mut f = fields.clone();
                    for (k, v) in f.iter_mut() {
                        if k == elem {
                            *v = val.clone();
                        }
                    }
                    let mut ks = ks.clone();
                    ks.extend(key.cloned());
                    next.push((f, ks));
                }
            }
            variants = next;
        }
        if variants.len() > 64 {
            return None;
        }
        for (n, (mut fields, keys)) in variants.into_iter().enumerate() {
            for key in keys {
                let entry = (key, Json::Str("true".into()));
                match fields.iter_mut().find(|(k, _)| k == "Condition") {
                    Some((_, Json::Obj(ops))) => {
                        match ops.iter_mut().find(|(op, _)| op == "Bool") {
                            Some((_, Json::Obj(keys))) => keys.push(entry),
                            Some(_) => return None,
                            None => ops.push(("Bool".into(), Json::Obj(vec![entry]))),
                        }
                    }
                    Some(_) => return None,
                    None => fields.push((
                        "Condition".into(),
                        Json::Obj(vec![("Bool".into(), Json::Obj(vec![entry]))]),
                    )),
                }
            }
            if n == 0 {
                stmts.push(Json::Obj(fields));
                continue;
            }
            // a Sid of its own (Sids are unique)
            for (k, v) in fields.iter_mut() {
                if k == "Sid" {
                    if let Json::Str(sid) = v {
                        *v = Json::Str(format!("{sid}IamproveEntry{}", appended.len()));
                    }
                }
            }
            appended.push(Json::Obj(fields));
        }
    }
    stmts.extend(appended);
    Some(with_statements(doc, stmts))
}

/// Is `s` (an `AWS` principal entry with markers) the ARN of one IAM role or user whatever the
/// markers stand for: `arn:P:iam::A:role/NAME` or `…:user/NAME` with only the partition `P` or
/// the account `A` unresolved (each a whole segment), and a literal name without wildcards?
/// A deployed value makes it a valid principal ARN (AWS rejects others), which names that role
/// (or user) in some account: like `Fn::GetAtt R.Arn`, never an account or a pattern.
fn partial_role_or_user_arn(s: &str) -> bool {
    // each marker as one MARK character (a marker's name may hold colons)
    let flat = replace_marks(s, |_, out| out.push(MARK));
    if s.matches(MARK).count() % 2 != 0 {
        return false;
    }
    let parts: Vec<&str> = flat.splitn(6, ':').collect();
    let [arn, partition, service, region, account, rest] = parts.as_slice() else {
        return false;
    };
    let whole = |x: &str| x.len() == MARK.len_utf8() && x.starts_with(MARK);
    *arn == "arn"
        && (whole(partition) || (!partition.is_empty() && !partition.contains(MARK)))
        && *service == "iam"
        && region.is_empty()
        && (whole(account) || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())))
        && (rest.starts_with("role/") || rest.starts_with("user/"))
        && !rest.contains([MARK, '*', '?'])
        && rest.len() > 5
}

/// The name of an entry with markers, for messages and its Boolean: each marker as `${name}`.
fn entry_name(s: &str) -> String {
    replace_marks(s, |name, out| {
        out.push_str("${");
        out.push_str(name);
        out.push('}');
    })
}

/// The keys of the Booleans `to_variables` made for unresolved principals in `doc`
/// (`…/isprincipal`).
pub fn principal_keys(doc: &Json, out: &mut BTreeSet<String>) {
    for st in statements(doc) {
        if let Some(Json::Obj(ops)) = st.get("Condition") {
            for (op, keys) in ops {
                if let (true, Json::Obj(keys)) = (op == "Bool", keys) {
                    for (k, _) in keys {
                        if k.starts_with("iamprove:") && k.ends_with("/isprincipal") {
                            out.insert(k.clone());
                        }
                    }
                }
            }
        }
    }
}

/// `action` (an `Action` element) split into its entries without markers (`None`: none) and
/// the names of its unresolved entries, each a whole value (`!Ref ActionParam`, a Terraform
/// value known only after apply). `None` when an entry holds a marker inside other text.
fn split_marked_actions(action: &Json) -> Option<(Option<Json>, Vec<String>)> {
    let items: Vec<&Json> = match action {
        Json::Str(_) => vec![action],
        Json::Arr(a) => a.iter().collect(),
        _ => return None,
    };
    let mut literal = Vec::new();
    let mut names = Vec::new();
    for x in items {
        if !has_mark(x) {
            literal.push(x.clone());
            continue;
        }
        let name = x.as_str()?.strip_prefix(MARK)?.strip_suffix(MARK)?;
        if name.contains(MARK) || name.is_empty() {
            return None;
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    Some(((!literal.is_empty()).then_some(Json::Arr(literal)), names))
}

/// The Boolean context key that stands for "the request's action is one the unresolved
/// expression `name` (a whole `Action` entry) matches": `variable_key(name)` followed by
/// `/isaction`. Like `principal_is_key`: every request assigns it, OLD and NEW share it, and the
/// real value decides it per request from the request's action alone (whatever pattern it is),
/// so that is one of the assignments the comparison ranges over: no widening for every
/// assignment is a proof for every value.
pub fn action_is_key(name: &str) -> String {
    format!("{}/isaction", variable_key(name))
}

/// `principal` split into its entries without markers (`None`: none) and the names of its
/// unresolved `AWS` entries, each a whole role or user ARN (`whole_marked_aws_principal`).
/// `None` when another entry holds a marker (a partial ARN, an account, a service): bounds only.
fn split_marked_aws_principal(principal: &Json) -> Option<(Option<Json>, Vec<String>)> {
    let Json::Obj(o) = principal else { return None };
    let mut rest = Vec::new();
    let mut names = Vec::new();
    for (k, v) in o {
        if k.contains(MARK) {
            return None;
        }
        if !has_mark(v) {
            rest.push((k.clone(), v.clone()));
            continue;
        }
        if k != "AWS" {
            return None;
        }
        let items: Vec<&Json> = match v {
            Json::Str(_) => vec![v],
            Json::Arr(a) => a.iter().collect(),
            _ => return None,
        };
        let mut literal = Vec::new();
        for x in items {
            if !has_mark(x) {
                literal.push(x.clone());
                continue;
            }
            let one = Json::Obj(vec![("AWS".into(), x.clone())]);
            let name = match whole_marked_aws_principal(&one) {
                Some(n) => n,
                // a role or user ARN with an unresolved partition or account: named by the
                // whole entry (two entries naming different roles are different Booleans)
                None => {
                    let s = x.as_str()?;
                    partial_role_or_user_arn(s).then(|| entry_name(s))?
                }
            };
            if !names.contains(&name) {
                names.push(name);
            }
        }
        if !literal.is_empty() {
            rest.push((k.clone(), Json::Arr(literal)));
        }
    }
    Some(((!rest.is_empty()).then_some(Json::Obj(rest)), names))
}

/// The Boolean context key that stands for "the request's principal is the one the
/// unresolved expression `name` names" in the shared-value comparison: `variable_key(name)`
/// followed by `/isprincipal`. Every request assigns it (`Encoder::link_iac_values`), OLD and NEW
/// share it, and a statement naming the expression applies exactly when it is true. The real
/// entry decides this per request from the request's principal alone, so it is one of the
/// assignments the comparison ranges over: no widening for every assignment is a proof for every
/// value of the expression. (The grant class becomes that of `*`, which is what the symbolic
/// principal gives an ARN entry too.)
pub fn principal_is_key(name: &str) -> String {
    format!("{}/isprincipal", variable_key(name))
}

/// `doc` with two Deny statements appended that leave only requests no unresolved principal
/// can name, whatever its value: requests of an IAM user, role session or federated user
/// (`aws:PrincipalType`), and requests for which one of `keys` (`principal_is_key`) is true,
/// are denied. An entry from `Fn::GetAtt R.Arn` or `….arn` is an ARN other than an account root,
/// which names only principals of those types. Appended last, the original statements keep
/// their indices.
pub fn with_principal_guard(doc: &Json, keys: &[String]) -> Json {
    let deny = |sid: &str, cond: Json| guard_deny(doc, sid, cond);
    let mut stmts = statements(doc);
    stmts.push(deny(
        "IamproveGuardPrincipalTypes",
        Json::Obj(vec![(
            "StringEquals".into(),
            Json::Obj(vec![(
                "aws:PrincipalType".into(),
                Json::Arr(
                    ["User", "AssumedRole", "FederatedUser"]
                        .iter()
                        .map(|t| Json::Str((*t).into()))
                        .collect(),
                ),
            )]),
        )]),
    ));
    for (i, k) in keys.iter().enumerate() {
        stmts.push(deny(
            &format!("IamproveGuardPrincipal{i}"),
            Json::Obj(vec![(
                "Bool".into(),
                Json::Obj(vec![(k.clone(), Json::Str("true".into()))]),
            )]),
        ));
    }
    with_statements(doc, stmts)
}

/// `doc` with a Deny statement appended for every request whose principal is not an IAM user
/// or role session (`aws:PrincipalType`): the principals an unresolved role or user ARN can
/// name, so a widening found with the result shows a realistic value (the principal's ARN).
/// Appended last, the original statements keep their indices.
pub fn with_nameable_principals_only(doc: &Json) -> Json {
    let mut stmts = statements(doc);
    stmts.push(guard_deny(
        doc,
        "IamproveOnlyNameablePrincipals",
        Json::Obj(vec![(
            "StringNotEquals".into(),
            Json::Obj(vec![(
                "aws:PrincipalType".into(),
                Json::Arr(vec![
                    Json::Str("User".into()),
                    Json::Str("AssumedRole".into()),
                ]),
            )]),
        )]),
    ));
    with_statements(doc, stmts)
}

/// `doc` with a Deny statement appended for the federated callers of `provider` (an OIDC
/// provider's host or a SAML provider's ARN), to look for an example among other principals.
/// Appended last, the original statements keep their indices.
pub fn with_federated_denied(doc: &Json, provider: &str) -> Json {
    let sid = format!("IamproveNotProvider{}", statement_count(doc));
    let mut deny = match guard_deny(doc, &sid, Json::Obj(Vec::new())) {
        Json::Obj(o) => o,
        _ => Vec::new(),
    };
    deny.retain(|(k, _)| k != "Condition");
    for (k, v) in deny.iter_mut() {
        if k == "Principal" {
            *v = Json::Obj(vec![("Federated".into(), Json::Str(provider.into()))]);
        }
    }
    let mut stmts = statements(doc);
    stmts.push(Json::Obj(deny));
    with_statements(doc, stmts)
}

/// A Deny statement of every principal and action under `cond`, for appending to `doc`: on every
/// resource (`Resource: *`), except in a document whose statements name no resource (a role
/// trust policy, where `Resource` is not allowed: before, the appended statement made such a
/// document invalid, so the comparisons that use it silently gave up).
fn guard_deny(doc: &Json, sid: &str, cond: Json) -> Json {
    let mut st = vec![
        ("Sid".into(), Json::Str(sid.into())),
        ("Effect".into(), Json::Str("Deny".into())),
        ("Principal".into(), Json::Str("*".into())),
        ("Action".into(), Json::Str("*".into())),
    ];
    let names_resources = statements(doc)
        .iter()
        .any(|s| s.get("Resource").is_some() || s.get("NotResource").is_some());
    if names_resources {
        st.push(("Resource".into(), Json::Str("*".into())));
    }
    st.push(("Condition".into(), cond));
    Json::Obj(st)
}

/// The expression's name when `principal` is `{"AWS": X}` (or `{"AWS": [X]}`) and `X` is one
/// whole marker whose expression names an IAM role or user ARN (`Fn::GetAtt R.Arn`, Terraform
/// `….arn`): an entry that matches exactly the principals whose ARN it is, never an account.
/// `None` for anything else (a partial ARN, an account, several entries, `Service`): bounds only.
fn whole_marked_aws_principal(principal: &Json) -> Option<String> {
    let Json::Obj(o) = principal else { return None };
    let [(k, v)] = o.as_slice() else { return None };
    if k != "AWS" {
        return None;
    }
    let s = match v {
        Json::Str(s) => s,
        Json::Arr(a) => match a.as_slice() {
            [Json::Str(s)] => s,
            _ => return None,
        },
        _ => return None,
    };
    let name = s.strip_prefix(MARK)?.strip_suffix(MARK)?;
    if name.contains(MARK) {
        return None;
    }
    let arn_attr = name.ends_with(".Arn") && name.starts_with("Fn::GetAtt ")
        || is_terraform_role_or_user_arn(name);
    arn_attr.then(|| name.to_owned())
}

/// Is `name` a Terraform value that is the ARN of one IAM role or user: `TYPE.NAME.arn` or
/// `TYPE.NAME[KEY].arn` with TYPE `aws_iam_role` or `aws_iam_user` (a resource, or a data source
/// with `data.`), inside any modules (`module.M.`, `module.M[KEY].`)? Such names come only from
/// `terraform::Plan::principal_arn` (or a Lambda permission's attribute, which never has this
/// shape), which resolves an identifier through the plan's configuration.
pub fn is_terraform_role_or_user_arn(name: &str) -> bool {
    let mut rest = name;
    while let Some(r) = rest.strip_prefix("module.") {
        let end = r.find(['.', '[']).unwrap_or(r.len());
        let mut r = &r[end..];
        if r.starts_with('[') {
            let Some(close) = r.find("].") else {
                return false;
            };
            r = &r[close + 1..];
        }
        let Some(r) = r.strip_prefix('.') else {
            return false;
        };
        rest = r;
    }
    let rest = rest.strip_prefix("data.").unwrap_or(rest);
    let Some(rest) = rest
        .strip_prefix("aws_iam_role.")
        .or_else(|| rest.strip_prefix("aws_iam_user."))
    else {
        return false;
    };
    let Some(body) = rest.strip_suffix(".arn") else {
        return false;
    };
    let (id, key) = match body.find('[') {
        Some(i) => (&body[..i], Some(&body[i..])),
        None => (body, None),
    };
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && key.is_none_or(|k| k.ends_with(']') && !k[1..k.len() - 1].contains(['[', ']']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Json {
        crate::json::parse(s).unwrap()
    }

    #[test]
    fn bounds_star_or_drop_marked_patterns() {
        let m = marker("Ref AWS::AccountId").replace(MARK, "\\u001f");
        let doc = j(&format!(
            r#"{{"Version":"2012-10-17","Statement":[
              {{"Effect":"Allow","Action":"iam:PassRole","Resource":["arn:aws:iam::{m}:role/x","arn:aws:iam::1:role/y"]}},
              {{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::{m}"}},
              {{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{{"StringEquals":{{"aws:ResourceAccount":"{m}"}}}}}}]}}"#
        ));
        let up = bound(&doc, true).unwrap();
        let lo = bound(&doc, false).unwrap();
        let text = |d: &Json| d.to_value().to_string();
        assert!(!text(&up).contains(MARK) && !text(&lo).contains(MARK));
        // upper: Allow patterns starred, the Deny dropped, the condition dropped
        assert!(text(&up).contains("arn:aws:iam::*:role/x"));
        assert_eq!(statement_count(&up), 2);
        // lower: marked Allow pattern dropped, Deny starred, conditioned Allow dropped
        assert!(!text(&lo).contains("role/x"));
        assert!(text(&lo).contains("arn:aws:s3:::*"));
        assert_eq!(statement_count(&lo), 2);
        let mut names = BTreeSet::new();
        marks(&doc, &mut names);
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["Ref AWS::AccountId"]
        );
    }

    #[test]
    fn subsumption_of_marked_statements() {
        let m = marker("BucketName").replace(MARK, "\\u001f");
        let st = |sid: &str, res: &str| {
            j(&format!(
                r#"{{"Sid":"{sid}","Effect":"Allow","Action":"s3:GetObject","Resource":"{res}"}}"#
            ))
        };
        let all = st("A", &format!("arn:aws:s3:::{m}/*"));
        let public = st("B", &format!("arn:aws:s3:::{m}/public/*"));
        let other = st("C", "arn:aws:s3:::other/*");
        assert!(subsumed_by(&public, &all));
        assert!(!subsumed_by(&all, &public));
        assert!(!subsumed_by(&other, &all));
        // a different action is not subsumed
        let put = j(&format!(
            r#"{{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::{m}/x"}}"#
        ));
        assert!(!subsumed_by(&put, &all));
        // `A*` where A ends with a wildcard is not used
        let star = st("D", "arn:aws:s3:::x**");
        assert!(!subsumed_by(&st("E", "arn:aws:s3:::x*/y"), &star));
    }

    #[test]
    fn unresolved_aws_principal_becomes_a_shared_boolean() {
        let m = marker("Fn::GetAtt AppRole.Arn").replace(MARK, "\\u001f");
        let doc = |principal: &str| {
            j(&format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"kms:Decrypt","Resource":"*","Condition":{{"Bool":{{"aws:SecureTransport":"true"}}}}}}]}}"#
            ))
        };
        let v = to_variables(&doc(&format!(r#"{{"AWS":"{m}"}}"#))).unwrap();
        let st = &v.to_value()["Statement"][0];
        assert_eq!(st["Principal"], serde_json::json!("*"));
        assert_eq!(
            st["Condition"]["Bool"],
            serde_json::json!({"aws:SecureTransport": "true", "iamprove:cfn/GetAtt/AppRole.Arn/isprincipal": "true"})
        );
        // next to a literal entry: the statement keeps the literal, a copy appended last has
        // the shared Boolean
        let v = to_variables(&doc(&format!(
            r#"{{"AWS":["{m}","arn:aws:iam::1:role/x"],"Service":"s3.amazonaws.com"}}"#
        )))
        .unwrap()
        .to_value();
        assert_eq!(
            v["Statement"][0]["Principal"],
            serde_json::json!({"AWS": ["arn:aws:iam::1:role/x"], "Service": "s3.amazonaws.com"})
        );
        assert_eq!(
            v["Statement"][0]["Condition"]["Bool"],
            serde_json::json!({"aws:SecureTransport": "true"})
        );
        assert_eq!(v["Statement"][1]["Principal"], serde_json::json!("*"));
        assert_eq!(
            v["Statement"][1]["Condition"]["Bool"]["iamprove:cfn/GetAtt/AppRole.Arn/isprincipal"],
            serde_json::json!("true")
        );
        // Terraform names resolved to a role's or user's ARN are principals too
        for (name, ok) in [
            ("aws_iam_role.app.arn", true),
            ("module.a.module.b[\"k.x\"].aws_iam_user.u[0].arn", true),
            ("data.aws_iam_role.r.arn", true),
            ("aws_iam_role.app.id", false),
            ("aws_organizations_account.dev.id", false),
            (
                "data.aws_iam_policy_document.d.statement[0].principals[0].identifiers[0]",
                false,
            ),
        ] {
            assert_eq!(is_terraform_role_or_user_arn(name), ok, "{name}");
        }
        // a role ARN with the account unresolved names one role too (its own Boolean)
        let a = marker("AWS::AccountId").replace(MARK, "\\u001f");
        let v = to_variables(&doc(&format!(r#"{{"AWS":"arn:aws:iam::{a}:role/x"}}"#)))
            .unwrap()
            .to_value();
        assert_eq!(v["Statement"][0]["Principal"], serde_json::json!("*"));
        assert!(v["Statement"][0]["Condition"]["Bool"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.ends_with(":role/x/isprincipal")));
        // an account, a partial ARN that may be a root or a pattern, `Service`: bounds only
        for p in [
            format!(r#"{{"AWS":"arn:aws:iam::{a}:role/*"}}"#),
            format!(r#"{{"AWS":["{m}","arn:aws:iam::{m}:root"]}}"#),
            format!(r#"{{"AWS":"arn:aws:iam::{m}:root"}}"#),
            format!(r#"{{"Service":"{m}"}}"#),
        ] {
            assert!(to_variables(&doc(&p)).is_none(), "{p}");
        }
        assert!(to_variables(&doc(&format!(r#"{{"AWS":"{a}"}}"#))).is_none());
    }

    #[test]
    fn denies_become_allows_with_a_principal() {
        let doc = j(
            r#"{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        );
        let d = denies_as_allows(&doc).unwrap();
        assert_eq!(statement_count(&d), 1);
        assert_eq!(
            d.to_value()["Statement"][0]["Principal"],
            serde_json::json!("*")
        );
        assert!(denies_as_allows(&j(r#"{"Statement":[]}"#)).is_none());
    }
}
